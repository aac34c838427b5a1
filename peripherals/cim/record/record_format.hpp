// Record and replay of CIM backend operations: the file format shared by the recorder (an [[op]]'s
// `record = "FILE"`, src/ops.cpp) and the replay backend (backends/replay, plugins/cim-replay.so).
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
//
// A recording is JSON lines. Line 1, the header:
//   {"format":"dynperiph-cim-record","version":1,"op":3,"name":"...","backend":"/path/cim-cimsim.so"}
// then one line per run of the operation, in order:
//   {"dtype":0,"rows":64,"cols":10,"n_vectors":50,"weights":[...],"inputs":[...],
//    "status":0,"outputs":[...],"metrics":{"latency_ns":..,"energy_pj":..,"area_um2":..,"leakage_uw":..},
//    "error":""}
// weights/inputs: the elements (int8/int16/int32 as signed integers, float32 as its uint32 bit pattern);
// outputs: the result words (uint32); a metric the backend did not estimate (NaN) is null.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dynperiph/cim_backend.h"

namespace dynperiph::cim::record {

constexpr const char *kFormat = "dynperiph-cim-record";
constexpr int kVersion = 1;

std::string header_line(unsigned op, const std::string &name, const std::string &backend);
std::string run_line(const cim_request &req, const cim_result &res, dp_status status);

// One recorded run, as read back.
struct Entry {
    unsigned line = 0;          // 1-based line in the file
    int dtype = 0;
    uint32_t rows = 0, cols = 0, n_vectors = 0;
    std::vector<int64_t> weights, inputs;
    int status = 0;
    std::vector<uint32_t> outputs;
    cim_metrics metrics{};
    std::string error;
};

// Reads a recording; throws std::runtime_error with a one-line reason ("FILE:LINE: ...").
std::vector<Entry> read(const std::string &path);

// Empty when req equals the entry's request, else the first difference, e.g. "inputs[17] = 5, recorded 4".
std::string first_difference(const cim_request &req, const Entry &e);

} // namespace dynperiph::cim::record
