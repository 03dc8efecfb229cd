"""Country plate formats: match readings against per-region patterns and fix letter/digit confusions.

The patterns live in ``fastplate/data/formats.json`` (data, not code). A pattern is a string of tokens:
``A`` a letter, ``9`` a digit, ``*`` either, ``[XYZ]`` one of the listed characters, each optionally
followed by ``{n}`` or ``{m,n}``. Patterns are expanded once into fixed-length lists of allowed sets.

A reading that fits a pattern as read is kept. Otherwise the usual confusions (O/0, I/1, B/8, S/5, Z/2,
G/6, D/0, ...) are fixed at the positions where the pattern demands the other class, fewest fixes first,
and only for characters the recognizer was unsure of (``fix_below`` in the data file), at most
``max_fixes`` of them (a word such as a car badge fits a pattern only after many).
"""
from __future__ import annotations

import itertools
import json
import math
import re
import string
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Sequence

from ._validate import as_int


__all__ = ["PlateFormats", "FormatMatch", "load_formats", "countries", "fold_o0", "plate_text"]

_LETTERS = frozenset(string.ascii_uppercase)
_DIGITS = frozenset(string.digits)
ALPHABET = string.digits + string.ascii_uppercase  # what plates are written with (the recognizer's classes)
_TOKEN = re.compile(r"(\[[A-Z0-9]+\]|[A9*])(?:\{(\d+)(?:,(\d+))?\})?")
_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)  # ASCII only: "ß".upper() is "SS"
MAX_EXPANSIONS = 4096  # fixed-length forms of one pattern ("A{1,3}9{1,4}": 12); more is a mistake
MAX_PLATE_LENGTH = 16


@dataclass(frozen=True)
class FormatMatch:
    """The outcome of :meth:`PlateFormats.apply`: the (possibly fixed) text, the matched region, whether
    a pattern matched and how many characters were changed to make it match."""

    text: str
    region: str
    matches_template: bool
    fixes: int = 0


def plate_text(text: str) -> str:
    """A label or reading as plates are compared: uppercase, spaces and dashes removed."""
    return text.strip().translate(_UPPER).replace(" ", "").replace("-", "")


def fold_o0(text: str) -> str:
    """``text`` with the letter O folded into the digit 0 (labels treat them inconsistently)."""
    return text.replace("O", "0")


@lru_cache(maxsize=None)
def load_formats(path: str | None = None) -> dict:
    """The parsed and checked format file (the shipped ``fastplate/data/formats.json`` unless ``path`` is
    given). Each path is read once per process: a file edited later is not read again."""
    if path is None:
        text = resources.files("fastplate.data").joinpath("formats.json").read_text(encoding="utf-8")
    else:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"format file {path or 'formats.json'} is not valid JSON: {exc}") from None
    _check_structure(data, path)
    _check_settings(data, path)  # once per file: the parsed file is remembered
    return data


def _check_structure(data, path) -> None:
    """Refuse a format file whose countries are not ``{country: {region: [pattern, ...]}}`` (lowercase names,
    patterns as :func:`_expand` reads them) or whose confusion tables are not single characters."""
    where = f"format file {path or 'formats.json'}"
    table = data.get("countries") if isinstance(data, dict) else None
    if not isinstance(table, dict) or not table:
        raise ValueError(f"{where}: must be an object with 'countries': {{country: {{region: [patterns]}}}}")
    for country, regions in table.items():
        if country != country.lower() or not isinstance(regions, dict):
            raise ValueError(f"{where}: country {country!r} must be a lowercase name mapped to {{region: [patterns]}}")
        for region, patterns in regions.items():
            if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
                raise ValueError(f"{where}: {country}/{region} must be a list of pattern strings, got {patterns!r}")
            for p in patterns:
                try:
                    _expand(p)
                except ValueError as exc:
                    raise ValueError(f"{where}: {country}/{region}: {exc}") from None
    for name in ("to_letter", "to_digit"):
        conf = data.get(name, {})
        if not isinstance(conf, dict) or not all(isinstance(k, str) and isinstance(v, str) and len(k) == len(v) == 1
                                                 for k, v in conf.items()):
            raise ValueError(f"{where}: {name} must map single characters to single characters")


