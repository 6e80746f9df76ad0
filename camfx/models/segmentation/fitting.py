"""How a frame of any shape is fitted into a model's fixed input: five geometries.

Each takes the frame, ``run`` (a model-sized BGR picture in, its person probability
map out) and the model's (width, height), and returns a probability map that covers
the whole frame (its shape need not have the frame's proportions; scaling it to the
frame's size aligns it). A frame's ``half`` (imaging.halve), when the caller has made
it, spares each its own first pass over the full-size frame: the result is the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Literal

import cv2
import numpy as np

from camfx.models.segmentation.combine import logit_mean_rule
from camfx.models.segmentation.tracking import (
    EDGE_TOUCH,
    REGION_PROBABILITY,
    Box,
    PeopleTracker,
    people_boxes,
    tile_starts,
    union,
)
from camfx.vision.imaging import half_of_crop, shrink

Fit = Literal["squash", "letterbox", "crop", "tile", "track"]
# How a frame whose shape differs from the model's input is fitted into it:
#   squash    resize to the input, ignoring proportions (the selfie models' default)
#   letterbox keep proportions, pad the short side
#   crop      keep proportions, cut the middle out (people at the sides are lost)
#   tile      keep proportions, run overlapping model-shaped tiles, keep the max
#   track     keep proportions, one run on a window as tall as the frame around the
#             people found in the previous frame, tiles when nobody is known yet or
#             they don't fit in one window (DeepLab's default; see PeopleTracker); a
#             frame taller than the model's input is fitted whole (Segmenter.tall_fit)
FITS: tuple[Fit, ...] = ("squash", "letterbox", "crop", "tile", "track")

ModelRun = Callable[[np.ndarray], np.ndarray]
# A fit that needs nothing but the frame: (frame, run, model (w, h), its half) -> map.
FitFunction = Callable[[np.ndarray, ModelRun, tuple[int, int], np.ndarray | None], np.ndarray]


def squashed(
    frame_bgr: np.ndarray, run: ModelRun, model_wh: tuple[int, int],
    half: np.ndarray | None = None,
) -> np.ndarray:
    """Resized to the model's input, proportions ignored."""
    return run(shrink(frame_bgr, model_wh, half))


def letterboxed(
    frame_bgr: np.ndarray, run: ModelRun, model_wh: tuple[int, int],
    half: np.ndarray | None = None,
) -> np.ndarray:
    """Proportions kept, the short side padded."""
    return _fitted(frame_bgr, run, model_wh, half, pad=True)


def cropped(
    frame_bgr: np.ndarray, run: ModelRun, model_wh: tuple[int, int],
    half: np.ndarray | None = None,
) -> np.ndarray:
    """Proportions kept, the middle cut out (what the crop leaves out is background)."""
    return _fitted(frame_bgr, run, model_wh, half, pad=False)


def _fitted(
    frame_bgr: np.ndarray, run: ModelRun, model_wh: tuple[int, int],
    half: np.ndarray | None, pad: bool,
) -> np.ndarray:
    frame_h, frame_w = frame_bgr.shape[:2]
    model_w, model_h = model_wh
    fit_scale = min if pad else max
    scale = fit_scale(model_w / frame_w, model_h / frame_h)
    w, h = max(1, round(frame_w * scale)), max(1, round(frame_h * scale))
    resized = shrink(frame_bgr, (w, h), half)
    if pad:
        canvas = np.zeros((model_h, model_w, 3), np.uint8)
        top, left = (model_h - h) // 2, (model_w - w) // 2
        canvas[top : top + h, left : left + w] = resized
        return run(canvas)[top : top + h, left : left + w]
    top, left = (h - model_h) // 2, (w - model_w) // 2
    prob = np.zeros((h, w), np.float32)
    prob[top : top + model_h, left : left + model_w] = run(
        resized[top : top + model_h, left : left + model_w]
    )
    return prob


def tiled(
    frame_bgr: np.ndarray, run: ModelRun, model_wh: tuple[int, int],
    half: np.ndarray | None = None,
) -> np.ndarray:
    """Overlapping tiles with the model's proportions along the frame's long side."""
    frame_h, frame_w = frame_bgr.shape[:2]
    model_w, model_h = model_wh
    # Scale so the frame covers the model's input; tiles run along the long side.
    scale = max(model_w / frame_w, model_h / frame_h)
    w = max(model_w, round(frame_w * scale))
    h = max(model_h, round(frame_h * scale))
    resized = shrink(frame_bgr, (w, h), half)
    prob = np.zeros((h, w), np.float32)
    for top in tile_starts(h, model_h):
        for left in tile_starts(w, model_w):
            tile = run(resized[top : top + model_h, left : left + model_w])
            window = prob[top : top + model_h, left : left + model_w]
            np.maximum(window, tile, out=window)  # a person in any tile is kept
    return prob


# The fits that need nothing but the frame (and, when at hand, its half: see
# imaging.shrink); ``track`` also needs a PeopleTracker.
STATELESS_FITS: dict[str, FitFunction] = {
    "squash": squashed,
    "letterbox": letterboxed,
    "crop": cropped,
    "tile": tiled,
}


def two_views(
    frame_bgr: np.ndarray, run: ModelRun, model_wh: tuple[int, int],
    half: np.ndarray | None = None,
) -> np.ndarray:
    """Squashed and letterboxed, their log-odds averaged (two runs). Each view of a
    portrait frame fails on its own: letterboxed, a standing person is a thin figure
    and the gap between their legs comes out person; squashed, a close-up's body is
    stretched wide and its lower half lost (README: Portrait frames)."""
    squashed_map = squashed(frame_bgr, run, model_wh, half)
    letterboxed_map = cv2.resize(letterboxed(frame_bgr, run, model_wh, half),
                                 squashed_map.shape[::-1], interpolation=cv2.INTER_LINEAR)
    return logit_mean_rule([squashed_map, letterboxed_map])


