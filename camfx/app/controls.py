"""Live controls: what each key does to the running effect, and what the overlay says.

No window code here: the window reports key names (pygame's, e.g. "right", "e",
"space", "+"), :meth:`Controls.handle` changes the effect's settings or the view,
and returns the few actions that need the app (quit, fullscreen, recording,
snapshot).
"""

from __future__ import annotations

import time
from dataclasses import replace

import cv2
import numpy as np

from camfx.core.effects import EFFECTS, TARGETS, Effect
from camfx.models.style import Style


def help_card() -> tuple[tuple[str, str], ...]:
    """The help card (`h`): a title, then each key and what it does. Made when shown,
    so the effects listed are the ones registered now (camfx.core.effects.base)."""
    return (
        ("camfx keys", ""),
        ("q, Esc", "quit"),
        ("left / right, p / n", "previous / next style"),
        ("1-9", "pick one of the first nine styles"),
        ("e", "next effect (" + ", ".join(EFFECTS) + ")"),
        ("t", "next target (" + ", ".join(TARGETS) + ")"),
        ("+ / -", "more / less style"),
        ("m", "show the person mask"),
        ("space", "pause"),
        ("r", "start / stop recording"),
        ("s", "save a snapshot (PNG)"),
        ("f", "fullscreen"),
        ("h", "this help"),
    )


APP_ACTIONS = ("quit", "fullscreen", "record", "snapshot")
MESSAGE_SECONDS = 2.5
STRENGTH_STEP = 0.1


class Controls:
    """Keys -> changes. Called from the app's (window's) thread only."""

    def __init__(self, effect: Effect, styles: list[Style]) -> None:
        self.effect = effect
        self.styles = styles
        self.paused = False
        self.show_mask = False
        self.show_help = False
        self._message = ""
        self._message_until = 0.0

    def handle(self, key: str) -> str | None:
        """Apply one key; return an app action from APP_ACTIONS, or None."""
        key = {
            "escape": "quit",
            "q": "quit",
            "n": "right",
            "p": "left",
            "=": "+",
            "[+]": "+",
            "[-]": "-",
        }.get(key, key)
        if key == "quit":
            return "quit"
        if key in ("f", "r", "s"):
            return {"f": "fullscreen", "r": "record", "s": "snapshot"}[key]
        if key in ("left", "right"):
            self._step_style(1 if key == "right" else -1)
        elif key.isdigit() and key != "0":
            self._pick_style(int(key) - 1)
        elif key == "e":
            self._set(effect=_next(self.effect.available_effects(), self.effect.settings.effect))
        elif key == "t":
            self._set(target=_next(TARGETS, self.effect.settings.target))
        elif key in ("+", "-"):
            step = STRENGTH_STEP if key == "+" else -STRENGTH_STEP
            strength = round(min(1.0, max(0.0, self.effect.settings.strength + step)), 2)
            self._set(strength=strength)
        elif key == "m":
            self.show_mask = not self.show_mask
            self.say("mask view" if self.show_mask else "effect view")
        elif key == "space":
            self.paused = not self.paused
            self.say("paused" if self.paused else "playing")
        elif key == "h":
            self.show_help = not self.show_help
        return None

    def say(self, text: str) -> None:
        """Show `text` in the overlay for a moment."""
        self._message, self._message_until = text, time.monotonic() + MESSAGE_SECONDS

    def message(self) -> str | None:
        return self._message if time.monotonic() < self._message_until else None

    def status(self) -> str:
        s = self.effect.settings
        label = self.effect.style.label if s.effect == "style" else s.effect
        strength = f" {s.strength:.0%}" if s.effect == "style" and s.strength < 1 else ""
        return f"{label}{strength} | effect {s.effect} | target {s.target}"

    def view(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """What the window shows: the result, or the mask when asked."""
        if not self.show_mask:
            return image
        return cv2.cvtColor(cv2.convertScaleAbs(mask, alpha=255.0), cv2.COLOR_GRAY2BGR)

    def help_lines(self) -> list[str]:
        return [f"{keys:<20} {what}".rstrip() for keys, what in help_card()]

    def _set(self, **changes: object) -> None:
        # A new frozen object: the worker threads see either the old or the new one.
        self.effect.settings = replace(self.effect.settings, **changes)
        self.say(self.status())

    def _step_style(self, step: int) -> None:
        names = [s.name for s in self.styles]
        current = self.effect.style.name
        index = names.index(current) + step if current in names else 0
        self._pick_style(index % len(self.styles))

    def _pick_style(self, index: int) -> None:
        if not 0 <= index < len(self.styles):
            return
        self._set(effect="style", style=self.styles[index])  # in the snapshot workers read


def _next(options: tuple[str, ...], current: str) -> str:
    return options[(options.index(current) + 1) % len(options)]
