"""An underexposed frame is brightened for the segmentation (camfx.vision.exposure)."""

from __future__ import annotations

import numpy as np
import pytest

from camfx.core.effects import Effect
from camfx.models.segmentation import create_segmenter
from camfx.models.style import create_stylizer, resolve_style
from camfx.vision.exposure import MOST_GAIN, UNDEREXPOSED, brightness_range, exposed
from camfx.vision.imaging import halve
from camfx.vision.refine import MaskSettings
from camfx_eval import real_eval
from tests.conftest import SHARED


def room(light: float) -> np.ndarray:
    rng = np.random.default_rng(0)
    frame = rng.normal(150, 40, (360, 640, 3)).clip(0, 255)
    return (frame * light).astype(np.uint8)


def test_a_well_exposed_frame_is_left_as_it_is():
    frame = room(1.0)
    half = halve(frame)
    seen, seen_half = exposed(frame, half)
    assert seen is frame and seen_half is half


def test_an_underexposed_frame_is_brightened_to_the_mark_and_no_further():
    dark = room(0.25)
    seen, seen_half = exposed(dark, halve(dark))
    assert brightness_range(seen)[1] == pytest.approx(UNDEREXPOSED, abs=4)
    # The half brightened alike (the rounding of a mean of four comes out a level or two
    # apart between brightening first or halving first).
    assert np.abs(seen_half.astype(int) - halve(seen).astype(int)).max() <= 3
    black = room(0.02)
    assert brightness_range(exposed(black)[0])[1] <= MOST_GAIN * brightness_range(black)[1]


def test_a_real_photo_two_stops_under_gets_nearly_the_mask_of_the_photo():
    """Two stops under, the segmenters lost a woman's edges and hair: IoU 0.968 -> 0.917
    (measured here); brightened for them, 0.965."""
    seq = next(s for s in real_eval.stills(SHARED / "eval" / "real")
               if s.name == "ccp_0953_upper")
    photo, truth, ignore = seq.frames[0], seq.truths[0], seq.ignores[0]
    dark = (photo.astype(np.float32) * 0.25).astype(np.uint8)
    ious = {}
    for label, frame in (("photo", photo), ("dark", dark)):
        segmenter = create_segmenter(threads=1, device="cpu")
        stylizer = create_stylizer(resolve_style("starry"), device="cpu", size=(216, 384))
        effect = Effect(segmenter, stylizer, segmenter.tuned(MaskSettings()))
        for _ in range(real_eval.STILL_REPEATS):
            mask = effect.segment(frame)
        ious[label] = real_eval.score(mask >= 0.5, truth, ignore)[0]
    assert ious["dark"] > ious["photo"] - 0.02, ious
