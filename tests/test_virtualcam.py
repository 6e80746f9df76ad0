"""The virtual webcam, through pyvirtualcam's own backend registry.

A recording backend stands in for the device: pyvirtualcam hands it exactly what a
real backend would get (size, pixel format, timing). The real v4l2loopback backend
is used where it fails the same way on every machine without a loopback device.
"""

from __future__ import annotations

import platform
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pytest
import pyvirtualcam
from pyvirtualcam.camera import BACKENDS
from pyvirtualcam.util import decode_fourcc

from camfx.errors import CamfxError
from camfx.io.virtualcam import MODPROBE, VirtualCamera, explain_open_error

TEST_BACKEND = "camfx-test"


@dataclass
class Received:
    image: np.ndarray
    shape: tuple[int, ...]
    dtype: np.dtype
    fmt: str
    time: float


@dataclass
class Recorder:
    """What the test backend saw: its settings, every frame, whether it was closed."""

    formats: tuple[str, ...] = ("BGR", "RGB")
    error: str | None = None  # raise this when opened
    send_error: str | None = None  # raise this when sent a frame
    frames: list[Received] = field(default_factory=list)
    opened: list[dict] = field(default_factory=list)
    closed: int = 0

    def backend_class(self) -> type:
        recorder = self

        class RecordingBackend:
            def __init__(self, *, width, height, fps, fourcc, device, **kw) -> None:
                if recorder.error:
                    raise RuntimeError(recorder.error)
                self.fmt = pyvirtualcam.PixelFormat(decode_fourcc(fourcc)).name
                if self.fmt not in recorder.formats:
                    raise RuntimeError("Unsupported image format.")
                self.width, self.height = width, height
                self.name = device or "test camera"
                recorder.opened.append({"size": (width, height), "fps": fps, "fmt": self.fmt})

            def send(self, frame: np.ndarray) -> None:
                if recorder.send_error:
                    raise RuntimeError(recorder.send_error)
                image = frame.reshape(self.height, self.width, 3).copy()
                recorder.frames.append(
                    Received(image, image.shape, image.dtype, self.fmt, time.monotonic())
                )

            def close(self) -> None:
                recorder.closed += 1

            def device(self) -> str:
                return self.name

            def native_fourcc(self) -> None:
                return None

        return RecordingBackend


@pytest.fixture
def register() -> Iterator[Callable[..., Recorder]]:
    """register(name=..., **recorder_fields) puts a recording backend in pyvirtualcam's registry."""
    saved = dict(BACKENDS)

    def register_backend(name: str = TEST_BACKEND, **kw: object) -> Recorder:
        recorder = Recorder(**kw)
        pyvirtualcam.register_backend(name, recorder.backend_class())
        return recorder

    yield register_backend
    BACKENDS.clear()
    BACKENDS.update(saved)


