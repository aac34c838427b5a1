// The programmed accelerator: weights mapped onto tiles, cell states fixed at program time.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
//
// Contract: construct with integer weights inside the signed weight_bits range (else Error naming the
// element); mvm() takes integer inputs inside the signed input_bits range and returns one int64 per
// output, exact modulo 2^64 in the lossless configuration. Programming variation and stuck-at faults
// are drawn once here (seeded); read noise is drawn per read inside mvm(), from streams keyed by
// (seed, tile, vector), so a given config + data give the same outputs on any number of threads.
//
// Functional pipeline (EngineKind::BitLevel), per tile, per input vector:
//   for each input bit k (LSB first, two's complement: bit input_bits−1 weighs −2^k),
//     for each group of parallel_rows word lines: the active rows (bit k = 1) are summed per cell
//     column in the analog domain: v = Σ (G_cell − g_off)/Δg (+ read noise), Δg = (g_on − g_off)/(2^b − 1);
//     the ADC converts v to code = clamp(round(v/step), 0, 2^adc_bits − 1)
//     (step = max(1, adc_range·parallel_rows·(2^b − 1)/(2^adc_bits − 1)));
//   shift-and-add: T[c] += ±2^k · 2^(b·slice) · code; finally y = step·T − 2^(weight_bits−1)·Σx, rounded.
// EngineKind::Exact evaluates the same sum directly in integer arithmetic (valid because a lossless ADC
// and ideal cells make every step above an identity); tests check both engines agree bit for bit.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "cimsim/config.hpp"
#include "cimsim/mapping.hpp"

namespace cimsim {

struct TileState;

class Crossbar {
public:
    Crossbar(const Resolved &r, std::uint32_t rows, std::uint32_t cols, std::span<const std::int32_t> weights);
    ~Crossbar();
    Crossbar(const Crossbar &) = delete;
    Crossbar &operator=(const Crossbar &) = delete;

    // x: n_vectors × rows; y: n_vectors × cols.
    void mvm(std::span<const std::int32_t> x, std::uint32_t n_vectors, std::span<std::int64_t> y) const;

    const Mapping &mapping() const { return map_; }
    EngineKind engine() const { return engine_; }
    const Resolved &resolved() const { return r_; }
    double adc_step() const { return step_; }

private:
    void mvm_exact(std::span<const std::int32_t> x, std::uint32_t n, std::span<std::int64_t> y) const;
    void mvm_bitlevel(std::span<const std::int32_t> x, std::uint32_t n, std::span<std::int64_t> y) const;

    Resolved r_;
    Mapping map_;
    EngineKind engine_;
    double step_ = 1.0;
    std::int64_t max_code_ = 0;
    std::vector<std::int32_t> w_;                 // exact engine: the integer weights (wide precisions)
    std::vector<std::int16_t> w16_;               // exact engine: the same as int16 when narrow_ (int16 GEMM)
    bool narrow_ = false;
    std::vector<std::int32_t> lut_;               // bit-level, ideal cells: ADC code per integer partial sum
    std::vector<std::unique_ptr<TileState>> tiles_;  // bit-level engine: per-tile cell states
};

// Checks that every value fits `bits`-bit two's complement; throws Error naming `what`, index and value.
void check_range(std::span<const std::int32_t> v, int bits, std::string_view what, std::uint32_t row_len);

}  // namespace cimsim
