// Chip floorplan: tiles, PEs, sub-arrays, weight duplication, pipeline replicas, novel mapping.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
//
// The hierarchy follows the NeuroSim papers (Peng et al., "DNN+NeuroSim", IEDM 2019; the V1.4 manual):
// a chip of identical tiles, a tile of 2×2 PEs, a PE of sub-arrays (R rows × C columns of 1-bit cells, a
// weight spread over weight_bits adjacent columns). Checked against NeuroSim V1.4's own printout over the
// reference grid (tile and PE sizes, tiles per layer, speed-up, utilization, floorplan refusals) by
// cimsim/validation/validate_neurosim.py and test_chip.cpp.
//  - Tile side T: the widest layer's cell columns rounded up to a power of two, kept in [4R, 8R]; PE side
//    T/2. A conventional floorplan needs that width to reach 4R (else NeuroSim refuses it).
//  - Novel mapping (convolutions with K·K·C_in ≥ R): kernel position k of every filter goes to PE k of a
//    K×K-PE tile, so a PE holds C_in rows; its PE side is the widest such layer's columns rounded up to a
//    power of two, kept in [2R, 4R] (below 2R NeuroSim refuses the floorplan).
//  - A layer takes ceil(rows/side)·ceil(cols/side) tiles. When it is smaller than a tile its weights are
//    copied: across PEs (PEs per side / PEs needed) and, when smaller than a PE, across sub-arrays
//    (sub-arrays per PE side / sub-arrays needed), separately down and across. Copies work on different
//    output positions in parallel.
//  - Pipeline balance: the chip's speed-up degree is min(8, first layer's IFM side / smallest IFM side of a
//    non-1×1 layer); layer l wants ceil((IFM_l / ceil(IFM_1/degree))²)-fold parallelism, and gets the
//    missing part as whole-tile replicas.
//  - PEs lay their sub-arrays out on a square grid (ceil(sqrt(n))² slots): that, not n, is what area counts.
#include <algorithm>
#include <bit>
#include <cmath>

#include "cimsim/chip.hpp"

