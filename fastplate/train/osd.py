"""On-screen display text (OSD): the timestamps and camera names that CCTV and parking cameras burn into
their frames.

It is text, and the reader finds text: one line of it per frame of the US parking stand-in's plate-free
train frames took their false results from 0.114 to 0.521 per frame (CAM05, 2021053, ENTRY12, ...).
:func:`overlay` draws one line, so that ``tools/parking_set.py --osd train|val`` can count what gets
through, and a model trained on it (the sixteenth session tried the candidate gate: docs/HISTORY.md) can be
measured on styles it never saw.

Two style sets: ``"train"`` draws with the Hershey fonts SIMPLEX, DUPLEX, TRIPLEX and COMPLEX_SMALL;
``"val"`` with PLAIN and COMPLEX, italic SIMPLEX and DUPLEX (the train fonts slanted) and, where installed,
DejaVu Sans Mono (not a plate font of :mod:`fastplate.train.synth`; the val frames then differ between
machines with and without it). The texts and places are drawn from the same lists in both.
"""
from __future__ import annotations

import os

import cv2
import numpy as np

HERSHEY = {"train": (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_TRIPLEX,
                     cv2.FONT_HERSHEY_COMPLEX_SMALL),
           "val": (cv2.FONT_HERSHEY_PLAIN, cv2.FONT_HERSHEY_COMPLEX,
                   cv2.FONT_HERSHEY_SIMPLEX | cv2.FONT_ITALIC, cv2.FONT_HERSHEY_DUPLEX | cv2.FONT_ITALIC)}
VAL_TRUETYPE = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
NAMES = ("CAM", "Camera", "CH", "IPC", "LOT", "GATE", "ENTRY", "EXIT", "LANE", "NORTH", "SOUTH", "PARKING", "P")


def osd_text(rng) -> str:
    """A random OSD line: a date and time in one of several layouts, a camera or place name, or both."""
    y, mo, d = int(rng.integers(2015, 2031)), int(rng.integers(1, 13)), int(rng.integers(1, 29))
    h, mi, s = int(rng.integers(0, 24)), int(rng.integers(0, 60)), int(rng.integers(0, 60))
    dates = (f"{y}-{mo:02d}-{d:02d}", f"{mo:02d}/{d:02d}/{y}", f"{d:02d}-{mo:02d}-{y}", f"{y}/{mo:02d}/{d:02d}",
             f"{mo:02d}-{d:02d}-{y} {WEEKDAYS[int(rng.integers(7))]}")
    times = (f"{h:02d}:{mi:02d}:{s:02d}", f"{h:02d}:{mi:02d}", f"{(h % 12) or 12:02d}:{mi:02d}:{s:02d} {'AP'[h >= 12]}M")
    stamp = f"{dates[int(rng.integers(len(dates)))]} {times[int(rng.integers(len(times)))]}"
    name = f"{NAMES[int(rng.integers(len(NAMES)))]}{' ' * int(rng.integers(0, 2))}{int(rng.integers(1, 20)):0{int(rng.integers(1, 3))}d}"
    if rng.random() < 0.3:
        name += f" {NAMES[int(rng.integers(len(NAMES)))]} {chr(65 + int(rng.integers(6)))}"
    kind = rng.random()
    return stamp if kind < 0.5 else name if kind < 0.75 else f"{name}  {stamp}"


def _truetype(split):
    if split != "val" or not os.path.isfile(VAL_TRUETYPE):
        return None
    try:
        from PIL import ImageFont  # noqa: F401  (only the val styles use it)
    except ImportError:
        return None
    return VAL_TRUETYPE


def _truetype_font(height):
    from PIL import ImageFont

    return ImageFont.truetype(VAL_TRUETYPE, max(8, int(round(height * 1.35))))