def countries(path: str | None = None) -> tuple:
    """Country codes that have patterns, e.g. ``("br", "eu", "us")``."""
    return tuple(load_formats(path)["countries"])


# A country's settings in a format file: name -> (type, default; None: no limit).
SETTINGS = {"fix_below": (float, 1.01), "prefer_template_within": (float, 0.3), "require_template": (bool, False),
            "min_confidence_unmatched": (float, 0.95), "max_fixes": (int, None), "o_as_zero": (bool, False)}
_AT_MOST_ONE = {"min_confidence_unmatched"}  # confidences


def _check_settings(data, path) -> None:
    """Refuse a format file whose settings are not as :data:`SETTINGS` says (a number >= 0, a whole one for
    int settings, true/false for bool ones) or name a country or setting the file does not have."""
    table = data.get("settings", {})
    if not isinstance(table, dict) or not all(isinstance(v, dict) for v in table.values()):
        raise ValueError(f"format file {path or 'formats.json'}: settings must map countries to objects")
    for name, entry in table.items():
        where = f"format file {path or 'formats.json'}, settings of {name!r}"
        if name not in data["countries"]:
            raise ValueError(f"{where}: no such country in the file's countries ({', '.join(data['countries'])})")
        for key, value in entry.items():
            if key not in SETTINGS:
                raise ValueError(f"{where}: unknown setting {key!r} (known: {', '.join(SETTINGS)})")
            kind, default = SETTINGS[key]
            if value is None and default is None:
                continue
            if kind is bool:
                ok = isinstance(value, bool)
            else:
                ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0 and \
                    (kind is float or float(value).is_integer()) and (key not in _AT_MOST_ONE or value <= 1)
            if not ok:
                want = "true or false" if kind is bool else "a whole number >= 0" if kind is int else \
                    "a number in [0, 1]" if key in _AT_MOST_ONE else "a number >= 0"
                raise ValueError(f"{where}: {key} must be {want}, got {value!r}")


def _settings(data, country) -> dict:
    """``country``'s settings from a checked format file, missing ones at their defaults."""
    entry = data.get("settings", {}).get(country or "", {})
    return {key: (None if entry.get(key, default) is None else kind(entry.get(key, default)))
            for key, (kind, default) in SETTINGS.items()}


def _token_set(token: str) -> frozenset:
    if token == "A":
        return _LETTERS
    if token == "9":
        return _DIGITS
    if token == "*":
        return _LETTERS | _DIGITS
    return frozenset(token[1:-1])


def _char_class(allowed: frozenset) -> str:
    return "[" + "".join(sorted(allowed)) + "]"


def _expand(pattern: str) -> list:
    """All fixed-length expansions of ``pattern``: lists of allowed-character sets."""
    pos, parts = 0, []
    for m in _TOKEN.finditer(pattern):
        if m.start() != pos:
            raise ValueError(f"bad plate pattern {pattern!r} at position {pos}")
        pos = m.end()
        lo = int(m.group(2) or 1)
        hi = int(m.group(3) or lo)
        if not 1 <= lo <= hi:
            raise ValueError(f"bad plate pattern {pattern!r}: a count must be {{n}} or {{m,n}} with 1 <= m <= n")
        parts.append((_token_set(m.group(1)), lo, hi))
    if pos != len(pattern) or not parts:
        raise ValueError(f"bad plate pattern {pattern!r}")
    forms = math.prod(hi - lo + 1 for _, lo, hi in parts)
    if forms > MAX_EXPANSIONS or sum(hi for _, _, hi in parts) > MAX_PLATE_LENGTH:
        raise ValueError(f"plate pattern {pattern!r} is too open: at most {MAX_EXPANSIONS} lengths and forms of "
                         f"at most {MAX_PLATE_LENGTH} characters")
    seqs = [[]]
    for allowed, lo, hi in parts:
        seqs = [s + [allowed] * n for s in seqs for n in range(lo, hi + 1)]
    return seqs


