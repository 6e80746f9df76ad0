"""Where camfx's .tflite models come from, where they live, and how they are checked.

A model is looked for, in order, in the folder named by ``CAMFX_MODELS`` (a local
mirror, e.g. ``../shared/models``) and in the user's cache folder, where
``camfx models fetch`` puts it. Nothing here runs a model except to check its
tensor signature.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from camfx.errors import CamfxError
from camfx.runtime import Device, TFLiteModel, load_model

log = logging.getLogger(__name__)

MODELS_ENV = "CAMFX_MODELS"
_TF_MODELS = "https://storage.googleapis.com/download.tensorflow.org/models/tflite"
# The MediaPipe selfie models as MediaPipe's own build fetches them (these
# generations are the files shipped in the mediapipe 0.10.21 wheel).
_MEDIAPIPE = "https://storage.googleapis.com/mediapipe-assets"


@dataclass(frozen=True)
class ModelSpec:
    """A published model: its file, its official URL and what its tensors look like."""

    name: str
    filename: str
    url: str
    sha256: str
    input_shapes: tuple[tuple[int, ...], ...]
    output_shapes: tuple[tuple[int, ...], ...]
    description: str


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="deeplab",
            filename="deeplabv3_257_mv_gpu.tflite",
            url=f"{_TF_MODELS}/gpu/deeplabv3_257_mv_gpu.tflite",
            sha256="68a539782c2c6a72f8aac3724600124a85ed977162b44e84cbae5db717c933c6",
            input_shapes=((1, 257, 257, 3),),
            output_shapes=((1, 257, 257, 21),),
            description="DeepLab v3 MobileNetV2 person segmenter (PASCAL VOC, person = 15)",
        ),
        ModelSpec(
            name="selfie",
            filename="selfie_segmentation.tflite",
            url=f"{_MEDIAPIPE}/selfie_segmentation.tflite?generation=1683332563830600",
            sha256="9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c",
            input_shapes=((1, 256, 256, 3),),
            output_shapes=((1, 256, 256, 1),),
            description="MediaPipe selfie segmentation, general (256x256)",
        ),
        ModelSpec(
            name="selfie-landscape",
            filename="selfie_segmentation_landscape.tflite",
            url=f"{_MEDIAPIPE}/selfie_segmentation_landscape.tflite?generation=1683332561312022",
            sha256="a77d03f4659b9f6b6c1f5106947bf40e99d7655094b6527f214ea7d451106edd",
            input_shapes=((1, 144, 256, 3),),
            output_shapes=((1, 144, 256, 1),),
            description="MediaPipe selfie segmentation, landscape (144x256, faster)",
        ),
        ModelSpec(
            name="pose",
            filename="pose_landmark_full.tflite",
            url=f"{_MEDIAPIPE}/pose_landmark_full.tflite?generation=1661875894245786",
            sha256="e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
            input_shapes=((1, 256, 256, 3),),
            output_shapes=((1, 195), (1, 1), (1, 256, 256, 1), (1, 64, 64, 39), (1, 117)),
            description="MediaPipe BlazePose GHUM full: pose and one person's mask (256x256)",
        ),
        ModelSpec(
            name="style-predict",
            filename="style_predict_quantized_256.tflite",
            url=f"{_TF_MODELS}/arbitrary_style_transfer/style_predict_quantized_256.tflite",
            sha256="203dbd6a09da1091ab7e48e8b101aef8c2d81438ad047a5cb150747a977134c1",
            input_shapes=((1, 256, 256, 3),),
            output_shapes=((1, 1, 1, 100),),
            description="Magenta style prediction (style picture -> 100-float bottleneck), int8",
        ),
        ModelSpec(
            name="style-transfer",
            filename="style_transfer_f16_384.tflite",
            url=f"{_TF_MODELS}/arbitrary_style_transfer/style_transfer_f16_384.tflite",
            sha256="c60cff7395544eda1f0915d6dddaedd8ed868cefe8ec6c5ed220ba801f120303",
            input_shapes=((1, 384, 384, 3), (1, 1, 1, 100)),
            output_shapes=((1, 384, 384, 3),),
            description="Magenta style transfer network, float16 weights (default)",
        ),
        ModelSpec(
            name="style-transfer-int8",
            filename="style_transfer_quantized_384.tflite",
            url=f"{_TF_MODELS}/arbitrary_style_transfer/style_transfer_quantized_384.tflite",
            sha256="1972f7d438b6e9ff326c466db1a8005a8a0efa0274886bbd52f91dc8be2f4f04",
            input_shapes=((1, 384, 384, 3), (1, 1, 1, 100)),
            output_shapes=((1, 384, 384, 3),),
            description="Magenta style transfer network, int8 (faster, softer colours)",
        ),
    )
}


def cache_dir() -> Path:
    """The per-user folder that ``camfx models fetch`` installs into."""
    return Path(platformdirs.user_cache_dir("camfx")) / "models"


def search_dirs() -> list[Path]:
    """Folders searched for model files, first match wins."""
    dirs = []
    if mirror := os.environ.get(MODELS_ENV):
        dirs.append(Path(mirror).expanduser())
    dirs.append(cache_dir())
    return dirs


def spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise CamfxError(f"unknown model '{name}'; known models: {', '.join(MODELS)}") from None


def locate(name: str) -> Path | None:
    """The path of an installed model, or None."""
    filename = spec(name).filename
    for folder in search_dirs():
        if (folder / filename).is_file():
            return folder / filename
    return None


def require(name: str) -> Path:
    """The path of a model that must be there, with a fix-it message if it is not."""
    path = locate(name)
    if path is None:
        raise CamfxError(
            f"model '{name}' ({spec(name).filename}) is not installed; "
            "run `camfx models fetch` (or `camfx models fetch --from DIR` for a local copy)"
        )
    return path


def write_derived(path: Path, data: bytes) -> Path:
    """Write a model camfx built from a published one (into the cache) whole or not at
    all, even with two camfx starting at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load(name: str, threads: int = 2, device: Device = "auto") -> TFLiteModel:
    """Load an installed model by name, checked against the tensors it must have."""
    return _load_checked(spec(name), require(name), threads, device)


