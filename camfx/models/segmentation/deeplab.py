"""DeepLab v3 (MobileNetV2, PASCAL VOC) as a person segmenter."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from camfx.models import derived
from camfx.models.runtime import Device, TFLiteModel
from camfx.models.segmentation.base import Segmenter, sigmoid
from camfx.models.segmentation.fitting import Fit, TallFit
from camfx.tflite import deeplab_cut


class DeepLabSegmenter(Segmenter):
    """DeepLab v3 (MobileNetV2, PASCAL VOC): everything of class 15 is a person."""

    name = "deeplab"
    input_size = (257, 257)
    CLASSES = 21
    PERSON_CLASS = 15
    # Person must beat the other classes by this many logits to reach 0.5. Measured
    # (README): at 0 the edge spreads into busy backgrounds (IoU 0.87 on paintings),
    # at 1 it sits on the person (0.93); on real footage against a wall it moves the
    # edge by a pixel or two (IoU 0.964 -> 0.959).
    EDGE_LOGIT = 1.0
    # DeepLab's map is coarse (output stride 8): a wider, tighter guided filter moves
    # its edge onto the picture's. Measured with the colour model (README): radius 16
    # against 32 halves the halo (0.065 -> 0.031) at the same IoU and boundary F.
    mask_tweaks: ClassVar[dict[str, float]] = {"guided_radius": 16, "guided_eps": 0.001}
    # Measured at 1280x720 (README): tracking keeps the person's proportions and
    # everyone in the frame, and sees her large, in one run; squashing distorts her
    # into false positives on busy backgrounds, letterboxing leaves her too small,
    # cropping loses the sides, tiles take two runs and see more of the background.
    default_fit: Fit = "track"
    # Made for whole scenes, it keeps the letterbox: in a tile it lost legs seen without
    # the rest of the person (ccp_0631: legs 67 % found letterboxed, 46 % tiled).
    tall_fit: TallFit = "letterbox"

    mean = std = 127.5  # the model takes pixels in [-1, 1]

    def __init__(self, model: TFLiteModel, fit: Fit | None = None) -> None:
        super().__init__(fit)
        self._model = model
        self._input = np.empty((1, *self.input_size, 3), np.float32)
        # The model cut before its upsampling (camfx.tflite.deeplab_cut) gives 33x33 logits.
        self._coarse = tuple(model.outputs[0].shape[1:3]) != tuple(self.input_size)

    @classmethod
    def load(cls, model_name: str, threads: int, device: Device) -> TFLiteModel:
        """The published model cut before its final upsampling; the model as published
        when that cannot be made."""
        return cls.load_derived(
            model_name, threads, device, derived.deeplab_logits_model,
            lambda model: (model.inputs[0].shape == (1, *cls.input_size, 3)
                           and model.outputs[0].shape[-1] == cls.CLASSES),
            "DeepLab")

    def person_probability(self, rgb: np.ndarray) -> np.ndarray:
        self._normalized(rgb, self._input[0])
        logits = self._model.run(self._input)[0][0]
        lead = person_lead(logits, self.PERSON_CLASS)
        if self._coarse:
            lead = deeplab_cut.upsample_aligned(lead, self.input_size)
        return sigmoid(lead - self.EDGE_LOGIT)


def person_lead(logits: np.ndarray, person: int) -> np.ndarray:
    """How far the person's score [H, W, C] leads the strongest other class's, (H, W).
    A running maximum over the class columns is 3x faster than numpy's max over the
    last axis here."""
    by_class = logits.reshape(-1, logits.shape[-1])
    others = by_class[:, 1 if person == 0 else 0].copy()
    for c in range(by_class.shape[1]):
        if c != person:
            np.maximum(others, by_class[:, c], out=others)
    return (by_class[:, person] - others).reshape(logits.shape[:2])


def person_against_others(logits: np.ndarray, person: int, margin: float = 0.0) -> np.ndarray:
    """P(person) from class scores [H, W, C]: person against the strongest other class,
    through a sigmoid, instead of a C-class softmax; `margin` logits move the 0.5 edge."""
    return sigmoid(person_lead(logits, person) - margin)

