"""End-to-end reading speed: localization vs the same pipeline on OpenCV calls, reading, batch scaling.

Run: ``pytest benchmarks/bench_reader.py`` (``--benchmark-disable`` for a quick smoke run).

- group ``localize-1280x720``: our localizer (fastplate.kernels) vs the same localizer whose threshold and
  labelling run on ``cv2.adaptiveThreshold`` + ``cv2.connectedComponentsWithStats`` (the peer a user would
  chain together); the last test prints the time ratio.
- group ``read-1280x720``: the whole reader on one thread (needs the shipped model), and ``read_batch`` of
  8 frames on 1 and on 2 threads; the ratio of their throughputs is printed (target: >= 1.7x on 2 cores).
OpenALPR 2.3 needs 233 ms per 1280x720 frame on one core on this kind of machine (../shared/NOTES.md); that
figure is quoted, not measured here.
"""
import os
from importlib import resources

import cv2
import numpy as np
import pytest

from fastplate import kernels
from fastplate.localize import Localizer
from fastplate.samples import synthetic_scene

TIMES: dict = {}


class OpenCVLocalizer(Localizer):
    """The same localization with OpenCV doing the per-pixel work."""

    def rows_of_level(self, level):
        rows, feats = [], []
        from fastplate.localize import row_features

        block = max(3, min(self.block_size, min(level.shape) - 1 + min(level.shape) % 2))
        for invert in (False, True):
            c = self.contrast if invert else -self.contrast
            binary = cv2.adaptiveThreshold(level, 255, cv2.ADAPTIVE_THRESH_MEAN_C,
                                           cv2.THRESH_BINARY_INV if invert else cv2.THRESH_BINARY, block, c)
            _, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8, ltype=cv2.CV_32S)
            found = kernels.find_character_rows(stats.astype(np.int32), min_height=self.min_char_height,
                                                max_height=self.max_char_height, min_chars=3)
            found = [r for r in found if len(r.indices) <= self.max_chars]
            rows.extend(found)
            feats.append(row_features(found, stats))
        return rows, np.concatenate(feats)


@pytest.fixture(scope="module")
def frames():
    return [cv2.cvtColor(synthetic_scene(s, size=(720, 1280))[0], cv2.COLOR_BGR2GRAY) for s in range(8)]


def _record(benchmark, name):
    if benchmark.stats is not None:
        TIMES[name] = benchmark.stats.stats.min


@pytest.fixture(scope="module", autouse=True)
def single_threaded_cv2():
    previous = cv2.getNumThreads()
    cv2.setNumThreads(1)  # one core each, like ours
    yield
    cv2.setNumThreads(previous)


@pytest.mark.benchmark(group="localize-1280x720")
def test_localize_fastplate(benchmark, frames):
    loc = Localizer()
    benchmark(lambda: [loc(f) for f in frames])
    _record(benchmark, "localize-fastplate")


@pytest.mark.benchmark(group="localize-1280x720")
def test_localize_opencv(benchmark, frames):
    loc = OpenCVLocalizer()
    benchmark(lambda: [loc(f) for f in frames])
    _record(benchmark, "localize-opencv")


def _model_reader(threads):
    if not resources.files("fastplate.models").joinpath("recognizer.onnx").is_file():
        pytest.skip("the shipped recognizer model is not built yet")
    from fastplate import Reader

    return Reader("eu", threads=threads, recognizer_threads=threads)


@pytest.mark.benchmark(group="read-1280x720")
def test_read_one_thread(benchmark, frames):
    reader = _model_reader(1)
    benchmark(lambda: [reader.read(f) for f in frames])
    _record(benchmark, "read-1")


@pytest.mark.benchmark(group="read-1280x720")
def test_read_batch_two_threads(benchmark, frames):
    if (os.cpu_count() or 1) < 2:
        pytest.skip("needs 2 cores")
    reader = _model_reader(2)
    benchmark(lambda: reader.read_batch(frames))
    _record(benchmark, "read-batch-2")


def test_print_ratios():
    if "localize-fastplate" in TIMES and "localize-opencv" in TIMES:
        print(f"\nlocalize, 8 frames of 1280x720: fastplate {1000 * TIMES['localize-fastplate'] / 8:.1f} ms/frame, "
              f"same pipeline on OpenCV {1000 * TIMES['localize-opencv'] / 8:.1f} ms/frame, "
              f"ratio fastplate/OpenCV = {TIMES['localize-fastplate'] / TIMES['localize-opencv']:.2f}")
    if "read-1" in TIMES:
        per = 1000 * TIMES["read-1"] / 8
        print(f"read, one thread: {per:.1f} ms per 1280x720 frame (OpenALPR 2.3: 233 ms quoted, "
              f"{233 / per:.1f}x)")
    if "read-1" in TIMES and "read-batch-2" in TIMES:
        print(f"read_batch on 2 threads: {TIMES['read-1'] / TIMES['read-batch-2']:.2f}x one thread's throughput")
