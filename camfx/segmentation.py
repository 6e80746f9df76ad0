"""Person segmentation: a frame in, a soft person mask at the frame's resolution out.

Every segmenter is a small subclass of :class:`Segmenter` that says its input
size and turns one model-sized RGB picture into a person probability map; the
base class does the geometry (aspect-ratio-preserving letterbox, or squash) and
returns a mask as large as the frame, smooth at the edges.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Literal

import cv2
import numpy as np

from camfx import models
from camfx.errors import CamfxError
from camfx.runtime import Device, TFLiteModel

Fit = Literal["letterbox", "squash"]


class Segmenter(ABC):
    """Finds the people in a frame."""

    name: str
    input_size: tuple[int, int]  # (height, width) the model takes

    # How steeply the mask rises across the person's edge. The model's own
    # probabilities fade over ~10 px at 720p, which lets a band of the real
    # background show around the person; 2x keeps the edge soft but narrow.
    edge_gain = 2.0

    def __init__(self, fit: Fit = "squash") -> None:
        self.fit = fit

    @abstractmethod
    def person_probability(self, rgb: np.ndarray) -> np.ndarray:
        """Probability of 'person' per pixel, float32 (H, W) in [0, 1], for a model-sized RGB."""

    def segment(self, frame_bgr: np.ndarray) -> np.ndarray:
        """Soft person mask, float32 (H, W) in [0, 1], the size of the frame."""
        frame_h, frame_w = frame_bgr.shape[:2]
        model_h, model_w = self.input_size
        if self.fit == "squash":
            small = cv2.resize(frame_bgr, (model_w, model_h), interpolation=cv2.INTER_AREA)
            prob = self.person_probability(cv2.cvtColor(small, cv2.COLOR_BGR2RGB))
        else:
            # Keep the frame's proportions: scale the long side to the model's and
            # pad the rest, then read back only the part that holds the frame.
            scale = min(model_w / frame_w, model_h / frame_h)
            w, h = max(1, round(frame_w * scale)), max(1, round(frame_h * scale))
            canvas = np.zeros((model_h, model_w, 3), np.uint8)
            top, left = (model_h - h) // 2, (model_w - w) // 2
            canvas[top : top + h, left : left + w] = cv2.resize(
                frame_bgr, (w, h), interpolation=cv2.INTER_AREA
            )
            prob = self.person_probability(cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB))
            prob = prob[top : top + h, left : left + w]
        prob = np.clip((prob - 0.5) * self.edge_gain + 0.5, 0.0, 1.0)
        # Bilinear upscaling of the low-resolution map gives edges without stair-steps.
        return cv2.resize(prob, (frame_w, frame_h), interpolation=cv2.INTER_LINEAR)


class DeepLabSegmenter(Segmenter):
    """DeepLab v3 (MobileNetV2, PASCAL VOC): everything of class 15 is a person."""

    name = "deeplab"
    input_size = (257, 257)
    PERSON_CLASS = 15

    def __init__(self, model: TFLiteModel, fit: Fit = "squash") -> None:
        super().__init__(fit)
        self._model = model
        self._input = np.empty((1, *self.input_size, 3), np.float32)

    def person_probability(self, rgb: np.ndarray) -> np.ndarray:
        # The model takes pixels in [-1, 1].
        np.multiply(rgb, 2.0 / 255.0, out=self._input[0], casting="unsafe")
        self._input -= 1.0
        logits = self._model.run(self._input)[0][0]
        person = logits[..., self.PERSON_CLASS]
        # Two-way comparison instead of a 21-class softmax: person against the
        # strongest other class, through a sigmoid.
        others = np.delete(logits, self.PERSON_CLASS, axis=-1).max(axis=-1)
        return _sigmoid(person - others)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))).astype(np.float32)


SEGMENTERS = {"deeplab": (DeepLabSegmenter, "deeplab")}  # name -> (class, model name)


def create_segmenter(
    name: str = "deeplab", threads: int = 1, device: Device = "auto", fit: Fit = "squash"
) -> Segmenter:
    try:
        segmenter_class, model_name = SEGMENTERS[name]
    except KeyError:
        raise CamfxError(
            f"unknown segmenter '{name}'; choose one of: {', '.join(SEGMENTERS)}"
        ) from None
    model = models.load(model_name, threads=threads, device=device)
    return segmenter_class(model, fit=fit)
