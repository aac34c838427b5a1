// plugins/cim-cimsim.so: ABI behaviour, errors, and bit-for-bit agreement with the `cimsim mvm --json`
// CLI (the exec-backend path) for the same config keys and seed, for every dtype.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "data.hpp"
#include "dynperiph/cim_backend.h"

namespace fs = std::filesystem;

namespace {

struct Backend {
    void *so = nullptr;
    const cim_backend_desc *desc = nullptr;
    explicit Backend(const char *path = CIMSIM_BACKEND_SO) {
        so = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!so) return;
        auto entry = reinterpret_cast<cim_backend_entry_fn>(dlsym(so, CIM_BACKEND_ENTRY_SYMBOL));
        if (entry) desc = entry({CIM_BACKEND_ABI_MAJOR, CIM_BACKEND_ABI_MINOR});
    }
    ~Backend() {
        if (so) dlclose(so);
    }
};

struct TempDir {
    std::string path;
    TempDir() {
        char t[] = "/tmp/cim-cimsim-test-XXXXXX";
        path = mkdtemp(t);
    }
    ~TempDir() { fs::remove_all(path); }
};

struct Data {
    cim_dtype dtype;
    std::uint32_t rows, cols, n;
    std::vector<unsigned char> w, x;
};

Data make_data(cim_dtype t, std::uint32_t rows, std::uint32_t cols, std::uint32_t n, std::uint64_t seed) {
    std::mt19937_64 g(seed);
    Data d{t, rows, cols, n, {}, {}};
    const std::size_t es = dynperiph::cim::dtype_size(t);
    auto fill = [&](std::vector<unsigned char> &buf, std::size_t count) {
        buf.resize(count * es);
        for (std::size_t i = 0; i < count; ++i) {
            if (t == CIM_DTYPE_FLOAT32) {
                float f = float(std::uniform_real_distribution<double>(-2, 2)(g));
                std::memcpy(&buf[i * 4], &f, 4);
            } else {
                // stay inside the configured 8-bit range
                const std::int32_t v = std::int32_t(std::uniform_int_distribution<int>(-128, 127)(g));
                std::memcpy(&buf[i * es], &v, es);  // little-endian truncation
            }
        }
    };
    fill(d.w, std::size_t(rows) * cols);
    fill(d.x, std::size_t(n) * rows);
    return d;
}

cim_request make_request(const Data &d) {
    cim_request r{};
    r.abi = {CIM_BACKEND_ABI_MAJOR, CIM_BACKEND_ABI_MINOR};
    r.dtype = d.dtype, r.rows = d.rows, r.cols = d.cols, r.n_vectors = d.n;
    r.weights = d.w.data();
    r.inputs = d.n ? d.x.data() : nullptr;
    return r;
}

struct Outcome {
    dp_status st;
    std::vector<std::uint32_t> words;
    cim_metrics m;
    std::string err;
};

Outcome run_inprocess(const Backend &b, const std::string &params, const Data &d) {
    char err[256] = "";
    cim_op *op = b.desc->open(params.c_str(), "/", err, sizeof err);
    EXPECT_NE(op, nullptr) << err;
    if (!op) return {DP_ERR_INVALID, {}, {}, err};
    cim_request req = make_request(d);
    std::vector<std::uint32_t> out(std::size_t(d.n) * d.cols);
    cim_result res{};
    res.abi = {CIM_BACKEND_ABI_MAJOR, CIM_BACKEND_ABI_MINOR};
    res.outputs = out.data(), res.out_capacity = out.size();
    const dp_status st = b.desc->run(op, &req, &res);
    b.desc->close(op);
    out.resize(res.out_count);
    return {st, out, res.metrics, res.error};
}

// The exec backend's way: the composition's CSV writer, then `cimsim mvm ... --json`, parse the JSON.
Outcome run_cli(const std::string &params, const Data &d, const TempDir &tmp) {
    cim_request req = make_request(d);
    std::string storage[2], err;
    EXPECT_TRUE(dynperiph::cim::write_request_csvs(req, tmp.path, storage, err)) << err;
    const std::string pfile = tmp.path + "/params.json";
    std::ofstream(pfile) << params;
    const std::string cmd = std::string(CIMSIM_CLI) + " mvm --weights " + req.weights_csv + " --inputs " +
                            req.inputs_csv + " --dtype " + dynperiph::cim::dtype_name(d.dtype) + " --rows " +
                            std::to_string(d.rows) + " --cols " + std::to_string(d.cols) + " --config " + pfile + " --json";
    FILE *p = popen(cmd.c_str(), "r");
    std::string text;
    std::array<char, 65536> buf;
    std::size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) text.append(buf.data(), n);
    EXPECT_EQ(pclose(p), 0) << cmd;
    auto j = nlohmann::json::parse(text);
    Outcome o{DP_OK, {}, {}, ""};
    for (const auto &v : j["outputs"]) {
        if (d.dtype == CIM_DTYPE_FLOAT32) {
            const float f = float(v.get<double>());
            std::uint32_t w;
            std::memcpy(&w, &f, 4);
            o.words.push_back(w);
        } else {
            o.words.push_back(std::uint32_t(v.get<std::int64_t>()));
        }
    }
    o.m = {j["metrics"]["latency_ns"].get<double>(), j["metrics"]["energy_pj"].get<double>(),
           j["metrics"]["area_um2"].get<double>(), j["metrics"]["leakage_uw"].get<double>()};
    return o;
}

}  // namespace

