// One programmed tile's cell states and a cache-line-aligned allocator (private to the functional engine).
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <vector>

namespace cimsim {

// Storage for data the kernels read as whole 64-byte vectors (a malloc'd vector is 16-byte aligned, so every
// other 512-bit load would split across two cache lines).
template <typename T> struct CacheAligned {
    using value_type = T;
    CacheAligned() = default;
    template <typename U> CacheAligned(const CacheAligned<U> &) {}
    T *allocate(std::size_t n) { return static_cast<T *>(::operator new(n * sizeof(T), std::align_val_t(64))); }
    void deallocate(T *p, std::size_t) { ::operator delete(p, std::align_val_t(64)); }
    bool operator==(const CacheAligned &) const { return true; }
};
template <typename T> using AlignedVec = std::vector<T, CacheAligned<T>>;

struct TileState {
    std::uint32_t r0, c0, tr, tc, ncc;  // first row / weight column, sizes, cell columns
    std::vector<std::uint8_t> level;    // integer cell levels, tr × ncc (ideal cells)
    // Analog cells: e = (G − g_off)/Δg and q = (G/Δg)² (read-noise variance weight) per cell, row-major
    // tr × ncc; tiles read by 4-row tables (analog_lut.hpp) hold them column-blocked instead (lut_layout).
    AlignedVec<float> e, q;
    // Ideal-cell tiles: per row group g, level bit-plane p and cell column j, the bit-set of the group's
    // rows whose cell has bit p set: colbits[((g·b + p)·gwords + w)·ncc + j]. A read's partial sum is then
    // Σ_p 2^p · popcount(active rows & colbits).
    std::uint32_t groups = 0, gwords = 0;
    std::vector<std::uint64_t> colbits;
};

// Bits [start, start+len) of a bit array into nw words (len ≤ 64·nw; the array has a spare zero word at the
// end); bits past len are zero.
inline void extract_bits(const std::uint64_t *plane, std::size_t start, std::size_t len, std::uint64_t *out, std::uint32_t nw) {
    for (std::uint32_t w = 0; w < nw; ++w) {
        const std::size_t pos = start + 64 * std::size_t(w);
        if (64 * std::size_t(w) >= len) {
            out[w] = 0;
            continue;
        }
        const std::size_t word = pos / 64, off = pos % 64;
        std::uint64_t v = plane[word] >> off;
        if (off) v |= plane[word + 1] << (64 - off);
        const std::size_t left = len - 64 * std::size_t(w);
        if (left < 64) v &= (std::uint64_t(1) << left) - 1;
        out[w] = v;
    }
}

}  // namespace cimsim
