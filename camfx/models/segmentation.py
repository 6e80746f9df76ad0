"""Person segmentation: a frame in, a person probability map out.

Every segmenter is a small subclass of :class:`Segmenter` that says its input
size and turns one model-sized RGB picture into a person probability map; the
base class does the geometry (how a frame of any shape is fitted into the
model's input, see :data:`FITS`) and returns a low-resolution map that covers the
whole frame. :mod:`camfx.vision.refine` turns that map into the final mask at the
frame's resolution; :meth:`Segmenter.segment` is the plain version of that.
"""

from __future__ import annotations

import logging
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar, Literal

import cv2
import numpy as np

from camfx.errors import CamfxError
from camfx.models import derived
from camfx.models import registry as models
from camfx.models.combine import CombinedSegmenter
from camfx.models.runtime import Device, TFLiteModel, load_model
from camfx.tflite import deeplab_cut, metadata
from camfx.vision.imaging import shrink
from camfx.vision.refine import MaskSettings

log = logging.getLogger(__name__)

Fit = Literal["squash", "letterbox", "crop", "tile", "track"]
# How a frame whose shape differs from the model's input is fitted into it:
#   squash    resize to the input, ignoring proportions (the selfie models' default)
#   letterbox keep proportions, pad the short side
#   crop      keep proportions, cut the middle out (people at the sides are lost)
#   tile      keep proportions, run overlapping model-shaped tiles, keep the max
#   track     keep proportions, one run on a window as tall as the frame around the
#             people found in the previous frame, tiles when nobody is known yet or
#             they don't fit in one window (DeepLab's default; see PeopleTracker); a
#             frame taller than the model's input is letterboxed whole
FITS: tuple[Fit, ...] = ("squash", "letterbox", "crop", "tile", "track")


