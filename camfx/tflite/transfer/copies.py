"""The copy rewrites: padding and nearest upsampling, which only copy pixels, rebuilt from
ops that XNNPACK runs (MIRROR_PAD and RESIZE_NEAREST_NEIGHBOR each split the graph into
another partition), with the same values bit for bit.

- ``int8_pad`` (int8 models): padding and upsampling move from float, between a DEQUANTIZE
  and a QUANTIZE with the same parameters, into int8 (the same integers).
- ``mirror_pad``: reflect padding becomes one-row SLICEs and CONCATENATIONs.
- ``upsample``: nearest x2 upsample becomes CONCATENATION(x, x, x, x) on channels and
  DEPTH_TO_SPACE(2); a resize to the same size is dropped.
"""

from __future__ import annotations

import copy

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from camfx.tflite.graph import TT, Graph, Op
from camfx.tflite.transfer.ops import concat, depth_to_space, pad_by_slices
from camfx.tflite.transfer.patterns import is_nearest, pad_widths, same_quant


def rewrite_int8_pad(graph: Graph) -> int:
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
        if not same_quant(graph, current, y):
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


def rewrite_mirror_pad(graph: Graph) -> int:
    replaced: dict[int, list[schema.OperatorT]] = {}
    for op in graph.ops:
        if graph.kind(op) != Op.MIRROR_PAD:
            continue
        pads = pad_widths(graph, op)
        if pads is None:
            continue
        mode = "reflect" if op.builtinOptions.mode == schema.MirrorPadMode.REFLECT else "symmetric"
        ops, _ = pad_by_slices(graph, int(op.inputs[0]), pads, mode, int(op.outputs[0]))
        replaced[id(op)] = ops
    graph.splice(replaced, set())
    return len(replaced)


def rewrite_upsample(graph: Graph) -> int:
    replaced: dict[int, list[schema.OperatorT]] = {}
    removed: set[int] = set()
    for op in graph.ops:
        if graph.kind(op) != Op.RESIZE_NEAREST_NEIGHBOR:
            continue
        x, y = int(op.inputs[0]), int(op.outputs[0])
        if is_nearest(graph, op, 1) and y not in graph.sg.outputs:
            graph.rewire(y, x)  # a resize to its own size copies its input
            removed.add(id(op))
        elif is_nearest(graph, op, 2):
            n, h, w, c = graph.shape(x)
            copies = graph.like(x, "/x4", [n, h, w, 4 * c])
            replaced[id(op)] = [
                concat(graph, [x] * 4, copies, 3),
                depth_to_space(graph, copies, y),
            ]
    graph.splice(replaced, removed)
    return len(replaced) + len(removed)
