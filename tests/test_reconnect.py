"""A camera that vanishes mid-run and comes back, injected through the capture layer."""

from __future__ import annotations

import itertools
import threading
import time

import numpy as np
import pytest

from camfx.core.effects import Effect
from camfx.core.frames import FrameSource
from camfx.core.pipeline import open_pipeline
from camfx.errors import CamfxError
from camfx.io.capture import ReconnectingSource
from camfx.models.segmentation import create_segmenter
from camfx.models.style import create_stylizer, resolve_style
from tests.conftest import MEDIA, read_video_frames


class FakeCamera(FrameSource):
    """Real frames at a camera's pace, then nothing: unplugged after `count` frames."""

    def __init__(self, frames: list[np.ndarray], count: int) -> None:
        self._frames, self._left = frames, count
        self.live, self.fps, self.frame_count = True, 30.0, None
        self.frame_size = (frames[0].shape[1], frames[0].shape[0])

    def read(self):
        if self._left == 0:
            return None
        self._left -= 1
        time.sleep(1 / self.fps)
        return self._frames[self._left % len(self._frames)]


@pytest.fixture(scope="module")
def frames():
    return read_video_frames(MEDIA / "guitar_320.mp4", every=20)[:10]


def test_camera_lost_then_back_in_another_size(frames, monkeypatch):
    monkeypatch.setattr(ReconnectingSource, "BACKOFF", (0.05, 0.1))
    big = [np.ascontiguousarray(np.pad(f, ((0, 40), (0, 80), (0, 0)))) for f in frames]
    plan = itertools.chain(
        [
            FakeCamera(frames, 20),  # first plug: 20 frames, then unplugged
            CamfxError("camera 0 could not be opened"),  # still away
            CamfxError("camera 0 could not be opened"),
            FakeCamera(big, 600),  # back, in another mode (for as long as the test needs)
        ],
        # Then away for good: the plan never runs dry (a StopIteration in the capture
        # thread is a worker error, raised by the pipeline however early the test leaves).
        itertools.repeat(CamfxError("camera 0 could not be opened")),
    )

    def open_device():
        step = next(plan)
        if isinstance(step, Exception):
            raise step
        return step

    source = ReconnectingSource(open_device)
    effect = Effect(
        create_segmenter("selfie", device="cpu"),
        create_stylizer(resolve_style("starry"), device="cpu"),
    )
    statuses, sizes = set(), []
    with source, open_pipeline(source, effect) as pipeline:
        deadline = time.monotonic() + 20
        for out in pipeline.frames():
            statuses.add(source.status)
            if out is not None:
                sizes.append(out.image.shape[:2])
            # Live drops frames when the machine is busy: stop at the first frame of the
            # camera that came back, not after a count of frames it may never deliver.
            if time.monotonic() > deadline or (sizes and sizes[-1] == (360, 400)):
                break
    assert "camera lost, retrying" in statuses
    assert source.reconnects == 1 and source.status is None
    assert sizes[0] == (320, 320) and sizes[-1] == (360, 400)
    assert set(sizes) == {(320, 320), (360, 400)}


def test_waiting_for_a_lost_camera_does_not_block_shutdown():
    def open_device():
        if not hasattr(open_device, "opened"):
            open_device.opened = True
            return FakeCamera([np.zeros((48, 64, 3), np.uint8)], 3)
        raise CamfxError("camera 0 could not be opened")

    source = ReconnectingSource(open_device)
    got = []
    reader = threading.Thread(target=lambda: got.extend(source.read() for _ in range(4)))
    reader.start()
    time.sleep(0.5)  # three frames, then it waits for the camera
    assert source.status == "camera lost, retrying"
    started = time.monotonic()
    source.interrupt()
    reader.join(timeout=5)
    assert not reader.is_alive() and time.monotonic() - started < 1.0
    assert got[-1] is None
