"""Slow, obviously correct NumPy versions of the kernels, written from their definitions.

Tests compare both backends against these. They favour clarity over speed: window sums come from a
padded integral image, warps sample one pixel position at a time from the formula.
"""
import numpy as np


# --------------------------------------------------------------------------------------------- color
def to_gray(image):
    """BGR(A) uint8 -> gray with OpenCV's 15-bit fixed-point BT.601 weights."""
    b, g, r = (image[..., i].astype(np.int64) for i in range(3))
    return ((3735 * b + 19235 * g + 9798 * r + (1 << 14)) >> 15).astype(np.uint8)


# ----------------------------------------------------------------------------------------- threshold
def window_sums(image, block_size):
    """Sums of the pixels and of their squares over block x block windows, edges replicated (int64)."""
    r = block_size // 2
    padded = np.pad(image.astype(np.int64), r, mode="edge")
    sums = []
    for values in (padded, padded * padded):
        integral = np.zeros((values.shape[0] + 1, values.shape[1] + 1), np.int64)
        integral[1:, 1:] = values.cumsum(0).cumsum(1)
        h, w = image.shape
        b = block_size
        sums.append(integral[b:b + h, b:b + w] - integral[:h, b:b + w] - integral[b:b + h, :w] + integral[:h, :w])
    return sums


def local_mean_std(image, block_size):
    """Window mean and population standard deviation in float64."""
    s, q = window_sums(image, block_size)
    inv_d = 1.0 / (float(block_size) * float(block_size))
    mean = s * inv_d
    var = q * inv_d - mean * mean
    return mean, np.sqrt(np.maximum(var, 0.0))


def binarize(image, hit, invert):
    """255 where ``hit`` (``invert`` swaps), as uint8."""
    return np.where(hit != invert, 255, 0).astype(np.uint8)


def threshold_mean(image, block_size, c, invert=False):
    """cv2.adaptiveThreshold(ADAPTIVE_THRESH_MEAN_C) from its definition: mean rounded to uint8, then
    ``src - mean > -ceil(c)`` (THRESH_BINARY) or ``src - mean <= -floor(c)`` (THRESH_BINARY_INV)."""
    s, _ = window_sums(image, block_size)
    d = block_size * block_size
    mean = (2 * s + d) // (2 * d)  # round half up; d is odd so there are no ties
    diff = image.astype(np.int64) - mean
    if invert:
        return binarize(image, diff <= -np.floor(c), False)
    return binarize(image, diff > -np.ceil(c), False)


def threshold_sauvola(image, block_size, k=0.2, invert=False):
    """T = m * (1 + k * (s / R - 1)), R = 127.5; 255 where pixel > T."""
    mean, std = local_mean_std(image, block_size)
    t = mean * (1.0 + k * (std / 127.5 - 1.0))
    return binarize(image, image > t, invert), t


def threshold_wolf(image, block_size, k=0.2, invert=False):
    """T = (1 - k) m + k M + k s / R (m - M), M = image minimum, R = largest local std; 255 where pixel > T."""
    mean, std = local_mean_std(image, block_size)
    lowest = float(image.min())
    largest = float(std.max())
    a = std / largest if largest > 0 else np.zeros_like(std)
    t = (1.0 - k) * mean + k * lowest + k * a * (mean - lowest)
    return binarize(image, image > t, invert), t


def gaussian_kernel(n):
    """cv2.getGaussianKernel(n, 0) as float32 (fixed tables up to 9 taps)."""
    tables = {1: [1.0], 3: [0.25, 0.5, 0.25], 5: [0.0625, 0.25, 0.375, 0.25, 0.0625],
              7: [0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125],
              9: [0.015625, 0.05078125, 0.1171875, 0.19921875, 0.234375, 0.19921875, 0.1171875, 0.05078125,
                  0.015625]}
    if n in tables:
        return np.array(tables[n], np.float32)
    sigma = 0.3 * ((n - 1) * 0.5 - 1) + 0.8
    x = np.arange(n) - (n - 1) / 2
    kernel = np.exp(-(x * x) / (2 * sigma * sigma))
    return (kernel / kernel.sum()).astype(np.float32)


