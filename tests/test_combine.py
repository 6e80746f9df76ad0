"""Segmenters combined (camfx.models.segmentation.combine), the default: measured on real people."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from camfx.models.segmentation import DEFAULT_SEGMENTER, PoseAssisted, create_segmenter
from camfx.models.segmentation.combine import (
    CombinedSegmenter,
    common_size,
    follow_the_fresh,
    logit_mean_rule,
    mean_rule,
)
from camfx.vision.refine import MaskRefiner, MaskSettings
from camfx_eval import real_eval
from tests.conftest import MEDIA, SHARED, count_calls

REAL = SHARED / "eval" / "real"


def test_where_two_models_disagree_the_surer_one_wins():
    sure_person, unsure_background = np.float32([[0.99]]), np.float32([[0.3]])
    assert logit_mean_rule([sure_person, unsure_background])[0, 0] > 0.5
    sure_background, unsure_person = np.float32([[0.01]]), np.float32([[0.7]])
    assert logit_mean_rule([sure_background, unsure_person])[0, 0] < 0.5
    agree = np.float32([[0.9]])
    assert logit_mean_rule([agree, agree])[0, 0] == pytest.approx(0.9, abs=1e-4)
    assert mean_rule([sure_person, unsure_background])[0, 0] == pytest.approx(0.645)


@pytest.mark.parametrize("count", [2, 3])
def test_the_logit_rule_is_the_mean_log_odds_worked_out_without_logs(count):
    """logit_mean_rule works in odds (a square root for two maps): the same map as the
    sigmoid of the mean log-odds, sure 0s and 1s included (kept within 1e-4 of them)."""
    rng = np.random.default_rng(count)
    maps = [rng.random((64, 96), dtype=np.float32) for _ in range(count)]
    maps[0][0, :3] = (0.0, 1.0, 0.5)
    clipped = [np.clip(m.astype(np.float64), 1e-4, 1 - 1e-4) for m in maps]
    mean_log_odds = sum(np.log(p / (1 - p)) for p in clipped) / count
    expected = 1 / (1 + np.exp(-mean_log_odds))
    combined = logit_mean_rule(maps)
    assert combined.dtype == np.float32
    np.testing.assert_allclose(combined, expected, atol=5e-6)  # float32


def test_the_combined_map_keeps_the_frames_proportions():
    maps = [np.zeros((144, 256), np.float32), np.zeros((256, 256), np.float32)]
    assert common_size(maps, 1280, 720) == (455, 256)  # as fine as the finer map
    assert common_size(maps, 550, 820) == (256, 382)


def test_the_default_is_both_selfie_models_combined_and_masks_any_frame_shape():
    default = create_segmenter(DEFAULT_SEGMENTER, threads=2, device="cpu")
    assert isinstance(default, PoseAssisted) and default.pose.name == "pose-lite"
    segmenter = default.base
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


def test_the_pair_runs_one_model_a_frame_after_the_first_of_a_stream():
    segmenter = create_segmenter("selfie-pair", threads=1, device="cpu")
    runs = count_calls(segmenter.members, "probability_map")
    frames = real_eval.read_frames(MEDIA / "portrait_720.mp4", every=1, limit=5)
    for frame in frames:
        segmenter.probability_map(frame)
    assert runs == [3, 3]  # both on the first frame, then one each in turn
    segmenter.reset()  # a new stream: both again on its first frame
    segmenter.probability_map(frames[0])
    assert runs == [4, 4]
    segmenter.probability_map(cv2.resize(frames[1], (640, 360)))  # another shape: both
    assert runs == [5, 5]


def test_where_the_fresh_model_saw_motion_the_older_map_counts_less():
    combined, fresh = np.float32([[0.5, 0.5]]), np.float32([[1.0, 1.0]])
    moved = np.float32([[0.0, 1.0]])  # the fresh map changed a lot in the second pixel
    out = follow_the_fresh(combined, fresh, moved)
    assert out[0, 0] == pytest.approx(0.5)  # no motion: the combination stands
    assert out[0, 1] > 0.7  # motion: towards the model that just looked


def test_the_alternating_pair_masks_moving_people_about_as_well_as_every_model_every_frame():
    """Real clips of moving people (DAVIS, 24 fps, every frame): one model a frame costs
    about 0.01 of IoU against both every frame (measured 0.841 against 0.851)."""
    clips = list(real_eval.clips(REAL, quick=True))
    scores = {}
    for alternate in (False, True):
        segmenter = create_segmenter("selfie-pair", threads=1, device="cpu")
        segmenter.alternate = alternate
        ious = []
        for clip in clips:
            segmenter.reset()
            refiner = MaskRefiner(segmenter.tuned(MaskSettings()))
            result = real_eval.run_sequence(
                clip, lambda f, r=refiner, s=segmenter: r.refine(f, s.probability_map(f)))
            ious.append(result.iou)
        scores[alternate] = ious
    assert np.mean(scores[True]) > np.mean(scores[False]) - 0.02
    assert min(scores[True]) > 0.75  # every clip's person still found


def test_a_resting_members_odds_are_not_worked_out_again(monkeypatch):
    """Taking turns, the member that did not run keeps its map, and so its odds: one
    odds() a frame after the first (two), and the same combined map as working both out."""
    from camfx.models.segmentation import combine

    calls, original = [], combine.odds
    monkeypatch.setattr(combine, "odds", lambda p: calls.append(1) or original(p))
    segmenter = create_segmenter("selfie-pair", threads=1, device="cpu")
    frames = real_eval.read_frames(MEDIA / "portrait_720.mp4", every=1, limit=4)
    for frame in frames:
        combined = segmenter.probability_map(frame)
    assert len(calls) == 2 + 3
    monkeypatch.undo()
    latest, size = segmenter._latest, combined.shape[::-1]
    maps, last = latest.at_size(size), 0  # turns: both, 0, 1, 0
    expected = follow_the_fresh(combine.logit_mean_rule(maps), maps[last],
                                latest.change(last, size))
    assert np.array_equal(combined, expected)
