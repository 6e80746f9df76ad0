"""Finding, installing and checking models, offline."""

from __future__ import annotations

import shutil

import pytest

from camfx.errors import CamfxError
from camfx.models import registry as models
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
    broken = source / "deeplabv3_257_mv_gpu.tflite"
    broken.write_bytes(good[: len(good) // 2])
    with pytest.raises(CamfxError, match=r"is not a known copy of deeplabv3_257_mv_gpu\.tflite"):
        models.fetch(source_dir=source, names=["deeplab"])
    # Even trusted by name, a file that does not load is refused.
    with pytest.raises(CamfxError, match="not a valid TFLite model"):
        models.fetch(source_dir=source, names=["deeplab"], trust=frozenset({broken}))
    assert models.locate("deeplab") is None
    assert list(models.cache_dir().iterdir()) == []  # no partial file left behind


def test_a_model_with_the_wrong_tensors_is_rejected(no_mirror, tmp_path):
    source = tmp_path / "mirror"
    source.mkdir()
    # A real, valid model, but the wrong one: the style predictor posing as DeepLab.
    shutil.copy(
        MODELS_DIR / "style_predict_quantized_256.tflite", source / "deeplabv3_257_mv_gpu.tflite"
    )
    posing = source / "deeplabv3_257_mv_gpu.tflite"
    with pytest.raises(CamfxError, match=r"has tensors .* but deeplab needs"):
        models.fetch(source_dir=source, names=["deeplab"], trust=frozenset({posing}))
    assert models.locate("deeplab") is None


def test_a_file_of_the_right_shapes_but_unknown_hash_is_refused_unless_named(
    no_mirror, tmp_path, caplog
):
    """The int8 transfer network has exactly the float16 one's tensors: shapes alone would
    let it (or any tampered copy) in. Only a known hash, or the user naming the file, does."""
    source = tmp_path / "mirror"
    source.mkdir()
    impostor = source / "style_transfer_f16_384.tflite"
    shutil.copy(MODELS_DIR / "style_transfer_quantized_384.tflite", impostor)
    with pytest.raises(CamfxError, match=r"not a known copy .* --trust .*style_transfer_f16_384"):
        models.fetch(source_dir=source, names=["style-transfer"])
    assert models.locate("style-transfer") is None
    trusted = source / "." / "style_transfer_f16_384.tflite"  # named any way that resolves
    [(_, path)] = models.fetch(source_dir=source, names=["style-transfer"], trust={trusted})
    assert models.sha256_of(path) == models.sha256_of(impostor)
    assert "installed the file you trusted" in caplog.text


def test_other_official_copies_are_known():
    """TF Hub's DeepLab and float16 transfer files (same networks, with metadata)."""
    for name, copy in [
        ("deeplab", "lite-model_deeplabv3_1_metadata_2.tflite"),
        ("style-transfer", "magenta_arbitrary-image-stylization-v1-256_fp16_transfer_1.tflite"),
    ]:
        assert models.verify(models.MODELS[name], MODELS_DIR / copy) == "checksum"


def test_models_fetch_trust_on_the_command_line(tmp_path):
    source = tmp_path / "mirror"
    source.mkdir()
    for model in models.MODELS.values():
        shutil.copy(MODELS_DIR / model.filename, source / model.filename)
    tampered = source / "selfie_segmentation.tflite"
    with open(tampered, "ab") as f:
        f.write(b"tampered")  # trailing bytes: it still loads, with the right tensors
    env = {"CAMFX_MODELS": "", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    refused = run_camfx("models", "fetch", "--from", str(source), env=env)
    assert refused.returncode == 2
    last = refused.stderr.strip().splitlines()[-1]
    assert "selfie_segmentation.tflite is not a known copy" in last and "--trust" in last
    listing = run_camfx("models", env=env)
    [selfie] = [line for line in listing.stdout.splitlines() if line.startswith("selfie ")]
    assert "missing" in selfie  # refused, so not installed
    trusted = run_camfx("models", "fetch", "--from", str(source), "--trust", str(tampered), env=env)
    assert trusted.returncode == 0, trusted.stderr
    assert "installed selfie:" in trusted.stdout


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
