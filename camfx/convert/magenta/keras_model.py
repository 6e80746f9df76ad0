"""Build the transfer network read by :mod:`.reader` as a keras.Model for any size, and
export it (SavedModel, plain TFLite conversion)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from camfx.convert.magenta.layers import ConditionalInstanceNorm, MirrorPad, NearestUpsample
from camfx.convert.magenta.reader import read_transfer_weights
from camfx.convert.magenta.structure import ConvLayer, ResidualBlock, StyleAffine, TransferWeights
from camfx.tflite.transfer.network import CONTENT_CHANNELS, check_size


def build_transfer_model(
    path: str | Path | TransferWeights,
    size: tuple[int, int] = (384, 384),
    batch_size: int | None = 1,
) -> keras.Model:
    """A keras.Model of the transfer network read from ``path`` for an H x W content image.

    Inputs ``content_image`` [B, H, W, 3] in [0, 1] and ``style_bottleneck`` [B or 1, 1, 1,
    N]; output the stylized [B, H, W, 3] in [0, 1]. ``batch_size=None`` leaves the batch
    dimension free (batch 1 converts to the published model's static signature).
    """
    weights = path if isinstance(path, TransferWeights) else read_transfer_weights(path)
    height, width = (int(v) for v in size)
    check_size(height, width, max_size=None)
    content = keras.Input((height, width, CONTENT_CHANNELS), batch_size, name="content_image")
    style = keras.Input((1, 1, weights.bottleneck_size), batch_size, name="style_bottleneck")

    x = content
    for block in weights.blocks:
        if isinstance(block, ResidualBlock):
            y = x
            for layer in block.layers:
                y = _apply(layer, y, style)
            x = keras.layers.Add(name=f"{block.name}_add")([x, y])
        else:
            x = _apply(block, x, style)
    return keras.Model([content, style], x, name="magenta_transfer")


def _apply(layer: ConvLayer, x: Any, style: Any) -> Any:
    if layer.upsample != (1, 1):  # a resize to the same size is a copy: dropped
        x = NearestUpsample(layer.upsample, name=f"{layer.name}_upsample")(x)
    if any(any(p) for p in layer.pads):
        x = MirrorPad(layer.pads, layer.pad_mode, name=f"{layer.name}_pad")(x)
    fused = layer.activation if layer.norm is None and layer.activation != "sigmoid" else None
    conv = keras.layers.Conv2D(
        layer.kernel.shape[-1],
        layer.kernel.shape[:2],
        strides=layer.strides,
        padding=layer.padding,
        dilation_rate=layer.dilation,
        activation=fused,
        name=layer.name,
    )
    x = conv(x)
    conv.set_weights([layer.kernel, layer.bias])
    if layer.norm is not None:
        gamma = _style_conv(layer.norm.gamma, style, f"{layer.name}_gamma")
        beta = _style_conv(layer.norm.beta, style, f"{layer.name}_beta")
        norm = ConditionalInstanceNorm(layer.norm.epsilon, name=f"{layer.name}_norm")
        x = norm([x, gamma, beta])
        if layer.activation == "relu":
            x = keras.layers.ReLU(name=f"{layer.name}_relu")(x)
    if layer.activation == "sigmoid":
        x = keras.layers.Activation("sigmoid", name=f"{layer.name}_sigmoid")(x)
    return x


def _style_conv(affine: StyleAffine, style: Any, name: str) -> Any:
    """gamma or beta as a 1x1 conv on the [B, 1, 1, N] bottleneck, as the published graph."""
    conv = keras.layers.Conv2D(affine.kernel.shape[1], 1, name=name)
    out = conv(style)
    conv.set_weights([affine.kernel[None, None], affine.bias])
    return out


def save_saved_model(model: keras.Model, directory: str | Path) -> Path:
    """Export ``model`` as a SavedModel (signature ``serving_default``: inputs
    ``content_image`` and ``style_bottleneck``, output ``output_0``)."""
    directory = Path(directory)
    model.export(str(directory), format="tf_saved_model", verbose=False)
    return directory


def tflite_from_saved_model(directory: str | Path) -> bytes:
    """A SavedModel converted as it is (float32 weights, no optimizations)."""
    converter = tf.lite.TFLiteConverter.from_saved_model(str(directory))
    return bytes(converter.convert())
