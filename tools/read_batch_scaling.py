"""How much faster ``Reader.read_batch`` reads on two threads than on one, on real-looking frames.

Run: ``python tools/read_batch_scaling.py [--rounds 3]`` (needs ``../shared/data``). The frames are 16 US
stand-in frames (``tools/parking_set.py``, val split), the first 8 scenes-eu photos and the first 8
scenes-br photos. Each round times ``read_batch`` of all 32 frames with one thread (one recognizer thread)
and with two (fastest of 3 calls each) and prints the throughput ratio; the issue's target is 1.7x.
``benchmarks/bench_reader.py`` measures the same on synthetic frames without the data.
Run it on an otherwise idle machine: a busy second core makes the ratio meaningless.
"""
from __future__ import annotations

import argparse
import glob
import itertools
import os
import sys
import time

import cv2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import parking_set  # noqa: E402

from fastplate import Reader  # noqa: E402
from fastplate.train.data import DATA_DIR  # noqa: E402


def frames(data_dir=DATA_DIR):
    """32 gray frames: 16 stand-in frames (1280x720), 8 scenes-eu and 8 scenes-br photos."""
    us = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY)
          for _, f, _, _ in itertools.islice(parking_set.generate("val", data_dir=data_dir), 16)]
    scenes = []
    for name in ("scenes-eu", "scenes-br"):
        files = sorted(glob.glob(os.path.join(data_dir, name, "*.jpg")))[:8]
        scenes += [cv2.imread(f, cv2.IMREAD_GRAYSCALE) for f in files]
    return us + scenes


def fastest(reader, images, calls=3):
    best = float("inf")
    for _ in range(calls):
        t = time.perf_counter()
        reader.read_batch(images)
        best = min(best, time.perf_counter() - t)
    return best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    images = frames()
    one = Reader("us", threads=1, recognizer_threads=1)
    two = Reader("us", threads=2)
    fastest(two, images, 1)  # warm-up: sessions, thread pools
    for _ in range(args.rounds):
        t1, t2 = fastest(one, images), fastest(two, images)
        print(f"{len(images)} frames: 1 thread {len(images) / t1:.1f} images/s, "
              f"2 threads {len(images) / t2:.1f} images/s: {t1 / t2:.2f}x", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
