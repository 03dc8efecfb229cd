"""Turn what users pass as an image (array, path, encoded bytes) into a gray uint8 array, or a clear error."""
from __future__ import annotations

import os
import struct

import cv2
import numpy as np

from ._validate import MAX_PIXELS, as_float, as_image, as_int
from .errors import ImageDecodeError

__all__ = ["load_gray", "image_size_from_header", "stretch_levels", "sharpen", "edge_balance"]

# The largest file we read: far above any camera frame, small enough to never exhaust memory.
MAX_FILE_BYTES = 512 << 20


def image_size_from_header(data: bytes):
    """``(width, height)`` from a PNG, JPEG, BMP, WebP or TIFF header, or None when the format is another
    one or unclear.

    Lets us refuse decompression bombs before OpenCV allocates the pixels (:func:`load_gray` checks the
    decoded size again, for the formats and files this misses).
    """
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:2] == b"BM" and len(data) >= 26:
        w, h = struct.unpack("<ii", data[18:26])
        return abs(w), abs(h)  # a negative height means rows stored top-down
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8X":
            return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
        if chunk == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
        if chunk == b"VP8 ":
            w, h = struct.unpack("<HH", data[26:30])
            return w & 0x3FFF, h & 0x3FFF
        return None
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return _tiff_size(data)
    if data[:2] == b"\xff\xd8":
        i, n = 2, len(data)
        while i + 4 <= n:
            if data[i] != 0xFF:
                # Stray bytes before a marker: decoders skip them (libjpeg warns), so must we.
                i = data.find(b"\xff", i)
                if i < 0:
                    return None
                continue
            marker = data[i + 1]
            if marker == 0xFF:  # fill byte
                i += 1
                continue
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            length = struct.unpack(">H", data[i + 2:i + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                if i + 9 > n:
                    return None
                h, w = struct.unpack(">HH", data[i + 5:i + 9])
                return w, h
            i += 2 + length
    return None


def _tiff_size(data: bytes):
    """Largest ``(width, height)`` among a TIFF's image directories (OpenCV reads the first page; any
    page could be the bomb), or None when the directories are unclear."""
    e = "<" if data[:2] == b"II" else ">"
    n, best = len(data), None
    if n < 8:  # truncated before the first directory's offset
        return None
    offset, seen = struct.unpack(e + "I", data[4:8])[0], set()
    while 8 <= offset <= n - 2 and offset not in seen and len(seen) < 64:
        seen.add(offset)
        count = struct.unpack(e + "H", data[offset:offset + 2])[0]
        end = offset + 2 + 12 * count
        if end + 4 > n:
            return best
        size = {}
        for k in range(count):
            tag, kind = struct.unpack(e + "HH", data[offset + 2 + 12 * k:offset + 6 + 12 * k])
            if tag in (256, 257) and kind in (3, 4):  # ImageWidth, ImageLength as SHORT or LONG
                value = data[offset + 10 + 12 * k:offset + 14 + 12 * k]
                size[tag] = struct.unpack(e + "H", value[:2])[0] if kind == 3 else struct.unpack(e + "I", value)[0]
        if len(size) == 2 and (best is None or size[256] * size[257] > best[0] * best[1]):
            best = (size[256], size[257])
        offset = struct.unpack(e + "I", data[end:end + 4])[0]
    return best


def _decode(data: bytes, what: str) -> np.ndarray:
    if len(data) == 0:
        raise ImageDecodeError(f"{what} is empty (0 bytes)")
    size = image_size_from_header(data)
    if size is not None and size[0] * size[1] > MAX_PIXELS:
        raise ImageDecodeError(f"{what} is too large: {size[0]}x{size[1]} pixels, at most {MAX_PIXELS} allowed")
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    except cv2.error as exc:  # OpenCV refuses some malformed or oversized files with an exception
        raise ImageDecodeError(f"could not decode {what}: {exc}") from None
    if image is None or image.size == 0:
        raise ImageDecodeError(f"could not decode {what} ({len(data)} bytes): not a supported image or corrupt")
    if image.shape[0] * image.shape[1] > MAX_PIXELS:  # a format or header the check above could not read
        raise ImageDecodeError(f"{what} is too large: {image.shape[1]}x{image.shape[0]} pixels, at most "
                               f"{MAX_PIXELS} allowed")
    return image


def load_gray(image, name: str = "image") -> np.ndarray:
    """Return ``image`` as a C-contiguous (H, W) uint8 gray array.

    Parameters
    ----------
    image : ndarray, str, os.PathLike, bytes, bytearray or memoryview
        (H, W) gray or (H, W, 3|4) BGR(A) uint8 array (as OpenCV loads them), a file path, or the encoded
        bytes of an image file (JPEG, PNG, BMP, WebP, TIFF, ... whatever OpenCV decodes).

    Notes
    -----
    Files and bytes are decoded straight to gray (``cv2.IMREAD_GRAYSCALE``: for a JPEG, its own luma, with
    no colour upsampling; faster), as the recognizer's training crops were. A BGR array, such as
    ``cv2.imread(path)`` returns, is converted by :func:`fastplate.kernels.to_gray`. The two grays differ by
    a few levels where colour changes sharply, so readings of a photo by path and by array can differ in
    their confidences (rarely in their text).

    Raises
    ------
    TypeError
        Not an array, path or bytes, or an array that is not uint8.
    ValueError
        An empty array, a wrong shape, or too many pixels.
    FileNotFoundError
        The path does not exist.
    fastplate.errors.ImageDecodeError
        The file or bytes are not an image OpenCV can decode (corrupt, truncated, empty, too large).
    """
    from . import kernels

    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8:
            raise TypeError(f"{name} must be a uint8 array (as cv2.imread returns), got dtype {image.dtype}")
        if image.ndim == 3 and image.shape[2] == 1:
            image = image[:, :, 0]
        if image.ndim not in (2, 3):
            raise ValueError(f"{name} must be (H, W) gray, (H, W, 1), (H, W, 3) BGR or (H, W, 4) BGRA, "
                             f"got shape {image.shape}")
        if image.ndim == 2:  # already gray: validate without copying
            return as_image(image, name)
        return kernels.to_gray(image)
    if isinstance(image, (bytes, bytearray, memoryview)):
        return _decode(bytes(image), f"{name} bytes")
    if isinstance(image, (str, os.PathLike)):
        path = os.fspath(image)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not os.path.isfile(path):
            if os.path.isdir(path):
                raise IsADirectoryError(f"{name} {path!r} is a directory, not an image file")
            if os.path.exists(path):  # a FIFO, socket or device: never read (it could block forever)
                raise ImageDecodeError(f"{name} {path!r} is not a regular file")
            raise FileNotFoundError(f"{name} file not found: {path!r}")
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise ImageDecodeError(f"{name} file {path!r} is too large ({size} bytes)")
        with open(path, "rb") as f:
            data = f.read()
        return _decode(data, f"{name} file {path!r}")
    raise TypeError(
        f"{name} must be a numpy.ndarray, a path or encoded image bytes, got {type(image).__name__}"
    )


def stretch_levels(gray: np.ndarray, min_range: int = 160, max_gain: float = 8.0) -> np.ndarray:
    """``gray`` with its levels stretched to the full 0-255 range when they span less than ``min_range``.

    Dark (underexposed, night) and hazy frames hold plates whose characters differ from the plate by a
    few gray levels, below what the localizer's thresholds ask for (``Localizer(contrast=8)``). The span is
    that of every 4th pixel in each direction, from its darkest to its brightest (not percentiles: a small
    bright plate in a dark frame must not be clipped; a few pixels beyond the sample's span may clip), and
    the gain is at most ``max_gain``. Frames that span ``min_range`` or more are returned unstretched (the
    same array when it is C-contiguous). ``min_range=0``: never.

    Example
    -------
    >>> dim = np.full((8, 8), 40, np.uint8); dim[4:, 4:] = 100      # levels 40-100: stretched
    >>> out = stretch_levels(dim); int(out.min()), int(out.max())
    (0, 255)
    >>> stretch_levels(out) is out                                  # 0-255: as it is
    True
    """
    gray = as_image(gray, "gray", ndims=(2,))
    min_range = as_int(min_range, "min_range", minimum=0, maximum=256)
    max_gain = as_float(max_gain, "max_gain")
    if not max_gain >= 1:
        raise ValueError(f"max_gain must be >= 1, got {max_gain!r}")
    sample = gray[::4, ::4]
    lo, hi = int(sample.min()), int(sample.max())
    if hi - lo >= min_range:
        return gray
    gain = min(max_gain, 255.0 / max(hi - lo, 1))
    lut = np.clip(np.round((np.arange(256) - lo) * gain), 0, 255).astype(np.uint8)
    return cv2.LUT(gray, lut)


def sharpen(gray: np.ndarray, sigma=1.5, amount: float = 2.0) -> np.ndarray:
    """``gray`` with an unsharp mask: ``gray + amount * (gray - blurred)``, saturated to 0-255, where
    ``blurred`` is ``gray`` under a Gaussian blur of ``sigma`` px (edges reflected).

    Blur (focus, a soft lens, motion) fills the gaps between a small plate's characters, so the localizer's
    thresholds see one blob instead of a row of characters; the mask deepens those gaps again.
    ``sigma``: one width, or ``(sigma_x, sigma_y)``: a mask wider along x deepens the gaps of a row smeared
    sideways (horizontal motion) without sharpening noise as much along y.
    ``amount=0``: a copy of ``gray``.

    Example
    -------
    >>> soft = np.full((9, 9), 100, np.uint8); soft[:, 4] = 60; soft[:, 3] = soft[:, 5] = 80
    >>> sharpen(soft)[4, 2:7].tolist()                      # a soft dark line: darker, its sides lighter
    [118, 72, 18, 72, 118]
    """
    gray = as_image(gray, "gray", ndims=(2,))
    pair = (sigma, sigma) if isinstance(sigma, (str, bytes)) or np.ndim(sigma) == 0 else tuple(sigma)
    if len(pair) != 2:
        raise ValueError(f"sigma must be a width in px or a (sigma_x, sigma_y) pair, got {sigma!r}")
    sx, sy = (as_float(v, "sigma") for v in pair)
    amount = as_float(amount, "amount")
    if not (0 < sx <= 64 and 0 < sy <= 64):
        raise ValueError(f"sigma must be in (0, 64] px, got {sigma!r}")
    if not 0 <= amount <= 64:
        raise ValueError(f"amount must be in [0, 64], got {amount!r}")
    blurred = cv2.GaussianBlur(gray, (0, 0), sigmaX=sx, sigmaY=sy, borderType=cv2.BORDER_REFLECT_101)
    return cv2.addWeighted(gray, 1.0 + amount, blurred, -amount, 0.0)


def _step_percentile(steps: np.ndarray, q: float) -> float:
    hist = cv2.calcHist([steps], [0], None, [256], [0, 256]).ravel()
    cum = np.cumsum(hist)
    return float(np.searchsorted(cum, q * cum[-1]))


def edge_balance(gray: np.ndarray, q: float = 0.995) -> float:
    """How sharp ``gray`` is across x against across y: the ``q`` quantile of the steps between
    horizontal neighbours over that of the steps between vertical neighbours (a step of at least 1 assumed).

    Photos give 0.5-1.1 (scenes-eu and scenes-br); blur smeared sideways (horizontal motion) lowers it (5 px
    of motion: 0.3-0.6), a view from the side raises it. 0 for a flat image or one narrower than 2 px.

    Example
    -------
    >>> bars = np.tile(np.repeat([0, 255], 4), (16, 4)).astype(np.uint8)     # vertical bars: steps along x
    >>> edge_balance(bars) > 1, edge_balance(bars.T) < 1
    (True, True)
    """
    gray = as_image(gray, "gray", ndims=(2,))
    q = as_float(q, "q")
    if not 0 < q < 1:
        raise ValueError(f"q must be in (0, 1), got {q!r}")
    h, w = gray.shape
    if h < 2 or w < 2:
        return 0.0
    across_x = _step_percentile(cv2.absdiff(gray[:, 1:], gray[:, :-1]), q)
    across_y = _step_percentile(cv2.absdiff(gray[1:], gray[:-1]), q)
    return across_x / max(across_y, 1.0)
