"""The one place that loads and runs .tflite models.

LiteRT (``ai-edge-litert``) is used when installed, ``tflite-runtime`` otherwise.
On the CPU both run through the classic ``Interpreter`` with an explicit thread
count (XNNPACK). The GPU goes through LiteRT's ``CompiledModel`` with its GPU
accelerator (ai-edge-litert 2.x; 1.x, what a Raspberry Pi gets, runs on the CPU only);
when no GPU can be used the model is loaded on the CPU instead and this is said once,
in one log line.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from camfx.errors import CamfxError

log = logging.getLogger(__name__)

Device = Literal["auto", "cpu", "gpu"]
DEVICES: tuple[Device, ...] = ("auto", "cpu", "gpu")


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple[int, ...]
    dtype: np.dtype


class TFLiteModel(ABC):
    """A loaded model: its tensors and one call that runs it."""

    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    backend: str  # e.g. "litert/cpu", "litert/gpu", "tflite-runtime/cpu"

    @abstractmethod
    def run(self, *inputs: np.ndarray) -> list[np.ndarray]:
        """Run once; inputs in the model's input order, outputs in its output order."""


class InterpreterModel(TFLiteModel):
    """A model on the CPU through the classic TFLite Interpreter API."""

    def __init__(self, interpreter: Any, backend: str) -> None:
        self._interpreter = interpreter
        interpreter.allocate_tensors()
        self._in_details = interpreter.get_input_details()
        self._out_details = interpreter.get_output_details()
        self.inputs = [_info(d) for d in self._in_details]
        self.outputs = [_info(d) for d in self._out_details]
        self.backend = backend

    def run(self, *inputs: np.ndarray) -> list[np.ndarray]:
        for detail, value in zip(self._in_details, inputs, strict=True):
            self._interpreter.set_tensor(detail["index"], value)
        self._interpreter.invoke()
        # get_tensor copies, so callers may keep the result across runs
        return [self._interpreter.get_tensor(d["index"]) for d in self._out_details]


class CompiledGpuModel(TFLiteModel):
    """A model on LiteRT's GPU accelerator (CPU takes any op the GPU cannot)."""

    def __init__(self, path: Path) -> None:
        from ai_edge_litert.compiled_model import CompiledModel, _create_default_environment
        from ai_edge_litert.hardware_accelerator import HardwareAccelerator

        accel = HardwareAccelerator.GPU | HardwareAccelerator.CPU
        environment = _create_default_environment()
        try:
            self._model = CompiledModel.from_file(
                str(path), hardware_accel=accel, environment=environment
            )
        except Exception:
            environment.close()  # now, while the caller still hides its native log lines
            raise
        signature = next(iter(self._model.get_signature_list()))
        in_details = self._model.get_input_tensor_details(signature)
        out_details = self._model.get_output_tensor_details(signature)
        self.inputs = [_info_from_signature(n, d) for n, d in in_details.items()]
        self.outputs = [_info_from_signature(n, d) for n, d in out_details.items()]
        self._in_buffers = self._model.create_input_buffers(0)
        self._out_buffers = self._model.create_output_buffers(0)
        self.backend = "litert/gpu" + ("" if self._model.is_fully_accelerated() else "+cpu")

    def run(self, *inputs: np.ndarray) -> list[np.ndarray]:
        for buffer, value in zip(self._in_buffers, inputs, strict=True):
            buffer.write(np.ascontiguousarray(value))
        self._model.run_by_index(0, self._in_buffers, self._out_buffers)
        return [
            buffer.read(int(np.prod(info.shape)), info.dtype).reshape(info.shape)
            for buffer, info in zip(self._out_buffers, self.outputs, strict=True)
        ]


def _info(detail: dict[str, Any]) -> TensorInfo:
    return TensorInfo(detail["name"], tuple(int(s) for s in detail["shape"]), detail["dtype"])


def _info_from_signature(name: str, detail: dict[str, Any]) -> TensorInfo:
    return TensorInfo(name, tuple(int(s) for s in detail["shape"]), np.dtype(detail["dtype"]))


