"""The derived-model cache is keyed by what a model is built from: the published file and
the code that builds it, so neither a new download nor an edited builder reuses a stale
file."""

from __future__ import annotations

import types

from camfx.models import derived


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
