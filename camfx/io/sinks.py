"""Sinks: where finished frames go. One interface, one registry.

A :class:`Sink` is a context manager that takes each finished frame with
``send(frame)`` (a :class:`camfx.core.pipeline.OutputFrame`: the picture, the mask,
the capture time) and finishes its output in ``close()`` whatever stopped the run
(end of input, q, Ctrl+C, an error). ``close()`` may be called more than once.

:data:`SINKS` maps a name to a factory ``(stream, setting) -> Sink``, where ``stream``
(:class:`Stream`) says what frames will come and ``setting`` is the one value that asked
for the sink (a path, a device name, a title). The session opens one sink per output
the options ask for, on the first frame (when the size is known), and sends every frame
to each in turn. Like pyvirtualcam's backends, the registry is also the test seam: a test
registers its own sink with :func:`register_sink` and names it in ``RunOptions.sinks``.

The devices and files behind the bundled sinks: :mod:`camfx.io.recorder` (an H.264 file,
also the person mask as a grey video), :mod:`camfx.io.virtualcam` (a virtual webcam),
:mod:`camfx.io.window` (the window), each imported when its sink is made.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from camfx.core.frames import OutputFrame
from camfx.errors import CamfxError

if TYPE_CHECKING:  # the device modules load when a sink opens (PyAV alone takes 0.5 s)
    from camfx.io.audio import Microphone
    from camfx.io.recorder import VideoRecorder
    from camfx.io.virtualcam import VirtualCamera
    from camfx.io.window import Window

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stream:
    """What a sink is opened for: the frames it will be sent."""

    size: tuple[int, int]  # (width, height)
    fps: float  # the source's frame rate
    live: bool  # frames stamped with capture times, some dropped (not every frame, in order)
    sound: Path | None = None  # a file whose sound goes with the frames (a render of it)
    microphone: str | None = None  # live: a microphone to record beside them ("": default)


class Sink(ABC):
    """Takes finished frames; finishes its output on close. Use as a context manager."""

    def __enter__(self) -> Sink:
        return self

    @abstractmethod
    def send(self, frame: OutputFrame) -> None:
        """Take one finished frame (the sink may keep a reference, not modify it)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Finish the output (a file playable, a device released); safe to call again."""

    def __exit__(self, *exc: object) -> None:
        self.close()


SinkFactory = Callable[[Stream, Any], Sink]
SINKS: dict[str, SinkFactory] = {}


def register_sink(name: str, factory: SinkFactory) -> None:
    """Make `name` a sink the session can open: ``factory(stream, setting)`` returns it."""
    SINKS[name] = factory


def open_sink(name: str, stream: Stream, setting: object = None) -> Sink:
    """A new (not yet entered) sink by its registered name."""
    try:
        factory = SINKS[name]
    except KeyError:
        raise CamfxError(f"unknown sink '{name}'; known: {', '.join(SINKS)}") from None
    return factory(stream, setting)


# -- the bundled sinks -------------------------------------------------------------------------
class RecorderSink(Sink):
    """Frames into a video file (:class:`VideoRecorder`): live frames at their capture times,
    rendered ones at 1 / fps apart. ``picture`` chooses what is recorded of each frame."""

    def __init__(
        self,
        recorder: VideoRecorder,
        live: bool,
        picture: Callable[[OutputFrame], np.ndarray] = lambda frame: frame.image,
    ) -> None:
        self.recorder, self.live, self._picture = recorder, live, picture

    @property
    def path(self) -> Path:
        return self.recorder.path

    def __enter__(self) -> RecorderSink:
        self.recorder.__enter__()
        return self

    def send(self, frame: OutputFrame) -> None:
        self.recorder.write(self._picture(frame), frame.captured_at if self.live else None)

    def close(self) -> None:
        self.recorder.close()


class VirtualCameraSink(Sink):
    """Frames to a virtual webcam, which paces itself (``send`` never blocks)."""

    def __init__(self, camera: VirtualCamera) -> None:
        self.camera = camera

    def __enter__(self) -> VirtualCameraSink:
        self.camera.__enter__()
        log.info("sending to virtual camera %s", self.camera.device)
        return self

    def send(self, frame: OutputFrame) -> None:
        self.camera.send(frame.image)

    def close(self) -> None:
        self.camera.close()


Screen = tuple[np.ndarray, Sequence[str], Sequence[tuple[str, str]]]


class WindowSink(Sink):
    """Frames in the window. ``compose`` turns a frame into what is drawn (the picture, the
    overlay's lines, a card); the app sets it, and reads the keys with :meth:`events`."""

    def __init__(self, window: Window) -> None:
        self.window = window
        self.compose: Callable[[OutputFrame], Screen] = lambda frame: (frame.image, (), ())

    def __enter__(self) -> WindowSink:
        self.window.__enter__()
        return self

    def send(self, frame: OutputFrame) -> None:
        self.window.show(*self.compose(frame))

    def events(self) -> list[str]:
        return self.window.events()

    def toggle_fullscreen(self) -> None:
        self.window.toggle_fullscreen()

    def close(self) -> None:
        self.window.close()


def microphone_for(stream: Stream) -> Microphone | None:
    """The microphone a recording of `stream` records, if one was asked for."""
    if stream.microphone is None:
        return None
    if not stream.live:
        raise CamfxError(
            "--audio records a microphone with a live recording; a rendered file "
            "keeps its own sound (use --live to record a file as it plays)"
        )
    from camfx.io.audio import Microphone  # sounddevice only when a microphone is asked for

    return Microphone(stream.microphone or None)


def mask_picture(frame: OutputFrame) -> np.ndarray:
    """The person mask as an 8-bit grey picture (BGR, as the recorder takes)."""
    grey = cv2.convertScaleAbs(frame.mask, alpha=255.0)
    return cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)


def _recording(stream: Stream, path: Path) -> Sink:
    from camfx.io.recorder import VideoRecorder

    # A file rendered frame for frame keeps its sound; live timing has no source clock.
    # Live recordings are fragmented: what reached the disk plays, whatever stops camfx.
    recorder = VideoRecorder(
        path,
        stream.size,
        stream.fps,
        audio_source=None if stream.live else stream.sound,
        fragmented=stream.live,
        microphone=microphone_for(stream),
    )
    return RecorderSink(recorder, stream.live)


def _matte(stream: Stream, path: Path) -> Sink:
    from camfx.io.recorder import VideoRecorder

    return RecorderSink(VideoRecorder(path, stream.size, stream.fps), stream.live, mask_picture)


def _virtual_camera(stream: Stream, device: str | None) -> Sink:
    from camfx.io.virtualcam import VirtualCamera

    return VirtualCameraSink(VirtualCamera(device or None, stream.size, stream.fps))


def _window(stream: Stream, title: str | None) -> Sink:
    from camfx.io.window import Window

    width, height = stream.size
    scale = min(1.0, 1280 / width, 720 / height)  # at most 720p on the screen at first
    size = (round(width * scale), round(height * scale))
    return WindowSink(Window(title or "camfx", size))


# In the order the session feeds them: files first, the window (the slowest) last.
register_sink("record", _recording)
register_sink("matte", _matte)
register_sink("virtual-camera", _virtual_camera)
register_sink("window", _window)
