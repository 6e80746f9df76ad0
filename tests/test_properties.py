"""Property-based tests: any frame shape, dtype and mask value, no exception, right output."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from camfx.io.capture import to_bgr
from camfx.models.segmentation import FITS, Segmenter
from camfx.vision.compositing import CleanPlate, composite
from camfx.vision.refine import MaskRefiner, MaskSettings, edge_ramp, grow_mask, remove_small_blobs

sizes = st.integers(min_value=1, max_value=48)
unit_floats = st.floats(min_value=0.0, max_value=1.0, width=32)


@st.composite
def frames(draw, height=None, width=None):
    h = height if height is not None else draw(sizes)
    w = width if width is not None else draw(sizes)
    return draw(arrays(np.uint8, (h, w, 3)))


@st.composite
def frame_and_mask(draw):
    h, w = draw(sizes), draw(sizes)
    return draw(frames(h, w)), draw(arrays(np.float32, (h, w), elements=unit_floats))


@settings(deadline=None)
@given(frame_and_mask(), frames())
def test_composite_any_shape_stays_between_its_inputs(frame_mask, background):
    frame, mask = frame_mask
    out = composite(frame, background, mask)
    assert out.shape == frame.shape and out.dtype == np.uint8
    resized = composite(np.zeros_like(frame), background, np.zeros_like(mask))
    low = np.minimum(frame, resized).astype(int) - 1
    high = np.maximum(frame, resized).astype(int) + 1
    assert ((out >= low) & (out <= high)).all()


@settings(deadline=None)
@given(
    frame_and_mask(),
    st.integers(1, 40),
    st.integers(1, 40),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(0.0, 0.95),
)
def test_refined_mask_is_the_frame_s_size_and_in_range(frame_mask, ph, pw, guided, grow, smooth):
    frame, _ = frame_mask
    rng = np.random.default_rng(ph * 41 + pw)
    refiner = MaskRefiner(MaskSettings(guided=guided, grow=grow, smoothing=smooth))
    for _ in range(2):  # twice: the temporal smoothing has state
        prob = rng.random((ph, pw), dtype=np.float32)
        mask = refiner.refine(frame, prob)
        assert mask.shape == frame.shape[:2] and mask.dtype == np.float32
        assert np.isfinite(mask).all() and mask.min() >= 0.0 and mask.max() <= 1.0


@settings(deadline=None)
@given(
    arrays(np.float32, st.tuples(sizes, sizes), elements=unit_floats),
    st.floats(0.05, 0.95),
    st.floats(0.0, 2.0),
    st.integers(-4, 4),
)
def test_mask_helpers_keep_shape_and_range(prob, threshold, softness, pixels):
    for out in (
        edge_ramp(prob, threshold, softness),
        remove_small_blobs(prob, threshold, 0.01),
        grow_mask(prob, pixels) if pixels else prob,
    ):
        assert out.shape == prob.shape and out.min() >= 0.0 and out.max() <= 1.0


@settings(deadline=None)
@given(st.lists(frame_and_mask(), min_size=1, max_size=3))
def test_clean_plate_takes_any_sequence_of_frames(items):
    plate = CleanPlate()
    for frame, mask in items:
        out = plate.update(frame, mask)
        assert out.shape == frame.shape and out.dtype == np.uint8


class ConstantSegmenter(Segmenter):
    """The geometry of the base class with a stand-in model: a blob in the middle."""

    name = "constant"
    input_size = (16, 24)

    def person_probability(self, rgb):
        assert rgb.shape == (16, 24, 3)
        prob = np.zeros((16, 24), np.float32)
        prob[4:12, 6:18] = 1.0
        return prob


@settings(deadline=None)
@given(st.sampled_from(FITS), st.integers(1, 300), st.integers(1, 300))
def test_every_fit_covers_frames_of_any_shape(fit, height, width):
    frame = np.zeros((height, width, 3), np.uint8)
    segmenter = ConstantSegmenter(fit)
    assert segmenter.probability_map(frame).ndim == 2
    mask = segmenter.segment(frame)
    assert mask.shape == (height, width) and mask.min() >= 0.0 and mask.max() <= 1.0


@settings(deadline=None)
@given(
    st.sampled_from([np.uint8, np.uint16, np.float32]),
    st.sampled_from([None, 1, 3, 4]),
    sizes,
    sizes,
)
def test_to_bgr_makes_any_frame_8_bit_bgr(dtype, channels, height, width):
    shape = (height, width) if channels is None else (height, width, channels)
    image = np.zeros(shape, dtype)
    out = to_bgr(image)
    assert out.shape == (height, width, 3) and out.dtype == np.uint8


def test_smoothing_a_one_pixel_frame_keeps_float32():
    """Found by hypothesis: OpenCV treated a 1x1 array as a scalar and returned float64."""
    refiner = MaskRefiner(MaskSettings(guided=False, smoothing=0.5))
    frame = np.zeros((1, 1, 3), np.uint8)
    for _ in range(2):
        assert refiner.refine(frame, np.zeros((1, 1), np.float32)).dtype == np.float32
