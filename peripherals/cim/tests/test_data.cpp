// Reference MVM, CSV writer, NeuroSim file writer, work dir cleanup.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include <sys/stat.h>

#include <filesystem>

#include "flat_params.hpp"
#include "neurosim_files.hpp"
#include "test_util.hpp"

using namespace cimtest;
using namespace dynperiph::cim;

TEST(CimData, ReferenceMvmInt8WrapsInt32) {
    // 2x3 weights, 2 vectors
    Job j(CIM_DTYPE_INT8, 2, 3, std::vector<int8_t>{1, -2, 3, 4, 5, -128}, std::vector<int8_t>{2, 1, -1, 127});
    auto y = j.expected();
    ASSERT_EQ(y.size(), 6u);
    EXPECT_EQ(int32_t(y[0]), 2 * 1 + 1 * 4);
    EXPECT_EQ(int32_t(y[1]), 2 * -2 + 1 * 5);
    EXPECT_EQ(int32_t(y[2]), 2 * 3 + 1 * -128);
    EXPECT_EQ(int32_t(y[3]), -1 * 1 + 127 * 4);
    EXPECT_EQ(int32_t(y[5]), -1 * 3 + 127 * -128);
    Job big(CIM_DTYPE_INT32, 2, 1, std::vector<int32_t>{0x40000000, 0x40000000}, std::vector<int32_t>{2, 2});
    EXPECT_EQ(big.expected()[0], 0u); // 2^31 + 2^31 wraps to 0
}

TEST(CimData, ReferenceMvmFloat) {
    Job j(CIM_DTYPE_FLOAT32, 2, 1, std::vector<float>{0.5f, -1.25f}, std::vector<float>{2.0f, 4.0f});
    float f;
    uint32_t w = j.expected()[0];
    std::memcpy(&f, &w, 4);
    EXPECT_FLOAT_EQ(f, 1.0f - 5.0f);
}

TEST(CimData, CsvFormats) {
    WorkDir d;
    std::string err;
    ASSERT_TRUE(d.create(err));
    std::vector<int16_t> v{-32768, 7, 32767, 0};
    ASSERT_TRUE(write_matrix_csv(d.file("a.csv"), v.data(), CIM_DTYPE_INT16, 2, 2, err)) << err;
    EXPECT_EQ(read_file(d.file("a.csv")), "-32768,7\n32767,0\n");
    std::vector<float> f{0.1f, -3.0f};
    ASSERT_TRUE(write_matrix_csv(d.file("f.csv"), f.data(), CIM_DTYPE_FLOAT32, 1, 2, err));
    EXPECT_EQ(read_file(d.file("f.csv")), "0.100000001,-3\n");
    // never overwrites (exclusive create)
    EXPECT_FALSE(write_matrix_csv(d.file("a.csv"), v.data(), CIM_DTYPE_INT16, 2, 2, err));
    EXPECT_NE(err.find("cannot create"), std::string::npos);
}

