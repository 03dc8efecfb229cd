"""kernels.map_images: the same per-image work over 16 photos on 1 and on 2 threads.

Run: ``pytest benchmarks/bench_batch.py`` (``--benchmark-disable`` for a quick smoke run). The kernels
release the GIL, so on this 2-core machine 2 threads should give >= 1.7x the throughput of 1 (the
2-thread time <= 1 / 1.7 = 0.59x the 1-thread time). Other processes running at the same time lower it.
"""

import cv2
import pytest

from fastplate import kernels


@pytest.fixture(scope="module")
def grays(photo_loader):
    return [cv2.cvtColor(p, cv2.COLOR_BGR2GRAY) for p in photo_loader(16, size=(1280, 720))]


def binarize_and_label(image):
    """A typical per-frame job: Sauvola threshold, then connected components."""
    return kernels.connected_components(kernels.adaptive_threshold(image, 25, method="sauvola"), 8)


@pytest.mark.parametrize("threads", [1, 2])
def test_map_images(measure, grays, threads):
    targets = [("1 thread", 1 / 1.7)] if threads == 2 else []
    measure("batch-16x1280x720-sauvola+labels", f"{threads} thread{'s' * (threads > 1)}", kernels.map_images,
            binarize_and_label, grays, threads=threads, baseline=threads == 1, targets=targets)
