// Exact engine: the lossless, ideal-cell configuration evaluated in integer arithmetic.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
//
// With a lossless ADC and ideal cells every stage of the bit-level pipeline (bit-plane partial sums,
// conversion, shift-and-add, offset correction) is an identity on integers, so y = x^T W exactly. This
// kernel computes that sum directly (blocked, vectorised, threaded); test_engines checks it against
// EngineKind::BitLevel bit for bit.
#include <algorithm>
#include <bit>
#include <vector>

#include "cimsim/crossbar.hpp"
#include "parallel.hpp"

namespace cimsim {

namespace {

constexpr std::uint32_t kColBlock = 256;
constexpr std::uint32_t kVecBlock = 4;

// acc[v][c] += x[v][r] * w[r][c] for 4 vectors, one column block; int16 operands, int32 sums.
__attribute__((target_clones("avx2", "default"))) void kernel16(const std::int16_t *w, std::size_t wstride,
                                                                 const std::int16_t *x, std::size_t xstride,
                                                                 std::uint32_t rows, std::uint32_t nv,
                                                                 std::uint32_t nc, std::int32_t *acc) {
    std::int32_t *a0 = acc, *a1 = acc + kColBlock, *a2 = acc + 2 * kColBlock, *a3 = acc + 3 * kColBlock;
    std::fill(acc, acc + 4 * kColBlock, 0);
    if (nv == 4) {
        for (std::uint32_t r = 0; r < rows; ++r) {
            const std::int32_t x0 = x[r], x1 = x[xstride + r], x2 = x[2 * xstride + r], x3 = x[3 * xstride + r];
            const std::int16_t *wr = w + std::size_t(r) * wstride;
            for (std::uint32_t c = 0; c < nc; ++c) {
                const std::int32_t wv = wr[c];
                a0[c] += x0 * wv, a1[c] += x1 * wv, a2[c] += x2 * wv, a3[c] += x3 * wv;
            }
        }
        return;
    }
    for (std::uint32_t v = 0; v < nv; ++v)
        for (std::uint32_t r = 0; r < rows; ++r) {
            const std::int32_t xv = x[v * xstride + r];
            const std::int16_t *wr = w + std::size_t(r) * wstride;
            std::int32_t *a = acc + v * kColBlock;
            for (std::uint32_t c = 0; c < nc; ++c) a[c] += xv * std::int32_t(wr[c]);
        }
}

}  // namespace

void Crossbar::mvm_exact(std::span<const std::int32_t> x, std::uint32_t n, std::span<std::int64_t> y) const {
    const std::uint32_t rows = map_.rows, cols = map_.cols;
    const std::uint32_t ncb = (cols + kColBlock - 1) / kColBlock, nvb = (n + kVecBlock - 1) / kVecBlock;

    if (narrow_) {
        const std::vector<std::int16_t> x16(x.begin(), x.end());
        parallel_for(std::size_t(ncb) * nvb, r_.threads, [&](std::size_t item) {
            const std::uint32_t cb = std::uint32_t(item % ncb), vb = std::uint32_t(item / ncb);
            const std::uint32_t c0 = cb * kColBlock, nc = std::min(kColBlock, cols - c0);
            const std::uint32_t v0 = vb * kVecBlock, nv = std::min(kVecBlock, n - v0);
            alignas(64) std::int32_t acc[4 * kColBlock];
            kernel16(w16_.data() + c0, cols, x16.data() + std::size_t(v0) * rows, rows, rows, nv, nc, acc);
            for (std::uint32_t v = 0; v < nv; ++v)
                for (std::uint32_t j = 0; j < nc; ++j) y[std::size_t(v0 + v) * cols + c0 + j] = acc[v * kColBlock + j];
        });
        return;
    }
    // Wide precisions: 64-bit wrapping arithmetic (exact modulo 2^64).
    parallel_for(std::size_t(ncb) * nvb, r_.threads, [&](std::size_t item) {
        const std::uint32_t cb = std::uint32_t(item % ncb), vb = std::uint32_t(item / ncb);
        const std::uint32_t c0 = cb * kColBlock, nc = std::min(kColBlock, cols - c0);
        const std::uint32_t v0 = vb * kVecBlock, nv = std::min(kVecBlock, n - v0);
        std::vector<std::uint64_t> acc(std::size_t(nv) * nc, 0);
        for (std::uint32_t v = 0; v < nv; ++v)
            for (std::uint32_t r = 0; r < rows; ++r) {
                const std::uint64_t xv = std::uint64_t(std::int64_t(x[std::size_t(v0 + v) * rows + r]));
                const std::int32_t *wr = w_.data() + std::size_t(r) * cols + c0;
                for (std::uint32_t j = 0; j < nc; ++j) acc[std::size_t(v) * nc + j] += xv * std::uint64_t(std::int64_t(wr[j]));
            }
        for (std::uint32_t v = 0; v < nv; ++v)
            for (std::uint32_t j = 0; j < nc; ++j) y[std::size_t(v0 + v) * cols + c0 + j] = std::int64_t(acc[std::size_t(v) * nc + j]);
    });
}

}  // namespace cimsim
