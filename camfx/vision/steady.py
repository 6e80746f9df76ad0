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

Nothing here is timed, all is counted in frames: a large change away from the person
is painted with the frame it was taken in (the second it showed in, with the
persistence check); small ones (what a moving person uncovers) wait to be painted
together, at most `SteadyPainting.delay` frames after they showed.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import cv2
import numpy as np

from camfx.vision.compositing import fill_unseen

_MEAN_OF_CHANNELS = np.full((1, 3), 1 / 3, np.float32)


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
        persist_new: int = 1,
    ) -> None:
        self.grow = grow
        self.floor = floor
        self.noise_factor = noise_factor
        self.persist = persist
        # Within `near` px of the person, a change must last `persist_near` frames: their
        # soft edge, hair and motion blur pass by, a real change stays.
        self.near = near
        self.persist_near = persist_near
        # Background never seen before is taken at once: what is painted there until
        # then is the fill, a smooth trace of the person (the ghost).
        self.persist_new = persist_new
        self.person: np.ndarray | None = None  # bool: the (grown) person of the last update
        self._near: np.ndarray | None = None  # bool: the person and the band around them
        self.noise = 0.0  # typical frame-to-plate difference where nothing changed, levels
        self.held = 0  # frames the last update held back the longest-waiting change it took
        self._plate: np.ndarray | None = None  # what was last taken, person area unfilled
        self._seen: np.ndarray | None = None  # bool: background seen here at least once
        self._count: np.ndarray | None = None  # frames in a row each pixel has differed
        self._picture: np.ndarray | None = None  # the plate filled, until it changes
        self._candidate: np.ndarray | None = None  # each pixel's new value being counted

    def reset(self) -> None:
        self._plate = self._seen = self._count = self._picture = self._candidate = None
        self.person = self._near = None
        self.noise = 0.0
        self.held = 0

    def update(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Where (bool) the plate took the room from `image`: the visible pixels it changed.

        What is behind the person changes only by its fill (:meth:`picture`), which
        nobody sees until they move off it, and then that background is new and taken.
        """
        # One distance transform gives both the grown person and the band around them.
        background = cv2.compare(mask, 0.5, cv2.CMP_LE)  # 255 where not the person
        distance = cv2.distanceTransform(background, cv2.DIST_L2, 3)
        self.person = distance <= self.grow
        visible = ~self.person
        if self._plate is None or self._plate.shape != image.shape:
            self._plate, self._seen = image.copy(), visible.copy()
            self._count = np.zeros(visible.shape, np.uint8)
            self._candidate = image.copy()
            self._picture = None
            self.held = 0
            return np.ones(visible.shape, bool)
        self._near = distance <= self.grow + self.near
        take = self._changes(image, visible, self._near)
        if take.any():
            cv2.copyTo(image, take.view(np.uint8), self._plate)
            self._seen |= visible
            self._picture = None
        return take

    def picture(self) -> np.ndarray:
        """The plate: the room as last taken, filled smoothly where it was never seen.

        Filled only when asked for (when the network is to paint it): ~10 ms."""
        if self._picture is None:
            self._picture = fill_unseen(self._plate, self._seen)
        return self._picture

    def shift(self, dx: int, dy: int) -> None:
        """Move what the plate holds by whole pixels, as the camera moved the room; what
        comes into view at the border has not been seen."""
        if self._plate is None:
            return
        self._plate, self._candidate = (_moved(a, dx, dy) for a in (self._plate, self._candidate))
        self._picture = None
        self._seen = _moved(self._seen.astype(np.uint8), dx, dy, fill=0).astype(bool)
        self._count[:] = 0

    @property
    def edge(self) -> np.ndarray | None:
        """The band `near` px around the person (and the person), as of the last update."""
        return self._near

    @property
    def unseen(self) -> np.ndarray | None:
        """Where the plate never saw the room: its picture there is a smooth fill."""
        return None if self._seen is None else ~self._seen

    @property
    def hidden(self) -> np.ndarray | None:
        """Where the plate is not the room as seen: behind the person, or never seen."""
        if self.person is None or self._seen is None:
            return None
        return self.person | ~self._seen

    def _changes(self, image: np.ndarray, visible: np.ndarray, near: np.ndarray) -> np.ndarray:
        """Visible pixels that have differed from the plate beyond the noise long enough."""
        level = self._level(image, self._plate)
        unseen = ~self._seen
        known = (visible > unseen)[::4, ::4]  # every 16th pixel is plenty for a median
        if known.any():
            typical = float(np.median(level[::4, ::4][known]))
            # A real change of most of the frame (the light) is no measure of the noise.
            if self.noise == 0.0 or typical < 2 * self.noise:
                self.noise = typical if self.noise == 0.0 else 0.9 * self.noise + 0.1 * typical
        threshold = max(self.floor, self.noise_factor * self.noise)
        differs = level > threshold
        differs &= visible
        if differs.any() and near.any():
            differs = self._reaching_out(differs, near)
        # Background seen for the first time (the person moved off it) is new too.
        differs |= visible & unseen
        count = self._count
        if not differs.any():  # the usual frame of a still room: nothing being counted
            count.fill(0)
            np.copyto(self._candidate, image)
            self.held = 0
            return differs
        # A change counts once its new value holds: each pixel's count restarts when it
        # departs from the value it had when the count began. The person's soft edge
        # (hair, skin blended with the room) drifts as they move; a changed room holds.
        counting = differs & (count > 0)
        restart = differs.copy()
        if counting.any():
            holds = self._level(image, self._candidate) <= threshold
            restart &= ~(counting & holds)
        # (Masked copies through OpenCV and arithmetic on the counts: numpy's masked
        # assignments took 0.3-0.9 ms each at 216x384.)
        cv2.copyTo(image, restart.view(np.uint8), self._candidate)
        np.minimum(count, 254, out=count)
        count += 1
        count *= ~restart
        count += restart  # 1 where the count restarts
        count *= differs  # no longer differing: the count starts again
        needed = np.full(count.shape, self.persist, np.uint8)
        # A change of most of the room (the light) is real beside the person too: waiting
        # there repainted the whole picture a second time, `persist_near` frames later.
        if np.count_nonzero(differs) <= 0.5 * np.count_nonzero(visible):
            cv2.copyTo(np.full_like(needed, self.persist_near), near.view(np.uint8), needed)
        cv2.copyTo(np.full_like(needed, self.persist_new), unseen.view(np.uint8), needed)
        take = count >= needed
        # The longest any pixel taken now was held back: the painting's wait counts from
        # when the first of them showed.
        self.held = 0
        if take.any():
            self.held = int(cv2.minMaxLoc(needed, take.view(np.uint8))[1]) - 1
        count *= ~take
        # Where nothing is being counted the candidate follows the frame, so that the
        # blurred drift test at a counted pixel compares like with like around it.
        cv2.copyTo(image, (count == 0).view(np.uint8), self._candidate)
        return take

    @staticmethod
    def _reaching_out(differs: np.ndarray, near: np.ndarray) -> np.ndarray:
        """The changed regions that reach beyond the band around the person.

        A change only within the band is the person's own edge showing past the mask
        (hair, a blended rim, compression ringing around their motion); a real change
        of the room beside them (a door, a lamp) extends further. Once the person
        moves off a change, it is outside the band and taken.
        """
        beyond = differs > near
        if not beyond.any():  # all within the band (or nothing changed)
            return beyond
        if not (differs & near).any():  # all beyond it
            return differs
        count, labels = cv2.connectedComponents(differs.view(np.uint8), connectivity=8)
        outside = np.zeros(count, bool)
        outside[labels[beyond]] = True
        outside[0] = False
        return outside[labels]

    @staticmethod
    def _level(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Per-pixel difference in whole levels: the mean over channels, box-blurred 5x5."""
        return cv2.blur(cv2.transform(cv2.absdiff(a, b), _MEAN_OF_CHANNELS), (5, 5))


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

    def __init__(
        self,
        reach: int = 20,
        whole: float = 0.5,
        delay: int = 7,
        at_once: float = 0.002,
        reach_edge: int = 5,
    ) -> None:
        self.reach = reach
        # Changes along the person's edge (what they just uncovered) are repainted only
        # this far around them: at 20 px, the strokes around a moving hand were painted
        # anew 10 times a second, and the wall of portrait_720.mp4 changed 6.3x as much as
        # the camera's picture 30 frames apart; at 4 px, 3.1x (ghost ratio 1.39 -> 1.44).
        # With repaints `delay` frames apart, 5 px keeps the ghost ratio at 1.47 (4 px:
        # 1.48); the still clip's painting 30 frames apart changes 0.16x the input's (0.14x).
        self.reach_edge = reach_edge
        self.whole = whole
        # Small changes (background a moving person uncovers, their blur reaching past
        # the band around them) wait to be painted together, each at most `delay` frames
        # after it first showed in the picture (0.23 s at 30 fps; the plate's own wait
        # counts): a person who keeps moving had the network run 8.5 times a second
        # (portrait_720.mp4: 0.39 runs a frame waiting 2 frames, 0.14 waiting 7). What
        # they uncover was mostly seen before and is painted from the room already: the
        # ghost ratio stayed 1.47 (scripts/eval_stability.py; with `reach_edge` 5 px).
        # A change of more than `at_once` of the picture away from the person (a door,
        # a lamp, an object, the light, a pan) is painted at once.
        self.delay = self._delay_at_30 = delay
        self.at_once = at_once
        self.repaints = 0
        self._painting: np.ndarray | None = None  # float32, painting size
        self._shown: np.ndarray | None = None  # uint8 of the above
        self._key: Hashable = None
        self._stale: np.ndarray | None = None  # bool: changed, waiting to be painted
        self._calls = 0  # calls of paint(): the painting's clock, in frames
        self._due: float = np.inf  # the call by which the changes waiting must be painted

    def reset(self) -> None:
        self._painting = self._shown = self._stale = None
        self._key = None
        self._due = np.inf

    def paint(
        self,
        plate: Callable[[], np.ndarray],
        changed: np.ndarray,
        stylize: Callable[[np.ndarray], np.ndarray],
        key: Hashable = None,
        edge: np.ndarray | None = None,
        held: int = 0,
    ) -> tuple[np.ndarray, bool]:
        """(the painting, whether it is new). `key` names the style: a new one repaints all.

        `plate` gives the picture to paint, asked for only when the network runs;
        `changed` (bool) is where it changed since the last call; `edge` (bool) the
        person and the band around them, without which every change is painted at once;
        `held` the most frames the plate held back any of `changed` before taking it.
        """
        self._calls += 1
        fresh = (
            self._painting is None or key != self._key or self._painting.shape[:2] != changed.shape
        )
        if not fresh:
            self._stale = changed if self._stale is None else self._stale | changed
            if not self._stale.any():
                return self._shown, False
            if changed.any():
                self._due = min(self._due, self._calls + max(0, self.delay - held))
            if edge is not None and not self._paint_now(edge):
                return self._shown, False
            changed = self._stale
        new = stylize(plate()).astype(np.float32)
        self._due = np.inf
        self.repaints += 1
        self._key = key
        self._stale = np.zeros(changed.shape, bool)
        if fresh or _share(changed) > self.whole:
            self._painting = new
        else:
            if edge is None:
                weight = self._spread(changed, self.reach)
            else:
                weight = np.maximum(
                    self._spread(changed & ~edge, self.reach),
                    self._spread(changed & edge, self.reach_edge),
                )
            self._painting += weight[..., None] * (new - self._painting)
        self._shown = cv2.convertScaleAbs(self._painting)
        return self._shown, True

    def pace(self, fps: float | None) -> None:
        """Painted `fps` frames a second (a live painter capped below the camera's 30;
        None: every frame): the wait, counted in frames, shortened to about the same
        time, but at least 2 frames, so that a person who keeps moving does not have the
        network run every frame (at 5 a second, `--preset pi`: 2 frames, 0.4 s, not 1.4)."""
        frames = self._delay_at_30 if fps is None else round(self._delay_at_30 * fps / 30)
        self.delay = max(2, min(self._delay_at_30, frames))

    def _paint_now(self, edge: np.ndarray) -> bool:
        """Whether the changes waiting are due, or one away from the person is large."""
        if self._calls >= self._due:
            return True
        far = np.count_nonzero(self._stale & ~edge)
        return far >= self.at_once * edge.size

    def shift(self, dx: int, dy: int) -> None:
        """Move the painting by whole pixels with the room (no resampling, no blur); what
        came in at the border is painted with the next frame."""
        if self._painting is None:
            return
        self._due = self._calls
        self._painting = _moved(self._painting, dx, dy)
        self._shown = cv2.convertScaleAbs(self._painting)
        if self._stale is not None:
            self._stale = _moved(self._stale.astype(np.uint8), dx, dy, fill=1).astype(bool)

    @staticmethod
    def _spread(changed: np.ndarray, reach: int) -> np.ndarray:
        """1 within `reach` px of a change, falling to 0 at 1.5 `reach` (a feathered seam)."""
        if not changed.any():
            return np.zeros(changed.shape, np.float32)
        distance = cv2.distanceTransform((~changed).astype(np.uint8), cv2.DIST_L2, 3)
        return np.clip((1.5 * reach - distance) / (0.5 * reach), 0.0, 1.0)


def _share(where: np.ndarray) -> float:
    """The share of True in a bool array (numpy's mean of bools is 20x slower)."""
    return np.count_nonzero(where) / where.size


def _moved(image: np.ndarray, dx: int, dy: int, fill: int | None = None) -> np.ndarray:
    """`image` moved by whole pixels; the border that comes in repeats the edge, or is `fill`."""
    h, w = image.shape[:2]
    matrix = np.float32([[1, 0, dx], [0, 1, dy]])
    if fill is None:
        return cv2.warpAffine(
            image, matrix, (w, h), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE
        )
    return cv2.warpAffine(
        image,
        matrix,
        (w, h),
        flags=cv2.INTER_NEAREST,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=fill,
    )


class CameraMotion:
    """How far the room moved between two frames, where the camera pans or tilts.

    Dense optical flow (OpenCV's DIS, its fastest preset) over the
    background; the camera moved when most of it agrees on one shift. The person and
    anything else moving on its own disagree and are outvoted.

    The background must have `enough` texture (a share of the picture with a gradient
    of `texture` levels a pixel or more): on a plain wall the flow is what its smoothing
    spreads from the moving person, not the room's. Following that (sub-pixel steps
    while a hand moved, on portrait_720.mp4) moved the whole painting, where a wall with
    nothing on it shows no camera motion to follow. (Letting only the textured pixels
    vote made the pan's painting change 11.4x the input's once moved, against 4.7x.)
    """

    def __init__(
        self, least: float = 0.2, agree: float = 0.6, texture: float = 2.0, enough: float = 0.02
    ) -> None:
        self.least = least  # px: less is noise
        self.agree = agree  # share of the background that must move together
        self.texture = texture
        self.enough = enough
        self._flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        self._last: np.ndarray | None = None

    def reset(self) -> None:
        self._last = None

    def between(self, image: np.ndarray, background: np.ndarray) -> tuple[float, float]:
        """(dx, dy) the room moved from the last frame given to `image` (0, 0 if it did not)."""
        # At the painting's size (216x384: 0.8 ms): at half that, the shift came out 8%
        # short, and the painting slid off the room as a pan went on.
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        last, self._last = self._last, grey
        if last is None or last.shape != grey.shape or _share(background) < 0.2:
            return 0.0, 0.0
        gx, gy = self._gradient(grey)
        textured = cv2.magnitude(gx, gy) >= self.texture
        if _share((background & textured)[::2, ::2]) < self.enough:
            return 0.0, 0.0
        if self._still(last, grey, gx, gy, background):
            return 0.0, 0.0
        flow = self._flow.calc(last, grey, None)[::2, ::2][background[::2, ::2]]
        shift = np.median(flow, axis=0)
        together = (np.abs(flow - shift).max(axis=1) < 0.5).mean()
        if together < self.agree or np.hypot(*shift) < self.least:
            return 0.0, 0.0
        return float(shift[0]), float(shift[1])

    def _still(
        self,
        last: np.ndarray,
        grey: np.ndarray,
        gx: np.ndarray,
        gy: np.ndarray,
        background: np.ndarray,
    ) -> bool:
        """Whether the background changed less than 3/4 of what a move of `least` px
        would have changed it (the gradient along the move times the move; the lesser
        of the two directions): then the camera did not move, and the flow (1 ms a
        frame) need not be asked. Camera noise adds to the change: a noisy camera is
        asked, as before."""
        where = background.view(np.uint8)
        change = cv2.mean(cv2.absdiff(last, grey), where)[0]
        along = min(cv2.mean(cv2.absdiff(g, 0), where)[0] for g in (gx, gy))
        return change < 0.75 * self.least * along

    @staticmethod
    def _gradient(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The picture's gradient across and down, levels a pixel (Sobel / 8)."""
        gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3, scale=1 / 8)
        gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3, scale=1 / 8)
        return gx, gy


