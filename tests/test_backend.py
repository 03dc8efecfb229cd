import os

import numpy as np
import pytest

from fastplate import _backend, kernels
from fastplate.errors import DependencyError


def test_native_backend_is_active_after_install():
    if os.environ.get("FASTPLATE_REQUIRE_NATIVE") != "1":
        pytest.skip("set FASTPLATE_REQUIRE_NATIVE=1 to require the compiled extension (CI does)")
    import fastplate

    assert _backend.load("auto").name == "native", (
        f"the compiled extension is not importable next to {fastplate.__file__}: `python -m pytest` in a source "
        "checkout imports the uninstalled source tree; run bare `pytest` (the installed package), or build in "
        "place with `python setup.py build_ext --inplace`")


def test_unknown_backend_is_rejected(monkeypatch):
    monkeypatch.setenv("FASTPLATE_BACKEND", "cuda")
    with pytest.raises(ValueError, match="FASTPLATE_BACKEND must be one of"):
        _backend.load()


def test_backends_export_every_kernel(backend):
    impl = _backend.load(backend)
    for name in _backend.KERNEL_NAMES:
        assert callable(getattr(impl, name)), name


def test_use_backend_switches_and_reports(backend):
    assert kernels.use_backend(backend) == backend == kernels.backend


def test_missing_numba_gives_install_hint(monkeypatch):
    import sys

    import fastplate

    for mod in [m for m in sys.modules if m.startswith("fastplate._numba")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.delattr(fastplate, "_numba", raising=False)
    monkeypatch.setitem(sys.modules, "numba", None)  # makes `import numba` raise ImportError
    with pytest.raises(DependencyError, match=r"pip install 'fastplate\[numba\]'"):
        _backend.load("numba")


def test_use_backend_during_the_first_load_is_not_undone(monkeypatch):
    # The backend loads on the first kernel call; a use_backend() while that load runs must win over it.
    import threading
    import time

    pytest.importorskip("numba")
    previous = kernels.backend
    real, started = _backend.load, threading.Event()

    def slow_default(choice=None):
        if choice is None:
            started.set()
            time.sleep(0.3)
            return real("native" if previous == "native" else "numba")
        return real(choice)

    monkeypatch.setattr(_backend, "load", slow_default)
    monkeypatch.setattr(kernels, "_impl", None)
    other = "numba" if previous == "native" else "native"
    first = threading.Thread(target=kernels._kernels)
    first.start()
    started.wait()
    try:
        assert kernels.use_backend(other) == other
        first.join()
        assert kernels.backend == other
    finally:
        first.join()
        monkeypatch.setattr(_backend, "load", real)
        kernels.use_backend(previous)


def test_a_bad_backend_setting_waits_for_the_first_kernel_call(monkeypatch):
    monkeypatch.setattr(kernels, "_impl", None)
    monkeypatch.setenv("FASTPLATE_BACKEND", "bogus")
    assert "backend" in dir(kernels)
    with pytest.raises(ValueError, match="FASTPLATE_BACKEND must be one of"):
        kernels.to_gray(np.zeros((4, 4, 3), np.uint8))
