"""Soak run: tens of thousands of frames through the pipeline, watching for leaks.

    CAMFX_MODELS=../shared/models python scripts/soak.py --frames 20000 --mode render
    CAMFX_MODELS=../shared/models python scripts/soak.py --frames 20000 --mode live

Loops a video file (default ../shared/media/guitar_320.mp4) through the real capture
path, the real models and the pipeline, with no window, and prints every N frames:
resident memory, thread count, queue lengths; at the end the growth after warm-up,
and (render) whether every frame came out once, in order.
"""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path

import numpy as np

from camfx.app.session import RunOptions, build_effect
from camfx.core.frames import FrameSource
from camfx.core.pipeline import open_pipeline
from camfx.io.capture import VideoCaptureSource
from camfx.models.style import resolve_style


class LoopingSource(FrameSource):
    """A video file played over and over, `total` frames in all."""

    def __init__(self, path: Path, total: int, live: bool) -> None:
        self._path, self._left, self._live = path, total, live
        self._source = self._open()
        self.live, self.fps = live, self._source.fps
        self.frame_count, self.frame_size = total, self._source.frame_size

    def _open(self) -> VideoCaptureSource:
        return VideoCaptureSource(str(self._path), live=self._live, pace=self._live)

    def read(self) -> np.ndarray | None:
        if self._left == 0:
            return None
        image = self._source.read()
        if image is None:  # the end of one pass: start again
            self._source.close()
            self._source = self._open()
            image = self._source.read()
        self._left -= 1
        return image

    def close(self) -> None:
        self._source.close()


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, default=Path("../shared/media/guitar_320.mp4"))
    parser.add_argument("--frames", type=int, default=20000)
    parser.add_argument("--mode", choices=("render", "live"), default="render")
    parser.add_argument("--segmenter", default="selfie")
    parser.add_argument("--every", type=int, default=2000, help="print figures this often")
    args = parser.parse_args()

    live = args.mode == "live"
    source = LoopingSource(args.input, args.frames, live)
    options = RunOptions(input=str(args.input), device="cpu", segmenter=args.segmenter)
    effect = build_effect(options, resolve_style(options.style), source.frame_size)
    samples: list[tuple[int, float, int]] = []
    out_of_order = repeated = 0
    last_index = -1
    shown = 0
    started = time.monotonic()
    print("| frames | seconds | RSS MB | threads | queues |\n|---|---|---|---|---|")
    with source, open_pipeline(source, effect) as pipeline:
        for out in pipeline.frames():
            if out is None:
                continue
            if out.index == last_index:
                repeated += 1
            elif out.index < last_index or (not live and out.index != last_index + 1):
                out_of_order += 1
            last_index = out.index
            shown += 1
            if shown % args.every == 0:
                rss, threads = rss_mb(), threading.active_count()
                samples.append((shown, rss, threads))
                print(
                    f"| {shown} | {time.monotonic() - started:.0f} | {rss:.1f} | {threads} "
                    f"| {pipeline.queue_lengths()} |",
                    flush=True,
                )
    warm = samples[min(1, len(samples) - 1)]
    end = samples[-1]
    print(
        f"\nmode {args.mode}: {shown} frames shown of {args.frames} captured "
        f"({pipeline.stats.captured}), in {time.monotonic() - started:.0f} s"
    )
    print(
        f"memory after warm-up ({warm[0]} frames) {warm[1]:.1f} MB -> {end[1]:.1f} MB at "
        f"{end[0]}: growth {end[1] - warm[1]:+.1f} MB; threads {warm[2]} -> {end[2]}"
    )
    in_order = repeated == out_of_order == 0 and shown == args.frames
    verdict = "" if live else f"; every frame once, in order: {in_order}"
    print(f"frames repeated: {repeated}; out of order: {out_of_order}{verdict}")


if __name__ == "__main__":
    main()
