// CSV input/output. SPDX-License-Identifier: GPL-2.0-or-later OR MIT
//
// Contract: comma-separated numbers, one row per line; blank lines are skipped, a trailing comma and
// trailing whitespace / CR are tolerated. Every row must have the same number of fields. Errors are one
// line naming the file, line and column (1-based): "cimsim: w.csv:3:2: 'abc' is not a number".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cimsim {

struct CsvMatrix {
    std::string path;
    std::uint32_t rows = 0, cols = 0;
    std::vector<double> values;   // row-major
    bool all_integers = true;     // every token was written as an integer (no '.', 'e', "nan", ...)
};

// allow_empty: a file without data rows gives a 0-row matrix instead of an error.
CsvMatrix read_csv(const std::string &path, bool allow_empty = false);
// Parses CSV text (used by read_csv; `name` appears in errors).
CsvMatrix parse_csv(const std::string &text, const std::string &name, bool allow_empty = false);

// Writes rows of integers / floats (%.9g, round-trips float32). Throws Error on I/O failure.
void write_csv_ints(const std::string &path, const std::vector<std::int64_t> &v, std::uint32_t cols);
void write_csv_floats(const std::string &path, const std::vector<float> &v, std::uint32_t cols);

}  // namespace cimsim
