// Shared helpers for the native kernels. Kernels receive arrays already validated by
// fastplate/_validate.py (C-contiguous, right dtype and shape) and run with the GIL released.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>

namespace py = pybind11;

template <typename T>
using carray = py::array_t<T, py::array::c_style>;  // no forcecast: a wrong dtype is a bug in kernels.py
