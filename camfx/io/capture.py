"""Frame sources: a camera, a video file or a still picture, behind one small interface.

Cameras and video files both go through OpenCV's ``VideoCapture``, so a video
file exercises the same capture path as a webcam. A source is *live* when frames
that cannot be processed in time should be dropped (a camera, or a file played
as if it were one); otherwise every frame is delivered, in order.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from camfx.core.frames import FrameSource
from camfx.errors import CamfxError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}

# What "camera N" opens, when set: a device path or a video file, "{index}" replaced by N
# ("/dev/video{index}", "clip.mp4"). The tests use it to make "no camera" (a device that
# does not exist) or a camera (a clip played at its rate) on any machine; a user can use
# it to show camfx a clip as if it were a webcam.
CAMERA_ENV = "CAMFX_CAMERA"


def camera_target(index: int) -> int | str:
    """What OpenCV opens for camera `index`: the index itself, or CAMFX_CAMERA's path."""
    template = os.environ.get(CAMERA_ENV)
    return index if not template else template.replace("{index}", str(index))


def to_bgr(image: np.ndarray) -> np.ndarray:
    """Any frame a device or file gives (grey, BGRA, 16-bit) as 8-bit, 3-channel BGR."""
    if image.dtype != np.uint8:
        # 16-bit (or float) sensors: scale the full range of the type down to 8 bits.
        top = np.iinfo(image.dtype).max if np.issubdtype(image.dtype, np.integer) else 1.0
        image = cv2.convertScaleAbs(image, alpha=255.0 / top)
    if image.ndim == 2 or image.shape[2] == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


class VideoCaptureSource(FrameSource):
    """A camera (by index) or a video file, through OpenCV."""

    def __init__(
        self,
        target: int | str,
        live: bool,
        size: tuple[int, int] | None = None,
        fps: float | None = None,
        pace: bool = False,
    ) -> None:
        self.is_camera = isinstance(target, int)
        opened = camera_target(target) if self.is_camera else target
        self._capture = cv2.VideoCapture(opened)
        if not self._capture.isOpened():
            self._capture.release()
            if self.is_camera:
                raise CamfxError(
                    f"camera {target} could not be opened; is it connected and free? "
                    "Try another --input index, or a video file"
                )
            raise CamfxError(f"{target}: not a video camfx can read (try an MP4 file)")
        if self.is_camera:
            self._request_camera_mode(size, fps)
            size = None  # a camera delivers what it can; frames are not rescaled
        self.live = live
        self._resize_to = size
        reported_fps = self._capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps or (reported_fps if 1 <= reported_fps <= 240 else 30.0))
        self.frame_size = size or (
            int(self._capture.get(cv2.CAP_PROP_FRAME_WIDTH)) or 640,
            int(self._capture.get(cv2.CAP_PROP_FRAME_HEIGHT)) or 480,
        )
        count = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT))
        self.frame_count = None if self.is_camera or count <= 0 else count
        # Files played "as a camera" (and a clip standing in for one) are paced to their rate.
        clip = isinstance(opened, str) and Path(opened).is_file()  # not a device node
        self._pace = clip and (pace or self.is_camera)
        self._started: float | None = None
        self._delivered = 0
        self._last_good: np.ndarray | None = None
        self._broken_in_a_row = 0

    def _request_camera_mode(self, size: tuple[int, int] | None, fps: float | None) -> None:
        if size:
            self._capture.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
            self._capture.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])
        if fps:
            self._capture.set(cv2.CAP_PROP_FPS, fps)
        # Keep the driver's queue short so a frame read is a recent frame.
        self._capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)

    def read(self) -> np.ndarray | None:
        if self._pace:
            self._wait_for_frame_time()
        ok, image = self._capture.read()
        if not ok or image is None or image.size == 0:
            return self._stand_in_for_broken_frame()
        image = to_bgr(image)
        self._last_good = image
        self._broken_in_a_row = 0
        self._delivered += 1
        if self._resize_to and (image.shape[1], image.shape[0]) != self._resize_to:
            image = cv2.resize(image, self._resize_to, interpolation=cv2.INTER_AREA)
        return image

    MAX_BROKEN_IN_A_ROW = 10

    def _stand_in_for_broken_frame(self) -> np.ndarray | None:
        """A file frame that fails to decode, with frames still to come: show the last good
        one in its place, so the count and the timing (and the sound) stay right."""
        remaining = self.frame_count is not None and self._delivered < self.frame_count
        if not remaining or self._last_good is None:
            return None
        self._broken_in_a_row += 1
        if self._broken_in_a_row > self.MAX_BROKEN_IN_A_ROW:
            return None  # not a damaged frame: the rest of the file is unreadable
        if self._broken_in_a_row == 1:
            log.warning("frame %d could not be decoded; showing the one before", self._delivered)
        self._delivered += 1
        return self._last_good.copy()

    def _wait_for_frame_time(self) -> None:
        now = time.monotonic()
        if self._started is None:
            self._started = now
        delay = self._started + self._delivered / self.fps - now
        if delay > 0:
            time.sleep(delay)

    def close(self) -> None:
        self._capture.release()


