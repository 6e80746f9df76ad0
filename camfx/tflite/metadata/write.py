"""Write TFLite metadata into a .tflite model and pack its label files after it.

The metadata flatbuffer is built field by field (:mod:`.layout` gives each field's slot),
with the ``flatbuffers`` package alone; the model around it through the object API of
the schema that LiteRT ships.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping, Sequence

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema

from camfx.tflite.graph import DECODE_ERRORS, FILE_IDENTIFIER
from camfx.tflite.metadata.info import ModelInfo, TensorInfo
from camfx.tflite.metadata.layout import (
    FEATURE_PROPERTIES,
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
from camfx.tflite.metadata.read import check_model

# Every field this writer uses exists since metadata schema 1.0.0.
MIN_PARSER_VERSION = "1.0.0"
LABEL_FILE_DESCRIPTION = "Labels for the classes along the last axis of this tensor."
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed, so the same input gives the same bytes


def write_metadata(
    model: bytes, info: ModelInfo, associated_files: Mapping[str, bytes] | None = None
) -> bytes:
    """The model with ``info`` as its metadata and ``associated_files`` packed after it.

    Replaces any metadata and packed files the model had. ``info`` needs one TensorInfo
    per input and output of the model's main subgraph (as the official reader checks);
    each packed file must be a tensor's ``label_file``, and each label file packed.
    """
    files = dict(associated_files or {})
    check_model(model, "model data")
    try:
        graph = schema.ModelT.InitFromPackedBuf(bytearray(model), 0)
    except DECODE_ERRORS as exc:
        raise ValueError(f"model data: corrupt TensorFlow Lite model ({exc})") from exc
    _check_writable(graph, info, files)
    _attach(graph, _pack_metadata(info))
    builder = flatbuffers.Builder(len(model) + 4096)
    builder.Finish(graph.Pack(builder), file_identifier=FILE_IDENTIFIER)
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
        ModelSlot.NAME: info.name,
        ModelSlot.DESCRIPTION: info.description,
        ModelSlot.VERSION: info.version,
        ModelSlot.AUTHOR: info.author,
        ModelSlot.LICENSE: info.license,
        ModelSlot.MIN_PARSER_VERSION: MIN_PARSER_VERSION,
    }
    offsets = _strings(builder, strings)
    offsets[ModelSlot.SUBGRAPHS] = _vector(builder, [subgraph])
    builder.Finish(_table(builder, offsets), file_identifier=METADATA_IDENTIFIER)
    return bytes(builder.Output())


def _pack_subgraph(builder: flatbuffers.Builder, info: ModelInfo) -> int:
    inputs = [_pack_tensor(builder, t) for t in info.inputs]
    outputs = [_pack_tensor(builder, t) for t in info.outputs]
    return _table(
        builder,
        {
            SubgraphSlot.INPUTS: _vector(builder, inputs),
            SubgraphSlot.OUTPUTS: _vector(builder, outputs),
        },
    )


def _pack_tensor(builder: flatbuffers.Builder, tensor: TensorInfo) -> int:
    offsets = _strings(
        builder, {TensorSlot.NAME: tensor.name, TensorSlot.DESCRIPTION: tensor.description}
    )
    offsets[TensorSlot.CONTENT] = _pack_content(builder, tensor)
    if tensor.mean is not None and tensor.std is not None:
        options = _float_pair(builder, tensor.mean, tensor.std)
        unit = _table(builder, {UNIT_OPTIONS: options}, {UNIT_OPTIONS_TYPE: NORMALIZATION_OPTIONS})
        offsets[TensorSlot.PROCESS_UNITS] = _vector(builder, [unit])
    if tensor.min is not None or tensor.max is not None:
        offsets[TensorSlot.STATS] = _float_pair(builder, tensor.max, tensor.min)
    if tensor.label_file is not None:
        file = _table(
            builder,
            _strings(
                builder,
                {FileSlot.NAME: tensor.label_file, FileSlot.DESCRIPTION: LABEL_FILE_DESCRIPTION},
            ),
            {FileSlot.TYPE: TENSOR_AXIS_LABELS},
        )
        offsets[TensorSlot.ASSOCIATED_FILES] = _vector(builder, [file])
    return _table(builder, offsets)


def _pack_content(builder: flatbuffers.Builder, tensor: TensorInfo) -> int:
    # The schema gives every tensor a content; one that is not an image is a "feature".
    if tensor.color_space is None:
        kind, properties = FEATURE_PROPERTIES, _table(builder, {})
    else:
        kind = IMAGE_PROPERTIES
        properties = _table(builder, {}, {IMAGE_COLOR_SPACE: int(tensor.color_space)})
    offsets = {ContentSlot.PROPERTIES: properties}
    if tensor.content_range is not None:
        low, high = tensor.content_range
        offsets[ContentSlot.RANGE] = _table(builder, {}, ints={RANGE_MIN: low, RANGE_MAX: high})
    return _table(builder, offsets, {ContentSlot.PROPERTIES_TYPE: kind})


def _float_pair(
    builder: flatbuffers.Builder, first: Sequence[float] | None, second: Sequence[float] | None
) -> int:
    offsets = {}
    for slot, values in ((PAIR_FIRST, first), (PAIR_SECOND, second)):
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
