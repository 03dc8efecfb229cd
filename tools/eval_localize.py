"""Candidate recall of fastplate.localize on labelled scenes (OpenALPR benchmark layout).

A label is found when some candidate's box has IoU > 0.4 with it, or covers its characters (the label box
shrunk by 10% in x and 20% in y lies inside the candidate box, and the candidate is at most 4x its area).

    python tools/eval_localize.py ../shared/data/scenes-eu ../shared/data/scenes-br [--part 0/2]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from fastplate.cli import read_benchmark_labels
from fastplate.localize import Localizer, box_iou


def covers(cand, label):
    x, y, w, h = label
    inner = (x + 0.1 * w, y + 0.2 * h, 0.8 * w, 0.6 * h)
    cx, cy, cw, ch = cand
    inside = cx <= inner[0] and cy <= inner[1] and cx + cw >= inner[0] + inner[2] and cy + ch >= inner[1] + inner[3]
    return inside and cw * ch <= 4 * w * h


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--part", default=None, help="k/n: use every n-th image starting at k")
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args(argv)
    loc = Localizer()
    for folder in args.folders:
        items = [(p, labels) for p, labels in read_benchmark_labels(Path(folder)) if labels]
        if args.part:
            k, n = map(int, args.part.split("/"))
            items = items[k::n]
        found = total = ncand = 0
        ious, times, misses = [], [], []
        for path, labels in items:
            img = cv2.imread(str(path))
            t = time.perf_counter()
            cands = loc(img)
            times.append(time.perf_counter() - t)
            ncand += len(cands)
            for box, text in labels:
                total += 1
                best = max((box_iou(c.box, box) for c in cands), default=0.0)
                hit = best > 0.4 or any(covers(c.box, box) for c in cands)
                found += hit
                ious.append(best)
                if not hit:
                    misses.append((path.name, text, round(best, 2)))
        print(f"{folder}: recall {found}/{total} = {found / max(total, 1):.1%}, candidates/image "
              f"{ncand / max(len(items), 1):.1f}, median IoU {np.median(ious):.2f}, "
              f"median {1000 * np.median(times):.1f} ms, p90 {1000 * np.percentile(times, 90):.1f} ms")
        if args.show_misses:
            print("  misses:", misses)


if __name__ == "__main__":
    main()
