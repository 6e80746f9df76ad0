"""Recordings: H.264 MP4 files, with the source's audio when rendering a file, or a
microphone's (camfx.io.audio) when recording live.

PyAV (FFmpeg's libraries, shipped in the wheel) writes H.264 into MP4 without an
ffmpeg binary on the user's machine, and copies audio packets as they are. The
other sinks are camfx.io.window (the window) and camfx.io.virtualcam (a virtual webcam).
"""

from __future__ import annotations

import errno
import functools
import itertools
import os
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from camfx.errors import CamfxError

if TYPE_CHECKING:
    from camfx.io.audio import Microphone

# The containers camfx writes H.264 into, by the name's extension (FFmpeg's format names).
CONTAINERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}


def container_of(path: Path) -> str:
    """The container a recording's name asks for, or a one-line error saying which to use."""
    path = Path(path)
    try:
        return CONTAINERS[path.suffix.lower()]
    except KeyError:
        names = ", ".join(CONTAINERS)
        raise CamfxError(
            f"cannot record to {path}: its name must end in {names} (the kind of file to write)"
        ) from None


def check_writable(path: Path) -> None:
    """Fail now, in one line, if `path`'s folder takes no new files (missing, read-only).
    Nothing is left behind: a probe file is made beside it and removed."""
    path = Path(path)
    if not path.parent.is_dir():
        raise CamfxError(f"cannot record to {path}: folder {path.parent} not found")
    try:
        probe = _partial_name(path)
        with open(probe, "xb"):
            pass
        probe.unlink()
    except OSError as exc:
        raise CamfxError(
            f"cannot record to {path} ({exc.strerror}); choose a folder you can write to"
        ) from None


