"""Every option of `camfx [options]`, in one table.

The command line (argparse), the config file (camfx.app.config) and the checks all read
``OPTIONS``: one row per option says its flags, where its value goes in RunOptions,
its type, default, range and help. ``problem`` is the one place an option's value is
checked, so a typed value, a config file value and a preset's value obey the same
rules and fail with the same one line naming the option.

To add an option: add a row (see /work/coord/options-table.md or the README's
Options); a new RunOptions field (or a ``field=None`` row read by the CLI itself).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from camfx.core.effects import EFFECT_KINDS, EFFECTS, TARGETS
from camfx.models.runtime import DEVICES
from camfx.models.segmentation import DEFAULT_SEGMENTER, FITS, SEGMENTERS
from camfx.vision.refine import MaskSettings

# value: takes a value; flag: --x sets True; off: --no-x sets the field False;
# switch: --x / --no-x; optional: --x alone gives `const`, --x VALUE gives VALUE.
Kind = Literal["value", "flag", "off", "switch", "optional"]


def max_threads() -> int:
    """More threads than 4 per core only queue up (and 100000 cannot even start)."""
    return 4 * (os.cpu_count() or 1)


@dataclass(frozen=True)
class Option:
    flags: tuple[str, ...]  # the long flag first: its name is the config key
    field: str | None  # where the value goes in RunOptions ("mask.grow"); None: CLI only
    help: str | Callable[[], str]  # a function: made when asked (e.g. the effects registered)
    type: type = str  # str, int, float, Path or bool
    default: Any = None
    kind: Kind = "value"
    choices: Sequence[str] | None = None
    low: float | None = None  # inclusive bounds; `high` may be computed on this machine
    high: float | Callable[[], float] | None = None
    check: Callable[[Any], str | None] | None = None  # more rules: a problem, or None
    parse: Callable[[str], Any] | None = None  # text -> value, when not just `type`
    metavar: str | None = None
    group: str | None = None
    const: Any = None
    in_config: bool = True  # may be set in the config file
    why: str = ""  # said after a value out of range, e.g. where a bound comes from

    @property
    def key(self) -> str:
        """The long name without dashes: the config file's key."""
        return self.flags[0][2:]

    @property
    def dest(self) -> str:
        return self.key.replace("-", "_")

    @property
    def flag(self) -> str:
        return self.flags[0]

    def convert(self, text: str) -> Any:
        """Text (typed, or a string in the config file) -> value; ValueError when it isn't one."""
        if self.parse is not None:
            return self.parse(text)
        if self.type is bool:
            raise ValueError(text)
        return self.type(text)

    def text(self) -> str:
        """The help text."""
        return self.help() if callable(self.help) else self.help

    def upper(self) -> float | None:
        return self.high() if callable(self.high) else self.high

    def problem(self, value: Any) -> str | None:
        """What is wrong with `value` for this option, as 'must be ...', or None."""
        if value is None:
            return None
        if self.choices is not None and value not in self.choices:
            return f"must be one of {', '.join(self.choices)}, not {value!r}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"must be a number, not {value}"
        high = self.upper()
        if (self.low is not None and value < self.low) or (high is not None and value > high):
            why = f" ({self.why})" if self.why else ""
            return f"must be between {_number(self.low)} and {_number(high)}{why}, not {value:g}"
        return self.check(value) if self.check else None


def _number(value: float | None) -> str:
    return "any" if value is None else f"{value:g}"


def segmenter_problem(text: str) -> str | None:
    if text in SEGMENTERS or text.lower().endswith(".tflite"):
        return None
    return f"unknown segmenter '{text}': choose one of {', '.join(SEGMENTERS)} or give a .tflite"


def effect_help() -> str:
    """--effect's help: each registered effect and what it shows."""
    shows = "; ".join(f"{kind.name} {kind.help}" for kind in EFFECT_KINDS.values())
    return f"what shows where the effect applies (default: style): {shows}".replace("%", "%%")


def parse_color(text: str) -> tuple[int, int, int]:
    """'#rrggbb' (or 'r,g,b') -> a BGR tuple, as OpenCV frames are; ValueError if neither."""
    if text.startswith("#") and len(text) == 7:
        r, g, b = (int(text[i : i + 2], 16) for i in (1, 3, 5))
    else:
        r, g, b = (int(v) for v in text.split(","))
    if not all(0 <= v <= 255 for v in (r, g, b)):
        raise ValueError(text)
    return (b, g, r)


def color_problem(text: str) -> str | None:
    try:
        parse_color(text)
    except ValueError:
        return f"takes #rrggbb or r,g,b with values 0-255, not '{text}'"
    return None


