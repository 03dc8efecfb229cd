"""Hot image kernels of the plate pipeline: validate -> dispatch to the active backend -> return.

Every kernel takes NumPy arrays, accepts strided views (they are copied), writes into an optional
``out=`` that must be C-contiguous with the exact shape and dtype, and releases the GIL, so
:func:`map_images` can run them on a thread pool. ``backend`` names the active implementation
(``"native"``: C++/pybind11 + Cython; ``"numba"``: the JIT twins in ``fastplate._numba``).
"""
from __future__ import annotations

import numbers
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, NamedTuple, Sequence

import numpy as np

from . import _backend
from ._validate import as_bool, as_choice, as_float, as_image, as_int, as_quads, as_size, check_out

__all__ = [
    "backend",
    "use_backend",
    "to_gray",
    "adaptive_threshold",
    "connected_components",
    "component_stats",
    "find_character_rows",
    "character_row_table",
    "RowTable",
    "segment_characters",
    "normalize_batch",
    "quad_to_rect_matrices",
    "map_images",
    "cpu_cores",
    "CharacterRow",
    "THRESHOLD_METHODS",
]

THRESHOLD_METHODS = {"mean": 0, "gaussian": 1, "sauvola": 2, "wolf": 3}

_impl = None
_impl_lock = threading.Lock()


def _kernels():
    """The active backend's kernels, loaded on first use: a bad ``FASTPLATE_BACKEND`` is then reported where
    a kernel is first needed (where the ``fastplate`` command can report it in one line), not on import."""
    global _impl
    impl = _impl
    if impl is None:
        with _impl_lock:  # a use_backend() while the first load runs must not be undone by it
            if _impl is None:
                _impl = _backend.load()
            impl = _impl
    return impl


def __getattr__(name):
    if name == "backend":  # the active backend's name: "native" or "numba"
        return _kernels().name
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | {"backend"})


def use_backend(name: str) -> str:
    """Switch the active backend (``"native"``, ``"numba"`` or ``"auto"``); returns the name now active."""
    global _impl
    if not isinstance(name, str):  # None would quietly mean $FASTPLATE_BACKEND
        raise TypeError(f"name must be 'native', 'numba' or 'auto', got {type(name).__name__} {name!r}")
    impl = _backend.load(name)
    with _impl_lock:  # after a first load that is running now, not before it
        _impl = impl
    return impl.name


# --------------------------------------------------------------------------------------------- color
def to_gray(image, *, out=None):
    """Convert a BGR, BGRA or gray uint8 image to gray, exactly as ``cv2.cvtColor(..., COLOR_BGR2GRAY)``.

    Parameters
    ----------
    image : ndarray, (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) uint8
        BGR(A) channel order, as OpenCV decodes images.
    out : ndarray, (H, W) uint8, optional

    Returns
    -------
    ndarray, (H, W) uint8
        ``(3735*B + 19235*G + 9798*R + 16384) >> 15``: OpenCV's fixed-point BT.601 weights, bit-exact.

    Example
    -------
    >>> gray = to_gray(np.zeros((4, 5, 3), np.uint8)); gray.shape
    (4, 5)
    """
    image = as_image(image, "image", ndims=(2, 3), channels=(1, 3, 4))
    h, w = image.shape[:2]
    if image.ndim == 2 or image.shape[2] == 1:
        out = check_out(out, "out", (h, w), np.uint8)
        np.copyto(out, image.reshape(h, w))
        return out
    out = check_out(out, "out", (h, w), np.uint8, inputs={"image": image})
    _kernels().to_gray(image, out)
    return out


