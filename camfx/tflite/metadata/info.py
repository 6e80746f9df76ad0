"""What TFLite metadata says about a model, as camfx models it: :class:`ModelInfo` with
one :class:`TensorInfo` per input and output. Read by :mod:`.read`, written by
:mod:`.write`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np


class ColorSpace(IntEnum):
    """``ColorSpaceType`` of an image tensor."""

    UNKNOWN = 0
    RGB = 1
    GRAYSCALE = 2


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
