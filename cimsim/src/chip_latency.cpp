// Chip model, latency: clock cycles each layer's pipeline stage spends, by component.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
//
// A synchronous, layer-pipelined chip (NeuroSim V1.4's "pipeline" mode): every stage moves data in whole
// clock cycles, so each component's latency is a cycle count × the chip clock (chip_clock.cpp). What is
// counted, per layer and image (M = columns per ADC, C = sub-array columns, nAdd = R / P row groups):
//  - ADC: vectors · input_bits · M · nAdd / speed-up (every sub-array reads its M column groups, one input
//    bit-plane and row group at a time; copies of the weights share the output positions).
//  - Buffers: register files move their interface width per cycle. PE input/output registers (input_bits·R
//    bits in, C/M partial sums out); tile input/output buffers (32×32-bit cores, interface 2R / the
//    partial-sum width, as many cores in parallel as the tile bus feeds); the global buffer (128×128-bit
//    cores, 128 bits wide, as many in parallel as the global bus is wide). In-tile figures of duplicated
//    layers divide by the copies that work in parallel.
//  - Interconnect: the tile's H-tree carries T bits per cycle (T = tile side); the global X–Y bus carries
//    its width (T + T/M per tile, halved until ≤ 2048 bits) over the tile grid's rows/columns.
//  - Accumulation: PE and tile adder trees, one addition per ceil(M / weight_bits) weight-column groups per
//    output position; the chip-level adder tree when a layer spans several tile rows.
//  - Other: the chip's ReLU units (T/M of them) and the max-pooling unit.
// The tile taking longest sets each figure (tiles work in parallel).
#include <algorithm>
#include <cmath>

#include "chip_model.hpp"

