"""Camera conditions put on the real stills (camfx_eval.conditions)."""

from __future__ import annotations

import numpy as np
import pytest

from camfx_eval.conditions import CONDITIONS, under
from camfx_eval.real_eval import Sequence

NAMED = {condition.name: condition for condition in CONDITIONS}


@pytest.fixture
def grey_still() -> Sequence:
    frame = np.full((40, 60, 3), 120, np.uint8)
    truth = np.zeros((40, 60), bool)
    truth[10:30, 20:40] = True
    return Sequence("stills", "grey", [frame] * 3, [truth], [None], [2])


def test_every_camera_condition_keeps_the_truth_and_the_frames_shape(grey_still):
    assert under(grey_still, NAMED["clean"]) is grey_still
    for condition in CONDITIONS:
        if condition.framing is not None:
            continue  # a framing cuts both (below)
        seen = under(grey_still, condition)
        assert seen.truths[0] is grey_still.truths[0] and seen.scored == [2]
        assert len(seen.frames) == 3
        assert all(f.shape == (40, 60, 3) and f.dtype == np.uint8 for f in seen.frames)


def test_noise_is_drawn_afresh_for_every_frame_and_reproducibly(grey_still):
    noisy = under(grey_still, NAMED["noisy"])
    assert not np.array_equal(noisy.frames[0], noisy.frames[1])  # a real camera's frames
    assert np.std(noisy.frames[0].astype(np.float32)) == pytest.approx(10, abs=1)
    again = under(grey_still, NAMED["noisy"])
    assert all(np.array_equal(a, b) for a, b in zip(noisy.frames, again.frames, strict=True))


def test_exposure_and_colour_cast_scale_the_pixels(grey_still):
    assert under(grey_still, NAMED["dark"]).frames[0].mean() == pytest.approx(30, abs=1)
    assert under(grey_still, NAMED["bright"]).frames[0].mean() == pytest.approx(204, abs=1)
    warm = under(grey_still, NAMED["warm"]).frames[0]
    assert tuple(warm[0, 0]) == (72, 108, 156)  # BGR: blue down, red up


def test_motion_blur_streaks_along_the_rows_only():
    frame = np.zeros((50, 100, 3), np.uint8)
    frame[:, 50:] = 255  # a vertical edge: smeared sideways
    frame[25:, :] = 255  # the left half's horizontal edge: kept
    seq = Sequence("stills", "edges", [frame], [np.zeros((50, 100), bool)], [None], [0])
    blurred = under(seq, NAMED["blur"]).frames[0]
    assert 0 < blurred[10, 49, 0] < 255 and 0 < blurred[10, 50, 0] < 255
    assert blurred[24, 20, 0] == 0 and blurred[25, 20, 0] == 255


def test_a_framing_cuts_the_middle_of_the_frame_its_truth_and_ignore_mask_alike():
    frame = np.zeros((72, 128, 3), np.uint8)
    frame[:, :, 0] = np.arange(128)  # each column says where it was
    truth, ignore = np.zeros((72, 128), bool), np.zeros((72, 128), bool)
    truth[:, 60:68], ignore[:, :10] = True, True
    seq = Sequence("rooms", "wide", [frame, frame], [truth, truth], [ignore, None], [0, 1])
    upright = under(seq, NAMED["upright"])
    assert upright.frames[0].shape == (72, 40, 3)  # 9:16 of 72 rows high
    assert upright.frames[0][0, 0, 0] == 44 and upright.frames[1][0, -1, 0] == 83  # the middle
    assert upright.truths[0].shape == (72, 40) and upright.truths[0][:, 16:24].all()
    assert upright.truths[0].sum() == truth.sum()  # the person, whole
    assert upright.ignores[0].shape == (72, 40) and not upright.ignores[0].any()
    assert upright.ignores[1] is None and upright.scored == [0, 1]
    assert under(seq, NAMED["4:3"]).frames[0].shape == (72, 96, 3)
    narrow = Sequence("stills", "tall", [frame[:, :40]], [truth[:, :40]], [None], [0])
    assert under(narrow, NAMED["upright"]) is narrow  # already that narrow: as it is
