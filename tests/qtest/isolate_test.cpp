// isolate=on: a plugin that crashes (SIGSEGV, abort) or hangs in read, write, timer, reset or blocking
// work, or whose child is killed from outside, costs a bus error and one log line; QEMU stays up and
// then answers bus errors (on-crash=buserror) or runs a restarted child from the last checkpoint
// (on-crash=restart). The plugin is tests/plugins' test-faulty (args fault=KIND@WHERE).
// (The ordinary device tests also run isolated: dynperiph_isolated_device_tests, prefix "isolated.")
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "qtest_client.hpp"
#include "test_periph_regs.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>

using dp::qtest::plugin;
using dp::qtest::Qemu;

namespace {

constexpr uint64_t kBase = 0x40120000;
constexpr uint64_t kSram = 0x20000000;

std::string idev(const std::string& extra)
{
    return "dynperiph,plugin=" + plugin("test-faulty") +
           ",addr=0x40120000,irq=25,id=dp0,isolate=on,isolate-host=" DP_ISOLATE_HOST + extra;
}

std::vector<std::string> qemu_args(const std::string& extra)
{
    return {"-trace", "dynperiph_read", "-trace", "dynperiph_write", "-device", idev(extra)};
}

// Lines of QEMU's stderr that contain `needle`.
std::vector<std::string> lines_with(const std::string& text, const std::string& needle)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);)
        if (l.find(needle) != std::string::npos) out.push_back(l);
    return out;
}

// Waits until QEMU's stderr has a line with `needle` (timer / reset failures happen asynchronously).
std::vector<std::string> wait_for_line(Qemu& q, const std::string& needle)
{
    for (int i = 0; i < 300; i++) {
        auto l = lines_with(q.stderr_text(), needle);
        if (!l.empty()) return l;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return {};
}

bool process_exists(int pid)
{
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string s;
    std::getline(f, s);
    auto p = s.rfind(')');
    return f.good() && p != std::string::npos && s.size() > p + 2 && s[p + 2] != 'Z';
}

struct Case {
    const char* name;
    const char* fault;     // args fault=...
    const char* where;     // what the log line names
    const char* cause;     // what the log line says happened
};

// Makes the plugin misbehave in `c.where`; returns whether an access was in flight (then it must be
// a bus error in the trace).
std::string trigger(Qemu& q, const Case& c)
{
    std::string w = c.fault;
    w = w.substr(w.find('@') + 1);
    if (w == "read") {
        q.readl(kBase + TP_REG_FAULT);
        return "dynperiph_read dp0: read offset 0x4c size 4 value 0x0 status 1";
    }
    if (w == "write") {
        q.writel(kBase + TP_REG_FAULT, 1);
        return "dynperiph_write dp0: write offset 0x4c size 4 value 0x1 status 1";
    }
    if (w == "work") {
        q.writel(kBase + TP_REG_WORK, 1);
        return "dynperiph_write dp0: write offset 0x38 size 4 value 0x1 status 1";
    }
    if (w == "timer") {
        q.writel(kBase + TP_REG_TIMER_NS, 1000);
        q.clock_step(1000);
        return "";
    }
    q.qmp({{"execute", "system_reset"}});  // reset
    return "";
}

const Case kCases[] = {
    {"SegvInRead", "segv@read", "in read at 0x4c", "crashed (signal 11, Segmentation fault)"},
    {"AbortInWrite", "abort@write", "in write at 0x4c", "crashed (signal 6, Aborted)"},
    {"HangInRead", "hang@read", "in read at 0x4c", "hung (no answer within 300 ms; killed)"},
    {"HangInWrite", "hang@write", "in write at 0x4c", "hung (no answer within 300 ms; killed)"},
    {"SegvInTimer", "segv@timer", "in timer callback", "crashed (signal 11, Segmentation fault)"},
    {"HangInTimer", "hang@timer", "in timer callback", "hung (no answer within 300 ms; killed)"},
    {"AbortInReset", "abort@reset", "in reset", "crashed (signal 6, Aborted)"},
    {"HangInReset", "hang@reset", "in reset", "hung (no answer within 300 ms; killed)"},
    {"SegvInBlockingWork", "segv@work", "in blocking work of write at 0x38",
     "crashed (signal 11, Segmentation fault)"},
    {"HangInBlockingWork", "hang@work", "in blocking work of write at 0x38",
     "hung (no answer within 400 ms; killed)"},
};

class IsolatedCrash : public ::testing::TestWithParam<Case> {};

const std::string kTimeouts = ",deadline-ms=300,blocking-deadline-ms=400";

}  // namespace

