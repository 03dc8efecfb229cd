"""A US parking-camera stand-in: real US plate crops pasted small into plate-free 1280x720 scenes; and its score.

The hidden test set has US parking-camera frames (1280x720, plates about 60x30 px) that we do not have.
This builds frames like them, deterministically, from ``shared/data``:

- a scene from ``backgrounds/`` (gray, no plates), scaled to cover 1280x720, cropped, made BGR;
- 1-2 crops of ``us-crops`` per frame, each scaled to a plate 60-130 px wide (mostly under 100), turned
  by up to 10 degrees with a little perspective, on a darker or lighter car-body-like rectangle;
- mild blur, noise and JPEG of the whole frame.

Plates follow the recognizer's split rule (:func:`fastplate.train.data.is_val`): tune on ``--split train``
frames, report ``--split val`` only. Backgrounds are split too (by file name, same rule), so the val frames'
scenes are not the ones tuned on either. Frames are never written into the repository: ``--write DIR`` puts
them in DIR in the OpenALPR benchmark layout (``NAME.jpg`` + ``NAME.txt``: ``file x y w h PLATE``), so
``fastplate eval DIR --country us`` scores them too; without it they are scored in memory with the same
metric (IoU > 0.4 and top-1 text, strict and O/0 folded, false results per image, median/p90 ms).

    python tools/parking_set.py --split val                       # score the val stand-in
    python tools/parking_set.py --split train --show-errors       # tune on this one
    python tools/parking_set.py --split train --set min_confidence_unmatched=0.95 --loc max_candidates=12
    python tools/parking_set.py --split val --negatives           # plate-free 1280x720 frames: false results
    python tools/parking_set.py --split val --model /tmp/m/recognizer.onnx   # a candidate recognizer
    python tools/parking_set.py --split val --write /tmp/parking-val && fastplate eval /tmp/parking-val --country us
"""
from __future__ import annotations

import argparse
import glob
import os
import sys
import time
import zlib
from pathlib import Path

import cv2
import numpy as np

# Score the working tree's fastplate, not an installed copy (``python tools/...`` puts tools/ on the path).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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


def generate(split="val", *, passes=2, seed=0, data_dir=None, negatives=False):
    """Yield ``(name, bgr frame, jpeg bytes, labels)`` with labels ``[((x, y, w, h), text), ...]``.

    Every crop of ``split`` is pasted once per pass, one or two per frame; ``negatives=True`` gives the
    frames built the same way with no plates. Deterministic in (split, passes, seed).
    """
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
            frame, jpeg = degrade_frame(frame, rng)
            yield f"{split}{'-neg' if negatives else ''}-{p}-{frame_index:04d}", frame, jpeg, labels
            frame_index += 1


