"""The real-people eval: scoring rules of ../shared/eval/real/README.md, and its sources."""

from __future__ import annotations

import numpy as np
import pytest

from camfx_eval import real_eval
from tests.conftest import SHARED

REAL = SHARED / "eval" / "real"


def disc(h: int, w: int, cy: int, cx: int, r: int) -> np.ndarray:
    yy, xx = np.mgrid[:h, :w]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r


def test_identical_masks_score_one_and_a_shift_past_the_tolerance_scores_less():
    truth = disc(120, 160, 60, 80, 30)
    assert real_eval.score(truth, truth) == (1.0, 1.0)
    near = np.roll(truth, 2, axis=1)  # within 3 px: every boundary pixel still matches
    far = np.roll(truth, 8, axis=1)
    iou_near, f_near = real_eval.score(near, truth)
    iou_far, f_far = real_eval.score(far, truth)
    assert f_near == pytest.approx(1.0) and f_far < 0.6
    assert 1.0 > iou_near > iou_far


def test_ignored_pixels_count_neither_way():
    truth = disc(120, 160, 60, 80, 30)
    pred = truth.copy()
    pred[:, :20] = True  # a held bag taken for person...
    ignore = np.zeros_like(truth)
    ignore[:, :25] = True  # ...where the annotators said: not scored
    assert real_eval.score(pred, truth)[0] < 0.9
    assert real_eval.score(pred, truth, ignore) == (1.0, 1.0)


def test_empty_prediction_of_an_empty_truth_is_perfect():
    empty = np.zeros((50, 50), bool)
    assert real_eval.score(empty, empty) == (1.0, 1.0)


def test_a_still_is_fed_a_dozen_times_and_only_the_last_frame_is_scored():
    seq = next(real_eval.stills(REAL, quick=True))
    assert len(seq.frames) == real_eval.STILL_REPEATS and seq.scored == [11]
    calls = []

    def masker(frame):
        calls.append(frame)
        # A masker that settles: empty at first, the truth from the 6th frame on.
        return seq.truths[0].astype(np.float32) * (len(calls) > 5)

    result = real_eval.run_sequence(seq, masker)
    assert len(calls) == 12 and len(result.frames) == 1
    assert result.iou == pytest.approx(1.0)
    assert result.flicker > 0  # the jump at frame 6 shows as flicker


def test_clips_and_rooms_score_every_frame_with_a_truth_of_the_frame_size():
    clip = next(real_eval.clips(REAL, quick=True))
    assert len(clip.frames) == len(clip.truths) == 24
    assert clip.truths[0].shape == clip.frames[0].shape[:2]
    room = next(real_eval.rooms(REAL, SHARED / "media" / "portrait_720.mp4", quick=True))
    assert room.frames[0].shape == (720, 1280, 3)
    assert 0.05 < room.truths[0].mean() < 0.5  # the woman, standing on the bottom edge


def test_the_desk_clip_is_her_in_her_own_proportions_over_a_still_room(tmp_path):
    """scripts/make_desk_clip.py (camfx bench's scene for the CPU target): 1280x720, every
    frame of hers; the room's sides untouched and still, she in the middle 720 px."""
    import subprocess
    import sys

    import av
    import cv2

    from camfx.vision.imaging import cover
    from tests.conftest import ROOT

    out = tmp_path / "desk.mp4"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_desk_clip.py"), "--shared",
                    str(SHARED), "--out", str(out), "--frames", "6"], check=True, cwd=ROOT)
    with av.open(str(out)) as clip:
        frames = [f.to_ndarray(format="bgr24") for f in clip.decode(video=0)]
    assert len(frames) == 6 and frames[0].shape == (720, 1280, 3)
    room = cover(cv2.imread(str(REAL / "backgrounds" / "living_room.jpg")), (1280, 720))
    sides = np.s_[:, list(range(0, 280)) + list(range(1000, 1280))]
    for frame in frames:  # the sides are the room (within the encoding's error)
        assert np.abs(frame[sides].astype(int) - room[sides]).mean() < 3
    middle = np.s_[200:, 400:880]
    assert np.abs(frames[0][middle].astype(int) - room[middle]).mean() > 30  # she is there
    assert np.abs(frames[5][middle].astype(int) - frames[0][middle]).mean() > 0.5  # moving


def test_the_distant_clip_is_the_real_clips_at_720p(tmp_path):
    """scripts/make_desk_clip.py --distant: camfx bench's scene for a person seen at a
    distance, the eval's real clips scaled to 1280x720."""
    import subprocess
    import sys

    import av
    import cv2

    from tests.conftest import ROOT

    out = tmp_path / "distant.mp4"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_desk_clip.py"), "--shared",
                    str(SHARED), "--distant", "--out", str(out), "--frames", "4"],
                   check=True, cwd=ROOT)
    with av.open(str(out)) as clip:
        frames = [f.to_ndarray(format="bgr24") for f in clip.decode(video=0)]
    first = next(real_eval.clips(REAL)).frames[0]
    assert len(frames) == 4 and frames[0].shape == (720, 1280, 3)
    scaled = cv2.resize(first, (1280, 720), interpolation=cv2.INTER_LINEAR)
    assert np.abs(frames[0].astype(int) - scaled).mean() < 3  # within the encoding's error
