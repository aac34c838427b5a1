// Every startup error of the dynperiph device: QEMU exits non-zero (no signal) and prints exactly one
// line that names the plugin file and the cause; no private copy of the plugin is left behind.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "qtest_client.hpp"

#include <gtest/gtest.h>

#include <filesystem>

using dp::qtest::plugin;
using dp::qtest::run_qemu;
namespace fs = std::filesystem;

namespace {

const std::string kDev = "dynperiph,addr=0x40120000,irq=25,id=dp0,plugin=";

// Copies of plugins QEMU process `pid` left anywhere: hidden files in the plugin folder (the old
// .NAME.dynperiph-PID-N copies), dynperiph-* entries in /tmp (the old fallback) and /dev/shm. Loads
// run from memory, so there must be none.
std::vector<std::string> leftovers(int pid)
{
    std::vector<std::string> out;
    fs::path dir = fs::path(plugin("test-periph")).parent_path();
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().filename().string().rfind('.', 0) == 0) out.push_back(e.path().string());
    (void)pid;
    for (const char* d : {"/tmp", "/dev/shm"})
        for (const auto& e : fs::directory_iterator(d))
            if (auto n = e.path().filename().string(); n.rfind("dynperiph-", 0) == 0 && n.rfind("dynperiph-cim-", 0) != 0)
                out.push_back(e.path().string());
    return out;
}

// Runs QEMU and checks the one-line failure; `needles` must all appear in that line.
void expect_startup_error(const std::vector<std::string>& args,
                          const std::vector<std::string>& needles, const std::string& machine = "")
{
    dp::qtest::Options opt;
    if (!machine.empty()) opt.machine = machine;
    auto r = run_qemu(args, opt);
    SCOPED_TRACE("stderr:\n" + r.err);
    EXPECT_FALSE(r.timed_out) << "QEMU did not exit";
    EXPECT_EQ(r.signal, 0) << "QEMU died of a signal";
    EXPECT_NE(r.exit_code, 0);
    auto lines = r.err_lines();
    ASSERT_EQ(lines.size(), 1u) << "want exactly one line";
    for (const auto& n : needles) EXPECT_NE(lines[0].find(n), std::string::npos) << "missing: " << n;
    EXPECT_EQ(leftovers(r.pid), std::vector<std::string>{}) << "private plugin copies left behind";
}

}  // namespace

TEST(DynperiphStartup, MissingPluginProperty)
{
    expect_startup_error({"-device", "dynperiph,addr=0x40120000,id=dp0"},
                         {"'plugin'", "required"});
}

TEST(DynperiphStartup, FileNotFound)
{
    expect_startup_error({"-device", kDev + "/nonexistent/dir/nope.so"},
                         {"/nonexistent/dir/nope.so", "file not found"});
}

TEST(DynperiphStartup, DirectoryIsNotAPlugin)
{
    auto dir = fs::path(plugin("test-periph")).parent_path().string();
    expect_startup_error({"-device", kDev + dir}, {dir, "not a regular file"});
}

TEST(DynperiphStartup, NotASharedObject)
{
    auto so = plugin("test-notelf");
    expect_startup_error({"-device", kDev + so}, {so, "not a loadable plugin", "invalid ELF header"});
}

TEST(DynperiphStartup, NoEntrySymbol)
{
    auto so = plugin("test-noentry");
    expect_startup_error({"-device", kDev + so},
                         {so, "not a dynperiph plugin", "'dynperiph_plugin_entry'"});
}

TEST(DynperiphStartup, AbiVersionOutOfRangeNamesBothVersions)
{
    auto so = plugin("test-abi2");
    expect_startup_error({"-device", kDev + so}, {so, "plugin ABI 2.0, this QEMU supports 1.0 to 1.1"});
}

TEST(DynperiphStartup, EntryReturnsNull)
{
    auto so = plugin("test-nulldesc");
    expect_startup_error({"-device", kDev + so}, {so, "returned no descriptor"});
}

TEST(DynperiphStartup, BadDescriptorZeroMmioSize)
{
    auto so = plugin("test-mmio0");
    expect_startup_error({"-device", kDev + so}, {so, "bad descriptor", "mmio_size is 0"});
}

TEST(DynperiphStartup, BadDescriptorTooManyIrqs)
{
    auto so = plugin("test-irq33");
    expect_startup_error({"-device", kDev + so}, {so, "bad descriptor", "irq_count 33"});
}

TEST(DynperiphStartup, ArgsRejectedByThePlugin)
{
    auto so = plugin("test-periph");
    expect_startup_error({"-device", kDev + so + ",args=bogus=1"},
                         {so, "create failed", "unknown args key 'bogus=1'"});
}

TEST(DynperiphStartup, RegionOverlapsAnotherInstance)
{
    auto a = plugin("test-periph"), b = plugin("test-periph-v2");
    expect_startup_error({"-device", "dynperiph,plugin=" + a + ",addr=0x40120000,id=first", "-device",
                          "dynperiph,plugin=" + b + ",addr=0x40120800,id=second"},
                         {b, "overlaps dynperiph 'first'", a, "0x40120000..0x40120fff"});
}

TEST(DynperiphStartup, IrqBeyondTheInterruptController)
{
    auto so = plugin("test-periph");  // two lines: 31 and 32, but the an385 NVIC has 32 inputs
    expect_startup_error({"-device", "dynperiph,addr=0x40120000,irq=31,plugin=" + so},
                         {so, "interrupt controller has no input 32"});
}

TEST(DynperiphStartup, IrqWithoutInterruptController)
{
    auto so = plugin("test-periph");
    expect_startup_error({"-device", "dynperiph,addr=0x40120000,irq=5,plugin=" + so},
                         {so, "no interrupt controller"}, "none");
}

TEST(DynperiphStartup, CrashInPluginInitIsCaught)
{
    auto so = plugin("test-crash");
    expect_startup_error({"-device", kDev + so}, {so, "crashed during initialisation", "signal 11"});
}

TEST(DynperiphStartup, HangInPluginInitIsCaught)
{
    auto so = plugin("test-hang");
    expect_startup_error({"-device", kDev + so + ",trial-timeout=1"},
                         {so, "hung during initialisation (more than 1 s"});
}

TEST(DynperiphStartup, WorkingPluginStarts)
{
    // The control case: the same command line with a good plugin keeps running (and is stopped).
    dp::qtest::Options opt;
    opt.timeout = std::chrono::milliseconds(1500);
    auto r = run_qemu({"-device", kDev + plugin("test-periph")}, opt);
    EXPECT_TRUE(r.timed_out) << r.err;
    for (const auto& l : r.err_lines())  // only the notice of the SIGTERM that stopped it
        EXPECT_NE(l.find("terminating on signal 15"), std::string::npos) << l;
}
