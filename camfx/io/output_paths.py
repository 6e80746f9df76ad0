"""Where recordings and snapshots go: the output policy, checked before anything opens.

Which containers a name asks for, that a folder takes new files, that no output
overwrites an input or another output (or an existing file without --overwrite),
free names for the keys' recordings and snapshots, and the hidden partial name a render
is written under until it is finished.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import cv2
import numpy as np

from camfx.errors import CamfxError

# The containers camfx writes H.264 into, by the name's extension (FFmpeg's format names).
CONTAINERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}


def container_of(path: Path) -> str:
    """The container a recording's name asks for, or a one-line error saying which to use."""
    path = Path(path)
    try:
        return CONTAINERS[path.suffix.lower()]
    except KeyError:
        names = ", ".join(CONTAINERS)
        raise CamfxError(
            f"cannot record to {path}: its name must end in {names} (the kind of file to write)"
        ) from None


def check_writable(path: Path) -> None:
    """Fail now, in one line, if `path`'s folder takes no new files (missing, read-only).
    Nothing is left behind: a probe file is made beside it and removed."""
    path = Path(path)
    if not path.parent.is_dir():
        raise CamfxError(f"cannot record to {path}: folder {path.parent} not found")
    try:
        probe = partial_name(path)
        with open(probe, "xb"):
            pass
        probe.unlink()
    except OSError as exc:
        raise CamfxError(
            f"cannot record to {path} ({exc.strerror}); choose a folder you can write to"
        ) from None


def _same_file(a: Path, b: Path) -> bool:
    """One file under two names: the same resolved path, or the same inode (a hard link)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False


def check_outputs(
    outputs: dict[str, Path | None], inputs: list[Path], overwrite: bool = False
) -> None:
    """The output policy, before anything opens. `outputs` maps an option ('--record') to its
    path. Nothing camfx reads is written to, no two outputs share a file, a file that
    exists is replaced only with --overwrite, and each name says a container camfx writes."""
    named = [(option, Path(path)) for option, path in outputs.items() if path is not None]
    for i, (option, path) in enumerate(named):
        for source in inputs:
            if _same_file(path, source):
                raise CamfxError(
                    f"{option} {path} is also an input ({source}); writing it would destroy "
                    "what camfx reads: choose another name"
                )
        for other, other_path in named[:i]:
            if _same_file(path, other_path):
                raise CamfxError(f"{other} and {option} both name {path}: give each its own file")
        if path.exists() or path.is_symlink():
            if not path.is_file():
                raise CamfxError(f"{option} {path} is not a regular file: give a file name")
            if not overwrite:
                raise CamfxError(
                    f"{option} {path} exists; add --overwrite (-y) to replace it, "
                    "or choose another name"
                )
        container_of(path)
        check_writable(path)


def free_name(folder: Path, stem: str, suffix: str) -> Path:
    """`stem.suffix` in `folder`, or `stem-1.suffix`, `stem-2.suffix`... the first that is
    free, made (empty) at once so that a second camfx, or a second key press in the same
    second, takes the next one."""
    for n in itertools.count():
        path = Path(folder) / (f"{stem}{suffix}" if n == 0 else f"{stem}-{n}{suffix}")
        try:
            with open(path, "xb"):
                return path
        except FileExistsError:
            continue
    raise AssertionError("unreachable")


def save_picture(image: np.ndarray, folder: Path, stem: str) -> Path:
    """A PNG under a free name in `folder`; CamfxError (nothing left behind) if it fails."""
    ok, data = cv2.imencode(".png", image)
    if not ok:
        raise CamfxError("the picture could not be encoded as PNG")
    path = None
    try:
        path = free_name(folder, stem, ".png")
        with open(path, "wb") as f:
            f.write(data.tobytes())
    except OSError as exc:
        if path is not None:
            path.unlink(missing_ok=True)
        raise CamfxError(f"could not save {path or folder} ({exc.strerror})") from None
    return path


def partial_name(path: Path) -> Path:
    """Where a file is written until it is complete: hidden, beside it (same file system,
    so the rename into place is atomic)."""
    return path.with_name(f".{path.name}.{os.getpid()}.part")
