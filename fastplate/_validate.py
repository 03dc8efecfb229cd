"""The one place that inspects arrays: dtype, ndim, size, contiguity and ``out=`` buffers.

Kernels (C++, Cython, Numba) trust what comes out of here: C-contiguous arrays of the right dtype and
shape. Every error names the parameter, what was expected and what was given.
"""
from __future__ import annotations

import numbers

import numpy as np

# Absurd sizes are refused before any allocation: a 2**31-pixel image would overflow int32 labels.
MAX_PIXELS = 1 << 28  # 268M pixels (e.g. 16384 x 16384)


def as_image(image, name="image", *, ndims=(2,), channels=None, dtype=np.uint8):
    """Return ``image`` as a C-contiguous array of ``dtype`` with an allowed ndim (strided views are copied)."""
    if not isinstance(image, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray of {np.dtype(dtype).name}, got {type(image).__name__}")
    if image.dtype != dtype:
        raise TypeError(
            f"{name} must have dtype {np.dtype(dtype).name}, got {image.dtype}"
            + (f"; convert with {name}.astype(np.{np.dtype(dtype).name})" if image.dtype.kind in "biuf" else "")
        )
    if image.ndim not in ndims:
        expected = " or ".join(f"{d}-D" for d in ndims)
        raise ValueError(f"{name} must be {expected}, got shape {image.shape} ({image.ndim}-D)")
    if image.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {image.shape}")
    if image.ndim >= 2 and image.shape[0] * image.shape[1] > MAX_PIXELS:
        raise ValueError(f"{name} is too large: {image.shape[0]}x{image.shape[1]} pixels, at most {MAX_PIXELS} allowed")
    if image.ndim == 3 and channels is not None and image.shape[2] not in channels:
        raise ValueError(f"{name} must have {' or '.join(map(str, channels))} channels, got shape {image.shape}")
    return np.ascontiguousarray(image)


def as_int(value, name, *, minimum=None, maximum=None, odd=False):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}{' and odd' if odd else ''}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    if odd and value % 2 == 0:
        raise ValueError(f"{name} must be odd, got {value}")
    return value


def as_float(value, name, *, finite=True):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    try:
        value = float(value)
    except OverflowError:  # e.g. 10**400 (its digits are not shown: str() of a huge int is refused)
        raise ValueError(f"{name} must be finite, got a number too large for a float") from None
    if finite and not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def as_choice(value, name, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def as_size(size, name="size", *, minimum=1):
    """(h, w) pair of ints in [minimum, 4096]."""
    try:
        h, w = size
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a (height, width) pair, got {size!r}") from None
    h = as_int(h, f"{name}[0]", minimum=minimum, maximum=4096)
    w = as_int(w, f"{name}[1]", minimum=minimum, maximum=4096)
    return h, w


def as_quads(quads, name="quads"):
    """``quads`` as a C-contiguous float64 (N, 4, 2) array (one (4, 2) quad becomes N = 1; an empty
    sequence, N = 0), finite."""
    if not isinstance(quads, np.ndarray):
        try:
            quads = np.asarray(quads, dtype=np.float64)
        except OverflowError:  # a Python int beyond float range (10**400)
            raise ValueError(f"{name} must be finite (no NaN, inf or int too large for a float)") from None
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be an array of numbers of shape (N, 4, 2), got {type(quads).__name__}") from None
    if quads.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be numeric, got dtype {quads.dtype}")
    if quads.ndim == 2:
        quads = quads[None]
    elif quads.shape == (0,):
        quads = quads.reshape(0, 4, 2)
    if quads.ndim != 3 or quads.shape[1:] != (4, 2):
        raise ValueError(f"{name} must have shape (N, 4, 2) or (4, 2), got {quads.shape}")
    quads = np.ascontiguousarray(quads, dtype=np.float64)
    finite = np.isfinite(quads).all(axis=(1, 2))
    if not finite.all():
        raise ValueError(f"{name} must be finite (no NaN or inf); quad {int(np.argmin(finite))} has a corner that "
                         "is not finite")
    return quads


def as_bool(value, name) -> bool:
    """A flag: a bool, a NumPy bool, 0/1 or a 0-d array of one (not a longer array, whose truth is ambiguous,
    nor a string)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, (int, np.integer)) and value in (0, 1)):
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")


def check_out(out, name, shape, dtype, *, inputs=None):
    """Return ``out`` if it is a writable C-contiguous array of exactly ``shape``/``dtype``; allocate if None.

    ``inputs``: ``{name: array}`` the kernel reads while it writes ``out``; ``out`` must not overlap them
    (a kernel that reads pixels it has already overwritten returns a silently wrong answer)."""
    if out is None:
        return np.empty(shape, dtype=dtype)
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray or None, got {type(out).__name__}")
    if out.dtype != dtype:
        raise ValueError(f"{name} must have dtype {np.dtype(dtype).name}, got {out.dtype}")
    if out.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {out.shape}")
    if not out.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous; pass np.empty({tuple(shape)}, np.{np.dtype(dtype).name})")
    if not out.flags.writeable:
        raise ValueError(f"{name} must be writeable")
    for what, array in (inputs or {}).items():
        if np.may_share_memory(out, array):
            raise ValueError(f"{name} must not share memory with {what}; pass a separate array (or copy {what})")
    return out
