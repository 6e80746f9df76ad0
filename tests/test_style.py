"""Styles: the committed bottlenecks, picture styles and their cache, the painter."""

from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest

from camfx.errors import CamfxError
from camfx.models import style
from tests.conftest import MEDIA, ROOT, SHARED


def test_bundled_styles_cover_styles_json_with_provenance():
    shared = json.loads((SHARED / "styles" / "styles.json").read_text())
    bundled = style.bundled_styles()
    # Every picture has a style, and every name styles.json gives (style14 ...) still works.
    assert {s.source for s in bundled.values()} == {info["file"] for info in shared.values()}
    for name, info in shared.items():
        assert style.resolve_style(name).source == info["file"], name
    starry = bundled["starry"]
    assert starry.title == "The Starry Night" and starry.artist == "Vincent van Gogh"
    assert starry.source == "style19.jpg"
    assert starry.bottleneck.shape == (1, 1, 1, 100)


def test_committed_bottleneck_is_what_the_prediction_model_computes():
    predictor = style.create_predictor()
    for name in ("starry", "wave"):
        bundled = style.bundled_styles()[name]
        picture = style.read_image(SHARED / "styles" / bundled.source)
        assert np.allclose(predictor.bottleneck(picture), bundled.bottleneck, atol=1e-5)


def test_unknown_style_suggests_the_closest_name():
    with pytest.raises(CamfxError, match="unknown style 'stary'; did you mean 'starry'"):
        style.resolve_style("stary")


def test_picture_style_is_computed_once_then_read_from_the_cache(tmp_path):
    picture = tmp_path / "my painting.jpg"
    shutil.copy(SHARED / "styles" / "scream.jpg", picture)
    first = style.resolve_style(str(picture))
    cached = list(style.style_cache_dir().glob("*.npy"))
    assert len(cached) == 1

    def must_not_run():
        raise AssertionError("the prediction model ran again for a cached style")

    second = style.picture_style(picture, predictor_factory=must_not_run)
    assert np.array_equal(first.bottleneck, second.bottleneck)
    # The same picture as a bundled style gives the same bottleneck.
    assert np.allclose(first.bottleneck, style.bundled_styles()["scream"].bottleneck, atol=1e-5)


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "no such file"), (b"definitely not a jpeg", "not a readable image")],
)
def test_bad_picture_style_is_a_user_error(tmp_path, content, message):
    path = tmp_path / "broken.jpg"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CamfxError, match=message):
        style.resolve_style(str(path))
    assert not style.style_cache_dir().exists() or not any(style.style_cache_dir().iterdir())


@pytest.mark.parametrize("precision", ["fp16", "int8"])
def test_stylizer_paints_in_the_style(precision):
    stylizer = style.create_stylizer(style.resolve_style("starry"), precision, device="cpu")
    content = cv2.resize(cv2.imread(str(MEDIA / "yoga.jpg")), (stylizer.width, stylizer.height))
    painted = stylizer.stylize(content)
    assert painted.shape == content.shape and painted.dtype == np.uint8
    assert np.abs(painted.astype(int) - content).mean() > 30  # strongly changed

    # Starry Night is mostly blue: blue outweighs red far more than in the photo.
    def blue_over_red(image):
        return float(image[..., 0].astype(int).mean() - image[..., 2].mean())

    assert blue_over_red(painted) > blue_over_red(content) + 20
    # Different styles give different paintings of the same content.
    other = style.create_stylizer(style.resolve_style("scream"), precision, device="cpu")
    assert np.abs(other.stylize(content).astype(int) - painted).mean() > 20


def test_style_size_keeps_the_frame_proportions_in_multiples_of_four():
    assert style.style_size(1280, 720) == (216, 384)
    assert style.style_size(720, 720) == (384, 384)
    assert style.style_size(640, 480) == (288, 384)
    assert style.style_size(720, 1280, long_side=256) == (256, 144)


def test_optimized_model_is_built_once_and_cached_next_to_the_models(caplog):
    caplog.set_level("INFO", logger="camfx.models.derived")
    starry = style.resolve_style("starry")
    first = style.create_stylizer(starry, size=(216, 384), device="cpu")
    built = list((style.models.cache_dir() / "derived").glob("*216x384*.tflite"))
    assert len(built) == 1 and "built" in caplog.text
    assert (first.height, first.width) == (216, 384)
    caplog.clear()
    mtime = built[0].stat().st_mtime_ns
    second = style.create_stylizer(starry, size=(216, 384), device="cpu")
    assert "built" not in caplog.text and built[0].stat().st_mtime_ns == mtime
    frame = cv2.resize(cv2.imread(str(MEDIA / "yoga.jpg")), (384, 216))
    assert np.array_equal(first.stylize(frame), second.stylize(frame))


