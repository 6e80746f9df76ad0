"""End to end through the real command line: render, record, styles, bad input."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time

import av
import cv2
import numpy as np
import pytest

from camfx.app.cli import main
from tests.conftest import (
    MEDIA,
    MODELS_DIR,
    ROOT,
    SHARED,
    chroma_key_person,
    partial_size,
    read_video_frames,
    run_camfx,
)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """portrait_720.mp4 rendered in the Starry Night style, every frame, no window."""
    out = tmp_path_factory.mktemp("render") / "starry.mp4"
    result = run_camfx(
        "--input",
        str(MEDIA / "portrait_720.mp4"),
        "--style",
        "starry",
        "--no-window",
        "--record",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    return out, result


def test_render_has_every_frame_as_h264_at_the_same_rate(rendered, portrait_video):
    out, _ = rendered
    with av.open(str(portrait_video)) as src, av.open(str(out)) as dst:
        src_stream, dst_stream = src.streams.video[0], dst.streams.video[0]
        assert dst_stream.codec_context.name == "h264"
        assert dst_stream.average_rate == src_stream.average_rate
        assert (dst_stream.width, dst_stream.height) == (src_stream.width, src_stream.height)
        src_count = sum(1 for _ in src.decode(video=0))
        dst_count = sum(1 for _ in dst.decode(video=0))
    assert src_count == dst_count == 270


def test_render_keeps_the_person_and_paints_the_background(rendered, portrait_video):
    out, _ = rendered
    inputs = read_video_frames(portrait_video, every=27)
    outputs = read_video_frames(out, every=27)
    assert len(inputs) == len(outputs) == 10
    kernel = np.ones((25, 25), np.uint8)
    for before, after in zip(inputs, outputs, strict=True):
        person = chroma_key_person(before).astype(np.uint8)
        inside = cv2.erode(person, kernel).astype(bool)  # well inside the person
        outside = cv2.erode(1 - person, kernel).astype(bool)  # well into the background
        diff = np.abs(after.astype(int) - before).mean(axis=-1)
        assert diff[inside].mean() < 8, "the person must look as in the input"
        assert diff[outside].mean() > 40, "the background must be repainted"
    # Frames come out in order: each output is closest to its own input.
    for i, after in enumerate(outputs):
        errors = [np.abs(after.astype(int) - b).mean() for b in inputs]
        assert int(np.argmin(errors)) == i


def test_render_shows_progress(rendered):
    _, result = rendered
    assert "270/270" in result.stderr


def test_picture_style_is_cached_for_the_next_run(tmp_path):
    picture = tmp_path / "wave copy.jpg"
    shutil.copy(SHARED / "styles" / "style24.jpg", picture)
    args = (
        "--input",
        str(MEDIA / "yoga.jpg"),
        "--style",
        str(picture),
        "--no-window",
        "--record",
        str(tmp_path / "out.mp4"),
    )
    first = run_camfx(*args)
    assert first.returncode == 0, first.stderr
    assert "computed bottleneck" in first.stderr
    second = run_camfx(*args, "--overwrite")  # the first run's out.mp4 is there
    assert second.returncode == 0, second.stderr
    assert "using cached bottleneck" in second.stderr
    assert "computed bottleneck" not in second.stderr


def test_styles_command_lists_bundled_styles():
    result = run_camfx("styles")
    assert result.returncode == 0
    assert "starry" in result.stdout and "The Starry Night (Vincent van Gogh)" in result.stdout


def corrupt_image(tmp_path):
    path = tmp_path / "corrupt.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG")
    return str(path)


@pytest.mark.parametrize(
    ("make_args", "env", "message"),
    [
        (lambda t: ["--input", str(t / "missing.mp4")], {}, "missing.mp4: no such file"),
        (
            lambda t: ["--input", str(MEDIA / "yoga.jpg"), "--style", "stary"],
            {},
            "unknown style 'stary'; did you mean 'starry'",
        ),
        (lambda t: ["--input", corrupt_image(t)], {}, "not a readable image"),
        (
            lambda t: ["--input", str(MEDIA / "yoga.jpg"), "--style", corrupt_image(t)],
            {},
            "not a readable image",
        ),
        (
            lambda t: ["--input", str(MEDIA / "yoga.jpg")],
            {"CAMFX_MODELS": ""},
            "run `camfx models fetch`",
        ),
        (
            lambda t: [
                "--input",
                str(MEDIA / "yoga.jpg"),
                "--record",
                str(t / "no" / "x.mp4"),
                "--no-window",
            ],
            {},
            "folder",
        ),
        (
            # /proc takes no new files, even from root (the tests run as root, which
            # ignores permission bits).
            lambda t: ["--input", str(MEDIA / "yoga.jpg"), "--record", "/proc/camfx.mp4"],
            {},
            "choose a folder you can write to",
        ),
    ],
    ids=[
        "missing-input",
        "unknown-style",
        "corrupt-input",
        "corrupt-style",
        "missing-model",
        "missing-output-folder",
        "read-only-output",
    ],
)
def test_bad_input_exits_non_zero_with_one_clear_line(tmp_path, make_args, env, message):
    result = run_camfx(*make_args(tmp_path), "--no-window", env=env, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("camfx: error: ") and message in lines[-1]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_recording_is_still_a_playable_file(tmp_path, sig):
    out = tmp_path / "interrupted.mp4"
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "camfx",
            "--input",
            str(MEDIA / "portrait_720.mp4"),
            "--no-window",
            "--record",
            str(out),
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Wait until frames are flowing (into the render's partial file), then interrupt.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and partial_size(tmp_path) < 50_000:
        time.sleep(0.1)
    assert not out.exists()  # the name holds only a finished file
    child.send_signal(sig)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == (130 if sig == signal.SIGINT else 143), stderr
    frames = read_video_frames(out)
    assert 0 < len(frames) < 270
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no partial file left


def test_a_wrong_model_in_the_models_folder_is_named_with_its_fix(tmp_path):
    mirror = tmp_path / "models"
    shutil.copytree(MODELS_DIR, mirror)
    # A real model in the wrong place: the style predictor where DeepLab should be.
    shutil.copy(
        mirror / "style_predict_quantized_256.tflite", mirror / "deeplabv3_257_mv_gpu.tflite"
    )
    result = run_camfx(
        "--input",
        str(MEDIA / "yoga.jpg"),
        "--no-window",
        "--segmenter",
        "deeplab",
        env={"CAMFX_MODELS": str(mirror)},
        timeout=60,
    )
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert "deeplabv3_257_mv_gpu.tflite has tensors" in last and "camfx models fetch" in last


def test_a_camera_that_cannot_be_opened_is_a_clear_error(tmp_path):
    # Camera 0 made absent on any machine (one with a webcam included): a missing device.
    env = {"CAMFX_CAMERA": str(tmp_path / "video{index}")}
    result = run_camfx("--input", "0", "--no-window", env=env, timeout=60)
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("camfx: error: camera 0 could not be opened")


def test_a_simulated_camera_is_recorded_live(tmp_path):
    """Camera 0 is a clip played at its rate (CAMFX_CAMERA): the whole camera path, live."""
    out = tmp_path / "camera.mp4"
    env = {"CAMFX_CAMERA": str(MEDIA / "guitar_320.mp4")}
    result = run_camfx(
        *("--input", "0", "--segmenter", "selfie", "--no-window", "--record", str(out)),
        *("--max-frames", "15"),
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "rendering" not in result.stderr  # live, as a camera: no progress bar
    assert len(read_video_frames(out)) == 15


def test_matte_is_the_person_mask_frame_for_frame(tmp_path, portrait_video):
    matte = tmp_path / "matte.mp4"
    result = run_camfx(
        "--input",
        str(portrait_video),
        "--segmenter",
        "selfie",
        "--no-window",
        "--matte",
        str(matte),
        "--max-frames",
        "40",
    )
    assert result.returncode == 0, result.stderr
    masks = read_video_frames(matte)
    inputs = read_video_frames(portrait_video)[:40]
    assert len(masks) == 40
    for i in (0, 20, 39):
        grey = masks[i][..., 1]
        assert np.abs(masks[i].astype(int) - grey[..., None]).max() <= 12  # grey, not colour
        truth = chroma_key_person(inputs[i])
        found = grey > 127
        assert (found & truth).sum() / (found | truth).sum() > 0.9


def test_bench_prints_the_pipeline_beside_the_naive_baseline():
    result = run_camfx(
        "bench",
        "--input",
        str(MEDIA / "guitar_320.mp4"),
        "--seconds",
        "1",
        "--width",
        "320",
        "--height",
        "320",
        "--segmenter",
        "selfie",
    )
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    assert [r.split("|")[1].strip().split(" ")[0] for r in rows[1:5]] == [
        "naive,",
        "naive,",
        "pipeline,",
        "pipeline,",
    ]
    assert "| live: shown fps |" in result.stdout
    naive_fps = float(rows[1].split("|")[2])
    assert naive_fps > 0 and rows[1].split("|")[3].strip() == "1.00"
    # CPU in the published network's frames: the live row's CPU ms a frame over the
    # baseline's style ms, both from the table above (printed to 0.1 ms).
    header = [c.strip() for c in rows[0].split("|")]
    live = [c.strip() for c in rows[3].split("|")]
    published_ms = float(rows[1].split("|")[header.index("style ms")])
    live_cpu_ms = float(live[header.index("CPU ms/frame")])
    figure = next(r for r in rows if "the published network's ms a frame" in r)
    expected = pytest.approx(live_cpu_ms / published_ms, rel=0.01, abs=1e-3)
    assert float(figure.split("|")[2]) == expected


def test_a_preset_sets_defaults_that_explicit_options_override():
    from camfx.app.cli import parse_run_args, run_options

    pi = run_options(parse_run_args(["--preset", "pi"]))
    assert (pi.segmenter, pi.style_model, pi.style_size) == ("selfie-landscape", "int8", 256)
    assert pi.max_style_fps == 5.0
    mine = run_options(parse_run_args(["--preset", "pi", "--segmenter", "deeplab"]))
    assert mine.segmenter == "deeplab" and mine.style_size == 256
    laptop = run_options(parse_run_args([]))
    assert (laptop.segmenter, laptop.style_model, laptop.max_style_fps) == (
        "selfie-pair-pose", "fp16", None)


def test_mask_refinement_steps_can_be_turned_off():
    from camfx.app.cli import parse_run_args, run_options

    assert run_options(parse_run_args([])).mask.colour
    off = run_options(parse_run_args(["--no-mask-colour", "--no-guided-filter"])).mask
    assert not off.colour and not off.guided
    assert run_options(parse_run_args([])).mask.persistence
    assert not run_options(parse_run_args(["--no-mask-persistence"])).mask.persistence


def test_a_pipeline_error_still_leaves_a_playable_recording(tmp_path, monkeypatch, portrait_video):
    """A worker that fails mid-stream: the error reaches the user, the MP4 is finished."""
    from camfx.app.session import RunOptions, run
    from camfx.core import effects

    real_segment = effects.Effect.segment
    calls = []

    def failing_segment(self, image, half=None):
        calls.append(1)
        if len(calls) > 30:
            raise RuntimeError("segmenter died")
        return real_segment(self, image, half)

    monkeypatch.setattr(effects.Effect, "segment", failing_segment)
    out = tmp_path / "partial.mp4"
    options = RunOptions(
        input=str(portrait_video), segmenter="selfie", window=False, record=out, progress=False
    )
    with pytest.raises(RuntimeError, match="segmenter died"):
        run(options)
    assert 0 < len(read_video_frames(out)) <= 30


def test_disk_full_while_recording_live_keeps_what_was_written(tmp_path):
    """A file-size limit in the child stands in for a full disk.

    The input is a still picture played live, like a camera: endless, so the limit is
    reached however many frames a loaded machine drops (a 9 s clip played live once ended
    under the limit, exit 0). Noise makes each keyframe ~1 MB, so the 2 MB limit falls
    after the first fragment or two."""
    import resource

    def two_megabytes():
        resource.setrlimit(resource.RLIMIT_FSIZE, (2_000_000, 2_000_000))

    noise = tmp_path / "noise.png"
    cv2.imwrite(str(noise), np.random.default_rng(0).integers(0, 256, (720, 1280, 3), np.uint8))
    out = tmp_path / "full.mp4"
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "camfx",
            "--input",
            str(noise),
            "--live",
            "--effect",
            "none",
            "--segmenter",
            "selfie-landscape",
            "--no-window",
            "--record",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=two_megabytes,
    )
    assert child.returncode == 2, child.stderr
    last = child.stderr.strip().splitlines()[-1]
    assert last.startswith("camfx: error: recording to") and "is the disk full?" in last
    # Live recordings are fragmented MP4 (a fragment per 2 s keyframe interval): what
    # reached the disk still plays, up to the fragment the full disk cut short.
    played = 0
    with av.open(str(out)) as container:
        try:
            for _ in container.decode(video=0):
                played += 1
        except av.error.InvalidDataError:
            pass
    assert played >= 60  # at least the first whole fragment: 2 s at 30 fps


def test_a_second_ctrl_c_forces_the_exit(monkeypatch):
    from camfx.app import cli

    class Exited(Exception):
        pass

    def fake_exit(code):  # os._exit never returns: neither does this
        raise Exited(code)

    monkeypatch.setattr(cli.os, "_exit", fake_exit)
    handler = cli._CtrlC()
    raised = None
    try:
        handler(signal.SIGINT, None)  # the first: a clean stop
    except KeyboardInterrupt as exc:
        raised = exc
    assert isinstance(raised, KeyboardInterrupt)
    with pytest.raises(Exited) as second:  # the second, during that stop: out at once
        handler(signal.SIGINT, None)
    assert second.value.args == (130,)


@pytest.mark.parametrize(("width", "height"), [(7680, 4320), (3840, 2160), (13, 7), (1, 1)])
def test_frames_of_extreme_sizes_render(tmp_path, width, height):
    picture = tmp_path / "frame.png"
    cv2.imwrite(str(picture), cv2.resize(cv2.imread(str(MEDIA / "kitchen.jpg")), (width, height)))
    out = tmp_path / "out.mp4"
    result = run_camfx(
        "--input", str(picture), "--segmenter", "selfie", "--no-window", "--record", str(out)
    )
    assert result.returncode == 0, result.stderr
    frames = read_video_frames(out)
    # yuv420p needs even sizes: the odd pixel is cropped (a 1x1 frame becomes 2x2)
    assert len(frames) == 1
    assert frames[0].shape[:2] == (max(2, height - height % 2), max(2, width - width % 2))


def test_a_truncated_video_is_a_clear_error(tmp_path, portrait_video):
    broken = tmp_path / "broken.mp4"
    data = portrait_video.read_bytes()
    broken.write_bytes(data[: len(data) // 2])  # the index (moov) is at the end: gone
    result = run_camfx("--input", str(broken), "--no-window", "--record", str(tmp_path / "o.mp4"))
    assert result.returncode == 2
    assert "not a video camfx can read" in result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("delay", [0.1, 0.5, 1.5])
def test_ctrl_c_at_any_moment_from_start_up_on_is_quiet(tmp_path, delay, portrait_video):
    """During the imports, the model loading, or mid-recording: exit 130, no traceback."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "camfx",
            "--input",
            str(portrait_video),
            "--no-window",
            "--record",
            str(tmp_path / "out.mp4"),
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(delay)
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 130, stderr
    assert "Traceback" not in stderr and stderr.strip().splitlines()[-1] == "camfx: interrupted"


