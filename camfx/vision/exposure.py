"""What the segmentation sees of an underexposed frame: brightened, as a camera's gain
would brighten it.

The segmenters were trained on well-exposed pictures. Two stops under (a dim room, a
camera whose auto-exposure gave up), they lost the person's edges and took a beige
worktop by her bare shoulder for her; the colour model, its histograms binned on the
whole range, had all of a dark frame in its lowest few bins. A frame whose brightest
1% is darker than ``UNDEREXPOSED`` is brightened until it is not (a lookup table, 0.8
ms at 720p; 0.1 ms to tell), for the models and the refinement only: the picture shown
and composited stays the camera's. README (Camera conditions): the real stills two
stops under 0.947 -> 0.958, the clips 0.879 -> 0.896, the rooms 0.973 -> 0.984; no
well-exposed frame of the eval is touched.
"""

from __future__ import annotations

import cv2
import numpy as np

UNDEREXPOSED = 160  # of 255: where a frame's 99th percentile of brightness should reach
MOST_GAIN = 4.0  # two stops: past that it is mostly noise brightened
_LEAST_GAIN = 1.02  # less is left alone (no pass over the frame for nothing)


def brightness_range(picture_bgr: np.ndarray, step: int = 8) -> tuple[int, int]:
    """The 1st and 99th percentiles of the picture's brightness (0-255), from every
    `step`-th pixel of every `step`-th row: a few thousand pixels of a frame, 30 us."""
    grey = cv2.cvtColor(np.ascontiguousarray(picture_bgr[::step, ::step]), cv2.COLOR_BGR2GRAY)
    counts = np.cumsum(np.bincount(grey.ravel(), minlength=256))
    low, high = np.searchsorted(counts, [0.01 * counts[-1], 0.99 * counts[-1]])
    return int(low), int(high)


def gain(image: np.ndarray) -> float:
    """How much an underexposed frame is brightened (1.0: it is not)."""
    return min(MOST_GAIN, max(1.0, UNDEREXPOSED / max(1, brightness_range(image)[1])))


def exposed(image: np.ndarray, half: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray | None]:
    """`image` and its `half` as the segmentation should see them: the same arrays for a
    frame exposed well enough, brightened copies for an underexposed one."""
    factor = gain(image)
    if factor < _LEAST_GAIN:
        return image, half
    table = np.clip(np.arange(256) * factor, 0, 255).astype(np.uint8)
    return cv2.LUT(image, table), None if half is None else cv2.LUT(half, table)
