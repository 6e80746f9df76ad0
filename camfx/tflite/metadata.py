"""Read and write TensorFlow Lite model metadata (names, normalization, label files).

A .tflite file can describe itself: how to normalize its input pixels, what each output
means, which labels go with it. That description is a small flatbuffer of its own
(``metadata_schema.fbs`` from tflite-support, file identifier ``M001``), stored in one of
the model's buffers and named by the model's ``metadata`` entry ``TFLITE_METADATA``.
Files that go with it (a label file) are a zip archive appended to the .tflite file: the
model flatbuffer ignores trailing bytes, and a zip reader finds its archive from the end.

Why this is written here rather than imported: the library for it, ``tflite-support``
(last release 0.4.4, 2023), pins ``protobuf<4`` and so cannot be installed beside
TensorFlow 2.16+, and its writer needs a compiled helper. The metadata is small, so this
module reads and writes the fields camfx uses with the ``flatbuffers`` package alone (and
the TFLite model schema that LiteRT ships, for the model around it). Fields it does not
model (dimension names, other process units, custom metadata, ...) are skipped on reading
and not written.
"""

from __future__ import annotations

import io
import math
import os
import struct
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema
from flatbuffers import number_types
from flatbuffers.table import Table

__all__ = [
    "ColorSpace",
    "ModelInfo",
    "TensorInfo",
    "input_normalization",
    "read_associated_files",
    "read_labels",
    "read_metadata",
    "write_metadata",
]

ModelSource = str | os.PathLike[str] | bytes | bytearray | memoryview

METADATA_NAME = b"TFLITE_METADATA"
MODEL_IDENTIFIER = b"TFL3"
METADATA_IDENTIFIER = b"M001"
# Every field this writer uses exists since metadata schema 1.0.0.
MIN_PARSER_VERSION = "1.0.0"
LABEL_FILE_DESCRIPTION = "Labels for the classes along the last axis of this tensor."
# What reading a damaged flatbuffer raises (the flatbuffers package does not verify).
_DECODE_ERRORS = (IndexError, OverflowError, TypeError, ValueError, struct.error)
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed, so the same input gives the same bytes


class ColorSpace(IntEnum):
    """``ColorSpaceType`` of an image tensor."""

    UNKNOWN = 0
    RGB = 1
    GRAYSCALE = 2


# Field slots (declaration order in metadata_schema.fbs) of the tables used here.
class _ModelSlot(IntEnum):
    NAME = 0
    DESCRIPTION = 1
    VERSION = 2
    SUBGRAPHS = 3
    AUTHOR = 4
    LICENSE = 5
    ASSOCIATED_FILES = 6
    MIN_PARSER_VERSION = 7


class _SubgraphSlot(IntEnum):
    NAME = 0
    DESCRIPTION = 1
    INPUTS = 2
    OUTPUTS = 3


class _TensorSlot(IntEnum):
    NAME = 0
    DESCRIPTION = 1
    DIMENSION_NAMES = 2
    CONTENT = 3
    PROCESS_UNITS = 4
    STATS = 5
    ASSOCIATED_FILES = 6


class _ContentSlot(IntEnum):
    PROPERTIES_TYPE = 0  # a union is two slots: its type code, then the table
    PROPERTIES = 1
    RANGE = 2


class _FileSlot(IntEnum):
    NAME = 0
    DESCRIPTION = 1
    TYPE = 2


# Union and enum codes of metadata_schema.fbs (0 is NONE / UNKNOWN throughout).
_FEATURE_PROPERTIES = 1  # ContentProperties
_IMAGE_PROPERTIES = 2
_NORMALIZATION_OPTIONS = 1  # ProcessUnitOptions
_TENSOR_AXIS_LABELS = 2  # AssociatedFileType

# Both tables hold two fields that go together: (first, second) at slots 0 and 1.
_PAIR_FIRST, _PAIR_SECOND = 0, 1  # NormalizationOptions(mean, std), Stats(max, min)
_IMAGE_COLOR_SPACE = 0  # ImageProperties.color_space
_RANGE_MIN, _RANGE_MAX = 0, 1  # ValueRange
_UNIT_OPTIONS_TYPE, _UNIT_OPTIONS = 0, 1  # ProcessUnit.options


