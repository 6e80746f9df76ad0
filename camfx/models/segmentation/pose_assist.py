"""The pose model as a second opinion on the main person, when they are seen at a distance.

The selfie models are made for a face close to the camera. A whole person further
away, moving (walking, dancing, turning), is where they fail: a raised arm or half
a twirling torso missed, a red goal beside a player taken for him. BlazePose GHUM's
person mask is made for exactly that, on a window around one person, and there it
was the strongest mask measured (README: Segmentation). In a head-and-shoulders
close-up it adds nothing measurable (hands coming up from below the frame lead it to
fill in arms that are not there), so there it does not run.

:class:`PoseAssisted` wraps a segmenter (the selfie pair) and behaves as one: each
frame the pose model runs on a square window around the largest person the base
map shows (joined with where the last map had them), and near that person the two
maps' log-odds are averaged, the pose model's "background" floored so that it cannot
remove what the base model is sure of (a worn harness, a backpack: the pose model's
notion of a body has no room for them). Everywhere else, other people included, the
base map stands. A close-up is told from the base map alone (:func:`close_up`), so
there it costs nothing. At a distance the base model rests every second frame: its map
of the frame before stands, moved with the picture's motion since where the pose model
looked (:mod:`camfx.vision.motion`; on the real clips 0.9011 against 0.9017 running it
every frame, for 0.84x the time).

Its light mode (``light``, set by a live pipeline that falls behind the camera: see
:class:`~camfx.models.segmentation.base.Lightens`) shares the turns at a distance: on
every second frame the pose model runs and the base model rests (its last map stands),
on the others the base model runs and the pose model's last view stands, moved with
the picture's motion since: each frame one of them, about the pair's own cost a frame.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import cv2
import numpy as np

from camfx.models.segmentation.base import Segmenter
from camfx.models.segmentation.combine import CombinedSegmenter, geometric_mean_of_odds, odds
from camfx.models.segmentation.pose import PoseSegmenter
from camfx.models.segmentation.tracking import Box, union
from camfx.vision.imaging import half_of_crop, region_outlines, shrink
from camfx.vision.motion import MotionFollower, grey_cells
from camfx.vision.refine import MaskSettings

# A close-up (head and shoulders, or head and torso, as a webcam frames a person at a
# desk: the selfie models' own ground) is a person the frame's bottom cuts through the
# torso, at least this share of the frame's height.
CLOSE_UP_HEIGHT = 0.6
CUT_TORSO = 0.5  # of the person's width, on the frame's bottom row: a torso, not legs
# A close-up stays one until the person falls below this share of both limits: a person
# at a desk holding a guitar out to the side filled 0.48-0.50 of their width on the
# bottom row, and the pose model came and went (a jump of the mask each time).
CLOSE_UP_HOLD = 0.8
FLOOR = 2.0  # log-odds: the pose model pulls a pixel down by at most this (mean: half)
_FLOOR_ODDS = np.float32(math.exp(-FLOOR))
NEAR = 0.08  # of the map's long side: how far from its person the pose model has a say
MARGIN = 1.25  # the window's side, times the person's longer side
CUT_OFF_SIDE = 1.4  # the window's side, times the height of a person the frame cuts off
MIN_PERSON = 0.002  # of the map: smaller regions are specks, not a person to look at


@dataclass(frozen=True)
class PoseView:
    """What the pose model saw on one window, on the base map's grid."""

    probability: np.ndarray  # float32, the base map's shape; 0 outside the window
    inside: tuple[slice, slice]  # the grid cells the window covers within the frame


@dataclass(frozen=True)
class Person:
    """The largest person region of a map: its box in frame pixels, and the share of
    the box's width it fills on the frame's bottom row (0: the frame does not cut it)."""

    box: Box
    cut_width: float


