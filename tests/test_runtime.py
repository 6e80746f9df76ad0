"""The runtime layer: real models on LiteRT, the GPU fallback, and clear errors."""

from __future__ import annotations

import builtins
import logging

import numpy as np
import pytest

from camfx.errors import CamfxError
from camfx.models import registry as models
from camfx.models import runtime
from camfx.models.runtime import load_model


@pytest.fixture(autouse=True)
def fresh_gpu_probe(monkeypatch):
    # The GPU probe is remembered per process; each test starts without that memory.
    monkeypatch.setattr(runtime, "_gpu_unusable_reason", None)


def test_cpu_model_runs_with_its_real_tensors():
    model = load_model(models.require("deeplab"), threads=2, device="cpu")
    assert model.backend == "litert/cpu"
    assert [t.shape for t in model.inputs] == [(1, 257, 257, 3)]
    logits = model.run(np.zeros((1, 257, 257, 3), np.float32))[0]
    assert logits.shape == (1, 257, 257, 21)
    assert np.isfinite(logits).all()


def no_gpu_adapter(path):
    """LiteRT's GPU accelerator on a machine without a usable GPU (as it raises there)."""
    raise RuntimeError("Failed to create the GPU accelerator: No adapters found")


@pytest.mark.parametrize("device", ["gpu", "auto"])
def test_gpu_request_falls_back_to_cpu_with_one_log_line(device, caplog, monkeypatch):
    # The GPU made unusable here, so a laptop whose GPU works runs the same test.
    monkeypatch.setattr(runtime, "CompiledGpuModel", no_gpu_adapter)
    caplog.set_level(logging.INFO, logger="camfx.models.runtime")
    first = load_model(models.require("deeplab"), device=device)
    second = load_model(models.require("style-transfer"), device=device)
    # Both models end up on the CPU and still run.
    assert first.backend.endswith("/cpu") and second.backend.endswith("/cpu")
    assert first.run(np.zeros((1, 257, 257, 3), np.float32))[0].shape == (1, 257, 257, 21)
    fallback_lines = [r for r in caplog.records if "running on the CPU" in r.getMessage()]
    assert len(fallback_lines) == 1
    assert "\n" not in fallback_lines[0].getMessage()
    expected_level = logging.WARNING if device == "gpu" else logging.INFO
    assert fallback_lines[0].levelno == expected_level


def test_auto_runs_on_whatever_this_machine_has():
    """The real probe, GPU or not: the model runs, on the GPU or on the CPU."""
    model = load_model(models.require("selfie"), device="auto")
    assert model.backend.endswith("/cpu") or "/gpu" in model.backend, model.backend
    assert model.run(np.zeros((1, 256, 256, 3), np.float32))[0].shape == (1, 256, 256, 1)


def test_cpu_device_never_probes_the_gpu(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("GPU probed although --device cpu")

    monkeypatch.setattr(runtime, "CompiledGpuModel", fail)
    load_model(models.require("deeplab"), device="cpu")


def test_without_any_runtime_the_error_says_what_to_install(monkeypatch):
    real_import = builtins.__import__

    def no_tflite(name, *args, **kwargs):
        if name.startswith(("ai_edge_litert", "tflite_runtime")):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tflite)
    with pytest.raises(CamfxError, match="pip install ai-edge-litert"):
        load_model(models.require("deeplab"), device="cpu")


def test_tflite_runtime_is_the_fallback_when_litert_is_missing(monkeypatch):
    """Without LiteRT the classic tflite_runtime Interpreter is picked."""
    import sys
    import types

    real_import = builtins.__import__
    fake = types.ModuleType("tflite_runtime.interpreter")
    from ai_edge_litert.interpreter import Interpreter as LiteRTInterpreter

    fake.Interpreter = LiteRTInterpreter  # stands in for the same API
    monkeypatch.setitem(sys.modules, "tflite_runtime", types.ModuleType("tflite_runtime"))
    monkeypatch.setitem(sys.modules, "tflite_runtime.interpreter", fake)

    def no_litert(name, *args, **kwargs):
        if name.startswith("ai_edge_litert"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_litert)
    model = load_model(models.require("deeplab"), device="cpu")
    assert model.backend == "tflite-runtime/cpu"


def test_unknown_device_and_missing_file_are_user_errors(tmp_path):
    with pytest.raises(CamfxError, match="unknown device"):
        load_model(models.require("deeplab"), device="tpu")
    with pytest.raises(CamfxError, match="camfx models fetch"):
        load_model(tmp_path / "nothing.tflite", device="cpu")


def _fallback_message(caplog) -> str:
    lines = [r.getMessage() for r in caplog.records if "running on the CPU" in r.getMessage()]
    assert len(lines) == 1
    return lines[0]


def test_fallback_reason_is_true_for_the_installed_litert(caplog):
    """LiteRT 1.x (a Raspberry Pi's) has no GPU API: camfx says so, never "not installed"."""
    caplog.set_level(logging.INFO, logger="camfx.models.runtime")
    model = load_model(models.require("deeplab"), device="gpu")
    assert model.backend == "litert/cpu"
    message = _fallback_message(caplog)
    assert "not installed" not in message
    version = runtime.litert_version()
    assert version is not None
    if version.startswith("1."):
        assert f"ai-edge-litert {version} has no GPU accelerator" in message


def test_litert_without_its_gpu_api_is_named_by_version(monkeypatch, caplog):
    """Whatever LiteRT this is, a missing GPU API is reported with the release that lacks it."""

    def gpu_api_missing(path):
        raise ImportError("cannot import name '_create_default_environment'")

    monkeypatch.setattr(runtime, "CompiledGpuModel", gpu_api_missing)
    caplog.set_level(logging.INFO, logger="camfx.models.runtime")
    load_model(models.require("deeplab"), device="auto")
    message = _fallback_message(caplog)
    assert f"ai-edge-litert {runtime.litert_version()} has no GPU accelerator" in message
