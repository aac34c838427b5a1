// NeuroSim's input files for one fully-connected layer (the exec backend's {network_csv},
// {ns_weights_csv}, {ns_inputs_csv} placeholders).
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#pragma once

#include <string>

#include "dynperiph/cim_backend.h"

namespace dynperiph::cim::exec {

struct NeuroSimFiles {
    std::string network; // NetWork.csv: "1,1,<rows>,1,1,<cols>,0,1"
    std::string weights; // rows lines x cols floats in (-1, 1)
    std::string inputs;  // rows lines x (max(n_vectors,1) * input_bits) columns of 0/1, MSB first
};

// Writes the three files into `dir`.
//  weights: w * (1 - 2^-(weight_bits-1)) / max|w| (all 0 if every weight is 0), "%.9g";
//  inputs:  integers clamped to the signed input_bits range, float32 scaled by
//           (2^(input_bits-1) - 1) / max|x| and rounded; then input_bits two's-complement bits,
//           MSB (sign) first; column v*input_bits + b is bit b of vector v. A weights-only request
//           (n_vectors = 0) gets one all-zero vector.
// Returns "" or an error.
std::string write_neurosim_files(const cim_request &req, int weight_bits, int input_bits, const std::string &dir,
                                 NeuroSimFiles &out);

} // namespace dynperiph::cim::exec
