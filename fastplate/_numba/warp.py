"""Numba twin of csrc/warp.cpp: perspective warps of N quads into a planar float32 batch."""
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

@numba.njit(cache=True, nogil=True)
def _normalized(matrix):
    """matrix / its largest |entry| (the same projective map, safe to cast to float32), unless an entry
    is not finite."""
    largest = 0.0
    finite = True
    for v in matrix.ravel():
        finite = finite and np.isfinite(v)
        largest = max(largest, abs(v))
    if finite and largest > 0.0:
        return matrix / largest
    return matrix.copy()


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _warp_range(src, matrices, out, scale, first, stop):
    """Warp quads first..stop-1, in float32 with the operations of csrc/warp.cpp in the same order
    (error_model="numpy": W == 0 divides to inf instead of raising)."""
    img_h, img_w, channels = src.shape
    h, w = out.shape[2], out.shape[3]
    limit = np.float32(max(img_h, img_w) + 2)
    scale = np.float32(scale)
    one = np.float32(1.0)
    for i in range(first, stop):
        m = _normalized(matrices[i])
        m0, m3, m6 = np.float32(m[0, 0]), np.float32(m[1, 0]), np.float32(m[2, 0])
        for y in range(h):
            x0 = np.float32(m[0, 1] * y + m[0, 2])
            y0 = np.float32(m[1, 1] * y + m[1, 2])
            w0 = np.float32(m[2, 1] * y + m[2, 2])
            for x in range(w):
                fx = np.float32(x)
                inv = one / (m6 * fx + w0)
                # Far outside, W == 0 (inf) and NaN all clamp just outside the image: the replicated edge.
                px = (m0 * fx + x0) * inv
                py = (m3 * fx + y0) * inv
                px = px if px > -limit else -limit
                px = px if px < limit else limit
                py = py if py > -limit else -limit
                py = py if py < limit else limit
                flx = np.floor(px)
                fly = np.floor(py)
                ax = px - flx
                ay = py - fly
                sx = int(flx)
                sy = int(fly)
                cx0, cx1 = min(max(sx, 0), img_w - 1), min(max(sx + 1, 0), img_w - 1)
                cy0, cy1 = min(max(sy, 0), img_h - 1), min(max(sy + 1, 0), img_h - 1)
                for c in range(channels):
                    p00 = np.float32(src[cy0, cx0, c])
                    p01 = np.float32(src[cy0, cx1, c])
                    p10 = np.float32(src[cy1, cx0, c])
                    p11 = np.float32(src[cy1, cx1, c])
                    top = p00 + ax * (p01 - p00)
                    bottom = p10 + ax * (p11 - p10)
                    out[i, c, y, x] = (top + ay * (bottom - top)) * scale


def warp_batch(src, matrices, out, scale, n_threads):
    """Same contract as the native kernel (see fastplate/_backend.py); parallel over quads with threads
    (the jitted loop releases the GIL)."""
    n = out.shape[0]
    pixels = n * out.shape[2] * out.shape[3]
    workers = max(1, min(n_threads, n, pixels // 16384))
    if workers == 1:
        _warp_range(src, matrices, out, float(scale), 0, n)
        return
    bounds = np.linspace(0, n, workers + 1).astype(int)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        jobs = [pool.submit(_warp_range, src, matrices, out, float(scale), int(a), int(b))
                for a, b in zip(bounds[:-1], bounds[1:])]
        for job in jobs:
            job.result()
