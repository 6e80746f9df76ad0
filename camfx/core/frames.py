"""The frames interface: what a source delivers and what the pipeline consumes.

:class:`FrameSource` is the one thing the core needs from capture; cameras, video files
and pictures implement it in :mod:`camfx.io.capture`.
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