def write(folder, frames):
    """Write frames from :func:`generate` in the OpenALPR benchmark layout."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, _, jpeg, labels in frames:
        (folder / f"{name}.jpg").write_bytes(jpeg)
        (folder / f"{name}.txt").write_text(
            "".join(f"{name}.jpg\t{x}\t{y}\t{w}\t{h}\t{text}\n" for (x, y, w, h), text in labels))


def evaluate(frames, reader, *, show_errors=False, recall=True, out=None):
    """Score ``reader`` on frames from :func:`generate` like ``fastplate eval``; returns the summary dict
    (printed to ``out``, default ``sys.stdout`` at call time)."""
    out = sys.stdout if out is None else out
    from fastplate.cli import score_image
    from fastplate.localize import box_iou

    keys = ("plates", "detected", "top1", "top1_folded", "false")
    totals = dict.fromkeys(keys, 0)
    totals["candidates_found"] = 0
    images, times, cpu = 0, [], []
    errors = []
    for name, frame, _, labels in frames:
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)  # decoding/conversion not timed, as in fastplate eval
        t, c = time.perf_counter(), time.thread_time()
        (plates,), _ = reader.read_arrays([gray])
        times.append(1000 * (time.perf_counter() - t))
        cpu.append(1000 * (time.thread_time() - c))
        s = score_image(plates, labels, reader.top_n)
        images += 1
        for k in keys:
            totals[k] += s[k]
        if recall and labels:  # candidate recall of the localizer (not timed: a second localization)
            cands = reader.localizer(gray)
            totals["candidates_found"] += sum(
                any(box_iou(c.box, box) > 0.4 for c in cands) for box, _ in labels)
        errors.extend((name, want, got) for want, got in s["errors"])
    n = max(totals["plates"], 1)
    summary = {
        "images": images, "plates": totals["plates"],
        "candidate_recall": totals["candidates_found"] / n if recall else None,
        "detection": totals["detected"] / n, "top1": totals["top1"] / n, "top1_folded": totals["top1_folded"] / n,
        "false_per_image": totals["false"] / max(images, 1),
        "median_ms": float(np.median(times)) if times else float("nan"),
        "p90_ms": float(np.percentile(times, 90)) if times else float("nan"),
        "median_cpu_ms": float(np.median(cpu)) if cpu else float("nan"),
    }
    print(f"{images} frames 1280x720, {totals['plates']} plates", file=out)
    if recall and totals["plates"]:
        print(f"  candidate recall (IoU > 0.4) {100 * summary['candidate_recall']:6.1f} %", file=out)
    print(f"  detection (IoU > 0.4)   {100 * summary['detection']:6.1f} %", file=out)
    print(f"  top-1                   {100 * summary['top1']:6.1f} %   O/0 folded "
          f"{100 * summary['top1_folded']:6.1f} %", file=out)
    print(f"  false results per image {summary['false_per_image']:8.3f}", file=out)
    print(f"  ms per frame            median {summary['median_ms']:.1f}, p90 {summary['p90_ms']:.1f}, "
          f"CPU median {summary['median_cpu_ms']:.1f}", file=out)
    if show_errors:
        for name, want, got in errors:
            print(f"    {name}: " + (f"false result {got}" if want is None else
                                     f"expected {want}, got {got or '(not found)'}"), file=out)
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=("train", "val"), default="val")
    parser.add_argument("--passes", type=int, default=2, help="times each crop is pasted (other sizes/places)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--negatives", action="store_true", help="frames without plates (false results)")
    parser.add_argument("--limit", type=int, default=None, help="first N frames only")
    parser.add_argument("--write", metavar="DIR", help="write the frames to DIR instead of scoring them")
    parser.add_argument("--country", default="us")
    parser.add_argument("--show-errors", action="store_true")
    parser.add_argument("--model", default=None, metavar="ONNX",
                        help="a recognizer model to score instead of the shipped one (e.g. an exported candidate)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a Reader option, e.g. --set agree_floor=0.7 (the value is a Python literal)")
    parser.add_argument("--loc", action="append", default=[], metavar="NAME=VALUE",
                        help="a Localizer option, e.g. --loc max_candidates=12 (a Python literal)")
    args = parser.parse_args(argv)
    frames = generate(args.split, passes=args.passes, seed=args.seed, negatives=args.negatives)
    if args.limit:
        frames = (f for i, f in zip(range(args.limit), frames))
    if args.write:
        write(args.write, frames)
        return 0
    from fastplate import Reader

    import ast

    options = {k: ast.literal_eval(v) for k, v in (o.split("=", 1) for o in args.set)}
    if args.loc:
        from fastplate.localize import Localizer
        from fastplate.reader import PADDING

        pad_x, pad_y = PADDING.get(args.country or None, PADDING[None])
        loc = {"pad_x": pad_x, "pad_y": pad_y, **{k: ast.literal_eval(v) for k, v in (o.split("=", 1) for o in args.loc)}}
        options["localizer"] = Localizer(**loc)
    if args.model:
        from fastplate import Recognizer

        options["recognizer"] = Recognizer(args.model, threads=1, top_n=options.get("top_n", 10))
    reader = Reader(args.country or None, threads=1, recognizer_threads=1, **options)
    evaluate(frames, reader, show_errors=args.show_errors, recall=not args.negatives)
    return 0


if __name__ == "__main__":
    sys.exit(main())
