// Analog reads by 4-row subset-sum tables ("four Russians"), register-blocked over reads (see analog_lut.hpp).
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
//
// Per block of 16 cell columns, the 16 subset sums of every 4 consecutive rows (of e, and of q with read
// noise) form a table shared by every read of every vector in the chunk, so a read adds one table entry per
// 4 word lines. The tables of one pass cover as many 4-row blocks as fit in L1; R reads at a time walk the
// pass with their partial sums in registers, taking each block's table index straight from the read's input
// bits (4 bits per block). A read's last pass ends in its noise, ADC and shift-and-add, still in registers.
//
// Float results equal the read-by-read definition on 4-row tables: each entry is built as
// table[m] = table[m without its top row] + that row, and a read's column sum adds the entries of its blocks
// in ascending block order starting from +0 (an all-zero block adds entry 0, +0, which changes no sum). The
// build uses -ffp-contract=off, so every target clone computes the same floats.
#include "analog_lut.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <immintrin.h>

#include "rng.hpp"

namespace cimsim {
namespace {

typedef float v16f __attribute__((vector_size(64), aligned(64)));
typedef float v8f __attribute__((vector_size(32), aligned(32)));
typedef double v8d __attribute__((vector_size(64), aligned(64)));
typedef std::int64_t v8l __attribute__((vector_size(64), aligned(64)));
typedef std::uint64_t v8u __attribute__((vector_size(64), aligned(64)));
constexpr std::uint32_t kCols = 16;  // cell columns per block (one 512-bit vector)
constexpr int kMaxReads = 8;         // reads in flight

// What every read of one tile shares.
struct Pass {
    const TileState *t;
    const LutScratch *s;
    float *tables, *racc;
    std::uint64_t *totals;
    std::size_t stride, zstride;  // totals per vector; draws per read
    std::uint32_t tw, ib;         // input-bit words per (vector, bit); input bits
    std::uint32_t pr, nb, group;  // rows per read, 4-row blocks in the tile, blocks per L1 pass
    float fn;                     // read-noise σ (0: none)
    double scale, max_code;
};

// Noise, ADC and shift-and-add of one read for 16 columns: e += σ·sqrt(q)·z; code = clamp(round(e·scale), 0,
// max); T ± = code·2^k (minus for the two's-complement sign bit). Clamping before the conversion gives the
// same code as converting first, with no overflow.
__attribute__((always_inline)) inline void adc16(v16f e, v16f q, const float *z, float fn, double scale, double max_code,
                                                 std::uint32_t k, bool sign_bit, std::uint64_t *tsum) {
    if (z) {
        v16f sq;
        for (std::uint32_t j = 0; j < kCols; ++j) sq[j] = std::sqrt(q[j]);
        e += fn * sq * *(const v16f *)z;
    }
    const v8f half[2] = {__builtin_shufflevector(e, e, 0, 1, 2, 3, 4, 5, 6, 7),
                         __builtin_shufflevector(e, e, 8, 9, 10, 11, 12, 13, 14, 15)};
    for (int h = 0; h < 2; ++h) {
        v8d v = __builtin_convertvector(half[h], v8d) * scale + 0.5;
        v = v < 0 ? v8d{} : v;
        v = v > max_code ? v8d{} + max_code : v;
        const v8u c = v8u(__builtin_convertvector(v, v8l)) << k;
        v8u &t = *(v8u *)(tsum + 8 * h);
        t = sign_bit ? t - c : t + c;
    }
}

// R reads sharing the block range [lo, hi) of the current pass (tables of block lo at `tab`): partial sums
// start at zero (first) or from racc; after the range they go to racc or, on the read's last pass (last),
// through adc16.
template <int R, bool Q>
__attribute__((always_inline)) inline void add_reads(const Pass &p, const float *tab, std::uint32_t lo, std::uint32_t hi,
                                                     const std::uint32_t *ri, bool first, bool last, std::uint32_t j0) {
    constexpr std::size_t ew = Q ? 2 * kCols : kCols, bstride = 16 * ew;  // floats per table entry / block
    const LutScratch &s = *p.s;
    v16f a[R], b[R];
    const std::uint64_t *rb[R];
    for (int r = 0; r < R; ++r) {
        const auto &rd = s.reads[ri[r]];
        rb[r] = s.rbits.data() + (std::size_t(rd.vi) * p.ib + rd.k) * p.tw;
        const float *acc = p.racc + std::size_t(ri[r]) * ew;
        a[r] = first ? v16f{} : *(const v16f *)acc;
        if (Q) b[r] = first ? v16f{} : *(const v16f *)(acc + kCols);
    }
    for (std::uint32_t blk = lo; blk < hi;) {
        if (blk % 8 == 0 && blk + 8 <= hi) {
            // 8 blocks whose indices sit in one 32-bit half of each read's bit word: with the half
            // pre-shifted by log2(entry bytes), block i's byte offset is (m >> 4i) masked to the index field
            // (a non-destructive shift and an and per read and block).
            constexpr int sh = Q ? 7 : 6;
            constexpr std::uint64_t field = std::uint64_t(15) << sh;
            std::uint64_t m[R];
            for (int r = 0; r < R; ++r) m[r] = std::uint64_t(std::uint32_t(rb[r][blk / 16] >> (4 * (blk % 16)))) << sh;
#pragma GCC unroll 1
            for (unsigned i = 0; i < 32; i += 4) {
#pragma GCC unroll 8
                for (int r = 0; r < R; ++r) {
                    const float *e = (const float *)((const char *)tab + ((m[r] >> i) & field));
                    a[r] += *(const v16f *)e;
                    if (Q) b[r] += *(const v16f *)(e + kCols);
                }
                tab += bstride;
            }
            blk += 8;
            continue;
        }
        const std::uint32_t wd = blk / 16, end = std::min(hi, blk % 8 ? 8 * (blk / 8 + 1) : 16 * (wd + 1));
        std::uint64_t m[R];
        for (int r = 0; r < R; ++r) m[r] = rb[r][wd] >> (4 * (blk % 16));
        for (; blk < end; ++blk, tab += bstride) {
#pragma GCC unroll 8
            for (int r = 0; r < R; ++r) {
                const float *e = tab + (m[r] & 15u) * ew;
                a[r] += *(const v16f *)e;
                if (Q) b[r] += *(const v16f *)(e + kCols);
                m[r] >>= 4;
            }
        }
    }
    for (int r = 0; r < R; ++r) {
        if (!last) {
            float *acc = p.racc + std::size_t(ri[r]) * ew;
            *(v16f *)acc = a[r];
            if (Q) *(v16f *)(acc + kCols) = b[r];
            continue;
        }
        const auto &rd = s.reads[ri[r]];
        adc16(a[r], Q ? b[r] : v16f{}, Q ? s.z.data() + std::size_t(ri[r]) * p.zstride + j0 : nullptr, p.fn, p.scale,
              p.max_code, rd.k, rd.k == p.ib - 1, p.totals + std::size_t(rd.vi) * p.stride + j0);
    }
}

template <bool Q>
__attribute__((always_inline)) inline void add_batch(const Pass &p, const float *tab, std::uint32_t lo, std::uint32_t hi,
                                                     const std::uint32_t *ri, int n, bool first, bool last, std::uint32_t j0) {
    switch (n) {
    case 8: add_reads<8, Q>(p, tab, lo, hi, ri, first, last, j0); break;
    case 7: add_reads<7, Q>(p, tab, lo, hi, ri, first, last, j0); break;
    case 6: add_reads<6, Q>(p, tab, lo, hi, ri, first, last, j0); break;
    case 5: add_reads<5, Q>(p, tab, lo, hi, ri, first, last, j0); break;
    case 4: add_reads<4, Q>(p, tab, lo, hi, ri, first, last, j0); break;
    case 3: add_reads<3, Q>(p, tab, lo, hi, ri, first, last, j0); break;
    case 2: add_reads<2, Q>(p, tab, lo, hi, ri, first, last, j0); break;
    case 1: add_reads<1, Q>(p, tab, lo, hi, ri, first, last, j0); break;
    }
}

// The subset-sum table of 4-row block blk for the 16 columns at j0 (zero past the last cell column): entry
// m = entry (m without its top row) + that row; rows past the tile (row ≥ tr) are never active.
template <bool Q>
__attribute__((always_inline)) inline void build_table(const TileState &t, std::uint32_t blk, std::uint32_t j0, float *dst) {
    constexpr std::size_t ew = Q ? 2 * kCols : kCols;
    const std::uint32_t valid = std::min(4u, t.tr - 4 * blk);
    const float *e = t.e.data() + (std::size_t(j0 / kCols) * t.tr + 4 * blk) * kCols;
    const float *q = Q ? t.q.data() + (e - t.e.data()) : nullptr;
    for (int part = 0; part < (Q ? 2 : 1); ++part) {
        const float *src = part ? q : e;
        float *out = dst + part * kCols;
        v16f row[4] = {}, tb[16];
        for (std::uint32_t r = 0; r < valid; ++r) row[r] = *(const v16f *)(src + r * kCols);
        // a row past the tile adds +0, which leaves every (never −0) subset sum as it is
        tb[0] = v16f{};
#pragma GCC unroll 16
        for (unsigned mk = 1; mk < 16; ++mk) {
            const unsigned top = 31u - unsigned(__builtin_clz(mk));
            tb[mk] = tb[mk & ~(1u << top)] + row[top];
        }
#pragma GCC unroll 16
        for (unsigned mk = 0; mk < 16; ++mk) *(v16f *)(out + mk * ew) = tb[mk];
    }
}

// Every read of the chunk for the 16-column block at j0, pass by pass.
template <bool Q>
__attribute__((always_inline)) inline void column_block_impl(const Pass &p, std::uint32_t j0) {
    constexpr std::size_t bstride = 16 * (Q ? 2 * kCols : kCols);
    const TileState &t = *p.t;
    const auto &groups = p.s->group_reads;
    for (std::uint32_t b0 = 0; b0 < p.nb; b0 += p.group) {
        const std::uint32_t b1 = std::min(p.nb, b0 + p.group);
        for (std::uint32_t blk = b0; blk < b1; ++blk) build_table<Q>(t, blk, j0, p.tables + std::size_t(blk - b0) * bstride);
        for (std::uint32_t g = 0; g < groups.size(); ++g) {
            const std::uint32_t gb0 = g * p.pr / 4, gb1 = (std::min(t.tr, (g + 1) * p.pr) + 3) / 4;
            const std::uint32_t lo = std::max(gb0, b0), hi = std::min(gb1, b1);
            if (lo >= hi) continue;
            const auto &list = groups[g];
            const float *tab = p.tables + std::size_t(lo - b0) * bstride;
            for (std::size_t i = 0; i < list.size(); i += kMaxReads)
                add_batch<Q>(p, tab, lo, hi, list.data() + i, int(std::min<std::size_t>(kMaxReads, list.size() - i)), lo == gb0,
                             hi == gb1, j0);
        }
    }
}

__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) void column_block(const Pass &p, std::uint32_t j0) {
    if (p.fn > 0) column_block_impl<true>(p, j0);
    else column_block_impl<false>(p, j0);
}

// n steps of xoshiro256** (Rng::next) on 8 streams at once: st holds the streams' state words lane-wise
// (st[w·8 + lane]); output u64 i of lane l goes to out[i·8 + l].
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) void xoshiro8(std::uint64_t *st, std::size_t n,
                                                                                          std::uint64_t *out) {
    v8u s0 = *(v8u *)st, s1 = *(v8u *)(st + 8), s2 = *(v8u *)(st + 16), s3 = *(v8u *)(st + 24);
    for (std::size_t i = 0; i < n; ++i) {
        const v8u x = (s1 << 2) + s1, y = (x << 7) | (x >> 57);  // rotl(s1·5, 7)
        *(v8u *)(out + 8 * i) = (y << 3) + y;                     // ·9
        const v8u t = s1 << 17;
        s2 ^= s0, s3 ^= s1, s1 ^= s2, s0 ^= s3, s2 ^= t, s3 = (s3 << 45) | (s3 >> 19);
    }
    *(v8u *)st = s0, *(v8u *)(st + 8) = s1, *(v8u *)(st + 16) = s2, *(v8u *)(st + 24) = s3;
}