def test_optimized_model_paints_like_the_published_one():
    starry = style.resolve_style("starry")
    published = style.create_stylizer(starry, size=None, device="cpu")
    optimized = style.create_stylizer(starry, size=(384, 384), device="cpu")
    frame = cv2.resize(cv2.imread(str(MEDIA / "yoga.jpg")), (384, 384))
    # uint8 output: at most one level of rounding apart
    diff = np.abs(published.stylize(frame).astype(int) - optimized.stylize(frame))
    assert diff.max() <= 1


def test_when_the_optimizer_fails_the_published_model_is_used_with_one_log_line(
    monkeypatch, caplog
):
    from camfx.tflite import transfer

    def broken(*args, **kwargs):
        raise ValueError("flatbuffer surprise")

    monkeypatch.setattr(transfer, "rewrite_transfer_model", broken)
    caplog.set_level("WARNING", logger="camfx.models.style")
    stylizer = style.create_stylizer(style.resolve_style("starry"), size=(216, 384), device="cpu")
    assert (stylizer.height, stylizer.width) == (384, 384)
    warnings = [r for r in caplog.records if "optimized style model" in r.getMessage()]
    assert len(warnings) == 1 and "flatbuffer surprise" in warnings[0].getMessage()


def test_a_bug_in_the_optimizer_is_not_hidden_by_the_fallback(monkeypatch):
    """Only the failures we expect (a size it can't take, an unwritable cache) fall back;
    our own rewrite's bug check must fail the run, not slow it down 4x with a warning."""
    from camfx.tflite import transfer

    def buggy(*args, **kwargs):
        raise RuntimeError("rewrite bug: x is (1, 2), runtime (1, 3)")

    monkeypatch.setattr(transfer, "rewrite_transfer_model", buggy)
    with pytest.raises(RuntimeError, match="rewrite bug"):
        style.create_stylizer(style.resolve_style("starry"), size=(216, 384), device="cpu")


def _gif(path):
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("gif", rate=5)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "rgb8"
        for i in range(3):  # an animation: a bar moving across
            image = np.zeros((48, 64, 3), np.uint8)
            image[:, i * 20 : (i + 1) * 20] = (255, 160, 0)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


@pytest.mark.parametrize("kind", ["grey", "alpha", "animated-gif", "truncated", "tiny"])
def test_style_pictures_in_awkward_formats(tmp_path, kind):
    source = cv2.imread(str(SHARED / "styles" / "style19.jpg"))
    if kind == "grey":
        path = tmp_path / "grey.png"
        cv2.imwrite(str(path), cv2.cvtColor(source, cv2.COLOR_BGR2GRAY))
    elif kind == "alpha":
        path = tmp_path / "alpha.png"
        cv2.imwrite(str(path), cv2.cvtColor(source, cv2.COLOR_BGR2BGRA))
    elif kind == "animated-gif":
        path = _gif(tmp_path / "anim.gif")
    elif kind == "truncated":
        path = tmp_path / "half.jpg"
        data = (SHARED / "styles" / "style19.jpg").read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        path = tmp_path / "tiny.png"
        cv2.imwrite(str(path), source[:3, :2])
    picture_style = style.resolve_style(str(path))  # the first frame / what decodes is used
    assert picture_style.bottleneck.shape == (1, 1, 1, 100)
    assert np.isfinite(picture_style.bottleneck).all()


def test_a_cmyk_jpeg_style(tmp_path):
    from PIL import Image  # only to write the CMYK file: camfx reads it with OpenCV

    path = tmp_path / "cmyk.jpg"
    Image.open(SHARED / "styles" / "style19.jpg").convert("CMYK").save(path)
    assert Image.open(path).mode == "CMYK"
    cmyk = style.resolve_style(str(path))
    # The same painting, so nearly the same bottleneck as the RGB original.
    starry = style.bundled_styles()["starry"].bottleneck
    assert np.corrcoef(cmyk.bottleneck.ravel(), starry.ravel())[0, 1] > 0.9


def test_a_20000_pixel_square_style_picture(tmp_path):
    path = tmp_path / "huge.jpg"
    huge = np.zeros((20000, 20000, 3), np.uint8)
    huge[::50] = (40, 120, 220)
    huge[:, ::70, 1] = 255
    cv2.imwrite(str(path), huge, [cv2.IMWRITE_JPEG_QUALITY, 50])
    del huge
    bottleneck = style.resolve_style(str(path)).bottleneck
    assert bottleneck.shape == (1, 1, 1, 100) and np.isfinite(bottleneck).all()


def test_every_bundled_style_has_a_name_a_person_can_remember():
    """No more style0 ... style25: a title with its artist, or what the picture looks like."""
    import re

    names = json.loads((ROOT / "assets" / "styles" / "styles.json").read_text())
    bundled = style.bundled_styles()
    assert list(bundled) == list(names)  # the manifest is made from the names file
    for name, entry in bundled.items():
        assert not re.fullmatch(r"style\d+", name), name
        assert (entry.title and entry.artist) or entry.looks, name
        assert entry.label != name
    assert style.resolve_style("style17").name == "tartan"  # old names are aliases
    assert style.resolve_style("style23").label == "Udnie (Francis Picabia)"
