"""Where metadata_schema.fbs (tflite-support) puts the fields camfx reads and writes: the
identifiers, each table's field slots, and the union and enum codes. Shared by
:mod:`.read` and :mod:`.write`, which read and build these tables by hand."""

from __future__ import annotations

from enum import IntEnum

METADATA_NAME = b"TFLITE_METADATA"
METADATA_IDENTIFIER = b"M001"


# Field slots (declaration order in metadata_schema.fbs) of the tables used here.
class ModelSlot(IntEnum):
    NAME = 0
    DESCRIPTION = 1
    VERSION = 2
    SUBGRAPHS = 3
    AUTHOR = 4
    LICENSE = 5
    ASSOCIATED_FILES = 6
    MIN_PARSER_VERSION = 7


class SubgraphSlot(IntEnum):
    NAME = 0
    DESCRIPTION = 1
    INPUTS = 2
    OUTPUTS = 3


class TensorSlot(IntEnum):
    NAME = 0
    DESCRIPTION = 1
    DIMENSION_NAMES = 2
    CONTENT = 3
    PROCESS_UNITS = 4
    STATS = 5
    ASSOCIATED_FILES = 6


class ContentSlot(IntEnum):
    PROPERTIES_TYPE = 0  # a union is two slots: its type code, then the table
    PROPERTIES = 1
    RANGE = 2


class FileSlot(IntEnum):
    NAME = 0
    DESCRIPTION = 1
    TYPE = 2


# Union and enum codes of metadata_schema.fbs (0 is NONE / UNKNOWN throughout).
FEATURE_PROPERTIES = 1  # ContentProperties
IMAGE_PROPERTIES = 2
NORMALIZATION_OPTIONS = 1  # ProcessUnitOptions
TENSOR_AXIS_LABELS = 2  # AssociatedFileType

# Both tables hold two fields that go together: (first, second) at slots 0 and 1.
PAIR_FIRST, PAIR_SECOND = 0, 1  # NormalizationOptions(mean, std), Stats(max, min)
IMAGE_COLOR_SPACE = 0  # ImageProperties.color_space
RANGE_MIN, RANGE_MAX = 0, 1  # ValueRange
UNIT_OPTIONS_TYPE, UNIT_OPTIONS = 0, 1  # ProcessUnit.options
