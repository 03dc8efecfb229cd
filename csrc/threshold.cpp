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

// Inclusive scan of 8 uint32 lanes.
FASTPLATE_AVX2_INLINE __m256i scan8x32(__m256i v) {
    v = _mm256_add_epi32(v, _mm256_slli_si256(v, 4));
    v = _mm256_add_epi32(v, _mm256_slli_si256(v, 8));
    const __m256i low_total = _mm256_permutevar8x32_epi32(v, _mm256_set1_epi32(3));
    return _mm256_add_epi32(v, _mm256_blend_epi32(_mm256_setzero_si256(), low_total, 0xF0));
}

// pre[x + 1] = sum of col[x'] for x' <= x, uint32 in and out (modulo 2^32).
FASTPLATE_TARGET_AVX2 long prefix_avx2(const uint32_t* col, uint32_t* pre, long W) {
    __m256i total = _mm256_setzero_si256();
    const __m256i last = _mm256_set1_epi32(7);
    long x = 0;
    for (; x + 16 <= W; x += 16) {
        const __m256i a = scan8x32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(col + x)));
        const __m256i b = scan8x32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(col + x + 8)));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(pre + x + 1), _mm256_add_epi32(a, total));
        total = _mm256_add_epi32(total, _mm256_permutevar8x32_epi32(a, last));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(pre + x + 9), _mm256_add_epi32(b, total));
        total = _mm256_add_epi32(total, _mm256_permutevar8x32_epi32(b, last));
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

// Narrow Sauvola/Wolf rows: both column sums moved down one row (col_s += add - sub, col_q += add^2 -
// sub^2) and both prefix sums of the result, in one pass over the row; returns how many columns were done.
// a^2 - b^2 comes from one multiply-add of the 16-bit pairs (a, b) and (a, -b).
FASTPLATE_TARGET_AVX2 long slide_prefix_avx2(const uint8_t* add, const uint8_t* sub, uint16_t* col_s, uint32_t* col_q,
                                             uint32_t* pre_s, uint32_t* pre_q, long W) {
    __m256i total_s = _mm256_setzero_si256(), total_q = _mm256_setzero_si256();
    const __m256i last = _mm256_set1_epi32(7), plus_minus = _mm256_set1_epi32(int(0xFFFF0001u));  // (1, -1)
    long x = 0;
    for (; x + 16 <= W; x += 16) {
        const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(add + x));
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(sub + x));
        __m256i cs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(col_s + x));
        cs = _mm256_sub_epi16(_mm256_add_epi16(cs, _mm256_cvtepu8_epi16(a)), _mm256_cvtepu8_epi16(b));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(col_s + x), cs);
        const __m256i pairs0 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(a, b));  // a0, b0, ..., a7, b7
        const __m256i pairs1 = _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(a, b));
        __m256i* cq = reinterpret_cast<__m256i*>(col_q + x);
        const __m256i q0 = _mm256_add_epi32(_mm256_loadu_si256(cq),
                                            _mm256_madd_epi16(pairs0, _mm256_sign_epi16(pairs0, plus_minus)));
        const __m256i q1 = _mm256_add_epi32(_mm256_loadu_si256(cq + 1),
                                            _mm256_madd_epi16(pairs1, _mm256_sign_epi16(pairs1, plus_minus)));
        _mm256_storeu_si256(cq, q0);
        _mm256_storeu_si256(cq + 1, q1);
        const __m256i s0 = scan8x32(_mm256_cvtepu16_epi32(_mm256_castsi256_si128(cs)));
        const __m256i s1 = scan8x32(_mm256_cvtepu16_epi32(_mm256_extracti128_si256(cs, 1)));
        const __m256i r0 = scan8x32(q0), r1 = scan8x32(q1);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(pre_s + x + 1), _mm256_add_epi32(s0, total_s));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(pre_q + x + 1), _mm256_add_epi32(r0, total_q));
        total_s = _mm256_add_epi32(total_s, _mm256_permutevar8x32_epi32(s0, last));
        total_q = _mm256_add_epi32(total_q, _mm256_permutevar8x32_epi32(r0, last));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(pre_s + x + 9), _mm256_add_epi32(s1, total_s));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(pre_q + x + 9), _mm256_add_epi32(r1, total_q));
        total_s = _mm256_add_epi32(total_s, _mm256_permutevar8x32_epi32(s1, last));
        total_q = _mm256_add_epi32(total_q, _mm256_permutevar8x32_epi32(r1, last));
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
// (Interior false: only the edges [0, r) and [W - r, W), for callers that read the interior from pre.)
template <class Acc, bool Interior, class Column>
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
    if (Interior)
        for (long i = lo; i < hi; ++i) win[i] = Acc(pre[i + r + 1] - pre[i - r]);
    for (long i = hi; i < W; ++i) win[i] = Acc(G(i + r + 1) - G(i - r));
}

