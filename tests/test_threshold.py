"""adaptive_threshold: OpenCV parity (mean exact, gaussian >= 99.99%), Sauvola/Wolf against the NumPy
reference and scikit-image, both backends, views, out=, errors."""
import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastplate import kernels

import reference

ODD_SHAPES = [(1, 1), (1, 23), (23, 1), (3, 3), (2, 5), (37, 53), (1081, 1919)]


def opencv(image, method, block_size, c, invert):
    kind = cv2.ADAPTIVE_THRESH_MEAN_C if method == "mean" else cv2.ADAPTIVE_THRESH_GAUSSIAN_C
    mode = cv2.THRESH_BINARY_INV if invert else cv2.THRESH_BINARY
    return cv2.adaptiveThreshold(image, 255, kind, mode, block_size, c)


def random_image(rng, shape, smooth=False):
    image = rng.integers(0, 256, shape, dtype=np.uint8)
    if smooth and min(shape) > 8:  # smooth images have many pixels near their local mean: a harder test
        image = cv2.GaussianBlur(image, (9, 9), 0)
    return image


# ---------------------------------------------------------------------------------------------- mean
@pytest.mark.parametrize("shape", ODD_SHAPES)
@pytest.mark.parametrize("invert", [False, True])
def test_mean_equals_opencv_on_odd_shapes(backend, rng, shape, invert):
    image = random_image(rng, shape, smooth=True)
    for block_size in (3, 15, 31):
        for c in (5.0, 0.0, -3.5, 2.2, 0.5):
            expected = opencv(image, "mean", block_size, c, invert)
            got = kernels.adaptive_threshold(image, block_size, c, method="mean", invert=invert)
            np.testing.assert_array_equal(got, expected, err_msg=f"block_size={block_size} c={c}")


@pytest.mark.parametrize("block_size", [5, 41, 257, 259, 2049, 4097])
def test_mean_equals_opencv_with_blocks_larger_than_the_image(backend, rng, block_size):
    # 257/259 and 2049 cross the native backend's switches of integer width.
    image = random_image(rng, (29, 47))
    for c, invert in ((3.0, False), (-1.5, True), (300.0, False), (-300.0, True)):
        expected = opencv(image, "mean", block_size, c, invert)
        np.testing.assert_array_equal(kernels.adaptive_threshold(image, block_size, c, invert=invert), expected)


def test_mean_equals_opencv_on_photos(backend, photos):
    for photo in photos:
        for block_size, c, invert in ((15, 5.0, False), (25, 7.0, True), (51, -2.0, False)):
            expected = opencv(photo, "mean", block_size, c, invert)
            np.testing.assert_array_equal(kernels.adaptive_threshold(photo, block_size, c, invert=invert), expected)


def test_mean_equals_reference(backend, rng):
    image = random_image(rng, (31, 43))
    for block_size, c in ((3, 0.0), (9, 2.5), (61, -4.0)):
        for invert in (False, True):
            expected = reference.threshold_mean(image, block_size, c, invert)
            got = kernels.adaptive_threshold(image, block_size, c, invert=invert)
            np.testing.assert_array_equal(got, expected)


# ------------------------------------------------------------------------------------------ gaussian
def test_gaussian_matches_opencv_on_photos(backend, photos):
    # OpenCV 5 blurs in float32 with SIMD/FMA rounding of its own: a pixel at an exact tie may flip.
    for photo in photos:
        for block_size, c, invert in ((11, 5.0, False), (21, 0.0, True), (31, -2.5, False)):
            expected = opencv(photo, "gaussian", block_size, c, invert)
            got = kernels.adaptive_threshold(photo, block_size, c, method="gaussian", invert=invert)
            assert np.mean(got == expected) >= 0.9999


@pytest.mark.parametrize("shape", [(1, 23), (23, 1), (3, 3), (37, 53)])
def test_gaussian_matches_opencv_on_odd_shapes(backend, rng, shape):
    image = random_image(rng, shape, smooth=True)
    for block_size in (3, 7, 9, 15, 51):
        for c in (0.0, 3.0, -2.5):
            expected = opencv(image, "gaussian", block_size, c, False)
            got = kernels.adaptive_threshold(image, block_size, c, method="gaussian")
            # a tiny image has no room for 99.99%: at most one flipped pixel
            assert np.sum(got != expected) <= max(1, int(1e-4 * image.size))


