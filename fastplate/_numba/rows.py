"""Numba twin of fastplate/_segment.pyx: group character-like components into text rows.

Same algorithm, same operation order, same results as the Cython kernel; see its module docstring.
"""
import math

import numba
import numpy as np

# Aspect limits are integer tests: 0.1 <= w / h (a thin "1") and w / h <= 2.5 (two fused characters) for
# candidates; w / h <= 1.2 (a wide "W") for single characters.
MAX_OVERLAP = 0.5  # neighbours may overlap in x by this fraction of the narrower one (italics, tilt)
BAND_TOLERANCE = 0.25  # of the row height: how far a box edge may lie from the fitted top/bottom line
PIECE_MAX_HEIGHT = 0.8  # of the row height: smaller components inside the band may be broken characters
PIECE_MIN_HEIGHT = 0.2  # of the row height: smaller ones are specks, not pieces of a character
PIECES_COVER = 0.7  # of the row height: pieces of one character together cover at least this much
KEY_BIAS = 1 << 33  # sort keys (2 * centre x + KEY_BIAS) * n + label stay non-negative for any int32 x, w
OUTLIER = 0.1  # of the mean height: a top/bottom further than this from the fit is refit without
TRIM = 0.2  # of the mean height: a chain end further than this from the line through the others is dropped


@numba.njit(cache=True, nogil=True)
def _fit_line(xs, ys, m, skip):
    """Least-squares line y = slope * x + intercept through points 0..m-1 except ``skip``."""
    count = 0
    mx = 0.0
    my = 0.0
    for t in range(m):
        if t != skip:
            mx += xs[t]
            my += ys[t]
            count += 1
    mx /= count
    my /= count
    sxx = 0.0
    sxy = 0.0
    for t in range(m):
        if t != skip:
            sxx += (xs[t] - mx) * (xs[t] - mx)
            sxy += (xs[t] - mx) * (ys[t] - my)
    slope = sxy / sxx if sxx > 0.0 else 0.0
    return slope, my - slope * mx


@numba.njit(cache=True, nogil=True)
def _robust_fit(xs, ys, m, mean_height):
    """Least squares, refit once without the worst point when it is an outlier (needs 4+ points)."""
    slope, intercept = _fit_line(xs, ys, m, -1)
    if m < 4:
        return slope, intercept
    worst = -1
    worst_residual = max(1.0, OUTLIER * mean_height)
    for t in range(m):
        residual = abs(ys[t] - (slope * xs[t] + intercept))
        if residual > worst_residual:
            worst_residual = residual
            worst = t
    if worst < 0:
        return slope, intercept
    return _fit_line(xs, ys, m, worst)


@numba.njit(cache=True, nogil=True)
def _row_points(stats, members, lo, hi, xs, tops, bottoms):
    """Box centre x, top and bottom of members[lo:hi] into xs, tops, bottoms; returns their mean height."""
    mean_height = 0.0
    for t in range(lo, hi):
        k = members[t]
        xs[t - lo] = stats[k, 0] + 0.5 * stats[k, 2]
        tops[t - lo] = float(stats[k, 1])
        bottoms[t - lo] = float(stats[k, 1]) + stats[k, 3]
        mean_height += stats[k, 3]
    return mean_height / (hi - lo)


@numba.njit(cache=True, nogil=True)
def _end_residual(xs, tops, bottoms, count, t):
    """How far point t lies from the top and bottom lines fitted through the other points."""
    slope, intercept = _fit_line(xs, tops, count, t)
    top = abs(tops[t] - (slope * xs[t] + intercept))
    slope, intercept = _fit_line(xs, bottoms, count, t)
    return max(top, abs(bottoms[t] - (slope * xs[t] + intercept)))