template <class Col, class Acc, bool Interior = true>
FASTPLATE_CLONES void window_row(const Col* __restrict col, Acc* __restrict pre, Acc* __restrict win, int W, int r) {
    auto column = [col](long x) { return Acc(col[x]); };
    pre[0] = 0;
    long done = 0;
#ifdef FASTPLATE_AVX2_INTRINSICS
    if constexpr ((std::is_same_v<Col, uint16_t> || std::is_same_v<Col, uint32_t>) && std::is_same_v<Acc, uint32_t>) {
        if (has_avx2()) done = prefix_avx2(col, pre, W);
    }
#endif
    scalar_prefix<Acc>(column, pre, done, W);
    windows_from_prefix<Acc, Interior>(column, pre, win, W, r);
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
// Both compare the pixel p with T = base + B * sd, from the window mean m and deviation sd. Two forms:
//
// Narrow (block <= 181): window sums s and q (of the pixels and their squares) are exact uint32, and
// with d = block^2 the test p > T is rewritten over exact integers, without division or square root:
//     p > T  <=>  A > B' sqrt(V)   where  V = d q - s^2  (= d^2 var),  A = (p d - s) + k D,  B' = c D
// with, for Sauvola (T = m (1 - k) + (m k / 127.5) sd): D = s, c = k / (127.5 d); for Wolf-Jolion
// (T = (1 - k) m + k M + k (m - M) sd / R, M the image minimum, R the largest sd): D = s - M d,
// c = k / sqrt(max V). V < 2^47 is exact in double; D >= 0, so B' has the sign of k and
//     k >= 0:  A > 0 and A^2 > B'^2 V;        k < 0:  A > 0 or B'^2 V > A^2.
// Only A and the products round (relative 2^-52), far inside the tests' 1e-9 tolerance at ties.
// fastplate/_numba/threshold.py performs the same double operations in the same order.
//
// Wide (block > 181): m = s * inv_d, var = max(q * inv_d - m * m, 0) in double from uint64 sums.

// The narrow row loops read window sums as add[x] - sub[x] (uint32, modulo 2^32): two entries of the
// prefix sums in the interior, so no window array is written and read back; edge windows with sub = 0.
struct WindowSpan {
    int begin, n;                  // pixels [begin, begin + n) of the row
    const uint32_t *s_add, *s_sub;  // window sums of the pixels: s_add[i] - s_sub[i], i < n
    const uint32_t *q_add, *q_sub;  // ... and of their squares
};

template <bool KPositive>
FASTPLATE_CLONES void contrast_row(WindowSpan w, const uint8_t* __restrict src, uint8_t* __restrict dst, int32_t d,
                                   int32_t offset, double k, double c, uint8_t flip) {
    const double dd = double(d);
    for (int x = 0; x < w.n; ++x) {
        // s < 2^24 and q < 2^31: exact as int32.
        const int32_t s = int32_t(w.s_add[x] - w.s_sub[x]), q = int32_t(w.q_add[x] - w.q_sub[x]), D = s - offset;
        const double A = double(int32_t(src[x]) * d - s) + k * double(D);
        const double B = c * double(D);
        const double V = dd * double(q) - double(s) * double(s);
        const double AA = A * A, BBV = (B * B) * V;
        const bool hit = KPositive ? (A > 0.0) & (AA > BBV) : (A > 0.0) | (BBV > AA);
        dst[x] = uint8_t(0u - uint8_t(hit)) ^ flip;
    }
}

#ifdef FASTPLATE_AVX2_INTRINSICS
// Byte masks 0x00 / 0xFF for the 8 bits of an index: a movemask turned back into 8 output pixels.
struct ByteMasks {
    uint64_t of[256];
    constexpr ByteMasks() : of() {
        for (int i = 0; i < 256; ++i)
            for (int b = 0; b < 8; ++b)
                if ((i >> b) & 1) of[i] |= uint64_t(0xFF) << (8 * b);
    }
};
constexpr ByteMasks kByteMasks{};

FASTPLATE_AVX2_INLINE __m256i load8(const uint32_t* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

// Lanes 0-3 (half 0) or 4-7 (half 1) of v as doubles.
FASTPLATE_AVX2_INLINE __m256d half_to_double(__m256i v, int half) {
    return _mm256_cvtepi32_pd(half ? _mm256_extracti128_si256(v, 1) : _mm256_castsi256_si128(v));
}

// contrast_row for 8 pixels at a time, the same double operations (GCC's own vectorization of the loop
// above spills registers and packs the results slowly); returns how many pixels were done.
template <bool KPositive>
FASTPLATE_TARGET_AVX2 int contrast_row_avx2(const WindowSpan& w, const uint8_t* src, uint8_t* dst, int32_t d,
                                            int32_t offset, double k, double c, uint8_t flip) {
    const __m256i vd = _mm256_set1_epi32(d), voffset = _mm256_set1_epi32(offset);
    const __m256d vk = _mm256_set1_pd(k), vc = _mm256_set1_pd(c), vdd = _mm256_set1_pd(double(d));
    const __m256d zero = _mm256_setzero_pd();
    const uint64_t flip8 = uint64_t(flip) * 0x0101010101010101ull;
    // (Local copies: stores to dst could alias w, which would be reloaded after each.)
    const uint32_t *s_add = w.s_add, *s_sub = w.s_sub, *q_add = w.q_add, *q_sub = w.q_sub;
    const int n = w.n;
    int x = 0;
    for (; x + 8 <= n; x += 8) {
        const __m256i s = _mm256_sub_epi32(load8(s_add + x), load8(s_sub + x));
        const __m256i q = _mm256_sub_epi32(load8(q_add + x), load8(q_sub + x));
        const __m256i p = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + x)));
        const __m256i D1 = _mm256_sub_epi32(_mm256_mullo_epi32(p, vd), s), D = _mm256_sub_epi32(s, voffset);
        int bits = 0;
        for (int half = 0; half < 2; ++half) {
            const __m256d sd = half_to_double(s, half), Dd = half_to_double(D, half);
            const __m256d A = _mm256_add_pd(half_to_double(D1, half), _mm256_mul_pd(vk, Dd));
            const __m256d B = _mm256_mul_pd(vc, Dd);
            const __m256d V = _mm256_sub_pd(_mm256_mul_pd(vdd, half_to_double(q, half)), _mm256_mul_pd(sd, sd));
            const __m256d AA = _mm256_mul_pd(A, A), BBV = _mm256_mul_pd(_mm256_mul_pd(B, B), V);
            const __m256d positive = _mm256_cmp_pd(A, zero, _CMP_GT_OQ);
            const __m256d hit = KPositive ? _mm256_and_pd(positive, _mm256_cmp_pd(AA, BBV, _CMP_GT_OQ))
                                          : _mm256_or_pd(positive, _mm256_cmp_pd(BBV, AA, _CMP_GT_OQ));
            bits |= _mm256_movemask_pd(hit) << (4 * half);
        }
        const uint64_t out = kByteMasks.of[bits] ^ flip8;
        std::memcpy(dst + x, &out, sizeof out);
    }
    return x;
}
#endif

