// Cost model: area, latency, dynamic energy and leakage of one mapped layer / MVM, by component.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
//
// Contract: estimate_layer() is a pure function of the resolved config, the mapping and the number of
// input vectors; it does not look at data values (a fixed 50 % input-bit and cell activity is assumed,
// as in NeuroSim's default estimates). Networks sum layers: areas and leakage add (every layer has its own
// tiles), latencies add (layer by layer), energies add; leakage energy over the latency is included in
// TOPS/W. Equations and parameter sources are in cost.cpp and cimsim/README.md.
#pragma once

#include <cstdint>
#include <string>

#include "cimsim/config.hpp"
#include "cimsim/mapping.hpp"

namespace cimsim {

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

// One layer: `vectors` input vectors through the mapped matrix. `buffer_bits` is the activation buffer
// this layer needs (0 = derived from rows × vectors × input_bits).
Ppa estimate_layer(const Resolved &r, const Mapping &m, std::uint64_t vectors, double buffer_bits = 0);

// Per-cell-type calibration factors applied on top of the physical model (see README "Calibration").
struct Calibration {
    double area = 1, energy = 1, latency = 1;
};
Calibration calibration_for(CellType c);

}  // namespace cimsim
