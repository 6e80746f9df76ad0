"""Telling a picture that repeats the last one, so work whose result cannot change is
skipped: a still picture shown as a camera, a broken frame stood in for by the last
good one.

A camera's frames differ by noise almost everywhere, so a sparse sample of pixels tells
a new frame at a glance (a few kilobytes compared); only when the sample matches is
the whole picture compared, against a copy kept from then on (a frame changed in place
by its owner is still seen as changed).
"""

from __future__ import annotations

import numpy as np

_STEP = (31, 17)  # rows, columns between sampled pixels (primes: no aligned pattern)


class RepeatWatch:
    """Remembers the last picture; ``repeats(picture)`` says whether it is the same again."""

    def __init__(self) -> None:
        self._sample: np.ndarray | None = None
        self._copy: np.ndarray | None = None

    def repeats(self, picture: np.ndarray) -> bool:
        """True when `picture` has exactly the pixels of the one before. The first repeat
        answers False (the whole picture was not kept yet); the ones after it, True."""
        sample = picture[:: _STEP[0], :: _STEP[1]]
        if (
            self._sample is None
            or self._sample.shape != sample.shape
            or self._sample.dtype != sample.dtype
            or not np.array_equal(self._sample, sample)
        ):
            self._sample, self._copy = sample.copy(), None
            return False
        if self._copy is not None and self._copy.shape == picture.shape and np.array_equal(
            self._copy, picture
        ):
            return True
        self._copy = picture.copy()  # the sample matched: a repeat is likely, keep it whole
        return False

    def reset(self) -> None:
        self._sample = self._copy = None