TEST(CimData, NeuroSimFiles) {
    WorkDir d;
    std::string err;
    ASSERT_TRUE(d.create(err));
    Job j(CIM_DTYPE_INT8, 3, 2, std::vector<int8_t>{64, -128, 0, 32, 127, -1}, std::vector<int8_t>{1, -1, 5, 0, 0, 0});
    exec::NeuroSimFiles ns;
    ASSERT_EQ(exec::write_neurosim_files(j.request(), 8, 4, d.path(), ns), "");
    EXPECT_EQ(read_file(ns.network), "1,1,3,1,1,2,0,1\n");
    // max|w| = 128 -> scale (1 - 2^-7) / 128
    const double s = (1 - 1.0 / 128) / 128;
    char line[200];
    std::snprintf(line, sizeof line, "%.9g,%.9g\n%.9g,%.9g\n%.9g,%.9g\n", 64 * s, -128 * s, 0.0, 32 * s, 127 * s, -1 * s);
    EXPECT_EQ(read_file(ns.weights), line);
    // inputs: 3 rows x (2 vectors * 4 bits); row i = element i of each vector, MSB first
    //  v0 = (1, -1, 5), v1 = (0, 0, 0); 4-bit two's complement: 1 = 0001, -1 = 1111, 5 = 0101
    EXPECT_EQ(read_file(ns.inputs), "0,0,0,1,0,0,0,0\n1,1,1,1,0,0,0,0\n0,1,0,1,0,0,0,0\n");

    // clamping to the input_bits range; weights-only request gets one zero vector
    WorkDir d2;
    ASSERT_TRUE(d2.create(err));
    Job k(CIM_DTYPE_INT16, 1, 1, std::vector<int16_t>{0}, std::vector<int16_t>{300});
    ASSERT_EQ(exec::write_neurosim_files(k.request(), 8, 4, d2.path(), ns), "");
    EXPECT_EQ(read_file(ns.inputs), "0,1,1,1\n");
    EXPECT_EQ(read_file(ns.weights), "0\n");
    WorkDir d3;
    ASSERT_TRUE(d3.create(err));
    Job p(CIM_DTYPE_INT16, 2, 1, std::vector<int16_t>{1, 2}, std::vector<int16_t>{});
    ASSERT_EQ(exec::write_neurosim_files(p.request(), 8, 2, d3.path(), ns), "");
    EXPECT_EQ(read_file(ns.inputs), "0,0\n0,0\n");
}

