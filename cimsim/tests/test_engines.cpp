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

// Analog cells read by 4-row tables (parallel_rows % 4 == 0): the outputs of the chunked, register-blocked
// kernel (analog_lut.cpp) equal, bit for bit, those recorded from the previous, independently written
// implementation (one table per 32-column block, read by read) over shapes that exercise partial 4-row
// blocks, partial column blocks, several row groups per tile, every bits-per-cell width, faults without
// noise and thread counts 1 and 2 (the last case, parallel_rows % 4 ≠ 0, pins the row-by-row reads). A deliberate change to the model changes these fingerprints: record the
// new ones with the change and say so in cimsim/README.md.
TEST(NonIdeal, AnalogTablesMatchRecordedOutputs) {
    struct Case {
        unsigned rows, cols, n, subarray;
        int pr, bpc, wb, ib, adc;
        double ps, rn, sa0, sa1;
        int threads;
        std::uint64_t fingerprint;
    };
    const Case cases[] = {
        {128, 128, 256, 128, 128, 1, 8, 8, 6, 0.05, 0.02, 0.001, 0, 1, 0x5ecb371e6efdf094ull},
        {128, 128, 256, 128, 128, 1, 8, 8, 6, 0.05, 0.02, 0.001, 0, 2, 0x59c6ecbb7d181771ull},
        {1152, 128, 100, 128, 128, 1, 8, 8, 6, 0.05, 0.02, 0.001, 0, 2, 0xf28b2593723e84a3ull},
        {300, 77, 37, 128, 64, 2, 8, 8, 5, 0.05, 0.03, 0.0, 0.002, 2, 0x041b2789db054e37ull},
        {130, 50, 9, 64, 64, 1, 8, 8, 4, 0.1, 0.0, 0.0, 0, 1, 0xca41a7cdfa500320ull},
        {130, 50, 9, 64, 32, 4, 8, 8, 0, 0.1, 0.05, 0.0, 0, 1, 0x4ccae2e3abdb6f6aull},
        {100, 40, 70, 100, 100, 1, 8, 4, 7, 0.05, 0.02, 0, 0, 2, 0xadb15376b6f40b17ull},
        {256, 200, 3, 256, 128, 1, 6, 6, 6, 0.02, 0.0, 0.01, 0.01, 1, 0x2dee59f37f407310ull},
        {4608, 512, 8, 128, 128, 1, 8, 8, 6, 0.05, 0.02, 0.001, 0, 2, 0x7ae70607414e355bull},
        {97, 33, 65, 96, 96, 8, 8, 8, 8, 0.05, 0.02, 0, 0, 2, 0x145afe5a1609de59ull},
        {70, 20, 5, 72, 36, 2, 8, 8, 5, 0.05, 0.02, 0, 0, 1, 0xefc9f0e16f5799ffull},
        {150, 30, 20, 64, 30, 2, 8, 8, 5, 0.05, 0.02, 0.001, 0, 2, 0x60acda246e3d5385ull},  // rows read one by one
    };
    int i = 0;
    for (const Case &k : cases) {
        Config c;
        c.cell = CellType::Rram, c.threads = k.threads, c.subarray_rows = c.subarray_cols = int(k.subarray), c.parallel_rows = k.pr;
        c.bits_per_cell = k.bpc, c.weight_bits = k.wb, c.input_bits = k.ib, c.adc_bits = k.adc, c.program_sigma = k.ps;
        c.read_noise_sigma = k.rn, c.stuck_at_0_rate = k.sa0, c.stuck_at_1_rate = k.sa1, c.seed = std::uint64_t(7 + i);
        std::mt19937_64 g(i);
        std::uniform_int_distribution<int> dw(-(1 << (k.wb - 1)), (1 << (k.wb - 1)) - 1), dx(-(1 << (k.ib - 1)), (1 << (k.ib - 1)) - 1);
        std::vector<std::int32_t> w(std::size_t(k.rows) * k.cols), x(std::size_t(k.n) * k.rows);
        for (auto &v : w) v = dw(g);
        for (auto &v : x) v = (g() % 5 == 0) ? 0 : dx(g);
        std::uint64_t h = 1469598103934665603ull;  // FNV-1a over the outputs
        for (std::int64_t v : run(c, w, x, k.rows, k.cols, k.n)) h = (h ^ std::uint64_t(v)) * 1099511628211ull;
        EXPECT_EQ(h, k.fingerprint) << "case " << i;
        ++i;
    }
}

TEST(NonIdeal, ExactEngineRefusesLossyConfig) {
    Config c;
    c.engine = EngineKind::Exact;
    c.adc_bits = 4;
    EXPECT_THROW(resolve(c), Error);
}
