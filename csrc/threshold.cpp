// adaptive_threshold: local mean (OpenCV-exact), Gaussian (OpenCV 5's float path), Sauvola and Wolf-Jolion.
//
// Mean, Sauvola and Wolf need sums of the pixels (and of their squares) over a block x block window with
// replicated borders. They come from running column sums (one vector add/subtract of a row per output
// row) and a per-row prefix sum, so the cost does not depend on block_size. Unsigned wrap-around keeps
// differences of prefix sums exact as long as the true window sum fits the type.
// Row loops are separate FASTPLATE_CLONES functions so each gets an AVX2 build where available.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include "common.hpp"
#include "dispatch.hpp"

namespace {

enum Method { kMean = 0, kGaussian = 1, kSauvola = 2, kWolf = 3 };

inline const uint8_t* clamped_row(const uint8_t* src, long y, int H, int W) {
    y = y < 0 ? 0 : (y >= H ? H - 1 : y);
    return src + static_cast<size_t>(y) * W;
}

// What a column sum adds up per pixel: the value or its square.
enum Term { kValue, kSquare };

template <class Col, Term T>
inline Col term(uint8_t v) {
    return T == kValue ? Col(v) : Col(uint32_t(v) * v);
}

template <class Col, Term T>
FASTPLATE_CLONES void add_rows(Col* __restrict col, const uint8_t* __restrict row, Col count, int W) {
    for (int x = 0; x < W; ++x) col[x] = Col(col[x] + count * term<Col, T>(row[x]));
}

template <class Col, Term T>
FASTPLATE_CLONES void slide_rows(Col* __restrict col, const uint8_t* __restrict add, const uint8_t* __restrict sub,
                                 int W) {
    for (int x = 0; x < W; ++x) col[x] = Col(col[x] + term<Col, T>(add[x]) - term<Col, T>(sub[x]));
}

// Sums of term(pixel) over rows [y - r, y + r], edge rows replicated, one per column.
template <class Col, Term T>
struct ColumnSums {
    const uint8_t* src;
    int H, W, r;
    std::vector<Col> col;

    ColumnSums(const uint8_t* src_, int H_, int W_, int r_) : src(src_), H(H_), W(W_), r(r_), col(W_, 0) {
        // Window of output row 0 is rows [-r, r]: row j counts once per i in [-r, r] with clamp(i) == j.
        const long last = std::min<long>(r, H - 1);
        for (long j = 0; j <= last; ++j) {
            const long lo = j == 0 ? -r : j;
            const long hi = j == H - 1 ? r : j;
            add_rows<Col, T>(col.data(), src + static_cast<size_t>(j) * W, Col(hi - lo + 1), W);
        }
    }

    // Move the window from output row y - 1 to y.
    void advance(long y) {
        const uint8_t* add = clamped_row(src, y + r, H, W);
        const uint8_t* sub = clamped_row(src, y - r - 1, H, W);
        if (add != sub) slide_rows<Col, T>(col.data(), add, sub, W);
    }
};

#ifdef FASTPLATE_AVX2_INTRINSICS
// Prefix sums with AVX2: each vector is scanned in-register (shift and add), then offset by the running
// total. Two vectors per step keep the serial part (the running total) to two additions per 8 or 16
// sums; scalar code manages about one sum per 2 cycles, this about 3 per cycle. Return how many of the W
// sums were done; the caller finishes the rest.

// Inclusive scan of 4 uint64 lanes.
FASTPLATE_AVX2_INLINE __m256i scan4x64(__m256i v) {
    v = _mm256_add_epi64(v, _mm256_slli_si256(v, 8));  // within each 128-bit half
    const __m256i low_total = _mm256_permute4x64_epi64(v, _MM_SHUFFLE(1, 1, 1, 1));
    return _mm256_add_epi64(v, _mm256_blend_epi32(_mm256_setzero_si256(), low_total, 0xF0));
}

// Inclusive scan of 8 uint32 lanes.
FASTPLATE_AVX2_INLINE __m256i scan8x32(__m256i v) {
    v = _mm256_add_epi32(v, _mm256_slli_si256(v, 4));
    v = _mm256_add_epi32(v, _mm256_slli_si256(v, 8));
    const __m256i low_total = _mm256_permutevar8x32_epi32(v, _mm256_set1_epi32(3));
    return _mm256_add_epi32(v, _mm256_blend_epi32(_mm256_setzero_si256(), low_total, 0xF0));
}

// pre[x + 1] = sum of packed(x') for x' <= x, packed = squares << 32 | sums.
FASTPLATE_AVX2_INLINE __m256i packed4(const uint16_t* s, const uint32_t* q) {
    const __m256i lo = _mm256_cvtepu16_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(s)));
    const __m256i hi = _mm256_cvtepu32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q)));
    return _mm256_or_si256(_mm256_slli_epi64(hi, 32), lo);
}

