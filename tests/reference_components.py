"""Slow, obviously-correct connected-component labelling: a breadth-first flood fill per component.

Label order follows OpenCV 5 (and fastplate): components sorted by the raster position of their first
pixel for 4-connectivity, and of their first 2x2 block (key ``(y // 2, x // 2)``) for 8-connectivity,
where OpenCV's block-based Spaghetti scan numbers them. Only for small images (pure Python).
"""
from collections import deque

import numpy as np

NEIGHBOURS = {
    4: ((-1, 0), (1, 0), (0, -1), (0, 1)),
    8: ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)),
}


def flood_fill_labels(binary, connectivity):
    """Labels (H, W) int32 of the non-zero pixels, numbered in plain raster order of first pixels."""
    h, w = binary.shape
    labels = np.zeros((h, w), np.int32)
    n = 1
    for y0 in range(h):
        for x0 in range(w):
            if binary[y0, x0] == 0 or labels[y0, x0]:
                continue
            labels[y0, x0] = n
            queue = deque([(y0, x0)])
            while queue:
                y, x = queue.popleft()
                for dy, dx in NEIGHBOURS[connectivity]:
                    v, u = y + dy, x + dx
                    if 0 <= v < h and 0 <= u < w and binary[v, u] and not labels[v, u]:
                        labels[v, u] = n
                        queue.append((v, u))
            n += 1
    return n, labels


def connected_components(binary, connectivity=8):
    """``(n, labels, stats, centroids)`` as ``cv2.connectedComponentsWithStats(binary, connectivity)``."""
    binary = np.asarray(binary)
    h, w = binary.shape
    n, labels = flood_fill_labels(binary, connectivity)
    if connectivity == 8 and n > 1:  # renumber by first 2x2 block
        ys, xs = np.nonzero(labels)
        key = np.full(n, np.iinfo(np.int64).max)
        np.minimum.at(key, labels[ys, xs], (ys // 2).astype(np.int64) * w + xs // 2)
        order = np.argsort(key[1:], kind="stable") + 1
        remap = np.zeros(n, np.int32)
        remap[order] = np.arange(1, n, dtype=np.int32)
        labels = remap[labels]
    stats = np.zeros((n, 5), np.int32)
    centroids = np.zeros((n, 2), np.float64)
    for label in range(n):
        ys, xs = np.nonzero(labels == label)
        if ys.size == 0:  # background of an all-foreground image: OpenCV 5's convention
            stats[label] = (-1, np.iinfo(np.int32).max, 0, 0, 0)
            centroids[label] = np.nan
            continue
        stats[label] = (xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1, ys.size)
        centroids[label] = (xs.sum() / ys.size, ys.sum() / ys.size)
    return n, labels, stats, centroids
