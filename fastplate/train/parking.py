"""US parking-camera stand-in frames: real US plate crops pasted small into plate-free 1280x720 scenes.

The hidden test set has US parking-camera frames (1280x720, plates about 60x30 px) that we do not have.
:func:`generate` builds frames like them, deterministically, from ``shared/data``:

- a scene from ``backgrounds/`` (gray, no plates), scaled to cover 1280x720, cropped, made BGR;
- 1-2 crops of ``us-crops`` per frame, each scaled to a plate 60-130 px wide (mostly under 100), turned
  by up to 10 degrees with a little perspective, on a darker or lighter car-body-like rectangle;
- mild blur, noise and JPEG of the whole frame.

Plates follow the recognizer's split rule (:func:`fastplate.train.split.is_val`), and so do the backgrounds
(by file name). ``tools/parking_set.py`` scores a Reader on these frames; :mod:`fastplate.train.gate`
trains the candidate gate on the train split's.
"""
from __future__ import annotations

import glob
import os
import zlib

import cv2
import numpy as np

FRAME = (720, 1280)  # (h, w)


def _background_files(split, data_dir):
    files = sorted(glob.glob(os.path.join(data_dir, "backgrounds", "*")))
    if split is None:
        return files
    return [f for f in files if (zlib.crc32(os.path.basename(f).encode()) % 5 == 0) == (split == "val")]


def background_frame(path, rng, size=FRAME):
    """The scene at ``path`` scaled to cover ``size`` (h, w), randomly cropped to it, as BGR uint8."""
    gray = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    h, w = size
    s = max(h / gray.shape[0], w / gray.shape[1]) * rng.uniform(1.0, 1.3)
    big = cv2.resize(gray, (max(w, round(gray.shape[1] * s)), max(h, round(gray.shape[0] * s))),
                     interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    y0 = int(rng.integers(0, big.shape[0] - h + 1))
    x0 = int(rng.integers(0, big.shape[1] - w + 1))
    return cv2.cvtColor(np.ascontiguousarray(big[y0:y0 + h, x0:x0 + w]), cv2.COLOR_GRAY2BGR)


def plate_width(rng):
    """Plate widths in pixels: 60-130, mostly small (median about 80)."""
    return 60.0 + 70.0 * rng.beta(1.3, 2.6)


def paste_plate(frame, crop, center, width, rng):
    """Paste ``crop`` (BGR) into ``frame`` in place, ``width`` px wide around ``center``, turned by up to 10
    degrees with some perspective, on a car-body-like rectangle. Returns the plate's quad (4, 2)."""
    ch, cw = crop.shape[:2]
    height = width * ch / cw
    # The car body: a rectangle a few plate sizes large, darker or lighter than the plate, slightly shaded.
    plate_level = float(crop.mean())
    delta = rng.uniform(40, 110) * (-1 if plate_level > 110 and rng.random() < 0.75 else 1)
    body = np.clip(plate_level + delta + rng.normal(0, 6, 3), 10, 245)
    bw, bh = width * rng.uniform(2.5, 5.0), height * rng.uniform(1.8, 3.5)
    bx0, by0 = center[0] - bw * rng.uniform(0.35, 0.65), center[1] - bh * rng.uniform(0.3, 0.6)
    x0, y0 = max(0, int(bx0)), max(0, int(by0))
    x1, y1 = min(frame.shape[1], int(bx0 + bw)), min(frame.shape[0], int(by0 + bh))
    if x1 > x0 and y1 > y0:
        shade = np.linspace(1.0 + rng.uniform(-0.15, 0.15), 1.0, y1 - y0)[:, None, None]
        frame[y0:y1, x0:x1] = np.clip(body * shade, 0, 255).astype(np.uint8)
    # The plate: scale first (area-averaged, as a camera would), then a small rotation and perspective.
    small = cv2.resize(crop, (max(2, round(width)), max(2, round(height))), interpolation=cv2.INTER_AREA)
    sh, sw = small.shape[:2]
    angle = np.deg2rad(rng.uniform(-10, 10))
    ca, sa = np.cos(angle), np.sin(angle)
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], np.float64) * [sw / 2, sh / 2]
    persp = rng.uniform(-0.08, 0.08)  # one side a little taller than the other (plate turned a few degrees)
    corners[:, 1] *= 1 + np.array([-1, 1, 1, -1]) * persp
    quad = corners @ np.array([[ca, sa], [-sa, ca]]) + center
    src = np.array([[0, 0], [sw - 1, 0], [sw - 1, sh - 1], [0, sh - 1]], np.float32)
    m = cv2.getPerspectiveTransform(src, quad.astype(np.float32))
    size = (frame.shape[1], frame.shape[0])
    warped = cv2.warpPerspective(small, m, size, flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.full((sh, sw), 255, np.uint8), m, size, flags=cv2.INTER_LINEAR)
    a = mask.astype(np.float32)[:, :, None] / 255.0
    np.copyto(frame, (frame * (1 - a) + warped * a).astype(np.uint8))
    return quad


