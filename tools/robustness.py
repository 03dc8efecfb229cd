"""The reader on labelled scenes made harder the way cameras make them: darker, hazier, noisier, blurred,
tilted, smaller. Detection, top-1 and false results per image, as ``fastplate eval`` scores them.

    python tools/robustness.py [--sets scenes-eu scenes-br] [--split train] [--only dark tilt+15 ...]
    python tools/robustness.py --only "blur 1.5" --set second_look=False   # a Reader option

Scores the train split by default: the val split is for measuring reader changes once, and these changes
of the photos are for designing them. The shipped recognizer has seen the train split's plates, so what
this shows is how much of the plates the pipeline still finds and reads as photos get worse, not how well
it reads plates it never saw.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

import fastplate
from fastplate.cli import read_benchmark_labels, score_image
from fastplate.train._args import literal_options
from fastplate.train.data import DATA_DIR
from fastplate.train.split import is_val


def _levels(image, gain, offset=0.0):
    return np.clip(image.astype(np.float32) * gain + offset, 0, 255).astype(np.uint8)


def _noise(image, sigma, seed):
    rng = np.random.default_rng(seed)
    return np.clip(image + rng.normal(0, sigma, image.shape), 0, 255).astype(np.uint8)


def _motion(image, length):
    return cv2.filter2D(image, -1, np.full((1, length), 1.0 / length, np.float32))


def _rotate(image, labels, degrees):
    """The photo turned by ``degrees`` about its centre on a canvas that holds all of it (edges replicated);
    each label becomes the box around its turned corners."""
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    c, s = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * s + w * c), int(h * c + w * s)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    out = cv2.warpAffine(image, m, (nw, nh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    turned = []
    for (x, y, bw, bh), text in labels:
        corners = np.array([[x, y], [x + bw, y], [x + bw, y + bh], [x, y + bh]], float) @ m[:, :2].T + m[:, 2]
        (x0, y0), (x1, y1) = corners.min(0), corners.max(0)
        turned.append(((x0, y0, x1 - x0, y1 - y0), text))
    return out, turned


def warp(image, labels, matrix):
    """The photo under the 3x3 ``matrix`` on a canvas that holds all of it (edges replicated); each label
    becomes the box around its mapped corners."""
    h, w = image.shape[:2]
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
    mapped = cv2.perspectiveTransform(corners[None], matrix)[0]
    shift = np.array([[1, 0, -mapped[:, 0].min()], [0, 1, -mapped[:, 1].min()], [0, 0, 1]]) @ matrix
    nw, nh = np.ceil(mapped.max(0) - mapped.min(0)).astype(int)
    out = cv2.warpPerspective(image, shift, (int(nw), int(nh)), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
    moved = []
    for (x, y, bw, bh), text in labels:
        box = np.array([[x, y], [x + bw, y], [x + bw, y + bh], [x, y + bh]], np.float64)
        (x0, y0), (x1, y1) = (q := cv2.perspectiveTransform(box[None], shift)[0]).min(0), q.max(0)
        moved.append(((x0, y0, x1 - x0, y1 - y0), text))
    return out, moved


def _shear(image, labels, k):
    """Vertical shear (y += k x): a camera beside the road sees plates' lines slant, their uprights upright."""
    return warp(image, labels, np.array([[1, 0, 0], [k, 1, 0], [0, 0, 1]], np.float64))


def turned(image, labels, degrees, axis):
    """The photo seen turned ``degrees`` about its middle line (a pinhole camera with a focal length of the
    photo's width). ``axis`` "y" (yaw, about the vertical line): one side nearer and taller, the other
    farther and shorter, lines converging. "x" (pitch, about the horizontal line; a camera above the cars
    looking down): plates shorter for their width, the far edge narrower."""
    h, w = image.shape[:2]
    f, a = float(w), np.radians(degrees)
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
    dst = []
    for x, y in src:
        X, Y = x - w / 2, y - h / 2
        if axis == "y":
            z = f + X * np.sin(a)
            dst.append([w / 2 + f * X * np.cos(a) / z, h / 2 + f * Y / z])
        else:
            z = f + Y * np.sin(a)
            dst.append([w / 2 + f * X / z, h / 2 + f * Y * np.cos(a) / z])
    return warp(image, labels, cv2.getPerspectiveTransform(src.astype(np.float32), np.float32(dst)))


def _plate_width(image, labels, width, grow=False):
    """The photo resized so that its widest labelled plate is ``width`` px wide: shrunk (INTER_AREA) or, with
    ``grow``, enlarged (INTER_CUBIC: a photo of a higher-resolution camera, softer than a real one)."""
    f = width / max(b[2] for b, _ in labels)
    f = f if grow else min(1.0, f)
    small = cv2.resize(image, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC if f > 1 else cv2.INTER_AREA)
    return small, [((x * f, y * f, w * f, h * f), t) for (x, y, w, h), t in labels]


