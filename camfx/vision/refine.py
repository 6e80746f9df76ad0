"""From a segmenter's low-resolution person probability to the mask that is composited.

Steps, each a setting of :class:`MaskSettings` (cheap ones at the model's
resolution, the rest at the frame's):

1. removal of small stray blobs — keeps every person-sized region;
2. a colour model — where the model is unsure, the frame's own colours of the
   person and of the background around them decide (see :class:`ColourModel`);
   then a region appearing from nowhere in settled background must earn being
   person (:mod:`.persistence`);
3. threshold and softness of the edge;
4. temporal smoothing — steadies a still person, follows a moving one;
5. an edge refinement guided by the frame itself (a fast guided filter), so
   hair and shoulders follow the picture rather than the model's grid;
6. grow or shrink by a number of pixels, and scaling to the frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from camfx.vision.exposure import brightness_range
from camfx.vision.imaging import region_outlines, shrink
from camfx.vision.persistence import Persistence
from camfx.vision.repeats import RepeatWatch


@dataclass(frozen=True)
class MaskSettings:
    threshold: float = 0.5  # probability at the middle of the edge
    softness: float = 0.5  # width of the edge ramp, in probability (0: a hard edge)
    grow: int = 0  # pixels at the frame's size; negative shrinks
    smoothing: float = 0.7  # temporal smoothing of a still mask, 0 (off) to <1
    guided: bool = True  # refine the edge with a guided filter on the frame
    guided_radius: int = 12  # pixels of a 720p frame (scaled for smaller ones)
    guided_eps: float = 0.01  # lower follows image edges more closely (see exposure_eps)
    min_blob: float = 0.003  # drop blobs smaller than this fraction of the frame (0: off)
    colour: bool = True  # let the frame's person/background colours decide unsure pixels
    persistence: bool = True  # a region appearing far from anyone must persist to show

    def __post_init__(self) -> None:
        if not 0.0 <= self.smoothing < 1.0:
            raise ValueError("mask smoothing must be in [0, 1)")
        if not 0.0 < self.threshold < 1.0:
            raise ValueError("mask threshold must be between 0 and 1")
        if self.softness < 0.0:
            raise ValueError("mask softness must be >= 0")


RAW = MaskSettings(softness=1.0, smoothing=0.0, guided=False, min_blob=0.0, colour=False,
                   persistence=False)
"""No refinement: the model's probability, only upscaled."""

_MOTION = 0.3  # a change of mask value this large counts as motion, not noise
_WORK_SCALE = 2  # refinement runs at 1/2 of the frame's width and height
_REFERENCE_SIDE = 720  # guided filter settings are in pixels of a 720p frame
_GUIDED_SUBSAMPLE = 2  # the guided filter fits its model on a grid of this step
_MIN_SPAN = 0.05  # of the brightness range: a black frame's eps stays above 0