def degrade_frame(frame, rng):
    """Mild camera softness, sensor noise and JPEG of the whole frame. Returns (BGR frame, JPEG bytes)."""
    frame = cv2.GaussianBlur(frame, (0, 0), rng.uniform(0.4, 0.9))
    noisy = frame.astype(np.float32) + rng.normal(0, rng.uniform(1.5, 4.5), frame.shape).astype(np.float32)
    frame = np.clip(noisy, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(60, 90))])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR), buf.tobytes()


def generate(split="val", *, passes=2, seed=0, data_dir=None, negatives=False, osd=None):
    """Yield ``(name, bgr frame, jpeg bytes, labels)`` with labels ``[((x, y, w, h), text), ...]``.

    Every crop of ``split`` is pasted once per pass, one or two per frame; ``negatives=True`` gives the
    frames built the same way with no plates. Deterministic in (split, passes, seed).

    ``osd="train"`` or ``"val"``: each frame also gets a line of on-screen display text (a timestamp, a
    camera name) in that style set (:func:`fastplate.train.osd.overlay`), clear of the plates, drawn before
    the camera's blur, noise and JPEG; the frames and plates are the same as without it. Then 5-tuples are
    yielded, the last item the OSD box ``(x, y, w, h)`` (None where no place clear of the plates was found).
    """
    from fastplate.train.osd import HERSHEY  # the style sets

    if osd is not None and osd not in HERSHEY:  # here, not at the first frame: generate is not lazy
        raise ValueError(f"osd must be None, 'train' or 'val', got {osd!r}")
    return _frames(split, passes, seed, data_dir, negatives, osd)


def _frames(split, passes, seed, data_dir, negatives, osd):
    from fastplate.train.data import DATA_DIR, load_set

    data_dir = data_dir or DATA_DIR
    samples = load_set("us-crops", split, data_dir=data_dir, color=True)
    backgrounds = _background_files(split, data_dir)
    for p in range(passes):
        rng = np.random.default_rng([seed, p, 0 if split == "train" else 1])
        order = rng.permutation(len(samples))
        i = frame_index = 0
        while i < len(order):
            take = 1 if rng.random() < 0.5 or i + 1 == len(order) else 2
            group = [samples[k] for k in order[i:i + take]]
            i += take
            frame = background_frame(backgrounds[int(rng.integers(len(backgrounds)))], rng)
            labels = []
            if not negatives:
                # Plates in the lower two thirds, side by side when there are two (cars in a row).
                slots = np.linspace(0, FRAME[1], take + 1)
                for k, s in enumerate(group):
                    w = plate_width(rng)
                    cx = rng.uniform(slots[k] + 1.5 * w, slots[k + 1] - 1.5 * w)
                    cy = rng.uniform(0.35 * FRAME[0], FRAME[0] - 2.0 * w)
                    quad = paste_plate(frame, s.image, np.array([cx, cy]), w, rng)
                    x0, y0 = np.floor(quad.min(axis=0))
                    x1, y1 = np.ceil(quad.max(axis=0))
                    labels.append(((int(x0), int(y0), int(x1 - x0), int(y1 - y0)), s.label))
            osd_box = None
            if osd is not None:
                from fastplate.localize import box_intersection
                from fastplate.train.osd import overlay

                # Its own random stream: the frame's own draws (and so the plates) stay as without OSD.
                orng = np.random.default_rng([seed, p, 0 if split == "train" else 1, frame_index, 7])
                for _ in range(5):  # a place clear of the plates
                    drawn = frame.copy()
                    box = overlay(drawn, orng, osd)
                    if not any(box_intersection(box, b) > 0 for b, _ in labels):
                        frame, osd_box = drawn, box
                        break
            frame, jpeg = degrade_frame(frame, rng)
            name = f"{split}{'-neg' if negatives else ''}-{p}-{frame_index:04d}"
            yield (name, frame, jpeg, labels) if osd is None else (name, frame, jpeg, labels, osd_box)
            frame_index += 1
