// Functional model: ideal exactness (property tests), engine agreement, non-ideal monotonicity,
// determinism.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "cimsim/crossbar.hpp"
#include "cimsim/mvm.hpp"

using namespace cimsim;

namespace {

std::vector<std::int32_t> rand_ints(std::mt19937_64 &g, std::size_t n, int bits) {
    std::uniform_int_distribution<std::int64_t> d(-(std::int64_t(1) << (bits - 1)), (std::int64_t(1) << (bits - 1)) - 1);
    std::vector<std::int32_t> v(n);
    for (auto &x : v) x = std::int32_t(d(g));
    return v;
}

std::vector<std::int64_t> reference(const std::vector<std::int32_t> &w, const std::vector<std::int32_t> &x,
                                    std::uint32_t rows, std::uint32_t cols, std::uint32_t n) {
    std::vector<std::int64_t> y(std::size_t(n) * cols, 0);
    for (std::uint32_t v = 0; v < n; ++v)
        for (std::uint32_t i = 0; i < rows; ++i)
            for (std::uint32_t j = 0; j < cols; ++j)
                y[std::size_t(v) * cols + j] = std::int64_t(std::uint64_t(y[std::size_t(v) * cols + j]) +
                    std::uint64_t(std::int64_t(x[std::size_t(v) * rows + i])) * std::uint64_t(std::int64_t(w[std::size_t(i) * cols + j])));
    return y;
}

std::vector<std::int64_t> run(const Config &c, const std::vector<std::int32_t> &w, const std::vector<std::int32_t> &x,
                              std::uint32_t rows, std::uint32_t cols, std::uint32_t n) {
    Crossbar xb(resolve(c), rows, cols, w);
    std::vector<std::int64_t> y(std::size_t(n) * cols);
    xb.mvm(x, n, y);
    return y;
}

}  // namespace

// Ideal configuration (adc_bits = 0 → lossless, no variation/noise/faults): both engines give exactly
// x^T W for random shapes, precisions, sub-array sizes, parallel rows and bits per cell.
TEST(Functional, IdealExactRandomProperty) {
    std::mt19937_64 g(12345);
    for (int trial = 0; trial < 60; ++trial) {
        Config c;
        const int sizes[] = {8, 16, 32, 64, 128, 256};
        c.subarray_rows = sizes[g() % 6];
        c.subarray_cols = sizes[g() % 6];
        c.parallel_rows = 1 + int(g() % c.subarray_rows);
        c.bits_per_cell = 1 + int(g() % 4);
        const int bits_choices[] = {1, 2, 4, 8, 8, 8, 12, 16, 24, 32};
        c.weight_bits = bits_choices[g() % 10];
        c.input_bits = bits_choices[g() % 10];
        if ((c.weight_bits + c.bits_per_cell - 1) / c.bits_per_cell > c.subarray_cols) c.subarray_cols = 256;
        c.threads = 1 + int(g() % 3);
        const std::uint32_t rows = 1 + std::uint32_t(g() % 300), cols = 1 + std::uint32_t(g() % 70), n = std::uint32_t(g() % 6);
        auto w = rand_ints(g, std::size_t(rows) * cols, c.weight_bits);
        auto x = rand_ints(g, std::size_t(n) * rows, c.input_bits);
        const auto ref = reference(w, x, rows, cols, n);
        SCOPED_TRACE(testing::Message() << "trial " << trial << " rows " << rows << " cols " << cols << " n " << n
                                        << " sub " << c.subarray_rows << "x" << c.subarray_cols << " par " << c.parallel_rows
                                        << " bpc " << c.bits_per_cell << " wb " << c.weight_bits << " ib " << c.input_bits);
        c.engine = EngineKind::Exact;
        EXPECT_EQ(run(c, w, x, rows, cols, n), ref);
        c.engine = EngineKind::BitLevel;
        EXPECT_EQ(run(c, w, x, rows, cols, n), ref);
    }
}

// The same through the request API for every integer dtype (ABI words = 32-bit wrap).
TEST(Functional, IdealExactDtypes) {
    std::mt19937_64 g(7);
    for (Dtype d : {Dtype::Int8, Dtype::Int16, Dtype::Int32}) {
        Config c;
        c.weight_bits = c.input_bits = d == Dtype::Int8 ? 8 : d == Dtype::Int16 ? 16 : 32;
        c.subarray_rows = 64, c.subarray_cols = 64, c.parallel_rows = 32, c.bits_per_cell = 2;
        for (EngineKind e : {EngineKind::Exact, EngineKind::BitLevel}) {
            c.engine = e;
            MvmProblem p;
            p.dtype = d, p.rows = 77, p.cols = 13, p.n_vectors = 3;
            auto w = rand_ints(g, 77 * 13, c.weight_bits), x = rand_ints(g, 3 * 77, c.input_bits);
            p.weights.assign(w.begin(), w.end());
            p.inputs.assign(x.begin(), x.end());
            auto out = run_functional(resolve(c), p);
            auto ref = reference(w, x, 77, 13, 3);
            for (std::size_t i = 0; i < ref.size(); ++i) EXPECT_EQ(out.words[i], std::uint32_t(std::uint64_t(ref[i]))) << i;
        }
    }
}

