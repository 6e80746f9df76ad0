"""The TOML config file: the command line's options, as defaults.

    # ~/.config/camfx/config.toml (Linux; platformdirs' user config folder elsewhere)
    style = "wave"
    segmenter = "selfie"
    mask-grow = 2
    no-window = false
    virtual-cam = "/dev/video10"

Keys are the long option names, with or without the leading dashes, '-' or '_'
alike. Precedence: built-in defaults < --preset < the config file < the command
line. Nothing in the file is executed; values are checked like typed options.
"""

from __future__ import annotations

import argparse
import difflib
import re
import tomllib
from pathlib import Path
from typing import Any

import platformdirs

from camfx.errors import CamfxError


def default_path() -> Path:
    return Path(platformdirs.user_config_dir("camfx")) / "config.toml"


def load(path: Path | None) -> tuple[dict[str, Any], Path | None]:
    """The raw table from `path`, or from the default location when it exists."""
    explicit = path is not None
    path = path or default_path()
    if not path.is_file():
        if explicit:
            raise CamfxError(f"config file {path} not found")
        return {}, None
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")), path
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CamfxError(f"{path}: not valid TOML ({exc})") from None


def _where(path: Path, key: str) -> str:
    """'FILE, line N' for a top-level key, so an error points at the line to fix."""
    pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if pattern.match(line):
            return f"{path}, line {number}"
    return str(path)


def to_defaults(
    table: dict[str, Any], parser: argparse.ArgumentParser, path: Path
) -> dict[str, Any]:
    """Config entries -> parser defaults (by dest), checked against the options' types."""
    options = {
        option.lstrip("-"): action
        for action in parser._actions  # argparse offers no public list of its options
        for option in action.option_strings
        if option.startswith("--")
    }
    defaults: dict[str, Any] = {}
    for key, value in table.items():
        name = key.lstrip("-").replace("_", "-")
        action = options.get(name)
        if action is None or name in ("help", "version", "config"):
            close = difflib.get_close_matches(name, options, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise CamfxError(f"{_where(path, key)}: unknown key '{key}'{hint}")
        defaults[action.dest] = _convert(value, action, key, _where(path, key))
    return defaults


def _convert(value: Any, action: argparse.Action, key: str, path: str) -> Any:
    flag = isinstance(action, argparse._StoreConstAction)  # store_true / store_false
    if flag or isinstance(action, argparse.BooleanOptionalAction):
        if not isinstance(value, bool):
            raise CamfxError(f"{path}: '{key}' must be true or false, not {value!r}")
        return value if not flag or action.const is True else not value
    if isinstance(value, bool | dict | list):
        raise CamfxError(f"{path}: '{key}' has a value of the wrong type: {value!r}")
    converter = action.type or str
    try:
        converted = converter(value) if converter is not str else str(value)
    except argparse.ArgumentTypeError as exc:
        raise CamfxError(f"{path}: '{key}': {exc}") from None
    except (TypeError, ValueError):
        raise CamfxError(f"{path}: '{key}' has a value of the wrong type: {value!r}") from None
    if action.choices is not None and converted not in action.choices:
        choices = ", ".join(map(str, action.choices))
        raise CamfxError(f"{path}: '{key}' must be one of {choices}, not {value!r}")
    return converted
