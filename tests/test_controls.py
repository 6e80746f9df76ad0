"""What each key does to a running effect (the window's side is in test_window.py)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from camfx.app.controls import Controls, help_card
from camfx.core.effects import Effect, EffectSettings, PictureBackdrop
from camfx.models.segmentation import create_segmenter
from camfx.models.style import bundled_styles, create_stylizer
from tests.conftest import SHARED


@pytest.fixture
def controls():
    styles = list(bundled_styles().values())
    effect = Effect(
        create_segmenter("selfie", device="cpu"),
        create_stylizer(styles[0], device="cpu"),
        backdrop=PictureBackdrop(SHARED / "styles" / "style24.jpg"),
    )
    return Controls(effect, styles)


def test_arrows_and_n_p_step_through_the_styles(controls):
    names = [s.name for s in controls.styles]
    assert controls.effect.style.name == names[0]
    controls.handle("right")
    assert controls.effect.style.name == names[1]
    controls.handle("n")
    controls.handle("p")
    controls.handle("left")
    assert controls.effect.style.name == names[0]
    controls.handle("left")  # wraps around
    assert controls.effect.style.name == names[-1]
    assert names[-1] in controls.message() or controls.styles[-1].label in controls.message()


def test_digits_pick_a_style_and_switch_back_to_the_style_effect(controls):
    controls.effect.settings = EffectSettings(effect="blur")
    controls.handle("3")
    assert controls.effect.style.name == controls.styles[2].name
    assert controls.effect.settings.effect == "style"
    controls.handle("0")  # not a style slot: nothing changes
    assert controls.effect.style.name == controls.styles[2].name


def test_e_and_t_cycle_effects_and_targets(controls):
    seen = [controls.effect.settings.effect]
    for _ in range(6):
        controls.handle("e")
        seen.append(controls.effect.settings.effect)
    # With a picture backdrop and no clip, 'video' is skipped.
    assert seen == ["style", "blur", "image", "color", "none", "style", "blur"]
    targets = []
    for _ in range(3):
        controls.handle("t")
        targets.append(controls.effect.settings.target)
    assert targets == ["person", "all", "background"]


def test_plus_and_minus_change_strength_within_bounds(controls):
    controls.handle("-")
    controls.handle("-")
    assert controls.effect.settings.strength == pytest.approx(0.8)
    for _ in range(20):
        controls.handle("+")
    assert controls.effect.settings.strength == 1.0
    for _ in range(20):
        controls.handle("-")
    assert controls.effect.settings.strength == 0.0


def test_view_keys_toggle_and_app_keys_are_handed_back(controls):
    image = np.full((4, 4, 3), 200, np.uint8)
    mask = np.zeros((4, 4), np.float32)
    mask[:2] = 1.0
    assert controls.view(image, mask) is image
    controls.handle("m")
    assert controls.view(image, mask)[0, 0].tolist() == [255, 255, 255]
    assert controls.view(image, mask)[3, 3].tolist() == [0, 0, 0]
    controls.handle("space")
    assert controls.paused and controls.message() == "paused"
    controls.handle("h")
    assert controls.show_help and len(controls.help_lines()) == len(help_card())
    assert [controls.handle(k) for k in ("q", "escape", "f", "r", "s")] == [
        "quit",
        "quit",
        "fullscreen",
        "record",
        "snapshot",
    ]


def test_a_style_key_reaches_the_painter_in_the_settings_snapshot(controls):
    effect = controls.effect
    shared = effect.stylizer.style
    frame = cv2.resize(cv2.imread(str(SHARED / "media" / "kitchen.jpg")), (384, 216))
    mask = effect.segment(frame)
    first = effect.background(frame, mask).copy()
    controls.handle("right")
    # The UI thread swapped no object the painter reads: the new style is in the new
    # frozen settings, which the painter takes once per frame.
    assert effect.stylizer.style is shared
    assert effect.settings.style is controls.styles[1]
    second = effect.background(frame, mask)
    assert cv2.absdiff(first, second).mean() > 10
