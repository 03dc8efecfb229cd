// warp_batch: perspective-warp N quads of one image into a planar float32 batch, in parallel over N.
//
// Sampling follows cv2.warpPerspective(INTER_LINEAR, BORDER_REPLICATE) of OpenCV 5: each output pixel
// (x, y) samples the source at (X/W, Y/W), (X, Y, W) = M @ (x, y, 1), bilinearly with the exact fractional
// position (OpenCV 4 rounded positions to 1/32 px; OpenCV 5 no longer does), taps outside the image
// clamped to the edge. OpenCV rounds the result to uint8, so results differ from it by ~half a level.
//
// Positions and blends are computed in float32 (as OpenCV 5 does), in one fixed order of operations that
// fastplate/_numba/warp.py repeats, so both backends agree exactly. The AVX2 path computes 8 pixels at a
// time with gathers; it performs the very same float operations as the scalar path.
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
    size_t size() const { return static_cast<size_t>(H) * W * C; }
};

// The terms of M @ (x, y, 1) for one output row y, in float32: X = m0 * x + x0, and so on.
struct RowMap {
    float m0, x0, m3, y0, m6, w0, limit;

    RowMap(const double* M, int y, const Image& img)
        : m0(float(M[0])), x0(float(M[1] * y + M[2])), m3(float(M[3])), y0(float(M[4] * y + M[5])),
          m6(float(M[6])), w0(float(M[7] * y + M[8])), limit(float(std::max(img.H, img.W) + 2)) {}
};

// v clamped to [-limit, limit], NaN to -limit; the same comparisons as _mm256_max_ps(v, -limit), then
// _mm256_min_ps(v, limit).
inline float clamp(float v, float limit) {
    v = v > -limit ? v : -limit;
    return v < limit ? v : limit;
}

// One output pixel, channels c at out[c * plane]. Positions far outside the image, and those of a zero or
// non-finite W (inf or NaN after the division), clamp to `limit` beyond the image: the replicated edge.
template <int C>
inline void sample_pixel(const Image& img, const RowMap& r, int x, float* out, size_t plane, float scale) {
    const float fx = float(x);
    const float inv = 1.0f / (r.m6 * fx + r.w0);
    const float px = clamp((r.m0 * fx + r.x0) * inv, r.limit);
    const float py = clamp((r.m3 * fx + r.y0) * inv, r.limit);
    const float flx = std::floor(px), fly = std::floor(py);
    const float ax = px - flx, ay = py - fly;
    const int sx = int(flx), sy = int(fly);
    const int x0 = std::min(std::max(sx, 0), img.W - 1), x1 = std::min(std::max(sx + 1, 0), img.W - 1);
    const int y0 = std::min(std::max(sy, 0), img.H - 1), y1 = std::min(std::max(sy + 1, 0), img.H - 1);
    const uint8_t* r0 = img.data + static_cast<size_t>(y0) * img.W * C;
    const uint8_t* r1 = img.data + static_cast<size_t>(y1) * img.W * C;
    for (int c = 0; c < C; ++c) {
        const float p00 = r0[x0 * C + c], p01 = r0[x1 * C + c], p10 = r1[x0 * C + c], p11 = r1[x1 * C + c];
        const float top = p00 + ax * (p01 - p00);
        const float bottom = p10 + ax * (p11 - p10);
        out[c * plane] = (top + ay * (bottom - top)) * scale;
    }
}

template <int C>
void sample_row_scalar(const Image& img, const RowMap& r, int begin, int end, float* out, size_t plane,
                       float scale) {
    for (int x = begin; x < end; ++x) sample_pixel<C>(img, r, x, out + x, plane, scale);
}

#ifdef FASTPLATE_AVX2_INTRINSICS

// A tap as fetched by a gather: the 32-bit word read, and the bit shift of the tap's first channel in it.
struct Tap {
    __m256i word, shift;
};

// The 4 bytes at each tap's first channel; near the end of the image the last 4 bytes of the buffer
// instead, shifted, so that the gather never reads past the image.
FASTPLATE_AVX2_INLINE Tap gather_tap(const int* base, __m256i offset, __m256i last_word) {
    const __m256i at = _mm256_min_epi32(offset, last_word);
    return {_mm256_i32gather_epi32(base, at, 1), _mm256_slli_epi32(_mm256_sub_epi32(offset, at), 3)};
}

