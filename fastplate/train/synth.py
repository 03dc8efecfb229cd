"""Synthetic license plates for training the recognizer.

``render_plate`` draws one clean plate (US, EU, Brazilian grey, Mercosur; one or two rows) and returns the
character boxes; ``synth_sample`` puts it in a scene, degrades it the way cameras do and returns the
(32, 128) gray crop the recognizer sees, cut the way a localizer would cut it (tight, loose, shifted,
partial).

Fonts (all free, see the model card): fonts-roadgeek (Highway Gothic style, MIT), fonts-opendin (DIN 1451
style, OFL), fonts-dejavu (Bitstream Vera licence), fontpkg-barlow-condensed (OFL).
"""
from __future__ import annotations

import functools
import glob
import os

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..formats import ALPHABET

LETTERS = ALPHABET[10:]
DIGITS = ALPHABET[:10]
STYLES = ("us", "eu", "br", "mercosur", "us2", "eu2", "br_moto")
_STYLE_WEIGHTS = (0.34, 0.24, 0.12, 0.14, 0.06, 0.04, 0.06)

# Patterns: L letter, 9 digit, X either, space = visual gap, '-' dash (drawn, not in the label).
_PATTERNS = {
    "us": ["LLL9999", "9LLL999", "LLL 999", "999 LLL", "LL 99999", "9LL9999", "LLL 9999", "LLLL99", "L99 9LL",
           "99L L99", "XXXXXX", "XXXXXXX", "LL9 L99", "9 LLL 999", "LLL-999", "999-LLL", "XXXXX"],
    "eu": ["LL 999", "L LL 9999", "LL LL 999", "LLL 9999", "LL 99 LLL", "LL99 LLL", "99 LLL 9", "LL 999 LL",
           "L 999 LLL", "LLL-999", "9 LLL 99", "LL-999-LL", "LLL 99L", "99-LL-99", "L-999999", "LL 9999 L"],
    "br": ["LLL-9999", "LLL 9999"],
    "mercosur": ["LLL9L99", "LLL 9L99", "LL999LL", "LLL9L99"],
    "us2": ["LLL|9999", "999|LLL", "LL|9999", "XX|XXXX"],
    "eu2": ["LL|9999", "LLL|999", "LL 99|LLL"],
    "br_moto": ["LLL|9999", "LLL|9L99"],
}
_US_STATES = ["CALIFORNIA", "TEXAS", "FLORIDA", "NEW YORK", "OHIO", "ILLINOIS", "GEORGIA", "ARIZONA", "NEVADA",
              "OREGON", "MICHIGAN", "VIRGINIA", "KANSAS", "IDAHO", "UTAH", "MAINE", "ALASKA", "IOWA"]
_US_SLOGANS = ["SUNSHINE STATE", "THE GREAT STATE", "EMPIRE STATE", "DMV.CA.GOV", "LAND OF LINCOLN",
               "GRAND CANYON STATE", "FAMOUS POTATOES", "LIVE FREE OR DIE", "GARDEN STATE", "VACATIONLAND",
               "BIRTHPLACE OF AVIATION", "THE LAST FRONTIER", "PEACH STATE", "BIG SKY COUNTRY"]
_BR_CITIES = ["SAO PAULO - SP", "RIO DE JANEIRO - RJ", "CURITIBA - PR", "BELO HORIZONTE - MG", "SALVADOR - BA",
              "PORTO ALEGRE - RS", "CAMPINAS - SP", "RECIFE - PE"]
_EU_CODES = ["D", "NL", "F", "B", "I", "E", "P", "A", "PL", "CZ", "SK", "H", "RO", "GB", "IRL", "L", "S", "FIN"]


