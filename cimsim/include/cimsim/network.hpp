// Network mode: NeuroSim's NetWork.csv / weight / input files, per-layer and total PPA, functional run.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
//
// Contract:
//  - NetWork.csv rows: IFM_H,IFM_W,IFM_C,K_H,K_W,OFM_C,pool(0/1),stride. A layer maps to a weight matrix of
//    K_H·K_W·IFM_C rows × OFM_C columns (conv via im2col; FC = 1,1,in,1,1,out,0,1). PPA comes from the chip
//    model (chip.hpp): the whole network on one chip, layer-pipelined, as NeuroSim estimates it.
//  - weight CSV: that many rows × OFM_C floats in [−1, 1); quantized as W_int = round(W·2^(wb−1)) clamped to
//    the signed weight_bits range (NeuroSim's fixed-point convention).
//  - input CSV: the same rows × (vectors · input_bits) columns of 0/1; columns v·ib … v·ib+ib−1 are the bits
//    of vector v, MSB (sign, two's complement) first.
//  - Files are optional: without them only PPA is estimated. With them every layer's vectors also run
//    through the functional model, and the layer reports the RMS error against the exact integer MVM.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cimsim/config.hpp"
#include "cimsim/chip.hpp"
#include "cimsim/mapping.hpp"

namespace cimsim {

std::vector<LayerSpec> read_network_csv(const std::string &path);

struct LayerFiles {
    std::string weights, inputs;
};

struct LayerResult {
    LayerSpec spec;
    Activity activity;           // measured from the files (or the generator's expectation without them)
    bool functional = false;     // files were given and run
    std::uint32_t vectors_run = 0;
    double rms_error = 0;        // vs exact integer MVM, in output LSBs (integer units)
    double max_abs_error = 0;
    std::int64_t checksum = 0;   // Σ outputs (wrapping), to compare runs
};

struct NetworkResult {
    std::vector<LayerResult> layers;
    ChipCost chip;               // chip.layers[i] is the cost of layers[i]
    double seconds = 0;          // host wall time of the run
};

using Progress = std::function<void(std::size_t layer, std::size_t layers, const std::string &what)>;

// outputs_dir (optional, needs files): writes every layer's integer outputs to <dir>/output<L>.csv, one line per
// input vector, OFM_C values each.
// neurosim_floorplan: refuse what NeuroSim V1.4 refuses (cimsim neurosim); otherwise a network narrower than
// NeuroSim's smallest tile is laid out on that tile.
NetworkResult run_network(const Resolved &r, const std::vector<LayerSpec> &layers, const std::vector<LayerFiles> &files,
                          const Progress &progress = {}, const std::string &outputs_dir = {}, bool neurosim_floorplan = false);

// Reads every layer's files and measures its data activity (without running the layers).
std::vector<Activity> measure_network_activity(const Resolved &r, const std::vector<LayerSpec> &layers,
                                               const std::vector<LayerFiles> &files);

// Writes NeuroSim-format random files for `layers` into dir (weights uniform in (−1,1) quantized to wb bits,
// inputs random bits). Returns the file names. Used by the benchmark and tests.
std::vector<LayerFiles> write_random_network_files(const std::string &dir, const std::vector<LayerSpec> &layers,
                                                   int weight_bits, int input_bits, std::uint64_t seed,
                                                   std::uint32_t max_vectors = 0);

// The VGG-8 CIFAR-10 network as shipped with NeuroSim (NetWork_VGG8.csv).
std::vector<LayerSpec> vgg8_layers();

}  // namespace cimsim
