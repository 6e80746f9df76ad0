"""The application: wire a source, the effect, the pipeline and the sinks, and run the loop."""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from camfx.capture import FrameSource, open_source
from camfx.effects import Backdrop, Effect, EffectSettings, PictureBackdrop, VideoBackdrop
from camfx.errors import CamfxError
from camfx.pipeline import OutputFrame, Pipeline
from camfx.refine import MaskSettings
from camfx.runtime import Device
from camfx.segmentation import Fit, create_segmenter
from camfx.style import (
    Style,
    create_predictor,
    create_stylizer,
    mix_styles,
    resolve_style,
    style_size,
)

log = logging.getLogger(__name__)


@dataclass
class RunOptions:
    input: str = "0"
    style: str = "starry"
    segmenter: str = "deeplab"
    fit: Fit | None = None  # None: the segmenter's measured default
    mask: MaskSettings = field(default_factory=MaskSettings)
    matte: Path | None = None  # also write the person mask as a grayscale video
    style_model: str = "fp16"
    style_size: int = 384  # long side of the picture style transfer paints
    device: Device = "auto"
    threads: int | None = None  # per model; None: half the CPU cores (measured best)
    max_style_fps: float | None = None  # live: repaint the background at most this often
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    record: Path | None = None
    window: bool = True
    live: bool | None = None  # None: live for cameras, every frame for files
    max_frames: int | None = None
    progress: bool = True
    effect: EffectSettings = field(default_factory=EffectSettings)
    mix: str | None = None  # 'starry:0.5,wave:0.5': a blend of styles instead of --style
    background: Path | None = None  # picture or clip for the image and video effects
    mirror: bool = False


# Named sets of defaults for common machines; options given on the command line win.
PRESETS: dict[str, dict[str, object]] = {
    "laptop": {},  # the defaults: measured on a 2-core x86 laptop-class CPU (README)
    # Raspberry Pi 4/5 budget (estimated, not measured: README): the fastest segmenter,
    # the int8 painter at 256 px, and the background repainted 5 times a second.
    "pi": {
        "segmenter": "selfie-landscape",
        "style_model": "int8",
        "style_size": 256,
        "max_style_fps": 5.0,
    },
}


def build_effect(options: RunOptions, style: Style, frame_size: tuple[int, int]) -> Effect:
    """Models for frames of `frame_size` (width, height): style transfer in their proportions."""
    threads = options.threads or default_threads()
    segmenter = create_segmenter(options.segmenter, threads, options.device, options.fit)
    size = style_size(*frame_size, long_side=options.style_size)
    stylizer = create_stylizer(style, options.style_model, threads, options.device, size)
    return Effect(
        segmenter,
        stylizer,
        options.mask,
        options.effect,
        backdrop=open_backdrop(options),
        predictor=create_predictor(threads=1, device=options.device),
    )


def open_backdrop(options: RunOptions) -> Backdrop | None:
    """The --background picture or clip, checked before anything else starts."""
    if options.effect.effect not in ("image", "video"):
        return None
    if options.background is None:
        raise CamfxError(f"--effect {options.effect.effect} needs --background FILE")
    if options.effect.effect == "image":
        return PictureBackdrop(options.background)
    return VideoBackdrop(options.background)


def choose_style(options: RunOptions) -> Style:
    return mix_styles(options.mix) if options.mix else resolve_style(options.style)


def default_threads() -> int:
    """Threads per model. Segmentation and style transfer run at the same time in two
    threads; measured on 2 cores, one thread each beat two each (README: Speed)."""
    return max(1, (os.cpu_count() or 2) // 2)


def open_input(options: RunOptions) -> FrameSource:
    size = (options.width, options.height) if options.width and options.height else None
    live = options.live
    if live is None and options.window and options.record is None:
        # Only watching: play files at their own rate like a camera, dropping
        # frames if need be. Recording or --no-window: every frame, in order.
        live = True
    return open_source(options.input, live=live, size=size, fps=options.fps, mirror=options.mirror)


class FpsMeter:
    """Frames per second over the last second or so."""

    def __init__(self) -> None:
        self._times: deque[float] = deque(maxlen=120)

    def tick(self) -> None:
        self._times.append(time.monotonic())

    @property
    def fps(self) -> float:
        if len(self._times) < 2 or self._times[-1] == self._times[0]:
            return 0.0
        return (len(self._times) - 1) / (self._times[-1] - self._times[0])


def overlay_lines(pipeline: Pipeline, meter: FpsMeter, out: OutputFrame) -> list[str]:
    stats = pipeline.stats
    latency = (time.monotonic() - out.captured_at) * 1000
    return [
        f"{meter.fps:4.1f} fps   latency {latency:3.0f} ms",
        f"segment {stats.segment_ms:4.1f} ms  style {stats.style_ms:5.1f} ms  "
        f"composite {stats.composite_ms:4.1f} ms",
    ]


def run(options: RunOptions) -> int:
    """Run camfx until the input ends or the user quits; return the number of frames shown."""
    style = choose_style(options)  # a bad style fails before a camera is opened
    shown = 0
    with ExitStack() as stack:
        source = stack.enter_context(open_input(options))
        effect = build_effect(options, style, source.frame_size)
        sample = None
        recorder = matte = window = None
        pipeline = stack.enter_context(
            Pipeline(source, effect, max_style_fps=options.max_style_fps)
        )
        progress = None
        if not pipeline.live and options.progress:
            progress = stack.enter_context(
                tqdm(total=source.frame_count, unit="frame", desc="rendering", leave=True)
            )
        meter = FpsMeter()
        for out in pipeline.frames():
            if out is None:
                if window is not None and not window.poll():
                    break
                continue
            if sample is None:
                sample = out.image
                recorder, matte, window = _open_sinks(stack, options, source, sample.shape)
            meter.tick()
            timestamp = out.captured_at if pipeline.live else None
            if recorder is not None:
                recorder.write(out.image, timestamp)
            if matte is not None:
                matte.write(mask_as_picture(out.mask), timestamp)
            if window is not None and not window.show(
                out.image, overlay_lines(pipeline, meter, out)
            ):
                break
            if progress is not None:
                progress.update(1)
            shown += 1
            if options.max_frames and shown >= options.max_frames:
                break
    return shown


def _open_sinks(stack: ExitStack, options: RunOptions, source: FrameSource, shape: tuple):
    """Sinks open on the first frame, when the output size is known."""
    from camfx.outputs import VideoRecorder, Window  # device I/O stays out of the core

    height, width = shape[:2]
    recorder = matte = window = None
    if options.record is not None:
        recorder = stack.enter_context(VideoRecorder(options.record, (width, height), source.fps))
    if options.matte is not None:
        matte = stack.enter_context(VideoRecorder(options.matte, (width, height), source.fps))
    if options.window:
        scale = min(1.0, 1280 / width, 720 / height)
        window = stack.enter_context(
            Window(f"camfx - {options.style}", (round(width * scale), round(height * scale)))
        )
    return recorder, matte, window


def mask_as_picture(mask) -> np.ndarray:
    """A float mask as an 8-bit grey picture (BGR, as the recorder takes)."""
    grey = cv2.convertScaleAbs(mask, alpha=255.0)
    return cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