class ImageSource(FrameSource):
    """A still picture: one frame, or (live) the same frame repeated like a still camera."""

    def __init__(
        self, path: Path, live: bool, size: tuple[int, int] | None = None, fps: float = 30.0
    ) -> None:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None or image.size == 0:
            raise CamfxError(f"{path}: not a readable image (try a JPEG or PNG)")
        if size:
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        self._image = image
        self.frame_size = (image.shape[1], image.shape[0])
        self.live = live
        self.fps = fps
        self.frame_count = None if live else 1
        self._given = 0
        self._started = time.monotonic()

    def read(self) -> np.ndarray | None:
        if not self.live:
            if self._given:
                return None
            self._given = 1
            return self._image.copy()
        delay = self._started + self._given / self.fps - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self._given += 1
        return self._image.copy()


class MirroredSource(FrameSource):
    """Any source, flipped left to right: the selfie view people expect of a webcam."""

    def __init__(self, source: FrameSource) -> None:
        self._source = source
        self.live, self.fps = source.live, source.fps
        self.frame_count, self.frame_size = source.frame_count, source.frame_size

    def read(self) -> np.ndarray | None:
        image = self._source.read()
        return None if image is None else cv2.flip(image, 1)

    @property
    def status(self) -> str | None:  # type: ignore[override]
        return self._source.status

    def interrupt(self) -> None:
        self._source.interrupt()

    def close(self) -> None:
        self._source.close()


class ReconnectingSource(FrameSource):
    """A live source that, when its device stops delivering, reopens it with backoff.

    `open_device` makes a fresh source (e.g. a camera); it may raise CamfxError
    while the device is away. Meanwhile `read` waits, `status` says "camera lost,
    retrying", and whoever shows frames keeps showing the last good one. A frame
    size that changes after a reconnect is passed on as it is.
    """

    BACKOFF = (0.25, 0.5, 1.0, 2.0, 4.0)  # seconds between attempts, the last repeated

    def __init__(self, open_device: Callable[[], FrameSource]) -> None:
        self._open_device = open_device
        self._device: FrameSource | None = open_device()  # the first open must succeed
        self.live, self.fps = True, self._device.fps
        self.frame_count, self.frame_size = None, self._device.frame_size
        self.reconnects = 0
        self._interrupted = threading.Event()

    def read(self) -> np.ndarray | None:
        while not self._interrupted.is_set():
            image = self._device.read() if self._device is not None else None
            if image is not None:
                return image
            self._reconnect()
        return None

    def _reconnect(self) -> None:
        if self._device is not None:
            self._device.close()
            self._device = None
        self.status = "camera lost, retrying"
        log.warning("camera lost, retrying")
        for attempt in itertools.count():
            wait = self.BACKOFF[min(attempt, len(self.BACKOFF) - 1)]
            if self._interrupted.wait(wait):
                return
            try:
                self._device = self._open_device()
            except CamfxError:
                continue
            self.frame_size = self._device.frame_size
            self.reconnects += 1
            self.status = None
            log.warning("camera back (%dx%d)", *self.frame_size)
            return

    def interrupt(self) -> None:
        self._interrupted.set()

    def close(self) -> None:
        self._interrupted.set()
        if self._device is not None:
            self._device.close()


def probe_camera(index: int) -> tuple[int, int] | None:
    """(width, height) of camera `index` if it opens and delivers a frame, else None."""
    capture = cv2.VideoCapture(camera_target(index))
    try:
        if not capture.isOpened():
            return None
        ok, frame = capture.read()
        return (frame.shape[1], frame.shape[0]) if ok and frame is not None else None
    finally:
        capture.release()


def parse_input(text: str) -> int | Path:
    """'0' -> camera 0; anything else is a file path."""
    return int(text) if text.strip().isdigit() else Path(text).expanduser()


def open_source(
    text: str,
    live: bool | None = None,
    size: tuple[int, int] | None = None,
    fps: float | None = None,
    mirror: bool = False,
) -> FrameSource:
    """Open --input. ``live=None`` means: live for cameras, every frame for files."""
    source = _open(text, live, size, fps)
    return MirroredSource(source) if mirror else source


def _open(
    text: str, live: bool | None, size: tuple[int, int] | None, fps: float | None
) -> FrameSource:
    target = parse_input(text)
    if isinstance(target, int):
        live = True if live is None else live

        def open_camera() -> FrameSource:
            return VideoCaptureSource(target, live=live, size=size, fps=fps)

        # A camera that drops out (unplugged, a USB hub resetting) is waited for.
        return ReconnectingSource(open_camera) if live else open_camera()
    if not target.exists():
        raise CamfxError(f"{target}: no such file (give a camera index, a video or a picture)")
    if target.suffix.lower() in IMAGE_SUFFIXES:
        return ImageSource(target, live=bool(live), size=size, fps=fps or 30.0)
    return VideoCaptureSource(str(target), live=bool(live), size=size, fps=fps, pace=bool(live))


def spread_frames(path: Path, count: int) -> list[np.ndarray]:
    """Up to `count` BGR frames spread evenly through a video, or a picture itself: what
    calibrating and measuring models take, so they see the whole clip, not its start."""
    path = Path(path)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        return [] if image is None else [image]
    capture = cv2.VideoCapture(str(path))
    try:
        total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or count
        frames = []
        for index in np.linspace(0, max(total - 1, 0), count).astype(int):
            capture.set(cv2.CAP_PROP_POS_FRAMES, int(index))
            ok, frame = capture.read()
            if ok:
                frames.append(frame)
        return frames
    finally:
        capture.release()
