"""Rewrite the Magenta style-transfer network (.tflite) for any input size, faster on a CPU.

The published transfer network (``style_transfer_f16_384.tflite``, float16 weights, and
``style_transfer_quantized_384.tflite``, int8) takes 384x384 frames only, and on a CPU much
of its time goes to ops that XNNPACK does not run (MIRROR_PAD, RESIZE_NEAREST_NEIGHBOR: each
splits the graph into another partition) and to convolutions with few channels at full
resolution. This module edits the flatbuffer, through the object API of the schema that
LiteRT ships, into an equivalent graph for an input of H x W:

- the size (always): the input becomes [1, H, W, 3] and the three resize size constants
  follow it. A model with only this is the reference for its size.
- ``subpixel_conv`` (float models): nearest x2 upsample -> reflect pad 1 -> 3x3 conv becomes
  one 3x3 conv at low resolution with 4x the output channels, then DEPTH_TO_SPACE(2).
- ``strided_conv`` (float models, the 9x9 conv on the content image): one stride-2 10x10
  conv with 4x the output channels, then DEPTH_TO_SPACE(2): the same sums in the same order.
- ``s2d_conv``: a 9x9 stride-1 conv becomes SPACE_TO_DEPTH(2) -> 5x5 conv with 4x the input
  and output channels -> DEPTH_TO_SPACE(2) (int8: per-channel scales and bias repeated). In
  a float model not on the first conv, whose reordered sums end up 1.7e-4 off in the output.
- ``int8_pad`` (int8 models): padding and upsampling move from float, between a DEQUANTIZE
  and a QUANTIZE with the same parameters, into int8 (the same integers).
- ``mirror_pad``: reflect padding becomes one-row SLICEs and CONCATENATIONs (bit-exact).
- ``upsample``: nearest x2 upsample becomes CONCATENATION(x, x, x, x) on channels and
  DEPTH_TO_SPACE(2) (bit-exact); a resize to the same size is dropped.
- ``drop_epsilon`` (int8 models): in ADD(variance, epsilon), epsilon is far under one
  quantization step, so the ADD returns its input's integers; epsilon becomes an exact 0,
  which XNNPACK takes (it refused the ADD, leaving 13 partitions).

Float outputs differ from the reference by rounding only (measured: under 4e-6 on real
frames with all 27 bundled styles); int8 outputs are identical. Every rewrite matches a
pattern and leaves the graph alone where it does not match, so one that does not apply to
a model (sub-pixel conv on int8 weights, whose sums would need requantizing) changes
nothing.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from camfx.tflite.graph import (
    TT,
    Graph,
    Op,
    check_shapes,
    compact,
    drop_dead_ops,
    load_model_object,
    pack_model,
    runtime_shapes,
)

log = logging.getLogger(__name__)

# In the order they are applied: the conv rewrites need the original pad/resize patterns.
REWRITES: tuple[str, ...] = (
    "subpixel_conv",
    "strided_conv",
    "s2d_conv",
    "int8_pad",
    "mirror_pad",
    "upsample",
    "drop_epsilon",
)
MAX_CONCAT_INPUTS = 4  # XNNPACK delegate took 4-input concats, not 9-input ones (measured)
MIN_SIZE = 8  # the bottleneck (H/4) must be at least 2 for its reflect padding of 1
MAX_SIZE = 4096
CONTENT_CHANNELS = 3
BOTTLENECK_SIZE = 100


# ---------------------------------------------------------------------------- helpers


def content_input(graph: Graph) -> int:
    for index in graph.sg.inputs:
        shape = graph.shape(index)
        if len(shape) == 4 and shape[-1] == CONTENT_CHANNELS:
            return int(index)
    raise ValueError("no [1, H, W, 3] content input: not the Magenta style transfer network")


def _single_use(
    graph: Graph,
    tensor: int,
    kind: int,
    producers: dict[int, schema.OperatorT],
    consumers: dict[int, list[schema.OperatorT]],
) -> schema.OperatorT | None:
    """The op of ``kind`` that makes ``tensor``, if nothing else reads that tensor."""
    op = producers.get(tensor)
    if op is None or graph.kind(op) != kind or len(consumers.get(tensor, [])) != 1:
        return None
    return None if tensor in graph.sg.outputs else op


def _pads(graph: Graph, pad_op: schema.OperatorT) -> list[tuple[int, int]] | None:
    value = graph.data(pad_op.inputs[1])
    return None if value is None else [(int(a), int(b)) for a, b in value.reshape(-1, 2)]


def _is_plain_conv(graph: Graph, conv: schema.OperatorT) -> bool:
    """A 2-D conv with stride 1, no dilation and VALID padding (pads are explicit here)."""
    o = conv.builtinOptions
    return (
        graph.kind(conv) == Op.CONV_2D
        and o.strideH == 1
        and o.strideW == 1
        and o.dilationHFactor == 1
        and o.dilationWFactor == 1
        and o.padding == schema.Padding.VALID
    )


def _is_nearest(graph: Graph, resize: schema.OperatorT, factor: int) -> bool:
    """A nearest-neighbour resize by an integer factor (no corner or half-pixel shift)."""
    o = resize.builtinOptions
    if o is not None and (o.alignCorners or o.halfPixelCenters):
        return False
    n, h, w, c = graph.shape(resize.inputs[0])
    return graph.shape(resize.outputs[0]) == (n, h * factor, w * factor, c)


def _tiled_quant(
    quant: schema.QuantizationParametersT | None, reps: int
) -> schema.QuantizationParametersT | None:
    """Per-channel quantization for ``reps`` copies of the channels, in order."""
    if quant is None:
        return None
    quant = copy.deepcopy(quant)
    for field in ("scale", "zeroPoint", "min", "max"):
        values = getattr(quant, field)
        if values is not None and len(values) > 1:
            setattr(quant, field, np.tile(np.asarray(values), reps))
    return quant


def _border_rows(n: int, before: int, after: int, mode: str) -> tuple[list[int], list[int]]:
    """Which rows of an axis of length n make the padding before and after it."""
    if mode == "edge":
        return [0] * before, [n - 1] * after
    shift = 0 if mode == "reflect" else 1  # symmetric repeats the border row
    if max(before, after) > n - 1 + shift:
        raise ValueError(f"cannot {mode}-pad an axis of {n} by {max(before, after)}")
    rows_before = [p - shift for p in range(before, 0, -1)]
    rows_after = [n - 2 + shift - i for i in range(after)]
    return rows_before, rows_after


def _pad_by_slices(
    graph: Graph, x: int, pads: Sequence[tuple[int, int]], mode: str, out: int | None = None
) -> tuple[list[schema.OperatorT], int]:
    """Pad ``x`` with one-row SLICEs and a CONCATENATION per axis: both run in XNNPACK."""
    ops: list[schema.OperatorT] = []
    axes = [axis for axis, (lo, hi) in enumerate(pads) if lo or hi]
    current = x
    int8 = graph.is_int8(x)
    for i, axis in enumerate(axes):
        shape = list(graph.shape(current))
        before, after = _border_rows(shape[axis], *pads[axis], mode)
        sliced: dict[int, int] = {}
        for row in before + after:
            if row in sliced:
                continue
            begin = [0] * len(shape)
            begin[axis] = row
            size = list(shape)
            size[axis] = 1
            sliced[row] = graph.like(current, f"/row{axis}_{row}", size)
            inputs = [current, graph.int32_const(begin), graph.int32_const(size)]
            ops.append(
                graph.op(
                    Op.SLICE,
                    inputs,
                    [sliced[row]],
                    schema.BuiltinOptions.SliceOptions,
                    schema.SliceOptionsT(),
                    int8,
                )
            )
        sides = [_joined(graph, [sliced[r] for r in rows], axis, ops) for rows in (before, after)]
        parts = [t for t in (sides[0], current, sides[1]) if t is not None]
        shape[axis] += len(before) + len(after)
        last = i == len(axes) - 1
        target = out if last and out is not None else graph.like(current, f"/pad{axis}", shape)
        ops.append(_concat(graph, parts, target, axis))
        current = target
    return ops, current


def _joined(
    graph: Graph, parts: list[int], axis: int, ops: list[schema.OperatorT]
) -> int | None:
    """``parts`` concatenated on ``axis`` by concats of at most MAX_CONCAT_INPUTS inputs.

    XNNPACK leaves a concat of more inputs to the slow kernel, in a partition of its own.
    """
    if len(parts) <= 1:
        return parts[0] if parts else None
    groups = [parts[i : i + MAX_CONCAT_INPUTS] for i in range(0, len(parts), MAX_CONCAT_INPUTS)]
    joined = []
    for group in groups:
        if len(group) == 1:
            joined.append(group[0])
            continue
        shape = list(graph.shape(group[0]))
        shape[axis] = sum(graph.shape(t)[axis] for t in group)
        target = graph.like(group[0], "/join", shape)
        ops.append(_concat(graph, group, target, axis))
        joined.append(target)
    return _joined(graph, joined, axis, ops)


def _concat(graph: Graph, parts: Sequence[int], out: int, axis: int) -> schema.OperatorT:
    options = schema.ConcatenationOptionsT()
    options.axis = axis
    kind = schema.BuiltinOptions.ConcatenationOptions
    return graph.op(Op.CONCATENATION, parts, [out], kind, options, graph.is_int8(out))


def _depth_to_space(graph: Graph, x: int, out: int) -> schema.OperatorT:
    options = schema.DepthToSpaceOptionsT()
    options.blockSize = 2
    kind = schema.BuiltinOptions.DepthToSpaceOptions
    return graph.op(Op.DEPTH_TO_SPACE, [x], [out], kind, options, graph.is_int8(x))


def _space_to_depth(graph: Graph, x: int, out: int) -> schema.OperatorT:
    options = schema.SpaceToDepthOptionsT()
    options.blockSize = 2
    kind = schema.BuiltinOptions.SpaceToDepthOptions
    return graph.op(Op.SPACE_TO_DEPTH, [x], [out], kind, options, graph.is_int8(x))


# ---------------------------------------------------------------------------- weights


# For an output row of parity a, the low-resolution row that tap dy of a 3x3 kernel reads
# after a nearest x2 upsample and a reflect pad of 1 (an edge pad of 1 at low resolution).
_SUBPIXEL_TAP = ((0, 1, 1), (1, 1, 2))


def subpixel_weights(kernel: np.ndarray) -> np.ndarray:
    """[O,3,3,C] kernel on the upsampled image -> [4O,3,3,C] on the edge-padded original.

    Output channel (2a + b) * O + o is output o at row parity a and column parity b, which
    is the channel order DEPTH_TO_SPACE(2) reads.
    """
    out, kh, kw, cin = kernel.shape
    if (kh, kw) != (3, 3):
        raise ValueError(f"sub-pixel rewrite needs a 3x3 kernel, got {kh}x{kw}")
    low = np.zeros((2, 2, out, 3, 3, cin), np.float64)
    for a in range(2):
        for b in range(2):
            for dy in range(3):
                for dx in range(3):
                    ty, tx = _SUBPIXEL_TAP[a][dy], _SUBPIXEL_TAP[b][dx]
                    low[a, b, :, ty, tx, :] += kernel[:, dy, dx, :]
    return low.reshape(4 * out, 3, 3, cin).astype(kernel.dtype)


def strided_weights(kernel: np.ndarray) -> np.ndarray:
    """[O,K,K,C] stride-1 kernel -> [4O,K+1,K+1,C] stride-2 kernel, one output per parity.

    Output (2a + b) * O + o holds kernel o shifted by (a, b) rows and columns, zeros
    elsewhere, so at low-resolution pixel (i, j) it is output o at (2i + a, 2j + b).
    """
    out, k, k2, cin = kernel.shape
    wide = np.zeros((2, 2, out, k + 1, k2 + 1, cin), kernel.dtype)
    for a in range(2):
        for b in range(2):
            wide[a, b, :, a : a + k, b : b + k2, :] = kernel
    return wide.reshape(4 * out, k + 1, k2 + 1, cin)


def space_to_depth_weights(kernel: np.ndarray) -> np.ndarray:
    """[O,K,K,C] stride-1 kernel -> [4O,K//2+1,K//2+1,4C] kernel on SPACE_TO_DEPTH(2) input.

    Output (2a + b) * O + o is output o at parity (a, b); input (2r + s) * C + c is input c
    at parity (r, s), as SPACE_TO_DEPTH lays it out. Taps that fall outside the original
    kernel are zero (also the int8 weights' zero point).
    """
    out, k, k2, cin = kernel.shape
    if k != k2 or k % 2 == 0:
        raise ValueError(f"space-to-depth rewrite needs an odd square kernel, got {k}x{k2}")
    kl = k // 2 + 1
    low = np.zeros((2, 2, out, kl, kl, 2, 2, cin), kernel.dtype)
    for a in range(2):
        for b in range(2):
            for dy in range(k):
                for dx in range(k):
                    u, r = divmod(a + dy, 2)
                    v, s = divmod(b + dx, 2)
                    low[a, b, :, u, v, r, s, :] = kernel[:, dy, dx, :]
    return low.reshape(4 * out, kl, kl, 4 * cin)


# ---------------------------------------------------------------------------- rewrites


def _set_size(graph: Graph, height: int, width: int) -> None:
    """New input shape; resize sizes scaled with it (they are fractions of the input)."""
    content = content_input(graph)
    _, h0, w0, _ = graph.shape(content)
    graph.tensor(content).shape = np.array([1, height, width, CONTENT_CHANNELS], np.int32)
    done: set[int] = set()
    for op in graph.ops:
        if graph.kind(op) != Op.RESIZE_NEAREST_NEIGHBOR or int(op.inputs[1]) in done:
            continue
        size = graph.data(op.inputs[1])
        if size is None:
            raise ValueError("a resize with a computed size: not the published network")
        new = np.array([size[0] * height, size[1] * width], np.int64)
        if np.any(new % [h0, w0]):
            raise ValueError(f"size {height}x{width} does not divide this model's resizes")
        graph.set_data(op.inputs[1], (new // [h0, w0]).astype(np.int32))
        done.add(int(op.inputs[1]))
    for index, shape in runtime_shapes(graph).items():
        graph.tensor(index).shape = np.array(shape, np.int32)


def _rewrite_subpixel_conv(graph: Graph) -> int:
    producers, consumers = graph.producers(), graph.consumers()
    replaced: dict[int, list[schema.OperatorT]] = {}
    removed: set[int] = set()
    for conv in graph.ops:
        if graph.kind(conv) != Op.CONV_2D or not _is_plain_conv(graph, conv):
            continue
        pad = _single_use(graph, int(conv.inputs[0]), Op.MIRROR_PAD, producers, consumers)
        if pad is None or pad.builtinOptions.mode != schema.MirrorPadMode.REFLECT:
            continue
        if _pads(graph, pad) != [(0, 0), (1, 1), (1, 1), (0, 0)]:
            continue
        resize = _single_use(
            graph, int(pad.inputs[0]), Op.RESIZE_NEAREST_NEIGHBOR, producers, consumers
        )
        if resize is None or not _is_nearest(graph, resize, 2):
            continue
        x = int(resize.inputs[0])
        weights = graph.float_value(int(conv.inputs[1]))
        bias = graph.float_value(int(conv.inputs[2])) if len(conv.inputs) > 2 else None
        if weights is None or weights.shape[1:3] != (3, 3) or graph.tensor(x).type != TT.FLOAT32:
            continue  # int8 weights would need requantizing once summed
        replaced[id(conv)] = _subpixel_ops(graph, conv, x, weights, bias)
        removed |= {id(pad), id(resize)}
    graph.splice(replaced, removed)
    return len(replaced)


def _subpixel_ops(
    graph: Graph,
    conv: schema.OperatorT,
    x: int,
    weights: np.ndarray,
    bias: np.ndarray | None,
) -> list[schema.OperatorT]:
    name = graph.tensor(int(conv.outputs[0])).name.decode()
    cout = weights.shape[0]
    bias = np.zeros(cout, np.float32) if bias is None else bias
    ops, padded = _pad_by_slices(graph, x, [(0, 0), (1, 1), (1, 1), (0, 0)], "edge")
    low_w = subpixel_weights(weights)
    w = graph.add_tensor(name + "/subpixel_weights", low_w.shape, TT.FLOAT32, data=low_w)
    b = graph.add_tensor(name + "/subpixel_bias", [4 * cout], TT.FLOAT32, data=np.tile(bias, 4))
    n, h, wd, _ = graph.shape(x)
    low = graph.add_tensor(name + "/subpixel", [n, h, wd, 4 * cout], TT.FLOAT32)
    options = copy.deepcopy(conv.builtinOptions)
    ops.append(graph.op(Op.CONV_2D, [padded, w, b], [low], conv.builtinOptionsType, options))
    ops.append(_depth_to_space(graph, low, int(conv.outputs[0])))
    return ops


def _rewrite_s2d_conv(graph: Graph) -> int:
    replaced: dict[int, list[schema.OperatorT]] = {}
    for conv in graph.ops:
        if graph.kind(conv) != Op.CONV_2D or not _is_plain_conv(graph, conv):
            continue
        if not _is_large_odd_conv(graph, conv):
            continue
        if not graph.is_int8(int(conv.inputs[0])) and _reads_content(graph, conv):
            continue  # float: reordered sums here end up 1e-4 off; see _rewrite_strided_conv
        ops = _s2d_ops(graph, conv)
        if ops:
            replaced[id(conv)] = ops
    graph.splice(replaced, set())
    return len(replaced)


def _is_large_odd_conv(graph: Graph, conv: schema.OperatorT) -> bool:
    """A plain KxK conv, K odd and at least 5, on an input of even height and width."""
    _, k, k2, _ = graph.shape(int(conv.inputs[1]))
    _, hp, wp, _ = graph.shape(int(conv.inputs[0]))
    return k == k2 and k >= 5 and k % 2 == 1 and hp % 2 == 0 and wp % 2 == 0


def _reads_content(graph: Graph, conv: schema.OperatorT) -> bool:
    """Whether the conv reads the content image (through padding or quantization only)."""
    producers = graph.producers()
    tensor = int(conv.inputs[0])
    while tensor in producers:
        op = producers[tensor]
        if graph.kind(op) not in (Op.MIRROR_PAD, Op.PAD, Op.QUANTIZE):
            return False
        tensor = int(op.inputs[0])
    return tensor == content_input(graph)


def _rewrite_strided_conv(graph: Graph) -> int:
    """Float KxK stride-1 conv on the content image -> one stride-2 (K+1)x(K+1) conv with 4x
    the output channels -> DEPTH_TO_SPACE(2).

    The same job as ``s2d_conv`` (wide outputs for the vector units, a quarter of the
    pixels) but each output is the same sum in the same order: XNNPACK accumulates tap by
    tap, and the added taps are zero weights, which leave an fp32 sum unchanged. That
    matters for the first conv only: rounding differences there pass through all 13
    instance normalizations and reach 1.7e-4 in the output with ``s2d_conv`` (measured).
    """
    replaced: dict[int, list[schema.OperatorT]] = {}
    for conv in graph.ops:
        if graph.kind(conv) != Op.CONV_2D or not _is_plain_conv(graph, conv):
            continue
        if not _is_large_odd_conv(graph, conv) or graph.is_int8(int(conv.inputs[0])):
            continue
        if not _reads_content(graph, conv):
            continue
        weights = graph.float_value(int(conv.inputs[1]))
        bias = graph.float_value(int(conv.inputs[2])) if len(conv.inputs) > 2 else None
        if weights is not None:
            replaced[id(conv)] = _strided_ops(graph, conv, weights, bias)
    graph.splice(replaced, set())
    return len(replaced)


def _strided_ops(
    graph: Graph, conv: schema.OperatorT, weights: np.ndarray, bias: np.ndarray | None
) -> list[schema.OperatorT]:
    x, y = int(conv.inputs[0]), int(conv.outputs[0])
    name = graph.tensor(y).name.decode()
    n, ho, wo, cout = graph.shape(y)
    bias = np.zeros(cout, np.float32) if bias is None else bias
    wide = strided_weights(weights)
    w = graph.add_tensor(name + "/strided_weights", wide.shape, TT.FLOAT32, data=wide)
    b = graph.add_tensor(name + "/strided_bias", [4 * cout], TT.FLOAT32, data=np.tile(bias, 4))
    low = graph.like(y, "/strided", [n, ho // 2, wo // 2, 4 * cout])
    options = copy.deepcopy(conv.builtinOptions)
    options.strideH = options.strideW = 2
    new_conv = graph.op(Op.CONV_2D, [x, w, b], [low], conv.builtinOptionsType, options)
    return [new_conv, _depth_to_space(graph, low, y)]


def _s2d_ops(graph: Graph, conv: schema.OperatorT) -> list[schema.OperatorT] | None:
    x, w_in, y = int(conv.inputs[0]), int(conv.inputs[1]), int(conv.outputs[0])
    b_in = int(conv.inputs[2]) if len(conv.inputs) > 2 else -1
    int8 = graph.is_int8(x)
    if int8:
        weights, bias = graph.data(w_in), graph.data(b_in) if b_in >= 0 else None
        w_quant = _tiled_quant(graph.tensor(w_in).quantization, 4)
        b_quant = _tiled_quant(graph.tensor(b_in).quantization, 4) if b_in >= 0 else None
        if weights is None or (b_in >= 0 and bias is None):
            return None
        if w_quant is None or w_quant.quantizedDimension != 0:
            return None
    else:
        weights = graph.float_value(w_in)
        bias = graph.float_value(b_in) if b_in >= 0 else None
        w_quant = b_quant = None
        if weights is None or (b_in >= 0 and bias is None):
            return None
    name = graph.tensor(y).name.decode()
    n, hp, wp, cin = graph.shape(x)
    _, ho, wo, cout = graph.shape(y)
    s2d = graph.like(x, "/s2d", [n, hp // 2, wp // 2, 4 * cin])
    low_w = space_to_depth_weights(weights)
    w_type = TT.INT8 if int8 else TT.FLOAT32
    w = graph.add_tensor(name + "/s2d_weights", low_w.shape, w_type, w_quant, low_w)
    inputs = [s2d, w]
    if bias is not None:
        b_type = graph.tensor(b_in).type if int8 else TT.FLOAT32
        b = graph.add_tensor(name + "/s2d_bias", [4 * cout], b_type, b_quant, np.tile(bias, 4))
        inputs.append(b)
    low = graph.like(y, "/s2d_conv", [n, ho // 2, wo // 2, 4 * cout])
    options = copy.deepcopy(conv.builtinOptions)
    new_conv = graph.op(Op.CONV_2D, inputs, [low], conv.builtinOptionsType, options)
    new_conv.opcodeIndex = conv.opcodeIndex  # same kernel kind and version as before
    return [_space_to_depth(graph, x, s2d), new_conv, _depth_to_space(graph, low, y)]


def _same_quant(graph: Graph, a: int, b: int) -> bool:
    qa, qb = graph.tensor(a).quantization, graph.tensor(b).quantization
    if any(q is None or q.scale is None or len(q.scale) != 1 for q in (qa, qb)):
        return False
    return qa.scale[0] == qb.scale[0] and qa.zeroPoint[0] == qb.zeroPoint[0]


def _rewrite_int8_pad(graph: Graph) -> int:
    """DEQUANTIZE -> resize/pad in float -> QUANTIZE (same scale) becomes resize/pad in int8.

    The int8 model pads and upsamples between a DEQUANTIZE and a QUANTIZE with the same
    parameters, and QUANTIZE(DEQUANTIZE(q)) is q: moving those copies into int8 gives the
    same integers, with 4x less memory traffic and no conversions. The padding of the
    content image moves after its QUANTIZE (elementwise, so it commutes with padding).
    """
    producers, consumers = graph.producers(), graph.consumers()
    replaced: dict[int, list[schema.OperatorT]] = {}
    removed: set[int] = set()
    for quantize in graph.ops:
        if graph.kind(quantize) != Op.QUANTIZE or not graph.is_int8(int(quantize.outputs[0])):
            continue
        chain = _float_copy_chain(graph, int(quantize.inputs[0]), producers, consumers)
        ops = _int8_chain(graph, quantize, chain, producers) if chain else None
        if ops is not None:
            replaced[id(quantize)] = ops
            removed |= {id(op) for op in chain}
    graph.splice(replaced, removed)
    return len(replaced)


def _float_copy_chain(
    graph: Graph,
    tensor: int,
    producers: dict[int, schema.OperatorT],
    consumers: dict[int, list[schema.OperatorT]],
) -> list[schema.OperatorT]:
    """The pads and resizes (each read by the next only) that make ``tensor``, first first."""
    chain: list[schema.OperatorT] = []
    while True:
        op = producers.get(tensor)
        movable = (Op.MIRROR_PAD, Op.RESIZE_NEAREST_NEIGHBOR)
        if op is None or graph.kind(op) not in movable or len(consumers[tensor]) != 1:
            return chain
        chain.insert(0, op)
        tensor = int(op.inputs[0])


def _int8_chain(
    graph: Graph,
    quantize: schema.OperatorT,
    chain: list[schema.OperatorT],
    producers: dict[int, schema.OperatorT],
) -> list[schema.OperatorT] | None:
    """``chain`` redone on int8 tensors, ending in the QUANTIZE's output; None if unsafe."""
    y, source = int(quantize.outputs[0]), int(chain[0].inputs[0])
    if graph.tensor(source).type != TT.FLOAT32:
        return None
    ops: list[schema.OperatorT] = []
    maker = producers.get(source)
    if maker is not None and graph.kind(maker) == Op.DEQUANTIZE:
        current = int(maker.inputs[0])
        if not _same_quant(graph, current, y):
            return None
    elif maker is None:  # the content image: quantize it before padding instead of after
        current = graph.like(y, "/unpadded", graph.shape(source))
        first = copy.copy(quantize)
        first.inputs, first.outputs = np.array([source], np.int32), np.array([current], np.int32)
        ops.append(first)
    else:
        return None
    for i, op in enumerate(chain):
        last = i == len(chain) - 1
        out = y if last else graph.like(y, f"/int8_{i}", graph.shape(int(op.outputs[0])))
        moved = copy.copy(op)
        moved.inputs = np.array([current, *op.inputs[1:]], np.int32)
        moved.outputs = np.array([out], np.int32)
        ops.append(moved)
        current = out
    return ops


def _rewrite_mirror_pad(graph: Graph) -> int:
    replaced: dict[int, list[schema.OperatorT]] = {}
    for op in graph.ops:
        if graph.kind(op) != Op.MIRROR_PAD:
            continue
        pads = _pads(graph, op)
        if pads is None:
            continue
        mode = "reflect" if op.builtinOptions.mode == schema.MirrorPadMode.REFLECT else "symmetric"
        ops, _ = _pad_by_slices(graph, int(op.inputs[0]), pads, mode, int(op.outputs[0]))
        replaced[id(op)] = ops
    graph.splice(replaced, set())
    return len(replaced)


def _rewrite_upsample(graph: Graph) -> int:
    replaced: dict[int, list[schema.OperatorT]] = {}
    removed: set[int] = set()
    for op in graph.ops:
        if graph.kind(op) != Op.RESIZE_NEAREST_NEIGHBOR:
            continue
        x, y = int(op.inputs[0]), int(op.outputs[0])
        if _is_nearest(graph, op, 1) and y not in graph.sg.outputs:
            graph.rewire(y, x)  # a resize to its own size copies its input
            removed.add(id(op))
        elif _is_nearest(graph, op, 2):
            n, h, w, c = graph.shape(x)
            copies = graph.like(x, "/x4", [n, h, w, 4 * c])
            replaced[id(op)] = [
                _concat(graph, [x] * 4, copies, 3),
                _depth_to_space(graph, copies, y),
            ]
    graph.splice(replaced, removed)
    return len(replaced) + len(removed)


def _negligible_epsilon(graph: Graph, add: schema.OperatorT) -> int | None:
    """The index of the ADD's epsilon input if the ADD returns its other input's integers
    unchanged (only requantized to an equal-but-for-rounding scale), else None."""
    if graph.kind(add) != Op.ADD or add.builtinOptions.fusedActivationFunction != 0:
        return None
    x, eps_index = (int(t) for t in add.inputs)
    if graph.data(x) is not None:
        x, eps_index = eps_index, x
    eps, y = graph.data(eps_index), int(add.outputs[0])
    if eps is None or eps.size != 1 or graph.data(x) is not None:
        return None
    if not all(graph.is_int8(t) for t in (x, eps_index, y)):
        return None
    qx, qe, qy = (graph.tensor(t).quantization for t in (x, eps_index, y))
    if any(q is None or q.scale is None or len(q.scale) != 1 for q in (qx, qe, qy)):
        return None
    if qx.zeroPoint[0] != qy.zeroPoint[0]:
        return None
    eps_steps = (int(eps.reshape(-1)[0]) - int(qe.zeroPoint[0])) * float(qe.scale[0]) / qy.scale[0]
    # the most any int8 value moves when requantized from the input's scale to the output's
    drift = 255 * abs(1 - float(qx.scale[0]) / float(qy.scale[0]))
    # well under half a step in all: rounding gives every input value back unchanged
    return eps_index if abs(eps_steps) + drift < 0.25 else None


def _rewrite_drop_epsilon(graph: Graph) -> int:
    """ADD(variance, epsilon) -> ADD(variance, 0), which gives the same integers.

    XNNPACK refuses the ADD with epsilon (its scale is 1e-5 of the output's), so each one
    ran on the slow kernel in a partition of its own. The ADD itself stays: it also moves
    the values to the output's scale (equal but for rounding), which DEQUANTIZE then uses.
    """
    changed = 0
    for op in graph.ops:
        eps = _negligible_epsilon(graph, op)
        if eps is None:
            continue
        quant = copy.deepcopy(graph.tensor(int(op.outputs[0])).quantization)
        quant.zeroPoint = np.array([0], np.int64)
        zero = graph.add_tensor(
            graph.tensor(eps).name.decode() + "/zero", [], TT.INT8, quant, np.zeros((), np.int8)
        )
        op.inputs = np.array([zero if int(t) == eps else int(t) for t in op.inputs], np.int32)
        changed += 1
    return changed


_PASSES = {
    "subpixel_conv": _rewrite_subpixel_conv,
    "strided_conv": _rewrite_strided_conv,
    "s2d_conv": _rewrite_s2d_conv,
    "int8_pad": _rewrite_int8_pad,
    "mirror_pad": _rewrite_mirror_pad,
    "upsample": _rewrite_upsample,
    "drop_epsilon": _rewrite_drop_epsilon,
}


# ---------------------------------------------------------------------------- public API


def check_size(height: int, width: int) -> None:
    """ValueError unless H and W are multiples of 4 in [MIN_SIZE, MAX_SIZE]."""
    for name, value in (("height", height), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise ValueError(f"{name} must be an integer, got {value!r}")
        if value % 4 or not MIN_SIZE <= value <= MAX_SIZE:
            raise ValueError(
                f"{name} must be a multiple of 4 from {MIN_SIZE} to {MAX_SIZE} "
                f"(the network halves the image twice), got {value}"
            )


def parse_size(text: str) -> tuple[int, int]:
    """'216x384' -> (216, 384): height x width."""
    parts = text.lower().replace("×", "x").split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ValueError(f"size must be HEIGHTxWIDTH, e.g. 216x384, got {text!r}")
    height, width = (int(p) for p in parts)
    check_size(height, width)
    return height, width


def rewrite_transfer_model(
    data: bytes,
    height: int,
    width: int,
    rewrites: Iterable[str] = REWRITES,
) -> tuple[bytes, dict[str, int]]:
    """The model in ``data`` for an H x W input, with ``rewrites`` applied.

    Returns the new .tflite and, for each rewrite asked for, how many places it changed
    (0 where it does not apply to this model). ``rewrites=()`` only changes the size.
    """
    check_size(height, width)
    wanted = set(rewrites)
    unknown = wanted - set(REWRITES)
    if unknown:
        raise ValueError(f"unknown rewrites {sorted(unknown)}; known: {', '.join(REWRITES)}")
    graph = load_model_object(data)
    _set_size(graph, height, width)
    counts = {name: _PASSES[name](graph) for name in REWRITES if name in wanted}
    drop_dead_ops(graph)
    compact(graph)
    check_shapes(graph)
    return pack_model(graph), counts


def optimize_transfer_model(
    source: Path,
    dest: Path,
    height: int,
    width: int,
    rewrites: Iterable[str] = REWRITES,
) -> Path:
    """Write ``source`` rewritten for an H x W input (see the module doc) to ``dest``."""
    check_size(height, width)
    start = time.perf_counter()
    data, counts = rewrite_transfer_model(Path(source).read_bytes(), height, width, rewrites)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)
    log.info(
        "wrote %s (%dx%d, %s) in %.2f s",
        dest,
        height,
        width,
        ", ".join(f"{k} x{v}" for k, v in counts.items()) or "size only",
        time.perf_counter() - start,
    )
    return dest
