"""Score the person segmenters and mask settings against exact ground truth.

    CAMFX_MODELS=../shared/models python scripts/eval_segmentation.py --shared ../shared

Builds 1280x720 clips by chroma-keying ../shared/media/portrait_720.mp4 (a woman
against a plain blue wall) and compositing her over paintings, still and panning,
plus a still stretch with camera noise; then prints, per segmenter and setting,
mean IoU, boundary F-score (3 px), flicker on the still stretch, and ms per frame
(segmentation and refinement). Nothing is written unless --pictures DIR is given.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from camfx.evaluation import build_clips, evaluate
from camfx.refine import RAW, MaskRefiner, MaskSettings
from camfx.segmentation import FITS, SEGMENTERS, create_segmenter

BACKGROUNDS = {"starry": "style19.jpg", "wave": "style24.jpg", "kandinsky": "style5.jpg"}
DEFAULT = MaskSettings()
SETTINGS = {
    "raw (model only)": RAW,
    "default": DEFAULT,
    "default, no smoothing": replace(DEFAULT, smoothing=0.0),
    "default, no guided filter": replace(DEFAULT, guided=False),
    "default, no blob removal": replace(DEFAULT, min_blob=0.0),
}


def masker_factory(segmenter, settings: MaskSettings):
    def make():
        refiner = MaskRefiner(settings)
        return lambda image: refiner.refine(image, segmenter.probability_map(image))

    return make


def row(name: str, scores) -> str:
    moving = [s for k, s in scores.items() if k != "still"]
    iou = np.mean([s.iou for s in moving])
    bf = np.mean([s.boundary_f for s in moving])
    ms = np.median([s.ms_per_frame for s in scores.values()])
    return (
        f"| {name} | {iou:.3f} | {bf:.3f} | {scores['moving'].iou:.3f} "
        f"| {scores['still'].flicker:.5f} | {ms:.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared"))
    parser.add_argument("--every", type=int, default=3, help="use every n-th video frame")
    parser.add_argument("--segmenters", nargs="+", default=list(SEGMENTERS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-fits", action="store_true", help="don't compare the fits")
    args = parser.parse_args()

    pictures = {n: cv2.imread(str(args.shared / "styles" / f)) for n, f in BACKGROUNDS.items()}
    clips = build_clips(args.shared / "media" / "portrait_720.mp4", pictures, every=args.every)
    frames = sum(len(c.frames) for c in clips)
    print(f"{len(clips)} clips, {frames} frames at 1280x720: {', '.join(c.name for c in clips)}\n")
    header = (
        "| segmenter / setting | IoU | boundary F (3 px) | IoU moving bg "
        "| flicker (still) | ms/frame |\n|---|---|---|---|---|---|"
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

    print("Mask settings (squash):\n")
    print(header)
    for name in args.segmenters:
        segmenter = create_segmenter(name, threads=args.threads, device="cpu")
        for label, settings in SETTINGS.items():
            scores = evaluate(clips, masker_factory(segmenter, settings))
            print(row(f"{name}, {label}", scores), flush=True)


if __name__ == "__main__":
    main()
