// Chip model: what a layer's data does to its sub-arrays (Activity). SPDX-License-Identifier: GPL-2.0-or-later OR MIT
//
// Per input bit-plane vector and block of R rows: n = active rows (input bit 1). For 1T1R cells, per column
// of that block: conductance G = Σ_active 1/(R_cell + R_access), R_cell = R_on for a weight bit 1, R_off for
// 0 (offset code, as the crossbar stores weights), divided by the R/P row groups that share the column, and
// the column resistance 1/G counted in three regimes (the sense amplifier's mirror current follows the
// resistance linearly below ≈ 4.8 kΩ and logarithmically above, saturating near ≈ 380 kΩ) or as open
// (no active row). Resistances: the reference grid's settings (R_on 100 kΩ, R_off 1.7 MΩ, access 25 kΩ).
#include <bit>
#include <cmath>

#include "cimsim/chip.hpp"

namespace cimsim {

namespace {
constexpr double kRon = 100e3, kRoff = 1.7e6, kRaccess = 25e3, kLow = 4832, kHigh = 379269;
}

Activity measure_activity(const Resolved &r, std::uint32_t rows, std::uint32_t cols, const std::vector<std::int32_t> &w,
                          const std::vector<std::int32_t> &x, std::uint64_t vectors) {
    Activity a;
    a.measured = true;
    const int ib = r.cfg.input_bits, wb = r.cfg.weight_bits;
    const std::uint32_t R = std::uint32_t(r.cfg.subarray_rows);
    const double nadd = std::ceil(double(R) / r.parallel_rows);
    const std::uint64_t nv = std::min<std::uint64_t>(vectors, x.size() / std::max<std::uint32_t>(rows, 1));
    const bool rram = r.cfg.cell != CellType::Sram;
    const std::uint64_t imask = ib >= 64 ? ~0ull : ((1ull << ib) - 1), wmask = wb >= 64 ? ~0ull : ((1ull << wb) - 1);
    const std::int64_t off = std::int64_t(1) << (wb - 1);
    double ones = 0, wones = 0;
    for (std::uint64_t v = 0; v < nv; ++v)
        for (std::uint32_t i = 0; i < rows; ++i) ones += std::popcount(std::uint64_t(std::int64_t(x[v * rows + i])) & imask);
    for (auto q : w) wones += std::popcount(std::uint64_t(std::int64_t(q) + off) & wmask);
    if (nv) a.input_ones = ones / (double(nv) * rows * ib);
    if (!w.empty()) a.weight_ones = wones / (double(w.size()) * wb);

    const double g1 = 1 / (kRon + kRaccess), g0 = 1 / (kRoff + kRaccess);
    const std::uint32_t ncols = cols * std::uint32_t(wb), words = (R + 63) / 64;
    std::vector<std::uint64_t> wbits, act(words);
    for (std::uint32_t r0 = 0; r0 < rows; r0 += R) {
        const std::uint32_t nr = std::min(R, rows - r0);
        if (rram) {  // weight-bit masks of this row block, per cell column
            wbits.assign(std::size_t(ncols) * words, 0);
            for (std::uint32_t i = 0; i < nr; ++i)
                for (std::uint32_t c = 0; c < cols; ++c) {
                    const std::uint64_t code = std::uint64_t(std::int64_t(w[std::size_t(r0 + i) * cols + c]) + off);
                    for (int z = 0; z < wb; ++z)
                        if ((code >> z) & 1) wbits[(std::size_t(c) * wb + z) * words + i / 64] |= 1ull << (i % 64);
                }
        }
        for (std::uint64_t v = 0; v < nv; ++v)
            for (int k = 0; k < ib; ++k) {
                std::fill(act.begin(), act.end(), 0);
                double n = 0;
                for (std::uint32_t i = 0; i < nr; ++i)
                    if ((std::uint64_t(std::int64_t(x[v * rows + r0 + i])) >> k) & 1) act[i / 64] |= 1ull << (i % 64), ++n;
                a.blocks += 1, a.act_sum += n;
                if (n > 0) a.ln_sum += std::log(n);
                else a.zero_n += 1;
                if (!rram) continue;
                if (n == 0) {
                    a.r_open_n += ncols;
                    continue;
                }
                for (std::uint32_t c = 0; c < ncols; ++c) {
                    int n1 = 0;
                    for (std::uint32_t q = 0; q < words; ++q) n1 += std::popcount(act[q] & wbits[std::size_t(c) * words + q]);
                    const double rc = nadd / (n1 * g1 + (n - n1) * g0);
                    if (rc < kLow) a.r_low_n += 1;
                    else if (rc < kHigh) a.r_mid_n += 1, a.r_mid_ln += std::log(rc);
                    else a.r_high_n += 1, a.r_high_ln += std::log(rc);
                }
            }
    }
    return a;
}

}  // namespace cimsim
