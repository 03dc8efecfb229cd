"""A drop-in for OpenALPR's Python binding (``from openalpr import Alpr``), backed by fastplate.

Replace ``from openalpr import Alpr`` with ``from fastplate.compat.openalpr import Alpr``: same constructor,
same methods, and the same result dictionaries (``version``, ``data_type``, ``epoch_time``, ``img_width``,
``img_height``, ``processing_time_ms``, ``regions_of_interest``, ``results`` with ``plate``, ``confidence``
(0-100), ``matches_template`` (0/1), ``plate_index``, ``region``, ``region_confidence``,
``processing_time_ms``, ``requested_topn``, ``coordinates`` and ``candidates``). ``config_file`` and
``runtime_dir`` are accepted and ignored: fastplate ships its models in the package.

Where it differs from OpenALPR 2.3, on purpose:

- A missing file or bytes that are no image raise (``FileNotFoundError``, :class:`fastplate.ImageDecodeError`)
  where OpenALPR prints a message and returns a result without plates, which reads like an empty road.
- ``region`` is the region whose plate pattern the reading fits (e.g. ``"pl"``; the default region's
  patterns are tried first), or the default region when none fits; OpenALPR reports the default region
  only, unless its region detector is on. ``region_confidence`` is 0 unless :meth:`Alpr.set_detect_region`
  is on, as in OpenALPR; then it is the reading's confidence (0-100) for plates that fit a pattern.
- Besides OpenALPR's countries, every European country code of fastplate's formats (``"de"``, ``"pl"``,
  ...) is accepted as a country (OpenALPR has ``"gb"`` and ``"fr"`` only): read as ``"eu"``, that
  region preferred.
- Each result's ``processing_time_ms`` is the image's time shared out among its plates (OpenALPR times
  each plate), results are listed surest first, and coordinates are rounded (OpenALPR truncates).
- :meth:`Alpr.get_version` names fastplate's version.
- ``"br"`` reports only readings that fit a Brazilian pattern (every Brazilian plate does; text that does
  not is a sign or a badge), where OpenALPR reports them with ``matches_template`` 0.
- OpenALPR's countries that fastplate has no patterns for (``"au"``, ``"kr"``, ``"mx"``, ...) are read
  without country formats: ``region`` is the default region (or ``""``) and ``matches_template`` is 0.
- ``matches_template`` is 1 when the reading fits any pattern of the country's regions (the default
  region's first). OpenALPR checks only the default region's patterns, so without a default region it
  reports 0 for every plate of ``"us"`` and ``"eu"``.
- ``candidates[0]`` is always the reported ``plate`` and the rest follow surest first; OpenALPR lists all
  in score order and reports the first that fits a pattern, which may not be the first listed.
- A plate lists at most 16 candidates, however many ``set_top_n`` asks for: the reading and the
  alternatives made by swapping up to 4 of its least sure characters for their runner-ups
  (:func:`fastplate.recognizer.ctc_decode`). ``requested_topn`` still echoes the number asked for, as
  OpenALPR's does (its own search lists up to that many).
- Arguments are checked: ``set_top_n`` takes a whole number >= 1 (OpenALPR passes 0, negative numbers and
  True on to C), and ``recognize_ndarray``/``recognize_image`` take uint8 images (OpenALPR's older
  ``recognize_image`` cast other dtypes to uint8).
- ``loaded`` is read-only and says whether this Alpr reads: it is False for an unknown country, also after
  :meth:`Alpr.set_country` (OpenALPR's stays True, and its reads then fail in C++).
- Confidences are rounded to 4 decimals and always floats; OpenALPR writes 6 and an integer 0 as ``0``.
"""
from __future__ import annotations

import os
import sys
import time
import warnings

import numpy as np

from .. import __version__
from .._validate import as_int
from ..formats import load_formats
from ..images import load_gray
from ..reader import READ_TOP_N, Reader

__all__ = ["Alpr", "to_openalpr"]