def main_person(prob: np.ndarray, frame_w: int, frame_h: int) -> Person | None:
    """The largest region the map calls person (> 0.5), when it is more than a speck."""
    binary = (prob > 0.5).astype(np.uint8)
    outlines = region_outlines(binary)
    if not outlines:
        return None
    if len(outlines) == 1:  # most frames
        x, y, w, h = cv2.boundingRect(binary)
        area, on_bottom = cv2.countNonZero(binary), cv2.countNonZero(binary[-1])
    else:  # sized by their outlines, not labelled (see refine.remove_small_blobs)
        areas = [cv2.contourArea(outline) for outline in outlines]
        largest = outlines[int(np.argmax(areas))]
        x, y, w, h = cv2.boundingRect(largest)
        area, on_bottom = max(areas), 0
        if y + h == binary.shape[0]:  # its pixels on the bottom row, not others'
            filled = np.zeros((h, w), np.uint8)
            cv2.drawContours(filled, [largest], -1, 1, cv2.FILLED, offset=(-x, -y))
            on_bottom = cv2.countNonZero(filled[-1] & binary[-1, x : x + w])
    if area < MIN_PERSON * prob.size:
        return None
    sx, sy = frame_w / prob.shape[1], frame_h / prob.shape[0]
    left, top = math.floor(x * sx), math.floor(y * sy)
    box = Box(left, top, math.ceil((x + w) * sx) - left, math.ceil((y + h) * sy) - top)
    return Person(box, float(on_bottom) / w)


def close_up(person: Person, frame_h: int, was_close_up: bool = False) -> bool:
    """Whether `person` fills the frame as a webcam at a desk shows someone: the frame's
    bottom cuts through their torso (it fills at least CUT_TORSO of their width there:
    not feet or legs) and they reach at least CLOSE_UP_HEIGHT of the frame's height.
    There the pose model adds nothing measurable and is not run. `was_close_up`: the
    frame before was one; then CLOSE_UP_HOLD of both limits is enough."""
    hold = CLOSE_UP_HOLD if was_close_up else 1.0
    return (person.cut_width >= hold * CUT_TORSO
            and person.box.h >= hold * CLOSE_UP_HEIGHT * frame_h)


def pose_window(person: Box, frame_h: int) -> Box:
    """A square around `person` that the pose model's input is scaled to; it may reach
    past the frame (padded black, as MediaPipe pads its own crops). A person cut off
    by the frame's bottom (a head and torso) sits at the window's top."""
    side = MARGIN * max(person.w, person.h)
    centre_x = person.x + person.w / 2
    if person.y + person.h >= frame_h - 1:
        side = max(side, CUT_OFF_SIDE * person.h)
        top = person.y - 0.08 * side
    else:
        top = person.y + person.h / 2 - side / 2
    side = max(2, round(side))
    return Box(round(centre_x - side / 2), round(top), side, side)


def looked_at(pose: PoseSegmenter, frame_bgr: np.ndarray, half: np.ndarray | None,
              window: Box, grid_wh: tuple[int, int]) -> PoseView | None:
    """The pose model run on `window`, its mask placed on a grid of `grid_wh` over the
    frame; None when the window does not meet the frame."""
    frame_h, frame_w = frame_bgr.shape[:2]
    seen = window.clipped(frame_w, frame_h)
    if seen.w < 2 or seen.h < 2:
        return None
    size = pose.input_size[0]
    scale = size / window.w
    # The part of the window inside the frame, scaled, on a black canvas.
    x0, y0 = round((seen.x - window.x) * scale), round((seen.y - window.y) * scale)
    x1 = min(size, round((seen.x + seen.w - window.x) * scale))
    y1 = min(size, round((seen.y + seen.h - window.y) * scale))
    if x1 - x0 < 1 or y1 - y0 < 1:
        return None
    crop = frame_bgr[seen.y : seen.y + seen.h, seen.x : seen.x + seen.w]
    canvas = np.zeros((size, size, 3), np.uint8)
    canvas[y0:y1, x0:x1] = _scaled(crop, (x1 - x0, y1 - y0),
                                   half_of_crop(half, seen.x, seen.y, seen.w, seen.h))
    prob = pose.run_bgr(canvas)
    grid_w, grid_h = grid_wh
    gx0, gy0 = math.floor(seen.x * grid_w / frame_w), math.floor(seen.y * grid_h / frame_h)
    gx1 = max(gx0 + 1, math.ceil((seen.x + seen.w) * grid_w / frame_w))
    gy1 = max(gy0 + 1, math.ceil((seen.y + seen.h) * grid_h / frame_h))
    on_grid = np.zeros((grid_h, grid_w), np.float32)
    on_grid[gy0:gy1, gx0:gx1] = cv2.resize(prob[y0:y1, x0:x1], (gx1 - gx0, gy1 - gy0),
                                           interpolation=cv2.INTER_AREA)
    return PoseView(on_grid, (slice(gy0, gy1), slice(gx0, gx1)))