namespace cimsim {

namespace {

std::uint64_t pow2_ceil(std::uint64_t x) { return std::bit_ceil(std::max<std::uint64_t>(x, 1)); }
std::uint32_t div_ceil(std::uint64_t a, std::uint64_t b) { return std::uint32_t((a + b - 1) / b); }

bool maps_novel(const Resolved &r, const LayerSpec &s) {
    return r.cfg.novel_mapping && s.k_h * s.k_w > 1 && s.rows() >= std::uint32_t(r.cfg.subarray_rows);
}

// Parallelism each layer should get so that the pipeline stages are balanced.
std::vector<std::uint32_t> pipeline_speedup(const std::vector<LayerSpec> &layers) {
    const double first = layers.front().ifm_h;
    double smallest = first;
    for (const auto &s : layers)
        if (s.k_h != 1 && s.ifm_h < smallest) smallest = s.ifm_h;
    const double degree = std::min(8.0, std::floor(first / smallest));
    const double bound = std::ceil(first / std::max(1.0, degree));
    std::vector<std::uint32_t> want;
    for (const auto &s : layers) want.push_back(std::uint32_t(std::ceil(std::pow(s.ifm_h / bound, 2) - 1e-12)));
    return want;
}

}  // namespace

ChipPlacement map_chip(const Resolved &r, const std::vector<LayerSpec> &layers, bool strict) {
    if (layers.empty()) throw Error("cimsim: the network has no layers");
    const std::uint64_t R = std::uint64_t(r.cfg.subarray_rows), C = std::uint64_t(r.cfg.subarray_cols);
    const std::uint64_t wb = std::uint64_t(r.cfg.weight_bits);
    std::uint64_t widest = 0, widest_novel = 0;
    for (const auto &s : layers) {
        const std::uint64_t cols = std::uint64_t(s.cols()) * wb;
        widest = std::max(widest, cols);
        if (maps_novel(r, s)) widest_novel = std::max(widest_novel, cols);
    }
    ChipPlacement p;
    const std::uint64_t w = pow2_ceil(widest);
    if (strict && widest_novel == 0 && w < 4 * R)
        throw Error("cimsim: SubArray Size is too large for the chip hierarchy (NeuroSim refuses it): the widest layer's " +
                    std::to_string(w) + " cell columns (2^ceil(log2(OFM_C·weight_bits))) must reach 4 × subarray_rows = " +
                    std::to_string(4 * R) + "; decrease subarray_rows");
    p.tile_side = std::uint32_t(std::clamp(w, 4 * R, 8 * R));
    if (widest_novel) {
        const std::uint64_t wn = pow2_ceil(widest_novel);
        if (strict && wn < 2 * R)
            throw Error("cimsim: SubArray Size is too large for the chip hierarchy (NeuroSim refuses it): with novel mapping "
                        "the widest convolution's " + std::to_string(wn) + " cell columns must reach 2 × subarray_rows = " +
                        std::to_string(2 * R) + "; decrease subarray_rows or set novel_mapping false");
        p.novel_pe_side = std::uint32_t(std::clamp(wn, 2 * R, 4 * R));
    }
    const auto want = pipeline_speedup(layers);
    double used = 0, cells = 0;
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const LayerSpec &s = layers[i];
        LayerPlacement l;
        l.novel = maps_novel(r, s);
        l.rows = s.rows();
        l.cols = std::uint32_t(std::uint64_t(s.cols()) * wb);
        l.vectors = s.vectors();
        std::uint64_t rows;  // matrix rows a block column holds
        std::uint32_t pe_dr = 1, pe_dc = 1;
        if (l.novel) {
            rows = s.ifm_c;
            l.pe_side = l.block_side = p.novel_pe_side;
            l.pes_per_side = s.k_h;
        } else {
            rows = l.rows;
            l.block_side = p.tile_side, l.pe_side = p.tile_side / 2, l.pes_per_side = 2;
            if (rows <= l.block_side || l.cols <= l.block_side) {
                pe_dr = std::max<std::uint32_t>(1, l.pes_per_side / div_ceil(rows, l.pe_side));
                pe_dc = std::max<std::uint32_t>(1, l.pes_per_side / div_ceil(l.cols, l.pe_side));
            }
        }
        std::uint32_t sa_dr = 1, sa_dc = 1;
        if (rows <= l.pe_side || l.cols <= l.pe_side) {
            sa_dr = std::max<std::uint32_t>(1, div_ceil(l.pe_side, R) / div_ceil(rows, R));
            sa_dc = std::max<std::uint32_t>(1, div_ceil(l.pe_side, C) / div_ceil(l.cols, C));
        }
        const std::uint32_t dup = pe_dr * pe_dc * sa_dr * sa_dc;
        l.replicas = std::max<std::uint32_t>(1, div_ceil(want[i], dup));
        l.dup_rows = pe_dr * sa_dr * l.replicas, l.dup_cols = pe_dc * sa_dc;
        l.speedup = l.dup_rows * l.dup_cols;
        l.block_rows = div_ceil(rows, l.block_side), l.block_cols = div_ceil(l.cols, l.block_side);
        l.tiles = l.block_rows * l.replicas * l.block_cols;
        const double tile_cells = double(l.block_side) * l.block_side * (l.novel ? l.pes_per_side * l.pes_per_side : 1);
        l.utilization = double(rows) * l.cols * (l.novel ? l.pes_per_side * l.pes_per_side : 1) * l.speedup / (l.tiles * tile_cells);
        l.subarrays_per_pe = std::uint32_t(std::max<std::uint64_t>(1, l.pe_side / R) * std::max<std::uint64_t>(1, l.pe_side / C));
        const auto g = std::uint32_t(std::ceil(std::sqrt(double(l.subarrays_per_pe)) - 1e-9));
        l.subarray_slots_per_pe = g * g;
        used += l.utilization * l.tiles * tile_cells;
        cells += l.tiles * tile_cells;
        p.tiles += l.tiles;
        p.layers.push_back(l);
    }
    p.utilization = cells > 0 ? used / cells : 0;
    return p;
}

}  // namespace cimsim
