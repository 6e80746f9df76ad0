"""A segmentation model of the user's own (.tflite), run as its metadata says."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from camfx.errors import CamfxError
from camfx.models.runtime import TFLiteModel
from camfx.models.segmentation.base import Segmenter
from camfx.models.segmentation.deeplab import person_against_others
from camfx.models.segmentation.fitting import Fit
from camfx.tflite import metadata

log = logging.getLogger(__name__)


class ModelFileSegmenter(Segmenter):
    """A segmentation model of your own (a .tflite, e.g. from scripts/convert.py), run as
    its metadata says: pixels normalized by its mean/std; one output channel taken as the
    person probability, several as class scores with "person" found in its label file."""

    def __init__(self, model: TFLiteModel, path: Path, fit: Fit | None = None) -> None:
        shape, out = model.inputs[0].shape, model.outputs[0].shape
        if len(shape) != 4 or shape[-1] != 3 or len(out) != 4:
            raise CamfxError(
                f"{path.name} takes {list(shape)} and gives {list(out)}: a segmentation "
                "model takes a picture [1, H, W, 3] and gives a map [1, h, w, classes]"
            )
        self.input_size = shape[1:3]
        super().__init__(fit)
        self.name = path.stem
        self._model = model
        self._input = np.empty(shape, np.float32)
        info = _model_metadata(path)
        normalization = metadata.input_normalization(info)
        if normalization is None:
            log.warning("%s says nothing of its input normalization; feeding pixels in "
                        "[0, 1] (add it: scripts/convert.py --metadata --mean --std)", path.name)
        else:
            self.mean, self.std = normalization
        self._person = None if out[-1] == 1 else _person_label(path, out[-1])

    def person_probability(self, rgb: np.ndarray) -> np.ndarray:
        self._normalized(rgb, self._input[0])
        scores = self._model.run(self._input)[0][0]
        prob = (scores[..., 0] if self._person is None
                else person_against_others(scores, self._person)).astype(np.float32)
        if prob.shape != tuple(self.input_size):  # a coarser output map
            prob = cv2.resize(prob, self.model_wh(), interpolation=cv2.INTER_LINEAR)
        return prob


def _model_metadata(path: Path) -> metadata.ModelInfo | None:
    try:
        return metadata.read_metadata(path)
    except ValueError as exc:
        raise CamfxError(f"{path.name}: unreadable metadata ({exc})") from None


def _person_label(path: Path, classes: int) -> int:
    labels = [label.strip().lower() for label in metadata.read_labels(path) or []]
    if "person" not in labels:
        raise CamfxError(
            f"{path.name} gives {classes} classes but its metadata has no 'person' label: "
            "add a label file (scripts/convert.py --metadata --labels FILE)"
        )
    return labels.index("person")

