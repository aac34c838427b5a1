// The chip model: how a network is laid out on a NeuroSim-style chip (tiles of PEs of sub-arrays) and what
// that chip costs (area, pipelined latency, dynamic energy, leakage), component by component.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
//
// Contract:
//  - map_chip() is the floorplan: one tile size for the whole chip, chosen from the widest layer; each
//    layer gets whole tiles and, when it fills less than a tile, copies of itself inside the tile
//    ("speed-up"); with novel_mapping, convolutions whose K·K·C_in reaches a sub-array are laid out one
//    kernel position per PE (9 PEs per tile for 3×3). A floorplan NeuroSim V1.4 refuses ("SubArray Size is
//    too large") is refused here with the same verdict, as an Error.
//  - estimate_chip() is a pure function of the config, the layers and (optionally) each layer's measured
//    data activity; it never looks at anything else. It reports the figures NeuroSim reports: the
//    pipelined per-image latency (the slowest layer, buffers and interconnect included), the per-image
//    dynamic energy (sum over layers), the leakage power averaged over the pipeline cycle, TOPS, TOPS/W.
//  - The equations and where each constant comes from: chip_cost.cpp, chip_tech.cpp, cimsim/README.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cimsim/config.hpp"

namespace cimsim {

// One row of NetWork.csv: IFM_H,IFM_W,IFM_C,K_H,K_W,OFM_C,pool(0/1),stride.
struct LayerSpec {
    std::uint32_t ifm_h = 1, ifm_w = 1, ifm_c = 1, k_h = 1, k_w = 1, ofm_c = 1, pool = 0, stride = 1;
    std::uint32_t rows() const { return k_h * k_w * ifm_c; }
    std::uint32_t cols() const { return ofm_c; }
    // output positions per image: a "valid" convolution, as NeuroSim counts them
    std::uint64_t vectors() const {
        const std::uint64_t oh = ifm_h >= k_h ? (ifm_h - k_h) / stride + 1 : 1;
        const std::uint64_t ow = ifm_w >= k_w ? (ifm_w - k_w) / stride + 1 : 1;
        return oh * ow;
    }
    double ops() const { return 2.0 * ifm_h * ifm_w * double(ifm_c) * k_h * k_w * ofm_c; }  // NeuroSim's count
};

struct LayerPlacement {
    bool novel = false;              // one kernel position per PE
    std::uint32_t block_side = 0;    // what a tile holds of the layer's matrix: T (conventional) or the novel PE side
    std::uint32_t pe_side = 0;       // cells per PE side
    std::uint32_t pes_per_side = 0;  // 2 (2×2 PEs) or K (novel: K×K PEs)
    std::uint32_t block_rows = 0, block_cols = 0;  // tiles of one copy: ceil(rows/side) × ceil(cols/side)
    std::uint32_t replicas = 1;      // whole-tile copies added to balance the pipeline (speed-up degree)
    std::uint32_t tiles = 0;         // block_rows · replicas · block_cols
    std::uint32_t dup_rows = 1, dup_cols = 1;  // copies of the weights down / across (in-tile copies × replicas)
    std::uint32_t speedup = 1;       // dup_rows · dup_cols: output positions processed in parallel
    std::uint32_t subarrays_per_pe = 0;       // sub-arrays a PE holds
    std::uint32_t subarray_slots_per_pe = 0;  // laid out on a square grid: ceil(sqrt(n))²
    double utilization = 0;          // used cells (all copies) / cells of the layer's tiles
    std::uint64_t vectors = 0;       // output positions per image
    std::uint32_t rows = 0, cols = 0;  // weight matrix rows (K·K·C_in) and cell columns (OFM_C·weight bits)
};

struct ChipPlacement {
    std::uint32_t tile_side = 0;     // conventional tile, cells per side
    std::uint32_t novel_pe_side = 0; // 0 without novel-mapped layers
    std::uint32_t tiles = 0;
    double utilization = 0;          // of the whole chip
    std::vector<LayerPlacement> layers;
};

// strict: refuse what NeuroSim refuses (network files); the peripheral's single MVM maps a narrow matrix onto the
// smallest tile instead.
ChipPlacement map_chip(const Resolved &r, const std::vector<LayerSpec> &layers, bool strict = true);

// What a layer's data does to the sub-arrays, per image: statistics over every (input bit-plane vector,
// R-row block) of the active rows n (input bit 1) and, for 1T1R cells, over every column of the resulting
// column resistance (cells in series with their access transistor, conducting in parallel; R_on/R_off of
// the reference settings). Measured from the layer's files (chip_activity.cpp) or, without files,
// expected from input_ones / weight_ones. The sense amplifiers' static current depends on the column
// resistance; that is why the ADC energy needs more than a mean activity.
struct Activity {
    double input_ones = 0.22;   // fraction of input bits that are 1 (the reference generator: ~0.22 at 8 bits)
    double weight_ones = 0.5;   // fraction of weight cells (offset code) that are 1
    bool measured = false;
    // Σ over (bit-plane vector, row block) — per row block; columns multiply later
    double act_sum = 0, ln_sum = 0, zero_n = 0, blocks = 0;
    // 1T1R: Σ over (bit-plane vector, row block, column) of the column resistance's regime
    double r_low_n = 0, r_mid_n = 0, r_mid_ln = 0, r_high_n = 0, r_high_ln = 0, r_open_n = 0;
};

// Measures a layer's Activity from its integer weights (rows × cols, row-major) and inputs (vectors × rows).
// Only the first `vectors` input vectors count (NeuroSim's valid-convolution count).
Activity measure_activity(const Resolved &r, std::uint32_t rows, std::uint32_t cols, const std::vector<std::int32_t> &w,
                          const std::vector<std::int32_t> &x, std::uint64_t vectors);

// Component breakdown used everywhere: the same five parts NeuroSim's summary prints.
struct Parts {
    double array = 0, adc = 0, accum = 0, buffer = 0, ic = 0, other = 0;  // other = decoders, drivers, mux, pooling, activation
    double total() const { return array + adc + accum + buffer + ic + other; }
    Parts &operator+=(const Parts &o);
};

struct LayerCost {
    Parts latency_ns;     // per image; total() is the layer's stage time in the pipeline
    Parts energy_pj;      // per image, dynamic
    double leakage_uw = 0;        // time-averaged over the pipeline cycle (NeuroSim's definition)
    double busy_leakage_uw = 0;   // the layer's tiles while they compute
    double ops = 0;
};

struct ChipCost {
    ChipPlacement placement;
    std::vector<LayerCost> layers;
    Parts area_um2;              // components; area_um2.total() ≤ chip_area_um2 (floorplan)
    double chip_area_um2 = 0;
    double clock_ns = 0;         // synchronous clock: the slowest sensing path
    double latency_ns = 0;       // per image (pipelined: the slowest layer)
    double dyn_energy_pj = 0;    // per image
    double leakage_uw = 0;
    double leakage_energy_pj = 0;  // per image
    double ops = 0;
    double tops() const { return latency_ns > 0 ? ops / latency_ns * 1e-3 : 0; }
    double tops_per_w() const;   // includes the post-layout energy factor NeuroSim divides by
};

ChipCost estimate_chip(const Resolved &r, const std::vector<LayerSpec> &layers,
                       const std::vector<Activity> &activity = {}, bool strict = true);

// The structural counts the fitted unit costs multiply, as JSON (what validation/fit_neurosim.py fits on).
std::string chip_features_json(const Resolved &r, const std::vector<LayerSpec> &layers,
                               const std::vector<Activity> &activity = {});

}  // namespace cimsim
