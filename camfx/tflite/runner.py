"""Run a Magenta transfer network on its own, for measurements: benchmarks, the
optimizer's and the conversion workflow's checks that two models paint alike."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from camfx.tflite.graph import interpreter
from camfx.tflite.transfer.network import BOTTLENECK_SIZE, CONTENT_CHANNELS


class TransferRunner:
    """A transfer model on the CPU (LiteRT Interpreter, XNNPACK), inputs found by shape."""

    def __init__(self, model: bytes | Path, threads: int = 2) -> None:
        data = Path(model).read_bytes() if isinstance(model, Path) else model
        self._interpreter = interpreter(data, threads)
        self._interpreter.allocate_tensors()
        details = self._interpreter.get_input_details()
        self._content = next(d for d in details if d["shape"][-1] == CONTENT_CHANNELS)
        self._style = next(d for d in details if d["shape"][-1] == BOTTLENECK_SIZE)
        self._output = self._interpreter.get_output_details()[0]
        self.size = (int(self._content["shape"][1]), int(self._content["shape"][2]))

    def __call__(self, content: np.ndarray, bottleneck: np.ndarray) -> np.ndarray:
        self._set(content, bottleneck)
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._output["index"])

    def latency_ms(
        self, content: np.ndarray, bottleneck: np.ndarray, runs: int = 10, warmup: int = 3
    ) -> float:
        """Median wall time of one invoke, after ``warmup`` runs."""
        self._set(content, bottleneck)
        times = []
        for i in range(warmup + runs):
            start = time.perf_counter()
            self._interpreter.invoke()
            if i >= warmup:
                times.append(time.perf_counter() - start)
        return float(np.median(times) * 1e3)

    def _set(self, content: np.ndarray, bottleneck: np.ndarray) -> None:
        content = np.asarray(content, np.float32).reshape(self._content["shape"])
        bottleneck = np.asarray(bottleneck, np.float32).reshape(self._style["shape"])
        self._interpreter.set_tensor(self._content["index"], content)
        self._interpreter.set_tensor(self._style["index"], bottleneck)



def max_mean_abs_diff(
    a: TransferRunner, b: TransferRunner, frames: Sequence[np.ndarray], bottleneck: np.ndarray
) -> tuple[float, float]:
    """Largest and mean absolute difference of two models' outputs over ``frames``."""
    diffs = [np.abs(a(f, bottleneck).astype(np.float64) - b(f, bottleneck)) for f in frames]
    return float(max(d.max() for d in diffs)), float(np.mean([d.mean() for d in diffs]))