# ----------------------------------------------------------------------------------------- threshold
def adaptive_threshold(image, block_size=15, c=5.0, *, method="mean", k=0.2, invert=False, out=None):
    """Binarize a gray image against a local threshold.

    Parameters
    ----------
    image : ndarray, (H, W) uint8
    block_size : int
        Odd window side (>= 3). Cost does not depend on it (running sums / integral images), except
        for ``"gaussian"`` whose separable kernel is ``block_size`` taps long.
    c : float
        Constant subtracted from the local mean (``"mean"``, ``"gaussian"``); ignored by Sauvola/Wolf.
    method : {"mean", "gaussian", "sauvola", "wolf"}
        ``"mean"`` equals ``cv2.adaptiveThreshold(..., ADAPTIVE_THRESH_MEAN_C, ...)`` pixel for pixel up to
        ``block_size`` 179 (from 181 on, a window mean within float error of n.5 is rounded exactly here and
        through OpenCV's float32 ``1 / block_size**2`` there: rare single pixels differ),
        ``"gaussian"`` follows ``ADAPTIVE_THRESH_GAUSSIAN_C``. ``"sauvola"``: T = m (1 + k (s/R - 1)),
        R = 127.5 (as ``skimage.filters.threshold_sauvola``). ``"wolf"`` (Wolf-Jolion):
        T = (1 - k) m + k M + k s/R (m - M), M = image minimum, R = largest local std.
        Windows are clipped at the border by replicating edge pixels (OpenCV's BORDER_REPLICATE).
    k : float
        Sauvola/Wolf sensitivity (0.2 typical; 0.5 is common for Wolf).
    invert : bool
        False: 255 where ``pixel > T`` (light on dark becomes white). True: 255 where ``pixel <= T``.
    out : ndarray, (H, W) uint8, optional
        May be ``image`` itself (the result then replaces it, as with ``cv2.adaptiveThreshold``).

    Returns
    -------
    ndarray, (H, W) uint8 with values in {0, 255}

    Raises
    ------
    TypeError
        ``image`` is not uint8.
    ValueError
        ``image`` not 2-D or empty, ``block_size`` even or < 3, unknown ``method``, bad ``out``.

    Example
    -------
    >>> img = (np.arange(64, dtype=np.uint8).reshape(8, 8) * 4)
    >>> adaptive_threshold(img, 3, 0).dtype
    dtype('uint8')
    """
    image = as_image(image, "image")
    block_size = as_int(block_size, "block_size", minimum=3, maximum=(1 << 15) - 1, odd=True)
    c = as_float(c, "c")
    k = as_float(k, "k")
    code = THRESHOLD_METHODS[as_choice(method, "method", tuple(THRESHOLD_METHODS))]
    if isinstance(out, np.ndarray) and np.may_share_memory(out, image):
        image = image.copy()  # in place (out=image), as cv2.adaptiveThreshold allows: windows read the input
    out = check_out(out, "out", image.shape, np.uint8)
    _kernels().adaptive_threshold(image, out, block_size, c, code, k, as_bool(invert, "invert"))
    return out


# -------------------------------------------------------------------------------- connected components
def connected_components(binary, connectivity=8, *, order="raster", out=None):
    """Label the non-zero pixels of ``binary``, like ``cv2.connectedComponentsWithStats``.

    Parameters
    ----------
    binary : ndarray, (H, W) uint8
        Non-zero pixels are foreground.
    connectivity : {4, 8}
    order : {"raster", "opencv"}
        How components are numbered. ``"raster"``: in raster order of each component's first pixel.
        ``"opencv"``: exactly as ``cv2.connectedComponentsWithStats`` numbers them (OpenCV 5), so labels,
        stats and centroids are identical, not only the partition. The two differ only for
        ``connectivity=8``, where OpenCV's block-based scan orders components by the first 2x2 block they
        touch.
    out : ndarray, (H, W) int32, optional
        Receives the labels.

    Returns
    -------
    n : int
        Number of labels, background (label 0) included.
    labels : ndarray, (H, W) int32
        Components numbered 1..n-1 in ``order``: by default in raster order of each component's first
        pixel; with ``order="opencv"`` as OpenCV numbers them (for 8-connectivity, in raster order of the
        first 2x2 block, rows 2i, 2i+1 and columns 2j, 2j+1, that a component touches).
    stats : ndarray, (n, 5) int32
        ``x, y, w, h, area`` per label (``cv2.CC_STAT_*`` order); row 0 is the background.
    centroids : ndarray, (n, 2) float64
        Mean ``x, y`` per label.

    Example
    -------
    >>> n, labels, stats, _ = connected_components(np.eye(3, dtype=np.uint8), 4); n
    4
    """
    binary = _check_components(binary, connectivity, order)
    out = check_out(out, "out", binary.shape, np.int32, inputs={"binary": binary})
    n, stats, centroids = _kernels().connected_components(binary, out, int(connectivity), order == "opencv")
    return int(n), out, stats, centroids


