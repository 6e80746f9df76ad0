"""Compare .tflite variants of one model: size, load, first run, latency by threads, error.

    CAMFX_MODELS=../shared/models python scripts/benchmark_models.py \\
        --reference out/transfer_none.tflite out/transfer_*.tflite \\
        ../shared/models/style_transfer_f16_384.tflite \\
        ../shared/models/style_transfer_quantized_384.tflite \\
        --task image --markdown out/table.md --chart out/chart.png

Every model gets the same real inputs: frames of --media (videos spread evenly, images
as they are) scaled to cover its input, and for a second 100-float input the bundled
style bottlenecks in turn. Latency is the median of --runs invokes after one warm-up,
per thread count, through LiteRT's Interpreter (XNNPACK) as camfx runs models; the
models are measured in turns so that load from other processes falls on all alike.
Error is against --reference on the same inputs: PSNR for pictures in [0, 1] (``image``),
mean IoU of the label maps (``segmentation``), max/mean |error| always. Measures only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from ai_edge_litert.interpreter import Interpreter

from camfx.convert.validate import label_iou, labels_of, psnr_of
from camfx.io.capture import spread_frames
from camfx.models.style import bundled_styles
from camfx.vision.imaging import cover

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CAMFX_SHARED", ROOT.parent / "shared"))


@dataclass
class Result:
    path: Path
    size_mb: float
    load_ms: float = 0.0
    first_run_ms: float = 0.0
    latency_ms: dict[int, float] = field(default_factory=dict)
    max_error: float | None = None
    mean_error: float | None = None
    psnr: float | None = None
    iou: float | None = None


class Bench:
    """One model loaded per thread count, fed float32 inputs in its input order."""

    def __init__(self, path: Path, threads: int) -> None:
        started = time.perf_counter()
        self.interpreter = Interpreter(model_path=str(path), num_threads=threads)
        self.interpreter.allocate_tensors()
        self.load_ms = (time.perf_counter() - started) * 1e3
        self.inputs = self.interpreter.get_input_details()
        self.output = self.interpreter.get_output_details()[0]

    def run(self, values: list[np.ndarray]) -> np.ndarray:
        for detail, value in zip(self.inputs, values, strict=True):
            self.interpreter.set_tensor(detail["index"], value)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.output["index"])


def media_frames(paths: list[Path], per_video: int) -> list[np.ndarray]:
    return [frame for path in paths for frame in spread_frames(path, per_video)]


def inputs_for(bench: Bench, frames: list[np.ndarray], scale: tuple[float, float]) -> list:
    """One input list per frame: the frame (RGB, (pixel - mean) / std) and a style."""
    mean, std = scale
    styles = [s.bottleneck for s in bundled_styles().values()]
    samples = []
    for i, frame in enumerate(frames):
        values = []
        for detail in bench.inputs:
            shape = tuple(detail["shape"])
            if shape[-1] == 3:
                rgb = cv2.cvtColor(cover(frame, (shape[2], shape[1])), cv2.COLOR_BGR2RGB)
                values.append(((rgb.astype(np.float32) - mean) / std)[None])
            else:
                values.append(styles[i % len(styles)].reshape(shape).astype(np.float32))
        samples.append(values)
    return samples


def measure(paths: list[Path], samples_for, threads: list[int], runs: int,
            turns: int) -> dict[Path, Result]:
    results = {p: Result(p, p.stat().st_size / 1e6) for p in paths}
    # Load and first run each in a fresh state: with many interpreters alive, loading
    # slows down several times over (measured: 100 -> 650 ms), which is not the model.
    for p in paths:
        loads = []
        for _ in range(3):
            bench = Bench(p, threads[0])
            loads.append(bench.load_ms)
        results[p].load_ms = statistics.median(loads)
        first = samples_for(bench)[0]
        started = time.perf_counter()
        bench.run(first)
        results[p].first_run_ms = (time.perf_counter() - started) * 1e3
        del bench
    for n in threads:
        benches = {p: Bench(p, n) for p in paths}
        timings: dict[Path, list[float]] = {p: [] for p in paths}
        for _ in range(turns):
            for p, bench in benches.items():
                sample = samples_for(bench)[0]
                bench.run(sample)  # warm-up
                times = []
                for _ in range(runs):
                    started = time.perf_counter()
                    bench.run(sample)
                    times.append((time.perf_counter() - started) * 1e3)
                timings[p].append(statistics.median(times))
        for p, values in timings.items():
            results[p].latency_ms[n] = statistics.median(values)
        del benches
    return results


def compare(results: dict[Path, Result], reference: Path, samples_for, task: str) -> None:
    ref = Bench(reference, 2)
    ref_samples = samples_for(ref)
    expected = [ref.run(s).copy() for s in ref_samples]
    for path, result in results.items():
        bench = Bench(path, 2)
        if [tuple(d["shape"]) for d in bench.inputs] != [tuple(d["shape"]) for d in ref.inputs]:
            continue  # another input size: not comparable pixel for pixel
        got = [bench.run(s).copy() for s in samples_for(bench)]
        diffs = np.concatenate([np.abs(a - b).ravel() for a, b in zip(expected, got, strict=True)])
        result.max_error, result.mean_error = float(diffs.max()), float(diffs.mean())
        if task == "image":
            psnrs = [psnr_of(a - b) for a, b in zip(expected, got, strict=True)]
            result.psnr = float(np.mean(psnrs))
        elif task == "segmentation":
            result.iou = float(np.mean(
                [label_iou(labels_of(a), labels_of(b)) for a, b in zip(expected, got, strict=True)]
            ))


def markdown(results: dict[Path, Result], threads: list[int], reference: Path | None) -> str:
    head = ["model", "MB", "load ms", "first run ms", *(f"{n} thr ms" for n in threads)]
    metric = any(r.psnr is not None for r in results.values())
    head += ["PSNR dB" if metric else "IoU", "max err", "mean err"] if reference else []
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results.values():
        cells = [r.path.name, f"{r.size_mb:.2f}", f"{r.load_ms:.1f}", f"{r.first_run_ms:.1f}",
                 *(f"{r.latency_ms[n]:.1f}" for n in threads)]
        if reference:
            score = r.psnr if metric else r.iou
            cells += ["-" if score is None else ("ref" if r.path == reference else
                                                 f"{score:.2f}" if metric else f"{score:.4f}"),
                      "-" if r.max_error is None else f"{r.max_error:.3g}",
                      "-" if r.mean_error is None else f"{r.mean_error:.3g}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def score_label(r: Result, reference: Path | None) -> str:
    if r.path == reference:
        return "reference"
    if r.psnr is not None:
        return "identical" if not np.isfinite(r.psnr) else f"{r.psnr:.1f} dB"
    return "" if r.iou is None else f"IoU {r.iou:.3f}"


def chart(results: dict[Path, Result], threads: list[int], path: Path, title: str,
          reference: Path | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r.path.stem for r in results.values()]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 0.55 * len(names) + 2.2))
    height = 0.8 / len(threads)
    for i, n in enumerate(threads):
        y = np.arange(len(names)) + i * height
        left.barh(y, [r.latency_ms[n] for r in results.values()], height, label=f"{n} threads")
    left.set_yticks(np.arange(len(names)) + 0.4 - height / 2, names)
    left.invert_yaxis()
    left.set_xlabel("latency, ms (median)")
    left.legend(loc="lower right", fontsize="small")
    right.barh(names, [r.size_mb for r in results.values()], color="grey")
    right.invert_yaxis()
    right.set_xlabel("size on disk, MB")
    right.set_xlim(0, 1.3 * max(r.size_mb for r in results.values()))  # room for labels
    right.set_yticks([])
    for y, r in enumerate(results.values()):
        right.text(r.size_mb, y, " " + score_label(r, reference), va="center")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="+", type=Path)
    p.add_argument("--reference", type=Path, help="the float model errors are measured against")
    p.add_argument("--task", choices=("generic", "image", "segmentation"), default="generic")
    p.add_argument("--media", type=Path, nargs="+", default=[
        SHARED / "media" / "portrait_720.mp4", SHARED / "media" / "kitchen.jpg",
        SHARED / "media" / "yoga.jpg", SHARED / "media" / "three_people.jpg"])
    p.add_argument("--frames-per-video", type=int, default=6)
    p.add_argument("--mean", type=float, default=0.0, help="input = (pixel - mean) / std")
    p.add_argument("--std", type=float, default=255.0)
    p.add_argument("--threads", default="1,2,4")
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--turns", type=int, default=3)
    p.add_argument("--markdown", type=Path)
    p.add_argument("--chart", type=Path)
    p.add_argument("--title", default="TFLite variants")
    args = p.parse_args(argv)
    threads = [int(n) for n in args.threads.split(",")]
    models = list(dict.fromkeys([*([args.reference] if args.reference else []), *args.models]))
    missing = [str(m) for m in models if not m.is_file()]
    if missing:
        p.error(f"model file(s) not found: {', '.join(missing)}")
    frames = media_frames(args.media, args.frames_per_video)
    cache: dict[tuple, list] = {}

    def samples_for(bench: Bench) -> list:
        key = tuple(tuple(d["shape"]) for d in bench.inputs)
        if key not in cache:
            cache[key] = inputs_for(bench, frames, (args.mean, args.std))
        return cache[key]

    results = measure(models, samples_for, threads, args.runs, args.turns)
    if args.reference:
        compare(results, args.reference, samples_for, args.task)
    table = markdown(results, threads, args.reference)
    print(f"{len(frames)} input frames; {os.cpu_count()} CPU cores\n")
    print(table)
    if args.markdown:
        args.markdown.write_text(table + "\n")
    if args.chart:
        chart(results, threads, args.chart, args.title, args.reference)
        print(f"\nchart: {args.chart}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
