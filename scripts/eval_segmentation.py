"""Score the person segmenters and mask settings: real people, and paintings.

    CAMFX_MODELS=../shared/models python scripts/eval_segmentation.py --shared ../shared \
        --skip-fits --first-only --segmenters selfie-pair selfie+selfie-landscape@mean \
        selfie:track+selfie-landscape@mean selfie-landscape selfie deeplab \
        --real-settings default raw no-colour

Real part (../shared/eval/real, scored by its README's rules: ignore masks, boundary F
at 3 px): photos fed as a still camera would (the same frame 12 times, the last
scored), clips in order (every frame scored), and the chroma-keyed woman of
portrait_720.mp4 over photos of empty rooms at 1280x720. Per source and segmenter:
mean IoU, boundary F, worst item and worst frame, halo (the mean mask 4-40 px outside
the person), flicker (mean change of the mask where the truth did not change) and ms
per frame; how often the mask jumps on real webcam footage with a held guitar (no
truth: media/guitar_320.mp4); then the segmenters' cost on the same 720p frames,
taking turns. --quick scores a subset, for iterating.

Conditions part: the real sources (--sources) as a webcam would give them in a dim,
bright or warm room, with motion blur, a small sensor or heavy compression, or framed
by a phone held upright or a 4:3 camera (camfx_eval.conditions; --conditions picks):
per segmenter, source and condition, the real part's figures, the mean IoU's loss
against the clean footage and the scored frames under 0.85.

Painted part: the keyed woman over paintings, still and panning, plus a still stretch
with camera noise (flicker), per segmenter and mask setting. Nothing is written unless
--pictures DIR is given (worst frames of stills and rooms: frame | truth | mask |
errors; never of the DAVIS clips, which may not be published).

Segmenters are named as for camfx (--segmenter), with a fit ("deeplab:tile") or
combined by a rule of camfx.models.segmentation.combine ("deeplab+selfie-landscape@mean");
"selfie-pair-pose/light" is that segmenter in its light mode (live, behind the camera).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path

import cv2
import numpy as np

from camfx.core.effects.runner import person_mask
from camfx.models.segmentation import FITS, SEGMENTERS, Lightens, create_segmenter
from camfx.models.segmentation.combine import CombinedSegmenter
from camfx.models.style import create_stylizer, resolve_style
from camfx.vision.compositing import CleanPlate, composite, remove_person
from camfx.vision.imaging import halve
from camfx.vision.refine import RAW, MaskRefiner, MaskSettings
from camfx_eval import newcomers, real_eval
from camfx_eval.conditions import CONDITIONS, under
from camfx_eval.evaluation import build_clips, evaluate, ghost_ratio

BACKGROUNDS = {"starry": "style19.jpg", "wave": "style24.jpg", "kandinsky": "style5.jpg"}
DEFAULT = MaskSettings()
SETTINGS = {
    "raw": RAW,  # the model only
    "default": DEFAULT,
    "no-smoothing": replace(DEFAULT, smoothing=0.0),
    "no-colour": replace(DEFAULT, colour=False),
    "no-guided": replace(DEFAULT, guided=False),
    "no-blobs": replace(DEFAULT, min_blob=0.0),
    "no-persistence": replace(DEFAULT, persistence=False),
}


def masker_factory(segmenter, settings: MaskSettings):
    def make():
        segmenter.reset()  # each clip is a new stream, as when camfx starts on it
        refiner = MaskRefiner(segmenter.tuned(settings))

        def segment(image):  # as camfx live (Effect.segment): one half-size frame shared
            half = halve(image) if refiner.uses_frame else None
            return person_mask(segmenter, refiner, image, half)

        return segment

    return make


def row(name: str, scores) -> str:
    moving = [s for k, s in scores.items() if k != "still"]
    iou = np.mean([s.iou for s in moving])
    bf = np.mean([s.boundary_f for s in moving])
    around = np.mean([s.halo for s in moving])
    ms = np.median([s.ms_per_frame for s in scores.values()])
    return (
        f"| {name} | {iou:.3f} | {bf:.3f} | {around:.3f} | {scores['moving'].iou:.3f} "
        f"| {scores['still'].flicker:.5f} | {ms:.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared"))
    parser.add_argument("--every", type=int, default=3, help="use every n-th video frame")
    parser.add_argument("--segmenters", nargs="+", default=list(SEGMENTERS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--parts", nargs="+", choices=("real", "conditions", "painted"),
                        default=["real", "conditions", "painted"],
                        help="which parts of the eval to run")
    parser.add_argument("--sources", nargs="+", choices=("stills", "clips", "rooms"),
                        default=["stills", "clips", "rooms"], help="real part: which sources")
    parser.add_argument("--real-settings", nargs="+", default=["default"],
                        choices=list(SETTINGS), metavar="SETTING",
                        help="real part: mask settings to score for the first segmenter "
                        f"({', '.join(SETTINGS)})")
    parser.add_argument("--conditions", nargs="+", default=[c.name for c in CONDITIONS],
                        choices=[c.name for c in CONDITIONS], metavar="CONDITION",
                        help="conditions part: which camera conditions (clean always; "
                        f"{', '.join(c.name for c in CONDITIONS)})")
    parser.add_argument("--quick", action="store_true",
                        help="a subset of the real footage, for iterating (not for the README)")
    parser.add_argument("--skip-fits", action="store_true", help="don't compare the fits")
    parser.add_argument("--skip-settings", action="store_true",
                        help="painted part: only the default mask settings")
    parser.add_argument("--first-only", action="store_true",
                        help="painted part: the settings' ablation for the first segmenter only")
    parser.add_argument("--pictures", type=Path, help="write comparison pictures to this folder")
    args = parser.parse_args()
    if "real" in args.parts:
        real_part(args)
    if "conditions" in args.parts:
        conditions_part(args)
    if "painted" in args.parts:
        painted_part(args)


def real_sources(args) -> dict:
    """Each source of the real part: a function giving its sequences afresh."""
    root = args.shared / "eval" / "real"
    return {
        "stills": lambda: real_eval.stills(root, args.quick),
        "clips": lambda: real_eval.clips(root, args.quick),
        "rooms": lambda: real_eval.rooms(root, args.shared / "media" / "portrait_720.mp4",
                                         args.quick),
    }


def real_part(args) -> None:
    """Real people with human-drawn masks, and the keyed woman over empty rooms."""
    root = args.shared / "eval" / "real"
    sources = real_sources(args)
    print(f"## Real people{' (quick subset)' if args.quick else ''}\n")
    print("| segmenter | source | items | frames | mean IoU | boundary F | worst item "
          "| worst frame | halo | flicker | ms median |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name in args.segmenters:
        segmenter = named_segmenter(name, args.threads)
        # Ablations of the mask settings for the first segmenter listed only.
        for setting in args.real_settings if name == args.segmenters[0] else ["default"]:
            label = name if setting == "default" else f"{name}, {setting}"
            make = masker_factory(segmenter, SETTINGS[setting])
            for source, items in sources.items():
                if source not in args.sources:
                    continue
                results = []
                for seq in items():
                    result = real_eval.run_sequence(seq, make())
                    results.append(result)
                    if args.pictures and seq.source != "clips":  # never DAVIS-derived
                        save_worst(args.pictures, label.replace(", ", "_"), seq, result)
                print(real_row(label, source, results), flush=True)
                if source == "clips" and setting == "default":  # what limits each clip
                    for result in results:
                        print(real_row(f"{label}: {result.name}", source, [result]), flush=True)
    print()
    if "rooms" in args.sources:
        newcomers_part(args, args.segmenters[0])
        held_object_part(args)
    step = 4 if args.quick else 2
    scenes = {
        # a webcam's framing: the keyed woman's head and shoulders over the rooms
        "close-up (rooms)": [f for seq in sources["rooms"]() for f in seq.frames][::step],
        # whole people moving, where the default's pose model runs: the clips at 720p
        "at a distance (clips at 720p)": list(
            islice(real_eval.distant_frames(root, args.quick), 0, None, step)),
    }
    for scene, frames in scenes.items():
        print(f"Cost of each segmenter on the same 720p frames, {scene}, taking turns frame "
              "by frame\n(segmentation + refinement, 2 threads; the shared CPU's moods hit "
              "them alike):\n")
        times = interleaved_times(frames, args.segmenters, args.threads)
        base = times[args.segmenters[0]][0]
        print(f"| segmenter | median ms | p90 ms | mean ms | x {args.segmenters[0]} |\n"
              "|---|---|---|---|---|")
        for name, (median, p90, mean) in times.items():
            print(f"| {name} | {median:.1f} | {p90:.1f} | {mean:.1f} | {median / base:.2f} |")
        print()


JUMP = 0.03  # of the frame's pixels, on average: a whole-mask change this large is a jump


def held_object_part(args) -> None:
    """A man at a desk playing a guitar (media/guitar_320.mp4, no truth), every frame:
    how often the whole mask jumps (the guitar going in and out of it), and how often
    the pose model's say comes and goes (its close-up gate)."""
    video = args.shared / "media" / "guitar_320.mp4"
    limit = 600 if args.quick else None  # of its 1689 frames
    print(f"A guitar held at a desk ({video.name}, every frame"
          f"{f' of the first {limit}' if limit else ''}, no truth): frames whose "
          f"mask changes by more than {JUMP} on average (jumps), the mean change a frame, "
          "and the frames the pose model had its say on / how often that switched:\n")
    print("| segmenter | frames | jumps | mean change | pose model on / switches |\n"
          "|---|---|---|---|---|")
    for name in args.segmenters:
        segmenter = named_segmenter(name, args.threads)
        masker = masker_factory(segmenter, DEFAULT)()
        capture = cv2.VideoCapture(str(video))
        changes, looked, previous = [], [], None
        while (frame := capture.read()[1]) is not None and len(looked) != limit:
            mask = masker(frame).copy()
            looked.append(getattr(segmenter, "looked", False))
            if previous is not None:
                changes.append(float(np.abs(mask - previous).mean()))
            previous = mask
        capture.release()
        switches = int(np.count_nonzero(np.diff(np.array(looked, int))))
        pose = f"{sum(looked)} / {switches}" if hasattr(segmenter, "looked") else "-"
        print(f"| {name} | {len(looked)} | {sum(c > JUMP for c in changes)} "
              f"| {np.mean(changes):.4f} | {pose} |", flush=True)
    print()