# name -> (image, labels, index) -> (image, labels)
CHANGES = {
    "none": lambda im, lb, i: (im, lb),
    "dark 0.5": lambda im, lb, i: (_levels(im, 0.5), lb),
    "dark 0.2": lambda im, lb, i: (_levels(im, 0.2), lb),
    "dark 0.2 + noise": lambda im, lb, i: (_noise(_levels(im, 0.2), 3, i), lb),
    "haze (contrast 0.3)": lambda im, lb, i: (_levels(im, 0.3, 0.7 * 128), lb),
    "glare (0.35 x + 160)": lambda im, lb, i: (_levels(im, 0.35, 160), lb),
    "noise 12": lambda im, lb, i: (_noise(im, 12, i), lb),
    "jpeg 12": lambda im, lb, i: (cv2.imdecode(cv2.imencode(".jpg", im, [cv2.IMWRITE_JPEG_QUALITY, 12])[1], 1), lb),
    "blur 1.5": lambda im, lb, i: (cv2.GaussianBlur(im, (0, 0), 1.5), lb),
    "motion 5 px": lambda im, lb, i: (_motion(im, 5), lb),
    "light gradient": lambda im, lb, i: (_levels(im * np.linspace(0.25, 1.2, im.shape[1])[None, :, None], 1), lb),
    "tilt +8": lambda im, lb, i: _rotate(im, lb, 8),
    "tilt +15": lambda im, lb, i: _rotate(im, lb, 15),
    "tilt -15": lambda im, lb, i: _rotate(im, lb, -15),
    "shear +0.25": lambda im, lb, i: _shear(im, lb, 0.25),
    "shear -0.25": lambda im, lb, i: _shear(im, lb, -0.25),
    "yaw 40": lambda im, lb, i: turned(im, lb, 40, "y"),
    "yaw 55": lambda im, lb, i: turned(im, lb, 55, "y"),
    "pitch 40": lambda im, lb, i: turned(im, lb, 40, "x"),
    "pitch 48": lambda im, lb, i: turned(im, lb, 48, "x"),
    "pitch 55": lambda im, lb, i: turned(im, lb, 55, "x"),
    "plates 80 px wide": lambda im, lb, i: _plate_width(im, lb, 80),
    "plates 60 px wide": lambda im, lb, i: _plate_width(im, lb, 60),
    "plates 300 px wide": lambda im, lb, i: _plate_width(im, lb, 300, grow=True),
    "plates 600 px wide": lambda im, lb, i: _plate_width(im, lb, 600, grow=True),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", nargs="+", default=["scenes-eu", "scenes-br"])
    parser.add_argument("--split", choices=("train", "val", "all"), default="train")
    parser.add_argument("--only", nargs="+", choices=sorted(CHANGES), metavar="CHANGE",
                        help=f"some of: {', '.join(CHANGES)}")
    parser.add_argument("--min-gray-range", type=int, default=None, help="Reader(min_gray_range=...); 0: never stretch")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a Reader option, e.g. --set second_look=False (the value is a Python literal)")
    parser.add_argument("--show-errors", action="store_true", help="print each misread, missed and false result")
    args = parser.parse_args(argv)
    options = literal_options(parser, "--set", args.set, fastplate.Reader, own=("country", "threads"))
    if "min_gray_range" in options and args.min_gray_range is not None:
        parser.error("give min_gray_range once: --min-gray-range or --set min_gray_range=...")
    changes = args.only or list(CHANGES)
    print("| change | " + " | ".join(f"{s} detection / top-1 / false per image" for s in args.sets) + " |")
    print("|---|" + "---|" * len(args.sets))
    items, readers = {}, {}
    for name in args.sets:
        found = read_benchmark_labels(Path(DATA_DIR) / name)
        items[name] = [(p, lb) for p, lb in found
                       if lb and (args.split == "all" or all(is_val(t) == (args.split == "val") for _, t in lb))]
        extra = dict(options) if args.min_gray_range is None else dict(options, min_gray_range=args.min_gray_range)
        readers[name] = fastplate.Reader("eu" if "eu" in name else "br" if "br" in name else "us", threads=1, **extra)
    for change in changes:
        cells = []
        for name in args.sets:
            plates = detected = top1 = false = 0
            for i, (path, labels) in enumerate(items[name]):
                image, truth = CHANGES[change](cv2.imread(str(path)), labels, i)
                s = score_image(readers[name].read(image), truth, 10)
                if args.show_errors:
                    for want, got in s["errors"]:
                        print(f"    {change}, {path.name}: " + (f"false result {got}" if want is None else
                              f"expected {want}, got {got or '(not found)'}"), flush=True)
                plates, detected, top1, false = plates + s["plates"], detected + s["detected"], top1 + s["top1"], \
                    false + s["false"]
            cells.append(f"{100 * detected / plates:.1f} / {100 * top1 / plates:.1f} / {false / len(items[name]):.3f}")
        print(f"| {change} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
