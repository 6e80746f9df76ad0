"""Whether a painting has brush strokes on a flat wall, or the transfer network's lattice.

Given a flat, near-uniform picture, Magenta's transfer network repeats a fine pattern of
its own (4-px squares on a pure colour, a diagonal hatching on a real wall) where it
paints brush strokes on anything textured. Two figures tell them apart, over pixels of
the painting (at its own size):

* :func:`stroke_ratio`: the detail at the scale of brush strokes (a band-pass of
  periods ~10-40 px) over the fine detail (periods under ~6 px). Paintings of textured
  rooms score ~0.75-0.9, a flat colour with a little noise ~0.75; a lattice has only
  fine detail (a pure colour: 0.0, a real flat wall: ~0.5).
* :func:`lattice_share`: the share of the fine detail that repeats exactly every
  `period` px (the network's two x2 upsamplings make 4): 1.0 for a pure lattice, about
  period**2 / pixels for detail that does not repeat.
"""

from __future__ import annotations

import cv2
import numpy as np


def flat_pixels(image: np.ndarray, spread: float = 1.5, border: int = 8) -> np.ndarray:
    """Where a picture is flat: the local (9x9) standard deviation of its grey under
    `spread` levels, all over a 9x9 neighbourhood, `border` px away from its edges."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    mean = cv2.blur(grey, (9, 9))
    deviation = np.sqrt(np.maximum(cv2.blur(grey * grey, (9, 9)) - mean * mean, 0.0))
    flat = cv2.erode((deviation < spread).astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    flat[:border], flat[-border:], flat[:, :border], flat[:, -border:] = False, False, False, False
    return flat


def _grey(painting: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(painting, cv2.COLOR_BGR2GRAY).astype(np.float32)


def stroke_ratio(painting: np.ndarray, where: np.ndarray) -> float:
    """Brush-stroke-scale detail over fine detail (root mean squares) on `where` (bool)."""
    grey = _grey(painting)
    fine = grey - cv2.GaussianBlur(grey, (0, 0), 1.5)
    strokes = cv2.GaussianBlur(grey, (0, 0), 3.0) - cv2.GaussianBlur(grey, (0, 0), 9.0)
    return float(np.sqrt(np.mean(strokes[where] ** 2) / max(np.mean(fine[where] ** 2), 1e-9)))


def lattice_share(painting: np.ndarray, where: np.ndarray, period: int = 4) -> float:
    """The share of the fine detail on `where` that repeats every `period` px."""
    grey = _grey(painting)
    detail = grey - cv2.GaussianBlur(grey, (0, 0), 3.0)
    h, w = (n - n % period for n in detail.shape)
    weight = where[:h, :w].astype(np.float32)
    detail = detail[:h, :w] * weight
    cells = (h // period, period, w // period, period)
    sums = detail.reshape(cells).sum(axis=(0, 2))
    counts = weight.reshape(cells).sum(axis=(0, 2))
    repeating = sums / np.maximum(counts, 1.0)  # the mean detail at each phase of the grid
    total = float(np.sum(detail**2) / max(weight.sum(), 1.0))
    return float(np.mean(repeating**2) / max(total, 1e-9))