def newcomers_part(args, name: str) -> None:
    """Newcomers in a settled room (camfx_eval.newcomers): when a photo of people hung on
    the wall, a flash of it, and a person walking in show, against when the segmenter
    first read them (the same without the persistence step)."""
    parts = newcomers.load(args.shared)
    segmenter = named_segmenter(name, args.threads)

    def runner(settings: MaskSettings):
        def run(frames):
            masker = masker_factory(segmenter, settings)()
            return [masker(f) for f in frames]
        return run

    read_by = runner(replace(DEFAULT, persistence=False))
    print(f"Newcomers in a settled room, appearing {newcomers.APPEARS} frames in: the frame "
          "(after they appeared) the segmenter first read them and the mask first showed "
          "them; a flash: frames read / frames shown:\n")
    print("| setting | photo on the wall read / shown | flash read / shown "
          "| person walking in read / shown |\n|---|---|---|---|")
    for setting in args.real_settings:
        n = newcomers.measure(parts, runner(SETTINGS[setting]), read_by)
        print(f"| {name}, {setting} | {n.photo_read} / {n.photo_shown} "
              f"| {n.flash_read} / {n.flash_shown} | {n.walk_read} / {n.walk_shown} |", flush=True)
    with_it, without = persistence_cost(segmenter, newcomers.poster_frames(parts, 1 << 30))
    print(f"Refinement CPU ms a frame (process time, taking turns on the photo scene's "
          f"maps): {with_it:.2f} with the persistence step, {without:.2f} without\n")
    if args.pictures:
        frames = newcomers.poster_frames(parts, shown_for=len(parts.people))
        rows = {"without": read_by(frames), "with": runner(DEFAULT)(frames)}
        read = newcomers.first_over(newcomers.poster_shown(rows["without"]), newcomers.READ)
        picture = newcomers.strip(frames, rows, (read or newcomers.APPEARS) - 1, newcomers.EARN + 2)
        args.pictures.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(args.pictures / "newcomers.png"), picture)


