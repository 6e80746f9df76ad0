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

Then, flat walls ("Flat walls", camfx_eval/brushwork.py): the flat pixels of a photo of
a near-uniform wall (home_office_wall.jpg at 216x384) and of portrait_720.mp4's plain wall
(its first frame at 384x384, the person and 24 px around left out), painted as the network
does by itself and with camfx's grain (camfx.models.style.FlatGrain): the brush-stroke
ratio (textured rooms ~0.75-0.9, a lattice ~0.5 or less) and the 4-px lattice share; on
two textured rooms the same ratio and how much the grain moved their painting; and the
ghost ratio with and without the grain.

--pictures DIR writes strips of consecutive painted frames and their difference maps,
and the flat walls painted without and with the grain;
--docs-strip FILE and --docs-flat FILE write the README's pictures (and nothing else):
camfx's output on portrait_720.mp4 itself (a real fixed camera), four consecutive frames
before and after, with difference maps; and its plain wall without and with the grain.
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
from camfx.vision.imaging import cover
from camfx.vision.refine import MaskRefiner, MaskSettings
from camfx.vision.stability import StabilityMeter, background_pixels, follow_delay, pan_ratios
from camfx.vision.steady import CameraMotion, SteadyBackground
from camfx_eval.brushwork import flat_pixels, lattice_share, stroke_ratio
from camfx_eval.evaluation import build_clips, ghost_levels, read_frames
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
    ratios: dict[str, list[tuple[float, float]]] = {
        "the clean plate (before)": [],
        "steady painting": [],
    }
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
            before = stylizer.stylize(plate.update(small, small_mask), plain=plate.unseen)
            after, _ = steady.update(small, small_mask, stylizer.stylize)
            for label, picture in zip(ratios, (before, after), strict=True):
                ratios[label].append(ghost_levels(picture, reference, person.astype(bool)))
    # (the mean ratio, as scripts/eval_segmentation.py; the mean levels near and away)
    return {
        k: (float(np.mean([n / a for n, a in v])), *np.mean(v, axis=0).tolist())
        for k, v in ratios.items()
    }


def real_clip(shared: Path, segmenter, threads: int, name: str) -> None:
    """portrait_720.mp4 itself (a fixed camera, a hand sweeping over a plain wall): the
    painting's change over the input's, painted every frame, steady with camera motion
    read from all the background (before), and steady as camfx paints it."""
    frames = read_frames(shared / "media" / "portrait_720.mp4")
    stylizer = create_stylizer(
        resolve_style("starry"), threads=threads, device="cpu", size=style_size(720, 720)
    )
    print(
        f"\nportrait_720.mp4 itself ({len(frames)} frames, 720x720, a real fixed camera), "
        f"segmenter {name}, style starry {stylizer.height}x{stylizer.width}:\n"
    )
    print("| painting | frame-to-frame (x input) | 30 apart (x input) |\n|---|---|---|")
    variants = {
        "every frame painted": (False, None),
        "steady, camera motion from all the background (before)": (True, 0.0),
        "steady (camfx)": (True, None),
    }
    for label, (steady, texture) in variants.items():
        segmenter.reset()
        effect = Effect(segmenter, stylizer, segmenter.tuned(MaskSettings()), steady=steady)
        if texture is not None:
            effect.painting.motion = CameraMotion(texture=texture, enough=0.0)
        meter = StabilityMeter()
        for index, frame in enumerate(frames):
            mask = effect.segment(frame)
            meter.add(index, frame, effect.background(frame, mask), mask)
        print(f"| {label} | {meter.step_ratio:.2f} | {meter.far_ratio:.2f} |", flush=True)


def flat_walls(shared: Path, segmenter, threads: int, pictures: Path | None) -> None:
    """The flat-wall figures (module docstring), without and with the grain."""
    rooms = shared / "eval" / "real" / "backgrounds"
    wall = cv2.imread(str(rooms / "home_office_wall.jpg"))
    portrait = read_frames(shared / "media" / "portrait_720.mp4", limit=1)[0]
    segmenter.reset()
    person = MaskRefiner(segmenter.tuned(MaskSettings())).refine(
        portrait, segmenter.probability_map(portrait)
    )
    cases = {  # name: (picture, painting size, pixels counted as wall or None)
        "home_office_wall.jpg": (wall, style_size(1280, 720), None),
        "portrait_720.mp4's wall": (portrait, style_size(720, 720), person),
        "living_room.jpg (textured)": (
            cv2.imread(str(rooms / "living_room.jpg")),
            style_size(1280, 720),
            None,
        ),
        "bookshelf.jpg (textured)": (
            cv2.imread(str(rooms / "bookshelf.jpg")),
            style_size(1280, 720),
            None,
        ),
    }
    print(
        "\nFlat walls (style starry; brush-stroke ratio: textured rooms ~0.75-0.9, a lattice "
        "~0.5 or less; lattice share: of the fine detail, what repeats every 4 px):\n"
    )
    print(
        "| picture | pixels | network alone: strokes / lattice | with the grain: strokes / "
        "lattice | painting moved by the grain (levels) |\n|---|---|---|---|---|"
    )
    stylizers = {
        size: [
            create_stylizer(
                resolve_style("starry"), threads=threads, device="cpu", size=size, grain=grain
            )
            for grain in (False, True)
        ]
        for size in {case[1] for case in cases.values()}
    }
    for name, (picture, size, mask) in cases.items():
        small = cover(picture, (size[1], size[0]), cv2.INTER_AREA)
        textured = "textured" in name
        where = np.ones(size, bool) if textured else flat_pixels(small)
        if mask is not None:
            where &= background_pixels(cv2.resize(mask, (size[1], size[0])), margin=24)
        plain, grained = (s.stylize(small) for s in stylizers[size])
        moved = float(cv2.absdiff(plain, grained)[where].mean())
        figures = [
            f"{stroke_ratio(p, where):.2f} / {lattice_share(p, where):.3f}"
            for p in (plain, grained)
        ]
        kind = "all" if textured else f"flat, {where.mean():.0%}"
        print(f"| {name} | {kind} | {figures[0]} | {figures[1]} | {moved:.1f} |", flush=True)
        if pictures:
            pictures.mkdir(parents=True, exist_ok=True)
            stem = name.split(" ")[0].split(".")[0].replace("'s", "")
            cv2.imwrite(str(pictures / f"flat-{stem}.png"), np.hstack([small, plain, grained]))


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


