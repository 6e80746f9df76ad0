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

import difflib
import re
import tomllib
from pathlib import Path
from typing import Any

import platformdirs

from camfx.app.options import BY_KEY, Option, said
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


def to_defaults(table: dict[str, Any], path: Path) -> dict[str, Any]:
    """Config entries -> option values by dest, checked by the options table's rules."""
    settable = {key: option for key, option in BY_KEY.items() if option.in_config}
    defaults: dict[str, Any] = {}
    for key, value in table.items():
        name = key.lstrip("-").replace("_", "-")
        option = settable.get(name)
        where = _where(path, key)
        if option is None:
            close = difflib.get_close_matches(name, settable, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise CamfxError(f"{where}: unknown key '{key}'{hint}")
        converted = _convert(value, option, key, where)
        if problem := option.problem(converted):
            raise CamfxError(f"{where}: {said(repr(key), problem)}")
        defaults[option.dest] = converted
    return defaults


def _convert(value: Any, option: Option, key: str, where: str) -> Any:
    if option.type is bool:
        if not isinstance(value, bool):
            raise CamfxError(f"{where}: '{key}' must be true or false, not {value!r}")
        return not value if option.kind == "off" else value  # `no-window = true`: no window
    wrong = CamfxError(f"{where}: '{key}' has a value of the wrong type: {value!r}")
    if isinstance(value, bool | dict | list):
        raise wrong
    if option.type is int:
        if not isinstance(value, int):
            raise wrong
        return value
    if option.type is float and isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        raise wrong
    try:
        return option.convert(value)
    except ValueError:
        raise wrong from None
