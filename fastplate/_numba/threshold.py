"""Numba twin of csrc/threshold.cpp: same algorithms, same floating-point operations in the same order,
so both backends give identical results (see the C++ file for the reasoning behind each formula)."""
import math

import numba
import numpy as np

MEAN, GAUSSIAN, SAUVOLA, WOLF = 0, 1, 2, 3


@numba.njit(cache=True, nogil=True)
def _column_sums(src, r, squares):
    """Per column, the sum of pixel (or pixel^2) over rows [-r, r] (edge rows replicated), int64."""
    h, w = src.shape
    col = np.zeros(w, np.int64)
    for j in range(min(r, h - 1) + 1):
        lo = -r if j == 0 else j
        hi = r if j == h - 1 else j
        count = hi - lo + 1
        for x in range(w):
            v = np.int64(src[j, x])
            col[x] += count * (v * v if squares else v)
    return col


@numba.njit(cache=True, nogil=True)
def _slide(src, col, y, r, squares):
    """Move the column sums from output row y - 1 to y."""
    h, w = src.shape
    add = src[min(max(y + r, 0), h - 1)]
    sub = src[min(max(y - r - 1, 0), h - 1)]
    if squares:
        for x in range(w):
            a = np.int64(add[x])
            s = np.int64(sub[x])
            col[x] += a * a - s * s
    else:
        for x in range(w):
            col[x] += np.int64(add[x]) - np.int64(sub[x])


@numba.njit(cache=True, nogil=True)
def _window_row(col, pre, win, r):
    """win[x] = sum of col[clamp(j)] for j in [x - r, x + r] via the prefix sums pre[0..w]."""
    w = col.shape[0]
    pre[0] = 0
    run = np.int64(0)  # a local running sum: re-reading pre[x] would wait on the store each step
    for x in range(w):
        run += col[x]
        pre[x + 1] = run
    lo = min(r, w)
    hi = max(lo, w - r)
    for x in range(lo):
        win[x] = _extended(col, pre, x + r + 1) - _extended(col, pre, x - r)
    # The interior, a vectorizable difference. Unsigned indices: with signed ones Numba checks every
    # access for a negative (wrap-around) index, which costs ~7x here.
    ur, one = np.uint64(r), np.uint64(1)
    for x in range(np.uint64(lo), np.uint64(hi)):
        win[x] = pre[x + ur + one] - pre[x - ur]
    for x in range(hi, w):
        win[x] = _extended(col, pre, x + r + 1) - _extended(col, pre, x - r)


@numba.njit(cache=True, nogil=True, inline="always")
def _window_sums(src, sums, squares, pre, s, q, y, r):
    """Output row y's window sums of pixels (s) and squared pixels (q), moving the column sums from y - 1."""
    if y > 0:
        _slide(src, sums, y, r, False)
        _slide(src, squares, y, r, True)
    _window_row(sums, pre, s, r)
    _window_row(squares, pre, q, r)


@numba.njit(cache=True, nogil=True, inline="always")
def _extended(col, pre, j):
    """The prefix sum at j, continued beyond the row with the replicated edge columns."""
    w = col.shape[0]
    if j <= 0:
        return j * col[0]
    if j >= w:
        return pre[w] + (j - w) * col[w - 1]
    return pre[j]


def _clamped_delta(c, invert):
    rounded = math.floor(c) if invert else math.ceil(c)
    return int(max(-256.0, min(256.0, rounded)))


@numba.njit(cache=True, nogil=True)
def _mean(src, out, block, idelta, flip):
    # s + (d - 1) / 2 < (src + idelta) * d  <=>  round(s / d) < src + idelta (d odd: no ties)
    h, w = src.shape
    r = block // 2
    d = np.int64(block) * block
    k = idelta * d - (d - 1) // 2
    col = _column_sums(src, r, False)
    pre = np.empty(w + 1, np.int64)
    win = np.empty(w, np.int64)
    for y in range(h):
        if y > 0:
            _slide(src, col, y, r, False)
        _window_row(col, pre, win, r)
        for x in range(w):
            hit = win[x] < np.int64(src[y, x]) * d + k
            out[y, x] = (255 if hit else 0) ^ flip


