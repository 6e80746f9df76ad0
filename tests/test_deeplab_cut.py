"""DeepLab cut before its final upsampling gives the published model's probability."""

from __future__ import annotations

import logging

import cv2
import numpy as np
import pytest

from camfx.models import derived
from camfx.models import registry as models
from camfx.models.segmentation import DeepLabSegmenter, create_segmenter
from camfx.tflite import deeplab_cut
from camfx.tflite.deeplab_cut import strip_final_upsampling, upsample_aligned
from tests.conftest import MEDIA, read_video_frames


@pytest.fixture(scope="module")
def model_inputs():
    frames = read_video_frames(MEDIA / "portrait_720.mp4", every=90)
    frames.append(cv2.imread(str(MEDIA / "kitchen.jpg")))
    return [cv2.cvtColor(cv2.resize(f, (257, 257)), cv2.COLOR_BGR2RGB) for f in frames]


def test_the_cut_model_gives_the_published_probability(model_inputs):
    cut = create_segmenter("deeplab", device="cpu")
    published = DeepLabSegmenter(models.load("deeplab", device="cpu"))
    assert cut._model.outputs[0].shape == (1, 33, 33, 21)  # 64x fewer logits
    assert published._model.outputs[0].shape == (1, 257, 257, 21)
    for rgb in model_inputs:
        ours, theirs = cut.person_probability(rgb), published.person_probability(rgb)
        assert ours.shape == theirs.shape == (257, 257)
        difference = np.abs(ours - theirs)
        # measured: max 1.2e-3 where the runner-up class changes between grid points
        # (the max of interpolations is not the interpolation of the max), mean 2e-6
        assert difference.max() < 5e-3 and difference.mean() < 1e-5
        assert (theirs > 0.5).sum() > 1000  # a person was there to compare


def test_the_cut_model_is_built_once_into_the_cache(isolated_env):
    published = models.require("deeplab")
    path = derived.deeplab_logits_model(published)
    assert path.is_relative_to(isolated_env) and path.stat().st_size > 0
    built = path.stat().st_mtime_ns
    assert derived.deeplab_logits_model(published) == path
    assert path.stat().st_mtime_ns == built


def test_only_a_model_ending_in_a_bilinear_resize_is_cut():
    with pytest.raises(ValueError, match="bilinear resize"):
        strip_final_upsampling(models.require("selfie").read_bytes())


def test_without_the_cut_deeplab_runs_as_published(monkeypatch, caplog, model_inputs):
    def refuse(data: bytes) -> bytes:
        raise ValueError("no schema here")

    monkeypatch.setattr(deeplab_cut, "strip_final_upsampling", refuse)
    with caplog.at_level(logging.WARNING):
        segmenter = create_segmenter("deeplab", device="cpu")
    assert "DeepLab runs as published (no schema here)" in caplog.text
    assert segmenter._model.outputs[0].shape == (1, 257, 257, 21)
    assert (segmenter.person_probability(model_inputs[0]) > 0.5).sum() > 1000


def test_upsampling_aligns_the_corners_as_tensorflow_does():
    grid = np.float32([[0, 8], [16, 24]])
    up = upsample_aligned(grid, (3, 5))
    assert up[0, 0] == 0 and up[0, -1] == 8 and up[-1, 0] == 16 and up[-1, -1] == 24
    assert up[1, 2] == pytest.approx(12)  # the middle: the mean of the four
    assert up[0, 1] == pytest.approx(2)  # a quarter of the way along the top
