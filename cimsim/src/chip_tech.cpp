// Technology facts of the chip model. SPDX-License-Identifier: GPL-2.0-or-later OR MIT
//
// Sources:
//  - 45, 22, 14, 7 nm: the settings the NeuroSim V1.4 reference grid was run with
//    (cimsim/validation/neurosim-v1.4-grid/SETTINGS.md): LSTP supply, SRAM cell size in F, local wire width.
//    The RRAM 1T1R cell (4F × 12F) is the grid's fixed setting too.
//  - other nodes: supply from the ITRS 2013 / IRDS 2022 LSTP/low-power roadmaps (as in tech.cpp); SRAM
//    cell size and wire width of the nearest node above (planar) or of 7 nm (FinFET/GAA).
//  - The component coefficients (chip_coeffs.inc) are fitted per cell type at the nodes of the reference
//    grid (45, 22, 14 nm for SRAM; 45, 22 nm for RRAM). At any other node they are carried over from the
//    nearest fitted node of the same transistor family (planar ≥ 22 nm, FinFET/GAA ≤ 14 nm; chip_coeffs.cpp)
//    by first-order constant-field scaling: area ∝ F²,
//    switched capacitance ∝ F (energy ∝ F·V²), gate delay ∝ F at a constant current density, leakage ∝
//    device width·V ∝ F·V. That carry-over is an extrapolation the reference grid does not check.
#include "chip_tech.hpp"

#include <array>
#include <cmath>

namespace cimsim {

namespace {

constexpr std::array<ChipTech, 13> kTech = {{
    //  nm   vdd   sram w  h     wire  finfet
    {130, 1.20, 10, 28, 200, false},
    {90, 1.10, 10, 28, 140, false},
    {65, 1.10, 10, 28, 110, false},
    {45, 1.00, 10, 28, 80, false},
    {32, 0.95, 10, 28, 56, false},
    {22, 0.85, 10, 28, 40, false},
    {14, 0.80, 10.6, 30.8, 32, true},
    {10, 0.75, 10.6, 30.8, 24, true},
    {7, 0.70, 16, 34.43, 20, true},
    {5, 0.70, 16, 34.43, 16, true},
    {3, 0.70, 16, 34.43, 12, true},
    {2, 0.65, 16, 34.43, 10, true},
    {1, 0.60, 16, 34.43, 8, true},
}};

}  // namespace

const ChipTech &chip_tech(int nm) {
    for (const auto &t : kTech)
        if (t.nm == nm) return t;
    throw Error("cimsim: config key 'tech_node_nm': " + std::to_string(nm) + " nm is not a node of the chip cost model");
}

double cell_area_um2(CellType c, const ChipTech &t) {
    const double f_um = t.nm * 1e-3;
    return (c == CellType::Sram ? t.sram_w_f * t.sram_h_f : 4.0 * 12.0) * f_um * f_um;
}

void check_cell_node(CellType c, int nm) {
    if (c != CellType::Sram && nm <= 14)
        throw Error("cimsim: config key 'cell': " + std::string(to_string(c)) + " at " + std::to_string(nm) +
                    " nm: NeuroSim's technology model has no 1T1R (RRAM/FeFET) cell at 14 nm or below; use sram or a larger node");
}

double node_scale(Kind k, const ChipTech &t, int from_nm) {
    if (from_nm == t.nm) return 1.0;
    const ChipTech &f = chip_tech(from_nm);
    const double s = double(t.nm) / f.nm, v = t.vdd / f.vdd;
    switch (k) {
    case Kind::Cycles: return 1.0;
    case Kind::Delay: return s;
    case Kind::Energy: return s * v * v;
    case Kind::Area: return s * s;
    case Kind::Leakage: return s * v;
    }
    return 1.0;
}

}  // namespace cimsim
