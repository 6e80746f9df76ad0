"""Edit a .tflite flatbuffer in Python: read it into the schema's object API, change
tensors and operators, write it back.

LiteRT ships the flatbuffer schema (``ai_edge_litert.schema_py_generated``); its object
API (``ModelT``, ``SubGraphT``, ``OperatorT``, ``TensorT``, ``BufferT``) is what
:class:`Graph` wraps: constants as numpy arrays, producers and consumers of a tensor,
new tensors, ops and op codes, and the clean-up a rewrite needs afterwards (dead ops,
unused tensors and buffers). Used by the style-transfer rewrites
(:mod:`camfx.tflite.transfer`), the DeepLab cut and the conversion workflow.
"""

from __future__ import annotations

import copy
import struct
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema

if TYPE_CHECKING:
    from ai_edge_litert.interpreter import Interpreter

Op = schema.BuiltinOperator
TT = schema.TensorType
FILE_IDENTIFIER = b"TFL3"
OP_NAMES: dict[int, str] = {v: k for k, v in vars(Op).items() if not k.startswith("_")}
# What reading a damaged flatbuffer raises (the flatbuffers package does not verify).
DECODE_ERRORS = (IndexError, OverflowError, TypeError, ValueError, struct.error)

_DTYPES: dict[int, type[np.generic]] = {
    TT.FLOAT32: np.float32,
    TT.FLOAT16: np.float16,
    TT.INT32: np.int32,
    TT.INT8: np.int8,
    TT.UINT8: np.uint8,
    TT.INT64: np.int64,
}


class Graph:
    """Subgraph 0 of a model, with helpers to read constants and to add tensors and ops."""

    def __init__(self, model: schema.ModelT) -> None:
        self.model = model
        self.sg: schema.SubGraphT = model.subgraphs[0]
        self.ops: list[schema.OperatorT] = list(self.sg.operators)
        self._int32_consts: dict[tuple[int, ...], int] = {}

    def kind(self, op: schema.OperatorT) -> int:
        code = self.model.operatorCodes[op.opcodeIndex]
        # builtinCode holds codes over 127; the deprecated field holds the small ones
        return max(code.builtinCode, code.deprecatedBuiltinCode)

    def tensor(self, index: int) -> schema.TensorT:
        return self.sg.tensors[index]

    def shape(self, index: int) -> tuple[int, ...]:
        shape = self.sg.tensors[index].shape
        return () if shape is None else tuple(int(d) for d in shape)

    def is_int8(self, index: int) -> bool:
        return self.sg.tensors[index].type == TT.INT8

    def data(self, index: int) -> np.ndarray | None:
        """A constant tensor's value; None for an activation."""
        tensor = self.sg.tensors[index]
        raw = self.model.buffers[tensor.buffer].data
        if raw is None or len(raw) == 0:
            return None
        value = np.frombuffer(np.asarray(raw, np.uint8).tobytes(), _DTYPES[tensor.type])
        return value.reshape(self.shape(index))

    def set_data(self, index: int, value: np.ndarray) -> None:
        # a fresh buffer: the old one may be shared with other tensors
        self.sg.tensors[index].buffer = self._add_buffer(value)

    def float_value(self, index: int) -> np.ndarray | None:
        """A float constant as float32, looking through DEQUANTIZE of float16 weights."""
        value = self.data(index)
        if value is None:
            op = self.producers().get(index)
            if op is not None and self.kind(op) == Op.DEQUANTIZE:
                value = self.data(op.inputs[0])
        if value is None or value.dtype not in (np.float16, np.float32):
            return None
        return value.astype(np.float32)

    def producers(self) -> dict[int, schema.OperatorT]:
        return {int(t): op for op in self.ops for t in op.outputs}

    def consumers(self) -> dict[int, list[schema.OperatorT]]:
        users: dict[int, list[schema.OperatorT]] = {}
        for op in self.ops:
            for t in op.inputs:
                users.setdefault(int(t), []).append(op)
        return users

    def add_tensor(
        self,
        name: str,
        shape: Sequence[int],
        ttype: int,
        quant: schema.QuantizationParametersT | None = None,
        data: np.ndarray | None = None,
    ) -> int:
        tensor = schema.TensorT()
        tensor.name = name.encode()
        tensor.shape = np.array(shape, np.int32)
        tensor.type = ttype
        tensor.quantization = copy.deepcopy(quant)
        tensor.buffer = 0 if data is None else self._add_buffer(data)
        self.sg.tensors.append(tensor)
        return len(self.sg.tensors) - 1

    def like(self, index: int, suffix: str, shape: Sequence[int]) -> int:
        """A new activation with the type and quantization of ``index``."""
        src = self.sg.tensors[index]
        return self.add_tensor(src.name.decode() + suffix, shape, src.type, src.quantization)

    def int32_const(self, values: Sequence[int]) -> int:
        key = tuple(int(v) for v in values)
        if key not in self._int32_consts:
            data = np.array(key, np.int32)
            self._int32_consts[key] = self.add_tensor(
                f"camfx/const_{len(self._int32_consts)}", [len(key)], TT.INT32, data=data
            )
        return self._int32_consts[key]

    def op(
        self,
        kind: int,
        inputs: Sequence[int],
        outputs: Sequence[int],
        options_type: int = 0,
        options: object = None,
        int8: bool = False,
    ) -> schema.OperatorT:
        op = schema.OperatorT()
        op.opcodeIndex = self._opcode(kind, 2 if int8 else 1)
        op.inputs = np.array(inputs, np.int32)
        op.outputs = np.array(outputs, np.int32)
        op.builtinOptionsType = options_type
        op.builtinOptions = options
        return op

    def rewire(self, old: int, new: int) -> None:
        """Every reader of tensor ``old`` reads ``new`` instead."""
        for op in self.ops:
            op.inputs = np.array([new if t == old else t for t in op.inputs], np.int32)

    def splice(self, replaced: dict[int, list[schema.OperatorT]], removed: set[int]) -> None:
        """Put each op's replacement where the op was, which keeps dependency order."""
        ops: list[schema.OperatorT] = []
        for op in self.ops:
            if id(op) not in removed:
                ops.extend(replaced.get(id(op), [op]))
        self.ops = ops

    def _add_buffer(self, value: np.ndarray) -> int:
        buffer = schema.BufferT()
        buffer.data = np.frombuffer(np.ascontiguousarray(value).tobytes(), np.uint8)
        self.model.buffers.append(buffer)
        return len(self.model.buffers) - 1

    def _opcode(self, kind: int, version: int) -> int:
        for i, code in enumerate(self.model.operatorCodes):
            found = max(code.builtinCode, code.deprecatedBuiltinCode)
            if found == kind and code.version == version and not code.customCode:
                return i
        code = schema.OperatorCodeT()
        code.builtinCode = kind
        code.deprecatedBuiltinCode = min(kind, Op.PLACEHOLDER_FOR_GREATER_OP_CODES)
        code.version = version
        self.model.operatorCodes.append(code)
        return len(self.model.operatorCodes) - 1