// z[j] = normal_table()[idx[j] & 16383] (Rng::normal_fast on stored 16-bit draws). The table is odd
// (entry 16383 − i = −entry i, checked once), so the AVX-512 path gathers from its upper half, 32 KiB, which
// stays in L1 while the draws stream past (random gathers into the whole 64 KiB table missed L1).
const float *odd_half() {
    const float *t = Rng::normal_table();
    for (int i = 0; i < 8192; ++i)
        if (t[16383 - i] != -t[i]) return nullptr;
    return t + 8192;
}
__attribute__((target("avx512f"))) void lookup_normal_avx512(const std::uint16_t *idx, std::size_t n, float *z) {
    static const float *const half = odd_half();
    const float *tbl = Rng::normal_table();
    std::size_t j = 0;
    if (half)
        for (; j + 16 <= n; j += 16) {
            const __m512i i = _mm512_maskz_cvtepu16_epi32(__mmask16(0xFFFF), _mm256_loadu_si256((const __m256i *)(idx + j)));
            // entry i for i ≥ 8192 is half[i − 8192]; for i < 8192 it is −half[8191 − i]
            const __m512i c8191 = _mm512_set1_epi32(8191), lo = _mm512_and_si512(i, c8191);
            const __mmask16 neg = _mm512_testn_epi32_mask(i, _mm512_set1_epi32(8192));
            const __m512i m = _mm512_mask_xor_epi32(lo, neg, lo, c8191);
            const __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), __mmask16(0xFFFF), m, half, 4);
            _mm512_storeu_ps(z + j, _mm512_castsi512_ps(_mm512_mask_xor_epi32(
                                        _mm512_castps_si512(v), neg, _mm512_castps_si512(v), _mm512_set1_epi32(int(0x80000000u)))));
        }
    for (; j < n; ++j) z[j] = tbl[idx[j] & 16383u];
}
void lookup_normal_generic(const std::uint16_t *idx, std::size_t n, float *z) {
    const float *tbl = Rng::normal_table();
    for (std::size_t j = 0; j < n; ++j) z[j] = tbl[idx[j] & 16383u];
}
using LookupFn = void (*)(const std::uint16_t *, std::size_t, float *);
const LookupFn lookup_normal = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? lookup_normal_avx512 : lookup_normal_generic;
}();