# European country codes OpenALPR accepts as its country: the regions of our "eu" formats, read as "eu" with
# that region preferred.
_EU_CODES = frozenset(load_formats()["countries"]["eu"])
# OpenALPR's Brazilian configurations (runtime_data/config/br*.conf): read with the "br" formats.
_BR_CODES = frozenset({"br", "br2", "brg", "brms", "brmt", "brmtms"})
# OpenALPR's other countries: read without country formats (any plate-like text).
_OTHER_CODES = frozenset({"au", "auwide", "cr", "in", "in2", "kr", "kr2", "mx", "sg", "vn2", "vnmoto"})
_UNLOADED = "this Alpr was unloaded; create a new one"
# OpenALPR's default number of candidates per plate (alpr_impl.h: DEFAULT_TOPN).
DEFAULT_TOP_N = 25


def _warn(message):
    """A UserWarning attributed to the first caller outside this module (the user's line, also when the
    warning comes from the constructor)."""
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_code.co_filename == __file__:
        frame, level = frame.f_back, level + 1
    warnings.warn(message, UserWarning, stacklevel=level)


def _country(code):
    """``(fastplate country or None, preferred region or None)`` for one OpenALPR country code, or None when
    OpenALPR has no such country."""
    if code in ("us", "eu"):
        return code, None
    if code in _BR_CODES:
        return "br", None
    if code in _EU_CODES:
        return "eu", code
    if code in _OTHER_CODES:
        return None, None
    return None


def to_openalpr(plates, width, height, processing_time_ms, top_n=10, formats=None, epoch_time=None,
                detect_region=False) -> dict:
    """One image's plates as OpenALPR's result dictionary.

    Parameters
    ----------
    plates : sequence of fastplate.Plate
    width, height : int
        Image size.
    processing_time_ms : float
        Time spent on the image.
    top_n : int
        ``requested_topn``; candidates are cut to it.
    formats : fastplate.formats.PlateFormats, optional
        Used to mark each candidate's ``matches_template``.
    epoch_time : int, optional
        Milliseconds since the epoch (default: now).
    detect_region : bool
        Report ``region_confidence`` (else 0, as OpenALPR without its region detector).
    """
    results = []
    for plate in plates:
        cands = []
        for text, conf in plate.candidates[:top_n] or ((plate.text, plate.confidence),):
            fits = plate.matches_template if text == plate.text else bool(formats and formats.matches(text))
            cands.append({"plate": text, "confidence": round(100.0 * conf, 4), "matches_template": int(fits)})
        results.append({
            "plate": plate.text,
            "confidence": round(100.0 * plate.confidence, 4),
            "matches_template": int(plate.matches_template),
            "plate_index": len(results),
            "region": plate.region,
            "region_confidence": int(100.0 * plate.confidence) if detect_region and plate.matches_template else 0,
            "processing_time_ms": round(float(processing_time_ms) / max(len(plates), 1), 3),
            "requested_topn": int(top_n),
            "coordinates": [{"x": int(round(x)), "y": int(round(y))} for x, y in plate.quad],
            "candidates": cands,
        })
    return {
        "version": 2,
        "data_type": "alpr_results",
        "epoch_time": int(time.time() * 1000) if epoch_time is None else int(epoch_time),
        "img_width": int(width),
        "img_height": int(height),
        "processing_time_ms": round(float(processing_time_ms), 3),
        "regions_of_interest": [{"x": 0, "y": 0, "width": int(width), "height": int(height)}],  # the whole frame
        "results": results,
    }


def _check_top_n(topn):
    return as_int(topn, "topn", minimum=1)


