// run_blocking under TCG: while a guest's MMIO write waits 1.5 s for the plugin's blocking work,
// the vCPU thread has released QEMU's global lock, so QMP keeps answering promptly.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "qtest_client.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <thread>

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(DynperiphTcg, QmpAnswersDuringBlockingWork)
{
    dp::qtest::Options opt;
    opt.accel = "tcg";
    auto start = Clock::now();
    dp::qtest::Qemu q({"-semihosting-config", "enable=on,target=native", "-kernel", DP_TCG_FIRMWARE,
                       "-append", "longwork", "-icount", "shift=0,align=off,sleep=off", "-device",
                       "dynperiph,plugin=" + dp::qtest::plugin("test-periph") + ",addr=0x40120000,id=dp0"},
                      opt);
    std::this_thread::sleep_for(300ms);  // the guest is in its 1.5 s MMIO write by now
    auto worst = Clock::duration::zero();
    for (int i = 0; i < 5; i++) {
        auto t0 = Clock::now();
        auto r = q.qom_get("/machine/peripheral/dp0", "reload-status");
        worst = std::max(worst, Clock::now() - t0);
        EXPECT_EQ(r.get<std::string>(), "idle");
        std::this_thread::sleep_for(50ms);
    }
    EXPECT_LT(Clock::now() - start, 1500ms) << "the work ended before QMP was tested";
    EXPECT_LT(worst, 200ms) << "QMP was blocked by the plugin's work";
    EXPECT_EQ(q.wait_exit(), 0) << "the guest's WORK_RES check failed: " << q.stderr_text();
    EXPECT_GE(Clock::now() - start, 1500ms);
}

// A system reset requested while the guest's MMIO write waits for blocking work reaches the plugin
// only after the work returned (plugin.h: no callback of the instance runs meanwhile); the guest then
// boots again, runs the work a second time and exits 0.
TEST(DynperiphTcg, SystemResetDuringBlockingWorkWaitsForIt)
{
    dp::qtest::Options opt;
    opt.accel = "tcg";
    dp::qtest::Qemu q({"-semihosting-config", "enable=on,target=native", "-kernel", DP_TCG_FIRMWARE,
                       "-append", "longwork", "-icount", "shift=0,align=off,sleep=off", "-device",
                       "dynperiph,plugin=" + dp::qtest::plugin("test-periph") + ",addr=0x40120000,id=dp0"},
                      opt);
    std::this_thread::sleep_for(300ms);  // the guest is in its 1.5 s MMIO write by now
    q.qmp({{"execute", "system_reset"}});
    EXPECT_EQ(q.wait_exit(), 0) << q.stderr_text();
    EXPECT_EQ(q.stderr_text().find("while the blocking work runs"), std::string::npos) << q.stderr_text();
}
