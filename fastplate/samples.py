"""Synthetic car scenes drawn by our own code (no third-party photos), and the shipped sample image.

``synthetic_scene(seed)`` draws the rear of a car in a street-like scene, with a plate rendered by
:func:`fastplate.train.synth.render_plate` when its fonts are installed (else a plain OpenCV-font plate),
slightly rotated and in perspective. ``python -m fastplate.samples`` writes ``fastplate/data/sample.jpg``
and ``sample.json`` (its ground truth), which ``fastplate read --sample`` and ``fastplate bench`` use.
"""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import cv2
import numpy as np

from ._validate import as_size

__all__ = ["synthetic_scene", "sample_path", "sample_truth", "write_sample"]

SAMPLE_SEED = 7
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DIGITS = "0123456789"


def _plain_plate(text, rng):
    """A white plate with black characters in an OpenCV font (used when the training fonts are missing)."""
    h = 60
    w = int(h * 3.2)
    plate = np.full((h, w, 3), 235, np.uint8)
    cv2.rectangle(plate, (1, 1), (w - 2, h - 2), (30, 30, 30), 2)
    font, scale, thick = cv2.FONT_HERSHEY_SIMPLEX, 1.3, 3
    (tw, th), _ = cv2.getTextSize(text, font, scale, thick)
    scale *= min(1.0, (w * 0.88) / tw)
    (tw, th), _ = cv2.getTextSize(text, font, scale, thick)
    x0, y0 = (w - tw) // 2, (h + th) // 2
    cv2.putText(plate, text, (x0, y0), font, scale, (20, 20, 20), thick, cv2.LINE_AA)
    return plate


def _plate_image(text, rng, style):
    try:
        from .train.synth import render_plate

        return render_plate(text, rng, style)[0]
    except (ImportError, RuntimeError, OSError):  # PIL or the fonts are missing (e.g. a slim CI image)
        return _plain_plate(text, rng)


def _random_text(rng, style):
    if style == "br":
        return "".join(rng.choice(list(_LETTERS), 3)) + "".join(rng.choice(list(_DIGITS), 4))
    if style == "eu":
        return "".join(rng.choice(list(_LETTERS), 2)) + "".join(rng.choice(list(_DIGITS), 3)) \
            + "".join(rng.choice(list(_LETTERS), 2))
    return "".join(rng.choice(list(_DIGITS), 1)) + "".join(rng.choice(list(_LETTERS), 3)) \
        + "".join(rng.choice(list(_DIGITS), 3))


