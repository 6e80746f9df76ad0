"""A microphone with no sound card: a private PulseAudio server whose null sink plays tones
at known moments, recorded back through its monitor by camfx.io.audio (PortAudio -> ALSA's
pulse plugin -> PulseAudio), beside frames stamped on the same clock. Used by
tests/test_microphone.py (seconds) and scripts/check_audio_sync.py (minutes).
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

RATE = 48000
TONE_HZ = 1000
TONE_S = 0.2
FPS = 30
SIZE = (160, 120)
DEVICE = "pulse"  # ALSA's PCM that talks to the PulseAudio server

DEFAULT_PA = """
load-module module-native-protocol-unix
load-module module-null-sink sink_name=camfx_test rate=48000 channels=1
set-default-sink camfx_test
set-default-source camfx_test.monitor
"""


@contextmanager
def null_sink_server() -> Iterator[None]:
    """A PulseAudio server of our own (no sound card): its default sink is a null sink,
    its default source that sink's monitor. Sets PULSE_SERVER for this process."""
    pulseaudio = shutil.which("pulseaudio")
    if pulseaudio is None:
        raise FileNotFoundError("pulseaudio is not installed (apt install pulseaudio)")
    with tempfile.TemporaryDirectory(prefix="camfx-pulse-") as runtime:
        config = Path(runtime) / "default.pa"
        config.write_text(DEFAULT_PA)
        socket = Path(runtime) / "pulse" / "native"
        env = {**os.environ, "XDG_RUNTIME_DIR": runtime, "HOME": runtime}
        server = subprocess.Popen(
            [pulseaudio, "-n", "-F", str(config), "--daemonize=no", "--exit-idle-time=-1",
             "--disallow-exit", "--log-target=stderr", "--log-level=error"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        saved = {k: os.environ.get(k) for k in ("PULSE_SERVER", "PULSE_RUNTIME_PATH")}
        try:
            deadline = time.monotonic() + 10
            while not socket.exists():
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"pulseaudio did not start: {server.stderr.read()!r}")
                time.sleep(0.05)
            os.environ["PULSE_SERVER"] = f"unix:{socket}"
            os.environ["PULSE_RUNTIME_PATH"] = str(Path(runtime) / "pulse")
            rescan_devices()
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            server.terminate()
            server.wait(timeout=10)


def rescan_devices() -> None:
    """PortAudio lists the devices once, when sounddevice is imported: list them again now
    that the server runs (the pulse device opens only then)."""
    import sounddevice as sd

    sd._terminate()
    sd._initialize()


class TonePlayer:
    """Plays TONE_S of TONE_HZ through the default output starting at given time.monotonic()
    moments, placed by PortAudio's own time for when each sample reaches the output."""

    def __init__(self, onsets: list[float]) -> None:
        import sounddevice as sd

        self.onsets = onsets
        self.first_block_at: float | None = None
        self._stream = sd.OutputStream(
            device=DEVICE, samplerate=RATE, channels=1, dtype="float32", callback=self._fill
        )

    def _fill(self, out: np.ndarray, frames: int, times, status) -> None:
        # As camfx.io.audio does for the input: the output's stated latency, not the
        # per-block times ALSA's pulse plugin gets wrong.
        now = time.monotonic()
        if self.first_block_at is None:
            self.first_block_at = now
        start = now + self._stream.latency
        t = start + np.arange(frames) / RATE
        wave = np.zeros(frames, np.float32)
        for onset in self.onsets:
            inside = (t >= onset) & (t < onset + TONE_S)
            wave[inside] = 0.5 * np.sin(2 * np.pi * TONE_HZ * (t[inside] - onset))
        out[:, 0] = wave

    def __enter__(self) -> TonePlayer:
        self._stream.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stream.stop()
        self._stream.close()


@dataclass
class Sync:
    tone: float  # when the tone starts in the recording (s)
    frame: float  # when the frame captured as it started shows in the recording (s)
    exact: float  # when it started, on the recording's clock (s)


def record_tones(out: Path, seconds: float, onsets_after: list[float]) -> list[Sync]:
    """Record 30 fps frames with the microphone on, as a camera recording does; once both
    sound streams flow (a loaded PulseAudio takes a second or two), tones play
    `onsets_after` seconds later, each one's frame lit, and the recording goes on to
    `seconds` after that moment. Returns each tone's timings in the recording."""
    from camfx.io.audio import Microphone
    from camfx.io.recorder import VideoRecorder

    dark = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    lit = np.full_like(dark, 255)
    lit_at: dict[int, float] = {}  # tone -> captured_at of its frame
    onsets: list[float] = []
    microphone = Microphone(DEVICE)
    origin = None  # when the tones' schedule starts
    with (
        TonePlayer(onsets) as player,
        VideoRecorder(out, SIZE, FPS, fragmented=True, microphone=microphone) as rec,
    ):
        begin = time.monotonic()
        index = 0
        while True:
            wait = begin + index / FPS - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            captured = time.monotonic()  # a camera stamps the frame as it is read
            if origin is None and flowing_since(microphone, player, captured) > 0.5:
                origin = captured
                onsets += [origin + s for s in onsets_after]
            if origin is not None and captured - origin > seconds:
                break
            if captured - begin > seconds + 30:
                raise RuntimeError("the PulseAudio streams never started")
            image = dark
            for tone, onset in enumerate(onsets):
                if tone not in lit_at and captured >= onset:
                    lit_at[tone], image = captured, lit
            rec.write(image, captured)
            index += 1
    frames = lit_frame_times(out)
    tones = tone_onsets(out)
    assert len(frames) == len(onsets) == len(tones), (frames, tones)
    return [
        Sync(tone, frame, frame - (lit_at[i] - onsets[i]))
        for i, (tone, frame) in enumerate(zip(tones, frames, strict=True))
    ]


def flowing_since(microphone, player: TonePlayer, now: float) -> float:
    """For how long both the input and the output have been delivering blocks."""
    starts = (microphone.first_block_at, player.first_block_at)
    return 0.0 if None in starts else now - max(starts)


def lit_frame_times(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        return [
            float(f.time)
            for f in container.decode(video=0)
            if f.to_ndarray(format="gray").mean() > 128
        ]


def tone_onsets(path: Path) -> list[float]:
    """Where each tone starts in the recording's audio (s), to the sample."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.name == "aac"
        resampler = av.AudioResampler(format="fltp", layout="mono", rate=RATE)
        chunks, start = [], None
        for frame in container.decode(stream):
            if start is None:
                start = float(frame.time)
            chunks += [f.to_ndarray()[0] for f in resampler.resample(frame)]
    samples = np.concatenate(chunks)
    loud = np.flatnonzero(np.abs(samples) > 0.1)
    onsets = [loud[0]] + [b for a, b in itertools.pairwise(loud) if b - a > RATE // 10]
    # The first loud sample lies within a quarter period of the tone's start.
    return [start + i / RATE for i in onsets]


def record_with_threads(out: Path, seconds: float, every: float) -> list[Sync]:
    """Tones every `every` seconds over `seconds` (the long check)."""
    onsets = list(np.arange(1.0, seconds - 1.0, every))
    result: list[Sync] = []
    thread = threading.Thread(target=lambda: result.extend(record_tones(out, seconds, onsets)))
    thread.start()
    thread.join()
    return result


__all__ = ["Fraction", "Sync", "null_sink_server", "record_tones", "record_with_threads"]
