"""The frame at half size, made once per frame (Effect.segment) and shared by the models'
fits, the refinement, the painter and the compositor: the same maps, masks and
pictures as each making its own, and the full-size frame not read again."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from camfx.core.effects import Effect
from camfx.core.effects.runner import HalfSizes
from camfx.models.segmentation import create_segmenter
from camfx.models.style import create_stylizer, resolve_style
from camfx.vision.compositing import composite
from camfx.vision.imaging import half_of_crop, halve, shrink
from camfx.vision.refine import MaskRefiner, MaskSettings
from camfx_eval import real_eval
from tests.conftest import MEDIA


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    """A person moving, at 1280x720 (the footage is 720x720): the live target's size."""
    return [cv2.resize(frame, (1280, 720), interpolation=cv2.INTER_LINEAR)
            for frame in real_eval.read_frames(MEDIA / "portrait_720.mp4", every=1, limit=12)]


def test_shrink_from_the_half_is_the_shrink_of_the_whole():
    rng = np.random.default_rng(1)
    for shape in [(720, 1280, 3), (721, 1279, 3), (480, 640, 3)]:
        image = rng.integers(0, 256, shape, dtype=np.uint8)
        half = halve(image)
        for size in [(256, 144), (256, 256), (455, 256), (320, 180), (640, 360), (100, 300)]:
            if size[0] <= shape[1] and size[1] <= shape[0]:
                assert np.array_equal(shrink(image, size, half), shrink(image, size)), size
        # A crop on even pixels, shrunk from the half's crop.
        crop = image[100:600, 280:1000]
        assert np.array_equal(shrink(crop, (256, 256), half_of_crop(half, 280, 100, 720, 500)),
                              shrink(crop, (256, 256)))
        assert half_of_crop(half, 281, 100, 720, 500) is None  # odd: not the half's pixels


@pytest.mark.parametrize("name", ["selfie-pair", "selfie-pair-pose", "deeplab"])
def test_the_models_read_only_the_half_when_given_it(frames, name):
    """Given the half of a 720p frame, the frame is not looked at (a blank one in its
    place gives the same map), and the maps are those of the frame itself: the window
    the general selfie model tracks sits on even pixels, a crop of the half."""
    plain = create_segmenter(name, threads=1, device="cpu")
    shared = create_segmenter(name, threads=1, device="cpu")
    for i, frame in enumerate(frames):
        expected = plain.probability_map(frame)
        blank = np.full_like(frame, i)  # a new picture each time: not a repeat
        assert np.array_equal(shared.probability_map(blank, halve(frame)), expected)


def test_small_frames_keep_their_pixels_where_the_half_is_smaller_than_the_model(frames):
    """At 640x480 the tracked square (480x480) is less than twice the selfie model's 256:
    shrunk from the frame, as without the half; the landscape model's squash (256x144)
    still starts from the half. The maps are the same either way."""
    plain = create_segmenter(threads=1, device="cpu")
    shared = create_segmenter(threads=1, device="cpu")
    for frame in frames:
        frame = cv2.resize(frame, (640, 480), interpolation=cv2.INTER_AREA)
        assert np.array_equal(shared.probability_map(frame, halve(frame)),
                              plain.probability_map(frame))


def test_the_refinement_reads_only_the_half_when_given_it(frames):
    segmenter = create_segmenter(threads=1, device="cpu")
    settings = segmenter.tuned(MaskSettings())
    plain, shared = MaskRefiner(settings), MaskRefiner(settings)
    for i, frame in enumerate(frames):
        prob = segmenter.probability_map(frame)
        expected = plain.refine(frame, prob)
        blank = np.full_like(frame, i)  # a new picture each time: not a repeat
        mask = shared.refine(blank, prob, halve(frame))
        assert np.array_equal(mask, expected)
        # The half-size mask it keeps is the one scaled up to the mask.
        assert np.array_equal(
            cv2.resize(shared.work_mask, frame.shape[1::-1], interpolation=cv2.INTER_LINEAR),
            mask)


def test_composite_told_by_the_half_size_mask_equals_the_whole_blend(frames):
    segmenter = create_segmenter(threads=1, device="cpu")
    refiner = MaskRefiner(segmenter.tuned(MaskSettings()))
    background = cv2.GaussianBlur(frames[0], (0, 0), 9)[:, ::-1].copy()
    for frame in frames:
        mask = refiner.refine(frame, segmenter.probability_map(frame))
        whole = cv2.blendLinear(frame, background, mask, 1.0 - mask)
        assert np.array_equal(composite(frame, background, mask, refiner.work_mask), whole)


