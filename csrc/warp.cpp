// warp_batch: perspective-warp N quads of one image into a planar float32 batch, in parallel over N.
//
// Sampling follows cv2.warpPerspective(INTER_LINEAR, BORDER_REPLICATE) of OpenCV 5: each output pixel
// (x, y) samples the source at (X/W, Y/W), (X, Y, W) = M @ (x, y, 1), bilinearly with the exact fractional
// position (OpenCV 4 rounded positions to 1/32 px; OpenCV 5 no longer does), taps outside the image
// clamped to the edge. OpenCV rounds the result to uint8, so results differ from it by ~half a level.
//
// Positions and blends are computed in float32 (as OpenCV 5 does), in one fixed order of operations that
// fastplate/_numba/warp.py repeats, so both backends agree exactly. The AVX2 paths compute 8 pixels at a
// time with the very same float operations as the scalar path, fetching taps with gathers or, for gray
// images, mostly with byte shuffles of a few whole source rows (see sample_row_gray_avx2).
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

// Byte `index` of the 16 bytes in each half of upper_row, or of lower_row in the `lower` lanes, as float.
FASTPLATE_AVX2_INLINE __m256 pick(__m256i upper_row, __m256i lower_row, __m256i index, __m256i lower) {
    return _mm256_cvtepi32_ps(_mm256_blendv_epi8(_mm256_shuffle_epi8(upper_row, index),
                                                 _mm256_shuffle_epi8(lower_row, index), lower));
}

