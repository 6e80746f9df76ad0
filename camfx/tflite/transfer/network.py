"""What the rewrites rely on about the Magenta transfer network: its two inputs, the sizes
it can take, and the one change every rewritten model gets, its input size."""

from __future__ import annotations

import numpy as np

from camfx.tflite.graph import Graph, Op, set_input_size

CONTENT_CHANNELS = 3
BOTTLENECK_SIZE = 100
DOWNSAMPLE = 4  # two stride-2 convs: H and W must be multiples of this
MIN_SIZE = 8  # the bottleneck (H/4) must be at least 2 for its reflect padding of 1
MAX_SIZE = 4096


def content_input(graph: Graph) -> int:
    for index in graph.sg.inputs:
        shape = graph.shape(index)
        if len(shape) == 4 and shape[-1] == CONTENT_CHANNELS:
            return int(index)
    raise ValueError("no [1, H, W, 3] content input: not the Magenta style transfer network")


def check_size(height: int, width: int, max_size: int | None = MAX_SIZE) -> None:
    """ValueError unless H and W are multiples of 4 from MIN_SIZE to ``max_size`` (None:
    no upper bound, for the Keras rebuild, which any size suits)."""
    for name, value in (("height", height), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise ValueError(f"{name} must be an integer, got {value!r}")
        too_large = max_size is not None and value > max_size
        if value % DOWNSAMPLE or value < MIN_SIZE or too_large:
            bounds = (
                f"at least {MIN_SIZE}" if max_size is None else f"from {MIN_SIZE} to {max_size}"
            )
            raise ValueError(
                f"{name} must be a multiple of {DOWNSAMPLE} {bounds} "
                f"(the network halves the image twice), got {value}"
            )


def parse_size(text: str) -> tuple[int, int]:
    """'216x384' -> (216, 384): height x width."""
    parts = text.lower().replace("×", "x").split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ValueError(f"size must be HEIGHTxWIDTH, e.g. 216x384, got {text!r}")
    height, width = (int(p) for p in parts)
    check_size(height, width)
    return height, width


def set_size(graph: Graph, height: int, width: int) -> None:
    """New input shape; resize sizes scaled with it (they are fractions of the input)."""
    set_input_size(graph, content_input(graph), height, width, (Op.RESIZE_NEAREST_NEIGHBOR,))
