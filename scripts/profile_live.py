"""Where the live pipeline's CPU goes: CPU seconds per stage and per thread, per frame.

    python scripts/profile_live.py --input ../shared/media/portrait_720.mp4 --seconds 10

Runs the live pipeline as `camfx bench` does (the clip scaled to 1280x720, paced like a
30 fps camera, the default effect and segmenter) and prints, per shown frame:

* each stage's CPU ms (``time.thread_time`` around the call, in the thread that makes
  it): reading and decoding a frame, the segmenter's probability map, the mask's
  refinement, the background (clean plate, steady painting, scaling), compositing;
* each OS thread's CPU ms (``/proc/self/task``), which also counts what the stages'
  timers cannot see: the runtime's and OpenCV's own worker threads, and waiting loops.

The process's CPU seconds per wall second is `camfx bench`'s figure; this says where it
goes. On a busy machine the live pipeline drops frames and its figures per shown frame
swell; ``--every-frame`` runs the same stages in one thread on every frame of the clip
(decoded beforehand), the CPU per frame a busy machine disturbs least (run it on two
versions back to back to compare them). Figures only, no verdicts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import cv2

from camfx.app.session import RunOptions, build_effect
from camfx.core.effects import runner
from camfx.core.pipeline import open_pipeline
from camfx.io.capture import VideoCaptureSource
from camfx.models.style import resolve_style

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def thread_cpu() -> dict[str, float]:
    """CPU seconds of each OS thread of this process, by 'name:tid'."""
    named = {str(t.native_id): t.name for t in threading.enumerate()}
    seen: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            name = named.get(task.name) or (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seen[f"{name}:{task.name}"] = (int(fields[11]) + int(fields[12])) / _TICK
    return seen


class StageClock:
    """CPU seconds spent in named calls, summed over the run."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.on = False
        self.each: dict[str, list[float]] = defaultdict(list)

    def wrap(self, name: str, call):
        def timed(*args, **kwargs):
            start = time.thread_time()
            try:
                return call(*args, **kwargs)
            finally:
                if self.on:
                    spent = time.thread_time() - start
                    self.cpu[name] += spent
                    self.calls[name] += 1
                    self.each[name].append(spent)

        return timed


def profile(path: str, seconds: float, size: tuple[int, int], segmenter: str) -> None:
    options = RunOptions(input=path, device="cpu", segmenter=segmenter)
    effect = build_effect(options, resolve_style(options.style), size)
    clock = StageClock()
    effect.segmenter.probability_map = clock.wrap("segment: model(s)",
                                                  effect.segmenter.probability_map)
    effect.refiner.refine = clock.wrap("segment: refine", effect.refiner.refine)
    runner.halve = clock.wrap("segment: the half-size frame", runner.halve)
    effect.background = clock.wrap("background (plate, steady painting)", effect.background)
    effect.composite = clock.wrap("composite", effect.composite)
    with VideoCaptureSource(path, live=True, size=size, fps=30.0, pace=True) as source:
        source.read = clock.wrap("capture: read + decode + scale", source.read)
        with open_pipeline(source, effect) as pipeline:
            frames, started, before = 0, None, {}
            for out in pipeline.frames():
                if out is None:
                    continue
                if started is None:  # from the first output, after the warm-up
                    started, cpu0, before = time.monotonic(), time.process_time(), thread_cpu()
                    clock.on = True
                    continue
                frames += 1
                if time.monotonic() - started >= seconds:
                    break
            wall = time.monotonic() - started
            cpu = time.process_time() - cpu0
            after = thread_cpu()
            clock.on = False
    print(f"{frames} frames in {wall:.1f} s = {frames / wall:.1f} fps; process CPU "
          f"{cpu:.2f} s = {cpu / wall:.2f} cores, {cpu * 1000 / frames:.1f} ms per shown frame")
    print("\n| stage | calls / shown frame | CPU ms per call | CPU ms per shown frame |")
    print("|---|---|---|---|")
    for name, spent in sorted(clock.cpu.items(), key=lambda kv: -kv[1]):
        calls = clock.calls[name]
        print(f"| {name} | {calls / frames:.2f} | {spent * 1000 / calls:.2f} "
              f"| {spent * 1000 / frames:.2f} |")
    print("\n| OS thread | CPU ms per shown frame |")
    print("|---|---|")
    rows = [(k, after[k] - before.get(k, 0.0)) for k in after]
    for name, spent in sorted(rows, key=lambda kv: -kv[1]):
        if spent > 0:
            print(f"| {name} | {spent * 1000 / frames:.2f} |")


def every_frame(path: str, seconds: float, size: tuple[int, int], segmenter: str) -> None:
    """Every frame in one thread, CPU per stage (decoding and scaling done beforehand)."""
    options = RunOptions(input=path, device="cpu", segmenter=segmenter)
    effect = build_effect(options, resolve_style(options.style), size)
    frames = []
    with VideoCaptureSource(path, live=False, size=size) as source:
        while len(frames) < round(seconds * source.fps) and (image := source.read()) is not None:
            frames.append(image)
    clock = StageClock()
    # Through Effect.segment, as live: the stages inside it timed where it calls them.
    effect.segmenter.probability_map = clock.wrap("segment: model(s)",
                                                  effect.segmenter.probability_map)
    effect.refiner.refine = clock.wrap("segment: refine", effect.refiner.refine)
    runner.halve = clock.wrap("segment: the half-size frame", runner.halve)
    background = clock.wrap("background (plate, steady painting)", effect.background)
    composite = clock.wrap("composite", effect.composite)
    for warm_up in frames[:3]:
        effect.segment(warm_up)
    effect.segmenter.reset()
    effect.refiner.reset()
    clock.on = True
    for image in frames:
        mask = effect.segment(image)
        composite(image, mask, background(image, mask))
    print(f"{len(frames)} frames of {path} at {size[0]}x{size[1]}, one thread, every frame; "
          f"network runs: {effect.painting.repaints}")
    print("\n| stage | CPU ms per frame, mean | median |\n|---|---|---|")
    for name, spent in sorted(clock.cpu.items(), key=lambda kv: -kv[1]):
        print(f"| {name} | {spent * 1000 / len(frames):.2f} "
              f"| {statistics.median(clock.each[name]) * 1000:.2f} |")
    print(f"| all | {sum(clock.cpu.values()) * 1000 / len(frames):.2f} | |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--input", default="../shared/media/portrait_720.mp4")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--segmenter", default=RunOptions.segmenter)
    parser.add_argument("--every-frame", action="store_true",
                        help="one thread, every frame: CPU per stage, little disturbed by load")
    parser.add_argument("--cv-threads", type=int,
                        help="OpenCV's worker threads (cv2.setNumThreads); default: its own")
    args = parser.parse_args(argv)
    if args.cv_threads:
        cv2.setNumThreads(args.cv_threads)
    if args.every_frame:
        every_frame(args.input, args.seconds, (args.width, args.height), args.segmenter)
        return 0
    profile(args.input, args.seconds, (args.width, args.height), args.segmenter)
    return 0


if __name__ == "__main__":
    sys.exit(main())
