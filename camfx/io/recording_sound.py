"""The sound of a recording, muxed as its frames are written (camfx.io.recorder).

* :class:`SourceSound`: a rendered file's own audio track, in sync: the source's time at
  its first video frame becomes the recording's 0. Copied packet for packet when MP4
  players take its codec, else re-encoded to AAC; it ends with the last frame written,
  so a render stopped early stays in step.
* :class:`MicrophoneSound`: a microphone (camfx.io.audio) for live recordings, as AAC:
  each block laid at its capture time on the frames' clock, silence where samples are
  missing (before the microphone started included), ended with the last frame.

Both mux what ends before the video written so far, so the file stays interleaved and
closing has only the last fraction of a second to add.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import av
import numpy as np

if TYPE_CHECKING:
    from camfx.io.audio import Microphone

log = logging.getLogger(__name__)

# Audio codecs copied as they are; others (PCM, Vorbis, ...) are re-encoded to AAC.
COPY_AUDIO_CODECS = frozenset({"aac", "mp3", "opus", "flac", "alac", "ac3", "eac3"})


class SourceSound:
    """A source file's audio, muxed into `container` up to where its video has come."""

    def __init__(self, container, source_path: Path, source, audio) -> None:
        self._container = container
        self.source_path = source_path
        self._input = source  # the source file, open while its audio is being muxed
        self._encoded = False  # re-encoded to AAC, rather than copied
        self._next: tuple | None = None  # read, not muxed yet: it ends after the video
        self.muxed_until = Fraction(0)  # where the audio muxed so far ends, in seconds
        # The recording's 0 is the source's first video frame, which need not be at 0 nor
        # where the audio starts (an MPEG-TS clock, an edit list, a late audio track).
        video = source.streams.best("video")
        zero = Fraction(0)
        if video is not None and video.start_time is not None:
            zero = video.start_time * video.time_base
        if audio.codec_context.codec.canonical_name in COPY_AUDIO_CODECS:
            self._stream = container.add_stream_from_template(audio)
            self._items = self._copied(source, audio, zero)
        else:
            self._stream = self._add_aac_stream(audio)
            self._encoded = True
            self._items = self._encoded_items(source, audio, zero)

    @classmethod
    def open(cls, container, source_path: Path) -> SourceSound | None:
        """The sound of `source_path` added to `container`; None if it has none (or cannot
        be read: the recording goes on without sound, said in a warning)."""
        try:
            source = av.open(str(source_path))
        except (OSError, av.FFmpegError) as exc:
            log.warning("recording without audio: cannot read %s: %s", source_path, exc)
            return None
        audio = source.streams.best("audio")
        if audio is None:
            source.close()
            return None
        return cls(container, source_path, source, audio)

    def _add_aac_stream(self, source_stream):
        rate = source_stream.codec_context.sample_rate
        if rate not in av.Codec("aac", "w").audio_rates:
            rate = 48000
        # Mono stays mono; anything else becomes stereo (AAC takes only some layouts).
        layout = "mono" if source_stream.codec_context.channels == 1 else "stereo"
        stream = self._container.add_stream("aac", rate=rate)
        stream.layout = layout
        stream.bit_rate = 96_000 * stream.codec_context.channels
        return stream

    @staticmethod
    def _copied(source, stream, zero: Fraction):
        """Yield (start, end, packet): the source's packets, moved onto the recording's clock."""
        shift = round(zero / stream.time_base)
        for packet in source.demux(stream):
            if packet.pts is None or not packet.size:  # the demuxer's end marker, untimed data
                continue
            packet.pts -= shift
            packet.dts = packet.pts if packet.dts is None else packet.dts - shift
            start = packet.pts * stream.time_base
            end = (packet.pts + (packet.duration or 0)) * stream.time_base
            # A packet ending at 0 is kept: it is the AAC/Opus priming that the next one needs
            # (the MP4 edit list hides what plays before 0).
            if end >= 0:
                yield start, end, packet

    def _encoded_items(self, source, stream, zero: Fraction):
        """Yield (start, end, frame): the source's audio decoded and converted for the AAC
        encoder, with pts counted in samples from the recording's 0."""
        out = self._stream.codec_context
        rate = out.sample_rate
        resampler = av.AudioResampler(format=out.format, layout=out.layout, rate=rate)
        at = None  # recording sample of the next converted sample
        for packet in source.demux(stream):
            frames = packet.decode()  # the end marker flushes the decoder
            if not packet.size:
                frames.append(None)  # and then the resampler
            for decoded in frames:
                if at is None and decoded is not None:
                    first = 0 if decoded.pts is None else decoded.pts * decoded.time_base
                    at = round((first - zero) * rate)
                # Samples are counted from the first one on: a gap in the source would
                # shift what follows (rare in files; copying keeps such gaps).
                for frame in resampler.resample(decoded):
                    if frame is None:  # a resampler with nothing to convert hands back None
                        continue
                    frame.pts, frame.time_base = at, Fraction(1, rate)
                    at += frame.samples
                    if frame.pts < 0 < at:
                        frame = audio_slice(frame, -frame.pts, frame.samples)
                        frame.pts = 0
                    if at > 0:
                        yield Fraction(frame.pts, rate), Fraction(at, rate), frame

    def mux(self, until: Fraction, final: bool = False) -> None:
        """Mux the audio that ends by ``until`` (the video's end so far); with ``final``, also
        the piece that straddles it: whole if copied, cut to it if re-encoded."""
        while self._items is not None:
            if self._next is None:
                try:
                    self._next = next(self._items, None)
                except (av.FFmpegError, ValueError) as exc:
                    # A damaged source ends the sound there rather than the recording.
                    log.warning("audio of %s ends early: %s", self.source_path, exc)
                if self._next is None:
                    self.close()
                    return
            start, end, item = self._next
            if end > until and not (final and start < until):
                return
            self._next = None
            self.muxed_until = max(self.muxed_until, min(end, until))
            if isinstance(item, av.Packet):
                item.stream = self._stream
                self._container.mux(item)
                continue
            if end > until:
                item = audio_slice(item, 0, round((until - start) * item.sample_rate))
            for packet in self._stream.encode(item):
                self._container.mux(packet)

    def finish(self, until: Fraction) -> None:
        """Mux the audio up to the end of the last frame, and flush the AAC encoder."""
        self.mux(until, final=True)
        if self._encoded:
            for packet in self._stream.encode(None):
                self._container.mux(packet)

    def close(self) -> None:
        """Close the source file (what was not muxed is left out)."""
        self._items = self._next = None
        if self._input is not None:
            self._input.close()
            self._input = None