TEST(CimData, WorkDirRemovesEverythingEvenReadOnlyDirs) {
    std::string path;
    {
        WorkDir d;
        std::string err;
        ASSERT_TRUE(d.create(err)) << err;
        path = d.path();
        struct stat st;
        ASSERT_EQ(stat(path.c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 0777, 0700u);
        std::filesystem::create_directories(path + "/a/b");
        write_file(path + "/a/b/f", "x");
        chmod((path + "/a/b").c_str(), 0500);
        chmod((path + "/a").c_str(), 0000);
    }
    EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(CimData, WorkDirHonoursTmpdir) {
    WorkDir base;
    std::string err;
    ASSERT_TRUE(base.create(err));
    const char *old = getenv("TMPDIR");
    std::string saved = old ? old : "";
    setenv("TMPDIR", base.path().c_str(), 1);
    {
        WorkDir d;
        ASSERT_TRUE(d.create(err));
        EXPECT_EQ(d.path().rfind(base.path() + "/dynperiph-cim-", 0), 0u) << d.path();
    }
    setenv("TMPDIR", "/nonexistent-dir", 1);
    {
        WorkDir d;
        EXPECT_FALSE(d.create(err));
        EXPECT_NE(err.find("cannot create a temporary directory /nonexistent-dir/dynperiph-cim-XXXXXX"), std::string::npos);
    }
    if (old)
        setenv("TMPDIR", saved.c_str(), 1);
    else
        unsetenv("TMPDIR");
    EXPECT_TRUE(std::filesystem::is_empty(base.path()));
}

TEST(CimData, FlatParams) {
    auto p = parse_flat_params(R"({ "a" : 1.5, "b": "x\"y\\z\u0041", "c" : true, "d": false, "e": [1, {"f": null}],
                                   "g": {"h": "}"}, "i": null, "j": -2e3 })");
    ASSERT_EQ(p.size(), 8u);
    EXPECT_EQ(p[0].key, "a");
    EXPECT_EQ(p[0].kind, FlatParam::Number);
    EXPECT_EQ(p[0].number, 1.5);
    EXPECT_EQ(p[1].kind, FlatParam::String);
    EXPECT_EQ(p[1].text, "x\"y\\zA");
    EXPECT_EQ(p[2].kind, FlatParam::Bool);
    EXPECT_TRUE(p[2].boolean);
    EXPECT_FALSE(p[3].boolean);
    EXPECT_EQ(p[4].kind, FlatParam::Other);
    EXPECT_EQ(p[5].kind, FlatParam::Other);
    EXPECT_EQ(p[6].kind, FlatParam::Other);
    EXPECT_EQ(p[7].number, -2000);
    EXPECT_TRUE(parse_flat_params("{}").empty());
    EXPECT_TRUE(parse_flat_params(nullptr).empty());
    for (const char *bad : {"", "[1]", "{\"a\" 1}", "{\"a\": 1", "{\"a\": 1} x", "{\"a\": \"unterminated}", "{a: 1}",
                            "{\"a\": [1, 2}", "{\"a\": \"\\q\"}"})
        EXPECT_THROW(parse_flat_params(bad), std::runtime_error) << bad;
}

// Regression cases found by peripherals/cim/fuzz/fuzz_flat_params.cpp (scripts/fuzz.sh).
TEST(CimData, FlatParamsHostileText) {
    auto error_of = [](const std::string &text) {
        try {
            parse_flat_params(text.c_str());
        } catch (const std::runtime_error &e) {
            return std::string(e.what());
        }
        return std::string("(no error)");
    };
    // "t"/"n"/"f" at the very end used to be compared as 4-5 bytes: a read past the end of the text.
    const std::string heap(std::string("{\"") + std::string(40, 'k') + "\":t"); // heap-allocated, no slack
    EXPECT_EQ(error_of(heap), "params are not a JSON object: expected a value at offset 44");
    EXPECT_EQ(error_of("{\"a\":[n"), "params are not a JSON object: expected a value at offset 6");
    // deep nesting used to recurse without bound (stack overflow)
    EXPECT_EQ(error_of("{\"a\":" + std::string(100000, '[')),
              "params are not a JSON object: nesting deeper than 64 levels at offset 70");
    EXPECT_EQ(parse_flat_params(("{\"a\":" + std::string(60, '[') + std::string(60, ']') + "}").c_str()).size(), 1u);
    // a bare '-' or an overflowing number is not a number
    EXPECT_EQ(error_of("{\"a\":-}"), "params are not a JSON object: expected a finite number at offset 5");
    EXPECT_EQ(error_of("{\"a\":1e999}"), "params are not a JSON object: expected a finite number at offset 5");
}

TEST(CimData, RefBackendParams) {
    Scratch s;
    std::string err;
    auto t = load(s.put("ok.toml", "[[op]]\nindex = 0\nbackend = \"cim-ref.so\"\n"
                                   "params = { latency_ns = 10, ns_per_mac = 0.5, pj_per_mac = 2, area_um2 = 3, leakage_uw = 4 }\n"),
                  err);
    ASSERT_NE(t, nullptr) << err;
    Job j(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
    ASSERT_EQ(j.run(*t->find(0)), DP_OK) << j.res.error;
    EXPECT_EQ(j.out, j.expected());
    EXPECT_EQ(j.res.metrics.latency_ns, 10 + 0.5 * 4);
    EXPECT_EQ(j.res.metrics.energy_pj, 8);
    EXPECT_EQ(j.res.metrics.area_um2, 3);
    EXPECT_EQ(j.res.metrics.leakage_uw, 4);
    EXPECT_EQ(load(s.put("a.toml", "[[op]]\nindex = 0\nbackend = \"cim-ref.so\"\nparams = { latency = 1 }\n"), err), nullptr);
    EXPECT_NE(err.find("op 0 (ref): unknown param 'latency' (known: latency_ns,"), std::string::npos) << err;
    EXPECT_EQ(load(s.put("b.toml", "[[op]]\nindex = 0\nbackend = \"cim-ref.so\"\nparams = { latency_ns = \"1\" }\n"), err), nullptr);
    EXPECT_NE(err.find("param 'latency_ns' must be a non-negative number"), std::string::npos) << err;
    EXPECT_EQ(load(s.put("c.toml", "[[op]]\nindex = 0\nbackend = \"cim-ref.so\"\nparams = { area_um2 = -1 }\n"), err), nullptr);
    EXPECT_NE(err.find("param 'area_um2' must be a non-negative number"), std::string::npos) << err;
}