def component_stats(binary, connectivity=8, *, order="raster"):
    """:func:`connected_components` without the label image: ``(n, stats, centroids)``.

    For callers that need only each component's box, area and centroid (the localizer): the native
    kernel then writes no (H, W) int32 label image, which took about half its time on binarized
    1920x1080 photos (``benchmarks/bench_components.py``).

    Example
    -------
    >>> n, stats, _ = component_stats(np.eye(3, dtype=np.uint8), 4); stats[1:, 4].tolist()
    [1, 1, 1]
    """
    binary = _check_components(binary, connectivity, order)
    n, stats, centroids = _kernels().connected_components(binary, None, int(connectivity), order == "opencv")
    return int(n), stats, centroids


def _check_components(binary, connectivity, order):
    binary = as_image(binary, "binary")
    if isinstance(connectivity, (bool, np.bool_)) or not isinstance(connectivity, numbers.Integral) \
            or connectivity not in (4, 8):
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity!r}")
    if order not in ("raster", "opencv"):
        raise ValueError(f"order must be 'raster' or 'opencv', got {order!r}")
    return binary


# -------------------------------------------------------------------------------------- character rows
ROW_HEIGHT_RATIO = 1.5  # default of find_character_rows' max_height_ratio (and the localizer's)
ROW_GAP = 1.2  # default of find_character_rows' max_gap, in character heights (and the localizer's)

@dataclass(frozen=True)
class CharacterRow:
    """Character-like components that line up: one text row of a plate candidate.

    ``indices`` are component labels (rows of ``stats``) left to right; ``boxes`` their x, y, w, h;
    ``top`` and ``bottom`` the fitted lines ``y = slope * x + intercept`` along the characters' tops
    and bottoms, so the row can be warped straight.
    """

    indices: np.ndarray
    boxes: np.ndarray
    top: tuple
    bottom: tuple

    def quad(self, pad_x=0.0, pad_y=0.0):
        """Corners (4, 2) float64, clockwise from top-left, of the row grown by ``pad_x``/``pad_y`` (fractions
        of the row height)."""
        x0 = float(self.boxes[:, 0].min())
        x1 = float((self.boxes[:, 0] + self.boxes[:, 2]).max())
        pad_x, pad_y = as_float(pad_x, "pad_x"), as_float(pad_y, "pad_y")  # finite
        if pad_x < 0 or pad_y < 0:
            raise ValueError(f"pad_x and pad_y must be >= 0, got {pad_x!r} and {pad_y!r}")
        (ts, ti), (bs, bi) = self.top, self.bottom
        height = max(1.0, ((bs * x0 + bi) - (ts * x0 + ti) + (bs * x1 + bi) - (ts * x1 + ti)) / 2)
        dx, dy = pad_x * height, pad_y * height
        x0, x1 = x0 - dx, x1 + dx
        return np.array(
            [
                [x0, ts * x0 + ti - dy],
                [x1, ts * x1 + ti - dy],
                [x1, bs * x1 + bi + dy],
                [x0, bs * x0 + bi + dy],
            ]
        )


def find_character_rows(stats, *, min_height=8, max_height=None, max_height_ratio=ROW_HEIGHT_RATIO, max_gap=ROW_GAP,
                        max_angle=20.0, min_chars=3):
    """Group character-like components into text rows.

    Components are character-like when ``min_height <= h <= max_height`` and ``0.1 <= w/h <= 1.2``
    (up to 2.5 for characters that touch and form one component), so plate borders, bolts and specks
    drop out. Each one is linked to its best right neighbour (and that one back to it) when their heights
    differ by at most ``max_height_ratio``, the horizontal gap between them is at most ``max_gap`` times
    their mean height and their centres lie on a line of at most ``max_angle`` degrees; the links form
    chains. A chain end that leaves the line through the others is dropped, and a row needs two members
    of single-character width. Then components the chains missed join a row when they sit between its
    top and bottom lines: whole characters, and pieces of a broken character (stacked pieces that
    overlap in x and together span the row's height). Rows that continue each other across such a gap
    are merged. Top and bottom lines are least-squares fits over the members' box tops and bottoms,
    robust to one outlier. Rows with fewer than ``min_chars`` members are dropped. Algorithm details:
    ``fastplate/_segment.pyx``.

    Parameters
    ----------
    stats : ndarray, (n, 5) int32
        ``stats`` from :func:`connected_components` (row 0, the background, is ignored).
    min_height, max_height : int
        Character height range in pixels (``max_height=None``: no upper limit).
    max_height_ratio : float
        Largest height ratio between neighbours (>= 1).
    max_gap : float
        Largest horizontal gap between neighbours, in character heights.
    max_angle : float
        Largest tilt of a row, in degrees, in [0, 90).
    min_chars : int
        Fewest members a returned row has (both pieces of a broken character count).

    Returns
    -------
    list of CharacterRow, longest first.

    Example
    -------
    >>> boxes = [[0, 0, 99, 40, 0]] + [[10 + 22 * i, 5, 16, 30, 300] for i in range(4)]
    >>> [r.indices.tolist() for r in find_character_rows(np.array(boxes, np.int32))]
    [[1, 2, 3, 4]]
    """
    members, counts, lines = character_row_table(stats, min_height=min_height, max_height=max_height,
                                                 max_height_ratio=max_height_ratio, max_gap=max_gap,
                                                 max_angle=max_angle, min_chars=min_chars)[:3]
    rows, start = [], 0
    for count, line in zip(counts.tolist(), lines):
        idx = members[start:start + count]
        rows.append(CharacterRow(idx, stats[idx, :4].copy(), (line[0], line[1]), (line[2], line[3])))
        start += count
    return rows