class SteadyBackground:
    """A steady plate and its steady painting: frame and mask in, the painting out.

    When the camera moves, plate and painting move with the room by whole pixels, so
    the strokes stay on what they paint instead of being painted anew each frame; the
    part of a pixel left over is in `offset`, for the scaling to the frame's size.
    """

    def __init__(
        self,
        plate: SteadyPlate | None = None,
        painting: SteadyPainting | None = None,
        motion: CameraMotion | None = None,
    ):
        self.plate = plate or SteadyPlate()
        self.painting = painting or SteadyPainting()
        self.motion = motion or CameraMotion()
        self.offset = (0.0, 0.0)  # px (at the painting's size) the room moved beyond it

    @property
    def repaints(self) -> int:
        """How many times the network has run."""
        return self.painting.repaints

    def pace(self, fps: float | None) -> None:
        """Fed `fps` frames a second (None: every frame): see :meth:`SteadyPainting.pace`."""
        self.painting.pace(fps)

    def reset(self) -> None:
        self.plate.reset()
        self.painting.reset()
        self.motion.reset()
        self.offset = (0.0, 0.0)

    def update(
        self,
        image: np.ndarray,
        mask: np.ndarray,
        stylize: Callable[[np.ndarray], np.ndarray],
        key: Hashable = None,
    ) -> tuple[np.ndarray, bool]:
        """(the painting of `image`'s background, whether the network ran for it).

        `stylize(picture, plain=mask)` paints; `plain` (bool) is the plate's fill, to be
        painted without grain (camfx.models.style.Stylizer.stylize)."""
        hidden = self.plate.hidden
        if hidden is not None and hidden.shape == mask.shape:
            dx, dy = self.motion.between(image, ~hidden & (mask < 0.5))
            x, y = self.offset[0] + dx, self.offset[1] + dy
            whole_x, whole_y = round(x), round(y)
            if whole_x or whole_y:
                self.plate.shift(whole_x, whole_y)
                self.painting.shift(whole_x, whole_y)
            self.offset = (x - whole_x, y - whole_y)
        else:
            self.motion.between(image, np.zeros(mask.shape, bool))  # remember the frame
        changed = self.plate.update(image, mask)

        def paint(picture: np.ndarray) -> np.ndarray:
            # The fill where the room was never seen is painted without the grain that
            # gives flat walls brush strokes (camfx.models.style.FlatGrain): grained, the
            # person's outline stood out more (ghost ratio 1.65 against 1.44, 1.46 without).
            return stylize(picture, plain=self.plate.unseen)

        return self.painting.paint(
            self.plate.picture, changed, paint, key, self.plate.edge, self.plate.held
        )
