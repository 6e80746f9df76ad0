"""camfx runs a segmentation model as its TFLite metadata says (camfx.tflite.metadata).

The published DeepLab with metadata (``lite-model_deeplabv3_1_metadata_2.tflite``) stands
in for a user's own converted model: nothing in camfx knows it by name, yet its metadata
(mean/std 127.5, a label file with "person") is enough to run it.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from camfx.errors import CamfxError
from camfx.models import registry as models
from camfx.models.segmentation import DeepLabSegmenter, ModelFileSegmenter, create_segmenter
from camfx.tflite import metadata
from tests.conftest import MEDIA, MODELS_DIR, chroma_key_person, read_video_frames, run_camfx

DEEPLAB_WITH_METADATA = MODELS_DIR / "lite-model_deeplabv3_1_metadata_2.tflite"


@pytest.fixture(scope="module")
def frame() -> np.ndarray:
    return read_video_frames(MEDIA / "portrait_720.mp4", every=100)[1]


def test_a_model_file_is_run_by_its_metadata_as_the_bundled_deeplab(frame):
    own = create_segmenter(str(DEEPLAB_WITH_METADATA), device="cpu", fit="crop")
    assert isinstance(own, ModelFileSegmenter)
    assert float(np.ravel(own.mean)[0]) == 127.5 and float(np.ravel(own.std)[0]) == 127.5
    # the bundled DeepLab as published (camfx runs it cut before its upsampling)
    bundled = DeepLabSegmenter(models.load("deeplab", device="cpu"), fit="crop")
    bundled.EDGE_LOGIT = 0.0  # the model file's edge is the plain two-way comparison
    difference = np.abs(own.probability_map(frame) - bundled.probability_map(frame))
    assert difference.max() < 1e-4  # the same network, fed the same pixels
    truth = chroma_key_person(frame)
    mask = cv2.resize(own.segment(frame), truth.shape[::-1]) > 0.5
    assert (mask & truth).sum() / (mask | truth).sum() > 0.85


def test_metadata_normalization_is_what_the_model_gets(tmp_path, frame):
    """The selfie model relabelled with another normalization gets pixels in [0, 255] and
    answers differently: camfx reads the file's metadata rather than assuming [0, 1]."""
    source = MODELS_DIR / "selfie_segmentation.tflite"
    info = metadata.read_metadata(source)
    assert np.ravel(metadata.input_normalization(info)[1])[0] == 255.0
    wrong = metadata.ModelInfo(
        name="selfie, told raw pixels [0, 255]",
        inputs=[metadata.TensorInfo(name="input", mean=(0.0,), std=(1.0,),
                                    color_space=metadata.ColorSpace.RGB)],
        outputs=[metadata.TensorInfo(name="mask")],
    )
    relabelled = tmp_path / "selfie_0_255.tflite"
    relabelled.write_bytes(metadata.write_metadata(source.read_bytes(), wrong))
    right = create_segmenter(str(source), device="cpu").probability_map(frame)
    told = create_segmenter(str(relabelled), device="cpu").probability_map(frame)
    bundled = create_segmenter("selfie", device="cpu").probability_map(frame)
    assert np.abs(right - bundled).max() < 1e-5
    assert np.abs(told - right).mean() > 0.05


def test_a_multi_class_model_without_a_person_label_is_refused_in_one_line():
    with pytest.raises(CamfxError, match="no 'person' label") as error:
        create_segmenter(str(MODELS_DIR / "style_transfer_f16_384.tflite"), device="cpu")
    assert "\n" not in str(error.value)


def test_segmenter_file_on_the_command_line(tmp_path):
    out = tmp_path / "own.mp4"
    result = run_camfx(
        "--input", str(MEDIA / "suit_whitebg.jpg"), "--segmenter", str(DEEPLAB_WITH_METADATA),
        "--no-window", "--record", str(out),
    )
    assert result.returncode == 0, result.stderr
    assert out.stat().st_size > 0
    missing = run_camfx("--input", str(MEDIA / "suit_whitebg.jpg"), "--segmenter",
                        str(tmp_path / "nope.tflite"), "--no-window")
    assert missing.returncode == 2
    assert "nope.tflite not found" in missing.stderr.strip().splitlines()[-1]
    unknown = run_camfx("--segmenter", "deeplap", "--no-window")
    assert unknown.returncode == 2 and "unknown segmenter 'deeplap'" in unknown.stderr
