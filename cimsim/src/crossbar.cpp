// Crossbar programming (cell states, variation, faults) and the bit-level functional pipeline.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "cimsim/crossbar.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <optional>
#include <string>

#include "analog_lut.hpp"
#include "parallel.hpp"
#include "rng.hpp"
#include "tile.hpp"

namespace cimsim {

void check_range(std::span<const std::int32_t> v, int bits, std::string_view what, std::uint32_t row_len) {
    const std::int64_t lo = -(std::int64_t(1) << (bits - 1)), hi = (std::int64_t(1) << (bits - 1)) - 1;
    for (std::size_t i = 0; i < v.size(); ++i)
        if (v[i] < lo || v[i] > hi)
            throw Error("cimsim: " + std::string(what) + " [" + std::to_string(i / row_len) + "][" +
                        std::to_string(i % row_len) + "] = " + std::to_string(v[i]) + " does not fit " +
                        std::to_string(bits) + "-bit two's complement [" + std::to_string(lo) + ", " +
                        std::to_string(hi) + "]");
}

Crossbar::Crossbar(const Resolved &r, std::uint32_t rows, std::uint32_t cols, std::span<const std::int32_t> weights)
    : r_(r), map_(map_matrix(r, rows, cols)) {
    if (weights.size() != std::size_t(rows) * cols)
        throw Error("cimsim: weight data has " + std::to_string(weights.size()) + " values, expected rows×cols = " +
                    std::to_string(std::size_t(rows) * cols));
    const Config &c = r.cfg;
    check_range(weights, c.weight_bits, "weight", cols);
    const bool lossless_ideal = r.adc_lossless && r.analog_ideal;
    engine_ = c.engine == EngineKind::Auto ? (lossless_ideal ? EngineKind::Exact : EngineKind::BitLevel) : c.engine;

    const int b = c.bits_per_cell;
    const std::int64_t levels_max = (std::int64_t(1) << b) - 1;
    const double full_scale = double(r.parallel_rows) * double(levels_max) * c.adc_range;
    const std::int64_t codes_max = (std::int64_t(1) << r.adc_bits) - 1;
    step_ = r.adc_lossless ? 1.0 : std::max(1.0, full_scale / double(codes_max));
    max_code_ = r.adc_lossless ? std::int64_t(r.parallel_rows) * levels_max
                               : std::min<std::int64_t>(codes_max, std::int64_t(std::floor(full_scale / step_ + 1e-9)));

    if (engine_ == EngineKind::Exact) {
        // int16 operands with int32 sums are exact while |Σ x·w| < 2^31 for every possible input.
        narrow_ = c.weight_bits <= 16 && c.input_bits <= 16 &&
                  (c.weight_bits - 1) + (c.input_bits - 1) + int(std::bit_width(rows)) <= 30;
        if (narrow_) w16_.assign(weights.begin(), weights.end());
        else w_.assign(weights.begin(), weights.end());
        return;
    }

    const double dg = (r.g_on_us - r.g_off_us) / double(levels_max);
    const bool int_levels = c.program_sigma == 0 && c.read_noise_sigma == 0;
    const double sa0 = c.stuck_at_0_rate, sa1 = c.stuck_at_1_rate;
    const std::uint32_t offset_bias = std::uint32_t(1) << (c.weight_bits - 1);  // wraps fine for 32 bits
    tiles_.resize(map_.tiles());
    for (std::uint32_t rt = 0; rt < map_.row_tiles; ++rt)
        for (std::uint32_t ct = 0; ct < map_.col_tiles; ++ct) {
            const std::uint32_t tid = rt * map_.col_tiles + ct;
            auto t = std::make_unique<TileState>();
            t->r0 = rt * map_.tile_rows, t->c0 = ct * map_.tile_wcols;
            t->tr = map_.rows_in(rt), t->tc = map_.wcols_in(ct), t->ncc = t->tc * std::uint32_t(map_.slices);
            const std::size_t n = std::size_t(t->tr) * t->ncc;
            if (int_levels) t->level.resize(n);
            else t->e.resize(n), t->q.resize(c.read_noise_sigma > 0 ? n : 0);
            Rng rng(c.seed, Stream::Program, tid);
            for (std::uint32_t i = 0; i < t->tr; ++i)
                for (std::uint32_t j = 0; j < t->tc; ++j) {
                    const std::uint32_t wu = std::uint32_t(weights[std::size_t(t->r0 + i) * cols + t->c0 + j]) + offset_bias;
                    for (int s = 0; s < map_.slices; ++s) {
                        std::int64_t lv = std::int64_t((std::uint64_t(wu) >> (b * s)) & std::uint64_t(levels_max));
                        if (sa0 > 0 || sa1 > 0) {
                            const double u = rng.uniform();
                            if (u < sa0) lv = 0;
                            else if (u < sa0 + sa1) lv = levels_max;
                        }
                        const std::size_t k = std::size_t(i) * t->ncc + std::size_t(j) * map_.slices + s;
                        if (int_levels) {
                            t->level[k] = std::uint8_t(lv);
                            continue;
                        }
                        double g = r.g_off_us + double(lv) * dg;
                        if (c.program_sigma > 0) g = std::max(0.0, g * (1.0 + c.program_sigma * rng.normal()));
                        t->e[k] = float((g - r.g_off_us) / dg);
                        if (!t->q.empty()) t->q[k] = float((g / dg) * (g / dg));
                    }
                }
            if (!int_levels && lut_reads(r)) lut_layout(*t);
            if (int_levels) {
                const std::uint32_t pr = std::uint32_t(r.parallel_rows);
                t->groups = (t->tr + pr - 1) / pr;
                t->gwords = (pr + 63) / 64;
                t->colbits.assign(std::size_t(t->groups) * b * t->ncc * t->gwords, 0);
                for (std::uint32_t i = 0; i < t->tr; ++i) {
                    const std::uint32_t g = i / pr, bit = i % pr;
                    for (std::uint32_t j = 0; j < t->ncc; ++j) {
                        const std::uint8_t lv = t->level[std::size_t(i) * t->ncc + j];
                        for (int pl = 0; pl < b; ++pl)
                            if ((lv >> pl) & 1)
                                t->colbits[((std::size_t(g) * b + pl) * t->gwords + bit / 64) * t->ncc + j] |= std::uint64_t(1) << (bit % 64);
                    }
                }
                std::vector<std::uint8_t>().swap(t->level);
            }
            tiles_[tid] = std::move(t);
        }
    if (int_levels) {  // ADC transfer function as a table over every possible integer partial sum
        lut_.resize(std::size_t(r.parallel_rows) * std::size_t(levels_max) + 1);
        for (std::size_t v = 0; v < lut_.size(); ++v)
            lut_[v] = std::int32_t(std::clamp<std::int64_t>(
                r.adc_lossless ? std::int64_t(v) : std::int64_t(std::floor(double(v) / step_ + 0.5)), 0, max_code_));
    }
}

Crossbar::~Crossbar() = default;

void Crossbar::mvm(std::span<const std::int32_t> x, std::uint32_t n, std::span<std::int64_t> y) const {
    if (x.size() != std::size_t(n) * map_.rows)
        throw Error("cimsim: input data has " + std::to_string(x.size()) + " values, expected n_vectors×rows = " +
                    std::to_string(std::size_t(n) * map_.rows));
    if (y.size() != std::size_t(n) * map_.cols) throw Error("cimsim: output buffer has the wrong size");
    check_range(x, r_.cfg.input_bits, "input", map_.rows);
    if (n == 0) return;
    if (engine_ == EngineKind::Exact) mvm_exact(x, n, y);
    else mvm_bitlevel(x, n, y);
}

namespace {

// out_e[j] = Σ_rows e[row][j] (and out_q likewise when q is given), rows in ascending order. Columns go in
// blocks of 64 (then 32) floats held in registers while the active rows stream past (GCC vector extensions:
// 512-bit registers in the x86-64-v4 clone, pairs of 256-bit ones in v3). Every column's sum is the same
// sequence of float adds whatever the block width, so results do not depend on the clone.
typedef float v16f __attribute__((vector_size(64), aligned(4)));
typedef float v8f __attribute__((vector_size(32), aligned(4)));
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) void sum_active_rows(
    const float *e, const float *q, std::size_t stride, const std::uint32_t *rows, std::size_t nrows, std::size_t n,
    float *out_e, float *out_q) {
    std::size_t j0 = 0;
    for (; j0 + 64 <= n; j0 += 64) {
        v16f a0 = {}, a1 = {}, a2 = {}, a3 = {}, b0 = {}, b1 = {}, b2 = {}, b3 = {};
        if (q) {
            for (std::size_t i = 0; i < nrows; ++i) {
                const float *pe = e + std::size_t(rows[i]) * stride + j0, *pq = q + std::size_t(rows[i]) * stride + j0;
                a0 += *(const v16f *)(pe), a1 += *(const v16f *)(pe + 16), a2 += *(const v16f *)(pe + 32), a3 += *(const v16f *)(pe + 48);
                b0 += *(const v16f *)(pq), b1 += *(const v16f *)(pq + 16), b2 += *(const v16f *)(pq + 32), b3 += *(const v16f *)(pq + 48);
            }
            *(v16f *)(out_q + j0) = b0, *(v16f *)(out_q + j0 + 16) = b1, *(v16f *)(out_q + j0 + 32) = b2, *(v16f *)(out_q + j0 + 48) = b3;
        } else {
            for (std::size_t i = 0; i < nrows; ++i) {
                const float *pe = e + std::size_t(rows[i]) * stride + j0;
                a0 += *(const v16f *)(pe), a1 += *(const v16f *)(pe + 16), a2 += *(const v16f *)(pe + 32), a3 += *(const v16f *)(pe + 48);
            }
        }
        *(v16f *)(out_e + j0) = a0, *(v16f *)(out_e + j0 + 16) = a1, *(v16f *)(out_e + j0 + 32) = a2, *(v16f *)(out_e + j0 + 48) = a3;
    }
    for (; j0 + 32 <= n; j0 += 32) {
        v8f a0 = {}, a1 = {}, a2 = {}, a3 = {}, b0 = {}, b1 = {}, b2 = {}, b3 = {};
        for (std::size_t i = 0; i < nrows; ++i) {
            const float *pe = e + std::size_t(rows[i]) * stride + j0;
            a0 += *(const v8f *)(pe), a1 += *(const v8f *)(pe + 8), a2 += *(const v8f *)(pe + 16), a3 += *(const v8f *)(pe + 24);
            if (q) {
                const float *pq = q + std::size_t(rows[i]) * stride + j0;
                b0 += *(const v8f *)(pq), b1 += *(const v8f *)(pq + 8), b2 += *(const v8f *)(pq + 16), b3 += *(const v8f *)(pq + 24);
            }
        }
        *(v8f *)(out_e + j0) = a0, *(v8f *)(out_e + j0 + 8) = a1, *(v8f *)(out_e + j0 + 16) = a2, *(v8f *)(out_e + j0 + 24) = a3;
        if (q) *(v8f *)(out_q + j0) = b0, *(v8f *)(out_q + j0 + 8) = b1, *(v8f *)(out_q + j0 + 16) = b2, *(v8f *)(out_q + j0 + 24) = b3;
    }
    for (std::size_t j = j0; j < n; ++j) {
        float ae = 0, aq = 0;
        for (std::size_t i = 0; i < nrows; ++i) {
            ae += e[std::size_t(rows[i]) * stride + j];
            if (q) aq += q[std::size_t(rows[i]) * stride + j];
        }
        out_e[j] = ae;
        if (q) out_q[j] = aq;
    }
}

// All input bits of one row group for every cell column of a tile: partial sums by popcount, ADC by
// table, shift-and-add. xw holds ib bit-sets of nw words (input bit k at xw + k·nw); the column bit-sets
// are laid out column-contiguous (cb[(p·nw + w)·ncc + j]) so the loops over j vectorise (AVX-512
// VPOPCNTDQ where the CPU has it).
#define CIMSIM_READ_GROUP_PARAMS                                                                            \
    const std::uint64_t *xw, std::uint32_t nw, int ib, const std::uint64_t *cb, std::uint32_t ncc, int planes,   \
        const std::int32_t *lut, std::uint64_t *__restrict tsum, std::uint32_t *__restrict sum
#define CIMSIM_READ_GROUP_BODY                                                                                    \
    for (int k = 0; k < ib; ++k) {                                                                               \
        bool any = false;                                                                                        \
        for (std::uint32_t j = 0; j < ncc; ++j) sum[j] = 0;                                                      \
        for (int p = 0; p < planes; ++p)                                                                         \
            for (std::uint32_t w = 0; w < nw; ++w) {                                                             \
                const std::uint64_t x = xw[std::size_t(k) * nw + w];                                             \
                if (!x) continue;                                                                                \
                any = true;                                                                                      \
                const std::uint64_t *__restrict c = cb + (std::size_t(p) * nw + w) * ncc;                        \
                for (std::uint32_t j = 0; j < ncc; ++j) sum[j] += std::uint32_t(__builtin_popcountll(x & c[j])) << p; \
            }                                                                                                    \
        if (!any) continue; /* no word line driven: every code is 0 */                                          \
        if (k == ib - 1) /* the MSB of a two's-complement input weighs -2^k */                                   \
            for (std::uint32_t j = 0; j < ncc; ++j) tsum[j] -= std::uint64_t(std::int64_t(lut[sum[j]])) << k;    \
        else                                                                                                     \
            for (std::uint32_t j = 0; j < ncc; ++j) tsum[j] += std::uint64_t(std::int64_t(lut[sum[j]])) << k;    \
    }

// Compiled three times and picked at run time (GCC 12's target_clones cannot name AVX-512 VPOPCNTDQ).
__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx512vpopcntdq,popcnt"))) void read_group_avx512(
    CIMSIM_READ_GROUP_PARAMS) {
    CIMSIM_READ_GROUP_BODY
}
__attribute__((target("avx2,popcnt"))) void read_group_avx2(CIMSIM_READ_GROUP_PARAMS) { CIMSIM_READ_GROUP_BODY }
void read_group_generic(CIMSIM_READ_GROUP_PARAMS) { CIMSIM_READ_GROUP_BODY }

