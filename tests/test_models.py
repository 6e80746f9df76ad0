"""Finding, installing and checking models, offline."""

from __future__ import annotations

import shutil

import pytest

from camfx import models
from camfx.errors import CamfxError
from tests.conftest import MODELS_DIR, run_camfx


@pytest.fixture
def no_mirror(monkeypatch):
    monkeypatch.delenv("CAMFX_MODELS")


def test_models_are_found_in_the_mirror_folder():
    assert models.locate("deeplab") == MODELS_DIR / "deeplabv3_257_mv_gpu.tflite"


def test_missing_model_error_names_the_fix(no_mirror):
    with pytest.raises(CamfxError) as info:
        models.require("deeplab")
    message = str(info.value)
    assert "deeplabv3_257_mv_gpu.tflite" in message and "camfx models fetch" in message


def test_fetch_from_folder_installs_every_model_into_the_cache(no_mirror):
    installed = models.fetch(source_dir=MODELS_DIR)
    assert {name for name, _ in installed} == set(models.MODELS)
    for name, path in installed:
        assert path.parent == models.cache_dir()
        assert models.sha256_of(path) == models.MODELS[name].sha256
        assert models.locate(name) == path
    assert models.fetch(source_dir=MODELS_DIR) == []  # nothing left to do


def test_corrupt_copy_is_rejected_and_never_installed(no_mirror, tmp_path):
    source = tmp_path / "mirror"
    source.mkdir()
    good = (MODELS_DIR / "deeplabv3_257_mv_gpu.tflite").read_bytes()
    (source / "deeplabv3_257_mv_gpu.tflite").write_bytes(good[: len(good) // 2])
    with pytest.raises(CamfxError, match="not a valid TFLite model"):
        models.fetch(source_dir=source, names=["deeplab"])
    assert models.locate("deeplab") is None
    assert list(models.cache_dir().iterdir()) == []  # no partial file left behind


def test_a_model_with_the_wrong_tensors_is_rejected(no_mirror, tmp_path):
    source = tmp_path / "mirror"
    source.mkdir()
    # A real, valid model, but the wrong one: the style predictor posing as DeepLab.
    shutil.copy(
        MODELS_DIR / "style_predict_quantized_256.tflite", source / "deeplabv3_257_mv_gpu.tflite"
    )
    with pytest.raises(CamfxError, match=r"has tensors .* but deeplab needs"):
        models.fetch(source_dir=source, names=["deeplab"])
    assert models.locate("deeplab") is None


def test_download_failure_is_one_clear_error(no_mirror, monkeypatch):
    # A closed port on this machine: no network is touched.
    unreachable = models.ModelSpec(
        **{**models.MODELS["deeplab"].__dict__, "url": "http://127.0.0.1:9/deeplab.tflite"}
    )
    with pytest.raises(CamfxError, match=r"could not download .* --from DIR"):
        models.download(unreachable)
    assert models.locate("deeplab") is None


def test_cli_lists_models_and_fetches_from_a_folder(tmp_path):
    env = {"CAMFX_MODELS": "", "XDG_CACHE_HOME": str(tmp_path)}
    listing = run_camfx("models", env=env)
    assert listing.returncode == 0
    assert listing.stdout.count("missing (run `camfx models fetch`)") == len(models.MODELS)
    fetched = run_camfx("models", "fetch", "--from", str(MODELS_DIR), env=env)
    assert fetched.returncode == 0, fetched.stderr
    assert fetched.stdout.count("installed") == len(models.MODELS)
    listing = run_camfx("models", env=env)
    assert "missing" not in listing.stdout
    assert str(tmp_path / "camfx" / "models") in listing.stdout