def test_a_video_with_corrupt_frames_renders_to_the_end(tmp_path, portrait_video):
    data = bytearray(portrait_video.read_bytes())
    rng = np.random.default_rng(1)
    for offset in rng.integers(len(data) // 3, 2 * len(data) // 3, size=200):
        data[offset] = rng.integers(0, 256)  # damage in the middle of the picture data
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    out = tmp_path / "out.mp4"
    result = run_camfx(
        "--input", str(damaged), "--segmenter", "selfie", "--no-window", "--record", str(out)
    )
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert len(read_video_frames(out)) == 270


def test_a_video_whose_size_changes_midway_renders_every_frame(tmp_path):
    """Two H.264 streams of different sizes back to back, as a camera re-negotiating."""

    def encode(size, frames):
        path = tmp_path / f"{size[0]}.h264"
        with av.open(str(path), "w", format="h264") as out:
            stream = out.add_stream("libx264", rate=25)
            stream.width, stream.height = size
            stream.pix_fmt = "yuv420p"
            for i in range(frames):
                image = np.full((size[1], size[0], 3), 90, np.uint8)
                cv2.circle(
                    image, (size[0] // 2, size[1] // 2), size[1] // 4 + i, (255, 255, 255), -1
                )
                for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                    out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)
        return path.read_bytes()

    video = tmp_path / "changing.h264"
    video.write_bytes(encode((320, 240), 20) + encode((640, 360), 20))
    out = tmp_path / "out.mp4"
    result = run_camfx(
        "--input", str(video), "--segmenter", "selfie", "--no-window", "--record", str(out)
    )
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    frames = read_video_frames(out)
    assert len(frames) == 40 and {f.shape for f in frames} == {(240, 320, 3)}


def test_a_video_whose_frame_rate_changes_midway_renders_every_frame(tmp_path):
    """25 fps, then 12.5 fps (timestamps 80 ms apart): every frame comes out, once."""
    from fractions import Fraction

    video = tmp_path / "vfr.mp4"
    with av.open(str(video), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        pts = 0
        for i in range(40):
            image = np.full((240, 320, 3), 90, np.uint8)
            cv2.circle(image, (160, 120), 30 + i, (255, 255, 255), -1)
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts, frame.time_base = pts, Fraction(1, 1000)
            pts += 40 if i < 20 else 80
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    out_path = tmp_path / "out.mp4"
    result = run_camfx(
        "--input", str(video), "--segmenter", "selfie", "--no-window", "--record", str(out_path)
    )
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert len(read_video_frames(out_path)) == 40


# -- outputs never destroy a file; every failure is one line, exit 2 (issue 14)


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("camfx: error: ")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_recording_over_its_own_input_is_refused_and_the_input_kept(tmp_path):
    talk = tmp_path / "talk.mp4"
    shutil.copy(MEDIA / "guitar_320.mp4", talk)
    before = talk.read_bytes()
    result = run_camfx("--input", str(talk), "--record", str(talk), "--no-window", "-y")
    assert result.returncode == 2
    assert "is also an input" in result.stderr.strip().splitlines()[-1]
    assert talk.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["talk.mp4"]


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        (["--record", "{t}/a.mp4", "--matte", "{t}/a.mp4"], "--record and --matte both name"),
        (["--record", "/dev/full"], "--record /dev/full is not a regular file"),
        (["--record", "{t}/out.txt"], "its name must end in .mp4"),
        (["--record", "{t}/earlier.mp4"], "exists; add --overwrite (-y)"),
        (["--matte", "{m}/yoga.jpg", "-y"], "is also an input"),
        (["--style", "{t}/earlier.mp4", "--record", "{t}/earlier.mp4", "-y"], "also an input"),
    ],
)
def test_outputs_that_would_destroy_a_file_are_refused(tmp_path, capsys, outputs, message):
    (tmp_path / "earlier.mp4").write_bytes(b"an earlier recording")
    args = [a.format(t=tmp_path, m=MEDIA) for a in outputs]
    assert main(["--input", str(MEDIA / "yoga.jpg"), "--no-window", *args]) == 2
    assert message in one_error_line(capsys)
    assert (tmp_path / "earlier.mp4").read_bytes() == b"an earlier recording"


