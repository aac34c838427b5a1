// Chip model, circuits: the structural counts every unit cost multiplies (clock, energy, area, leakage).
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
//
// Each target is a linear model Σ c_k·f_k whose features f_k are counts of circuit instances or events
// (comparators, adder bits, flip-flop bits, buffer bits, wire bit·µm, ...) derived from the floorplan, the
// precision and the ADC, and whose coefficients c_k are unit costs (fJ per adder-bit operation, µm² per
// flip-flop, ...) fitted per cell type and node (chip_coeffs.inc). What the counts follow — the NeuroSim
// papers' sub-array / PE / tile / chip hierarchy:
//  - sub-array: R×C cells; per M columns a multi-level current-sense ADC of L−1 sense amplifiers and a
//    share of reference columns (area grows with L and, through the reference column, with R); WL switch
//    matrix (R rows), column mux (C/M, transmission gates sized for P rows in parallel), partial-sum
//    adder + register when R/P row groups are read in turn, weight and input shift-adds.
//  - PE: sub-arrays on a square grid, an adder tree over sub-array rows, input/output registers.
//  - tile: 2×2 PEs (K×K novel), an adder tree, input/output register-file buffers, an H-tree.
//  - chip: global buffer (half of every layer's input volume), X–Y bus, chip adder tree, ReLU, max-pool.
//  - dynamic energy counts, per layer and image, only the sub-arrays that hold one copy of the weights
//    (copies share the output positions, they do not add work); sub-array events scale with the measured
//    input activity (active rows drive word lines and column current) and, for 1T1R cells, the weights'
//    (conducting cells set the column current the sense amps mirror).
//  - leakage: SRAM cells (all but the sensed ones while a layer computes) and the tile periphery while idle.
#include <algorithm>
#include <cmath>

#include "chip_model.hpp"

