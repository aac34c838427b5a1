// Functional MVM throughput (simulated MAC/s) across sizes, non-ideality settings and thread counts.
// Run: build-cimsim/bin/cimsim_bench   (items_per_second = simulated 8b×8b MACs per second)
#include <benchmark/benchmark.h>

#include "cimsim/chip.hpp"
#include "cimsim/network.hpp"

#include <random>

#include "cimsim/crossbar.hpp"
#include "cimsim/network.hpp"

using namespace cimsim;

namespace {

enum Mode { kIdealExact, kIdealBitLevel, kAdc4, kAdc4Pr64, kVariationNoise };

Config make_config(int mode, int threads) {
    Config c;
    c.threads = threads;
    switch (mode) {
    case kIdealExact: break;
    case kIdealBitLevel: c.engine = EngineKind::BitLevel; break;
    case kAdc4: c.adc_bits = 4; break;
    case kAdc4Pr64: c.adc_bits = 4, c.parallel_rows = 64; break;
    case kVariationNoise:
        c.cell = CellType::Rram, c.adc_bits = 6, c.program_sigma = 0.05, c.read_noise_sigma = 0.02, c.stuck_at_0_rate = 0.001;
        break;
    }
    return c;
}

void BM_Mvm(benchmark::State &st) {
    const auto rows = std::uint32_t(st.range(0)), cols = std::uint32_t(st.range(1)), n = std::uint32_t(st.range(2));
    const int mode = int(st.range(3)), threads = int(st.range(4));
    const Resolved r = resolve(make_config(mode, threads));
    std::mt19937_64 g(1);
    std::uniform_int_distribution<int> d(-128, 127);
    std::vector<std::int32_t> w(std::size_t(rows) * cols), x(std::size_t(n) * rows);
    for (auto &v : w) v = d(g);
    for (auto &v : x) v = d(g);
    Crossbar xb(r, rows, cols, w);
    std::vector<std::int64_t> y(std::size_t(n) * cols);
    for (auto _ : st) {
        xb.mvm(x, n, y);
        benchmark::DoNotOptimize(y.data());
    }
    st.SetItemsProcessed(std::int64_t(st.iterations()) * rows * cols * n);
    static const char *names[] = {"ideal-exact", "ideal-bitlevel", "adc4-par128", "adc4-par64", "rram-var5%-noise2%-adc6"};
    st.SetLabel(std::string(names[mode]) + " t=" + std::to_string(threads));
}

void Args(benchmark::internal::Benchmark *b) {
    for (int mode : {kIdealExact, kIdealBitLevel, kAdc4, kAdc4Pr64, kVariationNoise})
        for (int threads : {1, 2}) {
            b->Args({128, 128, 256, mode, threads});
            b->Args({1152, 128, 256, mode, threads});  // VGG-8 layer 2 shape
            b->Args({4608, 512, 64, mode, threads});   // VGG-8 layer 6 shape
        }
}

// PPA-only evaluation as a design-space sweep does it: resolve a config, map and estimate every VGG-8 layer
// through the network API (items_per_second = layer evaluations per second, one thread).
void BM_PpaLayers(benchmark::State &st) {
    const std::vector<LayerSpec> layers = vgg8_layers();
    Config c;
    c.adc_bits = 4, c.parallel_rows = 64, c.threads = 1;
    std::uint64_t k = 0;
    for (auto _ : st) {
        c.subarray_rows = c.subarray_cols = 64 << (k % 3), c.tech_node_nm = (k & 1) ? 22 : 7, ++k;  // vary the point
        const NetworkResult n = run_network(resolve(c), layers, {});
        benchmark::DoNotOptimize(n.chip);
    }
    st.SetItemsProcessed(std::int64_t(st.iterations()) * std::int64_t(layers.size()));
    st.SetLabel("vgg8 ppa-only");
}

}  // namespace

BENCHMARK(BM_PpaLayers)->UseRealTime();
BENCHMARK(BM_Mvm)->Apply(Args)->Unit(benchmark::kMillisecond)->UseRealTime();
// PPA of NeuroSim's VGG-8 at its shipped settings (chip model only, no data): the figure behind
// "VGG-8 PPA in milliseconds".
static void BM_Vgg8Ppa(benchmark::State &st) {
    cimsim::Config c;
    c.adc_bits = 5;
    const cimsim::Resolved r = cimsim::resolve(c);
    const auto layers = cimsim::vgg8_layers();
    for (auto _ : st) benchmark::DoNotOptimize(cimsim::estimate_chip(r, layers).tops_per_w());
}
BENCHMARK(BM_Vgg8Ppa)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
