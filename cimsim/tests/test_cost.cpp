// Cost model: calibration against the NeuroSim manual's Table VII (VGG-8, CIFAR-10, 8b×8b, 128×128,
// 4-bit ADC, 1 bit/cell) and basic physical trends. Tolerances are the documented residuals
// (cimsim/README.md "Calibration") rounded up; the 22 nm / parallel-64 entries are the fit points.
#include <gtest/gtest.h>

#include <cmath>

#include "cimsim/cost.hpp"
#include "cimsim/network.hpp"

using namespace cimsim;

namespace {
Ppa vgg8(CellType cell, int node, int par, int adc = 4) {
    Config c;
    c.cell = cell, c.tech_node_nm = node, c.parallel_rows = par, c.adc_bits = adc;
    return run_network(resolve(c), vgg8_layers(), {}).total;
}
void expect_within(double got, double want, double tol, const char *what) {
    EXPECT_LE(std::fabs(got / want - 1.0), tol) << what << ": got " << got << ", published " << want;
}
}  // namespace

struct Entry {
    CellType cell;
    int node, par;
    double area_mm2, tops, tops_w;
    double tol_area, tol_tops, tol_tops_w;
};

TEST(Calibration, NeuroSimTableVII) {
    const Entry entries[] = {
        {CellType::Sram, 22, 64, 84.39, 8.01, 17.13, 0.01, 0.01, 0.01},    // fit point
        {CellType::Rram, 22, 64, 378.06, 8.16, 19.88, 0.01, 0.01, 0.01},   // fit point
        {CellType::Sram, 5, 64, 14.33, 11.96, 54.41, 0.25, 0.25, 0.12},    // prediction
        {CellType::Sram, 1, 64, 8.27, 13.08, 105.97, 0.38, 0.40, 0.25},    // prediction
        {CellType::Sram, 22, 32, 85.97, 6.06, 8.76, 0.03, 0.28, 0.18},     // prediction
        {CellType::Rram, 22, 32, 381.90, 6.25, 11.25, 0.03, 0.28, 0.05},   // prediction
    };
    for (const auto &e : entries) {
        SCOPED_TRACE(testing::Message() << (e.cell == CellType::Sram ? "SRAM " : "RRAM ") << e.node << " nm, parallel " << e.par);
        const Ppa p = vgg8(e.cell, e.node, e.par);
        expect_within(p.area() * 1e-6, e.area_mm2, e.tol_area, "area mm²");
        expect_within(p.tops(), e.tops, e.tol_tops, "TOPS");
        expect_within(p.tops_per_w(), e.tops_w, e.tol_tops_w, "TOPS/W");
    }
}

TEST(CostModel, PhysicalTrends) {
    const Ppa base = vgg8(CellType::Sram, 22, 64);
    // fewer ADC bits: less ADC area and energy
    const Ppa adc3 = vgg8(CellType::Sram, 22, 64, 3), adc6 = vgg8(CellType::Sram, 22, 64, 6);
    EXPECT_LT(adc3.area_um2.adc, base.area_um2.adc);
    EXPECT_GT(adc6.energy_pj.adc, base.energy_pj.adc);
    // smaller node: smaller, more efficient
    const Ppa n7 = vgg8(CellType::Sram, 7, 64), n45 = vgg8(CellType::Sram, 45, 64);
    EXPECT_LT(n7.area(), base.area());
    EXPECT_GT(base.area(), 0.0);
    EXPECT_GT(n45.area(), base.area());
    EXPECT_GT(n7.tops_per_w(), base.tops_per_w());
    // non-volatile array does not leak; SRAM does
    EXPECT_EQ(vgg8(CellType::Rram, 22, 64).leakage_uw.array, 0.0);
    EXPECT_GT(base.leakage_uw.array, 0.0);
    // more parallel rows: fewer reads → lower latency and energy
    const Ppa p32 = vgg8(CellType::Sram, 22, 32);
    EXPECT_GT(p32.latency(), base.latency());
    EXPECT_GT(p32.energy(), base.energy());
}

TEST(CostModel, MvmScalesWithVectors) {
    Config c;
    const Resolved r = resolve(c);
    const Mapping m = map_matrix(r, 256, 64);
    const Ppa a = estimate_layer(r, m, 10), b = estimate_layer(r, m, 20), z = estimate_layer(r, m, 0);
    EXPECT_NEAR(b.energy() / a.energy(), 2.0, 0.05);
    EXPECT_GT(b.latency(), a.latency());
    EXPECT_EQ(z.energy(), 0.0);
    EXPECT_GT(z.area(), 0.0);
    EXPECT_EQ(m.tiles(), 2u * 4u);  // 256 rows / 128; 64 weights × 8 cells / 128 columns
}