def check_identifier(data: bytes, what: str = "model data") -> None:
    """ValueError unless ``data`` carries the .tflite file identifier."""
    if len(data) < 8 or data[4:8] != FILE_IDENTIFIER:
        raise ValueError(f"{what}: not a TensorFlow Lite model (no TFL3 file identifier)")


def load_model_object(data: bytes) -> Graph:
    """A .tflite file's bytes as an editable graph (the schema's object API)."""
    check_identifier(data)
    model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    if len(model.subgraphs) != 1:
        raise ValueError(f"expected a model with one subgraph, found {len(model.subgraphs)}")
    return Graph(model)


def pack_model(graph: Graph) -> bytes:
    """The edited graph as .tflite bytes."""
    graph.sg.operators = graph.ops
    builder = flatbuffers.Builder(1 << 20)
    builder.Finish(graph.model.Pack(builder), file_identifier=FILE_IDENTIFIER)
    return bytes(builder.Output())


def interpreter(model: bytes, threads: int = 1, delegates: bool = True) -> Interpreter:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    resolver = (
        OpResolverType.AUTO if delegates else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    )
    return Interpreter(
        model_content=model, num_threads=threads, experimental_op_resolver_type=resolver
    )


def runtime_shapes(graph: Graph) -> dict[int, tuple[int, ...]]:
    """Every tensor's shape as the runtime computes it (one allocation, no delegate)."""
    runner = interpreter(pack_model(graph), delegates=False)
    try:
        runner.allocate_tensors()
    except RuntimeError as error:  # e.g. a size so large that a kernel's buffers overflow
        shapes = [graph.shape(i) for i in graph.sg.inputs]
        raise ValueError(f"the runtime cannot run this model at {shapes}: {error}") from None
    count = len(graph.sg.tensors)  # the runtime adds scratch tensors after the model's
    return {
        d["index"]: tuple(int(x) for x in d["shape"])
        for d in runner.get_tensor_details()
        if d["index"] < count
    }



def drop_dead_ops(graph: Graph) -> None:
    """Drop ops nothing reads from (e.g. the DEQUANTIZE of weights that were replaced)."""
    needed = {int(t) for t in graph.sg.outputs}
    kept: list[schema.OperatorT] = []
    for op in reversed(graph.ops):
        if any(int(t) in needed for t in op.outputs):
            kept.append(op)
            needed.update(int(t) for t in op.inputs if t >= 0)
    graph.ops = kept[::-1]


