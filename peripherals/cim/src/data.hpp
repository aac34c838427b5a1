// Element types, CSV files and the reference MVM shared by the cim plugin, its backends and tests.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dynperiph/cim_backend.h"

namespace dynperiph::cim {

// Bytes per element of `t`; 0 for a value that is no cim_dtype.
size_t dtype_size(uint32_t t);
// "int8", "int16", "int32", "float32", or "?".
const char *dtype_name(uint32_t t);

// Element `i` of a little-endian array of dtype `t`, as a double (exact for every integer type).
double element(const void *data, cim_dtype t, size_t i);

// Writes `nrows` lines of `ncols` comma-separated values (integers as decimal, float32 as %.9g) to
// `path`. Returns false (and sets `err`) on an I/O error.
bool write_matrix_csv(const std::string &path, const void *data, cim_dtype t, size_t nrows, size_t ncols,
                      std::string &err);

// Writes <dir>/weights.csv and (when n_vectors > 0) <dir>/inputs.csv for `req` as the ABI describes and
// points req.weights_csv / req.inputs_csv at them (`storage` keeps the path strings alive).
bool write_request_csvs(cim_request &req, const std::string &dir, std::string (&storage)[2], std::string &err);

// y[v][j] = sum_i x[v][i] * W[i][j] in the ABI's output-word convention (wrapping int32 for integer
// types, float32 bits for CIM_DTYPE_FLOAT32, accumulated in float in the order i = 0..rows-1).
std::vector<uint32_t> reference_mvm(const cim_request &req);

} // namespace dynperiph::cim