@functools.lru_cache(maxsize=1)
def font_files():
    """Paths of the plate-like fonts installed on this machine, by family group."""
    groups = {
        "highway": sorted(glob.glob("/usr/share/fonts/truetype/roadgeek/RG2014[CDEF]*.ttf")),
        "din": sorted(glob.glob("/usr/share/fonts/truetype/opendin/*.ttf")),
        # Sans, Sans Condensed (fonts-dejavu-extra) and Sans Mono Bold, sorted (the order picks fonts from the
        # stream of random numbers); Mono Bold is listed twice, as it was when the shipped model was trained.
        "dejavu": sorted(glob.glob("/usr/share/fonts/truetype/dejavu/DejaVuSans*Bold.ttf"))
        + glob.glob("/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"),
    }
    try:
        import fontpkg_barlow_condensed as barlow

        base = os.path.join(os.path.dirname(barlow.__file__), "files")
        groups["barlow"] = [os.path.join(base, f"BarlowCondensed-{w}.ttf") for w in ("Medium", "SemiBold", "Bold")]
    except ImportError:
        groups["barlow"] = []
    # Off unless use_extra_fonts(True): Bebas Neue (OFL-1.1, Debian fonts-bebas-neue) and Liberation Sans
    # (Narrow) Bold (GPL-2 with the font exception, Debian fonts-liberation); not in the shipped model's recipe.
    groups["extra"] = ["/usr/share/fonts/opentype/bebas-neue/BebasNeue-Bold.otf",
                       "/usr/share/fonts/opentype/bebas-neue/BebasNeue-Book.otf",
                       "/usr/share/fonts/truetype/liberation/LiberationSansNarrow-Bold.ttf",
                       "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"]
    groups = {k: [p for p in v if os.path.exists(p)] for k, v in groups.items()}
    if not any(v for k, v in groups.items() if k != "extra"):
        raise RuntimeError(f"no fonts found: {FONT_INSTALL}")
    return groups


FONT_INSTALL = ("apt-get install fonts-roadgeek fonts-opendin fonts-dejavu-core fonts-dejavu-extra && "
                "pip install fontpkg-barlow-condensed")
# The fonts the shipped model was trained with (model card), by family group.
EXPECTED_FONTS = {"highway": 6, "din": 1, "dejavu": 4, "barlow": 3}


def font_problem():
    """A message naming the font families with fewer files than the shipped model was trained with (a
    recipe run without them trains another model), else None."""
    try:
        found = font_files()
    except RuntimeError:  # none at all
        found = {}
    short = [f"{name} ({len(found.get(name, []))} of {n})" for name, n in EXPECTED_FONTS.items()
             if len(found.get(name, [])) < n]
    return None if not short else f"fonts missing: {', '.join(short)}; {FONT_INSTALL}"


_extra_fonts = False  # set by use_extra_fonts


def use_extra_fonts(on):
    """Also draw plates in the "extra" font group (``train --extra-fonts``), one pick in 5-6 where installed
    (``apt-get install fonts-bebas-neue fonts-liberation``). Off, the picks are those of the shipped recipe."""
    global _extra_fonts
    _extra_fonts = bool(on)


@functools.lru_cache(maxsize=256)
def _font(path, size):
    return ImageFont.truetype(path, size)


def _pick_font(style, rng):
    groups = font_files()
    prefs = {"us": ["highway", "highway", "dejavu", "barlow", "din"], "eu": ["din", "din", "barlow", "dejavu"],
             "br": ["din", "barlow", "dejavu", "highway"], "mercosur": ["din", "barlow", "din", "dejavu"]}
    base = style.rstrip("2").replace("br_moto", "br")
    order = prefs[base] + (["extra"] if _extra_fonts else [])
    for _ in range(10):
        g = groups.get(order[rng.integers(len(order))], [])
        if g:
            return g[rng.integers(len(g))]
    return next(p for v in groups.values() for p in v)


def random_text(style, rng):
    """A random plate string for ``style``: returns (label, layout) where layout keeps spaces, dashes, '|'."""
    pattern = _PATTERNS[style][rng.integers(len(_PATTERNS[style]))]
    out = []
    for ch in pattern:
        if ch == "L":
            out.append(LETTERS[rng.integers(26)])
        elif ch == "9":
            out.append(DIGITS[rng.integers(10)])
        elif ch == "X":
            out.append(ALPHABET[rng.integers(36)])
        else:
            out.append(ch)
    layout = "".join(out)
    label = "".join(c for c in layout if c in ALPHABET)
    return label, layout