// One channel, 8 output pixels at a time, with the same float operations as sample_row_avx2<1>, but
// mostly without gathers, which are slow on some CPUs (AMD Zen 2/3: half of that loop's time). Plate warps
// sample a source neighbourhood a few pixels wide: when the 8 pixels' taps lie within 16 columns and 3
// rows from the group's top-left tap, away from the image's right and bottom edges, those 3 row pieces are
// loaded whole and the taps picked out with byte shuffles. Other groups use gathers, like sample_row_avx2.
FASTPLATE_TARGET_AVX2 int sample_row_gray_avx2(const Image& img, const RowMap& r, int w, float* out, float scale) {
    if (img.W < 2 || img.H < 2) return sample_row_avx2<1>(img, r, w, out, 0, scale);  // no interior
    const __m256 m0 = _mm256_set1_ps(r.m0), x0 = _mm256_set1_ps(r.x0), m3 = _mm256_set1_ps(r.m3);
    const __m256 y0 = _mm256_set1_ps(r.y0), m6 = _mm256_set1_ps(r.m6), w0 = _mm256_set1_ps(r.w0);
    const __m256 hi = _mm256_set1_ps(r.limit), lo = _mm256_set1_ps(-r.limit), one = _mm256_set1_ps(1.0f);
    const __m256 vscale = _mm256_set1_ps(scale);
    const __m256i zero = _mm256_setzero_si256(), max_x = _mm256_set1_epi32(img.W - 1);
    const __m256i max_y = _mm256_set1_epi32(img.H - 1), row = _mm256_set1_epi32(img.W);
    const __m256i last_word = _mm256_set1_epi32(int(img.size() - 4));  // size >= 4: W, H >= 2
    const __m256i one_i = _mm256_set1_epi32(1), lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i low4 = _mm256_set1_epi32(15);
    // Corners (bx, by) allowed, compared as unsigned (negative fails); none when W < 16 or H < 3.
    const unsigned corner_x = img.W >= 16 ? unsigned(img.W - 16) : 0u, corner_y = unsigned(img.H - 3);
    const bool fits = img.W >= 16 && img.H >= 3;
    const __m256i high_bytes = _mm256_set1_epi32(int(0x80808000u));  // pshufb: zero bytes 1-3 of each lane
    const int* words = reinterpret_cast<const int*>(img.data);
    // Two phases per block of up to 8 groups, so that the long chain of each group (division, floor,
    // corner, loads, shuffles, blends) does not stall the next: positions first, then taps and blends.
    constexpr int kGroups = 8;
    alignas(32) float frac_x[8 * kGroups], frac_y[8 * kGroups];
    alignas(32) int32_t col[8 * kGroups], row_of[8 * kGroups];  // sx, sy: the taps' top-left corners
    int corner_x_of[kGroups], corner_y_of[kGroups];              // (bx, by), or by = -1: use gathers
    int x = 0;
    while (x + 8 <= w) {
        const int groups = std::min(kGroups, (w - x) / 8);
        for (int g = 0; g < groups; ++g) {
            const __m256 fx = _mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_set1_epi32(x + 8 * g), lanes));
            const __m256 inv = _mm256_div_ps(one, _mm256_add_ps(_mm256_mul_ps(m6, fx), w0));
            const __m256 px = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(_mm256_add_ps(_mm256_mul_ps(m0, fx), x0), inv), lo), hi);
            const __m256 py = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(_mm256_add_ps(_mm256_mul_ps(m3, fx), y0), inv), lo), hi);
            const __m256 flx = _mm256_floor_ps(px), fly = _mm256_floor_ps(py);
            _mm256_store_ps(frac_x + 8 * g, _mm256_sub_ps(px, flx));
            _mm256_store_ps(frac_y + 8 * g, _mm256_sub_ps(py, fly));
            const __m256i sx = _mm256_cvttps_epi32(flx), sy = _mm256_cvttps_epi32(fly);
            _mm256_store_si256(reinterpret_cast<__m256i*>(col + 8 * g), sx);
            _mm256_store_si256(reinterpret_cast<__m256i*>(row_of + 8 * g), sy);
            // The taps' top-left corner, from the first and last pixels (positions along a row are
            // monotonic for any non-degenerate quad, up or down; the checks below cover every lane anyway).
            const int bx = std::min(_mm256_cvtsi256_si32(sx), _mm256_extract_epi32(sx, 7));
            const int by = std::min(_mm256_cvtsi256_si32(sy), _mm256_extract_epi32(sy, 7));
            const __m256i dx = _mm256_sub_epi32(sx, _mm256_set1_epi32(bx));
            const __m256i dy = _mm256_sub_epi32(sy, _mm256_set1_epi32(by));
            // Every lane within dx in [0, 14] (its right tap too inside the 16 bytes) and dy in [0, 1]: no
            // bits beyond the low 4 in dx and dx + 1, none beyond the lowest in dy. Then the corner (bx, by)
            // inside [0, W - 16] x [0, H - 3] keeps all taps and the 3 row pieces inside the image.
            const __m256i outside = _mm256_or_si256(
                _mm256_andnot_si256(low4, _mm256_or_si256(dx, _mm256_add_epi32(dx, one_i))), _mm256_andnot_si256(one_i, dy));
            const bool near = fits && _mm256_testz_si256(outside, outside) && unsigned(bx) <= corner_x &&
                              unsigned(by) <= corner_y;
            corner_x_of[g] = bx, corner_y_of[g] = near ? by : -1;
        }
        for (int g = 0; g < groups; ++g) {
            const __m256i sx = _mm256_load_si256(reinterpret_cast<const __m256i*>(col + 8 * g));
            const __m256i sy = _mm256_load_si256(reinterpret_cast<const __m256i*>(row_of + 8 * g));
            __m256 p00, p01, p10, p11;
            if (corner_y_of[g] >= 0) {
                // Interior: no clamping, x1 = x0 + 1 and y1 = y0 + 1.
                const uint8_t* at = img.data + size_t(corner_y_of[g]) * img.W + corner_x_of[g];
                const __m256i r0 = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(at)));
                const __m256i r1 = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(at + img.W)));
                const __m256i r2 = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(at + 2 * img.W)));
                const __m256i dx = _mm256_sub_epi32(sx, _mm256_set1_epi32(corner_x_of[g]));
                const __m256i dy = _mm256_sub_epi32(sy, _mm256_set1_epi32(corner_y_of[g]));
                const __m256i left = _mm256_or_si256(dx, high_bytes), right = _mm256_add_epi32(left, one_i);
                const __m256i lower = _mm256_cmpeq_epi32(dy, one_i);  // lanes whose top tap is in row by + 1
                p00 = pick(r0, r1, left, lower), p01 = pick(r0, r1, right, lower);
                p10 = pick(r1, r2, left, lower), p11 = pick(r1, r2, right, lower);
            } else {
                const __m256i cx0 = _mm256_min_epi32(_mm256_max_epi32(sx, zero), max_x);
                const __m256i cx1 = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(sx, one_i), zero), max_x);
                const __m256i cy0 = _mm256_min_epi32(_mm256_max_epi32(sy, zero), max_y);
                const __m256i cy1 = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(sy, one_i), zero), max_y);
                const Tap t00 = gather_tap(words, _mm256_add_epi32(_mm256_mullo_epi32(cy0, row), cx0), last_word);
                const Tap t10 = gather_tap(words, _mm256_add_epi32(_mm256_mullo_epi32(cy1, row), cx0), last_word);
                const __m256i step = _mm256_slli_epi32(_mm256_sub_epi32(cx1, cx0), 3);
                p00 = tap_channel(t00, 0), p01 = tap_channel({t00.word, _mm256_add_epi32(t00.shift, step)}, 0);
                p10 = tap_channel(t10, 0), p11 = tap_channel({t10.word, _mm256_add_epi32(t10.shift, step)}, 0);
            }
            const __m256 ax = _mm256_load_ps(frac_x + 8 * g), ay = _mm256_load_ps(frac_y + 8 * g);
            const __m256 top = _mm256_add_ps(p00, _mm256_mul_ps(ax, _mm256_sub_ps(p01, p00)));
            const __m256 bottom = _mm256_add_ps(p10, _mm256_mul_ps(ax, _mm256_sub_ps(p11, p10)));
            const __m256 value = _mm256_add_ps(top, _mm256_mul_ps(ay, _mm256_sub_ps(bottom, top)));
            _mm256_storeu_ps(out + x + 8 * g, _mm256_mul_ps(value, vscale));
        }
        x += 8 * groups;
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
        if (C == 1 && has_avx2())
            done = sample_row_gray_avx2(img, r, w, row, scale);
        else if (C <= 4 && has_avx2())
            done = sample_row_avx2<C>(img, r, w, row, plane, scale);
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

