"""The effect extension point: one small class per effect, and the registry of them.

An effect decides what shows where it applies (behind the person, on the person, or
everywhere: the target is not its business). To add one, write a subclass of
:class:`EffectKind` and decorate it with :func:`register_effect`::

    @register_effect
    class NegativeEffect(EffectKind):
        name = "negative"
        help = "shows it in negative"

        def paint(self, image, mask, settings):
            return 255 - image

The registry is the one list of effects: ``--effect``'s choices and help, the config
file's check, :class:`~camfx.core.effects.runner.EffectSettings`, the ``e`` key and
the help card all read it when they are used, so nothing else needs editing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, ClassVar, TypeVar

import numpy as np

from camfx.core.effects.backdrops import Backdrop

if TYPE_CHECKING:  # the runner imports this module: only for the type
    from camfx.core.effects.runner import Effect, EffectSettings


class EffectKind(ABC):
    """One effect: the picture to show where the effect applies, frame by frame.

    The runner (:class:`~camfx.core.effects.runner.Effect`) makes one instance per
    stream, the first time the effect is used, and keeps it while the user switches
    between effects; so an effect may keep state from frame to frame (a cache, a
    painting). ``paint`` is called from one thread at a time, in frame order.
    """

    name: ClassVar[str]  # what --effect, the config file and the help card call it
    help: ClassVar[str]  # a few words for `camfx --help`: what it shows, e.g. "blurs it"
    # A backdrop effect shows a file (--background FILE): the class that opens it. The
    # session opens it before the run starts; the effect is offered while running only
    # when the stream has a backdrop of this class.
    backdrop: ClassVar[type[Backdrop] | None] = None
    # False: the picture is the whole result as it is (no compositing with the frame).
    composited: ClassVar[bool] = True

    def __init__(self, stream: Effect) -> None:
        # The stream's runner: its models (stylizer, predictor), backdrop, clean plate.
        self.stream = stream

    @classmethod
    def available(cls, stream: Effect) -> bool:
        """Whether `stream` can switch to this effect (a backdrop effect needs its file)."""
        return cls.backdrop is None or isinstance(stream.backdrop, cls.backdrop)

    @abstractmethod
    def paint(self, image: np.ndarray, mask: np.ndarray, settings: EffectSettings) -> np.ndarray:
        """The effect's picture for `image` (BGR uint8), at its size.

        `mask` is the person (float32, 0..1, the image's height and width);
        `settings` the snapshot for this frame (its target, strength, blur, colour).
        The picture may be reused by the next call (cached): callers only read it.
        """


EFFECT_KINDS: dict[str, type[EffectKind]] = {}  # name -> class, in registration order

Kind = TypeVar("Kind", bound=type[EffectKind])


def register_effect(kind: Kind) -> Kind:
    """Class decorator: offer `kind` as an effect under its ``name``."""
    name = getattr(kind, "name", "")
    if not name or not getattr(kind, "help", ""):
        raise ValueError(f"{kind.__name__}: an effect needs a name and a help text")
    if EFFECT_KINDS.get(name, kind) is not kind:
        raise ValueError(f"effect '{name}' is already registered ({EFFECT_KINDS[name].__name__})")
    EFFECT_KINDS[name] = kind
    return kind


def unregister_effect(name: str) -> None:
    """Withdraw the effect called `name` (a plugin unloaded; a test's toy effect)."""
    del EFFECT_KINDS[name]


class _Names(Sequence[str]):
    """The registered effects' names, read at each use: choices made from it at import
    (the options table's) still see effects registered later."""

    def __getitem__(self, index):  # type: ignore[override]
        return tuple(EFFECT_KINDS)[index]

    def __len__(self) -> int:
        return len(EFFECT_KINDS)

    def __iter__(self) -> Iterator[str]:
        return iter(tuple(EFFECT_KINDS))

    def __contains__(self, name: object) -> bool:
        return name in EFFECT_KINDS

    def __repr__(self) -> str:
        return repr(tuple(EFFECT_KINDS))


EFFECTS: Sequence[str] = _Names()
