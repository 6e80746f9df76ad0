"""Putting the person over a background, and taking the person out of a picture.

All functions take and return uint8 BGR frames and float32 masks in [0, 1] of the
frame's size; none allocates a float copy of a full-resolution frame.
"""

from __future__ import annotations

import cv2
import numpy as np


def composite(
    frame: np.ndarray,
    background: np.ndarray,
    mask: np.ndarray,
    coarse: np.ndarray | None = None,
) -> np.ndarray:
    """frame * mask + background * (1 - mask), per pixel, uint8 in and out.

    Blended only where it mixes: blocks of the mask that are all 0 are the background,
    all 1 the frame, copied. A person's soft edge is a quarter of a 720p frame or less;
    OpenCV's blendLinear (a float division per pixel and channel) over the whole frame
    cost 5.1 ms a frame of a 720p portrait clip, this 3.9 (most of it now the reading
    and writing of the frames); copying the background whole first, 3.2 -> 2.75 ms a
    frame of the person at a webcam's framing.
    `coarse`: the mask at half size that `mask` was scaled up from (bilinear), when
    at hand: the blocks are told from it, a quarter of the reading.
    The result is a new frame: it is handed to other threads (window, recorder) and
    must not be overwritten by the next one.
    """
    if background.shape != frame.shape:
        background = cv2.resize(
            background, (frame.shape[1], frame.shape[0]), interpolation=cv2.INTER_LINEAR
        )
    height, width = mask.shape
    rows, cols = height // _BLOCK, width // _BLOCK
    if rows == 0 or cols == 0:
        return _blend(frame, background, mask)
    lowest, highest = _block_bounds(mask, rows, cols, coarse)
    # The background whole (one copy), then the person's blocks and the edge's over it:
    # a hundred fewer slices a frame than copying the background's runs one by one.
    out = background.copy()
    person, nobody = lowest >= 1.0, highest <= 0.0
    for y, x0, x1 in _runs(person):
        out[y : y + _BLOCK, x0:x1] = frame[y : y + _BLOCK, x0:x1]
    for y, x0, x1 in _runs(~person & ~nobody):
        _blend(frame, background, mask, out, (slice(y, y + _BLOCK), slice(x0, x1)))
    # What the blocks leave at the right and bottom (a size not a multiple of them).
    if cols * _BLOCK < width:
        _blend(frame, background, mask, out, (slice(0, height), slice(cols * _BLOCK, width)))
    if rows * _BLOCK < height:
        _blend(frame, background, mask, out, (slice(rows * _BLOCK, height), slice(0, width)))
    return out


_BLOCK = 16  # px: blocks of the mask classified as background, person or edge


