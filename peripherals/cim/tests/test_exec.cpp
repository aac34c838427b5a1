// The exec backend: argv templates, process runner, output parsers and the backend end to end
// (loaded from plugins/cim-exec.so through a config, exactly as the cim plugin loads it).
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include <signal.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>

#include "argv_template.hpp"
#include "result_parse.hpp"
#include "spawn.hpp"
#include "test_util.hpp"

using namespace cimtest;
using namespace dynperiph::cim;
using namespace dynperiph::cim::exec;

namespace {

const std::string kSim = std::string(CIM_STANDINS) + "/cim-stand-in-sim";
const std::string kNeuroSim = std::string(CIM_STANDINS) + "/fake-neurosim";
const std::string kBad = std::string(CIM_TEST_SRC) + "/standins/misbehave.sh";

std::string q(const std::string &s) { // TOML basic string
    std::string o = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\')
            o += '\\';
        o += c;
    }
    return o + "\"";
}

// A config with one exec op (index 0) whose params table body is `params`.
std::unique_ptr<OpTable> exec_op(Scratch &s, const std::string &params, std::string &err) {
    return load(s.put("cim.toml", "[[op]]\nindex = 0\nbackend = \"cim-exec.so\"\n[op.params]\n" + params), err);
}

std::string open_error(const std::string &params) {
    Scratch s;
    std::string err;
    EXPECT_EQ(exec_op(s, params, err), nullptr);
    return err;
}

// Running (a zombie waiting for an adoptive parent that never reaps does not count).
bool pid_alive(pid_t pid) {
    const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    const size_t p = stat.rfind(')');
    return p != std::string::npos && p + 2 < stat.size() && stat[p + 2] != 'Z';
}

Job small_job() {
    return Job(CIM_DTYPE_INT16, 3, 2, std::vector<int16_t>{1, 2, 3, 4, 5, 6}, std::vector<int16_t>{1, 1, 1, -2, 0, 7});
}

float as_float(uint32_t w) {
    float f;
    std::memcpy(&f, &w, 4);
    return f;
}

} // namespace

// ---------------------------------------------------------------- templates
TEST(ExecTemplate, KnownUnknownAndBraces) {
    EXPECT_EQ(check_template("{weights_csv}"), "");
    EXPECT_EQ(check_template("--shape={rows}x{cols}"), "");
    EXPECT_EQ(check_template("{{literal}}"), "");
    EXPECT_NE(check_template("{nope}").find("unknown placeholder {nope}"), std::string::npos);
    EXPECT_NE(check_template("{rows").find("unterminated"), std::string::npos);
    EXPECT_NE(check_template("rows}").find("unmatched '}'"), std::string::npos);
    EXPECT_EQ(expand_template("a{rows}b{{c}}{cols}", {{"rows", "3"}, {"cols", "4"}}), "a3b{c}4");
    EXPECT_EQ(placeholders_in("{out}-{rows}"), (std::vector<std::string>{"out", "rows"}));
}

// ---------------------------------------------------------------- process runner
TEST(ExecSpawn, ExitStatusAndStderrTail) {
    SpawnOptions o;
    o.argv = {kBad, "exit", "3"};
    auto r = run_process(o);
    EXPECT_TRUE(r.started && r.exited);
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.describe(o), kBad + " exited with status 3: simulated failure on stderr");
}

TEST(ExecSpawn, Signal) {
    SpawnOptions o;
    o.argv = {kBad, "signal"};
    auto r = run_process(o);
    EXPECT_EQ(r.term_signal, SIGSEGV);
    EXPECT_NE(r.describe(o).find("killed by signal 11"), std::string::npos) << r.describe(o);
}

TEST(ExecSpawn, NotFound) {
    SpawnOptions o;
    o.argv = {"/no/such/program"};
    auto r = run_process(o);
    EXPECT_FALSE(r.started);
    EXPECT_EQ(r.describe(o), "cannot run /no/such/program: No such file or directory");
    o.argv = {"no-such-program-in-path-xyz"};
    EXPECT_FALSE(run_process(o).started);
}

