"""The threaded pipeline: capture -> segment -> stylize background -> composite.

Two wirings share the same stage functions (:class:`camfx.core.effects.Effect`):

* **live** (a camera): each hand-over is a :class:`LatestSlot` where the newest
  item wins, so latency never grows. Segmentation and compositing run for each
  new frame; the slow style transfer runs at its own pace in its own thread and
  every frame is composited over the newest stylized background.
* **render** (a file): bounded queues between the threads, so every frame is
  segmented, stylized and composited exactly once and comes out in order, while
  segmentation of one frame overlaps with style transfer of the one before.

Workers never touch devices or windows; the caller pulls finished frames with
:meth:`Pipeline.frames` and sends them wherever it wants.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import numpy as np

from camfx.core.effects import Effect
from camfx.core.frames import Frame, FrameSource

T = TypeVar("T")
_END = object()  # end-of-stream marker in render queues
_POLL = 0.05  # seconds between checks of the stop flag while waiting


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
    """Running figures for the overlay and the benchmark (exponential moving averages)."""

    segment_ms: float = 0.0
    style_ms: float = 0.0
    composite_ms: float = 0.0
    captured: int = 0
    dropped: int = 0
    backgrounds: int = 0
    started_at: float = field(default_factory=time.monotonic)

    @staticmethod
    def smooth(old: float, new: float) -> float:
        return new if old == 0.0 else 0.9 * old + 0.1 * new


class Pipeline:
    """Runs the stages in threads. Use as a context manager and iterate :meth:`frames`."""

    def __init__(
        self,
        source: FrameSource,
        effect: Effect,
        live: bool | None = None,
        max_style_fps: float | None = None,
    ) -> None:
        self.source = source
        self.effect = effect
        # Live only: paint at most this often, leaving CPU to segmentation (slow machines).
        self._style_interval = 1.0 / max_style_fps if max_style_fps else 0.0
        self.live = source.live if live is None else live
        self.stats = PipelineStats()
        self._stop = threading.Event()
        self._errors: list[BaseException] = []
        self._threads: list[threading.Thread] = []
        self._source_ended = threading.Event()
        if self.live:
            self._frames: LatestSlot[Frame] = LatestSlot()
            self._segmented: LatestSlot[tuple[Frame, np.ndarray]] = LatestSlot()
            self._background: LatestSlot[Background] = LatestSlot()
            self._out: LatestSlot[OutputFrame] = LatestSlot()
            workers = [self._capture_live, self._segment_live, self._style_live]
        else:
            self._frame_q: queue.Queue = queue.Queue(maxsize=4)
            self._segmented_q: queue.Queue = queue.Queue(maxsize=4)
            self._out_q: queue.Queue = queue.Queue(maxsize=4)
            workers = [self._capture_render, self._segment_render, self._style_render]
        for work in workers:
            name = work.__name__.strip("_")
            self._threads.append(threading.Thread(target=self._guard, args=(work,), name=name))

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> Pipeline:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop every worker and wait for it (each wait is bounded by the stop flag)."""
        self._stop.set()
        self.source.interrupt()  # a capture thread may be waiting for a camera to return
        for thread in self._threads:
            if thread.is_alive():
                thread.join()

    def queue_lengths(self) -> list[int]:
        """Items waiting between the threads (render); always 0-1 per slot when live."""
        if self.live:
            return []
        return [q.qsize() for q in (self._frame_q, self._segmented_q, self._out_q)]

    def _guard(self, work) -> None:
        try:
            work()
        except BaseException as exc:  # handed to the consumer, which re-raises it
            self._errors.append(exc)
            self._stop.set()

    def _raise_worker_error(self) -> None:
        if self._errors:
            raise self._errors[0]

    # -- consumer side -----------------------------------------------------------------------
    def frames(self) -> Iterator[OutputFrame | None]:
        """Finished frames, in order. ``None`` means nothing new yet (time to serve a UI)."""
        if self.live:
            yield from self._frames_live()
        else:
            yield from self._frames_render()
        self._raise_worker_error()

    def _frames_live(self) -> Iterator[OutputFrame | None]:
        seen = 0
        while not self._stop.is_set():
            got = self._out.newer_than(seen, _POLL)
            if got is None:
                if self._source_ended.is_set():
                    return
                yield None
                continue
            seen, item = got
            yield item

    def _frames_render(self) -> Iterator[OutputFrame | None]:
        while not self._stop.is_set():
            try:
                item = self._out_q.get(timeout=_POLL)
            except queue.Empty:
                yield None
                continue
            if item is _END:
                return
            yield item

    # -- helpers for workers ---------------------------------------------------------------
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

    def _read_frame(self, index: int) -> Frame | None:
        image = self.source.read()
        if image is None:
            return None
        self.stats.captured += 1
        return Frame(index, image, time.monotonic())

    def _segment(self, frame: Frame) -> tuple[np.ndarray, float]:
        started = time.perf_counter()
        mask = self.effect.segment(frame.image)
        ms = (time.perf_counter() - started) * 1000
        self.stats.segment_ms = PipelineStats.smooth(self.stats.segment_ms, ms)
        return mask, ms

    def _paint(self, frame: Frame, mask: np.ndarray) -> Background:
        started = time.perf_counter()
        image = self.effect.background(frame.image, mask)
        ms = (time.perf_counter() - started) * 1000
        self.stats.style_ms = PipelineStats.smooth(self.stats.style_ms, ms)
        self.stats.backgrounds += 1
        return Background(image, frame.index, ms)

    def _composite(
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

    # -- render wiring: every frame, in order -----------------------------------------------
    def _capture_render(self) -> None:
        index = 0
        while not self._stop.is_set():
            frame = self._read_frame(index)
            if frame is None:
                break
            if not self._put(self._frame_q, frame):
                return
            index += 1
        self._put(self._frame_q, _END)

    def _segment_render(self) -> None:
        while (frame := self._get(self._frame_q)) is not _END:
            mask, ms = self._segment(frame)
            if not self._put(self._segmented_q, (frame, mask, ms)):
                return
        self._put(self._segmented_q, _END)

    def _style_render(self) -> None:
        while (item := self._get(self._segmented_q)) is not _END:
            frame, mask, segment_ms = item
            background = self._paint(frame, mask)
            if not self._put(self._out_q, self._composite(frame, mask, background, segment_ms)):
                return
        self._put(self._out_q, _END)

    # -- live wiring: newest wins --------------------------------------------------------------
    def _capture_live(self) -> None:
        index = 0
        while not self._stop.is_set():
            frame = self._read_frame(index)
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
            version, frame = got
            self.stats.dropped += version - seen - 1
            seen = version
            mask, ms = self._segment(frame)
            self._segmented.put((frame, mask))
            background = self._wait_for_background()
            if background is None:
                return
            self._out.put(self._composite(frame, mask, background, ms))

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
            self._background.put(self._paint(frame, mask))
            rest = self._style_interval - (time.monotonic() - started)
            if rest > 0:
                self._stop.wait(rest)