def _scaled(crop: np.ndarray, size: tuple[int, int], crop_half: np.ndarray | None) -> np.ndarray:
    if size[0] <= crop.shape[1] and size[1] <= crop.shape[0]:
        return shrink(crop, size, crop_half)
    return cv2.resize(crop, size, interpolation=cv2.INTER_LINEAR)  # a small person, enlarged


def second_opinion(prob: np.ndarray, view: PoseView) -> np.ndarray:
    """`prob` with the pose model's say near its person: the mean of both log-odds,
    the pose model's "background" floored at -FLOOR; elsewhere `prob` unchanged."""
    rows, cols = view.inside
    base, pose = prob[rows, cols], view.probability[rows, cols]
    mixed = geometric_mean_of_odds([odds(base), np.maximum(odds(pose), _FLOOR_ODDS)])
    out = prob.copy()
    out[rows, cols] = np.where(near(pose > 0.5, NEAR * max(prob.shape)), mixed, base)
    return out


def near(person: np.ndarray, reach: float) -> np.ndarray:
    """Where a pixel is within `reach` pixels of `person` (a boolean map): the person
    grown by a disc, from a distance transform (a tenth of dilating by a disc as wide as
    the reach, 0.5 against 6 ms on a 720p frame's map)."""
    if not person.any():
        return person
    distance = cv2.distanceTransform((~person).astype(np.uint8), cv2.DIST_L2,
                                     cv2.DIST_MASK_PRECISE)
    return distance <= max(1.0, round(reach))


