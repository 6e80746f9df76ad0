"""Compositing and person removal on small exact pictures and real frames."""

from __future__ import annotations

import numpy as np

from camfx.vision.compositing import CleanPlate, composite, remove_person


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
