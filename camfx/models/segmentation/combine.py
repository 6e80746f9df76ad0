"""Several person segmenters as one: their probability maps combined pixel by pixel.

The models fail on different things (measured on real people, README): DeepLab takes
beige furniture next to skin for a person and misses people in unusual poses; the
selfie models take red objects, graffiti and asphalt for a person. Where they agree a
combination changes nothing; where one model is alone in its mistake, the other
outvotes it. :class:`CombinedSegmenter` behaves as one :class:`Segmenter` (a
probability map over the whole frame, ``reset``, ``tuned``), so the refinement and
everything after it is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import cv2
import numpy as np

from camfx.vision.refine import MaskSettings

if TYPE_CHECKING:
    from camfx.models.segmentation.base import Segmenter

_EPS = 1e-4
_MAX_SIDE = 512  # px: the combined map's long side at most (the refinement's input)


def odds(p: np.ndarray) -> np.ndarray:
    """p / (1 - p), the exp of its log-odds; p kept within _EPS of 0 and 1 (a sure 0 or
    1 would otherwise outvote any other model alone)."""
    p = np.clip(p, np.float32(_EPS), np.float32(1.0 - _EPS))
    return p / (1.0 - p)


def probability_of_odds(o: np.ndarray) -> np.ndarray:
    """o / (1 + o): sigmoid(log(o)) without the exp."""
    return (o / (1.0 + o)).astype(np.float32, copy=False)


def geometric_mean_of_odds(odds_maps: Sequence[np.ndarray]) -> np.ndarray:
    """The probability whose odds are the geometric mean of the maps' odds: the same as
    sigmoid(mean of the log-odds), without a log or an exp per pixel (for two maps, a
    square root: 0.3 against 1.4 ms on a 455x256 map on a slow day)."""
    product = odds_maps[0]
    for o in odds_maps[1:]:
        product = product * o
    if len(odds_maps) == 2:
        return probability_of_odds(np.sqrt(product))
    return probability_of_odds(np.power(product, np.float32(1.0 / len(odds_maps))))


def mean_rule(maps: Sequence[np.ndarray]) -> np.ndarray:
    """The average probability: a model that is sure outweighs one that is not."""
    return (sum(maps) / len(maps)).astype(np.float32)


def logit_mean_rule(maps: Sequence[np.ndarray]) -> np.ndarray:
    """The average log-odds (the geometric mean of the odds): where one model says
    person and the other background, the surer one wins."""
    return geometric_mean_of_odds([odds(m) for m in maps])


def min_rule(maps: Sequence[np.ndarray]) -> np.ndarray:
    """Person only where every model says so."""
    return np.minimum.reduce(list(maps)).astype(np.float32)


def max_rule(maps: Sequence[np.ndarray]) -> np.ndarray:
    """Person wherever any model says so."""
    return np.maximum.reduce(list(maps)).astype(np.float32)


RULES: dict[str, Callable[[Sequence[np.ndarray]], np.ndarray]] = {
    "mean": mean_rule,
    "logit": logit_mean_rule,
    "min": min_rule,
    "max": max_rule,
}


class CombinedSegmenter:
    """Runs each member segmenter on the frame and combines their maps with `rule`.

    With ``alternate``, a stream's first frame runs every member and each later frame
    runs only one of them, in turn, combined with the others' latest maps: the models'
    cost is shared out over frames (the pair's two models, one a frame: about half the
    segmentation CPU live), at the price of the other models' maps being a frame or so
    old, where a person moves. A still picture (``segment`` on a new stream) always
    gets every member.
    """

    def __init__(self, members: Sequence[Segmenter], rule: str = "logit",
                 name: str | None = None, alternate: bool = False) -> None:
        if rule not in RULES:
            raise ValueError(f"unknown rule '{rule}'; use one of {', '.join(RULES)}")
        self.members = list(members)
        self.rule = rule
        self.name = name or "+".join(m.name for m in self.members)
        self.fit = self.members[0].fit
        # Mask settings follow the first member (DeepLab's own guided filter, say).
        self.mask_tweaks = dict(self.members[0].mask_tweaks)
        self.alternate = alternate
        self._latest = LatestMaps(len(self.members))
        self._last: np.ndarray | None = None

    def probability_map(
        self, frame_bgr: np.ndarray, half: np.ndarray | None = None
    ) -> np.ndarray:
        """The combined map; the same object again when every member that ran gave back
        the map it gave before (a repeated frame: see Segmenter.probability_map).
        `half`: the frame at half size, when at hand (see Segmenter.probability_map)."""
        shape = frame_bgr.shape[:2]
        alternating = self.alternate and self._latest.complete(shape)
        turns = [self._latest.next_turn()] if alternating else range(len(self.members))
        same = self._last is not None and self._latest.complete(shape)
        for i in turns:
            prob = self.members[i].probability_map(frame_bgr, half)
            same = same and prob is self._latest.maps[i]
            self._latest.put(i, prob, shape)
        if not same:
            self._last = self._combined(frame_bgr, turns[0] if alternating else None)
        return self._last

    def _combined(self, frame_bgr: np.ndarray, fresh: int | None) -> np.ndarray:
        """The members' latest maps combined; `fresh`: the one member that just ran."""
        size = common_size(self._latest.maps, frame_bgr.shape[1], frame_bgr.shape[0])
        maps = self._latest.at_size(size)
        if self.rule == "logit":  # logit_mean_rule, a member's odds kept while it rests
            combined = geometric_mean_of_odds(self._latest.odds())
        else:
            combined = RULES[self.rule](maps)
        moved = None if fresh is None else self._latest.change(fresh, size)
        return combined if moved is None else follow_the_fresh(combined, maps[fresh], moved)

    def segment(self, frame_bgr: np.ndarray) -> np.ndarray:
        prob = self.probability_map(frame_bgr)
        return cv2.resize(prob, frame_bgr.shape[1::-1], interpolation=cv2.INTER_LINEAR)

    def reset(self) -> None:
        self._latest = LatestMaps(len(self.members))
        self._last = None
        for member in self.members:
            member.reset()

    def tuned(self, settings: MaskSettings) -> MaskSettings:
        return replace(settings, **self.mask_tweaks)


