"""MediaPipe BlazePose GHUM's person mask as a segmenter."""

from __future__ import annotations

import numpy as np

from camfx.models.runtime import TFLiteModel
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

    def person_probability(self, rgb: np.ndarray) -> np.ndarray:
        self._normalized(rgb, self._input[0])  # pixels in [0, 1]
        return sigmoid(self._model.run(self._input)[self.SEGMENTATION_OUTPUT][0, ..., 0])

    def run_bgr(self, small_bgr: np.ndarray) -> np.ndarray:
        """The person mask of a model-sized BGR picture."""
        return self._run(small_bgr)