def parse_mix(text: str) -> list[tuple[str, float]]:
    """'starry:0.5,wave:2' -> [('starry', 0.5), ('wave', 2.0)]; ValueError names the item."""
    parts = []
    for item in text.split(","):
        name, _, weight = item.strip().partition(":")
        value = float(weight) if weight.strip() else 1.0
        if not name.strip() or not math.isfinite(value) or value <= 0:
            raise ValueError(item)
        parts.append((name.strip(), value))
    return parts


def mix_problem(text: str) -> str | None:
    try:
        parse_mix(text)
    except ValueError as exc:
        return f"takes NAME:WEIGHT,NAME:WEIGHT with weights above 0, not '{exc.args[0]}'"
    return None


MASK = MaskSettings()
MASK_GROUP = "person mask (see README: Segmentation)"

OPTIONS: tuple[Option, ...] = (
    Option(
        ("--config",),
        None,
        "TOML file of option defaults (default: the user config folder's camfx/config.toml)",
        type=Path,
        metavar="FILE",
        in_config=False,
    ),
    Option(("--list-cameras",), None, "list the cameras that open", bool, False, "flag"),
    Option(
        ("--input", "-i"), "input", "camera index, video file or picture (default: camera 0)",
        default="0",
    ),
    Option(
        ("--style", "-s"), "style", "a bundled style name (see `camfx styles`) or any picture file",
        default="starry",
    ),
    Option(
        ("--effect", "-e"), "effect.effect", effect_help,
        default="style", choices=EFFECTS, group="effect",
    ),
    Option(
        ("--target", "-t"), "effect.target",
        "where the effect applies: background (default), person, all",
        default="background", choices=TARGETS, group="effect",
    ),
    Option(
        ("--strength",), "effect.strength",
        "style: 0 (the frame's own look) to 1 (the style; default)",
        float, 1.0, low=0, high=1, group="effect",
    ),
    Option(
        ("--mix",), "mix", "blend styles, e.g. starry:0.5,wave:0.5 (instead of --style)",
        metavar="NAME:W,NAME:W", check=mix_problem, group="effect",
    ),
    Option(
        ("--background", "-b"), "background",
        "the picture (--effect image) or clip (--effect video)",
        Path, metavar="FILE", group="effect",
    ),
    Option(
        ("--blur",), "effect.blur", "blur: strength, as a Gaussian sigma in pixels at 720p",
        float, 12.0, low=0, high=200, group="effect",
    ),
    Option(
        ("--color",), "effect.color", "color: the colour, #rrggbb",
        default="#00b140", check=color_problem, group="effect",
    ),
    Option(
        ("--virtual-cam",), "virtual_cam",
        "also send the picture to a virtual webcam (default: the first free one; "
        "Linux: v4l2loopback, Windows/macOS: OBS virtual camera)",
        kind="optional", const="", metavar="DEVICE",
    ),
    Option(("--mirror",), "mirror", "flip left to right (selfie view)", bool, False, "flag"),
    Option(
        ("--segmenter",), "segmenter",
        "person segmenter (default: selfie-pair-pose, both selfie models combined, and "
        "the pose model on a person seen at a distance; README: Segmentation), or "
        "a segmentation model of your own, run as its metadata says (README: Convert)",
        default=DEFAULT_SEGMENTER, check=segmenter_problem,
        metavar="{" + ",".join(SEGMENTERS) + "} or MODEL.tflite",
    ),
    Option(
        ("--fit",), "fit",
        "how a frame is fitted into the segmenter's input "
        "(default: track for deeplab, squash for the selfie models)",
        choices=FITS,
    ),
    Option(
        ("--mask-threshold",), "mask.threshold",
        "person probability at the middle of the edge (default %(default)s)",
        float, MASK.threshold, low=0.01, high=0.99, group=MASK_GROUP,
    ),
    Option(
        ("--mask-softness",), "mask.softness",
        "width of the soft edge in probability, 0 = hard (default %(default)s)",
        float, MASK.softness, low=0, high=1, group=MASK_GROUP,
    ),
    Option(
        ("--mask-grow",), "mask.grow",
        "grow (or with a negative number shrink) the mask, pixels (at most half the frame)",
        int, MASK.grow, low=-4096, high=4096, group=MASK_GROUP,
    ),
    Option(
        ("--mask-smoothing",), "mask.smoothing",
        "temporal smoothing of a still mask, 0 (off) to 0.95 (default %(default)s)",
        float, MASK.smoothing, low=0, high=0.95, group=MASK_GROUP,
    ),
    Option(
        ("--mask-min-blob",), "mask.min_blob",
        "remove stray blobs smaller than this fraction of the frame",
        float, MASK.min_blob, low=0, high=1, group=MASK_GROUP,
    ),
    Option(
        ("--no-guided-filter",), "mask.guided",
        "don't snap the mask's edge to the picture's edges",
        bool, True, "off", group=MASK_GROUP,
    ),
    Option(
        ("--no-mask-colour",), "mask.colour",
        "don't let the frame's person and background colours decide where the "
        "segmenter is unsure",
        bool, True, "off", group=MASK_GROUP,
    ),
    Option(
        ("--no-mask-persistence",), "mask.persistence",
        "show a region that appears far from anyone in settled background at once, "
        "without it having to persist a few frames first",
        bool, True, "off", group=MASK_GROUP,
    ),
    Option(
        ("--matte",), "matte", "also write the person mask as a grayscale video, frame for frame",
        Path, metavar="OUT.mp4",
    ),
    Option(
        ("--style-model",), "style_model",
        "style transfer network: fp16 (default, richer colour) or int8 (faster)",
        default="fp16", choices=("fp16", "int8"),
    ),
    Option(
        ("--device",), "device",
        "run models on the GPU when one can be used (auto), or force cpu/gpu",
        default="auto", choices=DEVICES,
    ),
    Option(
        ("--threads",), "threads",
        "CPU threads per model (default: half the cores; at most 4 per core)",
        int, low=1, high=max_threads, why="4 per CPU core",
    ),
    Option(
        ("--style-size",), "style_size",
        "long side of the picture that is painted, in the frame's proportions "
        "(default 384: the size the network was trained at; 64 to 2048)",
        int, 384, low=64, high=2048,
    ),
    Option(
        ("--preset",), None,
        "defaults for a kind of machine: laptop (default) or pi (Raspberry Pi 4/5)",
        choices=("laptop", "pi"),
    ),
    Option(
        ("--max-style-fps",), "max_style_fps",
        "live: repaint the background at most this many times a second",
        float, low=0.1, high=240,
    ),
    Option(
        ("--width",), "width", "ask the camera for this width (files: scale to it)",
        int, low=2, high=16384,
    ),
    Option(("--height",), "height", "ask the camera for this height", int, low=2, high=16384),
    Option(("--fps",), "fps", "ask the camera for this frame rate", float, low=0.1, high=240),
    Option(
        ("--record",), "record", "write what is shown to H.264 MP4", Path, metavar="OUT.mp4",
    ),
    Option(
        ("--audio",), "audio",
        "record sound from a microphone with live recordings (--record, r): the "
        "default input, or a DEVICE from --list-audio-devices (index or part of its name)",
        kind="optional", const="", metavar="DEVICE",
    ),
    Option(
        ("--list-audio-devices",), None, "list the microphones --audio can use", bool, False,
        "flag", in_config=False,
    ),
    Option(
        ("--overwrite", "-y"), "overwrite",
        "replace --record/--matte files that exist (camfx refuses otherwise)",
        bool, False, "flag",
    ),
    Option(
        ("--no-window",), "window",
        "run without a window (e.g. to render a file with --record)",
        bool, True, "off",
    ),
    Option(
        ("--live",), "live",
        "drop frames to keep up (default: on for cameras and for files "
        "that are only watched; off when recording a file or without a window)",
        bool, None, "switch",
    ),
    Option(("--max-frames",), "max_frames", "stop after this many frames", int, low=1),
    Option(("--verbose", "-v"), None, "log more", bool, False, "flag", in_config=False),
)

