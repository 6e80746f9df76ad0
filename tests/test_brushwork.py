"""Flat walls get brush strokes, not the transfer network's lattice (camfx.models.style.FlatGrain),
and the measures that tell them apart (camfx_eval.brushwork)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from camfx.models.style import FlatGrain, create_stylizer, resolve_style
from camfx.vision.imaging import cover
from camfx_eval.brushwork import flat_pixels, lattice_share, stroke_ratio
from tests.conftest import SHARED

SIZE = (216, 384)  # the painting of a 720p frame
ROOMS = SHARED / "eval" / "real" / "backgrounds"


@pytest.fixture(scope="module")
def painters():
    starry = resolve_style("starry")
    return {
        grain: create_stylizer(starry, device="cpu", size=SIZE, grain=grain)
        for grain in (False, True)
    }


def room(name: str) -> np.ndarray:
    return cover(cv2.imread(str(ROOMS / name)), SIZE[::-1], cv2.INTER_AREA)


def test_the_measures_tell_a_lattice_from_strokes():
    rng = np.random.default_rng(0)
    cell = rng.integers(0, 255, (4, 4, 3), dtype=np.uint8)
    lattice = np.tile(cell, (SIZE[0] // 4, SIZE[1] // 4, 1))
    everywhere = np.ones(SIZE, bool)
    assert lattice_share(lattice, everywhere) > 0.99
    assert stroke_ratio(lattice, everywhere) < 0.05
    blobs = cv2.GaussianBlur(rng.normal(128, 60, (*SIZE, 3)).astype(np.float32), (0, 0), 4)
    strokes = cv2.convertScaleAbs((blobs - blobs.mean()) * (40 / blobs.std()) + 128)
    assert lattice_share(strokes, everywhere) < 0.05
    assert stroke_ratio(strokes, everywhere) > 1.0
    flat = flat_pixels(np.full((*SIZE, 3), 200, np.uint8))
    assert flat[8:-8, 8:-8].all() and not flat[:8].any()


def test_a_flat_wall_gets_brush_strokes_instead_of_the_lattice(painters):
    wall = room("home_office_wall.jpg")
    flat = flat_pixels(wall)
    assert flat.mean() > 0.3
    plain, grained = (painters[g].stylize(wall) for g in (False, True))
    assert stroke_ratio(grained, flat) > stroke_ratio(plain, flat) + 0.15
    assert lattice_share(grained, flat) < 0.7 * lattice_share(plain, flat)
    # A pure colour: the network alone paints nothing but its 4-px lattice.
    colour = np.full((*SIZE, 3), (200, 200, 195), np.uint8)
    everywhere = flat_pixels(colour)
    assert lattice_share(painters[False].stylize(colour), everywhere) > 0.9
    assert lattice_share(painters[True].stylize(colour), everywhere) < 0.1


def test_the_grain_leaves_textured_rooms_and_the_plain_pixels_alone(painters):
    shelf = room("bookshelf.jpg")
    plain, grained = (painters[g].stylize(shelf) for g in (False, True))
    assert cv2.absdiff(plain, grained).mean() < 2.0
    wall = room("home_office_wall.jpg")
    nowhere = np.ones(SIZE, bool)
    assert np.array_equal(
        painters[True].stylize(wall, plain=nowhere), painters[False].stylize(wall)
    )


def test_the_grain_is_the_same_every_time_so_a_still_wall_stays_still(painters):
    wall = room("home_office_wall.jpg")
    first = painters[True].stylize(wall)
    other = create_stylizer(resolve_style("starry"), device="cpu", size=SIZE)
    assert np.array_equal(first, painters[True].stylize(wall))
    assert np.array_equal(first, other.stylize(wall))


def test_the_grain_scales_with_the_painting():
    grain = FlatGrain()
    small, large = grain.noise((216, 384)).copy(), grain.noise((432, 768))
    assert small.std() == pytest.approx(large.std(), rel=1e-3) == pytest.approx(4.0 / 255)

    # Twice the size, twice as wide a grain: neighbours twice as far apart alike.
    def alike(noise, step):
        return np.corrcoef(noise[:, :-step].ravel(), noise[:, step:].ravel())[0, 1]

    assert alike(large, 4) == pytest.approx(alike(small, 2), abs=0.05)
