"""Fitting pictures to a size (camfx.vision.imaging), on a real frame."""

from __future__ import annotations

import cv2
import numpy as np

from camfx.vision.imaging import contain, cover, region_count, shrink
from tests.conftest import MEDIA


def _frame() -> np.ndarray:
    """A real landscape picture (the top 500 rows of a 900x900 photo)."""
    return cv2.imread(str(MEDIA / "kitchen.jpg"))[:500]


def test_cover_fills_the_size_and_keeps_the_middle():
    frame = _frame()
    h, w = frame.shape[:2]
    out = cover(frame, (200, 200))
    assert out.shape == (200, 200, 3)
    # the middle column of the covered picture is the frame's middle column, scaled
    scale = 200 / min(h, w)
    middle = cv2.resize(frame, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    left = (middle.shape[1] - 200) // 2
    assert np.abs(out.astype(int) - middle[:200, left : left + 200]).mean() < 1


def test_contain_keeps_the_whole_picture_and_pads_with_black():
    frame = _frame()
    h, w = frame.shape[:2]
    out = contain(frame, (w, w))  # a square around a landscape picture: bars above and below
    bar = (w - h) // 2
    assert out.shape == (w, w, 3)
    assert out[: bar - 1].max() == 0 and out[bar + h + 1 :].max() == 0
    assert np.abs(out[bar : bar + h].astype(int) - frame).mean() < 1
    assert np.array_equal(contain(frame, (w, h)), frame)  # already that size: as it is


def test_shrink_matches_the_area_filter():
    frame = _frame()
    out = shrink(frame, (257, 257))
    area = cv2.resize(frame, (257, 257), interpolation=cv2.INTER_AREA)
    assert out.shape == area.shape and np.abs(out.astype(int) - area).mean() < 3


def test_region_count_is_the_count_of_8_connected_regions():
    """Regions touching only at a corner are one; one inside another's hole counts; on
    random maps, the count of connectedComponents."""
    ring = np.zeros((50, 50), np.uint8)
    cv2.circle(ring, (25, 25), 15, 1, 3)
    ring[25, 25] = 1  # a speck in the ring's hole
    ring[0, 0] = ring[1, 1] = 1  # two pixels meeting at a corner, on the border
    assert region_count(ring) == 3
    assert region_count(np.zeros((8, 8), np.uint8)) == 0
    rng = np.random.default_rng(0)
    for _ in range(300):
        noise = cv2.GaussianBlur(rng.random((rng.integers(3, 60), rng.integers(3, 60))),
                                 (0, 0), rng.uniform(0.3, 2))
        binary = (noise > rng.uniform(0.3, 0.7)).astype(np.uint8)
        assert region_count(binary) == cv2.connectedComponents(binary, connectivity=8)[0] - 1
