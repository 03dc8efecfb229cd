// Connected-component labelling with statistics, equal to cv2.connectedComponentsWithStats (CV_32S).
//
// Run-length union-find: a binarized photo has ~30 pixels per run, so working on runs instead of
// pixels makes the union-find and the statistics ~30x smaller than a per-pixel pass.
//   1. per row, find the runs of non-zero pixels and union each with the runs of the previous row
//      it touches (overlap for 4-connectivity, overlap or diagonal contact for 8);
//   2. flatten the union-find and number the components in OpenCV's order;
//   3. one pass over the runs writes the labels (gaps 0) and accumulates x, y, w, h, area, centroid.
//
// Label order: raster order of each component's first pixel, or (opencv_order, the default here) what
// OpenCV 5 does, so labels are identical, not only the partition:
//   4-connectivity: raster order of each component's first pixel (OpenCV's SAUF scans pixels);
//   8-connectivity: raster order of each component's first 2x2 block (Spaghetti/BBDT scan blocks),
//   i.e. components are ordered by (y // 2, x // 2) of their first pixel in that order. Two runs of
//   one 2x2 block always touch under 8-connectivity, so this key never ties between components.
#include <algorithm>
#include <climits>
#include <cstring>
#include <limits>
#include <vector>

#include "common.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace {

struct Runs {
    std::vector<int32_t> start, end;  // [start, end) of each run, rows in order
    std::vector<int32_t> row_begin;   // runs of row y are row_begin[y] .. row_begin[y + 1] - 1
};

// Append the runs of non-zero pixels of one row.
#if defined(__SSE2__)
// 64 pixels at a time: a bit mask of the non-zero pixels, whose 0->1 and 1->0 edges are the run starts and
// ends, taken in order with count-trailing-zeros. Binarized photos have short runs (3-4 px in textured
// areas), where a pixel-by-pixel scan would branch on every pixel.
inline uint64_t nonzero_mask64(const uint8_t* p) {
    const __m128i zero = _mm_setzero_si128();
    uint64_t m = 0;
    for (int k = 0; k < 4; ++k) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
        m |= uint64_t(uint32_t(_mm_movemask_epi8(_mm_cmpeq_epi8(v, zero))) ^ 0xFFFFu) << (16 * k);
    }
    return m;
}

inline void find_runs(const uint8_t* row, int w, Runs& runs) {
    uint64_t carry = 0;  // 1 when the pixel before the block is non-zero
    int x = 0;
    for (; x + 64 <= w; x += 64) {
        const uint64_t m = nonzero_mask64(row + x);
        if (m == (carry ? ~uint64_t(0) : 0)) continue;  // no edge in this block
        const uint64_t before = (m << 1) | carry;
        uint64_t starts = m & ~before, ends = ~m & before;
        while (starts) {
            runs.start.push_back(x + __builtin_ctzll(starts));
            starts &= starts - 1;
        }
        while (ends) {
            runs.end.push_back(x + __builtin_ctzll(ends));
            ends &= ends - 1;
        }
        carry = m >> 63;
    }
    for (; x < w; ++x) {
        const uint64_t on = row[x] != 0;
        if (on && !carry) runs.start.push_back(x);
        if (!on && carry) runs.end.push_back(x);
        carry = on;
    }
    if (carry) runs.end.push_back(w);
}
#else
inline uint64_t load8(const uint8_t* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}

// True when one of the 8 bytes of v is zero (classic SWAR test).
inline bool has_zero_byte(uint64_t v) {
    return ((v - 0x0101010101010101ULL) & ~v & 0x8080808080808080ULL) != 0;
}

// Word-at-a-time skips over long uniform stretches.
inline void find_runs(const uint8_t* row, int w, Runs& runs) {
    int x = 0;
    while (x < w) {
        while (x + 8 <= w && load8(row + x) == 0) x += 8;
        while (x < w && row[x] == 0) ++x;
        if (x >= w) break;
        const int s = x;
        while (x + 8 <= w && !has_zero_byte(load8(row + x))) x += 8;
        while (x < w && row[x] != 0) ++x;
        runs.start.push_back(s);
        runs.end.push_back(x);
    }
}
#endif

