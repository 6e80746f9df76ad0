"""The recorder on its own (frames that change size, odd sizes) and the output policy."""

from __future__ import annotations

import errno
import os

import cv2
import numpy as np
import pytest

from camfx.errors import CamfxError
from camfx.io.output_paths import check_outputs, free_name, save_picture
from camfx.io.recorder import VideoRecorder
from tests.conftest import read_video_frames


def test_frames_that_change_size_midway_are_scaled_to_the_recording(tmp_path):
    path = tmp_path / "sizes.mp4"
    with VideoRecorder(path, (321, 241), 25.0) as recorder:  # odd: yuv420p needs even
        for shape in [(241, 321), (480, 640), (100, 80), (240, 320)]:
            recorder.write(np.full((*shape, 3), 128, np.uint8))
    frames = read_video_frames(path)
    assert len(frames) == 4
    assert all(f.shape == (240, 320, 3) for f in frames)
    # (mid-grey comes back as ~124: the BGR -> yuv420p -> BGR round trip through
    # swscale shifts it by ~4 levels; a known, separate colour-range question)
    assert all(abs(f.mean() - 128) <= 5 for f in frames)


def test_recorded_colours_come_back_as_written(tmp_path):
    """Mid-grey and saturated colours survive BGR -> H.264 -> BGR within compression
    noise (swscale's default conversion had turned 128 into 124), and the stream says
    which colour space its pixels are in."""
    import av

    patches = [(128, 128, 128), (60, 160, 220), (235, 30, 40), (16, 16, 16), (240, 240, 240)]
    image = np.zeros((64, 160, 3), np.uint8)
    for i, colour in enumerate(patches):
        image[:, i * 32 : (i + 1) * 32] = colour
    path = tmp_path / "colours.mp4"
    with VideoRecorder(path, (160, 64), 30) as recorder:
        for _ in range(5):
            recorder.write(image)
    frame = read_video_frames(path)[2]
    for i, colour in enumerate(patches):
        got = frame[32, i * 32 + 16].astype(int)
        assert np.abs(got - colour).max() <= 2, (colour, got)
    with av.open(str(path)) as container:
        context = container.streams.video[0].codec_context
        assert (context.color_range, context.colorspace) == (1, 6)  # limited, BT.601


# -- the output policy: nothing camfx reads or the user made is destroyed


def test_an_output_that_is_an_input_is_refused_by_name_link_or_inode(tmp_path):
    talk = tmp_path / "talk.mp4"
    talk.write_bytes(b"the user's video")
    (tmp_path / "link.mp4").symlink_to(talk)
    os.link(talk, tmp_path / "hard.mp4")
    for same in (talk, tmp_path / "." / "talk.mp4", tmp_path / "link.mp4", tmp_path / "hard.mp4"):
        with pytest.raises(CamfxError, match="is also an input"):
            check_outputs({"--record": same}, [talk], overwrite=True)
    assert talk.read_bytes() == b"the user's video"


def test_an_existing_output_is_kept_unless_overwrite(tmp_path):
    earlier = tmp_path / "earlier.mp4"
    earlier.write_bytes(b"an earlier recording")
    with pytest.raises(CamfxError, match=r"exists; add --overwrite \(-y\)"):
        check_outputs({"--record": earlier}, [])
    check_outputs({"--record": earlier}, [], overwrite=True)
    assert earlier.read_bytes() == b"an earlier recording"  # checking writes nothing
    assert sorted(p.name for p in tmp_path.iterdir()) == ["earlier.mp4"]


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        ({"--record": "same.mp4", "--matte": "same.mp4"}, "--record and --matte both name"),
        ({"--record": "/dev/full"}, "is not a regular file"),
        ({"--record": "out.avi"}, "its name must end in .mp4"),
        ({"--record": "out"}, "its name must end in .mp4"),
    ],
)
def test_outputs_that_cannot_be_are_refused(tmp_path, outputs, message):
    paths = {option: tmp_path / name for option, name in outputs.items()}
    with pytest.raises(CamfxError, match=message):
        check_outputs(paths, [], overwrite=True)


