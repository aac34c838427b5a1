// Cost model: area, latency, dynamic energy and leakage of one mapped layer / MVM, by component.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
//
// Contract: estimate_mvm() is the cost of `vectors` input vectors through one rows × cols weight matrix on
// the chip model (chip.hpp): the matrix is one fully connected layer on its own chip; each vector is one
// pass through the pipeline, so latency and dynamic energy scale with the number of vectors, area and
// leakage do not. A matrix narrower than NeuroSim's smallest tile is laid out on that tile (NeuroSim itself
// refuses such a network; cimsim network/neurosim do too).
#pragma once

#include <cstdint>
#include <string>

#include "cimsim/config.hpp"

namespace cimsim {

// drivers = decoders, WL switch matrices, column mux, ReLU / pooling (NeuroSim's "other peripheries")
struct Breakdown {
    double array = 0, adc = 0, shift_add = 0, drivers = 0, buffers = 0, interconnect = 0;
    double total() const { return array + adc + shift_add + drivers + buffers + interconnect; }
    Breakdown &operator+=(const Breakdown &o);
    Breakdown scaled(double k) const;
};

struct Ppa {
    Breakdown area_um2;
    Breakdown energy_pj;    // dynamic energy
    Breakdown latency_ns;   // contributions to the layer's critical path
    Breakdown leakage_uw;
    double ops = 0;         // 2 · MACs
    std::uint64_t subarrays = 0, adcs = 0, conversions = 0;

    double area() const { return area_um2.total(); }
    double latency() const { return latency_ns.total(); }
    double energy() const { return energy_pj.total(); }
    double leakage() const { return leakage_uw.total(); }
    double energy_with_leakage_pj() const { return energy() + leakage() * latency() * 1e-3; }  // µW·ns = 1e-3 pJ
    double tops() const { return latency() > 0 ? ops / (latency() * 1e-9) / 1e12 : 0; }
    double tops_per_w() const { return energy_with_leakage_pj() > 0 ? ops / (energy_with_leakage_pj() * 1e-12) / 1e12 : 0; }
    Ppa &operator+=(const Ppa &o);
};

Ppa estimate_mvm(const Resolved &r, std::uint32_t rows, std::uint32_t cols, std::uint64_t vectors);

}  // namespace cimsim