@numba.njit(cache=True, nogil=True)
def _kernel(stats, min_height, max_height, max_height_ratio, max_gap, max_angle):
    n = stats.shape[0]
    row_of = np.full(n, -1, np.int32)
    tan_max = math.tan(max_angle * math.pi / 180.0)

    # ---- 1. candidates (character-like or touching characters), sorted by centre x
    keys = np.empty(n, np.int64)
    m = 0
    for k in range(1, n):
        w = np.int64(stats[k, 2])
        h = np.int64(stats[k, 3])
        if h < min_height or h > max_height or w < 1:
            continue
        if 10 * w < h or 2 * w > 5 * h:  # aspect outside [0.1, 2.5]
            continue
        keys[m] = (2 * np.int64(stats[k, 0]) + w + KEY_BIAS) * n + k  # unique: ties in centre x broken by label
        m += 1
    keys = np.sort(keys[:m])
    cand = np.empty(m, np.int64)
    for a in range(m):
        cand[a] = keys[a] % n

    # ---- 2. best right and left neighbour of each candidate; rows are chains of mutual best pairs
    best_right = np.full(m, -1, np.int64)
    best_left = np.full(m, -1, np.int64)
    cost_right = np.full(m, np.inf)
    cost_left = np.full(m, np.inf)
    for a in range(m):
        i = cand[a]
        xi = stats[i, 0]
        yi = stats[i, 1]
        wi = stats[i, 2]
        hi = stats[i, 3]
        cxi = xi + 0.5 * wi
        cyi = yi + 0.5 * hi
        # Past this centre x no candidate can be close enough (its half width <= 1.25 * ratio * hi).
        limit = xi + wi + hi * (1.25 * max_height_ratio + 0.5 * max_gap * (1.0 + max_height_ratio)) + 1.0
        for b in range(a + 1, m):
            j = cand[b]
            xj = stats[j, 0]
            yj = stats[j, 1]
            wj = stats[j, 2]
            hj = stats[j, 3]
            cxj = xj + 0.5 * wj
            if cxj > limit:
                break
            if cxj <= cxi:
                continue
            if max(hi, hj) > max_height_ratio * min(hi, hj):
                continue
            gap = float(np.int64(xj) - (np.int64(xi) + wi))
            if gap > max_gap * 0.5 * (hi + hj) or gap < -MAX_OVERLAP * min(wi, wj):
                continue
            dx = cxj - cxi
            dy = abs((yj + 0.5 * hj) - cyi)
            if dy > tan_max * dx:
                continue
            cost = dx + dy
            if cost < cost_right[a]:
                cost_right[a] = cost
                best_right[a] = b
            if cost < cost_left[b]:
                cost_left[b] = cost
                best_left[b] = a

    # ---- 3. chains of mutual best neighbours -> rows: trim ends that leave the line, fit top/bottom lines
    members = np.empty(m, np.int64)  # labels, row after row, each left to right
    row_start = np.zeros(m + 1, np.int64)
    lines = np.empty((m, 4), np.float64)
    xs = np.empty(max(1, m), np.float64)
    tops = np.empty(max(1, m), np.float64)
    bottoms = np.empty(max(1, m), np.float64)
    n_rows = 0
    n_members = 0
    for a in range(m):
        if best_left[a] >= 0 and best_right[best_left[a]] == a:
            continue  # not the head of a chain
        b = best_right[a]
        if b < 0 or best_left[b] != a:
            continue  # alone
        base = n_members
        c = a
        while True:
            members[n_members] = cand[c]
            n_members += 1
            nxt = best_right[c]
            if nxt < 0 or best_left[nxt] != c:
                break
            c = nxt
        lo = base
        hi = n_members
        while hi - lo >= 3:
            count = hi - lo
            mean_height = _row_points(stats, members, lo, hi, xs, tops, bottoms)
            first = _end_residual(xs, tops, bottoms, count, 0)
            last = _end_residual(xs, tops, bottoms, count, count - 1)
            if max(first, last) <= TRIM * mean_height:
                break
            if last >= first:
                hi -= 1
            else:
                lo += 1
        singles = 0
        for t in range(lo, hi):
            k = members[t]
            if 5 * np.int64(stats[k, 2]) <= 6 * np.int64(stats[k, 3]):
                singles += 1
        if singles < 2:
            n_members = base
            continue
        for t in range(lo, hi):
            members[base + t - lo] = members[t]
            row_of[members[t]] = n_rows
        n_members = base + hi - lo
        count = n_members - base
        mean_height = _row_points(stats, members, base, n_members, xs, tops, bottoms)
        slope, intercept = _robust_fit(xs, tops, count, mean_height)
        lines[n_rows, 0] = slope
        lines[n_rows, 1] = intercept
        slope, intercept = _robust_fit(xs, bottoms, count, mean_height)
        lines[n_rows, 2] = slope
        lines[n_rows, 3] = intercept
        n_rows += 1
        row_start[n_rows] = n_members
    lines = lines[:n_rows].copy()

    if n_rows == 0:
        return row_of, lines
    # ---- 5. attach what the chains missed: touching characters and broken ones (stacked pieces)
    order_keys = np.empty(n - 1, np.int64)
    for k in range(1, n):
        order_keys[k - 1] = (2 * np.int64(stats[k, 0]) + stats[k, 2] + KEY_BIAS) * n + k
    order_keys = np.sort(order_keys)
    order = np.empty(n - 1, np.int64)
    centre2 = np.empty(n - 1, np.int64)  # 2 * centre x, sorted
    for t in range(n - 1):
        order[t] = order_keys[t] % n
        centre2[t] = order_keys[t] // n - KEY_BIAS
    pieces = np.empty(n, np.int64)
    group = np.empty(n, np.int64)
    for r in range(n_rows):
        ts, ti, bs, bi = lines[r, 0], lines[r, 1], lines[r, 2], lines[r, 3]
        x0 = np.int64(1) << 62
        x1 = -(np.int64(1) << 62)
        mean_height = 0.0
        for t in range(row_start[r], row_start[r + 1]):
            k = members[t]
            x0 = min(x0, np.int64(stats[k, 0]))
            x1 = max(x1, np.int64(stats[k, 0]) + stats[k, 2])
            mean_height += stats[k, 3]
        mean_height /= row_start[r + 1] - row_start[r]
        reach = max_gap * mean_height
        lo = np.searchsorted(centre2, np.int64(math.floor(2.0 * (x0 - reach))))
        n_pieces = 0
        for t in range(lo, n - 1):
            if centre2[t] > 2.0 * (x1 + reach):
                break
            k = order[t]
            if row_of[k] >= 0:
                continue
            x = stats[k, 0]
            y = stats[k, 1]
            w = stats[k, 2]
            h = stats[k, 3]
            if w < 1 or h < 1:
                continue
            cx = x + 0.5 * w
            top = ts * cx + ti
            bottom = bs * cx + bi
            band = bottom - top
            if band <= 0.0:
                continue
            tol = BAND_TOLERANCE * band
            if y < top - tol or y + h > bottom + tol:
                continue  # sticks out of the row's band
            if _overlaps_members(stats, members, row_start[r], row_start[r + 1], x, w):
                continue
            if h >= PIECE_MAX_HEIGHT * band:
                # A whole character (or touching ones) that lost its place in the chain.
                if y <= top + tol and y + h >= bottom - tol and 10 * w >= h and 2 * w <= 5 * h:
                    row_of[k] = r
            elif h >= PIECE_MIN_HEIGHT * band:
                pieces[n_pieces] = k
                n_pieces += 1
        _attach_pieces(stats, row_of, pieces, n_pieces, group, r, ts, ti, bs, bi)
    if n_rows == 1:
        return row_of, lines
    return _merge_rows(stats, row_of, lines, members, row_start, n_rows, max_height_ratio, max_gap, xs, tops,
                       bottoms)


