"""The real window, on a real X server (Xvfb): it opens, shows a stylized frame, and quits on keys.

Xvfb and xdotool come from Debian (`.ci/run` installs them); the screenshot is
taken from the X server itself with FFmpeg's x11grab (through PyAV).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import av
import cv2
import numpy as np
import pytest

from tests.conftest import MEDIA, ROOT, chroma_key_person, partial_size, read_video_frames

SCREEN = (1600, 900)


@pytest.fixture(scope="module")
def display():
    missing = [tool for tool in ("Xvfb", "xdotool") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not installed: `apt-get install xvfb xdotool`")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        [
            "Xvfb",
            "-displayfd",
            str(write_fd),
            "-screen",
            "0",
            f"{SCREEN[0]}x{SCREEN[1]}x24",
            "-nolisten",
            "tcp",
        ],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    yield f":{number}"
    server.terminate()
    server.wait(timeout=10)


def screenshot(display: str) -> np.ndarray:
    with av.open(
        display, format="x11grab", options={"video_size": f"{SCREEN[0]}x{SCREEN[1]}"}
    ) as grab:
        return next(grab.decode(video=0)).to_ndarray(format="bgr24")


def start_camfx(display: str, *args: str, cwd=ROOT) -> tuple[subprocess.Popen, dict]:
    """camfx with a window on `display`; returns once its window exists."""
    env = {**os.environ, "DISPLAY": display}
    child = subprocess.Popen(
        [sys.executable, "-m", "camfx", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    found = subprocess.run(
        ["xdotool", "search", "--sync", "--classname", "camfx"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert found.returncode == 0, child.stderr.read() if child.poll() is not None else found
    return child, env


def start_window(display: str, picture, tmp_path):
    return start_camfx(display, "--input", str(picture), "--style", "starry")


def wait_for_picture(display: str, timeout: float = 30, fraction: float = 0.2) -> np.ndarray:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shot = screenshot(display)
        if (shot.max(axis=-1) > 30).mean() > fraction:  # the frame is drawn
            return shot
        time.sleep(0.2)
    raise AssertionError("nothing was drawn in the window")


@pytest.fixture(scope="module")
def still_frame(tmp_path_factory):
    frame = read_video_frames(MEDIA / "portrait_720.mp4", every=100)[1]
    path = tmp_path_factory.mktemp("still") / "portrait.png"
    cv2.imwrite(str(path), frame)
    return path, frame


def test_window_shows_the_stylized_frame_and_quits_on_q(display, still_frame, tmp_path):
    path, frame = still_frame
    child, env = start_window(display, path, tmp_path)
    try:
        time.sleep(1.0)
        shot = wait_for_picture(display)
        cv2.imwrite(str(tmp_path / "window.png"), shot)
        # The window holds the 720x720 frame; find it on the screen.
        ys, xs = np.nonzero(shot.max(axis=-1) > 0)
        top, left = ys.min(), xs.min()
        shown = shot[top : top + 720, left : left + 720]
        assert shown.shape == frame.shape
        person = chroma_key_person(frame).astype(np.uint8)
        kernel = np.ones((25, 25), np.uint8)
        inside = cv2.erode(person, kernel).astype(bool)
        outside = cv2.erode(1 - person, kernel).astype(bool)
        outside[:80, :420] = False  # the fps/latency overlay sits there
        diff = np.abs(shown.astype(int) - frame).mean(axis=-1)
        assert diff[inside].mean() < 10, "the person is shown as captured"
        assert diff[outside].mean() > 40, "the background is shown painted"
        # The overlay with frames per second is drawn in the top-left corner.
        overlay = shown[10:60, 10:300]
        assert (overlay.max(axis=-1) > 230).sum() > 50  # white text
        subprocess.run(["xdotool", "key", "q"], env=env, check=True)
        assert child.wait(timeout=20) == 0
    finally:
        if child.poll() is None:
            child.kill()


def test_escape_also_quits_cleanly(display, still_frame, tmp_path):
    path, _ = still_frame
    child, env = start_window(display, path, tmp_path)
    try:
        wait_for_picture(display)
        subprocess.run(["xdotool", "key", "Escape"], env=env, check=True)
        assert child.wait(timeout=20) == 0
        assert "Traceback" not in child.stderr.read()
    finally:
        if child.poll() is None:
            child.kill()


def key(env, name: str) -> None:
    subprocess.run(["xdotool", "key", name], env=env, check=True)
    time.sleep(0.6)  # a few frames for the change to show


def picture_box(shot: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(shot.max(axis=-1) > 0)
    return ys.min(), ys.max() + 1, xs.min(), xs.max() + 1


@pytest.fixture(scope="module")
def still_320(tmp_path_factory):
    """A still picture (a frame of guitar_320.mp4): keys are pressed on a picture that does
    not move, so only the key can change what is shown."""
    frame = read_video_frames(MEDIA / "guitar_320.mp4", every=100)[1]
    path = tmp_path_factory.mktemp("still320") / "guitar.png"
    cv2.imwrite(str(path), frame)
    return path


def test_every_key_does_what_the_help_card_says(display, still_320, tmp_path):
    child, env = start_camfx(
        display, "--input", str(still_320), "--segmenter", "selfie", "--style", "starry",
        cwd=tmp_path,
    )
    try:
        wait_for_picture(display, fraction=0.05)  # 320x320 on a 1600x900 screen
        time.sleep(1.0)
        top, bottom, left, right = picture_box(screenshot(display))
        assert (bottom - top, right - left) == (320, 320)

        def frame() -> np.ndarray:
            return screenshot(display)[top:bottom, left:right].astype(int)

        def still() -> np.ndarray:
            """The picture once it has stopped changing (the mask settles over a few
            frames), below the overlay; fails if it keeps moving without a key."""
            deadline = time.monotonic() + 15
            before = frame()[80:]
            while time.monotonic() < deadline:
                time.sleep(0.4)
                now = frame()[80:]
                if np.abs(now - before).mean() < 0.5:
                    return now
                before = now
            raise AssertionError("the picture keeps changing with no key pressed")

        # h: a dark card with white text over the middle; h again hides it.
        time.sleep(2.5)  # the start-up message ("h: help") has gone
        still()
        plain = frame()
        key(env, "h")
        card = frame()
        middle = (slice(110, 210), slice(20, 300))  # the card, scaled to fit 320 px
        # The panel is black at alpha 160 (37% of the picture shows through); the white
        # letters lift the mean, so compare medians (was mean - 20: 19.8 on a dark frame).
        assert np.median(card[middle]) < 0.6 * np.median(plain[middle])
        assert (card[middle].min(axis=-1) > 230).sum() > 200  # white letters
        key(env, "h")

        # m: the mask, grey; m again: the picture.
        key(env, "m")
        mask = frame()[80:, :]  # below the overlay
        assert np.abs(mask[..., 0] - mask[..., 2]).max() <= 2 and mask.max() > 200
        key(env, "m")
        assert np.abs(frame()[80:, :, 0] - frame()[80:, :, 2]).max() > 30

        # right (starry -> wave) / 3 (scream) / minus / e / t change the picture, which
        # stands still without them. (On a moving video two presses passed that change
        # nothing: "2" picked wave, the style shown, and "minus" came after "e" had left
        # the style effect; only the motion changed the picture.)
        # One minus is one step (strength 1.0 -> 0.9): a smaller change, still 3x what
        # the standing picture varies by (under 0.5).
        for name, change in (("Right", 3), ("3", 3), ("minus", 1.5), ("e", 3), ("t", 3)):
            before = still()
            key(env, name)
            assert np.abs(frame()[80:] - before).mean() > change, name

        # s, s: two snapshots (the same second: two names); r, r: a recording; all in
        # the working folder.
        key(env, "s")
        key(env, "s")
        key(env, "r")
        time.sleep(1.0)
        key(env, "r")
        assert len(list(tmp_path.glob("camfx-*.png"))) == 2
        recordings = list(tmp_path.glob("camfx-*.mp4"))
        assert len(recordings) == 1 and len(read_video_frames(recordings[0])) > 5

        # f: fullscreen, the window takes the screen's size (placing it is the window
        # manager's job, and Xvfb runs none).
        key(env, "f")
        window_id = subprocess.run(
            ["xdotool", "search", "--classname", "camfx"], env=env, capture_output=True, text=True
        ).stdout.split()[0]
        geometry = subprocess.run(
            ["xdotool", "getwindowgeometry", window_id], env=env, capture_output=True, text=True
        ).stdout
        assert f"Geometry: {SCREEN[0]}x{SCREEN[1]}" in geometry

        key(env, "q")
        assert child.wait(timeout=20) == 0
    finally:
        if child.poll() is None:
            child.kill()


def test_space_pauses_a_moving_picture(display, tmp_path):
    """Pausing needs motion to show: the video stops on screen, then moves again."""
    child, env = start_camfx(
        display, "--input", str(MEDIA / "guitar_320.mp4"), "--segmenter", "selfie",
        cwd=tmp_path,
    )
    try:
        wait_for_picture(display, fraction=0.05)
        time.sleep(1.0)
        top, bottom, left, right = picture_box(screenshot(display))

        def frame() -> np.ndarray:
            return screenshot(display)[top:bottom, left:right].astype(int)[80:]

        first = frame()
        time.sleep(0.8)
        assert not np.array_equal(first, frame())  # the video plays
        key(env, "space")
        first = frame()
        time.sleep(0.8)
        assert np.array_equal(first, frame())  # paused (the video goes on behind)
        key(env, "space")
        time.sleep(0.8)
        assert not np.array_equal(first, frame())
        key(env, "q")
        assert child.wait(timeout=20) == 0
    finally:
        if child.poll() is None:
            child.kill()


def test_quitting_the_window_mid_recording_leaves_a_playable_file(display, tmp_path):
    out = tmp_path / "quit.mp4"
    child, env = start_camfx(
        display,
        "--input",
        str(MEDIA / "guitar_320.mp4"),
        "--segmenter",
        "selfie",
        "--record",
        str(out),
    )
    try:
        # Quit once frames are flowing into the render's partial file (not after a fixed
        # time: a loaded machine may not have rendered 10 frames in 2 s).
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and partial_size(tmp_path) < 100_000:
            time.sleep(0.2)
        assert not out.exists()  # the name holds only a finished file
        subprocess.run(["xdotool", "key", "q"], env=env, check=True)
        assert child.wait(timeout=20) == 0
        assert 10 < len(read_video_frames(out)) < 1689
        assert [p.name for p in tmp_path.iterdir()] == [out.name]
    finally:
        if child.poll() is None:
            child.kill()


def test_the_help_card_fits_a_small_window(monkeypatch):
    """In a 320 px window the card (about 560 px wide) was cut off at both sides, the keys
    with it; it is scaled down to fit. SDL's dummy driver: no display needed."""
    from camfx.app.controls import help_card
    from camfx.io.window import Window

    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    white = np.full((320, 320, 3), 255, np.uint8)
    with Window("camfx", (320, 320)) as window:
        window.show(white, (), help_card())
        import pygame

        shown = pygame.surfarray.array3d(window._screen).transpose(1, 0, 2)
    dark = shown.max(axis=-1) < 200  # the panel darkens the white frame
    ys, xs = np.nonzero(dark)
    assert xs.min() > 0 and xs.max() < 319 and ys.min() > 0 and ys.max() < 319
    assert 0.3 < dark.mean() < 0.9  # a card, not a speck: the frame shows around it
    with Window("camfx", (320, 320)) as window:  # the overlay's long stats line, too
        window.show(white, ["segment 12.8 ms  style 104.6 ms  composite 0.4 ms"])
        shown = pygame.surfarray.array3d(window._screen).transpose(1, 0, 2)
    xs = np.nonzero(shown.max(axis=-1) < 200)[1]
    assert xs.min() == 8 and xs.max() < 319
