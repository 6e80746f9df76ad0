"""The whole command line, drawn by hypothesis: any options, any values, in or out of range.

camfx runs in this process (camfx.app.cli.main) on a tiny picture or clip (or an input that
is missing, a folder, an absent camera), some options typed and some in a config file.
Whatever is drawn, the outcome is a finished, playable output (exit 0) or one line
`camfx: error: ...` (exit 2): never a traceback, a hang or another exit status, and the
input is never touched.
The options and their ranges come from the table (camfx.app.options), so a new row is drawn
without this file changing. A few dozen examples in CI; HYPOTHESIS_PROFILE=thorough: more.
"""

from __future__ import annotations

import json
import math
import os
import string
import tempfile
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from camfx.app.cli import main
from camfx.app.options import OPTIONS, Option
from tests.conftest import MEDIA, read_video_frames

# Inside the range, values that keep one run well under a second on a small CPU (an
# 8K frame or a 2048 px painting is in range but slow; tests elsewhere cover sizes).
CHEAP = {
    "style-size": (64, 320),
    "width": (2, 96),
    "height": (2, 96),
    "fps": (1, 240),
    "threads": (1, 4),
    "max-frames": (1, 3),
    "mask-grow": (-24, 24),
    "blur": (0, 40),
}
# Not drawn: where the input and outputs are (set below, with their own cases), the
# config file, and what leaves camfx's own outputs (a device, a listing).
# Drawn separately (inputs, outputs) or a different job that exits 0 without running
# (listing devices); drawing those would make "a playable output" not apply.
NOT_DRAWN = {
    "config", "input", "record", "matte", "virtual-cam", "list-cameras", "list-audio-devices",
}
DRAWN = [option for option in OPTIONS if option.key not in NOT_DRAWN]
WORDS = st.text(alphabet=string.ascii_letters + string.digits + ":.,#_ ", min_size=1, max_size=10)
EXAMPLES = 600 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 30


def number(option: Option, value: float) -> str:
    return str(int(value)) if option.type is int else repr(float(value))


@st.composite
def value_of(draw, option: Option) -> str:
    """A value for `option` as typed: mostly inside its range, sometimes outside or junk."""
    if option.choices is not None:
        return draw(st.one_of(st.sampled_from(option.choices), WORDS))
    if option.key == "mix":
        item = st.tuples(
            st.sampled_from(["starry", "wave", "nosuchstyle"]),
            st.one_of(st.floats(-2, 3, allow_nan=False), st.just(math.inf), st.just(math.nan)),
        )
        return ",".join(f"{name}:{w}" for name, w in draw(st.lists(item, min_size=1, max_size=3)))
    if option.key == "color":
        return draw(st.one_of(st.from_regex(r"#[0-9a-f]{6}", fullmatch=True), WORDS))
    if option.key == "style":
        return draw(st.sampled_from(["starry", "wave", "stary", str(MEDIA / "yoga.jpg")]))
    if option.key == "segmenter":
        return draw(st.sampled_from(["selfie", "selfie-landscape", "deeplab", "mine.tflite"]))
    if option.key == "background":
        return draw(st.sampled_from([str(MEDIA / "kitchen.jpg"), "missing.jpg"]))
    if option.type not in (int, float):
        return draw(WORDS)
    low = option.low if option.low is not None else -1e6
    high = option.upper() if option.upper() is not None else 1e6
    inside_low, inside_high = CHEAP.get(option.key, (low, high))
    if option.type is int:
        inside = st.integers(math.ceil(inside_low), int(inside_high))
        outside = st.one_of(st.integers(max_value=math.ceil(low) - 1), st.integers(int(high) + 1))
    else:
        inside = st.floats(inside_low, inside_high)
        outside = st.one_of(
            st.floats(max_value=low, exclude_max=True) if option.low is not None else st.nothing(),
            st.floats(min_value=high, exclude_min=True),
            st.sampled_from([math.nan, math.inf, -math.inf]),
        )
    kind = draw(st.sampled_from(["inside"] * 4 + ["outside", "junk"]))
    if kind == "junk":
        return draw(WORDS)
    return number(option, draw(inside if kind == "inside" else outside))