TEST(ExecSpawn, StdinIsDevNull) {
    SpawnOptions o;
    o.argv = {"cat"};
    o.timeout_ms = 5000;
    auto r = run_process(o);
    EXPECT_TRUE(r.ok()) << r.describe(o);
    EXPECT_EQ(r.out, "");
}

TEST(ExecSpawn, TimeoutKillsTheWholeGroup) {
    Scratch s;
    SpawnOptions o;
    o.argv = {kBad, "hang_bg", s.dir.file("pid")};
    o.timeout_ms = 1000; // leaves the shell time to record its child's pid even on a loaded machine
    const auto t0 = std::chrono::steady_clock::now();
    auto r = run_process(o);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_TRUE(r.timed_out);
    EXPECT_LT(ms, 4000);
    EXPECT_NE(r.describe(o).find("timed out after 1000 ms (process group killed)"), std::string::npos);
    const std::string pid_text = read_file(s.dir.file("pid"));
    ASSERT_FALSE(pid_text.empty()) << "the stand-in did not start in time";
    const pid_t bg = std::stoi(pid_text);
    for (int i = 0; i < 100 && pid_alive(bg); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_FALSE(pid_alive(bg)) << "grandchild " << bg << " survived the timeout";
}

TEST(ExecSpawn, TermIgnoredStillKilled) {
    SpawnOptions o;
    o.argv = {"sh", "-c", "trap '' TERM; sleep 30"};
    o.timeout_ms = 200;
    o.kill_grace_ms = 100;
    auto r = run_process(o);
    EXPECT_TRUE(r.timed_out);
    EXPECT_LT(r.wall_ms, 2000);
}

TEST(ExecSpawn, StragglersOfAFinishedRunAreKilled) {
    Scratch s;
    SpawnOptions o;
    o.argv = {kBad, "bgchild", s.dir.file("pid")};
    auto r = run_process(o);
    EXPECT_TRUE(r.ok()) << r.describe(o);
    EXPECT_LT(r.wall_ms, 5000);
    const std::string pid_text = read_file(s.dir.file("pid"));
    ASSERT_FALSE(pid_text.empty());
    const pid_t bg = std::stoi(pid_text);
    for (int i = 0; i < 100 && pid_alive(bg); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_FALSE(pid_alive(bg));
}

TEST(ExecSpawn, OutputLimit) {
    SpawnOptions o;
    o.argv = {kBad, "flood"};
    o.max_stdout = 100000;
    auto r = run_process(o);
    EXPECT_TRUE(r.stdout_overflow);
    EXPECT_EQ(r.out.size(), 100000u);
    EXPECT_NE(r.describe(o).find("wrote more than 100000 bytes to stdout"), std::string::npos);
}

// ---------------------------------------------------------------- parsers
TEST(ExecParse, Json) {
    ParsedResult p;
    EXPECT_EQ(parse_output(Format::Json, R"({"outputs":[1,-2,4294967295],"metrics":{"latency_ns":5.5,"energy_pj":null}})",
                           CIM_DTYPE_INT8, p), "");
    EXPECT_EQ(p.outputs, (std::vector<uint32_t>{1, 0xfffffffe, 0xffffffff}));
    EXPECT_EQ(p.metrics.latency_ns, 5.5);
    EXPECT_TRUE(std::isnan(p.metrics.energy_pj));
    EXPECT_TRUE(std::isnan(p.metrics.area_um2));
    EXPECT_EQ(parse_output(Format::Json, R"({"outputs":[1.5]})", CIM_DTYPE_FLOAT32, p), "");
    EXPECT_EQ(as_float(p.outputs[0]), 1.5f);
    EXPECT_EQ(parse_output(Format::Json, R"({"outputs":[2.0]})", CIM_DTYPE_INT32, p), "");
    EXPECT_NE(parse_output(Format::Json, "nope", CIM_DTYPE_INT32, p).find("malformed JSON output"), std::string::npos);
    EXPECT_NE(parse_output(Format::Json, "[1]", CIM_DTYPE_INT32, p).find("not an object"), std::string::npos);
    // fuzz: a number too large for a double made nlohmann throw out_of_range, which escaped (terminate)
    EXPECT_NE(parse_output(Format::Json, R"({"outputs":[33E3333333333333333333330]})", CIM_DTYPE_INT32, p)
                  .find("malformed JSON output: [json.exception.out_of_range.406] number overflow"),
              std::string::npos);
    EXPECT_NE(parse_output(Format::Json, R"({"outputs":[1.5]})", CIM_DTYPE_INT32, p).find("outputs[0] is not an integer"),
              std::string::npos);
    EXPECT_NE(parse_output(Format::Json, R"({"outputs":[5000000000]})", CIM_DTYPE_INT32, p).find("32-bit range"),
              std::string::npos);
    EXPECT_NE(parse_output(Format::Json, R"({"outputs":["1"]})", CIM_DTYPE_INT32, p).find("not a number"),
              std::string::npos);
    EXPECT_NE(parse_output(Format::Json, R"({"metrics":{"latency_ns":-1}})", CIM_DTYPE_INT32, p).find("non-negative"),
              std::string::npos);
}

TEST(ExecParse, Csv) {
    ParsedResult p;
    EXPECT_EQ(parse_output(Format::Csv, "# header\n1, 2,3\n-4\nlatency_ns,12\narea_um2, 3.5\n", CIM_DTYPE_INT32, p), "");
    EXPECT_EQ(p.outputs, (std::vector<uint32_t>{1, 2, 3, uint32_t(-4)}));
    EXPECT_EQ(p.metrics.latency_ns, 12);
    EXPECT_EQ(p.metrics.area_um2, 3.5);
    EXPECT_NE(parse_output(Format::Csv, "1,x\n", CIM_DTYPE_INT32, p).find("line 1: \"x\" is not a number"),
              std::string::npos);
    EXPECT_NE(parse_output(Format::Csv, "latency_ns\n", CIM_DTYPE_INT32, p).find("expected \"latency_ns,<number>\""),
              std::string::npos);
}

TEST(ExecParse, NeuroSim) {
    ParsedResult p;
    const std::string good = "junk\nChipArea : 1.5e+06um^2\nChip layer-by-layer readLatency (per image) is: 250.5ns\n"
                             "Chip total readDynamicEnergy is: 12pJ\nChip total leakage Power is: 3.25uW\n";
    EXPECT_EQ(parse_output(Format::NeuroSim, good, CIM_DTYPE_INT8, p), "");
    EXPECT_EQ(p.metrics.area_um2, 1.5e6);
    EXPECT_EQ(p.metrics.latency_ns, 250.5);
    EXPECT_EQ(p.metrics.energy_pj, 12);
    EXPECT_EQ(p.metrics.leakage_uw, 3.25);
    EXPECT_TRUE(p.outputs.empty());
    EXPECT_NE(parse_output(Format::NeuroSim, "ChipArea : 1um^2\n", CIM_DTYPE_INT8, p).find("readLatency"),
              std::string::npos);
    EXPECT_NE(parse_output(Format::NeuroSim, "ChipArea : 1mm^2\n", CIM_DTYPE_INT8, p).find("expected \"ChipArea :"),
              std::string::npos);
}

// ---------------------------------------------------------------- backend, end to end
TEST(ExecBackend, JsonOnStdout) {
    Scratch s;
    std::string err;
    auto t = exec_op(s, "argv = [" + q(kSim) + ", \"mvm\", \"{weights_csv}\", \"{inputs_csv}\", \"{rows}\", \"{cols}\", "
                        "\"{n_vectors}\", \"json\"]\ntimeout_ms = 5000\n", err);
    ASSERT_NE(t, nullptr) << err;
    EXPECT_TRUE(t->find(0)->wants_csv());
    Job j = small_job();
    ASSERT_EQ(j.run(*t->find(0)), DP_OK) << j.res.error;
    EXPECT_EQ(j.out, j.expected());
    EXPECT_EQ(j.res.out_count, 4u);
    EXPECT_EQ(j.res.metrics.latency_ns, 10 + 12);
    EXPECT_EQ(j.res.metrics.energy_pj, 6);
    EXPECT_EQ(j.res.metrics.area_um2, 1234.5);
    EXPECT_EQ(j.res.metrics.leakage_uw, 6.25);
    EXPECT_FALSE(std::filesystem::exists(j.work_dir));
}

TEST(ExecBackend, CsvFromOutFileAndFloat) {
    Scratch s;
    std::string err;
    auto t = exec_op(s, "argv = [" + q(kSim) + ", \"mvm\", \"{weights_csv}\", \"{inputs_csv}\", \"{rows}\", \"{cols}\", "
                        "\"{n_vectors}\", \"csv\", \"{out}\"]\nformat = \"csv\"\nsource = \"file\"\n", err);
    ASSERT_NE(t, nullptr) << err;
    Job j(CIM_DTYPE_FLOAT32, 2, 2, std::vector<float>{0.5f, 1.0f, -2.0f, 0.25f}, std::vector<float>{1.0f, 2.0f});
    ASSERT_EQ(j.run(*t->find(0)), DP_OK) << j.res.error;
    EXPECT_EQ(as_float(j.out[0]), 0.5f - 4.0f);
    EXPECT_EQ(as_float(j.out[1]), 1.0f + 0.5f);
    EXPECT_EQ(j.res.metrics.latency_ns, 14);
}

TEST(ExecBackend, WeightsOnlyPpa) {
    Scratch s;
    std::string err;
    auto t = exec_op(s, "argv = [" + q(kBad) + ", \"ppa\", \"{inputs_csv}\"]\n", err);
    ASSERT_NE(t, nullptr) << err;
    Job j(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{});
    ASSERT_EQ(j.run(*t->find(0)), DP_OK) << j.res.error;
    EXPECT_EQ(j.res.out_count, 0u);
    EXPECT_EQ(j.res.metrics.latency_ns, 42);
    EXPECT_TRUE(std::isnan(j.res.metrics.area_um2));
}

TEST(ExecBackend, ArgvWithSpacesQuotesAndShellCharactersIsPassedVerbatim) {
    Scratch s;
    std::string err;
    const std::string record = s.dir.file("argv.json");
    auto t = exec_op(s, "argv = [" + q(kSim) + ", \"args\", " + q(record) +
                            ", \"a b\", \"it's \\\"quoted\\\"\", \"$HOME; rm -rf / `id` *\", \"{rows}x{cols}\", "
                            "\"{{literal}}\", \"\", \"{dtype}\"]\n", err);
    ASSERT_NE(t, nullptr) << err;
    Job j = small_job();
    ASSERT_EQ(j.run(*t->find(0)), DP_ERR_INTERNAL); // the stand-in prints no outputs: 4 expected
    EXPECT_STREQ(j.res.error, (kSim + ": expected 4 outputs, got 0").c_str());
    EXPECT_EQ(read_file(record),
              "[\"a b\",\"it's \\\"quoted\\\"\",\"$HOME; rm -rf / `id` *\",\"3x2\",\"{literal}\",\"\",\"int16\"]\n");
}

TEST(ExecBackend, WorkDirIsTheCwdAndIsRemoved) {
    Scratch s;
    std::string err;
    auto t = exec_op(s, "argv = [" + q(kBad) + ", \"litter\"]\n", err);
    ASSERT_NE(t, nullptr) << err;
    Job j(CIM_DTYPE_INT8, 1, 1, std::vector<int8_t>{1}, std::vector<int8_t>{});
    bool saw_litter = false;
    ASSERT_EQ(j.run(*t->find(0), [&](const std::string &d) {
        saw_litter = std::filesystem::exists(d + "/sub/ro/f") && std::filesystem::exists(d + "/weights.csv");
    }), DP_OK) << j.res.error;
    EXPECT_TRUE(saw_litter);
    EXPECT_FALSE(std::filesystem::exists(j.work_dir));
}

TEST(ExecBackend, Failures) {
    struct Case {
        std::string params, error_part;
    } cases[] = {
        {"argv = [" + q(kBad) + ", \"sleep\"]\ntimeout_ms = 200\n", "timed out after 200 ms (process group killed)"},
        {"argv = [" + q(kBad) + ", \"exit\", \"3\"]\n", "exited with status 3: simulated failure on stderr"},
        {"argv = [" + q(kBad) + ", \"signal\"]\n", "killed by signal 11"},
        {"argv = [" + q(kBad) + ", \"garbage\"]\n", "malformed JSON output"},
        {"argv = [" + q(kBad) + ", \"short\"]\n", "expected 4 outputs, got 2"},
        {"argv = [" + q(kBad) + ", \"flood\"]\nmax_output_bytes = 10000\nformat = \"csv\"\n", "more than 10000 bytes"},
        {"argv = [" + q(kBad) + ", \"ppa\", \"{out}\"]\nsource = \"file\"\n", "did not write its output file"},
    };
    for (const auto &c : cases) {
        Scratch s;
        std::string err;
        auto t = exec_op(s, c.params, err);
        ASSERT_NE(t, nullptr) << err;
        Job j = small_job();
        EXPECT_NE(j.run(*t->find(0)), DP_OK);
        EXPECT_NE(std::string(j.res.error).find(c.error_part), std::string::npos)
            << "params: " << c.params << "error: " << j.res.error;
        EXPECT_FALSE(std::filesystem::exists(j.work_dir));
    }
}

TEST(ExecBackend, OpenErrors) {
    EXPECT_NE(open_error("timeout_ms = 5\n").find("param 'argv' (a non-empty array of strings) is required"),
              std::string::npos);
    EXPECT_NE(open_error("argv = []\n").find("param 'argv'"), std::string::npos);
    EXPECT_NE(open_error("argv = [\"x\", 3]\n").find("argv[1] is not a string"), std::string::npos);
    EXPECT_NE(open_error("argv = [\"sim\", \"{weights}\"]\n").find("argv[1]: unknown placeholder {weights}"),
              std::string::npos);
    EXPECT_NE(open_error("argv = [\"sim\"]\ntimeout = 3\n").find("unknown param 'timeout'"), std::string::npos);
    EXPECT_NE(open_error("argv = [\"sim\"]\ntimeout_ms = 0\n").find("'timeout_ms' must be an integer 1..3600000"),
              std::string::npos);
    EXPECT_NE(open_error("argv = [\"sim\"]\nformat = \"xml\"\n").find("'format' must be one of \"json\", \"csv\", \"neurosim\""),
              std::string::npos);
    EXPECT_NE(open_error("argv = [\"sim\"]\nsource = \"file\"\n").find("no argv element passes {out}"), std::string::npos);
    EXPECT_NE(open_error("argv = [\"./missing-sim\"]\n").find("missing-sim is not an executable file"), std::string::npos);
    EXPECT_NE(open_error("argv = [\"{bin_dir}/missing-sim\"]\n").find("bin/missing-sim is not an executable file"),
              std::string::npos);
    EXPECT_NE(open_error("argv = [\"x\"]\nformat = \"neurosim\"\nfunctional = false\n").find("needs functional = true"),
              std::string::npos);
    // the error names the op and the backend
    EXPECT_NE(open_error("argv = []\n").find("op 0 (exec): "), std::string::npos);
}

TEST(ExecBackend, RelativeProgramIsRelativeToTheConfigDir) {
    Scratch s;
    std::filesystem::copy_file(kSim, s.dir.file("my-sim"));
    std::filesystem::permissions(s.dir.file("my-sim"), std::filesystem::perms::owner_exec, std::filesystem::perm_options::add);
    std::string err;
    auto t = exec_op(s, "argv = [\"./my-sim\", \"mvm\", \"{weights_csv}\", \"{inputs_csv}\", \"{rows}\", \"{cols}\", "
                        "\"{n_vectors}\", \"json\"]\n", err);
    ASSERT_NE(t, nullptr) << err;
    Job j = small_job();
    ASSERT_EQ(j.run(*t->find(0)), DP_OK) << j.res.error;
    EXPECT_EQ(j.out, j.expected());
}

// A NeuroSim-style executable: the backend writes NetWork.csv + NeuroSim-format weight/input files,
// the stand-in validates them and prints PPA; outputs are computed functionally.
TEST(ExecBackend, NeuroSimStandIn) {
    Scratch s;
    std::string err;
    auto t = exec_op(s, "argv = [" + q(kNeuroSim) + ", \"{network_csv}\", \"{weight_bits}\", \"{input_bits}\", "
                        "\"128\", \"32\", \"{ns_weights_csv}\", \"{ns_inputs_csv}\"]\n"
                        "format = \"neurosim\"\nweight_bits = 8\ninput_bits = 8\n", err);
    ASSERT_NE(t, nullptr) << err;
    std::vector<int8_t> w(200 * 3), x(200 * 2);
    for (size_t i = 0; i < w.size(); ++i)
        w[i] = int8_t(i * 37 % 255 - 127);
    for (size_t i = 0; i < x.size(); ++i)
        x[i] = int8_t(i * 11 % 200 - 100);
    Job j(CIM_DTYPE_INT8, 200, 3, w, x);
    ASSERT_EQ(j.run(*t->find(0)), DP_OK) << j.res.error;
    EXPECT_EQ(j.out, j.expected());
    // fake-neurosim's per-image (= per vector) formulas: tiles_r = ceil(200/128) = 2, tiles_c = ceil(3*8/128) = 1;
    // the backend scales latency and energy by the request's 2 vectors
    EXPECT_EQ(j.res.metrics.latency_ns, 3.0 * 2 * 8 * 2);
    EXPECT_EQ(j.res.metrics.energy_pj, 0.25 * 200 * 3 * 2);
    EXPECT_EQ(j.res.metrics.area_um2, 100.0 * 2 * 1 + 50);
    EXPECT_EQ(j.res.metrics.leakage_uw, 2.5);

    // float32 too (inputs scaled into the input_bits range)
    Job f(CIM_DTYPE_FLOAT32, 2, 2, std::vector<float>{0.5f, -0.25f, 3.0f, 1.0f}, std::vector<float>{-1.5f, 2.0f});
    ASSERT_EQ(f.run(*t->find(0)), DP_OK) << f.res.error;
    EXPECT_EQ(f.out, f.expected());
}

TEST(ExecBackend, NeuroSimStandInRejectsBadFiles) {
    // Passing the plain CSVs where NeuroSim expects its own format: the stand-in refuses (weights
    // outside (-1, 1)) and the backend reports its stderr.
    Scratch s;
    std::string err;
    auto t = exec_op(s, "argv = [" + q(kNeuroSim) + ", \"{network_csv}\", \"8\", \"8\", \"128\", \"32\", "
                        "\"{weights_csv}\", \"{ns_inputs_csv}\"]\nformat = \"neurosim\"\n", err);
    ASSERT_NE(t, nullptr) << err;
    Job j = small_job();
    EXPECT_NE(j.run(*t->find(0)), DP_OK);
    EXPECT_NE(std::string(j.res.error).find("exited with status 1: Error: weight 1 is not a number in (-1, 1)"),
              std::string::npos) << j.res.error;
}
