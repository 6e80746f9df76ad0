"""Rebuild the Magenta style transfer network in Keras from a published .tflite, check it, save it.

    python scripts/rebuild_magenta_transfer.py --size 384x384 \\
        --out build/magenta_transfer.keras --saved-model build/magenta_transfer_saved_model

The model is read from --model (default: the registry's ``style-transfer`` model, found
through CAMFX_MODELS or the user cache, see camfx.models.registry) and rebuilt for --size. The check
runs real frames of portrait_720.mp4 with bundled styles through the Keras model and through
the reference: the published model at its own size, else the published model with only its
size changed (camfx.tflite.transfer). With --saved-model, the SavedModel is loaded back
with tf.saved_model.load and run, then converted with TFLiteConverter.from_saved_model and
the result checked against the reference the same way. Exit status 1 when an error exceeds
--tolerance, 2 when the model cannot be read or built.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MEDIA = Path(os.environ.get("CAMFX_SHARED", ROOT.parent / "shared")) / "media"
# The published model's own XNNPACK and reference kernels differ by up to 1e-4 on these
# frames; the rebuilt model measured 1e-4 at worst over all 27 styles.
DEFAULT_TOLERANCE = 5e-4
DEFAULT_STYLES = "starry,style3"


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.out is not None and args.out.suffix != ".keras":
        parser.error("--out must name a .keras file (use --saved-model for a SavedModel)")
    if args.tflite_out is not None and args.saved_model is None:
        parser.error("--tflite-out needs --saved-model (it is that SavedModel's conversion)")
    # TF is slow to import and noisy: after argument errors, and with its C++ logs quieted
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    from camfx.convert.magenta import (
        TransferModelError,
        build_transfer_model,
        compare_with_tflite,
        reference_tflite,
        save_saved_model,
        tflite_from_saved_model,
    )
    from camfx.errors import CamfxError
    from camfx.models import registry as models
    from camfx.models.style import bundled_styles
    from camfx.tflite.graph import op_counts
    from camfx.tflite.runner import TransferRunner
    from camfx.tflite.transfer import parse_size
    from camfx_eval.frames import load_frames

    try:
        height, width = parse_size(args.size)
        path = args.model or models.locate("style-transfer")
        if path is None:
            raise ValueError(
                "no style transfer model installed: give --model FILE, set CAMFX_MODELS to "
                "a models folder (e.g. ../shared/models) or run `camfx models fetch`"
            )
        styles = bundled_styles()
        names = list(styles) if args.styles == "all" else args.styles.split(",")
        unknown = [n for n in names if n not in styles]
        if unknown:
            raise ValueError(f"unknown styles {unknown}; bundled: {', '.join(styles)}")
        start = time.perf_counter()
        model = build_transfer_model(path, (height, width))
        built_s = time.perf_counter() - start
        reference = reference_tflite(path, height, width)
        frames = load_frames(args.video, height, width, args.frames)
    except (OSError, ValueError, CamfxError, TransferModelError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"built {model.name} from {path} at {height}x{width} in {built_s:.2f} s")
    print(f"{model.count_params()} parameters, {len(model.layers)} layers")
    bottlenecks = {name: styles[name].bottleneck for name in names}

    def check(label: str, run: Callable[..., Any]) -> bool:
        """Every style's errors against the reference; False if any is over tolerance."""
        start = time.perf_counter()
        results = {
            name: compare_with_tflite(run, reference, frames, bottleneck)
            for name, bottleneck in bottlenecks.items()
        }
        worst = max(r.max_abs for r in results.values())
        mean = float(np.mean([r.mean_abs for r in results.values()]))
        for name, result in results.items():
            print(f"  {name:12s} {result}")
        ok = worst <= args.tolerance
        print(
            f"{label}: max {worst:.2e}, mean {mean:.2e} over {len(frames)} frames x "
            f"{len(results)} styles ({time.perf_counter() - start:.1f} s) "
            f"{'OK' if ok else f'FAIL (tolerance {args.tolerance:g})'}"
        )
        return ok

    ok = check("keras vs published", model)

    if args.out is not None:
        import keras

        args.out.parent.mkdir(parents=True, exist_ok=True)
        model.save(args.out)
        reloaded = keras.models.load_model(args.out)
        same = np.array_equal(
            np.asarray(reloaded([frames[0], bottlenecks[names[0]]])),
            np.asarray(model([frames[0], bottlenecks[names[0]]])),
        )
        ok &= same
        print(f"wrote {args.out}; reloaded gives {'the same' if same else 'DIFFERENT'} output")

    if args.saved_model is not None:
        start = time.perf_counter()
        save_saved_model(model, args.saved_model)
        print(f"wrote SavedModel {args.saved_model} in {time.perf_counter() - start:.1f} s")
        serving = tf.saved_model.load(str(args.saved_model)).signatures["serving_default"]

        def run_saved(content: np.ndarray, bottleneck: np.ndarray) -> np.ndarray:
            outputs = serving(
                content_image=tf.constant(content), style_bottleneck=tf.constant(bottleneck)
            )
            return next(iter(outputs.values())).numpy()

        ok &= check("SavedModel (tf.saved_model.load) vs published", run_saved)
        start = time.perf_counter()
        converted = tflite_from_saved_model(args.saved_model)
        print(
            f"converted with TFLiteConverter.from_saved_model in "
            f"{time.perf_counter() - start:.1f} s: {len(converted) / 1e6:.2f} MB, ops "
            + ", ".join(f"{k} {v}" for k, v in sorted(op_counts(converted).items()))
        )
        if args.tflite_out is not None:
            args.tflite_out.write_bytes(converted)
            print(f"wrote {args.tflite_out}")
        ok &= check("converted .tflite vs published", TransferRunner(converted))
    return 0 if ok else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model", type=Path, help="transfer .tflite (default: the registry's style-transfer)"
    )
    parser.add_argument("--size", default="384x384", help="HEIGHTxWIDTH, multiples of 4")
    parser.add_argument("--out", type=Path, help="write the Keras model here (.keras)")
    parser.add_argument("--saved-model", type=Path, help="export a SavedModel into this folder")
    parser.add_argument(
        "--tflite-out", type=Path, help="with --saved-model: also write its plain conversion"
    )
    parser.add_argument(
        "--styles", default=DEFAULT_STYLES, help="bundled styles to check with, or 'all'"
    )
    parser.add_argument("--video", type=Path, default=MEDIA / "portrait_720.mp4")
    parser.add_argument("--frames", type=int, default=3, help="frames taken from the video")
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE)
    return parser


if __name__ == "__main__":
    sys.exit(main())
