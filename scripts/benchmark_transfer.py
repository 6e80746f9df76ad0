"""Latency of the published and the rewritten style transfer models, as a Markdown table.

    CAMFX_MODELS=../shared/models python scripts/benchmark_transfer.py

For each size: the published fp16 and int8 models (at a size other than their own 384x384,
with only the size changed: that is the published network at that size), and both
rewritten with every rewrite (camfx.tflite.transfer; the fp16 one computes in fp32).
LiteRT Interpreter (XNNPACK) with 2 threads, on a real frame; each cell is the median over
--turns turns of the median of --runs invokes, the models of one size measured in turns so
that load from other processes falls on all of them alike. The ratio is against the
published fp16 model at the same size, measured in the same run. Measures only: no
pass/fail.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from camfx.models.style import bundled_styles
from camfx.tflite.runner import TransferRunner
from camfx.tflite.transfer import REWRITES, parse_size, rewrite_transfer_model
from camfx_eval.frames import load_frames

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CAMFX_SHARED", ROOT.parent / "shared"))
MODELS = Path(os.environ.get("CAMFX_MODELS", SHARED / "models"))
FP16 = "style_transfer_f16_384.tflite"
INT8 = "style_transfer_quantized_384.tflite"
ROWS = (
    ("published fp16", FP16, ()),
    ("published int8", INT8, ()),
    ("optimized fp32 (from fp16)", FP16, REWRITES),
    ("optimized int8", INT8, REWRITES),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=Path, default=MODELS)
    parser.add_argument("--video", type=Path, default=SHARED / "media" / "portrait_720.mp4")
    parser.add_argument("--sizes", default="384x384,256x256,216x384")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--turns", type=int, default=3)
    args = parser.parse_args()

    sizes = [parse_size(s) for s in args.sizes.split(",")]
    sources = {name: (args.models / name).read_bytes() for name in (FP16, INT8)}
    bottleneck = bundled_styles()["starry"].bottleneck
    table: dict[str, dict[tuple[int, int], float]] = {label: {} for label, _, _ in ROWS}
    for size in sizes:
        runners = {
            label: TransferRunner(_model(sources[src], size, rw), args.threads)
            for label, src, rw in ROWS
        }
        frame = load_frames(args.video, *size, 1)[0]
        times: dict[str, list[float]] = {label: [] for label in runners}
        for _ in range(args.turns):
            for label, runner in runners.items():
                times[label].append(runner.latency_ms(frame, bottleneck, runs=args.runs))
        for label, values in times.items():
            table[label][size] = float(np.median(values))

    header = " | ".join(f"{h}x{w}" for h, w in sizes)
    print(f"| model ({args.threads} threads, median ms, x published fp16) | {header} |")
    print("|---|" + "---|" * len(sizes))
    base = table[ROWS[0][0]]
    for label, cells in table.items():
        row = " | ".join(f"{cells[s]:.1f} (x{base[s] / cells[s]:.2f})" for s in sizes)
        print(f"| {label} | {row} |")


def _model(source: bytes, size: tuple[int, int], rewrites: tuple[str, ...]) -> bytes:
    """The published file itself where nothing changes, else the rewritten model."""
    if not rewrites and TransferRunner(source, 1).size == size:
        return source
    return rewrite_transfer_model(source, *size, rewrites)[0]


if __name__ == "__main__":
    main()
