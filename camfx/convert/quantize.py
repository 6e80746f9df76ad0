"""Convert a :class:`Source` to TFLite, unquantized or quantized, and the data int8 needs.

Modes, as in the TensorFlow Lite post-training quantization guide:

- ``none``: float32 weights and activations, the reference;
- ``dynamic``: int8 weights, float activations (about 4x smaller, no data needed);
- ``float16``: float16 weights, dequantized on a CPU, run natively by GPU delegates;
- ``int8``: int8 weights and activations, calibrated on a representative dataset; inputs
  and outputs stay float32 so the app feeds the same tensors to every variant (as the
  published int8 style models do).

A representative dataset is a function returning an iterator of ``{input name: array}``;
the helpers below build them from image folders, videos, and (for the two-input style
transfer network) content frames paired with style bottlenecks computed by the style
prediction model from style pictures, as the Magenta conversion does.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np
import tensorflow as tf

from camfx.convert.sources import Source
from camfx.io.capture import IMAGE_SUFFIXES, spread_frames
from camfx.vision.imaging import cover

MODES = ("none", "dynamic", "float16", "int8")

Sample = dict[str, np.ndarray]
Dataset = Callable[[], Iterator[Sample]]


class QuantizeError(ValueError):
    """A conversion that cannot run as asked; the message says what to change."""


def convert(
    source: Source,
    mode: str = "none",
    representative: Dataset | None = None,
    allow_float_ops: bool = False,
    float_ops: Sequence[str] = (),
) -> bytes:
    """The TFLite flatbuffer of ``source`` in quantization ``mode``.

    ``float_ops`` (int8 only) names builtin ops to keep in float, e.g. ``RSQRT``: ops that
    XNNPACK cannot run in int8 fall back to slow reference kernels, and float there can be
    both faster and closer to the float model (measured on the Magenta network, README).
    """
    if mode not in MODES:
        raise QuantizeError(f"unknown quantization {mode!r}: choose one of {', '.join(MODES)}")
    if float_ops and mode != "int8":
        raise QuantizeError("--float-ops applies to int8 only")
    with source.saved_model() as folder:
        converter = tf.lite.TFLiteConverter.from_saved_model(str(folder))
        _configure(converter, source, mode, representative, allow_float_ops or bool(float_ops))
        try:
            if float_ops:
                return _selectively_quantized(converter, source, representative, float_ops)
            return converter.convert()
        except Exception as exc:
            hint = " (try --allow-float-ops)" if mode == "int8" and not allow_float_ops else ""
            line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise QuantizeError(f"conversion to {mode} failed: {line}{hint}") from exc


def _configure(converter, source: Source, mode: str, representative: Dataset | None,
               allow_float_ops: bool) -> None:
    if mode != "none":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if mode == "int8":
        if representative is None:
            raise QuantizeError(
                "int8 needs a representative dataset: give --representative with a folder "
                "of images or a video like what the model will see"
            )
        converter.representative_dataset = _positional(representative, source.input_names)
        if not allow_float_ops:
            # Every op in int8, or a clear failure: a silent float island costs the speed
            # int8 is chosen for.
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]


def _selectively_quantized(converter, source: Source, representative: Dataset,
                           float_ops: Sequence[str]) -> bytes:
    """int8 except ``float_ops``, through TensorFlow's quantization debugger denylist."""
    first = list(itertools.islice(representative(), 2))  # the debugger runs these once
    debugger = tf.lite.experimental.QuantizationDebugger(
        converter=converter,
        debug_dataset=_positional(lambda: iter(first), source.input_names),
        debug_options=tf.lite.experimental.QuantizationDebugOptions(
            denylisted_ops=[op.upper() for op in float_ops]
        ),
    )
    return debugger.get_nondebug_quantized_model()


def _positional(dataset: Dataset, names: Sequence[str]) -> Callable[[], Iterator[list]]:
    """The converter's calibrator takes inputs in the concrete function's order."""

    def generate() -> Iterator[list[np.ndarray]]:
        for sample in dataset():
            missing = [n for n in names if n not in sample]
            if missing:
                raise QuantizeError(f"representative sample lacks input(s) {missing}")
            yield [sample[n] for n in names]

    return generate


# -- where frames come from ------------------------------------------------------------


def read_frames(path: Path, count: int) -> list[np.ndarray]:
    """Up to ``count`` BGR pictures: every image in a folder (sorted), or frames spread
    evenly through a video (so a calibration sees the whole clip, not its first second)."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        frames = [f for f in (cv2.imread(str(p)) for p in files[:count]) if f is not None]
    else:
        frames = spread_frames(path, count)
    if not frames:
        raise QuantizeError(f"no images or video frames could be read from {path}")
    return frames


def image_input(
    frame_bgr: np.ndarray, size: tuple[int, int], mean: float = 0.0, std: float = 255.0
) -> np.ndarray:
    """One frame as a model input [1, H, W, 3]: scaled to cover (H, W), RGB,
    ``(pixel - mean) / std`` (mean 0, std 255 gives [0, 1]; 127.5, 127.5 gives [-1, 1])."""
    h, w = size
    rgb = cv2.cvtColor(cover(frame_bgr, (w, h)), cv2.COLOR_BGR2RGB).astype(np.float32)
    return ((rgb - mean) / std)[None]


def image_dataset(
    frames: Sequence[np.ndarray], name: str, size: tuple[int, int],
    mean: float = 0.0, std: float = 255.0,
) -> Dataset:
    """One-input models (segmenters, the style prediction network)."""
    inputs = [image_input(f, size, mean, std) for f in frames]
    return lambda: ({name: x} for x in inputs)


def style_transfer_dataset(
    content_frames: Sequence[np.ndarray],
    bottlenecks: Sequence[np.ndarray],
    content_name: str,
    bottleneck_name: str,
    size: tuple[int, int],
) -> Dataset:
    """Each content frame with each style in turn, so every style's range is calibrated."""
    contents = [image_input(f, size) for f in content_frames]
    styles = [np.asarray(b, np.float32).reshape(1, 1, 1, -1) for b in bottlenecks]

    def generate() -> Iterator[Sample]:
        for content, style in zip(contents, itertools.cycle(styles)):
            yield {content_name: content, bottleneck_name: style}

    return generate


def style_bottlenecks(style_pictures: Iterable[Path], predict_model: Path) -> list[np.ndarray]:
    """Bottlenecks of style pictures, from the style prediction network (.tflite)."""
    from camfx.models.runtime import load_model
    from camfx.models.style import StylePredictor

    predictor = StylePredictor(load_model(predict_model, threads=2, device="cpu"))
    pictures = [p for p in style_pictures if p.suffix.lower() in IMAGE_SUFFIXES]
    images = [(p, cv2.imread(str(p))) for p in sorted(pictures)]
    unreadable = [str(p) for p, image in images if image is None]
    if unreadable:
        raise QuantizeError(f"cannot read style picture(s): {', '.join(unreadable)}")
    if not images:
        raise QuantizeError("no style pictures given for the representative dataset")
    return [predictor.bottleneck(image) for _, image in images]
