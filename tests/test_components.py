"""connected_components: identical to cv2.connectedComponentsWithStats (labels, stats, centroids) and to a
flood-fill reference, in both backends."""
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from fastplate import kernels

from reference_components import connected_components as reference

CONNECTIVITIES = [4, 8]


def cc(*args, **kwargs):
    """The kernel in OpenCV's label order (what these parity tests compare)."""
    return kernels.connected_components(*args, order="opencv", **kwargs)


def opencv(binary, connectivity):
    return cv2.connectedComponentsWithStats(binary, connectivity=connectivity, ltype=cv2.CV_32S)


def assert_same(ours, theirs):
    n, labels, stats, centroids = ours
    m, labels_ref, stats_ref, centroids_ref = theirs
    assert n == m
    np.testing.assert_array_equal(labels, labels_ref)
    np.testing.assert_array_equal(stats, stats_ref)
    np.testing.assert_allclose(centroids, centroids_ref, rtol=0, atol=1e-9, equal_nan=True)


def same_partition(a, b):
    """True when label images a and b differ only by a renumbering (a bijection of label values)."""
    pairs = np.unique(np.stack([a.ravel(), b.ravel()]), axis=1)
    return pairs.shape[1] == np.unique(a).size == np.unique(b).size


def binarized(photo, invert):
    mode = cv2.THRESH_BINARY_INV if invert else cv2.THRESH_BINARY
    return cv2.adaptiveThreshold(photo, 255, cv2.ADAPTIVE_THRESH_MEAN_C, mode, 15, 5)


def special_images():
    checker = (np.indices((7, 9)).sum(axis=0) % 2).astype(np.uint8)
    stripes = np.zeros((6, 11), np.uint8)
    stripes[:, ::2] = 255
    return {
        "all-zero": np.zeros((5, 7), np.uint8),
        "all-one": np.full((5, 7), 255, np.uint8),
        "single-pixel-on": np.ones((1, 1), np.uint8),
        "single-pixel-off": np.zeros((1, 1), np.uint8),
        "checkerboard": checker * 255,
        "checkerboard-inverted": (1 - checker) * 255,
        "stripes": stripes,
        "diagonal": np.eye(9, dtype=np.uint8),
        "anti-diagonal": np.eye(9, dtype=np.uint8)[::-1].copy(),
        "values-not-255": np.array([[0, 1, 2, 0], [0, 0, 7, 0], [3, 0, 0, 9]], np.uint8),
    }


# ------------------------------------------------------------------------------------- parity with OpenCV
@pytest.mark.parametrize("connectivity", CONNECTIVITIES)
@pytest.mark.parametrize("invert", [False, True])
def test_real_photos_equal_opencv(backend, photos, connectivity, invert):
    for photo in photos:
        binary = binarized(photo, invert)
        assert_same(cc(binary, connectivity), opencv(binary, connectivity))


@pytest.mark.parametrize("connectivity", CONNECTIVITIES)
@pytest.mark.parametrize("name", list(special_images()))
def test_special_images_equal_opencv_and_reference(backend, name, connectivity):
    binary = special_images()[name]
    ours = cc(binary, connectivity)
    assert_same(ours, opencv(binary, connectivity))
    assert_same(ours, reference(binary, connectivity))


def test_checkerboard_components_count(backend):
    binary = special_images()["checkerboard"]
    assert cc(binary, 4)[0] == 1 + binary.astype(bool).sum()  # every pixel alone
    assert cc(binary, 8)[0] == 2  # all joined diagonally


@pytest.mark.parametrize("connectivity", CONNECTIVITIES)
@pytest.mark.parametrize("shape", [(1, 1), (1, 37), (37, 1), (2, 2), (3, 3), (17, 1), (1, 64), (31, 45), (64, 9)])
def test_random_images_equal_opencv_and_reference(backend, rng, shape, connectivity):
    for density in (0.2, 0.5, 0.8):
        binary = ((rng.random(shape) < density) * 255).astype(np.uint8)
        ours = cc(binary, connectivity)
        assert_same(ours, opencv(binary, connectivity))
        assert_same(ours, reference(binary, connectivity))


@pytest.mark.parametrize("connectivity", CONNECTIVITIES)
def test_large_random_image_equals_opencv(backend, rng, connectivity):
    # Odd sizes and blobs of many shapes (smoothed noise), so runs touch in every configuration.
    noise = cv2.GaussianBlur((rng.random((301, 517)) * 255).astype(np.uint8), (0, 0), 1.5)
    binary = ((noise > 128) * 255).astype(np.uint8)
    assert_same(cc(binary, connectivity), opencv(binary, connectivity))


