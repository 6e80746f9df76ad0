"""MediaPipe BlazePose GHUM's person mask as a segmenter."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from camfx.models import derived
from camfx.models.runtime import Device, TFLiteModel
from camfx.models.segmentation.base import Segmenter, sigmoid
from camfx.models.segmentation.fitting import Fit


class PoseSegmenter(Segmenter):
    """MediaPipe BlazePose GHUM (full or lite): the pose model's person mask (logits, at
    its input's size). It is made for one person: the one its pose is about."""

    input_size = (256, 256)  # as published; RUN_SIDE where camfx runs it smaller
    SEGMENTATION_OUTPUT = 2  # of: landmarks, pose flag, segmentation, heatmap, world
    # The side camfx runs a model at (its resizes scaled: a fully convolutional network).
    # The lite model's mask is scaled onto the base map's grid, which has fewer cells
    # than 224 over any window up to 630 px of a 720p frame; 0.77x the run of 256, and on
    # the real clips and photos the same mean IoU (README: Segmentation). At 192 photos
    # lost 0.004, at 160 the mask broke up, at 240 (not a multiple of its stride, 32) the
    # clips lost 0.01. The full model at 224 strayed further from itself (close-ups: IoU
    # 0.66-0.70 with its mask at 256, the lite one 0.89-0.94): not measured further, it
    # runs at 256.
    RUN_SIDE: ClassVar[dict[str, int]] = {"pose-lite": 224}

    def __init__(self, model: TFLiteModel, fit: Fit | None = None, name: str = "pose") -> None:
        super().__init__(fit)
        self.name = name
        self._model = model
        _, height, width, _ = model.inputs[0].shape
        self.input_size = (height, width)
        self._input = np.empty((1, *self.input_size, 3), np.float32)
        # The model cut to its mask (load) has that one output.
        self._mask_output = 0 if len(model.outputs) == 1 else self.SEGMENTATION_OUTPUT

    @classmethod
    def load(cls, model_name: str, threads: int, device: Device) -> TFLiteModel:
        """The published model cut to its person mask, sized for RUN_SIDE: without the
        ops only the landmarks need (0.93x the run, and no landmarks and heatmaps copied
        out); the model as published when that cannot be made."""
        side = cls.RUN_SIDE.get(model_name)
        size = (side, side) if side else cls.input_size
        return cls.load_derived(
            model_name, threads, device,
            lambda published: derived.mask_model(published, cls.SEGMENTATION_OUTPUT, side),
            lambda model: (model.inputs[0].shape == (1, *size, 3)
                           and [o.shape for o in model.outputs] == [(1, *size, 1)]),
            model_name)

    def person_probability(self, rgb: np.ndarray) -> np.ndarray:
        self._normalized(rgb, self._input[0])  # pixels in [0, 1]
        return sigmoid(self._model.run(self._input)[self._mask_output][0, ..., 0])

    def run_bgr(self, small_bgr: np.ndarray) -> np.ndarray:
        """The person mask of a model-sized BGR picture."""
        return self._run(small_bgr)
