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
from tqdm import tqdm

from camfx.app.controls import Controls, help_card
from camfx.app.options import parse_mix
from camfx.core.effects import EFFECT_KINDS, Backdrop, Effect, EffectSettings
from camfx.core.frames import FrameSource, OutputFrame
from camfx.core.pipeline import Pipeline, open_pipeline
from camfx.errors import CamfxError
from camfx.io.capture import open_source
from camfx.io.sinks import (
    RecorderSink,
    Screen,
    Sink,
    Stream,
    WindowSink,
    microphone_for,
    open_sink,
)
from camfx.models.runtime import Device
from camfx.models.segmentation import DEFAULT_SEGMENTER, Fit, create_segmenter
from camfx.models.style import (
    Style,
    bundled_styles,
    create_predictor,
    create_stylizer,
    mix_styles,
    resolve_style,
    style_size,
)
from camfx.vision.refine import MaskSettings

log = logging.getLogger(__name__)


@dataclass
class RunOptions:
    input: str = "0"
    style: str = "starry"
    segmenter: str = DEFAULT_SEGMENTER
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
    overwrite: bool = False  # replace --record / --matte files that exist
    window: bool = True
    live: bool | None = None  # None: live for cameras, every frame for files
    max_frames: int | None = None
    progress: bool = True
    effect: EffectSettings = field(default_factory=EffectSettings)
    mix: str | None = None  # 'starry:0.5,wave:0.5': a blend of styles instead of --style
    background: Path | None = None  # picture or clip for the image and video effects
    mirror: bool = False
    virtual_cam: str | None = None  # "" for the first free device, or a device name
    audio: str | None = None  # live recordings' microphone: "" the default, or a device
    sinks: tuple[str, ...] = ()  # more sinks by registered name (camfx.io.sinks), setting None


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
    # The pipeline's own threads keep the cores busy; OpenCV's worker pool on top of them
    # only cost CPU (measured live: ~6 ms a frame in its threads, 7-10% of the whole).
    cv2.setNumThreads(1)
    segmenter = create_segmenter(options.segmenter, threads, options.device, options.fit)
    size = style_size(*frame_size, long_side=options.style_size)
    stylizer = create_stylizer(style, options.style_model, threads, options.device, size)
    return Effect(
        segmenter,
        stylizer,
        segmenter.tuned(options.mask),  # DeepLab brings its own guided filter
        options.effect,
        backdrop=open_backdrop(options),
        predictor=create_predictor(threads=1, device=options.device),
    )


def open_backdrop(options: RunOptions) -> Backdrop | None:
    """The --background picture or clip, checked before anything else starts."""
    backdrop = EFFECT_KINDS[options.effect.effect].backdrop
    if backdrop is None:
        return None
    if options.background is None:
        raise CamfxError(f"--effect {options.effect.effect} needs --background FILE")
    return backdrop(options.background)


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
    light = " (light)" if pipeline.pace is not None and pipeline.pace.light else ""
    return [
        f"{meter.fps:4.1f} fps   latency {latency:3.0f} ms",
        f"segment {stats.segment_ms:4.1f} ms{light}  style {stats.style_ms:5.1f} ms  "
        f"composite {stats.composite_ms:4.1f} ms",
    ]


def run(options: RunOptions) -> int:
    """Run camfx until the input ends or the user quits; return the number of frames shown."""
    from camfx.io.output_paths import check_outputs

    outputs = {"--record": options.record, "--matte": options.matte}
    check_outputs(outputs, input_files(options), options.overwrite)
    style = choose_style(options)  # a bad style fails before a camera is opened
    with ExitStack() as stack:
        source = stack.enter_context(open_input(options))
        check_against_frame(options, source.frame_size)
        effect = build_effect(options, style, source.frame_size)
        pipeline = stack.enter_context(
            open_pipeline(source, effect, max_style_fps=options.max_style_fps)
        )
        session = Session(options, source, pipeline, effect, stack)
        shown = session.run()
        if shown == 0 and session.input_ended:
            raise CamfxError(f"{options.input}: no frames could be read from it")
        return shown


def input_files(options: RunOptions) -> list[Path]:
    """The files camfx reads, which no output may overwrite."""
    named = [options.input, options.background, options.style, options.segmenter]
    if options.mix:
        named += [name for name, _ in parse_mix(options.mix)]
    files = []
    for name in named:
        if name is not None and not str(name).strip().isdigit():
            path = Path(name).expanduser()
            if path.is_file():
                files.append(path)
    return files


def check_against_frame(options: RunOptions, frame_size: tuple[int, int]) -> None:
    """The options whose range depends on the frame, once its size is known."""
    most = min(frame_size) // 2
    if abs(options.mask.grow) > most:
        width, height = frame_size
        raise CamfxError(
            f"--mask-grow must be between -{most} and {most} for a {width}x{height} frame "
            f"(half its short side), not {options.mask.grow}"
        )


def sink_requests(options: RunOptions) -> list[tuple[str, object]]:
    """(registered sink, its setting) for each output `options` ask for, in the order the
    frames reach them (camfx.io.sinks)."""
    title = f"camfx - {options.style}" if options.window else None
    asked = [
        ("record", options.record),
        ("matte", options.matte),
        ("virtual-camera", options.virtual_cam),
        ("window", title),
    ]
    extra = [(name, None) for name in options.sinks]
    return [(name, setting) for name, setting in asked if setting is not None] + extra