FASTPLATE_TARGET_AVX2 long packed_prefix_avx2(const uint16_t* sums, const uint32_t* squares, uint64_t* pre, long W) {
    __m256i total = _mm256_setzero_si256();
    long x = 0;
    for (; x + 8 <= W; x += 8) {
        const __m256i a = scan4x64(packed4(sums + x, squares + x));
        const __m256i b = scan4x64(packed4(sums + x + 4, squares + x + 4));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(pre + x + 1), _mm256_add_epi64(a, total));
        total = _mm256_add_epi64(total, _mm256_permute4x64_epi64(a, _MM_SHUFFLE(3, 3, 3, 3)));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(pre + x + 5), _mm256_add_epi64(b, total));
        total = _mm256_add_epi64(total, _mm256_permute4x64_epi64(b, _MM_SHUFFLE(3, 3, 3, 3)));
    }
    return x;
}

// pre[x + 1] = sum of col[x'] for x' <= x, uint16 in, uint32 out.
FASTPLATE_TARGET_AVX2 long prefix_avx2(const uint16_t* col, uint32_t* pre, long W) {
    __m256i total = _mm256_setzero_si256();
    const __m256i last = _mm256_set1_epi32(7);
    long x = 0;
    for (; x + 16 <= W; x += 16) {
        const __m256i both = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(col + x));
        const __m256i a = scan8x32(_mm256_cvtepu16_epi32(_mm256_castsi256_si128(both)));
        const __m256i b = scan8x32(_mm256_cvtepu16_epi32(_mm256_extracti128_si256(both, 1)));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(pre + x + 1), _mm256_add_epi32(a, total));
        total = _mm256_add_epi32(total, _mm256_permutevar8x32_epi32(a, last));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(pre + x + 9), _mm256_add_epi32(b, total));
        total = _mm256_add_epi32(total, _mm256_permutevar8x32_epi32(b, last));
    }
    return x;
}
#endif

// Prefix sums pre[0..W] of col(0..W-1), from pre[from] on (pre[0..from] already done).
template <class Acc, class Column>
__attribute__((always_inline)) inline void scalar_prefix(Column col, Acc* __restrict pre, long from, long W) {
    // One serial chain; unrolling by 4 lets the loads and stores overlap it.
    Acc run = pre[from];
    long x = from;
    for (; x + 4 <= W; x += 4) {
        const Acc a = Acc(run + col(x)), b = Acc(a + col(x + 1)), c = Acc(b + col(x + 2));
        run = Acc(c + col(x + 3));
        pre[x + 1] = a, pre[x + 2] = b, pre[x + 3] = c, pre[x + 4] = run;
    }
    for (; x < W; ++x) pre[x + 1] = run = Acc(run + col(x));
}

// win[x] = sum of col(clamp(j)) for j in [x - r, x + r], from the prefix sums pre[0..W].
// (always_inline: it must be compiled into each AVX2 clone that calls it.)
template <class Acc, class Column>
__attribute__((always_inline)) inline void windows_from_prefix(Column col, const Acc* __restrict pre,
                                                               Acc* __restrict win, long W, long r) {
    // The prefix sum continued beyond the row with the replicated edge columns.
    auto G = [&](long j) -> Acc {
        if (j <= 0) return Acc(Acc(j) * col(0));
        if (j >= W) return Acc(pre[W] + Acc(j - W) * col(W - 1));
        return pre[j];
    };
    const long lo = std::min<long>(r, W), hi = std::max<long>(lo, long(W) - r);  // interior [lo, hi)
    for (long i = 0; i < lo; ++i) win[i] = Acc(G(i + r + 1) - G(i - r));
    for (long i = lo; i < hi; ++i) win[i] = Acc(pre[i + r + 1] - pre[i - r]);
    for (long i = hi; i < W; ++i) win[i] = Acc(G(i + r + 1) - G(i - r));
}

