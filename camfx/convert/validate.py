"""Does the converted model still give the right answers? Run both and compare.

The TensorFlow model (a :class:`Source`) and its TFLite conversion get the same inputs;
outputs are paired by name (the TFLite signature keeps the source's output names). Per
output: max and mean absolute error, and by task PSNR (images: outputs in [0, ``peak``])
or IoU of the label maps (segmentation: argmax over classes, or > 0.5 for one channel).
:func:`check` fails loudly, one line naming the output and the figure past its limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from ai_edge_litert.interpreter import Interpreter

if TYPE_CHECKING:  # the metrics below also serve scripts/benchmark_models.py, without TF
    from camfx.convert.sources import Source

TASKS = ("generic", "image", "segmentation")

# Default limits per quantization mode, from what each mode costs on real networks
# (README, "Convert your own model"): a float32 conversion must be exact up to rounding.
LIMITS: dict[str, dict[str, float]] = {
    "none": {"max_error": 1e-3, "min_psnr": 60.0, "min_iou": 0.99},
    "float16": {"max_error": 5e-2, "min_psnr": 40.0, "min_iou": 0.97},
    "dynamic": {"max_error": float("inf"), "min_psnr": 28.0, "min_iou": 0.93},
    "int8": {"max_error": float("inf"), "min_psnr": 24.0, "min_iou": 0.90},
}


class ValidationError(AssertionError):
    """The converted model is too far from the TensorFlow model."""


@dataclass
class OutputError:
    name: str
    max_abs: float = 0.0
    mean_abs: float = 0.0
    psnr: float | None = None
    iou: float | None = None


@dataclass
class Report:
    task: str
    samples: int = 0
    outputs: dict[str, OutputError] = field(default_factory=dict)

    def lines(self) -> list[str]:
        rows = [f"validation on {self.samples} input(s), task {self.task}:"]
        for e in self.outputs.values():
            extra = "" if e.psnr is None else f", PSNR {e.psnr:.1f} dB"
            extra += "" if e.iou is None else f", IoU {e.iou:.4f}"
            rows.append(f"  {e.name}: max |err| {e.max_abs:.3g}, mean {e.mean_abs:.3g}{extra}")
        return rows


class TFLiteRunner:
    """A .tflite model called by input name through its signature."""

    def __init__(self, model: bytes, threads: int = 2) -> None:
        self._interpreter = Interpreter(model_content=model, num_threads=threads)
        self._runner = self._interpreter.get_signature_runner()

    def __call__(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return self._runner(**inputs)


def compare(
    source: Source,
    model: bytes,
    samples: Iterable[dict[str, np.ndarray]],
    task: str = "generic",
    peak: float = 1.0,
) -> Report:
    """Both models on every sample; errors pooled over all samples."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}: choose one of {', '.join(TASKS)}")
    tflite = TFLiteRunner(model)
    pairs: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    count = 0
    for sample in samples:
        expected = source.run([sample[n] for n in source.input_names])
        got = tflite(sample)
        missing = sorted(set(expected) - set(got))
        if missing:
            raise ValidationError(f"TFLite model lacks output(s) {missing}; it has {sorted(got)}")
        for name, value in expected.items():
            pairs.setdefault(name, []).append((value, got[name]))
        count += 1
    if not count:
        raise ValueError("no validation samples")
    report = Report(task, count)
    for name, values in pairs.items():
        report.outputs[name] = _errors(name, values, task, peak)
    return report


def _errors(name: str, pairs: list[tuple[np.ndarray, np.ndarray]], task: str,
            peak: float) -> OutputError:
    diffs = np.concatenate([np.abs(a.astype(np.float64) - b).ravel() for a, b in pairs])
    result = OutputError(name, float(diffs.max()), float(diffs.mean()))
    if task == "image":
        result.psnr = psnr_of(diffs, peak)
    elif task == "segmentation":
        result.iou = float(np.mean([label_iou(labels_of(a), labels_of(b)) for a, b in pairs]))
    return result


def labels_of(output: np.ndarray) -> np.ndarray:
    """Class scores -> label map (argmax), or one probability channel -> mask."""
    return output.argmax(-1) if output.shape[-1] > 1 else (output[..., 0] > 0.5)


def psnr_of(differences: np.ndarray, peak: float = 1.0) -> float:
    mse = float(np.mean(np.square(differences, dtype=np.float64)))
    return float("inf") if mse == 0 else float(10 * np.log10(peak**2 / mse))


def label_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Mean IoU over the classes present in either label map."""
    scores = []
    for label in np.union1d(np.unique(a), np.unique(b)):
        in_a, in_b = a == label, b == label
        scores.append(np.logical_and(in_a, in_b).sum() / np.logical_or(in_a, in_b).sum())
    return float(np.mean(scores))


def check(report: Report, mode: str, limits: dict[str, float] | None = None) -> None:
    """Raise :class:`ValidationError` naming the first output past a limit."""
    limit = {**LIMITS[mode], **(limits or {})}
    for e in report.outputs.values():
        if e.max_abs > limit["max_error"]:
            raise ValidationError(
                f"{mode} model output {e.name!r} is off by up to {e.max_abs:.3g} "
                f"(limit {limit['max_error']:.3g}): the conversion changed the model"
            )
        if e.psnr is not None and e.psnr < limit["min_psnr"]:
            raise ValidationError(
                f"{mode} model output {e.name!r} has PSNR {e.psnr:.1f} dB against "
                f"TensorFlow (limit {limit['min_psnr']:.0f} dB)"
            )
        if e.iou is not None and e.iou < limit["min_iou"]:
            raise ValidationError(
                f"{mode} model output {e.name!r} labels agree at IoU {e.iou:.3f} with "
                f"TensorFlow (limit {limit['min_iou']:.2f})"
            )


def random_samples(source: Source, count: int = 4, seed: int = 0) -> Iterator[dict]:
    """Inputs in [0, 1) for models without a dataset; real data is the better check."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        yield {
            spec.name: rng.random(spec.shape.as_list(), np.float32)
            for spec in source.inputs
        }