using ReadGroupFn = void (*)(CIMSIM_READ_GROUP_PARAMS);
ReadGroupFn pick_read_group() {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512vpopcntdq") && __builtin_cpu_supports("avx512vl")) return read_group_avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt")) return read_group_avx2;
    return read_group_generic;
}
const ReadGroupFn read_group_popcount = pick_read_group();

// One analog read (input bit k, one row group): its active rows are active[begin, begin + count).
struct Read {
    std::uint32_t begin, count;
    int k;
};

// Read noise and ADC for n cell columns of one read: v += σ·sqrt(Σq)·z; code = clamp(round(v·scale), 0, max);
// T += weight_k·code. Clamping before the conversion gives the same code as converting first (and no
// overflow); the build keeps a·b·c + d unfused (-ffp-contract=off), so every clone computes the same floats.
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) void noise_adc_accumulate(
    float *__restrict accf, const float *__restrict accq, const float *__restrict z, float fn, std::size_t n,
    double scale, double max_code, std::uint64_t weight_k, std::uint64_t *__restrict tsum) {
    if (z)
        for (std::size_t j = 0; j < n; ++j) accf[j] += fn * std::sqrt(accq[j]) * z[j];
    for (std::size_t j = 0; j < n; ++j) {
        double v = double(accf[j]) * scale + 0.5;
        v = v < 0 ? 0 : v > max_code ? max_code : v;
        tsum[j] += weight_k * std::uint64_t(std::int64_t(v));
    }
}

