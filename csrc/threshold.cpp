// adaptive_threshold: local mean (OpenCV-exact), Gaussian (OpenCV's float path), Sauvola and Wolf-Jolion.
//
// Mean, Sauvola and Wolf need window sums of the pixels (and of their squares) over a block x block window
// with replicated borders. They are computed from running column sums (one vector add/subtract of a row
// per output row) and a per-row prefix sum, so the cost does not depend on block_size. Unsigned
// wrap-around arithmetic keeps differences of prefix sums exact as long as the true window sum fits.
#include <algorithm>
#include <cmath>
#include <vector>

#include "common.hpp"
#include "dispatch.hpp"

namespace {

enum Method { kMean = 0, kGaussian = 1, kSauvola = 2, kWolf = 3 };

inline const uint8_t* clamped_row(const uint8_t* src, long y, int H, int W) {
    y = y < 0 ? 0 : (y >= H ? H - 1 : y);
    return src + static_cast<size_t>(y) * W;
}

// Sums of f(pixel) over rows [y - r, y + r] (edge rows replicated), one per column.
// Col is wide enough for (2r + 1) * f(255); wrap-around in advance() cancels out.
template <class Col, bool Square>
struct ColumnSums {
    const uint8_t* src;
    int H, W, r;
    std::vector<Col> col;

    static Col f(uint8_t v) { return Square ? Col(uint32_t(v) * v) : Col(v); }

    ColumnSums(const uint8_t* src_, int H_, int W_, int r_) : src(src_), H(H_), W(W_), r(r_), col(W_, 0) {
        // Window of output row 0 is rows [-r, r]: row j appears once per i in [-r, r] with clamp(i) == j.
        const long last = std::min<long>(r, H - 1);
        for (long j = 0; j <= last; ++j) {
            const long lo = j == 0 ? -r : j;
            const long hi = j == H - 1 ? r : j;
            const Col count = Col(hi - lo + 1);
            const uint8_t* row = src + static_cast<size_t>(j) * W;
            for (int x = 0; x < W; ++x) col[x] = Col(col[x] + count * f(row[x]));
        }
    }

