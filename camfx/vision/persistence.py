"""Using time: a region of settled background must earn being shown as a person.

A segmenter judges each frame on its own, so a poster, a red sign or a sofa that it
takes for a person for a frame or two flashes into the picture unpainted. A real
person does not appear out of nothing: they move in from somewhere and then stay. So
a person region of a frame (a connected region of the probability map above the
threshold) is shown at once when

- it reaches within ``reach`` of what was shown as person the frame before (the same
  person moving, a raised arm, someone stepping up beside them), or
- most of it has not been settled background: at the start of a stream nothing has,
  and where a person was shown moments ago (a hand lost for a frame) it is not;

and otherwise, a newcomer in a part of the room that has been background for
``settle`` frames, far from anyone, it is held back (its probability set to 0) until it
has read as person ``earn`` frames in a row. A flash shorter than that never shows;
a person walking into an empty room shows ``earn - 1`` frames after the model first
sees them (the latency this costs).

It works on the low-resolution map, after the colour model (:mod:`camfx.vision.refine`):
the colours can raise a region the segmenter was unsure of into a person too (a photo
of people on the wall: the segmenter barely, the colours of her hair and clothes
much more).
"""

from __future__ import annotations

import cv2
import numpy as np

from camfx.vision.imaging import region_count

SETTLE = 50  # frames of background (2 s at 25 fps) before a region counts as settled
EARN = 4  # frames in a row a newcomer in settled background must read as person
REACH = 0.08  # of the map's short side: what counts as near the person shown before
_FOLLOW = 0.02  # of the map's short side: how far a held-back newcomer may move a frame
_GRID = 128  # px, the short side regions are judged at (a person is tens of px there)


class Persistence:
    """Holds back person regions that appear from nowhere in settled background.
    Keeps state: one per video stream (see the module's docstring)."""

    def __init__(self, settle: int = SETTLE, earn: int = EARN, reach: float = REACH) -> None:
        if settle < 1 or earn < 1:
            raise ValueError("settle and earn are frame counts, at least 1")
        self.settle, self.earn, self.reach = settle, earn, reach
        self._shown: np.ndarray | None = None  # bool: person shown in the last frame
        self._background_for: np.ndarray | None = None  # frames each pixel was not shown
        self._held_for: np.ndarray | None = None  # frames a held-back newcomer has read
        self._spread: np.ndarray | None = None  # the same spread by _FOLLOW (this frame's)
        self.held_back = 0  # regions held back in the last frame (for tests and the eval)

    def reset(self) -> None:
        self._shown = self._background_for = self._held_for = self._spread = None

    def admit(self, prob: np.ndarray, threshold: float = 0.5) -> np.ndarray:
        """`prob` with the regions that have not earned being person set to 0."""
        grid = grid_size(prob.shape)
        small = prob if prob.shape == grid[::-1] else cv2.resize(
            prob, grid, interpolation=cv2.INTER_AREA)
        person = (small > threshold).astype(np.uint8)
        if self._shown is None or self._shown.shape != small.shape:
            self._start(small.shape)
        assert self._shown is not None and self._background_for is not None
        if self._plainly_shown(person):
            count, labels, stats = 1, None, None  # nothing to hold back: not labelled
        else:
            count, labels, stats, _ = cv2.connectedComponentsWithStats(person, connectivity=8)
        held = np.zeros(count, bool)
        held_for = None
        if count > 1:
            assert labels is not None and stats is not None
            touches = np.bincount(labels[self._near_shown()], minlength=count)
            settled = np.bincount(labels[self._background_for >= self.settle], minlength=count)
            for i in range(1, count):
                if touches[i] > 0 or 2 * settled[i] <= stats[i, cv2.CC_STAT_AREA]:
                    continue
                x, y, w, h = stats[i, :4]
                inside = labels[y : y + h, x : x + w] == i
                frames = 1 + int(self._earlier_reading()[y : y + h, x : x + w][inside].max())
                if frames >= self.earn:
                    continue
                held[i] = True
                if held_for is None:
                    held_for = np.zeros(small.shape, np.uint16)
                held_for[y : y + h, x : x + w][inside] = frames
        self._held_for, self._spread = held_for, None
        self.held_back = int(held.sum())
        shown = person.astype(bool)
        if self.held_back:
            back = held[labels]
            shown &= ~back
            prob = held_back_from(prob, back)
        self._shown = shown
        background_for = self._background_for
        background_for += 1
        np.minimum(background_for, self.settle, out=background_for)
        background_for[shown] = 0
        return prob

    def _plainly_shown(self, person: np.ndarray) -> bool:
        """Nobody, or one region that overlaps what was shown the frame before (so it
        touches it): the common frame, told without labelling the regions."""
        count = region_count(person)
        assert self._shown is not None
        return count == 0 or (count == 1 and bool((person.view(bool) & self._shown).any()))

    def _start(self, shape: tuple[int, ...]) -> None:
        self._shown = np.zeros(shape, bool)
        self._background_for = np.zeros(shape, np.uint16)  # a new stream: nothing settled
        self._held_for = self._spread = None

    def _near_shown(self) -> np.ndarray:
        """Within reach of what was shown as person (a distance transform: a dilation
        by a disc this wide cost 20x more)."""
        assert self._shown is not None
        if not self._shown.any():
            return self._shown
        distance = cv2.distanceTransform((~self._shown).astype(np.uint8), cv2.DIST_L2, 3)
        return distance <= self._radius(self.reach)

    def _earlier_reading(self) -> np.ndarray:
        """How long each held-back newcomer has read as person, spread a little (it may
        move between frames); made once a frame, when a newcomer needs it."""
        assert self._shown is not None
        if self._spread is None:
            if self._held_for is None:
                self._spread = np.zeros(self._shown.shape, np.uint16)
            else:
                self._spread = cv2.dilate(self._held_for, self._disc(_FOLLOW))
        return self._spread

    def _radius(self, fraction: float) -> int:
        assert self._shown is not None
        return max(1, round(fraction * min(self._shown.shape)))

    def _disc(self, fraction: float) -> np.ndarray:
        radius = self._radius(fraction)
        return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)


def grid_size(shape: tuple[int, ...]) -> tuple[int, int]:
    """(w, h) of the grid a map of `shape` is judged on: its own, at most _GRID px on
    the short side (a quarter of the pixels of the pair's 455x256 map)."""
    h, w = shape[:2]
    scale = min(1.0, _GRID / min(h, w))
    return max(1, round(w * scale)), max(1, round(h * scale))


def held_back_from(prob: np.ndarray, back: np.ndarray) -> np.ndarray:
    """`prob` set to 0 where `back` (bool, on the grid) says, and on its soft rim too, or
    the edge ramp would show a faint outline of what was held back."""
    back = cv2.dilate(back.astype(np.uint8), np.ones((3, 3), np.uint8))
    if back.shape != prob.shape:
        back = cv2.resize(back, prob.shape[::-1], interpolation=cv2.INTER_NEAREST)
    return np.where(back.astype(bool), np.float32(0.0), prob).astype(np.float32)