// The read-noise draws of every read of the chunk: vector v's stream (seed, ReadNoise, tile, v) gives its reads
// ncc draws each, read by read, each draw one 16-bit piece of the stream's 64-bit outputs, low piece first
// (Rng::fill_normal_fast). Eight vectors' streams step together; z of read ri at s.z + ri·zstride, padded
// with zeros to zstride.
void draw_noise(std::uint32_t ncc, std::size_t zstride, std::uint64_t seed, std::uint32_t tid, std::uint32_t v0,
                std::uint32_t nv, LutScratch &s) {
    for (std::uint32_t g0 = 0; g0 < nv; g0 += 8) {
        const std::uint32_t lanes = std::min(8u, nv - g0);
        alignas(64) std::uint64_t st[32] = {};
        std::size_t steps = 0;
        for (std::uint32_t l = 0; l < lanes; ++l) {
            const Rng rng(seed, Stream::ReadNoise, tid, v0 + g0 + l);
            for (int w = 0; w < 4; ++w) st[w * 8 + l] = rng.state()[w];
            const std::size_t draws = std::size_t(s.first_read[g0 + l + 1] - s.first_read[g0 + l]) * ncc;
            steps = std::max(steps, (draws + 3) / 4);
        }
        s.bits.resize(steps * 8);
        xoshiro8(st, steps, s.bits.data());
        for (std::uint32_t l = 0; l < lanes; ++l) {
            const std::uint32_t r0 = s.first_read[g0 + l], r1 = s.first_read[g0 + l + 1];
            const std::size_t draws = std::size_t(r1 - r0) * ncc;
            s.idx.resize((draws + 3) / 4 * 4);
            for (std::size_t i = 0; i < (draws + 3) / 4; ++i) {  // this lane's 64-bit outputs as 4 pieces each
                const std::uint64_t b = s.bits[i * 8 + l];
                if constexpr (std::endian::native == std::endian::little) std::memcpy(s.idx.data() + 4 * i, &b, 8);
                else
                    for (int h = 0; h < 4; ++h) s.idx[4 * i + h] = std::uint16_t(b >> (16 * h));
            }
            for (std::uint32_t ri = r0; ri < r1; ++ri) {
                float *z = s.z.data() + std::size_t(ri) * zstride;
                lookup_normal(s.idx.data() + std::size_t(ri - r0) * ncc, ncc, z);
                std::fill(z + ncc, z + zstride, 0.0f);
            }
        }
    }
}