// buserror: one line naming plugin, callback and cause; the access in flight and every later one is
// a bus error; QEMU keeps answering.
TEST_P(IsolatedCrash, BusErrorsFromThenOn)
{
    const Case& c = GetParam();
    Qemu q(qemu_args(kTimeouts + ",args=fault=" + c.fault));
    ASSERT_EQ(q.readl(kBase + TP_REG_ID), TP_ID_BASE + 1);
    auto in_flight = trigger(q, c);
    auto lines = wait_for_line(q, "(isolated): ");
    ASSERT_EQ(lines.size(), 1u) << q.stderr_text();
    EXPECT_NE(lines[0].find("dynperiph dp0: plugin " + plugin("test-faulty")), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find(std::string(c.cause) + " " + c.where), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("bus errors from now on (on-crash=buserror"), std::string::npos) << lines[0];
    if (!in_flight.empty()) {
        EXPECT_EQ(lines_with(q.stderr_text(), in_flight).size(), 1u) << q.stderr_text();
    }
    q.readl(kBase + TP_REG_ID);
    EXPECT_EQ(lines_with(q.stderr_text(), "read offset 0x0 size 4 value 0x0 status 1").size(), 1u)
        << "later reads are bus errors\n" << q.stderr_text();
    EXPECT_EQ(q.qmp({{"execute", "query-status"}})["status"], "running");
    EXPECT_EQ(lines_with(q.stderr_text(), "(isolated): ").size(), 1u) << "one line only";
}

// restart: a new child from the last checkpoint; the guest sees its registers again.
TEST_P(IsolatedCrash, RestartFromTheCheckpoint)
{
    const Case& c = GetParam();
    // checkpoint-ms=50: the ID read below takes the checkpoint (SCRATCH = 0x1234) and none is taken
    // between it and the fault (a checkpoint right before a timer callback would hold the armed timer,
    // and a restart from it would meet the same fault again)
    Qemu q(qemu_args(kTimeouts + ",on-crash=restart,checkpoint-ms=50,args=fault=" + c.fault));
    q.writel(kBase + TP_REG_SCRATCH, 0x1234);
    std::this_thread::sleep_for(std::chrono::milliseconds(80));
    ASSERT_EQ(q.readl(kBase + TP_REG_ID), TP_ID_BASE + 1);
    trigger(q, c);
    auto lines = wait_for_line(q, "(isolated): ");
    ASSERT_EQ(lines.size(), 1u) << q.stderr_text();
    EXPECT_NE(lines[0].find(std::string(c.cause) + " " + c.where + "; restarted (pid "), std::string::npos)
        << lines[0];
    EXPECT_EQ(q.readl(kBase + TP_REG_ID), TP_ID_BASE + 1);
    EXPECT_EQ(q.readl(kBase + TP_REG_SCRATCH), 0x1234u) << "state from the checkpoint";
    EXPECT_EQ(q.readl(kBase + TP_REG_LOADS), 1u);
}

INSTANTIATE_TEST_SUITE_P(Faults, IsolatedCrash, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Isolated, ChildKilledFromOutside)
{
    Qemu q(qemu_args(""));
    ASSERT_EQ(q.readl(kBase + TP_REG_ID), TP_ID_BASE + 1);
    auto kids = dp::qtest::children_of(q.pid());
    ASSERT_EQ(kids.size(), 1u);
    ASSERT_EQ(kill(kids[0], SIGKILL), 0);
    q.readl(kBase + TP_REG_ID);
    auto lines = lines_with(q.stderr_text(), "(isolated): ");
    ASSERT_EQ(lines.size(), 1u) << q.stderr_text();
    EXPECT_NE(lines[0].find("crashed (signal 9, Killed) in read at 0x0"), std::string::npos) << lines[0];
    EXPECT_EQ(lines_with(q.stderr_text(), "read offset 0x0 size 4 value 0x0 status 1").size(), 1u);
    EXPECT_EQ(q.qmp({{"execute", "query-status"}})["status"], "running");
}

