"""Declares the compiled extensions only; all metadata lives in pyproject.toml."""
import sys

import numpy as np
from Cython.Build import cythonize
from pybind11.setup_helpers import Pybind11Extension
from setuptools import Extension, setup

# -O3 lets the compiler vectorize; never -march=native (wheels must run on any x86-64/arm64).
# -ffp-contract=off: no fused multiply-add, so native, Cython and Numba round identically on every ISA.
# No OpenMP: the kernels run their own std::thread workers (and release the GIL for Python threads).
extra = ["-O3", "-fno-math-errno", "-ffp-contract=off"] if sys.platform != "win32" else ["/O2"]

native = Pybind11Extension(
    "fastplate._native",
    sorted(["csrc/bindings.cpp", "csrc/threshold.cpp", "csrc/components.cpp", "csrc/warp.cpp", "csrc/color.cpp"]),
    include_dirs=["csrc"],
    depends=sorted(["csrc/common.hpp", "csrc/dispatch.hpp"]),  # rebuild when a header changes
    cxx_std=17,
    extra_compile_args=extra,
)

segment = Extension(
    "fastplate._segment",
    ["fastplate/_segment.pyx"],
    include_dirs=[np.get_include()],
    extra_compile_args=extra,
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
)

setup(
    ext_modules=[native] + cythonize([segment], language_level=3),
)