def _float32s(values: Sequence[float] | None) -> tuple[float, ...] | None:
    # The file stores float32: keep that precision so a round trip compares equal.
    if values is None:
        return None
    return tuple(float(v) for v in np.asarray(values, dtype=np.float32).reshape(-1))


@dataclass(frozen=True)
class TensorInfo:
    """What the metadata says about one input or output tensor.

    ``mean``/``std``: the input is ``(value - mean) / std`` (per channel, or one value for
    all). ``min``/``max``: the range of the tensor's values. ``color_space``: set for an
    image tensor, None for any other content. ``content_range``: the dimensions the
    content spans (a segmentation output's image is dims 1..2), None for all but batch.
    ``label_file``: the name of an associated file with one label per line for the last
    axis (``TENSOR_AXIS_LABELS``).
    """

    # Sequences are stored as tuples (floats at float32 precision): infos compare by value.
    name: str = ""
    description: str = ""
    mean: Sequence[float] | None = None
    std: Sequence[float] | None = None
    min: Sequence[float] | None = None
    max: Sequence[float] | None = None
    color_space: ColorSpace | None = None
    content_range: tuple[int, int] | None = None
    label_file: str | None = None

    def __post_init__(self) -> None:
        for name in ("mean", "std", "min", "max"):
            object.__setattr__(self, name, _float32s(getattr(self, name)))
        if (self.mean is None) != (self.std is None):
            raise ValueError(f"tensor {self.name!r}: give both mean and std, or neither")
        if self.std is not None and not all(s != 0 and math.isfinite(s) for s in self.std):
            raise ValueError(f"tensor {self.name!r}: std must be finite and non-zero")
        if self.color_space is not None:
            object.__setattr__(self, "color_space", ColorSpace(self.color_space))
        if self.content_range is not None:
            low, high = (int(v) for v in self.content_range)
            object.__setattr__(self, "content_range", (low, high))


@dataclass(frozen=True)
class ModelInfo:
    """The model-level metadata, with one :class:`TensorInfo` per model input and output.

    ``min_parser_version`` is as read from a file and takes no part in comparisons: the
    writer sets its own.
    """

    name: str = ""
    description: str = ""
    version: str = ""
    author: str = ""
    license: str = ""
    inputs: Sequence[TensorInfo] = ()
    outputs: Sequence[TensorInfo] = ()
    min_parser_version: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        # Accept lists; store tuples so that infos compare equal whatever was passed.
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "outputs", tuple(self.outputs))


# ---------------------------------------------------------------------------- reading


def read_metadata(source: ModelSource) -> ModelInfo | None:
    """The metadata of a .tflite model (a path or its bytes); None if it carries none.

    Raises ValueError, naming the problem, for data that is not a TFLite model or whose
    metadata is corrupt.
    """
    data, what = _load(source)
    payload = _metadata_payload(data, what)
    return None if payload is None else _parse_metadata(payload, what)


def read_associated_files(source: ModelSource) -> dict[str, bytes]:
    """The files packed into a .tflite model (the appended zip), by name; {} if none."""
    data, what = _load(source)
    _check_model(data, what)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return {entry.filename: archive.read(entry) for entry in archive.infolist()}
    except zipfile.BadZipFile:
        return {}


def read_labels(source: ModelSource, output: int = 0) -> list[str] | None:
    """The labels of an output's last axis from its packed label file; None if it has none."""
    data, what = _load(source)
    info = read_metadata(data)
    if info is None or output >= len(info.outputs) or info.outputs[output].label_file is None:
        return None
    name = info.outputs[output].label_file
    files = read_associated_files(data)
    if name not in files:
        raise ValueError(f"{what}: label file {name!r} is named in the metadata but not packed")
    return [line.strip() for line in files[name].decode("utf-8").splitlines() if line.strip()]


def input_normalization(
    info: ModelInfo | None, index: int = 0
) -> tuple[np.ndarray, np.ndarray] | None:
    """(mean, std) of an input as float32 arrays, for ``(value - mean) / std``; else None.

    Each array has one value per channel or a single value for all; both broadcast over
    the last axis of an HxWxC frame.
    """
    if info is None or index >= len(info.inputs):
        return None
    tensor = info.inputs[index]
    if tensor.mean is None or tensor.std is None:
        return None
    return np.asarray(tensor.mean, np.float32), np.asarray(tensor.std, np.float32)


