"""The threaded pipeline: capture -> segment -> stylize background -> composite.

Two small wirings over the same four stages (:class:`Stages`: read, segment, paint,
composite, each one call into :class:`camfx.core.effects.Effect`):

* :class:`LivePipeline` (a camera): each hand-over is a :class:`LatestSlot` where the
  newest item wins, so latency never grows. Segmentation and compositing run for each
  new frame; the slow style transfer runs at its own pace in its own thread and every
  frame is composited over the newest stylized background.
* :class:`RenderPipeline` (a file): bounded queues between the threads, so every frame
  is segmented, stylized and composited exactly once and comes out in order, while
  segmentation of one frame overlaps with style transfer of the one before.

:func:`open_pipeline` picks one for a source. Both are context managers; the caller
pulls finished frames with :meth:`Pipeline.frames` and sends them wherever it wants
(workers never touch devices or windows). A worker's error stops the pipeline and is
raised once: from ``frames()``, or from ``close()`` / ``__exit__`` when the caller left
before reaching it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from camfx.core.effects import Effect
from camfx.core.frames import Background, Frame, FrameSource, OutputFrame
from camfx.models.segmentation import Lightens

log = logging.getLogger(__name__)

T = TypeVar("T")
_END = object()  # end-of-stream marker in render queues
_POLL = 0.05  # seconds between checks of the stop flag while waiting


class LatestSlot(Generic[T]):
    """Holds only the newest item; readers wait for one newer than what they saw."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: T | None = None
        self._version = 0

    def put(self, item: T) -> None:
        with self._cond:
            self._item = item
            self._version += 1
            self._cond.notify_all()

    def newer_than(self, version: int, timeout: float) -> tuple[int, T] | None:
        with self._cond:
            if self._version <= version:
                self._cond.wait(timeout)
            if self._version <= version or self._item is None:
                return None
            return self._version, self._item

    def latest(self) -> T | None:
        with self._cond:
            return self._item


@dataclass
class PipelineStats:
    """Running figures for the overlay (exponential moving averages) and soak runs.

    Each figure is written by one stage only (see :class:`Stages`), so by one thread.
    """

    segment_ms: float = 0.0
    style_ms: float = 0.0
    composite_ms: float = 0.0
    captured: int = 0

    @staticmethod
    def smooth(old: float, new: float) -> float:
        return new if old == 0.0 else 0.9 * old + 0.1 * new


class SegmentPace:
    """Live: keeps the segment stage up with the camera. When its time a frame (smoothed)
    passes the camera's frame interval, frames are being dropped: a segmenter that
    :class:`~camfx.models.segmentation.Lightens` is switched to its light mode. It goes
    back once it has stayed a while and its time with the saved work added back fits
    the interval with a margin. A full mode that falls behind again before it has lasted
    as long as that stay doubles the next stay (up to half a minute): the full mode's
    cost estimated from the light one's was too low, and each try drops frames."""

    MARGIN = 0.85  # of the frame interval: the full mode must fit in this much again
    STAY = 30  # frames: the light mode's shortest stay
    LONGEST_STAY = 30 * 30

    def __init__(self, segmenter: object, fps: float) -> None:
        self.segmenter = segmenter if isinstance(segmenter, Lightens) else None
        self.frame_ms = 1000.0 / fps if fps > 0 else float("inf")
        self.frames = self.light_frames = 0  # segmented, and of them in the light mode
        self.stay = self.STAY  # frames the light mode stays at least, this time
        self._in_mode = self.LONGEST_STAY  # frames since the last switch
        self.stop()  # a stream starts in the full mode

    def update(self, segment_ms: float) -> None:
        """After each frame segmented: `segment_ms`, the stage's smoothed ms a frame."""
        lightens = self.segmenter
        if lightens is None:
            return
        self.frames += 1
        self.light_frames += lightens.light
        self._in_mode += 1
        if not lightens.light and segment_ms > self.frame_ms:
            short_lived = self._in_mode < self.stay
            self.stay = min(2 * self.stay, self.LONGEST_STAY) if short_lived else self.STAY
            lightens.light, self._in_mode = True, 0
        elif (lightens.light and self._in_mode >= self.stay
              and segment_ms + lightens.light_saves_ms < self.MARGIN * self.frame_ms):
            lightens.light, self._in_mode = False, 0

    @property
    def light(self) -> bool:
        """Whether the segmenter is in its light mode now."""
        return self.segmenter is not None and self.segmenter.light

    def stop(self) -> None:
        """Back to the full mode (the segmenter may serve a render next)."""
        if self.segmenter is not None:
            self.segmenter.light = False