TEST(Functional, OutOfRangeIsAnError) {
    Config c;  // 8-bit weights and inputs
    MvmProblem p;
    p.dtype = Dtype::Int32, p.rows = 2, p.cols = 2, p.n_vectors = 1;
    p.weights = {1, 2, 300, 4};
    p.inputs = {1, 1};
    try {
        run_functional(resolve(c), p);
        FAIL();
    } catch (const Error &e) {
        EXPECT_NE(std::string(e.what()).find("weight [1][0] = 300 does not fit 8-bit"), std::string::npos) << e.what();
    }
    p.weights = {1, 2, 3, 4};
    p.inputs = {1, -129};
    EXPECT_THROW(run_functional(resolve(c), p), Error);
    p.inputs = {1.5, 1};
    EXPECT_THROW(run_functional(resolve(c), p), Error);
}

TEST(Functional, Float32QuantizedWithinHalfStep) {
    Config c;
    MvmProblem p;
    p.dtype = Dtype::Float32, p.rows = 40, p.cols = 5, p.n_vectors = 2;
    std::mt19937_64 g(3);
    std::uniform_real_distribution<double> u(-1, 1);
    for (int i = 0; i < 200; ++i) p.weights.push_back(u(g));
    for (int i = 0; i < 80; ++i) p.inputs.push_back(u(g));
    auto out = run_functional(resolve(c), p);
    for (std::uint32_t v = 0; v < 2; ++v)
        for (std::uint32_t j = 0; j < 5; ++j) {
            double exact = 0;
            for (std::uint32_t i = 0; i < 40; ++i) exact += p.inputs[v * 40 + i] * p.weights[i * 5 + j];
            EXPECT_NEAR(out.floats[v * 5 + j], exact, 40 * 1.0 / 127) << v << "," << j;  // ≤ rows·(|x|+|w|)·step/2
        }
}

namespace {
// RMS error of a non-ideal config against the exact MVM, averaged over `seeds` seeds.
double rms_error(Config c, int seeds, std::uint32_t rows = 256, std::uint32_t cols = 32, std::uint32_t n = 8) {
    std::mt19937_64 g(99);
    auto w = rand_ints(g, std::size_t(rows) * cols, c.weight_bits);
    auto x = rand_ints(g, std::size_t(n) * rows, c.input_bits);
    auto ref = reference(w, x, rows, cols, n);
    double se = 0;
    for (int s = 0; s < seeds; ++s) {
        c.seed = 1000 + s;
        auto y = run(c, w, x, rows, cols, n);
        for (std::size_t i = 0; i < y.size(); ++i) se += double(y[i] - ref[i]) * double(y[i] - ref[i]);
    }
    return std::sqrt(se / (double(seeds) * double(ref.size())));
}
}  // namespace

TEST(NonIdeal, ErrorGrowsAsAdcBitsShrink) {
    Config c;
    c.parallel_rows = 128;
    double prev = -1;
    for (int bits : {8, 7, 6, 5, 4, 3}) {
        c.adc_bits = bits;
        const double e = rms_error(c, 1);
        if (bits == 8) EXPECT_EQ(e, 0.0);  // 8 bits ≥ log2(129): lossless
        else EXPECT_GT(e, prev * 1.3) << bits;
        prev = e;
    }
}

TEST(NonIdeal, ErrorGrowsWithVariationAndNoise) {
    Config c;
    c.cell = CellType::Rram;
    c.bits_per_cell = 2;
    double prev = 0;
    for (double sigma : {0.01, 0.03, 0.1, 0.3}) {
        c.program_sigma = sigma;
        const double e = rms_error(c, 4);
        EXPECT_GT(e, prev * 1.5) << sigma;
        prev = e;
    }
    c.program_sigma = 0;
    prev = 0;
    for (double sigma : {0.01, 0.05, 0.2}) {
        c.read_noise_sigma = sigma;
        const double e = rms_error(c, 4);
        EXPECT_GT(e, prev * 1.5) << sigma;
        prev = e;
    }
    c.read_noise_sigma = 0;
    prev = 0;
    for (double rate : {0.001, 0.01, 0.1}) {
        c.stuck_at_0_rate = c.stuck_at_1_rate = rate;
        const double e = rms_error(c, 4);
        EXPECT_GT(e, prev * 1.5) << rate;
        prev = e;
    }
}

TEST(NonIdeal, DeterministicForSeedAndThreadCount) {
    Config c;
    c.program_sigma = 0.05, c.read_noise_sigma = 0.02, c.stuck_at_0_rate = 0.01, c.adc_bits = 5, c.seed = 42;
    std::mt19937_64 g(5);
    auto w = rand_ints(g, 300 * 40, 8), x = rand_ints(g, 20 * 300, 8);
    c.threads = 1;
    auto a = run(c, w, x, 300, 40, 20);
    c.threads = 2;
    auto b = run(c, w, x, 300, 40, 20);
    c.threads = 3;
    auto b3 = run(c, w, x, 300, 40, 20);
    EXPECT_EQ(a, b);
    EXPECT_EQ(a, b3);
    c.seed = 43;
    auto d = run(c, w, x, 300, 40, 20);
    EXPECT_NE(a, d);
}

TEST(NonIdeal, ExactEngineRefusesLossyConfig) {
    Config c;
    c.engine = EngineKind::Exact;
    c.adc_bits = 4;
    EXPECT_THROW(resolve(c), Error);
}
