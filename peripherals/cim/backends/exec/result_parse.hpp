// Parsers for what a simulator run prints: the exec backend's "json", "csv" and "neurosim" formats.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dynperiph/cim_backend.h"

namespace dynperiph::cim::exec {

enum class Format { Json, Csv, NeuroSim };

struct ParsedResult {
    std::vector<uint32_t> outputs; // output words (int32 two's complement, or float32 bits)
    cim_metrics metrics;           // NaN where not given
};

// Parses `text`. Returns "" or a one-line reason ("malformed JSON output: ...").
std::string parse_output(Format fmt, const std::string &text, cim_dtype dtype, ParsedResult &out);

} // namespace dynperiph::cim::exec
