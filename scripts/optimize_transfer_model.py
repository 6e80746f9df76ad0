"""Write the style transfer model rewritten for one input size, check it, and time it.

    python scripts/optimize_transfer_model.py \\
        --model ../shared/models/style_transfer_f16_384.tflite --size 216x384 --out out.tflite

The check runs real frames (``portrait_720.mp4`` and the pictures in the media folder) with
bundled styles through the new model and through the reference for that size: the published
model itself at its own size (384x384), else the published model with only its size changed.
A float model passes when no output value differs by more than 1e-4, an int8 model when the
outputs are identical; the exit status is 1 otherwise. Latency: LiteRT Interpreter (XNNPACK),
median of --runs invokes after warm-up, models measured in turns in the same process.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from camfx.models.style import bundled_styles
from camfx.tflite.graph import is_quantized, op_counts
from camfx.tflite.runner import TransferRunner, max_mean_abs_diff
from camfx.tflite.transfer import REWRITES, parse_size, rewrite_transfer_model
from camfx_eval.frames import load_frames

ROOT = Path(__file__).resolve().parent.parent
MEDIA = Path(os.environ.get("CAMFX_SHARED", ROOT.parent / "shared")) / "media"
FLOAT_TOLERANCE = 1e-4
DEFAULT_STYLES = "starry,wave,scream,kandinsky,style3"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        height, width = parse_size(args.size)
        rewrites = [r for r in args.rewrites.split(",") if r]
        source = args.model.read_bytes()
        start = time.perf_counter()
        data, counts = rewrite_transfer_model(source, height, width, rewrites)
        built_s = time.perf_counter() - start
        reference, reference_name = _reference(source, args.model, height, width)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"wrote {args.out} ({height}x{width}) in {built_s:.2f} s")
    print("rewrites: " + ", ".join(f"{name} x{n}" for name, n in counts.items()))
    print("ops: " + ", ".join(f"{name} {n}" for name, n in sorted(op_counts(data).items())))

    ok = _check(data, reference, reference_name, height, width, args)
    _time(args.model, data, reference, reference_name, height, width, args)
    return 0 if ok else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="published transfer .tflite")
    parser.add_argument("--size", required=True, help="HEIGHTxWIDTH, multiples of 4")
    parser.add_argument("--out", type=Path, required=True, help="where to write the new model")
    parser.add_argument(
        "--rewrites",
        default=",".join(REWRITES),
        help=f"comma-separated, from {','.join(REWRITES)} (empty: size only)",
    )
    parser.add_argument("--styles", default=DEFAULT_STYLES, help="bundled styles to check with")
    parser.add_argument("--media", type=Path, default=MEDIA, help="folder of test footage")
    parser.add_argument("--frames", type=int, default=4, help="frames taken from the video")
    parser.add_argument("--runs", type=int, default=10, help="timed runs per model (median)")
    parser.add_argument("--threads", type=int, default=2)
    return parser


def _reference(source: bytes, path: Path, height: int, width: int) -> tuple[bytes, str]:
    """The published model where it already has this size, else it with the size changed."""
    runner = TransferRunner(source)
    if runner.size == (height, width):
        return source, f"published {path.name}"
    data, _ = rewrite_transfer_model(source, height, width, ())
    return data, f"{path.name}, size only"


def _frames(media: Path, height: int, width: int, count: int) -> list[np.ndarray]:
    frames = load_frames(media / "portrait_720.mp4", height, width, count)
    for picture in sorted(media.glob("*.jpg")):
        frames += load_frames(picture, height, width)
    return frames


def _check(
    data: bytes,
    reference: bytes,
    reference_name: str,
    height: int,
    width: int,
    args: argparse.Namespace,
) -> bool:
    styles = bundled_styles()
    frames = _frames(args.media, height, width, args.frames)
    new, ref = TransferRunner(data, args.threads), TransferRunner(reference, args.threads)
    int8 = is_quantized(data)
    worst, means = 0.0, []
    for name in args.styles.split(","):
        largest, mean = max_mean_abs_diff(ref, new, frames, styles[name].bottleneck)
        worst, means = max(worst, largest), [*means, mean]
    tolerance = 0.0 if int8 else FLOAT_TOLERANCE
    ok = worst <= tolerance
    print(
        f"vs {reference_name} on {len(frames)} frames x {len(means)} styles: "
        f"max abs diff {worst:.3g}, mean abs diff {np.mean(means):.3g} "
        f"({'identical' if worst == 0 else 'within'} {tolerance:g}: {'ok' if ok else 'FAILED'})"
    )
    return ok


def _time(
    path: Path,
    data: bytes,
    reference: bytes,
    reference_name: str,
    height: int,
    width: int,
    args: argparse.Namespace,
) -> None:
    published = TransferRunner(path, args.threads)
    runners = {f"published {path.name}": published}
    if published.size != (height, width):
        runners[reference_name] = TransferRunner(reference, args.threads)
    runners["optimized"] = TransferRunner(data, args.threads)
    baseline = list(runners)[-2]  # the reference at this size
    frames = {r.size: _frames(args.media, *r.size, 1)[0] for r in runners.values()}
    bottleneck = bundled_styles()["starry"].bottleneck
    times: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(3):  # in turns, so that load from other processes hits all alike
        for name, runner in runners.items():
            times[name].append(runner.latency_ms(frames[runner.size], bottleneck, args.runs))
    base = float(np.median(times[baseline]))
    print(
        f"latency ({args.threads} threads, median of {args.runs} runs, 3 turns; "
        f"speed-up against {baseline}):"
    )
    for name, values in times.items():
        size = "{}x{}".format(*runners[name].size)
        median = float(np.median(values))
        print(f"  {name:<50} {size:>9} {median:8.1f} ms  x{base / median:.2f}")


if __name__ == "__main__":
    sys.exit(main())