// Union by smaller index keeps parent[i] <= i, so the root of a set is its first run in raster order
// and a single forward pass flattens the forest.
inline int32_t find_root(std::vector<int32_t>& parent, int32_t i) {
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];  // path halving
        i = parent[i];
    }
    return i;
}

struct Result {
    int32_t n = 1;
    std::vector<int32_t> stats;      // n x 5
    std::vector<double> centroids;   // n x 2
};

void label_components(const uint8_t* binary, int32_t* labels, int h, int w, int connectivity, bool opencv_order,
                      Result& res) {
    const int touch = connectivity == 8 ? 1 : 0;  // how far apart runs of adjacent rows may be and still touch
    Runs runs;
    runs.row_begin.resize(size_t(h) + 1);
    std::vector<int32_t> parent;

    // ---- 1. runs + union with the previous row
    for (int y = 0; y < h; ++y) {
        const int32_t first = int32_t(runs.start.size());
        runs.row_begin[y] = first;
        find_runs(binary + size_t(y) * w, w, runs);
        const int32_t last = int32_t(runs.start.size());
        parent.resize(size_t(last));
        int32_t j = y > 0 ? runs.row_begin[y - 1] : first;
        const int32_t prev_end = first;
        for (int32_t i = first; i < last; ++i) {
            parent[i] = i;
            const int32_t s = runs.start[i], e = runs.end[i];
            while (j < prev_end && runs.end[j] + touch <= s) ++j;  // previous-row runs entirely to the left
            for (int32_t k = j; k < prev_end && runs.start[k] < e + touch; ++k) {
                const int32_t rk = find_root(parent, k);
                const int32_t ri = find_root(parent, i);
                if (rk < ri) parent[ri] = rk;
                else if (ri < rk) parent[rk] = ri;
            }
        }
    }
    const int32_t n_runs = int32_t(runs.start.size());
    runs.row_begin[h] = n_runs;

    // ---- 2. flatten (parent[i] <= i, so parents are final when reached) and number components
    for (int32_t i = 0; i < n_runs; ++i) parent[i] = parent[parent[i]];
    std::vector<int32_t> root_label(size_t(n_runs), 0);
    int32_t n = 1;
    if (connectivity == 4 || !opencv_order) {  // raster order of each component's first pixel
        for (int32_t i = 0; i < n_runs; ++i)
            if (parent[i] == i) root_label[i] = n++;
    } else {
        // Merge the runs of rows 2r and 2r + 1 by x // 2: that is the order of OpenCV's 2x2 blocks.
        for (int y = 0; y < h; y += 2) {
            int32_t a = runs.row_begin[y], a_end = runs.row_begin[y + 1];
            int32_t b = a_end, b_end = runs.row_begin[std::min(y + 2, h)];
            while (a < a_end || b < b_end) {
                int32_t i;
                if (b >= b_end || (a < a_end && (runs.start[a] >> 1) <= (runs.start[b] >> 1))) i = a++;
                else i = b++;
                int32_t& label = root_label[parent[i]];
                if (label == 0) label = n++;
            }
        }
    }

    // ---- 3. write labels, accumulate statistics
    std::vector<int32_t> left(size_t(n), INT_MAX), top(size_t(n), INT_MAX), right(size_t(n), INT_MIN),
        bottom(size_t(n), INT_MIN);
    std::vector<int64_t> area(size_t(n), 0), sum_x(size_t(n), 0), sum_y(size_t(n), 0);
    for (int y = 0; y < h; ++y) {
        int32_t* out = labels ? labels + size_t(y) * w : nullptr;
        int x = 0;
        for (int32_t i = runs.row_begin[y]; i < runs.row_begin[y + 1]; ++i) {
            const int32_t s = runs.start[i], e = runs.end[i], label = root_label[parent[i]];
            const int64_t len = e - s;
            if (out) {
                std::fill(out + x, out + s, 0);
                std::fill(out + s, out + e, label);
            }
            x = e;
            left[label] = std::min(left[label], s);
            right[label] = std::max(right[label], e - 1);
            top[label] = std::min(top[label], y);
            bottom[label] = y;
            area[label] += len;
            sum_x[label] += (int64_t(s) + e - 1) * len / 2;
            sum_y[label] += int64_t(y) * len;
        }
        if (out) std::fill(out + x, out + w, 0);
        // Background (label 0): its box from the leftmost/rightmost zero pixel of each row.
        const int32_t r0 = runs.row_begin[y], r1 = runs.row_begin[y + 1];
        int64_t fg = 0;
        for (int32_t i = r0; i < r1; ++i) fg += runs.end[i] - runs.start[i];
        if (fg < w) {
            const int32_t lo = (r0 < r1 && runs.start[r0] == 0) ? runs.end[r0] : 0;
            const int32_t hi = (r0 < r1 && runs.end[r1 - 1] == w) ? runs.start[r1 - 1] - 1 : w - 1;
            left[0] = std::min(left[0], lo);
            right[0] = std::max(right[0], hi);
            top[0] = std::min(top[0], y);
            bottom[0] = y;
        }
    }
    // Background area and sums are what the foreground leaves of the whole image.
    int64_t total = int64_t(h) * w, fg_area = 0, fg_x = 0, fg_y = 0;
    for (int32_t l = 1; l < n; ++l) fg_area += area[l], fg_x += sum_x[l], fg_y += sum_y[l];
    area[0] = total - fg_area;
    sum_x[0] = int64_t(h) * (int64_t(w) * (w - 1) / 2) - fg_x;
    sum_y[0] = int64_t(w) * (int64_t(h) * (h - 1) / 2) - fg_y;

    res.n = n;
    res.stats.resize(size_t(n) * 5);
    res.centroids.resize(size_t(n) * 2);
    for (int32_t l = 0; l < n; ++l) {
        int32_t* st = &res.stats[size_t(l) * 5];
        double* c = &res.centroids[size_t(l) * 2];
        if (area[l] == 0) {  // only the background of an all-foreground image; OpenCV 5 reports this
            st[0] = -1, st[1] = INT_MAX, st[2] = 0, st[3] = 0, st[4] = 0;
            c[0] = c[1] = std::numeric_limits<double>::quiet_NaN();
            continue;
        }
        st[0] = left[l];
        st[1] = top[l];
        st[2] = right[l] - left[l] + 1;
        st[3] = bottom[l] - top[l] + 1;
        st[4] = int32_t(area[l]);
        c[0] = double(sum_x[l]) / double(area[l]);
        c[1] = double(sum_y[l]) / double(area[l]);
    }
}

}  // namespace

