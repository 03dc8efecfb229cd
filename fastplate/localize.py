"""Plate localization with our kernels: rows of character-like blobs become plate candidates.

gray -> image pyramid (halving, so each level finds characters of one height band) -> adaptive
threshold in both polarities -> connected components -> character rows -> quads padded around each
row (two stacked rows also give one two-row candidate) -> duplicates merged. The candidates are then
read by the recognizer, which is what decides whether a candidate is a plate (see :mod:`fastplate.reader`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from . import kernels

__all__ = ["Candidate", "Localizer", "localize", "quad_box", "box_iou"]


@dataclass(frozen=True)
class Candidate:
    """A plate candidate.

    quad : (4, 2) float64, corners x, y clockwise from top-left in image pixels (padded around the characters).
    char_boxes : (k, 4) float64, x, y, w, h of the character blobs left to right (top row first).
    score : float, higher is more plate-like (votes from levels/polarities, character count).
    rows : int, number of text rows (1 or 2).
    """

    quad: np.ndarray = field(repr=False)
    char_boxes: np.ndarray = field(repr=False)
    score: float
    rows: int = 1

    @property
    def box(self):
        return quad_box(self.quad)


def quad_box(quad) -> tuple:
    """Axis-aligned box ``(x, y, w, h)`` of a (4, 2) quad."""
    q = np.asarray(quad, dtype=np.float64)
    x0, y0 = q.min(axis=0)
    x1, y1 = q.max(axis=0)
    return (float(x0), float(y0), float(x1 - x0), float(y1 - y0))


def box_iou(a, b) -> float:
    """Intersection over union of two ``(x, y, w, h)`` boxes."""
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def _boxes_iou_matrix(boxes: np.ndarray) -> np.ndarray:
    x0, y0 = boxes[:, 0], boxes[:, 1]
    x1, y1 = x0 + boxes[:, 2], y0 + boxes[:, 3]
    iw = np.clip(np.minimum(x1[:, None], x1[None]) - np.maximum(x0[:, None], x0[None]), 0, None)
    ih = np.clip(np.minimum(y1[:, None], y1[None]) - np.maximum(y0[:, None], y0[None]), 0, None)
    inter = iw * ih
    area = boxes[:, 2] * boxes[:, 3]
    union = area[:, None] + area[None] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def row_features(row, stats) -> np.ndarray:
    """Shape features of a character row: how plate-like its blobs are (all scale-free).

    ``[count, height spread, top/bottom misalignment, fill, width spread, gap spread]``
    """
    boxes = row.boxes.astype(np.float64)
    x, y, w, h = boxes.T
    hm = float(np.median(h))
    cx = x + w / 2
    (ts, ti), (bs, bi) = row.top, row.bottom
    misalign = float(np.mean(np.abs(y - (ts * cx + ti))) + np.mean(np.abs(y + h - (bs * cx + bi)))) / hm
    fill = float(np.median(stats[row.indices, 4] / np.maximum(w * h, 1)))
    gaps = x[1:] - (x[:-1] + w[:-1])
    return np.array([
        len(x),
        float(np.std(h)) / hm,
        misalign,
        fill,
        float(np.std(w)) / hm,
        float(np.std(gaps)) / hm if len(gaps) > 1 else 0.0,
    ])


def row_score(feats: np.ndarray) -> np.ndarray:
    """Plate-likeness of rows from :func:`row_features` (N, 6): about 1 for a clean plate row, lower otherwise.

    Plate characters have one height, sit on straight top and bottom lines, fill about half their box,
    and number 5-9 (hand-set margins, not fitted, so they carry over to unseen cameras).
    """
    count, hspread, misalign, fill = feats[:, 0], feats[:, 1], feats[:, 2], feats[:, 3]
    score = 1.0 - 0.15 * np.abs(np.clip(count, 5, 9) - count)
    score -= 4.0 * np.clip(hspread - 0.06, 0, None)
    score -= 4.0 * np.clip(misalign - 0.06, 0, None)
    score -= 3.0 * np.clip(np.abs(fill - 0.53) - 0.12, 0, None)
    return score


class Localizer:
    """Find plate candidates in a photo.

    Parameters
    ----------
    max_side : int
        Frames whose longer side exceeds this are downscaled first (4K frames cost like 1080p ones).
    min_char_height, max_char_height : int
        Character heights searched at each pyramid level, in level pixels. Levels halve the image, so
        consecutive levels overlap when ``max_char_height >= 2 * min_char_height``.
    min_level_side : int
        Pyramid levels stop when the shorter side would fall below this.
    block_size : int
        Adaptive-threshold window (odd), in level pixels: about twice the largest character height.
    contrast : float
        Gray levels a character must differ from its neighbourhood mean.
    pad_x, pad_y : float
        Padding around a character row, in row heights, so the quad covers the plate as the recognizer
        expects it (plate edges included).
    max_candidates : int
        Candidates kept per image, best scored first.

    Example
    -------
    >>> cands = Localizer()(np.zeros((200, 300), np.uint8)); cands
    []
    """

    def __init__(self, *, max_side=1920, min_char_height=9, max_char_height=36, min_level_side=96, block_size=15,
                 contrast=6.0, pad_x=0.5, pad_y=0.3, max_candidates=24, max_chars=12):
        self.max_side = int(max_side)
        self.min_char_height = int(min_char_height)
        self.max_char_height = int(max_char_height)
        self.min_level_side = int(min_level_side)
        self.block_size = int(block_size) | 1
        self.contrast = float(contrast)
        self.pad_x = float(pad_x)
        self.pad_y = float(pad_y)
        self.max_candidates = int(max_candidates)
        self.max_chars = int(max_chars)

    # ----------------------------------------------------------------------------------------------
    def pyramid(self, gray: np.ndarray) -> list:
        """``[(level image, factor), ...]``: factor maps level pixels to image pixels."""
        h, w = gray.shape
        factor = 1.0
        level = gray
        if max(h, w) > self.max_side:
            factor = max(h, w) / self.max_side
            size = (max(1, round(w / factor)), max(1, round(h / factor)))
            level = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
            factor = w / size[0]
        levels = [(level, factor)]
        while min(level.shape) // 2 >= self.min_level_side:
            size = (level.shape[1] // 2, level.shape[0] // 2)
            level = cv2.resize(level, size, interpolation=cv2.INTER_AREA)
            levels.append((level, w / size[0]))
        return levels

    def rows_of_level(self, level: np.ndarray) -> list:
        """Character rows of one pyramid level, both polarities."""
        rows = []
        binary = np.empty_like(level)
        labels = np.empty(level.shape, np.int32)
        block = min(self.block_size, (2 * (min(level.shape) // 2) - 1)) if min(level.shape) < self.block_size else self.block_size
        block = max(3, block)
        for invert in (False, True):
            # Light characters: pixel > mean + contrast; dark characters: pixel <= mean - contrast.
            c = self.contrast if invert else -self.contrast
            kernels.adaptive_threshold(level, block, c, method="mean", invert=invert, out=binary)
            _, _, stats, _ = kernels.connected_components(binary, 8, out=labels)
            found = kernels.find_character_rows(stats, min_height=self.min_char_height,
                                                max_height=self.max_char_height, min_chars=3)
            rows.extend((r, row_features(r, stats)) for r in found if len(r.indices) <= self.max_chars)
        return rows

    def __call__(self, image) -> list:
        """Plate candidates of ``image`` ((H, W) gray or (H, W, 3) BGR uint8), best first."""
        gray = kernels.to_gray(image) if image.ndim == 3 else np.ascontiguousarray(image)
        quads, chars, nrows, feats = [], [], [], []
        for level, factor in self.pyramid(gray):
            found = self.rows_of_level(level)
            rows = [r for r, _ in found]
            for row, feat in found:
                quads.append(self._to_image(row.quad(self.pad_x, self.pad_y), factor))
                chars.append(self._boxes_to_image(row.boxes, factor))
                nrows.append(1)
                feats.append(feat)
            by_id = {id(r): f for r, f in found}
            for top, bottom in self._stacked_pairs(rows):
                quads.append(self._to_image(self._pair_quad(top, bottom), factor))
                chars.append(self._boxes_to_image(np.concatenate([top.boxes, bottom.boxes]), factor))
                nrows.append(2)
                feat = (by_id[id(top)] + by_id[id(bottom)]) / 2
                feat[0] = len(top.indices) + len(bottom.indices)
                feats.append(feat)
        return self._merge(quads, chars, nrows, np.array(feats).reshape(-1, 6))

    # ----------------------------------------------------------------------------------------------
    @staticmethod
    def _to_image(quad, factor):
        # Pixel centres: level pixel i covers image pixels [i*f, (i+1)*f), centred at (i + 0.5) * f - 0.5.
        return (np.asarray(quad, dtype=np.float64) + 0.5) * factor - 0.5

    @staticmethod
    def _boxes_to_image(boxes, factor):
        out = np.asarray(boxes, dtype=np.float64) * factor
        return out

    @staticmethod
    def _row_height(row):
        return float(np.median(row.boxes[:, 3]))

    def _stacked_pairs(self, rows):
        """Pairs of rows stacked like a two-row plate: overlapping in x, the lower right under the upper."""
        pairs = []
        for i, a in enumerate(rows):
            ax0, ax1 = a.boxes[:, 0].min(), (a.boxes[:, 0] + a.boxes[:, 2]).max()
            ay1 = (a.boxes[:, 1] + a.boxes[:, 3]).max()
            ha = self._row_height(a)
            for b in rows[i + 1:] + rows[:i]:
                by0 = b.boxes[:, 1].min()
                if not (0 <= by0 - ay1 <= 0.8 * ha):
                    continue
                bx0, bx1 = b.boxes[:, 0].min(), (b.boxes[:, 0] + b.boxes[:, 2]).max()
                overlap = min(ax1, bx1) - max(ax0, bx0)
                if overlap < 0.5 * min(ax1 - ax0, bx1 - bx0):
                    continue
                if not 0.4 <= self._row_height(b) / ha <= 2.5:
                    continue
                pairs.append((a, b))
        return pairs

    def _pair_quad(self, top, bottom):
        qt = top.quad(self.pad_x, self.pad_y)
        qb = bottom.quad(self.pad_x, self.pad_y)
        x0 = min(qt[0, 0], qb[0, 0])
        x1 = max(qt[1, 0], qb[1, 0])
        return np.array([[x0, qt[0, 1]], [x1, qt[1, 1]], [x1, qb[2, 1]], [x0, qb[3, 1]]])

    def _merge(self, quads, chars, nrows, feats):
        """Merge candidates found at several levels/polarities; score by shape and votes."""
        n = len(quads)
        if n == 0:
            return []
        boxes = np.array([quad_box(q) for q in quads])
        base = row_score(feats)
        iou = _boxes_iou_matrix(boxes)
        votes = (iou > 0.6).sum(axis=1).astype(np.float64)
        score = base + 0.5 * np.log2(votes)
        order = np.argsort(-score, kind="stable")
        kept, out = [], []
        for i in order:
            if any(iou[i, j] > 0.6 for j in kept):
                continue
            kept.append(i)
            out.append(Candidate(quads[i], chars[i], float(score[i]), nrows[i]))
            if len(out) >= self.max_candidates:
                break
        return out


_DEFAULT = None


def localize(image, **options) -> list:
    """Plate candidates of ``image`` with a :class:`Localizer` built from ``options``; best first.

    Parameters
    ----------
    image : ndarray, (H, W) or (H, W, 3) uint8

    Returns
    -------
    list of Candidate
    """
    global _DEFAULT
    if options:
        return Localizer(**options)(image)
    if _DEFAULT is None:
        _DEFAULT = Localizer()
    return _DEFAULT(image)
