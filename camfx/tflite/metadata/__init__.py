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
package reads and writes the fields camfx uses with the ``flatbuffers`` package alone (and
the TFLite model schema that LiteRT ships, for the model around it). Fields it does not
model (dimension names, other process units, custom metadata, ...) are skipped on reading
and not written.

The package: :mod:`.info` (what the metadata says, as dataclasses), :mod:`.layout` (where
the schema puts each field), :mod:`.read` and :mod:`.write`.
"""

from __future__ import annotations

from camfx.tflite.metadata.info import ColorSpace, ModelInfo, TensorInfo
from camfx.tflite.metadata.read import (
    input_normalization,
    read_associated_files,
    read_labels,
    read_metadata,
)
from camfx.tflite.metadata.write import write_metadata

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
