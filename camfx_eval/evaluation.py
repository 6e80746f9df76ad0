"""Measuring person masks against exact ground truth.

Ground truth comes from chroma-keying footage shot against a plain wall
(``portrait_720.mp4``: a woman against a blue wall): a pixel is wall when its
Lab a/b chroma is close to the wall's. The keyed person is composited over
other backgrounds, still and moving, giving clips whose true mask is known for
every frame. Used by ``scripts/eval_segmentation.py`` and the tests.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from camfx.vision.imaging import cover


@dataclass(frozen=True)
class ClipFrame:
    image: np.ndarray  # BGR uint8
    truth: np.ndarray  # bool person mask


@dataclass(frozen=True)
class Clip:
    name: str
    frames: list[ClipFrame]
    still: bool = False  # the same scene repeated with sensor noise: for flicker
    background: np.ndarray | None = None  # the true background, when one scene is used


def key_alpha(frame: np.ndarray, near: float = 8.0, far: float = 16.0) -> np.ndarray:
    """Soft person alpha (float32) from the chroma distance to the wall colour.

    The wall's colour is the median of the top-right corner, which the person
    never reaches in this footage.
    """
    lab = cv2.cvtColor(frame, cv2.COLOR_BGR2LAB).astype(np.float32)
    wall = np.median(lab[:40, -40:].reshape(-1, 3), axis=0)
    distance = np.linalg.norm(lab[..., 1:] - wall[1:], axis=-1)
    alpha = np.clip((distance - near) / (far - near), 0.0, 1.0)
    # Specks of wall noise are not a person; holes in the person are not wall.
    solid = cv2.morphologyEx((alpha > 0.5).astype(np.uint8), cv2.MORPH_OPEN, np.ones((5, 5)))
    return (alpha * cv2.dilate(solid, np.ones((3, 3)))).astype(np.float32)


def key_person(frame: np.ndarray) -> np.ndarray:
    """The keyed person as a boolean mask."""
    return key_alpha(frame) > 0.5


def read_frames(path: Path, every: int = 1, limit: int | None = None) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames: list[np.ndarray] = []
    index = 0
    while limit is None or len(frames) < limit:
        ok, frame = capture.read()
        if not ok:
            break
        if index % every == 0:
            frames.append(frame)
        index += 1
    capture.release()
    return frames


def place_person(person_frame: np.ndarray, background: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The keyed person over `background`, standing on its bottom edge, centred."""
    alpha = key_alpha(person_frame)
    h, w = person_frame.shape[:2]
    out = background.copy()
    top = out.shape[0] - h
    left = (out.shape[1] - w) // 2
    region = out[top:, left : left + w].astype(np.float32)
    a = alpha[..., None]
    out[top:, left : left + w] = (person_frame * a + region * (1 - a)).astype(np.uint8)
    truth = np.zeros(out.shape[:2], bool)
    truth[top:, left : left + w] = alpha > 0.5
    return out, truth