def threshold_gaussian(image, block_size, c, invert=False):
    """OpenCV 5's ADAPTIVE_THRESH_GAUSSIAN_C: float32 separable Gaussian blur (edges replicated), rounded
    to uint8, then compared like the mean."""
    kernel = gaussian_kernel(block_size)
    r = block_size // 2
    h, w = image.shape
    padded = np.pad(image.astype(np.float32), r, mode="edge")
    rows = sum(kernel[j] * padded[:, j:j + w] for j in range(block_size))
    blurred = sum(kernel[j] * rows[j:j + h, :] for j in range(block_size))
    mean = np.clip(np.rint(blurred), 0, 255).astype(np.int64)
    diff = image.astype(np.int64) - mean
    if invert:
        return binarize(image, diff <= -np.floor(c), False)
    return binarize(image, diff > -np.ceil(c), False)


# ---------------------------------------------------------------------------------------------- warp
def warp_batch(image, matrices, size, scale):
    """For each 3x3 matrix M and output pixel (x, y): (X, Y, W) = M @ (x, y, 1); sample the image at
    (X/W, Y/W) bilinearly, edges replicated. W == 0 or a non-finite position counts as far outside the
    image (replicated edge). Returns (N, C, h, w) float32 (computed in float64).
    """
    if image.ndim == 2:
        image = image[:, :, None]
    img_h, img_w, channels = image.shape
    h, w = size
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    out = np.empty((len(matrices), channels, h, w), np.float32)
    src = image.astype(np.float64)
    limit = max(img_h, img_w) + 2.0
    for i, m in enumerate(matrices):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            big_w = m[2, 0] * xs + (m[2, 1] * ys + m[2, 2])
            fx = (m[0, 0] * xs + (m[0, 1] * ys + m[0, 2])) / big_w
            fy = (m[1, 0] * xs + (m[1, 1] * ys + m[1, 2])) / big_w
        fx = np.nan_to_num(np.clip(fx, -limit, limit), nan=-limit)
        fy = np.nan_to_num(np.clip(fy, -limit, limit), nan=-limit)
        x0, y0 = np.floor(fx).astype(np.int64), np.floor(fy).astype(np.int64)
        ax, ay = fx - x0, fy - y0
        cx0, cx1 = np.clip(x0, 0, img_w - 1), np.clip(x0 + 1, 0, img_w - 1)
        cy0, cy1 = np.clip(y0, 0, img_h - 1), np.clip(y0 + 1, 0, img_h - 1)
        for ch in range(channels):
            p = src[:, :, ch]
            top = p[cy0, cx0] * (1 - ax) + p[cy0, cx1] * ax
            bottom = p[cy1, cx0] * (1 - ax) + p[cy1, cx1] * ax
            out[i, ch] = (top * (1 - ay) + bottom * ay) * scale
    return out


def quad_to_rect_matrices(quads, size):
    """Homographies (N, 3, 3) mapping output pixels (x, y, 1) of an (h, w) rectangle onto each quad
    (Heckbert's closed form: unit square -> quad, after pixels -> unit square) in NumPy, with the double
    operations of the kernels in the same order: they must equal it bit for bit. Raises ValueError for a
    degenerate quad (three corners on a line)."""
    h, w = size
    q = np.asarray(quads, dtype=np.float64)
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = (q[:, i].T for i in range(4))
    sx, sy = x0 - x1 + x2 - x3, y0 - y1 + y2 - y3
    dx1, dx2, dy1, dy2 = x1 - x2, x3 - x2, y1 - y2, y3 - y2
    det = dx1 * dy2 - dx2 * dy1
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        g = (sx * dy2 - dx2 * sy) / det
        hh = (dx1 * sy - sx * dy1) / det
        m = np.empty((q.shape[0], 3, 3))
        # Unit square (s, t) -> quad, then output pixels -> unit square: s = x / (w-1), t = y / (h-1).
        m[:, 0, 0], m[:, 0, 1], m[:, 0, 2] = (x1 - x0 + g * x1) / (w - 1), (x3 - x0 + hh * x3) / (h - 1), x0
        m[:, 1, 0], m[:, 1, 1], m[:, 1, 2] = (y1 - y0 + g * y1) / (w - 1), (y3 - y0 + hh * y3) / (h - 1), y0
        m[:, 2, 0], m[:, 2, 1], m[:, 2, 2] = g / (w - 1), hh / (h - 1), 1.0
    # The cross product at each corner: any three corners on a line make the homography singular.
    c0 = (x1 - x0) * (y3 - y0) - (x3 - x0) * (y1 - y0)
    c1 = (x0 - x1) * (y2 - y1) - (x2 - x1) * (y0 - y1)
    c3 = (x2 - x3) * (y0 - y3) - (x0 - x3) * (y2 - y3)
    flat = ~((np.abs(det) >= 1e-12) & (np.abs(c0) >= 1e-12) & (np.abs(c1) >= 1e-12) & (np.abs(c3) >= 1e-12))
    bad = ~np.isfinite(m).all(axis=(1, 2)) | flat
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        what = "has a corner that is not finite" if not np.isfinite(q[i]).all() else "has three corners on a line"
        raise ValueError(f"quads must be finite, non-degenerate quadrilaterals; quad {i} {what}")
    return m