def check_signature(model: ModelSpec, path: Path) -> None:
    """Raise CamfxError unless the file loads and has the model's tensor shapes."""
    _load_checked(model, path, threads=1, device="cpu")


def _load_checked(model: ModelSpec, path: Path, threads: int, device: Device) -> TFLiteModel:
    try:
        loaded = load_model(path, threads=threads, device=device)
    except CamfxError:
        raise
    except Exception as exc:  # the runtimes raise ValueError/RuntimeError for bad files
        raise CamfxError(
            f"{path} is not a valid TFLite model ({str(exc).strip().splitlines()[0]}); "
            f"delete it and run `camfx models fetch` to get {model.filename} again"
        ) from None
    found_in = tuple(tuple(t.shape) for t in loaded.inputs)
    found_out = tuple(tuple(t.shape) for t in loaded.outputs)
    if found_in != model.input_shapes or found_out != model.output_shapes:
        raise CamfxError(
            f"{path} has tensors {found_in} -> {found_out}, but {model.name} needs "
            f"{model.input_shapes} -> {model.output_shapes}; "
            f"run `camfx models fetch` to get the right {model.filename}"
        )
    return loaded


def verify(model: ModelSpec, path: Path) -> str:
    """Check a candidate file; return 'checksum' or 'signature' for how it was trusted.

    The recorded hashes come from public copies of the published files, so a
    mismatch alone is not proof of corruption: the file is then accepted only if
    its tensor signature is exactly the model's.
    """
    if sha256_of(path) == model.sha256:
        return "checksum"
    check_signature(model, path)
    log.warning(
        "%s: checksum differs from the recorded one, but its tensor signature matches",
        model.filename,
    )
    return "signature"


def _install(model: ModelSpec, fill: Callable[[Path], None], dest_dir: Path) -> Path:
    """Write to a temporary name, verify, then rename: a bad copy never replaces a good one."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    tmp = dest_dir / f".{model.filename}.{os.getpid()}.part"
    tmp.unlink(missing_ok=True)
    try:
        fill(tmp)
        verify(model, tmp)
        final = dest_dir / model.filename
        os.replace(tmp, final)
        return final
    finally:
        tmp.unlink(missing_ok=True)


def install_from_folder(model: ModelSpec, source_dir: Path, dest_dir: Path | None = None) -> Path:
    source = source_dir / model.filename
    if not source.is_file():
        raise CamfxError(f"{source} not found; is {source_dir} a folder of camfx models?")
    return _install(model, lambda tmp: shutil.copyfile(source, tmp), dest_dir or cache_dir())


def download(model: ModelSpec, dest_dir: Path | None = None) -> Path:
    """Download from the official URL with a progress bar (pooch), then verify."""
    import pooch  # imported here: only downloads need it

    def fetch_into(tmp: Path) -> None:
        try:
            pooch.retrieve(
                model.url,
                known_hash=None,  # verified by verify() so a re-published file can still pass
                fname=tmp.name,
                path=tmp.parent,
                progressbar=True,
            )
        except Exception as exc:  # requests/pooch raise many kinds for network failures
            raise CamfxError(
                f"could not download {model.filename} from {model.url} ({exc.__class__.__name__}); "
                "check the connection, or use `camfx models fetch --from DIR`"
            ) from None

    return _install(model, fetch_into, dest_dir or cache_dir())


def fetch(source_dir: Path | None = None, names: list[str] | None = None) -> list[tuple[str, Path]]:
    """Install every model that is missing; return (name, path) of those installed."""
    installed = []
    for name in names or list(MODELS):
        model = spec(name)
        if locate(name) is not None:
            continue
        path = download(model) if source_dir is None else install_from_folder(model, source_dir)
        installed.append((name, path))
    return installed
