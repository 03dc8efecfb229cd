"""normalize_batch / warp_batch: the NumPy reference, cv2.warpPerspective parity within 1/255, both
backends, threads, degenerate matrices, views, out=, errors."""
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from fastplate import _backend, kernels
from fastplate.samples import synthetic_scene

import reference

DATA = Path(os.environ.get("FASTPLATE_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"))
OPENCV_MAJOR = int(cv2.__version__.split(".")[0])


@pytest.fixture(scope="module")
def color_photo():
    """A real BGR photo (or a synthetic scene when ../shared/data is absent)."""
    for path in sorted((DATA / "scenes-br").glob("*.jpg"))[:1]:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is not None:
            return image
    image = synthetic_scene(seed=1)[0]
    return image if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)


def plate_quads(rng, image_shape, n, size=(48, 160), jitter=6.0):
    """n plate-like quads (clockwise from top-left) scattered over the image, tilted a little."""
    h, w = size
    corners = rng.uniform([0, 0], [image_shape[1] - w, image_shape[0] - h], (n, 1, 2))
    box = np.array([[0, 0], [w, 0], [w, h], [0, h]], float)
    return corners + box[None] + rng.normal(0, jitter, (n, 4, 2))


def opencv_batch(image, quads, size, scale):
    """The Python loop normalize_batch replaces: one cv2.warpPerspective per quad."""
    h, w = size
    target = np.float32([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]])
    out = []
    for quad in quads:
        m = cv2.getPerspectiveTransform(np.float32(quad), target)
        warped = cv2.warpPerspective(image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        warped = warped[:, :, None] if warped.ndim == 2 else warped
        out.append(warped.transpose(2, 0, 1).astype(np.float32) * scale)
    return np.stack(out)


def matrices_for(quads, size):
    return np.ascontiguousarray(kernels.quad_to_rect_matrices(np.asarray(quads, float), size))


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("size", [(48, 160), (32, 128), (2, 2), (2, 9), (7, 2), (13, 37)])
def test_normalize_batch_equals_reference(backend, rng, color_photo, channels, size):
    image = {1: cv2.cvtColor(color_photo, cv2.COLOR_BGR2GRAY), 3: color_photo,
             4: cv2.cvtColor(color_photo, cv2.COLOR_BGR2BGRA)}[channels]
    quads = plate_quads(rng, image.shape, 6)
    quads[0] = [[-40, -30], [200, -10], [190, 120], [-20, 90]]  # partly outside the image
    quads[1] += [image.shape[1] + 500, 0]  # entirely outside: replicated edge
    got = kernels.normalize_batch(image, quads, size)
    expected = reference.warp_batch(image, matrices_for(quads, size), size, 1 / 255)
    assert got.shape == (6, channels) + size and got.dtype == np.float32
    # float32 positions (as OpenCV 5) against float64 ones: ~1e-4 px apart, at most a fraction of a level
    np.testing.assert_allclose(got, expected, rtol=0, atol=0.25 / 255)
    assert np.mean(np.abs(got - expected) < 0.01 / 255) > 0.999


@pytest.mark.parametrize("size", [(48, 160), (32, 128)])
def test_normalize_batch_matches_opencv_within_one_level(backend, rng, color_photo, photos, size):
    for image in (color_photo, photos[0]):
        quads = plate_quads(rng, image.shape, 16)
        quads[0] = [[-40, -30], [200, -10], [190, 120], [-20, 90]]
        got = kernels.normalize_batch(image, quads, size)
        expected = opencv_batch(image, quads, size, 1 / 255)
        # OpenCV rounds to uint8 (half a level) and solves the matrix in float32 (a little more).
        diff = np.abs(got - expected) * 255
        if OPENCV_MAJOR >= 5:
            assert diff.max() <= 1
        else:  # OpenCV 4 samples at 1/32 px: across a sharp edge (~200 levels per px) that moves a value a few levels
            # (measured with 4.8: at most 4.7, 0.3% more than 2, a mean of 0.29)
            assert diff.max() <= 8 and np.mean(diff > 2) < 0.01 and diff.mean() < 0.5


def test_whole_image_quad_is_the_identity(backend, rng):
    image = rng.integers(0, 256, (23, 31, 3), dtype=np.uint8)
    whole = [[0, 0], [30, 0], [30, 22], [0, 22]]
    got = kernels.normalize_batch(image, whole, (23, 31), scale=1.0)
    np.testing.assert_allclose(got[0], image.transpose(2, 0, 1), atol=1e-3)


def test_scale_is_applied(backend, rng):
    image = rng.integers(0, 256, (40, 50), dtype=np.uint8)
    quad = [[3, 4], [40, 2], [44, 30], [5, 33]]
    one = kernels.normalize_batch(image, quad, (8, 20), scale=1.0)
    np.testing.assert_allclose(kernels.normalize_batch(image, quad, (8, 20)), one / 255, rtol=1e-6)
    assert one.max() > 1.5  # really unscaled


def test_backends_and_thread_counts_agree(rng, color_photo):
    quads = plate_quads(rng, color_photo.shape, 40)
    results = []
    for name in ("native", "numba"):
        previous = kernels.backend
        kernels.use_backend(name)
        try:
            for threads in (1, 2, 5):
                results.append(kernels.normalize_batch(color_photo, quads, (32, 128), threads=threads))
        finally:
            kernels.use_backend(previous)
    for result in results[1:]:
        np.testing.assert_array_equal(result, results[0])


def test_degenerate_matrices_give_the_replicated_edge(backend, rng):
    # Kernel level: W == 0, inf and NaN entries must not crash and must sample a real (edge) pixel.
    image = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    matrices = np.zeros((4, 3, 3))
    matrices[1] = np.eye(3)
    matrices[1, 2, 2] = np.inf
    matrices[2] = np.eye(3)
    matrices[2, 0, 0] = np.nan
    matrices[3] = np.eye(3) * 1e300
    out = np.full((4, 3, 5, 6), -1, np.float32)
    _backend.load(backend).warp_batch(image, matrices, out, 1.0, 1)
    assert np.isfinite(out).all()
    edge_values = set(image[0].ravel()) | set(image[-1].ravel()) | set(image[:, 0].ravel()) | set(image[:, -1].ravel())
    assert set(np.unique(out[:2])) <= {float(v) for v in edge_values}
    np.testing.assert_array_equal(out, reference.warp_batch(image, matrices, (5, 6), 1.0))


@pytest.mark.parametrize("quad", [
    [[0, 0], [10, 0], [20, 0], [30, 0]],  # all four
    [[0, 0], [10, 0], [20, 0], [20, 10]],  # corners 0, 1, 2
    [[0, 0], [20, 5], [0, 20], [0, 10]],  # 2, 3, 0
    [[0, 0], [20, 0], [20, 10], [-10, 0]],  # 3, 0, 1
    [[0, 0], [20, 0], [20, 10], [20, 20]],  # 1, 2, 3
])
def test_collinear_quad_is_rejected(backend, rng, quad):
    # Any three corners on a line make the homography singular (a corner maps to NaN), not only 1, 2, 3.
    image = rng.integers(0, 256, (20, 30), dtype=np.uint8)
    quads = np.array([[[0, 0], [20, 0], [20, 10], [0, 10]], quad], float)
    with pytest.raises(ValueError, match="non-degenerate.*quad 1 has three corners on a line"):
        kernels.quad_to_rect_matrices(quads, (8, 16))
    with pytest.raises(ValueError, match="non-degenerate"):
        kernels.normalize_batch(image, quad, (8, 16))
    with pytest.raises(ValueError, match="non-degenerate"):
        reference.quad_to_rect_matrices(quads, (8, 16))


def test_quad_matrices_name_what_is_wrong(backend):
    good = [[0, 0], [20, 0], [20, 10], [0, 10]]
    with pytest.raises(ValueError, match="quad 1 has a corner that is not finite"):
        kernels.quad_to_rect_matrices(np.array([good, [[0, 0], [20, np.nan], [20, 10], [0, 10]]], float), (8, 16))
    with pytest.raises(ValueError, match="size"):  # once cut down to 8 silently
        kernels.quad_to_rect_matrices(np.array([good], float), (8.7, 16))
    whole = kernels.quad_to_rect_matrices(np.array([good], float), (32.0, 5000))  # whole floats, no size cap
    np.testing.assert_array_equal(whole, kernels.quad_to_rect_matrices(np.array([good], float), (32, 5000)))
    # Sizes past int32 reached the native kernel (a raw pybind11 TypeError; Numba returned a matrix).
    with pytest.raises(ValueError, match="size must be"):
        kernels.quad_to_rect_matrices(np.array([good], float), (2 ** 31, 32))
    with pytest.raises(ValueError, match="int too large"):  # not an OverflowError from the error handler
        kernels.quad_to_rect_matrices([[[10 ** 400, 0], [10, 0], [10, 5], [0, 5]]], (8, 16))
    for quads in (np.array([good], bool), np.array([good], complex), [good, [[0, 0], [1]]], "abc"):
        with pytest.raises(TypeError, match="quads must be"):
            kernels.quad_to_rect_matrices(quads, (8, 16))
    with pytest.raises(ValueError, match="<= 32767"):  # the largest odd block
        kernels.adaptive_threshold(np.zeros((4, 4), np.uint8), 32769)


def test_empty_batch(backend):
    out = kernels.normalize_batch(np.zeros((10, 10, 3), np.uint8), np.zeros((0, 4, 2)), (8, 16))
    assert out.shape == (0, 3, 8, 16)


def test_strided_image_and_out(backend, rng, color_photo):
    view = color_photo[::2, 1::3]
    quads = plate_quads(rng, view.shape, 3, size=(16, 40))
    expected = kernels.normalize_batch(np.ascontiguousarray(view), quads, (16, 40))
    out = np.empty((3, 3, 16, 40), np.float32)
    assert kernels.normalize_batch(view, quads, (16, 40), out=out) is out
    np.testing.assert_array_equal(out, expected)
    # a single (4, 2) quad and integer corners are accepted too
    np.testing.assert_array_equal(kernels.normalize_batch(view, np.rint(quads[0]).astype(int), (16, 40)),
                                  kernels.normalize_batch(view, np.rint(quads[:1]), (16, 40)))


def test_out_must_not_overlap_the_image(backend):
    buffer = np.zeros(3 * 16 * 40, np.float32)
    image = buffer.view(np.uint8).reshape(96, 80)  # the batch would overwrite the pixels being read
    with pytest.raises(ValueError, match="out must not share memory with image"):
        kernels.normalize_batch(image, [[1, 1], [40, 1], [40, 20], [1, 20]], (16, 40), out=buffer[:640].reshape(1, 1, 16, 40))


@pytest.mark.parametrize("quads", [[[1, 2], [3]], "abcd", [[0, 0], [1, 1]]], ids=["ragged", "text", "shape"])
def test_bad_quads_name_quads(backend, quads):
    # Ragged or text quads once gave NumPy's own errors, which do not say which argument is wrong.
    with pytest.raises((TypeError, ValueError), match="quads"):
        kernels.normalize_batch(np.zeros((20, 30), np.uint8), quads, (8, 24))


def test_no_quads_give_an_empty_batch(backend):
    assert kernels.normalize_batch(np.zeros((20, 30), np.uint8), [], (8, 24)).shape == (0, 1, 8, 24)


QUAD = [[1, 1], [20, 1], [20, 9], [1, 9]]


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(image=np.zeros((10, 30), np.int16)), TypeError, "image must have dtype uint8, got int16"),
        (dict(image=np.zeros((10, 30, 2), np.uint8)), ValueError, "image must have 1 or 3 or 4 channels"),
        (dict(image=np.zeros((10,), np.uint8)), ValueError, "image must be 2-D or 3-D"),
        (dict(quads=np.zeros((2, 3, 2))), ValueError, r"quads must have shape \(N, 4, 2\) or \(4, 2\), got \(2, 3, 2\)"),
        (dict(quads=np.array([["a", "b"]] * 4)), TypeError, "quads must be numeric"),
        (dict(quads=[[0, 0], [np.nan, 0], [9, 9], [0, 9]]), ValueError, "quads must be finite"),
        (dict(quads=[[0, 0], [10**400, 0], [9, 9], [0, 9]]), ValueError, "quads must be finite"),  # not OverflowError
        (dict(size=(8,)), ValueError, r"size must be a \(height, width\) pair, got \(8,\)"),
        (dict(size=(0, 16)), ValueError, r"size\[0\] must be >= 2, got 0"),
        (dict(size=(1, 16)), ValueError, r"size\[0\] must be >= 2, got 1"),
        (dict(size=(8, 5000)), ValueError, r"size\[1\] must be <= 4096, got 5000"),
        (dict(size=(8.5, 16)), TypeError, r"size\[0\] must be an int"),
        (dict(scale=float("nan")), ValueError, "scale must be finite"),
        (dict(scale=10**400), ValueError, "scale must be finite"),
        (dict(threads=0), ValueError, "threads must be >= 1, got 0"),
        (dict(out=np.zeros((1, 1, 8, 16), np.float64)), ValueError, "out must have dtype float32"),
        (dict(out=np.zeros((2, 1, 8, 16), np.float32)), ValueError, r"out must have shape \(1, 1, 8, 16\)"),
    ],
)
def test_normalize_batch_rejects_bad_arguments(backend, kwargs, error, match):
    args = dict(image=np.zeros((10, 30), np.uint8), quads=QUAD, size=(8, 16))
    args.update(kwargs)
    with pytest.raises(error, match=match):
        kernels.normalize_batch(args.pop("image"), args.pop("quads"), args.pop("size"), **args)