# `camfx bench`: measured on a video scaled to --width x --height, live runs --seconds long.
BENCH_OPTIONS: tuple[Option, ...] = (
    Option(("--input",), "input", "video to measure with"),
    Option(("--seconds",), "seconds", "length of each live run", float, 10.0, low=0.5, high=3600),
    Option(("--width",), "width", "frame width to measure at", int, 1280, low=16, high=7680),
    Option(("--height",), "height", "frame height to measure at", int, 720, low=16, high=4320),
    Option(
        ("--segmenter",), "segmenter", "person segmenter", default=DEFAULT_SEGMENTER,
        choices=tuple(SEGMENTERS),
    ),
    Option(("--fps",), "fps", "pace of the live run", float, 30.0, low=1, high=240),
)

BY_KEY: dict[str, Option] = {option.key: option for option in OPTIONS}


def said(name: str, problem: str) -> str:
    """'--threads must be ...', '--segmenter: unknown segmenter ...': one line naming it."""
    joiner = " " if problem.startswith(("must", "takes")) else ": "
    return f"{name}{joiner}{problem}"
BY_FIELD: dict[str, Option] = {option.field: option for option in OPTIONS if option.field}


def check_pairs(values: dict[str, Any]) -> str | None:
    """Rules across options (by dest); a one-line problem, or None."""
    if (values.get("width") is None) != (values.get("height") is None):
        return "--width and --height go together: give both, or neither"
    return None
