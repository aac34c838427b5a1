// Config loading and backend loading (src/ops.cpp).
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include <filesystem>

#include "test_util.hpp"

using namespace cimtest;
using dynperiph::cim::ConfigError;
using dynperiph::cim::OpTable;
using dynperiph::cim::parse_plugin_args;

namespace {

const std::string kTB = CIM_TEST_BACKENDS;

std::string load_error(Scratch &s, const std::string &toml) {
    std::string err;
    auto t = load(s.put("cim.toml", toml), err);
    EXPECT_EQ(t, nullptr) << "config unexpectedly loaded:\n" << toml;
    return err;
}

} // namespace

TEST(CimConfig, LoadsOpsOpensEachBackendOnceAndConvertsParams) {
    Scratch s;
    std::string err;
    const std::string rec = s.dir.file("record.txt");
    auto t = load(s.put("cim.toml", "[[op]]\nindex = 0\nbackend = \"" + kTB + "/test-good.so\"\n"
                                    "params = { a = 1, b = \"two\", c = [1.5, true], d = { e = \"f\" } }\n\n"
                                    "[[op]]\nindex = 5\nname = \"second\"\nbackend = \"" + kTB + "/test-good.so\"\n"
                                    "[op.params]\nx = 7\nrecord = \"" + rec + "\"\n"),
                  err);
    ASSERT_NE(t, nullptr) << err;
    EXPECT_EQ(t->opmap(), (1u << 0) | (1u << 5));
    EXPECT_EQ(t->backend_count(), 1u);
    ASSERT_NE(t->find(0), nullptr);
    EXPECT_EQ(t->find(1), nullptr);
    EXPECT_EQ(t->find(99), nullptr);
    EXPECT_EQ(t->find(0)->name(), "test-good");
    EXPECT_EQ(t->find(5)->name(), "second");
    EXPECT_EQ(std::string(t->find(5)->desc().name), "test");
    EXPECT_EQ(t->find(0)->backend_path(), t->find(5)->backend_path());
    std::string recorded = read_file(rec);
    EXPECT_NE(recorded.find("\"x\" : 7"), std::string::npos) << recorded;
    EXPECT_EQ(recorded.substr(recorded.rfind('\n') + 1), std::filesystem::path(s.dir.path()).string());

    // TOML -> JSON conversion of every value kind
    auto t2 = load(s.put("b.toml", "[[op]]\nindex = 1\nbackend = \"" + kTB + "/test-good.so\"\n"
                                   "params = { a = 1, b = \"two\", c = [1.5, true], d = { e = \"f\" }, record = \"" +
                                       rec + "\" }\n"),
                   err);
    ASSERT_NE(t2, nullptr) << err;
    const std::string j = read_file(rec);
    for (const char *part : {"\"a\" : 1", "\"b\" : \"two\"", "1.5", "true", "\"e\" : \"f\""})
        EXPECT_NE(j.find(part), std::string::npos) << part << " not in " << j;
    // the private copies the loader made are gone
    for (const auto &e : std::filesystem::directory_iterator(kTB))
        EXPECT_EQ(e.path().filename().string().find(".cim-"), std::string::npos) << e.path();
}

TEST(CimConfig, RelativeBackendFromConfigDirThenPluginDir) {
    Scratch s;
    std::filesystem::copy_file(kTB + "/test-good.so", s.dir.file("local-backend.so"));
    std::string err;
    auto t = load(s.put("cim.toml", "[[op]]\nindex = 2\nbackend = \"local-backend.so\"\n"
                                    "[[op]]\nindex = 3\nbackend = \"cim-ref.so\"\n"),
                  err);
    ASSERT_NE(t, nullptr) << err;
    EXPECT_EQ(t->find(2)->backend_path(), std::filesystem::canonical(s.dir.file("local-backend.so")).string());
    EXPECT_EQ(t->find(3)->backend_path(), std::filesystem::canonical(std::string(CIM_PLUGIN_DIR) + "/cim-ref.so").string());
    EXPECT_EQ(t->backend_count(), 2u);
}

TEST(CimConfig, MissingFile) {
    std::string err;
    EXPECT_EQ(load("/nonexistent/cim.toml", err), nullptr);
    EXPECT_EQ(err, "cim config /nonexistent/cim.toml: no such file");
}

TEST(CimConfig, BadTomlNamesLineAndColumn) {
    Scratch s;
    const std::string err = load_error(s, "[[op]]\nindex = 0\nbackend = \"x.so\n");
    EXPECT_NE(err.find("cim.toml:3:"), std::string::npos) << err;
}

TEST(CimConfig, UnknownKeys) {
    Scratch s;
    std::string err = load_error(s, "opz = 1\n");
    EXPECT_NE(err.find("cim.toml:1: unknown key 'opz'"), std::string::npos) << err;
    err = load_error(s, "[[op]]\nindex = 0\nbackend = \"" + kTB + "/test-good.so\"\nparms = {}\n");
    EXPECT_NE(err.find("cim.toml:4: unknown key 'parms' in [[op]]"), std::string::npos) << err;
}

TEST(CimConfig, NoOps) {
    Scratch s;
    EXPECT_NE(load_error(s, "# nothing\n").find("no operations"), std::string::npos);
    EXPECT_NE(load_error(s, "op = 3\n").find("'op' must be an array of tables"), std::string::npos);
}

