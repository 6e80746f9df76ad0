"""The TOML config file and --list-cameras."""

from __future__ import annotations

import numpy as np
import pytest

from camfx import capture
from camfx.cli import main, parse_run_args, run_options
from camfx.errors import CamfxError


def options_from(tmp_path, text: str, *argv: str):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return run_options(parse_run_args(["--config", str(path), *argv]))


def test_command_line_beats_config_beats_preset_beats_defaults(tmp_path):
    text = 'preset = "pi"\nstyle = "wave"\nsegmenter = "selfie"\nmask-grow = 3\nno-window = true\n'
    options = options_from(tmp_path, text, "--style", "scream")
    assert options.style == "scream"  # command line
    assert options.segmenter == "selfie"  # config over the pi preset's selfie-landscape
    assert options.mask.grow == 3 and options.window is False  # config
    assert (options.style_model, options.style_size) == ("int8", 256)  # the preset
    assert options.mask.threshold == 0.5  # built-in default


def test_the_default_location_is_read_when_it_exists(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert run_options(parse_run_args([])).style == "starry"
    (tmp_path / "camfx").mkdir()
    (tmp_path / "camfx" / "config.toml").write_text('style = "kandinsky"\nmirror = true\n')
    options = run_options(parse_run_args([]))
    assert options.style == "kandinsky" and options.mirror is True


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('stlye = "wave"', "unknown key 'stlye'; did you mean 'style'?"),
        ('threads = "two"', "'threads' has a value of the wrong type"),
        ('effect = "sparkles"', "'effect' must be one of"),
        ('mirror = "yes"', "'mirror' must be true or false"),
        ("style = [1, 2]", "wrong type"),
        ("style = ", "not valid TOML"),
    ],
)
def test_bad_config_is_one_clear_line_naming_the_file(tmp_path, capsys, text, message):
    path = tmp_path / "config.toml"
    path.write_text("# my camfx settings\n" + text + "\n")
    with pytest.raises(CamfxError, match=message) as info:
        parse_run_args(["--config", str(path)])
    assert str(path) in str(info.value)
    if "TOML" not in message:
        assert f"{path}, line 2:" in str(info.value)  # the key is on the file's second line
    assert main(["--config", str(path), "--no-window"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_list_cameras_prints_those_that_open(monkeypatch, capsys):
    class FakeCapture:
        def __init__(self, index):
            self.index = index

        def isOpened(self):
            return self.index in (0, 2)

        def read(self):
            return True, np.zeros((480 if self.index == 0 else 720, 640, 3), np.uint8)

        def release(self):
            pass

    monkeypatch.setattr(capture.cv2, "VideoCapture", FakeCapture)
    assert main(["--list-cameras"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("   ")[0] for line in lines] == ["0: 640x480", "2: 640x720"]


def test_list_cameras_with_none_says_so(capsys):
    assert main(["--list-cameras"]) == 0  # this machine has no camera
    assert "no camera opened" in capsys.readouterr().out