def test_overwrite_replaces_an_existing_output_with_a_finished_render(tmp_path):
    out = tmp_path / "earlier.mp4"
    out.write_bytes(b"an earlier recording")
    args = ["--input", str(MEDIA / "guitar_320.mp4"), "--segmenter", "selfie", "--no-window"]
    result = run_camfx(*args, "--record", str(out), "--max-frames", "5", "--overwrite")
    assert result.returncode == 0, result.stderr
    assert len(read_video_frames(out)) == 5
    assert [p.name for p in tmp_path.iterdir()] == ["earlier.mp4"]  # no partial file left


def test_max_frames_is_the_progress_bars_total(tmp_path, capsys):
    out = tmp_path / "out.mp4"
    args = ["--input", str(MEDIA / "guitar_320.mp4"), "--segmenter", "selfie", "--no-window"]
    assert main([*args, "--record", str(out), "--max-frames", "12"]) == 0
    err = capsys.readouterr().err
    assert "12/12" in err and "/1689" not in err
    assert len(read_video_frames(out)) == 12


def test_an_input_that_yields_no_frames_is_an_error(tmp_path, capsys):
    """A video whose index is whole but whose picture data is gone: it opens, then every
    frame fails to decode. It used to exit 0 having written nothing."""
    video = tmp_path / "ten.mp4"
    with av.open(str(video), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 20, np.uint8), "bgr24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    data = bytearray(video.read_bytes())
    at = data.index(b"mdat")
    size = int.from_bytes(data[at - 4 : at], "big")
    data[at + 4 : at - 4 + size] = bytes(size - 8)
    video.write_bytes(bytes(data))
    out = tmp_path / "out.mp4"
    args = ["--input", str(video), "--segmenter", "selfie", "--no-window", "--record", str(out)]
    assert main(args) == 2
    assert "no frames could be read" in one_error_line(capsys)
    assert not out.exists()


def test_mask_grow_must_fit_in_the_frame(tmp_path, capsys):
    args = ["--input", str(MEDIA / "guitar_320.mp4"), "--segmenter", "selfie", "--no-window"]
    assert main([*args, "--mask-grow", "161"]) == 2
    assert "--mask-grow must be between -160 and 160 for a 320x320 frame" in one_error_line(capsys)
