"""`camfx bench`: this pipeline against a one-thread baseline, measured in the same run.

    camfx bench --input ../shared/media/portrait_720.mp4 --seconds 10

Three runs over the same video scaled to --width x --height:

* **naive**: one thread; segment, stylize and composite every frame in turn.
* **live**: the threaded pipeline fed like a camera (frames paced at the file's
  rate, the newest wins): shown fps, how often the background is repainted,
  capture-to-output latency.
* **render**: the threaded pipeline on every frame, in order, as fast as it goes.

It prints figures and ratios, nothing else: no pass/fail thresholds.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from camfx.app import RunOptions, build_effect
from camfx.capture import VideoCaptureSource
from camfx.errors import CamfxError
from camfx.pipeline import Pipeline, StyleEffect


@dataclass
class BenchResult:
    name: str
    frames: int
    seconds: float
    backgrounds: int
    segment_ms: list[float]
    style_ms: list[float]
    composite_ms: list[float]
    latency_ms: list[float]

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0

    @property
    def background_fps(self) -> float:
        return self.backgrounds / self.seconds if self.seconds else 0.0


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def run_naive(effect: StyleEffect, path: str, size: tuple[int, int], seconds: float) -> BenchResult:
    result = BenchResult("naive (1 thread, in turn)", 0, 0.0, 0, [], [], [], [])
    with VideoCaptureSource(path, live=False, size=size) as source:
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            image = source.read()
            if image is None:
                break
            t0 = time.perf_counter()
            mask = effect.segment(image)
            t1 = time.perf_counter()
            background = effect.background(image, mask)
            t2 = time.perf_counter()
            effect.composite(image, mask, background)
            t3 = time.perf_counter()
            result.segment_ms.append((t1 - t0) * 1000)
            result.style_ms.append((t2 - t1) * 1000)
            result.composite_ms.append((t3 - t2) * 1000)
            result.latency_ms.append((t3 - t0) * 1000)
            result.frames += 1
        result.seconds = time.perf_counter() - started
    result.backgrounds = result.frames
    return result


def run_pipeline(
    effect: StyleEffect, path: str, size: tuple[int, int], seconds: float, live: bool
) -> BenchResult:
    name = "pipeline, live (paced like a camera)" if live else "pipeline, render (every frame)"
    result = BenchResult(name, 0, 0.0, 0, [], [], [], [])
    backgrounds_seen: set[int] = set()
    with (
        VideoCaptureSource(path, live=live, size=size, pace=live) as source,
        Pipeline(source, effect) as pipeline,
    ):
        started = None
        for out in pipeline.frames():
            if out is None:
                continue
            now = time.monotonic()
            if started is None:  # measure from the first output, after the model warm-up
                started = now
                continue
            result.frames += 1
            backgrounds_seen.add(out.background_index)
            result.segment_ms.append(out.segment_ms)
            result.style_ms.append(out.style_ms)
            result.composite_ms.append(out.composite_ms)
            result.latency_ms.append((now - out.captured_at) * 1000)
            if now - started >= seconds:
                break
        result.seconds = (time.monotonic() - started) if started else 0.0
    result.backgrounds = len(backgrounds_seen)
    return result


def format_table(results: list[BenchResult], baseline: BenchResult) -> str:
    rows = [
        "| run | shown fps | x naive | backgrounds/s | segment ms | style ms "
        "| composite ms | latency ms (median) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        rows.append(
            f"| {r.name} | {r.fps:.1f} | {r.fps / baseline.fps:.2f} | {r.background_fps:.1f} "
            f"| {_median(r.segment_ms):.1f} | {_median(r.style_ms):.1f} "
            f"| {_median(r.composite_ms):.1f} | {_median(r.latency_ms):.0f} |"
        )
    return "\n".join(rows)


def run_bench(
    path: str | None, seconds: float, size: tuple[int, int], segmenter: str = "deeplab"
) -> list[BenchResult]:
    if not path:
        raise CamfxError("give a video to measure with: camfx bench --input VIDEO.mp4")
    effect = build_effect(RunOptions(input=path, device="cpu", segmenter=segmenter))
    print(
        f"camfx bench: {path} scaled to {size[0]}x{size[1]}, {seconds:.0f} s per run, "
        f"segmenter {segmenter}"
    )
    naive = run_naive(effect, path, size, seconds)
    live = run_pipeline(effect, path, size, seconds, live=True)
    render = run_pipeline(effect, path, size, seconds, live=False)
    results = [naive, live, render]
    print(format_table(results, naive))
    return results
