"""Before and after on the hardest items, in one row: each item's frame, then one
segmenter's errors and the other's (red: taken for person wrongly, blue: person missed, grey: not
scored), each having run through the item as camfx would (a still repeated, a room's
clip in order up to the frame). Never of the DAVIS clips, which may not be published.

    CAMFX_MODELS=../shared/models python scripts/segmentation_pictures.py --shared ../shared \\
        --out docs/segmentation-hardest.jpg stills:ccp_0952 rooms:kitchen_render#85
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_segmentation import DEFAULT, masker_factory, named_segmenter

from camfx_eval import real_eval


def find(shared: Path, spec: str) -> tuple[real_eval.Sequence, int]:
    """'stills:NAME' or 'rooms:NAME#FRAME': the sequence and the frame to draw."""
    source, _, rest = spec.partition(":")
    name, _, frame = rest.partition("#")
    root = shared / "eval" / "real"
    if source == "stills":
        items = real_eval.stills(root)
    elif source == "rooms":
        items = real_eval.rooms(root, shared / "media" / "portrait_720.mp4")
    else:
        raise SystemExit(f"{spec}: only stills and rooms may be drawn (DAVIS may not be published)")
    seq = next((s for s in items if s.name == name), None)
    if seq is None:
        raise SystemExit(f"{spec}: no such item")
    return seq, int(frame) if frame else seq.scored[-1]


def errors(frame: np.ndarray, mask: np.ndarray, truth: np.ndarray, ignore, label: str
           ) -> np.ndarray:
    pred = mask >= 0.5
    out = real_eval.error_map(frame, pred, truth, ignore)
    iou = real_eval.score(pred, truth, ignore)[0]
    cv2.putText(out, f"{label} IoU {iou:.2f}", (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8,
                (255, 255, 255), 2, cv2.LINE_AA)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("items", nargs="+", help="stills:NAME or rooms:NAME#FRAME")
    parser.add_argument("--shared", type=Path, default=Path("../shared"))
    parser.add_argument("--before", default="deeplab")
    parser.add_argument("--after", default="selfie-pair")
    parser.add_argument("--height", type=int, default=300, help="px, the picture's height")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    segmenters = {name: named_segmenter(name, 2) for name in (args.before, args.after)}
    rows = []
    for spec in args.items:
        seq, index = find(args.shared, spec)
        t = seq.scored.index(index)
        tiles = [seq.frames[index]]
        for label, segmenter in segmenters.items():
            masker = masker_factory(segmenter, DEFAULT)()
            masks = [masker(f) for f in seq.frames[: index + 1]]
            tiles.append(errors(seq.frames[index], masks[-1], seq.truths[t], seq.ignores[t],
                                label))
        row = np.hstack(tiles)
        rows.append(cv2.resize(row, (round(row.shape[1] * args.height / row.shape[0]),
                                     args.height), interpolation=cv2.INTER_AREA))
    gap = np.full((args.height, 12, 3), 255, np.uint8)  # between items, in one row
    picture = np.hstack([part for row in rows for part in (row, gap)][:-1])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), picture, [cv2.IMWRITE_JPEG_QUALITY, 85])
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