def _interpreter_class() -> tuple[Any, str]:
    """LiteRT's Interpreter, else tflite-runtime's, else a fix-it error."""
    try:
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter, "litert"
    except ImportError:
        pass
    try:
        from tflite_runtime.interpreter import Interpreter

        return Interpreter, "tflite-runtime"
    except ImportError:
        raise CamfxError(
            "no TFLite runtime is installed; run `pip install ai-edge-litert` "
            "(or `pip install tflite-runtime` where LiteRT has no wheel)"
        ) from None


@contextlib.contextmanager
def _native_stderr_to_debug_log() -> Iterator[list[str]]:
    """Catch what the C++ runtime prints on fd 2 while loading, and log it at debug level.

    The GPU probe prints a page of Vulkan/WebGPU errors on a machine without a
    GPU; the user needs one line, not that. The caught lines are also handed to
    the caller (filled in when the block ends).
    """
    caught: list[str] = []
    sys.stderr.flush()
    with tempfile.TemporaryFile() as sink:
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            yield caught
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            text = sink.read().decode(errors="replace").strip()
            caught.extend(text.splitlines())
            if text:
                log.debug("runtime said while loading:\n%s", text)


_gpu_unusable_reason: str | None = None  # remembered so the fallback is tried and said once


def _try_gpu(path: Path, asked_for_gpu: bool) -> TFLiteModel | None:
    global _gpu_unusable_reason
    if _gpu_unusable_reason is not None:
        return None
    native_log: list[str] = []
    try:
        with _native_stderr_to_debug_log() as native_log:
            return CompiledGpuModel(path)
    except ImportError:
        _gpu_unusable_reason = _missing_gpu_api_reason()
    except Exception as exc:  # LiteRT raises RuntimeError with a multi-line C++ trace
        _gpu_unusable_reason = _gpu_failure_reason(exc, native_log)
    # An explicit --device gpu deserves a warning; auto falling back is expected.
    log.log(
        logging.WARNING if asked_for_gpu else logging.INFO,
        "GPU accelerator not usable (%s); running on the CPU",
        _gpu_unusable_reason,
    )
    return None


def _missing_gpu_api_reason() -> str:
    """Why LiteRT's GPU API could not be imported: no LiteRT at all, or a 1.x release.

    ai-edge-litert 1.x (what aarch64 Linux, e.g. a Raspberry Pi, gets: 2.x has no wheel
    there) has the CPU Interpreter and a CPU-only CompiledModel, but no GPU accelerator.
    """
    try:
        import ai_edge_litert  # noqa: F401
    except ImportError:
        return "LiteRT (ai-edge-litert) is not installed"
    version = litert_version() or "this version"
    return f"ai-edge-litert {version} has no GPU accelerator (2.x has one)"


def litert_version() -> str | None:
    """The installed ai-edge-litert release, e.g. "1.4.0"; None when it is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ai-edge-litert")
    except PackageNotFoundError:
        return None


def _gpu_failure_reason(exc: Exception, native_log: list[str]) -> str:
    """One readable cause: the runtime's own words when it said why, else the exception."""
    for line in native_log:
        if "No adapters found" in line:
            return "no GPU adapter found (WebGPU/Vulkan)"
    for line in native_log:
        if "Failed to" in line or "Couldn't load" in line:
            return line.split("] ", 1)[-1].strip()
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__


def load_model(path: Path | str, threads: int = 2, device: Device = "auto") -> TFLiteModel:
    """Load a .tflite file on the requested device, falling back to the CPU."""
    path = Path(path)
    if device not in DEVICES:
        raise CamfxError(f"unknown device '{device}'; use one of {', '.join(DEVICES)}")
    if not path.is_file():
        raise CamfxError(f"model file {path} not found; run `camfx models fetch`")
    if device in ("auto", "gpu"):
        model = _try_gpu(path, asked_for_gpu=device == "gpu")
        if model is not None:
            log.info("%s runs on %s", path.name, model.backend)
            return model
    interpreter_class, runtime_name = _interpreter_class()
    with _native_stderr_to_debug_log():  # hides "Created TensorFlow Lite XNNPACK delegate"
        interpreter = interpreter_class(model_path=str(path), num_threads=threads)
        return InterpreterModel(interpreter, f"{runtime_name}/cpu")