class PoseAssisted:
    """A segmenter (`base`) whose map the pose model corrects near the main person,
    unless that person is a close-up (see the module's docstring)."""

    def __init__(self, base: Segmenter | CombinedSegmenter, pose: PoseSegmenter,
                 name: str | None = None) -> None:
        self.base, self.pose = base, pose
        self.name = name or f"{base.name} with {pose.name}"
        self.fit = base.fit
        self.mask_tweaks = dict(base.mask_tweaks)
        self.looked = False  # whether the pose model had its say on the last new frame
        self.light = False  # at a distance, the two models take turns (Lightens)
        self.light_saves_ms = 0.0  # half of a pose run's ms, smoothed (Lightens)
        self._base_last: np.ndarray | None = None
        self._last: np.ndarray | None = None
        self._view: PoseView | None = None  # the pose model's last view, while looking
        self._fresh = False  # whether _view is from the last frame looked at
        self._view_grey: np.ndarray | None = None  # light: the frame under _view, grey
        # full: the same, made on a frame the base model ran on, when the next one rests
        self._base_grey: np.ndarray | None = None
        self._motion = MotionFollower()
        self._frame_shape: tuple[int, ...] | None = None  # of the base model's last frame
        self._base_person: Box | None = None  # the main person of _base_last, looked at
        self._base_ms = self._pose_ms = 0.0  # a run of each, smoothed
        self._close_up = False  # whether the last person seen was a close-up

    def probability_map(self, frame_bgr: np.ndarray, half: np.ndarray | None = None
                        ) -> np.ndarray:
        """The base map, with the pose model's say near the main person (the same
        object again when the base map is: a repeated frame)."""
        if self._pose_turn(frame_bgr):  # the base model's last map and person stand
            self._last = self._with_new_view(frame_bgr, half, self._base_last,
                                             self._base_person)
            return self._last
        if self._base_rests(frame_bgr):  # its last map stands, moved to this frame
            self._last = self._with_new_view(frame_bgr, half, self._base_moved(frame_bgr, half),
                                             self._base_person)
            self._base_grey = None  # the next frame is the base model's
            return self._last
        started = time.perf_counter()
        prob = self.base.probability_map(frame_bgr, half)
        self._base_ms = _smoothed(self._base_ms, (time.perf_counter() - started) * 1000)
        self._frame_shape = frame_bgr.shape
        if prob is self._base_last and self._last is not None:
            return self._last
        self._base_last = prob
        self._last = self._with_pose(frame_bgr, half, prob)
        self._base_grey = None
        if self._view is not None and self._rests_next(frame_bgr.shape[1]):
            # its map will be moved where the pose model looked (the person)
            self._base_grey = grey_cells(frame_bgr, half, self._view.inside, prob.shape)
        return self._last

    def _pose_turn(self, frame_bgr: np.ndarray) -> bool:
        """Light mode, at a distance: the pose model's turn when the base model ran on
        the frame before (its map, of a frame of this size, stands for this one)."""
        return (self.light and self._view is not None and not self._fresh
                and self._base_person is not None and frame_bgr.shape == self._frame_shape)

    def _rests_next(self, frame_w: int) -> bool:
        """Full mode, at a distance, on a frame the base model ran on: it rests on the
        next (every second frame) when the pose model looked at the person, unless the
        frame's sides or top cut them: what comes into the frame there, the flow cannot
        move in (a woman walking in from the side, 60 px a frame, was lost on the frame
        the pair rested: 0.98 of her shown, then 0.002)."""
        person = self._base_person
        return (not self.light and self.looked and person is not None
                and person.x > 0 and person.y > 0 and person.x + person.w < frame_w)

    def _base_rests(self, frame_bgr: np.ndarray) -> bool:
        """The base model ran on the frame before and rests on this one (_rests_next),
        in the full mode still and on a frame of that size."""
        return (not self.light and self._base_grey is not None
                and frame_bgr.shape == self._frame_shape)

    def _base_moved(self, frame_bgr: np.ndarray, half: np.ndarray | None) -> np.ndarray:
        """The base model's map of the frame before, moved with what moved since where
        the pose model looked."""
        assert self._base_last is not None and self._base_grey is not None
        assert self._view is not None  # the view of that frame: its cells
        return self._moved(self._base_last, self._view.inside, self._base_grey,
                           frame_bgr, half)

    def _moved(self, old_map: np.ndarray, cells: tuple[slice, slice], then: np.ndarray,
               frame_bgr: np.ndarray, half: np.ndarray | None) -> np.ndarray:
        """`old_map` with its `cells` moved from the frame the grey picture `then` shows
        (of those cells) to this one."""
        now = grey_cells(frame_bgr, half, cells, old_map.shape)
        moved = old_map.copy()
        moved[cells] = self._motion.follow(old_map[cells], then, now)
        return moved

    def _with_pose(self, frame_bgr: np.ndarray, half: np.ndarray | None,
                   prob: np.ndarray) -> np.ndarray:
        frame_h, frame_w = frame_bgr.shape[:2]
        person = main_person(prob, frame_w, frame_h)
        if person is None and self._view is not None:
            # The base model lost them this frame (under a lamp's warm cast the pair lost
            # a dancer for two frames: 0.32 and 0.41); a person does not vanish between
            # two frames, so the pose model looks where the last map had them. Gone for
            # good, they are gone from its map too, and from the next frame's.
            person = self._last_person(prob.shape, frame_w, frame_h)
        self._close_up = person is not None and close_up(person, frame_h, self._close_up)
        self.looked = person is not None and not self._close_up
        if not self.looked:
            self._view = self._base_person = None
            return prob
        self._base_person = person.box
        kept = self._view is not None and self._view.probability.shape == prob.shape
        if self.light and kept and self._fresh:  # light: its view of the frame before
            self._fresh = False
            return second_opinion(prob, self._followed(frame_bgr, half))
        return self._with_new_view(frame_bgr, half, prob, person.box)

    def _with_new_view(self, frame_bgr: np.ndarray, half: np.ndarray | None,
                       prob: np.ndarray, person: Box) -> np.ndarray:
        """`prob` with the pose model's say, from a look at this frame around `person`
        (and the last map's)."""
        frame_h, frame_w = frame_bgr.shape[:2]
        started = time.perf_counter()
        window = pose_window(self._around(person, prob.shape, frame_w, frame_h), frame_h)
        self._view = looked_at(self.pose, frame_bgr, half, window, prob.shape[::-1])
        self.looked, self._fresh = True, True
        self._view_grey = None
        if self.light and self._view is not None:  # for the next frame's _followed
            self._view_grey = grey_cells(frame_bgr, half, self._view.inside, prob.shape)
        self._pose_ms = _smoothed(self._pose_ms, (time.perf_counter() - started) * 1000)
        # At a distance the full mode runs the pose model every frame, the base model
        # every second one; the light mode each of them every second frame.
        self.light_saves_ms = self._pose_ms / 2
        return prob if self._view is None else second_opinion(prob, self._view)

    def _followed(self, frame_bgr: np.ndarray, half: np.ndarray | None) -> PoseView:
        """The pose model's view of the frame before, moved with what moved since (the
        light mode's other turn: the base model's map is fresh, the view a frame old;
        unmoved, on the real clips, those turns lost 0.021 of IoU to the full mode's)."""
        view, then = self._view, self._view_grey
        assert view is not None
        if then is None:
            return view
        moved = self._moved(view.probability, view.inside, then, frame_bgr, half)
        return PoseView(moved, view.inside)

    def _around(self, person: Box, map_shape: tuple[int, ...], frame_w: int, frame_h: int
                ) -> Box:
        """`person` joined with the main person of the last map given: the window must
        hold them whether the pair's map breaks them up this frame (a dancer's torso
        lost, her legs the largest piece) or they moved since."""
        before = self._last_person(map_shape, frame_w, frame_h)
        return person if before is None else union(person, before.box)

    def _last_person(self, map_shape: tuple[int, ...], frame_w: int, frame_h: int
                     ) -> Person | None:
        """The main person of the last map given (None: none, or a map of another size)."""
        last = self._last
        if last is None or last.shape != map_shape:
            return None
        return main_person(last, frame_w, frame_h)

    def segment(self, frame_bgr: np.ndarray) -> np.ndarray:
        prob = self.probability_map(frame_bgr)
        return cv2.resize(prob, frame_bgr.shape[1::-1], interpolation=cv2.INTER_LINEAR)

    def reset(self) -> None:
        self.base.reset()
        self.looked, self._base_last, self._last = False, None, None
        self._view, self._fresh, self._frame_shape = None, False, None
        self._view_grey = self._base_grey = None
        self._base_person = None
        self._close_up = False

    def tuned(self, settings: MaskSettings) -> MaskSettings:
        return replace(settings, **self.mask_tweaks)


def _smoothed(average: float, value: float) -> float:
    # PipelineStats.smooth's rule; the pipeline imports the segmenters, not the reverse.
    return value if not average else 0.9 * average + 0.1 * value
