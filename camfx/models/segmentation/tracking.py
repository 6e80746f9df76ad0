"""Where the people are, so the model can look there: boxes around confident person
regions and the :class:`PeopleTracker` that places one model-shaped window around them
from frame to frame (the ``track`` fit, :mod:`.fitting`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Box:
    """A rectangle in frame pixels."""

    x: int
    y: int
    w: int
    h: int

    def contains(self, other: Box) -> bool:
        return (
            self.x <= other.x
            and self.y <= other.y
            and other.x + other.w <= self.x + self.w
            and other.y + other.h <= self.y + self.h
        )

    def grown(self, fraction: float) -> Box:
        """Grown by `fraction` of its larger side on every side (may leave the frame)."""
        d = round(fraction * max(self.w, self.h))
        return Box(self.x - d, self.y - d, self.w + 2 * d, self.h + 2 * d)

    def clipped(self, frame_w: int, frame_h: int) -> Box:
        x, y = max(self.x, 0), max(self.y, 0)
        return Box(x, y, min(self.x + self.w, frame_w) - x, min(self.y + self.h, frame_h) - y)


def union(a: Box | None, b: Box | None) -> Box | None:
    """The box around both (either may be missing)."""
    if a is None or b is None:
        return a or b
    x, y = min(a.x, b.x), min(a.y, b.y)
    return Box(x, y, max(a.x + a.w, b.x + b.w) - x, max(a.y + a.h, b.y + b.h) - y)


def tile_starts(length: int, tile: int) -> list[int]:
    """Evenly spaced starts of the fewest tiles that cover `length`."""
    count = math.ceil(length / tile)
    if count <= 1:
        return [0]
    return [round(i * (length - tile) / (count - 1)) for i in range(count)]



# A person has a core the model is sure of; brushwork in a painting that it half
# takes for a person does not (measured: painted false positives peak below 0.85,
# people at 1.0). Only regions with such a core place the tracking window: all of
# them above 0.5 when that fits in one window, else as far as the model is fairly
# sure (its less sure rim on a busy painting can spread into the brushwork and
# widen them past one model run; see PeopleTracker.follow).
CORE_PROBABILITY = 0.98
REGION_PROBABILITY = 0.9
_MIN_REGION = 0.002  # of the map's area: smaller regions are specks, even when sure
EDGE_TOUCH = 0.03  # of a window's edge covered by person: they continue past it


def people_box(
    prob: np.ndarray, frame_w: int, frame_h: int, extent: float = REGION_PROBABILITY
) -> Box | None:
    """The box around every person region with a confident core, in frame pixels.

    A region is everything above `extent` connected to the core (hysteresis), so the
    box holds the person as far as the model is that sure of them.
    """
    _, labels, stats, _ = cv2.connectedComponentsWithStats(
        (prob > extent).astype(np.uint8), connectivity=8
    )
    cored = np.zeros(len(stats), bool)
    cored[labels[prob > CORE_PROBABILITY]] = True
    cored[0] = False  # the background
    regions = stats[cored]
    regions = regions[regions[:, cv2.CC_STAT_AREA] >= _MIN_REGION * prob.size]
    if not len(regions):
        return None
    x0 = regions[:, cv2.CC_STAT_LEFT].min()
    y0 = regions[:, cv2.CC_STAT_TOP].min()
    x1 = (regions[:, cv2.CC_STAT_LEFT] + regions[:, cv2.CC_STAT_WIDTH]).max()
    y1 = (regions[:, cv2.CC_STAT_TOP] + regions[:, cv2.CC_STAT_HEIGHT]).max()
    sx, sy = frame_w / prob.shape[1], frame_h / prob.shape[0]
    x, y = math.floor(x0 * sx), math.floor(y0 * sy)
    return Box(x, y, math.ceil(x1 * sx) - x, math.ceil(y1 * sy) - y)


def people_boxes(prob: np.ndarray, frame_w: int, frame_h: int) -> tuple[Box | None, Box | None]:
    """The people as far as the model is fairly sure (> 0.9), and whole (> 0.5), both
    joined to a sure core."""
    sure = people_box(prob, frame_w, frame_h)
    if sure is None:
        return None, None
    return sure, people_box(prob, frame_w, frame_h, extent=0.5)


class PeopleTracker:
    """Where the model looks next: a window around the people, as tall as the frame.

    The window is the largest one with the model's proportions (a 720x720 square
    in a 1280x720 frame, the size of one tile) and slides to keep the people in
    its middle; it moves only when they come near its edge (a window that shifts
    every frame resamples the picture differently and flickers the mask). It
    never zooms in: the model is sometimes sure of a head alone for a while, and
    a window shrunk to the head would cut the body off. Every ``SEARCH_EVERY``
    frames one of the whole-frame tiles is also looked at, so somebody who walks
    in is found; when the people no longer fit in one window (or nobody is
    known), the whole frame is tiled.
    """

    SLACK = 0.05  # of their box: they may come this close to the window's edge
    SEARCH_EVERY = 10  # frames; each search costs one more model run

    def __init__(self, model_wh: tuple[int, int]) -> None:
        self.model_wh = model_wh
        self._frame_wh = (0, 0)
        self._window: Box | None = None
        self._frames = 0

    def advance(self, frame_w: int, frame_h: int) -> Box | None:
        """Count a new frame and give its window; None: tile the frame. A new frame size
        (a new stream) starts over."""
        if (frame_w, frame_h) != self._frame_wh:
            self._frame_wh, self._window, self._frames = (frame_w, frame_h), None, 0
        self._frames += 1
        return self._window

    def idle(self, frame_w: int, frame_h: int) -> bool:
        """For a frame that repeats the last one: True, and the frame is counted, when the
        model need not look at it again; False when a search for newcomers is due on it
        (or the stream is new): then it runs as any frame, ``advance`` counting it."""
        if (frame_w, frame_h) != self._frame_wh or (self._frames + 1) % self.SEARCH_EVERY == 0:
            return False
        self._frames += 1
        return True

    @property
    def window(self) -> Box | None:
        """The current window (after `follow`), without counting a frame."""
        return self._window

    def search_window(self) -> Box | None:
        """A whole-frame tile to search this frame for newcomers, or None."""
        if self._frames % self.SEARCH_EVERY:
            return None
        frame_w, frame_h = self._frame_wh
        tiles = self._tiles(frame_w, frame_h)
        return tiles[(self._frames // self.SEARCH_EVERY) % len(tiles)]

    def follow(self, people: Box | None, whole: Box | None = None) -> None:
        """Place the window for the next frame around where the people are now:
        `people` as far as the model is fairly sure of them, `whole` as far as it
        takes them for people at all. The window centres on the whole people when
        they fit in it: the sure part alone can sit off their middle (a head the
        model is sure of, shoulders it is not), and a window centred on it cut a
        shoulder off (eval: DeepLab IoU 0.975 -> 0.982). When they don't fit
        (brushwork it half believes in, joined to them), the sure part places it."""
        if people is None:
            self._window = None
            return
        frame_w, frame_h = self._frame_wh
        tile = self._tiles(frame_w, frame_h)[0]
        if whole is not None and whole.w <= tile.w and whole.h <= tile.h:
            people = whole
        needed = people.grown(self.SLACK).clipped(frame_w, frame_h)
        if needed.w > tile.w or needed.h > tile.h:  # no room for the slack: them alone
            needed = people
        if self._window is None or not self._window.contains(needed):
            self._window = self._place(people)

    def _place(self, people: Box) -> Box | None:
        """The largest window centred on `people`; None if it cannot hold them."""
        frame_w, frame_h = self._frame_wh
        tiles = self._tiles(frame_w, frame_h)
        if len(tiles) == 1:  # the whole frame is one window: nothing to track
            return None
        w, h = tiles[0].w, tiles[0].h
        if people.w > w or people.h > h:
            return None
        # On even pixels: the window is then a crop of the frame's half too (the
        # caller's, imaging.half_of_crop), spared a pass over the full-size frame.
        x = 2 * round((people.x + people.w / 2 - w / 2) / 2)
        y = 2 * round((people.y + people.h / 2 - h / 2) / 2)
        return Box(min(max(x, 0), frame_w - w), min(max(y, 0), frame_h - h), w, h)

    def _tiles(self, frame_w: int, frame_h: int) -> list[Box]:
        model_w, model_h = self.model_wh
        scale = max(model_w / frame_w, model_h / frame_h)
        w = min(frame_w, round(model_w / scale))
        h = min(frame_h, round(model_h / scale))
        return [Box(x, y, w, h) for y in tile_starts(frame_h, h) for x in tile_starts(frame_w, w)]
