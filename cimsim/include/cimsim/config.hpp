// cimsim configuration: one explicit, typed struct passed by value to every component.
//
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
//
// Contract: a Config is plain data. `set_key` / `config_from_json` are the only ways the CLI and the
// in-process backend fill it, so both accept exactly the same keys (see `config_keys()`, which is also
// the source of the key table in cimsim/README.md). `resolve()` checks cross-key constraints and fills
// cell-dependent defaults; every engine and cost function takes a resolved config.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace cimsim {

// Every user-facing error (bad key, bad value, bad CSV, shape mismatch) is a cimsim::Error whose what()
// is one line.
struct Error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

enum class CellType { Sram, Rram, Fefet };
// Exact: integer evaluation of the mapped array (valid only for a lossless configuration).
// BitLevel: full bit-serial / bit-sliced pipeline with ADC and non-idealities.
// Auto: Exact when the configuration is lossless, BitLevel otherwise.
enum class EngineKind { Auto, Exact, BitLevel };

std::string_view to_string(CellType c);
std::string_view to_string(EngineKind e);

struct Config {
    // technology and device
    int tech_node_nm = 22;
    CellType cell = CellType::Sram;
    std::optional<double> g_on_us;       // on (max-level) conductance, µS; default per cell type
    std::optional<double> g_off_us;      // off conductance, µS; default g_on/on_off_ratio
    std::optional<double> on_off_ratio;  // alternative to g_off_us
    int bits_per_cell = 1;
    double program_sigma = 0.0;          // relative σ of each cell's conductance, fixed at program time
    double read_noise_sigma = 0.0;       // relative σ of each cell's current, drawn at every read
    double stuck_at_0_rate = 0.0;        // fraction of cells stuck at g_off
    double stuck_at_1_rate = 0.0;        // fraction of cells stuck at g_on
    // array organisation
    int subarray_rows = 128;
    int subarray_cols = 128;
    int parallel_rows = 128;             // rows activated per analog read (≤ subarray_rows)
    int adc_bits = 0;                    // 0 = lossless (enough bits for parallel_rows·(2^bits_per_cell−1))
    double adc_range = 1.0;              // ADC full scale as a fraction of the largest partial sum
    int cols_per_adc = 8;                // column mux: cell columns sharing one ADC (cost model)
    bool novel_mapping = true;           // chip floorplan: convolutions one kernel position per PE (cost model)
    // precision
    int input_bits = 8;
    int weight_bits = 8;
    // timing, simulation
    double clock_mhz = 0.0;              // chip clock upper bound; 0 = the sensing path sets it (cost model)
    std::uint64_t seed = 1;
    int threads = 0;                     // 0 = hardware concurrency; never changes results
    EngineKind engine = EngineKind::Auto;
};

// A key's value as given (JSON scalar or CLI string converted by the key's type).
enum class KeyType { Int, Uint, Real, String };

struct KeyInfo {
    std::string_view name;
    KeyType type;
    std::string_view default_text;
    std::string_view doc;
};

const std::vector<KeyInfo> &config_keys();

// Sets one key from its text form (CLI flags, TOML/JSON scalars rendered as text). Throws Error naming the
// key: "cimsim: unknown config key 'adc_bitz' (did you mean 'adc_bits'?)",
// "cimsim: config key 'adc_bits': expected an integer, got 'x'".
void set_key(Config &cfg, std::string_view key, std::string_view value);

// Parses a JSON object of keys (the backend's params, or a --config file). Nested objects are rejected.
Config config_from_json(std::string_view json_text, std::string_view origin = "config");
void apply_json(Config &cfg, std::string_view json_text, std::string_view origin = "config");
// Same for a TOML document (a --config file ending in .toml).
void apply_toml(Config &cfg, std::string_view toml_text, std::string_view origin = "config");

// Values derived from a config after validation.
struct Resolved {
    Config cfg;
    double g_on_us = 0, g_off_us = 0;
    int slices = 0;            // cells per weight = ceil(weight_bits / bits_per_cell)
    int weights_per_tile_cols; // subarray_cols / slices
    int parallel_rows;         // min(parallel_rows, subarray_rows)
    int adc_bits;              // actual ADC bits (auto resolved)
    bool adc_lossless;         // ADC reproduces every partial sum exactly
    bool analog_ideal;         // no variation, read noise or stuck-at faults
    double clock_mhz;
    int threads;
};

// Validates ranges and combinations; throws Error naming the key.
Resolved resolve(const Config &cfg);

// Config as a JSON object text (all keys, resolved defaults shown), for reports.
std::string config_to_json(const Config &cfg);

}  // namespace cimsim
