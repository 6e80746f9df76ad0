"""The Magenta transfer network rebuilt in Keras from the published .tflite gives its output.

Real weights, real frames, real style bottlenecks. The rebuilt model runs the dequantized
float32 weights in TensorFlow; the published model runs them in LiteRT (XNNPACK), whose own
two CPU kernel sets differ by up to 1e-4 on these frames: that is the scale of TOLERANCE.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import import_tensorflow

import_tensorflow()

from camfx.convert.magenta import (  # noqa: E402
    ResidualBlock,
    TransferModelError,
    TransferWeights,
    build_transfer_model,
    compare_with_tflite,
    read_transfer_weights,
    reference_tflite,
    save_saved_model,
    tflite_from_saved_model,
)
from camfx.models.style import bundled_styles  # noqa: E402
from camfx.tflite.graph import op_counts  # noqa: E402
from camfx.tflite.runner import TransferRunner  # noqa: E402
from camfx_eval.frames import load_frames  # noqa: E402
from tests.conftest import MEDIA, MODELS_DIR  # noqa: E402

pytestmark = pytest.mark.convert

FP16 = MODELS_DIR / "style_transfer_f16_384.tflite"
TOLERANCE = 2e-4  # measured: 8.9e-5 at worst over 27 styles x 3 frames
MEAN_TOLERANCE = 1e-5  # measured: 3e-6 at worst
# starry is the default style; style3 gave the largest error of the 27
STYLES = ("starry", "style3")


@pytest.fixture(scope="module")
def weights() -> TransferWeights:
    return read_transfer_weights(FP16)


@pytest.fixture(scope="module")
def model(weights: TransferWeights):
    return build_transfer_model(weights, (384, 384))


@pytest.fixture(scope="module")
def bottlenecks() -> list[np.ndarray]:
    styles = bundled_styles()
    return [styles[name].bottleneck for name in STYLES]


def test_reads_the_network_from_the_graph(weights: TransferWeights):
    blocks = weights.blocks
    residuals = [b for b in blocks if isinstance(b, ResidualBlock)]
    layers = weights.layers()
    assert weights.content_size == (384, 384) and weights.bottleneck_size == 100
    assert len(layers) == 16 and len(residuals) == 5
    assert all(len(r.layers) == 2 for r in residuals)
    # contract: plain convs with ReLU, the last two halve the image
    assert [layer.strides for layer in layers[:3]] == [(1, 1), (2, 2), (2, 2)]
    assert all(layer.norm is None and layer.activation == "relu" for layer in layers[:3])
    # every later conv has a conditional instance norm; the expand convs upsample x2, x2, x1
    assert all(layer.norm is not None for layer in layers[3:])
    assert [layer.upsample for layer in layers[-3:]] == [(2, 2), (2, 2), (1, 1)]
    assert layers[-1].activation == "sigmoid" and layers[-1].kernel.shape == (9, 9, 8, 3)
    assert all(layer.pad_mode == "REFLECT" for layer in layers)
    assert all(layer.kernel.dtype == np.float32 for layer in layers)


def test_matches_the_published_model_on_real_frames(model, bottlenecks):
    frames = load_frames(MEDIA / "portrait_720.mp4", 384, 384, 2)
    for bottleneck in bottlenecks:
        result = compare_with_tflite(model, FP16, frames, bottleneck)
        assert result.max_abs <= TOLERANCE, result
        assert result.mean_abs <= MEAN_TOLERANCE, result


def test_another_size_matches_the_size_rewritten_reference(weights, bottlenecks):
    model = build_transfer_model(weights, (256, 448))
    frames = load_frames(MEDIA / "portrait_720.mp4", 256, 448, 1)
    assert model.output.shape[1:] == (256, 448, 3)
    for bottleneck in bottlenecks:
        result = compare_with_tflite(model, FP16, frames, bottleneck)
        assert result.max_abs <= TOLERANCE, result


@pytest.mark.parametrize(
    ("filename", "message"),
    [
        ("selfie_segmentation.tflite", "not the Magenta style transfer network: inputs are"),
        ("style_predict_quantized_256.tflite", "not the Magenta style transfer network"),
        ("style_transfer_quantized_384.tflite", "computes in int8"),
    ],
)
def test_another_model_is_refused_clearly(filename, message):
    with pytest.raises(TransferModelError, match=message):
        read_transfer_weights(MODELS_DIR / filename)


def test_a_file_that_is_not_tflite_is_refused(tmp_path):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(FP16.read_bytes()[:1000])  # truncated: right header, broken body
    with pytest.raises(TransferModelError, match=r"bad\.tflite"):
        read_transfer_weights(bad)
    with pytest.raises(TransferModelError, match="not a readable TFLite model"):
        read_transfer_weights(MODELS_DIR / "README.md")


@pytest.mark.parametrize("size", [(383, 384), (384, 4), (0, 8)])
def test_sizes_the_network_cannot_take_are_refused(weights, size):
    with pytest.raises(ValueError, match="multiple of 4"):
        build_transfer_model(weights, size)


def test_a_free_batch_runs_frames_together(weights, bottlenecks):
    model = build_transfer_model(weights, (64, 96), batch_size=None)
    frames = load_frames(MEDIA / "portrait_720.mp4", 64, 96, 2)
    together = np.asarray(model([np.concatenate(frames), bottlenecks[0]]))
    for i, frame in enumerate(frames):
        alone = np.asarray(model([frame, bottlenecks[0]]))
        np.testing.assert_allclose(together[i : i + 1], alone, atol=1e-5)


# keras' own saving code converts variables with np.array(copy=False) (numpy 2 warns)
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
def test_keras_file_round_trip(weights, bottlenecks, tmp_path):
    import keras

    model = build_transfer_model(weights, (64, 96))
    model.save(tmp_path / "transfer.keras")
    loaded = keras.models.load_model(tmp_path / "transfer.keras")
    frame = load_frames(MEDIA / "portrait_720.mp4", 64, 96, 1)[0]
    np.testing.assert_array_equal(
        np.asarray(loaded([frame, bottlenecks[0]])), np.asarray(model([frame, bottlenecks[0]]))
    )


def test_saved_model_converts_to_the_published_graph(weights, bottlenecks, tmp_path):
    import tensorflow as tf

    size = (64, 96)
    model = build_transfer_model(weights, size)
    directory = save_saved_model(model, tmp_path / "saved_model")
    serving = tf.saved_model.load(str(directory)).signatures["serving_default"]
    assert set(serving.structured_input_signature[1]) == {"content_image", "style_bottleneck"}
    converted = tflite_from_saved_model(directory)
    counts = op_counts(converted)
    # the published builtins, no Flex or custom ops; float32 weights need no DEQUANTIZE, and
    # the published resize to the same size (a copy) is left out
    published = op_counts(FP16.read_bytes())
    expected = {k: v for k, v in published.items() if k != "DEQUANTIZE"}
    expected["RESIZE_NEAREST_NEIGHBOR"] -= 1
    assert counts == expected
    frame = load_frames(MEDIA / "portrait_720.mp4", *size, 1)[0]
    reference = reference_tflite(FP16, *size)
    for bottleneck in bottlenecks:
        saved = serving(content_image=tf.constant(frame), style_bottleneck=tf.constant(bottleneck))
        ours = next(iter(saved.values())).numpy()
        tf_result = compare_with_tflite(lambda c, b, out=ours: out, reference, frame, bottleneck)
        tflite_result = compare_with_tflite(TransferRunner(converted), reference, frame, bottleneck)
        assert tf_result.max_abs <= TOLERANCE, tf_result
        assert tflite_result.max_abs <= TOLERANCE, tflite_result
