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
from camfx.models.runtime import Device, TFLiteModel, load_model

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
    # Other official copies of the same network (e.g. TF Hub's, with metadata added).
    other_sha256: tuple[str, ...] = ()

    @property
    def known_sha256(self) -> frozenset[str]:
        """The hashes of the copies camfx installs without asking: no other file is trusted."""
        return frozenset((self.sha256, *self.other_sha256))


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
            # tfhub.dev/tensorflow/lite-model/deeplabv3/1/metadata/2: the same network
            other_sha256=("9711334db2b01d5894feb8ed0f5cb3e97d125b8d229f8d8692f625801818f5ef",),
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
            name="pose-lite",
            filename="pose_landmark_lite.tflite",
            url=f"{_MEDIAPIPE}/pose_landmark_lite.tflite?generation=1661875901231143",
            sha256="f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61",
            input_shapes=((1, 256, 256, 3),),
            output_shapes=((1, 195), (1, 1), (1, 256, 256, 1), (1, 64, 64, 39), (1, 117)),
            description="MediaPipe BlazePose GHUM lite: the same, faster (the default's third "
            "model, on a person seen at a distance)",
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
            # tfhub.dev/google/lite-model/magenta/arbitrary-image-stylization-v1-256/fp16/
            # transfer/1: the same network, with metadata
            other_sha256=("53b5243ed5aa33e408db7976c8a8e51a90a0f7708fd122a31428cd00fbdf6aa6",),
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


def verify(model: ModelSpec, path: Path, trusted: bool = False, named: Path | None = None) -> str:
    """Check a candidate file; return 'checksum' or 'trusted' for how it was accepted.

    A file is installed when its SHA-256 is one of the model's known copies. Any other
    file (re-encoded, tampered with, or the user's own build) is refused before it is
    even loaded, unless the user named it (`trusted`): then it must still have exactly
    the model's tensors.
    """
    digest = sha256_of(path)
    if digest in model.known_sha256:
        return "checksum"
    if not trusted:
        shown = named or path
        raise CamfxError(
            f"{shown} is not a known copy of {model.filename} (sha256 {digest[:16]}...); "
            f"if you trust it, install it by name: camfx models fetch --from {shown.parent} "
            f"--trust {shown}"
        )
    check_signature(model, path)
    log.warning(
        "%s: installed the file you trusted (sha256 %s), not a known copy", model.filename, digest
    )
    return "trusted"


def _install(
    model: ModelSpec,
    fill: Callable[[Path], None],
    dest_dir: Path,
    trusted: bool = False,
    named: Path | None = None,
) -> Path:
    """Write to a temporary name, verify, then rename: a bad copy never replaces a good one."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    tmp = dest_dir / f".{model.filename}.{os.getpid()}.part"
    tmp.unlink(missing_ok=True)
    try:
        fill(tmp)
        verify(model, tmp, trusted, named)
        final = dest_dir / model.filename
        os.replace(tmp, final)
        return final
    finally:
        tmp.unlink(missing_ok=True)


def install_from_folder(
    model: ModelSpec,
    source_dir: Path,
    dest_dir: Path | None = None,
    trust: frozenset[Path] = frozenset(),
) -> Path:
    """Copy `model` from `source_dir`; a file of unknown hash only if `trust` names it."""
    source = source_dir / model.filename
    if not source.is_file():
        raise CamfxError(f"{source} not found; is {source_dir} a folder of camfx models?")
    trusted = source.resolve() in {Path(p).resolve() for p in trust}
    copy = lambda tmp: shutil.copyfile(source, tmp)  # noqa: E731
    return _install(model, copy, dest_dir or cache_dir(), trusted, named=source)


def download(model: ModelSpec, dest_dir: Path | None = None) -> Path:
    """Download from the official URL with a progress bar (pooch), then verify."""
    import pooch  # imported here: only downloads need it

    def fetch_into(tmp: Path) -> None:
        try:
            pooch.retrieve(
                model.url,
                known_hash=None,  # verified by verify(): any of the model's known copies
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


def fetch(
    source_dir: Path | None = None,
    names: list[str] | None = None,
    trust: frozenset[Path] = frozenset(),
) -> list[tuple[str, Path]]:
    """Install every model that is missing; return (name, path) of those installed.
    `trust`: files in `source_dir` to install although their hash is not a known one."""
    installed = []
    for name in names or list(MODELS):
        model = spec(name)
        if locate(name) is not None:
            continue
        if source_dir is None:
            path = download(model)
        else:
            path = install_from_folder(model, source_dir, trust=trust)
        installed.append((name, path))
    return installed
