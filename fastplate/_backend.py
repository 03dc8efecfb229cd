"""The one place that imports the compiled modules or the Numba twins and picks a backend.

``FASTPLATE_BACKEND`` = ``auto`` (default: native if importable, else numba), ``native`` or ``numba``.
Both backends export the same kernel names with the same signatures (see ``fastplate/_numba``):

- ``to_gray(src(H,W,C) u8, out(H,W) u8)``
- ``adaptive_threshold(src(H,W) u8, out(H,W) u8, block_size, c, method, k, invert)``
- ``connected_components(binary(H,W) u8, labels(H,W) i32 or None, connectivity, opencv_order=True) -> (n, stats(n,5) i32, centroids(n,2) f64)``
- ``warp_batch(src(H,W,C) u8, matrices(N,3,3) f64, out(N,C,h,w) f32, scale, n_threads)``
- ``quad_matrices(quads(N,4,2) f64, out(N,3,3) f64, h, w) -> first degenerate quad or -1``
- ``find_character_rows(stats(n,5) i32, min_height, max_height, max_height_ratio, max_gap, max_angle) -> (row_of(n,) i32, lines(R,4) f64)``
- ``row_geometry(stats(n,5) i32, row_of(n,) i32, lines(R,4) f64, min_chars, max_chars, pad_x, pad_y) -> (members, counts, lines, features, extents, quads)`` (see ``kernels.RowTable``)

Kernels trust their arguments; ``fastplate.kernels`` validates them first.
"""
from __future__ import annotations

import os
from types import SimpleNamespace

from .errors import DependencyError

KERNEL_NAMES = ("to_gray", "adaptive_threshold", "connected_components", "warp_batch", "quad_matrices",
                "find_character_rows", "row_geometry")


def _load_native():
    from . import _native, _segment  # noqa: F401  (compiled extensions)

    found = {n: getattr(_native, n, None) or getattr(_segment, n, None) for n in KERNEL_NAMES}
    missing = [n for n, f in found.items() if f is None]
    if missing:  # a stale build of the extension
        raise ImportError(f"fastplate._native lacks {', '.join(missing)}; rebuild it with `pip install .`")
    return SimpleNamespace(name="native", **found)


def _load_numba():
    try:
        from . import _numba
    except ImportError as exc:  # numba missing
        raise DependencyError(
            "the Numba backend needs numba: pip install 'fastplate[numba]' (" + str(exc) + ")"
        ) from exc
    return SimpleNamespace(name="numba", **{n: getattr(_numba, n) for n in KERNEL_NAMES})


def load(choice: str | None = None):
    """Return the kernel namespace for ``choice`` (or ``$FASTPLATE_BACKEND``)."""
    choice = (choice or os.environ.get("FASTPLATE_BACKEND", "auto")).strip().lower()
    if choice == "native":
        try:
            return _load_native()
        except ImportError as exc:
            raise DependencyError(
                f"FASTPLATE_BACKEND=native but the compiled extension is missing ({exc}); "
                "reinstall with `pip install .` and a C++ compiler"
            ) from exc
    if choice == "numba":
        return _load_numba()
    if choice != "auto":
        raise ValueError(f"FASTPLATE_BACKEND must be one of 'auto', 'native', 'numba'; got {choice!r}")
    try:
        return _load_native()
    except ImportError:
        return _load_numba()
