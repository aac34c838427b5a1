// Cell parameters of the functional model (private to the library). The cost model's technology facts are
// in chip_tech.hpp.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#pragma once

#include <string>

#include "cimsim/config.hpp"

namespace cimsim {

struct CellDefaults {
    double g_on_us;
    double on_off_ratio;
};

CellDefaults cell_defaults(CellType c);
bool known_node(int nm);
std::string known_nodes_text();

}  // namespace cimsim
