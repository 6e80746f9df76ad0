"""A 720p clip of a person moving in front of a still room, for `camfx bench`.

    python scripts/make_desk_clip.py --shared ../shared --out /tmp/desk_720.mp4
    CAMFX_MODELS=../shared/models camfx bench --input /tmp/desk_720.mp4 --seconds 8

`camfx bench --input ../shared/media/portrait_720.mp4` stretches a square clip to
1280x720: the woman comes out 1.8x as wide as she is, wider than any webcam shows a
person, and the selfie model's tracking window needs two runs for her on every turn.
This keys her (the clip's plain blue wall) over a photo of an empty room from
``../shared/eval/real/backgrounds`` at 1280x720, in her own proportions, every frame at
the clip's rate: the scene issue 13's CPU target describes. The clip is written where
``--out`` says, never into the project (the room photos are for evaluation only).

``--distant`` writes people seen at a distance instead (where the default's pose model
runs): the eval's real clips scaled to 1280x720, one after another, twice over (about
20 s at 25 fps). They may not be published either.

    python scripts/make_desk_clip.py --shared ../shared --distant --out /tmp/distant_720.mp4
"""

from __future__ import annotations

import argparse
from itertools import chain, islice
from pathlib import Path

import av

from camfx_eval.real_eval import desk_frames, distant_frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared"))
    parser.add_argument("--room", default="living_room",
                        help="a photo's name in eval/real/backgrounds (default living_room)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/desk_720.mp4"))
    parser.add_argument("--frames", type=int, help="only the first N frames")
    parser.add_argument("--distant", action="store_true",
                        help="the eval's clips of people at a distance, at 1280x720")
    args = parser.parse_args()
    if args.distant:
        root = args.shared / "eval" / "real"
        if not (root / "clips").is_dir():
            raise SystemExit(f"{root / 'clips'}: not found; give --shared the shared folder")
        twice = chain(distant_frames(root), distant_frames(root))
        write(args.out, 25, islice(twice, args.frames))  # None: every frame
        return
    person = args.shared / "media" / "portrait_720.mp4"
    room = args.shared / "eval" / "real" / "backgrounds" / f"{args.room}.jpg"
    for needed in (person, room):
        if not needed.is_file():
            raise SystemExit(f"{needed}: not found; give --shared the shared folder and "
                             "--room a photo's name in eval/real/backgrounds")
    with av.open(str(person)) as source:
        rate = source.streams.video[0].average_rate or 25
    write(args.out, rate, desk_frames(person, room, (1280, 720), args.frames), args.room)


def write(path: Path, rate, frames, what: str = "people at a distance") -> None:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        stream.options = {"crf": "18"}  # close to the source: the room stays still
        count = 0
        for frame in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")))
            count += 1
        out.mux(stream.encode())
    print(f"{path}: {count} frames, 1280x720 at {float(rate):g} fps, {what}")


if __name__ == "__main__":
    main()