namespace cimsim {

namespace {

double clog2(double x) { return x > 1 ? std::ceil(std::log2(x) - 1e-12) : 0; }

// adder-tree bits for one tree over k inputs of `w` bits: stage s adds pairs, words grow by one bit
double tree_bits(double k, double w) {
    double bits = 0, j = k, width = w;
    while (j > 1) {
        bits += std::floor(j / 2) * width;
        j = std::ceil(j / 2), width += 1;
    }
    return bits;
}

struct Geometry {
    double b, nadd, b_sa;        // ADC bits, row groups, sub-array output word
    double slots_total = 0, tiles = 0;
    double sa_adder_bits, sa_dff_bits;  // shift-adds + partial-sum logic of one sub-array
};

Geometry geometry(const ChipContext &cx) {
    Geometry g;
    const double R = cx.rows, C = cx.cols, M = cx.mux, ib = cx.ib, wb = cx.wb;
    g.b = std::log2(cx.levels);
    g.nadd = std::ceil(R / cx.par);
    g.b_sa = g.b + clog2(g.nadd) + ib + wb;
    const double n_adc = C / M;
    g.sa_adder_bits = (wb > 1 ? n_adc * g.b : 0) + (ib > 1 ? n_adc * (g.b + wb) : 0) +
                      (g.nadd > 1 ? n_adc * (g.b + clog2(g.nadd) - 1) : 0);
    g.sa_dff_bits = (wb > 1 ? n_adc * (g.b + wb) : 0) + (ib > 1 ? n_adc * (g.b + wb + ib) : 0) +
                    (g.nadd > 1 ? n_adc * (g.b + clog2(g.nadd)) : 0);
    for (const auto &l : cx.place.layers) {
        const double pes = double(l.tiles) * l.pes_per_side * l.pes_per_side;
        g.slots_total += pes * l.subarray_slots_per_pe;
        g.tiles += l.tiles;
    }
    return g;
}

// What one image of a layer exercises. Only one copy of duplicated weights is exercised (copies share the
// output positions); tile replicas added for pipeline balance are not exercised either. Tile by tile, PE by
// PE: a tile whose PEs each hold whole copies is evaluated as one PE with the whole tile matrix; otherwise
// each PE position holding data is evaluated with its slice. Inside a PE, every sub-array holding data is
// evaluated once per input bit-plane vector — or, when copies fill every sub-array, the whole slice at once.
struct Work {
    double sa = 0;          // sub-array evaluations per bit-plane vector
    double col_blocks = 0;  // Σ over evaluations of mapped columns / C (how often a row block is read)
    double cols = 0;        // Σ mapped columns converted per bit-plane vector
    double rows = 0;        // Σ mapped rows per bit-plane vector (for the activity fallback)
    double add_ops = 0, add_bits = 0, dff_clk = 0, dff_data = 0;  // accumulation events per image
    double pe_bits = 0;     // PE input/output register bits loaded per image (whole loads)
    double pe_bus = 0;      // PE bus bits per image (whole bus-width transfers) × (sub-array grid side − 1)
    double tile_in = 0, tile_out = 0;  // tile buffer bits per image
};

// Adder-tree events for `reads` operations of `trees` trees over k inputs of `w` bits (pairs add; words
// grow by one bit per stage): adder operations and Σ (bits − 1).
void tree_events(Work &e, double k, double w, double trees, double reads) {
    double j = std::floor(k), width = w;
    for (double st = clog2(k); st > 0; --st) {
        const double adders = std::floor(j / 2);
        e.add_ops += adders * trees * reads, e.add_bits += adders * (width - 1) * trees * reads;
        width += 1, j = std::floor(j / 2);
    }
}

Work layer_work(const ChipContext &cx, const LayerPlacement &l, const Geometry &g, double tile_rows_total) {
    Work w;
    const double R = cx.rows, C = cx.cols, M = cx.mux, ib = cx.ib, wb = cx.wb, n_adc = C / M;
    const bool sram = cx.r.cfg.cell == CellType::Sram;
    const double nv = double(l.vectors), reads = nv * std::ceil(M / wb);
    const double side = l.block_side, S = l.pe_side, k = l.pes_per_side;
    const double sr = l.dup_rows / double(l.replicas), sc = l.dup_cols;  // in-tile copies
    const double nsr = std::ceil(S / R), nsc = std::ceil(S / C);
    const double grid = std::sqrt(double(l.subarray_slots_per_pe));
    const double la = clog2(g.nadd), ws = g.b + (sram ? la : 0);
    // accumulation events of one sub-array evaluation, per bit-plane vector
    double sa_ops = 0, sa_bits = 0, sa_clk = 0, sa_data = 0;
    if (g.nadd > 1) {
        const double n = g.b + la - 1, nr = M * (g.nadd - 1);
        sa_ops += nr * n_adc, sa_bits += nr * n_adc * (n - 1), sa_clk += nr * n_adc * (g.b + la), sa_data += nr * n_adc * (g.b + la / 2);
    }
    if (wb > 1) {
        const double nr = (wb - 1) * std::ceil(M / wb), nd = n_adc * (ws + wb);
        sa_ops += nr * n_adc, sa_bits += nr * n_adc * (ws - 1), sa_clk += nr * nd, sa_data += nr * nd;
    }
    if (ib > 1) {
        const double nr = std::ceil(M / wb), n = ws + wb, nd = n_adc * (ws + wb + ib);
        sa_ops += nr * n_adc, sa_bits += nr * n_adc * (n - 1), sa_clk += nr * nd, sa_data += nr * nd;
    }
    const double pe_out_reg = n_adc * (g.b_sa + clog2(grid));
    const auto pe = [&](double wr, double wc, double dr, double dc) {
        if (wr <= 0 || wc <= 0) return;
        double calls = 0;
        if (dr * dc > 1 && !(dr < nsr || dc < nsc)) {  // copies fill the PE: one evaluation of the slice
            calls = 1, w.cols += wc, w.rows += wr, w.col_blocks += wc / C;
        } else {
            const double rs = std::ceil(wr / R - 1e-12), cs = std::ceil(wc / C - 1e-12);
            calls = rs * cs, w.cols += rs * wc, w.rows += wr * cs, w.col_blocks += rs * wc / C;
        }
        w.sa += calls;
        const double planes = nv * ib;
        w.add_ops += calls * planes * sa_ops, w.add_bits += calls * planes * sa_bits;
        w.dff_clk += calls * planes * sa_clk, w.dff_data += calls * planes * sa_data;
        Work t;
        tree_events(t, std::ceil(wr / R - 1e-12), g.b_sa, n_adc * grid, reads);
        const double times = (dr * dc > 1) ? ((calls > 1 || dr < nsr || dc < nsc) ? calls : 0) : 1;
        w.add_ops += times * t.add_ops, w.add_bits += times * t.add_bits;
        w.pe_bits += std::floor(wr * nv * ib / (ib * R) + 1e-9) * ib * R +
                     std::floor(std::floor(wc / wb + 1e-9) * g.b_sa * nv / pe_out_reg + 1e-9) * pe_out_reg;
        const double bus_out = grid * C;
        w.pe_bus += (grid - 1) * (std::floor(wr * nv * ib / R + 1e-9) * R +
                                  std::floor(std::floor(wc / wb + 1e-9) * (clog2(grid) + g.b_sa) * nv / bus_out + 1e-9) * bus_out);
    };
    const double b_pe = g.b_sa + grid;
    if (l.novel) {
        const double npe = k * k;
        for (std::uint32_t i = 0; i < l.block_rows; ++i)
            for (std::uint32_t j = 0; j < l.block_cols; ++j) {
                const double tr = std::min(side * npe, double(l.rows) - i * side * npe), tc = std::min(side, double(l.cols) - j * side);
                for (int p = 0; p < int(npe); ++p) pe(std::floor(tr / npe), tc, 1, 1);
                tree_events(w, npe, b_pe, l.pe_side / M, reads);
                w.tile_in += tr * nv * ib / k, w.tile_out += std::floor(tc / wb + 1e-9) * (k + 1 + b_pe) * nv;
            }
    } else {
        for (std::uint32_t i = 0; i < l.block_rows; ++i)
            for (std::uint32_t j = 0; j < l.block_cols; ++j) {
                const double tr = std::min(side, double(l.rows) - i * side), tc = std::min(side, double(l.cols) - j * side);
                double tile_k = 0;
                if (sr * sc > 1 && sr >= k && sc >= k) {
                    pe(tr, tc, std::ceil(sr / k), std::ceil(sc / k));
                } else {
                    for (double pi = 0; pi < std::ceil(tr / S - 1e-12); ++pi)
                        for (double pj = 0; pj < std::ceil(tc / S - 1e-12); ++pj) pe(std::min(S, tr - pi * S), std::min(S, tc - pj * S), 1, 1);
                    tile_k = sr * sc > 1 ? (std::ceil(tr / S - 1e-12) > 1 ? std::ceil(tr / S - 1e-12) : 0) : 2;
                }
                if (tile_k > 1) tree_events(w, tile_k, b_pe, side / M, reads);
                w.tile_in += tr * nv * ib, w.tile_out += std::floor(tc / wb + 1e-9) * (1 + b_pe) * nv;
            }
    }
    if (tile_rows_total > 1) {
        const double gw = g.b_sa + clog2(std::ceil(S / R) * 2 * (cx.place.layers.size() + 1));
        tree_events(w, tile_rows_total, gw, cx.place.tile_side / M, std::ceil(double(l.cols) / wb * nv / (cx.place.tile_side / M)));
    }
    return w;
}

// Expected Activity without the layer's files: binomial rows with the default input / weight activity.
Activity expected_activity(const ChipContext &cx, const LayerPlacement &l, Activity a) {
    const double R = cx.rows, rows = l.rows, nv = double(l.vectors), ib = cx.ib;
    const double blocks_per_plane = std::ceil(rows / R);
    a.blocks = nv * ib * blocks_per_plane;
    const double nb = std::min(R, rows), mean = a.input_ones * nb;
    a.act_sum = a.blocks * mean;
    a.zero_n = a.blocks * std::pow(1 - a.input_ones, nb);
    a.ln_sum = (a.blocks - a.zero_n) * std::log(std::max(1.0, mean));
    const double g = mean * (a.weight_ones / 125e3 + (1 - a.weight_ones) / 1.725e6) / std::ceil(R / cx.par);
    const double conv = (a.blocks - a.zero_n) * l.cols, rc = g > 0 ? 1 / g : 1e30;
    a.r_open_n = a.zero_n * l.cols;
    if (rc < 4832) a.r_low_n = conv;
    else if (rc < 379269) a.r_mid_n = conv, a.r_mid_ln = conv * std::log(rc);
    else a.r_high_n = conv, a.r_high_ln = conv * std::log(rc);
    return a;
}

}  // namespace

double clock_features_eval(const ChipContext &cx, std::vector<double> *features) {
    const double P = cx.par, L = cx.levels, R = cx.rows;
    std::vector<double> f = {1, P, L / P, R, L, L * L / P};
    if (features) *features = f;
    return apply_coeffs(cx, "clock_ns", f);
}

std::vector<FeatureSet> chip_features(const ChipContext &cx) {
    const Geometry g = geometry(cx);
    const double R = cx.rows, C = cx.cols, M = cx.mux, L = cx.levels, ib = cx.ib, P = cx.par;
    const double T = cx.place.tile_side, Pc = T / 2;
    const double n_adc = C / M;
    const ChipTech &t = cx.tech;
    const double f_um = t.nm * 1e-3, fw_um = t.wire_nm * 1e-3;
    const bool sram = cx.r.cfg.cell == CellType::Sram;
    const double cell_h_um = (sram ? t.sram_h_f : 12.0) * fw_um;  // reference columns use the wire width
    const double cell_w_um = (sram ? t.sram_w_f * f_um : 4.0 * fw_um);
    std::vector<FeatureSet> out;

    // ---- area. The same counts at three levels: a PE, a tile, the chip (the chip's are the targets).
    const double dummy = n_adc * (L - 1) / L * R * cell_h_um * cell_w_um;  // reference columns of the ADCs
    struct Counts {
        double slots = 0, pe_tree = 0, pe_regs = 0, tile_tree = 0, tile_bufs = 0, gtree = 0, gbuf = 0, relu = 0;
    };
    const auto area_sets = [&](const Counts &n) {
        return std::vector<FeatureSet>{
            {"area_adc_um2", 0, {n.slots * n_adc * (L - 1), n.slots * dummy, n.slots, n.slots * n_adc * g.b * L / 2}},
            {"area_accum_um2", 0, {n.slots * g.sa_adder_bits, n.slots * g.sa_dff_bits, n.pe_tree + n.tile_tree, n.gtree}},
            {"area_other_um2", 0, {n.slots * R, n.slots * C, n.slots * n_adc * P, n.slots, n.pe_regs, n.tile_bufs, n.gbuf, n.relu}},
            // empty sub-array corners: the column periphery (ADC, shift-adds, mux) stacked under the array,
            // times the width of the row periphery beside it
            {"area_empty_um2", 0, {n.slots, n.slots * n_adc * (L - 1), n.slots * dummy, n.slots * g.sa_adder_bits, n.slots * g.sa_dff_bits,
                                   n.slots * n_adc * P}},
        };
    };
    const double cell_area = cell_area_um2(cx.r.cfg.cell, t);
    const auto predicted = [&](const Counts &n) {  // the model's own area of a block (cells + periphery)
        double a = n.slots * R * C * cell_area;
        for (const auto &fs : area_sets(n)) a += std::max(0.0, apply_coeffs(cx, fs.target, fs.f));
        return a;
    };
    const auto pe_counts = [&](const LayerPlacement &l) {
        const double grid = std::sqrt(double(l.subarray_slots_per_pe));
        Counts n;
        n.slots = l.subarray_slots_per_pe;
        n.pe_tree = n_adc * grid * tree_bits(grid, g.b_sa);
        n.pe_regs = ib * R + n_adc * (g.b_sa + clog2(grid));
        return n;
    };
    const auto tile_counts = [&](const LayerPlacement &l) {
        const double grid = std::sqrt(double(l.subarray_slots_per_pe)), k = l.pes_per_side, npe = k * k;
        Counts n = pe_counts(l);
        n.slots *= npe, n.pe_tree *= npe, n.pe_regs *= npe;
        n.tile_tree = (l.pe_side * k / M) * tree_bits(npe > 4 ? npe : k, g.b_sa + grid);
        n.tile_bufs = (k * ib * R + (g.b_sa + grid + 1) * k * C / M) * 2;
        return n;
    };
    Counts chip;
    double half_inputs = 0, bus = 0;
    for (std::size_t i = 0; i < cx.place.layers.size(); ++i) {
        const auto &l = cx.place.layers[i];
        const auto &s = cx.layers[i];
        const Counts tc = tile_counts(l);
        chip.slots += l.tiles * tc.slots, chip.pe_tree += l.tiles * tc.pe_tree, chip.pe_regs += l.tiles * tc.pe_regs;
        chip.tile_tree += l.tiles * tc.tile_tree, chip.tile_bufs += l.tiles * tc.tile_bufs;
        half_inputs += double(s.ifm_h) * s.ifm_w * s.ifm_c / 2;
        bus += (l.novel ? (l.pe_side * l.pes_per_side + l.pe_side * l.pes_per_side / M) : (T + T / M)) * l.tiles;
    }
    while (bus > 2048) bus /= 2;
    double max_tile_rows = 1;
    for (const auto &l : cx.place.layers) max_tile_rows = std::max(max_tile_rows, double(l.block_rows) * l.replicas);
    chip.gtree = (T / M) * tree_bits(max_tile_rows, g.b_sa + clog2(std::ceil(Pc / R) * 2 * (cx.place.layers.size() + 1)));
    chip.relu = (T / M) * ib;
    chip.gbuf = std::ceil(ib * half_inputs / 16384) * 16384;
    for (auto &fs : area_sets(chip)) out.push_back(fs);
    // wire lengths: H-tree across a tile's PEs; X–Y bus across the tile grid
    const auto pe_side_um = [&](const LayerPlacement &l) { return std::sqrt(predicted(pe_counts(l))); };
    const auto tile_side = [&](const LayerPlacement &l) { return std::sqrt(predicted(tile_counts(l))); };
    // (a conventional tile's H-tree is T bits wide over 2×2 PEs; a novel tile's K²·side bits over K×K PEs)
    double htree = 0, htree_novel = 0, tile_side_um = 0;
    for (const auto &l : cx.place.layers) {
        (l.novel ? htree_novel : htree) += double(l.tiles) * l.pes_per_side * (l.novel ? l.pes_per_side : 1) * l.pe_side * pe_side_um(l);
        tile_side_um = std::max(tile_side_um, tile_side(l));
    }
    const double grid_rows = std::ceil(std::sqrt(g.tiles)), grid_cols = std::ceil(g.tiles / grid_rows);
    out.push_back({"area_ic_um2", 0, {htree, bus * tile_side_um * grid_rows, bus * tile_side_um * grid_cols, htree_novel}});

    // ---- per layer: dynamic energy and leakage
    const double y_hops = std::max(0.0, grid_rows - std::ceil(grid_rows / 2) - 1), x_hops = std::ceil(grid_cols / 2);
    for (std::size_t i = 0; i < cx.place.layers.size(); ++i) {
        const auto &l = cx.place.layers[i];
        const auto &s = cx.layers[i];
        const Activity a = cx.activity[i].measured ? cx.activity[i] : expected_activity(cx, l, cx.activity[i]);
        const int li = int(i) + 1;
        const double tile_rows = double(l.block_rows) * l.replicas;
        const Work w = layer_work(cx, l, g, tile_rows);
        const double nv = double(l.vectors);
        const double planes = nv * ib;
        // every row block is read by ceil(cols/C) column sub-arrays; the ADC converts every mapped column
        const double col_sa = std::ceil(double(l.cols) / C);
        const double n_act = a.act_sum * col_sa;                       // Σ over evaluations of active rows
        const double conv = planes * g.nadd * w.cols;                  // column conversions
        const double conv_nz = (a.blocks - a.zero_n) * l.cols * g.nadd, conv_z = a.zero_n * l.cols * g.nadd;
        const double ln_cols = a.ln_sum * l.cols * g.nadd;
        // sense amplifiers: comparator switching ∝ L−1 and column capacitance (∝ R); their mirror current
        // flows for the sensing time, which grows with L and with the parallel rows' current (the basis
        // {1, L/P, P} of the clock model)
        const double tb[3] = {1, L / P, P / 128};
        std::vector<double> fa = {n_act, conv * R, conv * R * (L - 1) / L, conv * (L - 1)};
        if (sram) {
            for (double tk : tb) fa.push_back(conv_nz * (L - 1) * tk), fa.push_back(ln_cols * (L - 1) * tk);
            fa.push_back(conv_z * (L - 1));
        } else {
            for (double tk : tb)
                fa.push_back(g.nadd * a.r_low_n * (L - 1) * tk), fa.push_back(g.nadd * a.r_mid_n * (L - 1) * tk),
                    fa.push_back(g.nadd * a.r_mid_ln * (L - 1) * tk), fa.push_back(g.nadd * a.r_high_n * (L - 1) * tk),
                    fa.push_back(g.nadd * a.r_high_ln * (L - 1) * tk);
            fa.push_back(g.nadd * a.r_open_n * (L - 1));
        }
        out.push_back({"energy_adc_pj", li, fa});
        out.push_back({"energy_accum_pj", li, {w.add_ops, w.add_bits, w.dff_clk, w.dff_data}});
        const double g_read = double(l.rows) * ib * nv / (l.novel ? s.k_h : 1), g_write = double(s.ofm_c) * ib * nv / (s.pool ? 4 : 1);
        out.push_back({"energy_buffer_pj", li, {w.pe_bits, w.tile_in + g_read, w.tile_out, g_write}});
        const double pe_side = pe_side_um(l), tside = tile_side(l);
        const double grid = std::sqrt(double(l.subarray_slots_per_pe));
        out.push_back({"energy_ic_pj", li, {(0.18 * w.tile_in + 0.5 * w.tile_out) * 2 * pe_side,
                                             0.18 * g_read * tside * x_hops + 0.5 * g_write * tside * y_hops,
                                             w.pe_bus * pe_side / grid}});
        const double units = cx.place.tile_side / M;
        out.push_back({"energy_other_pj", li, {planes * w.sa, planes * w.sa * P, planes * w.sa * R, n_act, std::ceil(nv * s.ofm_c / units),
                                                s.pool ? std::ceil(nv * s.ofm_c / 4 / units) : 0}});
        // leakage of one tile of this layer: cells, sub-array periphery, PE/tile registers, buffers, H-tree
        const double k = l.pes_per_side, npe = k * k;
        const double sas = npe * l.subarrays_per_pe;
        const double busy_cells = sram ? sas * (R * C - P * C / M) : 0;
        out.push_back({"leak_busy_uw", li, {busy_cells}});
        out.push_back({"leak_idle_uw", li, {sram ? sas * R * C : 0, sas * R, sas * C, sas * n_adc * (L - 1), sas * (g.sa_adder_bits + g.sa_dff_bits),
                                             npe * (ib * R + n_adc * g.b_sa) + (k * ib * R + (g.b_sa + grid + 1) * k * C / M) * 2,
                                             npe * n_adc * grid * tree_bits(std::min(grid, std::ceil(double(l.rows) / R)), g.b_sa),
                                             k * l.pe_side * pe_side,
                                             // a K×K-PE (novel) tile's own periphery: its K²-input adder tree and wider buffers
                                             l.novel ? npe * (l.pe_side / M) * (g.b_sa + grid) : 0}});
    }
    return out;
}

}  // namespace cimsim