def _block_bounds(
    mask: np.ndarray, rows: int, cols: int, coarse: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Per block, a value that is 1 only where the whole block is 1 (or within float
    rounding of it: the same uint8 out), and one that is 0 only where it is all 0.

    Means of the mask (>= 0, <= 1) tell both. From `coarse`, scaled up 2x: a block's
    pixels are weighted means of its half-size block and the pixel around that, so the
    coarse minimum and maximum over 3x3 (erode, dilate) are averaged instead.
    """
    if coarse is not None and mask.shape == (2 * coarse.shape[0], 2 * coarse.shape[1]):
        kernel = np.ones((3, 3), np.uint8)
        return (_block_means(cv2.erode(coarse, kernel), rows, cols, _BLOCK // 2),
                _block_means(cv2.dilate(coarse, kernel), rows, cols, _BLOCK // 2))
    means = _block_means(mask, rows, cols, _BLOCK)
    return means, means


def _block_means(values: np.ndarray, rows: int, cols: int, block: int) -> np.ndarray:
    return cv2.resize(values[: rows * block, : cols * block], (cols, rows),
                      interpolation=cv2.INTER_AREA)


def _blend(
    frame: np.ndarray,
    background: np.ndarray,
    mask: np.ndarray,
    out: np.ndarray | None = None,
    region: tuple[slice, slice] = (slice(None), slice(None)),
) -> np.ndarray:
    """The blend over `region`, written into `out` there (a new picture without `out`)."""
    weight = mask[region]
    inverse = np.subtract(np.float32(1.0), weight)
    if out is None:
        return cv2.blendLinear(frame[region], background[region], weight, inverse)
    # Written in place: a view of `out` of the right size and type is filled, not replaced.
    cv2.blendLinear(frame[region], background[region], weight, inverse, dst=out[region])
    return out


def _runs(blocks: np.ndarray) -> list[tuple[int, int, int]]:
    """(top, left, right) in pixels of each horizontal run of True blocks."""
    padded = np.zeros((blocks.shape[0], blocks.shape[1] + 2), np.int8)
    padded[:, 1:-1] = blocks
    step = np.diff(padded, axis=1)
    rows, starts = np.nonzero(step == 1)
    _, ends = np.nonzero(step == -1)  # row-major order: the same rows, paired with starts
    return list(zip((rows * _BLOCK).tolist(), (starts * _BLOCK).tolist(),
                    (ends * _BLOCK).tolist(), strict=True))


def remove_person(image: np.ndarray, mask: np.ndarray, grow: int = 2) -> np.ndarray:
    """The picture with the person filled in from their surroundings (no memory of the past).

    Stylizing a frame that still holds the person paints a textured outline of
    them into the background, which shows as an aura around them once the real
    person is composited back on top. Filling the (slightly grown) person area
    smoothly from the surrounding background first leaves nothing to paint.
    Works at whatever size it is given; callers pass the small style-sized image.
    """
    return CleanPlate(grow).update(image, mask)


class CleanPlate:
    """The background without the person, remembered across frames.

    Wherever the person has moved away, the plate holds what was last seen
    there; what has never been seen is filled smoothly from its surroundings.
    Feed it every frame (small, e.g. style-sized) with its mask, from one thread.
    `grow` widens the person by a few pixels to catch their soft edge: measured
    on chroma-keyed clips, 0-2 px at 384x384 leaves the least trace of them in
    the painting (scripts/eval_segmentation.py); more fills real background.
    """

    def __init__(self, grow: int = 2) -> None:
        self.grow = grow
        self._plate: np.ndarray | None = None
        self._seen: np.ndarray | None = None  # bool: background seen here at least once

    def update(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Remember the visible background; return the frame with the person taken out."""
        person = self._grown_person(mask)
        visible = ~person
        if self._plate is None or self._plate.shape != image.shape:
            self._plate, self._seen = image.copy(), visible.copy()
        else:
            self._plate[visible] = image[visible]
            self._seen |= visible
        if not self._seen.any():
            return image.copy()  # nothing of the background seen yet: nothing to fill from
        return fill_unseen(self._plate, self._seen)

    @property
    def unseen(self) -> np.ndarray | None:
        """Where the background was never seen: the plate there is a smooth fill."""
        return None if self._seen is None else ~self._seen

    def _grown_person(self, mask: np.ndarray) -> np.ndarray:
        person = (mask > 0.5).astype(np.uint8)
        if self.grow > 0:
            size = 2 * self.grow + 1
            kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
            person = cv2.dilate(person, kernel)
        return person.astype(bool)


def fill_unseen(plate: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """A copy of `plate` with what was never `seen` filled smoothly from what was."""
    out = plate.copy()
    if seen.all() or not seen.any():
        return out
    known = seen.astype(np.float32)
    weighted = plate.astype(np.float32)
    weighted *= known[..., None]
    if min(known.shape) > 2:
        # Push-pull's last, finest step keeps the seen pixels and gives the unseen ones
        # the coarser levels' fill (its weights are exactly 1 and 0 there): the coarser
        # levels are all that is needed (4.7 -> 1.6 ms at 216x384).
        coarse = _push_pull_fill(cv2.pyrDown(weighted), cv2.pyrDown(known))
        filled = cv2.pyrUp(coarse, dstsize=(known.shape[1], known.shape[0]))
    else:
        filled = _push_pull_fill(weighted, known)
    np.clip(filled, 0, 255, out=filled)
    cv2.copyTo(filled.astype(np.uint8), (~seen).view(np.uint8), out)
    return out


def _push_pull_fill(weighted: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Fill where `weight` is 0 with a smooth blend of the rest (pyramid push-pull);
    `weighted` is the picture times `weight`."""
    levels = []
    while min(weight.shape[:2]) > 2:
        levels.append((weighted, weight))
        weighted, weight = cv2.pyrDown(weighted), cv2.pyrDown(weight)
    fill = weighted / np.maximum(weight, 1e-6)[..., None]
    for weighted, weight in reversed(levels):
        size = (weight.shape[1], weight.shape[0])
        coarse = cv2.pyrUp(fill, dstsize=size)
        confidence = np.clip(weight * 4.0, 0.0, 1.0)[..., None]  # trust a level once it's 1/4 known
        fine = weighted / np.maximum(weight, 1e-6)[..., None]
        fill = fine * confidence + coarse * (1.0 - confidence)
    return fill