template <class Col, class Acc>
FASTPLATE_CLONES void window_row(const Col* __restrict col, Acc* __restrict pre, Acc* __restrict win, int W, int r) {
    auto column = [col](long x) { return Acc(col[x]); };
    pre[0] = 0;
    long done = 0;
#ifdef FASTPLATE_AVX2_INTRINSICS
    if constexpr (std::is_same_v<Col, uint16_t> && std::is_same_v<Acc, uint32_t>) {
        if (has_avx2()) done = prefix_avx2(col, pre, W);
    }
#endif
    scalar_prefix<Acc>(column, pre, done, W);
    windows_from_prefix<Acc>(column, pre, win, W, r);
}

// Window sums of the values (low 32 bits) and of their squares (high 32 bits) packed in one uint64_t, so
// one prefix-sum chain serves both: packed sums are exact modulo 2^64, so each half stays exact while its
// window sum is below 2^32 (block <= 257).
FASTPLATE_CLONES void packed_window_row(const uint16_t* __restrict sums, const uint32_t* __restrict squares,
                                        uint64_t* __restrict pre, uint64_t* __restrict win, int W, int r) {
    auto column = [sums, squares](long x) { return (uint64_t(squares[x]) << 32) | sums[x]; };
    pre[0] = 0;
    long done = 0;
#ifdef FASTPLATE_AVX2_INTRINSICS
    if (has_avx2()) done = packed_prefix_avx2(sums, squares, pre, W);
#endif
    scalar_prefix<uint64_t>(column, pre, done, W);
    windows_from_prefix<uint64_t>(column, pre, win, W, r);
}

// ------------------------------------------------------------------------------------------------ mean
// OpenCV: dst = (src - mean > -idelta) ? 255 : 0 for THRESH_BINARY with idelta = ceil(c), the complement
// for THRESH_BINARY_INV with idelta = floor(c). mean = round(s / d) never ties for odd d, so
// mean = (s + (d - 1) / 2) / d and the test is s + (d - 1) / 2 < (src + idelta) * d: no division.
inline long clamped_delta(double c, bool invert) {
    const double rounded = invert ? std::floor(c) : std::ceil(c);
    // |idelta| >= 256 makes the outcome independent of the pixel; clamping keeps products small.
    return static_cast<long>(std::max(-256.0, std::min(256.0, rounded)));
}

template <class Acc, class Signed>
FASTPLATE_CLONES void mean_row(const Acc* __restrict win, const uint8_t* __restrict src, uint8_t* __restrict dst,
                               int W, Signed d, Signed K, uint8_t flip) {
    for (int x = 0; x < W; ++x) dst[x] = uint8_t(0u - uint8_t(Signed(win[x]) < Signed(src[x]) * d + K)) ^ flip;
}

template <class Col, class Acc, class Signed>
void mean_threshold(const uint8_t* src, uint8_t* dst, int H, int W, int block, double c, bool invert) {
    const int r = block / 2;
    const Signed d = Signed(block) * block;
    const Signed K = Signed(clamped_delta(c, invert)) * d - (d - 1) / 2;
    ColumnSums<Col, kValue> sums(src, H, W, r);
    std::vector<Acc> pre(W + 1), win(W);
    for (long y = 0; y < H; ++y) {
        if (y > 0) sums.advance(y);
        window_row(sums.col.data(), pre.data(), win.data(), W, r);
        mean_row<Acc, Signed>(win.data(), src + y * W, dst + y * W, W, d, K, invert ? 255 : 0);
    }
}