class MaskRefiner:
    """Turns successive probability maps into masks. Keeps state: one per video stream."""

    def __init__(self, settings: MaskSettings | None = None) -> None:
        self.settings = settings or MaskSettings()
        self._previous: np.ndarray | None = None
        self._colours = ColourModel()
        self.persistence = Persistence()
        self._repeat = RepeatWatch()
        self._last: tuple[np.ndarray, np.ndarray] | None = None  # (probability, mask)
        self.work_mask: np.ndarray | None = None  # the last mask at half size (see refine)

    def reset(self) -> None:
        self._previous = None
        self._colours = ColourModel()
        self.persistence.reset()
        self._repeat, self._last, self.work_mask = RepeatWatch(), None, None

    @property
    def uses_frame(self) -> bool:
        """Whether refining looks at the frame (at half size: see refine's `half`)."""
        return self.settings.guided or self.settings.colour

    def refine(
        self, frame_bgr: np.ndarray, probability: np.ndarray, half: np.ndarray | None = None
    ) -> np.ndarray:
        """A float32 mask in [0, 1] of the frame's size (the same array again when the
        frame repeats the last one and so does its probability: nothing to redo).

        `half`: the frame at half size (imaging.halve), when the caller has it: the
        refinement works at that size and is spared a pass over the full-size frame.
        Afterwards ``work_mask`` is the mask at that size, the one scaled up (bilinear)
        to the returned mask: what shrinks it (imaging.shrink) or tells where it is 0
        or 1 (compositing.composite) for a quarter of the reading.
        """
        repeated = self._repeat.repeats(frame_bgr)
        if repeated and self._last is not None and self._last[0] is probability:
            return self._last[1]
        mask = self._refined(frame_bgr, probability, half)
        self._last = (probability, mask)
        return mask

    def _refined(
        self, frame_bgr: np.ndarray, probability: np.ndarray, half: np.ndarray | None
    ) -> np.ndarray:
        s = self.settings
        # The guided filter and the temporal smoothing work at half the frame's
        # size: fine enough for hair, a quarter of the pixels, and the guide's
        # camera noise is averaged down (it would otherwise flicker the edges).
        frame_h, frame_w = frame_bgr.shape[:2]
        work = (max(1, frame_w // _WORK_SCALE), max(1, frame_h // _WORK_SCALE))
        guide = None
        if self.uses_frame:
            guide = shrink(frame_bgr, work, half)  # = half, made here when not given
        prob = probability
        if s.min_blob > 0:
            prob = remove_small_blobs(prob, s.threshold, s.min_blob)
        if guide is not None and s.colour:
            prob = self._colours.weigh(guide, prob)
        if s.persistence:  # after the colours: they can raise an unsure region too
            prob = self.persistence.admit(prob, s.threshold)
        mask = edge_ramp(prob, s.threshold, s.softness)
        mask = cv2.resize(mask, work, interpolation=cv2.INTER_LINEAR)
        if guide is not None and s.guided:
            radius = guided_radius_at(s.guided_radius, frame_w, frame_h) // _WORK_SCALE
            eps = exposure_eps(guide, s.guided_eps)
            mask = refine_edge(guide, mask, max(1, radius), eps)
        if s.smoothing > 0:
            mask = self._smooth_in_time(mask)
        if s.grow:
            mask = grow_mask(mask, round(s.grow / _WORK_SCALE) or (1 if s.grow > 0 else -1))
        self.work_mask = mask
        return cv2.resize(mask, (frame_w, frame_h), interpolation=cv2.INTER_LINEAR)

    def _smooth_in_time(self, mask: np.ndarray) -> np.ndarray:
        previous = self._previous
        if previous is None or previous.shape != mask.shape:
            self._previous = mask.copy()
            return mask
        # Small changes are noise: blend them in slowly. Large ones are motion:
        # follow at once, so a moving person does not leave a smear.
        still_rate = np.float32(1.0 - self.settings.smoothing)
        step = np.subtract(mask, previous)  # in place from here: no temporaries
        rate = np.abs(step)
        rate *= (1 - still_rate) / _MOTION
        rate += still_rate
        np.minimum(rate, np.float32(1.0), out=rate)
        step *= rate
        step += previous  # previous + rate * (mask - previous)
        self._previous = step
        return step


class ColourModel:
    """The colours of this stream's person and of the background around them, deciding
    where the segmenter is unsure.

    Where the model is sure (probability above 0.95 or below 0.05, eroded) its pixels
    sample two colour histograms: the person, and the background within reach of the
    person (a band, not the whole frame: what matters is what the edge runs into).
    Every pixel's log-odds then gain the log-likelihood ratio of its colour under the
    two, clipped to +-4: a pixel the model is sure of keeps its side, one it hesitates
    over goes with its colour (a shoulder the model half lost against a busy painting
    comes back; dark brushwork it half took for hair goes). The histograms carry over
    from frame to frame with a memory of about ten frames, so a moment of doubt doesn't
    flip their statistics. The same idea as GrabCut's colour models, without its
    graph cut: measured on the chroma-keyed clips (README) it lifts DeepLab's IoU
    from 0.92 to 0.98 and the selfie models' from 0.97 to 0.98, for about 1 ms.
    """

    BITS = 4  # per channel: 16 levels of each, 4096 colours
    SURE = 0.95
    CLIP = 4.0  # logits: the most a colour can move a pixel
    # Weight of the earlier frames' histograms: about the last ten frames count (a third
    # of a second at 30 fps). At 0.5 (two frames) a guitar held at a desk, its wood
    # learnt as person on a frame the model was sure of it and forgotten two frames
    # later, went in and out of the mask: 13 jumps in 600 frames, 1 at 0.9.
    MEMORY = 0.9
    BAND = 0.12  # of the map's short side: the background sampled around the person
    MIN_SAMPLES = 100  # pixels on each side; fewer (nobody there) and nothing changes

    def __init__(self) -> None:
        self._person: np.ndarray | None = None
        self._background: np.ndarray | None = None

    def weigh(self, frame_bgr: np.ndarray, prob: np.ndarray) -> np.ndarray:
        """`prob` (a map of any size over the whole frame) weighed by the frame's colours."""
        h, w = prob.shape
        colours = colour_indices(shrink(frame_bgr, (w, h)), self.BITS)
        person_hist, background_hist = self._learn(colours, prob)
        if person_hist.sum() < self.MIN_SAMPLES or background_hist.sum() < self.MIN_SAMPLES:
            return prob
        person = (person_hist + 1) / (person_hist.sum() + person_hist.size)
        background = (background_hist + 1) / (background_hist.sum() + background_hist.size)
        ratio = np.exp(np.clip(np.log(person / background), -self.CLIP, self.CLIP))
        # The last colour, the top level of b, g and r (240-255 each), says nothing
        # either way: an overexposed frame clips a white shirt and a sunlit street to
        # the same white, and a street corner came in as her shirt (README: Camera
        # conditions). Well-exposed footage measured the same either way.
        ratio[-1] = 1.0
        weighted = prob * np.take(ratio.astype(np.float32), colours)  # twice [colours]'s speed
        # odds(p) * ratio, back to a probability
        return (weighted / (weighted + (1.0 - prob))).astype(np.float32)

    def _learn(self, colours: np.ndarray, prob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h, w = prob.shape
        kernel = np.ones((5, 5), np.uint8)  # away from the edge, where the sure side is sure
        person = cv2.erode((prob > self.SURE).astype(np.uint8), kernel)
        reach = 2 * max(1, round(self.BAND * min(h, w))) + 1
        near = cv2.dilate((prob > 0.5).astype(np.uint8), np.ones((reach, reach), np.uint8))
        background = cv2.erode((prob < 1.0 - self.SURE).astype(np.uint8), kernel) & near
        size = 1 << (3 * self.BITS)
        person_hist = np.bincount(colours[person.astype(bool)], minlength=size).astype(np.float32)
        background_hist = np.bincount(
            colours[background.astype(bool)], minlength=size
        ).astype(np.float32)
        if self._person is not None and self._background is not None:
            person_hist += self.MEMORY * self._person
            background_hist += self.MEMORY * self._background
        self._person, self._background = person_hist, background_hist
        return person_hist, background_hist


def colour_indices(bgr: np.ndarray, bits: int) -> np.ndarray:
    """Each pixel's colour as one histogram bin: the top `bits` of b, g and r (uint16:
    a quarter of the memory traffic of machine-sized integers)."""
    b, g, r = cv2.split(np.right_shift(bgr, 8 - bits))
    index = b.astype(np.uint16) << (2 * bits)
    index |= g.astype(np.uint16) << bits
    index |= r
    return index


def guided_radius_at(radius: int, frame_w: int, frame_h: int) -> int:
    """The guided filter's radius for a frame: settings are for 720p (its short side),
    scaled with the picture so a small video's face is not all within reach of an edge."""
    return max(1, round(radius * min(frame_w, frame_h, _REFERENCE_SIDE) / _REFERENCE_SIDE))


def exposure_eps(frame_bgr: np.ndarray, eps: float) -> float:
    """The guided filter's `eps` for this frame: `eps` holds for a frame whose brightness
    spans the whole range, and scales with the square of the frame's own span (1st to
    99th percentile of a sparse grid of its pixels).

    The filter weighs `eps` against the guide's local variance: a frame at a quarter of
    the exposure has a sixteenth of it, and the same `eps` smoothed its edges away (the
    real stills two stops under: boundary F 0.866 -> 0.798, halo 0.032 -> 0.048). Scaled,
    the edge the filter finds no longer depends on the exposure.
    """
    low, high = brightness_range(frame_bgr)
    span = max(_MIN_SPAN, (high - low) / 255.0)  # a numpy float64 here made the filter float64
    return eps * span * span


def refine_edge(frame_bgr: np.ndarray, coarse: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """The guided filter's mask (:func:`guided_filter`) near the edge of `coarse`,
    `coarse` farther in or out than `radius`: see :func:`edge_only`.

    The filter runs only over the box around that edge zone, with room for its reach
    (two box means and the upscaling, at the fit's scale): inside it, the same values
    as a run over the whole frame, bit for bit; outside it, `coarse` is 0 or 1 and
    stays. A person at a webcam's framing crosses about half of the frame: 5.3 -> 3.5
    ms a 720p frame.
    """
    inside, outside = _sure_sides(coarse, radius)
    zone = cv2.boundingRect(1 - (inside | outside))  # (x, y, w, h) of the edge zone
    if zone[2] == 0 or zone[3] == 0:
        return coarse.copy()
    subsample = _GUIDED_SUBSAMPLE
    reach = subsample * (2 * max(1, radius // subsample) + 3)
    height, width = coarse.shape
    x0, x1 = _span(zone[0], zone[0] + zone[2], reach, width, subsample)
    y0, y1 = _span(zone[1], zone[1] + zone[3], reach, height, subsample)
    refined = coarse.copy()
    refined[y0:y1, x0:x1] = guided_filter(frame_bgr[y0:y1, x0:x1], coarse[y0:y1, x0:x1],
                                          radius, eps, subsample)
    return _kept_sure(refined, inside, outside)


def _span(start: int, end: int, reach: int, length: int, step: int) -> tuple[int, int]:
    """[start, end) widened by `reach` on both sides, within [0, length), on whole steps
    of the fit's grid so its pixels are the whole map's. A length that is not a whole
    number of steps is fitted at another scale than any part of it: all of it, then."""
    if length % step:
        return 0, length
    first = max(0, (start - reach) // step * step)
    return first, min(length, first + -(-(end + reach - first) // step) * step)


def edge_only(coarse: np.ndarray, refined: np.ndarray, radius: int) -> np.ndarray:
    """`refined` (in [0, 1]) near the edge of `coarse`, `coarse` farther in or out than
    `radius`.

    The guided filter lets the picture move the mask's edge, but inside the person,
    within its reach of an edge, it also prints the picture into the mask: eyes and
    nostrils came out half transparent, painted over. Where the coarse mask is sure
    (0 or 1) farther than the radius from any doubt, it stays as it is.
    """
    return _kept_sure(refined, *_sure_sides(coarse, radius))


def _sure_sides(coarse: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """uint8 maps (0/1) of where `coarse` is 1, and where 0, farther than `radius`
    from any other value."""
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * radius + 1,) * 2)
    return (cv2.erode((coarse > 0.99).astype(np.uint8), kernel),
            cv2.erode((coarse < 0.01).astype(np.uint8), kernel))


def _kept_sure(refined: np.ndarray, inside: np.ndarray, outside: np.ndarray) -> np.ndarray:
    # refined[inside] = 1, refined[outside] = 0 for `refined` in [0, 1], as a maximum
    # and a minimum: numpy's boolean indexing cost 0.3-0.9 ms a frame at 640x360.
    cv2.max(refined, inside.astype(np.float32), dst=refined)
    cv2.min(refined, (1 - outside).astype(np.float32), dst=refined)
    return refined


def edge_ramp(prob: np.ndarray, threshold: float, softness: float) -> np.ndarray:
    """Map probability to mask: 0 below the edge, 1 above, a linear ramp `softness` wide."""
    if softness < 1e-6:  # narrower than float32 can ramp: a hard edge
        return (prob > threshold).astype(np.float32)
    ramp = (prob - threshold) * (1.0 / softness) + 0.5
    return np.clip(ramp, 0.0, 1.0).astype(np.float32)


def remove_small_blobs(prob: np.ndarray, threshold: float, min_fraction: float) -> np.ndarray:
    """Zero the probability in person regions smaller than `min_fraction` of the map
    (the largest region stays, however small: it is the person)."""
    person = (prob > threshold).astype(np.uint8)
    outlines = region_outlines(person)
    if len(outlines) <= 1:  # the common case
        return prob
    # Sized by their outlines (the area inside each border): a fifth of the cost of
    # labelling them with their pixel counts, 1.35 against 0.25 ms a 455x256 map on a
    # slow day, and on the real clips' maps 5 pixels in 123 maps different.
    areas = [cv2.contourArea(outline) for outline in outlines]
    largest = int(np.argmax(areas))
    limit = min_fraction * prob.size
    small = [o for i, (o, a) in enumerate(zip(outlines, areas, strict=True))
             if a < limit and i != largest]
    if not small:
        return prob
    stray = np.zeros(person.shape, np.uint8)
    cv2.drawContours(stray, small, -1, 1, thickness=cv2.FILLED)
    # Also clear the blob's soft rim: dilate the blobs a little before zeroing.
    stray = cv2.dilate(stray, np.ones((3, 3), np.uint8))
    out = prob.copy()
    np.copyto(out, np.float32(0.0), where=stray.view(bool))
    return out


def guided_filter(
    frame_bgr: np.ndarray, mask: np.ndarray, radius: int, eps: float,
    subsample: int = _GUIDED_SUBSAMPLE,
) -> np.ndarray:
    """Fast guided filter (He & Sun 2015) with the frame's colour as the guide.

    The local linear model mask ~ a . (b, g, r) + c is fitted on a subsampled grid
    and applied at full resolution: edges of the mask snap to edges in the
    picture at a fraction of the cost of the full-resolution filter. A colour
    guide (rather than luminance) also finds the edge between a person and a
    background of the same brightness but another hue.
    """
    h, w = mask.shape
    small = (max(1, w // subsample), max(1, h // subsample))
    guide_s = cv2.split(cv2.resize(frame_bgr, small, interpolation=cv2.INTER_AREA))
    guide_s = [c.astype(np.float32) * (1.0 / 255.0) for c in guide_s]
    mask_s = cv2.resize(mask, small, interpolation=cv2.INTER_AREA)
    box = (2 * max(1, radius // subsample) + 1,) * 2

    def mean(x: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(x, -1, box, borderType=cv2.BORDER_REFLECT)

    mean_i = [mean(c) for c in guide_s]
    mean_p = mean(mask_s)
    cov_ip = [mean(c * mask_s) - m * mean_p for c, m in zip(guide_s, mean_i, strict=True)]

    def covariance(i: int, j: int) -> np.ndarray:
        return mean(guide_s[i] * guide_s[j]) - mean_i[i] * mean_i[j] + (eps if i == j else 0.0)

    # The guide's 3x3 covariance per pixel, regularized by eps; symmetric: 6 of 9 terms.
    upper = {(i, j): covariance(i, j) for i in range(3) for j in range(i, 3)}
    sigma = [[upper[min(i, j), max(i, j)] for j in range(3)] for i in range(3)]
    a = _solve_symmetric_3x3(sigma, cov_ip)
    b = mean_p - a[0] * mean_i[0] - a[1] * mean_i[1] - a[2] * mean_i[2]

    def full(x: np.ndarray) -> np.ndarray:
        return cv2.resize(mean(x), (w, h), interpolation=cv2.INTER_LINEAR)

    refined = full(b)
    # The 1/255 of the guide goes into a at the small size; the frame stays uint8.
    for channel, a_c in zip(cv2.split(frame_bgr), a, strict=True):
        refined += full(a_c * np.float32(1.0 / 255.0)) * channel
    return np.clip(refined, 0.0, 1.0, out=refined)


def _solve_symmetric_3x3(m: list[list[np.ndarray]], v: list[np.ndarray]) -> list[np.ndarray]:
    """x = m^-1 v for a symmetric 3x3 matrix per pixel, by cofactors (much faster than
    numpy's batched solve on this many small systems)."""
    c00 = m[1][1] * m[2][2] - m[1][2] * m[1][2]
    c01 = m[1][2] * m[0][2] - m[0][1] * m[2][2]
    c02 = m[0][1] * m[1][2] - m[1][1] * m[0][2]
    c11 = m[0][0] * m[2][2] - m[0][2] * m[0][2]
    c12 = m[0][2] * m[0][1] - m[0][0] * m[1][2]
    c22 = m[0][0] * m[1][1] - m[0][1] * m[0][1]
    det = m[0][0] * c00 + m[0][1] * c01 + m[0][2] * c02
    inv_det = 1.0 / det  # eps > 0 keeps the matrix positive definite
    return [
        (c00 * v[0] + c01 * v[1] + c02 * v[2]) * inv_det,
        (c01 * v[0] + c11 * v[1] + c12 * v[2]) * inv_det,
        (c02 * v[0] + c12 * v[1] + c22 * v[2]) * inv_det,
    ]


def grow_mask(mask: np.ndarray, pixels: int) -> np.ndarray:
    """Grow (positive) or shrink (negative) a soft mask by a number of pixels."""
    size = 2 * abs(pixels) + 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    return cv2.dilate(mask, kernel) if pixels > 0 else cv2.erode(mask, kernel)