# How ``track`` may fit a frame taller than the model's input, whole (Segmenter.tall_fit).
TallFit = Literal["squash", "letterbox", "crop", "tile", "two-views"]
TALL_FITS: dict[str, FitFunction] = {**STATELESS_FITS, "two-views": two_views}


def taller_than_model(frame_bgr: np.ndarray, model_wh: tuple[int, int]) -> bool:
    """Whether the frame is taller, for its width, than the model's input: ``track``
    fits it whole (no window; Segmenter.tall_fit)."""
    frame_h, frame_w = frame_bgr.shape[:2]
    return frame_h * model_wh[0] > frame_w * model_wh[1]


def tracked(
    frame_bgr: np.ndarray, run: ModelRun, model_wh: tuple[int, int], tracker: PeopleTracker,
    half: np.ndarray | None = None, tall_fit: TallFit = "two-views",
) -> np.ndarray:
    """One model run on the window around the people; tiles while it is unknown. A
    frame taller than the model's input is fitted whole by `tall_fit`."""
    frame_h, frame_w = frame_bgr.shape[:2]
    if taller_than_model(frame_bgr, model_wh):
        # Taller than the model's input (a phone held upright): a window as wide as
        # the frame, sliding up and down, cut standing people off at the knees (legs
        # the model was unsure of were outside it). The whole frame is fitted instead,
        # the model's own way (Segmenter.tall_fit).
        return TALL_FITS[tall_fit](frame_bgr, run, model_wh, half)
    window = tracker.advance(frame_w, frame_h)
    if window is None:
        prob = tiled(frame_bgr, run, model_wh, half)
        tracker.follow(*people_boxes(prob, frame_w, frame_h))
        window = tracker.window
        if window is None:  # nobody, or too many for one window
            return prob
        # Found them: this frame's map from the window too, or the mask would
        # jump between the tiled frame and the next.
    prob = _windowed(frame_bgr, window, run, model_wh, half)
    # Where the person runs into the window's edge they go on beyond it: look
    # there too this frame, or the mask ends in a straight cut (a shoulder, seen
    # when the window sat on the head the model was sure of).
    for beyond in _beyond_edges(prob, window, frame_w, frame_h, model_wh):
        np.maximum(prob, _windowed(frame_bgr, beyond, run, model_wh, half), out=prob)
    sure, whole = people_boxes(prob, frame_w, frame_h)
    search = tracker.search_window()
    if search is not None:  # now and then, look outside the window for newcomers
        found = people_boxes(_windowed(frame_bgr, search, run, model_wh, half),
                             frame_w, frame_h)
        sure, whole = union(sure, found[0]), union(whole, found[1])
    tracker.follow(sure, whole)
    return prob


def _beyond_edges(
    prob: np.ndarray, box: Box, frame_w: int, frame_h: int, model_wh: tuple[int, int]
) -> list[Box]:
    """Windows shifted by half past each edge of `box` that a person touches and that
    is not the frame's edge. Touching takes the model being fairly sure (> 0.9):
    at > 0.5, brushwork at the edge set it off on most frames of a busy painting."""
    model_w, model_h = model_wh
    left, top = _window_origin(prob.shape, box, model_wh)
    seen = prob[top : top + model_h, left : left + model_w] > REGION_PROBABILITY
    half_w, half_h = box.w // 2, box.h // 2
    edges = [
        (box.x > 0, seen[:, 0], replace(box, x=max(0, box.x - half_w))),
        (box.x + box.w < frame_w, seen[:, -1],
         replace(box, x=min(frame_w - box.w, box.x + half_w))),
        (box.y > 0, seen[0, :], replace(box, y=max(0, box.y - half_h))),
        (box.y + box.h < frame_h, seen[-1, :],
         replace(box, y=min(frame_h - box.h, box.y + half_h))),
    ]
    return [shifted for inside, edge, shifted in edges if inside and edge.mean() > EDGE_TOUCH]


def _window_origin(
    map_shape: tuple[int, ...], box: Box, model_wh: tuple[int, int]
) -> tuple[int, int]:
    """Where the model's output for window `box` sits in the whole-frame map."""
    model_w, model_h = model_wh
    map_h, map_w = map_shape[:2]
    left = min(round(box.x * model_w / box.w), map_w - model_w)
    top = min(round(box.y * model_h / box.h), map_h - model_h)
    return left, top


def _windowed(
    frame_bgr: np.ndarray, box: Box, run: ModelRun, model_wh: tuple[int, int],
    half: np.ndarray | None = None,
) -> np.ndarray:
    """The model run on one window of the frame, as a whole-frame map at its scale."""
    frame_h, frame_w = frame_bgr.shape[:2]
    model_w, model_h = model_wh
    map_w = max(model_w, round(frame_w * model_w / box.w))
    map_h = max(model_h, round(frame_h * model_h / box.h))
    left, top = _window_origin((map_h, map_w), box, model_wh)
    crop = frame_bgr[box.y : box.y + box.h, box.x : box.x + box.w]
    prob = np.zeros((map_h, map_w), np.float32)  # outside the window: background
    crop_half = half_of_crop(half, box.x, box.y, box.w, box.h)
    prob[top : top + model_h, left : left + model_w] = run(
        shrink(crop, (model_w, model_h), crop_half))
    return prob
