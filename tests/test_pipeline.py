"""The threaded pipeline on real footage through the real capture path."""

from __future__ import annotations

import threading
import time

import pytest

from camfx.app.session import FpsMeter, overlay_lines
from camfx.core.effects import Effect
from camfx.core.frames import FrameSource
from camfx.core.pipeline import Pipeline, SegmentPace, open_pipeline
from camfx.io.capture import VideoCaptureSource
from camfx.models.segmentation import DEFAULT_SEGMENTER, create_segmenter
from camfx.models.style import create_stylizer, resolve_style
from tests.conftest import MEDIA

GUITAR = str(MEDIA / "guitar_320.mp4")


class FirstFrames(FrameSource):
    """A real source cut short, to keep tests quick."""

    def __init__(self, source: FrameSource, count: int) -> None:
        self._source, self._left = source, count
        self.live, self.fps, self.frame_count = source.live, source.fps, count

    def read(self):
        if self._left == 0:
            return None
        self._left -= 1
        return self._source.read()

    def close(self):
        self._source.close()


@pytest.fixture(scope="module")
def effect():
    return Effect(
        create_segmenter("deeplab", device="cpu"),
        create_stylizer(resolve_style("starry"), device="cpu"),
    )


def pipeline_threads():
    names = {
        "capture_live",
        "segment_live",
        "style_live",
        "capture_render",
        "segment_render",
        "style_render",
    }
    return [t for t in threading.enumerate() if t.name in names]


def collect(pipeline: Pipeline):
    outputs = []
    for out in pipeline.frames():
        if out is not None:
            outputs.append((out, time.monotonic()))
    return outputs


def test_render_mode_processes_every_frame_once_in_order(effect):
    source = FirstFrames(VideoCaptureSource(GUITAR, live=False), 24)
    with source, open_pipeline(source, effect) as pipeline:
        outputs = collect(pipeline)
    assert [o.index for o, _ in outputs] == list(range(24))
    # Every frame got a background painted from itself, not a stale one.
    assert [o.background_index for o, _ in outputs] == list(range(24))
    assert all(o.image.shape == (320, 320, 3) for o, _ in outputs)
    assert not pipeline_threads()


class SlowPainter(Effect):
    """The real effect, whose painting takes `delay` seconds longer: style transfer on a
    machine slower than the camera, made here rather than hoped for."""

    def __init__(self, effect: Effect, delay: float) -> None:
        super().__init__(effect.segmenter, effect.stylizer, steady=False)
        self.delay = delay

    def background(self, image, mask):
        time.sleep(self.delay)
        return super().background(image, mask)


def test_live_mode_composites_every_frame_over_the_newest_painting_while_painting_lags(effect):
    # 90 frames at the file's 30 fps: three seconds "from a camera"; a painting takes
    # 0.4 s more than it does, so style transfer falls behind whatever this machine is.
    source = FirstFrames(VideoCaptureSource(GUITAR, live=True, pace=True), 90)
    with source, open_pipeline(source, SlowPainter(effect, 0.4)) as pipeline:
        outputs = collect(pipeline)
    indices = [o.index for o, _ in outputs]
    assert indices == sorted(set(indices))  # newest wins, never backwards or repeated
    painted = [o.background_index for o, _ in outputs]
    # Segmentation and compositing don't wait for the painter: the newest painting is
    # reused for the frames in between, and never one from a frame not yet shown.
    assert len(set(painted)) < len(outputs) / 2
    assert painted == sorted(painted)
    assert all(b <= i for b, i in zip(painted, indices, strict=True))
    assert not pipeline_threads()


class WatchedCompositor(Effect):
    """The real effect, noting the thread of each composite."""

    def __init__(self, effect: Effect) -> None:
        super().__init__(effect.segmenter, effect.stylizer)
        self.composited_in: list[str] = []

    def composite(self, image, mask, background):
        self.composited_in.append(threading.current_thread().name)
        return super().composite(image, mask, background)


