"""Shared benchmark fixtures: a real 1920x1080 photo, single-threaded OpenCV, and `measure`, which times
one call in a pytest-benchmark group and prints, at the end of the session, each implementation's time
as a ratio to the group's baseline (OpenCV or another peer) and to the targets it declares.

``pytest benchmarks/ --benchmark-disable`` runs every benchmark once as a smoke test (no ratios).
"""
import os
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
import pytest

DATA = Path(os.environ.get("FASTPLATE_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"))

# group -> implementation -> (min seconds, baseline?, targets)
RESULTS: dict = defaultdict(dict)


def load_photos(count, size=(1920, 1080)):
    """`count` real BGR scenes resized to `size` (w, h), or synthetic scenes when the data is absent (CI)."""
    files = sorted((DATA / "scenes-br").glob("*.jpg"))[:count]
    photos = [cv2.imread(str(f), cv2.IMREAD_COLOR) for f in files]
    photos = [p for p in photos if p is not None]
    if len(photos) < count:
        from fastplate.samples import synthetic_scene

        extra = [synthetic_scene(seed=s)[0] for s in range(count - len(photos))]
        photos += [p if p.ndim == 3 else cv2.cvtColor(p, cv2.COLOR_GRAY2BGR) for p in extra]
    return [cv2.resize(p, size, interpolation=cv2.INTER_LINEAR) for p in photos]


@pytest.fixture(scope="session")
def photo_loader():
    """load_photos, for benchmarks that need several photos."""
    return load_photos


@pytest.fixture(scope="session")
def photo_bgr():
    """One real 1920x1080 BGR photo (a 1280x1280 scene resized)."""
    return load_photos(1)[0]


@pytest.fixture(scope="session")
def photo_gray(photo_bgr):
    return cv2.cvtColor(photo_bgr, cv2.COLOR_BGR2GRAY)


@pytest.fixture(autouse=True)
def opencv_single_thread():
    """The targets compare single-threaded code: OpenCV would otherwise use every core."""
    previous = cv2.getNumThreads()
    cv2.setNumThreads(1)
    yield
    cv2.setNumThreads(previous)


@pytest.fixture
def backend_named():
    """Switch fastplate.kernels to a backend for one benchmark, restoring the previous one afterwards."""
    from fastplate import kernels

    previous = kernels.backend

    def use(name):
        try:
            kernels.use_backend(name)
        except ImportError as exc:
            pytest.skip(f"{name} backend unavailable: {exc}")

    yield use
    kernels.use_backend(previous)


@pytest.fixture
def measure(benchmark):
    """measure(group, name, func, *args, baseline=False, targets=(), **kwargs) -> func's result.

    Calls func once first (Numba JIT, caches), then benchmarks it. `targets` are (other implementation
    in the group, largest allowed time ratio) pairs, e.g. ("opencv", 1.0) for "at most OpenCV's time".
    """

    def run(group, name, func, *args, baseline=False, targets=(), **kwargs):
        benchmark.group = group
        benchmark.extra_info.update(implementation=name, baseline=baseline)
        func(*args, **kwargs)
        result = benchmark(func, *args, **kwargs)
        if getattr(benchmark, "stats", None) is not None:  # None under --benchmark-disable
            RESULTS[group][name] = (benchmark.stats.stats.min, baseline, tuple(targets))
        return result

    return run


def pytest_terminal_summary(terminalreporter):
    if not RESULTS:
        return
    write = terminalreporter.write_line
    terminalreporter.section("fastplate: time ratios (min of rounds; < 1 is faster)")
    for group, entries in sorted(RESULTS.items()):
        base = next((name for name, (_, is_base, _) in entries.items() if is_base), None)
        write(f"{group}:")
        for name, (seconds, is_base, targets) in sorted(entries.items(), key=lambda e: e[1][0]):
            line = f"    {name:<28} {seconds * 1e3:9.3f} ms"
            if base is not None and not is_base:
                line += f"  {seconds / entries[base][0]:6.2f}x {base}"
            for other, limit in targets:
                if other in entries:
                    ratio = seconds / entries[other][0]
                    verdict = "ok" if ratio <= limit else "MISSED"
                    line += f"  [{ratio:.2f}x {other}, target <= {limit}: {verdict}]"
            write(line)


def random_like(shape, seed=0):
    """Smoothed noise of a given shape, for benchmarks that need no photo."""
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(rng.integers(0, 256, shape, dtype=np.uint8), (0, 0), 2)
