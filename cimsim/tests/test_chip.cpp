// Chip model: the floorplan against NeuroSim V1.4's own printout (reference grid values), its refusals, and
// the composition rules (pipeline latency, energy sum, leakage of a one-layer chip, TOPS/W definition).
#include <gtest/gtest.h>

#include "error_of.hpp"

#include <functional>

#include "cimsim/chip.hpp"
#include "cimsim/network.hpp"

using namespace cimsim;

namespace {
Resolved cfg(int wb, int rows, int par, bool novel = false, CellType cell = CellType::Sram) {
    Config c;
    c.weight_bits = c.input_bits = wb, c.subarray_rows = rows, c.parallel_rows = par, c.adc_bits = 5;
    c.novel_mapping = novel, c.cell = cell;
    return resolve(c);
}
const std::vector<LayerSpec> kMlp2 = {{1, 1, 784, 1, 1, 128, 0, 1}, {1, 1, 128, 1, 1, 10, 0, 1}};
const std::vector<LayerSpec> kCnn3 = {{16, 16, 1, 3, 3, 16, 1, 1}, {8, 8, 16, 3, 3, 32, 1, 1}, {1, 1, 512, 1, 1, 10, 0, 1}};
}  // namespace

TEST(ChipMap, MatchesNeuroSimFloorplans) {
    // MLP2, 8 bit, 64-row sub-arrays: tile 512, PE 256; layer 1 on 4 tiles, layer 2 copied 16× (grid: 4, 1, 0.766 / 1, 16, 0.625)
    ChipPlacement p = map_chip(cfg(8, 64, 64), kMlp2);
    EXPECT_EQ(p.tile_side, 512u);
    EXPECT_EQ(p.layers[0].tiles, 4u);
    EXPECT_EQ(p.layers[0].speedup, 1u);
    EXPECT_NEAR(p.layers[0].utilization, 0.765625, 1e-9);
    EXPECT_EQ(p.layers[1].speedup, 16u);
    EXPECT_NEAR(p.layers[1].utilization, 0.625, 1e-9);
    EXPECT_NEAR(p.utilization, 0.7375, 1e-9);  // "Memory Utilization of Whole Chip: 73.75%"
    // 128 rows: tile 1024, layer 2 copied 64×
    p = map_chip(cfg(8, 128, 128), kMlp2);
    EXPECT_EQ(p.tile_side, 1024u);
    EXPECT_EQ(p.layers[1].speedup, 64u);
    // CNN3 with novel mapping, 8 bit, 64 rows: layer 2 on 3×3 PEs of 256 ("9x256x256"), speed-up 4
    p = map_chip(cfg(8, 64, 64, true), kCnn3);
    EXPECT_EQ(p.novel_pe_side, 256u);
    EXPECT_FALSE(p.layers[0].novel);
    EXPECT_TRUE(p.layers[1].novel);
    EXPECT_EQ(p.layers[1].speedup, 4u);
    EXPECT_NEAR(p.layers[1].utilization, 0.25, 1e-9);
    EXPECT_EQ(p.layers[2].tiles, 2u);
    // the pipeline speed-up degree: VGG-8's first layer gets whole-tile replicas (2 tiles, speed-up 16)
    p = map_chip(cfg(8, 128, 128, true), vgg8_layers());
    EXPECT_EQ(p.layers[0].tiles, 2u);
    EXPECT_EQ(p.layers[0].speedup, 16u);
}

TEST(ChipMap, RefusesWhatNeuroSimRefuses) {
    // 4-bit MLP2 on 256-row sub-arrays: 128·4 = 512 cell columns < 4 · 256
    EXPECT_NE(error_of([] { map_chip(cfg(4, 256, 128), kMlp2); }).find("cimsim: SubArray Size is too large"), std::string::npos);
    EXPECT_EQ(error_of([] { map_chip(cfg(4, 256, 128), kMlp2, false); }), "(no error)");  // the MVM path lays it out
    EXPECT_NE(error_of([] { map_chip(cfg(4, 128, 128, true), kCnn3); }).find("with novel mapping"), std::string::npos);
    Config c;
    c.cell = CellType::Rram, c.tech_node_nm = 14;
    EXPECT_NE(error_of([&] { estimate_chip(resolve(c), vgg8_layers()); }).find("14 nm or below"), std::string::npos);
}

TEST(ChipCost, CompositionRules) {
    const ChipCost c = estimate_chip(cfg(8, 128, 128, true), kCnn3);
    double e = 0, lat = 0;
    for (const auto &l : c.layers) e += l.energy_pj.total(), lat = std::max(lat, l.latency_ns.total());
    EXPECT_DOUBLE_EQ(c.latency_ns, lat);                 // pipelined: the slowest stage
    EXPECT_NEAR(c.dyn_energy_pj, e, 1e-9 * e);           // energy: the sum of the layers
    EXPECT_NEAR(c.leakage_energy_pj, c.leakage_uw * c.latency_ns * 1e-3, 1e-12);
    EXPECT_NEAR(c.tops_per_w(), c.ops / (c.dyn_energy_pj + c.leakage_energy_pj) / 1.22, 1e-12);
    EXPECT_DOUBLE_EQ(c.ops, 673792.0);                   // NeuroSim's count for CNN3
    // a one-layer chip is always busy: SRAM leaks its unsensed cells only, RRAM cells not at all
    const std::vector<LayerSpec> fc = {{1, 1, 128, 1, 1, 128, 0, 1}};
    EXPECT_DOUBLE_EQ(estimate_chip(cfg(8, 128, 128), fc).leakage_uw, estimate_chip(cfg(8, 128, 128), fc).layers[0].busy_leakage_uw);
    EXPECT_EQ(estimate_chip(cfg(8, 128, 128, false, CellType::Rram), fc).leakage_uw, 0.0);
}
