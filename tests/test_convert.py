"""The conversion workflow (camfx.convert, scripts/convert.py) on models built here.

Three kinds of source, each with the tensor layout of a model camfx runs: a Keras
segmenter (one picture in, one probability map out), a two-input SavedModel shaped like
the style transfer network, and a frozen GraphDef with preprocessing before the tensor
it is cut at (as DeepLab's ``sub_7``). Each is converted in every quantization mode and
validated on real frames; the TFLite files are then loaded by camfx's own runtime.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import import_tensorflow

tf = import_tensorflow()

from ai_edge_litert import schema_py_generated as schema  # noqa: E402

from camfx.convert import quantize, sources, validate  # noqa: E402
from camfx.models.runtime import load_model  # noqa: E402
from tests.conftest import MEDIA, MODELS_DIR, ROOT  # noqa: E402

pytestmark = pytest.mark.convert
VIDEO = MEDIA / "portrait_720.mp4"


def wall_segmenter(size=(None, None)) -> tf.keras.Model:
    """A selfie-segmenter-shaped net with fixed weights: P(not the blue wall) per pixel.

    Real-valued and decisive on the portrait video (the wall is blue, the woman is not),
    so a quantized copy that flips pixels shows up in the IoU.
    """
    inputs = tf.keras.Input((*size, 3), name="image")
    features = tf.keras.layers.Conv2D(
        8, 3, padding="same", activation="relu", name="features",
        kernel_initializer=tf.keras.initializers.RandomNormal(0.0, 0.3, seed=1),
    )(inputs)
    wall = tf.keras.layers.Conv2D(
        1, 1, name="wall", kernel_initializer=tf.keras.initializers.Constant([[[[0.0]]]])
    )(inputs)
    both = tf.keras.layers.Concatenate()([features, wall])
    mask = tf.keras.layers.Conv2D(1, 1, activation="sigmoid", name="mask")(both)
    model = tf.keras.Model(inputs, mask)
    # Weights that key out blue: 6 * (R + G - 1.4 B) - 0.5, plus a little of the features.
    model.get_layer("wall").set_weights([np.array([1.0, 1.0, -1.4]).reshape(1, 1, 3, 1),
                                         np.zeros(1)])
    mask_kernel = np.zeros((1, 1, 9, 1), np.float32)
    mask_kernel[0, 0, :8, 0] = 0.05
    mask_kernel[0, 0, 8, 0] = 6.0
    model.get_layer("mask").set_weights([mask_kernel, np.array([-0.5], np.float32)])
    return model


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    return quantize.read_frames(VIDEO, 12)


@pytest.fixture(scope="module")
def keras_file(tmp_path_factory) -> object:
    path = tmp_path_factory.mktemp("keras") / "wall.keras"
    wall_segmenter().save(path)
    return path


def test_keras_segmenter_in_every_mode_stays_right(keras_file, frames):
    source = sources.load_keras(keras_file, [(1, 256, 256, 3)])
    calibration = quantize.image_dataset(frames[::2], "image", (256, 256))
    held_out = quantize.image_dataset(frames[1::2], "image", (256, 256))
    for mode in quantize.MODES:
        model = quantize.convert(source, mode, calibration)
        report = validate.compare(source, model, held_out(), "segmentation")
        validate.check(report, mode)  # raises past the mode's limits
        error = report.outputs["mask"]
        assert error.iou > {"none": 0.999, "float16": 0.99}.get(mode, 0.95), (mode, error)
    # The quantized models really are quantized: the int8 one has int8 activations.
    assert tensor_types(model) >= {schema.TensorType.INT8}


def tensor_types(model: bytes) -> set[int]:
    parsed = schema.ModelT.InitFromPackedBuf(model, 0)
    return {t.type for t in parsed.subgraphs[0].tensors}


def op_names(model: bytes) -> set[str]:
    parsed = schema.ModelT.InitFromPackedBuf(model, 0)
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    codes = [max(c.builtinCode, c.deprecatedBuiltinCode) for c in parsed.operatorCodes]
    return {names[codes[op.opcodeIndex]] for op in parsed.subgraphs[0].operators}


def test_dynamic_and_float16_shrink_weights_as_documented(frames):
    # Big enough weights (>1024 elements) for dynamic range quantization to apply.
    model = tf.keras.Sequential([
        tf.keras.Input((64, 64, 3), name="image"),
        tf.keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
        tf.keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
        tf.keras.layers.Conv2D(3, 3, padding="same", activation="sigmoid", name="picture"),
    ])
    source = sources.from_keras(model)
    size = {mode: len(quantize.convert(source, mode)) for mode in ("none", "dynamic", "float16")}
    assert size["dynamic"] < 0.35 * size["none"]
    assert 0.4 * size["none"] < size["float16"] < 0.6 * size["none"]


class TwoInputStyleNet(tf.Module):
    """Shaped like the Magenta transfer network: content picture + 100-float bottleneck."""

    def __init__(self) -> None:
        rng = np.random.default_rng(3)
        self.kernel = tf.Variable(rng.normal(0, 0.2, (3, 3, 3, 3)).astype(np.float32))
        self.style = tf.Variable(rng.normal(0, 0.1, (100, 3)).astype(np.float32))

    @tf.function(input_signature=[
        tf.TensorSpec([1, None, None, 3], tf.float32, name="content_image"),
        tf.TensorSpec([1, 1, 1, 100], tf.float32, name="style_bottleneck"),
    ])
    def __call__(self, content_image, style_bottleneck):
        shift = tf.reshape(tf.matmul(tf.reshape(style_bottleneck, [1, 100]), self.style),
                           [1, 1, 1, 3])
        mixed = tf.nn.conv2d(content_image, self.kernel, 1, "SAME")
        return {"stylized_image": tf.sigmoid(4.0 * (mixed + shift - 0.5))}


@pytest.fixture(scope="module")
def style_saved_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("saved") / "style_net"
    net = TwoInputStyleNet()
    tf.saved_model.save(net, str(folder), signatures={"serving_default": net.__call__})
    return folder


def test_two_input_saved_model_int8_calibrated_with_style_bottlenecks(style_saved_model,
                                                                       frames):
    source = sources.load_saved_model(
        style_saved_model, {"content_image": (1, 96, 160, 3)}
    )
    assert source.input_names == ["content_image", "style_bottleneck"]
    pictures = sorted((ROOT.parent / "shared" / "styles").glob("style1*.jpg"))[:4]
    bottlenecks = quantize.style_bottlenecks(
        pictures, MODELS_DIR / "style_predict_quantized_256.tflite"
    )
    assert len(bottlenecks) == 4 and bottlenecks[0].shape == (1, 1, 1, 100)
    data = quantize.style_transfer_dataset(
        frames, bottlenecks, "content_image", "style_bottleneck", (96, 160)
    )
    model = quantize.convert(source, "int8", data)
    report = validate.compare(source, model, data(), "image")
    validate.check(report, "int8")
    assert report.outputs["stylized_image"].psnr > 30
    # camfx's runtime loads it with the fixed shape and float inputs, as the published one.
    loaded = load_model_bytes(model)
    assert [i.shape for i in loaded.inputs] == [(1, 96, 160, 3), (1, 1, 1, 100)]
    assert all(i.dtype == np.float32 for i in loaded.inputs)


def load_model_bytes(model: bytes, tmp=None):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.tflite"
        path.write_bytes(model)
        return load_model(path, threads=1, device="cpu")


def test_free_dimensions_need_a_shape(style_saved_model):
    with pytest.raises(sources.SourceError, match="--input-shape content_image="):
        sources.load_saved_model(style_saved_model)


def frozen_graph_with_preprocessing(path) -> None:
    """A graph like DeepLab's: uint8 picture -> resize -> scale to [-1, 1] (``sub_7``)
    -> network -> logits (``ResizeBilinear_2``). The cut keeps only the network."""
    rng = np.random.default_rng(5)
    graph = tf.Graph()
    with graph.as_default():
        picture = tf.compat.v1.placeholder(tf.uint8, [1, None, None, 3], name="ImageTensor")
        resized = tf.compat.v1.image.resize_bilinear(tf.cast(picture, tf.float32), [65, 65])
        scaled = tf.subtract(resized * (2.0 / 255.0), 1.0, name="sub_7")
        kernel = tf.constant(rng.normal(0, 0.5, (3, 3, 3, 21)).astype(np.float32))
        logits = tf.nn.conv2d(scaled, kernel, 2, "SAME")
        tf.compat.v1.image.resize_bilinear(logits, [65, 65], align_corners=True,
                                           name="ResizeBilinear_2")
    path.write_bytes(graph.as_graph_def().SerializeToString())


def test_frozen_graph_cut_leaves_preprocessing_out(tmp_path, frames):
    pb = tmp_path / "frozen_inference_graph.pb"
    frozen_graph_with_preprocessing(pb)
    source = sources.load_graph_def(pb, ["sub_7"], ["ResizeBilinear_2"])
    assert [s.shape.as_list() for s in source.inputs] == [[1, 65, 65, 3]]
    data = quantize.image_dataset(frames, "sub_7", (65, 65), 127.5, 127.5)
    for mode in ("none", "float16", "int8"):
        model = quantize.convert(source, mode, data)
        report = validate.compare(source, model, data(), "segmentation")
        # Random weights give 21 near-equal logits, so int8 rounding flips more argmaxes
        # than it would on a trained net.
        validate.check(report, mode, {"min_iou": 0.8} if mode == "int8" else None)
    model = quantize.convert(source, "none")
    # No uint8 input, no cast or scaling ops: the cut starts at the scaled picture.
    assert schema.TensorType.UINT8 not in tensor_types(model)
    assert "CAST" not in op_names(model) and "SUB" not in op_names(model)
    assert op_names(model) >= {"CONV_2D", "RESIZE_BILINEAR"}


def test_frozen_graph_unknown_tensor_is_named(tmp_path):
    pb = tmp_path / "g.pb"
    frozen_graph_with_preprocessing(pb)
    with pytest.raises(sources.SourceError, match="no tensor named sub_8"):
        sources.load_graph_def(pb, ["sub_8"], ["ResizeBilinear_2"])


def test_int8_without_data_says_what_to_give(keras_file):
    source = sources.load_keras(keras_file, [(1, 64, 64, 3)])
    with pytest.raises(quantize.QuantizeError, match="--representative"):
        quantize.convert(source, "int8")


def test_validation_fails_loudly_past_its_limit(keras_file, frames):
    source = sources.load_keras(keras_file, [(1, 64, 64, 3)])
    data = quantize.image_dataset(frames, "image", (64, 64))
    model = quantize.convert(source, "float16")
    report = validate.compare(source, model, data(), "image")
    assert report.outputs["mask"].max_abs > 0  # float16 weights do change the numbers
    with pytest.raises(validate.ValidationError, match="'mask' has PSNR"):
        validate.check(report, "float16", {"min_psnr": 200.0})


def run_script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "convert.py"), *args],
        capture_output=True, text=True, timeout=300,
    )


def test_script_converts_every_mode_and_validates(keras_file, tmp_path):
    out = tmp_path / "wall.tflite"
    result = run_script(
        "--keras", str(keras_file), "--input-shape", "1,144,256,3", "--quantize", "all",
        "--representative", str(VIDEO), "--count", "16", "--validate",
        "--task", "segmentation", "-o", str(out),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    for mode in quantize.MODES:
        path = tmp_path / f"wall_{mode}.tflite"
        assert f"{path}: {mode}" in result.stdout
        model = load_model(path, threads=1, device="cpu")
        assert model.inputs[0].shape == (1, 144, 256, 3)
    assert result.stdout.count("IoU") == 4


def test_script_bad_input_is_one_line_and_exit_2(tmp_path, keras_file):
    cases = [
        (["--keras", str(tmp_path / "nope.keras"), "-o", str(tmp_path / "x.tflite")],
         "not found"),
        (["--keras", str(keras_file), "-o", str(tmp_path / "missing" / "x.tflite")],
         "does not exist"),
        (["--keras", str(keras_file), "--input-shape", "1,64,64,3", "--quantize", "int8",
          "-o", str(tmp_path / "x.tflite")], "representative"),
    ]
    for args, words in cases:
        result = run_script(*args)
        assert result.returncode == 2, (args, result.stderr[-1000:])
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("convert: ") and words in last, last


def test_script_validation_failure_exits_1(keras_file, tmp_path):
    result = run_script(
        "--keras", str(keras_file), "--input-shape", "1,64,64,3", "--quantize", "float16",
        "--validate", "--task", "image", "--representative", str(VIDEO),
        "--min-psnr", "200", "-o", str(tmp_path / "x.tflite"),
    )
    assert result.returncode == 1
    assert "validation failed" in result.stderr.strip().splitlines()[-1]


def test_script_writes_metadata_camfx_reads(tmp_path, frames):
    from camfx.tflite import metadata

    pb = tmp_path / "frozen_inference_graph.pb"
    frozen_graph_with_preprocessing(pb)
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(["background", *(f"class{i}" for i in range(1, 21))]) + "\n")
    out = tmp_path / "cut.tflite"
    result = run_script(
        "--graph", str(pb), "--input-arrays", "sub_7", "--output-arrays", "ResizeBilinear_2",
        "--mean", "127.5", "--std", "127.5", "--labels", str(labels), "--metadata",
        "--name", "cut graph", "-o", str(out),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    info = metadata.read_metadata(out)
    assert info.name == "cut graph"
    mean, std = metadata.input_normalization(info)
    assert float(mean.ravel()[0]) == 127.5 and float(std.ravel()[0]) == 127.5
    assert metadata.read_labels(out)[:2] == ["background", "class1"]
    assert load_model(out, threads=1, device="cpu").inputs[0].shape == (1, 65, 65, 3)


def test_benchmark_models_table_and_chart(tmp_path):
    """The benchmark measures published models against a reference and draws its chart."""
    fp16 = MODELS_DIR / "style_transfer_f16_384.tflite"
    int8 = MODELS_DIR / "style_transfer_quantized_384.tflite"
    table, chart = tmp_path / "table.md", tmp_path / "chart.png"
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "benchmark_models.py"), "--reference",
         str(fp16), str(int8), "--task", "image", "--threads", "1,2", "--runs", "2",
         "--turns", "1", "--frames-per-video", "2", "--markdown", str(table),
         "--chart", str(chart)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [[cell.strip() for cell in line.strip("|").split("|")]
             for line in table.read_text().splitlines()]
    psnr_column = lines[0].index("PSNR dB")
    rows = {cells[0]: cells for cells in lines[2:]}
    assert rows[fp16.name][psnr_column] == "ref"
    int8_psnr = float(rows[int8.name][psnr_column])
    assert 15 < int8_psnr < 60  # int8 changes the picture, but not beyond recognition
    import cv2

    picture = cv2.imread(str(chart))
    assert picture is not None and picture.shape[1] > 800


def test_int8_can_keep_named_ops_in_float(keras_file, frames):
    source = sources.load_keras(keras_file, [(1, 64, 64, 3)])
    data = quantize.image_dataset(frames, "image", (64, 64))
    everything = quantize.convert(source, "int8", data)
    selective = quantize.convert(source, "int8", data, float_ops=["logistic"])
    assert "LOGISTIC" in op_names(everything) and "LOGISTIC" in op_names(selective)
    output_types = {
        name: set(output_tensor_types(model, "LOGISTIC"))
        for name, model in (("all", everything), ("selective", selective))
    }
    assert output_types == {"all": {schema.TensorType.INT8},
                            "selective": {schema.TensorType.FLOAT32}}
    validate.check(validate.compare(source, selective, data(), "segmentation"), "int8")


def output_tensor_types(model: bytes, op: str) -> list[int]:
    parsed = schema.ModelT.InitFromPackedBuf(model, 0)
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    codes = [max(c.builtinCode, c.deprecatedBuiltinCode) for c in parsed.operatorCodes]
    graph = parsed.subgraphs[0]
    return [graph.tensors[o.outputs[0]].type for o in graph.operators
            if names[codes[o.opcodeIndex]] == op]


def test_tf1_checkpoint_is_frozen_and_cut(tmp_path, frames):
    """A TF1 checkpoint with variables (how Magenta first released its networks)."""
    rng = np.random.default_rng(7)
    graph = tf.Graph()
    with graph.as_default():
        picture = tf.compat.v1.placeholder(tf.float32, [1, None, None, 3], name="input_image")
        kernel = tf.compat.v1.get_variable(
            "conv/kernel", initializer=rng.normal(0, 0.3, (3, 3, 3, 4)).astype(np.float32))
        features = tf.nn.relu(tf.nn.conv2d(picture, kernel, 1, "SAME"))
        tf.sigmoid(tf.reduce_mean(features, axis=-1, keepdims=True), name="mask")
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            prefix = tmp_path / "model.ckpt"
            tf.compat.v1.train.Saver().save(session, str(prefix))
            expected_kernel = session.run(kernel)
    source = sources.load_checkpoint(prefix, ["input_image"], ["mask"], [(1, 48, 64, 3)])
    data = quantize.image_dataset(frames, "input_image", (48, 64))
    model = quantize.convert(source, "none")
    validate.check(validate.compare(source, model, data(), "segmentation"), "none")
    # The restored weights, not fresh ones, are in the model.
    x = next(data())["input_image"]
    manual = 1 / (1 + np.exp(-tf.reduce_mean(tf.nn.relu(
        tf.nn.conv2d(x, expected_kernel, 1, "SAME")), -1, keepdims=True).numpy()))
    assert np.abs(source.run([x])["mask"] - manual).max() < 1e-5
    with pytest.raises(sources.SourceError, match="not found"):
        sources.load_checkpoint(tmp_path / "nope.ckpt", ["input_image"], ["mask"])
