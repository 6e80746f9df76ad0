"""A map made on an earlier frame, moved to where things are in this one.

The pose-assisted segmenter (:mod:`camfx.models.segmentation.pose_assist`) uses a map
of the frame before on every second frame at a distance (the base model's; in its light
mode, the pose model's view); a dancer's arm or a skater's legs have moved since.
Dense optical flow between the two frames (grey, at half the map's resolution) tells
where each pixel of this frame was in that one, and the old map is read there.
OpenCV's DIS flow at its fastest preset: 0.19 ms for a window of 200x200 cells, 1.2 ms
the whole move, on a slow day's two cores; at the map's full resolution the masks were
no better (DIS 0.53 ms), nor with the "fast" preset for three times the cost (README:
Segmentation).
"""

from __future__ import annotations

import cv2
import numpy as np

from camfx.vision.imaging import shrink

MIN_SIDE = 16  # px: a smaller picture is not followed (DIS's patches are 8 px)
SCALE = 0.5  # the grey pictures the flow is found on, against the map's resolution


class MotionFollower:
    """Moves maps from an earlier frame to a later one."""

    def __init__(self) -> None:
        self._grid = np.empty((0, 0, 2), np.float32)  # each pixel's own (x, y), grown

    def follow(self, old_map: np.ndarray, grey_then: np.ndarray, grey_now: np.ndarray
               ) -> np.ndarray:
        """`old_map`, made on the frame `grey_then` shows, moved to where things are in
        `grey_now` (grey uint8 pictures of the same part of each frame as the map, at
        its resolution or lower: see grey_cells)."""
        h, w = old_map.shape[:2]
        grey_h, grey_w = grey_now.shape[:2]
        if min(grey_h, grey_w) < MIN_SIDE or grey_then.shape != grey_now.shape:
            return old_map
        # For each pixel now: how far away it was then (flow from now back to then). A
        # fresh DIS each time (0.015 ms): one that has worked on pictures of another size
        # gave another flow (up to 1.5 px measured), so a mask depended on the windows
        # and streams before it.
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        where = dis.calc(grey_now, grey_then, None)
        if (grey_w, grey_h) != (w, h):
            # (cv2.multiply scales each channel: numpy's broadcast over pairs took 3x)
            where = cv2.multiply(cv2.resize(where, (w, h), interpolation=cv2.INTER_LINEAR),
                                 (w / grey_w, h / grey_h, 0.0, 0.0))
        where += self._pixels(h, w)
        return cv2.remap(old_map, where, None, cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)

    def _pixels(self, h: int, w: int) -> np.ndarray:
        """Each pixel's own (x, y) on an h x w map (a corner of one grid kept for all
        sizes: the windows change size every frame)."""
        grid_h, grid_w = self._grid.shape[:2]
        if grid_h < h or grid_w < w:
            size_h, size_w = max(h, grid_h), max(w, grid_w)
            xs, ys = np.meshgrid(np.arange(size_w, dtype=np.float32),
                                 np.arange(size_h, dtype=np.float32))
            self._grid = np.dstack([xs, ys])
        return self._grid[:h, :w]


def grey_cells(frame_bgr: np.ndarray, half: np.ndarray | None, cells: tuple[slice, slice],
               grid_shape: tuple[int, ...], scale: float = SCALE) -> np.ndarray:
    """The frame under `cells` (rows, columns of a grid of `grid_shape` laid over the
    whole frame), grey, `scale` pixels a cell. `half`: the frame at half size, when at
    hand."""
    rows, cols = cells
    frame_h, frame_w = frame_bgr.shape[:2]
    grid_h, grid_w = grid_shape[:2]
    x0, x1 = cols.start * frame_w // grid_w, -(-cols.stop * frame_w // grid_w)
    y0, y1 = rows.start * frame_h // grid_h, -(-rows.stop * frame_h // grid_h)
    x1, y1 = min(frame_w, max(x0 + 1, x1)), min(frame_h, max(y0 + 1, y1))
    size = (max(1, round((cols.stop - cols.start) * scale)),
            max(1, round((rows.stop - rows.start) * scale)))
    crop = frame_bgr[y0:y1, x0:x1]
    if half is not None and crop.shape[1] >= 4 * size[0] and crop.shape[0] >= 4 * size[1]:
        # Read from the half-size frame, to the nearest even pixel: a quarter of the
        # reading, and both frames' pictures are cut the same way.
        crop = half[y0 // 2 : -(-y1 // 2), x0 // 2 : -(-x1 // 2)]
    if size[0] <= crop.shape[1] and size[1] <= crop.shape[0]:
        small = shrink(crop, size)
    else:  # a grid finer than the frame
        small = cv2.resize(crop, size, interpolation=cv2.INTER_LINEAR)
    return cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
