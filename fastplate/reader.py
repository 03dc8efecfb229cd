"""The end-to-end plate reader: image -> plate candidates (our kernels) -> one batched recognizer call -> plates.

Candidates come from :mod:`fastplate.localize`. All candidates of an image, or of a run of images
(:meth:`Reader.read_arrays`), are read by the recognizer in one batch; a candidate becomes a plate when its
reading is confident and plausible (length, country pattern), and overlapping plates are reduced to the best
one (NMS on the quads' boxes).
"""
from __future__ import annotations

import dataclasses
import os
import time
from typing import Sequence

import numpy as np

from . import kernels
from ._validate import as_float, as_int
from .formats import PlateFormats
from .images import edge_balance, load_gray, sharpen, stretch_levels
from .localize import Localizer, box_intersection, box_iou, quad_box, scale_quads
from .types import Char, Plate

__all__ = ["Reader"]

# Padding of a character row to the plate outline (in character heights, x then y): plates are wider and
# taller around their characters by country (EU strip, US state names). Measured on plate geometry.
PADDING = {"eu": (0.6, 0.25), "br": (0.45, 0.5), "us": (0.6, 0.6), None: (0.6, 0.45)}
# Width / height of a plate (EU 520x110 mm, Brazil 400x130 mm, US 12x6 in); None: in between.
PLATE_ASPECT = {"eu": 4.7, "br": 3.08, "us": 2.0, None: 3.0}
STRETCH_LOOSE = 1.15  # stretched crops overshoot the aspect by this: a loose crop reads, a cut one does not
# A widened crop's reading that adds characters to its row's reading wins only if each added character is at
# least this sure: a plate's frame, bolts or emblems at the row's ends read as unsure characters.
EXTEND_MIN_CONFIDENCE = 0.9
# A widened crop whose reading lost an end character of its row's reading loses to the row's reading unless
# it is this much surer per character; so does a refined crop's reading that lost any character. Both chosen
# on the US parking stand-in's train split (see Reader).
SQUEEZE_MARGIN = 0.01
# Heights (times a candidate's) at which unsure readings are read again (``Reader(refine_heights=...)``).
REFINE_HEIGHTS = (0.8, 1.2)
# The second look's unsharp mask (``Reader(second_look=True)``, :func:`fastplate.images.sharpen`).
SECOND_LOOK_SIGMA = 1.5
SECOND_LOOK_AMOUNT = 2.0
# Frames smeared sideways (:func:`fastplate.images.edge_balance` under MOTION_BALANCE: photos 0.5-1.1, 5 px of
# horizontal motion 0.3-0.6) are sharpened across x instead, with a mask wider along x than along y.
MOTION_BALANCE = 0.6
MOTION_SIGMA = (2.5, 0.8)
MOTION_AMOUNT = 3.0
# Alternatives the Reader's own recognizer lists, at least: the plate patterns choose among them, so the
# reading does not depend on how many candidates the caller asked to see (top_n).
READ_TOP_N = 10


def _unit(value, name) -> float:
    value = as_float(value, name)
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return value


def _sequence(value, name):
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name} must be a sequence of numbers, got {type(value).__name__} {value!r}")
    return list(value)


def _check_many(images, name):
    if isinstance(images, (str, bytes, os.PathLike, np.ndarray)) or not hasattr(images, "__iter__"):
        raise TypeError(f"{name} must be a sequence of images (arrays, paths or bytes), "
                        f"got {type(images).__name__}; use read() for one image")


def _added_confidence(rec, text, inner) -> float:
    """The least confidence of the characters ``text`` (``rec``'s reading) has beyond ``inner``, a substring."""
    k = text.find(inner)
    conf = np.asarray(rec.char_confidences, dtype=np.float64)
    if k < 0 or len(conf) != len(text):
        return _per_char(rec.confidence, len(text))
    added = np.concatenate([conf[:k], conf[k + len(inner):]])
    return float(added.min()) if len(added) else 1.0


def _dropped_from(short, text) -> bool:
    """Whether ``short`` is ``text`` with some characters left out (a subsequence of it)."""
    rest = iter(text)
    return all(ch in rest for ch in short)


def _per_char(confidence, length) -> float:
    """A reading's confidence per character: the recognizer scores whole strings (about the product of the
    character probabilities), which would make long plates look less sure than short ones."""
    return float(max(confidence, 0.0)) ** (1.0 / max(int(length), 1))


def _suppress(kept_boxes, box, iou_limit=0.3, cover_limit=0.5) -> bool:
    """True when ``box`` overlaps a kept box: IoU above ``iou_limit`` or covering/covered above ``cover_limit``."""
    for k in kept_boxes:
        inter = box_intersection(k, box)
        smaller = min(k[2] * k[3], box[2] * box[3])
        if box_iou(k, box) > iou_limit or (smaller > 0 and inter / smaller > cover_limit):
            return True
    return False


def _scale_height(quad, scale) -> np.ndarray:
    """``quad`` (4, 2; clockwise from top-left) with its height scaled by ``scale`` about its middle line."""
    return scale_quads(quad, 1.0, scale)