namespace cimsim {

namespace {

constexpr double kTileBufCoreBits = 32 * 32, kGlobalBufCoreBits = 128 * 128, kGlobalBufWidth = 128;

double clog2(double x) { return x > 1 ? std::ceil(std::log2(x) - 1e-12) : 0; }
double ceil_(double x) { return std::ceil(x - 1e-9); }
double floor_(double x) { return std::floor(x + 1e-9); }

struct BufferPort {
    double width, cores;
};
// A register-file buffer of `bits` per access group: one core of that width if it fits a core, else
// 32-bit-wide cores side by side.
BufferPort tile_buffer(double bits, double narrow_width, bool fixed_cores_when_small) {
    if (bits < kTileBufCoreBits) return {narrow_width, fixed_cores_when_small ? ceil_(bits / kTileBufCoreBits) : 1};
    return {32, ceil_(bits / kTileBufCoreBits)};
}

}  // namespace

std::vector<LayerCycles> layer_cycles(const ChipContext &cx) {
    const auto &P = cx.place;
    const double M = cx.mux, C = cx.cols, R = cx.rows, ib = cx.ib, wb = cx.wb;
    const double nadd = std::floor(R / cx.par);
    const double b_sa = std::log2(cx.levels) + clog2(nadd) + ib + wb;  // sub-array output word
    const double T = P.tile_side, Pc = P.tile_side / 2.0, Pn = P.novel_pe_side;
    const auto grid = [&](double pe) { return ceil_(std::sqrt(ceil_(pe / R) * ceil_(pe / C))); };
    const double q = grid(Pc), qn = Pn > 0 ? grid(Pn) : 0;
    const double pe_in_bits = ib * R;
    const double pe_out_bits = (C / M) * (b_sa + clog2(q)), pe_out_bits_n = (C / M) * (b_sa + clog2(qn));
    const double b_pe = b_sa + q, b_pe_n = b_sa + qn;
    const double nsr = ceil_(Pc / R), nsc = ceil_(Pc / C);

    // chip-level resources
    double tiles = 0, half_inputs = 0, bus = 0;
    for (std::size_t i = 0; i < P.layers.size(); ++i) {
        const auto &l = P.layers[i];
        const auto &s = cx.layers[i];
        tiles += l.tiles;
        half_inputs += double(s.ifm_h) * s.ifm_w * s.ifm_c / 2;
        bus += (l.novel ? (Pn * l.pes_per_side + Pn * l.pes_per_side / M) : (T + T / M)) * l.tiles;
    }
    while (bus > 2048) bus /= 2;
    const double gbuf_cores = ceil_(floor_(ib * half_inputs) / kGlobalBufCoreBits);
    const double grid_rows = ceil_(std::sqrt(tiles)), grid_cols = ceil_(tiles / grid_rows);
    const bool y_hops = grid_rows - ceil_(grid_rows / 2) - 1 > 0;
    const double n_layers = double(P.layers.size());
    const double units = Pn > 0 ? ceil_(std::max(T, Pn) * (n_layers + 1) / M) : ceil_(T / M);
    const double pool_units = std::max(T / M, Pn / M);

    std::vector<LayerCycles> out;
    for (std::size_t li = 0; li < P.layers.size(); ++li) {
        const auto &l = P.layers[li];
        const auto &s = cx.layers[li];
        const double nv = double(l.vectors), sr = l.dup_rows, sc = l.dup_cols;
        const double rows = l.rows, cols = l.cols, per_add = ceil_(M / wb);
        LayerCycles c;
        c.adc = nv * ib * M * std::ceil(R / cx.par) / l.speedup;
        double t_buf = 0, t_ic = 0, t_acc = 0;
        // one PE holding a (pr × pc) slice; dr × dc copies of it inside the PE
        const auto pe = [&](double pr, double pc, double dr, double dc, double out_bits) {
            double acc = 0;
            if (dr * dc > 1) acc = (dr < nsr || dc < nsc) ? nv * per_add / (dr * dc) : 0;
            else acc = nv * per_add;
            const double in = floor_(pr * nv * ib / pe_in_bits);
            const double outb = floor_(floor_(floor_(pc / wb) * b_sa * nv * ib / ib) / out_bits);
            return std::pair{acc, in + outb};
        };
        if (!l.novel) {
            const double k = l.pes_per_side;
            for (std::uint32_t i = 0; i < l.block_rows; ++i)
                for (std::uint32_t j = 0; j < l.block_cols; ++j) {
                    const double tr = std::min(T, rows - i * T), tc = std::min(T, cols - j * T);
                    double acc = 0, buf = 0;
                    if (sr * sc > 1 && sr >= k && sc >= k) {  // every PE holds whole copies
                        auto [a, b] = pe(tr, tc, ceil_(sr / k), ceil_(sc / k), pe_out_bits);
                        acc = a / (k * k), buf = b / (k * k);
                    } else {
                        const bool dup = sr * sc > 1;
                        const double pr_n = dup ? ceil_(tr / Pc) : k, pc_n = dup ? ceil_(tc / Pc) : k;
                        for (double pi = 0; pi < pr_n; ++pi)
                            for (double pj = 0; pj < pc_n; ++pj) {
                                if (pi * Pc >= tr || pj * Pc >= tc) continue;
                                auto [a, b] = pe(std::min(Pc, tr - pi * Pc), std::min(Pc, tc - pj * Pc), 1, 1, pe_out_bits);
                                acc = std::max(acc, a), buf = std::max(buf, b);
                            }
                        if (dup) acc /= sr * sc, buf /= sr * sc;
                        if (!dup || ceil_(tr / Pc) > 1) acc += nv * per_add;  // tile adder tree
                    }
                    const double in_bits = tr * nv * ib, out_bits = floor_(tc / wb) * (1 + b_pe) * nv;
                    const BufferPort bi = tile_buffer(k * ib * R, k * R, false);
                    const BufferPort bo = tile_buffer((b_pe + 1) * k * C / M, (b_pe + 1) * k, false);
                    const double tile_bus = k * Pc;
                    buf += in_bits / bi.width / std::min(bi.cores, ceil_(tile_bus / bi.width)) +
                           out_bits / bo.width / std::min(bo.cores, ceil_(tile_bus / bo.width));
                    t_buf = std::max(t_buf, buf), t_acc = std::max(t_acc, acc);
                    t_ic = std::max(t_ic, (in_bits + out_bits) / tile_bus);
                }
        } else {
            const double k = l.pes_per_side, npe = k * k;
            for (std::uint32_t i = 0; i < l.block_rows; ++i)
                for (std::uint32_t j = 0; j < l.block_cols; ++j) {
                    const double tr = std::min(Pn * npe, rows - i * Pn * npe), tc = std::min(Pn, cols - j * Pn);
                    auto [a, b] = pe(std::floor(tr / npe), tc, 1, 1, pe_out_bits_n);
                    double acc = a / (sr * sc) + nv * std::floor(M / wb), buf = b / (sr * sc);
                    const double in_bits = tr * nv * ib / k, out_bits = floor_(tc / wb) * (k + 1 + b_pe_n) * nv;
                    const BufferPort bi = tile_buffer(npe * ib * R, npe * R, true);
                    const BufferPort bo = tile_buffer((b_pe_n + k + 1) * npe * C / M, (b_pe_n + k + 1) * npe, true);
                    const double tile_bus = npe * Pn;
                    buf += in_bits / bi.width / std::min(bi.cores, ceil_(tile_bus / bi.width)) +
                           out_bits / bo.width / std::min(bo.cores, ceil_(tile_bus / bo.width));
                    t_buf = std::max(t_buf, buf), t_acc = std::max(t_acc, acc);
                    t_ic = std::max(t_ic, (in_bits + out_bits) / tile_bus);
                }
        }
        // chip level: global buffer, global bus, chip adder tree, ReLU, pooling
        const double g_read = rows * ib * nv / (l.novel ? s.k_h : 1);
        const double g_write = s.ofm_c * ib * nv / (s.pool ? 4 : 1);
        const double tile_rows = double(l.block_rows) * l.replicas;
        const double g_buf = (g_read / kGlobalBufWidth + g_write / kGlobalBufWidth) / std::min(gbuf_cores, ceil_(bus / kGlobalBufWidth));
        const double g_ic = ceil_(g_read / bus * grid_rows / tile_rows) + (y_hops ? ceil_(g_write / bus * grid_cols / l.block_cols) : 0);
        const double g_acc = tile_rows > 1 ? ceil_(s.ofm_c * (nv / units)) : 0;
        const double relu = ceil_(nv * s.ofm_c / units);
        const double pool = s.pool ? 3 * ceil_(floor_(nv * cols / wb) / 4 / pool_units) : 0;
        c.buffer = t_buf + g_buf;
        c.ic = t_ic + g_ic;
        c.accum = t_acc + g_acc;
        c.other = relu + pool;
        out.push_back(c);
    }
    return out;
}

}  // namespace cimsim