// ------------------------------------------------------------------------------------- Sauvola, Wolf
// Window mean m = s * inv_d and variance var = max(q * inv_d - m * m, 0) in double, from the window sums
// s of the pixels and q of their squares: packed in one word (Packed, block <= 181) or two (block > 181).
template <bool Packed>
inline double window_sum(const uint64_t* a, int x) {
    return Packed ? double(int32_t(uint32_t(a[x]))) : double(int64_t(a[x]));
}
template <bool Packed>
inline double window_square_sum(const uint64_t* a, const uint64_t* b, int x) {
    return Packed ? double(int32_t(a[x] >> 32)) : double(int64_t(b[x]));
}

// pixel > T with T = base + B * sd, sd = sqrt(var), decided without the square root:
// for B >= 0 it is A > 0 and A^2 > B^2 var, for B < 0 it is A > 0 or B^2 var > A^2, where A = pixel - base.
// Same outcome as comparing against T except at exact ties, where rounding decides either way.
// (Written with bitwise operators only, so the loops stay branch-free and vectorize.)
inline bool above(double A, double B, double var) {
    const double AA = A * A, BBvar = (B * B) * var;
    const bool positive = A > 0.0;
    return (positive & (AA > BBvar)) | ((B < 0.0) & (positive | (BBvar > AA)));
}

// Sauvola: T = m * (1 + k * (sd / R - 1)) = m * (1 - k) + (m * k / R) * sd.
template <bool Packed>
FASTPLATE_CLONES void sauvola_row(const uint64_t* __restrict a, const uint64_t* __restrict b,
                                  const uint8_t* __restrict src, uint8_t* __restrict dst, int W, double inv_d,
                                  double one_minus_k, double k_over_R, uint8_t flip) {
    for (int x = 0; x < W; ++x) {
        const double m = window_sum<Packed>(a, x) * inv_d;
        const double var = std::max(window_square_sum<Packed>(a, b, x) * inv_d - m * m, 0.0);
        const bool hit = above(double(src[x]) - m * one_minus_k, m * k_over_R, var);
        dst[x] = uint8_t(0u - uint8_t(hit)) ^ flip;
    }
}

// Wolf-Jolion: T = (1 - k) m + k M + k (m - M) sd / R, M the image minimum, R the largest sd.
template <bool Packed>
FASTPLATE_CLONES void wolf_row(const uint64_t* __restrict a, const uint64_t* __restrict b,
                               const uint8_t* __restrict src, uint8_t* __restrict dst, int W, double inv_d,
                               double one_minus_k, double k_min, double k_over_R, double image_min, uint8_t flip) {
    for (int x = 0; x < W; ++x) {
        const double m = window_sum<Packed>(a, x) * inv_d;
        const double var = std::max(window_square_sum<Packed>(a, b, x) * inv_d - m * m, 0.0);
        const bool hit = above(double(src[x]) - (one_minus_k * m + k_min), (m - image_min) * k_over_R, var);
        dst[x] = uint8_t(0u - uint8_t(hit)) ^ flip;
    }
}

// Largest d^2 var = d q - s^2 of the row and `best`, exact in integers (packed sums, block <= 181: it
// stays below 2^47). Cheaper than the variance in double, which matters: Wolf needs a whole extra pass.
FASTPLATE_CLONES int64_t max_scaled_variance_row(const uint64_t* __restrict a, int W, uint64_t d, int64_t best) {
    for (int x = 0; x < W; ++x) {
        const uint64_t s = uint32_t(a[x]), q = a[x] >> 32;
        best = std::max(best, int64_t(d * q - s * s));
    }
    return best;
}

// Largest var of the row and `best` for wide sums (block > 181), as the bits of a non-negative double:
// they order like the values, and an integer max reduction vectorizes where a floating-point one does not.
FASTPLATE_CLONES int64_t max_variance_row(const uint64_t* __restrict a, const uint64_t* __restrict b, int W,
                                          double inv_d, int64_t best) {
    for (int x = 0; x < W; ++x) {
        const double m = window_sum<false>(a, x) * inv_d;
        const double var = std::max(window_square_sum<false>(a, b, x) * inv_d - m * m, 0.0);
        int64_t bits;
        std::memcpy(&bits, &var, sizeof bits);
        best = std::max(best, bits);
    }
    return best;
}

