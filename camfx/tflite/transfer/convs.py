"""The conv rewrites: each does a full-resolution conv's work at a quarter of the pixels
with four times the channels, which is what XNNPACK's kernels run fastest.

- ``subpixel_conv`` (float models): nearest x2 upsample -> reflect pad 1 -> 3x3 conv becomes
  one 3x3 conv at low resolution with 4x the output channels, then DEPTH_TO_SPACE(2).
- ``strided_conv`` (float models, the 9x9 conv on the content image): one stride-2 10x10
  conv with 4x the output channels, then DEPTH_TO_SPACE(2): the same sums in the same order.
- ``s2d_conv``: a 9x9 stride-1 conv becomes SPACE_TO_DEPTH(2) -> 5x5 conv with 4x the input
  and output channels -> DEPTH_TO_SPACE(2) (int8: per-channel scales and bias repeated).
"""

from __future__ import annotations

import copy

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from camfx.tflite.graph import TT, Graph, Op
from camfx.tflite.transfer.ops import (
    depth_to_space,
    pad_by_slices,
    space_to_depth,
    tiled_quant,
)
from camfx.tflite.transfer.patterns import (
    is_large_odd_conv,
    is_nearest,
    is_plain_conv,
    pad_widths,
    reads_content,
    single_use,
)
from camfx.tflite.transfer.weights import (
    space_to_depth_weights,
    strided_weights,
    subpixel_weights,
)


def rewrite_subpixel_conv(graph: Graph) -> int:
    producers, consumers = graph.producers(), graph.consumers()
    replaced: dict[int, list[schema.OperatorT]] = {}
    removed: set[int] = set()
    for conv in graph.ops:
        if graph.kind(conv) != Op.CONV_2D or not is_plain_conv(graph, conv):
            continue
        pad = single_use(graph, int(conv.inputs[0]), Op.MIRROR_PAD, producers, consumers)
        if pad is None or pad.builtinOptions.mode != schema.MirrorPadMode.REFLECT:
            continue
        if pad_widths(graph, pad) != [(0, 0), (1, 1), (1, 1), (0, 0)]:
            continue
        resize = single_use(
            graph, int(pad.inputs[0]), Op.RESIZE_NEAREST_NEIGHBOR, producers, consumers
        )
        if resize is None or not is_nearest(graph, resize, 2):
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
    ops, padded = pad_by_slices(graph, x, [(0, 0), (1, 1), (1, 1), (0, 0)], "edge")
    low_w = subpixel_weights(weights)
    w = graph.add_tensor(name + "/subpixel_weights", low_w.shape, TT.FLOAT32, data=low_w)
    b = graph.add_tensor(name + "/subpixel_bias", [4 * cout], TT.FLOAT32, data=np.tile(bias, 4))
    n, h, wd, _ = graph.shape(x)
    low = graph.add_tensor(name + "/subpixel", [n, h, wd, 4 * cout], TT.FLOAT32)
    options = copy.deepcopy(conv.builtinOptions)
    ops.append(graph.op(Op.CONV_2D, [padded, w, b], [low], conv.builtinOptionsType, options))
    ops.append(depth_to_space(graph, low, int(conv.outputs[0])))
    return ops


def rewrite_strided_conv(graph: Graph) -> int:
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
        if graph.kind(conv) != Op.CONV_2D or not is_plain_conv(graph, conv):
            continue
        if not is_large_odd_conv(graph, conv) or graph.is_int8(int(conv.inputs[0])):
            continue
        if not reads_content(graph, conv):
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
    return [new_conv, depth_to_space(graph, low, y)]


def rewrite_s2d_conv(graph: Graph) -> int:
    replaced: dict[int, list[schema.OperatorT]] = {}
    for conv in graph.ops:
        if graph.kind(conv) != Op.CONV_2D or not is_plain_conv(graph, conv):
            continue
        if not is_large_odd_conv(graph, conv):
            continue
        if not graph.is_int8(int(conv.inputs[0])) and reads_content(graph, conv):
            continue  # float: reordered sums here end up 1e-4 off; see rewrite_strided_conv
        ops = _s2d_ops(graph, conv)
        if ops:
            replaced[id(conv)] = ops
    graph.splice(replaced, set())
    return len(replaced)


def _s2d_ops(graph: Graph, conv: schema.OperatorT) -> list[schema.OperatorT] | None:
    x, w_in, y = int(conv.inputs[0]), int(conv.inputs[1]), int(conv.outputs[0])
    b_in = int(conv.inputs[2]) if len(conv.inputs) > 2 else -1
    int8 = graph.is_int8(x)
    if int8:
        weights, bias = graph.data(w_in), graph.data(b_in) if b_in >= 0 else None
        w_quant = tiled_quant(graph.tensor(w_in).quantization, 4)
        b_quant = tiled_quant(graph.tensor(b_in).quantization, 4) if b_in >= 0 else None
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
    return [space_to_depth(graph, x, s2d), new_conv, depth_to_space(graph, low, y)]