class Alpr:
    """OpenALPR's ``Alpr`` class, reading with :class:`fastplate.Reader`.

    Parameters
    ----------
    country : str
        An OpenALPR country: ``"us"``, ``"eu"``, ``"br"`` (or ``"br2"`` and OpenALPR's other Brazilian
        codes), or a European country code such as ``"gb"`` (read as ``"eu"`` with that region preferred).
        OpenALPR's other countries (``"au"``, ``"kr"``, ``"mx"``, ...) read without country formats. A
        comma-separated list reads with the formats they share; when they differ, readings are matched
        against every country's patterns fastplate has (setting ``region`` and ``matches_template``) and
        never changed. With another code the Alpr is not loaded (:meth:`is_loaded` is False, with a
        warning), as OpenALPR's constructor does (after :meth:`set_country` too, unlike OpenALPR); its setters
        still keep their values for a later :meth:`set_country`.
    config_file, runtime_dir : str, optional
        Accepted for compatibility, ignored.
    **reader_options
        Passed to :class:`fastplate.Reader` (e.g. ``recognizer=``, ``device=``); ``top_n`` and ``region`` are
        the same as :meth:`set_top_n` and :meth:`set_default_region`.

    Example
    -------
    >>> from fastplate.samples import sample_path
    >>> with Alpr("eu") as alpr:
    ...     results = alpr.recognize_file(str(sample_path()))
    ...     print(results["results"][0]["plate"])
    KL482TM
    """

    def __init__(self, country, config_file=None, runtime_dir=None, **reader_options):
        self._options = dict(reader_options)
        self._top_n = _check_top_n(self._options.pop("top_n", DEFAULT_TOP_N))
        region = self._options.pop("region", None)
        # The region preferred: the default region if one was set, else the country code's (e.g. "gb").
        self._country = self._code_region = self._default_region = self._reader = None
        self._detect_region = False
        self._recognizer = self._options.pop("recognizer", None)
        self._own_recognizer = self._recognizer is None
        self._unloaded = False
        self._not_loaded = ""
        self._no_patterns = False
        self.set_country(country)
        if region is not None:
            self.set_default_region(region)

    # ------------------------------------------------------------------------------------ settings
    # The setters work on an Alpr that is not loaded (an unknown country): they keep their values for the
    # reader that a later set_country with a known country builds, as OpenALPR keeps them.
    def set_country(self, country):
        """Choose the plate formats (see the class docstring)."""
        self._check_unloaded()
        if isinstance(country, bytes):
            country = country.decode("utf-8")
        if not isinstance(country, str):
            raise TypeError(f"country must be a str, got {type(country).__name__}")
        codes = [c.strip().lower() for c in country.split(",") if c.strip()]
        found = [_country(c) for c in codes]
        if not codes or None in found:
            unknown = ", ".join(map(repr, [c for c, f in zip(codes, found) if f is None] or [country]))
            self._not_loaded = f"this Alpr is not loaded: OpenALPR has no country {unknown}; call set_country " \
                               f"with one it has"
            _warn(f"OpenALPR has no country {unknown}: this Alpr is not loaded")
            self._reader = None
            return
        self._no_patterns = all(c in _OTHER_CODES for c in codes)
        if len({f[0] for f in found}) == 1:
            self._country, self._code_region = found[0][0], (found[0][1] if len(found) == 1 else None)
        else:
            self._country, self._code_region = None, None  # several countries: every country's patterns
        if self._recognizer is None:
            from ..recognizer import Recognizer

            # Our own recognizer lists as many alternatives as the reader is asked for (set_top_n too), and
            # never fewer than a Reader's own, so that the reading does not depend on the top-N.
            self._recognizer = Recognizer(device=self._options.pop("device", "auto"),
                                          top_n=max(self._top_n, READ_TOP_N))
        reader = Reader(self._country, recognizer=self._recognizer, top_n=self._top_n, **self._options)
        self._apply_region(reader)
        self._reader = reader

    def _apply_region(self, reader):
        region = self._default_region or self._code_region
        try:
            reader.formats.set_region(region)
        except ValueError:  # OpenALPR warns about a region it has no pattern for and reads without it
            _warn(f"no plate patterns for region {region!r} in these countries' formats: read without it")
            reader.formats.set_region(self._code_region)

    def set_top_n(self, topn):
        """Number of candidate readings per plate."""
        self._check_unloaded()
        self._top_n = _check_top_n(topn)
        reader = self._reader  # one snapshot: another thread may unload meanwhile
        if reader is not None:
            reader.top_n = self._top_n
        if self._own_recognizer and self._recognizer is not None:
            self._recognizer.top_n = max(self._top_n, READ_TOP_N)

    def set_default_region(self, region):
        """Prefer the patterns of ``region`` (e.g. ``"ny"``, ``"fr"``); regions without patterns (OpenALPR's
        example uses ``"md"``) are ignored, with a warning."""
        self._check_unloaded()
        if isinstance(region, bytes):
            region = region.decode("utf-8")
        if region is not None and not isinstance(region, str):
            raise TypeError(f"region must be a str or None, got {type(region).__name__}")
        self._default_region = (region or "").strip().lower() or None
        reader = self._reader
        if reader is not None:
            self._apply_region(reader)

    def set_detect_region(self, enabled):
        """Report ``region_confidence`` (else 0). The region of each plate is reported either way, when a
        pattern fits (fastplate has no region detector apart from the plate patterns)."""
        self._check_unloaded()
        self._detect_region = bool(enabled)

    def set_prewarp(self, prewarp):
        """Accepted for compatibility, ignored."""

    def get_version(self):
        return f"fastplate {__version__} (OpenALPR-compatible)"

    @property
    def loaded(self):
        """Whether this Alpr reads (as the binding's attribute): it has a reader for a known country."""
        return self._reader is not None

    def is_loaded(self):
        return self.loaded

    def unload(self):
        self._unloaded = True
        self._reader = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.unload()

    # ---------------------------------------------------------------------------------- recognition
    def _check_unloaded(self):
        if self._unloaded:
            raise RuntimeError(_UNLOADED)

    def _recognize(self, image):
        # One snapshot of the settings: another thread may unload this Alpr or change them meanwhile.
        reader, detect_region, top_n = self._reader, self._detect_region, self._top_n
        no_patterns, default_region = self._no_patterns, self._default_region
        if reader is None:
            raise RuntimeError(_UNLOADED if self._unloaded else self._not_loaded)
        epoch = int(time.time() * 1000)  # when recognition starts, as OpenALPR's epoch_time
        gray = load_gray(image)
        t = time.perf_counter()
        (plates,), _ = reader.read_arrays([gray])
        ms = 1000.0 * (time.perf_counter() - t)
        out = to_openalpr(plates, gray.shape[1], gray.shape[0], ms, top_n, reader.formats, epoch_time=epoch,
                          detect_region=detect_region)
        if no_patterns:  # the reader matched every country's patterns; none of them is this country's
            for result in out["results"]:
                result.update(region=default_region or "", matches_template=0, region_confidence=0)
                for cand in result["candidates"]:
                    cand["matches_template"] = 0
        return out

    def recognize_file(self, file_path):
        """Read the image file ``file_path``; returns OpenALPR's result dictionary."""
        if isinstance(file_path, bytes):
            file_path = os.fsdecode(file_path)
        if not isinstance(file_path, (str, os.PathLike)):
            raise TypeError(f"file_path must be a str or os.PathLike, got {type(file_path).__name__}")
        return self._recognize(file_path)

    def recognize_array(self, byte_array):
        """Read an encoded image (the bytes of a JPEG/PNG/... file)."""
        if not isinstance(byte_array, (bytes, bytearray)):
            raise TypeError(f"byte_array must be bytes (an encoded image file), got {type(byte_array).__name__}")
        return self._recognize(bytes(byte_array))

    def recognize_ndarray(self, ndarray):
        """Read an (H, W, 3) BGR or (H, W) gray uint8 array, as OpenCV loads images."""
        if not isinstance(ndarray, np.ndarray):
            raise TypeError(f"ndarray must be a numpy.ndarray, got {type(ndarray).__name__}")
        return self._recognize(ndarray)

    def recognize_image(self, img):
        """:meth:`recognize_ndarray` under its name (and argument name) in older OpenALPR bindings."""
        return self.recognize_ndarray(img)
