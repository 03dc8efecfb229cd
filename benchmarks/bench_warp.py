"""normalize_batch: 32 plate quads of a 1920x1080 photo to the recognizer's input, single-threaded,
against the Python loop a user would otherwise write (per quad: cv2.getPerspectiveTransform,
cv2.warpPerspective, astype(float32) / 255).

Run: ``pytest benchmarks/bench_warp.py`` (``--benchmark-disable`` for a quick smoke run); the ratios are
printed at the end. Targets (issue 2): native >= 2x faster than the loop (<= 0.5x its time); Numba within
3x of native.
"""
import cv2
import numpy as np
import pytest

from fastplate import kernels

SIZES = [(32, 128), (48, 160)]


def plate_quads(image_shape, n=32, size=(48, 160), seed=0):
    """n plate-like quads scattered over the image, tilted a little (clockwise from top-left)."""
    rng = np.random.default_rng(seed)
    h, w = size
    corners = rng.uniform([0, 0], [image_shape[1] - w, image_shape[0] - h], (n, 1, 2))
    box = np.array([[0, 0], [w, 0], [w, h], [0, h]], float)
    return corners + box[None] + rng.normal(0, 6, (n, 4, 2))


def opencv_loop(image, quads, size):
    h, w = size
    target = np.float32([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]])
    out = []
    for quad in quads:
        m = cv2.getPerspectiveTransform(np.float32(quad), target)
        warped = cv2.warpPerspective(image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        out.append(warped.astype(np.float32) / 255)
    return out


@pytest.fixture(params=["bgr", "gray"])
def image(request, photo_bgr, photo_gray):
    return photo_bgr if request.param == "bgr" else photo_gray


@pytest.mark.parametrize("size", SIZES)
def test_opencv_loop(measure, image, size):
    quads = plate_quads(image.shape, size=size)
    group = f"warp-32x{size[0]}x{size[1]}-{'bgr' if image.ndim == 3 else 'gray'}"
    measure(group, "opencv loop", opencv_loop, image, quads, size, baseline=True)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("backend", ["native", "numba"])
def test_normalize_batch(measure, backend_named, image, size, backend):
    backend_named(backend)
    quads = plate_quads(image.shape, size=size)
    group = f"warp-32x{size[0]}x{size[1]}-{'bgr' if image.ndim == 3 else 'gray'}"
    targets = [("opencv loop", 0.5)] if backend == "native" else [("native", 3.0)]
    out = np.empty((32, 1 if image.ndim == 2 else 3) + size, np.float32)
    measure(group, backend, kernels.normalize_batch, image, quads, size, threads=1, out=out, targets=targets)
