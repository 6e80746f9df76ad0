"""Magenta arbitrary style transfer: styles as 100-float bottlenecks, and the painter.

A style is a bottleneck vector computed once from a picture by the style
prediction network. The bundled styles' bottlenecks ship in
``assets/styles/manifest.json``; a user's own picture gets its bottleneck computed
on first use and cached (keyed by the file's bytes). At run time only the
transfer network runs.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import platformdirs

import camfx
from camfx.errors import CamfxError
from camfx.models import derived
from camfx.models import registry as models
from camfx.models.runtime import Device, TFLiteModel, load_model
from camfx.tflite.transfer import BOTTLENECK_SIZE
from camfx.vision.imaging import cover

log = logging.getLogger(__name__)

PREDICT_SIZE = 256


@dataclass(frozen=True)
class Style:
    name: str
    bottleneck: np.ndarray  # float32 (1, 1, 1, 100)
    title: str | None = None
    artist: str | None = None
    source: str | None = None  # the picture it was computed from
    looks: str | None = None  # what the picture looks like, where its title is not known
    aliases: tuple[str, ...] = ()  # older names that still work (style0 ... style25)

    @property
    def label(self) -> str:
        if self.title and self.artist:
            return f"{self.title} ({self.artist})"
        return self.looks or self.title or self.name


def assets_dir() -> Path:
    """assets/ inside an installed wheel, or at the top of a source checkout."""
    package = Path(camfx.__file__).parent  # wherever this module sits inside the package
    packaged = package / "assets"
    return packaged if packaged.is_dir() else package.parent / "assets"


def manifest_path() -> Path:
    return assets_dir() / "styles" / "manifest.json"


class StyleTable(dict[str, Style]):
    """Bundled styles by name; an older name (style3) finds its style too, unlisted."""

    def __missing__(self, name: str) -> Style:
        for style in self.values():
            if name in style.aliases:
                return style
        raise KeyError(name)


def bundled_styles() -> StyleTable:
    entries = json.loads(manifest_path().read_text())["styles"]
    return StyleTable({
        e["name"]: Style(
            name=e["name"],
            bottleneck=_as_bottleneck(e["bottleneck"]),
            title=e.get("title"),
            artist=e.get("artist"),
            source=e.get("file"),
            looks=e.get("looks"),
            aliases=tuple(e.get("aliases", ())),
        )
        for e in entries
    })


def bundled_style(name: str) -> Style | None:
    """A bundled style by its name or an older name of it (style14 is now cutouts)."""
    try:
        return bundled_styles()[name]
    except KeyError:
        return None


def _as_bottleneck(values: object) -> np.ndarray:
    array = np.asarray(values, dtype=np.float32)
    if array.size != BOTTLENECK_SIZE or not np.all(np.isfinite(array)):
        raise CamfxError(f"a style bottleneck must be {BOTTLENECK_SIZE} finite numbers")
    return array.reshape(1, 1, 1, BOTTLENECK_SIZE)


def read_image(path: Path) -> np.ndarray:
    """A picture file as BGR uint8, or a one-line error saying what is wrong with it."""
    if not path.is_file():
        raise CamfxError(f"{path}: no such file")
    # imread rather than imdecode: it keeps what decodes of a truncated JPEG.
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise CamfxError(f"{path}: not a readable image (try a JPEG or PNG)")
    return image


class StylePredictor:
    """Style picture -> bottleneck, with the style prediction network."""

    def __init__(self, model: TFLiteModel) -> None:
        self._model = model

    def bottleneck(self, image_bgr: np.ndarray) -> np.ndarray:
        # the short side to PREDICT_SIZE, the middle cut out, as the Magenta examples do
        square = cover(image_bgr, (PREDICT_SIZE, PREDICT_SIZE), cv2.INTER_AREA)
        rgb = cv2.cvtColor(square, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
        return self._model.run(rgb[None])[0].astype(np.float32).reshape(1, 1, 1, -1)


def style_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("camfx")) / "styles"


def picture_style(path: Path, predictor_factory=None) -> Style:
    """The style of any picture, its bottleneck taken from the cache when computed before."""
    if not path.is_file():
        raise CamfxError(f"{path}: no such file")
    data = path.read_bytes()  # hashed for the cache; the picture is decoded only on a miss
    key = hashlib.sha256(data).hexdigest()[:32]
    cached = style_cache_dir() / f"{key}.npy"
    if cached.is_file():
        try:
            bottleneck = _as_bottleneck(np.load(cached, allow_pickle=False))
            log.info("style %s: using cached bottleneck %s", path.name, cached)
            return Style(path.stem, bottleneck, title=path.stem, source=str(path))
        except (ValueError, OSError, CamfxError):
            log.warning("style cache %s is unreadable; computing it again", cached)
    image = read_image(path)  # validates the file before anything is cached
    predictor = (predictor_factory or create_predictor)()
    bottleneck = predictor.bottleneck(image)
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp.npy")
    np.save(tmp, bottleneck)
    tmp.replace(cached)
    log.info("style %s: computed bottleneck, cached as %s", path.name, cached)
    return Style(path.stem, bottleneck, title=path.stem, source=str(path))


def resolve_style(spec: str) -> Style:
    """A bundled style by name, or any picture file by path."""
    styles = bundled_styles()
    if (style := bundled_style(spec)) is not None:
        return style
    path = Path(spec).expanduser()
    if path.exists() or path.suffix:
        return picture_style(path)
    close = difflib.get_close_matches(spec, styles, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise CamfxError(
        f"unknown style '{spec}'; {hint}`camfx styles` lists them, or give a picture file"
    )


def mix_styles(spec: str) -> Style:
    """'starry:0.5,wave:0.5' -> one style whose bottleneck is the weighted mean."""
    parts = []
    for item in spec.split(","):
        name, _, weight = item.strip().partition(":")
        try:
            parts.append((resolve_style(name.strip()), float(weight) if weight else 1.0))
        except ValueError:
            raise CamfxError(f"--mix takes NAME:WEIGHT,NAME:WEIGHT, not '{item}'") from None
    total = sum(w for _, w in parts)
    if len(parts) < 1 or total <= 0:
        raise CamfxError("--mix needs at least one style with a positive weight")
    bottleneck = sum(w * style.bottleneck for style, w in parts) / total
    label = " + ".join(f"{style.name} {w / total:.0%}" for style, w in parts)
    return Style(label, bottleneck.astype(np.float32), title=label)


def create_predictor(threads: int = 2, device: Device = "cpu") -> StylePredictor:
    return StylePredictor(models.load("style-predict", threads, device))


class FlatGrain:
    """A faint, soft, fixed grain added where the picture is flat, before it is painted.

    Given a flat, near-uniform wall the transfer network has nothing to paint and
    repeats its own lattice: a pure colour comes out as 4-px squares, a real wall as
    a fine diagonal hatching with streaks. A grain of a few levels, a few pixels
    across, only where the picture is flat, gives it something to paint brush strokes
    on (scripts/eval_stability.py, "Flat walls"); textured parts are left as they are.
    The grain is the same for every call at one size (a fixed seed), so a still room's
    painting stays still.
    """

    def __init__(
        self, amplitude: float = 4.0, size: float = 4.0, flat: float = 4.0, seed: int = 0
    ) -> None:
        self.amplitude = amplitude  # levels (standard deviation) where fully flat
        self.size = size  # px (the grain's blur) at a 384-px painting; scales with it
        self.flat = flat  # levels of local standard deviation from which no grain is added
        self.seed = seed
        self._noise: np.ndarray | None = None  # (h, w) float32, in [0, 1] units

    def noise(self, shape: tuple[int, int]) -> np.ndarray:
        if self._noise is None or self._noise.shape != shape:
            white = np.random.default_rng(self.seed).standard_normal(shape).astype(np.float32)
            soft = cv2.GaussianBlur(white, (0, 0), self.size * max(shape) / 384)
            self._noise = soft * (self.amplitude / 255.0 / float(soft.std()))
        return self._noise

    def weight(self, image_bgr: np.ndarray) -> np.ndarray:
        """1 where the picture is flat (local std 0), falling to 0 at `flat` levels."""
        grey = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
        mean = cv2.blur(grey, (7, 7))
        variance = cv2.blur(grey * grey, (7, 7)) - mean * mean
        spread = np.sqrt(np.maximum(variance, 0.0))
        return cv2.blur(np.clip(1.0 - spread / self.flat, 0.0, 1.0), (7, 7))

    def add(
        self, picture: np.ndarray, image_bgr: np.ndarray, plain: np.ndarray | None = None
    ) -> None:
        """Add the grain, in place, to `picture` ((h, w, 3) float in [0, 1]) of `image_bgr`,
        except on `plain` (bool) pixels."""
        weight = self.weight(image_bgr)
        if plain is not None:
            weight[plain] = 0.0
        grain = self.noise(picture.shape[:2]) * weight
        picture += grain[..., None]
        np.clip(picture, 0.0, 1.0, out=picture)


class Stylizer:
    """Paints pictures with one style through the transfer network.

    `grain` (on by default) gives flat walls brush strokes instead of the network's
    lattice (:class:`FlatGrain`); None paints the picture as it is.
    """

    def __init__(self, model: TFLiteModel, style: Style, grain: FlatGrain | None = None) -> None:
        self._model = model
        self.style = style
        self.grain = grain
        _, self.height, self.width, _ = model.inputs[0].shape
        self._input = np.empty((1, self.height, self.width, 3), np.float32)

    def stylize(
        self,
        image_bgr: np.ndarray,
        bottleneck: np.ndarray | None = None,
        plain: np.ndarray | None = None,
    ) -> np.ndarray:
        """Model-sized BGR uint8 picture in, the same size painted out.

        `bottleneck` overrides the style's own (e.g. mixed with the content's). `plain`
        (bool) is where no grain goes: what is not the room (a clean plate's smooth fill
        where the background was never seen; grained, it stood out around the person).
        """
        rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)
        np.multiply(rgb, 1.0 / 255.0, out=self._input[0], casting="unsafe")
        if self.grain is not None:
            self.grain.add(self._input[0], image_bgr, plain)
        style = self.style.bottleneck if bottleneck is None else bottleneck.astype(np.float32)
        painted = self._model.run(self._input, style)[0][0]
        out = cv2.convertScaleAbs(painted, alpha=255.0)  # [0, 1] float -> saturated uint8
        return cv2.cvtColor(out, cv2.COLOR_RGB2BGR)


TRANSFER_MODELS = {"fp16": "style-transfer", "int8": "style-transfer-int8"}
PUBLISHED_SIZE = (384, 384)


def style_size(frame_width: int, frame_height: int, long_side: int = 384) -> tuple[int, int]:
    """(height, width) for style transfer: the frame's proportions, long side `long_side`.

    Both are multiples of 4, as the transfer network needs (216x384 for 16:9).
    """
    long_side = max(8, long_side - long_side % 4)
    short = max(
        8,
        round(long_side * min(frame_width, frame_height) / max(frame_width, frame_height) / 4) * 4,
    )
    return (short, long_side) if frame_width >= frame_height else (long_side, short)


def optimized_model_path(published: Path, size: tuple[int, int]) -> Path:
    """The optimized transfer model for `size`, built into the model cache if missing
    (~0.1 s), named by the published file's and the optimizer's content."""
    from camfx.tflite import graph, transfer

    height, width = size

    def build(data: bytes) -> bytes:
        return transfer.rewrite_transfer_model(data, height, width)[0]

    return derived.derived_model(published, f"{height}x{width}", build, (graph, transfer))


def load_transfer_model(
    precision: str, size: tuple[int, int] | None, threads: int, device: Device
) -> TFLiteModel:
    """The transfer network for `size`: optimized when that works, else the published one."""
    try:
        model_name = TRANSFER_MODELS[precision]
    except KeyError:
        raise CamfxError(
            f"unknown style model '{precision}'; use one of {', '.join(TRANSFER_MODELS)}"
        ) from None
    if size is None:
        return models.load(model_name, threads, device)
    try:
        path = optimized_model_path(models.require(model_name), size)
        optimized = load_model(path, threads, device)
        if optimized.inputs[0].shape != (1, *size, 3):
            raise ValueError(f"{path.name} takes {optimized.inputs[0].shape}")
        return optimized
    # A size the optimizer or the runtime can't take, or a cache that can't be written,
    # leaves the published model, which works; a bug in the rewrite itself (RuntimeError)
    # is ours and must fail loudly.
    except (OSError, ValueError) as exc:
        log.warning(
            "could not use an optimized style model for %dx%d (%s); "
            "using the published %dx%d model",
            *size,
            str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__,
            *PUBLISHED_SIZE,
        )
        # Loaded only now: its tensor check turns a wrong file into the usual fix-it line.
        return models.load(model_name, threads, device)


def create_stylizer(
    style: Style,
    precision: str = "fp16",
    threads: int = 2,
    device: Device = "auto",
    size: tuple[int, int] | None = PUBLISHED_SIZE,
    grain: bool = True,
) -> Stylizer:
    """A painter for `style` at `size` (height, width); None: the published model as it is.

    `grain`: flat walls get brush strokes (:class:`FlatGrain`); False paints them as the
    network does by itself (a lattice)."""
    model = load_transfer_model(precision, size, threads, device)
    return Stylizer(model, style, FlatGrain() if grain else None)