class Segmenter(ABC):
    """Finds the people in a frame."""

    name: str
    input_size: tuple[int, int]  # (height, width) the model takes
    default_fit: Fit = "squash"
    # Mask settings the command line doesn't offer, tuned to this model's output.
    mask_tweaks: ClassVar[dict[str, float]] = {}
    # Pixels go in as (value - mean) / std; a model file's own metadata overrides these.
    mean: float | np.ndarray = 0.0
    std: float | np.ndarray = 255.0

    def __init__(self, fit: Fit | None = None) -> None:
        fit = fit or self.default_fit
        if fit not in FITS:
            raise CamfxError(f"unknown fit '{fit}'; use one of {', '.join(FITS)}")
        self.fit = fit
        self._people: PeopleTracker | None = None  # made on first use: input_size may be
        # set by a subclass after this (from its model), in any order

    @property
    def _tracker(self) -> PeopleTracker:
        if self._people is None:
            self._people = PeopleTracker(self._model_wh())
        return self._people

    @abstractmethod
    def person_probability(self, rgb: np.ndarray) -> np.ndarray:
        """Probability of 'person' per pixel, float32 (H, W) in [0, 1], for a model-sized RGB."""

    @classmethod
    def load(cls, model_name: str, threads: int, device: Device) -> TFLiteModel:
        """The model this segmenter runs: the named one, as published."""
        return models.load(model_name, threads=threads, device=device)

    def probability_map(self, frame_bgr: np.ndarray) -> np.ndarray:
        """Person probability over the whole frame at about the model's resolution.

        The map's shape need not match the frame's proportions (with ``squash`` it
        is the model's input shape); scaling it to the frame's size aligns it.
        """
        if self.fit == "squash":
            return self._run(shrink(frame_bgr, self._model_wh()))
        if self.fit == "tile":
            return self._tiled(frame_bgr)
        if self.fit == "track":
            return self._tracked(frame_bgr)
        return self._fitted(frame_bgr, pad=self.fit == "letterbox")

    def reset(self) -> None:
        """Forget where the people were: the next frame starts a new stream."""
        self._people = None

    def tuned(self, settings: MaskSettings) -> MaskSettings:
        """`settings` with this segmenter's own tweaks (see ``mask_tweaks``)."""
        return replace(settings, **self.mask_tweaks)

    def segment(self, frame_bgr: np.ndarray) -> np.ndarray:
        """Soft person mask, float32 (H, W) in [0, 1], the size of the frame, unrefined."""
        prob = self.probability_map(frame_bgr)
        # Bilinear upscaling of the low-resolution map gives edges without stair-steps.
        return cv2.resize(prob, frame_bgr.shape[1::-1], interpolation=cv2.INTER_LINEAR)

    def _normalized(self, rgb: np.ndarray, out: np.ndarray) -> np.ndarray:
        np.subtract(rgb, self.mean, out=out, casting="unsafe")
        out *= np.float32(1.0) / np.asarray(self.std, np.float32)
        return out

    def _model_wh(self) -> tuple[int, int]:
        return self.input_size[1], self.input_size[0]

    def _run(self, small_bgr: np.ndarray) -> np.ndarray:
        return self.person_probability(cv2.cvtColor(small_bgr, cv2.COLOR_BGR2RGB))

    def _fitted(self, frame_bgr: np.ndarray, pad: bool) -> np.ndarray:
        """Letterbox (pad) or crop, keeping the frame's proportions."""
        frame_h, frame_w = frame_bgr.shape[:2]
        model_w, model_h = self._model_wh()
        fit_scale = min if pad else max
        scale = fit_scale(model_w / frame_w, model_h / frame_h)
        w, h = max(1, round(frame_w * scale)), max(1, round(frame_h * scale))
        resized = shrink(frame_bgr, (w, h))
        if pad:
            canvas = np.zeros((model_h, model_w, 3), np.uint8)
            top, left = (model_h - h) // 2, (model_w - w) // 2
            canvas[top : top + h, left : left + w] = resized
            return self._run(canvas)[top : top + h, left : left + w]
        top, left = (h - model_h) // 2, (w - model_w) // 2
        prob = np.zeros((h, w), np.float32)  # what the crop leaves out counts as background
        prob[top : top + model_h, left : left + model_w] = self._run(
            resized[top : top + model_h, left : left + model_w]
        )
        return prob

    def _tiled(self, frame_bgr: np.ndarray) -> np.ndarray:
        """Overlapping tiles with the model's proportions along the frame's long side."""
        frame_h, frame_w = frame_bgr.shape[:2]
        model_w, model_h = self._model_wh()
        # Scale so the frame covers the model's input; tiles run along the long side.
        scale = max(model_w / frame_w, model_h / frame_h)
        w = max(model_w, round(frame_w * scale))
        h = max(model_h, round(frame_h * scale))
        resized = shrink(frame_bgr, (w, h))
        prob = np.zeros((h, w), np.float32)
        for top in _tile_starts(h, model_h):
            for left in _tile_starts(w, model_w):
                tile = self._run(resized[top : top + model_h, left : left + model_w])
                window = prob[top : top + model_h, left : left + model_w]
                np.maximum(window, tile, out=window)  # a person in any tile is kept
        return prob

    def _tracked(self, frame_bgr: np.ndarray) -> np.ndarray:
        """One model run on the window around the people; tiles while it is unknown."""
        tracker = self._tracker
        frame_h, frame_w = frame_bgr.shape[:2]
        model_w, model_h = self._model_wh()
        if frame_h * model_w > frame_w * model_h:
            # Taller than the model's input (a phone held upright): a window as wide as
            # the frame, sliding up and down, cut standing people off at the knees (legs
            # the model was unsure of were outside it). The window spans the frame's
            # height, as in a landscape frame, and so holds the whole frame: letterbox.
            return self._fitted(frame_bgr, pad=True)
        window = tracker.advance(frame_w, frame_h)
        if window is None:
            prob = self._tiled(frame_bgr)
            tracker.follow(*people_boxes(prob, frame_w, frame_h))
            window = tracker.window
            if window is None:  # nobody, or too many for one window
                return prob
            # Found them: this frame's map from the window too, or the mask would
            # jump between the tiled frame and the next.
        prob = self._windowed(frame_bgr, window)
        # Where the person runs into the window's edge they go on beyond it: look
        # there too this frame, or the mask ends in a straight cut (a shoulder, seen
        # when the window sat on the head the model was sure of).
        for beyond in self._beyond_edges(prob, window, frame_w, frame_h):
            np.maximum(prob, self._windowed(frame_bgr, beyond), out=prob)
        sure, whole = people_boxes(prob, frame_w, frame_h)
        search = tracker.search_window()
        if search is not None:  # now and then, look outside the window for newcomers
            found = people_boxes(self._windowed(frame_bgr, search), frame_w, frame_h)
            sure, whole = _union(sure, found[0]), _union(whole, found[1])
        tracker.follow(sure, whole)
        return prob

    def _beyond_edges(self, prob: np.ndarray, box: Box, frame_w: int, frame_h: int) -> list[Box]:
        """Windows shifted by half past each edge of `box` that a person touches and that
        is not the frame's edge. Touching takes the model being fairly sure (> 0.9):
        at > 0.5, brushwork at the edge set it off on most frames of a busy painting."""
        model_w, model_h = self._model_wh()
        left, top = self._window_origin(prob.shape, box)
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

    def _window_origin(self, map_shape: tuple[int, ...], box: Box) -> tuple[int, int]:
        """Where the model's output for window `box` sits in the whole-frame map."""
        model_w, model_h = self._model_wh()
        map_h, map_w = map_shape[:2]
        left = min(round(box.x * model_w / box.w), map_w - model_w)
        top = min(round(box.y * model_h / box.h), map_h - model_h)
        return left, top

    def _windowed(self, frame_bgr: np.ndarray, box: Box) -> np.ndarray:
        """The model run on one window of the frame, as a whole-frame map at its scale."""
        frame_h, frame_w = frame_bgr.shape[:2]
        model_w, model_h = self._model_wh()
        map_w = max(model_w, round(frame_w * model_w / box.w))
        map_h = max(model_h, round(frame_h * model_h / box.h))
        left, top = self._window_origin((map_h, map_w), box)
        crop = frame_bgr[box.y : box.y + box.h, box.x : box.x + box.w]
        prob = np.zeros((map_h, map_w), np.float32)  # outside the window: background
        prob[top : top + model_h, left : left + model_w] = self._run(
            shrink(crop, (model_w, model_h))
        )
        return prob


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


