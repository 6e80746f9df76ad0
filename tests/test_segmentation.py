"""The DeepLab person mask on real footage, against a chroma-key ground truth."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from camfx.errors import CamfxError
from camfx.segmentation import create_segmenter
from tests.conftest import MEDIA, chroma_key_person, read_video_frames


@pytest.fixture(scope="module")
def portrait_frames():
    return read_video_frames(MEDIA / "portrait_720.mp4", every=30)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def test_mask_matches_the_person_on_square_frames(portrait_frames):
    segmenter = create_segmenter("deeplab", device="cpu")
    for frame in portrait_frames:
        mask = segmenter.segment(frame)
        assert mask.shape == frame.shape[:2] and mask.dtype == np.float32
        assert mask.min() >= 0.0 and mask.max() <= 1.0
        assert iou(mask > 0.5, chroma_key_person(frame)) > 0.9


@pytest.mark.parametrize("fit", ["squash", "letterbox"])
def test_wide_frames_keep_the_person(portrait_frames, fit):
    """A 16:9 crop of the footage at 1280x720, as a webcam would deliver it."""
    segmenter = create_segmenter("deeplab", device="cpu", fit=fit)
    scores = []
    for frame in portrait_frames:
        wide = cv2.resize(frame[60:465], (1280, 720))
        scores.append(iou(segmenter.segment(wide) > 0.5, chroma_key_person(wide)))
    # Measured: squash 0.95 mean, letterbox 0.72 (it loses the person on some frames);
    # squash is therefore the default. Letterbox must at least find her most of the time.
    assert np.mean(scores) > (0.9 if fit == "squash" else 0.5)


def test_mask_edges_are_soft_not_stair_stepped(portrait_frames):
    frame = cv2.resize(portrait_frames[0][60:465], (1280, 720))
    mask = create_segmenter("deeplab", device="cpu").segment(frame)
    row = mask[200]  # crosses the head's edge on both sides
    edge = (row > 0.05) & (row < 0.95)
    assert edge.sum() >= 6  # a gradual transition several pixels wide
    # No single-pixel jumps from background to person.
    assert np.abs(np.diff(row)).max() < 0.5


def test_everyone_in_a_group_photo_is_foreground():
    image = cv2.imread(str(MEDIA / "kitchen.jpg"))  # three people in front of a blackboard
    mask = create_segmenter("deeplab", device="cpu").segment(image) > 0.5
    # Each person's head region, left to right, holds person pixels.
    h, w = mask.shape
    for x0, x1 in ((0.05, 0.3), (0.35, 0.6), (0.65, 0.95)):
        band = mask[int(0.2 * h) : int(0.5 * h), int(x0 * w) : int(x1 * w)]
        assert band.mean() > 0.2


def test_unknown_segmenter_is_a_user_error():
    with pytest.raises(CamfxError, match="choose one of: deeplab"):
        create_segmenter("rembg")
