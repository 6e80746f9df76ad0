"""Each effect and target on real frames."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from camfx.core.effects import Effect, EffectSettings, PictureBackdrop, VideoBackdrop
from camfx.errors import CamfxError
from camfx.models.segmentation import create_segmenter
from camfx.models.style import create_predictor, create_stylizer, resolve_style
from tests.conftest import MEDIA, SHARED, chroma_key_person, read_video_frames


@pytest.fixture(scope="module")
def frame():
    return read_video_frames(MEDIA / "portrait_720.mp4", every=90)[1]


@pytest.fixture(scope="module")
def regions(frame):
    person = chroma_key_person(frame).astype(np.uint8)
    kernel = np.ones((25, 25), np.uint8)
    return cv2.erode(person, kernel).astype(bool), cv2.erode(1 - person, kernel).astype(bool)


@pytest.fixture(scope="module")
def models():
    return (
        create_segmenter("selfie", device="cpu"),
        create_stylizer(resolve_style("starry"), device="cpu"),
        create_predictor(),
    )


def apply(models, frame, backdrop=None, **settings):
    segmenter, stylizer, predictor = models
    effect = Effect(
        segmenter,
        stylizer,
        settings=EffectSettings(**settings),
        backdrop=backdrop,
        predictor=predictor,
    )
    mask = effect.segment(frame)
    return effect.composite(frame, mask, effect.background(frame, mask))


def change(a, b, where):
    return np.abs(a.astype(int) - b).mean(axis=-1)[where].mean()


def high_frequency(image, where):
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    return np.abs(cv2.Laplacian(grey, cv2.CV_32F))[where].mean()


def test_targets_choose_where_the_style_goes(models, frame, regions):
    person, background = regions
    out = apply(models, frame, target="background")
    assert change(out, frame, person) < 8 and change(out, frame, background) > 40
    out = apply(models, frame, target="person")
    assert change(out, frame, person) > 30 and change(out, frame, background) < 8
    out = apply(models, frame, target="all")
    assert change(out, frame, person) > 30 and change(out, frame, background) > 40


def test_blur_lowers_the_background_s_fine_detail_only(models, regions):
    # A busy background, so there is detail to lose: the keyed person over a painting.
    from camfx.vision.imaging import cover
    from camfx_eval.evaluation import place_person

    portrait = read_video_frames(MEDIA / "portrait_720.mp4", every=90)[1]
    painting = cover(cv2.imread(str(SHARED / "styles" / "style24.jpg")), (720, 720))
    busy, truth = place_person(portrait, painting)
    kernel = np.ones((25, 25), np.uint8)
    person = cv2.erode(truth.astype(np.uint8), kernel).astype(bool)
    background = cv2.erode((~truth).astype(np.uint8), kernel).astype(bool)
    out = apply(models, busy, effect="blur")
    assert high_frequency(out, background) < 0.4 * high_frequency(busy, background)
    assert high_frequency(out, person) > 0.8 * high_frequency(busy, person)


def test_strength_zero_paints_less_than_strength_one(models, frame, regions):
    _, background = regions
    full = apply(models, frame, strength=1.0)
    weak = apply(models, frame, strength=0.0)
    # Strength 0 paints with the frame's own bottleneck: still brushwork (the network
    # always paints), but nearer the frame, and clearly not the full style.
    assert change(weak, frame, background) < change(full, frame, background) - 5
    assert change(weak, full, background) > 20


def test_image_video_color_and_none(models, frame, regions):
    person, background = regions
    picture = PictureBackdrop(SHARED / "styles" / "style24.jpg")
    out = apply(models, frame, backdrop=picture, effect="image")
    expected = picture.picture((frame.shape[1], frame.shape[0]))
    assert change(out, expected, background) < 3 and change(out, frame, person) < 8
    out = apply(models, frame, effect="color", color=(0, 0, 255))
    assert np.abs(out[background].astype(int) - (0, 0, 255)).mean() < 2
    assert np.array_equal(apply(models, frame, effect="none"), frame)
    clip = VideoBackdrop(MEDIA / "guitar_320.mp4")
    out = apply(models, frame, backdrop=clip, effect="video")
    assert change(out, frame, background) > 30 and change(out, frame, person) < 8


def test_video_backdrop_plays_at_its_own_rate_and_loops(monkeypatch):
    clip = VideoBackdrop(MEDIA / "guitar_320.mp4")  # 30 fps, 1689 frames
    now = [1000.0]
    monkeypatch.setattr("camfx.core.effects.backdrops.time.monotonic", lambda: now[0])
    first = clip.picture((64, 64)).copy()
    assert np.array_equal(clip.picture((64, 64)), first)  # no time passed: same frame
    now[0] += 2.0
    assert not np.array_equal(clip.picture((64, 64)), first)
    now[0] += 1689 / 30  # a whole loop later: it wrapped around and goes on
    assert clip.picture((64, 64)).shape == (64, 64, 3)


def test_bad_effect_settings_are_user_errors():
    with pytest.raises(CamfxError, match="unknown effect 'sparkle'"):
        EffectSettings(effect="sparkle")
    with pytest.raises(CamfxError, match="strength must be between 0 and 1"):
        EffectSettings(strength=1.5)
