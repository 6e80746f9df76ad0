"""Command line: `camfx [options]` runs the effect; `camfx styles|models|bench` are helpers."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from camfx import __version__, config
from camfx.app import PRESETS, RunOptions, run
from camfx.effects import EFFECTS, TARGETS, EffectSettings
from camfx.errors import CamfxError
from camfx.refine import MaskSettings
from camfx.runtime import DEVICES
from camfx.segmentation import FITS, SEGMENTERS

log = logging.getLogger("camfx")

SUBCOMMANDS = ("styles", "models", "bench")


def run_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="camfx",
        description="You, live, in front of a background painted in the style of a picture.",
        epilog="Other commands: `camfx styles` lists the styles, `camfx models [fetch]` "
        "lists or installs the models, `camfx bench` measures the pipeline.",
    )
    p.add_argument("--version", action="version", version=f"camfx {__version__}")
    p.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help=f"TOML file of option defaults (default: {config.default_path()} if it exists)",
    )
    p.add_argument("--list-cameras", action="store_true", help="list the cameras that open")
    p.add_argument(
        "--input", "-i", default="0", help="camera index, video file or picture (default: camera 0)"
    )
    p.add_argument(
        "--style",
        "-s",
        default="starry",
        help="a bundled style name (see `camfx styles`) or any picture file",
    )
    fx = p.add_argument_group("effect")
    fx.add_argument(
        "--effect",
        "-e",
        default="style",
        choices=EFFECTS,
        help="style (default), blur, image, video, color, or none",
    )
    fx.add_argument(
        "--target",
        "-t",
        default="background",
        choices=TARGETS,
        help="where the effect applies: background (default), person, all",
    )
    fx.add_argument(
        "--strength",
        type=float,
        default=1.0,
        help="style: 0 (the frame's own look) to 1 (the style; default)",
    )
    fx.add_argument(
        "--mix",
        metavar="NAME:W,NAME:W",
        help="blend styles, e.g. starry:0.5,wave:0.5 (instead of --style)",
    )
    fx.add_argument(
        "--background",
        "-b",
        type=Path,
        metavar="FILE",
        help="the picture (--effect image) or clip (--effect video)",
    )
    fx.add_argument(
        "--blur",
        type=float,
        default=12.0,
        help="blur: strength, as a Gaussian sigma in pixels at 720p",
    )
    fx.add_argument("--color", default="#00b140", help="color: the colour, #rrggbb")
    p.add_argument(
        "--virtual-cam",
        nargs="?",
        const="",
        metavar="DEVICE",
        help="also send the picture to a virtual webcam (default: the first free one; "
        "Linux: v4l2loopback, Windows/macOS: OBS virtual camera)",
    )
    p.add_argument("--mirror", action="store_true", help="flip left to right (selfie view)")
    p.add_argument(
        "--segmenter",
        default="selfie-pair",
        type=segmenter_choice,
        metavar="{" + ",".join(SEGMENTERS) + "} or MODEL.tflite",
        help="person segmenter (default: selfie-pair, both selfie models combined; "
        "README: Segmentation), or "
        "a segmentation model of your own, run as its metadata says (README: Convert)",
    )
    p.add_argument(
        "--fit",
        choices=FITS,
        help="how a frame is fitted into the segmenter's input "
        "(default: track for deeplab, squash for the selfie models)",
    )
    mask = p.add_argument_group("person mask (see README: Segmentation)")
    defaults = MaskSettings()
    mask.add_argument(
        "--mask-threshold",
        type=float,
        default=defaults.threshold,
        help="person probability at the middle of the edge (default %(default)s)",
    )
    mask.add_argument(
        "--mask-softness",
        type=float,
        default=defaults.softness,
        help="width of the soft edge in probability, 0 = hard (default %(default)s)",
    )
    mask.add_argument(
        "--mask-grow",
        type=int,
        default=defaults.grow,
        help="grow (or with a negative number shrink) the mask, pixels",
    )
    mask.add_argument(
        "--mask-smoothing",
        type=float,
        default=defaults.smoothing,
        help="temporal smoothing of a still mask, 0 (off) to 0.95 (default %(default)s)",
    )
    mask.add_argument(
        "--mask-min-blob",
        type=float,
        default=defaults.min_blob,
        help="remove stray blobs smaller than this fraction of the frame",
    )
    mask.add_argument(
        "--no-guided-filter",
        dest="guided",
        action="store_false",
        help="don't snap the mask's edge to the picture's edges",
    )
    mask.add_argument(
        "--no-mask-colour",
        dest="colour",
        action="store_false",
        help="don't let the frame's person and background colours decide where the "
        "segmenter is unsure",
    )
    p.add_argument(
        "--matte",
        type=Path,
        metavar="OUT.mp4",
        help="also write the person mask as a grayscale video, frame for frame",
    )
    p.add_argument(
        "--style-model",
        default="fp16",
        choices=("fp16", "int8"),
        help="style transfer network: fp16 (default, richer colour) or int8 (faster)",
    )
    p.add_argument(
        "--device",
        default="auto",
        choices=DEVICES,
        help="run models on the GPU when one can be used (auto), or force cpu/gpu",
    )
    p.add_argument("--threads", type=int, help="CPU threads per model (default: half the cores)")
    p.add_argument(
        "--style-size",
        type=int,
        default=384,
        help="long side of the picture that is painted, in the frame's proportions "
        "(default 384: the size the network was trained at)",
    )
    p.add_argument(
        "--preset",
        choices=list(PRESETS),
        help="defaults for a kind of machine: laptop (default) or pi (Raspberry Pi 4/5)",
    )
    p.add_argument(
        "--max-style-fps",
        type=float,
        help="live: repaint the background at most this many times a second",
    )
    p.add_argument("--width", type=int, help="ask the camera for this width (files: scale to it)")
    p.add_argument("--height", type=int, help="ask the camera for this height")
    p.add_argument("--fps", type=float, help="ask the camera for this frame rate")
    p.add_argument(
        "--record", type=Path, metavar="OUT.mp4", help="write what is shown to H.264 MP4"
    )
    p.add_argument(
        "--no-window",
        dest="window",
        action="store_false",
        help="run without a window (e.g. to render a file with --record)",
    )
    p.add_argument(
        "--live",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="drop frames to keep up (default: on for cameras and for files "
        "that are only watched; off when recording a file or without a window)",
    )
    p.add_argument("--max-frames", type=int, help="stop after this many frames")
    p.add_argument("--verbose", "-v", action="store_true", help="log more")
    return p


def parse_run_args(argv: list[str]) -> argparse.Namespace:
    """Defaults < --preset < the config file < the command line."""
    parser = run_parser()
    first, _ = parser.parse_known_args(argv)
    table, path = config.load(first.config)
    from_file = config.to_defaults(table, parser, path) if path else {}
    preset = first.preset or from_file.get("preset") or "laptop"
    parser.set_defaults(**{**PRESETS[preset], **from_file, "preset": preset})
    return parser.parse_args(argv)


def run_options(args: argparse.Namespace) -> RunOptions:
    values = vars(args).copy()
    values.pop("verbose")
    for helper_only in ("preset", "config", "list_cameras"):
        values.pop(helper_only)
    try:
        values["mask"] = MaskSettings(
            threshold=values.pop("mask_threshold"),
            softness=values.pop("mask_softness"),
            grow=values.pop("mask_grow"),
            smoothing=values.pop("mask_smoothing"),
            min_blob=values.pop("mask_min_blob"),
            guided=values.pop("guided"),
            colour=values.pop("colour"),
        )
    except ValueError as exc:
        raise CamfxError(str(exc)) from None
    values["effect"] = EffectSettings(
        effect=values.pop("effect"),
        target=values.pop("target"),
        strength=values.pop("strength"),
        blur=values.pop("blur"),
        color=parse_color(values.pop("color")),
    )
    return RunOptions(**values)


def segmenter_choice(text: str) -> str:
    """A bundled segmenter's name, or a .tflite segmentation model (checked when loaded)."""
    if text in SEGMENTERS or text.lower().endswith(".tflite"):
        return text
    raise argparse.ArgumentTypeError(
        f"unknown segmenter '{text}': choose one of {', '.join(SEGMENTERS)} or give a "
        ".tflite segmentation model"
    )


