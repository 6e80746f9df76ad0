"""A frame that repeats the last one is not segmented or refined again
(camfx.vision.repeats): a still picture shown as a camera costs one frame's work."""

from __future__ import annotations

import numpy as np

from camfx.models.segmentation import DEFAULT_SEGMENTER, create_segmenter
from camfx.vision.refine import MaskRefiner, MaskSettings
from camfx.vision.repeats import RepeatWatch
from camfx_eval.evaluation import read_frames
from tests.conftest import MEDIA
from tests.test_combine import _counting


def test_a_picture_repeats_only_when_every_pixel_is_the_same():
    frame = np.random.default_rng(1).integers(0, 256, (90, 160, 3), np.uint8)
    watch = RepeatWatch()
    assert not watch.repeats(frame)
    assert not watch.repeats(frame.copy())  # the first repeat: now kept whole
    assert watch.repeats(frame.copy())
    changed = frame.copy()
    changed[45, 80, 1] ^= 1  # one level of one pixel, between the sampled ones
    assert not watch.repeats(changed)
    assert not watch.repeats(frame)
    changed_in_place = frame.copy()
    watch.repeats(changed_in_place), watch.repeats(changed_in_place)
    changed_in_place[3, 5] = 255 - changed_in_place[3, 5]  # its owner writes into it
    assert not watch.repeats(changed_in_place)


def test_nothing_is_recomputed_while_the_frame_repeats():
    segmenter = create_segmenter(DEFAULT_SEGMENTER, threads=1, device="cpu")
    refiner = MaskRefiner(segmenter.tuned(MaskSettings()))
    runs = _counting(segmenter)
    frame, other = read_frames(MEDIA / "portrait_720.mp4", every=30, limit=2)
    masks = [refiner.refine(f, segmenter.probability_map(f)) for f in [frame.copy()] * 4]
    assert sum(runs) == 3  # both models on the first frame, one on the first repeat
    assert masks[3] is masks[2]  # the same mask, not made again
    assert masks[0].shape == frame.shape[:2] and masks[0].max() == 1.0  # a person found
    moved = refiner.refine(other, segmenter.probability_map(other))
    assert sum(runs) == 4  # a new frame: a model runs again
    assert np.abs(moved - masks[3]).mean() > 0.01  # and the mask follows her
