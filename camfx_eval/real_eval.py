"""Scoring person masks on real people: ../shared/eval/real (human-drawn masks).

Three sources, scored as that folder's README says (both masks cut at 0.5, ignored
pixels left out of everything, boundary F within 3 px):

- ``stills``: real photographs, each fed as a still camera would feed it (the same
  frame repeated, so smoothing and tracking settle), the last output scored;
- ``clips``: real video, fed once in order, every frame scored;
- ``rooms``: the chroma-keyed woman of ``portrait_720.mp4`` over photos of empty rooms
  (1280x720), a clip per room, every frame scored against the key.

Each item is a sequence of frames with truths; :func:`run_sequence` feeds one through a
fresh masker (frame -> soft mask) and returns per-frame scores, so the script can
report the mean, the worst item and frame, halo, flicker and time per source.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from camfx.vision.imaging import cover
from camfx_eval.evaluation import key_alpha, read_frames

STILL_REPEATS = 12  # frames a still is fed for; the last is scored
TOLERANCE = 3  # px, boundary F


def boundary(m: np.ndarray) -> np.ndarray:
    """The mask minus its 3x3 erosion (the picture's own edge is not a boundary)."""
    eroded = cv2.erode(m.astype(np.uint8), np.ones((3, 3), np.uint8),
                       borderType=cv2.BORDER_REPLICATE)
    return m & ~eroded.astype(bool)


def score(pred: np.ndarray, truth: np.ndarray, ignore: np.ndarray | None = None,
          tol: int = TOLERANCE) -> tuple[float, float]:
    """(IoU, boundary F) of boolean `pred` against boolean `truth`, the README's rules;
    `ignore` (bool) pixels are not scored."""
    p, g = pred, truth
    ign = np.zeros_like(g) if ignore is None else ignore
    ok = ~ign
    union = ((p | g) & ok).sum()
    iou = 1.0 if union == 0 else float((p & g & ok).sum() / union)
    keep = ~cv2.dilate(ign.astype(np.uint8), np.ones((2 * tol + 1,) * 2, np.uint8)).astype(bool)
    pb, gb = boundary(p) & keep, boundary(g) & keep
    if not pb.any() or not gb.any():
        return iou, float(pb.any() == gb.any())
    to_g = cv2.distanceTransform((~gb).astype(np.uint8), cv2.DIST_L2, 5)
    to_p = cv2.distanceTransform((~pb).astype(np.uint8), cv2.DIST_L2, 5)
    prec, rec = float((to_g[pb] <= tol).mean()), float((to_p[gb] <= tol).mean())
    return iou, 0.0 if prec + rec == 0 else 2 * prec * rec / (prec + rec)


def halo(mask: np.ndarray, truth: np.ndarray, ignore: np.ndarray | None = None,
         near: int = 4, far: int = 40) -> float:
    """Mean soft mask 4-40 px outside the person (scored pixels only): the real
    background showing around them once composited."""
    outside = cv2.distanceTransform((~truth).astype(np.uint8), cv2.DIST_L2, 5)
    band = (outside > near) & (outside <= far)
    if ignore is not None:
        band &= ~ignore
    return float(mask[band].mean()) if band.any() else 0.0


@dataclass
class Sequence:
    """Frames fed in order; `scored` says which are scored (a still: only the last)."""

    source: str  # stills, clips, rooms
    name: str
    frames: list[np.ndarray]  # BGR uint8
    truths: list[np.ndarray]  # bool, one per scored frame
    ignores: list[np.ndarray | None]
    scored: list[int]  # indices into frames, one per truth


@dataclass
class FrameScore:
    index: int
    iou: float
    boundary_f: float
    halo: float


@dataclass
class SequenceResult:
    source: str
    name: str
    frames: list[FrameScore]
    flicker: float  # mean change of the mask where the truth did not change
    ms: list[float] = field(default_factory=list)
    worst_mask: np.ndarray | None = None  # the mask of the worst scored frame

    @property
    def iou(self) -> float:
        return float(np.mean([f.iou for f in self.frames]))

    @property
    def worst(self) -> FrameScore:
        return min(self.frames, key=lambda f: f.iou)


def run_sequence(seq: Sequence, masker: Callable[[np.ndarray], np.ndarray]) -> SequenceResult:
    """Feed every frame to `masker` (fresh for this sequence) and score the scored ones."""
    by_frame = dict(zip(seq.scored, range(len(seq.scored)), strict=True))
    scores: list[FrameScore] = []
    ms: list[float] = []
    changes: list[float] = []
    previous: tuple[np.ndarray, np.ndarray] | None = None  # mask, truth
    worst_mask, worst_iou = None, 2.0
    for index, frame in enumerate(seq.frames):
        started = time.perf_counter()
        mask = masker(frame)
        ms.append((time.perf_counter() - started) * 1000)
        t = by_frame.get(index)
        # Frames of a still before the scored one: the truth is the last one's.
        truth = seq.truths[t] if t is not None else (
            seq.truths[-1] if seq.source == "stills" else None)
        if truth is not None and previous is not None and previous[0].shape == mask.shape:
            same = previous[1] == truth
            changes.append(float(np.abs(mask - previous[0])[same].mean()))
        previous = (mask, truth) if truth is not None else None
        if t is None:
            continue
        ignore = seq.ignores[t]
        iou, bf = score(mask >= 0.5, truth, ignore)
        scores.append(FrameScore(index, iou, bf, halo(mask, truth, ignore)))
        if iou < worst_iou:
            worst_iou, worst_mask = iou, mask
    return SequenceResult(seq.source, seq.name, scores,
                          float(np.mean(changes)) if changes else 0.0, ms, worst_mask)


def _read_mask(path: Path) -> np.ndarray | None:
    return cv2.imread(str(path), cv2.IMREAD_GRAYSCALE) >= 128 if path.is_file() else None


def stills(root: Path, quick: bool = False) -> Iterator[Sequence]:
    """Each photo repeated STILL_REPEATS times; the last frame scored."""
    names = sorted(p.stem for p in (root / "images").glob("*.jpg"))
    if quick:
        names = names[::3]
    for name in names:
        image = cv2.imread(str(root / "images" / f"{name}.jpg"))
        truth = _read_mask(root / "masks" / f"{name}.png")
        ignore = _read_mask(root / "ignore" / f"{name}.png")
        yield Sequence("stills", name, [image] * STILL_REPEATS, [truth], [ignore],
                       [STILL_REPEATS - 1])


def clips(root: Path, quick: bool = False) -> Iterator[Sequence]:
    """Each clip once, in order, every frame scored (quick: the first 24 frames)."""
    for video in sorted((root / "clips").glob("*.mp4")):
        limit = 24 if quick else None
        frames = read_frames(video, limit=limit)
        gt = np.load(video.with_name(f"{video.stem}_gt.npz"))
        masks = gt["masks"][: len(frames)] >= 128
        ignores = (gt["ignore"][: len(frames)] >= 128 if "ignore" in gt.files
                   else [None] * len(frames))
        yield Sequence("clips", video.stem, frames, list(masks), list(ignores),
                       list(range(len(frames))))


def rooms(root: Path, person_video: Path, quick: bool = False,
          size: tuple[int, int] = (1280, 720)) -> Iterator[Sequence]:
    """The keyed woman over each empty room at 1280x720, every 3rd video frame (quick:
    every 9th), standing on the bottom edge, centred."""
    people = read_frames(person_video, every=9 if quick else 3)
    alphas = [key_alpha(p) for p in people]
    for path in sorted((root / "backgrounds").glob("*.jpg")):
        room = cover(cv2.imread(str(path)), size)
        frames, truths = [], []
        for person, alpha in zip(people, alphas, strict=True):
            frame, truth = paste_person(person, alpha, room)
            frames.append(frame)
            truths.append(truth)
        yield Sequence("rooms", path.stem, frames, truths, [None] * len(frames),
                       list(range(len(frames))))


def desk_frames(person_video: Path, room_photo: Path, size: tuple[int, int] = (1280, 720),
                limit: int | None = None) -> Iterator[np.ndarray]:
    """Every frame of the keyed woman over one room photo at `size`, in her own
    proportions (720 px of a 1280x720 frame, a webcam's head-and-shoulders framing): a
    person moving in front of a still room, for benchmarks (scripts/make_desk_clip.py)."""
    room = cover(cv2.imread(str(room_photo)), size)
    for person in read_frames(person_video, limit=limit):
        yield paste_person(person, key_alpha(person), room)[0]


def distant_frames(root: Path, quick: bool = False, size: tuple[int, int] = (1280, 720)
                   ) -> Iterator[np.ndarray]:
    """The clips' frames scaled to `size`, one clip after another: whole people moving,
    seen at a distance (the default's pose model runs there), for costs and benchmarks
    (eval_segmentation's cost table, scripts/make_desk_clip.py --distant)."""
    for clip in clips(root, quick):
        for frame in clip.frames:
            yield cv2.resize(frame, size, interpolation=cv2.INTER_LINEAR)


def paste_person(person: np.ndarray, alpha: np.ndarray, room: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The person keyed (`alpha`) over `room`, standing on its bottom edge, centred; and
    where they are (alpha > 0.5)."""
    h, w = person.shape[:2]
    out = room.copy()
    top, left = out.shape[0] - h, (out.shape[1] - w) // 2
    a = alpha[..., None]
    region = out[top:, left : left + w].astype(np.float32)
    out[top:, left : left + w] = (person * a + region * (1 - a)).astype(np.uint8)
    truth = np.zeros(out.shape[:2], bool)
    truth[top:, left : left + w] = alpha > 0.5
    return out, truth


def error_map(frame: np.ndarray, pred: np.ndarray, truth: np.ndarray,
              ignore: np.ndarray | None = None) -> np.ndarray:
    """The frame darkened; red: taken for person wrongly, blue: person missed, grey: not
    scored."""
    error = frame // 3
    error[pred & ~truth] = (0, 0, 255)
    error[~pred & truth] = (255, 0, 0)
    if ignore is not None:
        error[ignore] = (128, 128, 128)
    return error


def error_picture(frame: np.ndarray, truth: np.ndarray, mask: np.ndarray,
                  ignore: np.ndarray | None = None, label: str = "") -> np.ndarray:
    """frame | truth | prediction | error map (red: taken for person wrongly, blue:
    person missed, grey: not scored), side by side."""
    grey = lambda m: cv2.cvtColor((m * 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)  # noqa: E731
    error = error_map(frame, mask >= 0.5, truth, ignore)
    row = np.hstack([frame, grey(truth.astype(np.float32)), grey(mask), error])
    if label:
        cv2.putText(row, label, (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (255, 255, 255), 2)
    return row