def _same_file(a: Path, b: Path) -> bool:
    """One file under two names: the same resolved path, or the same inode (a hard link)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False


def check_outputs(
    outputs: dict[str, Path | None], inputs: list[Path], overwrite: bool = False
) -> None:
    """The output policy, before anything opens. `outputs` maps an option ('--record') to its
    path. Nothing camfx reads is written to, no two outputs share a file, a file that
    exists is replaced only with --overwrite, and each name says a container camfx writes."""
    named = [(option, Path(path)) for option, path in outputs.items() if path is not None]
    for i, (option, path) in enumerate(named):
        for source in inputs:
            if _same_file(path, source):
                raise CamfxError(
                    f"{option} {path} is also an input ({source}); writing it would destroy "
                    "what camfx reads: choose another name"
                )
        for other, other_path in named[:i]:
            if _same_file(path, other_path):
                raise CamfxError(f"{other} and {option} both name {path}: give each its own file")
        if path.exists() or path.is_symlink():
            if not path.is_file():
                raise CamfxError(f"{option} {path} is not a regular file: give a file name")
            if not overwrite:
                raise CamfxError(
                    f"{option} {path} exists; add --overwrite (-y) to replace it, "
                    "or choose another name"
                )
        container_of(path)
        check_writable(path)


def free_name(folder: Path, stem: str, suffix: str) -> Path:
    """`stem.suffix` in `folder`, or `stem-1.suffix`, `stem-2.suffix`... the first that is
    free, made (empty) at once so that a second camfx, or a second key press in the same
    second, takes the next one."""
    for n in itertools.count():
        path = Path(folder) / (f"{stem}{suffix}" if n == 0 else f"{stem}-{n}{suffix}")
        try:
            with open(path, "xb"):
                return path
        except FileExistsError:
            continue
    raise AssertionError("unreachable")


def save_picture(image: np.ndarray, folder: Path, stem: str) -> Path:
    """A PNG under a free name in `folder`; CamfxError (nothing left behind) if it fails."""
    ok, data = cv2.imencode(".png", image)
    if not ok:
        raise CamfxError("the picture could not be encoded as PNG")
    path = None
    try:
        path = free_name(folder, stem, ".png")
        with open(path, "wb") as f:
            f.write(data.tobytes())
    except OSError as exc:
        if path is not None:
            path.unlink(missing_ok=True)
        raise CamfxError(f"could not save {path or folder} ({exc.strerror})") from None
    return path


def _partial_name(path: Path) -> Path:
    """Where a file is written until it is complete: hidden, beside it (same file system,
    so the rename into place is atomic)."""
    return path.with_name(f".{path.name}.{os.getpid()}.part")


class _WatchedFile:
    """The file a recording is muxed into, which remembers a write that failed.

    FFmpeg's muxers do not always pass a failed write on (the MP4 muxer flushing a
    fragment ignores it), so a live recording went on "recording" into a full disk
    and exited 0. The recorder asks `check` after each frame instead.
    """

    def __init__(self, path: Path) -> None:
        self._file = open(path, "wb", buffering=0)  # noqa: SIM115 - closed by close()
        self.error: OSError | None = None

    def write(self, data) -> int:
        view = memoryview(data)
        try:
            done = 0
            while done < len(view):  # an unbuffered write may take part of it
                done += self._file.write(view[done:])
        except OSError as exc:
            self.error = self.error or exc
            raise
        return len(view)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def check(self) -> None:
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        self._file.close()


class _Unbroken:
    """Holds Ctrl+C and SIGTERM back while a recording writes, until the write is done.

    The file's bytes go through Python (_WatchedFile), where a signal handler's exception
    could land between two of FFmpeg's writes and leave a hole in the file. Inside a
    write or a close, cli's handlers hand their exception to `defer` instead, and it is
    raised as the write or close ends: between frames, or with the file finished.
    """

    def __init__(self) -> None:
        self.depth = 0
        self.pending: Callable[[], None] | None = None

    def __enter__(self) -> None:
        self.depth += 1

    def __exit__(self, *exc: object) -> None:
        pending = None
        if self.depth == 1:
            pending, self.pending = self.pending, None
        self.depth -= 1
        if pending is not None:
            pending()  # raises KeyboardInterrupt or SystemExit, now that the file is whole

    def defer(self, action: Callable[[], None]) -> bool:
        """From a signal handler: run `action` once the write under way ends; False (run
        it yourself) when no write is under way."""
        if self.depth == 0:
            return False
        self.pending = self.pending or action
        return True


UNBROKEN = _Unbroken()


def _unbroken(method):
    """A recorder method that writes: signals wait for it (see _Unbroken)."""

    @functools.wraps(method)
    def held(*args, **kwargs):
        with UNBROKEN:
            return method(*args, **kwargs)

    return held


def _failure(what: str, exc: Exception, when: str = "") -> str:
    """'WHAT failed WHEN (error)', with 'is the disk full?' only when the error says so."""
    full = isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
    return f"{what} failed{when} ({exc}){'; is the disk full?' if full else ''}"


class VideoRecorder:
    """Writes BGR frames to an H.264 MP4, with the audio of a source file if asked.

    With ``fps`` the n-th frame written is shown at n / fps (a file rendered frame for
    frame). Live recordings pass each frame's capture time instead, so dropped
    frames keep the clock right.

    ``audio_source`` (the file being rendered) adds that file's audio track, in sync: the
    first frame written is the source's first frame, so the source's time at its first
    video frame becomes the recording's 0. The audio is copied packet for packet when MP4
    players take its codec, else re-encoded to AAC. It is muxed as the video advances and
    ends with the last frame written, so a render stopped early stays in step.

    ``microphone`` (live recordings) adds its sound as AAC: the recorder starts it, lays
    each block at its capture time on the frames' clock (silence where samples are
    missing, before the microphone started included), muxes it as the frames are
    written, and stops it in close(), which ends the sound with the last frame.
    """

    # Audio codecs copied as they are; others (PCM, Vorbis, ...) are re-encoded to AAC.
    COPY_AUDIO_CODECS = frozenset({"aac", "mp3", "opus", "flac", "alac", "ac3", "eac3"})

    def __init__(
        self,
        path: Path,
        size: tuple[int, int],
        fps: float,
        crf: int = 20,
        *,
        audio_source: Path | None = None,
        fragmented: bool = False,
        microphone: Microphone | None = None,
    ) -> None:
        self.path = Path(path)
        self._format = container_of(self.path)
        check_writable(self.path)
        # A render is written under a partial name and renamed into place once finished, so
        # the name never holds half a file (nor loses the file it replaces, with --overwrite,
        # to a render that fails). Live recordings are fragmented and written in place: what
        # reached the disk plays, whatever stops camfx.
        self._writing = self.path if fragmented else _partial_name(self.path)
        # yuv420p needs even sizes, and at least 2x2
        self.size = (max(2, size[0] - size[0] % 2), max(2, size[1] - size[1] % 2))
        self.fps = fps
        self.audio_source = None if audio_source is None else Path(audio_source)
        self.frames_written = 0
        self._rate = Fraction(fps).limit_denominator(1001)
        self._first_time: float | None = None
        self._last_pts = -1
        self._container = None
        self._file = None
        self._failed = False  # a frame could not be written (and the user was told)
        self._stream = None
        self._crf = crf
        # A fragmented MP4 is playable up to its last fragment even if camfx never gets
        # to finish it (power cut, disk full, kill -9). Live recordings use it: they
        # cannot be made again. Renders keep a classic MP4, whose edit list keeps
        # audio in sync when the source's streams start apart.
        self._fragmented = fragmented
        self._audio_input = None  # the source file, open while its audio is being muxed
        self._audio_stream = None  # the recording's audio stream
        self._audio_encoded = False  # re-encoded to AAC, rather than copied
        self._audio_items = None  # (start, end, packet or frame) in recording seconds
        self._audio_next: tuple | None = None  # read, not muxed yet: it ends after the video
        self._audio_end = Fraction(0)  # where the audio muxed so far ends, in seconds
        self._microphone = microphone
        self._mic_blocks: list = []  # captured, not muxed yet (they end after the video)
        self._mic_next = 0  # the recording's sample that the microphone's sound fills next

    def __enter__(self) -> VideoRecorder:
        import av

        try:
            # A fragment at least every second: a fragment holds its video, then its
            # audio, so a cut-off one loses both; at keyframes only (x264: every 250
            # frames) the sound of the first seconds would wait for the next keyframe.
            options = {
                "movflags": "frag_keyframe+empty_moov+default_base_moof",
                "frag_duration": "1000000",
            }
            fragment = self._fragmented and self._format != "matroska"
            self._file = _WatchedFile(self._writing)
            self._container = av.open(
                self._file, mode="w", format=self._format, options=options if fragment else {}
            )
        except (OSError, av.FFmpegError) as exc:
            if self._file is not None:
                self._file.close()
            if self._writing != self.path:
                self._writing.unlink(missing_ok=True)
            raise CamfxError(f"cannot record to {self.path}: {exc}") from None
        stream = self._container.add_stream("libx264", rate=self._rate)
        stream.width, stream.height = self.size
        stream.pix_fmt = "yuv420p"
        # Say what the pixels are (BT.601, limited range), so players need not guess.
        context = stream.codec_context
        context.color_range, context.colorspace = 1, 6  # MPEG range; SMPTE 170M (BT.601)
        context.color_primaries, context.color_trc = 6, 6
        stream.options = {"crf": str(self._crf), "preset": "veryfast"}
        if self._fragmented:
            # A fragmented MP4 has no edit list to hide B-frames' reordering delay: its
            # first frame would show two frames late, behind the microphone's sound.
            stream.codec_context.max_b_frames = 0
        # A millisecond clock lets live frames carry their real capture times.
        stream.codec_context.time_base = Fraction(1, 1000)
        if self._fragmented:
            # A fragment ends at each keyframe: one every 2 s of frames keeps what a crash
            # loses short (x264's default, 250 frames, was 8 s).
            stream.codec_context.gop_size = max(1, round(2 * self._rate))
        self._stream = stream
        if self._microphone is not None:
            self._start_microphone()
        return self

    @_unbroken
    def write(self, image: np.ndarray, captured_at: float | None = None) -> None:
        import av

        # Audio is added on the first frame, before anything is muxed, and only to
        # renders: live frames (captured_at) have no source audio to follow.
        if self.frames_written == 0 and captured_at is None and self.audio_source is not None:
            self._open_audio()
        # OpenCV's BT.601 limited-range conversion, not swscale's default: that one
        # rounds every level down (mid-grey 128 came back as 126 from a lossless file).
        yuv = cv2.cvtColor(self._fit(image), cv2.COLOR_BGR2YUV_I420)
        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        if captured_at is None:
            pts = round(self.frames_written * 1000 / self._rate)
        else:
            if self._first_time is None:
                self._first_time = captured_at
            pts = max(self._last_pts + 1, round((captured_at - self._first_time) * 1000))
        frame.pts, frame.time_base = pts, Fraction(1, 1000)
        self._last_pts = pts
        try:
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
            self.frames_written += 1
            # The audio follows the video as it is written, not all at the end: the file
            # stays interleaved and close() only has the last fraction of a second to add.
            if self._microphone is not None:
                self._mux_microphone(Fraction(pts, 1000))
            else:
                self._mux_audio(self._video_end())
            self._file.check()
        except (OSError, av.FFmpegError) as exc:
            self._failed = True  # said here; closing will not say it again
            exc = self._file.error or exc  # FFmpeg's words for it are vaguer
            when = f" after {self.frames_written} frames"
            raise CamfxError(_failure(f"recording to {self.path}", exc, when)) from None

    def _fit(self, image: np.ndarray) -> np.ndarray:
        """The frame at the recording's size: cropped by the odd pixel yuv420p can't take,
        or scaled if the source changed size midway (a camera reconnected in another mode)."""
        w, h = self.size
        if image.shape[0] in (h, h + 1) and image.shape[1] in (w, w + 1):
            return np.ascontiguousarray(image[:h, :w])
        return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)

    @_unbroken
    def close(self) -> None:
        """Finish the file (playable after this) and put it in place under its name."""
        if self._container is None:
            return
        finished = False
        try:
            self._finish_file()
            finished = True
        except CamfxError:
            if not self._failed:
                raise
        finally:
            self._put_in_place(finished)

    def _put_in_place(self, finished: bool) -> None:
        if self._writing == self.path:
            return
        if finished:
            os.replace(self._writing, self.path)
        else:  # a classic MP4 that could not be finished has no index: it would not play
            self._writing.unlink(missing_ok=True)

    def _finish_file(self) -> None:
        """Flush the encoder and write the MP4 index."""
        import av

        try:
            try:
                self._finish_audio()
                self._finish_microphone()
            finally:
                for packet in self._stream.encode(None):
                    self._container.mux(packet)
        except (OSError, av.FFmpegError) as exc:
            raise CamfxError(_failure(f"finishing {self.path}", self._file.error or exc)) from None
        finally:
            self._close_audio_input()
            self._stop_microphone()
            container, self._container = self._container, None
            try:
                try:
                    container.close()
                    self._file.check()
                finally:
                    self._file.close()
            except (OSError, av.FFmpegError) as exc:
                error = self._file.error or exc
                raise CamfxError(_failure(f"finishing {self.path}", error)) from None

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def audio_muxed_until(self) -> float:
        """Seconds of audio handed to the muxer so far (0 for a recording without audio)."""
        return float(self._audio_end)

    # -- audio ----------------------------------------------------------------------------
    def _video_end(self) -> Fraction:
        """Where the last frame written ends, in seconds (frames are 1 / fps apart)."""
        return self.frames_written / self._rate

    def _open_audio(self) -> None:
        """Add an audio stream fed from ``audio_source``, if that file has audio."""
        import av

        try:
            source = av.open(str(self.audio_source))
        except (OSError, av.FFmpegError) as exc:
            self._warn(f"recording without audio: cannot read {self.audio_source}: {exc}")
            return
        self._audio_input = source
        audio = source.streams.best("audio")
        if audio is None:
            self._close_audio_input()
            return
        # The recording's 0 is the source's first video frame, which need not be at 0 nor
        # where the audio starts (an MPEG-TS clock, an edit list, a late audio track).
        video = source.streams.best("video")
        zero = Fraction(0)
        if video is not None and video.start_time is not None:
            zero = video.start_time * video.time_base
        if audio.codec_context.codec.canonical_name in self.COPY_AUDIO_CODECS:
            self._audio_stream = self._container.add_stream_from_template(audio)
            self._audio_items = self._copied_audio(source, audio, zero)
        else:
            self._audio_stream = self._add_aac_stream(audio)
            self._audio_encoded = True
            self._audio_items = self._encoded_audio(source, audio, zero)

    def _add_aac_stream(self, source_stream):
        import av

        rate = source_stream.codec_context.sample_rate
        if rate not in av.Codec("aac", "w").audio_rates:
            rate = 48000
        # Mono stays mono; anything else becomes stereo (AAC takes only some layouts).
        layout = "mono" if source_stream.codec_context.channels == 1 else "stereo"
        stream = self._container.add_stream("aac", rate=rate)
        stream.layout = layout
        stream.bit_rate = 96_000 * stream.codec_context.channels
        return stream

    def _copied_audio(self, source, stream, zero: Fraction):
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

    def _encoded_audio(self, source, stream, zero: Fraction):
        """Yield (start, end, frame): the source's audio decoded and converted for the AAC
        encoder, with pts counted in samples from the recording's 0."""
        import av

        out = self._audio_stream.codec_context
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
                        frame = self._audio_slice(frame, -frame.pts, frame.samples)
                        frame.pts = 0
                    if at > 0:
                        yield Fraction(frame.pts, rate), Fraction(at, rate), frame

    def _mux_audio(self, until: Fraction, final: bool = False) -> None:
        """Mux the audio that ends by ``until`` (the video's end so far); with ``final``, also
        the piece that straddles it: whole if copied, cut to it if re-encoded."""
        import av

        while self._audio_items is not None:
            if self._audio_next is None:
                try:
                    self._audio_next = next(self._audio_items, None)
                except (av.FFmpegError, ValueError) as exc:
                    # A damaged source ends the sound there rather than the recording.
                    self._warn(f"audio of {self.audio_source} ends early: {exc}")
                if self._audio_next is None:
                    self._close_audio_input()
                    return
            start, end, item = self._audio_next
            if end > until and not (final and start < until):
                return
            self._audio_next = None
            self._audio_end = max(self._audio_end, min(end, until))
            if isinstance(item, av.Packet):
                item.stream = self._audio_stream
                self._container.mux(item)
                continue
            if end > until:
                item = self._audio_slice(item, 0, round((until - start) * item.sample_rate))
            for packet in self._audio_stream.encode(item):
                self._container.mux(packet)

    def _finish_audio(self) -> None:
        """Mux the audio up to the end of the last frame, and flush the AAC encoder."""
        if self._audio_stream is None:
            return
        self._mux_audio(self._video_end(), final=True)
        if self._audio_encoded:
            for packet in self._audio_stream.encode(None):
                self._container.mux(packet)

    def _close_audio_input(self) -> None:
        self._audio_items = self._audio_next = None
        if self._audio_input is not None:
            self._audio_input.close()
            self._audio_input = None

    # -- microphone -----------------------------------------------------------------------
    def _start_microphone(self) -> None:
        mic = self._microphone
        stream = self._container.add_stream("aac", rate=mic.rate)
        stream.layout = "mono" if mic.channels == 1 else "stereo"
        stream.bit_rate = 96_000 * mic.channels
        self._audio_stream = stream
        try:
            mic.__enter__()
        except BaseException:
            # No recording at all rather than one without the sound that was asked for.
            container, self._container = self._container, None
            container.close()
            self.path.unlink(missing_ok=True)
            raise

    def _mux_microphone(self, until: Fraction) -> None:
        """Encode the microphone's sound up to ``until`` (seconds on the recording's clock)."""

        if self._first_time is None:
            return
        rate = self._microphone.rate
        self._mic_blocks += self._microphone.blocks()
        limit = int(until * rate)
        while self._mic_blocks and self._mic_next < limit:
            block = self._mic_blocks[0]
            at = round((block.start - self._first_time) * rate)
            samples = block.samples
            if at < self._mic_next:  # before the recording began, or already covered
                samples = samples[:, self._mic_next - at :]
                at = self._mic_next
            if not samples.shape[1]:
                self._mic_blocks.pop(0)
                continue
            if at > self._mic_next:  # nothing was captured here: silence
                gap = min(at, limit) - self._mic_next
                samples, at = np.zeros((samples.shape[0], gap), np.float32), self._mic_next
            else:
                take = min(samples.shape[1], limit - at)
                if take == block.samples.shape[1]:
                    self._mic_blocks.pop(0)
                samples = samples[:, :take]
            self._encode_microphone(samples, at)

    def _encode_microphone(self, samples: np.ndarray, at: int) -> None:
        """Encode (channels, n) float samples as the recording's samples at..at + n."""
        import av

        rate = self._microphone.rate
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples), format="fltp", layout=self._audio_stream.layout
        )
        frame.sample_rate, frame.pts, frame.time_base = rate, at, Fraction(1, rate)
        for packet in self._audio_stream.encode(frame):
            self._container.mux(packet)
        self._mic_next = at + samples.shape[1]
        self._audio_end = Fraction(self._mic_next, rate)

    def _finish_microphone(self) -> None:
        """Stop the microphone, add its sound up to the end of the last frame, flush AAC."""
        if self._microphone is None:
            return
        self._stop_microphone()
        if self._first_time is not None:
            end = Fraction(self._last_pts, 1000) + 1 / self._rate
            self._mux_microphone(end)
            # What was still on its way from the device (its latency) ends as silence.
            missing = int(end * self._microphone.rate) - self._mic_next
            if missing > 0:
                silence = np.zeros((self._microphone.channels, missing), np.float32)
                self._encode_microphone(silence, self._mic_next)
        for packet in self._audio_stream.encode(None):
            self._container.mux(packet)

    def _stop_microphone(self) -> None:
        if self._microphone is not None:
            self._microphone.close()

    @staticmethod
    def _audio_slice(frame, begin: int, stop: int):
        """Samples begin..stop of a planar audio frame, as a new frame with the same pts."""
        import av

        samples = np.ascontiguousarray(frame.to_ndarray()[:, begin:stop])
        part = av.AudioFrame.from_ndarray(samples, format=frame.format.name, layout=frame.layout)
        part.sample_rate, part.pts, part.time_base = frame.sample_rate, frame.pts, frame.time_base
        return part

    @staticmethod
    def _warn(message: str) -> None:
        import logging

        logging.getLogger(__name__).warning("%s", message)