@numba.njit(cache=True, nogil=True, inline="always")
def _above(a, b, var):
    """pixel > base + b * sqrt(var) with a = pixel - base, decided without the square root."""
    aa = a * a
    bbvar = (b * b) * var
    positive = a > 0.0
    return (positive and aa > bbvar) or (b < 0.0 and (positive or bbvar > aa))


@numba.njit(cache=True, nogil=True)
def _contrast(src, out, block, method, k, flip):
    if block <= 181:
        _narrow_contrast(src, out, block, method, k, flip)
    else:
        _wide_contrast(src, out, block, method, k, flip)


@numba.njit(cache=True, nogil=True, inline="always")
def _contrast_terms(p, s, q, d32, offset32, k, c, dd):
    """A, A^2 and B'^2 V of one pixel (see _narrow_contrast), in contrast_row's double operations."""
    s32, q32 = np.int32(s), np.int32(q)
    big_d = s32 - offset32
    a = float(np.int32(p) * d32 - s32) + k * float(big_d)
    b = c * float(big_d)
    v = dd * float(q32) - float(s32) * float(s32)
    return a, a * a, (b * b) * v


@numba.njit(cache=True, nogil=True)
def _narrow_contrast(src, out, block, method, k, flip):
    """block <= 181: p > T decided over exact integers, as in csrc/threshold.cpp (see there):
    A = (p d - s) + k D > c D sqrt(V), V = d q - s^2."""
    h, w = src.shape
    r = block // 2
    d = np.int64(block) * block
    dd = float(d)
    pre = np.empty(w + 1, np.int64)
    s = np.empty(w, np.int64)
    q = np.empty(w, np.int64)
    offset = np.int64(0)
    c = k / (127.5 * dd)
    if method == WOLF:
        # The image minimum and the largest V first.
        best = np.int64(0)
        sums = _column_sums(src, r, False)
        squares = _column_sums(src, r, True)
        for y in range(h):
            _window_sums(src, sums, squares, pre, s, q, y, r)
            for x in range(w):
                best = max(best, d * q[x] - s[x] * s[x])
        offset = np.int64(src.min()) * d
        c = k / math.sqrt(float(best)) if best > 0 else 0.0
    d32, offset32 = np.int32(d), np.int32(offset)
    sums = _column_sums(src, r, False)
    squares = _column_sums(src, r, True)
    for y in range(h):
        _window_sums(src, sums, squares, pre, s, q, y, r)
        row = src[y]
        dst = out[y]
        # int32 (exact: s < 2^24, q < 2^31), whose conversions to double vectorize where int64 ones do not;
        # bitwise & and | on the comparisons keep the loops branch-free.
        # The sign of k is tested once per row, not per pixel (the native KPositive template).
        if k >= 0.0:
            for x in range(w):
                a, aa, bbv = _contrast_terms(row[x], s[x], q[x], d32, offset32, k, c, dd)
                dst[x] = np.uint8(255 * ((a > 0.0) & (aa > bbv))) ^ flip
        else:
            for x in range(w):
                a, aa, bbv = _contrast_terms(row[x], s[x], q[x], d32, offset32, k, c, dd)
                dst[x] = np.uint8(255 * ((a > 0.0) | (bbv > aa))) ^ flip


