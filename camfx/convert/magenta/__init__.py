"""Rebuild the Magenta arbitrary-style-transfer *transfer network* as a Keras model.

The published network (``style_transfer_f16_384.tflite``) ships no training graph, only a
.tflite whose weights are float16 constants behind DEQUANTIZE ops. This module reads the
layer sequence and the weights back out of that flatbuffer, walking its operators from the
content input to the output, and builds the same network in Keras:

- contract: reflect pad -> conv (+ bias, ReLU) x3, the last two with stride 2
- five residual blocks: (reflect pad -> conv -> conditional instance norm [-> ReLU]) x2 + x
- expand: (nearest x2 upsample) -> reflect pad -> conv -> conditional instance norm -> ReLU,
  x3, the last one ending in a sigmoid instead.

"Conditional instance norm" normalizes each channel over the image and scales and shifts
it by gamma and beta computed from the 100-float style bottleneck by 1x1 convs.

The Keras model uses plain TF ops (tf.pad REFLECT, Conv2D, mean, squared difference,
rsqrt, nearest resize without half-pixel centres) so that converting it back gives the
usual TFLite builtins, at any input size divisible by 4. It needs the TensorFlow backend.
Its weights are the dequantized float32 values, so it matches the published model up to
float rounding (see ``compare_with_tflite``).

The package: :mod:`.structure` (the network as data), :mod:`.reader` (read from the
.tflite), :mod:`.layers` and :mod:`.keras_model` (the Keras model and its export),
:mod:`.checks` (its output against the published model's).
"""

from __future__ import annotations

from camfx.convert.magenta.checks import Comparison, compare_with_tflite, reference_tflite
from camfx.convert.magenta.keras_model import (
    build_transfer_model,
    save_saved_model,
    tflite_from_saved_model,
)
from camfx.convert.magenta.layers import (
    ConditionalInstanceNorm,
    MirrorPad,
    NearestUpsample,
    custom_objects,
)
from camfx.convert.magenta.reader import read_transfer_weights
from camfx.convert.magenta.structure import (
    Block,
    ConvLayer,
    ResidualBlock,
    StyleAffine,
    StyleNorm,
    TransferModelError,
    TransferWeights,
)

__all__ = [
    "Block",
    "Comparison",
    "ConditionalInstanceNorm",
    "ConvLayer",
    "MirrorPad",
    "NearestUpsample",
    "ResidualBlock",
    "StyleAffine",
    "StyleNorm",
    "TransferModelError",
    "TransferWeights",
    "build_transfer_model",
    "compare_with_tflite",
    "custom_objects",
    "read_transfer_weights",
    "reference_tflite",
    "save_saved_model",
    "tflite_from_saved_model",
]
