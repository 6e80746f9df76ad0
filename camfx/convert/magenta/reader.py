"""Read the Magenta transfer network's layers and float32 weights back out of the
published .tflite, walking its operators from the content input to the output.

Every op must be explained by one of the network's patterns (reflect pad, conv, the
conditional instance norm op by op as TensorFlow wrote it, residual ADDs, nearest
upsampling), or the file is refused as another network: a rebuild that silently skipped
an op would not be the same network.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from camfx.convert.magenta.structure import (
    Block,
    ConvLayer,
    ResidualBlock,
    StyleAffine,
    StyleNorm,
    TransferModelError,
    TransferWeights,
)

# the flatbuffer reader the size optimizer already uses (object API of LiteRT's schema)
from camfx.tflite.graph import DECODE_ERRORS, OP_NAMES, Graph, Op, load_model_object
from camfx.tflite.transfer.network import CONTENT_CHANNELS

_ACTIVATIONS = {0: "linear", 1: "relu"}  # TFLite fused activation codes this network uses
_CONV_PADDING = {0: "same", 1: "valid"}  # schema.Padding


def read_transfer_weights(path: str | Path) -> TransferWeights:
    """The transfer network's structure and float32 weights, read from a .tflite.

    Walks the graph from the content input to the output, matching each op against the
    network's patterns; raises TransferModelError if the file is another network, or the
    int8 variant (whose activations are quantized too).
    """
    path = Path(path)
    data = path.read_bytes()
    try:
        graph = load_model_object(data)
    except DECODE_ERRORS as error:  # what flatbuffers raises on a damaged file
        raise TransferModelError(f"{path}: not a readable TFLite model ({error})") from None
    return _Reader(graph, path).read()


class _Reader:
    """One pass over a graph; every op must be explained by a pattern, or it is not ours."""

    def __init__(self, graph: Graph, path: Path) -> None:
        self.g = graph
        self.path = path
        self.producers = graph.producers()
        self.consumers = graph.consumers()
        self.used: set[int] = set()  # id() of ops explained so far
        self.names: set[str] = set()

    # -------------------------------------------------------------- errors and helpers

    def fail(self, what: str) -> TransferModelError:
        return TransferModelError(
            f"{self.path.name} is not the Magenta style transfer network: {what}"
        )

    def kind_name(self, op: Any) -> str:
        return self.kind_name_of(self.g.kind(op))

    def tname(self, tensor: int) -> str:
        return self.g.tensor(tensor).name.decode(errors="replace")

    def users(self, tensor: int) -> list[Any]:
        return [op for op in self.consumers.get(tensor, []) if id(op) not in self.used]

    def sole_user(self, tensor: int, *kinds: int) -> Any:
        users = self.users(tensor)
        if len(users) != 1 or self.g.kind(users[0]) not in kinds:
            found = ", ".join(self.kind_name(op) for op in users) or "nothing"
            wanted = " or ".join(self.kind_name_of(k) for k in kinds)
            raise self.fail(f"{self.tname(tensor)} feeds {found}, expected {wanted}")
        return self.take(users[0])

    def user_of_kind(self, tensor: int, kind: int) -> Any:
        found = [op for op in self.users(tensor) if self.g.kind(op) == kind]
        if len(found) != 1:
            raise self.fail(f"{self.tname(tensor)} does not feed one {self.kind_name_of(kind)}")
        return self.take(found[0])

    def kind_name_of(self, kind: int) -> str:
        return OP_NAMES.get(kind, str(kind))

    def take(self, op: Any) -> Any:
        self.used.add(id(op))
        return op

    def const(self, tensor: int) -> np.ndarray:
        """A constant (through DEQUANTIZE of float16 weights) as float32."""
        value = self.g.float_value(tensor)
        if value is None:
            raise self.fail(f"{self.tname(tensor)} should be a float constant")
        maker = self.producers.get(tensor)
        if maker is not None and self.g.kind(maker) == Op.DEQUANTIZE:
            self.take(maker)
        return value

    def int_const(self, tensor: int) -> np.ndarray:
        value = self.g.data(tensor)
        if value is None or value.dtype.kind not in "iu":
            raise self.fail(f"{self.tname(tensor)} should be an integer constant")
        return value.astype(np.int64)

    def other_input(self, op: Any, known: int) -> int:
        inputs = [int(t) for t in op.inputs]
        if len(inputs) != 2 or known not in inputs:
            name = self.tname(op.outputs[0])
            raise self.fail(f"unexpected inputs to {self.kind_name(op)} {name}")
        return inputs[1] if inputs[0] == known else inputs[0]

    def unique_name(self, tensor: int) -> str:
        """A Keras layer name from the TF scope, e.g. 'residual_residual1_conv1'."""
        parts = self.tname(tensor).split("/")[:-1]  # drop the op name (Relu, Conv2D, ...)
        parts = [p for p in parts if p not in ("transformer", "conv")] or ["conv"]
        base = re.sub(r"[^A-Za-z0-9_]", "_", "_".join(parts))
        name, n = base, 1
        while name in self.names:
            n += 1
            name = f"{base}_{n}"
        self.names.add(name)
        return name

    # -------------------------------------------------------------- the walk

    def read(self) -> TransferWeights:
        g = self.g
        content, bottleneck = self.inputs()
        if any(g.kind(op) == Op.QUANTIZE for op in g.ops):
            raise TransferModelError(
                f"{self.path.name} computes in int8 (quantized activations): its float "
                "network cannot be read back exactly; use style_transfer_f16_384.tflite"
            )
        if len(g.sg.outputs) != 1:
            raise self.fail(f"{len(g.sg.outputs)} outputs, expected 1")
        self.bottleneck = bottleneck
        output = int(g.sg.outputs[0])
        blocks: list[Block] = []
        x = content
        while x != output:
            if len(blocks) > 64:  # a cycle would be a broken file; never loop forever
                raise self.fail("no path from the content image to the output")
            users = self.users(x)
            adds = [op for op in users if g.kind(op) == Op.ADD]
            if len(users) == 2 and len(adds) == 1:
                block, x = self.residual(x, adds[0])
            elif len(users) == 1:
                block, x = self.conv_layer(x)
            else:
                found = ", ".join(self.kind_name(op) for op in users) or "nothing"
                raise self.fail(f"{self.tname(x)} feeds {found}")
            blocks.append(block)
        self.check_all_used()
        _, h, w, _ = g.shape(content)
        return TransferWeights(tuple(blocks), (h, w), g.shape(bottleneck)[-1])

    def inputs(self) -> tuple[int, int]:
        shapes = {int(t): self.g.shape(t) for t in self.g.sg.inputs}
        content = [t for t, s in shapes.items() if len(s) == 4 and s[-1] == CONTENT_CHANNELS]
        style = [t for t, s in shapes.items() if len(s) == 4 and s[1:3] == (1, 1)]
        if len(shapes) != 2 or len(content) != 1 or len(style) != 1 or content == style:
            desc = ", ".join(f"{self.tname(t)} {list(s)}" for t, s in shapes.items())
            raise self.fail(
                f"inputs are {desc}; expected a [1, H, W, 3] content image and a "
                "[1, 1, 1, N] style bottleneck"
            )
        return content[0], style[0]

    def check_all_used(self) -> None:
        left = [op for op in self.g.ops if id(op) not in self.used]
        if left:
            desc = ", ".join(f"{self.kind_name(op)} {self.tname(op.outputs[0])}" for op in left[:5])
            raise self.fail(f"{len(left)} ops not on the network's path, e.g. {desc}")

    def residual(self, x: int, add: Any) -> tuple[ResidualBlock, int]:
        layers: list[ConvLayer] = []
        y = x
        first = next(op for op in self.users(x) if op is not add)
        while True:
            layer, y = self.conv_layer(y, first if not layers else None)
            layers.append(layer)
            if add in self.users(y):
                break
            if len(layers) > 8:
                raise self.fail(f"the residual block from {self.tname(x)} never closes")
        self.take(add)
        if sorted(int(t) for t in add.inputs) != sorted((x, y)):
            raise self.fail(f"residual ADD {self.tname(add.outputs[0])} has other inputs")
        if add.builtinOptions.fusedActivationFunction != 0:
            raise self.fail("a residual ADD with an activation")
        name = layers[0].name.rsplit("_", 1)[0] if "_" in layers[0].name else layers[0].name
        return ResidualBlock(name, tuple(layers)), int(add.outputs[0])

    def conv_layer(self, x: int, first: Any = None) -> tuple[ConvLayer, int]:
        """The layer from ``x``; ``first``: its first op where ``x`` also feeds others."""
        g = self.g
        kinds = (Op.RESIZE_NEAREST_NEIGHBOR, Op.MIRROR_PAD, Op.CONV_2D)
        if first is None:
            op = self.sole_user(x, *kinds)
        elif g.kind(first) in kinds:
            op = self.take(first)
        else:
            raise self.fail(f"{self.tname(x)} feeds {self.kind_name(first)}")
        upsample = (1, 1)
        if g.kind(op) == Op.RESIZE_NEAREST_NEIGHBOR:
            upsample = self.upsample_factor(op)
            op = self.sole_user(int(op.outputs[0]), Op.MIRROR_PAD, Op.CONV_2D)
        pads, pad_mode = ((0, 0), (0, 0)), "REFLECT"
        if g.kind(op) == Op.MIRROR_PAD:
            pads, pad_mode = self.mirror_pads(op)
            op = self.sole_user(int(op.outputs[0]), Op.CONV_2D)
        conv = op
        o = conv.builtinOptions
        weights = self.const(int(conv.inputs[1]))  # [O, KH, KW, I]
        has_bias = len(conv.inputs) > 2 and conv.inputs[2] >= 0
        bias = self.const(int(conv.inputs[2])) if has_bias else np.zeros(len(weights), np.float32)
        if o.padding not in _CONV_PADDING or o.fusedActivationFunction not in _ACTIVATIONS:
            raise self.fail(f"conv {self.tname(conv.outputs[0])} has unsupported options")
        y = int(conv.outputs[0])
        activation = _ACTIVATIONS[o.fusedActivationFunction]
        norm = None
        if any(g.kind(u) == Op.MEAN for u in self.users(y)):
            if activation != "linear":
                raise self.fail(f"conv {self.tname(y)} has an activation before its norm")
            norm, y, activation = self.style_norm(y)
        users = self.users(y)
        if len(users) == 1 and g.kind(users[0]) == Op.LOGISTIC and activation == "linear":
            activation = "sigmoid"
            y = int(self.take(users[0]).outputs[0])
        layer = ConvLayer(
            name=self.unique_name(int(conv.outputs[0])),
            kernel=np.ascontiguousarray(weights.transpose(1, 2, 3, 0)),
            bias=bias.astype(np.float32),
            strides=(int(o.strideH), int(o.strideW)),
            dilation=(int(o.dilationHFactor), int(o.dilationWFactor)),
            padding=_CONV_PADDING[o.padding],
            pads=pads,
            pad_mode=pad_mode,
            upsample=upsample,
            norm=norm,
            activation=activation,
        )
        return layer, y

    def upsample_factor(self, resize: Any) -> tuple[int, int]:
        o = resize.builtinOptions
        if o is not None and (o.alignCorners or o.halfPixelCenters):
            raise self.fail("a resize with aligned corners or half-pixel centres")
        _, h, w, _ = self.g.shape(int(resize.inputs[0]))
        size = self.int_const(int(resize.inputs[1])).reshape(-1)
        if size.size != 2 or size[0] % h or size[1] % w:
            raise self.fail(f"resize {self.tname(resize.outputs[0])} by a non-integer factor")
        return int(size[0] // h), int(size[1] // w)

    def mirror_pads(self, pad: Any) -> tuple[tuple[tuple[int, int], tuple[int, int]], str]:
        value = self.int_const(int(pad.inputs[1])).reshape(-1, 2)
        if value.shape != (4, 2) or value[0].any() or value[3].any():
            raise self.fail(f"padding {self.tname(pad.outputs[0])} is not on height and width")
        mode = "REFLECT" if pad.builtinOptions.mode == 0 else "SYMMETRIC"  # MirrorPadMode
        (t, b), (lft, r) = value[1], value[2]
        return ((int(t), int(b)), (int(lft), int(r))), mode

    def check_axes(self, mean: Any) -> None:
        axes = sorted(self.int_const(int(mean.inputs[1])).reshape(-1).tolist())
        if axes != [1, 2] or not mean.builtinOptions.keepDims:
            raise self.fail(f"{self.tname(mean.outputs[0])} is not a mean over the image")

    def style_norm(self, y: int) -> tuple[StyleNorm, int, str]:
        """The conditional instance norm after conv output ``y``, op by op as TF wrote it:
        mean, var = moments(y); s = rsqrt(var + eps) * gamma; y * s + (beta - mean * s)."""
        mean = self.user_of_kind(y, Op.MEAN)
        self.check_axes(mean)
        m = int(mean.outputs[0])
        sqd = self.user_of_kind(y, Op.SQUARED_DIFFERENCE)
        if sorted(int(t) for t in sqd.inputs) != sorted((y, m)):
            raise self.fail(f"{self.tname(sqd.outputs[0])} is not (x - mean)^2")
        var = self.sole_user(int(sqd.outputs[0]), Op.MEAN)
        self.check_axes(var)
        add_eps = self.sole_user(int(var.outputs[0]), Op.ADD)
        eps = self.const(self.other_input(add_eps, int(var.outputs[0])))
        if eps.size != 1:
            raise self.fail(f"{self.tname(add_eps.outputs[0])}: epsilon is not a scalar")
        rsqrt = self.sole_user(int(add_eps.outputs[0]), Op.RSQRT)
        mul_gamma = self.sole_user(int(rsqrt.outputs[0]), Op.MUL)
        gamma = self.style_affine(self.other_input(mul_gamma, int(rsqrt.outputs[0])))
        s = int(mul_gamma.outputs[0])
        muls = self.users(s)
        mul_x = next((op for op in muls if y in [int(t) for t in op.inputs]), None)
        mul_m = next((op for op in muls if m in [int(t) for t in op.inputs]), None)
        if len(muls) != 2 or mul_x is None or mul_m is None:
            raise self.fail(f"{self.tname(s)} should scale the image and its mean")
        self.take(mul_x)
        self.take(mul_m)
        sub = self.sole_user(int(mul_m.outputs[0]), Op.SUB)
        if int(sub.inputs[1]) != int(mul_m.outputs[0]):
            raise self.fail(f"{self.tname(sub.outputs[0])} is not beta - mean * scale")
        beta = self.style_affine(int(sub.inputs[0]))
        add = self.sole_user(int(mul_x.outputs[0]), Op.ADD)
        if int(sub.outputs[0]) not in [int(t) for t in add.inputs]:
            raise self.fail(f"{self.tname(add.outputs[0])} does not add the shift")
        act = add.builtinOptions.fusedActivationFunction
        if act not in _ACTIVATIONS:
            raise self.fail(f"{self.tname(add.outputs[0])} has an unsupported activation")
        norm = StyleNorm(gamma=gamma, beta=beta, epsilon=float(eps.reshape(-1)[0]))
        return norm, int(add.outputs[0]), _ACTIVATIONS[act]

    def style_affine(self, tensor: int) -> StyleAffine:
        """gamma/beta made from the bottleneck by a 1x1 conv or a fully-connected layer."""
        g = self.g
        op = self.producers.get(tensor)
        if op is not None and g.kind(op) == Op.RESHAPE:  # FC output back to [1, 1, 1, C]
            self.take(op)
            op = self.producers.get(int(op.inputs[0]))
        if op is None or g.kind(op) not in (Op.CONV_2D, Op.FULLY_CONNECTED):
            raise self.fail(f"{self.tname(tensor)} is not computed from the style bottleneck")
        source = int(op.inputs[0])
        maker = self.producers.get(source)
        if maker is not None and g.kind(maker) == Op.RESHAPE:  # FC on a flattened bottleneck
            self.take(maker)
            source = int(maker.inputs[0])
        if source != self.bottleneck or op.builtinOptions.fusedActivationFunction != 0:
            raise self.fail(f"{self.tname(tensor)} is not an affine map of the bottleneck")
        self.take(op)
        weights = self.const(int(op.inputs[1]))
        channels = weights.shape[0]
        if g.kind(op) == Op.CONV_2D and weights.shape[1:3] != (1, 1):
            raise self.fail(f"{self.tname(tensor)}: style conv is not 1x1")
        has_bias = len(op.inputs) > 2 and op.inputs[2] >= 0
        bias = self.const(int(op.inputs[2])) if has_bias else np.zeros(channels, np.float32)
        kernel = weights.reshape(channels, -1).T  # [O, (1, 1,) N] -> [N, O]
        return StyleAffine(np.ascontiguousarray(kernel), bias.astype(np.float32))