def test_a_render_appears_under_its_name_only_when_finished(tmp_path):
    path = tmp_path / "render.mp4"
    path.write_bytes(b"replaced only by a finished render")
    with VideoRecorder(path, (64, 48), 25.0) as recorder:
        recorder.write(np.full((48, 64, 3), 90, np.uint8))
        assert path.read_bytes() == b"replaced only by a finished render"
        assert len(list(tmp_path.glob(".render.mp4.*.part"))) == 1
    assert len(read_video_frames(path)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["render.mp4"]


def test_key_triggered_files_in_the_same_second_get_their_own_names(tmp_path):
    first = free_name(tmp_path, "camfx-20260101-120000", ".mp4")
    second = free_name(tmp_path, "camfx-20260101-120000", ".mp4")
    assert (first.name, second.name) == ("camfx-20260101-120000.mp4", "camfx-20260101-120000-1.mp4")
    image = np.full((8, 8, 3), 200, np.uint8)
    shots = [save_picture(image, tmp_path, "snap") for _ in range(3)]
    assert [p.name for p in shots] == ["snap.png", "snap-1.png", "snap-2.png"]
    assert all(cv2.imread(str(p)).mean() == 200 for p in shots)


def test_a_snapshot_that_cannot_be_written_is_an_error_not_saved(tmp_path):
    with pytest.raises(CamfxError, match="could not save"):
        save_picture(np.zeros((8, 8, 3), np.uint8), tmp_path / "gone", "snap")
    with pytest.raises(CamfxError, match="could not save"):
        save_picture(np.zeros((8, 8, 3), np.uint8), "/proc", "snap")  # takes no files, even root


def test_the_s_key_says_saved_only_when_the_snapshot_was_written(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from camfx.app import session as app
    from camfx.app.session import Session

    monkeypatch.setattr(app, "_timestamped", lambda: "camfx-20260101-120000")  # one second

    said: list[str] = []
    session = Session.__new__(Session)  # just the key handlers: no pipeline needed
    session.controls = SimpleNamespace(say=said.append)
    session.last = SimpleNamespace(image=np.full((8, 8, 3), 50, np.uint8))
    session.folder = tmp_path / "gone"
    session._snapshot()
    assert said[-1].startswith("snapshot NOT saved")
    session.folder = tmp_path
    session._snapshot()
    session._snapshot()  # the same second: a name of its own
    names = {p.name for p in tmp_path.glob("camfx-*.png")}
    assert names == {"camfx-20260101-120000.png", "camfx-20260101-120000-1.png"}
    assert said[-1] == "saved camfx-20260101-120000-1.png"


@pytest.mark.parametrize(
    ("error", "full"), [(errno.ENOSPC, True), (errno.EFBIG, True), (errno.EIO, False)]
)
def test_a_failed_write_is_said_at_once_and_disk_full_only_when_it_is(
    tmp_path, monkeypatch, error, full
):
    from camfx.io import guarded_file as outputs

    real_write = outputs.WatchedFile.write

    def failing_write(self, data):
        if self.tell() > 20_000:
            self.error = self.error or OSError(error, os.strerror(error))
            raise self.error
        return real_write(self, data)

    monkeypatch.setattr(outputs.WatchedFile, "write", failing_write)
    noise = np.random.default_rng(0).integers(0, 256, (240, 320, 3), np.uint8)
    recorder = VideoRecorder(tmp_path / "live.mp4", (320, 240), 30.0, fragmented=True)
    with pytest.raises(CamfxError) as info, recorder:
        for i in range(200):
            recorder.write(noise, captured_at=i / 30)
    message = str(info.value)
    assert message.startswith(f"recording to {tmp_path / 'live.mp4'} failed after")
    assert os.strerror(error) in message and ("is the disk full?" in message) == full


@pytest.mark.parametrize("fragmented", [False, True])
def test_ctrl_c_landing_inside_a_write_waits_for_it(tmp_path, monkeypatch, fragmented):
    """The file's bytes pass through Python, where a signal handler can run. Ctrl+C there
    is held until the frame is written, then raised: the file stays whole and plays."""
    import signal

    from camfx.app import cli
    from camfx.io import guarded_file as outputs

    real_write = outputs.WatchedFile.write
    handler = cli._CtrlC()

    def write_with_ctrl_c(self, data):
        if self.tell() > 5_000 and not handler.pressed:
            handler(signal.SIGINT, None)  # as if the signal arrived at this very moment
        return real_write(self, data)

    monkeypatch.setattr(outputs.WatchedFile, "write", write_with_ctrl_c)
    path = tmp_path / "render.mp4"
    noise = np.random.default_rng(0).integers(0, 256, (120, 160, 3), np.uint8)
    written = 0
    recorder = VideoRecorder(path, (160, 120), 25.0, fragmented=fragmented)
    with pytest.raises(KeyboardInterrupt), recorder:
        for i in range(100):
            recorder.write(noise if i % 2 else 255 - noise, None if not fragmented else i / 25)
            written += 1
    assert handler.pressed and 0 < written < 100
    frames = read_video_frames(path)
    assert len(frames) == written + 1  # every frame, the one Ctrl+C arrived in included
    assert not list(tmp_path.glob(".*.part"))
