"""The effects camfx ships, one class each, in the order the ``e`` key steps through them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

from camfx.core.effects.backdrops import PictureBackdrop, VideoBackdrop
from camfx.core.effects.base import EffectKind, register_effect
from camfx.errors import CamfxError

if TYPE_CHECKING:
    from camfx.core.effects.runner import Effect, EffectSettings


@register_effect
class StyleEffect(EffectKind):
    """Paint in the stylizer's style. Behind the person the painting is steady:
    repainted only where the room changed (:mod:`camfx.vision.steady`), unless the
    stream was made with ``steady=False``."""

    name = "style"
    help = "paints it in the style (--style, --strength)"

    def __init__(self, stream: Effect) -> None:
        super().__init__(stream)
        self._full: tuple | None = None  # (small painting, offset, at full size)

    def paint(self, image: np.ndarray, mask: np.ndarray, settings: EffectSettings) -> np.ndarray:
        stream, s = self.stream, settings
        stylizer = stream.stylizer
        size = (stylizer.width, stylizer.height)
        small, small_mask = stream.shrunk(image, mask, size)  # from their half sizes
        full = (image.shape[1], image.shape[0])
        style = s.style or stylizer.style  # read once from this frame's snapshot

        def paint(source: np.ndarray, plain: np.ndarray | None = None) -> np.ndarray:
            bottleneck = style.bottleneck
            if s.strength < 1.0 and stream.predictor is not None:
                content = stream.predictor.bottleneck(small)
                bottleneck = s.strength * bottleneck + (1 - s.strength) * content
            return stylizer.stylize(source, bottleneck, plain)

        if not (stream.steady and s.target == "background"):
            source = stream.source(small, small_mask, s.target)
            # The plate's smooth fill (never-seen background) gets no grain: grained,
            # it painted a stronger ghost of the person (see camfx.models.style.FlatGrain).
            plain = stream.plate.unseen if s.target == "background" else None
            painted = paint(source, plain)
            return cv2.resize(painted, full, interpolation=cv2.INTER_CUBIC)
        key = (id(stylizer), style.name, s.strength)
        painted, _ = stream.painting.update(small, small_mask, paint, key)
        offset = stream.painting.offset
        # Unchanged painting: the same full-size picture, scaled once.
        cached = self._full
        if (
            cached is None
            or cached[0] is not painted
            or cached[1] != offset
            or cached[2].shape[1::-1] != full
        ):
            self._full = (painted, offset, _scaled(painted, full, offset))
        return self._full[2]


@register_effect
class BlurEffect(EffectKind):
    name = "blur"
    help = "blurs it (--blur)"

    def paint(self, image: np.ndarray, mask: np.ndarray, settings: EffectSettings) -> np.ndarray:
        # Blur at a quarter of the size: the same look for a fraction of the cost.
        size = (max(1, image.shape[1] // 4), max(1, image.shape[0] // 4))
        small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        small_mask = cv2.resize(mask, size, interpolation=cv2.INTER_AREA)
        source = self.stream.source(small, small_mask, settings.target)
        sigma = max(0.1, settings.blur * image.shape[0] / 720 / 4)
        blurred = cv2.GaussianBlur(source, (0, 0), sigma)
        return cv2.resize(blurred, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)


class BackdropEffect(EffectKind):
    """Show the stream's backdrop (the --background file), covering the frame."""

    def paint(self, image: np.ndarray, mask: np.ndarray, settings: EffectSettings) -> np.ndarray:
        if self.stream.backdrop is None:
            raise CamfxError(f"the {self.name} effect needs --background FILE")
        return self.stream.backdrop.picture((image.shape[1], image.shape[0]))


@register_effect
class ImageEffect(BackdropEffect):
    name = "image"
    help = "shows the --background picture"
    backdrop = PictureBackdrop


@register_effect
class VideoEffect(BackdropEffect):
    name = "video"
    help = "shows the --background clip, looped at its own rate"
    backdrop = VideoBackdrop


@register_effect
class ColorEffect(EffectKind):
    name = "color"
    help = "fills it with one colour (--color)"

    def __init__(self, stream: Effect) -> None:
        super().__init__(stream)
        self._solid: np.ndarray | None = None

    def paint(self, image: np.ndarray, mask: np.ndarray, settings: EffectSettings) -> np.ndarray:
        solid = self._solid
        if solid is None or solid.shape != image.shape or tuple(solid[0, 0]) != settings.color:
            self._solid = np.full_like(image, settings.color)  # made once, not every frame
        return self._solid


@register_effect
class NoEffect(EffectKind):
    """The frame as it is; the mask is still computed (e.g. for --matte)."""

    name = "none"
    help = "leaves the frame as it is (the mask is still made, e.g. for --matte)"
    composited = False

    def paint(self, image: np.ndarray, mask: np.ndarray, settings: EffectSettings) -> np.ndarray:
        return image


def _scaled(painting: np.ndarray, size: tuple[int, int], offset: tuple[float, float]) -> np.ndarray:
    """The painting scaled to `size` (bicubic), moved by `offset` px of its own size: the
    part of a pixel the camera moved that the painting has not (camfx.vision.steady)."""
    if offset == (0.0, 0.0):
        return cv2.resize(painting, size, interpolation=cv2.INTER_CUBIC)
    sx, sy = size[0] / painting.shape[1], size[1] / painting.shape[0]
    # cv2.resize's pixel centres, shifted: x_out = sx * (x_in + dx) + (sx - 1) / 2
    matrix = np.float32(
        [[sx, 0, sx * offset[0] + (sx - 1) / 2], [0, sy, sy * offset[1] + (sy - 1) / 2]]
    )
    return cv2.warpAffine(
        painting, matrix, size, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
