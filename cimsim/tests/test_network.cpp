// Network mode: NetWork.csv parsing, NeuroSim weight/input files, shape errors, functional exactness.
#include <gtest/gtest.h>

#include "error_of.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cimsim/network.hpp"

using namespace cimsim;
namespace fs = std::filesystem;

namespace {
struct TempDir {
    std::string path;
    TempDir() {
        char t[] = "/tmp/cimsim-test-XXXXXX";
        path = mkdtemp(t);
    }
    ~TempDir() { fs::remove_all(path); }
    std::string write(const std::string &name, const std::string &text) const {
        std::ofstream(path + "/" + name) << text;
        return path + "/" + name;
    }
};
}  // namespace

TEST(Network, ReadsNetworkCsv) {
    TempDir d;
    auto p = d.write("NetWork.csv", "32,32,3,3,3,128,0,1\n1,1,8192,1,1,1024,0,1\n");
    auto l = read_network_csv(p);
    ASSERT_EQ(l.size(), 2u);
    EXPECT_EQ(l[0].rows(), 27u);
    EXPECT_EQ(l[0].vectors(), 900u);  // NeuroSim's count: a valid 3×3 convolution, (32−3+1)²
    EXPECT_EQ(l[1].rows(), 8192u);
    EXPECT_EQ(l[1].vectors(), 1u);
    EXPECT_EQ(error_of([&] { read_network_csv(d.write("a.csv", "1,2,3\n")); }),
              "cimsim: " + d.path + "/a.csv:1: has 3 columns, expected 8 (IFM_H,IFM_W,IFM_C,K_H,K_W,OFM_C,pool,stride)");
    EXPECT_NE(error_of([&] { read_network_csv(d.write("b.csv", "32,32,3,3,3,128,2,1\n")); }).find("b.csv:1:7: pool must be"), std::string::npos);
}

TEST(Network, FunctionalRunMatchesHandComputation) {
    TempDir d;
    // One FC layer: 2 inputs → 2 outputs, 4-bit weights/inputs. Weights w/8 → ints: [[4,-8],[1,7]].
    auto net = d.write("NetWork.csv", "1,1,2,1,1,2,0,1\n");
    auto w = d.write("w.csv", "0.5,-1\n0.125,0.875\n");
    // two vectors, MSB first: v0 = (3, -2) → 0011, 1110 ; v1 = (-8, 1) → 1000, 0001
    auto x = d.write("x.csv", "0,0,1,1,1,0,0,0\n1,1,1,0,0,0,0,1\n");
    Config c;
    c.weight_bits = c.input_bits = 4;
    auto res = run_network(resolve(c), read_network_csv(net), {{w, x}});
    ASSERT_TRUE(res.layers[0].functional);
    EXPECT_EQ(res.layers[0].vectors_run, 2u);
    // y0 = 3·[4,-8] + -2·[1,7] = [10, -38]; y1 = -8·[4,-8] + 1·[1,7] = [-31, 71]; Σ = 12
    EXPECT_EQ(res.layers[0].checksum, 10 - 38 - 31 + 71);
    EXPECT_EQ(res.layers[0].rms_error, 0.0);
    c.adc_bits = 1;  // 1-bit ADC over 2 rows: step 2, lossy
    c.parallel_rows = 2;
    auto lossy = run_network(resolve(c), read_network_csv(net), {{w, x}});
    EXPECT_GT(lossy.layers[0].rms_error, 0.0);
}

TEST(Network, FileErrors) {
    TempDir d;
    auto net = d.write("NetWork.csv", "1,1,2,1,1,2,0,1\n");
    Config c;
    c.weight_bits = c.input_bits = 4;
    const Resolved r = resolve(c);
    auto layers = read_network_csv(net);
    auto good_w = d.write("w.csv", "0.5,-1\n0.125,0.875\n");
    auto good_x = d.write("x.csv", "0,0,1,1\n1,1,1,0\n");
    EXPECT_NE(error_of([&] { run_network(r, layers, {{d.write("w3.csv", "0.5,-1,0\n0.1,0.2,0\n"), good_x}}); }).find("is 2×3, expected K_H·K_W·IFM_C × OFM_C = 2×2"), std::string::npos);
    EXPECT_NE(error_of([&] { run_network(r, layers, {{d.write("wb.csv", "0.5,-1\n0.125,1.5\n"), good_x}}); }).find("wb.csv:2:2: weight 1.5"), std::string::npos);
    EXPECT_NE(error_of([&] { run_network(r, layers, {{good_w, d.write("xb.csv", "0,0,1,2\n1,1,1,0\n")}}); }).find("xb.csv:1:4: input bit must be 0 or 1"), std::string::npos);
    EXPECT_NE(error_of([&] { run_network(r, layers, {{good_w, d.write("xc.csv", "0,0,1\n1,1,1\n")}}); }).find("not a multiple of input bits 4"), std::string::npos);
    EXPECT_NE(error_of([&] { run_network(r, layers, {{good_w, d.write("xr.csv", "0,0,1,1\n")}}); }).find("has 1 rows, expected K_H·K_W·IFM_C = 2"), std::string::npos);
    EXPECT_NE(error_of([&] { run_network(r, layers, {{good_w, good_x}, {good_w, good_x}}); }).find("1 layers but 2"), std::string::npos);
}

TEST(Network, RandomFilesRoundTrip) {
    TempDir d;
    std::vector<LayerSpec> layers = {{4, 4, 3, 3, 3, 8, 0, 1}, {1, 1, 16, 1, 1, 4, 0, 1}};
    auto files = write_random_network_files(d.path, layers, 8, 8, 5, 0);
    Config c;
    auto res = run_network(resolve(c), layers, files);
    EXPECT_EQ(res.layers[0].vectors_run, 4u);  // (4−3+1)² output positions
    EXPECT_EQ(res.layers[1].vectors_run, 1u);
    EXPECT_GT(res.chip.chip_area_um2, 0.0);
    EXPECT_GT(res.chip.dyn_energy_pj, 0.0);
}
