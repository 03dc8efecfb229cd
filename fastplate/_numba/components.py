"""Numba twin of csrc/components.cpp: run-length union-find labelling, identical output.

See the C++ file for the algorithm and for why 8-connected labels follow OpenCV's 2x2-block order.
"""
import numba
import numpy as np

_INT_MAX = np.int32(2**31 - 1)
_INT_MIN = np.int32(-(2**31))


@numba.njit(cache=True, nogil=True)
def _find_root(parent, i):
    while parent[i] != i:
        parent[i] = parent[parent[i]]  # path halving
        i = parent[i]
    return i


@numba.njit(cache=True, nogil=True)
def _kernel(binary, labels, connectivity, opencv_order):
    h, w = binary.shape
    touch = 1 if connectivity == 8 else 0
    # At most (w + 1) // 2 runs per row: preallocate instead of growing.
    capacity = h * ((w + 1) // 2)
    start = np.empty(capacity, np.int32)
    end = np.empty(capacity, np.int32)
    parent = np.empty(capacity, np.int32)
    row_begin = np.empty(h + 1, np.int32)

    # ---- 1. runs + union with the previous row (union by smaller index: parent[i] <= i)
    n_runs = 0
    for y in range(h):
        first = n_runs
        row_begin[y] = first
        x = 0
        while x < w:
            while x < w and binary[y, x] == 0:
                x += 1
            if x >= w:
                break
            s = x
            while x < w and binary[y, x] != 0:
                x += 1
            start[n_runs] = s
            end[n_runs] = x
            n_runs += 1
        j = row_begin[y - 1] if y > 0 else first
        for i in range(first, n_runs):
            parent[i] = i
            s = start[i]
            e = end[i]
            while j < first and end[j] + touch <= s:
                j += 1
            k = j
            while k < first and start[k] < e + touch:
                rk = _find_root(parent, k)
                ri = _find_root(parent, i)
                if rk < ri:
                    parent[ri] = rk
                elif ri < rk:
                    parent[rk] = ri
                k += 1
    row_begin[h] = n_runs

    # ---- 2. flatten and number components (raster order of first pixels, or OpenCV's order)
    for i in range(n_runs):
        parent[i] = parent[parent[i]]
    root_label = np.zeros(n_runs, np.int32)
    n = 1
    if connectivity == 4 or not opencv_order:  # raster order of each component's first pixel
        for i in range(n_runs):
            if parent[i] == i:
                root_label[i] = n
                n += 1
    else:
        for y in range(0, h, 2):
            a = row_begin[y]
            a_end = row_begin[y + 1]
            b = a_end
            b_end = row_begin[min(y + 2, h)]
            while a < a_end or b < b_end:
                if b >= b_end or (a < a_end and (start[a] >> 1) <= (start[b] >> 1)):
                    i = a
                    a += 1
                else:
                    i = b
                    b += 1
                if root_label[parent[i]] == 0:
                    root_label[parent[i]] = n
                    n += 1

    # ---- 3. write labels, accumulate statistics
    left = np.full(n, _INT_MAX, np.int32)
    top = np.full(n, _INT_MAX, np.int32)
    right = np.full(n, _INT_MIN, np.int32)
    bottom = np.full(n, _INT_MIN, np.int32)
    area = np.zeros(n, np.int64)
    sum_x = np.zeros(n, np.int64)
    sum_y = np.zeros(n, np.int64)
    for y in range(h):
        x = 0
        r0 = row_begin[y]
        r1 = row_begin[y + 1]
        fg = 0
        for i in range(r0, r1):
            s = start[i]
            e = end[i]
            label = root_label[parent[i]]
            labels[y, x:s] = 0
            labels[y, s:e] = label
            x = e
            length = np.int64(e - s)
            fg += length
            left[label] = min(left[label], s)
            right[label] = max(right[label], e - 1)
            top[label] = min(top[label], y)
            bottom[label] = y
            area[label] += length
            sum_x[label] += (np.int64(s) + e - 1) * length // 2
            sum_y[label] += np.int64(y) * length
        labels[y, x:w] = 0
        if fg < w:  # background box from the leftmost/rightmost zero pixel of the row
            lo = end[r0] if (r0 < r1 and start[r0] == 0) else 0
            hi = start[r1 - 1] - 1 if (r0 < r1 and end[r1 - 1] == w) else w - 1
            left[0] = min(left[0], lo)
            right[0] = max(right[0], hi)
            top[0] = min(top[0], y)
            bottom[0] = y
    fg_area = area[1:].sum()
    area[0] = np.int64(h) * w - fg_area
    sum_x[0] = np.int64(h) * (np.int64(w) * (w - 1) // 2) - sum_x[1:].sum()
    sum_y[0] = np.int64(w) * (np.int64(h) * (h - 1) // 2) - sum_y[1:].sum()

    stats = np.empty((n, 5), np.int32)
    centroids = np.empty((n, 2), np.float64)
    for label in range(n):
        if area[label] == 0:  # background of an all-foreground image, as OpenCV 5 reports it
            stats[label, 0] = -1
            stats[label, 1] = _INT_MAX
            stats[label, 2] = 0
            stats[label, 3] = 0
            stats[label, 4] = 0
            centroids[label, 0] = np.nan
            centroids[label, 1] = np.nan
            continue
        stats[label, 0] = left[label]
        stats[label, 1] = top[label]
        stats[label, 2] = right[label] - left[label] + 1
        stats[label, 3] = bottom[label] - top[label] + 1
        stats[label, 4] = area[label]
        centroids[label, 0] = sum_x[label] / area[label]
        centroids[label, 1] = sum_y[label] / area[label]
    return n, stats, centroids


def connected_components(binary, labels, connectivity, opencv_order=True):
    """Label ``binary`` (H, W) uint8 into ``labels`` (H, W) int32; return ``(n, stats, centroids)``.

    Same contract and output as the native kernel (see fastplate/_backend.py). ``labels`` None: statistics
    only (here the labels go to a scratch array).
    """
    if labels is None:
        labels = np.empty(binary.shape, np.int32)
    n, stats, centroids = _kernel(binary, labels, connectivity, bool(opencv_order))
    return int(n), stats, centroids
