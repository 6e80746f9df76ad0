"""Check a rebuilt or converted transfer network against the published .tflite: the
largest and mean difference of their outputs on the same frames and style."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from camfx.tflite.graph import load_model_object
from camfx.tflite.runner import TransferRunner
from camfx.tflite.transfer import content_input, rewrite_transfer_model


@dataclass(frozen=True)
class Comparison:
    max_abs: float
    mean_abs: float

    def __str__(self) -> str:
        return f"max {self.max_abs:.2e}, mean {self.mean_abs:.2e}"


def reference_tflite(tflite_path: str | Path, height: int, width: int) -> bytes:
    """The published model, at H x W with only its size changed when H x W is not its own."""
    data = Path(tflite_path).read_bytes()
    graph = load_model_object(data)
    if graph.shape(content_input(graph))[1:3] == (height, width):
        return data
    return rewrite_transfer_model(data, height, width, ())[0]


def compare_with_tflite(
    model: keras.Model | Callable[[np.ndarray, np.ndarray], np.ndarray],
    tflite_path: str | Path | bytes,
    content: np.ndarray | Sequence[np.ndarray],
    bottleneck: np.ndarray,
) -> Comparison:
    """Largest and mean |model - tflite| over one or more content frames [1, H, W, 3].

    ``model`` is a Keras model or any ``(content, bottleneck) -> image`` callable (e.g. a
    TransferRunner of a converted model). ``tflite_path`` is the published model, resized
    to the frames' size when that differs, or a .tflite's bytes used as they are.
    """
    frames = [content] if isinstance(content, np.ndarray) else list(content)
    frames = [np.asarray(f, np.float32).reshape(1, *np.shape(f)[-3:]) for f in frames]
    _, height, width, _ = frames[0].shape
    if isinstance(tflite_path, bytes):
        data = tflite_path
    else:
        data = reference_tflite(tflite_path, height, width)
    reference = TransferRunner(data, threads=2)
    bottleneck = np.asarray(bottleneck, np.float32).reshape(1, 1, 1, -1)
    if isinstance(model, keras.Model):
        keras_model = model

        def run(frame: np.ndarray, style: np.ndarray) -> np.ndarray:
            return np.asarray(keras_model([frame, style], training=False))

    else:
        run = model
    worst, means = 0.0, []
    for frame in frames:
        diff = np.abs(np.asarray(run(frame, bottleneck), np.float64) - reference(frame, bottleneck))
        worst = max(worst, float(diff.max()))
        means.append(float(diff.mean()))
    return Comparison(worst, float(np.mean(means)))
