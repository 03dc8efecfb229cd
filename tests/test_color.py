"""to_gray: exact parity with cv2.cvtColor (all 2^24 colours), both backends, views, out=, errors."""
import cv2
import numpy as np
import pytest

from fastplate import kernels

import reference


@pytest.fixture(scope="module")
def all_colours():
    """Every BGR colour once: a (4096, 4096, 3) image."""
    values = np.arange(1 << 24, dtype=np.uint32)
    bgr = np.stack([values & 255, (values >> 8) & 255, values >> 16], axis=-1).astype(np.uint8)
    return bgr.reshape(4096, 4096, 3)


def test_to_gray_equals_opencv_on_every_colour(backend, all_colours):
    np.testing.assert_array_equal(kernels.to_gray(all_colours), cv2.cvtColor(all_colours, cv2.COLOR_BGR2GRAY))


@pytest.mark.parametrize("shape", [(1, 1), (1, 37), (37, 1), (3, 3), (121, 97)])
def test_to_gray_bgra_equals_opencv(backend, rng, shape):
    image = rng.integers(0, 256, shape + (4,), dtype=np.uint8)
    expected = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    np.testing.assert_array_equal(kernels.to_gray(image), expected)
    np.testing.assert_array_equal(kernels.to_gray(image), reference.to_gray(image))


def test_to_gray_backends_agree(rng):
    image = rng.integers(0, 256, (53, 71, 3), dtype=np.uint8)
    results = []
    for name in ("native", "numba"):
        previous = kernels.backend
        kernels.use_backend(name)
        try:
            results.append(kernels.to_gray(image))
        finally:
            kernels.use_backend(previous)
    np.testing.assert_array_equal(results[0], results[1])


def test_to_gray_gray_input_is_copied(backend, rng):
    gray = rng.integers(0, 256, (9, 11), dtype=np.uint8)
    out = kernels.to_gray(gray)
    np.testing.assert_array_equal(out, gray)
    assert out is not gray
    np.testing.assert_array_equal(kernels.to_gray(gray[:, :, None]), gray)


def test_to_gray_strided_views(backend, rng):
    image = rng.integers(0, 256, (40, 60, 4), dtype=np.uint8)
    for view in (image[::2, 1:, :3], image[::-1, ::3, 1:], image[:, :, :3].transpose(1, 0, 2)):
        np.testing.assert_array_equal(kernels.to_gray(view), cv2.cvtColor(np.ascontiguousarray(view), cv2.COLOR_BGR2GRAY))


def test_to_gray_writes_into_out(backend, rng):
    image = rng.integers(0, 256, (8, 9, 3), dtype=np.uint8)
    out = np.zeros((8, 9), np.uint8)
    assert kernels.to_gray(image, out=out) is out
    np.testing.assert_array_equal(out, reference.to_gray(image))


def test_to_gray_out_must_not_overlap_the_image(backend):
    image = np.zeros((8, 9, 3), np.uint8)
    with pytest.raises(ValueError, match="out must not share memory with image"):
        kernels.to_gray(image, out=image.reshape(-1)[:72].reshape(8, 9))


@pytest.mark.parametrize(
    "image, error, match",
    [
        (np.zeros((4, 4, 3), np.float32), TypeError, "image must have dtype uint8, got float32"),
        ([[1, 2], [3, 4]], TypeError, "image must be a numpy.ndarray of uint8, got list"),
        (np.zeros((4, 4, 2), np.uint8), ValueError, "image must have 1 or 3 or 4 channels"),
        (np.zeros((2, 4, 4, 3), np.uint8), ValueError, r"image must be 2-D or 3-D, got shape \(2, 4, 4, 3\)"),
        (np.zeros((0, 4, 3), np.uint8), ValueError, "image must not be empty"),
    ],
)
def test_to_gray_rejects_bad_image(backend, image, error, match):
    with pytest.raises(error, match=match):
        kernels.to_gray(image)


@pytest.mark.parametrize(
    "out, error, match",
    [
        (np.zeros((4, 5), np.int32), ValueError, "out must have dtype uint8"),
        (np.zeros((5, 4), np.uint8), ValueError, r"out must have shape \(4, 5\)"),
        (np.zeros((4, 10), np.uint8)[:, ::2], ValueError, "out must be C-contiguous"),
        ([0] * 20, TypeError, "out must be a numpy.ndarray or None"),
    ],
)
def test_to_gray_rejects_bad_out(backend, out, error, match):
    with pytest.raises(error, match=match):
        kernels.to_gray(np.zeros((4, 5, 3), np.uint8), out=out)


def test_to_gray_rejects_read_only_out(backend):
    out = np.zeros((4, 5), np.uint8)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="out must be writeable"):
        kernels.to_gray(np.zeros((4, 5, 3), np.uint8), out=out)
