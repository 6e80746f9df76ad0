"""Models camfx builds from published ones (the style network for a frame size, DeepLab
without its last resize, the pose model's mask without its landmarks), cached by the
content of what they are built from.

A cached file is named by a hash of the published file's bytes *and* of the source code
of the modules that build it (every module of a package), so a new download or any edit
to the builder makes a new file: nobody has to remember to bump a version constant for a
stale model to be rebuilt.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

from camfx.models import registry as models

log = logging.getLogger(__name__)


def code_files(modules: Sequence[ModuleType]) -> list[Path]:
    """The source files of ``modules``; for a package, every module in it (the
    style-transfer rewrites are a package of one module per pass family)."""
    files: list[Path] = []
    for module in modules:
        path = Path(module.__file__ or "")
        is_package = hasattr(module, "__path__")
        files.extend(sorted(path.parent.rglob("*.py")) if is_package else [path])
    return files


def code_fingerprint(modules: Sequence[ModuleType]) -> bytes:
    """The source of ``modules``, hashed: what decides what a builder writes."""
    digest = hashlib.sha256()
    for path in code_files(modules):
        digest.update(path.read_bytes())
    return digest.digest()


def deeplab_logits_model(published: Path) -> Path:
    """DeepLab cut before its final resize (:mod:`camfx.tflite.deeplab_cut`), built from
    the published file into the cache."""
    from camfx.tflite import deeplab_cut, graph

    return derived_model(
        published, "logits", deeplab_cut.strip_final_upsampling, (graph, deeplab_cut)
    )


def mask_model(published: Path, output: int, side: int | None = None) -> Path:
    """A multi-task model with only its output `output` and the ops it needs (the pose
    model's person mask without its landmarks: :func:`camfx.tflite.graph.keep_outputs`),
    for a `side` x `side` input when given (:func:`camfx.tflite.graph.with_input_size`),
    built from the published file into the cache."""
    from camfx.tflite import graph

    def build(data: bytes) -> bytes:
        cut = graph.keep_outputs(data, [output])
        return cut if side is None else graph.with_input_size(cut, side, side)

    variant = f"output{output}" + ("" if side is None else f"-{side}")
    return derived_model(published, variant, build, (graph,))


def derived_model(
    source: Path, variant: str, build: Callable[[bytes], bytes], code: Sequence[ModuleType]
) -> Path:
    """The model ``build`` makes from ``source``, built into the model cache if missing.

    ``variant`` names the file (e.g. ``216x384``); ``code`` are the modules whose source
    decides what ``build`` writes.
    """
    data = source.read_bytes()
    digest = hashlib.sha256(data + code_fingerprint(code)).hexdigest()[:12]
    path = models.cache_dir() / "derived" / f"{source.stem}-{variant}-{digest}.tflite"
    if path.is_file():
        return path
    models.write_derived(path, build(data))
    log.info("built %s", path)
    return path