def persistence_cost(segmenter, frames) -> tuple[float, float]:
    """Median CPU ms of the refinement with and without the persistence step, on the
    same maps, taking turns (process time: the shared machine's load hits it less)."""
    segmenter.reset()
    maps = [segmenter.probability_map(f) for f in frames]
    refiners = [MaskRefiner(segmenter.tuned(replace(DEFAULT, persistence=on)))
                for on in (True, False)]
    times: list[list[float]] = [[], []]
    for frame, prob in zip(frames, maps, strict=True):
        for refiner, spent in zip(refiners, times, strict=True):
            started = time.process_time()
            refiner.refine(frame, prob)
            spent.append((time.process_time() - started) * 1000)
    return float(np.median(times[0])), float(np.median(times[1]))


def named_segmenter(name: str, threads: int):
    """A segmenter by name, with an optional fit ('deeplab:tile'), or several combined
    by a rule of camfx.models.segmentation.combine ('deeplab+selfie-landscape@logit');
    '/light': in its light mode (camfx.models.segmentation.Lightens)."""
    name, light, _ = name.partition("/light")
    if light:
        segmenter = named_segmenter(name, threads)
        if not isinstance(segmenter, Lightens):
            raise SystemExit(f"{name} has no light mode")
        segmenter.light = True
        return segmenter
    spec, _, rule = name.partition("@")
    members = []
    for part in spec.split("+"):
        part, _, fit = part.partition(":")
        members.append(create_segmenter(part, threads=threads, device="cpu", fit=fit or None))
    if len(members) == 1:
        return members[0]
    return CombinedSegmenter(members, rule or "logit", name=name)