// Is any bit of [b, e) set?
bool any_bit(const std::uint64_t *w, std::uint32_t b, std::uint32_t e) {
    for (std::uint32_t i = b / 64; i * 64 < e; ++i) {
        std::uint64_t x = w[i];
        if (i == b / 64) x &= ~std::uint64_t(0) << (b % 64);
        if ((i + 1) * 64 > e) x &= (std::uint64_t(1) << (e % 64)) - 1;
        if (x) return true;
    }
    return false;
}

}  // namespace

void lut_layout(TileState &t) {
    const std::size_t ncb = (t.ncc + kCols - 1) / kCols;
    for (AlignedVec<float> *v : {&t.e, &t.q}) {
        if (v->empty()) continue;
        AlignedVec<float> b(ncb * t.tr * kCols, 0.0f);
        for (std::size_t i = 0; i < t.tr; ++i)
            for (std::size_t j = 0; j < t.ncc; ++j) b[((j / kCols) * t.tr + i) * kCols + j % kCols] = (*v)[i * t.ncc + j];
        v->swap(b);
    }
}

void read_analog_lut(const Resolved &r, const TileState &t, std::uint32_t tid, std::uint32_t v0, std::uint32_t v1,
                     const std::uint64_t *xplanes, std::size_t wpp, double step, std::int64_t max_code, LutScratch &s) {
    const Config &c = r.cfg;
    const bool noise = c.read_noise_sigma > 0;
    Pass p{};
    p.t = &t, p.s = &s;
    p.ib = std::uint32_t(c.input_bits), p.pr = std::uint32_t(r.parallel_rows), p.nb = (t.tr + 3) / 4;
    p.tw = (t.tr + 63) / 64;
    p.stride = p.zstride = (t.ncc + kCols - 1) / kCols * kCols;
    p.fn = float(c.read_noise_sigma), p.scale = r.adc_lossless ? 1.0 : 1.0 / step, p.max_code = double(max_code);
    const std::uint32_t nv = v1 - v0, ngroups = (t.tr + p.pr - 1) / p.pr;

    // The reads: the tile's input bits per (vector, bit), the reads that drive at least one word line, their
    // draws in the stream's order (a read that drives none draws nothing and converts to code 0).
    s.rbits.resize(std::size_t(nv) * p.ib * p.tw);
    s.first_read.resize(nv + 1);
    s.reads.clear();
    s.group_reads.resize(ngroups);
    for (auto &g : s.group_reads) g.clear();
    if (noise && s.z.size() < std::size_t(nv) * p.ib * ngroups * p.zstride) s.z.resize(std::size_t(nv) * p.ib * ngroups * p.zstride);
    for (std::uint32_t vi = 0; vi < nv; ++vi) {
        s.first_read[vi] = std::uint32_t(s.reads.size());
        for (std::uint32_t k = 0; k < p.ib; ++k) {
            std::uint64_t *rb = s.rbits.data() + (std::size_t(vi) * p.ib + k) * p.tw;
            extract_bits(xplanes + (std::size_t(v0 + vi) * p.ib + k) * wpp, t.r0, t.tr, rb, p.tw);
            for (std::uint32_t g = 0; g < ngroups; ++g) {
                if (!any_bit(rb, g * p.pr, std::min(t.tr, (g + 1) * p.pr))) continue;
                const std::uint32_t ri = std::uint32_t(s.reads.size());
                s.reads.push_back({vi, k});
                s.group_reads[g].push_back(ri);
            }
        }
    }
    s.first_read[nv] = std::uint32_t(s.reads.size());
    if (noise) draw_noise(t.ncc, p.zstride, c.seed, tid, v0, nv, s);
    const std::size_t ew = noise ? 2 * kCols : kCols;
    // blocks per pass: their tables within 32 KiB (L1 holds them while the reads stream past)
    p.group = std::clamp<std::uint32_t>(std::uint32_t(32768 / (16 * ew * sizeof(float))), 1, p.nb);
    s.tables.resize(std::size_t(p.group) * 16 * ew);
    s.racc.resize(std::max<std::size_t>(1, s.reads.size()) * ew);
    s.totals.assign(std::size_t(nv) * p.stride, 0);
    s.stride = p.stride;
    p.tables = s.tables.data(), p.racc = s.racc.data(), p.totals = s.totals.data();
    for (std::uint32_t j0 = 0; j0 < t.ncc; j0 += kCols) column_block(p, j0);
}

}  // namespace cimsim