@numba.njit(cache=True, nogil=True)
def _wide_contrast(src, out, block, method, k, flip):
    """block > 181: mean and variance in double, as csrc/threshold.cpp's wide form."""
    h, w = src.shape
    r = block // 2
    inv_d = 1.0 / (float(block) * float(block))
    pre = np.empty(w + 1, np.int64)
    s = np.empty(w, np.int64)
    q = np.empty(w, np.int64)
    image_min = 0.0
    k_over_r = k * (1.0 / 127.5)
    if method == WOLF:
        # The image minimum and the largest local variance first.
        image_min = float(src.min())
        max_var = 0.0
        sums = _column_sums(src, r, False)
        squares = _column_sums(src, r, True)
        for y in range(h):
            _window_sums(src, sums, squares, pre, s, q, y, r)
            for x in range(w):
                m = float(s[x]) * inv_d
                var = max(float(q[x]) * inv_d - m * m, 0.0)
                if var > max_var:
                    max_var = var
        spread = math.sqrt(max_var)
        k_over_r = k / spread if spread > 0.0 else 0.0
    one_minus_k = 1.0 - k
    k_min = k * image_min
    sums = _column_sums(src, r, False)
    squares = _column_sums(src, r, True)
    for y in range(h):
        _window_sums(src, sums, squares, pre, s, q, y, r)
        for x in range(w):
            m = float(s[x]) * inv_d
            var = max(float(q[x]) * inv_d - m * m, 0.0)
            p = float(src[y, x])
            if method == SAUVOLA:
                hit = _above(p - m * one_minus_k, m * k_over_r, var)
            else:
                hit = _above(p - (one_minus_k * m + k_min), (m - image_min) * k_over_r, var)
            out[y, x] = (255 if hit else 0) ^ flip


def gaussian_kernel(n):
    """cv::getGaussianKernel(n, 0, CV_32F), computed exactly as in csrc/threshold.cpp (plain Python: the
    same libm exp as the C++ code)."""
    tables = {
        1: [1.0], 3: [0.25, 0.5, 0.25], 5: [0.0625, 0.25, 0.375, 0.25, 0.0625],
        7: [0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125],
        9: [0.015625, 0.05078125, 0.1171875, 0.19921875, 0.234375, 0.19921875, 0.1171875, 0.05078125, 0.015625],
    }
    if n in tables:
        return np.array(tables[n], np.float32)
    sigma = n * 0.15 + 0.35
    scale = -0.125 / (sigma * sigma)
    half = (n - 1) // 2
    values = []
    total = 0.0
    for i in range(half):
        x = 1 - n + 2 * i
        values.append(math.exp(float(x) * x * scale))
        total += values[-1]
    mul = 1.0 / (total * 2.0 + 1.0)
    kernel = np.empty(n, np.float32)
    for i in range(half):
        kernel[i] = kernel[n - 1 - i] = values[i] * mul
    kernel[half] = mul
    return kernel


@numba.njit(cache=True, nogil=True)
def _gaussian(src, out, kernel, idelta, flip):
    h, w = src.shape
    r = kernel.shape[0] // 2
    kc = kernel[r:]
    rows = np.empty((h, w), np.float32)
    padded = np.empty(w + 2 * r, np.float32)
    for y in range(h):
        for j in range(r):
            padded[j] = src[y, 0]
            padded[w + r + j] = src[y, w - 1]
        for x in range(w):
            padded[r + x] = src[y, x]
        for x in range(w):
            rows[y, x] = kc[0] * padded[r + x]
        for j in range(1, r + 1):
            wj = kc[j]
            for x in range(w):
                rows[y, x] += wj * (padded[r + x - j] + padded[r + x + j])
    acc = np.empty(w, np.float32)
    zero = np.float32(0.0)
    top = np.float32(255.0)
    for y in range(h):
        for x in range(w):
            acc[x] = kc[0] * rows[y, x]
        for j in range(1, r + 1):
            wj = kc[j]
            up = max(y - j, 0)
            down = min(y + j, h - 1)
            for x in range(w):
                acc[x] += wj * (rows[up, x] + rows[down, x])
        for x in range(w):
            m = int(np.rint(min(top, max(zero, acc[x]))))  # half to even, like convertTo(CV_8U)
            hit = int(src[y, x]) + idelta > m
            out[y, x] = (255 if hit else 0) ^ flip


def adaptive_threshold(src, out, block_size, c, method, k, invert):
    """Same contract as the native kernel (see fastplate/_backend.py)."""
    flip = 255 if invert else 0
    if method == MEAN:
        _mean(src, out, block_size, _clamped_delta(c, invert), flip)
    elif method == GAUSSIAN:
        _gaussian(src, out, gaussian_kernel(block_size), _clamped_delta(c, invert), flip)
    else:
        _contrast(src, out, block_size, method, float(k), flip)