TEST(CimsimBackend, Descriptor) {
    Backend b;
    ASSERT_NE(b.so, nullptr) << dlerror();
    ASSERT_NE(b.desc, nullptr);
    EXPECT_EQ(b.desc->abi.major, CIM_BACKEND_ABI_MAJOR);
    EXPECT_STREQ(b.desc->name, "cimsim");
    EXPECT_EQ(b.desc->flags & CIM_BACKEND_WANTS_CSV, 0u);
    EXPECT_EQ(dlsym(b.so, "_ZN6cimsim7resolveERKNS_6ConfigE"), nullptr);  // only the entry symbol is exported
}

TEST(CimsimBackend, IdealIsExactMvm) {
    Backend b;
    ASSERT_NE(b.desc, nullptr);
    for (cim_dtype t : {CIM_DTYPE_INT8, CIM_DTYPE_INT16, CIM_DTYPE_INT32}) {
        Data d = make_data(t, 200, 17, 5, 3 + t);
        Outcome o = run_inprocess(b, "{}", d);
        ASSERT_EQ(o.st, DP_OK) << o.err;
        cim_request req = make_request(d);
        EXPECT_EQ(o.words, dynperiph::cim::reference_mvm(req)) << dynperiph::cim::dtype_name(t);
        EXPECT_GT(o.m.latency_ns, 0);
        EXPECT_GT(o.m.energy_pj, 0);
        EXPECT_GT(o.m.area_um2, 0);
        EXPECT_GT(o.m.leakage_uw, 0);
    }
}

TEST(CimsimBackend, Errors) {
    Backend b;
    ASSERT_NE(b.desc, nullptr);
    char err[256] = "";
    EXPECT_EQ(b.desc->open(R"({"adc_bitz": 4})", "/", err, sizeof err), nullptr);
    EXPECT_STREQ(err, "cimsim: unknown config key 'adc_bitz' (did you mean 'adc_bits'?)");
    EXPECT_EQ(b.desc->open(R"({"adc_bits": -1})", "/", err, sizeof err), nullptr);
    EXPECT_NE(std::string(err).find("'adc_bits'"), std::string::npos) << err;
    EXPECT_EQ(b.desc->open("not json", "/", err, sizeof err), nullptr);
    EXPECT_NE(std::string(err).find("invalid JSON"), std::string::npos) << err;

    // int16 values outside the configured 8-bit range: an error naming the element, not a clip
    Data d = make_data(CIM_DTYPE_INT16, 4, 2, 1, 1);
    const std::int16_t big = 1000;
    std::memcpy(&d.w[2 * 3], &big, 2);
    Outcome o = run_inprocess(b, "{}", d);
    EXPECT_EQ(o.st, DP_ERR_INVALID);
    EXPECT_EQ(o.err, "cimsim: weight [1][1] = 1000 does not fit 8-bit two's complement [-128, 127]");
    // too small an output buffer
    cim_op *op = b.desc->open("{}", "/", err, sizeof err);
    ASSERT_NE(op, nullptr);
    cim_request req = make_request(make_data(CIM_DTYPE_INT8, 4, 2, 3, 2));
    Data keep = make_data(CIM_DTYPE_INT8, 4, 2, 3, 2);
    req = make_request(keep);
    std::uint32_t small[2];
    cim_result res{};
    res.abi = {CIM_BACKEND_ABI_MAJOR, CIM_BACKEND_ABI_MINOR};
    res.outputs = small, res.out_capacity = 2;
    EXPECT_EQ(b.desc->run(op, &req, &res), DP_ERR_INVALID);
    EXPECT_NE(std::string(res.error).find("need 6"), std::string::npos) << res.error;
    b.desc->close(op);
}