// Largest V = d q - s^2 of the span and `best`, exact in integers (below 2^47).
FASTPLATE_CLONES int64_t max_scaled_variance(WindowSpan w, uint64_t d, int64_t best) {
    for (int x = 0; x < w.n; ++x) {
        const uint64_t s = uint32_t(w.s_add[x] - w.s_sub[x]), q = uint32_t(w.q_add[x] - w.q_sub[x]);
        best = std::max(best, int64_t(d * q - s * s));
    }
    return best;
}

// The same in float32, 8 lanes to a vector instead of 4, off by at most about 3 * 2^-24 (d q + s^2);
// clamped at 0, so the float bits order like the values and an integer max reduction (which vectorizes)
// finds the largest.
FASTPLATE_CLONES int32_t approximate_max_variance_bits(WindowSpan w, float d, int32_t best) {
    for (int x = 0; x < w.n; ++x) {
        const float s = float(int32_t(w.s_add[x] - w.s_sub[x])), q = float(int32_t(w.q_add[x] - w.q_sub[x]));
        const float v = std::max(d * q - s * s, 0.0f);
        int32_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        best = std::max(best, bits);
    }
    return best;
}

// One row of narrow window sums: the column sums moved down (unless add is null), their prefix sums
// pre_s, pre_q, and the edge windows edge_s, edge_q (the interior is read from the prefix sums).
FASTPLATE_CLONES void narrow_row_sums(const uint8_t* __restrict add, const uint8_t* __restrict sub,
                                      uint16_t* __restrict col_s, uint32_t* __restrict col_q,
                                      uint32_t* __restrict pre_s, uint32_t* __restrict pre_q,
                                      uint32_t* __restrict edge_s, uint32_t* __restrict edge_q, int W, int r) {
    pre_s[0] = 0, pre_q[0] = 0;
    long done_s = 0, done_q = 0;
    if (add != nullptr) {
#ifdef FASTPLATE_AVX2_INTRINSICS
        if (has_avx2()) done_s = done_q = slide_prefix_avx2(add, sub, col_s, col_q, pre_s, pre_q, W);
#endif
        for (long x = done_s; x < W; ++x) {
            col_s[x] = uint16_t(col_s[x] + add[x] - sub[x]);
            col_q[x] = col_q[x] + term<uint32_t, kSquare>(add[x]) - term<uint32_t, kSquare>(sub[x]);
        }
    } else {
#ifdef FASTPLATE_AVX2_INTRINSICS
        if (has_avx2()) done_s = prefix_avx2(col_s, pre_s, W), done_q = prefix_avx2(col_q, pre_q, W);
#endif
    }
    auto column_s = [col_s](long x) { return uint32_t(col_s[x]); };
    auto column_q = [col_q](long x) { return col_q[x]; };
    scalar_prefix<uint32_t>(column_s, pre_s, done_s, W);
    scalar_prefix<uint32_t>(column_q, pre_q, done_q, W);
    if (2 * r + 1 <= W) {
        // windows_from_prefix's edges without its branches: on the left the window reaches r - x columns
        // before the row (copies of column 0), on the right x + r + 1 - W beyond it (copies of column W - 1).
        for (int x = 0; x < r; ++x) {
            edge_s[x] = pre_s[x + r + 1] + uint32_t(r - x) * col_s[0];
            edge_q[x] = pre_q[x + r + 1] + uint32_t(r - x) * col_q[0];
        }
        for (int x = W - r; x < W; ++x) {
            edge_s[x] = pre_s[W] + uint32_t(x + r + 1 - W) * col_s[W - 1] - pre_s[x - r];
            edge_q[x] = pre_q[W] + uint32_t(x + r + 1 - W) * col_q[W - 1] - pre_q[x - r];
        }
    } else {
        windows_from_prefix<uint32_t, false>(column_s, pre_s, edge_s, W, r);
        windows_from_prefix<uint32_t, false>(column_q, pre_q, edge_q, W, r);
    }
}

