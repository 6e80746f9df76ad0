"""Fitting pictures to a size: shrinking fast without aliasing, covering (scale and
centre-crop) and containing (scale and pad). The one place for it: backdrops, the style
picture, the virtual camera and the eval's clips all fit pictures here.

Shrinking:
OpenCV's area filter (``INTER_AREA``) is the right way to shrink, but it is fast only
for whole factors: 720x720 to 257x257 took 1.6 ms, as long as a third of a DeepLab run.
Halving by whole factors (its fast path) while the picture is twice the size or more,
then finishing with bilinear (which does not alias below 2x), took 0.17 ms.
"""

from __future__ import annotations

import cv2
import numpy as np


def halve(image: np.ndarray) -> np.ndarray:
    """`image` at half its width and height: the first step :func:`shrink` takes (each
    pixel the mean of 2x2; an odd last row or column is dropped)."""
    h, w = image.shape[:2]
    return cv2.resize(image[: h - h % 2, : w - w % 2], (w // 2, h // 2),
                      interpolation=cv2.INTER_AREA)


def shrink(image: np.ndarray, size: tuple[int, int], half: np.ndarray | None = None) -> np.ndarray:
    """`image` resized to `size` (width, height), no larger than it, as by INTER_AREA.

    `half`: the picture at half size when it is already at hand (:func:`halve` of it:
    the same result; a mask's half-size original: the mask it was scaled up from). It
    stands in for the first halving, the one pass over the whole full-size picture:
    cache-cold at 720p that pass cost 1.5-2 ms, four times the rest.
    """
    width, height = size
    h, w = image.shape[:2]
    if half is not None and w >= 2 * width and h >= 2 * height:
        image = half
    while True:
        h, w = image.shape[:2]
        fx = 2 if w >= 2 * width else 1
        fy = 2 if h >= 2 * height else 1
        if fx == fy == 1:
            break
        # An odd row or column is dropped so the factor is whole (the fast path).
        image = cv2.resize(image[: h - h % fy, : w - w % fx], (w // fx, h // fy),
                           interpolation=cv2.INTER_AREA)
    if image.shape[1::-1] == (width, height):
        return image
    return cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)


def half_of_crop(half: np.ndarray | None, x: int, y: int, w: int, h: int) -> np.ndarray | None:
    """:func:`halve` of the crop (x, y, w, h) of a picture, cut from the picture's `half`;
    None where the crop starts on an odd pixel (its 2x2 blocks are not the half's)."""
    if half is None or x % 2 or y % 2:
        return None
    return half[y // 2 : (y + h) // 2, x // 2 : (x + w) // 2]


def cover(image: np.ndarray, size: tuple[int, int], interpolation: int | None = None) -> np.ndarray:
    """Scale and centre-crop a picture to exactly `size` (width, height).

    `interpolation` defaults to area when shrinking, bilinear when enlarging."""
    w, h = size
    scale = max(w / image.shape[1], h / image.shape[0])
    if interpolation is None:
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(
        image,
        (max(w, round(image.shape[1] * scale)), max(h, round(image.shape[0] * scale))),
        interpolation=interpolation,
    )
    top, left = (resized.shape[0] - h) // 2, (resized.shape[1] - w) // 2
    return resized[top : top + h, left : left + w]


def contain(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Scale ``image`` to fit ``size`` (width, height), keeping proportions; pad with black."""
    width, height = size
    h, w = image.shape[:2]
    if (w, h) == (width, height):
        return np.ascontiguousarray(image)
    scale = min(width / w, height / h)
    fit_w, fit_h = min(width, max(1, round(w * scale))), min(height, max(1, round(h * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    scaled = cv2.resize(image, (fit_w, fit_h), interpolation=interpolation)
    out = np.zeros((height, width, image.shape[2]), dtype=image.dtype)
    x, y = (width - fit_w) // 2, (height - fit_h) // 2
    out[y : y + fit_h, x : x + fit_w] = scaled
    return out


def region_count(binary: np.ndarray) -> int:
    """How many 8-connected regions of non-zero pixels a uint8 map holds.

    The outer borders of OpenCV's contour tracing (``RETR_CCOMP``'s top level), one
    per region, a region inside another's hole included: the same count as
    ``connectedComponents`` at a tenth of the cost of ``connectedComponentsWithStats``
    (0.03 against 0.3 ms at 455x256), for the frames where one region is all there is.
    """
    return len(region_outlines(binary))


def region_outlines(binary: np.ndarray) -> list[np.ndarray]:
    """The outer border of each 8-connected region of non-zero pixels of a uint8 map (see
    region_count): drawn filled (``cv2.drawContours``), a region with its holes;
    ``cv2.contourArea`` of one, its area to within half its border."""
    contours, hierarchy = cv2.findContours(binary, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    return [c for c, link in zip(contours, hierarchy[0], strict=True) if link[3] < 0]
