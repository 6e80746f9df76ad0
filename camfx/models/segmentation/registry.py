"""The segmenters by name, and :func:`create_segmenter`, which makes one."""

from __future__ import annotations

import logging
from pathlib import Path

from camfx.errors import CamfxError
from camfx.models import registry as models
from camfx.models.runtime import Device, load_model
from camfx.models.segmentation.base import Segmenter
from camfx.models.segmentation.combine import CombinedSegmenter
from camfx.models.segmentation.deeplab import DeepLabSegmenter
from camfx.models.segmentation.fitting import Fit
from camfx.models.segmentation.model_file import ModelFileSegmenter
from camfx.models.segmentation.pose import PoseSegmenter
from camfx.models.segmentation.pose_assist import PoseAssisted
from camfx.models.segmentation.selfie import SelfieSegmenter
from camfx.tflite import metadata

log = logging.getLogger(__name__)

# name -> (class, model name in camfx.models.registry; for a combination, its members' names)
SEGMENTERS: dict[
    str, tuple[type[Segmenter] | type[CombinedSegmenter] | type[PoseAssisted], str]
] = {
    # The default: the selfie pair, with the pose model's second opinion on the main
    # person while they are seen at a distance (.pose_assist).
    "selfie-pair-pose": (PoseAssisted, "selfie-pair with pose-lite"),
    # Both selfie models, their log-odds averaged (.combine), the general one on a
    # window around the people (track: small, distant people seen larger). On real
    # people (README) it beats each of them and DeepLab.
    "selfie-pair": (CombinedSegmenter, "selfie:track+selfie-landscape"),
    "deeplab": (DeepLabSegmenter, "deeplab"),
    "selfie": (SelfieSegmenter, "selfie"),
    "selfie-landscape": (SelfieSegmenter, "selfie-landscape"),
    "pose": (PoseSegmenter, "pose"),
    "pose-lite": (PoseSegmenter, "pose-lite"),
}



DEFAULT_SEGMENTER = "selfie-pair-pose"


def create_segmenter(
    name: str = DEFAULT_SEGMENTER, threads: int = 1, device: Device = "auto",
    fit: Fit | None = None,
) -> Segmenter | CombinedSegmenter | PoseAssisted:
    if name.lower().endswith(".tflite"):
        path = Path(name).expanduser()
        if not path.is_file():
            raise CamfxError(f"segmentation model {path} not found")
        return ModelFileSegmenter(load_model(path, threads, device), path, fit)
    if "+" in name:  # several combined, each with its own fit: "selfie:track+deeplab"
        members = []
        for part in name.split("+"):
            part, _, own_fit = part.partition(":")
            members.append(create_segmenter(part, threads, device, fit or own_fit or None))
        return CombinedSegmenter(members)
    try:
        segmenter_class, model_name = SEGMENTERS[name]
    except KeyError:
        raise CamfxError(
            f"unknown segmenter '{name}'; choose one of: {', '.join(SEGMENTERS)}, "
            "or give a .tflite segmentation model"
        ) from None
    if segmenter_class is PoseAssisted:
        base_name, _, pose_name = model_name.partition(" with ")
        pose = create_segmenter(pose_name, threads, device)
        assert isinstance(pose, PoseSegmenter)
        return PoseAssisted(create_segmenter(base_name, threads, device, fit), pose, name)
    if segmenter_class is CombinedSegmenter:
        combined = create_segmenter(model_name, threads, device, fit)
        combined.name = name
        # One member a frame, in turn, live (README: Speed): half the models' CPU for a
        # map a frame older where a person moves. "a+b" runs every member every frame.
        combined.alternate = True
        return combined
    segmenter = segmenter_class(segmenter_class.load(model_name, threads, device), fit=fit)
    segmenter.name = name
    _use_metadata(segmenter, models.require(model_name))
    return segmenter


def _use_metadata(segmenter: Segmenter, path: Path) -> None:
    """A model file that says how to normalize its input is believed over the defaults
    (the published selfie models do; the published DeepLab cut carries none)."""
    try:
        normalization = metadata.input_normalization(metadata.read_metadata(path))
    except ValueError as exc:
        log.warning("%s: metadata ignored (%s)", path.name, exc)
        return
    if normalization is not None:
        segmenter.mean, segmenter.std = normalization
