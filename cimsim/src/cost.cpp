// Cost model equations. SPDX-License-Identifier: GPL-2.0-or-later OR MIT
//
// Units: µm, µm², fF, V, ps/ns, fJ/pJ, nW/µW. Per layer, with T tiles of SR×SC cells, PR parallel rows,
// G = ceil(SR/PR) row groups, M = cols_per_adc, b = adc_bits, n = input_bits, V vectors:
//   reads per vector  = n · G · M (every tile of the layer reads in parallel; M column-mux passes)
//   conversions       = V · n · G · T · SC
//   array   area  SR·SC·A_cell; energy per group read: SC bit lines (C_bl·Vr²) + conducting cells (G_cell·Vr²·t)
//   ADC     flash / multi-level sense amplifier: (2^b − 1) comparators ≈ 25 NAND2-eq each + b-bit encoder;
//           energy per conversion = Walden FOM · 2^b (Murmann ADC survey); delay = (12 + b) FO4
//   shift-add  one accumulator per ADC of w = b + n + log2(G) + weight_bits bits (full adder + register
//           ≈ 11 NAND2-eq/bit), plus a per-weight-column adder tree across slices and row tiles
//   drivers  per row: WL driver + decoder ≈ 10 NAND2-eq; per column: mux ≈ 2 NAND2-eq; cells that write
//           with high voltage (RRAM/FeFET) add a thick-oxide level shifter per row and column (≈ 30 µm²,
//           does not scale with the node: I/O-device rules)
//   buffers  activation SRAM (6T cell, ×2 for periphery) for the layer's inputs and outputs; energy per
//           bit access ≈ (128-cell bit line + 5 gates)·VDD²
//   interconnect  H-tree over the layer's tiles: 128-bit bus at 4F pitch, length ≈ side·sqrt(T); energy
//           per bit moved = wire C over half the side (+30 % repeaters)·VDD²
// Leakage = NAND2-eq gates · gate_leak + SRAM cells (array for SRAM, buffers) · 0.3 · gate_leak.
#include "cimsim/cost.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

#include "tech.hpp"

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

// Fitted to the NeuroSim manual's Table VII at 22 nm, parallel 64 (README "Calibration"): one factor per
// cell type and quantity, applied to the whole breakdown. Other nodes and parallel-read settings are
// predictions of the physical model.
Calibration calibration_for(CellType c) {
    switch (c) {
    case CellType::Sram: return {1.5872, 0.6893, 0.5468};
    case CellType::Rram: return {4.4472, 0.3987, 0.5368};
    case CellType::Fefet: return {4.4472, 0.3987, 0.5368};  // no published reference: uses RRAM's factors
    }
    return {};
}

