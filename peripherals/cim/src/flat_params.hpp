// A small reader for a backend's params when they are a flat table of scalars (the JSON text the cim
// config's [op.params] table becomes), for backends that want to stay quick to compile (no JSON library).
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#pragma once

#include <string>
#include <vector>

namespace dynperiph::cim {

struct FlatParam {
    enum Kind { Number, String, Bool, Other } kind = Other; // Other: an array, a table or null
    std::string key;
    double number = 0;  // Number
    std::string text;   // String (unescaped)
    bool boolean = false;
};

// Parses a JSON object; values that are arrays/objects/null are returned as Other (so the caller can
// name the key). Throws std::runtime_error ("params are not a JSON object: ..." naming the position) on
// malformed text.
std::vector<FlatParam> parse_flat_params(const char *json);

} // namespace dynperiph::cim
