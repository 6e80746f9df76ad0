"""Rewrite the Magenta style-transfer network (.tflite) for any input size, faster on a CPU.

The published transfer network (``style_transfer_f16_384.tflite``, float16 weights, and
``style_transfer_quantized_384.tflite``, int8) takes 384x384 frames only, and on a CPU much
of its time goes to ops that XNNPACK does not run (MIRROR_PAD, RESIZE_NEAREST_NEIGHBOR: each
splits the graph into another partition) and to convolutions with few channels at full
resolution. This package edits the flatbuffer, through the object API of the schema that
LiteRT ships (:mod:`camfx.tflite.graph`), into an equivalent graph for an input of H x W:

- the size (always; :mod:`.network`): the input becomes [1, H, W, 3] and the three resize
  size constants follow it. A model with only this is the reference for its size.
- the conv rewrites (:mod:`.convs`): ``subpixel_conv``, ``strided_conv`` (float models) and
  ``s2d_conv``: a full-resolution conv's work on a quarter of the pixels with four times
  the channels. ``s2d_conv`` is not used on a float model's first conv, whose reordered
  sums end up 1.7e-4 off in the output.
- the copy rewrites (:mod:`.copies`): ``int8_pad`` (int8 models: padding and upsampling in
  int8), ``mirror_pad`` (reflect padding as SLICEs and CONCATENATIONs, bit-exact) and
  ``upsample`` (nearest x2 upsample as CONCATENATION and DEPTH_TO_SPACE, bit-exact).
- ``drop_epsilon`` (:mod:`.epsilon`, int8 models): an epsilon far under one quantization
  step becomes an exact 0, which XNNPACK takes.

The patterns they match are in :mod:`.patterns`, the ops they put in in :mod:`.ops`, the
rearranged kernels in :mod:`.weights`.

Float outputs differ from the reference by rounding only (measured: under 4e-6 on real
frames with all 27 bundled styles); int8 outputs are identical. Every rewrite matches a
pattern and leaves the graph alone where it does not match, so one that does not apply to
a model (sub-pixel conv on int8 weights, whose sums would need requantizing) changes
nothing.

The derived-model cache keys an optimized model by this package's source (every module
in it), so an edit to any rewrite rebuilds the cached models.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from camfx.tflite.graph import (
    Graph,
    check_shapes,
    compact,
    drop_dead_ops,
    load_model_object,
    pack_model,
)
from camfx.tflite.transfer.convs import (
    rewrite_s2d_conv,
    rewrite_strided_conv,
    rewrite_subpixel_conv,
)
from camfx.tflite.transfer.copies import rewrite_int8_pad, rewrite_mirror_pad, rewrite_upsample
from camfx.tflite.transfer.epsilon import rewrite_drop_epsilon
from camfx.tflite.transfer.network import (
    BOTTLENECK_SIZE,
    CONTENT_CHANNELS,
    MAX_SIZE,
    MIN_SIZE,
    check_size,
    content_input,
    parse_size,
    set_size,
)
from camfx.tflite.transfer.weights import (
    space_to_depth_weights,
    strided_weights,
    subpixel_weights,
)

__all__ = [
    "BOTTLENECK_SIZE",
    "CONTENT_CHANNELS",
    "MAX_SIZE",
    "MIN_SIZE",
    "REWRITES",
    "check_size",
    "content_input",
    "optimize_transfer_model",
    "parse_size",
    "rewrite_transfer_model",
    "space_to_depth_weights",
    "strided_weights",
    "subpixel_weights",
]

log = logging.getLogger(__name__)

# In the order they are applied: the conv rewrites need the original pad/resize patterns.
_PASSES: dict[str, Callable[[Graph], int]] = {
    "subpixel_conv": rewrite_subpixel_conv,
    "strided_conv": rewrite_strided_conv,
    "s2d_conv": rewrite_s2d_conv,
    "int8_pad": rewrite_int8_pad,
    "mirror_pad": rewrite_mirror_pad,
    "upsample": rewrite_upsample,
    "drop_epsilon": rewrite_drop_epsilon,
}
REWRITES: tuple[str, ...] = tuple(_PASSES)


def rewrite_transfer_model(
    data: bytes,
    height: int,
    width: int,
    rewrites: Iterable[str] = REWRITES,
) -> tuple[bytes, dict[str, int]]:
    """The model in ``data`` for an H x W input, with ``rewrites`` applied.

    Returns the new .tflite and, for each rewrite asked for, how many places it changed
    (0 where it does not apply to this model). ``rewrites=()`` only changes the size.
    """
    check_size(height, width)
    wanted = set(rewrites)
    unknown = wanted - set(REWRITES)
    if unknown:
        raise ValueError(f"unknown rewrites {sorted(unknown)}; known: {', '.join(REWRITES)}")
    graph = load_model_object(data)
    set_size(graph, height, width)
    counts = {name: _PASSES[name](graph) for name in REWRITES if name in wanted}
    drop_dead_ops(graph)
    compact(graph)
    check_shapes(graph)
    return pack_model(graph), counts


def optimize_transfer_model(
    source: Path,
    dest: Path,
    height: int,
    width: int,
    rewrites: Iterable[str] = REWRITES,
) -> Path:
    """Write ``source`` rewritten for an H x W input (see the module doc) to ``dest``."""
    check_size(height, width)
    start = time.perf_counter()
    data, counts = rewrite_transfer_model(Path(source).read_bytes(), height, width, rewrites)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)
    log.info(
        "wrote %s (%dx%d, %s) in %.2f s",
        dest,
        height,
        width,
        ", ".join(f"{k} x{v}" for k, v in counts.items()) or "size only",
        time.perf_counter() - start,
    )
    return dest
