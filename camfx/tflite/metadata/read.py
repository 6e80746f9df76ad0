"""Read TFLite metadata, and the files packed with it, from a .tflite model.

The flatbuffers package does not verify what it reads, so reads are guarded: what a
damaged file makes it raise comes out as a ValueError naming the file and the problem.
"""

from __future__ import annotations

import io
import os
import struct
import zipfile
from pathlib import Path

import numpy as np
from ai_edge_litert import schema_py_generated as schema
from flatbuffers import number_types
from flatbuffers.table import Table

from camfx.tflite.graph import DECODE_ERRORS, check_identifier
from camfx.tflite.metadata.info import ColorSpace, ModelInfo, TensorInfo
from camfx.tflite.metadata.layout import (
    IMAGE_COLOR_SPACE,
    IMAGE_PROPERTIES,
    METADATA_IDENTIFIER,
    METADATA_NAME,
    NORMALIZATION_OPTIONS,
    PAIR_FIRST,
    PAIR_SECOND,
    RANGE_MAX,
    RANGE_MIN,
    TENSOR_AXIS_LABELS,
    UNIT_OPTIONS,
    UNIT_OPTIONS_TYPE,
    ContentSlot,
    FileSlot,
    ModelSlot,
    SubgraphSlot,
    TensorSlot,
)

ModelSource = str | os.PathLike[str] | bytes | bytearray | memoryview


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
    check_model(data, what)
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


def check_model(data: bytes, what: str) -> None:
    """ValueError unless ``data`` looks like a .tflite file whose root table is in range."""
    check_identifier(data, what)
    _root(data, what, "TensorFlow Lite model")


def _root(data: bytes, what: str, kind: str) -> int:
    """The offset of a flatbuffer's root table, checked to lie past its 8-byte header."""
    root = struct.unpack_from("<I", data, 0)[0]
    if not 8 <= root < len(data):
        raise ValueError(f"{what}: corrupt {kind} (root table offset {root} out of range)")
    return root


def _metadata_payload(data: bytes, what: str) -> bytes | None:
    """The bytes of the TFLITE_METADATA buffer, or None when the model has no such entry."""
    check_model(data, what)
    try:
        model = schema.Model.GetRootAs(data, 0)
        index = _metadata_buffer_index(model)
        if index is None:
            return None
        count = model.BuffersLength()
        payload = _buffer_bytes(data, model.Buffers(index)) if 0 <= index < count else None
    except DECODE_ERRORS as exc:
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
    except DECODE_ERRORS as exc:
        raise ValueError(f"{what}: corrupt TFLite metadata ({exc})") from exc


def _model_info(root: _Reader) -> ModelInfo:
    subgraphs = root.tables(ModelSlot.SUBGRAPHS)
    main = subgraphs[0] if subgraphs else None  # the 0th describes the main subgraph
    return ModelInfo(
        name=root.string(ModelSlot.NAME),
        description=root.string(ModelSlot.DESCRIPTION),
        version=root.string(ModelSlot.VERSION),
        author=root.string(ModelSlot.AUTHOR),
        license=root.string(ModelSlot.LICENSE),
        inputs=tuple(map(_tensor_info, main.tables(SubgraphSlot.INPUTS))) if main else (),
        outputs=tuple(map(_tensor_info, main.tables(SubgraphSlot.OUTPUTS))) if main else (),
        min_parser_version=root.string(ModelSlot.MIN_PARSER_VERSION),
    )


def _tensor_info(tensor: _Reader) -> TensorInfo:
    mean, std = _normalization(tensor)
    stats = tensor.table(TensorSlot.STATS)
    color_space, content_range = _content(tensor.table(TensorSlot.CONTENT))
    return TensorInfo(
        name=tensor.string(TensorSlot.NAME),
        description=tensor.string(TensorSlot.DESCRIPTION),
        mean=mean,
        std=std,
        max=stats.floats(PAIR_FIRST) if stats else None,
        min=stats.floats(PAIR_SECOND) if stats else None,
        color_space=color_space,
        content_range=content_range,
        label_file=_label_file(tensor),
    )


def _normalization(tensor: _Reader) -> tuple[tuple[float, ...] | None, tuple[float, ...] | None]:
    for unit in tensor.tables(TensorSlot.PROCESS_UNITS):
        options = unit.table(UNIT_OPTIONS)
        if unit.int8(UNIT_OPTIONS_TYPE) == NORMALIZATION_OPTIONS and options is not None:
            return options.floats(PAIR_FIRST), options.floats(PAIR_SECOND)
    return None, None


def _content(content: _Reader | None) -> tuple[ColorSpace | None, tuple[int, int] | None]:
    if content is None:
        return None, None
    color_space = None
    properties = content.table(ContentSlot.PROPERTIES)
    if content.int8(ContentSlot.PROPERTIES_TYPE) == IMAGE_PROPERTIES and properties:
        color_space = _color_space(properties.int8(IMAGE_COLOR_SPACE))
    span = content.table(ContentSlot.RANGE)
    content_range = (span.int32(RANGE_MIN), span.int32(RANGE_MAX)) if span else None
    return color_space, content_range


def _color_space(code: int) -> ColorSpace:
    try:
        return ColorSpace(code)
    except ValueError:  # a newer schema's colour space: still an image
        return ColorSpace.UNKNOWN


def _label_file(tensor: _Reader) -> str | None:
    # The schema: with several label files the first is the default (others: locales).
    for file in tensor.tables(TensorSlot.ASSOCIATED_FILES):
        if file.int8(FileSlot.TYPE) == TENSOR_AXIS_LABELS:
            return file.string(FileSlot.NAME)
    return None
