"""Does a live recording's microphone sound stay with its picture over minutes?

Records `--seconds` of 30 fps frames with the microphone on, through a private PulseAudio
server whose null sink plays a tone every `--every` seconds (tests/audio_sync.py: the
same rig as tests/test_microphone.py, longer), then decodes the MP4 and prints, for each
tone, where it sounds against the frame captured as it played. The loopback's own delay
is the first tone's offset; what matters is that later tones keep it (drift).

    python scripts/check_audio_sync.py --seconds 60 --every 5

Needs pulseaudio, libportaudio2 and libasound2-plugins (Debian packages).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.audio_sync import FPS, null_sink_server, record_tones


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--every", type=float, default=5.0)
    parser.add_argument("--keep", type=Path, help="keep the recording here")
    args = parser.parse_args()
    onsets = [1.0 + i * args.every for i in range(int((args.seconds - 1.5) // args.every) + 1)]
    with tempfile.TemporaryDirectory() as scratch, null_sink_server():
        out = args.keep or Path(scratch) / "sync.mp4"
        tones = record_tones(out, args.seconds + 0.5, onsets)
    first = tones[0].tone - tones[0].exact
    header = ("at (s)", "tone - its frame (ms)", "tone - exact (ms)", "drift (ms)")
    print(" ".join(f"{h:>{w}}" for h, w in zip(header, (8, 22, 18, 11), strict=True)))
    worst = 0.0
    for t in tones:
        drift = (t.tone - t.exact) - first
        worst = max(worst, abs(drift))
        print(
            f"{t.exact:8.2f} {(t.tone - t.frame) * 1000:22.1f} "
            f"{(t.tone - t.exact) * 1000:18.1f} {drift * 1000:11.1f}"
        )
    frame_ms = 1000 / FPS
    verdict = "within" if worst < 1 / FPS else "NOT within"
    print(
        f"largest drift {worst * 1000:.1f} ms over {args.seconds:.0f} s: {verdict} one frame "
        f"({frame_ms:.1f} ms)"
    )
    return 0 if worst < 1 / FPS else 1


if __name__ == "__main__":
    sys.exit(main())
