"""MediaPipe BlazePose GHUM's person mask as a segmenter."""

from __future__ import annotations

import numpy as np

from camfx.models import derived
from camfx.models.runtime import Device, TFLiteModel
from camfx.models.segmentation.base import Segmenter, sigmoid
from camfx.models.segmentation.fitting import Fit


class PoseSegmenter(Segmenter):
    """MediaPipe BlazePose GHUM (full or lite): the pose model's person mask (logits,
    256x256). It is made for one person: the one its pose is about."""

    input_size = (256, 256)
    SEGMENTATION_OUTPUT = 2  # of: landmarks, pose flag, segmentation, heatmap, world

    def __init__(self, model: TFLiteModel, fit: Fit | None = None, name: str = "pose") -> None:
        super().__init__(fit)
        self.name = name
        self._model = model
        self._input = np.empty((1, *self.input_size, 3), np.float32)
        # The model cut to its mask (load) has that one output.
        self._mask_output = 0 if len(model.outputs) == 1 else self.SEGMENTATION_OUTPUT

    @classmethod
    def load(cls, model_name: str, threads: int, device: Device) -> TFLiteModel:
        """The published model cut to its person mask: the same mask without the ops
        only the landmarks need (0.93x the run, and no landmarks and heatmaps copied
        out); the model as published when that cannot be made."""
        return cls.load_derived(
            model_name, threads, device,
            lambda published: derived.mask_only_model(published, cls.SEGMENTATION_OUTPUT),
            lambda model: (model.inputs[0].shape == (1, *cls.input_size, 3)
                           and [o.shape for o in model.outputs] == [(1, *cls.input_size, 1)]),
            model_name)

    def person_probability(self, rgb: np.ndarray) -> np.ndarray:
        self._normalized(rgb, self._input[0])  # pixels in [0, 1]
        return sigmoid(self._model.run(self._input)[self._mask_output][0, ..., 0])

    def run_bgr(self, small_bgr: np.ndarray) -> np.ndarray:
        """The person mask of a model-sized BGR picture."""
        return self._run(small_bgr)