def real_row(name: str, source: str, results) -> str:
    frames = [f for r in results for f in r.frames]
    # Stills: one scored frame an item; clips and rooms: every frame counts alike.
    iou = np.mean([f.iou for f in frames])
    bf = np.mean([f.boundary_f for f in frames])
    worst_item = min(results, key=lambda r: r.iou)
    worst_frame_of = min(results, key=lambda r: r.worst.iou)
    worst = worst_frame_of.worst
    ms = np.median([m for r in results for m in r.ms])
    return (
        f"| {name} | {source} | {len(results)} | {len(frames)} | {iou:.3f} | {bf:.3f} "
        f"| {worst_item.name} {worst_item.iou:.3f} "
        f"| {worst_frame_of.name}#{worst.index} {worst.iou:.3f} "
        f"| {np.mean([f.halo for f in frames]):.3f} "
        f"| {np.mean([r.flicker for r in results]):.5f} | {ms:.1f} |"
    )


def save_worst(folder: Path, name: str, seq, result) -> None:
    """frame | truth | prediction | error map of the item's worst frame."""
    worst = result.worst
    t = seq.scored.index(worst.index)
    picture = real_eval.error_picture(
        seq.frames[worst.index], seq.truths[t], result.worst_mask, seq.ignores[t],
        f"{name} {seq.name}#{worst.index} IoU {worst.iou:.3f}")
    folder.mkdir(parents=True, exist_ok=True)
    scale = 0.5 if picture.shape[1] > 2400 else 1.0
    picture = cv2.resize(picture, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(folder / f"{seq.source}_{seq.name}_{name}.png"), picture)


def interleaved_times(frames, names: list[str], threads: int
                      ) -> dict[str, tuple[float, float, float]]:
    """Median, 90th percentile and mean ms of each segmenter's masker, taking turns per
    frame (the mean too: a segmenter whose frames take turns between two costs has a
    median at one of them)."""
    running = {}
    for name in names:
        running[name] = masker_factory(named_segmenter(name, threads), DEFAULT)()
    times: dict[str, list[float]] = {name: [] for name in names}
    for frame in frames:
        for name, masker in running.items():
            started = time.perf_counter()
            masker(frame)
            times[name].append((time.perf_counter() - started) * 1000)
    return {name: (float(np.median(t)), float(np.percentile(t, 90)), float(np.mean(t)))
            for name, t in times.items()}