// Calls body(y, spans) for each output row, with the row's window sums as WindowSpans (block <= 181).
template <class Body>
void for_each_narrow_row(const uint8_t* src, int H, int W, int r, Body&& body) {
    std::vector<uint32_t> pre_s(W + 1), pre_q(W + 1), edge_s(W), edge_q(W), zeros(W, 0);
    ColumnSums<uint16_t, kValue> sums(src, H, W, r);
    ColumnSums<uint32_t, kSquare> squares(src, H, W, r);
    const int lo = std::min(r, W), hi = std::max(lo, W - r);  // interior [lo, hi)
    const WindowSpan spans[3] = {
        {0, lo, edge_s.data(), zeros.data(), edge_q.data(), zeros.data()},
        {lo, hi - lo, pre_s.data() + lo + r + 1, pre_s.data() + lo - r, pre_q.data() + lo + r + 1, pre_q.data() + lo - r},
        {hi, W - hi, edge_s.data() + hi, zeros.data(), edge_q.data() + hi, zeros.data()}};
    for (long y = 0; y < H; ++y) {
        // Row y's window: rows [y - r, y + r], clamped; moving down adds one row and drops one.
        const uint8_t* add = clamped_row(src, y + r, H, W);
        const uint8_t* sub = clamped_row(src, y - r - 1, H, W);
        const bool slide = y > 0 && add != sub;
        narrow_row_sums(slide ? add : nullptr, sub, sums.col.data(), squares.col.data(), pre_s.data(), pre_q.data(),
                        edge_s.data(), edge_q.data(), W, r);
        body(y, spans);
    }
}

