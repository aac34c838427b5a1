// One matrix-vector multiplication request, as the CLI and the CIM backend see it.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
//
// Contract: run_functional() maps the weights (Crossbar), runs every input vector and returns the outputs
// in the CIM backend ABI's convention (include/dynperiph/cim_backend.h): y = x^T W, vector after vector.
//  - int8/int16/int32: values are used as they are and must fit the signed weight_bits / input_bits range,
//    otherwise Error names the element (no silent clipping). Output words = the result wrapped to 32 bits.
//  - float32: weights are quantized with one symmetric scale s_w = max|W| / (2^(weight_bits−1) − 1),
//    W_q = round(W/s_w) (ties away from zero), inputs likewise with s_x over all input vectors;
//    output = float(y_int · s_w · s_x). NaN/Inf are rejected. An all-zero tensor uses scale 1.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "cimsim/config.hpp"

namespace cimsim {

enum class Dtype { Int8, Int16, Int32, Float32 };
std::string_view to_string(Dtype d);
std::optional<Dtype> parse_dtype(std::string_view s);

struct MvmProblem {
    Dtype dtype = Dtype::Int32;
    std::uint32_t rows = 0, cols = 0, n_vectors = 0;
    std::vector<double> weights;  // rows × cols
    std::vector<double> inputs;   // n_vectors × rows
};

struct MvmOutput {
    EngineKind engine = EngineKind::Auto;
    std::vector<std::int64_t> ints;  // integer results (before dequantization for float32)
    std::vector<float> floats;       // float32 only
    std::vector<std::uint32_t> words;// ABI output words
    double w_scale = 1.0, x_scale = 1.0;
};

MvmOutput run_functional(const Resolved &r, const MvmProblem &p);

// The integer case without the double-valued MvmProblem: w (rows × cols) and x (n_vectors × rows) already
// hold the int8/int16/int32 values of `dtype` (the range check against weight_bits / input_bits still
// applies). Same outputs as run_functional; used by the in-process backend and the Python bindings.
MvmOutput run_functional_ints(const Resolved &r, Dtype dtype, std::uint32_t rows, std::uint32_t cols,
                              std::uint32_t n_vectors, std::span<const std::int32_t> w, std::span<const std::int32_t> x);

// Quantizes a float tensor to `bits`-bit signed integers with one symmetric scale (see above).
std::vector<std::int32_t> quantize(const std::vector<double> &v, int bits, double &scale, std::string_view what);

}  // namespace cimsim