def test_live_mode_composites_in_the_callers_thread_only_the_frames_it_takes(effect):
    # The segment thread, the busiest, goes on to the next frame while the caller
    # composites; a caller slower than the camera leaves frames it never takes, and
    # those are not composited at all.
    watched = WatchedCompositor(effect)
    source = FirstFrames(VideoCaptureSource(GUITAR, live=True, pace=True), 45)
    taken = 0
    with source, open_pipeline(source, watched) as pipeline:
        for out in pipeline.frames():
            if out is not None:
                taken += 1
                time.sleep(0.1)  # a caller at 10 fps, the camera at 30
    assert set(watched.composited_in) == {threading.current_thread().name}
    assert len(watched.composited_in) == taken
    assert taken < 30  # frames were dropped, and none of them composited
    assert not pipeline_threads()


def test_leaving_early_stops_and_joins_every_thread(effect):
    source = VideoCaptureSource(GUITAR, live=True, pace=True)
    with source, open_pipeline(source, effect) as pipeline:
        for out in pipeline.frames():
            if out is not None:
                break
    assert not pipeline_threads()


class BrokenSegmenter:
    def probability_map(self, image, half=None):
        raise RuntimeError("segmenter exploded")


@pytest.mark.parametrize("live", [False, True])
def test_a_worker_error_reaches_the_consumer_and_stops_the_pipeline(effect, live):
    broken = Effect(BrokenSegmenter(), effect.stylizer)
    source = VideoCaptureSource(GUITAR, live=live, pace=live)
    with (
        pytest.raises(RuntimeError, match="segmenter exploded"),
        source,
        open_pipeline(source, broken) as pipeline,
    ):
        collect(pipeline)
    assert not pipeline_threads()


def test_live_background_repaints_can_be_capped_for_slow_machines(effect):
    source = FirstFrames(VideoCaptureSource(GUITAR, live=True, pace=True), 60)  # 2 s
    with source, open_pipeline(source, effect, max_style_fps=4) as pipeline:
        outputs = collect(pipeline)
    assert effect.painting.painting.delay == 2  # its waits, in frames, shortened to match
    painted = {o.background_index for o, _ in outputs}
    assert len(painted) < len(outputs)  # the frames in between reuse the last painting
    assert len(painted) <= 4 * 2 + 2  # at most 4 a second, plus the start