def _union(a: Box | None, b: Box | None) -> Box | None:
    if a is None or b is None:
        return a or b
    x, y = min(a.x, b.x), min(a.y, b.y)
    return Box(x, y, max(a.x + a.w, b.x + b.w) - x, max(a.y + a.h, b.y + b.h) - y)


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
        x = round(people.x + people.w / 2 - w / 2)
        y = round(people.y + people.h / 2 - h / 2)
        return Box(min(max(x, 0), frame_w - w), min(max(y, 0), frame_h - h), w, h)

    def _tiles(self, frame_w: int, frame_h: int) -> list[Box]:
        model_w, model_h = self.model_wh
        scale = max(model_w / frame_w, model_h / frame_h)
        w = min(frame_w, round(model_w / scale))
        h = min(frame_h, round(model_h / scale))
        return [Box(x, y, w, h) for y in _tile_starts(frame_h, h) for x in _tile_starts(frame_w, w)]


def _tile_starts(length: int, tile: int) -> list[int]:
    """Evenly spaced starts of the fewest tiles that cover `length`."""
    count = math.ceil(length / tile)
    if count <= 1:
        return [0]
    return [round(i * (length - tile) / (count - 1)) for i in range(count)]


class DeepLabSegmenter(Segmenter):
    """DeepLab v3 (MobileNetV2, PASCAL VOC): everything of class 15 is a person."""

    name = "deeplab"
    input_size = (257, 257)
    CLASSES = 21
    PERSON_CLASS = 15
    # Person must beat the other classes by this many logits to reach 0.5. Measured
    # (README): at 0 the edge spreads into busy backgrounds (IoU 0.87 on paintings),
    # at 1 it sits on the person (0.93); on real footage against a wall it moves the
    # edge by a pixel or two (IoU 0.964 -> 0.959).
    EDGE_LOGIT = 1.0
    # DeepLab's map is coarse (output stride 8): a wider, tighter guided filter moves
    # its edge onto the picture's. Measured with the colour model (README): radius 16
    # against 32 halves the halo (0.065 -> 0.031) at the same IoU and boundary F.
    mask_tweaks: ClassVar[dict[str, float]] = {"guided_radius": 16, "guided_eps": 0.001}
    # Measured at 1280x720 (README): tracking keeps the person's proportions and
    # everyone in the frame, and sees her large, in one run; squashing distorts her
    # into false positives on busy backgrounds, letterboxing leaves her too small,
    # cropping loses the sides, tiles take two runs and see more of the background.
    default_fit: Fit = "track"

    mean = std = 127.5  # the model takes pixels in [-1, 1]

    def __init__(self, model: TFLiteModel, fit: Fit | None = None) -> None:
        super().__init__(fit)
        self._model = model
        self._input = np.empty((1, *self.input_size, 3), np.float32)
        # The model cut before its upsampling (camfx.tflite.deeplab_cut) gives 33x33 logits.
        self._coarse = tuple(model.outputs[0].shape[1:3]) != tuple(self.input_size)

    @classmethod
    def load(cls, model_name: str, threads: int, device: Device) -> TFLiteModel:
        """The published model cut before its final upsampling; the model as published
        (checked, with its fix-it errors) when that cannot be made."""
        try:
            path = derived.deeplab_logits_model(models.require(model_name))
            model = load_model(path, threads, device)
            shapes = (model.inputs[0].shape, model.outputs[0].shape)
            if shapes[0] != (1, *cls.input_size, 3) or shapes[1][-1] != cls.CLASSES:
                raise ValueError(f"the cut model has tensors {shapes}")
            return model
        # A file that doesn't end in a resize, or a cache that can't be written: the
        # published model works, only slower. A bug in the cut itself fails loudly.
        except (OSError, ValueError) as exc:
            log.warning("DeepLab runs as published (%s)",
                        str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__)
            return super().load(model_name, threads, device)

    def person_probability(self, rgb: np.ndarray) -> np.ndarray:
        self._normalized(rgb, self._input[0])
        logits = self._model.run(self._input)[0][0]
        lead = person_lead(logits, self.PERSON_CLASS)
        if self._coarse:
            lead = deeplab_cut.upsample_aligned(lead, self.input_size)
        return _sigmoid(lead - self.EDGE_LOGIT)


