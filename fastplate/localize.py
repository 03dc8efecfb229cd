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
from ._validate import as_float, as_image, as_int, as_quads

__all__ = ["Candidate", "Localizer", "quad_box", "box_iou", "box_intersection"]


@dataclass(frozen=True, eq=False)  # arrays inside: equal only to itself (== and hash by identity)
class Candidate:
    """A plate candidate.

    quad : (4, 2) float64, corners x, y clockwise from top-left in image pixels (padded around the characters).
    char_boxes : (k, 4) float64, x, y, w, h of the character blobs left to right (top row first).
    score : float, higher is more plate-like (votes from levels/polarities, character count).
    rows : int, number of text rows (1 or 2).
    widened : bool, a copy of a better candidate grown sideways, in case a character at either end (often
        merged with the plate border) was missed by the row, or joined with the rows beside it on its line
        (:meth:`Localizer.join`); the recognizer decides which reads better.
    source : int, for a widened candidate, the index of the candidate it was grown from (else -1).
    """

    quad: np.ndarray = field(repr=False)
    char_boxes: np.ndarray = field(repr=False)
    score: float
    rows: int = 1
    widened: bool = False
    source: int = -1

    @property
    def box(self):
        return quad_box(self.quad)


def quad_box(quad) -> tuple:
    """Axis-aligned box ``(x, y, w, h)`` of a (4, 2) quad."""
    q = np.asarray(quad, dtype=np.float64)
    x0, y0 = q.min(axis=0)
    x1, y1 = q.max(axis=0)
    return (float(x0), float(y0), float(x1 - x0), float(y1 - y0))


def scale_quads(quads, sx=1.0, sy=1.0) -> np.ndarray:
    """``quads`` ((4, 2) or (N, 4, 2), clockwise from top-left) scaled about their centres along their own
    axes: ``sx`` times as long along their top and bottom edges, ``sy`` times as tall along their side edges
    (each new corner is the quad's bilinear map at ``0.5 -/+ sx/2``, ``0.5 -/+ sy/2``).

    Example
    -------
    >>> scale_quads([[0, 0], [10, 0], [10, 4], [0, 4]], 1.2, 2.0).round(6).tolist()
    [[-1.0, -2.0], [11.0, -2.0], [11.0, 6.0], [-1.0, 6.0]]
    """
    one = np.ndim(quads) == 2  # a single (4, 2) quad comes back as one
    flat = as_quads(quads)
    sx, sy = as_float(sx, "sx"), as_float(sy, "sy")
    if not (sx > 0 and sy > 0):
        raise ValueError(f"sx and sy must be positive scales, got {sx!r} and {sy!r}")

    def at(u, v):
        top = flat[:, 0] + (flat[:, 1] - flat[:, 0]) * u
        bottom = flat[:, 3] + (flat[:, 2] - flat[:, 3]) * u
        return top + (bottom - top) * v

    u0, u1, v0, v1 = 0.5 - sx / 2, 0.5 + sx / 2, 0.5 - sy / 2, 0.5 + sy / 2
    out = np.stack([at(u0, v0), at(u1, v0), at(u1, v1), at(u0, v1)], axis=1)
    return out[0] if one else out


def box_intersection(a, b) -> float:
    """Area of the intersection of two ``(x, y, w, h)`` boxes."""
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return ix * iy


def box_iou(a, b) -> float:
    """Intersection over union of two ``(x, y, w, h)`` boxes."""
    inter = box_intersection(a, b)
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


def _join(parts):
    """The row arrays of a level's threshold jobs joined (light characters' rows first)."""
    return tuple(np.concatenate(p) for p in zip(*parts))


# Textured frames (foliage, gravel, noise) give thousands of rows; pairing rows and merging candidates cost
# the square of their number (a blurred-noise 4K frame once took 7 s and 6.5 GB). Photos of the scenes sets
# have at most 229 rows per level and 377 candidates to merge, far below these caps.
MAX_ROWS = 512  # rows kept per threshold job (2-3 jobs per pyramid level), the best scored
MAX_MERGED = 2048  # candidates of all levels merged


