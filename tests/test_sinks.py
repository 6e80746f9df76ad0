"""The sink registry: a sink registered by name gets a real render's frames from the session."""

from __future__ import annotations

import numpy as np
import pytest

from camfx.app.session import RunOptions, run
from camfx.errors import CamfxError
from camfx.io import sinks
from camfx.io.sinks import Sink, Stream, open_sink, register_sink
from tests.conftest import MEDIA, read_video_frames

GUITAR = MEDIA / "guitar_320.mp4"


class ToySink(Sink):
    """Keeps what it is sent, and says when it was opened and closed."""

    def __init__(self, stream: Stream, setting: object) -> None:
        self.stream, self.setting = stream, setting
        self.frames: list = []
        self.entered = self.closed = False

    def __enter__(self) -> ToySink:
        self.entered = True
        return self

    def send(self, frame) -> None:
        assert self.entered and not self.closed
        self.frames.append(frame)

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def registry(monkeypatch):
    """The registry as it is, restored after the test (a toy must not outlive it)."""
    monkeypatch.setattr(sinks, "SINKS", dict(sinks.SINKS))
    return sinks.SINKS


def test_a_registered_sink_gets_every_frame_of_a_real_render(registry, tmp_path):
    opened: list[ToySink] = []

    def toy(stream, setting):
        opened.append(ToySink(stream, setting))
        return opened[-1]

    register_sink("toy", toy)
    record = tmp_path / "render.mp4"
    options = RunOptions(
        input=str(GUITAR),
        segmenter="selfie",
        window=False,
        record=record,
        sinks=("toy",),
        max_frames=12,
        progress=False,
    )
    assert run(options) == 12
    [sink] = opened
    assert sink.closed and sink.setting is None
    assert sink.stream.size == (320, 320) and not sink.stream.live
    assert [f.index for f in sink.frames] == list(range(12))  # a render: every frame, in order
    # The toy saw the very pictures the recorder (the other sink) wrote: each decoded
    # frame is nearest (H.264 is lossy; the clip's first two frames are alike) to the
    # toy's frame of the same index, and clearly nearer than to one 3 frames away.
    recorded = read_video_frames(record)
    assert len(recorded) == 12
    for i, decoded in enumerate(recorded):
        distances = [np.abs(f.image.astype(np.int16) - decoded).mean() for f in sink.frames]
        assert distances[i] <= min(distances) + 0.05
        assert all(distances[i] < d - 0.3 for j, d in enumerate(distances) if abs(i - j) >= 3)
    # And they are composited pictures, not the input passed through.
    assert np.mean([np.abs(f.image.astype(np.int16) - f.frame).mean() for f in sink.frames]) > 5


def test_sinks_open_in_the_order_the_options_name_them(registry):
    from camfx.app.session import sink_requests

    options = RunOptions(record="a.mp4", matte="m.mp4", virtual_cam="", sinks=("toy",))
    names = [name for name, _ in sink_requests(options)]
    assert names == ["record", "matte", "virtual-camera", "window", "toy"]
    assert [name for name, _ in sink_requests(RunOptions(window=False))] == []


def test_an_unknown_sink_is_a_one_line_error_naming_the_known_ones(registry):
    with pytest.raises(CamfxError, match="unknown sink 'nope'; known: record, matte"):
        open_sink("nope", Stream((64, 48), 30.0, live=False))
