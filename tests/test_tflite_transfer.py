"""The rewritten style transfer models give the published models' output, faster graphs.

Real models and real frames: the float model must stay within 1e-4 of the published fp16
model (of the size-only reference at another size), the int8 model must be identical.
"""

from __future__ import annotations

import numpy as np
import pytest

from camfx.models.style import bundled_styles
from camfx.tflite.graph import op_counts
from camfx.tflite.runner import TransferRunner, max_mean_abs_diff
from camfx.tflite.transfer import (
    REWRITES,
    optimize_transfer_model,
    parse_size,
    rewrite_transfer_model,
    space_to_depth_weights,
    strided_weights,
    subpixel_weights,
)
from camfx_eval.frames import load_frames
from tests.conftest import MEDIA, MODELS_DIR

FP16 = MODELS_DIR / "style_transfer_f16_384.tflite"
INT8 = MODELS_DIR / "style_transfer_quantized_384.tflite"
FLOAT_TOLERANCE = 1e-4
# starry is the default style; style3 was among the most sensitive in a sweep of all 27
STYLES = ("starry", "style3")


@pytest.fixture(scope="module")
def bottlenecks() -> list[np.ndarray]:
    styles = bundled_styles()
    return [styles[name].bottleneck for name in STYLES]


def _frames(height: int, width: int) -> list[np.ndarray]:
    return load_frames(MEDIA / "portrait_720.mp4", height, width, 2) + load_frames(
        MEDIA / "kitchen.jpg", height, width
    )


def _worst(reference: bytes, model: bytes, size: tuple[int, int], bottlenecks) -> float:
    ref, new = TransferRunner(reference), TransferRunner(model)
    frames = _frames(*size)
    return max(max_mean_abs_diff(ref, new, frames, b)[0] for b in bottlenecks)


@pytest.mark.parametrize("size", [(384, 384), (216, 384)], ids=["384x384", "216x384"])
def test_float_model_matches_the_published_one(size, bottlenecks):
    published = FP16.read_bytes()
    optimized, counts = rewrite_transfer_model(published, *size)
    # at 384x384 the published file itself; elsewhere the same network with the size changed
    reference = published if size == (384, 384) else rewrite_transfer_model(published, *size, ())[0]
    assert counts["subpixel_conv"] == 2 and counts["mirror_pad"] > 0
    assert _worst(reference, optimized, size, bottlenecks) <= FLOAT_TOLERANCE


@pytest.mark.parametrize("size", [(384, 384), (216, 384)], ids=["384x384", "216x384"])
def test_int8_model_is_identical_to_the_published_one(size, bottlenecks):
    published = INT8.read_bytes()
    optimized, counts = rewrite_transfer_model(published, *size)
    reference = published if size == (384, 384) else rewrite_transfer_model(published, *size, ())[0]
    assert counts["s2d_conv"] == 2 and counts["drop_epsilon"] == 13
    assert _worst(reference, optimized, size, bottlenecks) == 0


def test_size_only_rewrite_is_the_published_model_at_its_own_size(bottlenecks):
    published = FP16.read_bytes()
    same, _ = rewrite_transfer_model(published, 384, 384, ())
    assert _worst(published, same, (384, 384), bottlenecks[:1]) == 0


@pytest.mark.parametrize("path", [FP16, INT8], ids=["fp16", "int8"])
def test_optimized_graph_has_no_mirror_pad_or_resize(path, tmp_path):
    out = optimize_transfer_model(path, tmp_path / "model.tflite", 216, 384)
    counts = op_counts(out.read_bytes())
    assert "MIRROR_PAD" not in counts
    assert "RESIZE_NEAREST_NEIGHBOR" not in counts
    runner = TransferRunner(out)
    assert runner.size == (216, 384)
    output = runner(_frames(216, 384)[0], bundled_styles()["starry"].bottleneck)
    assert output.shape == (1, 216, 384, 3)
    assert np.all((output >= 0) & (output <= 1))


@pytest.mark.parametrize(
    "size", [(10, 384), (216, 382), (4, 4), (0, 8), (8192, 8)], ids=lambda s: f"{s}"
)
def test_bad_sizes_are_a_clear_value_error(size):
    with pytest.raises(ValueError, match="multiple of 4"):
        rewrite_transfer_model(FP16.read_bytes(), *size)


def test_unknown_rewrite_bad_model_and_bad_size_text_are_value_errors():
    with pytest.raises(ValueError, match="unknown rewrites"):
        rewrite_transfer_model(FP16.read_bytes(), 384, 384, ("mirror_pad", "warp"))
    with pytest.raises(ValueError, match="not a TensorFlow Lite model"):
        rewrite_transfer_model(b"not a model at all", 384, 384)
    with pytest.raises(ValueError, match="HEIGHTxWIDTH"):
        parse_size("384")
    assert parse_size("216x384") == (216, 384)
    assert "mirror_pad" in REWRITES


# --------------------------------------------------------------- weight re-indexing


def _conv(x: np.ndarray, kernel: np.ndarray, stride: int = 1) -> np.ndarray:
    """VALID conv in float64: x [H,W,C], kernel [O,K,K,C] -> [H',W',O]."""
    _, k, _, _ = kernel.shape
    h = (x.shape[0] - k) // stride + 1
    w = (x.shape[1] - k) // stride + 1
    out = np.zeros((h, w, kernel.shape[0]))
    for dy in range(k):
        for dx in range(k):
            patch = x[dy : dy + stride * h : stride, dx : dx + stride * w : stride]
            out += patch @ kernel[:, dy, dx, :].T
    return out


def _depth_to_space(x: np.ndarray) -> np.ndarray:
    h, w, c = x.shape
    return x.reshape(h, w, 2, 2, c // 4).transpose(0, 2, 1, 3, 4).reshape(2 * h, 2 * w, c // 4)


def _space_to_depth(x: np.ndarray) -> np.ndarray:
    h, w, c = x.shape
    return x.reshape(h // 2, 2, w // 2, 2, c).transpose(0, 2, 1, 3, 4).reshape(h // 2, w // 2, -1)


def test_weight_reindexing_computes_the_same_convolutions():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 8, 3))
    k3 = rng.standard_normal((5, 3, 3, 3))
    k9 = rng.standard_normal((4, 9, 9, 3))

    # nearest x2 upsample, reflect pad 1, 3x3 conv == edge pad 1, 3x3 conv, depth-to-space
    up = x.repeat(2, axis=0).repeat(2, axis=1)
    expected = _conv(np.pad(up, ((1, 1), (1, 1), (0, 0)), mode="reflect"), k3)
    low = _conv(np.pad(x, ((1, 1), (1, 1), (0, 0)), mode="edge"), subpixel_weights(k3))
    np.testing.assert_allclose(_depth_to_space(low), expected, atol=1e-9)

    # 9x9 stride 1 == space-to-depth, 5x5, depth-to-space == 10x10 stride 2, depth-to-space
    padded = np.pad(x, ((4, 4), (4, 4), (0, 0)), mode="reflect")
    expected = _conv(padded, k9)
    s2d = _conv(_space_to_depth(padded), space_to_depth_weights(k9))
    np.testing.assert_allclose(_depth_to_space(s2d), expected, atol=1e-9)
    strided = _conv(padded, strided_weights(k9), stride=2)
    np.testing.assert_allclose(_depth_to_space(strided), expected, atol=1e-9)
