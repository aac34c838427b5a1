// MMIO hot path of the register bank (Google Benchmark): guest read/write cost through the dispatch table
// and hooks, for a small map and a CIM-like 256-word array. Not a test; run bin/sdk_bench_register_bank.
#include <benchmark/benchmark.h>

#include "dynperiph/sdk/register_bank.hpp"

using namespace dynperiph;

namespace {

RegisterBank make() {
    RegisterBank b("BENCH");
    b.add("CTRL", 0x00).field("START", 0, 1, Access::WO).field("IE", 1, 1, Access::RW).field("OP", 4, 4, Access::RW);
    b.add("STATUS", 0x04).field("BUSY", 0, 1, Access::RO).field("DONE", 1, 1, Access::W1C);
    b.add("DATA", 0x08);
    b.add_array("ODR", 0x100, 256, 4, 0, Access::RO);
    return b;
}

void BM_ReadPlain(benchmark::State &s) {
    RegisterBank b = make();
    uint64_t v;
    for (auto _ : s) {
        b.read(0x08, 4, v);
        benchmark::DoNotOptimize(v);
    }
}
BENCHMARK(BM_ReadPlain);

void BM_WriteWithFieldHooks(benchmark::State &s) {
    RegisterBank b = make();
    unsigned n = 0;
    b.on_write("CTRL", "START", [&](const WriteEvent &e) { n += e.written; });
    b.on_write("CTRL", [&](const WriteEvent &) { ++n; });
    for (auto _ : s)
        b.write(0x00, 4, 0x13);
    benchmark::DoNotOptimize(n);
}
BENCHMARK(BM_WriteWithFieldHooks);

void BM_ReadArrayHook(benchmark::State &s) {
    RegisterBank b = make();
    b.on_read_array("ODR", [](unsigned i, uint32_t) { return i; });
    uint64_t v;
    uint64_t off = 0;
    for (auto _ : s) {
        b.read(0x100 + off, 4, v);
        off = (off + 4) & 0x3fc;
        benchmark::DoNotOptimize(v);
    }
}
BENCHMARK(BM_ReadArrayHook);

} // namespace

BENCHMARK_MAIN();