def _check_stats(stats):
    if not isinstance(stats, np.ndarray):
        raise TypeError(f"stats must be a numpy.ndarray of int32, got {type(stats).__name__}")
    if stats.dtype != np.int32:
        raise TypeError(f"stats must have dtype int32, got {stats.dtype}")
    if stats.ndim != 2 or stats.shape[1] != 5:
        raise ValueError(f"stats must have shape (n, 5), got {stats.shape}")
    if stats.shape[0] and (stats[:, 2:] < 0).any():
        raise ValueError("stats must have non-negative w, h and area (columns 2-4)")
    return np.ascontiguousarray(stats)


class RowTable(NamedTuple):
    """Rows from :func:`character_row_table`: members row after row (longest row first), each left to right."""

    members: np.ndarray  #: (M,) int64 component labels
    counts: np.ndarray  #: (R,) int64 members per row
    lines: np.ndarray  #: (R, 4) float64 top slope, top intercept, bottom slope, bottom intercept
    features: np.ndarray  #: (R, 4) float64 count, height spread, top/bottom misalignment, fill (scale-free)
    extents: np.ndarray  #: (R, 5) float64 x0, x1, y0, y1 of the members' boxes, mean height
    quads: np.ndarray  #: (R, 4, 2) float64 corners of the padded row, clockwise from top-left


def character_row_table(stats, *, min_height=8, max_height=None, max_height_ratio=ROW_HEIGHT_RATIO, max_gap=ROW_GAP,
                        max_angle=20.0, min_chars=3, max_chars=None, pad_x=0.0, pad_y=0.0):
    """:func:`find_character_rows` as arrays, with each row's shape features and padded quad: the form the
    localizer uses, one kernel call per threshold instead of a Python object per row.

    Parameters
    ----------
    stats, min_height, max_height, max_height_ratio, max_gap, max_angle, min_chars
        As :func:`find_character_rows`.
    max_chars : int, optional
        Rows with more members are left out (longer rows are text, not plates).
    pad_x, pad_y : float
        Padding of the quads around the rows, in row heights (as :meth:`CharacterRow.quad`).

    Returns
    -------
    RowTable
        ``members`` are the component labels, row after row (longest row first, equal ones in the kernel's
        order), each row left to right (ties by label). ``features`` per row: member count; height spread
        (mean absolute deviation of the heights); misalignment (mean distance of the box tops and bottoms
        from the fitted lines); fill (mean blob area over its box area). Spread and misalignment leave out
        the row's worst member (a sticker, a bolt) and are divided by the mean height.

    Example
    -------
    >>> boxes = [[0, 0, 99, 40, 0]] + [[10 + 22 * i, 5, 16, 30, 300] for i in range(4)]
    >>> table = character_row_table(np.array(boxes, np.int32))
    >>> table.members, table.counts, table.features[0, :2]
    (array([1, 2, 3, 4]), array([4]), array([4., 0.]))
    """
    stats = _check_stats(stats)
    min_height = as_int(min_height, "min_height", minimum=1)
    max_height = 1 << 30 if max_height is None else as_int(max_height, "max_height", minimum=min_height)
    max_height_ratio = as_float(max_height_ratio, "max_height_ratio")
    if max_height_ratio < 1:
        raise ValueError(f"max_height_ratio must be >= 1, got {max_height_ratio}")
    max_gap = as_float(max_gap, "max_gap")
    max_angle = _check_max_angle(max_angle)
    min_chars = as_int(min_chars, "min_chars", minimum=1)
    max_chars = 1 << 30 if max_chars is None else as_int(max_chars, "max_chars", minimum=min_chars)
    pad_x, pad_y = as_float(pad_x, "pad_x"), as_float(pad_y, "pad_y")
    return _row_table(stats, min_height, max_height, max_height_ratio, max_gap, max_angle, min_chars, max_chars,
                      pad_x, pad_y)


