"""Person segmentation: a frame in, a person probability map out.

The whole of it in three calls::

    segmenter = create_segmenter("selfie-pair-pose", threads=2)   # by name, or a .tflite
    prob = segmenter.probability_map(frame_bgr)  # low-res map over the whole frame
    mask = MaskRefiner(settings).refine(frame_bgr, prob)  # camfx.vision.refine

One module per job: :mod:`.base` (the :class:`Segmenter` interface), :mod:`.fitting`
(how a frame of any shape is fitted into a model's input), :mod:`.tracking` (the window
around the people), one module per model (:mod:`.deeplab`, :mod:`.selfie`,
:mod:`.pose`, :mod:`.model_file`), :mod:`.combine` (several as one), :mod:`.pose_assist`
(the pose model's second opinion on a person seen at a distance) and
:mod:`.registry` (the names and :func:`create_segmenter`). To add a segmenter: subclass
:class:`Segmenter` in a new module and add a row to ``SEGMENTERS``.
"""

from camfx.models.segmentation.base import Lightens, Segmenter
from camfx.models.segmentation.combine import CombinedSegmenter
from camfx.models.segmentation.deeplab import (
    DeepLabSegmenter,
    person_against_others,
    person_lead,
)
from camfx.models.segmentation.fitting import FITS, Fit
from camfx.models.segmentation.model_file import ModelFileSegmenter
from camfx.models.segmentation.pose import PoseSegmenter
from camfx.models.segmentation.pose_assist import PoseAssisted
from camfx.models.segmentation.registry import (
    DEFAULT_SEGMENTER,
    SEGMENTERS,
    create_segmenter,
)
from camfx.models.segmentation.selfie import SelfieSegmenter
from camfx.models.segmentation.tracking import Box, PeopleTracker, people_box, people_boxes

__all__ = [
    "DEFAULT_SEGMENTER", "FITS", "SEGMENTERS", "Box", "CombinedSegmenter", "DeepLabSegmenter",
    "Fit", "Lightens", "ModelFileSegmenter", "PeopleTracker", "PoseAssisted", "PoseSegmenter",
    "Segmenter", "SelfieSegmenter", "create_segmenter", "people_box", "people_boxes",
    "person_against_others", "person_lead",
]