def _best_scored(feats: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` rows of best :func:`row_score`, in their original order (ties: the earlier)."""
    return np.sort(np.argsort(-row_score(feats), kind="stable")[:n])


def row_score(feats: np.ndarray) -> np.ndarray:
    """Plate-likeness of rows from their features (N, 4), as :func:`kernels.character_row_table` gives them:
    about 1 for a clean plate row, lower otherwise.

    Plate characters have one height, sit on straight top and bottom lines, fill about half their box,
    and number 5-9 (hand-set margins, not fitted, so they carry over to unseen cameras).
    """
    count, hspread, misalign, fill = feats[:, 0], feats[:, 1], feats[:, 2], feats[:, 3]
    score = 1.0 - 0.15 * np.abs(np.clip(count, 5, 9) - count)
    score -= 4.0 * np.clip(hspread - 0.06, 0, None)
    score -= 4.0 * np.clip(misalign - 0.06, 0, None)
    score -= 3.0 * np.clip(np.abs(fill - 0.53) - 0.12, 0, None)
    return score


def _check_gate(gate, name):
    if gate is not None and not callable(gate):
        raise TypeError(f"gate must be callable (gray, quads) -> mask, or None; got {type(gate).__name__}")
    return gate


def _check_block_size(block_size, name):
    try:
        light, dark = (block_size, block_size) if np.ndim(block_size) == 0 else block_size
    except (TypeError, ValueError):
        raise ValueError(f"block_size must be an odd int or a (light, dark) pair, got {block_size!r}") from None
    return as_int(light, "block_size", minimum=3) | 1, as_int(dark, "block_size", minimum=3) | 1


def _at_least(minimum, what=""):
    """A check of a float option: finite and >= ``minimum``."""
    def check(value, name):
        value = as_float(value, name)
        if value < minimum:
            raise ValueError(f"{name} must be >= {minimum:g}{what}, got {value!r}")
        return value
    return check


def _whole(minimum):
    """A check of an int option: >= ``minimum``."""
    def check(value, name):
        return as_int(value, name, minimum=minimum)
    return check


def _check_heights(loc):
    """The pair: set one at a time (either first), so checked when the constructor is done and on each call."""
    if loc.max_char_height < loc.min_char_height:
        raise ValueError(f"max_char_height must be >= min_char_height ({loc.min_char_height}), got "
                         f"{loc.max_char_height}")


_gray_level = _at_least(0, " (a gray level)")


def _check_split_contrast(value, name):
    return None if value is None else _gray_level(value, name)


# Every option of a Localizer is checked when it is set, by the constructor or later (the per-threshold kernels
# it calls trust them): option name -> check(value, name) -> the value to keep.
_OPTION_CHECKS = {
    "gate": _check_gate,
    "max_side": _whole(64),
    "min_char_height": _whole(4),
    "max_char_height": _whole(4),  # and >= min_char_height: checked as a pair (_check_heights)
    "min_level_side": _whole(8),
    "block_size": _check_block_size,
    "contrast": _gray_level,
    "split_contrast": _check_split_contrast,
    "pad_x": _at_least(0, " character heights"),
    "pad_y": _at_least(0, " character heights"),
    "max_candidates": _whole(1),
    "extra_score": as_float,
    "widen_top": _whole(0),
    "widen_by": _at_least(0, " character heights"),  # a negative one mirrors the quad (no longer clockwise)
    "max_chars": _whole(3),
    "join_gap": _at_least(0, " character heights (0: never join)"),
    "max_angle": kernels._check_max_angle,  # as the row kernels check it
}


class Localizer:
    """Find plate candidates in a photo.

    Parameters
    ----------
    max_side : int
        Frames whose longer side exceeds this are downscaled first. 4096 keeps 4K frames (3840x2160,
        4096x2160) whole, so their small plates keep their characters' pixels: 60x20 px plates in 4K frames
        (9 tiled 1280x720 frames of the parking stand-in's train split) were read 67 times in 77 at 4096,
        60 at 1920, for 103 against 62 ms per frame on an idle core (the candidate cap bounds the
        recognizer's share).
        Lower it for speed where plates are large.
    min_char_height, max_char_height : int
        Character heights searched at each pyramid level, in level pixels. Levels halve the image, so
        consecutive levels overlap when ``max_char_height >= 2 * min_char_height``.
    min_level_side : int
        Pyramid levels stop when the shorter side would fall below this. Small images need levels down to
        32 px when their plate fills them (close-ups, tight plate photos: characters of half the image's
        height): ``Reader("us").read`` of every third us-crops train image (320x160 px) read 9.1% of them
        right at 96, 50.8% at 48 and 86.3% at 32. In 1280x720 frames the two extra levels (90x160, 45x80)
        add 0.5 candidates per frame; on the US parking stand-in's train split top-1 went 88.5 -> 88.4%
        and false results 0.071 -> 0.074 per frame (0.087 -> 0.095 on plate-free frames); the scenes'
        train splits read the same.
    block_size : int or (int, int)
        Adaptive-threshold windows (odd, in level pixels) for light and for dark characters. Small windows
        follow uneven light and keep characters apart from each other and from a tight plate border
        (measured: small plates are found more often with 11/7 than with 15, large ones as often, since
        each pyramid level sees characters of 8-36 px with thin strokes).
    contrast : float
        Gray levels a character must differ from its neighbourhood mean.
    split_contrast : float or None
        The full-resolution level is thresholded for dark characters a second time with this stricter
        contrast. Small plates' blurred characters merge with each other and with the plate's frame at
        ``contrast``, and come apart at a higher one. A low ``contrast`` is still needed for dim photos:
        ``contrast=16`` alone lost plates of the scenes such as scenes-br's PJD2685 (brightest pixel 81).
        Measured on the US parking stand-in's train split: plates with a candidate 98.0 -> 99.5%, detection
        94.9 -> 96.8%, top-1 86.9 -> 88.4% (light characters at 16 found no more plates); scenes-eu and
        scenes-br train splits: same detection, one EU plate's O/0 differs. The cost, one more threshold job
        and 0.4-1.6 more candidates per image, falls on photos whose full-resolution level is most of the
        pyramid's pixels: with ``max_candidates`` 16 and the clean rows, against neither change (idle
        machine, interleaved), reading took 13% longer on scenes-eu, 11% on scenes-br, and 4% less on the
        stand-in's 1280x720 frames. None, or not above ``contrast``: off.
    pad_x, pad_y : float
        Padding around a character row, in row heights, so the quad covers the plate as the recognizer
        expects it (plate edges included).
    max_candidates, extra_score : int, float
        Candidates kept per image, best scored first; beyond ``max_candidates``, rows that score at least
        ``extra_score`` (clean character rows) are kept too, up to twice as many. Busy frames (signs, windows,
        foliage) hold many plate-like rows that outscore a small plate; measured on the parking stand-in's
        train split (``tools/parking_set.py``): 12 -> 20 raised top-1 from 79.9 to 80.9% for about 2 ms more
        per 1280x720 frame. The extra clean rows raised the share of plates with a candidate from 97.5 to
        98.0% (all 40 rows: 98.1%) for 0.2 more candidates per frame, and top-1 from 86.6 to 86.9%. With them
        (and ``split_contrast``), 16 reads as many plates as 20 there (top-1 88.4%, detection 96.8% either
        way; 12: 0.4% fewer plates with a candidate) with 1.4 fewer candidates per frame; scenes-eu and
        scenes-br train splits: the same plates.
    max_chars : int
        Longer rows are text, not plates.
    max_angle : float
        Steepest row, in degrees (plates tilt up to about 15 degrees, plus the camera's roll).
    widen_top, widen_by : int, float
        The ``widen_top`` best candidates (and other clean rows, at most ``2 * widen_top`` in all) are also
        returned grown by ``widen_by`` character heights on each side: a character merged with the plate
        border is the most common miss, and the recognizer decides which of the two reads better.
    join_gap : float
        Each widened candidate is also joined with the nearest one-row candidates on its line (heights alike),
        left and right, whose characters begin within ``join_gap`` character heights of where its own end,
        and returned widened (:meth:`join`; at most ``max_chars`` characters in all); 0: never. Plates whose
        groups stand apart (an emblem, a seal) or seen from above (characters shortened, gaps not) come as two
        rows. Eighteenth session: the scenes' train splits seen from 48 degrees above, scenes-eu top-1 71.9 ->
        80.9% (val 78.9 -> 84.2%); the unchanged photos and the US parking stand-in read the same plates
        (train and val), with a joined candidate in 1-3% of frames.
    gate : callable, optional
        ``gate(gray, quads) -> mask`` (bool, one entry per quad): which of the candidates (after the cap,
        before widening) to keep, such as a :class:`fastplate.gate.CandidateGate` (the Reader's default
        localizer has the shipped one).
        None: keep all.

    Every option is checked when it is set, also after construction (``loc.max_candidates = 8``); the two
    heights may be set in either order and are checked as a pair by each call. Change options between calls:
    a call running on another thread meanwhile may see some old and some new ones (one Localizer can be
    shared by threads that only call it).

    Example
    -------
    >>> cands = Localizer()(np.zeros((200, 300), np.uint8)); cands
    []
    """

    def __init__(self, *, max_side=4096, min_char_height=8, max_char_height=36, min_level_side=32, block_size=(11, 7),
                 contrast=8.0, pad_x=0.5, pad_y=0.3, max_candidates=16, max_chars=12, widen_top=2, widen_by=0.7,
                 max_angle=20.0, extra_score=0.8, split_contrast=16.0, gate=None, join_gap=2.5):
        # Checked whenever set (__setattr__), here and later: the per-threshold kernels trust these options.
        self.gate = gate
        self.max_side = max_side
        self.min_char_height = min_char_height
        self.max_char_height = max_char_height
        self.min_level_side = min_level_side
        self.block_size = block_size
        self.contrast = contrast
        self.split_contrast = split_contrast
        self.pad_x = pad_x
        self.pad_y = pad_y
        self.max_candidates = max_candidates
        self.extra_score = extra_score
        self.widen_top = widen_top
        self.widen_by = widen_by
        self.max_chars = max_chars
        self.join_gap = join_gap
        self.max_angle = max_angle
        _check_heights(self)

    def __setattr__(self, name, value):
        check = _OPTION_CHECKS.get(name)
        object.__setattr__(self, name, value if check is None else check(value, name))

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
            h2, w2 = level.shape[0] // 2, level.shape[1] // 2
            # Means of 2x2 pixels; an odd last row or column is left out. Shrinking an odd side to half (rounded
            # down) takes OpenCV's general area path with fractional weights: 40 times as long (0.14 ms for a
            # 161x225 level; the pyramid was 5-8% of localizing a scenes-eu photo).
            level = cv2.resize(level[:2 * h2, :2 * w2], (w2, h2), interpolation=cv2.INTER_AREA)
            factor *= 2.0
            levels.append((level, factor))
        return levels

    def component_stats(self, level, block, c, invert, binary):
        """Threshold ``level`` (mean, ``block``, ``c``) into ``binary`` and return its components' stats. The
        one place the per-pixel kernels run (benchmarks swap in OpenCV here)."""
        return kernels._threshold_stats(level, block, c, invert, binary)

    def _polarity_rows(self, level, invert, contrast):
        """Character rows of one pyramid level, light (``invert=False``) or dark characters that differ from
        their neighbourhood by ``contrast`` gray levels, as arrays:
        ``(boxes (M, 4), counts (R,), lines (R, 4), features (R, 4), extents (R, 5), quads (R, 4, 2))``,
        members row after row (see :func:`kernels.character_row_table`); :func:`_join` joins a level's jobs."""
        level = as_image(level, "level")  # a subclass's pyramid() may give any array; the kernels run unchecked
        binary = np.empty(level.shape, np.uint8)
        # The window must fit in the level (tiny images): the largest odd size up to the level's short side.
        fit = min(level.shape) - 1 + min(level.shape) % 2
        block = max(3, min(self.block_size[int(invert)], fit))
        # Light characters: pixel > mean + contrast; dark characters: pixel <= mean - contrast.
        c = contrast if invert else -contrast
        stats = self.component_stats(level, block, c, invert, binary)
        if type(self).component_stats is not Localizer.component_stats:  # a subclass's (OpenCV in benchmarks)
            stats = kernels._check_stats(stats)
        # Specks under 3 px and blobs far larger than a character cannot be (pieces of) characters;
        # dropping them first makes grouping several times cheaper on textured frames.
        h, w = stats[:, 3], stats[:, 2]
        keep = (h >= 3) & (h <= 1.3 * self.max_char_height) & (w <= 3 * self.max_char_height)
        keep[0] = True  # row 0 is the background
        return self._rows(stats[keep])

    def _rows(self, stats):
        """Rows of 3..max_chars members among ``stats``, with their features, extents and padded quads (the
        MAX_ROWS best scored, in the table's order, where a textured frame has more)."""
        t = kernels._row_table(np.ascontiguousarray(stats), self.min_char_height, self.max_char_height,
                               kernels.ROW_HEIGHT_RATIO, kernels.ROW_GAP, self.max_angle, 3, self.max_chars,
                               self.pad_x, self.pad_y)
        members, counts = t.members, t.counts
        rows = np.arange(len(counts))
        if len(counts) > MAX_ROWS:
            rows = _best_scored(t.features, MAX_ROWS)
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
            members = np.concatenate([members[starts[r]:starts[r] + counts[r]] for r in rows])
            counts = counts[rows]
        return stats[members, :4].astype(np.float64), counts, t.lines[rows], t.features[rows], t.extents[rows], \
            t.quads[rows]

    def __call__(self, image, threads=1) -> list:
        """Plate candidates of ``image`` ((H, W) gray or (H, W, 3) BGR uint8), best first.

        ``threads``: the pyramid levels and polarities are thresholded and labelled on this many threads
        (the kernels release the GIL): lower latency for one image on several cores. Same candidates.
        """
        _check_heights(self)
        gray = as_image(image, "image") if getattr(image, "ndim", 0) == 2 else kernels.to_gray(image)
        pyramid = self.pyramid(gray)
        # Largest level first, so two threads share the big ones.
        jobs = [[(level, False, self.contrast), (level, True, self.contrast)] for level, _ in pyramid]
        if self.split_contrast is not None and self.split_contrast > self.contrast:
            jobs[0].append((pyramid[0][0], True, self.split_contrast))
        done = iter(kernels.map_images(lambda job: self._polarity_rows(*job), [j for js in jobs for j in js],
                                       threads=threads))
        quads, feats, members, levels = [], [], [], []
        for k, (level, factor) in enumerate(pyramid):
            boxes, counts, lines, feat, ext, q = _join([next(done) for _ in jobs[k]])
            if not len(counts):
                continue
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
            pairs = self._stacked_pairs(ext)
            upper, lower = np.arange(len(q)), np.full(len(q), -1)
            if len(pairs):
                i, j = pairs.T
                # a two-row candidate spans both padded rows: top edge of the upper, bottom edge of the lower
                x0 = np.minimum(q[i, 0, 0], q[j, 0, 0])
                x1 = np.maximum(q[i, 1, 0], q[j, 1, 0])
                pq = np.stack([np.stack([x0, q[i, 0, 1]], 1), np.stack([x1, q[i, 1, 1]], 1),
                               np.stack([x1, q[j, 2, 1]], 1), np.stack([x0, q[j, 3, 1]], 1)], axis=1)
                pf = (feat[i] + feat[j]) / 2
                pf[:, 0] = feat[i, 0] + feat[j, 0]
                q = np.concatenate([q, pq])
                feat = np.concatenate([feat, pf])
                upper, lower = np.concatenate([upper, i]), np.concatenate([lower, j])
            quads.append((q + 0.5) * factor - 0.5)  # level pixel centre i -> image (i + 0.5) * f - 0.5
            feats.append(feat)
            members.append(np.stack([np.full(len(q), len(levels)), upper, lower], 1))
            levels.append((boxes, starts, counts, factor))
        if not quads:
            return []
        out = merged = self._merge(np.concatenate(quads), np.concatenate(feats), np.concatenate(members), levels)
        if self.gate is not None and out:
            result = self.gate(gray, np.stack([c.quad for c in out]))
            keep = np.asarray(result)
            # Not cast to bool: None would become one False (or scores all True) and drop plates silently.
            if keep.dtype != bool or keep.ndim == 0:
                raise TypeError(f"gate must return a boolean mask with one entry per candidate ({len(out)}), got "
                                f"{type(result).__name__} with dtype {keep.dtype} and shape {keep.shape}")
            keep = keep.reshape(-1)
            if keep.shape != (len(out),):
                raise ValueError(f"gate returned {keep.shape[0]} decisions for {len(out)} candidates")
            out = [c for c, k in zip(out, keep) if k]
        # Widen the best few, and any other clean row (several plates in one frame), at most 2 * widen_top.
        wide = [i for i, c in enumerate(out) if i < self.widen_top or c.score >= 1.0][:2 * self.widen_top]
        joined = {}  # two rows of one plate, both among the widened, give one joined candidate
        for i in wide:
            c = self.join(out[i], i, merged)
            if c is not None:
                joined.setdefault(c.quad.round(3).tobytes(), c)
        return out + [self.widen(out[i], i) for i in wide] + list(joined.values())

    # ----------------------------------------------------------------------------------------------
    @staticmethod
    def _stacked_pairs(ext):
        """Index pairs (upper, lower) of rows stacked like a two-row plate: the lower starts under the upper
        within 0.8 of its height, they overlap in x by half the narrower one, heights alike (0.4-2.5x)."""
        x0, x1, y0, y1, h = ext.T
        gap = y0[None, :] - y1[:, None]
        overlap = np.minimum(x1[:, None], x1[None]) - np.maximum(x0[:, None], x0[None])
        narrower = np.minimum((x1 - x0)[:, None], (x1 - x0)[None])
        ratio = h[None, :] / h[:, None]
        ok = (gap >= 0) & (gap <= 0.8 * h[:, None]) & (overlap >= 0.5 * narrower) & (ratio >= 0.4) & (ratio <= 2.5)
        return np.argwhere(ok)

    def _merge(self, quads, feats, members, levels):
        """Merge candidates found at several levels/polarities (IoU > 0.6); score by shape and votes.
        ``members[i]`` is (level, upper row, lower row or -1) of candidate i; ``levels[k]`` is (member boxes,
        row starts, row counts, factor) of level k."""
        if len(quads) > MAX_MERGED:  # the IoU matrix is N x N: the best scored rows only
            best = _best_scored(feats, MAX_MERGED)
            quads, feats, members = quads[best], feats[best], members[best]
        lo, hi = quads.min(axis=1), quads.max(axis=1)
        boxes = np.concatenate([lo, hi - lo], axis=1)
        iou = _boxes_iou_matrix(boxes)
        votes = (iou > 0.6).sum(axis=1).astype(np.float64)
        score = row_score(feats) + 0.5 * np.log2(votes)
        order = np.argsort(-score, kind="stable")
        kept, out = [], []
        for i in order:
            if len(out) >= self.max_candidates and (score[i] < self.extra_score or len(out) >= 2 * self.max_candidates):
                break
            if kept and (iou[i, kept] > 0.6).any():
                continue
            kept.append(i)
            k, upper, lower = members[i]
            boxes, starts, counts, factor = levels[k]
            rows = (upper,) if lower < 0 else (upper, lower)
            chars = np.concatenate([boxes[starts[r]:starts[r] + counts[r]] for r in rows]) * factor
            out.append(Candidate(quads[i], chars, float(score[i]), len(rows)))
        return out

    def join(self, cand, index, pool):
        """``cand`` joined with the nearest one-row candidates of ``pool`` on its line, left and right, then
        widened as :meth:`widen`: a widened Candidate whose ``source`` is ``index``, or None when there is no
        such neighbour.

        A neighbour's median character height is within 0.7-1.43x of ``cand``'s, its top and bottom edges lie
        within 0.35 heights of ``cand``'s (extended to its middle), and its characters begin within
        ``join_gap`` heights of where ``cand``'s end (overlapping them by at most half a height; characters
        of both are kept once). All joined together have at most ``max_chars`` characters (else the farther
        neighbour is left out). The localizer passes every merged candidate as ``pool``, also those its gate
        left out: one group of a plate (two letters beside an emblem) need not look like a plate itself.

        A plate whose groups stand apart (an emblem or a seal between them; a camera looking down, which
        shortens the characters but not the gaps) is found as two rows; the reader keeps the joined reading
        where it is longer and holds the row's own (as for a widened candidate)."""
        if self.join_gap <= 0 or cand.rows != 1 or not len(cand.char_boxes):
            return None
        boxes = cand.char_boxes
        h = float(np.median(boxes[:, 3]))
        x0, x1 = boxes[:, 0].min(), (boxes[:, 0] + boxes[:, 2]).max()
        q = cand.quad
        top, bottom = q[1] - q[0], q[2] - q[3]
        if not (h > 0 and abs(top[0]) >= 1e-9 and abs(bottom[0]) >= 1e-9):
            return None

        def off_line(other):  # how far the other's top and bottom edges are from this one's, at its middle
            o = other.quad
            mid_top, mid_bottom = (o[0] + o[1]) / 2, (o[3] + o[2]) / 2
            y_top = q[0, 1] + top[1] * (mid_top[0] - q[0, 0]) / top[0]
            y_bottom = q[3, 1] + bottom[1] * (mid_bottom[0] - q[3, 0]) / bottom[0]
            return max(abs(mid_top[1] - y_top), abs(mid_bottom[1] - y_bottom))

        def outside(b):  # a neighbour's characters not among cand's own (centres outside its span)
            centres = b[:, 0] + b[:, 2] / 2
            return b[(centres < x0) | (centres > x1)]

        left = right = None
        for other in pool:
            b = other.char_boxes
            if other is cand or other.rows != 1 or other.widened or not len(b):
                continue
            o0, o1 = b[:, 0].min(), (b[:, 0] + b[:, 2]).max()
            gap_left, gap_right = x0 - o1, o0 - x1
            near_left = o0 < x0 and o1 <= x1 and -0.5 * h <= gap_left <= self.join_gap * h
            near_right = o1 > x1 and o0 >= x0 and -0.5 * h <= gap_right <= self.join_gap * h
            if not (near_left or near_right):
                continue  # the cheap test first: most candidates are elsewhere in the frame
            if not (0.7 <= float(np.median(b[:, 3])) / h <= 1.0 / 0.7 and off_line(other) <= 0.35 * h):
                continue  # (NaN fails too)
            if near_left and (left is None or gap_left < left[0]):
                left = (gap_left, other, outside(b))
            if near_right and (right is None or gap_right < right[0]):
                right = (gap_right, other, outside(b))
        sides = sorted((s for s in (left, right) if s is not None and len(s[2])), key=lambda s: s[0])
        while sides and len(boxes) + sum(len(s[2]) for s in sides) > self.max_chars:
            sides.pop()  # the farther one
        if not sides:
            return None
        first = left[1] if any(s is left for s in sides) else cand
        last = right[1] if any(s is right for s in sides) else cand
        quad = np.array([first.quad[0], last.quad[1], last.quad[2], first.quad[3]])
        chars = np.concatenate([boxes] + [s[2] for s in sides])
        chars = chars[np.argsort(chars[:, 0], kind="stable")]
        return self.widen(Candidate(quad, chars, cand.score, 1), index)

    def widen(self, cand, index):
        """``cand`` grown sideways along its top and bottom edges by ``widen_by`` character heights, as a
        widened Candidate whose ``source`` is ``index`` (the reader grows a widened one again with it)."""
        q = cand.quad
        grow = self.widen_by * float(np.median(cand.char_boxes[:, 3]))
        top = (q[1] - q[0]) / max(np.hypot(*(q[1] - q[0])), 1e-9)
        bottom = (q[2] - q[3]) / max(np.hypot(*(q[2] - q[3])), 1e-9)
        quad = np.array([q[0] - grow * top, q[1] + grow * top, q[2] + grow * bottom, q[3] - grow * bottom])
        return Candidate(quad, cand.char_boxes, cand.score, cand.rows, widened=True, source=index)

