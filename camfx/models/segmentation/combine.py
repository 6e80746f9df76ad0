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


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1.0 - _EPS)
    return np.log(p / (1.0 - p))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-x))).astype(np.float32)


def mean_rule(maps: Sequence[np.ndarray]) -> np.ndarray:
    """The average probability: a model that is sure outweighs one that is not."""
    return (sum(maps) / len(maps)).astype(np.float32)


def logit_mean_rule(maps: Sequence[np.ndarray]) -> np.ndarray:
    """The average log-odds (the geometric mean of the odds): where one model says
    person and the other background, the surer one wins."""
    return sigmoid(sum(logit(m) for m in maps) / len(maps))


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
    """Runs each member segmenter on the frame and combines their maps with `rule`."""

    def __init__(self, members: Sequence[Segmenter], rule: str = "logit",
                 name: str | None = None) -> None:
        if rule not in RULES:
            raise ValueError(f"unknown rule '{rule}'; use one of {', '.join(RULES)}")
        self.members = list(members)
        self.rule = rule
        self.name = name or "+".join(m.name for m in self.members)
        self.fit = self.members[0].fit
        # Mask settings follow the first member (DeepLab's own guided filter, say).
        self.mask_tweaks = dict(self.members[0].mask_tweaks)

    def probability_map(self, frame_bgr: np.ndarray) -> np.ndarray:
        maps = [m.probability_map(frame_bgr) for m in self.members]
        size = common_size(maps, frame_bgr.shape[1], frame_bgr.shape[0])
        maps = [m if m.shape[::-1] == size else
                cv2.resize(m, size, interpolation=cv2.INTER_LINEAR) for m in maps]
        return RULES[self.rule](maps)

    def segment(self, frame_bgr: np.ndarray) -> np.ndarray:
        prob = self.probability_map(frame_bgr)
        return cv2.resize(prob, frame_bgr.shape[1::-1], interpolation=cv2.INTER_LINEAR)

    def reset(self) -> None:
        for member in self.members:
            member.reset()

    def tuned(self, settings: MaskSettings) -> MaskSettings:
        return replace(settings, **self.mask_tweaks)


def common_size(maps: Sequence[np.ndarray], frame_w: int, frame_h: int) -> tuple[int, int]:
    """(w, h) in the frame's proportions, as fine as the finest member map's width or
    height (each map covers the whole frame, whatever its own shape)."""
    finest = max(max(m.shape[1], m.shape[0] * frame_w / frame_h) for m in maps)
    w = min(round(finest), round(_MAX_SIDE * min(1.0, frame_w / frame_h)))
    return max(1, w), max(1, round(w * frame_h / frame_w))
