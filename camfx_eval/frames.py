"""Real frames for model measurements (benchmarks and tests, not the app)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from camfx.io.capture import spread_frames


def load_frames(path: Path, height: int, width: int, count: int = 4) -> list[np.ndarray]:
    """Up to ``count`` real frames (spread over a video, or one picture) as the model's input:
    float32 RGB in [0, 1], [1, H, W, 3]."""
    images = spread_frames(Path(path), count)
    if not images:
        raise ValueError(f"no frames could be read from {path}")
    return [
        cv2.cvtColor(
            cv2.resize(im, (width, height), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB
        ).astype(np.float32)[None]
        / 255.0
        for im in images
    ]

