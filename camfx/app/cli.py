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

from camfx import __version__
from camfx.app import config
from camfx.app.options import (
    BENCH_OPTIONS,
    BY_FIELD,
    OPTIONS,
    Option,
    check_pairs,
    parse_color,
    said,
)
from camfx.app.session import PRESETS, RunOptions, run
from camfx.core.effects import EffectSettings
from camfx.errors import CamfxError
from camfx.io.guarded_file import UNBROKEN
from camfx.vision.refine import MaskSettings

log = logging.getLogger("camfx")

SUBCOMMANDS = ("styles", "models", "bench")


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line (`camfx: error: ...`, exit 2) like camfx's own."""

    def error(self, message: str):  # type: ignore[override]
        raise CamfxError(message)


def run_parser() -> argparse.ArgumentParser:
    """The command line, built from the options table (camfx.app.options)."""
    p = _Parser(
        prog="camfx",
        description="You, live, in front of a background painted in the style of a picture.",
        epilog="Other commands: `camfx styles` lists the styles, `camfx models [fetch]` "
        "lists or installs the models, `camfx bench` measures the pipeline.",
    )
    p.add_argument("--version", action="version", version=f"camfx {__version__}")
    groups: dict[str | None, argparse._ActionsContainer] = {None: p}
    for option in OPTIONS:
        if option.group not in groups:
            groups[option.group] = p.add_argument_group(option.group)
        groups[option.group].add_argument(*option.flags, **_argparse_settings(option))
    return p


def _argparse_settings(option: Option) -> dict:
    settings: dict = {"dest": option.dest, "default": option.default, "help": option.text()}
    if option.kind == "flag":
        return {**settings, "action": "store_true"}
    if option.kind == "off":
        return {**settings, "action": "store_false"}
    if option.kind == "switch":
        return {**settings, "action": argparse.BooleanOptionalAction}
    if option.kind == "optional":
        settings.update(nargs="?", const=option.const)
    metavar = option.metavar
    if metavar is None and option.choices is not None:
        metavar = "{" + ",".join(option.choices) + "}"
    return {**settings, "type": _typed(option), "metavar": metavar}


def _typed(option: Option):
    """argparse's `type`: the table's conversion, with a message naming what was expected."""
    expected = {int: "a whole number", float: "a number"}.get(option.type)

    def convert(text: str):
        try:
            return option.convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"takes {expected}, not '{text}'") from None

    return convert if expected else option.convert


def parse_run_args(argv: list[str]) -> argparse.Namespace:
    """Defaults < --preset < the config file < the command line; every value checked."""
    parser = run_parser()
    first, _ = parser.parse_known_args(argv)
    check({"preset": first.preset})  # it chooses defaults: checked before it is used
    table, path = config.load(first.config)
    from_file = config.to_defaults(table, path) if path else {}
    preset = first.preset or from_file.get("preset") or "laptop"
    from_preset = {BY_FIELD[field].dest: value for field, value in PRESETS[preset].items()}
    parser.set_defaults(**{**from_preset, **from_file, "preset": preset})
    args = parser.parse_args(argv)
    check(vars(args))
    return args


def check(values: dict, options: tuple[Option, ...] = OPTIONS) -> None:
    """Every option's value against its row in the table: the first problem, one line."""
    for option in options:
        if problem := option.problem(values.get(option.dest)):
            raise CamfxError(said(option.flag, problem))
    if options is OPTIONS and (problem := check_pairs(values)):
        raise CamfxError(problem)


def run_options(args: argparse.Namespace) -> RunOptions:
    """The table's fields, filled from the parsed options ('mask.grow' -> MaskSettings.grow)."""
    parts: dict[str, dict] = {"": {}, "mask": {}, "effect": {}}
    for option in OPTIONS:
        if option.field is not None:
            part, _, name = option.field.rpartition(".")
            parts[part][name] = getattr(args, option.dest)
    try:
        mask = MaskSettings(**parts["mask"])
    except ValueError as exc:
        raise CamfxError(str(exc)) from None
    effect = parts["effect"]
    effect["color"] = parse_color(effect["color"])
    return RunOptions(**parts[""], mask=mask, effect=EffectSettings(**effect))


