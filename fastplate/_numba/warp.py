"""Numba twin of csrc/warp.cpp: perspective warps of N quads into a planar float32 batch."""
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

@numba.njit(cache=True, nogil=True, error_model="numpy")
def _warp_range(src, matrices, out, scale, first, stop):
    """Warp quads first..stop-1 (error_model="numpy": W == 0 divides to inf instead of raising)."""
    img_h, img_w, channels = src.shape
    h, w = out.shape[2], out.shape[3]
    limit = max(img_h, img_w) + 2.0
    scale = np.float32(scale)
    for i in range(first, stop):
        m = matrices[i]
        for y in range(h):
            x0 = m[0, 1] * y + m[0, 2]
            y0 = m[1, 1] * y + m[1, 2]
            w0 = m[2, 1] * y + m[2, 2]
            for x in range(w):
                inv = 1.0 / (m[2, 0] * x + w0)
                px = (m[0, 0] * x + x0) * inv
                py = (m[1, 0] * x + y0) * inv
                # Far outside, W == 0 (inf) and NaN all clamp just outside the image: the replicated edge.
                if not px > -limit:
                    px = -limit
                if px > limit:
                    px = limit
                if not py > -limit:
                    py = -limit
                if py > limit:
                    py = limit
                sx = int(np.floor(px))
                sy = int(np.floor(py))
                ax = np.float32(px - sx)
                ay = np.float32(py - sy)
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