// The child dies with QEMU, even when QEMU is SIGKILLed (PR_SET_PDEATHSIG).
TEST(Isolated, ChildDoesNotOutliveQemu)
{
    Qemu q(qemu_args(""));
    auto kids = dp::qtest::children_of(q.pid());
    ASSERT_EQ(kids.size(), 1u);
    ASSERT_TRUE(process_exists(kids[0]));
    kill(q.pid(), SIGKILL);
    bool gone = false;
    for (int i = 0; i < 200 && !gone; i++) {
        gone = !process_exists(kids[0]);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(gone) << "child " << kids[0] << " outlived QEMU";
}

// A hot reload after a crash starts a new child with the last checkpoint: the way to recover.
TEST(Isolated, ReloadAfterACrashRecovers)
{
    Qemu q(qemu_args(",checkpoint-ms=1"));  // no args: the reload target (test-periph-v2) gets them too
    q.writel(kBase + TP_REG_SCRATCH, 77);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    q.readl(kBase + TP_REG_ID);                // takes the checkpoint
    auto kids = dp::qtest::children_of(q.pid());
    ASSERT_EQ(kids.size(), 1u);
    kill(kids[0], SIGSEGV);                    // the crash
    q.readl(kBase + TP_REG_ID);
    ASSERT_EQ(lines_with(q.stderr_text(), "(isolated): ").size(), 1u);
    q.qom_set("/machine/peripheral/dp0", "reload", plugin("test-periph-v2"));
    EXPECT_EQ(q.qom_get("/machine/peripheral/dp0", "reload-status").get<std::string>().rfind("ok: ", 0), 0u);
    EXPECT_EQ(q.readl(kBase + TP_REG_VARIANT), 2u);
    EXPECT_EQ(q.readl(kBase + TP_REG_SCRATCH), 77u);
}

TEST(Isolated, StartupErrorsAreOneLine)
{
    auto r = dp::qtest::run_qemu({"-device", "dynperiph,plugin=" + plugin("test-noentry") +
                                                 ",addr=0x40120000,isolate=on,isolate-host=" DP_ISOLATE_HOST});
    EXPECT_EQ(r.exit_code, 1);
    ASSERT_FALSE(r.err_lines().empty());
    EXPECT_NE(r.err_lines()[0].find("not a dynperiph plugin: no 'dynperiph_plugin_entry' symbol"),
              std::string::npos) << r.err;
    r = dp::qtest::run_qemu({"-device", "dynperiph,plugin=" + plugin("test-crash") +
                                            ",addr=0x40120000,isolate=on,isolate-host=" DP_ISOLATE_HOST});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("crashed (signal 11, Segmentation fault) in create"), std::string::npos) << r.err;
    r = dp::qtest::run_qemu({"-device", "dynperiph,plugin=" + plugin("test-periph") +
                                            ",addr=0x40120000,isolate=on,isolate-host=/nonexistent/host"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("cannot start the isolation host '/nonexistent/host'"), std::string::npos) << r.err;
    r = dp::qtest::run_qemu({"-device", "dynperiph,plugin=" + plugin("test-periph") +
                                            ",addr=0x40120000,isolate=on,on-crash=explode"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("on-crash=explode: expected buserror or restart"), std::string::npos) << r.err;
}

TEST(Isolated, SvdPlacementCrossesTheBoundary)
{
    // crc-dma.svd: <baseAddress>0x40110000, <interrupt> 16; the child reports them (placement/1).
    Qemu q({"-device", "dynperiph,id=crc,plugin=" + plugin("crc-dma") + ",isolate=on,isolate-host=" DP_ISOLATE_HOST});
    EXPECT_EQ(q.readl(0x40110000), 0x43524344u);  // ID "CRCD"
    EXPECT_EQ(q.qom_get("/machine/peripheral/crc", "addr").get<uint64_t>(), 0x40110000u);
    EXPECT_EQ(q.qom_get("/machine/peripheral/crc", "irq").get<uint64_t>(), 16u);
    EXPECT_EQ(dp::qtest::children_of(q.pid()).size(), 1u);
}
