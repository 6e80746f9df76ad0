"""Backdrops: the files the image and video effects show (a picture, a looping clip).

A backdrop is opened from a path before the run starts (an unreadable file fails
there, with one line naming it) and then gives its current picture at any size.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from pathlib import Path

import cv2
import numpy as np

from camfx.errors import CamfxError
from camfx.models.style import read_image
from camfx.vision.imaging import cover


class Backdrop(ABC):
    """A picture to put where the effect applies, opened from a file."""

    @abstractmethod
    def __init__(self, path: Path) -> None:
        """Open `path`; CamfxError naming it when it cannot be read."""

    @abstractmethod
    def picture(self, size: tuple[int, int]) -> np.ndarray:
        """The current picture, covering `size` (width, height)."""


class PictureBackdrop(Backdrop):
    def __init__(self, path: Path) -> None:
        self._image = read_image(path)
        self._cached: np.ndarray | None = None

    def picture(self, size: tuple[int, int]) -> np.ndarray:
        if self._cached is None or self._cached.shape[1::-1] != size:
            self._cached = cover(self._image, size)
        return self._cached


class VideoBackdrop(Backdrop):
    """A clip played at its own frame rate, looped, whatever the camera's rate."""

    def __init__(self, path: Path) -> None:
        self._capture = cv2.VideoCapture(str(path))
        if not path.is_file() or not self._capture.isOpened():
            raise CamfxError(f"{path}: not a video camfx can read (try an MP4 file)")
        fps = self._capture.get(cv2.CAP_PROP_FPS)
        self._fps = fps if 1 <= fps <= 240 else 30.0
        self._started: float | None = None
        self._shown = -1
        self._current: np.ndarray | None = None
        self._covered: tuple[int, tuple[int, int], np.ndarray] | None = None  # (frame, size, pic)

    def picture(self, size: tuple[int, int]) -> np.ndarray:
        now = time.monotonic()
        self._started = now if self._started is None else self._started
        due = int((now - self._started) * self._fps)
        while self._shown < due or self._current is None:
            ok, frame = self._capture.read()
            if not ok:  # the end: loop
                self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, frame = self._capture.read()
                if not ok:
                    raise CamfxError("the background video has no readable frames")
                self._started, due, self._shown = now, 0, -1
            self._current = frame
            self._shown += 1
        # The clip runs slower than the camera: scale each of its frames once, not per call.
        if self._covered is None or self._covered[:2] != (self._shown, size):
            self._covered = (self._shown, size, cover(self._current, size))
        return self._covered[2]
