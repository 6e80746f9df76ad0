"""An effect is one class and one registration: a toy effect shows up wherever effects
are listed (the CLI's choices and help, the config file, the help card, the `e` key) and
renders through the real command line, models, pipeline and recorder; withdrawn, it is
gone from all of them."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from camfx.app.cli import main, parse_run_args, run_options, run_parser
from camfx.app.controls import Controls, help_card
from camfx.core.effects import (
    EFFECTS,
    Effect,
    EffectKind,
    EffectSettings,
    register_effect,
    unregister_effect,
)
from camfx.errors import CamfxError
from camfx.models.segmentation import create_segmenter
from camfx.models.style import create_stylizer, resolve_style
from tests.conftest import chroma_key_person, read_video_frames


class InvertEffect(EffectKind):
    """The toy: the picture as a photo negative; it counts the frames it painted (an
    effect's own state, kept from frame to frame)."""

    name = "invert"
    help = "shows it inverted, as a photo negative"

    def __init__(self, stream: Effect) -> None:
        super().__init__(stream)
        self.painted = 0

    def paint(self, image, mask, settings):
        self.painted += 1
        return 255 - image


@pytest.fixture
def inverted():
    register_effect(InvertEffect)
    try:
        yield InvertEffect
    finally:
        unregister_effect("invert")


def one_line(text: str) -> str:
    return " ".join(text.split())  # argparse wraps its help


def test_a_registered_effect_is_offered_wherever_effects_are_listed(inverted, tmp_path):
    assert "invert" in EFFECTS and EFFECTS[-1] == "invert"
    usage = one_line(run_parser().format_help())
    assert "--effect {style,blur,image,video,color,none,invert}" in usage
    assert "invert shows it inverted, as a photo negative" in usage
    assert run_options(parse_run_args(["--effect", "invert"])).effect.effect == "invert"
    config = tmp_path / "camfx.toml"
    config.write_text('effect = "invert"\n')
    assert parse_run_args(["--config", str(config)]).effect == "invert"
    assert ("e", "next effect (style, blur, image, video, color, none, invert)") in help_card()

    effect = Effect(
        create_segmenter("selfie", device="cpu"),
        create_stylizer(resolve_style("starry"), device="cpu"),
    )
    assert effect.available_effects() == ("style", "blur", "color", "none", "invert")
    controls = Controls(effect, [effect.stylizer.style])
    assert any("invert" in line for line in controls.help_lines())
    seen = []
    for _ in range(5):
        controls.handle("e")
        seen.append(effect.settings.effect)
    assert seen == ["blur", "color", "none", "invert", "style"]

    image, mask = np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8), np.float32)
    effect.settings = EffectSettings(effect="invert")
    assert (effect.composite(image, mask, effect.background(image, mask)) == 255).all()
    effect.background(image, mask)
    assert effect.kind("invert").painted == 2  # one instance per stream, kept


def test_a_withdrawn_effect_is_gone_from_the_choices(tmp_path):
    register_effect(InvertEffect)
    unregister_effect("invert")
    assert "invert" not in EFFECTS
    assert "invert" not in run_parser().format_help()
    assert all("invert" not in what for _, what in help_card())
    choices = "style, blur, image, video, color, none"
    with pytest.raises(CamfxError, match=f"--effect must be one of {choices}, not 'invert'"):
        parse_run_args(["--effect", "invert"])
    with pytest.raises(CamfxError, match="unknown effect 'invert'"):
        EffectSettings(effect="invert")


def test_an_effect_needs_a_name_and_help_and_a_name_is_taken_once(inverted):
    class Nameless(EffectKind):
        help = "nothing"

        def paint(self, image, mask, settings):
            return image

    with pytest.raises(ValueError, match="needs a name and a help text"):
        register_effect(Nameless)

    class Another(InvertEffect):
        pass

    with pytest.raises(ValueError, match="'invert' is already registered"):
        register_effect(Another)
    assert register_effect(InvertEffect) is InvertEffect  # the same class again: fine


def test_a_registered_effect_renders_through_the_real_pipeline(inverted, tmp_path, portrait_video):
    out = tmp_path / "invert.mp4"
    argv = ["--input", str(portrait_video), "--effect", "invert", "--segmenter", "selfie"]
    assert main([*argv, "--record", str(out), "--max-frames", "6", "--no-window"]) == 0
    rendered = read_video_frames(out)
    assert len(rendered) == 6
    kernel = np.ones((25, 25), np.uint8)
    for frame, shown in zip(read_video_frames(portrait_video)[:6], rendered, strict=True):
        person = chroma_key_person(frame).astype(np.uint8)
        inside = cv2.erode(person, kernel).astype(bool)
        outside = cv2.erode(1 - person, kernel).astype(bool)
        shown, frame = shown.astype(int), frame.astype(int)
        # Behind the person: the negative (to H.264's error); the person: as filmed.
        assert np.abs(shown - (255 - frame))[outside].mean() < 6
        assert np.abs(shown - frame)[outside].mean() > 30
        assert np.abs(shown - frame)[inside].mean() < 6
