// Every startup error of the dynperiph device: QEMU exits non-zero (no signal) and prints exactly one
// line that names the plugin file and the cause; no private copy of the plugin is left behind.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "qtest_client.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

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

// ---- placement (qemu/device/dynperiph-placement.c): each mistake of issue 12 is one line ----------

TEST(DynperiphPlacement, NoAddrAndNoSvdDefaultIsAnError)
{
    // test-periph has no SVD (no DYNPERIPH_CAP_PLACEMENT): never mapped at 0 silently.
    auto so = plugin("test-periph");
    expect_startup_error({"-device", "dynperiph,irq=25,id=dp0,plugin=" + so},
                         {so, "no addr= given", "no <baseAddress>", "give addr=BASE"});
}

TEST(DynperiphPlacement, RegionOverBoardUartIsRefused)
{
    auto so = plugin("test-periph");
    expect_startup_error({"-device", "dynperiph,addr=0x40004000,irq=25,plugin=" + so},
                         {so, "region 0x40004000..0x40004fff overlaps device", "cmsdk-apb-uart",
                          "pick a free address"});
}

TEST(DynperiphPlacement, RegionOverRamIsRefused)
{
    auto so = plugin("test-periph");
    expect_startup_error({"-device", "dynperiph,addr=0,irq=25,plugin=" + so},
                         {so, "region 0x0..0xfff overlaps RAM"});
}

TEST(DynperiphPlacement, RegionOverSseSramAsTheCpuSeesIt)
{
    // mps3-an547: 0x21000000 is the SSE-300's SRAM in the CPU's view (system memory has other RAM).
    auto so = plugin("test-periph");
    expect_startup_error({"-device", "dynperiph,addr=0x21000000,irq=100,plugin=" + so},
                         {so, "overlaps RAM", "0x21000000"}, "mps3-an547");
}

TEST(DynperiphPlacement, CpuOutOfRange)
{
    auto so = plugin("test-periph");
    expect_startup_error({"-device", kDev + so + ",cpu=2"}, {so, "cpu=2 but this machine has 1 CPU"});
}

TEST(DynperiphPlacement, SecureWithoutTrustZone)
{
    auto so = plugin("test-periph");
    expect_startup_error({"-device", kDev + so + ",secure=on"},
                         {so, "secure=on but CPU 0 has no Security Extension"});
}

namespace {
// QEMU starts (and is stopped by the test); returns its stderr lines.
std::vector<std::string> starts_with_stderr(const std::vector<std::string>& args,
                                            const std::string& machine = "mps2-an385")
{
    dp::qtest::Options opt;
    opt.machine = machine;
    opt.timeout = std::chrono::milliseconds(1500);
    auto r = run_qemu(args, opt);
    EXPECT_TRUE(r.timed_out) << "QEMU exited: " << r.err;
    std::vector<std::string> out;
    for (const auto& l : r.err_lines())
        if (l.find("terminating on signal 15") == std::string::npos) out.push_back(l);
    return out;
}
}  // namespace

TEST(DynperiphPlacement, IrqLineTheBoardWiresWarnsNamingTheDevice)
{
    // NVIC input 0 is UART0's RX interrupt on mps2-an385: a warning, and QEMU runs.
    auto so = plugin("crc-dma");
    auto lines = starts_with_stderr({"-device", "dynperiph,irq=0,plugin=" + so});
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("warning: plugin " + so + ": interrupt input 0 is already driven by"),
              std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("cmsdk-apb-uart"), std::string::npos) << lines[0];
}

TEST(DynperiphPlacement, IrqLineOfTheSseBoardWarns)
{
    // mps2-an505: the board's UART0 RX reaches NVIC input 32 through the SSE-200's EXP_IRQ[0].
    auto so = plugin("test-periph");
    auto lines = starts_with_stderr({"-device", "dynperiph,addr=0x40120000,irq=32,plugin=" + so},
                                    "mps2-an505");
    ASSERT_GE(lines.size(), 1u);
    EXPECT_NE(lines[0].find("interrupt input 32 is already driven by"), std::string::npos) << lines[0];
}

TEST(DynperiphPlacement, SvdGivesTheDefaultAddressAndIrq)
{
    // crc-dma.svd: <baseAddress>0x40110000, <interrupt> 16. No addr=, no irq=.
    dp::qtest::Qemu q({"-device", "dynperiph,id=crc,plugin=" + plugin("crc-dma")});
    EXPECT_EQ(q.readl(0x40110000), 0x43524344u);  // ID "CRCD"
    EXPECT_EQ(q.qom_get("/machine/peripheral/crc", "addr").get<uint64_t>(), 0x40110000u);
    EXPECT_EQ(q.qom_get("/machine/peripheral/crc", "irq").get<uint64_t>(), 16u);
    EXPECT_EQ(q.stderr_text(), "");  // IRQ 16 is free on mps2-an385: no warning
}

TEST(DynperiphPlacement, DualCoreBoardPicksTheCpuWithCpuProperty)
{
    // mps2-an521 has two Cortex-M33, each with its own NVIC: cpu= picks one (default 0).
    for (const char* cpu : {"", ",cpu=1"}) {
        SCOPED_TRACE(cpu);
        dp::qtest::Options opt;
        opt.machine = "mps2-an521";
        dp::qtest::Qemu q({"-device", std::string("dynperiph,id=crc,addr=0x40120000,irq=100,plugin=") +
                                          plugin("crc-dma") + cpu},
                          opt);
        EXPECT_EQ(q.readl(0x40120000), 0x43524344u);
    }
}

TEST(DynperiphPlacement, Abi10PluginStillLoads)
{
    // A plugin built against ABI 1.0 (no plugin-level capabilities) keeps working unchanged.
    dp::qtest::Qemu q({"-device", "dynperiph,addr=0x40120000,irq=25,id=dp0,plugin=" + plugin("test-abi10")});
    EXPECT_NE(q.readl(0x40120000), 0u);
}
