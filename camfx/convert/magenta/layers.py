"""The Keras layers the rebuilt transfer network needs beyond Keras' own: mirror padding,
nearest upsampling as TFLite does it, and the conditional instance norm in the published
graph's op order (hence the same rounding).

Registered under the ``camfx>`` prefix when imported, so a saved .keras file of the
rebuilt network loads with a plain ``keras.models.load_model``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import tensorflow as tf

KERAS_PACKAGE = "camfx"


@keras.saving.register_keras_serializable(package=KERAS_PACKAGE)
class MirrorPad(keras.layers.Layer):
    """tf.pad REFLECT/SYMMETRIC on height and width (TFLite MIRROR_PAD)."""

    def __init__(self, pads: Sequence[Sequence[int]], mode: str = "REFLECT", **kw: Any):
        super().__init__(**kw)
        self.pads = [[int(a), int(b)] for a, b in pads]
        self.mode = mode

    def call(self, x: Any) -> Any:
        return tf.pad(x, [[0, 0], *self.pads, [0, 0]], mode=self.mode)

    def compute_output_shape(self, shape: Sequence[int | None]) -> tuple[int | None, ...]:
        n, h, w, c = shape
        (t, b), (lft, r) = self.pads
        return (n, None if h is None else h + t + b, None if w is None else w + lft + r, c)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "pads": self.pads, "mode": self.mode}


@keras.saving.register_keras_serializable(package=KERAS_PACKAGE)
class NearestUpsample(keras.layers.Layer):
    """Nearest-neighbour upsampling by integer factors without half-pixel centres: TFLite
    RESIZE_NEAREST_NEIGHBOR as in the published graph, which the size optimizer rewrites
    (keras' UpSampling2D repeats instead; tf.image.resize sets half_pixel_centers)."""

    def __init__(self, factors: Sequence[int] = (2, 2), **kw: Any):
        super().__init__(**kw)
        self.factors = [int(f) for f in factors]

    def call(self, x: Any) -> Any:
        fh, fw = self.factors
        h, w = x.shape[1], x.shape[2]
        if h is None or w is None:
            dynamic = tf.shape(x)
            size = tf.stack([dynamic[1] * fh, dynamic[2] * fw])
        else:  # static: a constant, as in the published graph
            size = tf.constant([h * fh, w * fw], tf.int32)
        return tf.raw_ops.ResizeNearestNeighbor(
            images=x, size=size, align_corners=False, half_pixel_centers=False
        )

    def compute_output_shape(self, shape: Sequence[int | None]) -> tuple[int | None, ...]:
        n, h, w, c = shape
        fh, fw = self.factors
        return (n, None if h is None else h * fh, None if w is None else w * fw, c)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "factors": self.factors}


@keras.saving.register_keras_serializable(package=KERAS_PACKAGE)
class ConditionalInstanceNorm(keras.layers.Layer):
    """Inputs [x, gamma, beta]. The published graph's op order, hence the same rounding:
    s = rsqrt(var + eps) * gamma; x * s + (beta - mean * s)."""

    def __init__(self, epsilon: float = 1e-5, **kw: Any):
        super().__init__(**kw)
        self.epsilon = float(epsilon)

    def call(self, inputs: Sequence[Any]) -> Any:
        x, gamma, beta = inputs
        mean = tf.reduce_mean(x, axis=[1, 2], keepdims=True)
        var = tf.reduce_mean(tf.math.squared_difference(x, mean), axis=[1, 2], keepdims=True)
        scale = tf.math.rsqrt(var + self.epsilon) * gamma
        return x * scale + (beta - mean * scale)

    def compute_output_shape(self, shapes: Sequence[Any]) -> tuple[int | None, ...]:
        return tuple(shapes[0])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "epsilon": self.epsilon}


def custom_objects() -> dict[str, type]:
    """The custom layers, for keras.models.load_model (importing this module registers
    them under the 'camfx>' prefix, so a plain load_model finds them too)."""
    return {
        "MirrorPad": MirrorPad,
        "NearestUpsample": NearestUpsample,
        "ConditionalInstanceNorm": ConditionalInstanceNorm,
    }
