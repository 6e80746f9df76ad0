"""Moving a map from an earlier frame to a later one (camfx.vision.motion)."""

from __future__ import annotations

import cv2
import numpy as np

from camfx.vision.imaging import halve
from camfx.vision.motion import MotionFollower, grey_cells
from camfx_eval import real_eval
from tests.conftest import SHARED

REAL = SHARED / "eval" / "real"


def _shifted(picture: np.ndarray, dx: float, dy: float) -> np.ndarray:
    warp = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(picture, warp, picture.shape[1::-1], flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT)


def test_a_map_follows_the_person_where_the_picture_moved():
    """A real street photo and its person mask; the next frame is the photo moved by
    (7, -4) px: the mask, followed, lies on the moved person, as the unmoved one does not."""
    image = cv2.imread(str(REAL / "images" / "ccp_0028.jpg"))
    truth = cv2.imread(str(REAL / "masks" / "ccp_0028.png"), cv2.IMREAD_GRAYSCALE)
    then = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    now = _shifted(then, 7, -4)
    truth_now = _shifted(truth, 7, -4) >= 128
    old_map = (truth / 255).astype(np.float32)
    followed = MotionFollower().follow(old_map, then, now)
    unmoved_iou = real_eval.score(old_map >= 0.5, truth_now)[0]
    followed_iou = real_eval.score(followed >= 0.5, truth_now)[0]
    assert followed.shape == old_map.shape and followed.dtype == np.float32
    assert unmoved_iou < 0.9 < followed_iou


def test_the_flow_may_be_found_on_smaller_pictures_than_the_map():
    image = cv2.imread(str(REAL / "images" / "ccp_0028.jpg"))
    truth = cv2.imread(str(REAL / "masks" / "ccp_0028.png"), cv2.IMREAD_GRAYSCALE)
    small = cv2.resize(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), None, fx=0.5, fy=0.5,
                       interpolation=cv2.INTER_AREA)
    followed = MotionFollower().follow((truth / 255).astype(np.float32), small,
                                       _shifted(small, 4, 0))  # 8 px at the map's size
    truth_now = _shifted(truth, 8, 0) >= 128
    assert real_eval.score(truth >= 128, truth_now)[0] < 0.9  # unmoved
    assert real_eval.score(followed >= 0.5, truth_now)[0] > 0.9


def test_an_unmoved_picture_leaves_the_map_as_it_was_and_a_tiny_one_is_not_followed():
    image = cv2.imread(str(REAL / "images" / "ccp_0028.jpg"))
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    old_map = np.random.default_rng(0).random(grey.shape, dtype=np.float32)
    follower = MotionFollower()
    assert np.abs(follower.follow(old_map, grey, grey) - old_map).mean() < 0.01
    tiny = np.zeros((8, 8), np.float32)
    assert follower.follow(tiny, grey[:8, :8], grey[:8, :8]) is tiny


def test_grey_cells_is_the_frame_under_the_cells_at_their_resolution():
    frame = cv2.imread(str(REAL / "images" / "ccp_0028.jpg"))
    h, w = frame.shape[:2]
    grid = (h // 4, w // 4)  # a cell: 4x4 frame pixels
    cells = (slice(10, 50), slice(20, 60))
    grey = grey_cells(frame, None, cells, grid, scale=1.0)
    expected = cv2.cvtColor(cv2.resize(frame[40:200, 80:240], (40, 40),
                                       interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
    assert grey.shape == (40, 40)
    assert np.abs(grey.astype(int) - expected).max() <= 2
    assert grey_cells(frame, None, cells, grid).shape == (20, 20)  # SCALE: half
    # From the half-size frame (what camfx has at hand), cells on even pixels: the same
    # picture, for a quarter of the reading
    from_half = grey_cells(frame, halve(frame), (slice(11, 51), slice(21, 61)), grid, 0.25)
    from_full = grey_cells(frame, None, (slice(11, 51), slice(21, 61)), grid, 0.25)
    assert from_half.shape == (10, 10) and np.array_equal(from_half, from_full)


def test_a_move_does_not_depend_on_the_pictures_followed_before():
    """OpenCV's DIS, kept from a picture of another size (here a smaller one), gave the
    next another flow (up to 1.5 px): masks depended on the windows and streams before
    them. Each move is its own."""
    grey = cv2.cvtColor(cv2.imread(str(REAL / "images" / "ccp_0028.jpg")), cv2.COLOR_BGR2GRAY)
    truth = cv2.imread(str(REAL / "masks" / "ccp_0028.png"), cv2.IMREAD_GRAYSCALE)
    then = cv2.resize(grey, (120, 120), interpolation=cv2.INTER_AREA)
    now = np.roll(then, 2, axis=1)
    old_map = cv2.resize(truth, (120, 120), interpolation=cv2.INTER_AREA) / np.float32(255)
    fresh = MotionFollower().follow(old_map, then, now)
    used = MotionFollower()
    small = cv2.resize(grey, (60, 90), interpolation=cv2.INTER_AREA)
    used.follow(np.zeros((90, 60), np.float32), small, np.roll(small, 2, axis=1))
    assert np.array_equal(used.follow(old_map, then, now), fresh)
