// Human-readable and JSON reports. SPDX-License-Identifier: GPL-2.0-or-later OR MIT
//
// `cimsim mvm --json` prints exactly the shape the CIM exec backend parses:
//   {"outputs":[...], "metrics":{"latency_ns":..,"energy_pj":..,"area_um2":..,"leakage_uw":..}, "details":{...}}
// outputs: n_vectors × cols values, vector after vector; integers are the ABI's 32-bit wrapped results
// (signed), float32 results are printed so that they parse back to the identical float.
#pragma once

#include <string>

#include "cimsim/config.hpp"
#include "cimsim/cost.hpp"
#include "cimsim/mvm.hpp"
#include "cimsim/network.hpp"

namespace cimsim {

struct MvmReport {
    const MvmProblem &problem;
    const MvmOutput &out;
    const Ppa &ppa;
    const Resolved &r;
};

std::string mvm_json(const MvmReport &m);
std::string mvm_text(const MvmReport &m);
std::string network_json(const NetworkResult &n, const Resolved &r);
std::string network_text(const NetworkResult &n, const Resolved &r);

// Markdown table of every config key (the README's key table).
std::string keys_markdown();

}  // namespace cimsim
