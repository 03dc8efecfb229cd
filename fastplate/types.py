"""Result types: frozen dataclasses, so results can be shared across threads and hashed/compared."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Recognition:
    """What the recognizer read in one crop.

    text : best reading (uppercase letters and digits, no spaces).
    confidence : 0-1, product-like score of the best path (each character's own probability is in
        ``char_confidences``).
    char_confidences : (len(text),) float32, probability of each character of ``text``.
    char_spans : (len(text), 2) float32, start/end x of each character as fractions (0-1) of the crop width,
        from the positions where the model emitted it; lets callers map characters back to image boxes.
    candidates : top-N alternative readings, a tuple of ``(text, confidence)`` best first; ``candidates[0][0] == text``.
    """

    text: str
    confidence: float
    char_confidences: np.ndarray = field(repr=False, compare=False)
    char_spans: np.ndarray = field(repr=False, compare=False)
    candidates: tuple = field(default=(), repr=False)


def _as_tuples(value):
    """Arrays and lists (at any depth) as tuples, so a hand-built result compares and hashes like the
    Reader's own; anything else as given."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return tuple(_as_tuples(v) for v in value)
    return value


def _freeze(result, names):
    for name in names:
        object.__setattr__(result, name, _as_tuples(getattr(result, name)))


@dataclass(frozen=True)
class Char:
    """One character of a plate: its text, confidence and box (x, y, w, h) in image pixels."""

    text: str
    confidence: float
    box: tuple

    def __post_init__(self):
        _freeze(self, ("box",))


@dataclass(frozen=True)
class Plate:
    """One plate found in an image.

    quad : 4 corner points (x, y), clockwise from the top-left, in image pixels; for a plate at the frame's
        edge they may lie a little past it.
    box : axis-aligned bounding box (x, y, w, h) of ``quad``, rounded to whole pixels and cut to the image
        (so ``image[y:y + h, x:x + w]`` is the plate); so are the character boxes of ``chars``. Quad corners
        are pixel-centre coordinates and the box is their extent as an area: a quad from x = 10.0 to 20.0
        gives x = 10, w = 10, and the pixels at its very corners (half inside it) may fall just outside.
    candidates : a tuple of ``(text, confidence)``: the top-N readings after country post-processing.
    region : the country/region whose plate pattern matched (e.g. ``"br"``); when none matched, the
        Reader's preferred ``region`` if it has one, else ``""``.
    matches_template : whether ``text`` matches a plate pattern (of ``region`` when it is True).
    """

    text: str
    confidence: float
    quad: tuple
    box: tuple
    chars: tuple = ()
    candidates: tuple = ()
    region: str = ""
    matches_template: bool = False

    def __post_init__(self):  # a hand-built Plate may give arrays or lists (a NumPy quad): kept as tuples
        _freeze(self, ("quad", "box", "chars", "candidates"))