// The same params JSON drives both paths; outputs and metrics must be identical, non-idealities included.
TEST(CimsimBackend, InProcessEqualsCliBitForBit) {
    Backend b;
    ASSERT_NE(b.desc, nullptr);
    const std::string configs[] = {
        "{}",
        R"({"cell":"rram","bits_per_cell":2,"adc_bits":5,"program_sigma":0.05,"read_noise_sigma":0.02,"stuck_at_0_rate":0.01,"stuck_at_1_rate":0.005,"seed":7,"subarray_rows":64,"subarray_cols":64,"parallel_rows":32})",
        R"({"adc_bits":3,"parallel_rows":16,"tech_node_nm":7,"seed":12345678901})",
    };
    for (const auto &cfg : configs)
        for (cim_dtype t : {CIM_DTYPE_INT8, CIM_DTYPE_INT16, CIM_DTYPE_INT32, CIM_DTYPE_FLOAT32}) {
            SCOPED_TRACE(cfg + " " + dynperiph::cim::dtype_name(t));
            TempDir tmp;
            Data d = make_data(t, 150, 23, 7, 100 + t);
            Outcome a = run_inprocess(b, cfg, d);
            ASSERT_EQ(a.st, DP_OK) << a.err;
            Outcome c = run_cli(cfg, d, tmp);
            EXPECT_EQ(a.words, c.words);
            EXPECT_EQ(a.m.latency_ns, c.m.latency_ns);
            EXPECT_EQ(a.m.energy_pj, c.m.energy_pj);
            EXPECT_EQ(a.m.area_um2, c.m.area_um2);
            EXPECT_EQ(a.m.leakage_uw, c.m.leakage_uw);
        }
}

#ifdef CIM_EXEC_SO
// The whole exec path: plugins/cim-exec.so runs `cimsim mvm ... --config params.json --json` from an argv
// template in a private work dir and parses the JSON; it must equal plugins/cim-cimsim.so with the same params.
TEST(CimsimBackend, ExecBackendRunningCliEqualsInProcess) {
    Backend in, ex(CIM_EXEC_SO);
    ASSERT_NE(in.desc, nullptr);
    ASSERT_NE(ex.desc, nullptr) << dlerror();
    const std::string cfg =
        R"({"cell":"rram","bits_per_cell":2,"adc_bits":5,"program_sigma":0.05,"read_noise_sigma":0.02,"stuck_at_1_rate":0.01,"seed":99})";
    TempDir keep;
    const std::string pfile = keep.path + "/params.json";
    std::ofstream(pfile) << cfg;
    nlohmann::json exec_params = {
        {"argv", {CIMSIM_CLI, "mvm", "--weights", "{weights_csv}", "--inputs", "{inputs_csv}", "--dtype", "{dtype}", "--rows",
                  "{rows}", "--cols", "{cols}", "--config", pfile, "--json"}},
        {"timeout_ms", 60000}};
    char err[256] = "";
    cim_op *op = ex.desc->open(exec_params.dump().c_str(), keep.path.c_str(), err, sizeof err);
    ASSERT_NE(op, nullptr) << err;
    for (cim_dtype t : {CIM_DTYPE_INT8, CIM_DTYPE_INT16, CIM_DTYPE_INT32, CIM_DTYPE_FLOAT32}) {
        SCOPED_TRACE(dynperiph::cim::dtype_name(t));
        Data d = make_data(t, 97, 31, 4, 500 + t);
        Outcome a = run_inprocess(in, cfg, d);
        ASSERT_EQ(a.st, DP_OK) << a.err;
        TempDir work;
        cim_request req = make_request(d);
        req.work_dir = work.path.c_str();
        std::string storage[2], werr;
        if (ex.desc->flags & CIM_BACKEND_WANTS_CSV) {
            ASSERT_TRUE(dynperiph::cim::write_request_csvs(req, work.path, storage, werr)) << werr;
        }
        std::vector<std::uint32_t> out(std::size_t(d.n) * d.cols);
        cim_result res{};
        res.abi = {CIM_BACKEND_ABI_MAJOR, CIM_BACKEND_ABI_MINOR};
        res.outputs = out.data(), res.out_capacity = out.size();
        ASSERT_EQ(ex.desc->run(op, &req, &res), DP_OK) << res.error;
        out.resize(res.out_count);
        EXPECT_EQ(out, a.words);
        EXPECT_EQ(res.metrics.latency_ns, a.m.latency_ns);
        EXPECT_EQ(res.metrics.energy_pj, a.m.energy_pj);
        EXPECT_EQ(res.metrics.area_um2, a.m.area_um2);
        EXPECT_EQ(res.metrics.leakage_uw, a.m.leakage_uw);
    }
    ex.desc->close(op);
}
#endif