def toml_value(option: Option, text: str | bool) -> str:
    """A drawn value as the config file would hold it: numbers as TOML numbers when they
    are numbers (nan and inf included), anything else as a string."""
    if isinstance(text, bool):
        return "true" if text else "false"
    if option.type in (int, float):
        try:
            value = int(text) if option.type is int else float(text)
        except ValueError:
            return json.dumps(text)
        if option.type is float and not math.isfinite(value):
            return ("-" if value < 0 else "") + ("nan" if math.isnan(value) else "inf")
        return repr(value)
    return json.dumps(text)


@st.composite
def command_lines(draw, folder: Path, inputs: dict[str, Path]):
    """argv, the recording it asks for (None: none), and the most frames it may hold."""
    kind = draw(st.sampled_from(["picture"] * 6 + ["clip"] * 2 + ["missing", "folder", "camera"]))
    source = {"missing": folder / "gone.mp4", "folder": folder, "camera": "0"}.get(kind)
    argv = ["--input", str(source or inputs[kind]), "--no-window"]
    chosen = draw(st.lists(st.sampled_from(DRAWN), unique_by=lambda o: o.key, max_size=6))
    settable = [o.key for o in chosen if o.in_config and o.key != "no-window"]
    in_file = draw(st.sets(st.sampled_from(settable))) if settable else set()
    config_lines, live = [], False
    for option in chosen:
        if option.key == "no-window":
            continue
        if option.kind in ("flag", "off", "switch"):
            on = option.kind != "switch" or draw(st.booleans())
            live = live or (option.key == "live" and on)
            if option.key in in_file:
                config_lines.append(f"{option.key} = {toml_value(option, on)}")
            else:
                argv.append(option.flag if on else f"--no-{option.key}")
            continue
        value = draw(value_of(option))
        if option.key in in_file:
            config_lines.append(f"{option.key} = {toml_value(option, value)}")
        else:
            argv.append(f"{option.flag}={value}")
    if config_lines:
        (folder / "camfx.toml").write_text("\n".join(config_lines) + "\n")
        argv.append(f"--config={folder / 'camfx.toml'}")
    limit = 5 if kind == "clip" else 1
    if live and kind == "picture":  # a picture played live is endless: stop it
        limit = draw(st.integers(1, 3))
        argv.append(f"--max-frames={limit}")
    (folder / "earlier.mp4").write_bytes(b"an earlier recording")
    record = draw(
        st.sampled_from(["new.mp4", "new.mkv", "earlier.mp4", "new.avi", "input", None])
    )
    out = None
    if record is not None:
        out = inputs["picture"] if record == "input" else folder / record
        argv.append(f"--record={out}")
    if draw(st.booleans()):
        argv.append(f"--matte={folder / draw(st.sampled_from(['matte.mp4', 'new.mp4']))}")
    return argv, out, limit


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    """A person, 48x32, as a picture and as a 5-frame clip: every run is cheap, and the
    frame check of --mask-grow bites at 16."""
    folder = tmp_path_factory.mktemp("tiny")
    picture = cv2.resize(cv2.imread(str(MEDIA / "yoga.jpg")), (48, 32))
    cv2.imwrite(str(folder / "tiny.png"), picture)
    with av.open(str(folder / "tiny.mp4"), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 48, 32, "yuv420p"
        for shift in range(5):
            frame = av.VideoFrame.from_ndarray(np.roll(picture, shift, axis=1), "bgr24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return {"picture": folder / "tiny.png", "clip": folder / "tiny.mp4"}


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_command_line_ends_in_an_output_or_one_error_line(data, inputs, capsys):
    before = {path: path.read_bytes() for path in inputs.values()}
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        argv, out, limit = data.draw(command_lines(folder, inputs), label="argv")
        capsys.readouterr()  # this example's output only
        old = os.getcwd()
        os.chdir(folder)  # relative names (missing.jpg, mine.tflite) land here
        try:
            status = main(argv)
        finally:
            os.chdir(old)
        err = capsys.readouterr().err
        event(f"exit {status}")  # --hypothesis-show-statistics: how many runs got through
        assert "Traceback" not in err
        assert all(path.read_bytes() == data for path, data in before.items())  # untouched
        if status == 2:
            errors = [line for line in err.splitlines() if line.startswith("camfx: error: ")]
            assert len(errors) == 1 and err.rstrip().endswith(errors[0]), err
        else:
            assert status == 0, err
            if out is not None:
                frames = read_video_frames(out)
                assert 1 <= len(frames) <= limit
            assert not list(folder.glob(".*.part"))  # no partial file left behind