def parse_color(text: str) -> tuple[int, int, int]:
    """'#rrggbb' (or 'r,g,b') -> a BGR tuple, as OpenCV frames are."""
    try:
        if text.startswith("#") and len(text) == 7:
            r, g, b = (int(text[i : i + 2], 16) for i in (1, 3, 5))
        else:
            r, g, b = (int(v) for v in text.split(","))
    except ValueError:
        raise CamfxError(f"--color takes #rrggbb or r,g,b, not '{text}'") from None
    if not all(0 <= v <= 255 for v in (r, g, b)):
        raise CamfxError(f"--color values must be 0-255, not '{text}'")
    return (b, g, r)


def helper_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="camfx")
    p.add_argument("--verbose", "-v", action="store_true", help="log more")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("styles", help="list the bundled styles")
    models = sub.add_parser("models", help="list the models and where each is found")
    models_sub = models.add_subparsers(dest="action")
    fetch = models_sub.add_parser("fetch", help="install missing models")
    fetch.add_argument(
        "--from",
        dest="source",
        type=Path,
        metavar="DIR",
        help="copy from this folder instead of downloading",
    )
    bench = sub.add_parser("bench", help="measure this pipeline against a one-thread baseline")
    bench.add_argument("--input", default=None, help="video to measure with")
    bench.add_argument("--seconds", type=float, default=10.0, help="length of each live run")
    bench.add_argument("--width", type=int, default=1280)
    bench.add_argument("--height", type=int, default=720)
    bench.add_argument("--segmenter", default="deeplab", choices=list(SEGMENTERS))
    bench.add_argument("--fps", type=float, default=30.0, help="pace of the live run")
    return p