def _stretch(quad, aspect, side) -> np.ndarray:
    """``quad`` lengthened along its top and bottom edges to ``aspect`` times its height, keeping its left
    edge (``side=1``: grows to the right) or its right edge (``side=-1``)."""
    q = np.asarray(quad, dtype=np.float64)
    top = q[1] - q[0]
    width = max(float(np.hypot(*top)), 1e-9)
    height = (float(np.hypot(*(q[3] - q[0]))) + float(np.hypot(*(q[2] - q[1])))) / 2
    grow = max(STRETCH_LOOSE * aspect * height - width, 0.0) * top / width
    if side > 0:
        return np.array([q[0], q[1] + grow, q[2] + grow, q[3]])
    return np.array([q[0] - grow, q[1], q[2], q[3] - grow])


def _inside(quad, w, h) -> bool:
    """Whether ``quad`` lies within a w x h frame (a pixel of slack): a crop past the frame's edge reads
    padding, not more of the plate."""
    return quad.min() >= -1 and (quad[:, 0] <= w).all() and (quad[:, 1] <= h).all()


def _boxes(value, name) -> np.ndarray:
    """``value`` (None or a sequence of (x, y, w, h) boxes) as a float64 (N, 4) array; clear errors."""
    if value is None:
        return np.zeros((0, 4))
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        raise TypeError(f"{name} must be a sequence of (x, y, w, h) boxes, got {type(value).__name__}")
    if len(value) == 4 and all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in value):
        raise TypeError(f"{name} must be a sequence of boxes: one box is [(x, y, w, h)], got {value!r}")
    boxes = []
    for box in value:
        box = [as_float(v, f"{name}[]") for v in _sequence(box, f"{name}[]")]
        if len(box) != 4:
            raise ValueError(f"{name} must hold (x, y, w, h) boxes of 4 numbers each, got {value!r}")
        boxes.append(box)
    boxes = np.array(boxes, dtype=np.float64).reshape(-1, 4)
    if not np.isfinite(boxes).all() or (boxes[:, 2:] <= 0).any():
        raise ValueError(f"{name} boxes need finite x, y and positive w, h, got {value!r}")
    return boxes


def _own(image):
    """``image`` as :meth:`Reader.read_iter` keeps it until its chunk is read: arrays and byte buffers copied
    (the caller may refill one for the next image, as a video loop does); the error instead where the copy
    fails (a released memoryview), so that it takes the image's place."""
    try:
        if isinstance(image, np.ndarray):
            return image.copy()
        return bytes(image) if isinstance(image, (bytearray, memoryview)) else image
    except (ValueError, TypeError, BufferError) as exc:
        return exc


def _load_or_error(image):
    """:func:`load_gray`, or the error that says why ``image`` cannot be read (``read_iter(errors="yield")``)."""
    if isinstance(image, Exception):  # _own could not keep it
        return image
    try:
        return load_gray(image)
    except (OSError, ValueError, TypeError) as exc:  # ImageDecodeError is a ValueError
        return exc


def _span_boxes(quad: np.ndarray, spans: np.ndarray) -> list:
    """Boxes (x, y, w, h) of characters whose spans are fractions of the quad's width."""
    tl, tr, br, bl = quad
    boxes = []
    for s, e in np.asarray(spans, dtype=np.float64).reshape(-1, 2):
        pts = np.array([tl + s * (tr - tl), tl + e * (tr - tl), bl + e * (br - bl), bl + s * (br - bl)])
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        boxes.append((x0, y0, x1 - x0, y1 - y0))
    return boxes


def _clip_box(box, shape) -> tuple:
    """An (x, y, w, h) box rounded to whole pixels and cut to the image: a plate at the frame's edge has a
    quad reaching past it, and a negative x would make ``image[y:y + h, x:x + w]`` wrap around silently."""
    x, y, w, h = (int(round(float(v))) for v in box)
    x0, y0 = min(max(x, 0), shape[1]), min(max(y, 0), shape[0])
    x1, y1 = min(max(x + w, x0), shape[1]), min(max(y + h, y0), shape[0])
    return (x0, y0, x1 - x0, y1 - y0)


