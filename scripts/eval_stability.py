"""How still the painted background stays, and how fast it follows a real change.

    CAMFX_MODELS=../shared/models python scripts/eval_stability.py --shared ../shared

Builds 1280x720 clips from real footage (camfx_eval/stability_clips.py): the woman of
../shared/media/portrait_720.mp4, keyed, moving in front of a photo of a room, with
camera noise and an H.264 round trip (crf 18: the input changes ~0.7 levels a frame
where nothing moves, as a webcam's). Four clips: still (a fixed camera), pan (2 px
a frame), light (the room 25% darker halfway) and object (a picture appears in the
room halfway). Each is run through camfx's effect frame by frame (segmenter, clean
plate, painting), painting every frame afresh ("before") and with the steady
painting (camfx now), and prints:

* the painting's mean change over background pixels (the segmenter's mask grown by
  24 px left out), frame to frame and 30 frames apart, as a ratio to the input's;
* on the light and object clips, the frames until the painting has made 80% of the
  move it makes by the end, over the changed background;
* on the pan, the painting's frame-to-frame change once the last painting is moved
  with the camera (a painting attached to the room changes as little as the input
  does; a frozen one as much as the room's texture moving under it);
* network runs per frame, and the ghost ratio of scripts/eval_segmentation.py.

--pictures DIR writes strips of consecutive painted frames and their difference maps;
--docs-strip FILE writes the README's picture: camfx's output on portrait_720.mp4 itself
(a real fixed camera), four consecutive frames before and after, with difference maps.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from camfx.core.effects import Effect
from camfx.models.segmentation import create_segmenter
from camfx.models.style import create_stylizer, resolve_style, style_size
from camfx.vision.compositing import CleanPlate
from camfx.vision.refine import MaskRefiner, MaskSettings
from camfx.vision.stability import StabilityMeter, background_pixels, follow_delay, pan_ratios
from camfx.vision.steady import SteadyBackground
from camfx_eval.evaluation import build_clips, ghost_ratio, read_frames
from camfx_eval.stability_clips import build_clip

KINDS = ("still", "pan", "light", "object")
VARIANTS = {"every frame painted (before)": False, "steady painting (camfx)": True}


def run_clip(clip, segmenter, stylizer, steady: bool):
    """Segment and paint every frame in order; the paintings (half size), masks, figures."""
    segmenter.reset()
    effect = Effect(segmenter, stylizer, segmenter.tuned(MaskSettings()), steady=steady)
    meter = StabilityMeter()
    paintings, masks, runs = [], [], 0
    started = time.perf_counter()
    for index, frame in enumerate(clip.frames):
        mask = effect.segment(frame)
        before = effect.painting.repaints
        painted = effect.background(frame, mask)
        runs += 1 if not steady else effect.painting.repaints - before
        meter.add(index, frame, painted, mask)
        paintings.append(cv2.resize(painted, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA))
        masks.append(cv2.resize(mask, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA))
    ms = (time.perf_counter() - started) * 1000 / len(clip.frames)
    return paintings, masks, meter, runs / len(clip.frames), ms


def delay(clip, paintings, masks) -> int | None:
    region = cv2.resize(clip.region.astype(np.uint8), paintings[0].shape[1::-1]) > 0
    region &= background_pixels(masks[clip.change - 1]) & background_pixels(masks[-1])
    return follow_delay(paintings, region, clip.change)


def ghost(shared: Path, segmenter, stylizer) -> dict[str, float]:
    """The ghost ratio of scripts/eval_segmentation.py: per-frame clean plate vs steady."""
    pictures = {
        n: cv2.imread(str(shared / "styles" / f))
        for n, f in {"starry": "style19.jpg", "wave": "style24.jpg"}.items()
    }
    clips = [
        c
        for c in build_clips(shared / "media" / "portrait_720.mp4", pictures)
        if c.background is not None
    ]
    size = (stylizer.width, stylizer.height)
    ratios: dict[str, list[float]] = {"the clean plate (before)": [], "steady painting": []}
    for clip in clips:
        segmenter.reset()
        refiner, plate = MaskRefiner(segmenter.tuned(MaskSettings())), CleanPlate()
        steady = SteadyBackground()
        room = cv2.resize(clip.background, size, interpolation=cv2.INTER_AREA)
        reference = stylizer.stylize(room)
        for frame in clip.frames:
            mask = refiner.refine(frame.image, segmenter.probability_map(frame.image))
            small = cv2.resize(frame.image, size, interpolation=cv2.INTER_AREA)
            small_mask = cv2.resize(mask, size, interpolation=cv2.INTER_AREA)
            person = cv2.resize(frame.truth.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
            before = stylizer.stylize(plate.update(small, small_mask))
            after, _ = steady.update(small, small_mask, stylizer.stylize)
            for label, picture in zip(ratios, (before, after), strict=True):
                ratios[label].append(ghost_ratio(picture, reference, person.astype(bool)))
    return {k: float(np.mean(v)) for k, v in ratios.items()}


def strip(paintings: list[np.ndarray], start: int, count: int = 4, gain: float = 4.0) -> np.ndarray:
    """Consecutive paintings on top, their differences from the one before (x gain) below."""
    top = [paintings[start + i] for i in range(count)]
    diffs = [
        cv2.applyColorMap(
            cv2.convertScaleAbs(
                cv2.absdiff(paintings[start + i - 1], paintings[start + i]).max(axis=-1), alpha=gain
            ),
            cv2.COLORMAP_INFERNO,
        )
        for i in range(count)
    ]
    return np.vstack([np.hstack(top), np.hstack(diffs)])


def docs_strip(shared: Path, segmenter, path: Path, start: int = 100) -> None:
    """Four consecutive output frames of portrait_720.mp4, painted every frame (top) and
    steady (bottom), each with its difference from the frame before (x4) beneath it."""
    frames = read_frames(shared / "media" / "portrait_720.mp4", limit=start + 4)
    stylizer = create_stylizer(resolve_style("starry"), device="cpu", size=style_size(720, 720))
    rows = []
    for steady in (False, True):
        segmenter.reset()
        effect = Effect(segmenter, stylizer, segmenter.tuned(MaskSettings()), steady=steady)
        shown = []
        for frame in frames:
            mask = effect.segment(frame)
            shown.append(effect.composite(frame, mask, effect.background(frame, mask)))
        small = [cv2.resize(f, (270, 270), interpolation=cv2.INTER_AREA) for f in shown]
        block = strip(small, start)
        label = "steady painting (camfx)" if steady else "painted every frame (before)"
        cv2.putText(block, label, (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 2)
        rows.append(block)
    picture = np.vstack(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), picture, [cv2.IMWRITE_JPEG_QUALITY, 80])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared"))
    parser.add_argument("--room", default="living_room.jpg", help="from eval/real/backgrounds")
    parser.add_argument("--frames", type=int, default=90, help="frames per clip (30 fps)")
    parser.add_argument("--segmenter", default="deeplab")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument("--no-ghost", action="store_true", help="skip the ghost ratio")
    parser.add_argument("--steady-only", action="store_true", help="skip painting every frame")
    parser.add_argument("--pictures", type=Path, help="write painted strips to this folder")
    parser.add_argument("--docs-strip", type=Path, help="write the README's picture (JPEG)")
    args = parser.parse_args()

    people = read_frames(args.shared / "media" / "portrait_720.mp4", limit=args.frames)
    room = cv2.imread(str(args.shared / "eval" / "real" / "backgrounds" / args.room))
    # The object: a shelf of books (no people in it, which the segmenter would take out).
    thing = cv2.imread(str(args.shared / "eval" / "real" / "backgrounds" / "bookshelf.jpg"))
    segmenter = create_segmenter(args.segmenter, threads=args.threads, device="cpu")
    stylizer = create_stylizer(
        resolve_style("starry"), threads=args.threads, device="cpu", size=style_size(1280, 720)
    )
    print(
        f"room {args.room}, {len(people)} frames a clip at 1280x720, segmenter "
        f"{args.segmenter}, style starry {stylizer.height}x{stylizer.width}, "
        f"{args.threads} threads\n"
    )
    print(
        "| clip | painting | frame-to-frame (x input) | 30 apart (x input) | "
        "follows in (frames) | network runs/frame | ms/frame |\n|---|---|---|---|---|---|---|"
    )
    for kind in args.kinds:
        clip = build_clip(kind, people, room, thing=thing)
        for label, steady in VARIANTS.items():
            if args.steady_only and not steady:
                continue
            paintings, masks, meter, runs, ms = run_clip(clip, segmenter, stylizer, steady)
            levels = meter.levels()
            step = (
                f"{meter.step_ratio:.2f} ({levels['painting step']:.2f} / "
                f"{levels['input step']:.2f})"
            )
            far = (
                f"{meter.far_ratio:.2f} ({levels['painting far']:.2f} / {levels['input far']:.2f})"
            )
            follows = "-"
            if clip.change is not None:
                frames = delay(clip, paintings, masks)
                follows = "never" if frames is None else f"{frames} ({frames / clip.fps:.2f} s)"
            if clip.pan:
                halves = [
                    cv2.resize(f, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
                    for f in clip.frames
                ]
                moved, unmoved = pan_ratios(halves, paintings, masks, clip.pan // 2)
                step = f"{moved:.2f} moved with the camera, {unmoved:.2f} unmoved"
            print(
                f"| {kind} | {label} | {step} | {far} | {follows} | {runs:.2f} | {ms:.0f} |",
                flush=True,
            )
            if args.pictures:
                args.pictures.mkdir(parents=True, exist_ok=True)
                name = f"{kind}-{'steady' if steady else 'before'}"
                start = clip.change or 40
                cv2.imwrite(str(args.pictures / f"{name}.png"), strip(paintings, start))
    if not args.no_ghost:
        print(
            "\nGhost ratio (as scripts/eval_segmentation.py: the starry and wave clips, "
            "the 216x384 painting, 1.0 = no trace):\n"
        )
        print("| background painted from | ghost ratio |\n|---|---|")
        selfie = create_segmenter("selfie", threads=args.threads, device="cpu")
        for label, ratio in ghost(args.shared, selfie, stylizer).items():
            print(f"| {label} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
