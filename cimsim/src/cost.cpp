// The MVM cost: one matrix as a one-layer network on the chip model. SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "cimsim/cost.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

#include "cimsim/chip.hpp"

namespace cimsim {

Breakdown &Breakdown::operator+=(const Breakdown &o) {
    array += o.array, adc += o.adc, shift_add += o.shift_add, drivers += o.drivers, buffers += o.buffers,
        interconnect += o.interconnect;
    return *this;
}

Breakdown Breakdown::scaled(double k) const {
    Breakdown b = *this;
    b.array *= k, b.adc *= k, b.shift_add *= k, b.drivers *= k, b.buffers *= k, b.interconnect *= k;
    return b;
}

Ppa &Ppa::operator+=(const Ppa &o) {
    area_um2 += o.area_um2, energy_pj += o.energy_pj, latency_ns += o.latency_ns, leakage_uw += o.leakage_uw;
    ops += o.ops, subarrays += o.subarrays, adcs += o.adcs, conversions += o.conversions;
    return *this;
}

namespace {
Breakdown breakdown(const Parts &p) { return {p.array, p.adc, p.accum, p.other, p.buffer, p.ic}; }
}  // namespace

Ppa estimate_mvm(const Resolved &r, std::uint32_t rows, std::uint32_t cols, std::uint64_t vectors) {
    if (rows == 0 || cols == 0) throw Error("cimsim: weight matrix must have at least one row and one column");
    const std::vector<LayerSpec> layer = {LayerSpec{1, 1, rows, 1, 1, cols, 0, 1}};
    const ChipCost c = estimate_chip(r, layer, {}, false);
    const double v = double(vectors);
    Ppa p;
    p.area_um2 = breakdown(c.area_um2);
    p.area_um2.drivers += c.chip_area_um2 - c.area_um2.total();  // floorplan (sub-array corners) with the periphery
    p.latency_ns = breakdown(c.layers[0].latency_ns).scaled(v);
    p.energy_pj = breakdown(c.layers[0].energy_pj).scaled(v);
    p.leakage_uw.array = c.leakage_uw;  // one layer: its tiles' busy leakage
    p.ops = 2.0 * v * rows * cols;
    const auto &l = c.placement.layers[0];
    p.subarrays = std::uint64_t(l.tiles) * l.pes_per_side * l.pes_per_side * l.subarrays_per_pe;
    p.adcs = p.subarrays * std::uint64_t(r.cfg.subarray_cols / std::max(1, std::min(r.cfg.cols_per_adc, r.cfg.subarray_cols)));
    p.conversions = std::uint64_t(v * r.cfg.input_bits * std::ceil(double(r.cfg.subarray_rows) / r.parallel_rows) *
                                  std::ceil(double(rows) / r.cfg.subarray_rows) * double(cols) * r.cfg.weight_bits);
    return p;
}

}  // namespace cimsim
