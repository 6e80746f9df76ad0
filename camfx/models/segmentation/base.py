"""The segmenter interface: a frame in, a person probability map out.

A segmenter is a small subclass of :class:`Segmenter` that says its input size and
turns one model-sized RGB picture into a person probability map
(:meth:`Segmenter.person_probability`); the base class fits a frame of any shape into
the model's input (:mod:`.fitting`) and returns a low-resolution map that covers the
whole frame. :mod:`camfx.vision.refine` turns that map into the final mask at the
frame's resolution; :meth:`Segmenter.segment` is the plain version of that.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import ClassVar, Protocol, runtime_checkable

import cv2
import numpy as np

from camfx.errors import CamfxError
from camfx.models import registry as models
from camfx.models.runtime import Device, TFLiteModel, load_model
from camfx.models.segmentation import fitting
from camfx.models.segmentation.fitting import FITS, Fit, TallFit
from camfx.models.segmentation.tracking import PeopleTracker
from camfx.vision.refine import MaskSettings
from camfx.vision.repeats import RepeatWatch

log = logging.getLogger(__name__)


@runtime_checkable
class Lightens(Protocol):
    """A segmenter with a lighter mode, for a live camera whose frames come faster than it
    segments them (:class:`~camfx.core.pipeline.SegmentPace` switches it): a little of its
    quality for frames it would otherwise drop."""

    light: bool  # the lighter mode is on
    light_saves_ms: float  # what it saves a frame, as last measured (0: not yet)


class Segmenter(ABC):
    """Finds the people in a frame."""

    name: str
    input_size: tuple[int, int]  # (height, width) the model takes
    default_fit: Fit = "squash"
    # How ``track`` fits a frame taller than the model's input (a phone held upright),
    # whole: squashed and letterboxed, averaged. Letterboxed alone, a standing person
    # was too thin for the selfie models (the gap between his legs taken for him);
    # squashed or tiled alone, a close-up's lower body was lost (README: Portrait frames).
    tall_fit: TallFit = "two-views"
    # Mask settings the command line doesn't offer, tuned to this model's output.
    mask_tweaks: ClassVar[dict[str, float]] = {}
    # Pixels go in as (value - mean) / std; a model file's own metadata overrides these.
    mean: float | np.ndarray = 0.0
    std: float | np.ndarray = 255.0

    def __init__(self, fit: Fit | None = None) -> None:
        fit = fit or self.default_fit
        if fit not in FITS:
            raise CamfxError(f"unknown fit '{fit}'; use one of {', '.join(FITS)}")
        self.fit = fit
        self._people: PeopleTracker | None = None  # made on first use: input_size may be
        # set by a subclass after this (from its model), in any order
        self._repeat, self._last = RepeatWatch(), None  # a frame seen again: its map again
        self._window_kept = False  # the last run left the tracking window where it was

    @property
    def tracker(self) -> PeopleTracker:
        """Where the people were (the ``track`` fit's window)."""
        if self._people is None:
            self._people = PeopleTracker(self.model_wh())
        return self._people

    @abstractmethod
    def person_probability(self, rgb: np.ndarray) -> np.ndarray:
        """Probability of 'person' per pixel, float32 (H, W) in [0, 1], for a model-sized RGB."""

    @classmethod
    def load(cls, model_name: str, threads: int, device: Device) -> TFLiteModel:
        """The model this segmenter runs: the named one, as published."""
        return models.load(model_name, threads=threads, device=device)

    @classmethod
    def load_derived(cls, model_name: str, threads: int, device: Device,
                     build: Callable[[Path], Path], fits: Callable[[TFLiteModel], bool],
                     what: str) -> TFLiteModel:
        """The model `build` makes from the published one (a cut: camfx.models.derived),
        when `fits` accepts its tensors; else the model as published (checked, with
        its fix-it errors) and one warning naming `what`."""
        try:
            model = load_model(build(models.require(model_name)), threads, device)
            if not fits(model):
                shapes = (model.inputs[0].shape, [o.shape for o in model.outputs])
                raise ValueError(f"the cut model has tensors {shapes}")
            return model
        # A file that cannot be cut, or a cache that can't be written: the published
        # model works, only slower. A bug in the cut itself fails loudly.
        except (OSError, ValueError) as exc:
            log.warning("%s runs as published (%s)", what,
                        str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__)
            # (the published file itself: a subclass's load is what called this)
            return models.load(model_name, threads=threads, device=device)

    def probability_map(
        self, frame_bgr: np.ndarray, half: np.ndarray | None = None
    ) -> np.ndarray:
        """Person probability over the whole frame at about the model's resolution.

        The map's shape need not match the frame's proportions (with ``squash`` it
        is the model's input shape); scaling it to the frame's size aligns it.
        `half`: the frame at half size (imaging.halve), when the caller has it: the
        same map, without a pass over the full-size frame.
        """
        repeated = self._repeat.repeats(frame_bgr)
        if repeated and self._last is not None and self._settled(frame_bgr):
            return self._last  # the same object: callers can tell nothing changed
        if self.fit == "track":
            window = self.tracker.window
            self._last = fitting.tracked(frame_bgr, self._run, self.model_wh(), self.tracker,
                                         half, self.tall_fit)
            self._window_kept = self.tracker.window == window
        else:
            self._last = fitting.STATELESS_FITS[self.fit](
                frame_bgr, self._run, self.model_wh(), half)
        return self._last

    def _settled(self, frame_bgr: np.ndarray) -> bool:
        """Whether the map of a repeated frame cannot change: always for a fixed fit; for
        ``track``, while the window stays where it was and no search for newcomers is due."""
        if self.fit != "track" or fitting.taller_than_model(frame_bgr, self.model_wh()):
            return True  # a fixed fit, or a frame ``track`` fits whole
        return self._window_kept and self.tracker.idle(frame_bgr.shape[1], frame_bgr.shape[0])

    def reset(self) -> None:
        """Forget where the people were: the next frame starts a new stream."""
        self._people = None
        self._repeat, self._last, self._window_kept = RepeatWatch(), None, False

    def tuned(self, settings: MaskSettings) -> MaskSettings:
        """`settings` with this segmenter's own tweaks (see ``mask_tweaks``)."""
        return replace(settings, **self.mask_tweaks)

    def segment(self, frame_bgr: np.ndarray) -> np.ndarray:
        """Soft person mask, float32 (H, W) in [0, 1], the size of the frame, unrefined."""
        prob = self.probability_map(frame_bgr)
        # Bilinear upscaling of the low-resolution map gives edges without stair-steps.
        return cv2.resize(prob, frame_bgr.shape[1::-1], interpolation=cv2.INTER_LINEAR)

    def model_wh(self) -> tuple[int, int]:
        """The model's input as (width, height)."""
        return self.input_size[1], self.input_size[0]

    def _normalized(self, rgb: np.ndarray, out: np.ndarray) -> np.ndarray:
        np.subtract(rgb, self.mean, out=out, casting="unsafe")
        out *= np.float32(1.0) / np.asarray(self.std, np.float32)
        return out

    def _run(self, small_bgr: np.ndarray) -> np.ndarray:
        return self.person_probability(cv2.cvtColor(small_bgr, cv2.COLOR_BGR2RGB))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))).astype(np.float32)
