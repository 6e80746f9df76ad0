"""MediaPipe's selfie segmentation models (square and landscape) as segmenters."""

from __future__ import annotations

import numpy as np

from camfx.models.runtime import TFLiteModel
from camfx.models.segmentation.base import Segmenter
from camfx.models.segmentation.fitting import Fit


class SelfieSegmenter(Segmenter):
    """MediaPipe selfie segmentation: one probability channel, pixels in [0, 1]."""

    def __init__(self, model: TFLiteModel, fit: Fit | None = None) -> None:
        self.input_size = model.inputs[0].shape[1:3]
        super().__init__(fit)
        self.name = "selfie" if self.input_size == (256, 256) else "selfie-landscape"
        self._model = model
        self._input = np.empty((1, *self.input_size, 3), np.float32)

    def person_probability(self, rgb: np.ndarray) -> np.ndarray:
        self._normalized(rgb, self._input[0])  # pixels in [0, 1]
        return self._model.run(self._input)[0][0, ..., 0]

