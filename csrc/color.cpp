// to_gray: BGR(A) -> gray with OpenCV's fixed-point BT.601 weights, so results equal cv2.cvtColor.
#include "common.hpp"
#include "dispatch.hpp"

namespace {

// cv::cvtColor(COLOR_BGR2GRAY) on 8-bit data (OpenCV 4 and 5): weights 0.114, 0.587, 0.299 in 15-bit
// fixed point (rounded so they sum to 2^15), checked equal to cv2 on all 2^24 colours.
constexpr uint32_t kB = 3735, kG = 19235, kR = 9798, kShift = 15;

template <int C>
FASTPLATE_CLONES void gray_rows(const uint8_t* __restrict src, uint8_t* __restrict dst, size_t n) {
    // A fixed channel count lets the compiler unroll the interleaved loads and vectorize.
    for (size_t i = 0; i < n; ++i) {
        const uint8_t* p = src + i * C;
        dst[i] = static_cast<uint8_t>((kB * p[0] + kG * p[1] + kR * p[2] + (1u << (kShift - 1))) >> kShift);
    }
}

void to_gray(const carray<uint8_t>& src, carray<uint8_t>& out) {
    const size_t n = static_cast<size_t>(src.shape(0)) * static_cast<size_t>(src.shape(1));
    const uint8_t* s = src.data();
    uint8_t* d = out.mutable_data();
    if (src.shape(2) == 4)
        gray_rows<4>(s, d, n);
    else
        gray_rows<3>(s, d, n);
}

}  // namespace

void register_color(py::module_& m) {
    m.def("to_gray", &to_gray, py::arg("src"), py::arg("out"),
          "to_gray(src(H,W,C) u8 with C in {3,4}, out(H,W) u8): BGR(A) to gray like cv2.cvtColor.",
          py::call_guard<py::gil_scoped_release>());
}
