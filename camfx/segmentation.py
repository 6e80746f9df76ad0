"""Person segmentation: a frame in, a person probability map out.

Every segmenter is a small subclass of :class:`Segmenter` that says its input
size and turns one model-sized RGB picture into a person probability map; the
base class does the geometry (how a frame of any shape is fitted into the
model's input, see :data:`FITS`) and returns a low-resolution map that covers the
whole frame. :mod:`camfx.refine` turns that map into the final mask at the
frame's resolution; :meth:`Segmenter.segment` is the plain version of that.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Literal

import cv2
import numpy as np

from camfx import models
from camfx.errors import CamfxError
from camfx.runtime import Device, TFLiteModel

Fit = Literal["squash", "letterbox", "crop", "tile"]
# How a frame whose shape differs from the model's input is fitted into it:
#   squash    resize to the input, ignoring proportions (the selfie models' default)
#   letterbox keep proportions, pad the short side
#   crop      keep proportions, cut the middle out (people at the sides are lost)
#   tile      keep proportions, run overlapping model-shaped tiles, keep the max
#             (DeepLab's default)
FITS: tuple[Fit, ...] = ("squash", "letterbox", "crop", "tile")


class Segmenter(ABC):
    """Finds the people in a frame."""

    name: str
    input_size: tuple[int, int]  # (height, width) the model takes
    default_fit: Fit = "squash"

    def __init__(self, fit: Fit | None = None) -> None:
        fit = fit or self.default_fit
        if fit not in FITS:
            raise CamfxError(f"unknown fit '{fit}'; use one of {', '.join(FITS)}")
        self.fit = fit

    @abstractmethod
    def person_probability(self, rgb: np.ndarray) -> np.ndarray:
        """Probability of 'person' per pixel, float32 (H, W) in [0, 1], for a model-sized RGB."""

    def probability_map(self, frame_bgr: np.ndarray) -> np.ndarray:
        """Person probability over the whole frame at about the model's resolution.

        The map's shape need not match the frame's proportions (with ``squash`` it
        is the model's input shape); scaling it to the frame's size aligns it.
        """
        if self.fit == "squash":
            return self._run(cv2.resize(frame_bgr, self._model_wh(), interpolation=cv2.INTER_AREA))
        if self.fit == "tile":
            return self._tiled(frame_bgr)
        return self._fitted(frame_bgr, pad=self.fit == "letterbox")

    def segment(self, frame_bgr: np.ndarray) -> np.ndarray:
        """Soft person mask, float32 (H, W) in [0, 1], the size of the frame, unrefined."""
        prob = self.probability_map(frame_bgr)
        # Bilinear upscaling of the low-resolution map gives edges without stair-steps.
        return cv2.resize(prob, frame_bgr.shape[1::-1], interpolation=cv2.INTER_LINEAR)

    def _model_wh(self) -> tuple[int, int]:
        return self.input_size[1], self.input_size[0]

    def _run(self, small_bgr: np.ndarray) -> np.ndarray:
        return self.person_probability(cv2.cvtColor(small_bgr, cv2.COLOR_BGR2RGB))

    def _fitted(self, frame_bgr: np.ndarray, pad: bool) -> np.ndarray:
        """Letterbox (pad) or crop, keeping the frame's proportions."""
        frame_h, frame_w = frame_bgr.shape[:2]
        model_w, model_h = self._model_wh()
        fit_scale = min if pad else max
        scale = fit_scale(model_w / frame_w, model_h / frame_h)
        w, h = max(1, round(frame_w * scale)), max(1, round(frame_h * scale))
        resized = cv2.resize(frame_bgr, (w, h), interpolation=cv2.INTER_AREA)
        if pad:
            canvas = np.zeros((model_h, model_w, 3), np.uint8)
            top, left = (model_h - h) // 2, (model_w - w) // 2
            canvas[top : top + h, left : left + w] = resized
            return self._run(canvas)[top : top + h, left : left + w]
        top, left = (h - model_h) // 2, (w - model_w) // 2
        prob = np.zeros((h, w), np.float32)  # what the crop leaves out counts as background
        prob[top : top + model_h, left : left + model_w] = self._run(
            resized[top : top + model_h, left : left + model_w]
        )
        return prob

    def _tiled(self, frame_bgr: np.ndarray) -> np.ndarray:
        """Overlapping tiles with the model's proportions along the frame's long side."""
        frame_h, frame_w = frame_bgr.shape[:2]
        model_w, model_h = self._model_wh()
        # Scale so the frame covers the model's input; tiles run along the long side.
        scale = max(model_w / frame_w, model_h / frame_h)
        w = max(model_w, round(frame_w * scale))
        h = max(model_h, round(frame_h * scale))
        resized = cv2.resize(frame_bgr, (w, h), interpolation=cv2.INTER_AREA)
        prob = np.zeros((h, w), np.float32)
        for top in _tile_starts(h, model_h):
            for left in _tile_starts(w, model_w):
                tile = self._run(resized[top : top + model_h, left : left + model_w])
                window = prob[top : top + model_h, left : left + model_w]
                np.maximum(window, tile, out=window)  # a person in any tile is kept
        return prob


def _tile_starts(length: int, tile: int) -> list[int]:
    """Evenly spaced starts of the fewest tiles that cover `length`."""
    count = math.ceil(length / tile)
    if count <= 1:
        return [0]
    return [round(i * (length - tile) / (count - 1)) for i in range(count)]


class DeepLabSegmenter(Segmenter):
    """DeepLab v3 (MobileNetV2, PASCAL VOC): everything of class 15 is a person."""

    name = "deeplab"
    input_size = (257, 257)
    PERSON_CLASS = 15
    # Measured at 1280x720 (README): tiles keep the person's proportions and
    # everyone in the frame; squashing distorts her into false positives on busy
    # backgrounds, letterboxing leaves her too small, cropping loses the sides.
    default_fit: Fit = "tile"

    def __init__(self, model: TFLiteModel, fit: Fit | None = None) -> None:
        super().__init__(fit)
        self._model = model
        self._input = np.empty((1, *self.input_size, 3), np.float32)

    def person_probability(self, rgb: np.ndarray) -> np.ndarray:
        # The model takes pixels in [-1, 1].
        np.multiply(rgb, 2.0 / 255.0, out=self._input[0], casting="unsafe")
        self._input -= 1.0
        logits = self._model.run(self._input)[0][0]
        # Two-way comparison instead of a 21-class softmax: person against the
        # strongest other class, through a sigmoid. A running maximum over the
        # class columns is 3x faster than numpy's max over the last axis here.
        by_class = logits.reshape(-1, logits.shape[-1])
        others = by_class[:, 0].copy()
        for c in range(1, by_class.shape[1]):
            if c != self.PERSON_CLASS:
                np.maximum(others, by_class[:, c], out=others)
        person = by_class[:, self.PERSON_CLASS]
        return _sigmoid(person - others).reshape(logits.shape[:2])


class SelfieSegmenter(Segmenter):
    """MediaPipe selfie segmentation: one probability channel, pixels in [0, 1]."""

    def __init__(self, model: TFLiteModel, fit: Fit | None = None) -> None:
        self.input_size = model.inputs[0].shape[1:3]
        super().__init__(fit)
        self.name = "selfie" if self.input_size == (256, 256) else "selfie-landscape"
        self._model = model
        self._input = np.empty((1, *self.input_size, 3), np.float32)

    def person_probability(self, rgb: np.ndarray) -> np.ndarray:
        np.multiply(rgb, 1.0 / 255.0, out=self._input[0], casting="unsafe")
        return self._model.run(self._input)[0][0, ..., 0]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))).astype(np.float32)


# name -> (class, model name in camfx.models)
SEGMENTERS: dict[str, tuple[type[Segmenter], str]] = {
    "deeplab": (DeepLabSegmenter, "deeplab"),
    "selfie": (SelfieSegmenter, "selfie"),
    "selfie-landscape": (SelfieSegmenter, "selfie-landscape"),
}


def create_segmenter(
    name: str = "deeplab", threads: int = 1, device: Device = "auto", fit: Fit | None = None
) -> Segmenter:
    try:
        segmenter_class, model_name = SEGMENTERS[name]
    except KeyError:
        raise CamfxError(
            f"unknown segmenter '{name}'; choose one of: {', '.join(SEGMENTERS)}"
        ) from None
    model = models.load(model_name, threads=threads, device=device)
    return segmenter_class(model, fit=fit)