class Reader:
    """Read license plates in photos.

    Parameters
    ----------
    country : {"us", "eu", "br"} or None
        Plate formats to apply (pattern matching and O/0-style fixes, see :mod:`fastplate.formats`), and the
        plate geometry to expect. None: no fixes, any plate-like reading.
    recognizer : object, optional
        A :class:`fastplate.Recognizer` (or anything with its ``recognize_quads_batch`` method). Default:
        ``Recognizer(device=device)`` with the shipped model.
    device : {"auto", "cpu", "cuda"}
        Passed to the default recognizer.
    top_n : int
        Alternative readings kept per plate (``Plate.candidates``); it can be changed later
        (``reader.top_n = 20``). The reading itself does not depend on it: the default recognizer lists at
        least 10 alternatives for the plate patterns to choose from.
    min_confidence : float
        Readings less sure than this (0-1) are not reported. Confidences are per character: the geometric
        mean of the character probabilities (the n-th root of the recognizer's string score), so long
        and short plates compare fairly; ``Plate.confidence`` and ``Plate.candidates`` use this scale.
    min_confidence_unmatched : float, optional
        The confidence a reading that fits no plate pattern of ``country`` needs (vanity plates, and also
        shop signs and car badges): stricter than ``min_confidence``. Default: the country's setting in
        ``fastplate/data/formats.json`` (0.9 for "us", where vanity plates are common; else 0.95).
    min_length, max_length : int
        Plausible numbers of characters.
    region : str, optional
        Preferred region within ``country`` (e.g. ``"hr"``), see :class:`fastplate.formats.PlateFormats`.
    threads : int, optional
        Threads for decoding and reading the images of :meth:`read_batch` (default: the cores this process
        may use, :func:`fastplate.kernels.cpu_cores`).
    localizer : Localizer or dict, optional
        A configured :class:`fastplate.localize.Localizer`, used as given (with its own ``gate`` and padding,
        not the country's); or a dict of :class:`~fastplate.localize.Localizer` options that change the
        default localizer and keep the rest of it (the country's padding, the ``gate`` below), e.g.
        ``{"max_side": 1920}`` to search 4K frames at half size (a ``"gate"`` there is a callable or None, as
        for :class:`~fastplate.localize.Localizer`; ``gate=False`` below turns the shipped one off).
    gate : bool or callable
        The default localizer's candidate gate: True, the shipped :class:`fastplate.gate.CandidateGate`
        (candidates that do not look like text are not read); False, none (every candidate is read, as
        before the gate); or a callable ``gate(gray, quads) -> mask``.
    recognizer_threads : int, optional
        ``threads`` of the default recognizer: a batch is split into that many parts run at once, each on one
        thread (None: one part per core; see :class:`fastplate.Recognizer`).
    refine_heights : sequence of float
        Candidates whose reading is plausible but unsure (per character in ``refine_range``) are read again
        in crops this many times as tall (about the same middle line); the surest reading is kept, and its
        crop becomes the plate's quad. All these crops of a call go to the recognizer in one second call.
        Measured on the US parking stand-in (``tools/parking_set.py``, train split): detection 86.9 -> 90.2%,
        top-1 77.5 -> 79.7%, about 2 ms more per 1280x720 frame. ``()`` turns it off. Where every plate must
        fit a pattern (``require_template``, Brazil), only readings one of whose alternatives fits one are read
        again: on scenes-br the same plates, 8% less time. A reading that is
        the current one with characters left out must be ``SQUEEZE_MARGIN`` (0.01) surer per character:
        leaving out an unsure character raises the per-character confidence (FSQ769 read SQ769 in a taller
        crop, 0.951 against 0.950). Train split, margin 0 / 0.01 / 0.03 / 0.06: top-1 88.4 / 88.5 / 88.4 /
        88.3%.
    refine_range : (float, float)
        Per-character confidences ``[low, high)`` of readings worth refining.
    grow_extended : bool
        A widened candidate that reads more characters than its row is widened once more and read again
        in the second recognizer call (a row that lost one character at an end often lost two); the longer
        reading is kept unless it is ``extend_margin`` less sure.
    stretch_short : int, optional
        A one-row candidate that reads 2 to ``stretch_short`` characters, at least ``refine_range[0]`` sure
        per character, may be one group of a plate whose groups stand apart (``094 NKC``, ``ODC-9387``):
        the row finder stops at the gap. It is read again in the second recognizer call, stretched along
        its line to a whole plate's width (``PLATE_ASPECT`` of the country times its height, 15% loose),
        once keeping its left end and once its right end; a longer reading is kept as for
        ``grow_extended``. ``0`` turns it off. Chosen on the train split of the US parking stand-in
        (``tools/parking_set.py``; top-1 / detection): off 84.2 / 93.9%, 3 characters 84.8 / 94.4%, 4: 85.2 /
        94.5%, 5: 85.6 / 94.7%, 6: 85.7 / 94.6%; false results 0.069-0.070 per frame throughout. Default
        (None): 5, or where every plate must fit a pattern (``require_template``, Brazil), one less than the
        shortest pattern (6 for Brazil's 7 characters): a shorter reading can never be reported there, so
        reading it stretched costs two crops and cannot lose a plate.
    prefer_extended, extend_margin : bool, float
        When a widened candidate (see :class:`fastplate.localize.Localizer`) reads its row's text plus
        characters at the ends, keep the longer reading unless it is ``extend_margin`` less sure: the row's
        crop cut off a character that touched the plate border. Each added character must itself be at least
        ``EXTEND_MIN_CONFIDENCE`` (0.9) sure: a frame, bolt or emblem at the row's end reads as an unsure
        character (2C058 read Q2C058). On the stand-in's train split, top-1 for 0 / 0.7 / 0.8 / 0.9 / 0.95 /
        0.99: 86.1 / 86.4 / 86.4 / 86.6 / 86.7 / 86.6%; 0.9 was taken from the plateau's low side, since the
        recognizer is surer on the plates it was trained on than it will be on unseen ones. The other way
        round, when the widened crop (whose characters are squeezed) reads the row's text less an end
        character, the row's reading is kept unless the widened one is more than ``SQUEEZE_MARGIN`` (0.01)
        surer per character, whether or not the shorter text fits a pattern. On the US parking stand-in's
        train split that rule took top-1 from 85.7 to 86.1% (6 plates fixed, such as CURE4HD read URE4HD,
        and 1 lost); detection and false results unchanged.
    min_gray_range : int
        Frames whose gray levels span less than this (default 160 of 256; dark, underexposed and hazy
        frames) are stretched to the full range, with a gain of at most 8, before they are localized and
        read (:func:`fastplate.images.stretch_levels`: the span is that of every 4th pixel in each
        direction, so a few pixels beyond it may clip). 0: never. Scenes darkened to 0.2 of their
        brightness (train splits): plates found, scenes-eu 65 -> 100%, scenes-br 65 -> 99%. No scenes photo
        spans less than 186 levels, so their readings do not change; of the US parking stand-in's 787 train
        frames (138 levels and up), 160 stretches 3, and one more plate is read right.
    ignore : sequence of (x, y, w, h), optional
        Areas of the frame, in its pixels, where no plate is reported: a reading whose quad's centre lies in
        one is dropped before overlapping plates are reduced to one (candidates centred there are not even
        read). For the text a camera burns into its frames (timestamp, camera name), which the reader
        otherwise reads as plates (one line of such text per frame of the US parking stand-in,
        ``tools/parking_set.py --osd train``, raised its false results from 0.08 to 0.39 per frame); also
        for a sign that is always in view. Settable later (``reader.ignore = [...]``).
    second_look : bool
        Frames where no plate was reported are localized and read once more, sharpened first
        (:func:`fastplate.images.sharpen`, an unsharp mask of ``SECOND_LOOK_SIGMA`` px and
        ``SECOND_LOOK_AMOUNT``): blur (focus, motion) fills the gaps between a small plate's characters,
        and the mask deepens them again. A frame smeared sideways (:func:`fastplate.images.edge_balance`
        under ``MOTION_BALANCE``) gets a mask wider along x (``MOTION_SIGMA``, ``MOTION_AMOUNT``): scenes-eu
        under a 5 px horizontal motion blur, plates read 52.8 -> 73.0% (train split), 31.6 -> 47.4% (val; on the
        seventeenth session's machine, README).
        Frames with a plate are read once, as before; a frame without one costs about 2.5 times as long
        (1280x720 plate-free frames: 20 -> 49 ms median). False: never (for
        streams of mostly empty frames where blur is rare). Measured with the gate of the time (before the
        sixteenth session's context gate), off -> on: scenes-eu's photos under a 1.5 px blur (train split),
        plates read 77.5 -> 93.3% (91.0% with the current gate); the US parking stand-in's val split, 259 ->
        260 plates, detection 93.2 -> 94.4%, false results unchanged (0.028 per frame; 0.018 on plate-free
        frames).

    Example
    -------
    >>> from fastplate.samples import sample_path               # a scene drawn by our own code
    >>> reader = Reader("eu")
    >>> [p.text for p in reader.read(sample_path())]            # a path, bytes, or a BGR/gray array
    ['KL482TM']
    """

    def __init__(self, country=None, *, recognizer=None, device="auto", top_n=10, min_confidence=0.85, min_length=4,
                 max_length=10, region=None, threads=None, localizer=None, recognizer_threads=None,
                 prefer_extended=True, extend_margin=0.1, min_confidence_unmatched=None,
                 refine_heights=REFINE_HEIGHTS, refine_range=(0.5, 0.95), grow_extended=True, stretch_short=None,
                 gate=True, min_gray_range=160, second_look=True, ignore=None):
        if country is not None and not isinstance(country, str):
            raise TypeError(f"country must be a str or None, got {type(country).__name__}")
        self.country = country.lower() if country else None
        self.formats = PlateFormats(self.country, region)
        self._own_recognizer = recognizer is None
        self.top_n = top_n
        self.min_confidence = _unit(min_confidence, "min_confidence")
        if min_confidence_unmatched is None:
            min_confidence_unmatched = self.formats.min_confidence_unmatched
        self.min_confidence_unmatched = max(_unit(min_confidence_unmatched, "min_confidence_unmatched"),
                                            self.min_confidence)
        self.min_length = as_int(min_length, "min_length", minimum=1)
        self.max_length = as_int(max_length, "max_length", minimum=self.min_length)
        self.threads = kernels.cpu_cores() if threads is None else as_int(threads, "threads", minimum=1)
        heights = () if refine_heights is None else _sequence(refine_heights, "refine_heights")  # arrays too
        self.refine_heights = tuple(as_float(v, "refine_heights[]") for v in heights)
        if any(not v > 0 for v in self.refine_heights):
            raise ValueError(f"refine_heights must be positive scales, got {refine_heights!r}")
        self.refine_range = tuple(as_float(v, "refine_range[]") for v in _sequence(refine_range, "refine_range"))
        if len(self.refine_range) != 2 or not self.refine_range[0] < self.refine_range[1]:
            raise ValueError(f"refine_range must be (low, high) with low < high, got {refine_range!r}")
        self.prefer_extended = bool(prefer_extended)
        self.grow_extended = bool(grow_extended)
        if stretch_short is None:
            # 5; where every plate fits a pattern (Brazil), any reading shorter than the shortest pattern.
            lengths = [n for by_len in self.formats.regions.values() for n in by_len]
            stretch_short = max(5, min(lengths) - 1) if self.formats.require_template and lengths else 5
        self.stretch_short = as_int(stretch_short, "stretch_short", minimum=0)
        self.extend_margin = _unit(extend_margin, "extend_margin")
        self.min_gray_range = as_int(min_gray_range, "min_gray_range", minimum=0, maximum=256)
        self.second_look = bool(second_look)
        self.ignore = ignore
        self.aspect = PLATE_ASPECT.get(self.country, PLATE_ASPECT[None])
        if localizer is None or isinstance(localizer, dict):
            pad_x, pad_y = PADDING.get(self.country, PADDING[None])
            from .gate import as_gate

            options = dict(pad_x=pad_x, pad_y=pad_y)
            options.update(localizer or {})
            if "gate" not in options:
                options["gate"] = as_gate(gate)
            localizer = Localizer(**options)
        elif not callable(localizer):
            raise TypeError(f"localizer must be a Localizer, a callable (gray) -> candidates, a dict of Localizer "
                            f"options or None; got {type(localizer).__name__}")
        self.localizer = localizer
        if recognizer is None:
            from .recognizer import Recognizer

            recognizer = Recognizer(device=device, threads=recognizer_threads, top_n=max(self.top_n, READ_TOP_N))
        elif not (callable(getattr(recognizer, "recognize_quads_batch", None)) or
                  callable(getattr(recognizer, "recognize_quads", None))):
            raise TypeError(f"recognizer must be a fastplate.Recognizer (or have its recognize_quads method), got "
                            f"{type(recognizer).__name__}")
        self.recognizer = recognizer

    @property
    def top_n(self) -> int:
        return self._top_n

    @top_n.setter
    def top_n(self, value):
        self._top_n = as_int(value, "top_n", minimum=1)
        if self._own_recognizer and getattr(self, "recognizer", None) is not None:
            self.recognizer.top_n = max(self._top_n, READ_TOP_N)

    @property
    def ignore(self) -> np.ndarray:
        """The ignored areas, a float64 (N, 4) array of (x, y, w, h); settable like the parameter."""
        return self._ignore

    @ignore.setter
    def ignore(self, value):
        self._ignore = _boxes(value, "ignore")

    # ------------------------------------------------------------------------------------------ public
    def read(self, image) -> list:
        """Plates in one image.

        Parameters
        ----------
        image : ndarray, str, os.PathLike or bytes
            (H, W, 3) BGR or (H, W) gray uint8, a file path, or encoded image bytes.

        Returns
        -------
        list of Plate
            Best first (by confidence).

        Raises
        ------
        TypeError, ValueError, FileNotFoundError, fastplate.errors.ImageDecodeError
            See :func:`fastplate.images.load_gray`.
        """
        return self.read_batch([image])[0]

    def read_file(self, path) -> list:
        """Plates in the image file ``path`` (same as :meth:`read` on a path)."""
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
        return self.read(path)

    def read_batch(self, images: Sequence) -> list:
        """Plates in each of ``images``, read with few recognizer calls (see :meth:`read_arrays`).

        Images are decoded on ``threads`` threads (our kernels and ONNX Runtime release the GIL), in chunks
        (see :meth:`read_iter`), so a long list of paths never holds all its images in memory at once.

        Returns
        -------
        list of list of Plate, one list per image.

        Raises
        ------
        TypeError
            ``images`` is a single image rather than a sequence of them.
        TypeError, ValueError, FileNotFoundError, fastplate.errors.ImageDecodeError
            As :meth:`read`, for the first image that cannot be read (decode files yourself with
            :func:`fastplate.images.load_gray` to handle bad files one by one, as ``fastplate read`` does).
        """
        return list(self.read_iter(images))

    def read_iter(self, images, chunk_size=None, errors="raise"):
        """Plates of each of ``images`` (any iterable, such as a generator of paths over an archive), in
        order, as an iterator: images are decoded and read ``chunk_size`` at a time (default: 16 per
        thread), so memory stays bounded however many there are.

        ``errors="raise"``: an image that cannot be loaded (a missing or corrupt file, bad bytes or array)
        raises as in :meth:`read_batch`, after the plates of the images before it, and the iteration ends.
        ``errors="yield"``: the place of such an image in the output holds the exception (``OSError``,
        ``ValueError`` such as :class:`fastplate.ImageDecodeError`, or ``TypeError``) instead of a list of
        plates, and the other images are read: what an archive run wants. Either way, an exception raised
        by ``images`` itself (a generator's) comes after the plates of the images it gave before it.

        Arrays and buffers are copied as they are taken, so a generator may refill one frame buffer for each
        image it yields (a video loop).

        Example
        -------
        >>> from fastplate.samples import sample_path
        >>> [[p.text for p in plates] for plates in Reader("eu").read_iter([sample_path()] * 2)]
        [['KL482TM'], ['KL482TM']]
        >>> [type(r).__name__ for r in Reader("eu").read_iter([sample_path(), b"not an image"], errors="yield")]
        ['list', 'ImageDecodeError']
        """
        _check_many(images, "images")  # here, not when the iteration starts
        chunk_size = 16 * self.threads if chunk_size is None else as_int(chunk_size, "chunk_size", minimum=1)
        if errors not in ("raise", "yield"):
            raise ValueError(f"errors must be 'raise' or 'yield', got {errors!r}")
        return self._read_chunks(iter(images), chunk_size, errors == "yield")

    def _read_chunks(self, it, chunk_size, yield_errors):
        while True:
            chunk, failed = [], None
            for _ in range(chunk_size):
                try:
                    image = next(it)
                except StopIteration:
                    break
                except Exception as exc:  # the input itself failed: the images it gave first are read, then it raises
                    failed = exc
                    break
                chunk.append(_own(image))
            loaded = kernels.map_images(_load_or_error, chunk, threads=self.threads)
            good = [g for g in loaded if not isinstance(g, Exception)]
            plates = iter(self.read_arrays(good)[0] if good else ())
            for g in loaded:  # in order: an image that cannot be loaded raises after those before it are out
                if isinstance(g, Exception) and not yield_errors:
                    raise g
                yield g if isinstance(g, Exception) else next(plates)
            if failed is not None:
                raise failed
            if len(chunk) < chunk_size:
                return

    def read_arrays(self, grays: Sequence):
        """Read decoded images: ``(plates per image, milliseconds per image)``.

        On the CPU, the images are split into ``threads`` runs of consecutive images, and each thread reads
        its run from start to end: localization, one recognizer call for all the run's candidates (one
        more for unsure readings), verification; then the same for the run's images where no plate was
        found, sharpened (``second_look``). The Python steps of one thread then overlap the other's
        GIL-free kernels and model runs; run phase by phase, both threads would wait for the GIL at once.
        Measured on 16 scenes-eu and scenes-br photos on 2 cores, two threads gave 1.57-1.69x one
        thread, against 1.37-1.49x phase by phase; in the same runs the GIL-free kernels alone gave
        1.36-1.65x. On a GPU provider, all candidates of all images go to the recognizer in one call (and
        the same calls follow), after localizing the images on ``threads`` threads.

        Parameters
        ----------
        grays : sequence of ndarray
            (H, W) gray uint8 images (BGR ones are converted).

        Returns
        -------
        plates : list of list of Plate
        milliseconds : list of float
            Per image: its localization, its share of the recognizer calls, and verification.
        """
        _check_many(grays, "grays")
        grays = [load_gray(g, "grays[]") for g in grays]
        runs = min(self.threads, len(grays))
        providers = getattr(self.recognizer, "providers", None) or ["CPUExecutionProvider"]
        if runs <= 1 or providers[0] != "CPUExecutionProvider":
            return self._read_run(grays, self.threads)
        edges = [len(grays) * i // runs for i in range(runs + 1)]
        parts = kernels.map_images(lambda run: self._read_run(run, 1), [grays[a:b] for a, b in zip(edges, edges[1:])],
                                   threads=runs)
        return [p for plates, _ in parts for p in plates], [ms for _, times in parts for ms in times]

    def _read_run(self, grays, threads):
        """:meth:`read_arrays` of decoded ``grays``, localized on ``threads`` threads: one pass of all, then a
        second look at those with no plate (see ``second_look``)."""
        results, seconds = self._pass(grays, self._prepare, threads)
        if self.second_look:
            todo = [i for i, plates in enumerate(results) if not plates]
            if todo:
                again, more = self._pass([grays[i] for i in todo], lambda g: self._prepare(g, second_look=True),
                                         threads)
                for i, plates, ms in zip(todo, again, more):
                    results[i] = plates
                    seconds[i] += ms
        return results, seconds

    def _prepare(self, gray, second_look=False):
        """What is localized and read of decoded ``gray``: stretched if dark or hazy (``min_gray_range``), and
        sharpened for the second look."""
        gray = stretch_levels(gray, self.min_gray_range)
        if not second_look:
            return gray
        if edge_balance(gray) < MOTION_BALANCE:  # smeared sideways: deepen the gaps across x
            return sharpen(gray, MOTION_SIGMA, MOTION_AMOUNT)
        return sharpen(gray, SECOND_LOOK_SIGMA, SECOND_LOOK_AMOUNT)

    def _pass(self, grays, prepare, threads):
        """Plates and milliseconds per image of ``grays``: each ``prepare``-d and localized (on ``threads``
        threads), all candidates read in one recognizer call (one more to refine), verified."""

        # One large image on several threads: its pyramid levels and polarities share them (below about
        # half a megapixel the threads cost more than they save).
        split = threads > 1 and len(grays) == 1 and grays[0].size >= 500_000 and isinstance(self.localizer, Localizer)

        def locate(gray):
            t = time.perf_counter()
            gray = prepare(gray)
            cands = self.localizer(gray, threads=threads) if split else self.localizer(gray)
            if len(self.ignore):
                # Not even read; the quads that refining moves are checked again in _verify.
                ignored = self._ignored([c.quad for c in cands])
                cands = [c for c, out in zip(cands, ignored) if not out]
            return gray, cands, time.perf_counter() - t

        found = kernels.map_images(locate, grays, threads=threads)
        grays = [g for g, _, _ in found]
        cands = [c for _, c, _ in found]
        seconds = [s for _, _, s in found]
        t = time.perf_counter()
        readings = self._recognize(grays, [[c.quad for c in cs] for cs in cands])
        self._refine(grays, cands, readings)
        total = sum(len(c) for c in cands)
        share = (time.perf_counter() - t) / max(total, 1)
        results = []
        for i, (gray, cs, rs) in enumerate(zip(grays, cands, readings)):
            t = time.perf_counter()
            results.append(self._verify(cs, rs, gray.shape))
            seconds[i] += time.perf_counter() - t + share * len(cs)
        return results, [1000.0 * s for s in seconds]

    # ----------------------------------------------------------------------------------------- private
    def _recognize(self, grays, quads):
        """Readings of ``quads[i]`` (a list of (4, 2) quads) in ``grays[i]``, all images in one recognizer call."""
        jobs = [(g, np.array(qs, dtype=np.float64).reshape(-1, 4, 2)) for g, qs in zip(grays, quads)]
        rec = self.recognizer
        if hasattr(rec, "recognize_quads_batch"):
            todo = [i for i, (_, q) in enumerate(jobs) if len(q)]
            out = [[] for _ in jobs]
            if todo:
                for i, rs in zip(todo, rec.recognize_quads_batch([jobs[i] for i in todo])):
                    out[i] = list(rs)
            return out
        return [list(rec.recognize_quads(g, q)) if len(q) else [] for g, q in jobs]

    def _refine(self, grays, cands, readings) -> None:
        """Read unsure candidates again in shorter and taller crops; keep the surest reading (in place).

        A small plate's row gives a crop whose height is a guess (state names, frames and bumpers above and
        below); a reading that is plausible but unsure (per character in ``refine_range``) often gets sure
        in a crop of another height. A widened candidate that read more than its row is grown once more
        (``grow_extended``), and a short reading is read stretched to a plate's width (``stretch_short``).
        All such crops of all images go to the recognizer in one more call.
        """
        lo, hi = self.refine_range
        can_widen = self.grow_extended and hasattr(self.localizer, "widen")
        quads, where, grown = [[] for _ in grays], [], []

        def add(to, i, k, quad):
            h, w = grays[i].shape
            if _inside(quad, w, h):  # a crop past the frame's edge reads padding, not more of the plate
                to.append((i, k, len(quads[i])))
                quads[i].append(quad)

        for i, (cs, rs) in enumerate(zip(cands, readings)):
            for k, (cand, rec) in enumerate(zip(cs, rs)):
                n, conf = len(rec.text), _per_char(rec.confidence, len(rec.text))
                if cand.widened:
                    # Widening showed more characters than the row: there may be more still beyond.
                    if can_widen and 0 <= cand.source < len(rs) and len(rs[cand.source].text) < n < self.max_length:
                        add(grown, i, k, self.localizer.widen(cand, cand.source).quad)
                    continue
                # A short one-row reading, sure enough to be text, may be one group of a plate whose groups
                # stand apart ("094 NKC", "ODC-9387"): read it stretched to a whole plate, keeping either end.
                if cand.rows == 1 and 2 <= n <= self.stretch_short and conf >= lo:
                    for side in (1, -1):
                        add(grown, i, k, _stretch(cand.quad, self.aspect, side))
                if self.min_length <= n <= self.max_length and lo <= conf < hi and self._may_fit(rec):
                    for scale in self.refine_heights:
                        add(where, i, k, _scale_height(cand.quad, scale))
        if not where and not grown:
            return
        again = self._recognize(grays, quads)
        # Heights first: a grown or stretched crop that reads more competes with the surest of the row's own.
        for i, k, j in where:
            rec, old = again[i][j], readings[i][k]
            need = _per_char(old.confidence, len(old.text))
            if len(rec.text) < len(old.text) and _dropped_from(rec.text, old.text):
                need += SQUEEZE_MARGIN  # dropping an unsure character raises the per-character confidence
            if _per_char(rec.confidence, len(rec.text)) > need:
                readings[i][k] = rec
                cands[i][k] = dataclasses.replace(cands[i][k], quad=quads[i][j])
        for i, k, j in grown:
            rec, old = again[i][j], readings[i][k]
            if len(rec.text) > len(old.text) and len(rec.text) <= self.max_length and \
                    _per_char(rec.confidence, len(rec.text)) >= _per_char(old.confidence, len(old.text)) - self.extend_margin:
                readings[i][k] = rec
                cands[i][k] = dataclasses.replace(cands[i][k], quad=quads[i][j])

    def _may_fit(self, rec) -> bool:
        """Whether reading ``rec`` again in crops of other heights may give a plate: where every plate must fit
        a pattern (``require_template``, Brazil), only if one of its readings does. Text that none fits (a
        plate's city line, a dealer's sticker) was most of Brazil's height crops: 268 of 282 on scenes-br's
        photos, 2.4 crops of the 10.2 read per photo."""
        if not self.formats.require_template:
            return True
        found = rec.candidates or [(rec.text, rec.confidence)]
        return any(m.matches_template for _, _, m in self.formats.rerank(found, rec.char_confidences, len(found)))

    def _ignored(self, quads) -> np.ndarray:
        """Whether each quad's centre lies in an ignored area (boxes half-open: x <= cx < x + w)."""
        if not len(quads):
            return np.zeros(0, bool)
        cx, cy = np.asarray(quads, dtype=np.float64).reshape(-1, 4, 2).mean(axis=1).T
        x, y, w, h = (v[:, None] for v in self.ignore.T)
        return ((x <= cx) & (cx < x + w) & (y <= cy) & (cy < y + h)).any(axis=0)

    def _verify(self, cands, readings, shape) -> list:
        plates = {}
        # Refining may have moved quads since localization dropped those in ignored areas: checked again.
        ignored = self._ignored([c.quad for c in cands]) if len(self.ignore) else np.zeros(len(cands), bool)
        for i, (cand, rec) in enumerate(zip(cands, readings)):
            if _per_char(rec.confidence, self.max_length) < self.min_confidence:
                continue  # no reading of this candidate can reach min_confidence
            if ignored[i]:
                continue  # an area the caller said holds no plate (camera text, a sign always in view)
            # All of the recognizer's readings: the top_n listed are cut from them in the order shown (_plate).
            found = rec.candidates or [(rec.text, rec.confidence)]
            ranked = self.formats.rerank(found, rec.char_confidences, len(found))
            ranked = [(t, _per_char(c, len(t)), m) for t, c, m in ranked]
            if not ranked:
                continue
            text, conf, match = ranked[0]
            if conf < self.min_confidence or not self.min_length <= len(text) <= self.max_length:
                continue
            if not match.matches_template and conf < self.min_confidence_unmatched:
                continue  # text that fits no plate pattern (signs, badges) needs stronger evidence
            if self.formats.require_template and not match.matches_template:
                continue  # e.g. Brazil: every plate fits a pattern, so text that does not is not a plate
            plates[i] = [conf + (0.05 if match.matches_template else 0.0), cand, rec, ranked]
        if self.prefer_extended:
            for i, entry in plates.items():
                source = plates.get(entry[1].source)  # only widened candidates have one (else -1)
                if source is None:
                    continue
                text, row_text = entry[3][0][0], source[3][0][0]
                if len(text) > len(row_text) and row_text in text and entry[0] >= source[0] - self.extend_margin \
                        and _added_confidence(entry[2], text, row_text) >= EXTEND_MIN_CONFIDENCE:
                    # The widened crop shows a character the row's crop cut off: keep the longer reading.
                    entry[0] = source[0] + 1e-6
                elif len(text) < len(row_text) and text in row_text \
                        and source[3][0][1] >= entry[3][0][1] - SQUEEZE_MARGIN:
                    # The widened crop squeezes the characters and lost one at an end (its shorter reading may
                    # fit a pattern by chance): keep the row's reading if it is about as sure, pattern aside.
                    source[0] = max(source[0], entry[0] + 1e-6)
        plates = list(plates.values())
        plates.sort(key=lambda p: -p[0])
        kept, kept_boxes, texts = [], [], set()
        for _, cand, rec, ranked in plates:
            box = quad_box(cand.quad)
            text, conf, match = ranked[0]
            if text in texts or _suppress(kept_boxes, box):
                continue
            kept_boxes.append(box)
            texts.add(text)
            kept.append(self._plate(cand, rec, ranked, shape))
        kept.sort(key=lambda p: -p.confidence)
        return kept

    def _plate(self, cand, rec, ranked, shape) -> Plate:
        text, conf, match = ranked[0]
        quad = np.asarray(cand.quad, dtype=np.float64)
        # The quad's extent as an area (a quad from x = 10.0 to 20.0 is 10 px wide; its end pixels are half in
        # it): what IoU with a labelled box measures. The box of every pixel a corner touches is 1 px wider and
        # taller, which moved small plates under the IoU threshold (seventeenth session, HISTORY).
        box = _clip_box(quad_box(quad), shape)
        if len(cand.char_boxes) == len(text):
            boxes = [_clip_box(b, shape) for b in cand.char_boxes]
        else:
            spans = rec.char_spans if len(rec.char_spans) == len(text) else \
                np.stack([np.arange(len(text)), np.arange(1, len(text) + 1)], axis=1) / max(len(text), 1)
            boxes = [_clip_box(b, shape) for b in _span_boxes(quad, spans)]
        char_conf = np.asarray(rec.char_confidences, dtype=np.float64)
        if len(char_conf) != len(text):
            char_conf = np.full(len(text), conf)
        chars = tuple(Char(ch, float(c), b) for ch, c, b in zip(text, char_conf, boxes))
        return Plate(
            text=text,
            confidence=float(conf),
            quad=tuple((float(px), float(py)) for px, py in quad),
            box=box,
            chars=chars,
            # The reading first, then the alternatives surest first (per character, as OpenALPR lists them;
            # the recognizer's own order is by whole-string probability, which favours short strings).
            candidates=((text, float(conf)),) + tuple(sorted(((t, float(c)) for t, c, _ in ranked[1:]),
                                                          key=lambda tc: -tc[1])[:self.top_n - 1]),
            region=match.region,
            matches_template=bool(match.matches_template),
        )
