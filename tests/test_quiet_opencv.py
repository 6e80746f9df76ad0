"""OpenCV's own log lines ("[ WARN:0@0.105] global cap_v4l.cpp:914 ...") stay out of the
way unless -v asks for them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_camfx


def absent_camera_index() -> int:
    """A camera index with no device behind it on this machine (not assumed: looked up)."""
    for index in range(10, 64):
        if not Path(f"/dev/video{index}").exists():
            return index
    pytest.fail("every /dev/video10..63 exists")


@pytest.fixture(autouse=True)
def real_camera_layer(monkeypatch):
    """OpenCV itself must try the device here (the suite's camera seam would stand a
    missing file in for it, which OpenCV opens without a word); the index has no device
    behind it, so no real webcam is opened on any machine."""
    monkeypatch.delenv("CAMFX_CAMERA", raising=False)


def test_a_camera_that_does_not_open_says_one_line_only():
    index = absent_camera_index()
    result = run_camfx("--input", str(index), "--no-window", timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        line for line in result.stderr.strip().splitlines() if line.startswith("camfx:")
    ], result.stderr
    assert f"camera {index} could not be opened" in result.stderr.strip().splitlines()[-1]


def test_verbose_shows_what_opencv_said():
    result = run_camfx("--input", str(absent_camera_index()), "--no-window", "-v", timeout=60)
    assert result.returncode == 2
    assert "VIDEOIO" in result.stderr  # OpenCV's "open VIDEOIO(V4L2:/dev/video..." line