class Session:
    """One run's loop: pulls finished frames, feeds the sinks, serves the window's keys.

    Sinks (camfx.io.sinks) open on the first frame, when the output size is known, and
    are closed by the ExitStack whatever ends the run (end of input, q, Ctrl+C, an error).
    """

    def __init__(
        self,
        options: RunOptions,
        source: FrameSource,
        pipeline: Pipeline,
        effect: Effect,
        stack: ExitStack,
    ) -> None:
        self.options, self.source, self.pipeline, self.stack = options, source, pipeline, stack
        self.controls = Controls(effect, list(bundled_styles().values()))
        self.meter = FpsMeter()
        self.sinks: list[Sink] = []  # each finished frame goes to each, in turn
        self.stream: Stream | None = None  # what the sinks are sent, once the size is known
        self.window: WindowSink | None = None  # also where the keys come from
        self.key_recording: RecorderSink | None = None  # started and stopped with 'r'
        self.last: OutputFrame | None = None
        self.shown = 0
        self.input_ended = False
        self.folder = Path.cwd()  # where the keys' snapshots and recordings go
        self.progress = None
        if not pipeline.live and options.progress:
            total = source.frame_count
            if options.max_frames is not None and total is not None:
                total = min(total, options.max_frames)
            self.progress = stack.enter_context(
                tqdm(total=total, unit="frame", desc="rendering", leave=True)
            )

    def run(self) -> int:
        frames = self.pipeline.frames()
        while True:
            if self.window is not None and not self._serve_keys():
                break
            if self.controls.paused:
                self._redraw()
                time.sleep(0.03)
                continue
            out = next(frames, _END)
            if out is _END:
                self.input_ended = True
                break
            if out is None:
                if self.source.status:  # e.g. the camera is away: say so over the last frame
                    self._redraw()
                continue
            if self.last is None:
                self._open_sinks(out.image.shape)
            self._deliver(out)
            if self.options.max_frames and self.shown >= self.options.max_frames:
                break
        return self.shown

    def _deliver(self, out: OutputFrame) -> None:
        self.last = out
        self.meter.tick()
        for sink in self.sinks:
            sink.send(out)
        if self.progress is not None:
            self.progress.update(1)
        self.shown += 1

    def _redraw(self) -> None:
        """Draw the last frame again (paused, or a status to show while no frame comes)."""
        if self.window is not None and self.last is not None:
            self.window.send(self.last)

    def _screen(self, out: OutputFrame) -> Screen:
        """What the window draws for `out`: the view the keys chose, the overlay, the card."""
        lines = overlay_lines(self.pipeline, self.meter, out)
        if message := self.controls.message():
            lines.append(message)
        if self.source.status:
            lines.append(self.source.status)
        if self.key_recording is not None:
            lines.append(f"REC {self.key_recording.path.name}")
        card = help_card() if self.controls.show_help else ()
        return self.controls.view(out.image, out.mask), lines, card

    def _serve_keys(self) -> bool:
        """Apply the keys pressed; False when the user asked to quit."""
        for key in self.window.events():
            action = self.controls.handle(key)
            if action == "quit":
                return False
            if action == "fullscreen":
                self.window.toggle_fullscreen()
            elif action == "record":
                self._toggle_recording()
            elif action == "snapshot":
                self._snapshot()
        return True

    def _open_sinks(self, shape: tuple[int, ...]) -> None:
        height, width = shape[:2]
        self.stream = Stream(
            (width, height),
            self.source.fps,
            self.pipeline.live,
            sound=Path(self.options.input),
            microphone=self.options.audio,
        )
        for name, setting in sink_requests(self.options):
            sink = self.stack.enter_context(open_sink(name, self.stream, setting))
            self.sinks.append(sink)
            if isinstance(sink, WindowSink):
                self.window = sink
                sink.compose = self._screen
                self.controls.say("h: help")

    def _toggle_recording(self) -> None:
        from camfx.io.output_paths import free_name
        from camfx.io.recorder import VideoRecorder

        if self.key_recording is not None:
            self.sinks.remove(self.key_recording)
            self.key_recording.close()
            self.controls.say(f"saved {self.key_recording.path}")
            self.key_recording = None
            return
        if self.last is None or self.stream is None:
            return
        try:
            path = free_name(self.folder, _timestamped(), ".mp4")
        except OSError as exc:
            self.controls.say(f"cannot record in {self.folder}: {exc.strerror}")
            return
        stream = self.stream
        recorder = VideoRecorder(
            path, stream.size, stream.fps, fragmented=True, microphone=microphone_for(stream)
        )
        try:
            self.key_recording = self.stack.enter_context(RecorderSink(recorder, stream.live))
        except CamfxError as exc:  # e.g. a microphone that --record already holds
            path.unlink(missing_ok=True)
            log.warning("%s", exc)
            self.controls.say(f"not recording: {exc}")
            return
        self.sinks.append(self.key_recording)
        self.controls.say(f"recording to {path.name}")

    def _snapshot(self) -> None:
        from camfx.io.output_paths import save_picture

        if self.last is None:
            return
        try:
            path = save_picture(self.last.image, self.folder, _timestamped())
        except CamfxError as exc:
            log.warning("snapshot not saved: %s", exc)
            self.controls.say(f"snapshot NOT saved: {exc}")
            return
        self.controls.say(f"saved {path.name}")


def _timestamped() -> str:
    """camfx-YYYYmmdd-HHMMSS: key-triggered files sort by time (free_name adds -1, -2...)."""
    return f"camfx-{time.strftime('%Y%m%d-%H%M%S')}"


_END = object()
