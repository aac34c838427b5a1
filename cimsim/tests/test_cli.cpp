// End-to-end tests of the built `cimsim` binary.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cimsim/config.hpp"
#include "cimsim/network.hpp"

namespace fs = std::filesystem;

namespace {

struct CliRun {
    int rc;
    std::string out, err;
};

struct TempDir {
    std::string path;
    TempDir() {
        char t[] = "/tmp/cimsim-cli-XXXXXX";
        path = mkdtemp(t);
    }
    ~TempDir() { fs::remove_all(path); }
    std::string write(const std::string &name, const std::string &text) const {
        std::ofstream(path + "/" + name) << text;
        return path + "/" + name;
    }
    std::string read(const std::string &p) const {
        std::ifstream in(p);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
};

CliRun run_cli(const std::string &args, const TempDir &d) {
    const std::string err = d.path + "/stderr.txt";
    const std::string cmd = std::string(CIMSIM_CLI) + " " + args + " 2>" + err;
    FILE *p = popen(cmd.c_str(), "r");
    std::string out;
    std::array<char, 4096> buf;
    std::size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
    const int st = pclose(p);
    CliRun r{WIFEXITED(st) ? WEXITSTATUS(st) : -1, out, d.read(err)};
    fs::remove(err);
    return r;
}

}  // namespace

TEST(Cli, MvmIntegerJsonShape) {
    TempDir d;
    auto w = d.write("w.csv", "1,2,3\n-4,5,6\n");
    auto x = d.write("x.csv", "1,1\n2,-3\n");
    CliRun r = run_cli("mvm --weights " + w + " --inputs " + x + " --json", d);
    ASSERT_EQ(r.rc, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["outputs"], nlohmann::json({-3, 7, 9, 14, -11, -12}));
    for (const char *k : {"latency_ns", "energy_pj", "area_um2", "leakage_uw"}) {
        ASSERT_TRUE(j["metrics"].contains(k)) << k;
        EXPECT_GT(j["metrics"][k].get<double>(), 0.0) << k;
    }
    EXPECT_EQ(j["details"]["engine"], "exact");
}

TEST(Cli, MvmTextOutFileAndFloat) {
    TempDir d;
    auto w = d.write("w.csv", "0.5,-0.25\n1.0,0.75\n");
    auto x = d.write("x.csv", "1,0.5\n");
    CliRun r = run_cli("mvm -w " + w + " -x " + x + " --out " + d.path + "/y.csv", d);
    ASSERT_EQ(r.rc, 0) << r.err;
    EXPECT_NE(r.out.find("float32"), std::string::npos);
    EXPECT_NE(r.out.find("area"), std::string::npos);
    // 8-bit symmetric quantization: y ≈ [1.0, 0.125]
    double a = 0, b = 0;
    ASSERT_EQ(std::sscanf(d.read(d.path + "/y.csv").c_str(), "%lf,%lf", &a, &b), 2);
    EXPECT_NEAR(a, 1.0, 0.02);
    EXPECT_NEAR(b, 0.125, 0.02);
}

TEST(Cli, ConfigFlagsFileAndErrors) {
    TempDir d;
    auto w = d.write("w.csv", "1,2\n3,4\n");
    auto x = d.write("x.csv", "1,1\n");
    auto cfg = d.write("c.toml", "adc_bits = 3\nparallel_rows = 2\n");
    CliRun r = run_cli("mvm -w " + w + " -x " + x + " --config " + cfg + " --json", d);
    ASSERT_EQ(r.rc, 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["details"]["config"]["adc_bits"], 3);
    r = run_cli("mvm -w " + w + " -x " + x + " --config " + cfg + " --adc-bits 5 --json", d);  // flag beats file
    EXPECT_EQ(nlohmann::json::parse(r.out)["details"]["config"]["adc_bits"], 5);

    r = run_cli("mvm -w " + w + " -x " + x + " --adc-bitz 4", d);
    EXPECT_EQ(r.rc, 2);
    EXPECT_EQ(r.err, "cimsim: unknown option '--adc-bitz' (did you mean '--adc-bits'?)\n");
    r = run_cli("mvm -w " + w + " -x " + x + " --config " + d.write("bad.json", R"({"adc_bitz": 4})"), d);
    EXPECT_EQ(r.rc, 1);
    EXPECT_EQ(r.err, "cimsim: unknown config key 'adc_bitz' (did you mean 'adc_bits'?)\n");
    r = run_cli("mvm -w " + w + " -x " + x + " --cell dram", d);
    EXPECT_EQ(r.err, "cimsim: config key 'cell': expected sram, rram or fefet, got 'dram'\n");
    r = run_cli("mvm -w " + d.write("bw.csv", "1,2\n3,y\n") + " -x " + x, d);
    EXPECT_EQ(r.rc, 1);
    EXPECT_EQ(r.err, "cimsim: " + d.path + "/bw.csv:2:2: 'y' is not a finite number\n");
    r = run_cli("mvm -w " + w + " -x " + d.write("x3.csv", "1,1,1\n"), d);
    EXPECT_NE(r.err.find("input vectors have 3 values but"), std::string::npos) << r.err;
    r = run_cli("mvm -w " + w + " -x " + d.write("x9.csv", "1,300\n"), d);
    EXPECT_NE(r.err.find("input [0][1] = 300 does not fit 8-bit"), std::string::npos) << r.err;
    r = run_cli("frobnicate", d);
    EXPECT_EQ(r.rc, 2);
}

TEST(Cli, NetworkAndNeurosimForms) {
    TempDir d;
    // 32 filters × 8 bits = 256 cell columns: the narrowest network NeuroSim's floorplan takes at 64 rows
    std::vector<cimsim::LayerSpec> layers = {{6, 6, 3, 3, 3, 32, 1, 1}, {1, 1, 72, 1, 1, 10, 0, 1}};
    std::string net;
    for (auto &l : layers)
        net += std::to_string(l.ifm_h) + "," + std::to_string(l.ifm_w) + "," + std::to_string(l.ifm_c) + "," +
               std::to_string(l.k_h) + "," + std::to_string(l.k_w) + "," + std::to_string(l.ofm_c) + "," +
               std::to_string(l.pool) + "," + std::to_string(l.stride) + "\n";
    auto netf = d.write("NetWork.csv", net);
    auto files = cimsim::write_random_network_files(d.path, layers, 8, 8, 11);
    std::string pairs;
    for (auto &f : files) pairs += " " + f.weights + " " + f.inputs;

    CliRun r = run_cli("neurosim " + netf + " 8 8 64 32" + pairs + " --adc-bits 5", d);
    ASSERT_EQ(r.rc, 0) << r.err;
    EXPECT_NE(r.out.find("Layer 1"), std::string::npos);
    EXPECT_NE(r.out.find("Layer 2"), std::string::npos);
    EXPECT_NE(r.out.find("TOPS/W"), std::string::npos);
    EXPECT_NE(r.out.find("16 vectors run"), std::string::npos);  // (6−3+1)² output positions
    for (const char *line : {"ChipArea : ", "Chip pipeline-system-clock-cycle (per image) is: ",
                             "Chip pipeline-system readDynamicEnergy (per image) is: ", "Chip pipeline-system leakage Power (per image) is: "})
        EXPECT_NE(r.out.find(std::string("\n") + line), std::string::npos) << line;  // NeuroSim's summary lines

    r = run_cli("network " + netf + pairs + " --json --subarray-rows 64 --subarray-cols 64 --parallel-rows 32 --adc-bits 5", d);
    ASSERT_EQ(r.rc, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j["layers"].size(), 2u);
    EXPECT_GT(j["layers"][0]["functional"]["rms_error"].get<double>(), 0.0);
    for (const char *k : {"area_um2", "latency_ns_per_image", "dyn_energy_pj_per_image", "leakage_uw", "tops_per_w", "tops"})
        EXPECT_GT(j[k].get<double>(), 0.0) << k;
    double e = 0, lat = 0;
    for (auto &l : j["layers"]) e += l["dyn_energy_pj"].get<double>(), lat = std::max(lat, l["latency_ns"].get<double>());
    EXPECT_NEAR(e, j["dyn_energy_pj_per_image"].get<double>(), 1e-6 * e);   // energy: sum over layers
    EXPECT_EQ(lat, j["latency_ns_per_image"].get<double>());                // latency: the slowest stage

    // a floorplan NeuroSim refuses (256 rows need 1024 columns): the same verdict, one line, exit 1
    r = run_cli("neurosim " + netf + " 8 8 256 128" + pairs, d);
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.err.find("cimsim: SubArray Size is too large"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
    EXPECT_EQ(j["layers"][1]["functional"]["checksum"], j["layers"][1]["functional"]["checksum"]);

    // per-layer outputs: layer 2 (FC, 1 vector) has 10 outputs on one line
    r = run_cli("network " + netf + pairs + " --outputs-dir " + d.path, d);
    ASSERT_EQ(r.rc, 0) << r.err;
    const std::string o2 = d.read(d.path + "/output2.csv");
    EXPECT_EQ(std::count(o2.begin(), o2.end(), '\n'), 1);
    EXPECT_EQ(std::count(o2.begin(), o2.end(), ','), 9);
    const std::string o1 = d.read(d.path + "/output1.csv");
    EXPECT_EQ(std::count(o1.begin(), o1.end(), '\n'), 16);  // 4×4 output positions of layer 1

    // PPA only (no files), and odd file count
    r = run_cli("network " + netf + " --json", d);
    ASSERT_EQ(r.rc, 0) << r.err;
    EXPECT_FALSE(nlohmann::json::parse(r.out)["layers"][0].contains("functional"));
    r = run_cli("network " + netf + " " + files[0].weights, d);
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.err.find("come in pairs"), std::string::npos);
    r = run_cli("neurosim " + netf + " 8 8", d);
    EXPECT_EQ(r.rc, 1);
}

TEST(Cli, KeysTable) {
    TempDir d;
    CliRun r = run_cli("keys", d);
    ASSERT_EQ(r.rc, 0);
    for (const auto &k : cimsim::config_keys()) EXPECT_NE(r.out.find("`" + std::string(k.name) + "`"), std::string::npos) << k.name;
}
