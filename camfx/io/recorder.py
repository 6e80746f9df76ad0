"""Recordings: H.264 MP4 files, with the source's audio when rendering a file, or a
microphone's (camfx.io.audio) when recording live.

PyAV (FFmpeg's libraries, shipped in the wheel) writes H.264 into MP4 without an
ffmpeg binary on the user's machine, and copies audio packets as they are. Beside this
writer: camfx.io.recording_sound (the sound muxed with the frames),
camfx.io.output_paths (the output policy: names, checks, snapshots) and
camfx.io.guarded_file (the file written, guarded against lost errors and Ctrl+C).
camfx.io.sinks wraps the recorder as a sink, beside the window and the virtual camera.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import av
import cv2
import numpy as np

from camfx.errors import CamfxError
from camfx.io.guarded_file import WatchedFile, failure, unbroken
from camfx.io.output_paths import check_writable, container_of, partial_name
from camfx.io.recording_sound import MicrophoneSound, SourceSound

if TYPE_CHECKING:
    from camfx.io.audio import Microphone


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
        self._writing = self.path if fragmented else partial_name(self.path)
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
        self._microphone = microphone
        self._source_sound: SourceSound | None = None  # a render's: its input file's sound
        self._mic_sound: MicrophoneSound | None = None  # a live recording's microphone

    def __enter__(self) -> VideoRecorder:
        try:
            # A fragment at least every second: a fragment holds its video, then its
            # audio, so a cut-off one loses both; at keyframes only (x264: every 250
            # frames) the sound of the first seconds would wait for the next keyframe.
            options = {
                "movflags": "frag_keyframe+empty_moov+default_base_moof",
                "frag_duration": "1000000",
            }
            fragment = self._fragmented and self._format != "matroska"
            self._file = WatchedFile(self._writing)
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

    @unbroken
    def write(self, image: np.ndarray, captured_at: float | None = None) -> None:
        # Audio is added on the first frame, before anything is muxed, and only to
        # renders: live frames (captured_at) have no source audio to follow.
        if self.frames_written == 0 and captured_at is None and self.audio_source is not None:
            self._source_sound = SourceSound.open(self._container, self.audio_source)
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
            if self._mic_sound is not None and self._first_time is not None:
                self._mic_sound.mux(Fraction(pts, 1000), self._first_time)
            elif self._source_sound is not None:
                self._source_sound.mux(self._video_end())
            self._file.check()
        except (OSError, av.FFmpegError) as exc:
            self._failed = True  # said here; closing will not say it again
            exc = self._file.error or exc  # FFmpeg's words for it are vaguer
            when = f" after {self.frames_written} frames"
            raise CamfxError(failure(f"recording to {self.path}", exc, when)) from None

    def _fit(self, image: np.ndarray) -> np.ndarray:
        """The frame at the recording's size: cropped by the odd pixel yuv420p can't take,
        or scaled if the source changed size midway (a camera reconnected in another mode)."""
        w, h = self.size
        if image.shape[0] in (h, h + 1) and image.shape[1] in (w, w + 1):
            return np.ascontiguousarray(image[:h, :w])
        return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)

    @unbroken
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
        try:
            try:
                if self._source_sound is not None:
                    self._source_sound.finish(self._video_end())
                if self._mic_sound is not None:
                    end = None  # no frame written: no sound either
                    if self._first_time is not None:
                        end = Fraction(self._last_pts, 1000) + 1 / self._rate
                    self._mic_sound.finish(end, self._first_time)
            finally:
                for packet in self._stream.encode(None):
                    self._container.mux(packet)
        except (OSError, av.FFmpegError) as exc:
            raise CamfxError(failure(f"finishing {self.path}", self._file.error or exc)) from None
        finally:
            if self._source_sound is not None:
                self._source_sound.close()
            if self._mic_sound is not None:
                self._mic_sound.close()
            container, self._container = self._container, None
            try:
                try:
                    container.close()
                    self._file.check()
                finally:
                    self._file.close()
            except (OSError, av.FFmpegError) as exc:
                error = self._file.error or exc
                raise CamfxError(failure(f"finishing {self.path}", error)) from None

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def audio_muxed_until(self) -> float:
        """Seconds of audio handed to the muxer so far (0 for a recording without audio)."""
        sound = self._mic_sound or self._source_sound
        return 0.0 if sound is None else float(sound.muxed_until)

    def _video_end(self) -> Fraction:
        """Where the last frame written ends, in seconds (frames are 1 / fps apart)."""
        return self.frames_written / self._rate

    def _start_microphone(self) -> None:
        self._mic_sound = MicrophoneSound(self._container, self._microphone)
        try:
            self._mic_sound.start()
        except BaseException:
            # No recording at all rather than one without the sound that was asked for.
            container, self._container = self._container, None
            container.close()
            self.path.unlink(missing_ok=True)
            raise