def _text_row(text, font_path, cap_height, rng, spacing=0.08):
    """Draw ``text`` into an L mask whose glyph caps are ``cap_height`` px tall; boxes of alphabet chars."""
    size = int(cap_height * 1.38)
    font = _font(font_path, size)
    # Measure the cap height of this font to hit the requested height exactly.
    bb = font.getbbox("H")
    scale = cap_height / max(1, bb[3] - bb[1])
    font = _font(font_path, max(6, int(round(size * scale))))
    top = font.getbbox("H")[1]
    pieces, x = [], 0
    gap = int(cap_height * spacing)
    for ch in text:
        if ch == " ":
            x += int(cap_height * rng.uniform(0.25, 0.5))
            continue
        l, t, r, b = font.getbbox(ch)
        pieces.append((ch, x - l, l, r))
        x += (r - l) + gap
    width = max(1, x - gap)
    mask = Image.new("L", (width + 2, cap_height + 4), 0)
    draw = ImageDraw.Draw(mask)
    boxes = []
    for ch, ox, l, r in pieces:
        draw.text((ox + 1, 2 - top), ch, font=font, fill=255)
        if ch in ALPHABET:
            boxes.append([ox + l + 1, 2, r - l, cap_height])
    return np.asarray(mask), np.array(boxes, np.float32).reshape(-1, 4)


def _small_text(canvas, text, font_path, x, y, height, color, width=None):
    """Draw small non-plate text (state names, slogans); clipped to the canvas."""
    mask, _ = _text_row(text, font_path, max(4, int(height)), np.random.default_rng(0), spacing=0.12)
    if width is not None and mask.shape[1] > width:
        mask = cv2.resize(mask, (int(width), mask.shape[0]), interpolation=cv2.INTER_AREA)
    _blend(canvas, mask, int(x - mask.shape[1] / 2), int(y), color)


def _blend(canvas, mask, x, y, color):
    h, w = mask.shape
    H, W = canvas.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x1 <= x0 or y1 <= y0:
        return
    a = mask[y0 - y:y1 - y, x0 - x:x1 - x, None].astype(np.float32) / 255.0
    roi = canvas[y0:y1, x0:x1].astype(np.float32)
    canvas[y0:y1, x0:x1] = (roi * (1 - a) + np.asarray(color, np.float32) * a).astype(np.uint8)


def _colors(style, rng):
    """(background, text) BGR colours; both polarities for US-style plates."""
    if style in ("br", "br_moto"):
        g = int(rng.integers(150, 215))
        bg = (g, g, g + int(rng.integers(-8, 8)))
        return bg, tuple(int(v) for v in rng.integers(10, 60, 3))
    if style == "mercosur":
        return (int(rng.integers(225, 256)),) * 3, tuple(int(v) for v in rng.integers(0, 40, 3))
    if style in ("eu", "eu2"):
        if rng.random() < 0.25:  # yellow (NL, UK rear)
            return (int(rng.integers(0, 60)), int(rng.integers(180, 230)), int(rng.integers(220, 256))), (20, 20, 20)
        return (int(rng.integers(215, 256)),) * 3, tuple(int(v) for v in rng.integers(0, 40, 3))
    # US: light plates with dark/coloured text mostly, some dark plates with light text.
    light = tuple(int(v) for v in rng.integers(170, 256, 3))
    dark = tuple(int(v) for v in rng.integers(0, 110, 3))
    if rng.random() < 0.2:
        return dark, light
    return light, dark


