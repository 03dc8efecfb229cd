# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Group character-like components into text rows (the Cython kernel behind kernels.find_character_rows).

Irregular work on a few hundred boxes, so it reads best as plain loops; they run without the GIL.
``fastplate/_numba/rows.py`` is the same algorithm, operation for operation (identical results).

1. Candidates: ``min_height <= h <= max_height`` and ``0.1 <= w/h <= 2.5`` (up to 1.2 for one character,
   wider for characters fused into one component), sorted by box centre x.
2. Each candidate's best right and best left neighbour: heights within ``max_height_ratio``, horizontal
   gap at most ``max_gap`` times the mean height (overlap at most half the narrower box), centres on a
   line of at most ``max_angle`` degrees; cost = centre dx + |centre dy|. Mutual best pairs link into
   chains, so each component has at most one neighbour on each side.
3. A chain end that lies more than 0.2 mean heights off the top/bottom lines through the other members
   is dropped (repeatedly, while 3+ remain). A row needs 2+ members of single-character aspect. Its top
   and bottom lines are least-squares fits over the member boxes' tops and bottoms at their centre x,
   refit once without the worst point when it is off by more than 0.1 mean heights (4+ members).
4. What the chains missed joins a row when it sits in the row's band (between its lines, 0.25 band
   heights of tolerance) within ``max_gap`` heights of its ends and does not overlap a member: a whole
   character (height >= 0.8 band, w/h up to 2.5: touching characters), or pieces of a broken character
   (each >= 0.2 band high, overlapping in x, together spanning the band and covering 0.7 of it).
5. Rows that continue each other merge (a broken or fused character can split a chain in two): ends
   within ``max_gap`` heights, heights within ``max_height_ratio``, both pairs of lines meeting within
   0.25 heights in the gap. Merged rows are refit over their chain members.