def test_quad_matrices_match_a_direct_linear_solve(backend, rng):
    """The closed-form homography equals the 8x8 linear solve that getPerspectiveTransform performs."""
    h, w = 32, 128
    dst = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float64)
    for _ in range(50):
        src = np.array([[0, 0], [100, 0], [100, 30], [0, 30]], float) * rng.uniform(0.2, 5)
        src += rng.normal(0, 8, (4, 2)) + rng.uniform(0, 500, 2)
        a, b = np.zeros((8, 8)), np.zeros(8)
        for i, ((x, y), (u, v)) in enumerate(zip(dst, src)):
            a[i, :3], a[i, 6:] = (x, y, 1), (-x * u, -y * u)
            a[i + 4, 3:6], a[i + 4, 6:] = (x, y, 1), (-x * v, -y * v)
            b[i], b[i + 4] = u, v
        expected = np.append(np.linalg.solve(a, b), 1.0).reshape(3, 3)
        got = kernels.quad_to_rect_matrices(src[None], (h, w))[0]
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9 * np.abs(expected).max())


def test_quad_matrices_equal_the_reference(backend, rng):
    """Bit for bit, over scales from tiny to huge, with degenerate quads reported at the same index."""
    for trial in range(200):
        n = int(rng.integers(1, 12))
        quads = rng.normal(0, 10 ** rng.uniform(-3, 4), (n, 4, 2)) + rng.uniform(-100, 2000, (n, 1, 2))
        if trial % 4 == 0:
            quads[rng.integers(n), 2] = quads[rng.integers(n), 1]  # three corners on a line (or not)
        size = (int(rng.integers(2, 60)), int(rng.integers(2, 200)))
        try:
            expected = reference.quad_to_rect_matrices(quads, size)
        except ValueError as exc:
            with pytest.raises(ValueError, match=str(exc).split(";")[1].strip()):
                kernels.quad_to_rect_matrices(quads, size)
            continue
        np.testing.assert_array_equal(kernels.quad_to_rect_matrices(quads, size), expected)