// Calls body(y, a, b) for each output row with its window sums (see window_sum).
template <bool Packed, class Body>
void for_each_window_row(const uint8_t* src, int H, int W, int r, Body&& body) {
    std::vector<uint64_t> pre(W + 1), a(W), b(Packed ? 0 : W);
    if constexpr (Packed) {
        ColumnSums<uint16_t, kValue> sums(src, H, W, r);
        ColumnSums<uint32_t, kSquare> squares(src, H, W, r);
        for (long y = 0; y < H; ++y) {
            if (y > 0) sums.advance(y), squares.advance(y);
            packed_window_row(sums.col.data(), squares.col.data(), pre.data(), a.data(), W, r);
            body(y, a.data(), a.data());
        }
    } else {
        ColumnSums<uint32_t, kValue> sums(src, H, W, r);
        ColumnSums<uint32_t, kSquare> squares(src, H, W, r);
        for (long y = 0; y < H; ++y) {
            if (y > 0) sums.advance(y), squares.advance(y);
            window_row(sums.col.data(), pre.data(), a.data(), W, r);
            window_row(squares.col.data(), pre.data(), b.data(), W, r);
            body(y, a.data(), b.data());
        }
    }
}

// (A plain loop: it vectorizes, where std::min_element, which tracks the position, does not.)
FASTPLATE_CLONES uint8_t minimum(const uint8_t* __restrict src, size_t n) {
    uint8_t lowest = 255;
    for (size_t i = 0; i < n; ++i) lowest = std::min(lowest, src[i]);
    return lowest;
}

template <bool Packed>
void contrast_threshold(const uint8_t* src, uint8_t* dst, int H, int W, int block, int method, double k,
                        bool invert) {
    const int r = block / 2;
    const double inv_d = 1.0 / (double(block) * double(block));
    const uint8_t flip = invert ? 255 : 0;
    if (method == kSauvola) {
        const double k_over_R = k * (1.0 / 127.5);
        for_each_window_row<Packed>(src, H, W, r, [&](long y, const uint64_t* a, const uint64_t* b) {
            sauvola_row<Packed>(a, b, src + y * W, dst + y * W, W, inv_d, 1.0 - k, k_over_R, flip);
        });
        return;
    }
    // Wolf-Jolion needs the image minimum and the largest local deviation first: a second pass.
    const double image_min = minimum(src, static_cast<size_t>(H) * W);
    double max_var;
    if constexpr (Packed) {
        const uint64_t d = uint64_t(block) * block;
        int64_t best = 0;
        for_each_window_row<Packed>(src, H, W, r, [&](long, const uint64_t* a, const uint64_t*) {
            best = max_scaled_variance_row(a, W, d, best);
        });
        max_var = double(best) / (double(d) * double(d));
    } else {
        int64_t max_bits = 0;  // +0.0
        for_each_window_row<Packed>(src, H, W, r, [&](long, const uint64_t* a, const uint64_t* b) {
            max_bits = max_variance_row(a, b, W, inv_d, max_bits);
        });
        std::memcpy(&max_var, &max_bits, sizeof max_var);
    }
    const double range = std::sqrt(max_var);
    const double k_over_R = range > 0.0 ? k / range : 0.0;  // a flat image has sd = 0 everywhere
    for_each_window_row<Packed>(src, H, W, r, [&](long y, const uint64_t* a, const uint64_t* b) {
        wolf_row<Packed>(a, b, src + y * W, dst + y * W, W, inv_d, 1.0 - k, k * image_min, k_over_R, image_min, flip);
    });
}

// -------------------------------------------------------------------------------------------- gaussian
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
    const double sigma = n * 0.15 + 0.35;             // 0.3 * ((n - 1) / 2 - 1) + 0.8
    const double scale = -0.125 / (sigma * sigma);   // x below runs over doubled offsets: 0.5 * 0.25
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

// acc[x] += w * (a[x] + b[x]): one symmetric pair of taps, for rows (a, b shifted copies of one row) and
// for columns (a, b two rows) alike.
FASTPLATE_CLONES void add_tap_pair(float* __restrict acc, const float* __restrict a, const float* __restrict b,
                                   float w, int W) {
    for (int x = 0; x < W; ++x) acc[x] += w * (a[x] + b[x]);
}

