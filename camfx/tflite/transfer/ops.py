"""The ops the transfer rewrites put in: padding made of SLICEs and CONCATENATIONs, the
DEPTH_TO_SPACE / SPACE_TO_DEPTH pair, and per-channel quantization for wider convs.

Each is built from ops that XNNPACK runs, in the shapes it was measured to take.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from camfx.tflite.graph import Graph, Op

MAX_CONCAT_INPUTS = 4  # XNNPACK delegate took 4-input concats, not 9-input ones (measured)


def tiled_quant(
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


def pad_by_slices(
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
        ops.append(concat(graph, parts, target, axis))
        current = target
    return ops, current


def _joined(graph: Graph, parts: list[int], axis: int, ops: list[schema.OperatorT]) -> int | None:
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
        ops.append(concat(graph, group, target, axis))
        joined.append(target)
    return _joined(graph, joined, axis, ops)


def concat(graph: Graph, parts: Sequence[int], out: int, axis: int) -> schema.OperatorT:
    options = schema.ConcatenationOptionsT()
    options.axis = axis
    kind = schema.BuiltinOptions.ConcatenationOptions
    return graph.op(Op.CONCATENATION, parts, [out], kind, options, graph.is_int8(out))


def depth_to_space(graph: Graph, x: int, out: int) -> schema.OperatorT:
    options = schema.DepthToSpaceOptionsT()
    options.blockSize = 2
    kind = schema.BuiltinOptions.DepthToSpaceOptions
    return graph.op(Op.DEPTH_TO_SPACE, [x], [out], kind, options, graph.is_int8(x))


def space_to_depth(graph: Graph, x: int, out: int) -> schema.OperatorT:
    options = schema.SpaceToDepthOptionsT()
    options.blockSize = 2
    kind = schema.BuiltinOptions.SpaceToDepthOptions
    return graph.op(Op.SPACE_TO_DEPTH, [x], [out], kind, options, graph.is_int8(x))
