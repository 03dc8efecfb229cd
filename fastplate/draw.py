"""Annotate an image with the plates read in it."""
from __future__ import annotations

import cv2
import numpy as np

from ._validate import as_int, as_quads

__all__ = ["draw"]


def draw(image, plates, *, color=(0, 255, 0), thickness=None, text=True, chars=False):
    """Return a copy of ``image`` with each plate's quad outlined and its text and confidence written by it
    (above it; below or inside its top where there is no room above; smaller where the image is narrow).

    Parameters
    ----------
    image : ndarray, (H, W, 3) BGR, (H, W, 4) BGRA or (H, W) gray uint8
        Gray images are annotated in colour; the copy is BGR (a BGRA image's alpha channel is dropped).
    plates : sequence of fastplate.Plate
    color : (b, g, r)
    thickness : int, optional
        Line width in pixels, 1-64 (default: scaled to the image size).
    text : bool
        Write the plate text and confidence.
    chars : bool
        Also draw each character's box.

    Returns
    -------
    ndarray, (H, W, 3) uint8
        The annotated copy; ``image`` itself is unchanged.

    Example
    -------
    >>> out = draw(np.zeros((40, 60), np.uint8), []); out.shape
    (40, 60, 3)
    """
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise TypeError(f"image must be a uint8 numpy.ndarray, got {getattr(image, 'dtype', type(image).__name__)}")
    gray = image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 1)
    if not gray and not (image.ndim == 3 and image.shape[2] in (3, 4)):
        raise ValueError(f"image must be (H, W), (H, W, 3) or (H, W, 4), got shape {image.shape}")
    if image.size == 0:  # before cvtColor, which refuses it with a cv2.error
        raise ValueError(f"image must not be empty, got shape {image.shape}")
    if gray:
        out = cv2.cvtColor(image.reshape(image.shape[:2]), cv2.COLOR_GRAY2BGR)
    else:
        out = np.ascontiguousarray(image[:, :, :3]).copy()
    h, w = out.shape[:2]
    thick = max(1, round(max(h, w) / 500)) if thickness is None else as_int(thickness, "thickness", minimum=1, maximum=64)
    try:
        color = tuple(as_int(c, "color[]", minimum=0, maximum=255) for c in color)
    except TypeError:
        raise TypeError(f"color must be a (b, g, r) tuple of ints 0-255, got {color!r}") from None
    if len(color) != 3:
        raise ValueError(f"color must be a (b, g, r) tuple of ints 0-255, got {color!r}")
    # Drawing is cut to the image anyway; coordinates far past it are clipped first (OpenCV's int32 maths,
    # and its text sizes, break down on absurd ones).
    reach = 4 * max(h, w)
    for i, plate in enumerate(plates):
        quad = as_quads(plate.quad, f"plates[{i}].quad")
        if len(quad) != 1:
            raise ValueError(f"plates[{i}].quad must be 4 corner points (x, y), got shape {np.shape(plate.quad)}")
        quad = quad[0]
        quad = np.round(np.clip(quad, -reach, reach)).astype(np.int32)
        cv2.polylines(out, [quad], True, color, thick, cv2.LINE_AA)
        if chars:
            for ch in plate.chars:
                box = np.asarray(ch.box, dtype=np.float64)
                if box.shape != (4,) or not np.isfinite(box).all():
                    raise ValueError(f"plates[{i}].chars: a box must be 4 finite numbers (x, y, w, h), got {ch.box!r}")
                x, y, cw, chh = (int(v) for v in np.clip(box, -reach, reach))
                if cw >= 1 and chh >= 1:  # a character cut off at the frame's edge has an empty box
                    cv2.rectangle(out, (x, y), (x + cw - 1, y + chh - 1), color, 1)  # corners inclusive
        if text:
            conf = plate.confidence
            if isinstance(conf, (str, bytes, bool)) or not isinstance(conf, (int, float, np.number)) \
                    or not np.isfinite(conf):
                raise TypeError(f"plates[{i}].confidence must be a finite number, got {conf!r}")
            label = f"{plate.text} {float(conf):.0%}"
            # Text about a third of the plate's height, but never taller than the image, nor wider.
            scale = min(max(0.4, (quad[:, 1].max() - quad[:, 1].min()) / 40), max(0.4, h / 30))
            (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
            if tw > w:
                scale *= w / tw
                (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
            x, y = int(quad[:, 0].min()), int(quad[:, 1].min()) - 4
            if y - th - base < 0:  # no room above: write below
                y = int(quad[:, 1].max()) + th + 4
            if y + base // 2 > h - 1:  # nor below (a plate as tall as the image): inside it, at the top
                y = max(int(quad[:, 1].min()), 0) + th + base
            x = min(max(x, 0), max(w - tw, 0))  # and never starting past the image's sides
            cv2.rectangle(out, (x, y - th - base), (x + tw, y + base // 2), (0, 0, 0), -1)
            cv2.putText(out, label, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, color, thick, cv2.LINE_AA)
    return out
