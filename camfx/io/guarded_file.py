"""The file a recording is muxed into, guarded: a failed write is remembered (FFmpeg's
muxers do not always pass one on), and Ctrl+C or SIGTERM wait until a write is done.
"""

from __future__ import annotations

import errno
import functools
from collections.abc import Callable
from pathlib import Path


class WatchedFile:
    """The file a recording is muxed into, which remembers a write that failed.

    FFmpeg's muxers do not always pass a failed write on (the MP4 muxer flushing a
    fragment ignores it), so a live recording went on "recording" into a full disk
    and exited 0. The recorder asks `check` after each frame instead.
    """

    def __init__(self, path: Path) -> None:
        self._file = open(path, "wb", buffering=0)  # noqa: SIM115 - closed by close()
        self.error: OSError | None = None

    def write(self, data) -> int:
        view = memoryview(data)
        try:
            done = 0
            while done < len(view):  # an unbuffered write may take part of it
                done += self._file.write(view[done:])
        except OSError as exc:
            self.error = self.error or exc
            raise
        return len(view)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def check(self) -> None:
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        self._file.close()


class _Unbroken:
    """Holds Ctrl+C and SIGTERM back while a recording writes, until the write is done.

    The file's bytes go through Python (WatchedFile), where a signal handler's exception
    could land between two of FFmpeg's writes and leave a hole in the file. Inside a
    write or a close, cli's handlers hand their exception to `defer` instead, and it is
    raised as the write or close ends: between frames, or with the file finished.
    """

    def __init__(self) -> None:
        self.depth = 0
        self.pending: Callable[[], None] | None = None

    def __enter__(self) -> None:
        self.depth += 1

    def __exit__(self, *exc: object) -> None:
        pending = None
        if self.depth == 1:
            pending, self.pending = self.pending, None
        self.depth -= 1
        if pending is not None:
            pending()  # raises KeyboardInterrupt or SystemExit, now that the file is whole

    def defer(self, action: Callable[[], None]) -> bool:
        """From a signal handler: run `action` once the write under way ends; False (run
        it yourself) when no write is under way."""
        if self.depth == 0:
            return False
        self.pending = self.pending or action
        return True


UNBROKEN = _Unbroken()


def unbroken(method):
    """A recorder method that writes: signals wait for it (see _Unbroken)."""

    @functools.wraps(method)
    def held(*args, **kwargs):
        with UNBROKEN:
            return method(*args, **kwargs)

    return held


def failure(what: str, exc: Exception, when: str = "") -> str:
    """'WHAT failed WHEN (error)', with 'is the disk full?' only when the error says so."""
    full = isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
    return f"{what} failed{when} ({exc}){'; is the disk full?' if full else ''}"