FASTPLATE_CLONES void scale_row(float* __restrict acc, const float* __restrict a, float w, int W) {
    for (int x = 0; x < W; ++x) acc[x] = w * a[x];
}

// The rounded blur against the pixel, compared like the mean.
FASTPLATE_CLONES void gaussian_compare(const float* __restrict acc, const uint8_t* __restrict src,
                                       uint8_t* __restrict dst, int W, int idelta, uint8_t flip) {
    for (int x = 0; x < W; ++x) {
        // Round half to even like convertTo(CV_8U): adding and subtracting 1.5 * 2^23 does it where
        // lrint would not vectorize.
        const float clamped = std::min(255.0f, std::max(0.0f, acc[x]));
        const int m = int((clamped + 12582912.0f) - 12582912.0f);
        dst[x] = uint8_t(0u - uint8_t(int(src[x]) + idelta > m)) ^ flip;
    }
}

// OpenCV 5 thresholds against GaussianBlur of the image converted to float32 (separable: rows, then
// columns, replicated border), rounded back to uint8. Taps are summed centre first, then symmetric pairs;
// OpenCV's SIMD/FMA rounding may differ in the last bit, which flips a pixel very rarely.
void gaussian_threshold(const uint8_t* src, uint8_t* dst, int H, int W, int block, double c, bool invert) {
    const int r = block / 2;
    const std::vector<float> kern = gaussian_kernel(block);
    const float* kc = kern.data() + r;  // kc[j]: weight at offset +-j
    std::vector<float> rows(static_cast<size_t>(H) * W), padded(W + 2 * r), acc(W);
    // Horizontal pass, taps summed centre first, then symmetric pairs.
    for (int y = 0; y < H; ++y) {
        const uint8_t* p = src + static_cast<size_t>(y) * W;
        for (int j = 0; j < r; ++j) padded[j] = p[0], padded[W + r + j] = p[W - 1];
        for (int x = 0; x < W; ++x) padded[r + x] = p[x];
        const float* q = padded.data() + r;
        float* out = rows.data() + static_cast<size_t>(y) * W;
        scale_row(out, q, kc[0], W);
        for (int j = 1; j <= r; ++j) add_tap_pair(out, q - j, q + j, kc[j], W);
    }
    // Vertical pass, same order.
    const int idelta = int(clamped_delta(c, invert));
    auto row = [&](long y) { return rows.data() + std::min<long>(std::max<long>(y, 0), H - 1) * W; };
    for (long y = 0; y < H; ++y) {
        scale_row(acc.data(), row(y), kc[0], W);
        for (int j = 1; j <= r; ++j) add_tap_pair(acc.data(), row(y - j), row(y + j), kc[j], W);
        gaussian_compare(acc.data(), src + y * W, dst + y * W, W, idelta, invert ? 255 : 0);
    }
}

// ---------------------------------------------------------------------------------------------- entry
void adaptive_threshold(const carray<uint8_t>& src, carray<uint8_t>& out, int block, double c, int method,
                        double k, bool invert) {
    const int H = static_cast<int>(src.shape(0)), W = static_cast<int>(src.shape(1));
    const uint8_t* s = src.data();
    uint8_t* d = out.mutable_data();
    if (method == kGaussian) {
        gaussian_threshold(s, d, H, W, block, c, invert);
    } else if (method == kMean) {
        // Narrowest types that hold the sums: 255 * block per column, (255 + 256) * block^2 per window.
        if (block <= 257)
            mean_threshold<uint16_t, uint32_t, int32_t>(s, d, H, W, block, c, invert);
        else if (block <= 2047)
            mean_threshold<uint32_t, uint32_t, int32_t>(s, d, H, W, block, c, invert);
        else
            mean_threshold<uint32_t, uint64_t, int64_t>(s, d, H, W, block, c, invert);
    } else {
        // Packed sums of squares reach 65025 * block^2 and are read as int32: up to block 181.
        if (block <= 181)
            contrast_threshold<true>(s, d, H, W, block, method, k, invert);
        else
            contrast_threshold<false>(s, d, H, W, block, method, k, invert);
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