void register_components(py::module_& m) {
    // Not call_guard: the outputs are allocated after the labelling, with the GIL held; the labelling
    // itself runs with the GIL released.
    m.def(
        "connected_components",
        [](carray<uint8_t> binary, py::object labels, int connectivity, bool opencv_order) {
            const int h = int(binary.shape(0)), w = int(binary.shape(1));
            const uint8_t* src = binary.data();
            // None: statistics only, no label image written (the localizer needs only the statistics).
            carray<int32_t> out;
            int32_t* dst = nullptr;
            if (!labels.is_none()) {
                out = labels.cast<carray<int32_t>>();
                dst = out.mutable_data();
            }
            Result res;
            {
                py::gil_scoped_release release;
                label_components(src, dst, h, w, connectivity, opencv_order, res);
            }
            carray<int32_t> stats({py::ssize_t(res.n), py::ssize_t(5)});
            carray<double> centroids({py::ssize_t(res.n), py::ssize_t(2)});
            std::copy(res.stats.begin(), res.stats.end(), stats.mutable_data());
            std::copy(res.centroids.begin(), res.centroids.end(), centroids.mutable_data());
            return py::make_tuple(res.n, stats, centroids);
        },
        py::arg("binary"), py::arg("labels"), py::arg("connectivity"), py::arg("opencv_order") = true,
        "Label binary (H, W) uint8 into labels (H, W) int32 (None: statistics only); return (n, stats (n, 5)"
        " int32, centroids (n, 2) float64). Trusts its arguments: call fastplate.kernels.connected_components.");
}