# ------------------------------------------------------------------------------------- row geometry
def character_row_table(stats, row_of, lines, min_chars, max_chars, pad_x, pad_y):
    """NumPy version of the row_geometry kernel, from find_character_rows' ``(row_of, lines)``:
    ``(members, counts, lines, features, extents, quads)`` as kernels.character_row_table returns them."""
    idx = np.flatnonzero(row_of >= 0)
    counts = np.bincount(row_of[idx], minlength=len(lines))
    rank = np.argsort(-counts, kind="stable")  # longest first; equal rows in the kernel's order
    rank = rank[(counts[rank] >= min_chars) & (counts[rank] <= max_chars)]
    position = np.full(len(lines), -1, np.int64)
    position[rank] = np.arange(len(rank))
    row = position[row_of[idx]]
    idx, row = idx[row >= 0], row[row >= 0]
    members = idx[np.lexsort((stats[idx, 0], row))]  # by row, then x (ties by label: lexsort is stable)
    counts, lines = counts[rank], lines[rank].reshape(-1, 4)
    boxes = stats[members, :4].astype(np.float64)
    feats = row_features(boxes, stats[members, 4].astype(np.float64), counts, lines)
    ext, quads = row_quads(boxes, counts, lines, pad_x, pad_y)
    return members, counts, lines, feats, ext, quads


def row_features(boxes, area, counts, lines):
    """[count, height spread, misalignment, fill] per row; spread and misalignment without each row's
    largest value and over the mean height."""
    if not len(counts):
        return np.zeros((0, 4))
    rid = np.repeat(np.arange(len(counts)), counts)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    x, y, w, h = boxes.T
    line = lines[rid]
    cx = x + w / 2

    def mean(v):
        return np.bincount(rid, v, len(counts)) / counts

    def trimmed_mean(v):
        return (np.bincount(rid, v, len(counts)) - np.maximum.reduceat(v, starts)) / np.maximum(counts - 1, 1)

    hm = mean(h)
    spread = trimmed_mean(np.abs(h - hm[rid]))
    off = np.abs(y - (line[:, 0] * cx + line[:, 1])) + np.abs(y + h - (line[:, 2] * cx + line[:, 3]))
    fill = mean(area / np.maximum(w * h, 1.0))
    return np.stack([counts.astype(np.float64), spread / hm, trimmed_mean(off) / hm, fill], axis=1)


def row_quads(boxes, counts, lines, pad_x, pad_y):
    """Extents (x0, x1, y0, y1, mean height) and quads padded by pad_x/pad_y row heights, per row."""
    if not len(counts):
        return np.zeros((0, 5)), np.zeros((0, 4, 2))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    x0 = np.minimum.reduceat(boxes[:, 0], starts)
    x1 = np.maximum.reduceat(boxes[:, 0] + boxes[:, 2], starts)
    y0 = np.minimum.reduceat(boxes[:, 1], starts)
    y1 = np.maximum.reduceat(boxes[:, 1] + boxes[:, 3], starts)
    hm = np.add.reduceat(boxes[:, 3], starts) / counts
    ts, ti, bs, bi = lines.T
    height = np.maximum(1.0, ((bs - ts) * (x0 + x1) + 2 * (bi - ti)) / 2)
    ax, bx, dy = x0 - pad_x * height, x1 + pad_x * height, pad_y * height
    quads = np.stack([np.stack([ax, ts * ax + ti - dy], 1), np.stack([bx, ts * bx + ti - dy], 1),
                      np.stack([bx, bs * bx + bi + dy], 1), np.stack([ax, bs * ax + bi + dy], 1)], axis=1)
    return np.stack([x0, x1, y0, y1, hm], 1), quads
