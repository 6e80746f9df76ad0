"""Newcomers in a settled room, for the persistence step (camfx.vision.persistence).

The keyed woman of ``portrait_720.mp4`` over an empty room (960x540) for longer than
the step's settling time; then, far from her, either a photo of people appears on the
wall (and stays, or flashes for a moment), or, in the empty room, she walks in from
the right edge. :func:`measure` says, per scene, when the mask first showed the
newcomer against when the segmenter first read it: the time a distractor is held
back, and the latency a person walking in pays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from camfx.vision.imaging import cover
from camfx.vision.persistence import EARN, SETTLE
from camfx_eval.evaluation import key_alpha, read_frames

SIZE = (960, 540)
APPEARS = SETTLE + 8  # the frame the photo or the person appears on
POSTER = (slice(40, 280), slice(60, 300))  # top left of the wall, far from her
ROOM = Path("eval/real/backgrounds/home_office_wall.jpg")  # under ../shared
READ = 0.2  # of the photo's box above 0.5: taken for people


@dataclass
class Parts:
    people: list[np.ndarray]  # frames of the keyed woman
    room: np.ndarray  # at SIZE
    poster: np.ndarray  # a photo of people, 240x240


def load(shared: Path, frames: int = APPEARS + 40) -> Parts:
    people = read_frames(shared / "media" / "portrait_720.mp4", every=3)[:frames]
    room = cover(cv2.imread(str(shared / ROOM)), SIZE)
    poster = cv2.imread(str(shared / "media" / "kitchen.jpg"))  # three people, a blackboard
    return Parts(people, room, cv2.resize(poster, (240, 240), interpolation=cv2.INTER_AREA))


def paste_person(room: np.ndarray, person: np.ndarray, right_of_centre: int = 0
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The keyed person over the room, standing on its bottom edge (cut by the frame's
    right edge when she is that far right); and her truth."""
    side = SIZE[1] * 3 // 4
    person = cv2.resize(person, (side, side), interpolation=cv2.INTER_AREA)
    alpha = key_alpha(person)
    frame, truth = room.copy(), np.zeros(room.shape[:2], bool)
    left = (SIZE[0] - side) // 2 + right_of_centre
    visible = slice(0, min(side, SIZE[0] - left))
    x = slice(left, min(SIZE[0], left + side))
    region = frame[-side:, x].astype(np.float32)
    a = alpha[:, visible, None]
    frame[-side:, x] = (person[:, visible] * a + region * (1 - a)).astype(np.uint8)
    truth[-side:, x] = alpha[:, visible] > 0.5
    return frame, truth


def poster_frames(parts: Parts, shown_for: int) -> list[np.ndarray]:
    """She stands right of centre; the photo hangs on the wall from APPEARS on, for
    `shown_for` frames."""
    frames = []
    for i, person in enumerate(parts.people):
        frame, _ = paste_person(parts.room, person, right_of_centre=120)
        if APPEARS <= i < APPEARS + shown_for:
            frame[POSTER] = parts.poster
        frames.append(frame)
    return frames


def walking_in(parts: Parts) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The empty room until APPEARS, then she walks in from the right edge, 60 px a
    frame, and stops near the middle; frames and her truths."""
    frames, truths = [], []
    for i, person in enumerate(parts.people):
        if i < APPEARS:
            frames.append(parts.room.copy())
            truths.append(np.zeros(parts.room.shape[:2], bool))
            continue
        frame, truth = paste_person(parts.room, person,
                                    right_of_centre=max(0, 600 - 60 * (i - APPEARS)))
        frames.append(frame)
        truths.append(truth)
    return frames, truths


def poster_shown(masks: list[np.ndarray]) -> list[float]:
    """How much of the photo's box is shown as person, per frame."""
    return [float((m[POSTER] >= 0.5).mean()) for m in masks]


def person_found(masks: list[np.ndarray], truths: list[np.ndarray]) -> list[float]:
    """How much of her is shown as person, per frame (0 before she is there)."""
    return [float((m >= 0.5)[t].mean()) if t.any() else 0.0
            for m, t in zip(masks, truths, strict=True)]


def first_over(values: list[float], level: float) -> int | None:
    return next((i for i, v in enumerate(values) if v > level), None)


@dataclass
class Newcomers:
    photo_read: int | None  # frames after APPEARS the segmenter first took the photo for people
    photo_shown: int | None  # ... and the mask first showed it
    flash_read: int  # frames a flash (read EARN - 1 frames in a row, measured) was read
    flash_shown: int  # ... and showed in the mask
    walk_read: int | None  # frames after APPEARS she was first half read / half shown
    walk_shown: int | None


def measure(parts: Parts, run: Callable[[list[np.ndarray]], list[np.ndarray]],
            read_by: Callable[[list[np.ndarray]], list[np.ndarray]]) -> Newcomers:
    """`run`: frames -> masks of the setting measured (a fresh stream); `read_by`: the
    same without the persistence step (when the segmenter reads a newcomer)."""
    frames = poster_frames(parts, shown_for=len(parts.people))
    read, shown = poster_shown(read_by(frames)), poster_shown(run(frames))
    photo_read, photo_shown = first_over(read, READ), first_over(shown, READ)
    # A flash up long enough for the segmenter to read it EARN - 1 frames in a row.
    flash = poster_frames(parts, shown_for=(photo_read or APPEARS) - APPEARS + EARN - 1)
    flash_read, flashed = poster_shown(read_by(flash)), poster_shown(run(flash))
    walk, truths = walking_in(parts)
    walk_read = first_over(person_found(read_by(walk), truths), 0.5)
    walk_shown = first_over(person_found(run(walk), truths), 0.5)

    def after(i: int | None) -> int | None:
        return None if i is None else i - APPEARS

    return Newcomers(after(photo_read), after(photo_shown), sum(v > READ for v in flash_read),
                     sum(v > READ for v in flashed), after(walk_read), after(walk_shown))


def strip(frames: list[np.ndarray], rows: dict[str, list[np.ndarray]], start: int,
          count: int, width: int = 320) -> np.ndarray:
    """Frames start..start+count side by side, one row per labelled set of masks, what
    the mask calls background tinted blue."""
    height = round(width * frames[0].shape[0] / frames[0].shape[1])
    lines = []
    for label, masks in rows.items():
        tiles = []
        for i in range(start, start + count):
            tile = frames[i].copy()
            back = masks[i] < 0.5
            tile[back] = (tile[back] * 0.35 + np.float32([160, 60, 60]) * 0.65).astype(np.uint8)
            tile = cv2.resize(tile, (width, height), interpolation=cv2.INTER_AREA)
            cv2.putText(tile, f"{label}, frame {i - APPEARS:+d}", (8, height - 10),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
            tiles.append(tile)
        lines.append(np.hstack(tiles))
    return np.vstack(lines)
