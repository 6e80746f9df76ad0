"""A virtual webcam: other programs (video calls, OBS, browsers) see camfx's frames as a camera.

Goes through pyvirtualcam: v4l2loopback on Linux, the OBS virtual camera on Windows
and macOS. Apps that read a camera expect frames at a steady rate, while camfx makes
them at whatever rate the models allow, so a pacing thread sends the newest frame at
the camera's rate and repeats it when the pipeline is late.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import cv2
import numpy as np

from camfx.errors import CamfxError
from camfx.vision.imaging import contain

MODPROBE = "sudo modprobe v4l2loopback devices=1 exclusive_caps=1 card_label=camfx"
# v4l2loopback devices have no bus behind them, so sysfs lists them as virtual.
_LOOPBACK_SYSFS = Path("/sys/devices/virtual/video4linux")


class VirtualCamera:
    """Sends BGR frames to a virtual webcam at a steady ``fps``.

    ``size`` is the (width, height) to ask for; None takes the first frame's size, and
    then the camera opens on the first ``send`` (its errors are raised there). Frames of
    any size are scaled to fit the device and padded with black.
    """

    def __init__(
        self,
        device: str | None = None,
        size: tuple[int, int] | None = None,
        fps: float = 30.0,
        backend: str | None = None,
    ) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be positive, not {fps}")
        self.requested_device = device
        self.size = size
        self.fps = fps
        self.backend = backend
        self.device: str | None = None  # the name pyvirtualcam reports, once open
        self.frames_sent = 0
        self._camera = None
        self._rgb = False  # whether the backend wanted RGB rather than BGR
        self._thread: threading.Thread | None = None
        self._cond = threading.Condition()
        self._latest: np.ndarray | None = None
        self._latest_seq = 0
        self._stopping = False
        self._error: BaseException | None = None

    def __enter__(self) -> VirtualCamera:
        if self.size is not None:
            with self._cond:
                self._open(self.size)
        return self

    def send(self, image_bgr: np.ndarray) -> None:
        """Hand over the newest frame; returns at once, the pacing thread sends it."""
        if image_bgr.dtype != np.uint8 or image_bgr.ndim != 3 or image_bgr.shape[2] != 3:
            raise ValueError(f"expected a BGR uint8 frame, got {image_bgr.dtype} {image_bgr.shape}")
        # A copy, because callers may reuse their buffer while the thread still reads it.
        frame = image_bgr.copy()
        with self._cond:
            if self._stopping:
                return  # a send racing close() from another thread: nothing to do
            if self._error is not None:
                raise CamfxError(f"virtual camera {self.device} stopped: {self._error}")
            if self._camera is None:
                h, w = frame.shape[:2]
                self._open(self.size or (max(2, w - w % 2), max(2, h - h % 2)))  # I420: even
            self._latest = frame
            self._latest_seq += 1
            self._cond.notify_all()

    def close(self) -> None:
        """Stop the pacing thread and release the device; safe to call more than once."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._camera is not None:
            self._camera.close()
            self._camera = None

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _open(self, size: tuple[int, int]) -> None:
        """Open the device and start the pacing thread; called with the lock held."""
        import pyvirtualcam
        from pyvirtualcam.camera import BACKENDS

        if self.backend is not None and self.backend not in BACKENDS:
            known = ", ".join(BACKENDS) or "none"
            raise CamfxError(f"unknown virtual camera backend {self.backend!r} (known: {known})")
        width, height = size
        # BGR saves a conversion; a backend that only takes RGB says "format" when refusing it.
        try:
            camera = self._try_open(pyvirtualcam.PixelFormat.BGR, width, height)
        except RuntimeError as exc:
            if not re.search(r"\bformat\b", str(exc), re.IGNORECASE):
                raise CamfxError(explain_open_error(str(exc), self.requested_device)) from None
            try:
                camera = self._try_open(pyvirtualcam.PixelFormat.RGB, width, height)
            except RuntimeError as exc2:
                message = explain_open_error(str(exc2), self.requested_device)
                raise CamfxError(message) from None
            self._rgb = True
        self._camera = camera
        self.device = camera.device
        self.size = (camera.width, camera.height)
        self._thread = threading.Thread(target=self._run, name="camfx-virtualcam", daemon=True)
        self._thread.start()

    def _try_open(self, fmt: object, width: int, height: int) -> object:
        import pyvirtualcam

        return pyvirtualcam.Camera(
            width, height, self.fps, fmt=fmt, device=self.requested_device, backend=self.backend
        )

    def _run(self) -> None:
        camera = self._camera
        size = (camera.width, camera.height)  # the device's, which may differ from what we asked
        seq = 0
        out: np.ndarray | None = None
        try:
            while True:
                with self._cond:
                    while self._latest is None and not self._stopping:
                        self._cond.wait()
                    if self._stopping:
                        return
                    frame, latest_seq = self._latest, self._latest_seq
                if latest_seq != seq:  # a new frame; otherwise repeat the converted last one
                    out = contain(frame, size)
                    if self._rgb:
                        out = cv2.cvtColor(out, cv2.COLOR_BGR2RGB)
                    seq = latest_seq
                camera.send(out)
                self.frames_sent += 1
                camera.sleep_until_next_frame()
        except Exception as exc:  # reported by the next send()
            with self._cond:
                self._error = exc