@pytest.mark.parametrize("connectivity", CONNECTIVITIES)
def test_opencv_thread_count_does_not_change_numbering(backend, photos, connectivity):
    # OpenCV's parallel labelling works in stripes; its numbering must still be the one we reproduce.
    binary = binarized(photos[0], True)
    previous = cv2.getNumThreads()
    try:
        cv2.setNumThreads(2)
        theirs = opencv(binary, connectivity)
    finally:
        cv2.setNumThreads(previous)
    assert_same(cc(binary, connectivity), theirs)


@pytest.mark.parametrize("connectivity", CONNECTIVITIES)
def test_strided_views(backend, rng, connectivity):
    base = ((rng.random((40, 60)) < 0.5) * 255).astype(np.uint8)
    for view in (base[::2, 1:], base[:, ::-3], base.T, base[5:30:3, ::2]):
        assert not view.flags.c_contiguous
        expected = opencv(np.ascontiguousarray(view), connectivity)
        assert_same(cc(view, connectivity), expected)


# --------------------------------------------------------------------------------- properties, backends
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    binary=arrays(np.uint8, st.tuples(st.integers(1, 24), st.integers(1, 24)), elements=st.sampled_from([0, 255])),
    connectivity=st.sampled_from(CONNECTIVITIES),
)
def test_transpose_gives_transposed_labels_up_to_relabelling(backend, binary, connectivity):
    n, labels, stats, _ = cc(binary, connectivity)
    n_t, labels_t, stats_t, _ = cc(binary.T, connectivity)
    assert n == n_t
    assert same_partition(labels.T, labels_t)
    # Areas are a property of the partition, not of the numbering.
    assert sorted(stats[1:, 4]) == sorted(stats_t[1:, 4])


@pytest.mark.parametrize("connectivity", CONNECTIVITIES)
def test_native_equals_numba(photos, rng, connectivity):
    images = [binarized(photos[0], False), binarized(photos[-1], True)]
    images += [((rng.random((57, 83)) < d) * 255).astype(np.uint8) for d in (0.3, 0.6)]
    previous = kernels.backend
    try:
        results = {}
        for name in ("native", "numba"):
            try:
                kernels.use_backend(name)
            except ImportError as exc:
                pytest.skip(f"{name} backend unavailable: {exc}")
            results[name] = [cc(img, connectivity) for img in images]
    finally:
        kernels.use_backend(previous)
    for native, numba in zip(results["native"], results["numba"]):
        assert_same(native, numba)


@pytest.mark.parametrize("connectivity", CONNECTIVITIES)
@pytest.mark.parametrize("order", ["raster", "opencv"])
def test_component_stats_are_connected_components_without_labels(backend, photos, rng, connectivity, order):
    images = [binarized(photos[0], False), binarized(photos[-1], True), *special_images().values()]
    images += [((rng.random((57, 83)) < d) * 255).astype(np.uint8) for d in (0.3, 0.6)]
    for img in images:
        n, _, stats, centroids = kernels.connected_components(img, connectivity, order=order)
        m, stats_only, centroids_only = kernels.component_stats(img, connectivity, order=order)
        assert n == m
        np.testing.assert_array_equal(stats_only, stats)
        np.testing.assert_array_equal(centroids_only, centroids)


def test_component_stats_bad_input(backend):
    with pytest.raises(TypeError, match="binary must have dtype uint8"):
        kernels.component_stats(np.zeros((4, 4), np.int32))
    with pytest.raises(ValueError, match="binary must not be empty"):
        kernels.component_stats(np.zeros((0, 4), np.uint8))
    with pytest.raises(ValueError, match="connectivity must be 4 or 8"):
        kernels.component_stats(np.zeros((4, 4), np.uint8), 6)
    with pytest.raises(ValueError, match="order must be"):
        kernels.component_stats(np.zeros((4, 4), np.uint8), order="OpenCV")


def test_out_is_filled_and_returned(backend):
    binary = special_images()["diagonal"]
    out = np.full(binary.shape, -7, np.int32)
    n, labels, _, _ = cc(binary, 4, out=out)
    assert labels is out
    np.testing.assert_array_equal(out, opencv(binary, 4)[1])


def test_working_memory_reused_and_released_between_calls(backend, rng):
    # The native kernel keeps its runs for the next call on the thread, and lets them go after a frame with
    # over a million runs; each call must still label its own image alone.
    small = ((rng.random((40, 70)) < 0.5) * 255).astype(np.uint8)
    dots = np.zeros((2400, 2400), np.uint8)
    dots[::2, ::2] = 255  # 1200 x 1200 runs of one pixel, each its own component
    for binary in (small, dots, small, small[:20], dots[:300]):
        assert_same(cc(binary, 8), opencv(binary, 8))


