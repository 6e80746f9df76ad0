"""What muxing a render's audio costs at the end: close() time, memory, interleaving.

Renders `--seconds` of a small clip with a tone (PCM, re-encoded to AAC; or AAC, copied)
through VideoRecorder as `camfx --record` does, then prints how long close() took, the
peak resident memory before and after it, and the largest distance between audio and
video as the file is read in order (tests/test_recording_audio.py's measure).

    python scripts/measure_render_audio.py --seconds 600 --codec pcm_s16le
    git show 8acdabf:camfx/io/recorder.py > /tmp/old_outputs.py   # before the fix
    python scripts/measure_render_audio.py --seconds 600 --recorder /tmp/old_outputs.py
"""

from __future__ import annotations

import argparse
import importlib.util
import resource
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.test_recording_audio import largest_interleaving_gap

SIZE, FPS, RATE = (160, 120), 25, 48000


def make_clip(path: Path, seconds: int, codec: str) -> None:
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = *SIZE, "yuv420p"
        audio = out.add_stream(codec, rate=RATE)
        audio.layout = "stereo"
        black = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
        for i in range(seconds * FPS):
            frame = av.VideoFrame.from_ndarray(black, format="bgr24")
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            for packet in video.encode(frame):
                out.mux(packet)
        second = 0.3 * np.sin(2 * np.pi * 440 * np.arange(RATE) / RATE)
        tone = np.tile(second.astype(np.float32), (2, 1))
        for s in range(seconds):
            for at in range(0, RATE, 1024):
                chunk = np.ascontiguousarray(tone[:, at : at + 1024])
                frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
                frame.sample_rate, frame.pts = RATE, s * RATE + at
                frame.time_base = Fraction(1, RATE)
                for packet in audio.encode(frame):
                    out.mux(packet)
        for stream in (audio, video):
            for packet in stream.encode(None):
                out.mux(packet)


def recorder_class(path: Path | None):
    if path is None:
        from camfx.io.recorder import VideoRecorder

        return VideoRecorder
    spec = importlib.util.spec_from_file_location("recorder_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.VideoRecorder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--codec", default="pcm_s16le", help="pcm_s16le (re-encoded) or aac")
    parser.add_argument("--recorder", type=Path, help="an outputs.py to measure instead")
    args = parser.parse_args()
    recorder = recorder_class(args.recorder)
    with tempfile.TemporaryDirectory() as scratch:
        clip, out = Path(scratch) / "clip.mkv", Path(scratch) / "out.mp4"
        make_clip(clip, args.seconds, args.codec)
        black = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
        writer = recorder(out, SIZE, FPS, audio_source=clip).__enter__()
        started = time.perf_counter()
        for _ in range(args.seconds * FPS):
            writer.write(black)
        written = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        writer.close()
        closed = time.perf_counter()
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        gap = largest_interleaving_gap(out)
    print(
        f"{args.seconds} s, {args.codec}: frames written in {written - started:.1f} s, "
        f"close() {closed - written:.2f} s, peak RSS {before:.0f} MB before close, "
        f"{after:.0f} MB after; audio and video up to {gap:.2f} s apart in the file"
    )


if __name__ == "__main__":
    main()