def render_plate(text, rng, style=None):
    """Render a clean plate image with ``text``.

    Parameters
    ----------
    text : str
        Characters from 0-9A-Z; spaces and dashes are drawn as gaps/dashes, ``|`` splits two rows.
        If ``text`` has no ``|`` and ``style`` is two-row, the text is split after its letters.
    rng : numpy.random.Generator
    style : str, optional
        One of ``STYLES``; random if None.

    Returns
    -------
    image : (H, W, 3) uint8 BGR
    char_boxes : (k, 4) float32, x, y, w, h of each character of the label (``[0-9A-Z]`` of ``text``), in
        reading order (top row first).

    Example
    -------
    >>> img, boxes = render_plate("ABC1234", np.random.default_rng(0), "us")
    >>> boxes.shape
    (7, 4)
    """
    if style is None:
        style = STYLES[rng.choice(len(STYLES), p=_STYLE_WEIGHTS)]
    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}, got {style!r}")
    two_rows = style in ("us2", "eu2", "br_moto")
    if two_rows and "|" not in text:
        clean = text.replace(" ", "").replace("-", "")
        k = next((i for i, c in enumerate(clean) if c.isdigit()), max(1, len(clean) // 2)) or len(clean) // 2
        text = clean[:k] + "|" + clean[k:]
    if not two_rows:
        text = text.replace("|", " ")
    rows = [r.strip() for r in text.split("|")]
    base = style.rstrip("2").replace("br_moto", "br")
    font_path = _pick_font(style, rng)
    bg, fg = _colors(style, rng)

    # Plate geometry (pixels) per layout; aspect ratios of the real plates.
    H = int(rng.integers(56, 84))  # ~2x the 32 px the recognizer sees
    aspect = {"us": 2.0, "eu": 4.7, "br": 3.1, "mercosur": 3.1}[base]
    if two_rows:
        aspect = {"us": 2.0, "eu": 1.6, "br": 1.17}[base]
        H = int(H * 1.5)
    W = int(H * aspect * rng.uniform(0.93, 1.07))
    canvas = np.empty((H, W, 3), np.uint8)
    canvas[:] = bg
    left = int(W * 0.05)
    right = W - int(W * 0.05)
    top_band = 0.0
    small_font = _pick_font("us", rng)

    # Background decoration: gradients / soft graphics (US), bands (Mercosur), EU strip.
    if base == "us" and rng.random() < 0.6:
        graphic = cv2.resize(rng.integers(0, 255, (3, 6, 3)).astype(np.uint8), (W, H), interpolation=cv2.INTER_CUBIC)
        a = rng.uniform(0.1, 0.45)
        canvas[:] = (canvas * (1 - a) + graphic * a).astype(np.uint8)
    if base == "eu":
        sw = int(H * 0.42) if not two_rows else int(W * 0.14)
        blue = (int(rng.integers(120, 200)), int(rng.integers(30, 80)), int(rng.integers(0, 40)))
        canvas[:, :sw] = blue
        cv2.circle(canvas, (sw // 2, int(H * 0.32)), max(2, int(sw * 0.28)), (0, 200, 240), max(1, sw // 14))
        _small_text(canvas, _EU_CODES[rng.integers(len(_EU_CODES))], small_font, sw / 2, int(H * 0.6),
                    H * 0.22, (255, 255, 255), width=sw * 0.9)
        left = sw + int(W * 0.03)
    if base == "mercosur":
        band = int(H * 0.24)
        canvas[:band] = (int(rng.integers(140, 200)), int(rng.integers(60, 100)), int(rng.integers(0, 40)))
        _small_text(canvas, "BRASIL", small_font, W / 2, int(band * 0.2), band * 0.6, (255, 255, 255))
        cv2.rectangle(canvas, (int(W * 0.88), int(band * 0.2)), (int(W * 0.96), int(band * 0.8)), (60, 160, 0), -1)
        cv2.circle(canvas, (int(W * 0.06), int(band * 0.5)), int(band * 0.3), (200, 200, 200), -1)
        top_band = 0.24
    if base == "br":
        top_band = 0.22
        _small_text(canvas, _BR_CITIES[rng.integers(len(_BR_CITIES))], small_font, W / 2, int(H * 0.04),
                    H * 0.13, fg)
    if base == "us":
        top_band = rng.uniform(0.18, 0.26)
        _small_text(canvas, _US_STATES[rng.integers(len(_US_STATES))], small_font, W / 2, int(H * 0.04),
                    H * rng.uniform(0.09, 0.16), fg, width=W * 0.8)
        if rng.random() < 0.7:
            _small_text(canvas, _US_SLOGANS[rng.integers(len(_US_SLOGANS))], small_font, W / 2, int(H * 0.86),
                        H * rng.uniform(0.06, 0.1), fg, width=W * 0.85)

    # The characters.
    avail_h = H * (1 - top_band - 0.14)
    row_h = avail_h / len(rows)
    char_boxes = []
    y = H * (top_band + 0.06)
    for r, row in enumerate(rows):
        cap = int(row_h * (rng.uniform(0.62, 0.8) if not two_rows else rng.uniform(0.7, 0.85)))
        if two_rows and r == 0 and base == "us":
            cap = int(cap * 0.7)  # stacked small characters
        mask, boxes = _text_row(row, font_path, max(6, cap), rng, spacing=rng.uniform(0.04, 0.16))
        max_w = (right - left) * rng.uniform(0.8, 0.97)
        # Squeeze or stretch horizontally to fit, as plate fonts do.
        target_w = min(max_w, mask.shape[1] * rng.uniform(0.85, 1.25))
        sx = target_w / mask.shape[1]
        mask = cv2.resize(mask, (max(1, int(mask.shape[1] * sx)), mask.shape[0]), interpolation=cv2.INTER_AREA)
        boxes[:, [0, 2]] *= sx
        x0 = int((left + right) / 2 - mask.shape[1] / 2 + rng.uniform(-0.03, 0.03) * W)
        y0 = int(y + (row_h - mask.shape[0]) / 2)
        if rng.random() < 0.15 and base in ("us", "eu"):  # embossed look: a shadow under the glyphs
            _blend(canvas, mask, x0 + 2, y0 + 2, tuple(int(c * 0.5) for c in bg))
        _blend(canvas, mask, x0, y0, fg)
        boxes[:, 0] += x0
        boxes[:, 1] += y0
        char_boxes.append(boxes)
        y += row_h
    char_boxes = np.concatenate(char_boxes) if char_boxes else np.zeros((0, 4), np.float32)

    # Emblems/stickers between groups (EU seals) and in corners (US registration stickers).
    if base in ("eu", "us") and rng.random() < 0.5 and len(char_boxes) >= 2:
        gaps = [(char_boxes[i, 0] + char_boxes[i, 2], char_boxes[i + 1, 0]) for i in range(len(char_boxes) - 1)
                if char_boxes[i + 1, 0] - (char_boxes[i, 0] + char_boxes[i, 2]) > H * 0.12]
        if gaps and base == "eu":
            a, b = gaps[rng.integers(len(gaps))]
            cx, cy, rad = int((a + b) / 2), int(H * rng.uniform(0.35, 0.65)), int(min(b - a, H * 0.5) * 0.38)
            color = tuple(int(v) for v in rng.integers(0, 256, 3))
            cv2.circle(canvas, (cx, cy), max(2, rad), color, -1)
            cv2.circle(canvas, (cx, cy), max(1, rad // 2), tuple(255 - c for c in color), -1)
        elif base == "us":
            sx0 = int(W * (0.04 if rng.random() < 0.5 else 0.8))
            sy0 = int(H * (0.05 if rng.random() < 0.5 else 0.72))
            color = tuple(int(v) for v in rng.integers(0, 256, 3))
            cv2.rectangle(canvas, (sx0, sy0), (sx0 + int(W * 0.14), sy0 + int(H * 0.2)), color, -1)
            _small_text(canvas, str(int(rng.integers(10, 30))), small_font, sx0 + W * 0.07, sy0 + H * 0.03,
                        H * 0.12, (0, 0, 0))
    # Border and screw holes.
    if rng.random() < 0.7:
        cv2.rectangle(canvas, (1, 1), (W - 2, H - 2), fg if rng.random() < 0.5 else (30, 30, 30),
                      int(rng.integers(1, max(2, H // 25))))
    if rng.random() < 0.4:
        for sx0 in (0.25, 0.75):
            cv2.circle(canvas, (int(W * sx0), int(H * 0.1)), max(2, H // 30), (90, 90, 90), -1)
    return canvas, char_boxes.astype(np.float32)


@functools.lru_cache(maxsize=1)
def _backgrounds():
    from .data import DATA_DIR  # the one definition of the data folder (data imports this module)

    files = sorted(glob.glob(os.path.join(os.path.abspath(DATA_DIR), "backgrounds", "*.jpg")))
    images = []
    for f in files[:400]:
        im = cv2.imread(f, cv2.IMREAD_GRAYSCALE)
        if im is not None and min(im.shape) >= 64:
            images.append(im)
    return images


def _scene_patch(h, w, rng):
    """A (h, w, 3) background patch: a real no-plate scene (tinted) or a car-body colour with noise."""
    bgs = _backgrounds()
    if bgs and rng.random() < 0.75:
        im = bgs[rng.integers(len(bgs))]
        # Cut a region of a random scale first, then resize only that region.
        s = min(im.shape[0] / h, im.shape[1] / w, rng.uniform(0.5, 3.0))
        ch, cw = max(2, int(h * s)), max(2, int(w * s))
        y = rng.integers(0, im.shape[0] - ch + 1)
        x = rng.integers(0, im.shape[1] - cw + 1)
        patch = cv2.resize(im[y:y + ch, x:x + cw], (w, h), interpolation=cv2.INTER_LINEAR)
        patch = cv2.cvtColor(patch, cv2.COLOR_GRAY2BGR)
        return cv2.convertScaleAbs(patch * rng.uniform(0.7, 1.3, 3).astype(np.float32))
    patch = np.empty((h, w, 3), np.uint8)
    patch[:] = rng.integers(0, 256, 3)
    return patch


def lighting(img, rng):
    """Shadows, glare and global brightness/contrast, in place on a float32 image."""
    h, w = img.shape[:2]
    if rng.random() < 0.3:  # a straight-edged shadow across the plate
        pts = rng.uniform([-0.5 * w, -0.5 * h], [1.5 * w, 1.5 * h], (int(rng.integers(3, 6)), 2)).astype(np.int32)
        m = np.zeros((h, w), np.float32)
        cv2.fillPoly(m, [cv2.convexHull(pts)], 1.0)
        m = cv2.GaussianBlur(m, (0, 0), max(1.0, w * 0.01))
        img *= (1 - m * rng.uniform(0.3, 0.7))[..., None]
    if rng.random() < 0.25:  # glare: a bright soft blob
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.1, 0.5) * w
        g = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r)) * rng.uniform(60, 200)
        img += g[..., None]
    img *= rng.uniform(0.55, 1.35)
    img += rng.uniform(-40, 40)
    return img


def degrade(gray, rng, out_size=(32, 128), source_width=None, small_plates=False):
    """Camera degradations on a gray crop, then resize to ``out_size`` (h, w) like normalize_batch does.

    Low resolution (down to ~60x20), blur, noise, JPEG, occasional inversion. ``source_width``: the width
    in pixels the plate really had (real crops); the crop is never made much blurrier than that allows,
    since an already small real plate degraded again becomes unreadable and its label noise: it keeps at
    least half its width, or with ``small_plates`` at least ``min(w / 2, 0.1 w + 40)`` px, so large real
    plates may also shrink to parking-camera sizes (a 300 px plate down to 70 px).
    """
    h, w = gray.shape
    top = 200 if source_width is None else source_width
    if rng.random() < 0.7 and top > 70:  # resolution of the plate in the camera image
        if source_width is None:
            low = 60
        elif small_plates:
            low = max(60, min(0.5 * top, 0.1 * top + 40))
        else:
            low = max(60, 0.5 * top)
        lw = int(rng.uniform(low, top))
        lh = max(12, int(lw * h / w * rng.uniform(0.9, 1.1)))
        gray = cv2.resize(gray, (lw, lh), interpolation=cv2.INTER_AREA)
    if rng.random() < (0.5 if source_width is None else 0.25):
        s = rng.uniform(0.3, 1.0 if source_width is None else 0.7)
        gray = cv2.GaussianBlur(gray, (0, 0), s)
    elif rng.random() < 0.15:  # motion blur
        k = int(rng.integers(3, 6))
        kern = np.zeros((k, k), np.float32)
        kern[k // 2] = 1.0 / k
        rot = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), rng.uniform(0, 180), 1.0)
        kern = cv2.warpAffine(kern, rot, (k, k))
        gray = cv2.filter2D(gray, -1, kern / max(kern.sum(), 1e-6))
    if rng.random() < 0.5:
        g = gray.astype(np.float32) + rng.normal(0, rng.uniform(2, 12), gray.shape)
        gray = np.clip(g, 0, 255).astype(np.uint8)
    if rng.random() < 0.6:
        ok, buf = cv2.imencode(".jpg", gray, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(15, 90))])
        gray = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    out = cv2.resize(gray, (out_size[1], out_size[0]), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.04:
        out = 255 - out
    return out


def crop_quad(box, rng, grow=(-0.05, 0.2), shift=0.06, tilt=0.04):
    """A localizer-like quad around ``box`` (x, y, w, h): grown, shifted and with jittered corners."""
    x, y, w, h = box
    gx, gy = rng.uniform(*grow), rng.uniform(*grow)
    cx = x + w / 2 + rng.uniform(-shift, shift) * w
    cy = y + h / 2 + rng.uniform(-shift, shift) * h * 1.5
    hw, hh = w * (1 + gx) / 2, h * (1 + gy) / 2
    quad = np.array([[cx - hw, cy - hh], [cx + hw, cy - hh], [cx + hw, cy + hh], [cx - hw, cy + hh]], np.float32)
    quad += rng.normal(0, tilt, (4, 2)).astype(np.float32) * np.array([w, h], np.float32) * 0.5
    return quad


def warp_quad(image, quad, size):
    """Sample ``quad`` (4, 2 pixel-centre corners) of ``image`` into ``size`` (h, w), like normalize_batch."""
    h, w = size
    dst = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float32)
    m = cv2.getPerspectiveTransform(quad.astype(np.float32), dst)
    return cv2.warpPerspective(image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def synth_sample(rng, out_size=(32, 128)):
    """One training sample: ((h, w) uint8 gray crop, label)."""
    style = STYLES[rng.choice(len(STYLES), p=_STYLE_WEIGHTS)]
    label, layout = random_text(style, rng)
    plate, _ = render_plate(layout, rng, style)
    ph, pw = plate.shape[:2]
    # Put the plate into a scene with margins, so loose crops show real surroundings.
    mx, my = int(pw * 0.35), int(ph * 0.6)
    scene = _scene_patch(ph + 2 * my, pw + 2 * mx, rng)
    if rng.random() < 0.6:  # plate holder / car body frame
        t = int(ph * rng.uniform(0.03, 0.12))
        cv2.rectangle(scene, (mx - t, my - t), (mx + pw + t, my + ph + t), tuple(int(v) for v in rng.integers(0, 256, 3)), -1)
    scene[my:my + ph, mx:mx + pw] = plate
    img = lighting(scene.astype(np.float32), rng)
    img = np.clip(img, 0, 255).astype(np.uint8)
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if rng.random() < 0.9 else img[:, :, rng.integers(3)].copy()
    r = rng.random()
    grow = (-0.05, 0.2) if r < 0.8 else ((-0.05, 0.0) if r < 0.9 else (0.15, 0.35))  # tight/partial/very loose
    quad = crop_quad((mx, my, pw, ph), rng, grow=grow, tilt=rng.uniform(0.0, 0.08))
    # Intermediate size ~ plate at 2x output: the later downscale models the camera resolution.
    ch = int(out_size[0] * 2 * ph / max(ph, pw / 4) * 0.5 + out_size[0])
    crop = warp_quad(gray, quad, (max(out_size[0], ch), out_size[1] * 2))
    return degrade(crop, rng, out_size), label


if __name__ == "__main__":  # write a contact sheet to look at
    rng = np.random.default_rng(0)
    tiles = [synth_sample(rng)[0] for _ in range(48)]
    sheet = np.vstack([np.hstack(tiles[i:i + 4]) for i in range(0, 48, 4)])
    cv2.imwrite("/tmp/synth_sheet.png", sheet)
    plates = [cv2.resize(render_plate(*random_text(s, rng)[1:], rng, s)[0], (256, 96)) for s in STYLES]
    cv2.imwrite("/tmp/plates_sheet.png", np.vstack(plates))
