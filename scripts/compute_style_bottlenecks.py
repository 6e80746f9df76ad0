"""Compute the bundled styles' bottlenecks and write assets/styles/manifest.json.

    python scripts/compute_style_bottlenecks.py --styles ../shared/styles

Reads assets/styles/styles.json (camfx's names: name -> picture, title and artist where
certain, what it looks like otherwise, older names), finds the pictures in the styles
folder, runs the style prediction model once per picture and stores each 100-float
bottleneck with where it came from. The pictures themselves are not copied.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from camfx.models.style import create_predictor, manifest_path, read_image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--styles", type=Path, default=Path("../shared/styles"))
    parser.add_argument("--out", type=Path, default=manifest_path())
    parser.add_argument("--names", type=Path, default=manifest_path().with_name("styles.json"))
    args = parser.parse_args()

    names = json.loads(args.names.read_text())
    predictor = create_predictor(threads=2, device="cpu")
    entries = []
    for name, info in names.items():
        picture = args.styles / info["file"]
        bottleneck = predictor.bottleneck(read_image(picture)).ravel()
        entries.append(
            {
                "name": name,
                "aliases": info.get("aliases", []),
                "looks": info.get("looks"),
                "file": info["file"],
                "sha256": hashlib.sha256(picture.read_bytes()).hexdigest(),
                "title": info.get("title"),
                "artist": info.get("artist"),
                "year": info.get("year"),
                "bottleneck": [round(float(v), 6) for v in bottleneck],
            }
        )
        print(f"{name:10s} {info['file']:12s} {info.get('title') or ''}")
    manifest = {
        "model": "style_predict_quantized_256.tflite",
        "note": "Bottlenecks computed by scripts/compute_style_bottlenecks.py; "
        "the pictures are not part of camfx.",
        "styles": entries,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"wrote {len(entries)} styles to {args.out}")


if __name__ == "__main__":
    main()
