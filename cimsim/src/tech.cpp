// Technology-node and cell parameter tables.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
//
// Sources (public, approximate; values rounded):
//  - logic density (MTr/mm²) → gate_area_um2 = 4 / density: vendor disclosures as collected in public
//    process-node comparisons (Intel 90 nm 1.45, 65 nm 2.08, 45 nm 3.33, 32 nm 7.11, 22 nm 15.3,
//    14 nm 37.5; Intel 10 nm / TSMC N7 ~91-100; TSMC N5 171; N3 ~290); 130 nm extrapolated (×0.6 per node);
//    2 nm and "1 nm" from the IRDS 2022 More Moore roadmap projections (CFET era, ~1.3×/node).
//  - 6T SRAM bit cell (µm²): ISSCC/IEDM disclosures (Intel 130 nm 2.45 → 90 nm 1.0 → 65 nm 0.57 → 45 nm
//    0.346 → 32 nm 0.171 → 22 nm 0.092 → 14 nm 0.0588 → 10 nm 0.0312; TSMC N7 0.027, N5 0.021,
//    N3 0.0199); 2 nm / 1 nm from the IRDS 2022 roadmap (~0.0175 / ~0.012).
//  - VDD: ITRS 2013 / IRDS 2022 logic core supply (0.6 V at the "1 nm" node).
//  - FO4: ITRS rule of thumb ≈ 0.36 ps/nm of drawn gate length for planar nodes, IRDS for FinFET/GAA.
//  - gate capacitance / leakage: ITRS PIDS tables (about 1 fF/µm of gate width; NAND2-equivalent ≈ 1 µm
//    of total width at 22 nm), rounded; leakage for low-standby-power (LSTP-like) logic, as used by
//    accelerator periphery (a few 100 pA/µm).
//  - wire capacitance ≈ 0.2 fF/µm, nearly node-independent (ITRS interconnect tables).
//  - ADC Walden FOM: B. Murmann, "ADC Performance Survey 1997-2023" (the best low-resolution SAR/flash
//    designs reach ~1-3 fJ/conv-step at 28 nm and below; older nodes proportionally worse).
#include "tech.hpp"

#include <array>

namespace cimsim {

namespace {
constexpr std::array<TechNode, 13> kNodes = {{
    // nm   vdd   fo4   gate_um2 sram6t   cap_ff leak_nw wire  fom   clock
    {130, 1.20, 47.0, 7.40, 2.45, 4.00, 0.3, 0.20, 25, 213},
    {90, 1.10, 32.0, 2.76, 1.00, 2.80, 0.5, 0.20, 15, 313},
    {65, 1.10, 23.0, 1.92, 0.570, 2.00, 0.6, 0.20, 10, 435},
    {45, 1.00, 16.0, 1.20, 0.346, 1.50, 0.7, 0.20, 6.5, 625},
    {32, 0.95, 13.0, 0.563, 0.171, 1.20, 0.6, 0.20, 4.5, 769},
    {22, 0.85, 10.0, 0.261, 0.092, 1.00, 0.5, 0.20, 3.0, 1000},
    {14, 0.80, 8.0, 0.107, 0.0588, 0.80, 0.3, 0.20, 2.3, 1250},
    {10, 0.75, 7.0, 0.040, 0.0312, 0.65, 0.3, 0.20, 1.8, 1429},
    {7, 0.70, 6.0, 0.044, 0.027, 0.55, 0.25, 0.20, 1.5, 1667},
    {5, 0.70, 5.5, 0.0234, 0.021, 0.45, 0.25, 0.20, 1.25, 1818},
    {3, 0.70, 5.0, 0.0160, 0.0199, 0.40, 0.2, 0.20, 1.1, 2000},
    {2, 0.65, 4.8, 0.0140, 0.0175, 0.35, 0.2, 0.20, 1.0, 2083},
    {1, 0.60, 4.5, 0.0125, 0.012, 0.30, 0.15, 0.20, 0.9, 2222},
}};
}  // namespace

const TechNode *find_tech_node(int nm) {
    for (const auto &n : kNodes)
        if (n.nm == nm) return &n;
    return nullptr;
}

std::string known_nodes_text() {
    std::string s;
    for (const auto &n : kNodes) s += (s.empty() ? "" : " ") + std::to_string(n.nm);
    return s;
}

CellDefaults cell_defaults(CellType c) {
    switch (c) {
    // 8T SRAM compute cell (decoupled read port); g_on of the read stack ~ 25 µS at 0.85 V; off state is a
    // cut-off transistor (ratio ~1e4). Area: 8T ≈ 1.3 × 6T (published 8T/6T ratios 1.3-1.4).
    case CellType::Sram: return {25.0, 1e4, 0.0, 0.5, true, false};
    // 1T1R HfOx RRAM: R_on 6 kΩ (g_on 166.7 µS) and on/off 17 as in the NeuroSim manual's Table VII
    // setup; 1T1R cell with a write-current-sized access transistor, ~50 F² (Yu & Chen, IEEE SSC Mag. 2016,
    // report 1T1R cells of tens of F² when the transistor carries ~100 µA).
    case CellType::Rram: return {1e6 / 6e3, 17.0, 50.0, 0.5, false, true};
    // 1FeFET: R_on 240 kΩ, on/off 100 (typical HfZrO FeFET reports), ~ 20 F² (1T cell, larger than logic pitch).
    case CellType::Fefet: return {1e6 / 240e3, 100.0, 20.0, 0.5, false, true};
    }
    return {};
}

}  // namespace cimsim