// Homographies from N quads (N, 4, 2) to an (h, w) rectangle: the closed form of kernels.py's
// quad_to_rect_matrices (Heckbert's unit square -> quad, after output pixels -> unit square), the same
// double operations in the same order as tests/reference.py. Returns the first quad that is degenerate
// (a non-finite entry, or three corners on a line: |cross| < 1e-12 at any corner), or -1. In C++
// because, for a few dozen quads, the NumPy form's ~40 small array operations cost as much as warping them.
long quad_matrices(const carray<double>& quads, carray<double>& out, int h, int w) {
    const long n = long(quads.shape(0));
    const double* q = quads.data();
    double* m = out.mutable_data();
    long bad = -1;
    for (long i = 0; i < n; ++i, q += 8, m += 9) {
        const double x0 = q[0], y0 = q[1], x1 = q[2], y1 = q[3], x2 = q[4], y2 = q[5], x3 = q[6], y3 = q[7];
        const double sx = x0 - x1 + x2 - x3, sy = y0 - y1 + y2 - y3;
        const double dx1 = x1 - x2, dx2 = x3 - x2, dy1 = y1 - y2, dy2 = y3 - y2;
        const double det = dx1 * dy2 - dx2 * dy1;
        const double g = (sx * dy2 - dx2 * sy) / det, hh = (dx1 * sy - sx * dy1) / det;
        m[0] = (x1 - x0 + g * x1) / (w - 1), m[1] = (x3 - x0 + hh * x3) / (h - 1), m[2] = x0;
        m[3] = (y1 - y0 + g * y1) / (w - 1), m[4] = (y3 - y0 + hh * y3) / (h - 1), m[5] = y0;
        m[6] = g / (w - 1), m[7] = hh / (h - 1), m[8] = 1.0;
        bool finite = true;
        for (int j = 0; j < 9; ++j) finite = finite && std::isfinite(m[j]);
        // det is the cross product at corner 2; the other corners' lines leave it non-zero but the
        // homography singular (a corner maps to infinity), so they are checked too.
        const double c0 = (x1 - x0) * (y3 - y0) - (x3 - x0) * (y1 - y0);
        const double c1 = (x0 - x1) * (y2 - y1) - (x2 - x1) * (y0 - y1);
        const double c3 = (x2 - x3) * (y0 - y3) - (x0 - x3) * (y2 - y3);
        const bool flat = !(std::fabs(det) >= 1e-12 && std::fabs(c0) >= 1e-12 && std::fabs(c1) >= 1e-12 &&
                            std::fabs(c3) >= 1e-12);
        if (bad < 0 && (!finite || flat)) bad = i;
    }
    return bad;
}

}  // namespace

void register_warp(py::module_& m) {
    m.def("warp_batch", &warp_batch, py::arg("src"), py::arg("matrices"), py::arg("out"), py::arg("scale"),
          py::arg("n_threads"),
          "warp_batch(src(H,W,C) u8, matrices(N,3,3) f64, out(N,C,h,w) f32, scale, n_threads): for each output "
          "pixel (x, y) sample src at M @ (x, y, 1) bilinearly, edges replicated, times scale.",
          py::call_guard<py::gil_scoped_release>());
    m.def("quad_matrices", &quad_matrices, py::arg("quads"), py::arg("out"), py::arg("h"), py::arg("w"),
          "quad_matrices(quads(N,4,2) f64, out(N,3,3) f64, h, w) -> first degenerate quad or -1: the "
          "homographies mapping output pixels (x, y, 1) of an (h, w) rectangle onto each quad.",
          py::call_guard<py::gil_scoped_release>());
}
