"""A render keeps its source's audio: copied or re-encoded to AAC, in sync, cut with the video.

The clips are made here with PyAV: 2 s of a moving bar at 25 fps, with a 440 Hz tone.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from camfx.io.recorder import VideoRecorder

FPS = 25
FRAMES = 50
SIZE = (320, 240)
RATE = 48000
TONE_HZ = 440


def make_clip(
    path: Path,
    audio_codec: str | None = "aac",
    *,
    video_start: float = 0.0,
    audio_start: float = 0.0,
    tone_from: float = 0.0,
) -> Path:
    """A clip whose streams start at the given times; the tone sounds from ``tone_from`` on
    (source time), silence before it."""
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height = SIZE
        video.pix_fmt = "yuv420p"
        audio = None
        if audio_codec is not None:
            audio = container.add_stream(audio_codec, rate=RATE)
            audio.layout = "stereo"
        first_frame = round(video_start * FPS)
        for i in range(FRAMES):
            image = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
            image[:, i * 6 : i * 6 + 20] = (40, 200, 255)
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts, frame.time_base = first_frame + i, Fraction(1, FPS)
            for packet in video.encode(frame):
                container.mux(packet)
        if audio is not None:
            first_sample = round(audio_start * RATE)
            t = (first_sample + np.arange(FRAMES * RATE // FPS)) / RATE
            tone = np.where(t >= tone_from, 0.5 * np.sin(2 * np.pi * TONE_HZ * t), 0.0)
            samples = np.tile(tone.astype(np.float32), (2, 1))
            for offset in range(0, samples.shape[1], 1024):
                chunk = np.ascontiguousarray(samples[:, offset : offset + 1024])
                frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
                frame.sample_rate = RATE
                frame.pts, frame.time_base = first_sample + offset, Fraction(1, RATE)
                for packet in audio.encode(frame):  # converts to the codec's sample format
                    container.mux(packet)
            for packet in audio.encode(None):
                container.mux(packet)
        for packet in video.encode(None):
            container.mux(packet)
    return path


def record(
    clip: Path, out: Path, frames: int | None = None, audio: bool = True, live: bool = False
) -> Path:
    """Write the clip's frames through the recorder, as a render does (or stop early)."""
    with av.open(str(clip)) as container:
        images = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
    source = clip if audio else None
    with VideoRecorder(out, SIZE, FPS, audio_source=source) as recorder:
        for i, image in enumerate(images[:frames]):
            recorder.write(image, captured_at=i / FPS if live else None)
    return out


@dataclass
class Recording:
    video_codec: str
    frames: int
    video_seconds: float
    audio_codec: str | None = None
    audio: np.ndarray | None = None  # first channel, float
    audio_start: float = 0.0

    @property
    def audio_seconds(self) -> float:
        return len(self.audio) / RATE

    def tone_onset(self) -> float:
        """When the tone starts, in the recording's seconds."""
        return self.audio_start + np.argmax(np.abs(self.audio) > 0.25) / RATE


def probe(path: Path) -> Recording:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        result = Recording(
            video_codec=video.codec_context.name,
            frames=sum(1 for _ in container.decode(video)),
            video_seconds=float(video.duration * video.time_base),
        )
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return result
        audio = container.streams.audio[0]
        assert audio.codec_context.sample_rate == RATE
        result.audio_codec = audio.codec_context.codec.canonical_name
        resampler = av.AudioResampler(format="fltp")  # decoders differ in sample format
        chunks = []
        for i, frame in enumerate(container.decode(audio)):
            if i == 0:
                result.audio_start = float(frame.time)
            chunks += [f.to_ndarray()[0] for f in resampler.resample(frame)]
        result.audio = np.concatenate(chunks)
    return result


def dominant_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / RATE)[np.argmax(spectrum)])


def audio_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(audio=0) if p.size]