def person_lead(logits: np.ndarray, person: int) -> np.ndarray:
    """How far the person's score [H, W, C] leads the strongest other class's, (H, W).
    A running maximum over the class columns is 3x faster than numpy's max over the
    last axis here."""
    by_class = logits.reshape(-1, logits.shape[-1])
    others = by_class[:, 1 if person == 0 else 0].copy()
    for c in range(by_class.shape[1]):
        if c != person:
            np.maximum(others, by_class[:, c], out=others)
    return (by_class[:, person] - others).reshape(logits.shape[:2])


def person_against_others(logits: np.ndarray, person: int, margin: float = 0.0) -> np.ndarray:
    """P(person) from class scores [H, W, C]: person against the strongest other class,
    through a sigmoid, instead of a C-class softmax; `margin` logits move the 0.5 edge."""
    return _sigmoid(person_lead(logits, person) - margin)


class SelfieSegmenter(Segmenter):
    """MediaPipe selfie segmentation: one probability channel, pixels in [0, 1]."""

    def __init__(self, model: TFLiteModel, fit: Fit | None = None) -> None:
        self.input_size = model.inputs[0].shape[1:3]
        super().__init__(fit)
        self.name = "selfie" if self.input_size == (256, 256) else "selfie-landscape"
        self._model = model
        self._input = np.empty((1, *self.input_size, 3), np.float32)

    def person_probability(self, rgb: np.ndarray) -> np.ndarray:
        self._normalized(rgb, self._input[0])  # pixels in [0, 1]
        return self._model.run(self._input)[0][0, ..., 0]


class PoseSegmenter(Segmenter):
    """MediaPipe BlazePose GHUM: the pose model's person mask (logits, 256x256). It is
    made for one person: the one its pose is about."""

    input_size = (256, 256)
    SEGMENTATION_OUTPUT = 2  # of: landmarks, pose flag, segmentation, heatmap, world

    def __init__(self, model: TFLiteModel, fit: Fit | None = None) -> None:
        super().__init__(fit)
        self.name = "pose"
        self._model = model
        self._input = np.empty((1, *self.input_size, 3), np.float32)

    def person_probability(self, rgb: np.ndarray) -> np.ndarray:
        self._normalized(rgb, self._input[0])  # pixels in [0, 1]
        return _sigmoid(self._model.run(self._input)[self.SEGMENTATION_OUTPUT][0, ..., 0])