def helper_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="camfx")
    p.add_argument("--verbose", "-v", action="store_true", help="log more")
    sub = p.add_subparsers(dest="command", required=True)
    styles = sub.add_parser("styles", help="list the bundled styles")
    styles.add_argument(
        "--gallery",
        type=Path,
        metavar="OUT.png",
        help="draw one frame painted in every style, with each style's name and key",
    )
    styles.add_argument(
        "--input", default="0", help="picture, video or camera to paint (default: camera 0)"
    )
    styles.add_argument(
        "--pictures", type=Path, metavar="DIR", help="folder of the style pictures, shown beside"
    )
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
    fetch.add_argument(
        "--trust",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="install this file from --from although its SHA-256 is not a known copy's "
        "(it must still have the model's tensors); repeat for more files",
    )
    bench = sub.add_parser("bench", help="measure this pipeline against a one-thread baseline")
    for option in BENCH_OPTIONS:
        bench.add_argument(*option.flags, **_argparse_settings(option))
    return p


def cmd_styles() -> None:
    from camfx.models.style import bundled_styles

    for number, style in enumerate(bundled_styles().values(), start=1):
        key = f"[{number}]" if number <= 9 else ""  # picked with 1-9 in the window
        print(f"{key:4s} {style.name:15s} {style.label}")


def cmd_models(action: str | None, source: Path | None, trust: list[Path] = ()) -> None:
    from camfx.models import registry as models

    if action == "fetch":
        if trust and source is None:
            raise CamfxError("--trust names files in a folder: give that folder with --from")
        installed = models.fetch(source_dir=source, trust=frozenset(trust))
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
    from camfx.io.capture import probe_camera

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
    # OpenCV prints its own lines ("[ WARN:0@0.105] global cap_v4l.cpp:914 ...") above
    # camfx's one-line error when a camera does not open; -v shows them.
    import cv2

    cv_log = cv2.utils.logging
    cv_log.setLogLevel(cv_log.LOG_LEVEL_WARNING if verbose else cv_log.LOG_LEVEL_SILENT)


class _CtrlC:
    """First Ctrl+C: stop cleanly (threads joined, recordings finished). Second: out, now."""

    def __init__(self) -> None:
        self.pressed = False

    def __call__(self, signum: int, frame: object) -> None:
        if self.pressed:
            os.write(2, b"camfx: forced exit\n")
            os._exit(130)
        self.pressed = True
        if not UNBROKEN.defer(_interrupt):  # a recording's write finishes first
            _interrupt()


def _interrupt() -> None:
    raise KeyboardInterrupt


def _stop_on_sigterm(signum: int, frame: object) -> None:
    # Unwind like Ctrl+C does, so threads are joined and recordings finalized.
    def stop() -> None:
        raise SystemExit(128 + signum)

    if not UNBROKEN.defer(stop):
        stop()


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
        if args.command == "styles" and args.gallery is not None:
            from camfx.app.gallery import make_gallery

            make_gallery(args.gallery, args.input, args.pictures)
            print(f"wrote {args.gallery}")
        elif args.command == "styles":
            cmd_styles()
        elif args.command == "models":
            cmd_models(args.action, getattr(args, "source", None), getattr(args, "trust", []))
        else:
            from camfx.app.bench import run_bench

            check(vars(args), BENCH_OPTIONS)
            run_bench(args.input, args.seconds, (args.width, args.height), args.segmenter, args.fps)
        return 0
    args = parse_run_args(argv)
    setup_logging(args.verbose)
    if args.list_cameras:
        list_cameras()
        return 0
    if args.list_audio_devices:
        from camfx.io.audio import list_devices

        list_devices()
        return 0
    run(run_options(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