def _load(source: ModelSource) -> tuple[bytes, str]:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), "model data"
    path = Path(source)
    return path.read_bytes(), str(path)


def _check_model(data: bytes, what: str) -> None:
    if len(data) < 8 or data[4:8] != MODEL_IDENTIFIER:
        raise ValueError(f"{what}: not a TensorFlow Lite model (no TFL3 file identifier)")
    _root(data, what, "TensorFlow Lite model")


def _root(data: bytes, what: str, kind: str) -> int:
    """The offset of a flatbuffer's root table, checked to lie past its 8-byte header."""
    root = struct.unpack_from("<I", data, 0)[0]
    if not 8 <= root < len(data):
        raise ValueError(f"{what}: corrupt {kind} (root table offset {root} out of range)")
    return root


def _metadata_payload(data: bytes, what: str) -> bytes | None:
    """The bytes of the TFLITE_METADATA buffer, or None when the model has no such entry."""
    _check_model(data, what)
    try:
        model = schema.Model.GetRootAs(data, 0)
        index = _metadata_buffer_index(model)
        if index is None:
            return None
        count = model.BuffersLength()
        payload = _buffer_bytes(data, model.Buffers(index)) if 0 <= index < count else None
    except _DECODE_ERRORS as exc:
        raise ValueError(f"{what}: corrupt TensorFlow Lite model ({exc})") from exc
    if payload is None:
        raise ValueError(f"{what}: TFLITE_METADATA points at buffer {index} of {count}")
    if not payload:
        raise ValueError(f"{what}: the TFLITE_METADATA buffer is empty")
    return payload


def _metadata_buffer_index(model: schema.Model) -> int | None:
    for i in range(model.MetadataLength()):
        entry = model.Metadata(i)
        if entry.Name() == METADATA_NAME:
            return entry.Buffer()
    return None


def _buffer_bytes(data: bytes, buffer: schema.Buffer) -> bytes:
    if buffer.Offset() > 1:  # a model over 2 GB keeps buffers after the flatbuffer
        return data[buffer.Offset() : buffer.Offset() + buffer.Size()]
    return buffer.DataAsNumpy().tobytes() if buffer.DataLength() else b""


class _Reader:
    """One table of a flatbuffer, read by field slot (the generated classes, by hand)."""

    def __init__(self, buf: bytes, pos: int) -> None:
        self._table = Table(buf, pos)

    def _at(self, slot: int) -> int:
        # vtable entries start after its two uint16 sizes; 0 means the field is absent
        return self._table.Offset(4 + 2 * slot)

    def string(self, slot: int) -> str:
        offset = self._at(slot)
        if not offset:
            return ""
        return self._table.String(offset + self._table.Pos).decode("utf-8")

    def int8(self, slot: int) -> int:
        offset = self._at(slot)
        return self._table.Get(number_types.Int8Flags, offset + self._table.Pos) if offset else 0

    def int32(self, slot: int) -> int:
        offset = self._at(slot)
        return self._table.Get(number_types.Int32Flags, offset + self._table.Pos) if offset else 0

    def table(self, slot: int) -> _Reader | None:
        offset = self._at(slot)
        if not offset:
            return None
        return _Reader(self._table.Bytes, self._table.Indirect(offset + self._table.Pos))

    def tables(self, slot: int) -> list[_Reader]:
        offset = self._at(slot)
        if not offset:
            return []
        start, count = self._table.Vector(offset), self._table.VectorLen(offset)
        return [
            _Reader(self._table.Bytes, self._table.Indirect(start + 4 * i)) for i in range(count)
        ]

    def floats(self, slot: int) -> tuple[float, ...] | None:
        offset = self._at(slot)
        if not offset:
            return None
        values = self._table.GetVectorAsNumpy(number_types.Float32Flags, offset)
        return tuple(float(v) for v in values)


