// Cost model: the MVM cost (one matrix as a one-layer chip) and physical trends of the chip model.
// Agreement with the real NeuroSim is checked by validation/validate_neurosim.py (ctest cimsim.neurosim_validation).
#include <gtest/gtest.h>

#include <cmath>

#include "cimsim/cost.hpp"
#include "cimsim/network.hpp"

using namespace cimsim;

namespace {
ChipCost vgg8(CellType cell, int node, int par, int adc = 5) {
    Config c;
    c.cell = cell, c.tech_node_nm = node, c.parallel_rows = par, c.adc_bits = adc;
    return estimate_chip(resolve(c), vgg8_layers());
}
}  // namespace

TEST(CostModel, PhysicalTrends) {
    const ChipCost base = vgg8(CellType::Sram, 22, 128);
    const ChipCost adc4 = vgg8(CellType::Sram, 22, 128, 4), adc6 = vgg8(CellType::Sram, 22, 128, 6);
    EXPECT_LT(adc4.area_um2.adc, base.area_um2.adc);
    EXPECT_GT(adc6.dyn_energy_pj, base.dyn_energy_pj);
    const ChipCost n45 = vgg8(CellType::Sram, 45, 128), n14 = vgg8(CellType::Sram, 14, 128);
    EXPECT_GT(n45.chip_area_um2, base.chip_area_um2);
    EXPECT_LT(n14.chip_area_um2, base.chip_area_um2);
    EXPECT_GT(base.tops_per_w(), n45.tops_per_w());
    // more parallel rows: fewer row groups read in turn → fewer ADC cycles per image
    const ChipCost p64 = vgg8(CellType::Sram, 22, 64);
    EXPECT_GT(p64.latency_ns, base.latency_ns);
}

TEST(CostModel, MvmScalesWithVectors) {
    Config c;
    const Resolved r = resolve(c);
    const Ppa a = estimate_mvm(r, 256, 64, 10), b = estimate_mvm(r, 256, 64, 20), z = estimate_mvm(r, 256, 64, 0);
    EXPECT_NEAR(b.energy() / a.energy(), 2.0, 1e-9);
    EXPECT_NEAR(b.latency() / a.latency(), 2.0, 1e-9);
    EXPECT_EQ(z.energy(), 0.0);
    EXPECT_GT(z.area(), 0.0);
    EXPECT_GT(a.leakage(), 0.0);
}

TEST(CostModel, MvmNarrowerThanATile) {
    // 65 × 10 int16 weights: 160 cell columns, less than NeuroSim's 4·R-wide smallest tile. NeuroSim refuses
    // such a network; the peripheral's single MVM is laid out on the smallest tile.
    Config c;
    c.weight_bits = 16, c.input_bits = 16, c.cell = CellType::Rram;
    const Ppa p = estimate_mvm(resolve(c), 65, 10, 24);
    EXPECT_GT(p.latency(), 0.0);
    EXPECT_GT(p.energy(), 0.0);
    EXPECT_EQ(p.leakage(), 0.0);  // RRAM cells do not leak; a one-layer chip is always busy
}