def cmd_styles() -> None:
    from camfx.style import bundled_styles

    for style in bundled_styles().values():
        print(f"{style.name:12s} {style.label}")


def cmd_models(action: str | None, source: Path | None) -> None:
    from camfx import models

    if action == "fetch":
        installed = models.fetch(source_dir=source)
        for name, path in installed:
            print(f"installed {name}: {path}")
        if not installed:
            print("all models are installed")
        return
    for name, model in models.MODELS.items():
        path = models.locate(name)
        where = str(path) if path else "missing (run `camfx models fetch`)"
        print(f"{name:20s} {model.filename:38s} {where}")
        print(f"{'':20s} {model.description}")


def list_cameras(indexes: range = range(10)) -> None:
    """Print each camera index that opens and delivers a frame, with its size."""
    from camfx.capture import probe_camera

    found = [(i, size) for i in indexes if (size := probe_camera(i)) is not None]
    for index, (width, height) in found:
        print(f"{index}: {width}x{height}   (camfx --input {index})")
    if not found:
        print("no camera opened (is one connected, and free?)")


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="camfx: %(message)s",
    )


class _CtrlC:
    """First Ctrl+C: stop cleanly (threads joined, recordings finished). Second: out, now."""

    def __init__(self) -> None:
        self.pressed = False

    def __call__(self, signum: int, frame: object) -> None:
        if self.pressed:
            os.write(2, b"camfx: forced exit\n")
            os._exit(130)
        self.pressed = True
        raise KeyboardInterrupt


def _stop_on_sigterm(signum: int, frame: object) -> None:
    # Unwind like Ctrl+C does, so threads are joined and recordings finalized.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    with _signal_handlers():
        try:
            return _dispatch(argv)
        except CamfxError as exc:
            print(f"camfx: error: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("camfx: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:
            # `camfx styles | head`: the reader left; leave quietly too (and keep Python
            # from complaining while it flushes stdout on the way out).
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0


@contextlib.contextmanager
def _signal_handlers() -> Iterator[None]:
    """camfx's handlers while it runs; the caller's (e.g. a test runner's) afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = {signal.SIGTERM: _stop_on_sigterm, signal.SIGINT: _CtrlC()}
    if hasattr(signal, "SIGXFSZ"):
        # Past a file-size limit, let the write fail (and say so) instead of dying.
        wanted[signal.SIGXFSZ] = signal.SIG_IGN
    previous = {sig: signal.signal(sig, handler) for sig, handler in wanted.items()}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _dispatch(argv: list[str]) -> int:
    if argv and argv[0] in SUBCOMMANDS:
        args = helper_parser().parse_args(argv)
        setup_logging(args.verbose)
        if args.command == "styles":
            cmd_styles()
        elif args.command == "models":
            cmd_models(args.action, getattr(args, "source", None))
        else:
            from camfx.bench import run_bench

            run_bench(args.input, args.seconds, (args.width, args.height), args.segmenter, args.fps)
        return 0
    args = parse_run_args(argv)
    setup_logging(args.verbose)
    if args.list_cameras:
        list_cameras()
        return 0
    run(run_options(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