def docs_flat(shared: Path, segmenter, path: Path, index: int = 0) -> None:
    """portrait_720.mp4's plain wall as camfx shows it, the network alone (top) and with
    the grain (bottom): the frame, and the wall at its upper right twice as large."""
    frame = read_frames(shared / "media" / "portrait_720.mp4", limit=index + 1)[index]
    rows = []
    for grain in (False, True):
        stylizer = create_stylizer(
            resolve_style("starry"), device="cpu", size=style_size(720, 720), grain=grain
        )
        segmenter.reset()
        effect = Effect(segmenter, stylizer, segmenter.tuned(MaskSettings()))
        mask = effect.segment(frame)
        shown = effect.composite(frame, mask, effect.background(frame, mask))
        whole = cv2.resize(shown, (360, 360), interpolation=cv2.INTER_AREA)
        wall = cv2.resize(shown[:180, 540:], (360, 360), interpolation=cv2.INTER_NEAREST)
        row = np.hstack([whole, wall])
        label = "with the grain (camfx)" if grain else "the network alone (before)"
        cv2.putText(row, label, (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 2)
        rows.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.vstack(rows), [cv2.IMWRITE_JPEG_QUALITY, 85])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared"))
    parser.add_argument("--room", default="living_room.jpg", help="from eval/real/backgrounds")
    parser.add_argument("--frames", type=int, default=90, help="frames per clip (30 fps)")
    parser.add_argument("--segmenter", default="deeplab")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--kinds", nargs="*", default=list(KINDS), choices=KINDS)
    parser.add_argument("--no-ghost", action="store_true", help="skip the ghost ratio")
    parser.add_argument("--no-flat", action="store_true", help="skip the flat-wall figures")
    parser.add_argument("--no-real", action="store_true", help="skip portrait_720.mp4 itself")
    parser.add_argument(
        "--no-grain", action="store_true", help="clips painted without the flat-wall grain"
    )
    parser.add_argument("--steady-only", action="store_true", help="skip painting every frame")
    parser.add_argument("--pictures", type=Path, help="write painted strips to this folder")
    parser.add_argument("--docs-strip", type=Path, help="write the README's picture (JPEG)")
    parser.add_argument(
        "--docs-flat", type=Path, help="write the README's flat-wall picture (JPEG)"
    )
    args = parser.parse_args()

    people = read_frames(args.shared / "media" / "portrait_720.mp4", limit=args.frames)
    room = cv2.imread(str(args.shared / "eval" / "real" / "backgrounds" / args.room))
    # The object: a shelf of books (no people in it, which the segmenter would take out).
    thing = cv2.imread(str(args.shared / "eval" / "real" / "backgrounds" / "bookshelf.jpg"))
    segmenter = create_segmenter(args.segmenter, threads=args.threads, device="cpu")
    if args.docs_strip or args.docs_flat:  # the README's pictures, and nothing else
        if args.docs_strip:
            docs_strip(args.shared, segmenter, args.docs_strip)
        if args.docs_flat:
            docs_flat(args.shared, segmenter, args.docs_flat)
        return
    stylizer = create_stylizer(
        resolve_style("starry"),
        threads=args.threads,
        device="cpu",
        size=style_size(1280, 720),
        grain=not args.no_grain,
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
    if not args.no_real:
        real_clip(args.shared, segmenter, args.threads, args.segmenter)
    if not args.no_flat:
        flat_walls(args.shared, segmenter, args.threads, args.pictures)
    if not args.no_ghost:
        print(
            "\nGhost ratio (as scripts/eval_segmentation.py: the starry and wave clips, "
            "the 216x384 painting, 1.0 = no trace), the network alone and with the grain:\n"
        )
        print(
            "| background painted from | network alone: ratio (levels near / away) | "
            "with the grain |\n|---|---|---|"
        )
        selfie = create_segmenter("selfie", threads=args.threads, device="cpu")
        alone, grained = (
            ghost(
                args.shared,
                selfie,
                create_stylizer(
                    resolve_style("starry"),
                    threads=args.threads,
                    device="cpu",
                    size=style_size(1280, 720),
                    grain=grain,
                ),
            )
            for grain in (False, True)
        )
        for label in alone:
            cells = [f"{r:.2f} ({n:.1f} / {a:.1f})" for r, n, a in (alone[label], grained[label])]
            print(f"| {label} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
