"""How still a painted background stays when the room is still, and how fast it follows
when the room changes.

Measured on the painted background (before the person is composited back) over
background pixels only: the segmenter's mask, grown by a margin, is left out in
both frames compared. Each figure is a ratio to the input frames' own change over
the same pixels, so camera noise and compression set the scale: 1.0 means the
painting changes as much as the camera's picture does.

Used by ``camfx bench``, ``scripts/eval_stability.py`` and the tests; the clips they
measure are built by ``camfx_eval.stability_clips``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np

LAG = 30  # frames apart for the slow figure: one second at 30 fps
MARGIN = 24  # px around the person (at 720p) left out: their soft edge and shadow


def background_pixels(mask: np.ndarray, margin: int = MARGIN) -> np.ndarray:
    """Where a (soft) person mask is background, `margin` px (at 720p) away from the person.

    The margin is grown on a mask a quarter the size (a 49 px disc at 720p took ~20 ms a
    frame, longer than the pipeline's own work): the same band within a few pixels."""
    scaled = max(1, round(margin * mask.shape[0] / 720))
    factor = 4 if min(mask.shape[:2]) >= 64 and scaled >= 8 else 1
    person = (mask > 0.1).astype(np.uint8)
    if factor > 1:
        small = (mask.shape[1] // factor, mask.shape[0] // factor)
        person = cv2.resize(person, small, interpolation=cv2.INTER_AREA) > 0
        person = person.astype(np.uint8)
    radius = max(1, round(scaled / factor))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    near = cv2.dilate(person, kernel)
    if factor > 1:
        near = cv2.resize(near, mask.shape[1::-1], interpolation=cv2.INTER_NEAREST)
    return near == 0


def mean_change(a: np.ndarray, b: np.ndarray, where: np.ndarray) -> float:
    """Mean absolute difference (levels, over channels) of two pictures on `where`."""
    if not where.any():
        return float("nan")
    channels = cv2.mean(cv2.absdiff(a, b), mask=where.astype(np.uint8))
    return float(np.mean(channels[: 1 if a.ndim == 2 else a.shape[2]]))


@dataclass
class StabilityMeter:
    """Fed frame after frame: the input, its painted background and its person mask.

    Keeps the last `lag` frames to compare the painting (and the input) one frame
    and `lag` frames apart over the pixels that are background in both. The frames
    compared as consecutive are the ones given in a row (a live run drops some).
    """

    lag: int = LAG
    margin: int = MARGIN
    step: list[tuple[float, float]] = field(default_factory=list)  # (painting, input)
    far: list[tuple[float, float]] = field(default_factory=list)
    _history: deque = field(default_factory=deque)

    def add(self, index: int, image: np.ndarray, painted: np.ndarray, mask: np.ndarray) -> None:
        where = background_pixels(mask, self.margin)
        # Only pixels: the pictures themselves are kept, as references (no copies).
        entry = (index, image, painted, where)
        if self._history:
            self._compare(self._history[-1], entry, self.step)
        # `lag` frames back, or the nearest frame before that when frames were dropped
        # (live), up to half as far again.
        older = [old for old in self._history if index - old[0] >= self.lag]
        if older and index - older[-1][0] <= 1.5 * self.lag:
            self._compare(older[-1], entry, self.far)
        self._history.append(entry)
        while len(self._history) > 1 and index - self._history[1][0] >= self.lag:
            self._history.popleft()

    @staticmethod
    def _compare(old: tuple, new: tuple, into: list[tuple[float, float]]) -> None:
        where = old[3] & new[3]
        if where.mean() < 0.05:  # hardly any background in common: nothing to compare
            return
        into.append((mean_change(old[2], new[2], where), mean_change(old[1], new[1], where)))

    @staticmethod
    def _ratio(pairs: list[tuple[float, float]]) -> float:
        if not pairs:
            return float("nan")
        painting, source = np.mean(pairs, axis=0)
        return float(painting / max(source, 1e-6))

    @property
    def step_ratio(self) -> float:
        """The painting's frame-to-frame change over the input's."""
        return self._ratio(self.step)

    @property
    def far_ratio(self) -> float:
        """The painting's change `lag` frames apart over the input's."""
        return self._ratio(self.far)

    def levels(self) -> dict[str, float]:
        """The mean changes themselves, in levels: painting and input, step and far."""
        out = {}
        for name, pairs in (("step", self.step), ("far", self.far)):
            mean = np.mean(pairs, axis=0) if pairs else (float("nan"), float("nan"))
            out[f"painting {name}"], out[f"input {name}"] = float(mean[0]), float(mean[1])
        return out


def follow_delay(
    paintings: list[np.ndarray], region: np.ndarray, change: int, share: float = 0.8
) -> int | None:
    """Frames from `change` until the painting over `region` has made `share` of the move
    it makes by the end of the clip (the last painting: the room after the change),
    and is nearer the end than half that move (a painting that moved elsewhere has not
    followed). The camera's own picture settles over a few frames after a big change
    (the encoder refines it), so the painting may too.

    None when it never gets there (or nothing changed).
    """
    before, after = paintings[change - 1], paintings[-1]
    total = mean_change(before, after, region)
    if not total > 1.0:
        return None
    for t in range(change, len(paintings)):
        gone = mean_change(before, paintings[t], region)
        left = mean_change(paintings[t], after, region)
        if gone >= share * total and left <= total / 2:
            return t - change
    return None


def shift_change(a: np.ndarray, b: np.ndarray, dx: int, where: np.ndarray) -> float:
    """Mean change from `a` to `b` once `a` is moved `dx` px left (a camera panning right)."""
    if dx == 0:
        return mean_change(a, b, where)
    moved = a[:, dx:] if dx > 0 else a[:, :dx]
    kept = b[:, :-dx] if dx > 0 else b[:, -dx:]
    inside = where[:, :-dx] if dx > 0 else where[:, -dx:]
    return mean_change(moved, kept, inside)


def pan_ratios(
    inputs: list[np.ndarray], paintings: list[np.ndarray], masks: list[np.ndarray], dx: int
) -> tuple[float, float]:
    """On a clip whose camera pans `dx` px a frame: the painting's frame-to-frame change
    over the input's, (once the last frame is moved with the camera, as it is).

    A painting attached to the room has a small first figure (its strokes move with
    the room) and a second near the input's; painting afresh each frame boils (large
    first figure); a frozen painting has a second figure near 0.
    """
    moved, still, moved_in, still_in = [], [], [], []
    for t in range(1, len(paintings)):
        where = background_pixels(masks[t - 1]) & background_pixels(masks[t])
        moved.append(shift_change(paintings[t - 1], paintings[t], dx, where))
        still.append(mean_change(paintings[t - 1], paintings[t], where))
        moved_in.append(shift_change(inputs[t - 1], inputs[t], dx, where))
        still_in.append(mean_change(inputs[t - 1], inputs[t], where))
    return float(np.mean(moved) / np.mean(moved_in)), float(np.mean(still) / np.mean(still_in))