class MicrophoneSound:
    """A microphone's sound, muxed into `container` on the frames' clock (AAC)."""

    def __init__(self, container, microphone: Microphone) -> None:
        self._container = container
        self.microphone = microphone
        stream = container.add_stream("aac", rate=microphone.rate)
        stream.layout = "mono" if microphone.channels == 1 else "stereo"
        stream.bit_rate = 96_000 * microphone.channels
        self._stream = stream
        self._blocks: list = []  # captured, not muxed yet (they end after the video)
        self._next = 0  # the recording's sample that the microphone's sound fills next
        self.muxed_until = Fraction(0)  # where the sound muxed so far ends, in seconds

    def start(self) -> None:
        self.microphone.__enter__()

    def mux(self, until: Fraction, zero: float) -> None:
        """Encode the sound up to ``until`` (seconds on the recording's clock, whose 0 is
        time.monotonic() ``zero``, the first frame's capture time)."""
        rate = self.microphone.rate
        self._blocks += self.microphone.blocks()
        limit = int(until * rate)
        while self._blocks and self._next < limit:
            block = self._blocks[0]
            at = round((block.start - zero) * rate)
            samples = block.samples
            if at < self._next:  # before the recording began, or already covered
                samples = samples[:, self._next - at :]
                at = self._next
            if not samples.shape[1]:
                self._blocks.pop(0)
                continue
            if at > self._next:  # nothing was captured here: silence
                gap = min(at, limit) - self._next
                samples, at = np.zeros((samples.shape[0], gap), np.float32), self._next
            else:
                take = min(samples.shape[1], limit - at)
                if take == block.samples.shape[1]:
                    self._blocks.pop(0)
                samples = samples[:, :take]
            self._encode(samples, at)

    def _encode(self, samples: np.ndarray, at: int) -> None:
        """Encode (channels, n) float samples as the recording's samples at..at + n."""
        rate = self.microphone.rate
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples), format="fltp", layout=self._stream.layout
        )
        frame.sample_rate, frame.pts, frame.time_base = rate, at, Fraction(1, rate)
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self._next = at + samples.shape[1]
        self.muxed_until = Fraction(self._next, rate)

    def finish(self, end: Fraction | None, zero: float | None) -> None:
        """Stop the microphone, add its sound up to `end` (the last frame's end; None when
        no frame was written), and flush AAC."""
        self.close()
        if end is not None and zero is not None:
            self.mux(end, zero)
            # What was still on its way from the device (its latency) ends as silence.
            missing = int(end * self.microphone.rate) - self._next
            if missing > 0:
                silence = np.zeros((self.microphone.channels, missing), np.float32)
                self._encode(silence, self._next)
        for packet in self._stream.encode(None):
            self._container.mux(packet)

    def close(self) -> None:
        """Stop the microphone (safe to call again)."""
        self.microphone.close()


def audio_slice(frame, begin: int, stop: int):
    """Samples begin..stop of a planar audio frame, as a new frame with the same pts."""
    samples = np.ascontiguousarray(frame.to_ndarray()[:, begin:stop])
    part = av.AudioFrame.from_ndarray(samples, format=frame.format.name, layout=frame.layout)
    part.sample_rate, part.pts, part.time_base = frame.sample_rate, frame.pts, frame.time_base
    return part
