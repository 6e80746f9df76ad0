"""Segmenters combined (camfx.models.segmentation.combine), the default: measured on real people."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from camfx.models.segmentation import DEFAULT_SEGMENTER, create_segmenter
from camfx.models.segmentation.combine import (
    CombinedSegmenter,
    common_size,
    logit_mean_rule,
    mean_rule,
)
from camfx.vision.refine import MaskRefiner, MaskSettings
from camfx_eval import real_eval
from tests.conftest import MEDIA, SHARED

REAL = SHARED / "eval" / "real"


def test_where_two_models_disagree_the_surer_one_wins():
    sure_person, unsure_background = np.float32([[0.99]]), np.float32([[0.3]])
    assert logit_mean_rule([sure_person, unsure_background])[0, 0] > 0.5
    sure_background, unsure_person = np.float32([[0.01]]), np.float32([[0.7]])
    assert logit_mean_rule([sure_background, unsure_person])[0, 0] < 0.5
    agree = np.float32([[0.9]])
    assert logit_mean_rule([agree, agree])[0, 0] == pytest.approx(0.9, abs=1e-4)
    assert mean_rule([sure_person, unsure_background])[0, 0] == pytest.approx(0.645)


def test_the_combined_map_keeps_the_frames_proportions():
    maps = [np.zeros((144, 256), np.float32), np.zeros((256, 256), np.float32)]
    assert common_size(maps, 1280, 720) == (455, 256)  # as fine as the finer map
    assert common_size(maps, 550, 820) == (256, 382)


def test_the_default_is_both_selfie_models_combined_and_masks_any_frame_shape():
    segmenter = create_segmenter(DEFAULT_SEGMENTER, threads=2, device="cpu")
    assert isinstance(segmenter, CombinedSegmenter)
    assert [(m.name, m.fit) for m in segmenter.members] == [
        ("selfie", "track"), ("selfie-landscape", "squash")]
    for name in ("ccp_0028", "ccp_0617_upper"):  # portrait 550x810, landscape 550x412
        image = cv2.imread(str(REAL / "images" / f"{name}.jpg"))
        truth = cv2.imread(str(REAL / "masks" / f"{name}.png"), cv2.IMREAD_GRAYSCALE) >= 128
        mask = segmenter.segment(image)
        assert mask.shape == truth.shape
        assert real_eval.score(mask >= 0.5, truth)[0] > 0.9


def _room_scores(name: str, room: real_eval.Sequence) -> real_eval.SequenceResult:
    segmenter = create_segmenter(name, threads=2, device="cpu")
    refiner = MaskRefiner(segmenter.tuned(MaskSettings()))
    return real_eval.run_sequence(room, lambda f: refiner.refine(f, segmenter.probability_map(f)))


def test_the_pair_outvotes_one_models_mistake_in_a_real_room():
    """The keyed woman in an office meeting room: the general selfie model takes a piece
    of the room for her on some frames (worst frame 0.84, measured); the landscape model
    doesn't, and the pair follows it there (0.98)."""
    room = next(r for r in real_eval.rooms(REAL, MEDIA / "portrait_720.mp4", quick=True)
                if r.name == "meeting_room")
    selfie = _room_scores("selfie", room)
    pair = _room_scores(DEFAULT_SEGMENTER, room)
    assert selfie.worst.iou < 0.9
    assert pair.worst.iou > selfie.worst.iou + 0.05
    assert pair.iou > 0.97


def test_the_pose_models_mask_finds_a_person_standing():
    segmenter = create_segmenter("pose", threads=2, device="cpu")
    image = cv2.imread(str(REAL / "images" / "ccp_0028.jpg"))
    truth = cv2.imread(str(REAL / "masks" / "ccp_0028.png"), cv2.IMREAD_GRAYSCALE) >= 128
    assert real_eval.score(segmenter.segment(image) >= 0.5, truth)[0] > 0.85
