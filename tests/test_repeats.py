"""A frame that repeats the last one is not segmented or refined again
(camfx.vision.repeats): a still picture shown as a camera costs one frame's work."""

from __future__ import annotations

import numpy as np

from camfx.models.segmentation import DEFAULT_SEGMENTER, create_segmenter
from camfx.vision.refine import MaskRefiner, MaskSettings
from camfx.vision.repeats import RepeatWatch
from camfx_eval.evaluation import read_frames
from tests.conftest import MEDIA, count_calls


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
    runs = count_calls(segmenter.base.members, "_run")  # a close-up: the pose model rests
    frame, other = read_frames(MEDIA / "portrait_720.mp4", every=30, limit=2)
    masks = [refiner.refine(f, segmenter.probability_map(f)) for f in
             [frame.copy() for _ in range(8)]]
    # Both models on the first frame; each once more on its first repeat (a repeat is
    # believed once the whole frame has been compared); then nothing.
    assert runs == [2, 2]
    assert all(m is masks[3] for m in masks[4:])  # the same mask, not made again
    assert masks[0].shape == frame.shape[:2] and masks[0].max() == 1.0  # a person found
    moved = refiner.refine(other, segmenter.probability_map(other))
    assert sum(runs) == 5  # a new frame: a model runs again
    assert np.abs(moved - masks[-1]).mean() > 0.01  # and the mask follows her


def test_a_repeated_frame_still_gets_its_searches_for_newcomers():
    """The tracking window's search looks beyond it every few frames; on a still picture
    those searches still happen (tests/test_segmentation.py: a newcomer is found on a
    repeated scene), and only the frames between them are skipped."""
    segmenter = create_segmenter("selfie", threads=1, device="cpu", fit="track")
    runs = []
    run = segmenter._run
    segmenter._run = lambda picture: runs.append(1) or run(picture)
    wide = np.zeros((720, 2560, 3), np.uint8)  # four windows wide; she is in the first
    wide[:, :720] = read_frames(MEDIA / "portrait_720.mp4", every=30, limit=1)[0]
    cycles = 3
    for _ in range(cycles * segmenter.tracker.SEARCH_EVERY):
        segmenter.probability_map(wide.copy())
    first = 4 + 2  # the first frame tiled, the first repeat (not yet known as one)
    assert len(runs) <= first + 2 * cycles  # then only each search: window and a tile
    assert len(runs) >= first + cycles