def _check_max_angle(value, name="max_angle"):
    """The steepest row in degrees, checked: a number in [0, 90) (here and for a Localizer's option)."""
    value = as_float(value, name)
    if not 0 <= value < 90:
        raise ValueError(f"{name} must be in [0, 90) degrees, got {value!r}")
    return value


# The localizer's per-threshold steps without the argument checks: it checks its options once when it is made,
# and the arrays are its own (a level of the pyramid it built, a binary image it allocated, the stats the
# kernel returned). On scenes-eu photos the checks were about a tenth of localization.
def _row_table(stats, min_height, max_height, max_height_ratio, max_gap, max_angle, min_chars, max_chars, pad_x,
               pad_y):
    """:func:`character_row_table` of checked arguments (``stats`` C-contiguous int32 (n, 5))."""
    if stats.shape[0] < 2:
        return RowTable(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 4)), np.zeros((0, 4)),
                        np.zeros((0, 5)), np.zeros((0, 4, 2)))
    impl = _kernels()
    row_of, lines = impl.find_character_rows(stats, min_height, max_height, max_height_ratio, max_gap, max_angle)
    return RowTable(*impl.row_geometry(stats, row_of, lines, min_chars, max_chars, pad_x, pad_y))


def _threshold_stats(image, block_size, c, invert, out):
    """``adaptive_threshold(image, block_size, c, method="mean", invert=invert, out=out)`` and the stats of
    ``component_stats(out, 8, order="opencv")``, of checked arguments: ``image`` a C-contiguous (H, W) uint8
    array, ``out`` another of its shape (not sharing its memory), ``block_size`` odd and >= 3."""
    impl = _kernels()
    impl.adaptive_threshold(image, out, block_size, float(c), THRESHOLD_METHODS["mean"], 0.0, bool(invert))
    return impl.connected_components(out, None, 8, True)[1]