def _parse_metadata(payload: bytes, what: str) -> ModelInfo:
    if len(payload) < 8 or payload[4:8] != METADATA_IDENTIFIER:
        raise ValueError(f"{what}: TFLITE_METADATA is not TFLite metadata (no M001 identifier)")
    root = _root(payload, what, "TFLite metadata")
    try:
        return _model_info(_Reader(payload, root))
    except _DECODE_ERRORS as exc:
        raise ValueError(f"{what}: corrupt TFLite metadata ({exc})") from exc


def _model_info(root: _Reader) -> ModelInfo:
    subgraphs = root.tables(_ModelSlot.SUBGRAPHS)
    main = subgraphs[0] if subgraphs else None  # the 0th describes the main subgraph
    return ModelInfo(
        name=root.string(_ModelSlot.NAME),
        description=root.string(_ModelSlot.DESCRIPTION),
        version=root.string(_ModelSlot.VERSION),
        author=root.string(_ModelSlot.AUTHOR),
        license=root.string(_ModelSlot.LICENSE),
        inputs=tuple(map(_tensor_info, main.tables(_SubgraphSlot.INPUTS))) if main else (),
        outputs=tuple(map(_tensor_info, main.tables(_SubgraphSlot.OUTPUTS))) if main else (),
        min_parser_version=root.string(_ModelSlot.MIN_PARSER_VERSION),
    )


def _tensor_info(tensor: _Reader) -> TensorInfo:
    mean, std = _normalization(tensor)
    stats = tensor.table(_TensorSlot.STATS)
    color_space, content_range = _content(tensor.table(_TensorSlot.CONTENT))
    return TensorInfo(
        name=tensor.string(_TensorSlot.NAME),
        description=tensor.string(_TensorSlot.DESCRIPTION),
        mean=mean,
        std=std,
        max=stats.floats(_PAIR_FIRST) if stats else None,
        min=stats.floats(_PAIR_SECOND) if stats else None,
        color_space=color_space,
        content_range=content_range,
        label_file=_label_file(tensor),
    )


def _normalization(tensor: _Reader) -> tuple[tuple[float, ...] | None, tuple[float, ...] | None]:
    for unit in tensor.tables(_TensorSlot.PROCESS_UNITS):
        options = unit.table(_UNIT_OPTIONS)
        if unit.int8(_UNIT_OPTIONS_TYPE) == _NORMALIZATION_OPTIONS and options is not None:
            return options.floats(_PAIR_FIRST), options.floats(_PAIR_SECOND)
    return None, None


def _content(content: _Reader | None) -> tuple[ColorSpace | None, tuple[int, int] | None]:
    if content is None:
        return None, None
    color_space = None
    properties = content.table(_ContentSlot.PROPERTIES)
    if content.int8(_ContentSlot.PROPERTIES_TYPE) == _IMAGE_PROPERTIES and properties:
        color_space = _color_space(properties.int8(_IMAGE_COLOR_SPACE))
    span = content.table(_ContentSlot.RANGE)
    content_range = (span.int32(_RANGE_MIN), span.int32(_RANGE_MAX)) if span else None
    return color_space, content_range


def _color_space(code: int) -> ColorSpace:
    try:
        return ColorSpace(code)
    except ValueError:  # a newer schema's colour space: still an image
        return ColorSpace.UNKNOWN


def _label_file(tensor: _Reader) -> str | None:
    # The schema: with several label files the first is the default (others: locales).
    for file in tensor.tables(_TensorSlot.ASSOCIATED_FILES):
        if file.int8(_FileSlot.TYPE) == _TENSOR_AXIS_LABELS:
            return file.string(_FileSlot.NAME)
    return None


# ---------------------------------------------------------------------------- writing


def write_metadata(
    model: bytes, info: ModelInfo, associated_files: Mapping[str, bytes] | None = None
) -> bytes:
    """The model with ``info`` as its metadata and ``associated_files`` packed after it.

    Replaces any metadata and packed files the model had. ``info`` needs one TensorInfo
    per input and output of the model's main subgraph (as the official reader checks);
    each packed file must be a tensor's ``label_file``, and each label file packed.
    """
    files = dict(associated_files or {})
    _check_model(model, "model data")
    try:
        graph = schema.ModelT.InitFromPackedBuf(bytearray(model), 0)
    except _DECODE_ERRORS as exc:
        raise ValueError(f"model data: corrupt TensorFlow Lite model ({exc})") from exc
    _check_writable(graph, info, files)
    _attach(graph, _pack_metadata(info))
    builder = flatbuffers.Builder(len(model) + 4096)
    builder.Finish(graph.Pack(builder), file_identifier=MODEL_IDENTIFIER)
    return _append_zip(bytes(builder.Output()), files)


