// The chip model's parts, shared by its translation units (private to the library).
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
//
//   chip_map.cpp      floorplan (public: map_chip)
//   chip_latency.cpp  cycle counts per layer and component
//   chip_clock.cpp    the synchronous clock period
//   chip_energy.cpp   dynamic energy per layer and component
//   chip_area.cpp     area by component and the chip's floorplan area
//   chip_leakage.cpp  leakage power of a layer's tiles
//   chip_cost.cpp     composition: pipeline, leakage averaging, TOPS, TOPS/W (public: estimate_chip)
//   chip_coeffs.cpp   the fitted unit costs (chip_coeffs.inc, made by validation/fit_neurosim.py)
#pragma once

#include <string>
#include <vector>

#include "chip_tech.hpp"
#include "cimsim/chip.hpp"

namespace cimsim {

struct ChipContext {
    const Resolved &r;
    const std::vector<LayerSpec> &layers;
    const ChipPlacement &place;
    const std::vector<Activity> &activity;  // one per layer
    const ChipTech &tech;
    double rows, cols, par, mux, levels, ib, wb;  // R, C, P, M, ADC levels, input / weight bits
};

struct LayerCycles {
    double adc = 0, accum = 0, buffer = 0, ic = 0, other = 0;
};

std::vector<LayerCycles> layer_cycles(const ChipContext &cx);

// A linear model y = Σ c_k · f_k: the features f (structural counts, computed here) and the fitted
// coefficients c (per cell type and node, chip_coeffs.inc). `features()` is what fit_neurosim.py fits on
// (cimsim neurosim ... --features prints them), so the model and its fit can never drift apart.
struct FeatureSet {
    std::string target;          // e.g. "clock_ns", "area_adc_um2", "energy_adc_pj"
    int layer = 0;               // 1-based; 0 = chip level
    std::vector<double> f;
};

std::vector<FeatureSet> chip_features(const ChipContext &cx);
double clock_features_eval(const ChipContext &cx, std::vector<double> *features);

// Σ c·f for a target, with the coefficients of the config's cell and (fitted) node, carried over to the
// config's node by node_scale().
double apply_coeffs(const ChipContext &cx, const std::string &target, const std::vector<double> &f);

}  // namespace cimsim