    // Move the window from output row y - 1 to y.
    void advance(long y) {
        const uint8_t* add = clamped_row(src, y + r, H, W);
        const uint8_t* sub = clamped_row(src, y - r - 1, H, W);
        if (add == sub) return;
        Col* c = col.data();
        for (int x = 0; x < W; ++x) c[x] = Col(c[x] + f(add[x]) - f(sub[x]));
    }
};

// win[x] = sum of col[clamp(j)] for j in [x - r, x + r], through the prefix sums pre[0..W].
template <class Col, class Acc>
void window_row(const Col* col, Acc* pre, Acc* win, int W, int r) {
    pre[0] = 0;
    for (int x = 0; x < W; ++x) pre[x + 1] = Acc(pre[x] + col[x]);
    // Prefix sum extended beyond the row: replicated edge columns.
    auto G = [&](long j) -> Acc {
        if (j <= 0) return Acc(Acc(j) * Acc(col[0]));
        if (j >= W) return Acc(pre[W] + Acc(j - W) * Acc(col[W - 1]));
        return pre[j];
    };
    const long lo = std::min<long>(r, W), hi = std::max<long>(lo, long(W) - r);  // interior [lo, hi)
    for (long x = 0; x < lo; ++x) win[x] = Acc(G(x + r + 1) - G(x - r));
    for (long x = lo; x < hi; ++x) win[x] = Acc(pre[x + r + 1] - pre[x - r]);
    for (long x = hi; x < W; ++x) win[x] = Acc(G(x + r + 1) - G(x - r));
}

// OpenCV: dst = (src - mean > -idelta) ? 255 : 0 for BINARY with idelta = ceil(c), and the complement
// for BINARY_INV with idelta = floor(c). mean = round(s / d) has no ties for odd d, so
// mean = (s + (d - 1) / 2) / d and the test becomes s + (d - 1) / 2 < (src + idelta) * d.
inline long clamped_delta(double c, bool invert) {
    const double rounded = invert ? std::floor(c) : std::ceil(c);
    // |idelta| >= 256 makes the outcome independent of the pixel; clamping keeps products small.
    return static_cast<long>(std::max(-256.0, std::min(256.0, rounded)));
}

template <class Col, class Acc, class Signed>
FASTPLATE_CLONES void mean_threshold(const uint8_t* src, uint8_t* dst, int H, int W, int block, double c, bool invert) {
    const int r = block / 2;
    const Signed d = Signed(block) * block;
    const Signed K = Signed(clamped_delta(c, invert)) * d - (d - 1) / 2;
    const uint8_t hit = invert ? 0 : 255, miss = invert ? 255 : 0;
    ColumnSums<Col, false> sums(src, H, W, r);
    std::vector<Acc> pre(W + 1), win(W);
    for (long y = 0; y < H; ++y) {
        if (y > 0) sums.advance(y);
        window_row(sums.col.data(), pre.data(), win.data(), W, r);
        const uint8_t* s = src + y * W;
        uint8_t* o = dst + y * W;
        const Acc* w = win.data();
        for (int x = 0; x < W; ++x) o[x] = Signed(w[x]) < Signed(s[x]) * d + K ? hit : miss;
    }
}

// Sauvola and Wolf-Jolion, from window mean m and standard deviation sd (population), in double.
// The formulas are written exactly as in tests/reference.py and fastplate/_numba/threshold.py.
struct LocalStats {
    double inv_d;
    double mean(double s) const { return s * inv_d; }
    double sd(double s, double q) const {
        const double m = s * inv_d;
        const double var = q * inv_d - m * m;
        return std::sqrt(var > 0.0 ? var : 0.0);
    }
};

template <class Col, class Acc, class Signed>
FASTPLATE_CLONES void contrast_threshold(const uint8_t* src, uint8_t* dst, int H, int W, int block, int method, double k,
                        bool invert) {
    const int r = block / 2;
    const LocalStats st{1.0 / (double(block) * double(block))};
    const uint8_t hit = invert ? 0 : 255, miss = invert ? 255 : 0;
    std::vector<Acc> pre(W + 1), s(W), preq(W + 1), q(W);

    // Wolf needs the image minimum and the largest local deviation first.
    double image_min = 0.0, inv_range = 0.0;
    if (method == kWolf) {
        image_min = *std::min_element(src, src + static_cast<size_t>(H) * W);
        ColumnSums<Col, false> sums(src, H, W, r);
        ColumnSums<uint32_t, true> squares(src, H, W, r);
        double max_var = 0.0;
        for (long y = 0; y < H; ++y) {
            if (y > 0) sums.advance(y), squares.advance(y);
            window_row(sums.col.data(), pre.data(), s.data(), W, r);
            window_row(squares.col.data(), preq.data(), q.data(), W, r);
            for (int x = 0; x < W; ++x) {
                const double m = st.mean(double(Signed(s[x])));
                const double var = double(Signed(q[x])) * st.inv_d - m * m;
                max_var = var > max_var ? var : max_var;
            }
        }
        const double range = std::sqrt(max_var);
        inv_range = range > 0.0 ? 1.0 / range : 0.0;
    }

    ColumnSums<Col, false> sums(src, H, W, r);
    ColumnSums<uint32_t, true> squares(src, H, W, r);
    const double inv_R = 1.0 / 127.5, one_minus_k = 1.0 - k, k_min = k * image_min;
    for (long y = 0; y < H; ++y) {
        if (y > 0) sums.advance(y), squares.advance(y);
        window_row(sums.col.data(), pre.data(), s.data(), W, r);
        window_row(squares.col.data(), preq.data(), q.data(), W, r);
        const uint8_t* p = src + y * W;
        uint8_t* o = dst + y * W;
        if (method == kSauvola) {
            for (int x = 0; x < W; ++x) {
                const double sx = double(Signed(s[x])), qx = double(Signed(q[x]));
                const double m = st.mean(sx);
                const double t = m * (1.0 + k * (st.sd(sx, qx) * inv_R - 1.0));
                o[x] = double(p[x]) > t ? hit : miss;
            }
        } else {
            for (int x = 0; x < W; ++x) {
                const double sx = double(Signed(s[x])), qx = double(Signed(q[x]));
                const double m = st.mean(sx);
                const double a = st.sd(sx, qx) * inv_range;
                const double t = (one_minus_k * m + k_min) + k * a * (m - image_min);
                o[x] = double(p[x]) > t ? hit : miss;
            }
        }
    }
}

// cv::getGaussianKernel(n, 0, CV_32F): fixed tables up to 9 taps, else sampled and normalized in double.
std::vector<float> gaussian_kernel(int n) {
    static const double small[5][9] = {
        {1.0},
        {0.25, 0.5, 0.25},
        {0.0625, 0.25, 0.375, 0.25, 0.0625},
        {0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125},
        {0.015625, 0.05078125, 0.1171875, 0.19921875, 0.234375, 0.19921875, 0.1171875, 0.05078125, 0.015625}};
    std::vector<float> kern(n);
    if (n <= 9) {
        for (int i = 0; i < n; ++i) kern[i] = float(small[n / 2][i]);
        return kern;
    }
    const double sigma = n * 0.15 + 0.35;
    const double scale = -0.125 / (sigma * sigma);  // x runs over doubled offsets, hence 0.5 * 0.25
    const int half = (n - 1) / 2;
    std::vector<double> v(half);
    double sum = 0.0;
    for (int i = 0, x = 1 - n; i < half; ++i, x += 2) {
        v[i] = std::exp(double(x) * x * scale);
        sum += v[i];
    }
    const double mul = 1.0 / (sum * 2.0 + 1.0);
    for (int i = 0; i < half; ++i) kern[i] = kern[n - 1 - i] = float(v[i] * mul);
    kern[half] = float(mul);
    return kern;
}

// OpenCV 5 thresholds against GaussianBlur of the image converted to float32 (separable: rows, then
// columns, replicated border), rounded back to uint8. Float sums are done in the same tap order
// (centre, then symmetric pairs) so results differ from OpenCV only by its SIMD/FMA rounding.
FASTPLATE_CLONES void gaussian_threshold(const uint8_t* src, uint8_t* dst, int H, int W, int block, double c, bool invert) {
    const int r = block / 2;
    const std::vector<float> kern = gaussian_kernel(block);
    const float* kc = kern.data() + r;  // kc[j] = weight at offset +-j
    const long idelta = clamped_delta(c, invert);
    const uint8_t hit = invert ? 0 : 255, miss = invert ? 255 : 0;

    // Horizontally filtered rows, computed once each and kept for all output rows.
    std::vector<float> rows(static_cast<size_t>(H) * W);
    std::vector<float> padded(W + 2 * r);
    for (int y = 0; y < H; ++y) {
        const uint8_t* p = src + static_cast<size_t>(y) * W;
        for (int j = 0; j < r; ++j) padded[j] = p[0], padded[W + r + j] = p[W - 1];
        for (int x = 0; x < W; ++x) padded[r + x] = p[x];
        float* out = rows.data() + static_cast<size_t>(y) * W;
        const float* q = padded.data() + r;
        for (int x = 0; x < W; ++x) out[x] = kc[0] * q[x];
        for (int j = 1; j <= r; ++j) {
            const float w = kc[j];
            for (int x = 0; x < W; ++x) out[x] += w * (q[x - j] + q[x + j]);
        }
    }
    std::vector<float> acc(W);
    for (long y = 0; y < H; ++y) {
        const float* centre = rows.data() + y * W;
        for (int x = 0; x < W; ++x) acc[x] = kc[0] * centre[x];
        for (int j = 1; j <= r; ++j) {
            const float w = kc[j];
            const float* up = rows.data() + std::max<long>(y - j, 0) * W;
            const float* down = rows.data() + std::min<long>(y + j, H - 1) * W;
            for (int x = 0; x < W; ++x) acc[x] += w * (up[x] + down[x]);
        }
        const uint8_t* p = src + y * W;
        uint8_t* o = dst + y * W;
        for (int x = 0; x < W; ++x) {
            // convertTo(CV_8U): round half to even, saturate.
            const long m = std::lrint(std::min(255.0f, std::max(0.0f, acc[x])));
            o[x] = long(p[x]) + idelta > m ? hit : miss;
        }
    }
}

void adaptive_threshold(const carray<uint8_t>& src, carray<uint8_t>& out, int block, double c, int method,
                        double k, bool invert) {
    const int H = static_cast<int>(src.shape(0)), W = static_cast<int>(src.shape(1));
    const uint8_t* s = src.data();
    uint8_t* d = out.mutable_data();
    if (method == kGaussian) {
        gaussian_threshold(s, d, H, W, block, c, invert);
    } else if (method == kMean) {
        // Narrowest types that hold the sums: 255 * block per column, (src + 256) * block^2 per window.
        if (block <= 257)
            mean_threshold<uint16_t, uint32_t, int32_t>(s, d, H, W, block, c, invert);
        else if (block <= 2047)
            mean_threshold<uint32_t, uint32_t, int32_t>(s, d, H, W, block, c, invert);
        else
            mean_threshold<uint32_t, uint64_t, int64_t>(s, d, H, W, block, c, invert);
    } else {
        // Sums of squares reach 65025 * block^2: 32-bit up to block 181.
        if (block <= 181)
            contrast_threshold<uint16_t, uint32_t, int32_t>(s, d, H, W, block, method, k, invert);
        else
            contrast_threshold<uint32_t, uint64_t, int64_t>(s, d, H, W, block, method, k, invert);
    }
}

}  // namespace

void register_threshold(py::module_& m) {
    m.def("adaptive_threshold", &adaptive_threshold, py::arg("src"), py::arg("out"), py::arg("block_size"),
          py::arg("c"), py::arg("method"), py::arg("k"), py::arg("invert"),
          "adaptive_threshold(src(H,W) u8, out(H,W) u8, block_size, c, method, k, invert); "
          "method 0 mean, 1 gaussian, 2 sauvola, 3 wolf.",
          py::call_guard<py::gil_scoped_release>());
}