def assert_audio_matches_video(recording: Recording, frames: int) -> None:
    assert recording.video_codec == "h264"
    assert recording.frames == frames
    assert recording.video_seconds == pytest.approx(frames / FPS, abs=0.01)
    assert abs(recording.audio_start) < 0.03  # starts with the first frame
    assert recording.audio_seconds == pytest.approx(recording.video_seconds, abs=0.1)
    assert dominant_hz(recording.audio[RATE // 10 :]) == pytest.approx(TONE_HZ, abs=3)


COPIED = [("aac", "mp4", "aac"), ("libopus", "mkv", "opus"), ("libmp3lame", "mkv", "mp3")]


@pytest.mark.parametrize(("encoder", "ext", "codec"), COPIED, ids=[c[2] for c in COPIED])
def test_audio_that_mp4_takes_is_copied_packet_for_packet(tmp_path, encoder, ext, codec):
    if encoder not in av.codecs_available:
        pytest.skip(f"this PyAV has no {encoder} encoder")
    clip = make_clip(tmp_path / f"clip.{ext}", encoder)
    out = record(clip, tmp_path / "out.mp4")

    recording = probe(out)
    assert recording.audio_codec == codec
    assert_audio_matches_video(recording, FRAMES)
    assert audio_packets(out) == audio_packets(clip)


@pytest.mark.parametrize("ext", ["mkv", "mov"])
def test_pcm_audio_is_reencoded_to_aac(tmp_path, ext):
    clip = make_clip(tmp_path / f"clip.{ext}", "pcm_s16le")
    recording = probe(record(clip, tmp_path / "out.mp4"))
    assert recording.audio_codec == "aac"
    assert_audio_matches_video(recording, FRAMES)


@pytest.mark.parametrize("codec", ["aac", "pcm_s16le"], ids=["copied", "reencoded"])
def test_recording_stopped_early_has_audio_as_long_as_its_video(tmp_path, codec):
    clip = make_clip(tmp_path / "clip.mkv", codec)
    recording = probe(record(clip, tmp_path / "out.mp4", frames=FRAMES // 2))
    assert_audio_matches_video(recording, FRAMES // 2)
    assert recording.audio_seconds == pytest.approx(FRAMES / FPS / 2, abs=0.1)


@pytest.mark.parametrize("codec", ["aac", "pcm_s16le"], ids=["copied", "reencoded"])
@pytest.mark.parametrize(
    ("video_start", "audio_start"), [(0.4, 0.0), (0.0, 0.3)], ids=["video-late", "audio-late"]
)
def test_audio_stays_in_sync_when_the_streams_start_apart(
    tmp_path, codec, video_start, audio_start
):
    # The recording's 0 is the source's first frame, wherever each stream starts.
    clip = make_clip(
        tmp_path / "clip.mkv", codec, video_start=video_start, audio_start=audio_start, tone_from=1
    )
    recording = probe(record(clip, tmp_path / "out.mp4"))
    assert recording.frames == FRAMES
    assert recording.tone_onset() == pytest.approx(1.0 - video_start, abs=0.01)


def test_a_source_without_audio_gives_a_file_without_audio(tmp_path):
    clip = make_clip(tmp_path / "clip.mp4", audio_codec=None)
    recording = probe(record(clip, tmp_path / "out.mp4"))
    assert (recording.video_codec, recording.frames) == ("h264", FRAMES)
    assert recording.audio_codec is None


def test_no_audio_unless_asked_or_when_live(tmp_path):
    clip = make_clip(tmp_path / "clip.mp4")
    for name, kwargs in {"unasked": {"audio": False}, "live": {"live": True}}.items():
        recording = probe(record(clip, tmp_path / f"{name}.mp4", **kwargs))
        assert (recording.video_codec, recording.frames) == ("h264", FRAMES), name
        assert recording.audio_codec is None, name


def test_camfx_render_keeps_the_input_s_sound(tmp_path):
    """Through the command line: a file rendered with --record keeps its audio in sync."""
    from tests.conftest import run_camfx

    clip = make_clip(tmp_path / "talk.mp4", "aac")
    out = tmp_path / "talk_starry.mp4"
    result = run_camfx(
        "--input", str(clip), "--segmenter", "selfie", "--no-window", "--record", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert_audio_matches_video(probe(out), frames=int(2 * FPS))


def packets_in_file_order(path: Path) -> list[tuple[str, float]]:
    """(stream type, presentation time) of every packet, in the order they lie in the file."""
    with av.open(str(path)) as container:
        packets = [
            (p.pos, p.stream.type, float(p.pts * p.time_base))
            for p in container.demux()
            if p.size and p.pts is not None
        ]
    return [(kind, t) for _, kind, t in sorted(packets)]


def largest_interleaving_gap(path: Path) -> float:
    """How far, in seconds, the file's audio and video drift apart as it is read in order:
    an interleaved file keeps them close; audio written after all the video makes it the
    whole length."""
    latest = {"audio": 0.0, "video": 0.0}
    gap = 0.0
    for kind, t in packets_in_file_order(path):
        latest[kind] = max(latest[kind], t)
        gap = max(gap, abs(latest["audio"] - latest["video"]))
    return gap


@pytest.mark.parametrize("codec", ["aac", "pcm_s16le"], ids=["copied", "reencoded"])
def test_audio_is_muxed_as_the_video_advances(tmp_path, codec):
    """Audio written frame by frame interleaves with the video in the file (a player or an
    upload reads both at once); audio kept for close() lies after all of it."""
    clip = make_clip(tmp_path / "clip.mkv", codec)
    out = tmp_path / "out.mp4"
    with av.open(str(clip)) as container:
        images = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
    muxed_while_writing = []
    with VideoRecorder(out, SIZE, FPS, audio_source=clip) as recorder:
        for image in images:
            recorder.write(image)
            muxed_while_writing.append(recorder.audio_muxed_until)
    # Before close(), the audio has kept up with the frames written (to within a packet).
    assert muxed_while_writing[-1] == pytest.approx(FRAMES / FPS, abs=0.05)
    assert muxed_while_writing[FRAMES // 2] == pytest.approx(FRAMES / FPS / 2, abs=0.05)
    assert largest_interleaving_gap(out) < 0.75
    assert_audio_matches_video(probe(out), FRAMES)
