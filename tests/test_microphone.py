"""Sound from a microphone in live recordings, through a real audio stack with no sound
card: PortAudio -> ALSA's pulse plugin -> a private PulseAudio server whose null sink
plays known tones (tests/audio_sync.py). The longer check: scripts/check_audio_sync.py.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import av
import numpy as np
import pytest

from camfx.io.audio import DRIFT_LIMIT_S, SampleClock
from tests.audio_sync import FPS, null_sink_server, record_tones
from tests.conftest import ROOT, run_camfx
from tests.test_window import display, start_camfx, wait_for_picture  # noqa: F401 (fixture)

ONE_FRAME = 1 / FPS


@pytest.fixture(scope="module")
def pulse_server():
    if shutil.which("pulseaudio") is None:
        if os.environ.get("CI"):
            pytest.fail("pulseaudio is not installed; .ci/run installs it")
        pytest.skip("needs pulseaudio, libportaudio2 and libasound2-plugins (see .ci/run)")
    with null_sink_server():
        yield os.environ["PULSE_SERVER"]


def streams(path):
    """(video frames, video seconds, audio codec, audio seconds, audio samples) of a file."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        times = [float(f.time) for f in container.decode(video)]
    with av.open(str(path)) as container:
        audio = container.streams.audio[0]
        codec, rate = audio.codec_context.name, audio.codec_context.sample_rate
        samples = np.concatenate([f.to_ndarray()[0] for f in container.decode(audio)])
    return len(times), times[-1] + ONE_FRAME, codec, len(samples) / rate, samples


def test_each_tone_sounds_with_the_frame_it_belongs_to(pulse_server, tmp_path):
    """Tones played 0.5 s and 3.5 s into a recording land with the frames captured as they
    played, and the second as close as the first: the clocks do not drift apart."""
    out = tmp_path / "mic.mp4"
    tones = record_tones(out, seconds=4.5, onsets_after=[0.5, 3.5])
    offsets = [t.tone - t.exact for t in tones]
    # What the null sink's loopback adds is the same for every tone (the player cannot
    # know when the sink renders a sample); what camfx adds must not change over time.
    assert abs(offsets[1] - offsets[0]) < ONE_FRAME, offsets
    assert all(abs(o) < 0.15 for o in offsets), offsets
    _frames, video_s, codec, audio_s, _ = streams(out)
    assert codec == "aac"
    assert audio_s == pytest.approx(video_s, abs=0.05)  # the sound ends with the last frame


def test_sample_clock_follows_a_card_that_runs_fast_and_fills_lost_samples():
    """Simulated timestamps: a card 0.2 % fast (7 frames off after a minute), callbacks
    late by up to 15 ms, and 0.1 s of samples lost at 30 s (set right within 1.5 s: the
    clock waits for a second of timestamps before it believes them)."""
    rng = np.random.default_rng(0)
    rate, block = 48000, 480
    clock = SampleClock(rate)
    true_start, worst, after_gap = 100.0, 0.0, []
    for n in range(6000):  # 60 s
        true = true_start + n * block / rate / 1.002
        if n == 3000:
            true_start += 0.1  # a gap: these samples were never delivered
            true += 0.1
        counted = clock.start_of_block(true + rng.uniform(0, 0.015), block)
        if 3000 <= n < 3150:
            after_gap.append(abs(counted - true))
        else:
            worst = max(worst, abs(counted - true))
    assert worst < DRIFT_LIMIT_S + 0.015
    assert max(after_gap) > 0.09  # the gap was real ...
    assert after_gap[-1] < DRIFT_LIMIT_S + 0.015  # ... and is set right