def build_clips(
    video: Path,
    backgrounds: dict[str, np.ndarray],
    size=(1280, 720),
    every: int = 3,
    still_frames: int = 30,
    seed: int = 0,
) -> list[Clip]:
    """Composited clips with exact truth: one per still background, one moving, one still."""
    people = read_frames(video, every=every)
    clips = []
    for name, picture in backgrounds.items():
        background = cover(picture, size)
        frames = [ClipFrame(*place_person(p, background)) for p in people]
        clips.append(Clip(name, frames, background=background))
    # A moving background: the first picture panned and zoomed slowly, as a handheld camera.
    first = next(iter(backgrounds.values()))
    big = cover(first, (int(size[0] * 1.4), int(size[1] * 1.4)))
    moving = []
    for i, person in enumerate(people):
        t = i / max(1, len(people) - 1)
        x = int(t * (big.shape[1] - size[0]))
        y = int((0.5 + 0.5 * np.sin(6 * t)) * (big.shape[0] - size[1]))
        moving.append(ClipFrame(*place_person(person, big[y : y + size[1], x : x + size[0]])))
    clips.append(Clip("moving", moving))
    # A still person: one frame repeated with camera-like noise, for flicker.
    rng = np.random.default_rng(seed)
    image, truth = place_person(people[len(people) // 2], cover(first, size))
    still = []
    for _ in range(still_frames):
        noise = rng.normal(0, 2.0, image.shape)
        still.append(ClipFrame(np.clip(image + noise, 0, 255).astype(np.uint8), truth))
    clips.append(Clip("still", still, still=True))
    return clips


def iou(mask: np.ndarray, truth: np.ndarray) -> float:
    union = (mask | truth).sum()
    return float((mask & truth).sum() / union) if union else 1.0


def _boundary(mask: np.ndarray) -> np.ndarray:
    m = mask.astype(np.uint8)
    return cv2.morphologyEx(m, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)).astype(bool)


def boundary_f_score(mask: np.ndarray, truth: np.ndarray, tolerance: int = 3) -> float:
    """F-score of boundary pixels matched within `tolerance` pixels (Perazzi et al. 2016)."""
    found, true = _boundary(mask), _boundary(truth)
    if not found.any() and not true.any():
        return 1.0
    if not found.any() or not true.any():
        return 0.0
    dist_to_true = cv2.distanceTransform((~true).astype(np.uint8), cv2.DIST_L2, 3)
    dist_to_found = cv2.distanceTransform((~found).astype(np.uint8), cv2.DIST_L2, 3)
    precision = float((dist_to_true[found] <= tolerance).mean())
    recall = float((dist_to_found[true] <= tolerance).mean())
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def halo(mask: np.ndarray, truth: np.ndarray, near: int = 4, far: int = 40) -> float:
    """Mean soft-mask value just outside the person (`near` to `far` px from them): how
    much of the real background still shows around them once composited. The cut at 0.5
    (IoU) does not see it; a guided filter that follows brushwork leaves it."""
    outside = cv2.distanceTransform((~truth).astype(np.uint8), cv2.DIST_L2, 5)
    band = (outside > near) & (outside <= far)
    return float(mask[band].mean()) if band.any() else 0.0


def flicker(masks: list[np.ndarray]) -> float:
    """Mean absolute change of a soft mask between consecutive frames."""
    if len(masks) < 2:
        return 0.0
    return float(np.mean([np.abs(b - a).mean() for a, b in itertools.pairwise(masks)]))


@dataclass
class Score:
    iou: float
    boundary_f: float
    halo: float
    flicker: float
    ms_per_frame: float


def evaluate(
    clips: list[Clip], make_masker: Callable[[], Callable[[np.ndarray], np.ndarray]]
) -> dict[str, Score]:
    """Run a fresh masker (frame -> soft mask) over each clip and score it."""
    scores = {}
    for clip in clips:
        masker = make_masker()
        masks, seconds = [], 0.0
        for frame in clip.frames:
            started = time.perf_counter()
            masks.append(masker(frame.image))
            seconds += time.perf_counter() - started
        binary = [m > 0.5 for m in masks]
        scores[clip.name] = Score(
            iou=float(np.mean([iou(b, f.truth) for b, f in zip(binary, clip.frames, strict=True)])),
            boundary_f=float(
                np.mean(
                    [boundary_f_score(b, f.truth) for b, f in zip(binary, clip.frames, strict=True)]
                )
            ),
            halo=float(
                np.mean([halo(m, f.truth) for m, f in zip(masks, clip.frames, strict=True)])
            ),
            flicker=flicker(masks) if clip.still else float("nan"),
            ms_per_frame=seconds * 1000 / len(clip.frames),
        )
    return scores


def frames_of(clips: list[Clip]) -> Iterator[ClipFrame]:
    for clip in clips:
        yield from clip.frames


def ghost_ratio(
    painted: np.ndarray, reference: np.ndarray, person: np.ndarray, band: int = 12, far: int = 40
) -> float:
    """How much more a painted background departs from the true one near the person.

    `reference` is the same style applied to the true background with nobody in
    it. A ratio near 1 means the person left no trace; an aura of their outline
    makes the band just outside them differ more than the background further away.
    Distances are in pixels of the pictures given (style size, e.g. 384).
    """
    near, away = ghost_levels(painted, reference, person, band, far)
    return near / max(away, 1e-6)


def ghost_levels(
    painted: np.ndarray, reference: np.ndarray, person: np.ndarray, band: int = 12, far: int = 40
) -> tuple[float, float]:
    """The mean difference (levels) from the true background's painting within `band` px
    outside the person, and further than `far` px from them: :func:`ghost_ratio`'s terms."""
    distance = cv2.distanceTransform((~person).astype(np.uint8), cv2.DIST_L2, 5)
    diff = cv2.absdiff(painted, reference).mean(axis=-1)
    near = (distance > 0) & (distance <= band)
    away = distance > far
    return float(diff[near].mean()), float(diff[away].mean())
