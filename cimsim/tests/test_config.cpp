// Config keys: parsing, errors naming the key, suggestions, cross-key checks.
#include <gtest/gtest.h>

#include "error_of.hpp"

#include "cimsim/config.hpp"

using namespace cimsim;

TEST(Config, JsonSetsTypedKeys) {
    Config c = config_from_json(R"({"tech_node_nm":5,"cell":"rram","adc_bits":4,"program_sigma":0.1,"seed":"77","on_off_ratio":20})");
    EXPECT_EQ(c.tech_node_nm, 5);
    EXPECT_EQ(c.cell, CellType::Rram);
    EXPECT_EQ(c.adc_bits, 4);
    EXPECT_DOUBLE_EQ(c.program_sigma, 0.1);
    EXPECT_EQ(c.seed, 77u);
    Resolved r = resolve(c);
    EXPECT_NEAR(r.g_off_us, r.g_on_us / 20, 1e-12);
    EXPECT_FALSE(r.adc_lossless);
}

TEST(Config, TomlSetsTypedKeys) {
    Config c;
    apply_toml(c, "cell = \"fefet\"\nbits_per_cell = 2\nadc_range = 0.5\n", "t.toml");
    EXPECT_EQ(c.cell, CellType::Fefet);
    EXPECT_EQ(c.bits_per_cell, 2);
    EXPECT_DOUBLE_EQ(c.adc_range, 0.5);
    EXPECT_NE(error_of([] { Config d; apply_toml(d, "cell = [1]\n", "t.toml"); }).find("'cell' must be a number or a string"), std::string::npos);
    EXPECT_NE(error_of([] { Config d; apply_toml(d, "cell = \n", "t.toml"); }).find("t.toml:1:"), std::string::npos);
}

TEST(Config, UnknownKeySuggestsNearest) {
    EXPECT_EQ(error_of([] { config_from_json(R"({"adc_bitz":4})"); }),
              "cimsim: unknown config key 'adc_bitz' (did you mean 'adc_bits'?)");
    EXPECT_EQ(error_of([] { config_from_json(R"({"completely_else":4})"); }), "cimsim: unknown config key 'completely_else'");
}

TEST(Config, BadValuesNameTheKey) {
    EXPECT_EQ(error_of([] { config_from_json(R"({"adc_bits":"four"})"); }),
              "cimsim: config key 'adc_bits': expected an integer, got 'four'");
    EXPECT_EQ(error_of([] { config_from_json(R"({"adc_bits":4.5})"); }),
              "cimsim: config key 'adc_bits': expected an integer, got '4.5'");
    EXPECT_NE(error_of([] { config_from_json(R"({"cell":"dram"})"); }).find("'cell': expected sram, rram or fefet"), std::string::npos);
    EXPECT_NE(error_of([] { config_from_json(R"({"adc_bits":{"x":1}})"); }).find("'adc_bits' must be a number or a string"), std::string::npos);
    EXPECT_NE(error_of([] { config_from_json("[1,2]"); }).find("expected a JSON object"), std::string::npos);
    EXPECT_NE(error_of([] { config_from_json("{bad json"); }).find("invalid JSON"), std::string::npos);
    // fuzz: a number too large for a double made nlohmann throw out_of_range, which escaped (terminate)
    EXPECT_NE(error_of([] { config_from_json(R"({"clock_mhz":1e400})"); }).find("cimsim: config: invalid JSON ("),
              std::string::npos);
}

TEST(Config, ResolveChecksRangesAndCombinations) {
    auto res = [](const char *json) { return error_of([&] { resolve(config_from_json(json)); }); };
    EXPECT_NE(res(R"({"tech_node_nm":23})").find("'tech_node_nm': 23 is not a known node"), std::string::npos);
    EXPECT_NE(res(R"({"bits_per_cell":9})").find("'bits_per_cell': 9 is outside [1, 8]"), std::string::npos);
    EXPECT_NE(res(R"({"g_off_us":1,"on_off_ratio":10})").find("'on_off_ratio': give either"), std::string::npos);
    EXPECT_NE(res(R"({"weight_bits":16,"subarray_cols":8})").find("'subarray_cols'"), std::string::npos);
    EXPECT_NE(res(R"({"cols_per_adc":3})").find("power of two"), std::string::npos);
    EXPECT_NE(res(R"({"engine":"exact","program_sigma":0.1})").find("'engine'"), std::string::npos);
    EXPECT_NE(res(R"({"stuck_at_0_rate":0.6,"stuck_at_1_rate":0.6})").find("exceeds 1"), std::string::npos);
    EXPECT_EQ(res(R"({"tech_node_nm":1,"cell":"sram"})"), "(no error)");
}

TEST(Config, AutoAdcBitsAreLossless) {
    Config c;
    c.parallel_rows = 64, c.bits_per_cell = 2;  // max partial sum 64·3 = 192 → 8 bits
    Resolved r = resolve(c);
    EXPECT_EQ(r.adc_bits, 8);
    EXPECT_TRUE(r.adc_lossless);
    c.adc_bits = 7;
    EXPECT_FALSE(resolve(c).adc_lossless);
}

TEST(Config, KeyTableListsEveryKey) {
    for (const char *k : {"tech_node_nm", "cell", "g_on_us", "g_off_us", "on_off_ratio", "bits_per_cell", "program_sigma",
                          "read_noise_sigma", "stuck_at_0_rate", "stuck_at_1_rate", "subarray_rows", "subarray_cols",
                          "parallel_rows", "adc_bits", "input_bits", "weight_bits", "clock_mhz", "seed"}) {
        bool found = false;
        for (const auto &ki : config_keys()) found |= ki.name == k;
        EXPECT_TRUE(found) << k;
    }
}