class LatestMaps:
    """Each member's latest probability map, for frames of one shape, and whose turn it is;
    a stale map is scaled to the combined size once, not every frame."""

    def __init__(self, count: int) -> None:
        self.maps: list[np.ndarray | None] = [None] * count
        self._scaled: list[np.ndarray | None] = [None] * count
        self._before: list[np.ndarray | None] = [None] * count  # the run before, scaled
        # (scaled map, its odds) of each member, kept while the same scaled map stands
        self._odds: list[tuple[np.ndarray, np.ndarray] | None] = [None] * count
        self._shape: tuple[int, ...] | None = None
        self._turn = 0

    def complete(self, frame_shape: tuple[int, ...]) -> bool:
        """Every member has a map of a frame of this shape."""
        return frame_shape == self._shape and all(m is not None for m in self.maps)

    def next_turn(self) -> int:
        turn = self._turn
        self._turn = (turn + 1) % len(self.maps)
        return turn

    def put(self, index: int, prob: np.ndarray, frame_shape: tuple[int, ...]) -> None:
        if frame_shape != self._shape:  # another stream: nothing of the old one counts
            self.maps = [None] * len(self.maps)
            self._scaled = [None] * len(self.maps)
            self._before = [None] * len(self.maps)
            self._shape, self._turn = frame_shape, 0
        self._before[index] = self._scaled[index]
        self.maps[index], self._scaled[index] = prob, None

    def change(self, index: int, size: tuple[int, int]) -> np.ndarray | None:
        """How much member `index`'s map changed since its previous run (call after
        ``at_size(size)``); None when there is no previous run at this size."""
        before, now = self._before[index], self._scaled[index]
        if before is None or now is None or before.shape != now.shape:
            return None
        return cv2.absdiff(now, before)

    def at_size(self, size: tuple[int, int]) -> list[np.ndarray]:
        """Every map scaled to `size` (w, h)."""
        out = []
        for i, prob in enumerate(self.maps):
            scaled = self._scaled[i]
            if scaled is None or scaled.shape[::-1] != size:
                scaled = prob if prob.shape[::-1] == size else cv2.resize(
                    prob, size, interpolation=cv2.INTER_LINEAR)
                self._scaled[i] = scaled
            out.append(scaled)
        return out

    def odds(self) -> list[np.ndarray]:
        """odds() of each map as ``at_size`` last scaled it (call after it); a map that
        did not change since is not worked out again (alternating: one of two)."""
        out = []
        for i, scaled in enumerate(self._scaled):
            kept = self._odds[i]
            if kept is None or kept[0] is not scaled:
                kept = self._odds[i] = (scaled, odds(scaled))
            out.append(kept[1])
        return out


# Where the fresh map changed by _MOVED or more since its member's last run, it counts
# for _FRESH of the combined map, the older ones' combination for the rest. Measured on
# consecutive frames (README: Speed): fully fresh there lost real clips' worst frame
# (one model alone, unchecked, on a fast player: 0.52 against 0.70), not following it
# at all cost the rooms' boundary F 0.012; half way keeps most of both.
_MOVED = 0.5
_FRESH = 0.5


def follow_the_fresh(combined: np.ndarray, fresh: np.ndarray, moved: np.ndarray) -> np.ndarray:
    """Where the member that just ran saw the person move (its map changed since its own
    last run), the others' maps, a frame or more older, are out of date: the combined map
    there leans towards the fresh one; elsewhere the combination stands."""
    weight = np.minimum(moved * np.float32(_FRESH / _MOVED), np.float32(_FRESH))
    return (combined + weight * (fresh - combined)).astype(np.float32, copy=False)


def common_size(maps: Sequence[np.ndarray], frame_w: int, frame_h: int) -> tuple[int, int]:
    """(w, h) in the frame's proportions, as fine as the finest member map's width or
    height (each map covers the whole frame, whatever its own shape)."""
    finest = max(max(m.shape[1], m.shape[0] * frame_w / frame_h) for m in maps)
    w = min(round(finest), round(_MAX_SIDE * min(1.0, frame_w / frame_h)))
    return max(1, w), max(1, round(w * frame_h / frame_w))
