"""Camera conditions a webcam meets, put on the real footage (../shared/eval/real).

The stills are well-lit, sharp photographs, the clips and rooms well exposed. A
webcam's picture is often not: noise where the room is dim and the camera turns its
gain up, an underexposed or washed-out picture, a hand moving faster than the shutter,
a small sensor scaled up, heavy compression on the way, a lamp's warm cast. Each
condition here is one of those, made from the footage (the truth stays the footage's:
nothing moved), so the eval can say what each costs the segmenters and where they
break. Noise is drawn afresh for every frame, a still's repeats included, as a real
camera's frames differ.

Two more are framings rather than pictures: a phone held upright (the middle 9:16 of the
frame) and an older webcam's 4:3. They crop the frame and its truth alike: the same
people, fitted into another shape (the segmenters fit a frame's shape into their
input in different ways, and a portrait frame is where one of those broke).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from camfx_eval.real_eval import Sequence

Degrade = Callable[[np.ndarray, np.random.Generator], np.ndarray]


@dataclass(frozen=True)
class Condition:
    name: str
    what: str  # for the eval's table
    degrade: Degrade | None  # None: the footage's pixels as they are
    framing: tuple[int, int] | None = None  # (w, h): a wider frame cut to its middle so


def _noisy(frame: np.ndarray, rng: np.random.Generator, sigma: float = 10.0) -> np.ndarray:
    noise = rng.normal(0.0, sigma, frame.shape).astype(np.float32)
    return np.clip(frame.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def _scaled(frame: np.ndarray, gain: np.ndarray | float) -> np.ndarray:
    return np.clip(frame.astype(np.float32) * np.float32(gain), 0, 255).astype(np.uint8)


def _dark(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return _noisy(_scaled(frame, 0.25), rng, sigma=2.0)


def _motion_blur(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    length = max(3, round(0.02 * frame.shape[1])) | 1
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2] = 1.0 / length  # a horizontal streak
    return cv2.filter2D(frame, -1, kernel)


def _soft(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = frame.shape[:2]
    small = cv2.resize(frame, (w * 2 // 5, h * 2 // 5), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _jpeg(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    _, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 15])
    return cv2.imdecode(encoded, cv2.IMREAD_COLOR)


CONDITIONS = [
    Condition("clean", "the footage as it is", None),
    Condition("noisy", "a camera's gain in a dim room: noise sd 10 of 255", _noisy),
    Condition("dark", "underexposed two stops (x0.25), noise sd 2", _dark),
    Condition("blur", "motion blur: a horizontal streak 2% of the width", _motion_blur),
    Condition("soft", "a small sensor: 0.4 of the size, scaled back up", _soft),
    Condition("jpeg", "heavy compression: JPEG quality 15", _jpeg),
    Condition("bright", "overexposed (x1.7), highlights clipped", lambda f, r: _scaled(f, 1.7)),
    Condition("warm", "a lamp's cast: blue x0.6, green x0.9, red x1.3",
              lambda f, r: _scaled(f, np.array([0.6, 0.9, 1.3]))),
    Condition("upright", "a phone held upright: the middle 9:16 of a wider frame", None,
              framing=(9, 16)),
    Condition("4:3", "an older webcam: the middle 4:3 of a wider frame", None,
              framing=(4, 3)),
]


def under(seq: Sequence, condition: Condition, seed: int = 0) -> Sequence:
    """`seq` as a camera in `condition` would give it (reproducibly: `seed`)."""
    if condition.framing is not None:
        seq = framed(seq, *condition.framing)
    if condition.degrade is None:
        return seq
    rng = np.random.default_rng(seed)
    frames = [condition.degrade(frame, rng) for frame in seq.frames]
    return Sequence(seq.source, seq.name, frames, seq.truths, seq.ignores, seq.scored)


def framed(seq: Sequence, aspect_w: int, aspect_h: int) -> Sequence:
    """`seq` cut to the middle of its frames with the proportions aspect_w:aspect_h, its
    truths and ignore masks with them; a frame already that narrow is left as it is."""
    h, w = seq.frames[0].shape[:2]
    if w * aspect_h <= h * aspect_w:
        return seq  # no wider than asked
    cut_w = max(1, round(h * aspect_w / aspect_h))
    columns = slice((w - cut_w) // 2, (w - cut_w) // 2 + cut_w)

    def cut(picture: np.ndarray | None) -> np.ndarray | None:
        return None if picture is None else np.ascontiguousarray(picture[:, columns])

    return Sequence(seq.source, seq.name, [cut(f) for f in seq.frames],
                    [cut(t) for t in seq.truths], [cut(i) for i in seq.ignores], seq.scored)