def test_threads_give_the_same_results(backend, photos):
    # The kernel releases the GIL and keeps its working memory per thread: concurrent calls must not interfere.
    images = [binarized(p, inv) for p in photos for inv in (False, True)]
    expected = [cc(img, 8) for img in images]
    with ThreadPoolExecutor(max_workers=2) as pool:
        got = list(pool.map(lambda img: cc(img, 8), images))
    for a, b in zip(got, expected):
        assert_same(a, b)


# ------------------------------------------------------------------------------------------ bad input
def test_wrong_dtype_is_a_type_error(backend):
    with pytest.raises(TypeError, match="binary must have dtype uint8"):
        cc(np.zeros((4, 4), np.int32))


def test_not_2d_is_a_value_error(backend):
    with pytest.raises(ValueError, match="binary must be 2-D"):
        cc(np.zeros((4, 4, 3), np.uint8))


def test_empty_is_a_value_error(backend):
    with pytest.raises(ValueError, match="binary must not be empty"):
        cc(np.zeros((0, 4), np.uint8))


@pytest.mark.parametrize("connectivity", [0, 6, True, "8", None, 4.5, 4.0, np.array([4])])
def test_bad_connectivity_is_a_value_error(backend, connectivity):
    with pytest.raises(ValueError, match="connectivity must be 4 or 8"):
        cc(np.zeros((4, 4), np.uint8), connectivity)


@pytest.mark.parametrize(
    "out, match",
    [
        (np.zeros((4, 5), np.int32), "out must have shape"),
        (np.zeros((4, 4), np.int64), "out must have dtype int32"),
        (np.zeros((4, 8), np.int32)[:, ::2], "out must be C-contiguous"),
    ],
)
def test_bad_out_is_a_value_error(backend, out, match):
    with pytest.raises(ValueError, match=match):
        cc(np.zeros((4, 4), np.uint8), 8, out=out)


def test_out_must_not_overlap_the_binary_image(backend):
    buffer = np.zeros(64, np.int32)
    binary = buffer.view(np.uint8)[:64].reshape(8, 8)  # the labels would overwrite the pixels being read
    with pytest.raises(ValueError, match="out must not share memory with binary"):
        cc(binary, 8, out=buffer.reshape(8, 8))


# ------------------------------------------------------------------------------ the default raster order
def first_pixels(labels, n):
    """Raster index of each label's first pixel (labels 1..n-1)."""
    flat = labels.ravel()
    idx = np.arange(flat.size)
    first = np.full(n, flat.size, np.int64)
    np.minimum.at(first, flat, idx)
    return first[1:]


@pytest.mark.parametrize("connectivity", CONNECTIVITIES)
def test_default_order_is_raster_order_of_first_pixels(backend, photos, connectivity):
    rng = np.random.default_rng(7)
    images = [binarized(p, inv) for p in photos for inv in (False, True)]
    images += [(rng.random((37, 53)) < 0.45).astype(np.uint8) for _ in range(20)]
    images += list(special_images().values())
    for binary in images:
        n, labels, stats, centroids = kernels.connected_components(binary, connectivity)
        assert (np.diff(first_pixels(labels, n)) > 0).all()
        # Same partition, statistics and centroids as OpenCV's numbering, only permuted.
        m, labels_cv, stats_cv, centroids_cv = opencv(binary, connectivity)
        assert n == m and same_partition(labels, labels_cv)
        perm = labels_cv.ravel()[np.argsort(labels.ravel(), kind="stable")][
            np.searchsorted(np.sort(labels.ravel()), np.arange(n))]
        np.testing.assert_array_equal(stats[1:], stats_cv[perm[1:]])
        np.testing.assert_allclose(centroids[1:], centroids_cv[perm[1:]], rtol=0, atol=1e-9)


def test_order_4_connectivity_is_the_same_both_ways(backend, photos):
    binary = binarized(photos[0], True)
    assert_same(kernels.connected_components(binary, 4), cc(binary, 4))


def test_orders_differ_where_opencv_scans_blocks():
    # B's first pixel (0, 2) comes first in raster order; A's (1, 0) lies in OpenCV's first 2x2 block.
    binary = np.array([[0, 0, 1, 0], [1, 0, 0, 0]], np.uint8)
    np.testing.assert_array_equal(kernels.connected_components(binary, 8)[1], [[0, 0, 1, 0], [2, 0, 0, 0]])
    np.testing.assert_array_equal(cc(binary, 8)[1], [[0, 0, 2, 0], [1, 0, 0, 0]])
    assert_same(cc(binary, 8), opencv(binary, 8))


@pytest.mark.parametrize("order", ["", "OpenCV", None, 8])
def test_bad_order(order):
    with pytest.raises(ValueError, match="order"):
        kernels.connected_components(np.zeros((4, 4), np.uint8), order=order)