def _check_writable(graph: schema.ModelT, info: ModelInfo, files: Mapping[str, bytes]) -> None:
    if any((buffer.offset or 0) > 1 for buffer in graph.buffers or []):
        raise ValueError("models over 2 GB (buffers stored after the flatbuffer) are not supported")
    if not graph.subgraphs:
        raise ValueError("the model has no subgraph to describe")
    main = graph.subgraphs[0]
    for kind, tensors, ids in (
        ("input", info.inputs, main.inputs),
        ("output", info.outputs, main.outputs),
    ):
        count = 0 if ids is None else len(ids)
        if len(tensors) != count:
            raise ValueError(
                f"the model has {count} {kind}(s) but the metadata describes {len(tensors)}"
            )
    labels = {t.label_file for t in (*info.inputs, *info.outputs) if t.label_file is not None}
    if missing := sorted(labels - set(files)):
        raise ValueError(f"label file(s) {missing} are named in the metadata but not given")
    if unnamed := sorted(set(files) - labels):
        raise ValueError(f"associated file(s) {unnamed} are not any tensor's label_file")


def _attach(graph: schema.ModelT, payload: bytes) -> None:
    """Point the model's one TFLITE_METADATA entry at a buffer holding ``payload``."""
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(payload, dtype=np.uint8)
    others = [e for e in graph.metadata or [] if _entry_name(e) != METADATA_NAME]
    old = [e.buffer for e in graph.metadata or [] if _entry_name(e) == METADATA_NAME]
    graph.buffers = list(graph.buffers or [])
    if old and _unshared(graph, old[0], others):
        index = old[0]  # replace the old metadata in place rather than leave it behind
        graph.buffers[index] = buffer
    else:
        graph.buffers.append(buffer)
        index = len(graph.buffers) - 1
    entry = schema.MetadataT()
    entry.name = METADATA_NAME.decode()
    entry.buffer = index
    graph.metadata = [*others, entry]


def _entry_name(entry: schema.MetadataT) -> bytes:
    name = entry.name or b""
    return name.encode() if isinstance(name, str) else bytes(name)


def _unshared(graph: schema.ModelT, index: int, others: Sequence[schema.MetadataT]) -> bool:
    """Whether buffer ``index`` exists and no tensor or other metadata entry uses it."""
    if not 0 < index < len(graph.buffers):  # buffer 0 is the shared empty sentinel
        return False
    tensors = (t for sg in graph.subgraphs or [] for t in sg.tensors or [])
    return all(t.buffer != index for t in tensors) and all(e.buffer != index for e in others)


def _pack_metadata(info: ModelInfo) -> bytes:
    builder = flatbuffers.Builder(1024)
    subgraph = _pack_subgraph(builder, info)
    strings = {
        _ModelSlot.NAME: info.name,
        _ModelSlot.DESCRIPTION: info.description,
        _ModelSlot.VERSION: info.version,
        _ModelSlot.AUTHOR: info.author,
        _ModelSlot.LICENSE: info.license,
        _ModelSlot.MIN_PARSER_VERSION: MIN_PARSER_VERSION,
    }
    offsets = _strings(builder, strings)
    offsets[_ModelSlot.SUBGRAPHS] = _vector(builder, [subgraph])
    builder.Finish(_table(builder, offsets), file_identifier=METADATA_IDENTIFIER)
    return bytes(builder.Output())


def _pack_subgraph(builder: flatbuffers.Builder, info: ModelInfo) -> int:
    inputs = [_pack_tensor(builder, t) for t in info.inputs]
    outputs = [_pack_tensor(builder, t) for t in info.outputs]
    return _table(
        builder,
        {
            _SubgraphSlot.INPUTS: _vector(builder, inputs),
            _SubgraphSlot.OUTPUTS: _vector(builder, outputs),
        },
    )


