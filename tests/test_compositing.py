"""Compositing and person removal on small exact pictures and real frames."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from camfx.models.segmentation import create_segmenter
from camfx.vision.compositing import CleanPlate, composite, remove_person
from camfx.vision.refine import MaskRefiner, MaskSettings
from camfx_eval import real_eval
from tests.conftest import MEDIA


def _blended_everywhere(frame, background, mask):
    """The plain blend of the whole frame: what composite's block-wise copies and blends
    must reproduce."""
    return cv2.blendLinear(frame, background, mask, 1.0 - mask)


def test_composite_of_a_real_frame_and_mask_equals_the_whole_frame_blend():
    frames = real_eval.read_frames(MEDIA / "portrait_720.mp4", every=1, limit=4)
    segmenter = create_segmenter(threads=1, device="cpu")
    refiner = MaskRefiner(segmenter.tuned(MaskSettings()))
    background = cv2.GaussianBlur(frames[0], (0, 0), 9)[:, ::-1].copy()  # another picture
    for frame in frames:
        mask = refiner.refine(frame, segmenter.probability_map(frame))
    # A real mask has background, person and a soft edge: every kind of block.
    assert (mask == 0).mean() > 0.1 and (mask == 1).mean() > 0.1
    assert ((mask > 0) & (mask < 1)).mean() > 0.05
    assert np.array_equal(composite(frame, background, mask),
                          _blended_everywhere(frame, background, mask))
    person_target = composite(background, frame, mask)  # --target person: swapped
    assert np.array_equal(person_target, _blended_everywhere(background, frame, mask))


@pytest.mark.parametrize("shape", [(72, 128), (75, 133), (10, 7), (16, 16), (33, 50)])
def test_composite_blockwise_equals_the_whole_blend_at_any_size(shape):
    rng = np.random.default_rng(sum(shape))
    frame = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    background = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    # Regions of 0, of 1 and soft ones, at places that don't line up with any block.
    mask = cv2.resize(rng.choice(np.float32([0, 0, 1, 1, 0.3]), (5, 7)), shape[::-1],
                      interpolation=cv2.INTER_NEAREST)
    mask[: shape[0] // 3] = cv2.GaussianBlur(mask, (0, 0), 2)[: shape[0] // 3]
    out = composite(frame, background, mask)
    assert np.array_equal(out, _blended_everywhere(frame, background, mask))
    assert not np.shares_memory(out, background) and not np.shares_memory(out, frame)


def test_composite_keeps_the_person_and_replaces_the_background():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (72, 128, 3), dtype=np.uint8)
    background = rng.integers(0, 256, (72, 128, 3), dtype=np.uint8)
    mask = np.zeros((72, 128), np.float32)
    mask[:, :64] = 1.0
    mask[:, 64] = 0.5
    out = composite(frame, background, mask)
    assert np.array_equal(out[:, :64], frame[:, :64])
    assert np.array_equal(out[:, 65:], background[:, 65:])
    middle = (frame[:, 64].astype(int) + background[:, 64]) / 2
    assert np.abs(out[:, 64] - middle).max() <= 1


def test_composite_scales_a_smaller_background_to_the_frame():
    frame = np.zeros((720, 1280, 3), np.uint8)
    background = np.full((384, 384, 3), 200, np.uint8)
    out = composite(frame, background, np.zeros((720, 1280), np.float32))
    assert out.shape == frame.shape and (out == 200).all()


def test_remove_person_fills_from_the_surroundings():
    image = np.full((96, 96, 3), (40, 120, 200), np.uint8)
    image[:, 48:] = (200, 60, 20)  # a two-colour background
    mask = np.zeros((96, 96), np.float32)
    mask[30:96, 20:76] = 1.0
    image[mask > 0] = (0, 255, 0)  # a green "person"
    filled = remove_person(image, mask)
    assert not (filled == (0, 255, 0)).all(axis=-1).any()  # no person pixel left
    # Each side of the hole is filled with the colour around it.
    assert np.abs(filled[80, 24].astype(int) - (40, 120, 200)).max() < 40
    assert np.abs(filled[80, 72].astype(int) - (200, 60, 20)).max() < 40
    assert np.array_equal(filled[:10], image[:10])  # the background is untouched


def test_remove_person_with_no_person_or_no_background_returns_the_image():
    image = np.full((32, 32, 3), 7, np.uint8)
    assert np.array_equal(remove_person(image, np.zeros((32, 32), np.float32)), image)
    assert np.array_equal(remove_person(image, np.ones((32, 32), np.float32)), image)


def test_clean_plate_remembers_the_background_behind_a_moving_person():
    scene = np.zeros((60, 90, 3), np.uint8)
    scene[:, :, 2] = np.linspace(0, 255, 90, dtype=np.uint8)[None, :]  # a red ramp
    scene[20:40, 30:60] = (255, 255, 0)  # a detail the person will hide later
    plate = CleanPlate(grow=2)

    def frame_with_person_at(x0):
        frame, mask = scene.copy(), np.zeros((60, 90), np.float32)
        frame[10:60, x0 : x0 + 25] = (0, 255, 0)
        mask[10:60, x0 : x0 + 25] = 1.0
        return frame, mask

    plate.update(*frame_with_person_at(0))  # person on the left: the middle is seen
    cleaned = plate.update(*frame_with_person_at(35))  # now they stand in front of the detail
    # The hidden detail comes back exactly from the earlier frame, not a blur.
    assert np.array_equal(cleaned[22:38, 38:52], scene[22:38, 38:52])
    assert not (cleaned == (0, 255, 0)).all(axis=-1).any()
    # A fresh plate can only blur the hole: the detail is lost there.
    blurred = remove_person(*frame_with_person_at(35))
    assert np.abs(blurred[22:38, 38:52].astype(int) - scene[22:38, 38:52]).mean() > 30