def test_gaussian_kernel_equals_opencv():
    from fastplate._numba.threshold import gaussian_kernel

    for n in (3, 5, 7, 9, 11, 15, 31, 101):
        np.testing.assert_array_equal(gaussian_kernel(n), cv2.getGaussianKernel(n, 0, cv2.CV_32F).ravel())
        np.testing.assert_allclose(reference.gaussian_kernel(n), gaussian_kernel(n), rtol=1e-6)


def test_gaussian_matches_reference(backend, rng):
    image = random_image(rng, (40, 57), smooth=True)
    for block_size in (5, 13):
        expected = reference.threshold_gaussian(image, block_size, 1.0)
        got = kernels.adaptive_threshold(image, block_size, 1.0, method="gaussian")
        assert np.sum(got != expected) <= 1


# ------------------------------------------------------------------------------------- Sauvola, Wolf
def assert_equal_except_ties(got, expected, image, threshold):
    """Equal, except where the pixel lies within rounding of the threshold (the kernels decide without a
    square root, the reference with one)."""
    differ = got != expected
    assert np.all(np.abs(image[differ] - threshold[differ]) < 1e-9), "mismatch away from a tie"
    assert differ.mean() <= 1e-4


@pytest.mark.parametrize("method", ["sauvola", "wolf"])
@pytest.mark.parametrize("shape", [(1, 1), (1, 23), (23, 1), (3, 3), (37, 53), (120, 161)])
def test_local_contrast_equals_reference(backend, rng, method, shape):
    image = random_image(rng, shape, smooth=True)
    ref = reference.threshold_sauvola if method == "sauvola" else reference.threshold_wolf
    for block_size in (3, 15, 31, 183):  # 183: the native backend's wide-sum path
        for k in (0.2, 0.5, -0.3):
            for invert in (False, True):
                expected, threshold = ref(image, block_size, k, invert)
                got = kernels.adaptive_threshold(image, block_size, method=method, k=k, invert=invert)
                assert_equal_except_ties(got, expected, image, threshold)


@pytest.mark.parametrize("method", ["sauvola", "wolf"])
def test_local_contrast_equals_reference_on_photos(backend, photos, method):
    ref = reference.threshold_sauvola if method == "sauvola" else reference.threshold_wolf
    for photo in photos[:3]:
        expected, threshold = ref(photo, 25, 0.3)
        got = kernels.adaptive_threshold(photo, 25, method=method, k=0.3)
        assert_equal_except_ties(got, expected, photo, threshold)


def test_wolf_on_a_flat_image(backend):
    # R = 0: the deviation term vanishes and T = (1 - k) m + k M = the grey value itself.
    flat = np.full((12, 17), 90, np.uint8)
    np.testing.assert_array_equal(kernels.adaptive_threshold(flat, 5, method="wolf"), 0)
    np.testing.assert_array_equal(kernels.adaptive_threshold(flat, 5, method="wolf", invert=True), 255)


def test_sauvola_matches_scikit_image_inside(backend, photos):
    skimage_filters = pytest.importorskip("skimage.filters")
    # skimage pads with 'reflect', we replicate: compare where the window stays inside the image.
    for photo in photos[:3]:
        for window, k in ((15, 0.2), (31, 0.4)):
            r = window // 2
            expected = photo > skimage_filters.threshold_sauvola(photo, window_size=window, k=k)
            got = kernels.adaptive_threshold(photo, window, method="sauvola", k=k) == 255
            inside = (slice(r, -r), slice(r, -r))
            assert np.mean(got[inside] == expected[inside]) >= 0.9999


# ------------------------------------------------------------------------------------------- all
@pytest.mark.parametrize("method", list(kernels.THRESHOLD_METHODS))
def test_backends_agree(rng, method):
    image = random_image(rng, (97, 131), smooth=True)
    results = []
    for name in ("native", "numba"):
        previous = kernels.backend
        kernels.use_backend(name)
        try:
            results.append([kernels.adaptive_threshold(image, b, c, method=method, k=k, invert=inv)
                            for b, c, k, inv in ((3, 0.0, 0.2, False), (15, 4.5, 0.5, True), (201, -2.0, -0.1, False))])
        finally:
            kernels.use_backend(previous)
    for native, numba in zip(*results):
        np.testing.assert_array_equal(native, numba)