def conditions_part(args) -> None:
    """The real sources as a webcam in a dim, bright, warm... room would give them."""
    print(f"## Real people under camera conditions{' (quick subset)' if args.quick else ''}\n")
    conditions = [c for c in CONDITIONS if c.name == "clean" or c.name in args.conditions]
    for condition in conditions:
        print(f"- {condition.name}: {condition.what}")
    print("\n| segmenter, condition | source | items | frames | mean IoU | boundary F "
          "| worst item | worst frame | halo | flicker | ms median | vs clean | frames < 0.85 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in args.segmenters:
        make = masker_factory(named_segmenter(name, args.threads), DEFAULT)
        for source, items in real_sources(args).items():
            if source not in args.sources:
                continue
            sequences, clean = list(items()), None
            for condition in conditions:
                seen = [under(seq, condition) for seq in sequences]
                results = [real_eval.run_sequence(seq, make()) for seq in seen]
                iou = float(np.mean([f.iou for r in results for f in r.frames]))
                clean = iou if clean is None else clean
                worst = min(results, key=lambda r: r.worst.iou)
                if args.pictures and source != "clips":  # never DAVIS-derived
                    save_worst(args.pictures, f"{name}_{condition.name}",
                               seen[results.index(worst)], worst)
                below = sum(f.iou < 0.85 for r in results for f in r.frames)
                print(f"{real_row(f'{name}, {condition.name}', source, results)} "
                      f"{iou - clean:+.3f} | {below} |", flush=True)
    print()


def painted_part(args) -> None:
    """The keyed woman over paintings: still, panning, and a still stretch with noise."""
    pictures = {n: cv2.imread(str(args.shared / "styles" / f)) for n, f in BACKGROUNDS.items()}
    clips = build_clips(args.shared / "media" / "portrait_720.mp4", pictures, every=args.every)
    frames = sum(len(c.frames) for c in clips)
    print("## Painted backgrounds\n")
    print(f"{len(clips)} clips, {frames} frames at 1280x720: {', '.join(c.name for c in clips)}\n")
    header = (
        "| segmenter / setting | IoU | boundary F (3 px) | halo | IoU moving bg "
        "| flicker (still) | ms/frame |\n|---|---|---|---|---|---|---|"
    )

    if not args.skip_fits:
        print("Fitting a 16:9 frame into the model (no refinement):\n")
        print(header)
        for name in args.segmenters:
            for fit in FITS:
                segmenter = create_segmenter(name, threads=args.threads, device="cpu", fit=fit)
                print(
                    row(f"{name}, {fit}", evaluate(clips, masker_factory(segmenter, RAW))),
                    flush=True,
                )
        print()

    print("Mask settings (each segmenter's default fit):\n")
    print(header)
    for name in args.segmenters:
        segmenter = named_segmenter(name, args.threads)
        ablate = not args.skip_settings and (name == args.segmenters[0] or not args.first_only)
        for label, settings in (SETTINGS if ablate else {"default": DEFAULT}).items():
            scores = evaluate(clips, masker_factory(segmenter, settings))
            print(row(f"{name}, {label}", scores), flush=True)

    print("\nTime a 720p frame, segmentation and refinement with default settings, the")
    print("segmenters taking turns frame by frame (the machine's moods hit them alike):\n")
    print("| segmenter | median ms | p90 ms |\n|---|---|---|")
    for name, (median, p90) in frame_times(clips, args.segmenters, args.threads).items():
        print(f"| {name} | {median:.1f} | {p90:.1f} |")

    print("\nGhost of the person in the painted background (band 0-12 px outside the person")
    print("against > 40 px away, at the style's 384x384; 1.0 = no trace):\n")
    clip = next(c for c in clips if c.background is not None)
    ghost = measure_ghost(clip, create_segmenter("selfie", device="cpu"))
    print("| background painted from | ghost ratio |\n|---|---|")
    for label, ratio in ghost.ratios.items():
        print(f"| {label} | {ratio:.2f} |")
    if args.pictures:
        args.pictures.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(args.pictures / "ghost.png"), ghost.picture)
        cv2.imwrite(str(args.pictures / "segmenters.png"), segmenter_picture(clips))
        print(f"\npictures written to {args.pictures}")


