"""Compositing and person removal on small exact pictures and real frames."""

from __future__ import annotations

import numpy as np

from camfx.compositing import composite, remove_person


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
    assert remove_person(image, np.zeros((32, 32), np.float32)) is image
    assert remove_person(image, np.ones((32, 32), np.float32)) is image
