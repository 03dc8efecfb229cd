"""Where the recognizer's characters sit along its output steps: ``step_positions`` in recognizer.json.

CTC fixes which characters a model emits, not where: the shipped model emits each character about five of
its 32 steps to the right of where it is drawn, and squeezes the last ones into the last steps. Character
boxes taken from the steps (``Recognition.char_spans``, ``Plate.chars`` when the localizer's blobs do not
match the reading) were then a character or more off. This measures the model on synthetic one-row plates
whose character places are known, and writes, for each half step, the median place (a fraction of the crop
width) of the characters emitted there; :func:`fastplate.recognizer.ctc_decode` maps steps through it.

``python -m fastplate.train.spans MODEL.onnx [--config CONFIG.json]`` (``export`` runs it too).
"""
from __future__ import annotations

import argparse
import json
import os

import cv2
import numpy as np


def plates(n, seed=0, size=(32, 128)):
    """``n`` synthetic one-row plate crops as the localizer gives them (a little loose or tight, shifted), at
    the model's input size: ``(crops (n, h, w) uint8, labels, centres)`` where ``centres[i]`` are the
    characters' places as fractions of the crop width."""
    from . import synth

    rng = np.random.default_rng(seed)
    crops, labels, centres = np.empty((n, *size), np.uint8), [], []
    while len(labels) < n:
        style = ("us", "eu", "br", "mercosur")[rng.integers(4)]
        label, layout = synth.random_text(style, rng)
        plate, boxes = synth.render_plate(layout, rng, style)
        if len(boxes) != len(label) or np.ptp(boxes[:, 1]) > 0.5 * boxes[:, 3].mean():
            continue  # one row only: on two-row plates a step is not a place
        gray = cv2.cvtColor(plate, cv2.COLOR_BGR2GRAY)
        ph, pw = gray.shape
        pad = pw // 3
        scene = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        grow, shift = rng.uniform(-0.03, 0.15), rng.uniform(-0.04, 0.04)
        x0 = int(round(pad + pw * (shift - grow / 2)))
        x1 = int(round(pad + pw * (1 + shift + grow / 2)))
        y0, y1 = pad - int(ph * rng.uniform(0, 0.1)), pad + ph + int(ph * rng.uniform(0, 0.1))
        crops[len(labels)] = cv2.resize(scene[y0:y1, x0:x1], size[::-1], interpolation=cv2.INTER_AREA)
        centres.append((pad + boxes[:, 0] + boxes[:, 2] / 2 - x0) / (x1 - x0))
        labels.append(label)
    return crops, labels, centres


def emitted(probs, blank):
    """Best-path characters of one (T, C) probability matrix and the centres (in steps, multiples of 0.5) of
    their runs, as :func:`fastplate.recognizer.ctc_decode` finds them."""
    from ..recognizer import _runs

    best = probs.argmax(1)
    starts, ends = _runs(best, len(best))
    keep = best[starts] != blank
    return best[starts][keep], (starts[keep] + ends[keep]) / 2.0


def calibrate(model, n=2000, seed=0):
    """``step_positions`` of an ONNX recognizer (a path): 2T + 1 non-decreasing fractions of the crop width,
    for step positions 0, 0.5, ..., T; measured on :func:`plates` that the model reads right."""
    from ..recognizer import Recognizer

    rec = Recognizer(model, threads=1)
    crops, labels, centres = plates(n, seed, rec.input_size)
    probs = rec.predict_probs((crops[:, None] * np.float32(rec.scale)).astype(np.float32))
    steps, places = [], []
    for p, label, where in zip(probs, labels, centres):
        chars, at = emitted(p, rec.blank)
        if "".join(rec.alphabet[c] for c in chars) == label:
            steps.append(at)
            places.append(where)
    if len(steps) < n // 4:
        raise RuntimeError(f"the model read only {len(steps)} of {n} synthetic plates right: no calibration")
    steps, places = np.concatenate(steps), np.concatenate(places)
    t = probs.shape[1]
    knots = np.arange(2 * t + 1) / 2.0
    table = np.full(len(knots), np.nan)
    for k, at in enumerate(knots):
        here = places[steps == at]
        if len(here) >= 10:
            table[k] = np.median(here)
    seen = np.flatnonzero(~np.isnan(table))
    # Steps where (almost) nothing is emitted: between seen ones, in line with them; beyond, along a line fit.
    slope, offset = np.polyfit(steps, places, 1)
    inside = (knots >= knots[seen[0]]) & (knots <= knots[seen[-1]])
    table[inside] = np.interp(knots[inside], knots[seen], table[seen])
    table[~inside] = slope * knots[~inside] + offset
    return np.clip(np.maximum.accumulate(np.clip(table, 0.0, 1.0)), 0.0, 1.0).round(4).tolist()


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m fastplate.train.spans", description=__doc__.splitlines()[0])
    ap.add_argument("model", help="an ONNX recognizer")
    ap.add_argument("--config", default=None, help="the config to write step_positions into (default: the one "
                    "the Recognizer reads the model with: <stem>.json or recognizer.json next to it)")
    ap.add_argument("-n", type=int, default=2000, help="synthetic plates to measure on (default 2000)")
    args = ap.parse_args(argv)
    from ..errors import ModelError
    from ..recognizer import config_path

    if not os.path.isfile(args.model):
        ap.error(f"model file not found: {args.model}")
    config = args.config or config_path(args.model)
    if config is None or not os.path.isfile(config):
        ap.error(f"config file not found: {config or 'no <stem>.json or recognizer.json next to the model'}")
    if args.n < 100:
        ap.error("-n must be at least 100")
    try:
        with open(config) as f:
            cfg = json.load(f)
    except (OSError, ValueError) as exc:  # JSONDecodeError is a ValueError
        ap.error(f"config {config} cannot be read as JSON: {exc}")
    if not isinstance(cfg, dict):
        ap.error(f"config {config} is not a JSON object")
    try:
        table = calibrate(args.model, args.n)
    except (ModelError, RuntimeError) as exc:  # not a model; an untrained one
        ap.error(f"{args.model}: {exc}")
    cfg["step_positions"] = table
    with open(config, "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    print(f"{config}: step_positions from {args.n} synthetic plates")


if __name__ == "__main__":
    main()
