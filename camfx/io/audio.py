"""Sound from a microphone, for live recordings: captured in PortAudio's own thread,
each block stamped with the time.monotonic() of its first sample (the clock capture
stamps frames with), so that camfx.io.recorder can lay it beside the frames.

sounddevice (PortAudio) rather than PyAV's ``alsa`` input: PyAV's wheel carries its own
alsa-lib, which looks for its configuration and plugins under the wheel's build prefix
(/tmp/vendor), so it opens neither ``default`` nor a PulseAudio/PipeWire device on a
stock Linux desktop; and it has no device list. PortAudio uses the system's audio
libraries, lists devices, and its wheels carry it on macOS and Windows (Linux:
``apt install libportaudio2``).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from camfx.errors import CamfxError

log = logging.getLogger(__name__)

RATE = 48000  # Hz: AAC's usual rate, and what every input device offers
# How far the sample clock may stray from the device's timestamps before it is set
# right (a gap of silence when samples were lost, a cut when the card runs fast).
DRIFT_LIMIT_S = 0.02
DRIFT_WINDOW_S = 1.0  # the smallest lateness over this long is the clock's error


@dataclass
class AudioBlock:
    samples: np.ndarray  # float32, (channels, n)
    start: float  # time.monotonic() when its first sample was captured


def _sounddevice() -> Any:
    try:
        import sounddevice
    except OSError:  # the module is there, the PortAudio library is not
        raise CamfxError(
            "--audio needs the PortAudio library; on Debian, Ubuntu or Raspberry Pi OS run "
            "`sudo apt install libportaudio2`"
        ) from None
    except ImportError:
        raise CamfxError("--audio needs sounddevice; run `pip install sounddevice`") from None
    return sounddevice


def input_devices() -> list[tuple[int, str, int]]:
    """(index, name, input channels) of every device that records."""
    sd = _sounddevice()
    return [
        (index, info["name"], info["max_input_channels"])
        for index, info in enumerate(sd.query_devices())
        if info["max_input_channels"] > 0
    ]


def list_devices() -> None:
    """Print the recording devices, the default marked, for --list-audio-devices."""
    sd = _sounddevice()
    devices = input_devices()
    if not devices:
        print("no audio input device found")
        return
    default = sd.default.device[0]
    for index, name, channels in devices:
        mark = "*" if index == default else " "
        print(f"{mark} {index}: {name} ({channels} channel{'s' if channels > 1 else ''})")


def find_device(name: str | None) -> int | None:
    """A device index from --audio's value: None (the default), an index, or part of a name."""
    if not name:
        return None
    devices = input_devices()
    if name.isdigit() and int(name) in {index for index, _, _ in devices}:
        return int(name)
    exact = [index for index, device, _ in devices if device == name]
    partial = [index for index, device, _ in devices if name.lower() in device.lower()]
    matches = exact or partial
    if len(matches) == 1:
        return matches[0]
    what = "matches several audio inputs" if matches else "is not an audio input"
    raise CamfxError(f"--audio {name!r} {what}; `camfx --list-audio-devices` lists them")


class SampleClock:
    """Times a stream's samples by counting them from its first block, so the clock never
    jitters, and sets itself right when the device's timestamps say it strayed."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._origin: float | None = None  # monotonic time of sample 0
        self._count = 0  # samples timed so far
        self._lateness: deque[tuple[float, float]] = deque()  # (when, stamp - counted)

    def start_of_block(self, stamp: float, samples: int) -> float:
        """The time of a block's first sample, given the device's (jittery) timestamp."""
        if self._origin is None:
            self._origin = stamp
        counted = self._origin + self._count / self.rate
        self._lateness.append((stamp, stamp - counted))
        while self._lateness[0][0] < stamp - DRIFT_WINDOW_S:
            self._lateness.popleft()
        # A timestamp is the sample's time plus a delay that is never negative: the
        # smallest lateness over a second is the counted clock's error.
        error = min(late for _, late in self._lateness)
        span = self._lateness[-1][0] - self._lateness[0][0]
        if abs(error) > DRIFT_LIMIT_S and span >= DRIFT_WINDOW_S / 2:
            log.debug("audio clock set right by %+.1f ms", error * 1000)
            self._origin += error
            counted += error
            self._lateness.clear()
        self._count += samples
        return counted


class Microphone:
    """An input device recording in PortAudio's thread; `blocks()` hands over what came in."""

    def __init__(self, device: str | None = None, channels: int = 1, rate: int = RATE) -> None:
        self.device_name = device
        self.rate = rate
        self.channels = channels
        self._blocks: queue.SimpleQueue[AudioBlock] = queue.SimpleQueue()
        self._clock = SampleClock(rate)
        self._stream = None
        self._lock = threading.Lock()
        self._latency = 0.0  # the input's latency as PortAudio states it, once open
        self.first_block_at: float | None = None  # when sound first came in
        self.overflows = 0

    def __enter__(self) -> Microphone:
        sd = _sounddevice()
        device = find_device(self.device_name)
        try:
            stream = sd.InputStream(
                device=device,
                samplerate=self.rate,
                channels=self.channels,
                dtype="float32",
                callback=self._on_block,
            )
            self._latency = float(stream.latency)
            stream.start()
        except sd.PortAudioError as exc:
            which = f"audio input {self.device_name!r}" if self.device_name else "audio input"
            raise CamfxError(
                f"cannot record from the {which} ({exc}); `camfx --list-audio-devices` lists them"
            ) from None
        self._stream = stream
        info = sd.query_devices(stream.device)
        log.info("recording sound from %s", info["name"])
        return self

    def _on_block(self, indata: np.ndarray, frames: int, times: Any, status: Any) -> None:
        # The block's first sample was captured one block and the input's latency ago.
        # PortAudio's per-block capture time (times.inputBufferAdcTime) is not used: through
        # ALSA's PulseAudio plugin it said 0.6 s early at the start, falling to 0 within
        # 1.5 s, while the real delay stayed the same (measured, tests/audio_sync.py).
        now = time.monotonic()
        if self.first_block_at is None:
            self.first_block_at = now
        stamp = now - frames / self.rate - self._latency
        if status.input_overflow:
            self.overflows += 1  # samples lost: the clock sees the gap and leaves it silent
        start = self._clock.start_of_block(stamp, frames)
        # A copy: PortAudio reuses indata's memory once the callback returns (a mono
        # block's transpose is already contiguous, so ascontiguousarray would not copy).
        self._blocks.put(AudioBlock(indata.T.copy(), start))

    def blocks(self) -> list[AudioBlock]:
        """The blocks captured since the last call, oldest first."""
        out = []
        while True:
            try:
                out.append(self._blocks.get_nowait())
            except queue.Empty:
                return out

    def close(self) -> None:
        """Stop recording; blocks already captured can still be read."""
        with self._lock:
            stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
            finally:
                stream.close()

    def __exit__(self, *exc: object) -> None:
        self.close()
