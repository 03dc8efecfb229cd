"""Throw random shapes, dtypes, values and parameters at every public kernel: each call must either
succeed with a well-formed result or raise TypeError/ValueError. A crash or hang fails the run."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastplate import kernels

DTYPES = [np.uint8, np.int8, np.uint16, np.int32, np.int64, np.float32, np.float64, np.bool_]


@st.composite
def arrays(draw):
    ndim = draw(st.integers(0, 4))
    shape = tuple(draw(st.lists(st.integers(0, 9), min_size=ndim, max_size=ndim)))
    dtype = draw(st.sampled_from(DTYPES))
    seed = draw(st.integers(0, 2**32 - 1))
    data = np.random.default_rng(seed).integers(0, 256, size=shape)
    arr = data.astype(dtype)
    if ndim >= 2 and draw(st.booleans()):
        arr = arr[::2, ::-1]  # strided, negative-stride view
    return arr


ANY = st.one_of(st.integers(-5, 40), st.floats(allow_nan=True), st.none(), st.text(max_size=3), st.booleans())
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except (TypeError, ValueError) as exc:
        assert str(exc), "error messages must not be empty"
        return None


@SETTINGS
@given(arrays(), st.one_of(st.integers(-3, 41), ANY), ANY, st.sampled_from(["mean", "gaussian", "sauvola", "wolf", "x"]),
       st.booleans())
def test_adaptive_threshold_fuzz(backend, image, block_size, c, method, invert):
    out = call(kernels.adaptive_threshold, image, block_size, c, method=method, invert=invert)
    if out is not None:
        assert out.shape == image.shape and out.dtype == np.uint8
        assert set(np.unique(out)) <= {0, 255}


@SETTINGS
@given(arrays(), st.sampled_from([4, 8, 0, 6, True, None, "8"]))
def test_connected_components_fuzz(backend, image, connectivity):
    res = call(kernels.connected_components, image, connectivity)
    if res is not None:
        n, labels, stats, centroids = res
        assert labels.shape == image.shape and labels.min() >= 0 and labels.max() == n - 1
        assert stats.shape == (n, 5) and centroids.shape == (n, 2)
        assert stats[:, 4].sum() == image.size


@SETTINGS
@given(arrays())
def test_to_gray_fuzz(backend, image):
    out = call(kernels.to_gray, image)
    if out is not None:
        assert out.shape == image.shape[:2] and out.dtype == np.uint8


@SETTINGS
@given(arrays(), st.lists(st.one_of(st.floats(-50, 50), st.sampled_from([np.nan, np.inf, 1e300])), min_size=0, max_size=16),
       st.tuples(st.integers(-1, 40), st.integers(-1, 40)))
def test_normalize_batch_fuzz(backend, image, corners, size):
    quads = np.array(corners[: len(corners) // 8 * 8], dtype=np.float64).reshape(-1, 4, 2)
    out = call(kernels.normalize_batch, image, quads, size)
    if out is not None:
        assert out.dtype == np.float32 and out.shape[0] == len(quads)
        assert np.isfinite(out).all() and (out.size == 0 or (out.min() >= 0 and out.max() <= 1.0 + 1e-6))


@SETTINGS
@given(st.integers(0, 30), st.integers(0, 2**32 - 1), st.sampled_from([np.int32, np.int64, np.float32]))
def test_find_character_rows_fuzz(backend, n, seed, dtype):
    rng = np.random.default_rng(seed)
    stats = rng.integers(-5, 60, size=(n, 5)).astype(dtype)
    rows = call(kernels.find_character_rows, stats)
    if rows is not None:
        for row in rows:
            assert len(row.indices) >= 3 and 0 not in row.indices
            assert np.all(np.diff(row.boxes[:, 0]) >= 0)


@pytest.mark.parametrize("bad", [np.zeros((0, 5), np.uint8), np.zeros((1, 1), np.float64), "nope", None])
def test_segment_characters_bad_input(backend, bad):
    with pytest.raises((TypeError, ValueError)):
        kernels.segment_characters(bad)