// Scratch reused across the (tile, vector) steps of one work item.
struct Scratch {
    std::vector<std::uint32_t> active;  // active row indices within the tile, grouped
    std::vector<std::uint32_t> group_end;
    std::vector<float> accf, accq;
    std::vector<std::uint64_t> tsum;    // per cell column shift-and-add total (wrapping)
    std::vector<std::uint64_t> xw;      // active-row bit-sets of one group, per input bit
    std::vector<std::uint32_t> sums;    // per cell column partial sums of one read
    std::vector<Read> reads;            // analog cells: the reads of one (tile, vector), in draw order
    AlignedVec<float> z;                // their read-noise draws, ncc per read
    LutScratch lut;                     // analog reads of a vector chunk by 4-row tables (analog_lut.hpp)
};

// Analog cells (programming variation / read noise / faults), one tile and one input vector: every read's
// active rows and noise draws first (the draws in the stream's fixed order: input bit, row group, cell column),
// then the reads column block by column block, so that a block of e/q (rows × block floats) stays in cache across
// all reads. Per cell column the arithmetic is the same sequence as a read-by-read loop.
void read_analog(const Resolved &r, const TileState &t, std::uint32_t tid, std::uint32_t v, const std::int32_t *xv,
                 double step, std::int64_t max_code, Scratch &s) {
    const Config &c = r.cfg;
    const int ib = c.input_bits;
    const std::uint32_t pr = std::uint32_t(r.parallel_rows);
    const double noise = c.read_noise_sigma;
    s.active.resize(std::size_t(ib) * t.tr);
    s.reads.clear();
    s.z.clear();
    std::optional<Rng> rng;
    if (noise > 0) rng.emplace(c.seed, Stream::ReadNoise, tid, v);
    std::uint32_t used = 0;
    for (int k = 0; k < ib; ++k)
        for (std::uint32_t g0 = 0; g0 < t.tr; g0 += pr) {
            const std::uint32_t g1 = std::min(t.tr, g0 + pr);
            std::uint32_t na = 0;
            std::uint32_t *act = s.active.data() + used;
            for (std::uint32_t i = g0; i < g1; ++i) {  // branch-free: input bits are random
                act[na] = i;
                na += (std::uint32_t(xv[i]) >> k) & 1u;
            }
            if (na == 0) continue;  // no word line driven: no current, code 0 (and no draw)
            s.reads.push_back({used, na, k});
            used += na;
            if (rng) {
                s.z.resize(s.z.size() + t.ncc);
                rng->fill_normal_fast(s.z.data() + s.z.size() - t.ncc, t.ncc);
            }
        }
    const double scale = r.adc_lossless ? 1.0 : 1.0 / step;
    const float fn = float(noise);
    // columns per block: e and q of the block's rows within ~64 KiB (L1/L2), a multiple of 16, 16..64 (measured:
    // 64 columns of 512-bit adds beat 32 fitting L1 by 20 %; a whole 128-column tile is no faster)
    const std::uint32_t bw = std::clamp<std::uint32_t>((65536u / (8u * std::max(1u, t.tr))) / 16u * 16u, 16u, 64u);
    for (std::uint32_t j0 = 0; j0 < t.ncc; j0 += bw) {
        const std::uint32_t w = std::min(bw, t.ncc - j0);
        for (std::size_t ri = 0; ri < s.reads.size(); ++ri) {
            const Read &rd = s.reads[ri];
            const int k = rd.k;
            const std::uint64_t weight_k = (k == ib - 1) ? (~(std::uint64_t(1) << k) + 1) : (std::uint64_t(1) << k);
            sum_active_rows(t.e.data() + j0, noise > 0 ? t.q.data() + j0 : nullptr, t.ncc, s.active.data() + rd.begin,
                            rd.count, w, s.accf.data(), s.accq.data());
            noise_adc_accumulate(s.accf.data(), s.accq.data(), noise > 0 ? s.z.data() + ri * t.ncc + j0 : nullptr, fn, w,
                                 scale, double(max_code), weight_k, s.tsum.data() + j0);
        }
    }
}

}  // namespace

