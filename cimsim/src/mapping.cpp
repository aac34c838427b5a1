// Weight mapping onto sub-array tiles.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "cimsim/mapping.hpp"

#include <algorithm>

namespace cimsim {

Mapping map_matrix(const Resolved &r, std::uint32_t rows, std::uint32_t cols) {
    if (rows == 0 || cols == 0) throw Error("cimsim: weight matrix must have at least one row and one column");
    Mapping m;
    m.rows = rows;
    m.cols = cols;
    m.slices = r.slices;
    m.tile_rows = std::uint32_t(r.cfg.subarray_rows);
    m.tile_wcols = std::uint32_t(r.weights_per_tile_cols);
    m.row_tiles = (rows + m.tile_rows - 1) / m.tile_rows;
    m.col_tiles = (cols + m.tile_wcols - 1) / m.tile_wcols;
    m.groups_per_tile = (m.tile_rows + std::uint32_t(r.parallel_rows) - 1) / std::uint32_t(r.parallel_rows);
    return m;
}

std::uint32_t Mapping::rows_in(std::uint32_t rt) const { return std::min(tile_rows, rows - rt * tile_rows); }
std::uint32_t Mapping::wcols_in(std::uint32_t ct) const { return std::min(tile_wcols, cols - ct * tile_wcols); }

}  // namespace cimsim
