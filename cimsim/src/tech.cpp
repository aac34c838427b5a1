// Cell parameters of the functional model. SPDX-License-Identifier: GPL-2.0-or-later OR MIT
//
// Only the ratio g_on/g_off and relative variations change the functional results (levels are counted in
// units of the conductance step); g_on sets the scale reported in configs. Values: the settings of the
// NeuroSim V1.4 reference grid (validation/neurosim-v1.4-grid/SETTINGS.md) for RRAM; typical published values
// for the others.
#include "tech.hpp"

#include "chip_tech.hpp"

namespace cimsim {

CellDefaults cell_defaults(CellType c) {
    switch (c) {
    // 8T SRAM compute cell (decoupled read port): read stack ~25 µS; off state a cut-off transistor (~1e4).
    case CellType::Sram: return {25.0, 1e4};
    // 1T1R RRAM: R_on 100 kΩ, R_off 1.7 MΩ (on/off 17), the reference grid's setting.
    case CellType::Rram: return {10.0, 17.0};
    // 1FeFET: R_on 240 kΩ, on/off 100 (typical HfZrO FeFET reports).
    case CellType::Fefet: return {1e6 / 240e3, 100.0};
    }
    return {};
}

bool known_node(int nm) {
    try {
        chip_tech(nm);
        return true;
    } catch (const Error &) {
        return false;
    }
}

std::string known_nodes_text() {
    std::string s;
    for (int nm : {130, 90, 65, 45, 32, 22, 14, 10, 7, 5, 3, 2, 1}) s += (s.empty() ? "" : " ") + std::to_string(nm);
    return s;
}

}  // namespace cimsim
