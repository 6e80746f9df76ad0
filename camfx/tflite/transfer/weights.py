"""Conv kernels rearranged for the conv rewrites: the same sums on a quarter of the pixels
with four times the channels (sub-pixel, strided and space-to-depth layouts)."""

from __future__ import annotations

import numpy as np

# For an output row of parity a, the low-resolution row that tap dy of a 3x3 kernel reads
# after a nearest x2 upsample and a reflect pad of 1 (an edge pad of 1 at low resolution).
_SUBPIXEL_TAP = ((0, 1, 1), (1, 1, 2))


def subpixel_weights(kernel: np.ndarray) -> np.ndarray:
    """[O,3,3,C] kernel on the upsampled image -> [4O,3,3,C] on the edge-padded original.

    Output channel (2a + b) * O + o is output o at row parity a and column parity b, which
    is the channel order DEPTH_TO_SPACE(2) reads.
    """
    out, kh, kw, cin = kernel.shape
    if (kh, kw) != (3, 3):
        raise ValueError(f"sub-pixel rewrite needs a 3x3 kernel, got {kh}x{kw}")
    low = np.zeros((2, 2, out, 3, 3, cin), np.float64)
    for a in range(2):
        for b in range(2):
            for dy in range(3):
                for dx in range(3):
                    ty, tx = _SUBPIXEL_TAP[a][dy], _SUBPIXEL_TAP[b][dx]
                    low[a, b, :, ty, tx, :] += kernel[:, dy, dx, :]
    return low.reshape(4 * out, 3, 3, cin).astype(kernel.dtype)


def strided_weights(kernel: np.ndarray) -> np.ndarray:
    """[O,K,K,C] stride-1 kernel -> [4O,K+1,K+1,C] stride-2 kernel, one output per parity.

    Output (2a + b) * O + o holds kernel o shifted by (a, b) rows and columns, zeros
    elsewhere, so at low-resolution pixel (i, j) it is output o at (2i + a, 2j + b).
    """
    out, k, k2, cin = kernel.shape
    wide = np.zeros((2, 2, out, k + 1, k2 + 1, cin), kernel.dtype)
    for a in range(2):
        for b in range(2):
            wide[a, b, :, a : a + k, b : b + k2, :] = kernel
    return wide.reshape(4 * out, k + 1, k2 + 1, cin)


def space_to_depth_weights(kernel: np.ndarray) -> np.ndarray:
    """[O,K,K,C] stride-1 kernel -> [4O,K//2+1,K//2+1,4C] kernel on SPACE_TO_DEPTH(2) input.

    Output (2a + b) * O + o is output o at parity (a, b); input (2r + s) * C + c is input c
    at parity (r, s), as SPACE_TO_DEPTH lays it out. Taps that fall outside the original
    kernel are zero (also the int8 weights' zero point).
    """
    out, k, k2, cin = kernel.shape
    if k != k2 or k % 2 == 0:
        raise ValueError(f"space-to-depth rewrite needs an odd square kernel, got {k}x{k2}")
    kl = k // 2 + 1
    low = np.zeros((2, 2, out, kl, kl, 2, 2, cin), kernel.dtype)
    for a in range(2):
        for b in range(2):
            for dy in range(k):
                for dx in range(k):
                    u, r = divmod(a + dy, 2)
                    v, s = divmod(b + dx, 2)
                    low[a, b, :, u, v, r, s, :] = kernel[:, dy, dx, :]
    return low.reshape(4 * out, kl, kl, 4 * cin)
