"""`camfx styles --gallery OUT.png`: every bundled style on one sheet, so a person can see
what each looks like before picking it: the same frame painted in each style, labelled
with its name and its key in the window, beside the style's own picture when a folder of
the pictures is given (they are not shipped with camfx; their bottlenecks are).
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from camfx.errors import CamfxError
from camfx.models.style import Style, bundled_styles, create_stylizer, read_image, style_size

log = logging.getLogger(__name__)

COLUMNS = 3
THUMB_HEIGHT = 140
LABEL_HEIGHT = 30
GAP = 8
WHITE = (255, 255, 255)
INK = (40, 40, 40)


def first_frame(source: str) -> np.ndarray:
    """The frame to paint: a picture, a video's first frame, or what a camera sees now."""
    from camfx.io.capture import open_source  # device I/O stays out of the drawing

    with open_source(source, live=False) as frames:
        frame = frames.read()
    if frame is None:
        raise CamfxError(f"{source}: no frame to paint the gallery with")
    return frame


def fit_height(image: np.ndarray, height: int) -> np.ndarray:
    width = max(1, round(image.shape[1] * height / image.shape[0]))
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def painted(frame: np.ndarray, style: Style, threads: int) -> np.ndarray:
    """The whole frame painted in `style`, at the size camfx paints a frame of its shape."""
    height, width = style_size(frame.shape[1], frame.shape[0])
    stylizer = create_stylizer(style, threads=threads, device="cpu", size=(height, width))
    small = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
    return stylizer.stylize(small)


def tile(style: Style, key: str, picture: np.ndarray | None, paint: np.ndarray) -> np.ndarray:
    """[the style's picture | the frame in that style] over "key  name  (label)"."""
    parts = [fit_height(paint, THUMB_HEIGHT)]
    if picture is not None:
        square = min(picture.shape[:2])
        top, left = (picture.shape[0] - square) // 2, (picture.shape[1] - square) // 2
        crop = picture[top : top + square, left : left + square]
        thumb = cv2.resize(crop, (THUMB_HEIGHT, THUMB_HEIGHT), interpolation=cv2.INTER_AREA)
        parts.insert(0, thumb)
        parts.insert(1, np.full((THUMB_HEIGHT, 4, 3), 255, np.uint8))
    images = np.hstack(parts)
    label = np.full((LABEL_HEIGHT, images.shape[1], 3), 255, np.uint8)
    text = f"{key}  {style.name}" if key else style.name
    cv2.putText(label, text, (4, 21), cv2.FONT_HERSHEY_SIMPLEX, 0.6, INK, 2, cv2.LINE_AA)
    return np.vstack([images, label])


def sheet(tiles: list[np.ndarray], columns: int = COLUMNS) -> np.ndarray:
    """Tiles in rows, left to right, on white."""
    height = max(t.shape[0] for t in tiles)
    width = max(t.shape[1] for t in tiles)
    rows = -(-len(tiles) // columns)
    canvas = np.full((rows * (height + GAP) + GAP, columns * (width + GAP) + GAP, 3), 255, np.uint8)
    for index, image in enumerate(tiles):
        row, column = divmod(index, columns)
        y, x = GAP + row * (height + GAP), GAP + column * (width + GAP)
        canvas[y : y + image.shape[0], x : x + image.shape[1]] = image
    return canvas


def make_gallery(
    out: Path, source: str = "0", pictures: Path | None = None, threads: int = 2
) -> np.ndarray:
    """Paint `source`'s first frame in every bundled style and write the sheet to `out`."""
    out = Path(out)
    if out.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise CamfxError(f"--gallery {out}: give a .png or .jpg file name")
    if not out.parent.is_dir():
        raise CamfxError(f"--gallery {out}: folder {out.parent} not found")
    if pictures is not None and not pictures.is_dir():
        raise CamfxError(f"--pictures {pictures}: no such folder")
    frame = first_frame(source)
    tiles = []
    for number, style in enumerate(bundled_styles().values(), start=1):
        picture = None
        if pictures is not None and style.source and (pictures / style.source).is_file():
            picture = read_image(pictures / style.source)
        key = str(number) if number <= 9 else ""
        tiles.append(tile(style, key, picture, painted(frame, style, threads)))
        log.info("gallery: painted %s", style.name)
    image = sheet(tiles)
    quality = [cv2.IMWRITE_JPEG_QUALITY, 75] if out.suffix.lower() != ".png" else []
    if not cv2.imwrite(str(out), image, quality):
        raise CamfxError(f"could not write {out}")
    return image
