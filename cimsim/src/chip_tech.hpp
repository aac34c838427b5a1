// Technology facts the chip model uses, per node (private to the library).
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#pragma once

#include <string>

#include "cimsim/config.hpp"

namespace cimsim {

struct ChipTech {
    int nm;
    double vdd;            // V, low-standby-power (LSTP) logic supply
    double sram_w_f, sram_h_f;  // SRAM compute cell, in F
    double wire_nm;        // local wire width
    bool finfet;
};

// Every node NeuroSim V1.4 knows.
const ChipTech &chip_tech(int nm);
// Cell area in µm² (SRAM w×h F², RRAM / FeFET 1T1R 4F × 12F).
double cell_area_um2(CellType c, const ChipTech &t);
// Throws the verdict NeuroSim gives for a cell it cannot build at that node.
void check_cell_node(CellType c, int nm);

// How a coefficient of a given physical kind fitted at node `from_nm` carries over to t.nm.
enum class Kind { Cycles, Delay, Energy, Area, Leakage };
double node_scale(Kind k, const ChipTech &t, int from_nm);

}  // namespace cimsim
