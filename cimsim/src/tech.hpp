// Technology-node and cell parameter tables (private to the library).
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#pragma once

#include <string>

#include "cimsim/config.hpp"

namespace cimsim {

struct TechNode {
    int nm;
    double vdd;             // V
    double fo4_ps;          // fan-out-of-4 inverter delay
    double gate_area_um2;   // NAND2-equivalent gate incl. routing = 4 transistors / logic density
    double sram6t_um2;      // high-density 6T SRAM bit cell
    double gate_cap_ff;     // switched capacitance of a NAND2-equivalent gate incl. local wire
    double gate_leak_nw;    // leakage of a NAND2-equivalent gate at VDD, 25 °C
    double wire_cap_ff_um;  // intermediate-layer wire capacitance per µm
    double adc_fom_fj;      // Walden figure of merit of a low-resolution ADC, fJ per conversion step
    double clock_mhz;       // default digital clock (one cycle = 100 FO4)
};

struct CellDefaults {
    double g_on_us;
    double on_off_ratio;
    double area_f2;         // cell area in F² (F = node); SRAM uses the node's 6T cell instead
    double read_v;          // read voltage on the active word/bit line
    bool volatile_cell;     // leaks in the array (SRAM) or not (RRAM/FeFET)
    bool hv_write;          // needs high-voltage write drivers (level shifters per row and column)
};

const TechNode *find_tech_node(int nm);
std::string known_nodes_text();
CellDefaults cell_defaults(CellType c);

}  // namespace cimsim