@pytest.mark.parametrize("method", list(kernels.THRESHOLD_METHODS))
def test_strided_views_and_out(backend, rng, method):
    image = random_image(rng, (60, 80), smooth=True)
    for view in (image[::2, 1:], image[::-1, ::-3], image.T):
        expected = kernels.adaptive_threshold(np.ascontiguousarray(view), 7, 2.0, method=method)
        out = np.empty(view.shape, np.uint8)
        assert kernels.adaptive_threshold(view, 7, 2.0, method=method, out=out) is out
        np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("method", list(kernels.THRESHOLD_METHODS))
def test_in_place(backend, rng, method):
    # out=image replaces the image with its threshold, as cv2.adaptiveThreshold(src, ..., dst=src) does;
    # the windows must still read the original pixels.
    image = random_image(rng, (120, 160), smooth=True)
    expected = kernels.adaptive_threshold(image.copy(), 15, 2.0, method=method)
    assert kernels.adaptive_threshold(image, 15, 2.0, method=method, out=image) is image
    np.testing.assert_array_equal(image, expected)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.integers(1, 30), st.integers(1, 30), st.integers(0, 2**32 - 1),
    st.sampled_from(list(kernels.THRESHOLD_METHODS)), st.integers(1, 20), st.integers(-10, 10),
)
def test_invert_is_the_complement_for_integer_c(backend, h, w, seed, method, half, c):
    # With an integer c, ceil(c) == floor(c): inverting swaps exactly the two classes.
    image = np.random.default_rng(seed).integers(0, 256, (h, w), dtype=np.uint8)
    block_size = 2 * half + 1
    plain = kernels.adaptive_threshold(image, block_size, c, method=method)
    inverted = kernels.adaptive_threshold(image, block_size, c, method=method, invert=True)
    assert set(np.unique(plain)) <= {0, 255}
    np.testing.assert_array_equal(inverted, 255 - plain)


# ---------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(image=np.zeros((8, 8), np.float32)), TypeError, "image must have dtype uint8, got float32"),
        (dict(image="photo.jpg"), TypeError, "image must be a numpy.ndarray of uint8, got str"),
        (dict(image=np.zeros((8, 8, 3), np.uint8)), ValueError, r"image must be 2-D, got shape \(8, 8, 3\)"),
        (dict(image=np.zeros((0, 8), np.uint8)), ValueError, "image must not be empty"),
        (dict(block_size=4), ValueError, "block_size must be odd, got 4"),
        (dict(block_size=1), ValueError, "block_size must be >= 3 and odd, got 1"),
        (dict(block_size=1 << 16 | 1), ValueError, "block_size must be <= 32767"),
        (dict(block_size=15.0), TypeError, "block_size must be an int, got float"),
        (dict(block_size=True), TypeError, "block_size must be an int, got bool"),
        (dict(c=float("nan")), ValueError, "c must be finite, got nan"),
        (dict(c="5"), TypeError, "c must be a real number, got str"),
        (dict(k=float("inf")), ValueError, "k must be finite, got inf"),
        (dict(c=10**400), ValueError, "c must be finite, got a number too large"),  # once an OverflowError
        (dict(k=-10**400), ValueError, "k must be finite, got a number too large"),
        (dict(method="otsu"), ValueError, "method must be one of 'mean', 'gaussian', 'sauvola', 'wolf'; got 'otsu'"),
        (dict(out=np.zeros((8, 8), np.int16)), ValueError, "out must have dtype uint8, got int16"),
        (dict(out=np.zeros((8, 9), np.uint8)), ValueError, r"out must have shape \(8, 8\), got \(8, 9\)"),
        (dict(out=np.zeros((8, 16), np.uint8)[:, ::2]), ValueError, "out must be C-contiguous"),
    ],
)
def test_adaptive_threshold_rejects_bad_arguments(backend, kwargs, error, match):
    args = dict(image=np.zeros((8, 8), np.uint8), block_size=3, c=5.0, method="mean", k=0.2, out=None)
    args.update(kwargs)
    image = args.pop("image")
    with pytest.raises(error, match=match):
        kernels.adaptive_threshold(image, **args)