def wait_for(condition, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.mark.parametrize("live", [False, True])
def test_a_worker_error_surfaces_from_close_when_the_consumer_never_drains(effect, live):
    # The consumer does not read frames() to the end (a caller that stops early, a UI
    # paused): the error must still reach it, from __exit__, and only once.
    broken = Effect(BrokenSegmenter(), effect.stylizer)
    source = VideoCaptureSource(GUITAR, live=live, pace=live)
    pipeline = open_pipeline(source, broken)
    assert pipeline.live is live
    with pytest.raises(RuntimeError, match="segmenter exploded"), source, pipeline:
        wait_for(lambda: not pipeline_threads())  # the failure stopped every worker
    assert not pipeline_threads()
    pipeline.close()  # already said: closing again raises nothing


def test_a_consumer_error_is_not_replaced_by_a_worker_error_at_close(effect):
    broken = Effect(BrokenSegmenter(), effect.stylizer)
    source = VideoCaptureSource(GUITAR, live=False)
    with pytest.raises(KeyError), source, open_pipeline(source, broken):
        wait_for(lambda: not pipeline_threads())
        raise KeyError("the caller's own failure")
    assert not pipeline_threads()


@pytest.mark.parametrize("live", [True, False])
def test_ctrl_c_while_the_threads_start_leaves_none_running(effect, live, monkeypatch):
    """No __exit__ follows a failed __enter__: a capture thread left running read from a
    source being released (FFmpeg aborted the process: seen with Ctrl+C at start-up)."""
    start = threading.Thread.start
    started = []

    def start_then_interrupt(thread):
        start(thread)
        started.append(thread)
        if len(started) == 2:
            raise KeyboardInterrupt

    source = VideoCaptureSource(GUITAR, live=live)
    monkeypatch.setattr(threading.Thread, "start", start_then_interrupt)
    with source, pytest.raises(KeyboardInterrupt), open_pipeline(source, effect, live=live):
        pytest.fail("the pipeline should not have been entered")
    monkeypatch.undo()
    assert len(started) == 2 and not any(t.is_alive() for t in started)


def test_ctrl_c_during_the_wait_for_the_threads_still_waits_for_all(effect, monkeypatch):
    join = threading.Thread.join
    interrupted = []

    def join_interrupted_once(thread, timeout=None):
        if not interrupted:
            interrupted.append(thread)
            raise KeyboardInterrupt
        join(thread, timeout)

    source = VideoCaptureSource(GUITAR, live=True)
    with source:
        pipeline = open_pipeline(source, effect, live=True).__enter__()
        time.sleep(0.3)
        monkeypatch.setattr(threading.Thread, "join", join_interrupted_once)
        with pytest.raises(KeyboardInterrupt):
            pipeline.close()
        monkeypatch.undo()
        assert interrupted and not pipeline_threads()


def test_a_segmenter_that_falls_behind_the_camera_is_lightened_until_it_would_keep_up():
    segmenter = create_segmenter(DEFAULT_SEGMENTER, device="cpu")
    pace = SegmentPace(segmenter, fps=25.0)  # 40 ms a frame
    segmenter.light_saves_ms = 5.0
    pace.update(38.0)
    assert not segmenter.light  # keeping up
    pace.update(44.0)
    assert segmenter.light  # frames dropped: light
    for _ in range(pace.STAY - 1):
        pace.update(28.0)  # 28 + 5 fits in 85% of 40 ms, but the light mode stays its time
        assert segmenter.light
    pace.update(30.0)
    assert segmenter.light  # 30 + 5 would not fit: the modes would take turns
    pace.update(28.0)
    assert not segmenter.light  # full again
    assert (pace.frames, pace.light_frames) == (pace.STAY + 3, pace.STAY + 1)
    pace.update(50.0)
    pace.stop()
    assert not segmenter.light
    pair = create_segmenter("selfie-pair", device="cpu")  # no light mode: left alone
    SegmentPace(pair, fps=25.0).update(500.0)
    assert not hasattr(pair, "light")


def test_a_full_mode_that_falls_behind_again_soon_doubles_the_light_modes_next_stay():
    segmenter = create_segmenter(DEFAULT_SEGMENTER, device="cpu")
    pace = SegmentPace(segmenter, fps=25.0)
    segmenter.light_saves_ms = 5.0
    stays = []
    for _ in range(8):  # the estimate fits, the full mode does not: it falls behind at once
        pace.update(44.0)
        assert segmenter.light
        stays.append(pace.stay)
        while segmenter.light:
            pace.update(20.0)
    assert stays[:3] == [pace.STAY, 2 * pace.STAY, 4 * pace.STAY]
    assert stays[-1] == pace.LONGEST_STAY  # at most half a minute between tries
    for _ in range(pace.LONGEST_STAY):  # the full mode keeps up for as long as that ...
        pace.update(20.0)
    pace.update(44.0)
    assert segmenter.light and pace.stay == pace.STAY  # ... and the stays start over


def test_live_mode_lightens_a_segmenter_slower_than_the_camera_and_restores_it_at_the_end(
    effect,
):
    lightened = Effect(create_segmenter(DEFAULT_SEGMENTER, device="cpu"), effect.stylizer)
    # A camera at 2000 fps: no segmenter keeps up with 0.5 ms a frame.
    source = FirstFrames(VideoCaptureSource(GUITAR, live=True, pace=True, fps=2000.0), 40)
    with source, open_pipeline(source, lightened) as pipeline:
        outputs = collect(pipeline)
        assert outputs and pipeline.pace.light_frames > 0
        assert pipeline.pace.light  # what the window's overlay says: "segment .. ms (light)"
        meter = FpsMeter()
        assert "ms (light)" in overlay_lines(pipeline, meter, outputs[-1][0])[1]
    assert not lightened.segmenter.light  # a render with it next gets the full mode
