// Weight mapping onto sub-array tiles.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
//
// Contract: a weight matrix of `rows` × `cols` (rows = word lines / inputs, cols = outputs) is cut into
// tiles of subarray_rows × (subarray_cols / slices) weights; each weight occupies `slices` adjacent cell
// columns holding bits_per_cell bits each, least significant slice first. Signed weights use the offset
// (excess-2^(n−1)) code: the cells store W + 2^(weight_bits−1) ∈ [0, 2^weight_bits); the constant
// 2^(weight_bits−1)·Σx is subtracted digitally after shift-and-add (a digital reference column).
#pragma once

#include <cstdint>

#include "cimsim/config.hpp"

namespace cimsim {

struct Mapping {
    std::uint32_t rows = 0, cols = 0;         // weight matrix
    int slices = 0;                           // cells per weight
    std::uint32_t tile_rows = 0;              // word lines per tile (subarray_rows)
    std::uint32_t tile_wcols = 0;             // weights per tile row (subarray_cols / slices)
    std::uint32_t row_tiles = 0, col_tiles = 0;
    std::uint32_t tiles() const { return row_tiles * col_tiles; }
    std::uint32_t groups_per_tile = 0;        // analog reads per input bit per tile = ceil(tile rows / parallel)
    // rows / weight columns actually used by tile (rt, ct)
    std::uint32_t rows_in(std::uint32_t rt) const;
    std::uint32_t wcols_in(std::uint32_t ct) const;
};

Mapping map_matrix(const Resolved &r, std::uint32_t rows, std::uint32_t cols);

}  // namespace cimsim
