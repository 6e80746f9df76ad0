"""The recorder on its own: frames that change size, odd sizes."""

from __future__ import annotations

import numpy as np

from camfx.outputs import VideoRecorder
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