def test_camfx_records_the_microphone_with_a_live_recording(pulse_server, tmp_path):
    """Through the command line: a video played live and recorded with --audio carries the
    microphone's sound (here: silence from the null sink) for as long as its picture."""
    out = tmp_path / "live.mp4"
    result = run_camfx(
        "--input", str(ROOT.parent / "shared" / "media" / "guitar_320.mp4"), "--live",
        "--segmenter", "selfie", "--no-window", "--record", str(out), "--audio", "pulse",
        "--max-frames", "40",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    frames, video_s, codec, audio_s, samples = streams(out)
    assert frames == 40 and codec == "aac"
    assert audio_s == pytest.approx(video_s, abs=0.1)
    assert np.abs(samples).max() < 0.01  # the null sink played nothing


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_stopping_a_recording_with_sound_leaves_both_playable(pulse_server, tmp_path, sig):
    out = tmp_path / "stopped.mp4"
    child = subprocess.Popen(
        [sys.executable, "-m", "camfx", "--input",
         str(ROOT.parent / "shared" / "media" / "guitar_320.mp4"), "--live", "--segmenter",
         "selfie", "--no-window", "--record", str(out), "--audio", "pulse"],
        cwd=ROOT, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not out.exists() or out.stat().st_size < 20_000):
        time.sleep(0.2)
    child.send_signal(sig)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 128 + sig, stderr
    frames, video_s, codec, audio_s, _ = streams(out)
    assert frames > 5 and codec == "aac"
    assert audio_s == pytest.approx(video_s, abs=0.1)


def test_an_unknown_microphone_is_a_one_line_error(pulse_server, tmp_path):
    result = run_camfx(
        "--input", str(ROOT.parent / "shared" / "media" / "guitar_320.mp4"), "--live",
        "--no-window", "--record", str(tmp_path / "x.mp4"), "--audio", "no-such-microphone",
    )  # fmt: skip
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert "no-such-microphone" in last and "--list-audio-devices" in last
    assert not (tmp_path / "x.mp4").exists()


def test_audio_devices_are_listed(pulse_server):
    result = run_camfx("--list-audio-devices")
    assert result.returncode == 0, result.stderr
    assert "pulse" in result.stdout


def test_audio_with_a_rendered_file_is_a_one_line_error(tmp_path):
    result = run_camfx(
        "--input", str(ROOT.parent / "shared" / "media" / "guitar_320.mp4"), "--no-window",
        "--record", str(tmp_path / "x.mp4"), "--audio",
    )  # fmt: skip
    assert result.returncode == 2
    assert "--audio" in result.stderr.strip().splitlines()[-1]


def test_disk_full_while_recording_with_sound_keeps_both(pulse_server, tmp_path):
    """A file-size limit in the child stands in for a full disk."""
    import resource

    def six_hundred_kb():
        resource.setrlimit(resource.RLIMIT_FSIZE, (600_000, 600_000))

    out = tmp_path / "full.mp4"
    child = subprocess.run(
        [sys.executable, "-m", "camfx", "--input", str(ROOT.parent / "shared" / "media" /
         "guitar_320.mp4"), "--live", "--segmenter", "selfie", "--no-window", "--record",
         str(out), "--audio", "pulse"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, preexec_fn=six_hundred_kb,
    )  # fmt: skip
    assert child.returncode == 2, child.stderr
    assert "is the disk full?" in child.stderr.strip().splitlines()[-1]
    kinds = {"audio": 0, "video": 0}
    with av.open(str(out)) as container:
        try:
            for packet in container.demux():
                if packet.size:
                    kinds[packet.stream.type] += 1
        except av.error.InvalidDataError:
            pass  # the fragment the full disk cut short
    assert kinds["video"] > 5 and kinds["audio"] > 5, kinds


def test_r_in_the_window_records_sound_when_audio_is_on(pulse_server, display, tmp_path):  # noqa: F811
    """`r`, `r` under Xvfb with --audio: the key-triggered recording carries the sound."""
    child, env = start_camfx(
        display, "--input", str(ROOT.parent / "shared" / "media" / "guitar_320.mp4"),
        "--segmenter", "selfie", "--audio", "pulse", cwd=tmp_path,
    )  # fmt: skip
    try:
        wait_for_picture(display, fraction=0.05)
        subprocess.run(["xdotool", "key", "r"], env=env, check=True)
        time.sleep(4.0)
        subprocess.run(["xdotool", "key", "r"], env=env, check=True)
        time.sleep(0.5)
        subprocess.run(["xdotool", "key", "q"], env=env, check=True)
        assert child.wait(timeout=30) == 0, child.stderr.read()
    finally:
        if child.poll() is None:
            child.kill()
    (recording,) = tmp_path.glob("camfx-*.mp4")
    frames, video_s, codec, audio_s, _ = streams(recording)
    assert frames > 5 and codec == "aac"
    assert audio_s == pytest.approx(video_s, abs=0.1)