class PlateFormats:
    """Plate patterns of one country, with confusion fixing.

    Parameters
    ----------
    country : {"us", "eu", "br"} or None
        None: readings are matched against every country's patterns as read, never changed.
    region : str, optional
        Preferred region (e.g. ``"hr"`` within ``"eu"``, ``"ca"`` within ``"us"``): its patterns are tried
        first, and fixes towards them are allowed even where another region's pattern fits as read.
    path : str, optional
        Another format file with the same structure.

    Example
    -------
    >>> PlateFormats("br").apply("A8C1234").text
    'ABC1234'
    """

    def __init__(self, country: str | None = None, region: str | None = None, path: str | None = None):
        data = load_formats(path)
        known = tuple(data["countries"])
        if country is not None and (not isinstance(country, str) or country.lower() not in known):
            raise ValueError(f"country must be one of {', '.join(map(repr, known))} or None; got {country!r}")
        self.country = country.lower() if country else None
        self.to_letter = data.get("to_letter", {})
        self.to_digit = data.get("to_digit", {})
        settings = _settings(data, self.country)
        # Without a country nothing is changed: a reading is only labelled with the region it fits.
        self.fix_below = settings["fix_below"] if self.country else -1.0
        self.prefer_template_within = settings["prefer_template_within"]
        self.require_template = settings["require_template"]
        # The confidence a reading that fits no pattern needs to be reported (see fastplate.Reader).
        self.min_confidence_unmatched = settings["min_confidence_unmatched"]
        # A reading needing more fixes than this fits no pattern (None: any number).
        self.max_fixes = settings["max_fixes"]
        # The letter O is written as the digit 0 in what is returned (the country's labels spell it so).
        self.o_as_zero = settings["o_as_zero"]
        chosen = [self.country] if self.country else list(known)
        self.regions = {}  # region -> {length: [allowed-set lists]}
        for c in chosen:
            for name, patterns in data["countries"][c].items():
                by_len = self.regions.setdefault(name, {})
                for p in patterns:
                    for seq in _expand(p):
                        by_len.setdefault(len(seq), []).append(seq)
        # Matching as read is the common case: one compiled regular expression per region and length.
        self._strict = {
            name: {n: re.compile("|".join("".join(_char_class(a) for a in seq) for seq in seqs))
                   for n, seqs in by_len.items()}
            for name, by_len in self.regions.items()
        }
        # Fixing: the patterns of each length once (duplicates across regions dropped), in region order.
        self._fixable = {}
        for name, by_len in self.regions.items():
            for n, seqs in by_len.items():
                seen = self._fixable.setdefault(n, {})
                for seq in seqs:
                    seen.setdefault(tuple(seq), []).append(name)
        self._alt = {ch: (self.to_letter.get(ch) if ch in _DIGITS else self.to_digit.get(ch)) for ch in ALPHABET}
        self._memo = {}
        self.region = None
        self.set_region(region)

    def set_region(self, region: str | None) -> None:
        """Prefer ``region``'s patterns (None or "" for no preference)."""
        if region in (None, ""):
            self.region = None
            return
        region = str(region).lower()
        if region not in self.regions:
            raise ValueError(f"region must be one of {', '.join(map(repr, self.regions))}; got {region!r}")
        self.region = region

    # --------------------------------------------------------------------------------------------
    def _best(self, text: str, regions, unsure, allow_fixes: bool):
        """``(fixed text, region, fixes)`` of the pattern needing the fewest fixes, or None."""
        if not allow_fixes:
            for name in regions:
                rx = self._strict[name].get(len(text))
                if rx is not None and rx.fullmatch(text):
                    return text, name, 0
            return None
        best = None
        wanted = set(regions)
        for seq, owners in self._fixable.get(len(text), {}).items():
            region = next((r for r in regions if r in owners), None) if not wanted.isdisjoint(owners) else None
            if region is None:
                continue
            fixes = 0
            for i, (ch, allowed) in enumerate(zip(text, seq)):
                if ch in allowed:
                    continue
                alt = self._alt.get(ch)
                if alt is None or alt not in allowed or (unsure is not None and not unsure[i]):
                    fixes = -1
                    break
                fixes += 1
            if fixes < 0 or (self.max_fixes is not None and fixes > self.max_fixes):
                continue
            rank = (fixes, regions.index(region))
            if best is None or rank < best[0]:
                fixed = "".join(ch if ch in allowed else self._alt[ch] for ch, allowed in zip(text, seq))
                best = (rank, fixed, region)
        return None if best is None else (best[1], best[2], best[0][0])

    def matches(self, text: str) -> bool:
        """Whether ``text`` fits one of the country's patterns as read (any region's, as :meth:`apply` falls
        back to them when the preferred region's do not fit)."""
        text = str(text).translate(_UPPER)
        if self._best(text, list(self.regions), None, False) is not None:
            return True
        if self.o_as_zero and "0" in text:  # a 0 returned may have been read, and matched, as the letter O
            zeros = [i for i, ch in enumerate(text) if ch == "0"][:10]
            for pick in itertools.product("0O", repeat=len(zeros)):
                chars = list(text)
                for i, ch in zip(zeros, pick):
                    chars[i] = ch
                if self._best("".join(chars), list(self.regions), None, False) is not None:
                    return True
        return False

    def apply(self, text: str, char_confidences: Sequence[float] | None = None) -> FormatMatch:
        """Match ``text`` against the patterns, fixing confusions where needed.

        Parameters
        ----------
        text : str
            A reading (uppercase letters and digits).
        char_confidences : sequence of float, optional
            Per-character confidences of ``text``; only characters under ``fix_below`` may be fixed.
            Without them every character counts as sure: only a country whose ``fix_below`` is above 1
            (Brazil: every plate fits a pattern) fixes anything.

        Returns
        -------
        FormatMatch
        """
        if not isinstance(text, str):  # str(None) would be matched as the plate 'NONE'
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        text = text.translate(_UPPER)
        if char_confidences is not None and len(char_confidences) == len(text):
            unsure = tuple(float(c) < self.fix_below for c in char_confidences)
        else:
            unsure = None if self.fix_below > 1 else (False,) * len(text)
        # Readers see the same texts again and again (overlapping candidates, every frame of a camera):
        # the outcome depends only on these, so it is remembered (a bounded dict; safe across threads).
        # The region is read once: another thread may call set_region meanwhile, and the outcome must be
        # remembered under the region it was found with.
        region = self.region
        key = (text, unsure, region)
        found = self._memo.get(key)
        if found is None:
            if len(self._memo) >= 65536:
                self._memo.clear()
            found = self._apply(text, unsure, region)
            if self.o_as_zero and "O" in found.text:
                found = FormatMatch(fold_o0(found.text), found.region, found.matches_template, found.fixes)
            self._memo[key] = found
        return found

    def _apply(self, text, unsure, region):
        allow = self.fix_below >= 0
        order = list(self.regions)
        if region is not None:
            found = self._best(text, [region], None, False) or (allow and self._best(text, [region], unsure, True))
            if found:
                return FormatMatch(found[0], found[1], True, found[2])
        found = self._best(text, order, None, False) or (allow and self._best(text, order, unsure, True))
        if found:
            return FormatMatch(found[0], found[1], True, found[2])
        return FormatMatch(text, region or "", False, 0)

    def rerank(self, candidates, char_confidences=None, top_n: int = 10) -> list:
        """Apply the patterns to recognizer candidates and pick the best reading.

        Parameters
        ----------
        candidates : sequence of (text, confidence), best first
        char_confidences : per-character confidences of ``candidates[0]``, optional
        top_n : int

        Returns
        -------
        list of (text, confidence, FormatMatch)
            Best first and without duplicates. A reading that fits a pattern moves to the front when its
            confidence is at least ``prefer_template_within`` times the best one's (a ratio).
        """
        top_n = as_int(top_n, "top_n", minimum=1)
        out, seen = [], {}
        for i, (text, conf) in enumerate(candidates):
            match = self.apply(text, char_confidences if i == 0 else None)
            if match.text in seen:
                continue
            seen[match.text] = len(out)
            out.append((match.text, float(conf), match))
        if not out:
            return out
        if not out[0][2].matches_template:
            limit = out[0][1] * self.prefer_template_within
            for j in range(1, len(out)):
                if out[j][1] < limit:
                    break
                if out[j][2].matches_template:
                    out.insert(0, out.pop(j))
                    break
        return out[:top_n]