FASTPLATE_AVX2_INLINE __m256 tap_channel(const Tap& tap, int c) {
    const __m256i shift = _mm256_add_epi32(tap.shift, _mm256_set1_epi32(8 * c));
    return _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srlv_epi32(tap.word, shift), _mm256_set1_epi32(255)));
}

// 8 output pixels at a time, with the same float operations as sample_pixel; returns how many were done.
template <int C>
FASTPLATE_TARGET_AVX2 int sample_row_avx2(const Image& img, const RowMap& r, int w, float* out,
                                                    size_t plane, float scale) {
    if (img.size() < 4) return 0;
    const __m256 m0 = _mm256_set1_ps(r.m0), x0 = _mm256_set1_ps(r.x0), m3 = _mm256_set1_ps(r.m3);
    const __m256 y0 = _mm256_set1_ps(r.y0), m6 = _mm256_set1_ps(r.m6), w0 = _mm256_set1_ps(r.w0);
    const __m256 hi = _mm256_set1_ps(r.limit), lo = _mm256_set1_ps(-r.limit), one = _mm256_set1_ps(1.0f);
    const __m256 vscale = _mm256_set1_ps(scale);
    const __m256i zero = _mm256_setzero_si256(), max_x = _mm256_set1_epi32(img.W - 1);
    const __m256i max_y = _mm256_set1_epi32(img.H - 1), row = _mm256_set1_epi32(img.W * C);
    const __m256i channels = _mm256_set1_epi32(C), last_word = _mm256_set1_epi32(int(img.size() - 4));
    const __m256i one_i = _mm256_set1_epi32(1), lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const int* base = reinterpret_cast<const int*>(img.data);
    int x = 0;
    for (; x + 8 <= w; x += 8) {
        const __m256 fx = _mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_set1_epi32(x), lanes));
        const __m256 inv = _mm256_div_ps(one, _mm256_add_ps(_mm256_mul_ps(m6, fx), w0));
        const __m256 px = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(_mm256_add_ps(_mm256_mul_ps(m0, fx), x0), inv), lo), hi);
        const __m256 py = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(_mm256_add_ps(_mm256_mul_ps(m3, fx), y0), inv), lo), hi);
        const __m256 flx = _mm256_floor_ps(px), fly = _mm256_floor_ps(py);
        const __m256 ax = _mm256_sub_ps(px, flx), ay = _mm256_sub_ps(py, fly);
        const __m256i sx = _mm256_cvttps_epi32(flx), sy = _mm256_cvttps_epi32(fly);
        const __m256i cx0 = _mm256_min_epi32(_mm256_max_epi32(sx, zero), max_x);
        const __m256i cx1 = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(sx, one_i), zero), max_x);
        const __m256i cy0 = _mm256_min_epi32(_mm256_max_epi32(sy, zero), max_y);
        const __m256i cy1 = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(sy, one_i), zero), max_y);
        const __m256i r0 = _mm256_mullo_epi32(cy0, row), r1 = _mm256_mullo_epi32(cy1, row);
        const __m256i c0 = _mm256_mullo_epi32(cx0, channels), c1 = _mm256_mullo_epi32(cx1, channels);
        const Tap t00 = gather_tap(base, _mm256_add_epi32(r0, c0), last_word);
        const Tap t10 = gather_tap(base, _mm256_add_epi32(r1, c0), last_word);
        Tap t01, t11;
        if (C == 1) {
            // Gathers are slow: with one channel the right-hand tap is in the same word, 0 or 1 byte on.
            const __m256i step = _mm256_slli_epi32(_mm256_sub_epi32(cx1, cx0), 3);
            t01 = {t00.word, _mm256_add_epi32(t00.shift, step)};
            t11 = {t10.word, _mm256_add_epi32(t10.shift, step)};
        } else {
            t01 = gather_tap(base, _mm256_add_epi32(r0, c1), last_word);
            t11 = gather_tap(base, _mm256_add_epi32(r1, c1), last_word);
        }
        for (int c = 0; c < C; ++c) {
            const __m256 p00 = tap_channel(t00, c), p01 = tap_channel(t01, c);
            const __m256 p10 = tap_channel(t10, c), p11 = tap_channel(t11, c);
            const __m256 top = _mm256_add_ps(p00, _mm256_mul_ps(ax, _mm256_sub_ps(p01, p00)));
            const __m256 bottom = _mm256_add_ps(p10, _mm256_mul_ps(ax, _mm256_sub_ps(p11, p10)));
            const __m256 value = _mm256_add_ps(top, _mm256_mul_ps(ay, _mm256_sub_ps(bottom, top)));
            _mm256_storeu_ps(out + c * plane + x, _mm256_mul_ps(value, vscale));
        }
    }
    return x;
}

