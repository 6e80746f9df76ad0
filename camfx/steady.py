"""A painted background that stays still where the room does, and follows where it changes.

Painting every frame afresh turns camera noise and compression changes into new
brush strokes: the transfer network amplifies a change of one level into ten. Two
parts keep the painting as still as the room:

* :class:`SteadyPlate`, a clean plate (the background with the person taken out)
  that takes a pixel from the new frame only when it differs from what the plate
  holds by more than the camera's noise, for two frames in a row. Below that the
  plate, and so the network's input, does not change at all.
* :class:`SteadyPainting`, which runs the network only when the plate changed, and
  takes the new painting only around the change (the network's reach, feathered);
  elsewhere the last painting stays. A change over most of the frame (a pan, the
  light) takes the new painting everywhere at once.

Nothing here is timed: a repaint follows the frame the change was seen in (two
frames with the persistence check).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import cv2
import numpy as np

from camfx.compositing import _push_pull_fill


class SteadyPlate:
    """The background without the person, changed only where the room really changed.

    Feed it every frame (style-sized) with its person mask, from one thread.
    `floor` is the least change (levels, mean over channels, after a 5x5 box blur)
    taken as real; above it the threshold follows the noise it measures: `noise_factor`
    times the typical (median) difference between frame and plate.
    `persist` frames in a row must show a change before it is taken, so a flash of
    compression or the person's soft edge passing by does not count.
    """

    def __init__(
        self,
        grow: int = 2,
        floor: float = 3.0,
        noise_factor: float = 4.0,
        persist: int = 2,
        near: int = 12,
        persist_near: int = 6,
    ) -> None:
        self.grow = grow
        self.floor = floor
        self.noise_factor = noise_factor
        self.persist = persist
        # Within `near` px of the person, a change must last `persist_near` frames: their
        # soft edge, hair and motion blur pass by, a real change stays.
        self.near = near
        self.persist_near = persist_near
        self.person: np.ndarray | None = None  # bool: the (grown) person of the last update
        self.noise = 0.0  # typical frame-to-plate difference where nothing changed, levels
        self._plate: np.ndarray | None = None  # what was last taken, person area unfilled
        self._seen: np.ndarray | None = None  # bool: background seen here at least once
        self._count: np.ndarray | None = None  # frames in a row each pixel has differed
        self._out: np.ndarray | None = None  # the last plate handed out (filled)
        self._candidate: np.ndarray | None = None  # each pixel's new value being counted

    def reset(self) -> None:
        self._plate = self._seen = self._count = self._out = self._candidate = None
        self.noise = 0.0

    def update(self, image: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(the plate, where it differs from the last one handed out: bool)."""
        self.person = self._grown_person(mask, self.grow)
        visible = ~self.person
        if self._plate is None or self._plate.shape != image.shape:
            self._plate, self._seen = image.copy(), visible.copy()
            self._count = np.zeros(visible.shape, np.uint8)
            self._candidate = image.copy()
            self._out = self._filled()
            return self._out, np.ones(visible.shape, bool)
        take = self._changes(image, visible, self._grown_person(mask, self.grow + self.near))
        if not take.any():
            return self._out, np.zeros(visible.shape, bool)
        self._plate[take] = image[take]
        self._seen |= visible
        out = self._filled()
        changed = cv2.absdiff(out, self._out).max(axis=-1) > 0
        self._out = out
        return out, changed

    @property
    def hidden(self) -> np.ndarray | None:
        """Where the plate is not the room as seen: behind the person, or never seen."""
        if self.person is None or self._seen is None:
            return None
        return self.person | ~self._seen

    def _changes(self, image: np.ndarray, visible: np.ndarray, near: np.ndarray) -> np.ndarray:
        """Visible pixels that have differed from the plate beyond the noise long enough."""
        level = self._level(image, self._plate)
        known = visible & self._seen
        if known.any():
            typical = float(np.median(level[known]))
            # A real change of most of the frame (the light) is no measure of the noise.
            if self.noise == 0.0 or typical < 2 * self.noise:
                self.noise = typical if self.noise == 0.0 else 0.9 * self.noise + 0.1 * typical
        threshold = max(self.floor, self.noise_factor * self.noise)
        differs = visible & (level > threshold)
        if differs.any() and near.any():
            differs = self._reaching_out(differs, near)
        # Background seen for the first time (the person moved off it) is new too.
        differs |= visible & ~self._seen
        # A change counts once its new value holds: each pixel's count restarts when it
        # departs from the value it had when the count began. The person's soft edge
        # (hair, skin blended with the room) drifts as they move; a changed room holds.
        drifted = self._level(image, self._candidate) > threshold
        restart = differs & ((self._count == 0) | drifted)
        self._candidate[restart] = image[restart]
        self._count = np.where(
            differs, np.where(restart, 1, np.minimum(self._count + 1, 255)), 0
        ).astype(np.uint8)
        take = self._count >= np.where(near, self.persist_near, self.persist).astype(np.uint8)
        self._count[take] = 0
        # Where nothing is being counted the candidate follows the frame, so that the
        # blurred drift test at a counted pixel compares like with like around it.
        idle = self._count == 0
        self._candidate[idle] = image[idle]
        return take

    @staticmethod
    def _reaching_out(differs: np.ndarray, near: np.ndarray) -> np.ndarray:
        """The changed regions that reach beyond the band around the person.

        A change only within the band is the person's own edge showing past the mask
        (hair, a blended rim, compression ringing around their motion); a real change
        of the room beside them (a door, a lamp) extends further. Once the person
        moves off a change, it is outside the band and taken.
        """
        count, labels = cv2.connectedComponents(differs.astype(np.uint8), connectivity=8)
        if count <= 1:
            return differs
        outside = np.zeros(count, bool)
        outside[labels[differs & ~near]] = True
        outside[0] = False
        return outside[labels]

    @staticmethod
    def _level(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Per-pixel difference in levels: the mean over channels, box-blurred 5x5."""
        diff = cv2.absdiff(a, b).astype(np.float32)
        return cv2.blur(cv2.transform(diff, np.full((1, 3), 1 / 3, np.float32)), (5, 5))

    def _filled(self) -> np.ndarray:
        if self._seen.all():
            return self._plate.copy()
        if not self._seen.any():
            return self._plate.copy()
        filled = _push_pull_fill(self._plate.astype(np.float32), self._seen.astype(np.float32))
        out = self._plate.copy()
        unseen = ~self._seen
        out[unseen] = np.clip(filled[unseen], 0, 255).astype(np.uint8)
        return out

    @staticmethod
    def _grown_person(mask: np.ndarray, grow: int) -> np.ndarray:
        person = (mask > 0.5).astype(np.uint8)
        if grow > 0:
            size = 2 * grow + 1
            kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
            person = cv2.dilate(person, kernel)
        return person.astype(bool)


class SteadyPainting:
    """The last painting, repainted only around where its input changed.

    `reach` is how far (px, at the painting's size) a change of the input moves the
    network's output noticeably; the new painting is taken within it, feathered.
    Where more than `whole` of the picture changed, the new painting is taken
    everywhere. Elsewhere the old painting stays exactly: taking even a tenth of the
    new one everywhere at each repaint (so that patches could not drift apart) made
    the still room's painting change 3.1x as much as the camera's picture 30 frames
    apart, instead of 1.8x (scripts/eval_stability.py).
    """

    def __init__(self, reach: int = 20, whole: float = 0.5) -> None:
        self.reach = reach
        self.whole = whole
        self.repaints = 0
        self._painting: np.ndarray | None = None  # float32, painting size
        self._shown: np.ndarray | None = None  # uint8 of the above
        self._key: Hashable = None
        self._stale: np.ndarray | None = None  # bool: changed under the person, not repainted

    def reset(self) -> None:
        self._painting = self._shown = self._stale = None
        self._key = None

    def paint(
        self,
        plate: np.ndarray,
        changed: np.ndarray,
        stylize: Callable[[np.ndarray], np.ndarray],
        key: Hashable = None,
        hidden: np.ndarray | None = None,
    ) -> tuple[np.ndarray, bool]:
        """(the painting, whether it is new). `key` names the style: a new one repaints all.

        `hidden` (bool) is where the person covers the painting: a change only there
        (the clean plate's fill behind them) waits, unpainted, until something visible
        changes or the person moves off it; painting it at once would repaint the
        room around them too, as far as the network's reach.
        """
        fresh = (
            self._painting is None
            or key != self._key
            or self._painting.shape[:2] != plate.shape[:2]
        )
        if hidden is None:
            hidden = np.zeros(changed.shape, bool)
        if not fresh:
            self._stale = changed if self._stale is None else self._stale | changed
            if not (self._stale & ~hidden).any():
                return self._shown, False
            changed = self._stale
        new = stylize(plate).astype(np.float32)
        self.repaints += 1
        self._key = key
        self._stale = np.zeros(changed.shape, bool)
        if fresh or changed.mean() > self.whole:
            self._painting = new
        else:
            # Around a visible change as far as the network reaches; behind the person
            # only where it changed (the person covers the seam).
            weight = np.maximum(
                self._spread(changed & ~hidden, self.reach), self._spread(changed & hidden, 2)
            )
            self._painting += weight[..., None] * (new - self._painting)
        self._shown = cv2.convertScaleAbs(self._painting)
        return self._shown, True

    @staticmethod
    def _spread(changed: np.ndarray, reach: int) -> np.ndarray:
        """1 within `reach` px of a change, falling off smoothly over the next reach/2."""
        if not changed.any():
            return np.zeros(changed.shape, np.float32)
        size = 2 * reach + 1
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
        near = cv2.dilate(changed.astype(np.uint8), kernel).astype(np.float32)
        return np.minimum(cv2.GaussianBlur(near, (0, 0), max(1.0, reach / 4)) * 2.0, 1.0)


class SteadyBackground:
    """A steady plate and its steady painting: frame and mask in, the painting out."""

    def __init__(self, plate: SteadyPlate | None = None, painting: SteadyPainting | None = None):
        self.plate = plate or SteadyPlate()
        self.painting = painting or SteadyPainting()

    @property
    def repaints(self) -> int:
        """How many times the network has run."""
        return self.painting.repaints

    def reset(self) -> None:
        self.plate.reset()
        self.painting.reset()

    def update(
        self,
        image: np.ndarray,
        mask: np.ndarray,
        stylize: Callable[[np.ndarray], np.ndarray],
        key: Hashable = None,
    ) -> tuple[np.ndarray, bool]:
        """(the painting of `image`'s background, whether the network ran for it)."""
        plate, changed = self.plate.update(image, mask)
        return self.painting.paint(plate, changed, stylize, key, self.plate.hidden)
