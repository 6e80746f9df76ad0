"""The per-frame work, without threads: segment, make the effect's picture, composite.

An :class:`Effect` is what the pipeline (and the benchmark's naive loop) call for
each frame. What it does is set by :class:`EffectSettings`, which a user
interface may replace at any time (a whole new frozen object: workers read one
consistent snapshot per call):

* ``effect``: the name of a registered effect (:mod:`camfx.core.effects.base`):
  ``style`` (paint in a style), ``blur``, ``image`` or ``video`` (a picture or a
  looping clip), ``color`` (solid), ``none`` (the frame as it is; the mask is
  still computed, e.g. for ``--matte``).
* ``target``: where the effect applies: ``background`` (behind the person),
  ``person`` (the person; the background stays), ``all`` (the whole frame).
* ``strength`` (style only): 1 paints with the style's bottleneck; lower values
  mix in the frame's own content bottleneck, the Magenta model's way of blending.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import numpy as np

from camfx.core.effects.backdrops import Backdrop
from camfx.core.effects.base import EFFECT_KINDS, EFFECTS, EffectKind
from camfx.errors import CamfxError
from camfx.models.segmentation import Segmenter
from camfx.models.style import Style, StylePredictor, Stylizer
from camfx.vision.compositing import CleanPlate, composite
from camfx.vision.exposure import exposed
from camfx.vision.imaging import halve, shrink
from camfx.vision.refine import MaskRefiner, MaskSettings
from camfx.vision.steady import SteadyBackground

TARGETS = ("background", "person", "all")


@dataclass(frozen=True)
class EffectSettings:
    effect: str = "style"
    target: str = "background"
    strength: float = 1.0  # style: 0 (the frame's own look) .. 1 (the style)
    blur: float = 12.0  # blur: Gaussian sigma in pixels at 720p
    color: tuple[int, int, int] = (64, 177, 0)  # color: BGR (a green-screen green)
    # style: the one to paint, None for the stylizer's own. Part of the snapshot so a new
    # style reaches the painter with the rest; not compared (a Style holds an array).
    style: Style | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.effect not in EFFECT_KINDS:
            raise CamfxError(f"unknown effect '{self.effect}'; use one of {', '.join(EFFECTS)}")
        if self.target not in TARGETS:
            raise CamfxError(f"unknown target '{self.target}'; use one of {', '.join(TARGETS)}")
        if not 0.0 <= self.strength <= 1.0:
            raise CamfxError(f"strength must be between 0 and 1, not {self.strength}")


class Effect:
    """Segment, make the effect's picture, composite. No threads of its own.

    It keeps per-stream state (the mask's temporal smoothing, the clean plate, the
    steady painting, each effect's own state, a compositing buffer): each of
    ``segment``, ``background`` and ``composite`` must be called from one thread at a
    time, in frame order. The painted background (style effect, background target) is
    steady: repainted only where the room changed (:mod:`camfx.vision.steady`);
    ``steady=False`` paints every frame.
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
        self._kinds: dict[str, EffectKind] = {}  # each effect used so far, with its state
        self._halves = HalfSizes()  # the frames' and masks' half sizes made by segment

    @property
    def style(self) -> Style:
        """The style painted now: the settings' choice, else the stylizer's own."""
        return self.settings.style or self.stylizer.style

    def available_effects(self) -> tuple[str, ...]:
        """The effects this instance can switch to (image and video need their backdrop)."""
        return tuple(name for name, kind in EFFECT_KINDS.items() if kind.available(self))

    def kind(self, name: str) -> EffectKind:
        """This stream's instance of the effect called `name` (made on first use)."""
        if name not in self._kinds:
            self._kinds[name] = EFFECT_KINDS[name](self)
        return self._kinds[name]

    def half_of(self, image: np.ndarray) -> np.ndarray | None:
        """The frame at half size (imaging.halve) when ``segment`` uses it, else None."""
        if self.refiner.uses_frame and min(image.shape[:2]) >= 2:
            return halve(image)
        return None

    def segment(self, image: np.ndarray, half: np.ndarray | None = None) -> np.ndarray:
        """The person's mask for `image`. `half`: ``half_of(image)``, when the caller made
        it already (the pipeline's capture thread does)."""
        # The frame at half size, made once: the models' fits, the refinement (which
        # works at that size), the painter and the compositor all start from it.
        if half is None:
            half = self.half_of(image)
        mask = person_mask(self.segmenter, self.refiner, image, half)
        self._halves.put(image, mask, half, self.refiner.work_mask)
        return mask

    def shrunk(
        self, image: np.ndarray, mask: np.ndarray, size: tuple[int, int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """`image` and its `mask` shrunk to `size` (imaging.shrink), from their half sizes
        when ``segment`` made them (a mask's: the one it was scaled up from, a hair
        sharper than the full-size mask shrunk)."""
        half, half_mask = self._halves.get(image, mask)
        return shrink(image, size, half), shrink(mask, size, half_mask)

    def background(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The effect's picture at the frame's size: what shows where the effect applies.

        (Named for the default target; for ``person`` and ``all`` it is the whole
        frame with the effect applied.)
        """
        s = self.settings
        return self.kind(s.effect).paint(image, mask, s)

    def composite(self, image: np.ndarray, mask: np.ndarray, background: np.ndarray) -> np.ndarray:
        s = self.settings
        if s.target == "all" or not EFFECT_KINDS[s.effect].composited:
            return background
        coarse = self._halves.get(image, mask)[1]
        if s.target == "person":
            return composite(background, image, mask, coarse)
        return composite(image, background, mask, coarse)

    def source(self, small: np.ndarray, small_mask: np.ndarray, target: str) -> np.ndarray:
        """What an effect paints or blurs: the clean plate behind the person (the room
        without them, kept across frames and effects), else the frame itself."""
        if target == "background":
            return self.plate.update(small, small_mask)
        return small


def person_mask(segmenter: Segmenter, refiner: MaskRefiner, image: np.ndarray,
                half: np.ndarray | None) -> np.ndarray:
    """`image`'s mask as camfx makes it (`half`: its half size, or None): an
    underexposed frame brightened for the segmenter and the refiner only
    (vision/exposure), the segmenter's map refined. The eval's masker calls it too."""
    seen, seen_half = exposed(image, half)
    return refiner.refine(seen, segmenter.probability_map(seen, seen_half), seen_half)


class HalfSizes:
    """The half-size frame and mask that ``Effect.segment`` made for each of the latest
    few masks, found again by the mask (and its frame) itself: the painter and the
    compositor get the full-size mask from the pipeline, often in another thread and a
    frame or more later, and start from these instead of reading it all again.

    Holds the masks and frames weakly (an array's id can be reused once it is gone);
    the tuple of entries is replaced whole, so a reader in another thread never sees
    it half changed.
    """

    KEEP = 8  # masks: more than the pipeline's queues hold between segment and paint

    def __init__(self) -> None:
        self._entries: tuple = ()

    def put(self, image: np.ndarray, mask: np.ndarray, half: np.ndarray | None,
            half_mask: np.ndarray | None) -> None:
        entry = (weakref.ref(image), weakref.ref(mask), half, half_mask)
        self._entries = (entry, *self._entries[: self.KEEP - 1])

    def get(
        self, image: np.ndarray, mask: np.ndarray
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(half-size frame, half-size mask) for `mask` of `image`; (None, None) when
        ``segment`` did not make this mask lately."""
        for image_ref, mask_ref, half, half_mask in self._entries:
            if mask_ref() is mask and image_ref() is image:
                return half, half_mask
        return None, None