#endif

// M divided by its largest |entry| (the same projective map), so that its float32 terms neither overflow
// nor underflow; left alone when an entry is not finite (the samples then land on the edge).
inline void normalized(const double* M, double* out) {
    double largest = 0.0;
    bool finite = true;
    for (int i = 0; i < 9; ++i) {
        finite = finite && std::isfinite(M[i]);
        largest = std::max(largest, std::fabs(M[i]));
    }
    for (int i = 0; i < 9; ++i) out[i] = finite && largest > 0.0 ? M[i] / largest : M[i];
}

template <int C>
void warp_one(const Image& img, const double* matrix, float* out, int h, int w, float scale) {
    const size_t plane = static_cast<size_t>(h) * w;
    double M[9];
    normalized(matrix, M);
    for (int y = 0; y < h; ++y) {
        const RowMap r(M, y, img);
        float* row = out + static_cast<size_t>(y) * w;
        int done = 0;
#ifdef FASTPLATE_AVX2_INTRINSICS
        if (C <= 4 && has_avx2()) done = sample_row_avx2<C>(img, r, w, row, plane, scale);
#endif
        sample_row_scalar<C>(img, r, done, w, row, plane, scale);
    }
}

void warp_batch(const carray<uint8_t>& src, const carray<double>& matrices, carray<float>& out, double scale,
                int n_threads) {
    const Image img{src.data(), int(src.shape(0)), int(src.shape(1)), int(src.shape(2))};
    const int n = int(out.shape(0)), h = int(out.shape(2)), w = int(out.shape(3));
    const size_t per_quad = static_cast<size_t>(img.C) * h * w;
    const double* M = matrices.data();
    float* dst = out.mutable_data();
    const float fscale = float(scale);
    auto warp = [&](int i) {
        switch (img.C) {
            case 1: return warp_one<1>(img, M + 9 * i, dst + i * per_quad, h, w, fscale);
            case 3: return warp_one<3>(img, M + 9 * i, dst + i * per_quad, h, w, fscale);
            case 4: return warp_one<4>(img, M + 9 * i, dst + i * per_quad, h, w, fscale);
            default: return warp_one<2>(img, M + 9 * i, dst + i * per_quad, h, w, fscale);
        }
    };
    // Threads pay off only with enough pixels each (starting one costs ~20-50 us).
    const size_t pixels = static_cast<size_t>(n) * h * w;
    const int workers = int(std::max<size_t>(1, std::min<size_t>({size_t(std::max(n_threads, 1)), size_t(n),
                                                                    pixels / 16384})));
    std::atomic<int> next{0};  // quads are handed out one at a time, so uneven quads balance out
    auto work = [&]() {
        for (int i; (i = next.fetch_add(1)) < n;) warp(i);
    };
    std::vector<std::thread> pool;
    try {
        pool.reserve(workers - 1);
        for (int t = 1; t < workers; ++t) pool.emplace_back(work);
    } catch (const std::exception&) {
        // No more threads to be had: those running (and this one) share the remaining quads.
    }
    work();
    for (auto& thread : pool) thread.join();
}

}  // namespace

void register_warp(py::module_& m) {
    m.def("warp_batch", &warp_batch, py::arg("src"), py::arg("matrices"), py::arg("out"), py::arg("scale"),
          py::arg("n_threads"),
          "warp_batch(src(H,W,C) u8, matrices(N,3,3) f64, out(N,C,h,w) f32, scale, n_threads): for each output "
          "pixel (x, y) sample src at M @ (x, y, 1) bilinearly, edges replicated, times scale.",
          py::call_guard<py::gil_scoped_release>());
}
