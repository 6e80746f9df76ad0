"""The ``drop_epsilon`` rewrite (int8 models): in ADD(variance, epsilon), epsilon is far
under one quantization step, so the ADD returns its input's integers; epsilon becomes an
exact 0, which XNNPACK takes (it refused the ADD, leaving 13 partitions)."""

from __future__ import annotations

import copy

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from camfx.tflite.graph import TT, Graph, Op


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


def rewrite_drop_epsilon(graph: Graph) -> int:
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
