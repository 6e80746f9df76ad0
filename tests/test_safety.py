"""Safety: no pickles, nothing executed from data, HTTPS only, ordinary file permissions."""

from __future__ import annotations

import hashlib
import os
import shutil

import numpy as np

from camfx.models import registry as models
from camfx.models import style
from tests.conftest import MODELS_DIR, SHARED


def test_a_pickle_in_the_style_cache_is_never_loaded(tmp_path, caplog):
    picture = tmp_path / "mine.jpg"
    shutil.copy(SHARED / "styles" / "style24.jpg", picture)
    key = hashlib.sha256(picture.read_bytes()).hexdigest()[:32]
    cache = style.style_cache_dir()
    cache.mkdir(parents=True)
    marker = tmp_path / "executed"
    # An object array: loading it would unpickle, and this pickle would run code.
    hostile = np.array([_Boom(str(marker))], dtype=object)
    np.save(cache / f"{key}.npy", hostile, allow_pickle=True)
    result = style.resolve_style(str(picture))
    assert not marker.exists()
    assert "unreadable; computing it again" in caplog.text
    assert np.allclose(result.bottleneck, style.bundled_styles()["wave"].bottleneck, atol=1e-5)


class _Boom:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_models_come_only_from_https_urls():
    assert all(spec.url.startswith("https://") for spec in models.MODELS.values())


def test_cache_files_get_the_user_s_default_permissions(monkeypatch):
    monkeypatch.delenv("CAMFX_MODELS")
    old = os.umask(0o022)
    try:
        installed = models.fetch(source_dir=MODELS_DIR, names=["selfie", "style-transfer"])
        style.create_stylizer(style.resolve_style("starry"), size=(216, 384), device="cpu")
    finally:
        os.umask(old)
    optimized = next((models.cache_dir() / "derived").glob("*.tflite"))
    for path in (installed[0][1], optimized):
        assert path.stat().st_mode & 0o777 == 0o644
