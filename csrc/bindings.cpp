// fastplate._native: one module, each kernel family registers itself from its own file.
#include "common.hpp"

void register_color(py::module_& m);
void register_threshold(py::module_& m);
void register_components(py::module_& m);
void register_warp(py::module_& m);

PYBIND11_MODULE(_native, m) {
    m.doc() = "fastplate native kernels (C++). Use fastplate.kernels, which validates arguments.";
    register_color(m);
    register_threshold(m);
    register_components(m);
    register_warp(m);
}
