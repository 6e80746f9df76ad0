"""TFLite metadata: read from the published models, written and read back, still runnable.

The expected values are those the official reader (tflite-support 0.4.4's
MetadataDisplayer) shows for the same files; no TensorFlow is needed here.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from camfx.tflite.metadata import (
    ColorSpace,
    ModelInfo,
    TensorInfo,
    input_normalization,
    read_associated_files,
    read_labels,
    read_metadata,
    write_metadata,
)
from tests.conftest import MODELS_DIR

DEEPLAB = MODELS_DIR / "deeplabv3_257_mv_gpu.tflite"
DEEPLAB_WITH_METADATA = MODELS_DIR / "lite-model_deeplabv3_1_metadata_2.tflite"
MAGENTA_WITH_METADATA = (
    MODELS_DIR / "magenta_arbitrary-image-stylization-v1-256_fp16_transfer_1.tflite"
)
VOC_CLASSES = 21
PERSON = 15

LABELS = "\n".join(f"class{i}" for i in range(VOC_CLASSES)).encode() + b"\n"
INFO = ModelInfo(
    name="DeepLab v3 (camfx)",
    description="Person segmentation.",
    version="2",
    author="camfx",
    license="Apache-2.0",
    inputs=[
        TensorInfo(
            name="image",
            description="RGB, 257 x 257.",
            mean=[127.5, 127.5, 127.5],
            std=[127.5],
            min=[-1.0],
            max=[1.0],
            color_space=ColorSpace.RGB,
        )
    ],
    outputs=[
        TensorInfo(
            name="logits",
            description="One score per class.",
            color_space=ColorSpace.GRAYSCALE,
            content_range=(1, 2),
            label_file="labels.txt",
        )
    ],
)


@pytest.fixture(scope="module")
def written() -> bytes:
    return write_metadata(DEEPLAB.read_bytes(), INFO, {"labels.txt": LABELS})


def _run(model: bytes) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=model)
    interpreter.allocate_tensors()
    frame = np.random.default_rng(0).uniform(-1, 1, (1, 257, 257, 3)).astype(np.float32)
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], frame)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def _buffer_count(model: bytes) -> int:
    from ai_edge_litert import schema_py_generated as schema

    return schema.Model.GetRootAs(model, 0).BuffersLength()


def test_reads_the_published_deeplab_metadata():
    info = read_metadata(DEEPLAB_WITH_METADATA)
    assert info is not None
    assert (info.name, info.version, info.author) == ("DeepLabV3", "v1", "TensorFlow")
    assert info.min_parser_version == "1.0.0"
    (image,) = info.inputs
    assert (image.name, image.mean, image.std) == ("image", (127.5,), (127.5,))
    assert (image.min, image.max, image.color_space) == ((-1.0,), (1.0,), ColorSpace.RGB)
    (masks,) = info.outputs
    assert masks.name == "segmentation masks" and masks.label_file == "labelmap.txt"
    assert masks.color_space == ColorSpace.GRAYSCALE and masks.content_range == (1, 2)
    mean, std = input_normalization(info)
    assert mean.tolist() == [127.5] and std.tolist() == [127.5]


def test_reads_the_published_deeplab_labels():
    assert list(read_associated_files(DEEPLAB_WITH_METADATA)) == ["labelmap.txt"]
    labels = read_labels(DEEPLAB_WITH_METADATA)
    assert labels is not None and len(labels) == VOC_CLASSES
    assert (labels[0], labels[PERSON]) == ("background", "person")


def test_reads_the_published_magenta_metadata():
    info = read_metadata(MAGENTA_WITH_METADATA)
    assert info is not None and info.name == "Arbitrary Style Transfer"
    assert [t.name for t in info.inputs] == ["content_image", "style_bottleneck"]
    assert info.inputs[1].color_space is None  # a feature vector, not an image
    assert input_normalization(info) is not None
    assert info.inputs[0].std == (255.0,)
    assert info.outputs[0].std == pytest.approx((1 / 255,))  # the output times 255 is a pixel
    assert read_associated_files(MAGENTA_WITH_METADATA) == {}


def test_a_model_without_metadata_gives_none():
    assert read_metadata(DEEPLAB) is None
    assert read_associated_files(DEEPLAB) == {}
    assert read_labels(DEEPLAB) is None
    assert input_normalization(read_metadata(DEEPLAB)) is None


def test_written_metadata_reads_back_equal(written):
    info = read_metadata(written)
    assert info == INFO
    assert info is not None and info.min_parser_version == "1.0.0"


def test_the_label_file_round_trips(written):
    assert read_associated_files(written) == {"labels.txt": LABELS}
    labels = read_labels(written)
    assert labels is not None and labels[PERSON] == f"class{PERSON}"
    # stored uncompressed, as the official C++ reader needs
    with zipfile.ZipFile(io.BytesIO(written)) as archive:
        assert archive.getinfo("labels.txt").compress_type == zipfile.ZIP_STORED


def test_the_written_model_runs_identically(written):
    assert np.array_equal(_run(written), _run(DEEPLAB.read_bytes()))


def test_writing_again_replaces_the_metadata_and_the_packed_files(written):
    plain = TensorInfo(name="scores")
    info = ModelInfo(name="again", inputs=INFO.inputs, outputs=[plain])
    again = write_metadata(written, info)
    assert read_metadata(again) == info
    assert read_associated_files(again) == {}
    # the metadata buffer is reused: one buffer more than the bare model, as before
    assert _buffer_count(again) == _buffer_count(written) == _buffer_count(DEEPLAB.read_bytes()) + 1


def test_rewriting_the_published_model_keeps_its_metadata():
    data = DEEPLAB_WITH_METADATA.read_bytes()
    info, files = read_metadata(data), read_associated_files(data)
    assert info is not None
    again = write_metadata(data, info, files)
    assert read_metadata(again) == info and read_associated_files(again) == files


@pytest.mark.parametrize(
    "garbage",
    [b"", b"not a model at all", b"\0\0\0\0TFL3", bytes(range(256)) * 4],
    ids=["empty", "text", "header-only", "bytes"],
)
def test_garbage_gives_a_clear_error(garbage):
    with pytest.raises(ValueError, match="TensorFlow Lite model"):
        read_metadata(garbage)
    with pytest.raises(ValueError, match="TensorFlow Lite model"):
        write_metadata(garbage, INFO)


def test_damaged_metadata_gives_a_clear_error(written):
    damaged = written.replace(b"M001", b"XXXX", 1)
    with pytest.raises(ValueError, match="no M001 identifier"):
        read_metadata(damaged)


def test_the_writer_checks_the_info_against_the_model():
    model = DEEPLAB.read_bytes()
    with pytest.raises(ValueError, match="1 output"):
        write_metadata(model, ModelInfo(inputs=INFO.inputs))
    with pytest.raises(ValueError, match="not given"):
        write_metadata(model, INFO)
    with pytest.raises(ValueError, match="not any tensor's label_file"):
        write_metadata(model, INFO, {"labels.txt": LABELS, "extra.txt": b""})


def test_tensor_info_checks_normalization():
    with pytest.raises(ValueError, match="both mean and std"):
        TensorInfo(mean=[0.0])
    with pytest.raises(ValueError, match="non-zero"):
        TensorInfo(mean=[0.0], std=[0.0])
    # kept at the file's float32 precision, so a round trip compares equal
    assert TensorInfo(mean=[0.1], std=[1]).mean == (float(np.float32(0.1)),)
