import os
from pathlib import Path

import numpy as np
import pytest

from fastplate import kernels

DATA = Path(os.environ.get("FASTPLATE_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"))
BACKENDS = ["native", "numba"]


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Run the test once per backend; restores the previous backend afterwards."""
    previous = kernels.backend
    try:
        kernels.use_backend(request.param)
    except ImportError as exc:
        pytest.skip(f"{request.param} backend unavailable: {exc}")
    yield request.param
    kernels.use_backend(previous)


@pytest.fixture(scope="session")
def rng():
    return np.random.default_rng(12345)


def _load_gray_photos(limit=4):
    import cv2

    files = sorted((DATA / "scenes-eu").glob("*.jpg"))[:limit] + sorted((DATA / "scenes-br").glob("*.jpg"))[:limit]
    return [cv2.imread(str(f), cv2.IMREAD_GRAYSCALE) for f in files]


@pytest.fixture(scope="session")
def photos():
    """A few real gray photos from ../shared/data, or synthetic stand-ins when the data is absent (CI)."""
    imgs = [im for im in _load_gray_photos() if im is not None] if DATA.exists() else []
    if not imgs:
        from fastplate.samples import synthetic_scene

        imgs = [synthetic_scene(seed=s)[0] for s in range(3)]
        imgs = [im if im.ndim == 2 else im.mean(axis=2).astype(np.uint8) for im in imgs]
    return imgs