def wait_for(condition: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def first_frame(path: Path) -> np.ndarray:
    capture = cv2.VideoCapture(str(path))
    ok, frame = capture.read()
    capture.release()
    assert ok
    return frame


def send_and_collect(image: np.ndarray, recorder: Recorder, **kw: object) -> Received:
    with VirtualCamera(backend=TEST_BACKEND, **kw) as vcam:
        vcam.send(image)
        wait_for(lambda: len(recorder.frames) >= 2)
    return recorder.frames[-1]


def test_square_frame_is_centred_and_padded_black(register, portrait_video: Path) -> None:
    recorder = register()
    frame = first_frame(portrait_video)
    assert frame.shape == (720, 720, 3)
    got = send_and_collect(frame, recorder, size=(1280, 720))
    assert got.shape == (720, 1280, 3) and got.dtype == np.uint8 and got.fmt == "BGR"
    # Same height: no scaling, the frame unchanged in the middle and black bars either side.
    np.testing.assert_array_equal(got.image[:, 280:1000], frame)
    assert not got.image[:, :280].any() and not got.image[:, 1000:].any()


def test_smaller_frame_of_same_proportions_fills_the_device(register, portrait_video) -> None:
    recorder = register()
    wide = cv2.resize(first_frame(portrait_video)[157:562], (640, 360))  # a 16:9 crop
    got = send_and_collect(wide, recorder, size=(1280, 720))
    assert got.shape == (720, 1280, 3)
    expected = cv2.resize(wide, (1280, 720), interpolation=cv2.INTER_LINEAR)
    assert np.abs(got.image.astype(int) - expected).mean() < 2


def test_other_proportions_are_kept(register) -> None:
    recorder = register()
    four_three = np.full((480, 640, 3), 128, np.uint8)
    got = send_and_collect(four_three, recorder, size=(1280, 720))
    # 640x480 scales to 960x720: 160 black columns each side.
    assert not got.image[:, :160].any() and not got.image[:, 1120:].any()
    assert (got.image[:, 160:1120] == 128).all()


def test_size_defaults_to_the_first_frame(register) -> None:
    recorder = register()
    with VirtualCamera(backend=TEST_BACKEND) as vcam:
        assert vcam.device is None and not recorder.opened  # nothing to size it from yet
        vcam.send(np.zeros((361, 641, 3), np.uint8))
        assert vcam.size == (640, 360) and vcam.device == "test camera"
        wait_for(lambda: len(recorder.frames) >= 1)
    assert recorder.frames[0].shape == (360, 640, 3)


@pytest.mark.parametrize(
    ("formats", "expected_fmt", "expected_pixel"),
    [(("BGR", "RGB"), "BGR", [255, 0, 0]), (("RGB",), "RGB", [0, 0, 255])],
)
def test_channel_order_follows_the_backend(register, formats, expected_fmt, expected_pixel) -> None:
    recorder = register(formats=formats)
    blue = np.zeros((90, 160, 3), np.uint8)
    blue[..., 0] = 255  # pure blue in BGR
    got = send_and_collect(blue, recorder, size=(160, 90))
    assert recorder.opened[-1]["fmt"] == expected_fmt
    assert got.fmt == expected_fmt
    assert (got.image.reshape(-1, 3) == expected_pixel).all()


def test_steady_rate_repeats_frames_when_the_pipeline_is_late(register) -> None:
    recorder = register()
    sent = 15
    with VirtualCamera(size=(320, 180), fps=30, backend=TEST_BACKEND) as vcam:
        for i in range(sent):  # 10 fps for 1.5 s, each frame a different grey
            vcam.send(np.full((180, 320, 3), i * 10, np.uint8))
            time.sleep(0.1)
        frames_sent = vcam.frames_sent
    frames = recorder.frames
    assert frames_sent == len(frames)
    times = [f.time for f in frames]
    rate = (len(times) - 1) / (times[-1] - times[0])
    median = statistics.median(np.diff(times))
    assert 18 < rate < 45, rate  # ~30, loosely: the machine is shared
    assert 0.5 / 30 < median < 1.6 / 30, median
    distinct = {int(f.image[0, 0, 0]) for f in frames}
    assert len(frames) > 1.5 * len(distinct)  # repeats fill the gaps
    assert len(distinct) >= sent - 3  # and (nearly) every frame got through


@pytest.mark.parametrize("send_first", [True, False])
def test_close_leaves_no_thread(register, send_first: bool) -> None:
    recorder = register()
    before = set(threading.enumerate())
    vcam = VirtualCamera(size=(160, 90), backend=TEST_BACKEND)
    with vcam:
        assert set(threading.enumerate()) - before  # the pacing thread
        if send_first:
            vcam.send(np.zeros((90, 160, 3), np.uint8))
            wait_for(lambda: len(recorder.frames) >= 1)
    assert set(threading.enumerate()) - before == set()
    assert recorder.closed == 1
    vcam.close()  # again: nothing left to do
    vcam.send(np.zeros((90, 160, 3), np.uint8))  # after close: dropped
    assert recorder.closed == 1


def test_device_failure_while_sending_reaches_the_caller(register) -> None:
    recorder = register(send_error="device went away")
    with VirtualCamera(size=(160, 90), backend=TEST_BACKEND) as vcam:
        vcam.send(np.zeros((90, 160, 3), np.uint8))
        wait_for(lambda: vcam._error is not None)
        with pytest.raises(CamfxError, match="device went away"):
            vcam.send(np.zeros((90, 160, 3), np.uint8))
    assert recorder.closed == 1


def open_error(**kw: object) -> str:
    with pytest.raises(CamfxError) as info, VirtualCamera(size=(640, 360), **kw):
        pass
    message = str(info.value)
    assert "\n" not in message
    return message


LINUX = platform.system() == "Linux" and "v4l2loopback" in BACKENDS
HAS_LOOPBACK = Path("/sys/devices/virtual/video4linux").is_dir()


# pyvirtualcam's own search, for real; where devices exist it would find one, and the
# test below covers that machine with a made-up sysfs.
@pytest.mark.skipif(not LINUX or HAS_LOOPBACK, reason="needs Linux without v4l2loopback devices")
@pytest.mark.parametrize("backend", ["v4l2loopback", None])
def test_no_v4l2loopback_device_says_how_to_make_one(backend: str | None) -> None:
    message = open_error(backend=backend)
    assert message == f"no virtual camera device found; create one with: {MODPROBE}"
    assert "modprobe v4l2loopback" in message and "exclusive_caps=1" in message


def test_no_free_v4l2loopback_device_on_any_machine(tmp_path, monkeypatch) -> None:
    """pyvirtualcam found no free device: with none at all, how to make one; with one that
    exists (busy), its name. sysfs is pointed at a folder made here, not this machine's."""
    import camfx.io.virtualcam as virtualcam

    why = "'v4l2loopback' backend: No v4l2 loopback device found at /dev/video[0-99]"
    monkeypatch.setattr(virtualcam, "_LOOPBACK_SYSFS", tmp_path / "video4linux")
    assert explain_open_error(why) == f"no virtual camera device found; create one with: {MODPROBE}"
    (tmp_path / "video4linux" / "video4").mkdir(parents=True)
    message = explain_open_error(why)
    assert message == "no free virtual camera device (/dev/video4: another program may be using it)"


@pytest.mark.skipif(not LINUX, reason="needs the v4l2loopback backend")
def test_named_v4l2loopback_device_that_cannot_be_used() -> None:
    assert not Path("/dev/video63").exists()
    message = open_error(backend="v4l2loopback", device="/dev/video63")
    assert message.startswith("virtual camera device /dev/video63 does not exist")
    assert "modprobe v4l2loopback" in message
    message = open_error(backend="v4l2loopback", device="/dev/null")
    assert message.startswith("/dev/null is not a v4l2loopback virtual camera")


@pytest.mark.parametrize(
    "why",
    [  # pyvirtualcam's messages for a device another program holds
        "Device /dev/video2 could not be opened: Device or resource busy",
        "Device /dev/video2 is not a video output device.",
        "Virtual camera device /dev/video2 could not be configured: Device or resource busy",
    ],
)
def test_busy_v4l2loopback_device_is_named(why: str) -> None:
    message = explain_open_error(f"'v4l2loopback' backend: {why}", "/dev/video2")
    assert "/dev/video2" in message and "another program may be using it" in message


@pytest.mark.parametrize(
    ("why", "expected"),
    [
        ("OBS Virtual Camera device not found! Did you install OBS?", "install OBS Studio"),
        ("OBS Virtual Camera is not installed in your system. [...]", "install OBS Studio"),
        ("virtual camera output could not be started", "may be using it"),
    ],
)
def test_obs_errors_say_what_to_do(register, why: str, expected: str) -> None:
    register("obs", error=why)
    message = open_error(backend="obs")
    assert expected in message
    if expected == "install OBS Studio":
        assert "start its virtual camera once" in message


def test_other_open_errors_are_one_line(register) -> None:
    register(error="camera unplugged")
    assert open_error(backend=TEST_BACKEND) == "cannot open the virtual camera: camera unplugged"
    message = open_error(backend="no-such-backend")
    assert message.startswith("unknown virtual camera backend 'no-such-backend'")


def test_camfx_sends_its_composited_frames_to_the_virtual_camera(register, portrait_video):
    """The whole app, in-process, with the platform's default backend replaced by the test one."""
    from camfx.app.cli import main

    default = "v4l2loopback" if sys.platform.startswith("linux") else "obs"
    recorder = register(default)
    code = main(
        [
            "--input",
            str(portrait_video),
            "--segmenter",
            "selfie",
            "--no-window",
            "--virtual-cam",
            "--max-frames",
            "20",
        ]
    )
    assert code == 0
    assert recorder.opened and recorder.opened[0]["size"] == (720, 720)
    assert len(recorder.frames) >= 1 and recorder.closed == 1
    sent = recorder.frames[-1].image
    raw = first_frame(portrait_video)
    # The corner is wall in the input: painted in what the camera received.
    assert np.abs(sent[:100, -100:].astype(int) - raw[:100, -100:]).mean() > 30