def segment_characters(plate, *, block_size=None, method="wolf", k=0.3, min_chars=3):
    """Find the character boxes of a plate crop, trying both polarities.

    Returns the best :class:`CharacterRow` list (rows of the polarity with most characters, top to
    bottom, so two-row plates give two rows), or ``[]``.

    Example
    -------
    >>> segment_characters(np.full((30, 100), 200, np.uint8))
    []
    """
    gray = to_gray(plate)
    h = gray.shape[0]
    if h < 4:  # no character of at least 4 px fits
        return []
    if block_size is None:
        block_size = max(3, (h // 2) | 1)
    best = []
    for invert in (False, True):
        binary = adaptive_threshold(gray, block_size, 0.0, method=method, k=k, invert=invert)
        _, _, stats, _ = connected_components(binary, 8, order="opencv")
        rows = find_character_rows(stats, min_height=max(4, h // 5), max_height=h, min_chars=min_chars)
        if sum(len(r.indices) for r in rows) > sum(len(r.indices) for r in best):
            best = rows
    return sorted(best, key=lambda r: r.top[1])


# ---------------------------------------------------------------------------------------------- warps
MAX_BATCH_VALUES = 1 << 30  # 4 GiB of float32
MAX_RECT_SIDE = 1 << 20  # quad_to_rect_matrices' sizes: the native kernel takes them as int32


def quad_to_rect_matrices(quads, size):
    """Homographies (N, 3, 3) that map output pixel (x, y, 1) of an (h, w) rectangle to source coordinates.

    Quad corners (clockwise from top-left) land on the output's corner pixel centres
    ``(0, 0), (w-1, 0), (w-1, h-1), (0, h-1)``, as with ``cv2.getPerspectiveTransform`` +
    ``cv2.warpPerspective``. Closed form (Heckbert's square-to-quad mapping), one kernel call for all N.

    Raises
    ------
    ValueError
        A quad is degenerate (three corners on a line) or not finite, or ``size`` is not two whole numbers
        from 2 to ``MAX_RECT_SIDE`` (2**20; floats such as 32.0 are fine).
    TypeError
        ``quads`` are not numbers (bool, complex, strings, ragged lists).
    """
    try:
        h, w = size
        if not all(not isinstance(v, (bool, np.bool_)) and float(v).is_integer() and 2 <= v <= MAX_RECT_SIDE
                   for v in (h, w)):
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"size must be (h, w), two whole numbers from 2 to {MAX_RECT_SIDE}, got {size!r}") from None
    h, w = int(h), int(w)
    q = as_quads(quads)  # numeric, finite (naming the first quad that is not)
    if np.ndim(quads) != 3:
        raise ValueError(f"quads must have shape (N, 4, 2), got {np.shape(quads)}")
    m = np.empty((q.shape[0], 3, 3))
    bad = _kernels().quad_matrices(q, m, h, w)  # one native call: NumPy's ~40 small operations cost ~50 us
    if bad >= 0:
        what = "has a corner that is not finite" if not np.isfinite(q[bad]).all() else "has three corners on a line"
        raise ValueError(f"quads must be finite, non-degenerate quadrilaterals; quad {bad} {what}")
    return m


def normalize_batch(image, quads, size=(32, 128), *, scale=1.0 / 255.0, threads=None, out=None):
    """Warp N quadrilaterals of one image into a float32 batch (N, C, h, w) for the recognizer.

    Bilinear, perspective, edge pixels replicated outside the image, as ``cv2.warpPerspective`` with
    ``INTER_LINEAR`` and ``BORDER_REPLICATE`` (within 1/255 after scaling). Values are ``pixel * scale``
    (default: [0, 1]).

    Parameters
    ----------
    image : ndarray, (H, W) or (H, W, C) uint8
    quads : array_like, (N, 4, 2) or (4, 2)
        Corners x, y in pixel-centre coordinates, clockwise from top-left. The whole image is
        ``[[0, 0], [W-1, 0], [W-1, H-1], [0, H-1]]``.
    size : (h, w)
        Output size, each side at least 2.
    threads : int, optional
        Worker threads over N (default: the cores this process may use, :func:`cpu_cores`).
    out : ndarray, (N, C, h, w) float32, optional

    Example
    -------
    >>> img = np.full((20, 60), 255, np.uint8)
    >>> float(normalize_batch(img, [[0, 0], [59, 0], [59, 19], [0, 19]], (8, 24)).max())
    1.0
    """
    image = as_image(image, "image", ndims=(2, 3), channels=(1, 3, 4))
    if image.ndim == 2:
        image = image[:, :, None]
    h, w = as_size(size, minimum=2)
    quads = as_quads(quads)
    scale = as_float(scale, "scale")
    threads = cpu_cores() if threads is None else as_int(threads, "threads", minimum=1, maximum=1024)
    n = quads.shape[0]
    if n * image.shape[2] * h * w > MAX_BATCH_VALUES:
        raise ValueError(f"the batch would hold {n}x{image.shape[2]}x{h}x{w} values, at most {MAX_BATCH_VALUES} allowed")
    out = check_out(out, "out", (n, image.shape[2], h, w), np.float32, inputs={"image": image})
    if n == 0:
        return out
    matrices = quad_to_rect_matrices(quads, (h, w))
    _kernels().warp_batch(image, matrices, out, scale, threads)
    return out


# ---------------------------------------------------------------------------------------------- batch
def cpu_cores() -> int:
    """Cores this process may run on: the default thread count everywhere in fastplate.

    ``os.cpu_count()`` counts the machine's cores; under ``taskset``, a container's CPU set or a job
    scheduler's affinity mask the process may run on fewer, and more threads than that only take turns.
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def map_images(func: Callable, images: Sequence, *, threads=None, **kwargs) -> list:
    """Run ``func(image, **kwargs)`` over ``images`` on a thread pool; results in input order.

    The kernels release the GIL, so threads scale with cores.

    Example
    -------
    >>> imgs = [np.zeros((10, 10), np.uint8)] * 3
    >>> len(map_images(adaptive_threshold, imgs, threads=2, block_size=3))
    3
    """
    threads = cpu_cores() if threads is None else as_int(threads, "threads", minimum=1, maximum=1024)
    images = list(images)
    if threads == 1 or len(images) <= 1:
        return [func(img, **kwargs) for img in images]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(lambda img: func(img, **kwargs), images))
