"""The frames interface: what a source delivers, what the pipeline hands on.

:class:`FrameSource` is the one thing the core needs from capture; cameras, video files
and pictures implement it in :mod:`camfx.io.capture`. :class:`Frame` is a captured
frame, :class:`Background` a painted one, :class:`OutputFrame` a finished one (what
sinks receive).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Frame:
    index: int  # position in the source, from 0
    image: np.ndarray  # BGR uint8
    captured_at: float  # time.monotonic() when it was read
    # The image at half size (Effect.half_of), made by the capture thread while the
    # image is still in its cache; None: the segment step makes it.
    half: np.ndarray | None = None


@dataclass(frozen=True)
class Background:
    image: np.ndarray  # stylized, full frame size, BGR uint8
    source_index: int  # the frame it was painted from
    style_ms: float


@dataclass(frozen=True)
class OutputFrame:
    index: int
    image: np.ndarray  # composited, BGR uint8
    mask: np.ndarray  # float32 person mask, frame size
    captured_at: float
    background_index: int  # which frame the background was painted from
    segment_ms: float
    style_ms: float  # time it took to paint the background shown
    composite_ms: float
    frame: np.ndarray | None = None  # the captured frame (a reference, not a copy)



class FrameSource(ABC):
    """Where frames come from. Use as a context manager; ``read`` returns None at the end."""

    live: bool  # drop frames rather than let latency grow
    fps: float
    frame_count: int | None  # None when unknown or endless
    frame_size: tuple[int, int]  # (width, height) of the frames it delivers, as far as known

    @abstractmethod
    def read(self) -> np.ndarray | None:
        """The next frame (BGR uint8), or None when the source has ended."""

    status: str | None = None  # a passing condition to show the user, e.g. "camera lost"

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the device or file."""

    def interrupt(self) -> None:  # noqa: B027 - optional hook
        """Make a `read` that is waiting (e.g. for a camera to come back) return None soon."""

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
