"""The per-frame work, without threads: segment, make the effect's picture, composite.

An :class:`Effect` is what the pipeline (and the benchmark's naive loop) call for
each frame. What it does is set by :class:`EffectSettings`, which a user
interface may replace at any time (a whole new frozen object: workers read one
consistent snapshot per call):

* ``effect``: ``style`` (paint in a style), ``blur``, ``image`` or ``video`` (a
  picture or a looping clip), ``color`` (solid), ``none`` (the frame as it is;
  the mask is still computed, e.g. for ``--matte``).
* ``target``: where the effect applies: ``background`` (behind the person),
  ``person`` (the person; the background stays), ``all`` (the whole frame).
* ``strength`` (style only): 1 paints with the style's bottleneck; lower values
  mix in the frame's own content bottleneck, the Magenta model's way of blending.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from camfx.errors import CamfxError
from camfx.models.segmentation import Segmenter
from camfx.models.style import StylePredictor, Stylizer, read_image
from camfx.vision.compositing import CleanPlate, composite
from camfx.vision.imaging import cover, shrink
from camfx.vision.refine import MaskRefiner, MaskSettings
from camfx.vision.steady import SteadyBackground

EFFECTS = ("style", "blur", "image", "video", "color", "none")
TARGETS = ("background", "person", "all")


@dataclass(frozen=True)
class EffectSettings:
    effect: str = "style"
    target: str = "background"
    strength: float = 1.0  # style: 0 (the frame's own look) .. 1 (the style)
    blur: float = 12.0  # blur: Gaussian sigma in pixels at 720p
    color: tuple[int, int, int] = (64, 177, 0)  # color: BGR (a green-screen green)

    def __post_init__(self) -> None:
        if self.effect not in EFFECTS:
            raise CamfxError(f"unknown effect '{self.effect}'; use one of {', '.join(EFFECTS)}")
        if self.target not in TARGETS:
            raise CamfxError(f"unknown target '{self.target}'; use one of {', '.join(TARGETS)}")
        if not 0.0 <= self.strength <= 1.0:
            raise CamfxError(f"strength must be between 0 and 1, not {self.strength}")


class Backdrop(ABC):
    """A picture to put where the effect applies, for the image and video effects."""

    @abstractmethod
    def picture(self, size: tuple[int, int]) -> np.ndarray:
        """The current picture, covering `size` (width, height)."""


class PictureBackdrop(Backdrop):
    def __init__(self, path: Path) -> None:
        self._image = read_image(path)
        self._cached: np.ndarray | None = None

    def picture(self, size: tuple[int, int]) -> np.ndarray:
        if self._cached is None or self._cached.shape[1::-1] != size:
            self._cached = cover(self._image, size)
        return self._cached


class VideoBackdrop(Backdrop):
    """A clip played at its own frame rate, looped, whatever the camera's rate."""

    def __init__(self, path: Path) -> None:
        self._capture = cv2.VideoCapture(str(path))
        if not path.is_file() or not self._capture.isOpened():
            raise CamfxError(f"{path}: not a video camfx can read (try an MP4 file)")
        fps = self._capture.get(cv2.CAP_PROP_FPS)
        self._fps = fps if 1 <= fps <= 240 else 30.0
        self._started: float | None = None
        self._shown = -1
        self._current: np.ndarray | None = None
        self._covered: tuple[int, tuple[int, int], np.ndarray] | None = None  # (frame, size, pic)

    def picture(self, size: tuple[int, int]) -> np.ndarray:
        now = time.monotonic()
        self._started = now if self._started is None else self._started
        due = int((now - self._started) * self._fps)
        while self._shown < due or self._current is None:
            ok, frame = self._capture.read()
            if not ok:  # the end: loop
                self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, frame = self._capture.read()
                if not ok:
                    raise CamfxError("the background video has no readable frames")
                self._started, due, self._shown = now, 0, -1
            self._current = frame
            self._shown += 1
        # The clip runs slower than the camera: scale each of its frames once, not per call.
        if self._covered is None or self._covered[:2] != (self._shown, size):
            self._covered = (self._shown, size, cover(self._current, size))
        return self._covered[2]