class Stages:
    """The four steps both wirings run, each timed into :class:`PipelineStats`."""

    def __init__(self, source: FrameSource, effect: Effect, stats: PipelineStats) -> None:
        self.source, self.effect, self.stats = source, effect, stats

    def read(self, index: int) -> Frame | None:
        image = self.source.read()
        if image is None:
            return None
        self.stats.captured += 1
        captured_at = time.monotonic()
        # Halved here, just read (in this thread's cache): the segment thread, the
        # busiest, is spared the first read of the whole frame.
        return Frame(index, image, captured_at, self.effect.half_of(image))

    def segment(self, frame: Frame) -> tuple[np.ndarray, float]:
        started = time.perf_counter()
        mask = self.effect.segment(frame.image, frame.half)
        ms = (time.perf_counter() - started) * 1000
        self.stats.segment_ms = PipelineStats.smooth(self.stats.segment_ms, ms)
        return mask, ms

    def paint(self, frame: Frame, mask: np.ndarray) -> Background:
        started = time.perf_counter()
        image = self.effect.background(frame.image, mask)
        ms = (time.perf_counter() - started) * 1000
        self.stats.style_ms = PipelineStats.smooth(self.stats.style_ms, ms)
        return Background(image, frame.index, ms)

    def composite(
        self, frame: Frame, mask: np.ndarray, background: Background, segment_ms: float
    ) -> OutputFrame:
        started = time.perf_counter()
        image = self.effect.composite(frame.image, mask, background.image)
        ms = (time.perf_counter() - started) * 1000
        self.stats.composite_ms = PipelineStats.smooth(self.stats.composite_ms, ms)
        return OutputFrame(
            index=frame.index,
            image=image,
            mask=mask,
            captured_at=frame.captured_at,
            background_index=background.source_index,
            segment_ms=segment_ms,
            style_ms=background.style_ms,
            composite_ms=ms,
            frame=frame.image,
        )


class Pipeline(ABC):
    """Worker threads over :class:`Stages`. Use as a context manager; iterate :meth:`frames`.

    Subclasses give the workers (:meth:`_workers`, started by ``__enter__``) and the
    consumer's side (:meth:`_outputs`).
    """

    live: bool
    pace: SegmentPace | None = None  # live: the segmenter's light mode (SegmentPace)

    def __init__(self, source: FrameSource, effect: Effect) -> None:
        self.source = source
        self.effect = effect
        self.stats = PipelineStats()
        self.stages = Stages(source, effect, self.stats)
        self._stop = threading.Event()
        self._errors: list[BaseException] = []
        self._error_raised = False
        self._threads: list[threading.Thread] = []

    @abstractmethod
    def _workers(self) -> list[Callable[[], None]]:
        """The thread bodies; each one's name (without underscores) names its thread."""

    @abstractmethod
    def _outputs(self) -> Iterator[OutputFrame | None]:
        """Finished frames until the end of the input or a stop."""

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> Pipeline:
        try:
            for work in self._workers():
                name = work.__name__.strip("_")
                thread = threading.Thread(target=self._guard, args=(work,), name=name)
                self._threads.append(thread)
                thread.start()
        except BaseException:
            # Ctrl+C while the threads start: no __exit__ follows a failed __enter__, and a
            # capture thread left running would read a source its owner is closing.
            self._stop_threads()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        try:
            self.close()
        except BaseException:
            if exc_type is None:
                raise
            # The caller's own exception (Ctrl+C, a sink's error) is the one to report.
            log.warning("pipeline worker failed while stopping", exc_info=True)

    def close(self) -> None:
        """Stop every worker, wait for it (each wait is bounded by the stop flag) and raise
        a worker's error that the caller has not seen yet."""
        self._stop_threads()
        self._raise_worker_error()

    def _stop_threads(self) -> None:
        """Set the stop flag and wait for every started thread, even when Ctrl+C interrupts
        a wait: the source is closed after this (FFmpeg aborts the process when a capture
        is released while a thread is still decoding from it)."""
        self._stop.set()
        self.source.interrupt()  # a capture thread may be waiting for a camera to return
        interrupted: BaseException | None = None
        for thread in self._threads:
            while thread.is_alive() and thread is not threading.current_thread():
                try:
                    thread.join()
                except BaseException as exc:  # KeyboardInterrupt, SystemExit from a signal
                    interrupted = interrupted or exc
        if interrupted is not None:
            raise interrupted

    def queue_lengths(self) -> list[int]:
        """Items waiting between the threads (render); none when live (slots hold one)."""
        return []

    def _guard(self, work: Callable[[], None]) -> None:
        try:
            work()
        except BaseException as exc:  # handed to the consumer, which re-raises it
            self._errors.append(exc)
            self._stop.set()

    def _raise_worker_error(self) -> None:
        if self._errors and not self._error_raised:
            self._error_raised = True
            raise self._errors[0]

    # -- consumer side -----------------------------------------------------------------------
    def frames(self) -> Iterator[OutputFrame | None]:
        """Finished frames, in order. ``None`` means nothing new yet (time to serve a UI)."""
        yield from self._outputs()
        self._raise_worker_error()


