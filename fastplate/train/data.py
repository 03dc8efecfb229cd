"""Real plate crops for training and evaluation, split by the rule of :mod:`fastplate.train.split`.

Sets (read from ``shared/data``, never copied into the repository; AGPL-3.0, from openalpr/benchmarks):
``us-crops`` and ``br-crops`` (whole images are the plate crops, labels.csv), and the labelled boxes of
``scenes-eu`` / ``scenes-br`` (``NAME.txt``: tab-separated ``file x y w h PLATE``).

Split rule: :func:`fastplate.train.split.is_val` (about 20% of plate texts, O/0-folded, go to validation).
"""
from __future__ import annotations

import csv
import glob
import os
from dataclasses import dataclass

import cv2
import numpy as np

from ..formats import plate_text
from .split import is_val  # the split rule (the training commands import it from here too)
from .synth import ALPHABET, crop_quad, degrade, warp_quad
from .synth import lighting as plate_lighting  # not "lighting": augment_real has a flag of that name

DATA_DIR = os.environ.get("FASTPLATE_DATA",
                          os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data")))
SETS = ("us-crops", "br-crops", "scenes-eu", "scenes-br")


def data_error(data_dir=None, sets=SETS, backgrounds=False):
    """A message when the data folder or one of ``sets`` in it is missing (for the commands' argument
    errors), else None. ``backgrounds`` (training, the gate, the recipe): the plate-free scenes
    ``backgrounds/*.jpg`` must be there too (without them synthetic plates get plain backgrounds, and the
    gate's stand-in frames cannot be made)."""
    root = data_dir or DATA_DIR
    hint = f"set FASTPLATE_DATA to the folder that holds {', '.join(SETS)} and backgrounds (see " \
           f"fastplate/models/README.md)"
    if not os.path.isdir(root):
        return f"the data folder {root} does not exist: {hint}"
    need = {name: os.path.join(root, name, "labels.csv") if name.endswith("-crops") else os.path.join(root, name)
            for name in sets}
    missing = [name for name, path in need.items() if not os.path.exists(path)]
    if backgrounds and not glob.glob(os.path.join(root, "backgrounds", "*.jpg")):
        missing.append("backgrounds (*.jpg)")
    if missing:
        return f"the data folder {root} has no {', '.join(missing)}: {hint}"
    return None


def clean_label(text):
    """Uppercase, spaces and dashes removed; None when other characters remain."""
    text = plate_text(text)
    return text if text and all(c in ALPHABET for c in text) else None


@dataclass
class Sample:
    """A labelled plate: a gray image region and the plate box in it."""

    image: np.ndarray  # gray (or BGR) uint8: a crop, or a region of a scene around the box
    box: tuple  # x, y, w, h of the plate in ``image``
    label: str
    set_name: str
    file: str


def _read(path, color=False):
    im = cv2.imread(path, cv2.IMREAD_COLOR if color else cv2.IMREAD_GRAYSCALE)
    if im is None:
        raise OSError(f"cannot read {path}")
    return im


def load_set(name, split=None, data_dir=None, context=1.0, color=False):
    """Load one set as a list of ``Sample``.

    Parameters
    ----------
    name : one of ``SETS``
    split : "train", "val" or None (both)
    context : for scenes, how much of the scene around the box to keep (fraction of the box size per side)
    color : read BGR images instead of gray
    """
    root = os.path.join(data_dir or DATA_DIR, name)
    out = []
    if name in ("us-crops", "br-crops"):
        with open(os.path.join(root, "labels.csv"), newline="") as f:
            for row in csv.DictReader(f):
                label = clean_label(row["plate"])
                if label is None or (split and (split == "val") != is_val(label)):
                    continue
                path = os.path.join(root, "images", row["file"])
                if not os.path.exists(path):
                    path = os.path.join(root, row["file"])
                im = _read(path, color)
                out.append(Sample(im, (0, 0, im.shape[1], im.shape[0]), label, name, row["file"]))
        return out
    for txt in sorted(glob.glob(os.path.join(root, "*.txt"))):
        with open(txt) as f:
            lines = [ln.rstrip("\n").split("\t") for ln in f if ln.strip()]
        for parts in lines:
            if len(parts) < 6:
                continue
            label = clean_label(parts[5])
            if label is None or (split and (split == "val") != is_val(label)):
                continue
            path = os.path.join(root, parts[0])
            if not os.path.exists(path):
                continue
            im = _read(path, color)
            x, y, w, h = (int(v) for v in parts[1:5])
            # Keep only the surroundings a loose crop can reach: saves memory and resize time.
            x0, y0 = max(0, int(x - w * context)), max(0, int(y - h * context))
            x1, y1 = min(im.shape[1], int(x + w * (1 + context))), min(im.shape[0], int(y + h * (1 + context)))
            region = np.ascontiguousarray(im[y0:y1, x0:x1]) if context is not None else im
            out.append(Sample(region, (x - x0, y - y0, w, h), label, name, parts[0]))
    return out


def augment_real(sample, rng, out_size=(32, 128), small_plates=False, quads=None, lighting=False):
    """A localizer-like, camera-degraded (h, w) uint8 crop of a real plate.

    ``small_plates``: the fine-tuning recipe (``train --small-plates``): crops up to 25% loose (not 20%) and
    shifted up to 6% (not 5%), and large plates may shrink to parking-camera sizes (see :func:`degrade`).
    ``quads``: crop one of these (the reader's own crops of this plate, :func:`reader_quads`), its corners
    jittered by up to 2% of its size, instead of a grown and shifted box.
    ``lighting``: also the synthetic plates' light (:func:`relight`): shadows, glare, brightness, contrast
    and gamma, so that the same real plate is seen in other light than its photo's.
    """
    if quads is not None and len(quads):
        quad = quads[rng.integers(len(quads))].astype(np.float32)
        quad = quad + rng.uniform(-0.02, 0.02, (4, 2)).astype(np.float32) * np.ptp(quad, axis=0)
    else:
        r = rng.random()
        grow = ((-0.05, 0.25) if small_plates else (-0.05, 0.2)) if r < 0.85 else (0.0, 0.05)
        quad = crop_quad(sample.box, rng, grow=grow, shift=0.06 if small_plates else 0.05,
                         tilt=rng.uniform(0.0, 0.06))
    crop = warp_quad(sample.image, quad, (out_size[0] * 2, out_size[1] * 2))
    if lighting:
        crop = relight(crop, rng)
    return degrade(crop, rng, out_size, source_width=sample.box[2], small_plates=small_plates)


def relight(gray, rng):
    """``gray`` (uint8) in other light: the synthetic plates' shadows, glare and brightness/contrast
    (``synth.lighting``), then a gamma of 0.6-1.6."""
    img = gray.astype(np.float32)[..., None]
    plate_lighting(img, rng)
    img = 255.0 * (np.clip(img[..., 0], 0, 255) / 255.0) ** rng.uniform(0.6, 1.6)
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


# The reader's country for each set (its localizer padding).
SET_COUNTRY = {"us-crops": "us", "br-crops": "br", "scenes-eu": "eu", "scenes-br": "br"}


def reader_quads(samples, country, min_iou=0.4, plate_width=100):
    """The crops our reader takes of each sample's plate, to train the recognizer on them.

    The reader's localizer (with ``country``'s padding) runs on each sample's image, shrunk so the plate is
    at most ``plate_width`` px wide. Its candidates whose box overlaps the labelled box with IoU above
    ``min_iou`` (rows, two-row pairs, widened rows) are kept, in the image's own pixels, each also at the
    heights the reader re-reads unsure plates at (``Reader.refine_heights``). Returns one float32 (k, 4, 2)
    array per sample; k is 0 where the localizer missed the plate.
    """
    from ..localize import Localizer, box_iou, quad_box
    from ..reader import PADDING, REFINE_HEIGHTS, _scale_height

    pad_x, pad_y = PADDING[country]
    localizer = Localizer(pad_x=pad_x, pad_y=pad_y)
    heights = (1.0,) + REFINE_HEIGHTS
    out = []
    for s in samples:
        # At a parking camera's plate size: the crops' geometry is what the reader gives small plates, and
        # tight crops (us-crops) leave no pyramid level with their large characters in range.
        scale = min(1.0, plate_width / s.box[2])
        image = s.image if scale >= 1 else cv2.resize(s.image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        box = quad_box((eval_quads(s, None, False) + 0.5) * scale - 0.5)
        quads = [(c.quad + 0.5) / scale - 0.5 for c in localizer(image) if box_iou(c.box, box) > min_iou]
        out.append(np.array([_scale_height(q, k) for q in quads for k in heights], np.float32).reshape(-1, 4, 2))
    return out


def eval_quads(sample, rng, loose):
    """The crop quad used by evaluation: the labelled box (tight), or grown 10-20% and shifted (loose)."""
    x, y, w, h = sample.box
    if not loose:
        return np.array([[x, y], [x + w - 1, y], [x + w - 1, y + h - 1], [x, y + h - 1]], np.float64)
    g = rng.uniform(0.10, 0.20, 2)
    cx = x + (w - 1) / 2 + rng.uniform(-0.05, 0.05) * w
    cy = y + (h - 1) / 2 + rng.uniform(-0.05, 0.05) * h
    hw, hh = w * (1 + g[0]) / 2, h * (1 + g[1]) / 2
    return np.array([[cx - hw, cy - hh], [cx + hw, cy - hh], [cx + hw, cy + hh], [cx - hw, cy + hh]], np.float64)


def char_cuts(samples, height=48):
    """Where to cut each sample's plate between characters, found by our character segmentation.

    The tight box is scaled to ``height`` px and segmented (:func:`fastplate.kernels.segment_characters`).
    Returns one entry per sample: a float array of ``len(label) - 1`` cut positions (fractions of the box
    width; cut ``k - 1`` lies in the gap between characters ``k - 1`` and ``k``), or None unless exactly one
    row of exactly ``len(label)`` characters was found (then the gaps are not trusted).
    """
    from .. import kernels
    out = []
    for s in samples:
        x, y, w, h = s.box
        crop = s.image[y:y + h, x:x + w]
        if crop.size == 0:
            out.append(None)
            continue
        scale = height / h
        crop = cv2.resize(crop, (max(1, round(w * scale)), height),
                          interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        rows = kernels.segment_characters(crop)
        if len(rows) != 1 or len(rows[0].boxes) != len(s.label):
            out.append(None)
            continue
        b = np.asarray(rows[0].boxes, np.float64)
        right, left = b[:-1, 0] + b[:-1, 2], b[1:, 0]
        out.append((right + left) / 2 / crop.shape[1])
    return out


def splice(a, cuts_a, b, cuts_b, rng, min_len=4, max_len=8):
    """A new training plate: the left part of real plate ``a`` joined to the right part of real plate ``b``.

    Both are cut between characters (``cuts_*`` from :func:`char_cuts`); ``b`` is scaled to ``a``'s plate
    height and its brightness and contrast matched to ``a``'s. The model then sees real character images in
    text it cannot have memorized. Two plates of the same length are usually cut at the same place, which
    keeps their layout (letters where letters go). Returns a :class:`Sample` with the joined label, or None
    when no cut gives a length in ``[min_len, max_len]`` or the label would be a validation plate's text.
    """
    na, nb = len(a.label), len(b.label)
    k = int(rng.integers(1, na))
    if na == nb and rng.random() < 0.7:
        kb = k
    else:
        lo, hi = max(1, nb + k - max_len), min(nb - 1, nb + k - min_len)
        if lo > hi:
            return None
        kb = int(rng.integers(lo, hi + 1))
    label = a.label[:k] + b.label[kb:]
    if is_val(label):
        return None
    xa, ya, wa, ha = a.box
    xb, yb, wb, hb = b.box
    s = ha / hb
    bimg = cv2.resize(b.image, (max(1, round(b.image.shape[1] * s)), max(1, round(b.image.shape[0] * s))),
                      interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    xb, yb, wb = xb * s, int(round(yb * s)), wb * s
    cut_a = int(round(xa + wa * cuts_a[k - 1]))
    cut_b = int(round(xb + wb * cuts_b[kb - 1]))
    top = min(ya, yb)
    bottom = max(0, min(a.image.shape[0] - ya - ha, bimg.shape[0] - yb - ha))
    left = a.image[ya - top:ya + ha + bottom, :cut_a].astype(np.float32)
    right = bimg[yb - top:yb + ha + bottom, cut_b:].astype(np.float32)
    if left.shape[0] != right.shape[0] or left.shape[1] < 2 or right.shape[1] < 2:
        return None
    box_a = a.image[ya:ya + ha, xa:xa + wa]
    box_b = bimg[yb:yb + ha, int(xb):int(xb + wb)]
    if box_a.size == 0 or box_b.size == 0:
        return None
    gain = (box_a.std() + 1.0) / (box_b.std() + 1.0)
    right = (right - box_b.mean()) * gain + box_a.mean()
    image = np.clip(np.hstack([left, right]), 0, 255).astype(np.uint8)
    width = (cut_a - xa) + int(round(xb + wb)) - cut_b
    if width < 4:
        return None
    return Sample(np.ascontiguousarray(image), (xa, top, width, ha), label, a.set_name, f"{a.file}+{b.file}")