def test_composite_told_by_a_coarse_mask_at_any_size():
    rng = np.random.default_rng(3)
    for shape in [(72, 128), (36, 50), (8, 8)]:
        coarse = cv2.resize(rng.choice(np.float32([0, 1, 1, 0, 0.4]), (4, 5)), shape[::-1],
                            interpolation=cv2.INTER_NEAREST)
        full_size = (2 * shape[1], 2 * shape[0])
        mask = cv2.resize(coarse, full_size, interpolation=cv2.INTER_LINEAR)
        frame = rng.integers(0, 256, (*mask.shape, 3), dtype=np.uint8)
        background = rng.integers(0, 256, (*mask.shape, 3), dtype=np.uint8)
        whole = cv2.blendLinear(frame, background, mask, 1.0 - mask)
        assert np.array_equal(composite(frame, background, mask, coarse), whole)
        # A coarse mask of another size than half is not believed.
        assert np.array_equal(composite(frame, background, mask, coarse[1:]), whole)


def test_the_effect_shares_the_half_with_the_painter_and_the_compositor(frames):
    segmenter = create_segmenter(threads=1, device="cpu")
    stylizer = create_stylizer(resolve_style("starry"), device="cpu", size=(216, 384))
    effect = Effect(segmenter, stylizer, segmenter.tuned(MaskSettings()))
    masks = [effect.segment(frame) for frame in frames[:3]]
    frame, mask = frames[2], masks[2]
    size = (stylizer.width, stylizer.height)
    small, small_mask = effect.shrunk(frame, mask, size)
    assert np.array_equal(small, shrink(frame, size))
    # The mask from its half size: the same mask a hair sharper, never far off.
    assert np.abs(small_mask - shrink(mask, size)).max() < 0.1
    assert np.abs(small_mask - shrink(mask, size)).mean() < 0.002
    assert not np.array_equal(small_mask, shrink(mask, size))  # from the half, not the mask
    # An earlier frame's mask is still found; a mask segment did not make is not.
    assert effect.shrunk(frames[0], masks[0], size)[1] is not None
    assert np.array_equal(effect.shrunk(frame, mask.copy(), size)[1], shrink(mask, size))
    background = effect.background(frame, mask)
    assert np.array_equal(effect.composite(frame, mask, background),
                          cv2.blendLinear(frame, background, mask, 1.0 - mask))


def test_half_sizes_are_kept_for_the_latest_masks_only():
    halves = HalfSizes()
    pictures = [(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4), np.float32))
                for _ in range(HalfSizes.KEEP + 1)]
    for i, (image, mask) in enumerate(pictures):
        halves.put(image, mask, np.full((2, 2, 3), i, np.uint8), None)
    assert halves.get(*pictures[0]) == (None, None)  # the oldest is forgotten
    assert halves.get(*pictures[-1])[0][0, 0, 0] == HalfSizes.KEEP
    assert halves.get(pictures[-1][0], pictures[-2][1]) == (None, None)  # another frame's


def test_the_pipelines_capture_thread_halves_the_frame_for_the_segment_thread():
    """The pipeline's frames carry their half, made as they are read; segmenting with it
    gives the masks and pictures of segmenting each frame alone."""
    import threading

    from camfx.core.pipeline import open_pipeline
    from camfx.io.capture import VideoCaptureSource

    def made(size):
        segmenter = create_segmenter(threads=1, device="cpu")
        stylizer = create_stylizer(resolve_style("starry"), device="cpu", size=size)
        return Effect(segmenter, stylizer, segmenter.tuned(MaskSettings()))

    effect, alone = made((216, 384)), made((216, 384))
    halved_in: list[str] = []
    half_of = effect.half_of
    effect.half_of = lambda image: halved_in.append(threading.current_thread().name) or half_of(
        image)
    source = VideoCaptureSource(str(MEDIA / "portrait_720.mp4"), live=False, size=(1280, 720))
    outputs = []
    with source, open_pipeline(source, effect) as pipeline:
        for out in pipeline.frames():
            if out is not None:
                outputs.append(out)
            if len(outputs) == 6:
                break
    assert set(halved_in) == {"capture_render"}
    for out in outputs:
        mask = alone.segment(out.frame)
        assert np.array_equal(out.mask, mask)
