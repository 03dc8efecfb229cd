"""Accuracy table of the recognizer on the validation splits: ``python -m fastplate.train.evaluate``.

For each set (us-crops, br-crops, scenes-eu crops, scenes-br crops; validation split of ``data.py``):
n, plate-level exact match strictly and with O/0 folded, on tight crops (the labelled box) and loose
crops (box grown 10-20% and shifted up to 5%, fixed seed) and small plates (the image first shrunk with
INTER_AREA so the plate is at most 64 px wide, as in parking-camera frames, then the tight box), for
fastplate and, side by side, the peer fast-plate-ocr cct-xs-v1-global (when ``shared/peers`` is present).
"""
from __future__ import annotations

import argparse
import json
import os
import time

import cv2
import numpy as np

from ..formats import fold_o0
from . import data as realdata

PEER_DIR = os.environ.get("FASTPLATE_PEERS", os.path.abspath(os.path.join(realdata.DATA_DIR, "..", "peers")))


class Peer:
    """fast-plate-ocr cct-xs-v1-global: uint8 (N, 64, 128, 3) RGB in, (N, 9, 37) slot probabilities out."""

    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_"

    def __init__(self, path=None, threads=1):
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        self.session = ort.InferenceSession(path or os.path.join(PEER_DIR, "cct_xs_v1_global.onnx"), so,
                                            providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def prepare(self, image, quad):
        """Warp the quad to 64x128 RGB (the peer resizes without keeping the aspect ratio)."""
        dst = np.array([[0, 0], [127, 0], [127, 63], [0, 63]], np.float32)
        m = cv2.getPerspectiveTransform(quad.astype(np.float32), dst)
        crop = cv2.warpPerspective(image, m, (128, 64), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        if crop.ndim == 2:
            crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)
        return cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)

    def run(self, batch):
        out = []
        for i in range(0, len(batch), 32):
            probs = self.session.run(None, {self.input_name: batch[i:i + 32]})[0]
            out.append(probs.reshape(len(batch[i:i + 32]), 9, len(self.alphabet)))
        best = np.concatenate(out).argmax(-1)
        return ["".join(self.alphabet[c] for c in row).replace("_", "") for row in best]


def score(pred, labels):
    strict = float(np.mean([p == t for p, t in zip(pred, labels)])) if labels else float("nan")
    folded = float(np.mean([fold_o0(p) == fold_o0(t) for p, t in zip(pred, labels)])) if labels else float("nan")
    return strict, folded


SMALL_WIDTH = 64


def shrink(sample, quad, width=SMALL_WIDTH):
    """The sample's image and quad with the image shrunk so the plate box is at most ``width`` px wide."""
    scale = min(1.0, width / sample.box[2])
    if scale >= 1.0:
        return sample.image, quad
    h, w = sample.image.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = cv2.resize(sample.image, size, interpolation=cv2.INTER_AREA)
    sx, sy = size[0] / w, size[1] / h
    return small, (quad + 0.5) * np.array([sx, sy]) - 0.5


def evaluate(recognizer, peer=None, sets=realdata.SETS, split="val", seed=0):
    """Return {set: {"n": n, "fastplate": {...}, "peer": {...}}} with tight/loose strict/folded accuracies."""
    results = {}
    for name in sets:
        samples = realdata.load_set(name, split, color=True)
        labels = [s.label for s in samples]
        rng = np.random.default_rng(seed)
        tight = [realdata.eval_quads(s, rng, False) for s in samples]
        pairs = {"tight": [(s.image, q) for s, q in zip(samples, tight)],
                 "loose": [(s.image, realdata.eval_quads(s, rng, True)) for s in samples],
                 "small": [shrink(s, q) for s, q in zip(samples, tight)]}
        row = {"n": len(samples), "fastplate": {}, "errors": []}
        for kind, pq in pairs.items():
            t = time.perf_counter()
            res = recognizer.recognize_quads_batch(pq)
            pred = [r[0].text for r in res]
            row["fastplate"][kind] = score(pred, labels)
            row["fastplate"][kind + "_seconds"] = time.perf_counter() - t
            if kind == "tight":
                row["errors"] = [(s.file, t_, p) for s, t_, p in zip(samples, labels, pred) if p != t_]
            if peer is not None:
                batch = np.stack([peer.prepare(im, q) for im, q in pq])
                row.setdefault("peer", {})[kind] = score(peer.run(batch), labels)
        results[name] = row
    return results


def format_table(results):
    has_peer = any("peer" in r for r in results.values())
    kinds = ("tight", "loose", "small")
    head = "| set | n |" + "".join(f" fastplate {k} | fastplate {k} O/0 |" for k in kinds)
    if has_peer:
        head += "".join(f" peer {k} | peer {k} O/0 |" for k in kinds)
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for name, r in results.items():
        f = r["fastplate"]
        cells = [name, str(r["n"])] + [f"{100 * v:.1f}" for k in kinds for v in f[k]]
        if "peer" in r:
            cells += [f"{100 * v:.1f}" for k in kinds for v in r["peer"][k]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    from ._args import number

    ap = argparse.ArgumentParser(prog="python -m fastplate.train.evaluate", description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="ONNX file (default: the shipped model); 'int8' for the shipped int8")
    ap.add_argument("--split", default="val", choices=["val", "train", "all"])
    ap.add_argument("--sets", nargs="*", default=list(realdata.SETS), choices=realdata.SETS, metavar="SET",
                    help=f"some of {', '.join(realdata.SETS)} (default: all)")
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--threads", type=number(int, 1), default=1)
    ap.add_argument("--errors", action="store_true", help="list the tight-crop misreads")
    ap.add_argument("--json", default=None, help="also write the results to this file")
    ap.add_argument("--antialias", choices=("on", "off"), default=None,
                    help="Recognizer(antialias=...) (default: the Recognizer's)")
    args = ap.parse_args(argv)
    from ..errors import ModelError
    from ..recognizer import Recognizer

    extra = {} if args.antialias is None else {"antialias": args.antialias == "on"}
    try:
        rec = Recognizer(args.model, device="cpu", threads=args.threads, **extra)
    except ModelError as exc:
        ap.error(f"--model: {exc}")
    if args.json:
        from ._args import output_file

        output_file(ap, args.json, "--json")  # now, not after the evaluation
    if realdata.data_error(sets=args.sets):
        ap.error(realdata.data_error(sets=args.sets))
    peer = None
    if not args.no_peer:
        if os.path.exists(os.path.join(PEER_DIR, "cct_xs_v1_global.onnx")):
            peer = Peer(threads=args.threads)
        else:
            print(f"peer model not found in {PEER_DIR}: peer columns skipped")
    results = evaluate(rec, peer, args.sets, None if args.split == "all" else args.split)
    print(f"model: {rec.model_name}; split: {args.split}; exact match in % (strict, and with O/0 folded)")
    print(format_table(results))
    if args.errors:
        for name, r in results.items():
            for file, label, pred in r["errors"]:
                print(f"{name}\t{file}\t{label}\t{pred}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1, default=str)


if __name__ == "__main__":
    main()