class RenderPipeline(Pipeline):
    """Every frame, in order: bounded queues between capture, segment and style threads."""

    live = False

    def __init__(self, source: FrameSource, effect: Effect) -> None:
        super().__init__(source, effect)
        self._frame_q: queue.Queue = queue.Queue(maxsize=4)
        self._segmented_q: queue.Queue = queue.Queue(maxsize=4)
        self._out_q: queue.Queue = queue.Queue(maxsize=4)

    def _workers(self) -> list[Callable[[], None]]:
        return [self._capture_render, self._segment_render, self._style_render]

    def queue_lengths(self) -> list[int]:
        return [q.qsize() for q in (self._frame_q, self._segmented_q, self._out_q)]

    def _outputs(self) -> Iterator[OutputFrame | None]:
        while not self._stop.is_set():
            try:
                item = self._out_q.get(timeout=_POLL)
            except queue.Empty:
                yield None
                continue
            if item is _END:
                return
            yield item

    def _put(self, q: queue.Queue, item: object) -> bool:
        while not self._stop.is_set():
            try:
                q.put(item, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def _get(self, q: queue.Queue) -> object:
        while not self._stop.is_set():
            try:
                return q.get(timeout=_POLL)
            except queue.Empty:
                continue
        return _END

    def _capture_render(self) -> None:
        index = 0
        while not self._stop.is_set():
            frame = self.stages.read(index)
            if frame is None:
                break
            if not self._put(self._frame_q, frame):
                return
            index += 1
        self._put(self._frame_q, _END)

    def _segment_render(self) -> None:
        while (frame := self._get(self._frame_q)) is not _END:
            mask, ms = self.stages.segment(frame)
            if not self._put(self._segmented_q, (frame, mask, ms)):
                return
        self._put(self._segmented_q, _END)

    def _style_render(self) -> None:
        while (item := self._get(self._segmented_q)) is not _END:
            frame, mask, segment_ms = item
            background = self.stages.paint(frame, mask)
            out = self.stages.composite(frame, mask, background, segment_ms)
            if not self._put(self._out_q, out):
                return
        self._put(self._out_q, _END)


class LivePipeline(Pipeline):
    """Newest wins: latest-frame slots between the threads; the painter runs at its own
    pace (at most ``max_style_fps`` times a second, leaving CPU to segmentation on slow
    machines) and every frame taken is composited over the newest painting.

    Compositing happens as the caller takes a frame (in its thread), not in the
    segment thread: segmenting the next frame, the busiest stage, overlaps it, and a
    frame the caller never takes is never composited."""

    live = True

    def __init__(
        self, source: FrameSource, effect: Effect, max_style_fps: float | None = None
    ) -> None:
        super().__init__(source, effect)
        self._style_interval = 1.0 / max_style_fps if max_style_fps else 0.0
        effect.painting.pace(max_style_fps)  # its waits are counted in the frames it sees
        self._frames: LatestSlot[Frame] = LatestSlot()
        self._segmented: LatestSlot[tuple[Frame, np.ndarray]] = LatestSlot()
        self._background: LatestSlot[Background] = LatestSlot()
        self._out: LatestSlot[tuple[Frame, np.ndarray, float]] = LatestSlot()
        self._source_ended = threading.Event()
        self.pace: SegmentPace = SegmentPace(effect.segmenter, source.fps)

    def _workers(self) -> list[Callable[[], None]]:
        return [self._capture_live, self._segment_live, self._style_live]

    def _stop_threads(self) -> None:
        super()._stop_threads()
        self.pace.stop()

    def _outputs(self) -> Iterator[OutputFrame | None]:
        seen = 0
        while not self._stop.is_set():
            got = self._out.newer_than(seen, _POLL)
            if got is None:
                if self._source_ended.is_set():
                    return
                yield None
                continue
            seen, (frame, mask, segment_ms) = got
            background = self._wait_for_background()
            if background is None:
                return
            yield self.stages.composite(frame, mask, background, segment_ms)

    def _capture_live(self) -> None:
        index = 0
        while not self._stop.is_set():
            frame = self.stages.read(index)
            if frame is None:
                break
            self._frames.put(frame)
            index += 1
        self._source_ended.set()

    def _segment_live(self) -> None:
        seen = 0
        while not self._stop.is_set():
            got = self._frames.newer_than(seen, _POLL)
            if got is None:
                continue
            seen, frame = got
            mask, ms = self.stages.segment(frame)
            self.pace.update(self.stats.segment_ms)
            self._segmented.put((frame, mask))
            self._out.put((frame, mask, ms))

    def _wait_for_background(self) -> Background | None:
        """The newest background; at start-up, wait for the first one to be painted."""
        while not self._stop.is_set():
            background = self._background.latest()
            if background is not None:
                return background
            self._background.newer_than(0, _POLL)
        return None

    def _style_live(self) -> None:
        seen = 0
        while not self._stop.is_set():
            got = self._segmented.newer_than(seen, _POLL)
            if got is None:
                continue
            seen, (frame, mask) = got
            started = time.monotonic()
            self._background.put(self.stages.paint(frame, mask))
            rest = self._style_interval - (time.monotonic() - started)
            if rest > 0:
                self._stop.wait(rest)


def open_pipeline(
    source: FrameSource,
    effect: Effect,
    live: bool | None = None,
    max_style_fps: float | None = None,
) -> Pipeline:
    """The wiring for `source`: live for a live source (or ``live=True``), else render.
    ``max_style_fps`` caps the live painter; a render paints every frame."""
    if source.live if live is None else live:
        return LivePipeline(source, effect, max_style_fps)
    return RenderPipeline(source, effect)