TEST(CimConfig, DuplicateIndex) {
    Scratch s;
    const std::string b = "backend = \"" + kTB + "/test-good.so\"\n";
    const std::string err = load_error(s, "[[op]]\nindex = 4\n" + b + "\n[[op]]\nindex = 4\n" + b);
    EXPECT_NE(err.find("cim.toml:5: op index 4 is defined twice (first at line 1)"), std::string::npos) << err;
}

TEST(CimConfig, BadIndexAndMissingBackend) {
    Scratch s;
    const std::string b = "backend = \"" + kTB + "/test-good.so\"\n";
    EXPECT_NE(load_error(s, "[[op]]\nindex = 32\n" + b).find("'index' must be an integer 0..31"), std::string::npos);
    EXPECT_NE(load_error(s, "[[op]]\nindex = -1\n" + b).find("'index' must be an integer 0..31"), std::string::npos);
    EXPECT_NE(load_error(s, "[[op]]\nindex = \"0\"\n" + b).find("'index' must be an integer"), std::string::npos);
    EXPECT_NE(load_error(s, "[[op]]\n" + b).find("without 'index'"), std::string::npos);
    EXPECT_NE(load_error(s, "[[op]]\nindex = 0\n").find("'backend' (a .so file name) is required"), std::string::npos);
    EXPECT_NE(load_error(s, "[[op]]\nindex = 0\n" + b + "params = 3\n").find("'params' must be a table"),
              std::string::npos);
}

TEST(CimConfig, BackendNotFoundNamesWhereItLooked) {
    Scratch s;
    const std::string err = load_error(s, "[[op]]\nindex = 0\nbackend = \"nope.so\"\n");
    EXPECT_NE(err.find("backend nope.so not found (looked in " + s.dir.path() + " and "), std::string::npos) << err;
    EXPECT_NE(err.find("plugins)"), std::string::npos) << err;
    EXPECT_NE(load_error(s, "[[op]]\nindex = 0\nbackend = \"/no/such.so\"\n").find("backend /no/such.so not found"),
              std::string::npos);
}

TEST(CimConfig, NotASharedObject) {
    Scratch s;
    s.put("junk.so", "not an ELF file");
    const std::string err = load_error(s, "[[op]]\nindex = 0\nbackend = \"junk.so\"\n");
    EXPECT_NE(err.find("cannot load backend " + s.dir.file("junk.so") + ": " + s.dir.file("junk.so") + ": "),
              std::string::npos) << err;
    EXPECT_EQ(err.find(".cim-"), std::string::npos) << "names the private copy: " << err;
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(s.dir.path()), {}), 2); // cim.toml, junk.so
}

TEST(CimConfig, AbiMismatchNamesBothVersions) {
    Scratch s;
    std::string err = load_error(s, "[[op]]\nindex = 0\nbackend = \"" + kTB + "/test-abi2.so\"\n");
    EXPECT_NE(err.find("was built for cim backend ABI 2.0, this host supports 1.0"), std::string::npos) << err;
    err = load_error(s, "[[op]]\nindex = 0\nbackend = \"" + kTB + "/test-abi-minor.so\"\n");
    EXPECT_NE(err.find("was built for cim backend ABI 1.99, this host supports 1.0"), std::string::npos) << err;
}

TEST(CimConfig, EntrySymbolProblems) {
    Scratch s;
    std::string err = load_error(s, "[[op]]\nindex = 0\nbackend = \"" + kTB + "/test-noentry.so\"\n");
    EXPECT_NE(err.find("does not export cim_backend_entry"), std::string::npos) << err;
    err = load_error(s, "[[op]]\nindex = 0\nbackend = \"" + kTB + "/test-nullentry.so\"\n");
    EXPECT_NE(err.find("refused this host's cim backend ABI 1.0"), std::string::npos) << err;
}

TEST(CimConfig, BackendRejectingParams) {
    Scratch s;
    const std::string err = load_error(s, "[[op]]\nindex = 7\nbackend = \"" + kTB +
                                              "/test-good.so\"\nparams = { reject = \"bad value\" }\n");
    EXPECT_NE(err.find("cim.toml:1: op 7 (test): param 'reject': bad value"), std::string::npos) << err;
}

TEST(CimConfig, ErrorIsOneLine) {
    Scratch s;
    for (const std::string &toml : {"[[op]]\nindex = 0\nbackend = \"" + kTB + "/test-abi2.so\"\n",
                                   std::string("[[op]\n"), std::string("x = 1\n")}) {
        const std::string err = load_error(s, toml);
        EXPECT_FALSE(err.empty());
        EXPECT_EQ(err.find('\n'), std::string::npos) << err;
    }
}

TEST(CimArgs, Parse) {
    EXPECT_EQ(parse_plugin_args("config=/a/b c.toml").config, "/a/b c.toml");
    EXPECT_EQ(parse_plugin_args(";config=x.toml;").config, "x.toml");
    EXPECT_THROW(parse_plugin_args(""), ConfigError);
    try {
        parse_plugin_args("cfg=x");
        FAIL();
    } catch (const ConfigError &e) {
        EXPECT_STREQ(e.what(), "cim args: unknown key 'cfg' (expected config=PATH)");
    }
    EXPECT_THROW(parse_plugin_args("config"), ConfigError);
}
