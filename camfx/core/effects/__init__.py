"""Effects: what camfx shows where it applies, one class per effect, and the runner.

* :mod:`~camfx.core.effects.base`: the extension point, :class:`EffectKind`, and the
  registry (:func:`register_effect`, ``EFFECT_KINDS``, ``EFFECTS``).
* :mod:`~camfx.core.effects.builtin`: the effects camfx ships (style, blur, image,
  video, color, none).
* :mod:`~camfx.core.effects.backdrops`: the files the image and video effects show.
* :mod:`~camfx.core.effects.runner`: :class:`Effect`, the per-frame work the pipeline
  calls, and :class:`EffectSettings`, the frozen snapshot it reads each frame.
"""

from camfx.core.effects import builtin  # the effects camfx ships register on import
from camfx.core.effects.backdrops import Backdrop, PictureBackdrop, VideoBackdrop
from camfx.core.effects.base import (
    EFFECT_KINDS,
    EFFECTS,
    EffectKind,
    register_effect,
    unregister_effect,
)
from camfx.core.effects.runner import TARGETS, Effect, EffectSettings

__all__ = [
    "EFFECTS",
    "EFFECT_KINDS",
    "TARGETS",
    "Backdrop",
    "Effect",
    "EffectKind",
    "EffectSettings",
    "PictureBackdrop",
    "VideoBackdrop",
    "builtin",
    "register_effect",
    "unregister_effect",
]