void Crossbar::mvm_bitlevel(std::span<const std::int32_t> x, std::uint32_t n, std::span<std::int64_t> y) const {
    const Config &c = r_.cfg;
    const Mapping &m = map_;
    const int ib = c.input_bits, b = c.bits_per_cell;
    const std::uint32_t pr = std::uint32_t(r_.parallel_rows);
    const double step = step_;

    // Work items: (vector chunk, column tile) pairs own disjoint outputs; each walks all row tiles.
    // Chunks of up to 64 vectors share the analog tiles' subset-sum tables; at least ~4 items per thread.
    const std::uint32_t want_chunks = (4 * std::uint32_t(std::max(1, r_.threads)) + m.col_tiles - 1) / m.col_tiles;
    const std::uint32_t chunk = std::clamp<std::uint32_t>(n / want_chunks, 1, 64);
    const std::uint32_t nchunks = (n + chunk - 1) / chunk;
    std::vector<std::uint64_t> total(std::size_t(n) * m.cols, 0);  // Σ ±2^k·2^(b·s)·code, wrapping

    // Input bit-planes: bit i of plane (v, k) = bit k of x[v][i] (two's complement), one spare word.
    const std::size_t wpp = (m.rows + 63) / 64 + 1;
    std::vector<std::uint64_t> xplanes;
    if (!lut_.empty() || lut_reads(r_)) {  // popcount engine, or analog reads by 4-row tables
        xplanes.assign(std::size_t(n) * ib * wpp, 0);
        parallel_for(n, r_.threads, [&](std::size_t v) {
            const std::int32_t *xv = x.data() + v * m.rows;
            std::uint64_t wk[32];
            for (std::uint32_t i0 = 0; i0 < m.rows; i0 += 64) {  // bit transpose, 64 rows at a time
                const std::uint32_t len = std::min<std::uint32_t>(64, m.rows - i0);
                for (int k = 0; k < ib; ++k) wk[k] = 0;
                for (std::uint32_t i = 0; i < len; ++i) {
                    const std::uint64_t u = std::uint32_t(xv[i0 + i]);
                    for (int k = 0; k < ib; ++k) wk[k] |= ((u >> k) & 1u) << i;
                }
                for (int k = 0; k < ib; ++k) xplanes[(v * ib + k) * wpp + i0 / 64] = wk[k];
            }
        });
    }

    // scratch per thread slot, reused by every item that thread runs (the tables are ~100 KiB: allocating them
    // per item made the kernel's page faults a large part of the run time)
    std::vector<Scratch> scratch(std::size_t(std::max(1, r_.threads)));
    parallel_for(std::size_t(nchunks) * m.col_tiles, r_.threads, [&](std::size_t item, std::size_t slot) {
        const std::uint32_t ct = std::uint32_t(item % m.col_tiles), vc = std::uint32_t(item / m.col_tiles);
        const std::uint32_t v0 = vc * chunk, v1 = std::min(n, v0 + chunk);
        Scratch &s = scratch[std::min(slot, scratch.size() - 1)];
        for (std::uint32_t rt = 0; rt < m.row_tiles; ++rt) {
            const std::uint32_t tid = rt * m.col_tiles + ct;
            const TileState &t = *tiles_[tid];
            s.tsum.assign(t.ncc, 0);
            if (t.colbits.empty()) s.accf.resize(std::max(t.ncc, 64u)), s.accq.resize(std::max(t.ncc, 64u));
            // analog cells, whole 4-row groups: subset-sum tables shared by the chunk (read_analog_lut). The choice
            // depends on the config only, never on the chunking, so outputs never depend on the thread count.
            const bool chunked = t.colbits.empty() && lut_reads(r_);
            if (chunked) read_analog_lut(r_, t, tid, v0, v1, xplanes.data(), wpp, step_, max_code_, s.lut);
            for (std::uint32_t v = v0; v < v1; ++v) {
                // shift-and-add totals of this vector's cell columns: from the chunk's tables, or computed here
                const std::uint64_t *ts = chunked ? s.lut.totals.data() + std::size_t(v - v0) * s.lut.stride : s.tsum.data();
                if (!chunked) std::fill(s.tsum.begin(), s.tsum.end(), 0);
                if (chunked) {
                    // done by read_analog_lut above
                } else if (!t.colbits.empty()) {
                    s.xw.resize(std::size_t(t.gwords) * ib);
                    for (std::uint32_t g = 0; g < t.groups; ++g) {
                        const std::uint32_t g0 = g * pr, len = std::min(pr, t.tr - g0);
                        std::uint64_t any = 0;
                        for (int k = 0; k < ib; ++k) {
                            const std::uint64_t *plane = xplanes.data() + (std::size_t(v) * ib + k) * wpp;
                            extract_bits(plane, t.r0 + g0, len, s.xw.data() + std::size_t(k) * t.gwords, t.gwords);
                            for (std::uint32_t w = 0; w < t.gwords; ++w) any |= s.xw[std::size_t(k) * t.gwords + w];
                        }
                        if (!any) continue;  // no word line driven for any input bit: every code is 0
                        const std::uint64_t *cb = t.colbits.data() + std::size_t(g) * b * t.ncc * t.gwords;
                        s.sums.resize(t.ncc);
                        read_group_popcount(s.xw.data(), t.gwords, ib, cb, t.ncc, b, lut_.data(), s.tsum.data(), s.sums.data());
                    }
                }
                else read_analog(r_, t, tid, v, x.data() + std::size_t(v) * m.rows + t.r0, step_, max_code_, s);
                std::uint64_t *out = total.data() + std::size_t(v) * m.cols + t.c0;
                for (std::uint32_t j = 0; j < t.tc; ++j) {
                    std::uint64_t acc = 0;
                    for (int sl = 0; sl < m.slices; ++sl)
                        acc += (b * sl < 64 ? ts[std::size_t(j) * m.slices + sl] << (b * sl) : 0);
                    out[j] += acc;
                }
            }
        }
    });

    // y = step·T − 2^(weight_bits−1)·Σx (digital reference column), rounded to the nearest integer.
    const std::uint64_t bias = std::uint64_t(1) << (c.weight_bits - 1);
    for (std::uint32_t v = 0; v < n; ++v) {
        std::uint64_t sx = 0;
        for (std::uint32_t i = 0; i < m.rows; ++i) sx += std::uint64_t(std::int64_t(x[std::size_t(v) * m.rows + i]));
        for (std::uint32_t j = 0; j < m.cols; ++j) {
            const std::uint64_t tv = total[std::size_t(v) * m.cols + j];
            if (step == 1.0) y[std::size_t(v) * m.cols + j] = std::int64_t(tv - bias * sx);
            else {
                const double val = step * double(std::int64_t(tv)) - double(bias) * double(std::int64_t(sx));
                const double lim = 9.2e18;
                y[std::size_t(v) * m.cols + j] = std::int64_t(std::clamp(std::floor(val + 0.5), -lim, lim));
            }
        }
    }
}

}  // namespace cimsim
