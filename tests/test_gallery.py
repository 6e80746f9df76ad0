"""`camfx styles --gallery`: one frame painted in every bundled style, each tile labelled."""

from __future__ import annotations

import cv2
import numpy as np

from camfx.app import gallery
from camfx.models.style import bundled_styles
from tests.conftest import MEDIA, SHARED, run_camfx


def test_gallery_paints_the_frame_in_every_style_beside_its_picture(tmp_path):
    out = tmp_path / "gallery.png"
    result = run_camfx(
        "styles", "--gallery", str(out), "--input", str(MEDIA / "yoga.jpg"),
        "--pictures", str(SHARED / "styles"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    sheet = cv2.imread(str(out))
    styles = list(bundled_styles().values())
    frame = cv2.imread(str(MEDIA / "yoga.jpg"))
    tile_h = gallery.THUMB_HEIGHT + gallery.LABEL_HEIGHT
    paint_w = round(frame.shape[1] * gallery.THUMB_HEIGHT / frame.shape[0])
    tile_w = gallery.THUMB_HEIGHT + 4 + paint_w
    rows = -(-len(styles) // gallery.COLUMNS)
    assert sheet.shape[:2] == (
        rows * (tile_h + gallery.GAP) + gallery.GAP,
        gallery.COLUMNS * (tile_w + gallery.GAP) + gallery.GAP,
    )
    paintings, pictures = [], []
    for index, style in enumerate(styles):
        row, column = divmod(index, gallery.COLUMNS)
        y = gallery.GAP + row * (tile_h + gallery.GAP)
        x = gallery.GAP + column * (tile_w + gallery.GAP)
        picture = sheet[y : y + gallery.THUMB_HEIGHT, x : x + gallery.THUMB_HEIGHT]
        source = cv2.imread(str(SHARED / "styles" / style.source))
        square = min(source.shape[:2])
        top, left = (source.shape[0] - square) // 2, (source.shape[1] - square) // 2
        expected = cv2.resize(
            source[top : top + square, left : left + square],
            (gallery.THUMB_HEIGHT,) * 2, interpolation=cv2.INTER_AREA,
        )  # fmt: skip
        assert np.abs(picture.astype(int) - expected).mean() < 3, style.name  # its own picture
        px = x + gallery.THUMB_HEIGHT + 4
        paintings.append(sheet[y : y + gallery.THUMB_HEIGHT, px : px + paint_w].astype(float))
        pictures.append(picture)
        label = sheet[y + gallery.THUMB_HEIGHT : y + tile_h, x : x + tile_w]
        assert (label < 128).any(), f"{style.name} has no label"
    # Every painting is the frame in a style of its own: no two alike, none the frame itself.
    small = cv2.resize(frame, (paint_w, gallery.THUMB_HEIGHT), interpolation=cv2.INTER_AREA)
    for i, painting in enumerate(paintings):
        assert np.abs(painting - small).mean() > 10, styles[i].name
        for j in range(i):
            assert np.abs(painting - paintings[j]).mean() > 3, (styles[i].name, styles[j].name)


def test_a_tile_without_the_style_picture_shows_the_painting_and_the_label():
    style = next(iter(bundled_styles().values()))
    painting = np.full((90, 160, 3), 200, np.uint8)
    tile = gallery.tile(style, "1", None, painting)
    assert tile.shape == (gallery.THUMB_HEIGHT + gallery.LABEL_HEIGHT,
                          round(160 * gallery.THUMB_HEIGHT / 90), 3)  # fmt: skip
    assert (tile[gallery.THUMB_HEIGHT :] < 128).any()


def test_gallery_of_a_missing_input_is_a_one_line_error(tmp_path):
    result = run_camfx("styles", "--gallery", str(tmp_path / "g.png"), "--input", "nope.mp4")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("camfx: error:")