@numba.njit(cache=True, nogil=True)
def _find_row(parent, r):
    while parent[r] != r:
        r = parent[r]
    return r


@numba.njit(cache=True, nogil=True)
def _merge_rows(stats, row_of, lines, members, row_start, n_rows, max_height_ratio, max_gap, xs, tops, bottoms):
    """Merge rows that continue each other (the gap between them bridged by what step 4 attached): ends
    within ``max_gap`` heights, heights within ``max_height_ratio``, both pairs of lines meeting in the gap."""
    n = stats.shape[0]
    x0 = np.full(n_rows, np.int64(1) << 62)
    x1 = np.full(n_rows, -(np.int64(1) << 62))
    for k in range(1, n):
        r = row_of[k]
        if r >= 0:
            x0[r] = min(x0[r], np.int64(stats[k, 0]))
            x1[r] = max(x1[r], np.int64(stats[k, 0]) + stats[k, 2])
    height = np.empty(n_rows, np.float64)
    for r in range(n_rows):
        height[r] = 0.0
        for t in range(row_start[r], row_start[r + 1]):
            height[r] += stats[members[t], 3]
        height[r] /= row_start[r + 1] - row_start[r]
    parent = np.arange(n_rows)
    merged = False
    for a in range(n_rows):
        for b in range(a + 1, n_rows):
            left, right = (a, b) if x0[a] <= x0[b] else (b, a)
            mean_height = 0.5 * (height[a] + height[b])
            gap = float(x0[right] - x1[left])
            if gap > max_gap * mean_height or gap < -MAX_OVERLAP * mean_height:
                continue
            if max(height[a], height[b]) > max_height_ratio * min(height[a], height[b]):
                continue
            xm = 0.5 * (x1[left] + x0[right])
            tol = BAND_TOLERANCE * mean_height
            if abs((lines[a, 0] * xm + lines[a, 1]) - (lines[b, 0] * xm + lines[b, 1])) > tol:
                continue
            if abs((lines[a, 2] * xm + lines[a, 3]) - (lines[b, 2] * xm + lines[b, 3])) > tol:
                continue
            ra = _find_row(parent, a)
            rb = _find_row(parent, b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
                merged = True
    if not merged:
        return row_of, lines
    # Renumber (roots in order) and refit each merged row over the chain members of its parts.
    new_index = np.full(n_rows, -1, np.int64)
    n_merged = 0
    for r in range(n_rows):
        if _find_row(parent, r) == r:
            new_index[r] = n_merged
            n_merged += 1
    for k in range(1, n):
        if row_of[k] >= 0:
            row_of[k] = new_index[_find_row(parent, row_of[k])]
    merged_lines = np.empty((n_merged, 4), np.float64)
    group = np.empty(row_start[n_rows], np.int64)
    for root in range(n_rows):
        if new_index[root] < 0:
            continue
        size = 0
        for r in range(n_rows):
            if _find_row(parent, r) == root:
                for t in range(row_start[r], row_start[r + 1]):
                    group[size] = members[t]
                    size += 1
        mean_height = _row_points(stats, group, 0, size, xs, tops, bottoms)
        q = new_index[root]
        slope, intercept = _robust_fit(xs, tops, size, mean_height)
        merged_lines[q, 0] = slope
        merged_lines[q, 1] = intercept
        slope, intercept = _robust_fit(xs, bottoms, size, mean_height)
        merged_lines[q, 2] = slope
        merged_lines[q, 3] = intercept
    return row_of, merged_lines


@numba.njit(cache=True, nogil=True)
def _overlaps_members(stats, members, start, stop, x, w):
    """True when [x, x + w) overlaps a chain member of the row by more than MAX_OVERLAP of w."""
    for t in range(start, stop):
        k = members[t]
        overlap = min(np.int64(x) + w, np.int64(stats[k, 0]) + stats[k, 2]) - max(np.int64(x), np.int64(stats[k, 0]))
        if overlap > MAX_OVERLAP * w:
            return True
    return False


@numba.njit(cache=True, nogil=True)
def _attach_pieces(stats, row_of, pieces, n_pieces, group, r, ts, ti, bs, bi):
    """Join pieces (in centre-x order) that overlap in x; a group spanning the band is one broken character."""
    t = 0
    while t < n_pieces:
        k = pieces[t]
        gx0 = np.int64(stats[k, 0])
        gx1 = gx0 + stats[k, 2]
        gy0 = np.int64(stats[k, 1])
        gy1 = gy0 + stats[k, 3]
        covered = np.int64(stats[k, 3])
        size = 1
        group[0] = k
        u = t + 1
        while u < n_pieces:
            q = pieces[u]
            qx0 = np.int64(stats[q, 0])
            qx1 = qx0 + stats[q, 2]
            overlap = min(gx1, qx1) - max(gx0, qx0)
            if overlap <= MAX_OVERLAP * min(gx1 - gx0, qx1 - qx0):
                break
            gx0 = min(gx0, qx0)
            gx1 = max(gx1, qx1)
            gy0 = min(gy0, np.int64(stats[q, 1]))
            gy1 = max(gy1, np.int64(stats[q, 1]) + stats[q, 3])
            covered += stats[q, 3]
            group[size] = q
            size += 1
            u += 1
        if size >= 2:
            cx = 0.5 * (gx0 + gx1)
            top = ts * cx + ti
            bottom = bs * cx + bi
            band = bottom - top
            tol = BAND_TOLERANCE * band
            if (gy0 <= top + tol and gy1 >= bottom - tol and covered >= PIECES_COVER * band
                    and 10 * (gx1 - gx0) >= gy1 - gy0 and 5 * (gx1 - gx0) <= 6 * (gy1 - gy0)):
                for g in range(size):
                    row_of[group[g]] = r
        t = u


def find_character_rows(stats, min_height, max_height, max_height_ratio, max_gap, max_angle):
    """Rows of character-like components: ``(row_of (n,) int32, lines (R, 4) float64)``.

    Same contract and output as the Cython kernel (see fastplate/_backend.py).
    """
    return _kernel(stats, min_height, max_height, max_height_ratio, max_gap, max_angle)


# ------------------------------------------------------------------------------------------ row geometry
@numba.njit(cache=True, nogil=True)
def _row_shape(stats, members, lo, hi, line, pad_x, pad_y, feat, ext, quad):
    """Features, extent and padded quad of one row (as ``row_shape`` in _segment.pyx, operation for operation)."""
    count = hi - lo
    hsum = 0.0
    for t in range(lo, hi):
        hsum += stats[members[t], 3]
    hm = hsum / count
    dev_sum = 0.0
    dev_max = -np.inf
    off_sum = 0.0
    off_max = -np.inf
    fill_sum = 0.0
    x0 = np.inf
    x1 = -np.inf
    y0 = np.inf
    y1 = -np.inf
    for t in range(lo, hi):
        k = members[t]
        x = float(stats[k, 0])
        y = float(stats[k, 1])
        w = float(stats[k, 2])
        h = float(stats[k, 3])
        v = abs(h - hm)
        dev_sum += v
        dev_max = max(dev_max, v)
        cx = x + w / 2
        v = abs(y - (line[0] * cx + line[1])) + abs(y + h - (line[2] * cx + line[3]))
        off_sum += v
        off_max = max(off_max, v)
        fill_sum += stats[k, 4] / max(w * h, 1.0)
        x0 = min(x0, x)
        x1 = max(x1, x + w)
        y0 = min(y0, y)
        y1 = max(y1, y + h)
    rest = count - 1 if count > 1 else 1
    feat[0] = count
    feat[1] = (dev_sum - dev_max) / rest / hm
    feat[2] = (off_sum - off_max) / rest / hm
    feat[3] = fill_sum / count
    ext[0] = x0
    ext[1] = x1
    ext[2] = y0
    ext[3] = y1
    ext[4] = hm
    height = max(1.0, ((line[2] - line[0]) * (x0 + x1) + 2 * (line[3] - line[1])) / 2)
    ax = x0 - pad_x * height
    bx = x1 + pad_x * height
    dy = pad_y * height
    quad[0, 0] = ax
    quad[0, 1] = line[0] * ax + line[1] - dy
    quad[1, 0] = bx
    quad[1, 1] = line[0] * bx + line[1] - dy
    quad[2, 0] = bx
    quad[2, 1] = line[2] * bx + line[3] + dy
    quad[3, 0] = ax
    quad[3, 1] = line[2] * ax + line[3] + dy


@numba.njit(cache=True, nogil=True)
def _geometry_kernel(stats, row_of, lines, min_chars, max_chars, pad_x, pad_y):
    n = stats.shape[0]
    n_rows = lines.shape[0]
    cnt = np.zeros(n_rows + 1, np.int64)
    rank = np.empty(n_rows + 1, np.int64)
    pos = np.full(n_rows + 1, -1, np.int64)
    for k in range(n):
        if row_of[k] >= 0:
            cnt[row_of[k]] += 1
    kept = 0
    for r in range(n_rows):  # longest first; a stable insertion sort keeps equal rows in the kernel's order
        if cnt[r] < min_chars or cnt[r] > max_chars:
            continue
        i = kept
        while i > 0 and cnt[rank[i - 1]] < cnt[r]:
            rank[i] = rank[i - 1]
            i -= 1
        rank[i] = r
        kept += 1
    starts = np.zeros(kept + 1, np.int64)
    for i in range(kept):
        pos[rank[i]] = i
        starts[i + 1] = starts[i] + cnt[rank[i]]
    members = np.empty(starts[kept], np.int64)
    fill = starts[:kept].copy()
    out_lines = np.empty((kept, 4), np.float64)
    feats = np.empty((kept, 4), np.float64)
    exts = np.empty((kept, 5), np.float64)
    quads = np.empty((kept, 4, 2), np.float64)
    for k in range(n):  # labels ascending, so each row's slice starts in label order
        if row_of[k] >= 0 and pos[row_of[k]] >= 0:
            i = pos[row_of[k]]
            members[fill[i]] = k
            fill[i] += 1
    for i in range(kept):
        for j in range(starts[i] + 1, starts[i + 1]):  # stable insertion sort by box x
            label = members[j]
            key = stats[label, 0]
            t = j
            while t > starts[i] and stats[members[t - 1], 0] > key:
                members[t] = members[t - 1]
                t -= 1
            members[t] = label
        for c in range(4):
            out_lines[i, c] = lines[rank[i], c]
        _row_shape(stats, members, starts[i], starts[i + 1], out_lines[i], pad_x, pad_y, feats[i], exts[i], quads[i])
    return members, np.diff(starts), out_lines, feats, exts, quads


def row_geometry(stats, row_of, lines, min_chars, max_chars, pad_x, pad_y):
    """Twin of ``fastplate._segment.row_geometry``: rows of ``min_chars..max_chars`` members with their
    features, extents and padded quads (see there)."""
    return _geometry_kernel(stats, row_of, lines, int(min_chars), int(max_chars), float(pad_x), float(pad_y))