def synthetic_scene(seed: int = 0, *, text: str | None = None, style: str | None = None, size=(480, 640)):
    """Draw a synthetic street scene with one car and its plate.

    Parameters
    ----------
    seed : int
        Everything (colours, positions, text, tilt) follows from it.
    text : str, optional
        The plate text (letters and digits); random for ``style`` if None.
    style : {"us", "eu", "br"}, optional
        Plate layout; chosen by ``seed`` if None.
    size : (height, width)
        Each side 120 to 4096 pixels, at most twice as wide as tall.

    Returns
    -------
    image : (H, W, 3) uint8 BGR
    plates : list of (text, quad)
        ``quad`` is (4, 2) float64, the plate's corners clockwise from top-left.

    Example
    -------
    >>> img, plates = synthetic_scene(0)
    >>> img.shape, len(plates)
    ((480, 640, 3), 1)
    """
    h, w = as_size(size, minimum=120)  # room for a car with a plate on it
    if h < w / 2:  # the car is sized from the width: a wider frame puts it below the bottom edge
        raise ValueError(f"size must be at most twice as wide as tall, got {(h, w)}")
    rng = np.random.default_rng(seed)
    style = style or ("us", "eu", "br")[int(rng.integers(3))]
    text = text or _random_text(rng, style)
    # Sky-to-street gradient, a few building blocks, asphalt noise.
    img = np.empty((h, w, 3), np.float32)
    top = rng.uniform(120, 220, 3)
    bottom = rng.uniform(40, 110, 3)
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    img[:] = top * (1 - t) + bottom * t
    for _ in range(int(rng.integers(3, 7))):
        bx, by = int(rng.integers(0, w)), int(rng.integers(0, h // 2))
        bw, bh = int(rng.integers(w // 10, w // 3)), int(rng.integers(h // 8, h // 2))
        cv2.rectangle(img, (bx, by), (bx + bw, by + bh), tuple(float(v) for v in rng.uniform(60, 200, 3)), -1)
    # The car: body, rear window, tail lights, bumper, wheels.
    cw = int(w * rng.uniform(0.45, 0.6))
    ch = int(cw * rng.uniform(0.55, 0.7))
    cx0 = int((w - cw) / 2 + rng.uniform(-0.08, 0.08) * w)
    cy0 = int(h * 0.3 + rng.uniform(0, 0.08) * h)
    body = tuple(float(v) for v in rng.uniform(20, 230, 3))
    cv2.rectangle(img, (cx0 + cw // 10, cy0 - ch // 3), (cx0 + cw - cw // 10, cy0), body, -1)
    cv2.rectangle(img, (cx0 + cw // 6, cy0 - ch // 4), (cx0 + cw - cw // 6, cy0 - ch // 20), (40, 40, 45), -1)
    cv2.rectangle(img, (cx0, cy0), (cx0 + cw, cy0 + ch), body, -1)
    for lx in (cx0 + cw // 30, cx0 + cw - cw // 30 - cw // 6):
        cv2.rectangle(img, (lx, cy0 + ch // 8), (lx + cw // 6, cy0 + ch // 4), (30, 30, 200), -1)
    dark = tuple(0.6 * v for v in body)
    cv2.rectangle(img, (cx0 - cw // 40, cy0 + int(ch * 0.72)), (cx0 + cw + cw // 40, cy0 + int(ch * 0.85)), dark, -1)
    for wx in (cx0 + cw // 8, cx0 + cw - cw // 8):
        cv2.ellipse(img, (wx, cy0 + ch), (cw // 10, ch // 8), 0, 0, 360, (20, 20, 20), -1)
    img += rng.normal(0, 4, img.shape).astype(np.float32)
    # The plate, in perspective, on the body above the bumper.
    plate = _plate_image(text, rng, style)
    ph, pw = plate.shape[:2]
    target_w = cw * rng.uniform(0.28, 0.36)
    target_h = target_w * ph / pw
    pcx = cx0 + cw / 2 + rng.uniform(-0.05, 0.05) * cw
    pcy = cy0 + ch * 0.5
    angle = np.deg2rad(rng.uniform(-6, 6))
    ca, sa = np.cos(angle), np.sin(angle)
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], np.float64) * [target_w / 2, target_h / 2]
    corners[:, 1] *= 1 + np.array([-1, 1, 1, -1]) * rng.uniform(0, 0.06)  # a little perspective
    quad = corners @ np.array([[ca, sa], [-sa, ca]]) + [pcx, pcy]
    src = np.array([[0, 0], [pw - 1, 0], [pw - 1, ph - 1], [0, ph - 1]], np.float32)
    m = cv2.getPerspectiveTransform(src, quad.astype(np.float32))
    warped = cv2.warpPerspective(plate, m, (w, h), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), m, (w, h), flags=cv2.INTER_AREA)
    a = mask.astype(np.float32)[:, :, None] / 255.0
    img = img * (1 - a) + warped.astype(np.float32) * a
    # Camera softness and JPEG-like noise.
    img = cv2.GaussianBlur(img, (3, 3), 0.6)
    img = np.clip(img + rng.normal(0, 2, img.shape), 0, 255).astype(np.uint8)
    return img, [(text, quad)]


def sample_path() -> Path:
    """Path of the shipped sample image (``fastplate/data/sample.jpg``)."""
    return Path(str(resources.files("fastplate.data").joinpath("sample.jpg")))


def sample_truth() -> list:
    """The shipped sample's plates: ``[{"plate": text, "quad": [[x, y], ...]}, ...]``."""
    return json.loads(resources.files("fastplate.data").joinpath("sample.json").read_text(encoding="utf-8"))


def write_sample(folder=None, seed: int = SAMPLE_SEED) -> Path:
    """Write ``sample.jpg`` and ``sample.json`` into ``folder`` (default: the package's data folder)."""
    folder = Path(folder) if folder is not None else Path(__file__).resolve().parent / "data"
    # Letters and digits that no reader can confuse (no O/0, I/1, B/8), so the quickstart shows a clean read.
    image, plates = synthetic_scene(seed, text="KL482TM", style="eu", size=(720, 1280))
    path = folder / "sample.jpg"
    if not cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 92]):  # a JPEG, as cameras write them
        raise OSError(f"could not write {path}")
    truth = [{"plate": t, "quad": np.round(q, 1).tolist()} for t, q in plates]
    (folder / "sample.json").write_text(json.dumps(truth) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write_sample())