class ModelFileSegmenter(Segmenter):
    """A segmentation model of your own (a .tflite, e.g. from scripts/convert.py), run as
    its metadata says: pixels normalized by its mean/std; one output channel taken as the
    person probability, several as class scores with "person" found in its label file."""

    def __init__(self, model: TFLiteModel, path: Path, fit: Fit | None = None) -> None:
        shape, out = model.inputs[0].shape, model.outputs[0].shape
        if len(shape) != 4 or shape[-1] != 3 or len(out) != 4:
            raise CamfxError(
                f"{path.name} takes {list(shape)} and gives {list(out)}: a segmentation "
                "model takes a picture [1, H, W, 3] and gives a map [1, h, w, classes]"
            )
        self.input_size = shape[1:3]
        super().__init__(fit)
        self.name = path.stem
        self._model = model
        self._input = np.empty(shape, np.float32)
        info = _model_metadata(path)
        normalization = metadata.input_normalization(info)
        if normalization is None:
            log.warning("%s says nothing of its input normalization; feeding pixels in "
                        "[0, 1] (add it: scripts/convert.py --metadata --mean --std)", path.name)
        else:
            self.mean, self.std = normalization
        self._person = None if out[-1] == 1 else _person_label(path, out[-1])

    def person_probability(self, rgb: np.ndarray) -> np.ndarray:
        self._normalized(rgb, self._input[0])
        scores = self._model.run(self._input)[0][0]
        prob = (scores[..., 0] if self._person is None
                else person_against_others(scores, self._person)).astype(np.float32)
        if prob.shape != tuple(self.input_size):  # a coarser output map
            prob = cv2.resize(prob, self._model_wh(), interpolation=cv2.INTER_LINEAR)
        return prob


def _model_metadata(path: Path) -> metadata.ModelInfo | None:
    try:
        return metadata.read_metadata(path)
    except ValueError as exc:
        raise CamfxError(f"{path.name}: unreadable metadata ({exc})") from None


def _person_label(path: Path, classes: int) -> int:
    labels = [label.strip().lower() for label in metadata.read_labels(path) or []]
    if "person" not in labels:
        raise CamfxError(
            f"{path.name} gives {classes} classes but its metadata has no 'person' label: "
            "add a label file (scripts/convert.py --metadata --labels FILE)"
        )
    return labels.index("person")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))).astype(np.float32)


# name -> (class, model name in camfx.models.registry; for a combination, its members' names)
SEGMENTERS: dict[str, tuple[type[Segmenter] | type[CombinedSegmenter], str]] = {
    # The default: both selfie models, their log-odds averaged (camfx.models.combine), the
    # general one on a window around the people (track: small, distant people seen
    # larger). On real people (README) it beats each of them and DeepLab.
    "selfie-pair": (CombinedSegmenter, "selfie:track+selfie-landscape"),
    "deeplab": (DeepLabSegmenter, "deeplab"),
    "selfie": (SelfieSegmenter, "selfie"),
    "selfie-landscape": (SelfieSegmenter, "selfie-landscape"),
    "pose": (PoseSegmenter, "pose"),
}


DEFAULT_SEGMENTER = "selfie-pair"


def create_segmenter(
    name: str = DEFAULT_SEGMENTER, threads: int = 1, device: Device = "auto",
    fit: Fit | None = None,
) -> Segmenter | CombinedSegmenter:
    if name.lower().endswith(".tflite"):
        path = Path(name).expanduser()
        if not path.is_file():
            raise CamfxError(f"segmentation model {path} not found")
        return ModelFileSegmenter(load_model(path, threads, device), path, fit)
    if "+" in name:  # several combined, each with its own fit: "selfie:track+deeplab"
        members = []
        for part in name.split("+"):
            part, _, own_fit = part.partition(":")
            members.append(create_segmenter(part, threads, device, fit or own_fit or None))
        return CombinedSegmenter(members)
    try:
        segmenter_class, model_name = SEGMENTERS[name]
    except KeyError:
        raise CamfxError(
            f"unknown segmenter '{name}'; choose one of: {', '.join(SEGMENTERS)}, "
            "or give a .tflite segmentation model"
        ) from None
    if segmenter_class is CombinedSegmenter:
        combined = create_segmenter(model_name, threads, device, fit)
        combined.name = name
        return combined
    segmenter = segmenter_class(segmenter_class.load(model_name, threads, device), fit=fit)
    _use_metadata(segmenter, models.require(model_name))
    return segmenter


def _use_metadata(segmenter: Segmenter, path: Path) -> None:
    """A model file that says how to normalize its input is believed over the defaults
    (the published selfie models do; the published DeepLab cut carries none)."""
    try:
        normalization = metadata.input_normalization(metadata.read_metadata(path))
    except ValueError as exc:
        log.warning("%s: metadata ignored (%s)", path.name, exc)
        return
    if normalization is not None:
        segmenter.mean, segmenter.std = normalization
