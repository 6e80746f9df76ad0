"""The TOML config file and --list-cameras."""

from __future__ import annotations

import numpy as np
import pytest

from camfx.app.cli import main, parse_run_args, run_options
from camfx.errors import CamfxError
from camfx.io import capture


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
    monkeypatch.delenv("CAMFX_CAMERA")  # camera N is index N, which this fake answers

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
    # conftest points "camera N" at a device that does not exist, on any machine.
    assert main(["--list-cameras"]) == 0
    assert "no camera opened" in capsys.readouterr().out


def test_list_cameras_finds_a_simulated_camera(tmp_path, monkeypatch, capsys):
    """CAMFX_CAMERA, the camera layer's seam: camera 1 is a clip, the others do not exist."""
    import shutil

    from tests.conftest import MEDIA

    shutil.copy(MEDIA / "guitar_320.mp4", tmp_path / "camera1.mp4")
    monkeypatch.setenv("CAMFX_CAMERA", str(tmp_path / "camera{index}.mp4"))
    assert main(["--list-cameras"]) == 0
    assert capsys.readouterr().out.splitlines() == ["1: 320x320   (camfx --input 1)"]


# -- the options table: one row per option, read by argparse, the config file and the checks


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--threads", "100000"], "--threads must be between 1 and"),
        (["--threads", "0"], "--threads must be between 1 and"),
        (["--threads", "two"], "--threads: takes a whole number, not 'two'"),
        (["--mask-grow", "100000"], "--mask-grow must be between"),
        (["--fps", "-5"], "--fps must be between 0.1 and 240"),
        (["--fps", "nan"], "--fps must be a number, not nan"),
        (["--max-style-fps", "0"], "--max-style-fps must be between"),
        (["--mix", "starry:-1,wave:2"], "--mix takes NAME:WEIGHT,NAME:WEIGHT with weights above 0"),
        (["--mix", "starry:0"], "--mix takes NAME:WEIGHT"),
        (["--mix", "starry:inf"], "--mix takes NAME:WEIGHT"),
        (["--strength", "1.5"], "--strength must be between 0 and 1"),
        (["--blur", "-1"], "--blur must be between 0 and"),
        (["--style-size", "8"], "--style-size must be between 64 and 2048"),
        (["--width", "640"], "--width and --height go together"),
        (["--width", "0", "--height", "10"], "--width must be between"),
        (["--max-frames", "0"], "--max-frames must be between 1 and"),
        (["--mask-threshold", "1"], "--mask-threshold must be between"),
        (["--mask-smoothing", "0.99"], "--mask-smoothing must be between 0 and 0.95"),
        (["--mask-min-blob", "2"], "--mask-min-blob must be between 0 and 1"),
        (["--color", "#12345"], "--color takes #rrggbb"),
        (["--color", "300,0,0"], "--color takes #rrggbb"),
        (["--effect", "sparkles"], "--effect must be one of"),
        (["--segmenter", "fancy"], "--segmenter: unknown segmenter 'fancy'"),
        (["--unknown-option"], "unrecognized arguments: --unknown-option"),
    ],
)
def test_every_bad_option_is_one_line_naming_it_exit_2(capsys, argv, message):
    assert main(["--input", "missing.mp4", "--no-window", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("camfx: error: "), err
    assert message in err


def test_threads_are_bounded_by_this_machines_cores(monkeypatch, capsys):
    monkeypatch.setattr("os.cpu_count", lambda: 3)
    assert run_options(parse_run_args(["--threads", "12"])).threads == 12
    assert main(["--threads", "13", "--no-window"]) == 2
    assert "--threads must be between 1 and 12 (4 per CPU core)" in capsys.readouterr().err


def test_config_values_obey_the_same_ranges_as_typed_ones(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("# mine\nthreads = 100000\n")
    with pytest.raises(CamfxError, match=r"line 2: 'threads' must be between 1 and"):
        parse_run_args(["--config", str(path)])
    path.write_text('mix = "starry:-1"\n')
    with pytest.raises(CamfxError, match=r"line 1: 'mix' takes NAME:WEIGHT"):
        parse_run_args(["--config", str(path)])


def test_the_table_drives_the_command_line_and_the_config_file(tmp_path):
    """Each row is an option argparse knows and a key the config file takes, by the
    table's field names, not by argparse's dest names happening to match RunOptions'."""
    from camfx.app.cli import run_parser
    from camfx.app.options import OPTIONS

    help_text = run_parser().format_help()
    for option in OPTIONS:
        for flag in option.flags:
            assert flag in help_text, flag
    path = tmp_path / "config.toml"
    path.write_text('no-window = true\nmask-grow = 3\nno-mask-colour = true\ncolor = "#ff0000"\n')
    options = run_options(parse_run_args(["--config", str(path)]))
    assert options.window is False and options.mask.grow == 3 and options.mask.colour is False
    assert options.effect.color == (0, 0, 255)
    path.write_text("verbose = true\n")  # a command-line-only option
    with pytest.raises(CamfxError, match="unknown key 'verbose'"):
        parse_run_args(["--config", str(path)])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--seconds", "-1"], "--seconds must be between 0.5 and 3600, not -1"),
        (["--fps", "0"], "--fps must be between 1 and 240, not 0"),  # was ZeroDivisionError
        (["--width", "0"], "--width must be between 16 and 7680"),  # was a cv2.error
        (["--segmenter", "x"], "--segmenter must be one of"),
    ],
)
def test_bench_options_are_checked_too(capsys, argv, message):
    assert main(["bench", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
