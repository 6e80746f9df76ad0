"""The Magenta transfer network as data: its blocks in order, each conv layer's weights
and options, and the error for a file that is not this network. Read from a .tflite by
:mod:`.reader`, built into Keras by :mod:`.keras_model`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class TransferModelError(ValueError):
    """The .tflite is not the Magenta transfer network (or a variant we cannot rebuild)."""


@dataclass(frozen=True)
class StyleAffine:
    """gamma or beta of one norm: bottleneck [.., 100] @ kernel + bias -> [.., C]."""

    kernel: np.ndarray  # [bottleneck, C] float32
    bias: np.ndarray  # [C] float32


@dataclass(frozen=True)
class StyleNorm:
    """Conditional instance norm: (x - mean) * rsqrt(var + eps) * gamma + beta."""

    gamma: StyleAffine
    beta: StyleAffine
    epsilon: float


@dataclass(frozen=True)
class ConvLayer:
    """[nearest upsample] -> [mirror pad] -> conv -> [style norm] -> activation."""

    name: str
    kernel: np.ndarray  # [KH, KW, Cin, Cout] float32 (Keras layout)
    bias: np.ndarray  # [Cout] float32
    strides: tuple[int, int]
    dilation: tuple[int, int]
    padding: str  # the conv's own padding: "valid" (pads are explicit here) or "same"
    pads: tuple[tuple[int, int], tuple[int, int]]  # mirror padding (top, bottom), (left, right)
    pad_mode: str  # "REFLECT" or "SYMMETRIC" (tf.pad modes)
    upsample: tuple[int, int]  # nearest-neighbour factors before the padding; (1, 1): none
    norm: StyleNorm | None
    activation: str  # "linear", "relu" or "sigmoid"


@dataclass(frozen=True)
class ResidualBlock:
    """x + layers(x)."""

    name: str
    layers: tuple[ConvLayer, ...]


Block = ConvLayer | ResidualBlock


@dataclass(frozen=True)
class TransferWeights:
    """The network read from a .tflite: its blocks in order and the sizes it was saved for."""

    blocks: tuple[Block, ...]
    content_size: tuple[int, int]  # (H, W) of the file's content input
    bottleneck_size: int  # 100 for the published network

    def layers(self) -> list[ConvLayer]:
        """Every conv layer, residual blocks flattened, in order."""
        out: list[ConvLayer] = []
        for block in self.blocks:
            out.extend(block.layers if isinstance(block, ResidualBlock) else [block])
        return out