def compact(graph: Graph) -> None:
    """Drop tensors, buffers and op codes that no op uses, renumbering the rest."""
    model, sg = graph.model, graph.sg
    used: set[int] = {int(t) for t in (*sg.inputs, *sg.outputs)}
    for op in graph.ops:
        used.update(int(t) for t in (*op.inputs, *op.outputs) if t >= 0)
        used.update(int(t) for t in (op.intermediates if op.intermediates is not None else []))
    order = sorted(used)
    remap = {old: new for new, old in enumerate(order)}

    def renumber(values: Iterable[int]) -> np.ndarray:
        return np.array([remap[int(t)] if t >= 0 else -1 for t in values], np.int32)

    for op in graph.ops:
        op.inputs, op.outputs = renumber(op.inputs), renumber(op.outputs)
        if op.intermediates is not None:
            op.intermediates = renumber(op.intermediates)
    sg.inputs, sg.outputs = renumber(sg.inputs), renumber(sg.outputs)
    for signature in model.signatureDefs or []:
        for entry in (*(signature.inputs or []), *(signature.outputs or [])):
            entry.tensorIndex = remap[int(entry.tensorIndex)]
    sg.tensors = [sg.tensors[i] for i in order]

    # buffer 0 stays the empty sentinel; metadata points at buffers too
    metadata = [m.buffer for m in model.metadata or []]
    keep = sorted({0, *(t.buffer for t in sg.tensors), *metadata})
    new_buffer = {old: new for new, old in enumerate(keep)}
    model.buffers = [model.buffers[i] for i in keep]
    for tensor in sg.tensors:
        tensor.buffer = new_buffer[tensor.buffer]
    for entry in model.metadata or []:
        entry.buffer = new_buffer[entry.buffer]

    codes = sorted({op.opcodeIndex for op in graph.ops})
    new_code = {old: new for new, old in enumerate(codes)}
    model.operatorCodes = [model.operatorCodes[i] for i in codes]
    for op in graph.ops:
        op.opcodeIndex = new_code[op.opcodeIndex]


def check_shapes(graph: Graph) -> None:
    """The shapes written into the file must be the ones the runtime computes."""
    for index, shape in runtime_shapes(graph).items():
        if graph.shape(index) != shape:
            name = graph.tensor(index).name.decode()
            raise RuntimeError(f"rewrite bug: {name} is {graph.shape(index)}, runtime {shape}")



def keep_outputs(data: bytes, outputs: Sequence[int]) -> bytes:
    """The model with only the given outputs (by index, in that order), and only the
    ops they need: a multi-task model (the pose model's mask without its landmarks)
    runs what one task takes."""
    graph = load_model_object(data)
    count = len(graph.sg.outputs)
    if not outputs or any(not 0 <= i < count for i in outputs):
        raise ValueError(f"output indices {list(outputs)} out of range for {count} outputs")
    kept = [int(graph.sg.outputs[i]) for i in outputs]
    graph.sg.outputs = np.array(kept, np.int32)
    for signature in graph.model.signatureDefs or []:  # they name the outputs too
        signature.outputs = [e for e in signature.outputs or [] if e.tensorIndex in kept]
    drop_dead_ops(graph)
    compact(graph)
    return pack_model(graph)


def set_input_size(graph: Graph, index: int, height: int, width: int,
                   resizes: Sequence[int] = (Op.RESIZE_BILINEAR, Op.RESIZE_NEAREST_NEIGHBOR)
                   ) -> None:
    """Input tensor `index` takes [1, H, W, C]; the constant size of every resize of the
    kinds in `resizes` is scaled with it (in a fully convolutional network they are
    fractions of the input), and every shape written again as the runtime derives it.
    ValueError where a resize's size is computed, or would not be whole."""
    _, h0, w0, channels = graph.shape(index)
    graph.tensor(index).shape = np.array([1, height, width, channels], np.int32)
    done: set[int] = set()
    for op in graph.ops:
        if graph.kind(op) not in resizes or int(op.inputs[1]) in done:
            continue
        size = graph.data(op.inputs[1])
        if size is None:
            raise ValueError("a resize with a computed size: its input size is fixed")
        new = np.array([size[0] * height, size[1] * width], np.int64)
        if np.any(new % [h0, w0]):
            raise ValueError(f"size {height}x{width} does not divide this model's resizes")
        graph.set_data(op.inputs[1], (new // [h0, w0]).astype(np.int32))
        done.add(int(op.inputs[1]))
    for tensor, shape in runtime_shapes(graph).items():
        graph.tensor(tensor).shape = np.array(shape, np.int32)


def with_input_size(data: bytes, height: int, width: int) -> bytes:
    """A one-input model for an H x W input (see set_input_size)."""
    graph = load_model_object(data)
    if len(graph.sg.inputs) != 1:
        raise ValueError(f"expected a model with one input, found {len(graph.sg.inputs)}")
    set_input_size(graph, int(graph.sg.inputs[0]), height, width)
    return pack_model(graph)


def is_quantized(data: bytes) -> bool:
    """Whether the model computes in int8 (the published int8 transfer model does)."""
    graph = load_model_object(data)
    return any(t.type == TT.INT8 for t in graph.sg.tensors)


def op_counts(data: bytes) -> dict[str, int]:
    """How many ops of each builtin kind the model has, by name."""
    graph = load_model_object(data)
    counts: dict[str, int] = {}
    for op in graph.ops:
        name = OP_NAMES.get(graph.kind(op), str(graph.kind(op)))
        counts[name] = counts.get(name, 0) + 1
    return counts

