"""Numba twin of csrc/color.cpp: BGR(A) -> gray with OpenCV's fixed-point weights."""
import numba


@numba.njit(cache=True, nogil=True)
def to_gray(src, out):
    """``out[y, x] = (3735 B + 19235 G + 9798 R + 2^14) >> 15`` for src (H, W, C) uint8, C in {3, 4}."""
    h, w = out.shape
    for y in range(h):
        for x in range(w):
            b = numba.uint32(src[y, x, 0])
            g = numba.uint32(src[y, x, 1])
            r = numba.uint32(src[y, x, 2])
            out[y, x] = (3735 * b + 19235 * g + 9798 * r + 16384) >> 15