Ppa estimate_layer(const Resolved &r, const Mapping &m, std::uint64_t vectors, double buffer_bits) {
    const Config &c = r.cfg;
    const TechNode &t = *find_tech_node(c.tech_node_nm);
    const CellDefaults cell = cell_defaults(c.cell);
    const double F = t.nm * 1e-3;                       // µm
    const double vdd2 = t.vdd * t.vdd;
    const double gate_e_fj = t.gate_cap_ff * vdd2;      // fJ per NAND2-eq transition
    const double T = m.tiles(), SR = c.subarray_rows, SC = c.subarray_cols, PR = r.parallel_rows;
    const double G = std::ceil(std::min<double>(m.rows, c.subarray_rows) / double(r.parallel_rows)), M = std::min<double>(c.cols_per_adc, SC), b = r.adc_bits, n = c.input_bits;
    const double V = double(vectors);
    const double alpha = 0.5;                           // input-bit and cell activity
    const double n_adc = std::ceil(SC / M);

    const double cell_area = c.cell == CellType::Sram ? 1.3 * t.sram6t_um2 : cell.area_f2 * F * F;
    const double cell_pitch = std::sqrt(cell_area);
    const double c_bl_ff = SR * cell_pitch * t.wire_cap_ff_um + SR * 0.05 * t.gate_cap_ff;  // wire + junctions
    const double c_wl_ff = SC * cell_pitch * t.wire_cap_ff_um + SC * 0.25 * t.gate_cap_ff;  // wire + access gates
    const double g_avg_us = r.g_off_us + alpha * (r.g_on_us - r.g_off_us);

    Ppa p;
    p.ops = 2.0 * V * double(m.rows) * double(m.cols);
    p.subarrays = std::uint64_t(T);
    p.adcs = std::uint64_t(T * n_adc);
    p.conversions = std::uint64_t(V * n * G * T * SC);

    // ---- timing of one read (one input bit, one row group, one mux pass)
    const double fo4_ns = t.fo4_ps * 1e-3;
    const double t_wl_ns = fo4_ns * (std::log(SC) / std::log(4.0) + 3);
    const double g_eff_us = std::max(1e-3, r.g_on_us * PR * alpha);        // current into the sense node
    const double t_bl_ns = std::log(std::pow(2.0, b + 1)) * c_bl_ff / g_eff_us;  // fF/µS = ns; settle to ½ LSB
    const double t_adc_ns = fo4_ns * (12 + b);
    const double t_clk_ns = 1e3 / r.clock_mhz;
    const double cycles_per_read = std::ceil((t_wl_ns + t_bl_ns + t_adc_ns) / t_clk_ns);
    const double reads_per_vector = n * G * M;
    const double t_read_total = V * reads_per_vector * cycles_per_read * t_clk_ns;
    // split the read time by stage for the breakdown
    const double t_stage_sum = t_wl_ns + t_bl_ns + t_adc_ns;
    p.latency_ns.drivers = t_read_total * t_wl_ns / t_stage_sum;
    p.latency_ns.array = t_read_total * t_bl_ns / t_stage_sum;
    p.latency_ns.adc = t_read_total * t_adc_ns / t_stage_sum;

    // ---- digital data movement per vector (cycles), pipelined with the reads: only the part of a
    // stage that exceeds the read time adds latency.
    const double bus = 256;
    const double acc_bits = b + n + std::ceil(std::log2(std::max(1.0, G))) + c.weight_bits;
    const double in_bits = double(m.rows) * n;                       // input vector, all bits
    const double psum_bits = double(m.cols) * (acc_bits + 8) * m.row_tiles;  // partial sums to the adder tree
    const double out_bits = double(m.cols) * n;                      // requantized activations out
    const double read_cycles = reads_per_vector * cycles_per_read;
    const double buf_cycles = std::ceil((in_bits + out_bits) / bus);
    const double ic_cycles = std::ceil(psum_bits / (bus * std::max(1.0, double(m.col_tiles))));
    p.latency_ns.buffers = V * std::max(0.0, buf_cycles - read_cycles) * t_clk_ns;
    p.latency_ns.interconnect = V * std::max(0.0, ic_cycles - read_cycles) * t_clk_ns;
    p.latency_ns.shift_add = (std::ceil(std::log2(double(m.row_tiles) + 1)) + 2) * t_clk_ns;  // pipeline drain
    const double tile_side_um = std::sqrt(SR * SC * cell_area) * 2.0;  // periphery roughly doubles the side
    const double layer_side_um = tile_side_um * std::sqrt(T);

    // ---- area
    const double hv_area = cell.hv_write ? 30.0 : 0.0;
    const double adc_gates = 25.0 * (std::pow(2.0, b) - 1) + 4.0 * b;
    const double sa_gates = n_adc * acc_bits * 11.0 + (SC / m.slices) * (acc_bits + m.slices) * 6.0;
    const double drv_gates = SR * 10.0 + SC * 2.0;
    p.area_um2.array = T * SR * SC * cell_area;
    p.area_um2.adc = T * n_adc * adc_gates * t.gate_area_um2;
    p.area_um2.shift_add = T * sa_gates * t.gate_area_um2;
    p.area_um2.drivers = T * (drv_gates * t.gate_area_um2 + (SR + SC) * hv_area);
    const double buf_bits = buffer_bits > 0 ? buffer_bits : double(m.rows) * V * n;
    const double tile_buf_bits = T * (SR * n + (SC / m.slices) * acc_bits) * 2.0;  // double-buffered
    p.area_um2.buffers = (buf_bits + tile_buf_bits) * t.sram6t_um2 * 2.0;
    const double htree_len_um = layer_side_um * std::sqrt(T);
    p.area_um2.interconnect = htree_len_um * bus * 4.0 * F + T * bus * 2.0 * t.gate_area_um2;  // wires + repeaters

    // ---- dynamic energy (pJ)
    const double group_reads = V * n * G * T;  // WL activations (all mux passes share one activation)
    const double e_cells_fj = alpha * PR * SC * g_avg_us * cell.read_v * cell.read_v * t_bl_ns;  // µS·V²·ns = fJ; current flows while the selected bit line settles
    const double e_bl_fj = SC * c_bl_ff * cell.read_v * cell.read_v;
    p.energy_pj.array = group_reads * (e_bl_fj + e_cells_fj) * 1e-3;
    p.energy_pj.adc = double(p.conversions) * t.adc_fom_fj * std::pow(2.0, b) * 1e-3;
    p.energy_pj.shift_add = double(p.conversions) * acc_bits * 4.0 * alpha * gate_e_fj * 1e-3 +
                            V * double(m.cols) * m.row_tiles * acc_bits * 6.0 * alpha * gate_e_fj * 1e-3;
    p.energy_pj.drivers = group_reads * (alpha * PR * c_wl_ff * vdd2 + PR * 10.0 * alpha * gate_e_fj) * 1e-3;
    const double e_buf_bit_fj = (128 * std::sqrt(t.sram6t_um2) * t.wire_cap_ff_um + 5 * t.gate_cap_ff) * vdd2;
    p.energy_pj.buffers = V * (2 * in_bits * m.col_tiles + 2 * out_bits + psum_bits) * e_buf_bit_fj * 1e-3;
    const double e_wire_bit_fj = 0.25 * layer_side_um * t.wire_cap_ff_um * vdd2 * 1.3;  // mean distance ≈ side/4
    p.energy_pj.interconnect = V * (in_bits + psum_bits + out_bits) * e_wire_bit_fj * 1e-3;  // inputs broadcast

    // ---- leakage (µW)
    const double leak_gate_uw = t.gate_leak_nw * 1e-3, leak_cell_uw = 0.3 * leak_gate_uw;
    p.leakage_uw.array = cell.volatile_cell ? T * SR * SC * leak_cell_uw : 0.0;
    p.leakage_uw.adc = T * n_adc * adc_gates * leak_gate_uw;
    p.leakage_uw.shift_add = T * sa_gates * leak_gate_uw;
    p.leakage_uw.drivers = T * drv_gates * leak_gate_uw;
    p.leakage_uw.buffers = (buf_bits + tile_buf_bits) * leak_cell_uw;
    p.leakage_uw.interconnect = T * bus * 2.0 * leak_gate_uw;

    const Calibration k = calibration_for(c.cell);
    p.area_um2 = p.area_um2.scaled(k.area);
    p.energy_pj = p.energy_pj.scaled(k.energy);
    p.latency_ns = p.latency_ns.scaled(k.latency);
    p.leakage_uw = p.leakage_uw.scaled(k.area);  // leakage follows the (calibrated) amount of circuitry
    return p;
}

}  // namespace cimsim