def explain_open_error(message: str, device: str | None = None) -> str:
    """Turn pyvirtualcam's "'<backend>' backend: <why>" lines into one line saying what to do."""
    lines = [line for line in message.splitlines() if line.strip()]
    if not lines:
        return "no virtual camera support on this system (pyvirtualcam has no backend for it)"
    parsed = []
    for line in lines:
        match = re.match(r"'([^']+)' backend: (.*)", line)
        parsed.append((match[1], match[2]) if match else ("", line))
    # Windows tries "obs" and then "unitycapture": the OBS reason is the one worth showing.
    backend, why = next((p for p in parsed if p[0] in ("v4l2loopback", "obs")), parsed[0])
    if backend == "v4l2loopback":
        return _explain_v4l2loopback(why, device)
    if backend in ("obs", "unitycapture"):
        return _explain_obs(why)
    return f"cannot open the virtual camera: {why}"


def _explain_v4l2loopback(why: str, device: str | None) -> str:
    named = re.search(r"(?:Device capabilities of|Device|device|access) (\S+?)(?: |$)", why)
    name = named[1] if named else device or "the virtual camera device"
    busy = "another program may be using it"
    if why.startswith("No v4l2 loopback device found"):
        existing = sorted(f"/dev/{p.name}" for p in _loopback_devices())
        if existing:
            return f"no free virtual camera device ({', '.join(existing)}: {busy})"
        return f"no virtual camera device found; create one with: {MODPROBE}"
    if "does not exist" in why:
        return f"virtual camera device {name} does not exist; create one with: {MODPROBE}"
    if "missing permissions" in why:
        return (
            f"no permission to open virtual camera device {name}; "
            "run: sudo usermod -a -G video $USER, then log out and in again"
        )
    if "already in use" in why:
        return f"virtual camera device {name} is already in use by camfx"
    if "could not be opened" in why or "could not be configured" in why:
        reason = why.split(": ", 1)[-1].rstrip(".")
        return f"cannot open virtual camera device {name} ({reason}); {busy}"
    if "is not a video output device" in why:
        return f"cannot send to {name}: it is not a free virtual camera output; {busy}"
    if "is not a V4L2 device" in why or "could not be queried" in why:
        return f"{name} is not a v4l2loopback virtual camera; create one with: {MODPROBE}"
    return f"cannot open virtual camera device {name}: {why}"


def _explain_obs(why: str) -> str:
    lowered = why.lower()
    if "not found" in lowered or "not installed" in lowered:
        return (
            "no virtual camera found; install OBS Studio (https://obsproject.com) "
            "and start its virtual camera once (Start Virtual Camera), then try again"
        )
    if "could not be started" in lowered or "multiple cameras" in lowered or "stream" in lowered:
        return (
            "cannot start the OBS virtual camera; another program (OBS Studio itself?) "
            "may be using it: stop its virtual camera there"
        )
    return (
        f"cannot start the OBS virtual camera ({why}); install OBS Studio "
        "and start its virtual camera once, then try again"
    )


def _loopback_devices() -> list[Path]:
    try:
        return list(_LOOPBACK_SYSFS.iterdir())
    except OSError:
        return []
