// warp_batch: perspective-warp N quads of one image into a planar float32 batch, in parallel over N.
//
// Sampling follows cv2.warpPerspective(INTER_LINEAR, BORDER_REPLICATE) of OpenCV 5: each output pixel
// (x, y) samples the source at (X/W, Y/W), (X, Y, W) = M @ (x, y, 1), bilinearly with the exact fractional
// position (OpenCV 4 rounded positions to 1/32 px; OpenCV 5 no longer does), taps outside the image
// clamped to the edge. OpenCV rounds the result to uint8, so results differ from it by <= half a level.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <system_error>
#include <thread>
#include <vector>

#include "common.hpp"
#include "dispatch.hpp"

namespace {

struct Image {
    const uint8_t* data;
    int H, W, C;
};

// Where the taps of one output row lie: `offset` of the top-left tap, steps `dx`, `dy` to its right and
// lower neighbours (0 where clamped at the edge) and the fractional position `ax`, `ay` in [0, 1).
struct RowTaps {
    int *offset, *dx, *dy;
    float *ax, *ay;
};

// Source positions of one output row. Positions far outside the image, and those of a zero or
// non-finite homogeneous coordinate (inf or NaN after the division), are clamped to `limit` beyond the
// image, where the taps clamp to the replicated edge.
FASTPLATE_CLONES void row_taps(const double* M, int y, int w, const Image& img, RowTaps taps) {
    const int W = img.W, H = img.H, C = img.C, row = W * C;
    const double limit = std::max(H, W) + 2.0;
    const double x0 = M[1] * y + M[2], y0 = M[4] * y + M[5], w0 = M[7] * y + M[8];
    const double m0 = M[0], m3 = M[3], m6 = M[6];
    int *__restrict offset = taps.offset, *__restrict dx = taps.dx, *__restrict dy = taps.dy;
    float *__restrict ax = taps.ax, *__restrict ay = taps.ay;
    for (int x = 0; x < w; ++x) {
        const double inv = 1.0 / (m6 * x + w0);
        const double px = std::min(limit, std::max(-limit, (m0 * x + x0) * inv));  // max(-limit, NaN) = -limit
        const double py = std::min(limit, std::max(-limit, (m3 * x + y0) * inv));
        // floor, written so that it vectorizes without SSE4.1: truncate, then step down for negatives.
        const int tx = int(px), ty = int(py);
        const int sx = tx - (double(tx) > px), sy = ty - (double(ty) > py);
        const int cx0 = std::min(std::max(sx, 0), W - 1), cx1 = std::min(std::max(sx + 1, 0), W - 1);
        const int cy0 = std::min(std::max(sy, 0), H - 1), cy1 = std::min(std::max(sy + 1, 0), H - 1);
        offset[x] = cy0 * row + cx0 * C;
        dx[x] = (cx1 - cx0) * C;
        dy[x] = (cy1 - cy0) * row;
        ax[x] = float(px - sx);
        ay[x] = float(py - sy);
    }
}

// Bilinear blend in float32: top and bottom lerps along x, then along y, then times scale.
template <int C>
void sample_row(const uint8_t* src, const RowTaps& taps, int w, size_t plane, float* out, float scale) {
    for (int x = 0; x < w; ++x) {
        const uint8_t* p = src + taps.offset[x];
        const int dx = taps.dx[x], dy = taps.dy[x];
        const float ax = taps.ax[x], ay = taps.ay[x];
        for (int c = 0; c < C; ++c) {
            const float p00 = p[c], p01 = p[dx + c], p10 = p[dy + c], p11 = p[dy + dx + c];
            const float top = p00 + ax * (p01 - p00);
            const float bottom = p10 + ax * (p11 - p10);
            out[c * plane + x] = (top + ay * (bottom - top)) * scale;
        }
    }
}

void warp_one(const Image& img, const double* M, float* out, int h, int w, float scale, RowTaps taps) {
    const size_t plane = static_cast<size_t>(h) * w;
    for (int y = 0; y < h; ++y) {
        row_taps(M, y, w, img, taps);
        float* row = out + static_cast<size_t>(y) * w;
        switch (img.C) {
            case 1: sample_row<1>(img.data, taps, w, plane, row, scale); break;
            case 3: sample_row<3>(img.data, taps, w, plane, row, scale); break;
            case 4: sample_row<4>(img.data, taps, w, plane, row, scale); break;
            default: sample_row<2>(img.data, taps, w, plane, row, scale); break;
        }
    }
}

void warp_batch(const carray<uint8_t>& src, const carray<double>& matrices, carray<float>& out, double scale,
                int n_threads) {
    const Image img{src.data(), int(src.shape(0)), int(src.shape(1)), int(src.shape(2))};
    const int n = int(out.shape(0)), h = int(out.shape(2)), w = int(out.shape(3));
    const size_t per_quad = static_cast<size_t>(img.C) * h * w;
    const double* M = matrices.data();
    float* dst = out.mutable_data();
    // Threads pay off only with enough pixels each (starting one costs ~20-50 us).
    const size_t pixels = static_cast<size_t>(n) * h * w;
    const int workers = int(std::max<size_t>(1, std::min<size_t>({size_t(std::max(n_threads, 1)), size_t(n),
                                                                    pixels / 16384})));
    // Per-worker row buffers, allocated here so that workers cannot throw.
    std::vector<int> positions(static_cast<size_t>(workers) * 3 * w);
    std::vector<float> fractions(static_cast<size_t>(workers) * 2 * w);
    std::atomic<int> next{0};  // quads are handed out one at a time, so uneven quads balance out
    auto work = [&](int t) {
        int* p = positions.data() + static_cast<size_t>(t) * 3 * w;
        float* f = fractions.data() + static_cast<size_t>(t) * 2 * w;
        const RowTaps taps{p, p + w, p + 2 * w, f, f + w};
        for (int i; (i = next.fetch_add(1)) < n;)
            warp_one(img, M + 9 * i, dst + i * per_quad, h, w, float(scale), taps);
    };
    std::vector<std::thread> pool;
    pool.reserve(workers - 1);
    try {
        for (int t = 1; t < workers; ++t) pool.emplace_back(work, t);
    } catch (const std::system_error&) {
        // No more threads available: the ones running (and this one) share the remaining quads.
    }
    work(0);
    for (auto& thread : pool) thread.join();
}

}  // namespace

void register_warp(py::module_& m) {
    m.def("warp_batch", &warp_batch, py::arg("src"), py::arg("matrices"), py::arg("out"), py::arg("scale"),
          py::arg("n_threads"),
          "warp_batch(src(H,W,C) u8, matrices(N,3,3) f64, out(N,C,h,w) f32, scale, n_threads): for each output "
          "pixel (x, y) sample src at M @ (x, y, 1) bilinearly (1/32 px, edges replicated), times scale.",
          py::call_guard<py::gil_scoped_release>());
}