// Wide form: pixel > T with T = base + B * sd, sd = sqrt(var), decided without the square root:
// for B >= 0 it is A > 0 and A^2 > B^2 var, for B < 0 it is A > 0 or B^2 var > A^2, where A = pixel - base.
// Same outcome as comparing against T except at exact ties, where rounding decides either way.
// (Written with bitwise operators only, so the loops stay branch-free and vectorize.)
inline bool above(double A, double B, double var) {
    const double AA = A * A, BBvar = (B * B) * var;
    const bool positive = A > 0.0;
    return (positive & (AA > BBvar)) | ((B < 0.0) & (positive | (BBvar > AA)));
}

inline double wide_mean(const uint64_t* a, int x, double inv_d) { return double(int64_t(a[x])) * inv_d; }
inline double wide_variance(const uint64_t* a, const uint64_t* b, int x, double inv_d) {
    const double m = wide_mean(a, x, inv_d);
    return std::max(double(int64_t(b[x])) * inv_d - m * m, 0.0);
}

// Sauvola: T = m * (1 + k * (sd / R - 1)) = m * (1 - k) + (m * k / R) * sd.
FASTPLATE_CLONES void sauvola_row(const uint64_t* __restrict a, const uint64_t* __restrict b,
                                  const uint8_t* __restrict src, uint8_t* __restrict dst, int W, double inv_d,
                                  double one_minus_k, double k_over_R, uint8_t flip) {
    for (int x = 0; x < W; ++x) {
        const double m = wide_mean(a, x, inv_d), var = wide_variance(a, b, x, inv_d);
        const bool hit = above(double(src[x]) - m * one_minus_k, m * k_over_R, var);
        dst[x] = uint8_t(0u - uint8_t(hit)) ^ flip;
    }
}

// Wolf-Jolion: T = (1 - k) m + k M + k (m - M) sd / R, M the image minimum, R the largest sd.
FASTPLATE_CLONES void wolf_row(const uint64_t* __restrict a, const uint64_t* __restrict b,
                               const uint8_t* __restrict src, uint8_t* __restrict dst, int W, double inv_d,
                               double one_minus_k, double k_min, double k_over_R, double image_min, uint8_t flip) {
    for (int x = 0; x < W; ++x) {
        const double m = wide_mean(a, x, inv_d), var = wide_variance(a, b, x, inv_d);
        const bool hit = above(double(src[x]) - (one_minus_k * m + k_min), (m - image_min) * k_over_R, var);
        dst[x] = uint8_t(0u - uint8_t(hit)) ^ flip;
    }
}

// Largest var of the row and `best`, as the bits of a non-negative double: they order like the values,
// and an integer max reduction vectorizes where a floating-point one does not.
FASTPLATE_CLONES int64_t max_variance_row(const uint64_t* __restrict a, const uint64_t* __restrict b, int W,
                                          double inv_d, int64_t best) {
    for (int x = 0; x < W; ++x) {
        const double var = wide_variance(a, b, x, inv_d);
        int64_t bits;
        std::memcpy(&bits, &var, sizeof bits);
        best = std::max(best, bits);
    }
    return best;
}

// Calls body(y, s, q) for each output row with its window sums of the pixels and of their squares
// (block > 181).
template <class Body>
void for_each_wide_row(const uint8_t* src, int H, int W, int r, Body&& body) {
    std::vector<uint64_t> pre(W + 1), s(W), q(W);
    ColumnSums<uint32_t, kValue> sums(src, H, W, r);
    ColumnSums<uint32_t, kSquare> squares(src, H, W, r);
    for (long y = 0; y < H; ++y) {
        if (y > 0) sums.advance(y), squares.advance(y);
        window_row(sums.col.data(), pre.data(), s.data(), W, r);
        window_row(squares.col.data(), pre.data(), q.data(), W, r);
        body(y, s.data(), q.data());
    }
}

// (A plain loop: it vectorizes, where std::min_element, which tracks the position, does not.)
FASTPLATE_CLONES uint8_t minimum(const uint8_t* __restrict src, size_t n) {
    uint8_t lowest = 255;
    for (size_t i = 0; i < n; ++i) lowest = std::min(lowest, src[i]);
    return lowest;
}