Rows are numbered in centre-x order of their chains' first components. Sort keys pack
(2 * centre x, label) into one int64, so every sort is unique and both implementations agree.
"""
import numpy as np

from libc.math cimport INFINITY, M_PI, fabs, floor, tan
from libc.stdlib cimport qsort

ctypedef long long i64

# Sort keys are (2 * centre x + KEY_BIAS) * n + label: the bias keeps them non-negative for any int32 x, w.
cdef i64 KEY_BIAS = (<i64>1) << 33

cdef double MAX_OVERLAP = 0.5
cdef double BAND_TOLERANCE = 0.25
cdef double PIECE_MAX_HEIGHT = 0.8
cdef double PIECE_MIN_HEIGHT = 0.2
cdef double PIECES_COVER = 0.7
cdef double OUTLIER = 0.1
cdef double TRIM = 0.2


cdef int compare_i64(const void* a, const void* b) noexcept nogil:
    cdef i64 x = (<const i64*>a)[0]
    cdef i64 y = (<const i64*>b)[0]
    return (x > y) - (x < y)


cdef inline i64 imin(i64 a, i64 b) noexcept nogil:
    return a if a < b else b


cdef inline i64 imax(i64 a, i64 b) noexcept nogil:
    return a if a > b else b


cdef inline double dmax(double a, double b) noexcept nogil:
    return a if a > b else b


cdef void fit_line(const double* xs, const double* ys, i64 m, i64 skip, double* slope, double* intercept) noexcept nogil:
    """Least-squares line y = slope * x + intercept through points 0..m-1 except ``skip``."""
    cdef i64 t, count = 0
    cdef double mx = 0.0, my = 0.0, sxx = 0.0, sxy = 0.0
    for t in range(m):
        if t != skip:
            mx += xs[t]
            my += ys[t]
            count += 1
    mx /= count
    my /= count
    for t in range(m):
        if t != skip:
            sxx += (xs[t] - mx) * (xs[t] - mx)
            sxy += (xs[t] - mx) * (ys[t] - my)
    slope[0] = sxy / sxx if sxx > 0.0 else 0.0
    intercept[0] = my - slope[0] * mx


cdef void robust_fit(const double* xs, const double* ys, i64 m, double mean_height, double* slope,
                     double* intercept) noexcept nogil:
    """Least squares, refit once without the worst point when it is an outlier (needs 4+ points)."""
    cdef i64 t, worst = -1
    cdef double residual, worst_residual
    fit_line(xs, ys, m, -1, slope, intercept)
    if m < 4:
        return
    worst_residual = dmax(1.0, OUTLIER * mean_height)
    for t in range(m):
        residual = fabs(ys[t] - (slope[0] * xs[t] + intercept[0]))
        if residual > worst_residual:
            worst_residual = residual
            worst = t
    if worst >= 0:
        fit_line(xs, ys, m, worst, slope, intercept)


cdef double row_points(const int[:, ::1] stats, const i64* members, i64 lo, i64 hi, double* xs, double* tops,
                       double* bottoms) noexcept nogil:
    """Box centre x, top and bottom of members[lo:hi] into xs, tops, bottoms; returns their mean height."""
    cdef i64 t, k
    cdef double mean_height = 0.0
    for t in range(lo, hi):
        k = members[t]
        xs[t - lo] = stats[k, 0] + 0.5 * stats[k, 2]
        tops[t - lo] = <double>stats[k, 1]
        bottoms[t - lo] = <double>stats[k, 1] + stats[k, 3]
        mean_height += stats[k, 3]
    return mean_height / (hi - lo)


cdef double end_residual(const double* xs, const double* tops, const double* bottoms, i64 count, i64 t) noexcept nogil:
    """How far point t lies from the top and bottom lines fitted through the other points."""
    cdef double slope, intercept, top
    fit_line(xs, tops, count, t, &slope, &intercept)
    top = fabs(tops[t] - (slope * xs[t] + intercept))
    fit_line(xs, bottoms, count, t, &slope, &intercept)
    return dmax(top, fabs(bottoms[t] - (slope * xs[t] + intercept)))


cdef bint overlaps_members(const int[:, ::1] stats, const i64* members, i64 start, i64 stop, i64 x,
                           i64 w) noexcept nogil:
    """True when [x, x + w) overlaps a chain member of the row by more than MAX_OVERLAP of w."""
    cdef i64 t, k, overlap
    for t in range(start, stop):
        k = members[t]
        overlap = imin(x + w, <i64>stats[k, 0] + stats[k, 2]) - imax(x, <i64>stats[k, 0])
        if overlap > MAX_OVERLAP * w:
            return True
    return False


cdef void attach_pieces(const int[:, ::1] stats, int[::1] row_of, const i64* pieces, i64 n_pieces, i64* group,
                        int r, double ts, double ti, double bs, double bi) noexcept nogil:
    """Join pieces (in centre-x order) that overlap in x; a group spanning the band is one broken character."""
    cdef i64 t = 0, u, g, k, q, size, gx0, gx1, gy0, gy1, qx0, qx1, overlap, covered
    cdef double cx, top, bottom, band, tol
    while t < n_pieces:
        k = pieces[t]
        gx0 = stats[k, 0]
        gx1 = gx0 + stats[k, 2]
        gy0 = stats[k, 1]
        gy1 = gy0 + stats[k, 3]
        covered = stats[k, 3]
        size = 1
        group[0] = k
        u = t + 1
        while u < n_pieces:
            q = pieces[u]
            qx0 = stats[q, 0]
            qx1 = qx0 + stats[q, 2]
            overlap = imin(gx1, qx1) - imax(gx0, qx0)
            if overlap <= MAX_OVERLAP * imin(gx1 - gx0, qx1 - qx0):
                break
            gx0 = imin(gx0, qx0)
            gx1 = imax(gx1, qx1)
            gy0 = imin(gy0, stats[q, 1])
            gy1 = imax(gy1, <i64>stats[q, 1] + stats[q, 3])
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


cdef int find_rows(const int[:, ::1] stats, i64 min_height, i64 max_height, double max_height_ratio,
                   double max_gap, double max_angle, int[::1] row_of, double[:, ::1] lines, i64[::1] keys,
                   i64[::1] cand, i64[::1] best_right, i64[::1] best_left, double[::1] cost_right,
                   double[::1] cost_left, i64[::1] members, i64[::1] row_start, double[::1] xs,
                   double[::1] tops, double[::1] bottoms, i64[::1] order, i64[::1] centre2,
                   i64[::1] pieces, i64[::1] group) noexcept nogil:
    """Fill row_of and lines[:R]; return R. All work arrays have n entries (row_start n + 1)."""
    cdef i64 n = stats.shape[0]
    cdef double tan_max = tan(max_angle * M_PI / 180.0)
    cdef i64 k, a, b, c, i, j, t, m = 0, nxt, lo, hi, base, count, singles, n_members = 0, n_pieces
    cdef i64 w, h, x, y, x0, x1
    cdef int n_rows = 0, r
    cdef double xi, yi, wi, hi_, xj, yj, wj, hj, cxi, cyi, cxj, limit, gap, dx, dy, cost, mean_height
    cdef double first, last, slope, intercept, ts, ti, bs, bi, reach, cx, top, bottom, band, tol

    for k in range(n):
        row_of[k] = -1

    # ---- 1. candidates (character-like or touching characters), sorted by centre x
    for k in range(1, n):
        w = stats[k, 2]
        h = stats[k, 3]
        if h < min_height or h > max_height or w < 1:
            continue
        if 10 * w < h or 2 * w > 5 * h:  # aspect outside [0.1, 2.5]
            continue
        keys[m] = (2 * <i64>stats[k, 0] + w + KEY_BIAS) * n + k  # unique: ties in centre x broken by label
        m += 1
    qsort(&keys[0], m, sizeof(i64), compare_i64)
    for a in range(m):
        cand[a] = keys[a] % n

    # ---- 2. best right and left neighbour of each candidate
    for a in range(m):
        best_right[a] = -1
        best_left[a] = -1
        cost_right[a] = INFINITY
        cost_left[a] = INFINITY
    for a in range(m):
        i = cand[a]
        xi = stats[i, 0]
        yi = stats[i, 1]
        wi = stats[i, 2]
        hi_ = stats[i, 3]
        cxi = xi + 0.5 * wi
        cyi = yi + 0.5 * hi_
        # Past this centre x no candidate can be close enough (its half width <= 1.25 * ratio * hi).
        limit = <double>(<i64>stats[i, 0] + stats[i, 2]) + hi_ * (
            1.25 * max_height_ratio + 0.5 * max_gap * (1.0 + max_height_ratio)) + 1.0
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
            if (hi_ if hi_ > hj else hj) > max_height_ratio * (hi_ if hi_ < hj else hj):
                continue
            gap = <double>(<i64>stats[j, 0] - (<i64>stats[i, 0] + stats[i, 2]))
            if gap > max_gap * 0.5 * (hi_ + hj) or gap < -MAX_OVERLAP * (wi if wi < wj else wj):
                continue
            dx = cxj - cxi
            dy = fabs((yj + 0.5 * hj) - cyi)
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
    row_start[0] = 0
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
            mean_height = row_points(stats, &members[0], lo, hi, &xs[0], &tops[0], &bottoms[0])
            first = end_residual(&xs[0], &tops[0], &bottoms[0], count, 0)
            last = end_residual(&xs[0], &tops[0], &bottoms[0], count, count - 1)
            if dmax(first, last) <= TRIM * mean_height:
                break
            if last >= first:
                hi -= 1
            else:
                lo += 1
        singles = 0
        for t in range(lo, hi):
            k = members[t]
            if 5 * <i64>stats[k, 2] <= 6 * <i64>stats[k, 3]:
                singles += 1
        if singles < 2:
            n_members = base
            continue
        for t in range(lo, hi):
            members[base + t - lo] = members[t]
            row_of[members[t]] = n_rows
        n_members = base + hi - lo
        count = n_members - base
        mean_height = row_points(stats, &members[0], base, n_members, &xs[0], &tops[0], &bottoms[0])
        robust_fit(&xs[0], &tops[0], count, mean_height, &slope, &intercept)
        lines[n_rows, 0] = slope
        lines[n_rows, 1] = intercept
        robust_fit(&xs[0], &bottoms[0], count, mean_height, &slope, &intercept)
        lines[n_rows, 2] = slope
        lines[n_rows, 3] = intercept
        n_rows += 1
        row_start[n_rows] = n_members

    if n_rows == 0:
        return 0
    # ---- 4. attach what the chains missed: touching characters and broken ones (stacked pieces)
    for k in range(1, n):
        keys[k - 1] = (2 * <i64>stats[k, 0] + stats[k, 2] + KEY_BIAS) * n + k
    qsort(&keys[0], n - 1, sizeof(i64), compare_i64)
    for t in range(n - 1):
        order[t] = keys[t] % n
        centre2[t] = keys[t] // n - KEY_BIAS  # 2 * centre x, sorted
    for r in range(n_rows):
        ts = lines[r, 0]
        ti = lines[r, 1]
        bs = lines[r, 2]
        bi = lines[r, 3]
        x0 = (<i64>1) << 62
        x1 = -((<i64>1) << 62)
        mean_height = 0.0
        for t in range(row_start[r], row_start[r + 1]):
            k = members[t]
            x0 = imin(x0, stats[k, 0])
            x1 = imax(x1, <i64>stats[k, 0] + stats[k, 2])
            mean_height += stats[k, 3]
        mean_height /= row_start[r + 1] - row_start[r]
        reach = max_gap * mean_height
        # First sorted position with centre2 >= floor(2 * (x0 - reach)) (as numpy.searchsorted, side left).
        lo = <i64>floor(2.0 * (x0 - reach))
        a = 0
        b = n - 1
        while a < b:
            c = (a + b) // 2
            if centre2[c] < lo:
                a = c + 1
            else:
                b = c
        n_pieces = 0
        for t in range(a, n - 1):
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
            if overlaps_members(stats, &members[0], row_start[r], row_start[r + 1], x, w):
                continue
            if h >= PIECE_MAX_HEIGHT * band:
                # A whole character (or touching ones) that lost its place in the chain.
                if y <= top + tol and y + h >= bottom - tol and 10 * w >= h and 2 * w <= 5 * h:
                    row_of[k] = r
            elif h >= PIECE_MIN_HEIGHT * band:
                pieces[n_pieces] = k
                n_pieces += 1
        attach_pieces(stats, row_of, &pieces[0], n_pieces, &group[0], r, ts, ti, bs, bi)
    if n_rows == 1:
        return 1
    return merge_rows(stats, row_of, lines, &members[0], &row_start[0], n_rows, max_height_ratio, max_gap,
                      &xs[0], &tops[0], &bottoms[0], &order[0], &centre2[0], &cost_right[0], &pieces[0],
                      &cand[0], &group[0])


cdef inline i64 find_row(const i64* parent, i64 r) noexcept nogil:
    while parent[r] != r:
        r = parent[r]
    return r


cdef int merge_rows(const int[:, ::1] stats, int[::1] row_of, double[:, ::1] lines, const i64* members,
                    const i64* row_start, int n_rows, double max_height_ratio, double max_gap, double* xs,
                    double* tops, double* bottoms, i64* x0, i64* x1, double* height, i64* parent,
                    i64* new_index, i64* group) noexcept nogil:
    """Merge rows that continue each other (the gap between them bridged by what step 4 attached): ends
    within ``max_gap`` heights, heights within ``max_height_ratio``, both pairs of lines meeting in the gap.
    Rewrites row_of and lines[:R]; returns R. x0 ... new_index: work arrays of n_rows entries."""
    cdef i64 n = stats.shape[0]
    cdef i64 k, t, a, b, left, right, ra, rb, root, size, q
    cdef int r, n_merged = 0
    cdef bint merged = False
    cdef double mean_height, gap, xm, tol, slope, intercept
    for r in range(n_rows):
        x0[r] = (<i64>1) << 62
        x1[r] = -((<i64>1) << 62)
    for k in range(1, n):
        r = row_of[k]
        if r >= 0:
            x0[r] = imin(x0[r], stats[k, 0])
            x1[r] = imax(x1[r], <i64>stats[k, 0] + stats[k, 2])
    for r in range(n_rows):
        height[r] = 0.0
        for t in range(row_start[r], row_start[r + 1]):
            height[r] += stats[members[t], 3]
        height[r] /= row_start[r + 1] - row_start[r]
        parent[r] = r
    for a in range(n_rows):
        for b in range(a + 1, n_rows):
            if x0[a] <= x0[b]:
                left, right = a, b
            else:
                left, right = b, a
            mean_height = 0.5 * (height[a] + height[b])
            gap = <double>(x0[right] - x1[left])
            if gap > max_gap * mean_height or gap < -MAX_OVERLAP * mean_height:
                continue
            if dmax(height[a], height[b]) > max_height_ratio * (height[a] if height[a] < height[b] else height[b]):
                continue
            xm = 0.5 * (x1[left] + x0[right])
            tol = BAND_TOLERANCE * mean_height
            if fabs((lines[a, 0] * xm + lines[a, 1]) - (lines[b, 0] * xm + lines[b, 1])) > tol:
                continue
            if fabs((lines[a, 2] * xm + lines[a, 3]) - (lines[b, 2] * xm + lines[b, 3])) > tol:
                continue
            ra = find_row(parent, a)
            rb = find_row(parent, b)
            if ra != rb:
                parent[imax(ra, rb)] = imin(ra, rb)
                merged = True
    if not merged:
        return n_rows
    # Renumber (roots in order) and refit each merged row over the chain members of its parts.
    for r in range(n_rows):
        new_index[r] = -1
        if find_row(parent, r) == r:
            new_index[r] = n_merged
            n_merged += 1
    for k in range(1, n):
        if row_of[k] >= 0:
            row_of[k] = <int>new_index[find_row(parent, row_of[k])]
    for root in range(n_rows):
        if new_index[root] < 0:
            continue
        size = 0
        for r in range(n_rows):
            if find_row(parent, r) == root:
                for t in range(row_start[r], row_start[r + 1]):
                    group[size] = members[t]
                    size += 1
        mean_height = row_points(stats, group, 0, size, xs, tops, bottoms)
        q = new_index[root]  # the refit reads no lines, so lines[:n_merged] can be overwritten in place
        robust_fit(xs, tops, size, mean_height, &slope, &intercept)
        lines[q, 0] = slope
        lines[q, 1] = intercept
        robust_fit(xs, bottoms, size, mean_height, &slope, &intercept)
        lines[q, 2] = slope
        lines[q, 3] = intercept
    return n_merged


def find_character_rows(const int[:, ::1] stats, long long min_height, long long max_height,
                        double max_height_ratio, double max_gap, double max_angle):
    """Rows of character-like components: ``(row_of (n,) int32, lines (R, 4) float64)``.

    ``row_of[k]`` is the row of component k or -1 (always -1 for row 0, the background); ``lines[r]`` is
    (top slope, top intercept, bottom slope, bottom intercept) of row r, ``y = slope * x + intercept``.
    Trusts its arguments: call fastplate.kernels.find_character_rows, which validates them.
    """
    cdef i64 n = stats.shape[0]
    cdef i64 size = n if n > 1 else 1
    row_of = np.empty(n, np.int32)
    lines = np.empty((size, 4), np.float64)
    i64s = [np.empty(size, np.int64) for _ in range(10)]
    f64s = [np.empty(size, np.float64) for _ in range(5)]
    row_start = np.empty(size + 1, np.int64)
    cdef int[::1] row_of_view = row_of
    cdef double[:, ::1] lines_view = lines
    cdef i64[::1] keys = i64s[0], cand = i64s[1], best_right = i64s[2], best_left = i64s[3]
    cdef i64[::1] members = i64s[4], order = i64s[5], centre2 = i64s[6], pieces = i64s[7], group = i64s[8]
    cdef i64[::1] row_start_view = row_start
    cdef double[::1] cost_right = f64s[0], cost_left = f64s[1], xs = f64s[2], tops = f64s[3], bottoms = f64s[4]
    cdef int n_rows
    if n == 0:
        return row_of, np.empty((0, 4), np.float64)
    with nogil:
        n_rows = find_rows(stats, min_height, max_height, max_height_ratio, max_gap, max_angle, row_of_view,
                           lines_view, keys, cand, best_right, best_left, cost_right, cost_left, members,
                           row_start_view, xs, tops, bottoms, order, centre2, pieces, group)
    return row_of, lines[:n_rows].copy()


# ------------------------------------------------------------------------------------------ row geometry
cdef void row_shape(const int[:, ::1] stats, const i64* members, i64 lo, i64 hi, const double* line, double pad_x,
                    double pad_y, double* feat, double* ext, double* quad) noexcept nogil:
    """Features, extent and padded quad of one row: the same operations, in the same order, as the Numba
    twin fastplate._numba.rows._row_shape, so both backends give identical numbers."""
    cdef i64 t, k, count = hi - lo
    cdef double x, y, w, h, cx, v, hsum = 0, hm, dev_sum = 0, dev_max = -INFINITY, off_sum = 0, off_max = -INFINITY
    cdef double fill_sum = 0, x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY, height, ax, bx, dy
    for t in range(lo, hi):
        k = members[t]
        hsum += stats[k, 3]
    hm = hsum / count
    for t in range(lo, hi):
        k = members[t]
        x = stats[k, 0]
        y = stats[k, 1]
        w = stats[k, 2]
        h = stats[k, 3]
        v = fabs(h - hm)
        dev_sum += v
        dev_max = dmax(dev_max, v)
        cx = x + w / 2
        v = fabs(y - (line[0] * cx + line[1])) + fabs(y + h - (line[2] * cx + line[3]))
        off_sum += v
        off_max = dmax(off_max, v)
        fill_sum += stats[k, 4] / dmax(w * h, 1.0)
        x0 = x if x < x0 else x0
        x1 = x + w if x + w > x1 else x1
        y0 = y if y < y0 else y0
        y1 = y + h if y + h > y1 else y1
    feat[0] = count
    feat[1] = (dev_sum - dev_max) / (count - 1 if count > 1 else 1) / hm
    feat[2] = (off_sum - off_max) / (count - 1 if count > 1 else 1) / hm
    feat[3] = fill_sum / count
    ext[0] = x0
    ext[1] = x1
    ext[2] = y0
    ext[3] = y1
    ext[4] = hm
    height = dmax(1.0, ((line[2] - line[0]) * (x0 + x1) + 2 * (line[3] - line[1])) / 2)
    ax = x0 - pad_x * height
    bx = x1 + pad_x * height
    dy = pad_y * height
    quad[0] = ax
    quad[1] = line[0] * ax + line[1] - dy
    quad[2] = bx
    quad[3] = line[0] * bx + line[1] - dy
    quad[4] = bx
    quad[5] = line[2] * bx + line[3] + dy
    quad[6] = ax
    quad[7] = line[2] * ax + line[3] + dy


def row_geometry(const int[:, ::1] stats, const int[::1] row_of, const double[:, ::1] lines, long long min_chars,
                 long long max_chars, double pad_x, double pad_y):
    """The rows of ``find_character_rows``' output with ``min_chars..max_chars`` members, as the localizer
    uses them: ``(members (M,), counts (R,), lines (R, 4), features (R, 4), extents (R, 5), quads (R, 4, 2))``.

    Rows longest first (ties in row order), members left to right (ties by label), as
    ``kernels.character_row_table`` orders them; features as ``kernels.RowTable`` describes them; extents
    (x0, x1, y0, y1, mean height) and quads (padded by ``pad_x``, ``pad_y`` row heights), as the Numba twin
    ``fastplate._numba.rows.row_geometry`` computes them.
    Trusts its arguments (the localizer passes the kernel's own output).
    """
    cdef i64 n = stats.shape[0], n_rows = lines.shape[0], k, r, t, i, j, kept = 0, m = 0, key, label, c
    counts_all = np.zeros(n_rows + 1, np.int64)
    rank = np.empty(n_rows + 1, np.int64)
    position = np.full(n_rows + 1, -1, np.int64)
    cdef i64[::1] cnt = counts_all, rk = rank, pos = position
    for k in range(n):
        if row_of[k] >= 0:
            cnt[row_of[k]] += 1
    # rows longest first; a stable insertion sort keeps equal rows in the kernel's order
    for r in range(n_rows):
        if cnt[r] < min_chars or cnt[r] > max_chars:
            continue
        i = kept
        while i > 0 and cnt[rk[i - 1]] < cnt[r]:
            rk[i] = rk[i - 1]
            i -= 1
        rk[i] = r
        kept += 1
    starts = np.zeros(kept + 1, np.int64)
    cdef i64[::1] st = starts
    for i in range(kept):
        pos[rk[i]] = i
        st[i + 1] = st[i] + cnt[rk[i]]
    m = st[kept]
    members = np.empty(m, np.int64)
    fill = starts[:kept].copy()
    out_lines = np.empty((kept, 4), np.float64)
    feats = np.empty((kept, 4), np.float64)
    exts = np.empty((kept, 5), np.float64)
    quads = np.empty((kept, 4, 2), np.float64)
    cdef i64[::1] mem = members, fl = fill
    cdef double[:, ::1] ol = out_lines, fe = feats, ex = exts
    cdef double[:, :, ::1] qu = quads
    with nogil:
        for k in range(n):  # labels ascending, so each row's slice starts in label order
            if row_of[k] >= 0 and pos[row_of[k]] >= 0:
                i = pos[row_of[k]]
                mem[fl[i]] = k
                fl[i] += 1
        for i in range(kept):
            for j in range(st[i] + 1, st[i + 1]):  # stable insertion sort by box x
                label = mem[j]
                key = stats[label, 0]
                t = j
                while t > st[i] and stats[mem[t - 1], 0] > key:
                    mem[t] = mem[t - 1]
                    t -= 1
                mem[t] = label
            for c in range(4):
                ol[i, c] = lines[rk[i], c]
            row_shape(stats, &mem[0], st[i], st[i + 1], &ol[i, 0], pad_x, pad_y, &fe[i, 0], &ex[i, 0], &qu[i, 0, 0])
    return members, np.diff(starts), out_lines, feats, exts, quads
