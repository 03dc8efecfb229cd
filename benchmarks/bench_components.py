"""connected_components vs cv2.connectedComponentsWithStats, single-threaded, on a binarized 1920x1080 photo.

Run: ``pytest benchmarks/bench_components.py`` (``--benchmark-disable`` for a quick smoke run).
Each group holds ours (native and Numba; native-stats is ``component_stats``, the same statistics without
the label image) and OpenCV for one polarity and connectivity; the last test
prints time ratios against OpenCV (target: native <= 1.0x, Numba within 3x of native).
"""
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from fastplate import kernels

DATA = Path(os.environ.get("FASTPLATE_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"))
TIMES: dict = {}  # (group, implementation) -> min seconds


def photo_1920x1080():
    """A real 16:9 street photo upscaled to 1920x1080, or smoothed noise when the data is absent."""
    for path in sorted((DATA / "scenes-br").glob("*.jpg")):
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if image is not None and image.shape == (720, 1280):
            return cv2.resize(image, (1920, 1080), interpolation=cv2.INTER_LINEAR)
    rng = np.random.default_rng(0)
    return cv2.GaussianBlur((rng.random((1080, 1920)) * 255).astype(np.uint8), (0, 0), 3)


@pytest.fixture(scope="module")
def binaries():
    photo = photo_1920x1080()
    # Pixel-identical to kernels.adaptive_threshold(photo, 15, 5, method="mean", invert=...) (tested in
    # tests/test_threshold.py); OpenCV here keeps this benchmark about labelling only.
    return {
        "dark-on-light": cv2.adaptiveThreshold(photo, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 15, 5),
        "light-on-dark": cv2.adaptiveThreshold(photo, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 15, 5),
    }


@pytest.fixture(scope="module", autouse=True)
def single_thread():
    previous = cv2.getNumThreads()
    cv2.setNumThreads(1)
    yield
    cv2.setNumThreads(previous)


def run(benchmark, group, implementation, func, *args):
    benchmark.group = group
    benchmark.extra_info["implementation"] = implementation
    result = benchmark(func, *args)
    if benchmark.stats is not None:  # None under --benchmark-disable
        TIMES[(group, implementation)] = benchmark.stats.stats.min
    return result


CASES = [(polarity, connectivity) for polarity in ("dark-on-light", "light-on-dark") for connectivity in (8, 4)]


@pytest.mark.parametrize("polarity, connectivity", CASES)
@pytest.mark.parametrize("implementation", ["opencv", "native", "numba", "native-stats"])
def test_connected_components(benchmark, binaries, polarity, connectivity, implementation):
    binary = binaries[polarity]
    group = f"connected_components-{connectivity}-{polarity}-1920x1080"
    if implementation == "opencv":
        n = run(benchmark, group, implementation,
                lambda: cv2.connectedComponentsWithStats(binary, connectivity=connectivity, ltype=cv2.CV_32S))[0]
    else:
        previous = kernels.backend
        try:
            kernels.use_backend(implementation.split("-")[0])
        except ImportError as exc:
            pytest.skip(f"{implementation} backend unavailable: {exc}")
        try:
            out = np.empty(binary.shape, np.int32)
            if implementation.endswith("-stats"):  # component_stats: the same statistics, no label image
                def call():
                    return kernels.component_stats(binary, connectivity, order="opencv")
            else:
                def call():
                    return kernels.connected_components(binary, connectivity, order="opencv", out=out)
            call()  # JIT warm-up
            n = run(benchmark, group, implementation, call)[0]
        finally:
            kernels.use_backend(previous)
    # The timed call must do the same work as OpenCV's.
    assert n == cv2.connectedComponentsWithStats(binary, connectivity=connectivity)[0]


def test_print_ratios(capsys):
    """Print each implementation's time as a multiple of OpenCV's in the same group."""
    lines = []
    for (group, implementation), seconds in sorted(TIMES.items()):
        baseline = TIMES.get((group, "opencv"))
        if implementation != "opencv" and baseline:
            lines.append(f"{group:48s} {implementation:12s} {seconds * 1e3:7.2f} ms  "
                         f"{seconds / baseline:5.2f}x cv2.connectedComponentsWithStats ({baseline * 1e3:.2f} ms)")
    with capsys.disabled():
        print("\n" + ("\n".join(lines) if lines else "connected_components: no timings (benchmarks disabled)"))
