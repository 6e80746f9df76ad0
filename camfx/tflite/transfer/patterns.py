"""The patterns the transfer rewrites look for: which ops they may replace, and when.

Each rewrite only changes a place that matches exactly, so that a model in which a
pattern does not appear (the int8 network, another network) is left as it was.
"""

from __future__ import annotations

from ai_edge_litert import schema_py_generated as schema

from camfx.tflite.graph import Graph, Op
from camfx.tflite.transfer.network import content_input


def single_use(
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


def pad_widths(graph: Graph, pad_op: schema.OperatorT) -> list[tuple[int, int]] | None:
    value = graph.data(pad_op.inputs[1])
    return None if value is None else [(int(a), int(b)) for a, b in value.reshape(-1, 2)]


def is_plain_conv(graph: Graph, conv: schema.OperatorT) -> bool:
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


def is_nearest(graph: Graph, resize: schema.OperatorT, factor: int) -> bool:
    """A nearest-neighbour resize by an integer factor (no corner or half-pixel shift)."""
    o = resize.builtinOptions
    if o is not None and (o.alignCorners or o.halfPixelCenters):
        return False
    n, h, w, c = graph.shape(resize.inputs[0])
    return graph.shape(resize.outputs[0]) == (n, h * factor, w * factor, c)


def is_large_odd_conv(graph: Graph, conv: schema.OperatorT) -> bool:
    """A plain KxK conv, K odd and at least 5, on an input of even height and width."""
    _, k, k2, _ = graph.shape(int(conv.inputs[1]))
    _, hp, wp, _ = graph.shape(int(conv.inputs[0]))
    return k == k2 and k >= 5 and k % 2 == 1 and hp % 2 == 0 and wp % 2 == 0


def reads_content(graph: Graph, conv: schema.OperatorT) -> bool:
    """Whether the conv reads the content image (through padding or quantization only)."""
    producers = graph.producers()
    tensor = int(conv.inputs[0])
    while tensor in producers:
        op = producers[tensor]
        if graph.kind(op) not in (Op.MIRROR_PAD, Op.PAD, Op.QUANTIZE):
            return False
        tensor = int(op.inputs[0])
    return tensor == content_input(graph)


def same_quant(graph: Graph, a: int, b: int) -> bool:
    qa, qb = graph.tensor(a).quantization, graph.tensor(b).quantization
    if any(q is None or q.scale is None or len(q.scale) != 1 for q in (qa, qb)):
        return False
    return qa.scale[0] == qb.scale[0] and qa.zeroPoint[0] == qb.zeroPoint[0]