class Effect:
    """Segment, make the effect's picture, composite. No threads of its own.

    It keeps per-stream state (the mask's temporal smoothing, the clean plate, the
    steady painting, a compositing buffer): each of ``segment``, ``background`` and
    ``composite`` must be called from one thread at a time, in frame order. The
    painted background (style effect, background target) is steady: repainted only
    where the room changed (:mod:`camfx.vision.steady`); ``steady=False`` paints every frame.
    """

    def __init__(
        self,
        segmenter: Segmenter,
        stylizer: Stylizer,
        mask_settings: MaskSettings | None = None,
        settings: EffectSettings | None = None,
        backdrop: Backdrop | None = None,
        predictor: StylePredictor | None = None,
        steady: bool = True,
    ) -> None:
        self.segmenter = segmenter
        self.stylizer = stylizer
        self.settings = settings or EffectSettings()
        self.backdrop = backdrop
        self.predictor = predictor  # for strength < 1: the frame's own bottleneck
        self.refiner = MaskRefiner(mask_settings)
        self.plate = CleanPlate()
        # The painted background: repainted only where the room changed (camfx.vision.steady).
        # steady=False paints every frame afresh, as camfx did before (for comparisons).
        self.steady = steady
        self.painting = SteadyBackground()
        self._full: tuple | None = None  # (small painting, offset, at full size)
        self._inverse: np.ndarray | None = None  # reused 1 - mask buffer
        self._solid: np.ndarray | None = None  # the color effect's picture

    def available_effects(self) -> tuple[str, ...]:
        """The effects this instance can switch to (image and video need their backdrop)."""
        needs = {"image": PictureBackdrop, "video": VideoBackdrop}
        return tuple(e for e in EFFECTS if e not in needs or isinstance(self.backdrop, needs[e]))

    def segment(self, image: np.ndarray) -> np.ndarray:
        return self.refiner.refine(image, self.segmenter.probability_map(image))

    def background(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The effect's picture at the frame's size: what shows where the effect applies.

        (Named for the default target; for ``person`` and ``all`` it is the whole
        frame with the effect applied.)
        """
        s = self.settings
        size = (image.shape[1], image.shape[0])
        if s.effect == "none":
            return image
        if s.effect == "color":
            if (
                self._solid is None
                or self._solid.shape != image.shape
                or (tuple(self._solid[0, 0]) != s.color)
            ):
                self._solid = np.full_like(image, s.color)  # made once, not every frame
            return self._solid
        if s.effect in ("image", "video"):
            if self.backdrop is None:
                raise CamfxError(f"the {s.effect} effect needs --background FILE")
            return self.backdrop.picture(size)
        if s.effect == "blur":
            return self._blurred(image, mask, s)
        return self._painted(image, mask, s)

    def composite(self, image: np.ndarray, mask: np.ndarray, background: np.ndarray) -> np.ndarray:
        target = self.settings.target
        if self.settings.effect == "none" or target == "all":
            return background
        if self._inverse is None or self._inverse.shape != mask.shape:
            self._inverse = np.empty(mask.shape, np.float32)
        if target == "person":
            return composite(background, image, mask, self._inverse)
        return composite(image, background, mask, self._inverse)

    def _source(self, small: np.ndarray, small_mask: np.ndarray, target: str) -> np.ndarray:
        """What to paint or blur: the clean plate behind the person, else the frame itself."""
        if target == "background":
            return self.plate.update(small, small_mask)
        return small

    def _painted(self, image: np.ndarray, mask: np.ndarray, s: EffectSettings) -> np.ndarray:
        size = (self.stylizer.width, self.stylizer.height)
        small, small_mask = shrink(image, size), shrink(mask, size)  # 0.5 ms, not 2.8
        full = (image.shape[1], image.shape[0])

        def paint(source: np.ndarray, plain: np.ndarray | None = None) -> np.ndarray:
            bottleneck = None
            if s.strength < 1.0 and self.predictor is not None:
                content = self.predictor.bottleneck(small)
                style = self.stylizer.style.bottleneck
                bottleneck = s.strength * style + (1 - s.strength) * content
            return self.stylizer.stylize(source, bottleneck, plain)

        if not (self.steady and s.target == "background"):
            source = self._source(small, small_mask, s.target)
            painted = paint(source, self.plate.unseen if s.target == "background" else None)
            return cv2.resize(painted, full, interpolation=cv2.INTER_CUBIC)
        key = (id(self.stylizer), self.stylizer.style.name, s.strength)
        painted, _ = self.painting.update(small, small_mask, paint, key)
        offset = self.painting.offset
        # Unchanged painting: the same full-size picture, scaled once.
        cached = self._full
        if (
            cached is None
            or cached[0] is not painted
            or cached[1] != offset
            or cached[2].shape[1::-1] != full
        ):
            self._full = (painted, offset, _scaled(painted, full, offset))
        return self._full[2]

    def _blurred(self, image: np.ndarray, mask: np.ndarray, s: EffectSettings) -> np.ndarray:
        # Blur at a quarter of the size: the same look for a fraction of the cost.
        size = (max(1, image.shape[1] // 4), max(1, image.shape[0] // 4))
        small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        small_mask = cv2.resize(mask, size, interpolation=cv2.INTER_AREA)
        source = self._source(small, small_mask, s.target)
        sigma = max(0.1, s.blur * image.shape[0] / 720 / 4)
        blurred = cv2.GaussianBlur(source, (0, 0), sigma)
        return cv2.resize(blurred, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)


def _scaled(painting: np.ndarray, size: tuple[int, int], offset: tuple[float, float]) -> np.ndarray:
    """The painting scaled to `size` (bicubic), moved by `offset` px of its own size: the
    part of a pixel the camera moved that the painting has not (camfx.vision.steady)."""
    if offset == (0.0, 0.0):
        return cv2.resize(painting, size, interpolation=cv2.INTER_CUBIC)
    sx, sy = size[0] / painting.shape[1], size[1] / painting.shape[0]
    # cv2.resize's pixel centres, shifted: x_out = sx * (x_in + dx) + (sx - 1) / 2
    matrix = np.float32(
        [[sx, 0, sx * offset[0] + (sx - 1) / 2], [0, sy, sy * offset[1] + (sy - 1) / 2]]
    )
    return cv2.warpAffine(
        painting, matrix, size, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
