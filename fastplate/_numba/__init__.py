"""Numba twins of every native kernel: same names, same signatures (see fastplate/_backend.py).

They are the fallback when the compiled extension is missing and the second implementation tests
compare against. Compiled functions are cached on disk (``cache=True``).
"""
import numba  # noqa: F401  (ImportError here means: pip install 'fastplate[numba]')

from .color import to_gray
from .components import connected_components
from .rows import find_character_rows, row_geometry
from .threshold import adaptive_threshold
from .warp import quad_matrices, warp_batch

__all__ = ["to_gray", "adaptive_threshold", "connected_components", "warp_batch", "quad_matrices", "find_character_rows",
           "row_geometry"]
