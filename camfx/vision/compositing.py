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
    inverse_buffer: np.ndarray | None = None,
) -> np.ndarray:
    """frame * mask + background * (1 - mask), per pixel, uint8 in and out, one OpenCV pass.

    A float32 buffer of the mask's shape may be passed for 1 - mask, so a stream of
    frames allocates no float arrays here. The result is a new frame: it is handed
    to other threads (window, recorder) and must not be overwritten by the next one.
    """
    if background.shape != frame.shape:
        background = cv2.resize(
            background, (frame.shape[1], frame.shape[0]), interpolation=cv2.INTER_LINEAR
        )
    inverse = np.subtract(1.0, mask, out=inverse_buffer, dtype=np.float32)
    return cv2.blendLinear(frame, background, mask, inverse)


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
