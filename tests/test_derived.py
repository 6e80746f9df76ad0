"""The derived-model cache is keyed by what a model is built from: the published file and
the code that builds it, so neither a new download nor an edited builder reuses a stale
file."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

import camfx
from camfx.models import derived, style
from tests.conftest import MODELS_DIR


def _builder_module(tmp_path, name: str, source: str) -> types.ModuleType:
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    module = types.ModuleType(name)
    module.__file__ = str(path)
    return module


def test_built_once_then_reused(tmp_path):
    source = tmp_path / "published.tflite"
    source.write_bytes(b"published model")
    code = _builder_module(tmp_path, "builder", "VERSION = 1\n")
    calls = []

    def build(data: bytes) -> bytes:
        calls.append(data)
        return data.upper()

    first = derived.derived_model(source, "x", build, (code,))
    second = derived.derived_model(source, "x", build, (code,))
    assert first == second and first.read_bytes() == b"PUBLISHED MODEL"
    assert calls == [b"published model"]


def test_an_edited_builder_or_a_new_download_builds_a_new_file(tmp_path):
    source = tmp_path / "published.tflite"
    source.write_bytes(b"published model")
    code = _builder_module(tmp_path, "builder", "VERSION = 1\n")
    first = derived.derived_model(source, "x", bytes.upper, (code,))

    # the builder's source changes (nobody bumped a constant): a new file is built
    code = _builder_module(tmp_path, "builder", "VERSION = 1  # edited\n")
    after_edit = derived.derived_model(source, "x", bytes.title, (code,))
    assert after_edit != first and after_edit.read_bytes() == b"Published Model"

    source.write_bytes(b"newer published model")
    after_download = derived.derived_model(source, "x", bytes.upper, (code,))
    assert after_download not in (first, after_edit)
    assert after_download.read_bytes() == b"NEWER PUBLISHED MODEL"


def test_a_package_is_keyed_by_every_module_in_it(tmp_path):
    package = tmp_path / "rewrites"
    package.mkdir()
    (package / "__init__.py").write_text("from rewrites.passes import PASS\n")
    (package / "passes.py").write_text("PASS = 1\n")
    module = types.ModuleType("rewrites")
    module.__file__ = str(package / "__init__.py")
    module.__path__ = [str(package)]
    before = derived.code_fingerprint([module])

    (package / "passes.py").write_text("PASS = 2  # an edit to a module the package imports\n")
    assert derived.code_fingerprint([module]) != before


@pytest.mark.parametrize("builder", ["style transfer", "deeplab logits"])
def test_the_key_covers_all_of_camfx_that_a_builder_runs(monkeypatch, tmp_path, builder):
    """Every camfx source file that runs while a derived model is built is in its key, so
    moving rewrite code into a new module cannot leave an edit to it out of the key. (The
    builder callable itself only hands the bytes to the code it names.)"""
    calls = []

    def record(source, variant, build, code):
        calls.append((source, build, code))
        return tmp_path / "not-built.tflite"

    monkeypatch.setattr(derived, "derived_model", record)
    if builder == "style transfer":
        style.optimized_model_path(MODELS_DIR / "style_transfer_f16_384.tflite", (216, 384))
    else:
        derived.deeplab_logits_model(MODELS_DIR / "deeplabv3_257_mv_gpu.tflite")
    [(source, build, code)] = calls

    ran: set[str] = set()

    def profile(frame, event, arg):
        if event == "call" and frame.f_code is not build.__code__:
            ran.add(frame.f_code.co_filename)

    sys.setprofile(profile)
    try:
        build(source.read_bytes())
    finally:
        sys.setprofile(None)
    package = Path(camfx.__file__).parent
    ran_in_camfx = {Path(f) for f in ran if Path(f).is_relative_to(package)}
    assert package / "tflite" / "graph.py" in ran_in_camfx  # the trace saw the editor run
    assert ran_in_camfx <= set(derived.code_files(code))
