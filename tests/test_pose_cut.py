"""The pose model cut to its person mask gives the published model's mask."""

from __future__ import annotations

import logging

import cv2
import numpy as np
import pytest

from camfx.models import derived
from camfx.models import registry as models
from camfx.models.runtime import load_model
from camfx.models.segmentation import PoseSegmenter, create_segmenter
from camfx.tflite import graph
from camfx.tflite.graph import keep_outputs
from tests.conftest import MEDIA, SHARED, read_video_frames


@pytest.fixture(scope="module")
def model_inputs():
    frames = read_video_frames(MEDIA / "portrait_720.mp4", every=90)
    frames.append(cv2.imread(str(SHARED / "eval" / "real" / "images" / "ccp_0028.jpg")))
    return [cv2.cvtColor(cv2.resize(f, (256, 256)), cv2.COLOR_BGR2RGB) for f in frames]


@pytest.mark.parametrize("name", ["pose-lite", "pose"])
def test_the_model_cut_to_its_mask_gives_the_published_mask(name, model_inputs):
    cut = PoseSegmenter(load_model(derived.mask_model(models.require(name), 2), 1, "cpu"))
    published = PoseSegmenter(models.load(name, device="cpu"))
    assert [o.shape for o in cut._model.outputs] == [(1, 256, 256, 1)]
    assert len(published._model.outputs) == 5  # landmarks, flag, mask, heatmap, world
    for rgb in model_inputs:
        ours, theirs = cut.person_probability(rgb), published.person_probability(rgb)
        assert np.abs(ours - theirs).max() < 1e-4
        assert (theirs > 0.5).sum() > 1000  # a person was there to compare


def test_the_lite_model_runs_at_224_and_finds_the_person_it_finds_at_256(model_inputs):
    """Its resizes scaled with its input: the same network on a coarser picture. On a
    whole person standing (the pose model's use) the two masks agree (IoU 0.987); on
    webcam close-ups, which it never sees in camfx, 0.89-0.94."""
    lite = create_segmenter("pose-lite", device="cpu")
    assert lite.input_size == (224, 224)
    assert [o.shape for o in lite._model.outputs] == [(1, 224, 224, 1)]
    published = PoseSegmenter(models.load("pose-lite", device="cpu"))
    for rgb, least in zip(model_inputs, (0.85, 0.85, 0.85, 0.97), strict=True):
        ours = cv2.resize(lite.person_probability(cv2.resize(rgb, (224, 224),
                                                             interpolation=cv2.INTER_AREA)),
                          (256, 256)) > 0.5
        theirs = published.person_probability(rgb) > 0.5
        assert (ours & theirs).sum() / (ours | theirs).sum() > least


def test_only_outputs_the_model_has_can_be_kept():
    data = models.require("pose-lite").read_bytes()
    for outputs in ([], [5], [-1]):
        with pytest.raises(ValueError, match="out of range"):
            keep_outputs(data, outputs)


def test_without_the_cut_the_pose_model_runs_as_published(monkeypatch, caplog, model_inputs):
    def refuse(data: bytes, outputs) -> bytes:
        raise ValueError("no schema here")

    monkeypatch.setattr(graph, "keep_outputs", refuse)
    with caplog.at_level(logging.WARNING):
        segmenter = create_segmenter("pose-lite", device="cpu")
    assert "pose-lite runs as published (no schema here)" in caplog.text
    assert len(segmenter._model.outputs) == 5
    assert segmenter.input_size == (256, 256)  # the published model's own
    assert (segmenter.person_probability(model_inputs[-1]) > 0.5).sum() > 1000


def test_a_signature_keeps_only_the_outputs_kept():
    """A model with a signature (as TensorFlow's converter writes them): the signature
    names the kept output only, and the runtime can run the model by it."""
    from ai_edge_litert import schema_py_generated as schema

    model = graph.load_model_object(models.require("pose-lite").read_bytes())
    signature = schema.SignatureDefT()
    signature.signatureKey = b"serving_default"
    entries = []
    for name, tensor in (("image", model.sg.inputs[0]), *(
            (f"out{i}", t) for i, t in enumerate(model.sg.outputs))):
        entry = schema.TensorMapT()
        entry.name, entry.tensorIndex = name.encode(), int(tensor)
        entries.append(entry)
    signature.inputs, signature.outputs = entries[:1], entries[1:]
    signature.subgraphIndex = 0
    model.model.signatureDefs = [signature]
    cut = keep_outputs(graph.pack_model(model), [2])
    runner = graph.interpreter(cut, threads=1)
    assert runner.get_signature_list() == {"serving_default": {"inputs": ["image"],
                                                               "outputs": ["out2"]}}
    run = runner.get_signature_runner("serving_default")
    out = run(image=np.zeros((1, 256, 256, 3), np.float32))
    assert out["out2"].shape == (1, 256, 256, 1)


def test_a_size_its_resizes_cannot_follow_is_refused():
    data = keep_outputs(models.require("pose-lite").read_bytes(), [2])
    with pytest.raises(ValueError, match="200x200 does not divide"):
        graph.with_input_size(data, 200, 200)  # its 16x16 resize would be 12.5
    resized = graph.interpreter(graph.with_input_size(data, 192, 192))
    resized.allocate_tensors()
    assert list(resized.get_output_details()[0]["shape"]) == [1, 192, 192, 1]