void narrow_contrast_threshold(const uint8_t* src, uint8_t* dst, int H, int W, int block, int method, double k,
                               bool invert) {
    const int r = block / 2;
    const int32_t d = block * block;
    const uint8_t flip = invert ? 255 : 0;
    int32_t offset = 0;
    double c = k / (127.5 * double(d));
    if (method == kWolf) {
        // Wolf-Jolion needs the image minimum and the largest V first: a second pass. Each row's largest V
        // is estimated in float; only rows whose estimate comes within its error of the largest exact V so
        // far (few, after the first rows) are done exactly.
        const int32_t image_min = minimum(src, static_cast<size_t>(H) * W);
        // d q and s^2 are at most 65025 d^2 each: this exceeds the float estimate's error.
        const double error = 8.0 * 65025.0 * double(d) * double(d) / double(1 << 24);
        int64_t best = 0;
        for_each_narrow_row(src, H, W, r, [&](long, const WindowSpan* spans) {
            int32_t bits = 0;
            for (int i = 0; i < 3; ++i) bits = approximate_max_variance_bits(spans[i], float(d), bits);
            float estimate;
            std::memcpy(&estimate, &bits, sizeof estimate);
            if (double(estimate) + error >= double(best))
                for (int i = 0; i < 3; ++i) best = max_scaled_variance(spans[i], uint64_t(d), best);
        });
        offset = image_min * d;
        c = best > 0 ? k / std::sqrt(double(best)) : 0.0;  // a flat image has sd = 0 everywhere
    }
    for_each_narrow_row(src, H, W, r, [&](long y, const WindowSpan* spans) {
        for (int i = 0; i < 3; ++i) {
            const WindowSpan& w = spans[i];
            const uint8_t* row = src + y * W + w.begin;
            uint8_t* out = dst + y * W + w.begin;
            int done = 0;
#ifdef FASTPLATE_AVX2_INTRINSICS
            if (has_avx2())
                done = k >= 0.0 ? contrast_row_avx2<true>(w, row, out, d, offset, k, c, flip)
                                : contrast_row_avx2<false>(w, row, out, d, offset, k, c, flip);
#endif
            const WindowSpan rest{w.begin + done, w.n - done, w.s_add + done, w.s_sub + done, w.q_add + done,
                                  w.q_sub + done};
            if (k >= 0.0)
                contrast_row<true>(rest, row + done, out + done, d, offset, k, c, flip);
            else
                contrast_row<false>(rest, row + done, out + done, d, offset, k, c, flip);
        }
    });
}

void wide_contrast_threshold(const uint8_t* src, uint8_t* dst, int H, int W, int block, int method, double k,
                             bool invert) {
    const int r = block / 2;
    const double inv_d = 1.0 / (double(block) * double(block));
    const uint8_t flip = invert ? 255 : 0;
    if (method == kSauvola) {
        const double k_over_R = k * (1.0 / 127.5);
        for_each_wide_row(src, H, W, r, [&](long y, const uint64_t* a, const uint64_t* b) {
            sauvola_row(a, b, src + y * W, dst + y * W, W, inv_d, 1.0 - k, k_over_R, flip);
        });
        return;
    }
    const double image_min = minimum(src, static_cast<size_t>(H) * W);
    int64_t max_bits = 0;  // +0.0
    for_each_wide_row(src, H, W, r, [&](long, const uint64_t* a, const uint64_t* b) {
        max_bits = max_variance_row(a, b, W, inv_d, max_bits);
    });
    double max_var;
    std::memcpy(&max_var, &max_bits, sizeof max_var);
    const double range = std::sqrt(max_var);
    const double k_over_R = range > 0.0 ? k / range : 0.0;  // a flat image has sd = 0 everywhere
    for_each_wide_row(src, H, W, r, [&](long y, const uint64_t* a, const uint64_t* b) {
        wolf_row(a, b, src + y * W, dst + y * W, W, inv_d, 1.0 - k, k * image_min, k_over_R, image_min, flip);
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
        // Window sums of squares reach 65025 * block^2 and are read as int32: up to block 181.
        if (block <= 181)
            narrow_contrast_threshold(s, d, H, W, block, method, k, invert);
        else
            wide_contrast_threshold(s, d, H, W, block, method, k, invert);
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