def _pack_tensor(builder: flatbuffers.Builder, tensor: TensorInfo) -> int:
    offsets = _strings(
        builder, {_TensorSlot.NAME: tensor.name, _TensorSlot.DESCRIPTION: tensor.description}
    )
    offsets[_TensorSlot.CONTENT] = _pack_content(builder, tensor)
    if tensor.mean is not None and tensor.std is not None:
        options = _float_pair(builder, tensor.mean, tensor.std)
        unit = _table(
            builder, {_UNIT_OPTIONS: options}, {_UNIT_OPTIONS_TYPE: _NORMALIZATION_OPTIONS}
        )
        offsets[_TensorSlot.PROCESS_UNITS] = _vector(builder, [unit])
    if tensor.min is not None or tensor.max is not None:
        offsets[_TensorSlot.STATS] = _float_pair(builder, tensor.max, tensor.min)
    if tensor.label_file is not None:
        file = _table(
            builder,
            _strings(
                builder,
                {_FileSlot.NAME: tensor.label_file, _FileSlot.DESCRIPTION: LABEL_FILE_DESCRIPTION},
            ),
            {_FileSlot.TYPE: _TENSOR_AXIS_LABELS},
        )
        offsets[_TensorSlot.ASSOCIATED_FILES] = _vector(builder, [file])
    return _table(builder, offsets)


def _pack_content(builder: flatbuffers.Builder, tensor: TensorInfo) -> int:
    # The schema gives every tensor a content; one that is not an image is a "feature".
    if tensor.color_space is None:
        kind, properties = _FEATURE_PROPERTIES, _table(builder, {})
    else:
        kind = _IMAGE_PROPERTIES
        properties = _table(builder, {}, {_IMAGE_COLOR_SPACE: int(tensor.color_space)})
    offsets = {_ContentSlot.PROPERTIES: properties}
    if tensor.content_range is not None:
        low, high = tensor.content_range
        offsets[_ContentSlot.RANGE] = _table(builder, {}, ints={_RANGE_MIN: low, _RANGE_MAX: high})
    return _table(builder, offsets, {_ContentSlot.PROPERTIES_TYPE: kind})


def _float_pair(
    builder: flatbuffers.Builder, first: Sequence[float] | None, second: Sequence[float] | None
) -> int:
    offsets = {}
    for slot, values in ((_PAIR_FIRST, first), (_PAIR_SECOND, second)):
        if values is not None:
            offsets[slot] = builder.CreateNumpyVector(np.asarray(values, dtype="<f4"))
    return _table(builder, offsets)


def _strings(builder: flatbuffers.Builder, values: Mapping[int, str]) -> dict[int, int]:
    # Empty strings are left out: a reader sees an absent string as "".
    return {slot: builder.CreateString(text) for slot, text in values.items() if text}


def _vector(builder: flatbuffers.Builder, tables: Sequence[int]) -> int:
    builder.StartVector(4, len(tables), 4)
    for offset in reversed(tables):
        builder.PrependUOffsetTRelative(offset)
    return builder.EndVector()


def _table(
    builder: flatbuffers.Builder,
    offsets: Mapping[int, int],
    bytes_: Mapping[int, int] | None = None,
    ints: Mapping[int, int] | None = None,
) -> int:
    """A table from already-built children (by slot), byte fields and int32 fields."""
    bytes_, ints = bytes_ or {}, ints or {}
    builder.StartObject(1 + max((*offsets, *bytes_, *ints), default=-1))
    for slot, offset in offsets.items():
        builder.PrependUOffsetTRelativeSlot(slot, offset, 0)
    for slot, value in ints.items():
        builder.PrependInt32Slot(slot, value, 0)
    for slot, value in bytes_.items():
        builder.PrependInt8Slot(slot, value, 0)
    return builder.EndObject()


def _append_zip(model: bytes, files: Mapping[str, bytes]) -> bytes:
    """``model`` followed by a zip of ``files`` (stored, not compressed), if there are any.

    Stored, because the official C++ reader hands out packed files in place, which it
    can only do uncompressed. Offsets in the archive count from the start of the file.
    """
    if not files:
        return model
    out = io.BytesIO()
    out.write(model)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name in sorted(files):
            archive.writestr(zipfile.ZipInfo(name, date_time=_ZIP_DATE), files[name])
    return out.getvalue()