def _draw_truetype(frame, text, org, height, colour, outline, shadow):
    from PIL import Image, ImageDraw

    font = _truetype_font(height)
    layer = Image.fromarray(np.zeros(frame.shape[:2], np.uint8))  # 1: text, 2: outline
    draw = ImageDraw.Draw(layer)
    x, y = org
    left, top, right, bottom = draw.textbbox((x, y), text, font=font, anchor="ls", stroke_width=outline)
    draw.text((x, y), text, fill=1, font=font, anchor="ls", stroke_width=outline, stroke_fill=2)
    mask = np.asarray(layer)
    back = 0 if colour > 128 else 255
    if shadow:
        moved = np.zeros_like(mask)
        moved[shadow:, shadow:] = mask[:-shadow, :-shadow]
        frame[moved > 0] = back
    frame[mask == 2] = back
    frame[mask == 1] = colour
    return left, top, right - left, bottom - top


def overlay(gray, rng, split="train"):
    """Draw one OSD line onto ``gray`` (in place; (H, W) gray or (H, W, 3) BGR uint8) at a frame edge; returns
    its box (x, y, w, h), with its outline, shadow or box.

    Styles: light (200-255) or dark text, with a dark outline, a drop shadow, a dark box behind it, or
    nothing; character height 1.5-4% of the frame height; at a corner or the middle of the top or bottom edge.
    """
    if split not in HERSHEY:
        raise ValueError(f"split must be one of {', '.join(HERSHEY)}, got {split!r}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    h, w = gray.shape[:2]
    text = osd_text(rng)
    height = float(rng.uniform(0.015, 0.04)) * h
    light = rng.random() < 0.85
    colour = int(rng.integers(200, 256)) if light else int(rng.integers(0, 50))
    ink, back = (colour,) * 3, ((0,) if light else (255,)) * 3  # cv2 colours (the first one is used for gray)
    style = rng.choice(["outline", "shadow", "box", "plain"], p=[0.4, 0.2, 0.15, 0.25])
    truetype = _truetype(split)
    use_tt = rng.random() < 0.4 and truetype is not None  # the draw is made either way: same stream everywhere
    font = HERSHEY[split][int(rng.integers(len(HERSHEY[split])))]
    scale = height / cv2.getTextSize("0", font, 1.0, 1)[0][1]
    thick = max(1, int(round(height / 10 * rng.uniform(0.8, 1.6))))
    off = max(1, int(round(height / 12)))  # a drop shadow's offset
    (tw, th), base = cv2.getTextSize(text, font, scale, thick)
    if use_tt:
        left, top, right, bottom = _truetype_font(height).getbbox(text, anchor="ls", stroke_width=1)
        tw, th, base = right, -top, bottom
    margin = int(rng.uniform(0.01, 0.04) * w)
    x = {0: margin, 1: w - margin - tw, 2: (w - tw) // 2}[int(rng.integers(3))]
    y = margin + th if rng.random() < 0.6 else h - margin - base
    x = int(np.clip(x, 0, max(w - tw, 0)))
    org = (x, int(y))
    if style == "box":
        pad = int(height * 0.3)
        cv2.rectangle(gray, (x - pad, int(y) - th - pad), (x + tw + pad, int(y) + base + pad), back, -1)
    if use_tt:
        box = _draw_truetype(gray, text, org, height, colour, 1 if style == "outline" else 0,
                             off if style == "shadow" else 0)
    else:
        if style == "outline":
            cv2.putText(gray, text, org, font, scale, back, thick + 2 * max(1, thick // 2), cv2.LINE_AA)
        elif style == "shadow":
            cv2.putText(gray, text, (x + off, int(y) + off), font, scale, back, thick, cv2.LINE_AA)
        cv2.putText(gray, text, org, font, scale, ink, thick, cv2.LINE_AA)
        box = (x, int(y) - th, tw, th + base)
    pad = int(height * 0.5)  # the outline, shadow or box around it
    x0, y0 = max(box[0] - pad, 0), max(box[1] - pad, 0)
    x1, y1 = min(box[0] + box[2] + pad, w), min(box[1] + box[3] + pad, h)
    return (x0, y0, x1 - x0, y1 - y0)