def frame_times(clips, names: list[str], threads: int) -> dict[str, tuple[float, float]]:
    """Median and 90th percentile ms of each segmenter's masker over every clip's frames."""
    maskers = {}
    for name in names:
        segmenter = named_segmenter(name, threads)
        maskers[name] = masker_factory(segmenter, DEFAULT)
    times: dict[str, list[float]] = {name: [] for name in names}
    for clip in clips:
        running = {name: make() for name, make in maskers.items()}
        for frame in clip.frames:
            for name, masker in running.items():
                started = time.perf_counter()
                masker(frame.image)
                times[name].append((time.perf_counter() - started) * 1000)
    return {name: (float(np.median(t)), float(np.percentile(t, 90))) for name, t in times.items()}


@dataclass
class Ghost:
    ratios: dict[str, float]
    picture: np.ndarray  # the whole frame painted vs the clean plate, composited, side by side


def measure_ghost(clip, segmenter) -> Ghost:
    stylizer = create_stylizer(resolve_style("starry"), device="cpu")
    size = (stylizer.width, stylizer.height)
    refiner, plate = MaskRefiner(segmenter.tuned(MaskSettings())), CleanPlate()
    reference = stylizer.stylize(cv2.resize(clip.background, size, interpolation=cv2.INTER_AREA))
    ratios: dict[str, list[float]] = {
        "the whole frame (naive)": [],
        "the frame, person removed": [],
        "the clean plate (camfx)": [],
    }
    for frame in clip.frames:
        mask = refiner.refine(frame.image, segmenter.probability_map(frame.image))
        small = cv2.resize(frame.image, size, interpolation=cv2.INTER_AREA)
        small_mask = cv2.resize(mask, size, interpolation=cv2.INTER_AREA)
        person = cv2.resize(frame.truth.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
        painted = {
            "the whole frame (naive)": stylizer.stylize(small),
            "the frame, person removed": stylizer.stylize(remove_person(small, small_mask)),
            "the clean plate (camfx)": stylizer.stylize(
                plate.update(small, small_mask), plain=plate.unseen),  # as camfx: fill ungrained
        }
        for label, picture in painted.items():
            ratios[label].append(ghost_ratio(picture, reference, person.astype(bool)))
    full = (clip.frames[-1].image.shape[1], clip.frames[-1].image.shape[0])
    shown = [
        composite(clip.frames[-1].image, cv2.resize(painted[k], full), mask)
        for k in ("the whole frame (naive)", "the clean plate (camfx)")
    ]
    picture = cv2.resize(np.hstack(shown), None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    return Ghost({k: float(np.mean(v)) for k, v in ratios.items()}, picture)


def segmenter_picture(clips) -> np.ndarray:
    """Frame, mask and result for each segmenter on the last frame of the moving clip,
    each having run through the clip before it, as camfx would have."""
    clip = next(c for c in clips if c.name == "moving")
    frame = clip.frames[-1].image
    stylizer = create_stylizer(resolve_style("starry"), device="cpu")
    small = (stylizer.width, stylizer.height)
    rows = []
    for name in SEGMENTERS:
        masker = masker_factory(create_segmenter(name, device="cpu"), DEFAULT)()
        for earlier in clip.frames[:-1]:
            masker(earlier.image)
        mask = masker(frame)
        plate = CleanPlate()
        filled = plate.update(cv2.resize(frame, small), cv2.resize(mask, small))
        painted = stylizer.stylize(filled, plain=plate.unseen)
        result = composite(frame, cv2.resize(painted, frame.shape[1::-1]), mask)
        grey = cv2.cvtColor(cv2.convertScaleAbs(mask, alpha=255), cv2.COLOR_GRAY2BGR)
        row = np.hstack([frame, grey, result])
        cv2.putText(row, name, (20, 50), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (255, 255, 255), 3)
        rows.append(cv2.resize(row, None, fx=0.3, fy=0.3, interpolation=cv2.INTER_AREA))
    return np.vstack(rows)


if __name__ == "__main__":
    main()
