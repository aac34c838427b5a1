// Hot reload of a running dynperiph device (QMP qom-set "reload", watch=on): register state carries
// over without a guest-visible reset, a broken file is refused while the old plugin keeps running,
// a reload asked for while the plugin is busy waits until the operation completes.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "qtest_client.hpp"
#include "test_periph_regs.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

using dp::qtest::plugin;
using dp::qtest::Qemu;
using dp::qtest::QmpError;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr uint64_t kBase = 0x40120000;
constexpr uint64_t kSram = 0x20000000;
constexpr int kIrq = 25;
constexpr uint32_t kIdV1 = TP_ID_BASE + 1, kIdV2 = TP_ID_BASE + 2;
const std::string kPath = "/machine/peripheral/dp0";

// A scratch folder holding the plugin file the device loads, so tests can replace it.
struct Scratch {
    fs::path dir;
    Scratch()
    {
        char t[] = "/tmp/dp-reload-XXXXXX";
        dir = mkdtemp(t);
    }
    ~Scratch() { fs::remove_all(dir); }
    std::string put(const std::string& from, const std::string& as = "periph.so")
    {
        fs::copy_file(plugin(from), dir / (as + ".tmp"), fs::copy_options::overwrite_existing);
        fs::rename(dir / (as + ".tmp"), dir / as);  // atomic replacement, as a linker's output
        return (dir / as).string();
    }
    std::vector<std::string> files() const
    {
        std::vector<std::string> out;
        for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename());
        return out;
    }
};

std::vector<std::string> device(const std::string& so, const std::string& extra = "")
{
    return {"-device", "dynperiph,plugin=" + so + ",addr=0x40120000,irq=25,id=dp0" + extra};
}

std::string status(Qemu& q) { return q.qom_get(kPath, "reload-status").get<std::string>(); }

// Polls until pred() or the timeout; returns pred()'s last value.
template <class F>
bool eventually(F pred, std::chrono::milliseconds timeout = 5000ms)
{
    auto end = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

// Puts some state into the device: scratch, MEM bytes, an armed timer, an asserted IRQ.
void make_state(Qemu& q)
{
    q.writel(kBase + TP_REG_SCRATCH, 0x1234abcd);
    q.writel(kBase + TP_MEM + 8, 0xcafef00d);
    q.writel(kBase + TP_REG_IRQ_EN, 3);
    q.writel(kBase + TP_REG_DMA_LEN, 0);
    q.writel(kBase + TP_REG_DMA_CTRL, 1);           // done at once: IRQ line 0 up
    q.writel(kBase + TP_REG_TIMER_NS, 50000);       // pending across the reload
}

void expect_state_kept(Qemu& q)
{
    EXPECT_EQ(q.readl(kBase + TP_REG_SCRATCH), 0x1234abcdu);
    EXPECT_EQ(q.readl(kBase + TP_MEM + 8), 0xcafef00du);
    EXPECT_EQ(q.readl(kBase + TP_REG_IRQ_STAT), 1u);
    EXPECT_TRUE(q.irq_level(kIrq));
}

}  // namespace

TEST(DynperiphReload, StateCarriesOverWithoutReset)
{
    Scratch s;
    auto so = s.put("test-periph");
    Qemu q(device(so));
    q.irq_intercept_in("/machine/armv7m");
    EXPECT_EQ(status(q), "idle");
    make_state(q);
    uint32_t resets = q.readl(kBase + TP_REG_RESETS);

    auto v2 = plugin("test-periph-v2");
    auto t0 = std::chrono::steady_clock::now();
    q.qom_set(kPath, "reload", v2);
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
    std::printf("QMP reload (copy, trial load in a child, dlopen, save/load state, swap): %.2f ms\n",
                us.count() / 1000.0);
    EXPECT_EQ(status(q), "ok: " + v2 + " (generation 2)");
    EXPECT_EQ(q.qom_get(kPath, "reload").get<std::string>(), v2);
    EXPECT_EQ(q.readl(kBase + TP_REG_ID), kIdV2) << "new behaviour";
    EXPECT_EQ(q.readl(kBase + TP_REG_LOADS), 1u);
    expect_state_kept(q);
    EXPECT_EQ(q.readl(kBase + TP_REG_RESETS), resets) << "the reload reset the device";
    EXPECT_EQ(q.irq_raised(kIrq), 1) << "the IRQ line glitched during the reload";

    q.clock_step(50000);  // the timer armed by generation 1 fires in generation 2
    EXPECT_EQ(q.readl(kBase + TP_REG_TIMER_CNT), 1u);
    EXPECT_TRUE(q.irq_level(kIrq + 1));

    q.qom_set(kPath, "reload", "");  // "" = the current file again
    EXPECT_EQ(status(q), "ok: " + v2 + " (generation 3)");
    EXPECT_EQ(q.readl(kBase + TP_REG_LOADS), 2u);
    EXPECT_EQ(q.readl(kBase + TP_REG_SCRATCH), 0x1234abcdu);
}

TEST(DynperiphReload, BrokenFilesAreRefusedAndTheOldPluginKeepsRunning)
{
    Scratch s;
    auto so = s.put("test-periph");
    Qemu q(device(so));
    q.irq_intercept_in("/machine/armv7m");
    make_state(q);
    struct Case {
        std::string file, why;
    } cases[] = {
        {plugin("test-noentry"), "no 'dynperiph_plugin_entry' symbol"},
        {plugin("test-abi2"), "plugin ABI 2.0, this QEMU supports 1.0 to 1.1"},
        {plugin("test-notelf"), "not a loadable plugin"},
        {plugin("test-nulldesc"), "returned no descriptor"},
        {plugin("test-state2"), "load_state refused the state of version 1"},
        {plugin("test-mmio2k"), "MMIO size 0x2000 differs"},
        {plugin("test-crash"), "crashed during initialisation (signal 11"},
        {"/nonexistent/x.so", "file not found"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.file);
        try {
            q.qom_set(kPath, "reload", c.file);
            ADD_FAILURE() << "reload of a broken file succeeded";
        } catch (const QmpError& e) {
            EXPECT_NE(std::string(e.what()).find(c.why), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find(c.file), std::string::npos) << e.what();
        }
        EXPECT_EQ(status(q).rfind("error: ", 0), 0u) << status(q);
        EXPECT_NE(status(q).find(c.why), std::string::npos) << status(q);
        EXPECT_EQ(q.readl(kBase + TP_REG_ID), kIdV1);
        expect_state_kept(q);
    }
    EXPECT_EQ(q.readl(kBase + TP_REG_LOADS), 0u);
    q.writel(kBase + TP_REG_SCRATCH, 5);
    EXPECT_EQ(q.readl(kBase + TP_REG_SCRATCH), 5u) << "old plugin still serves MMIO";
    q.qom_set(kPath, "reload", plugin("test-periph-v2"));  // a good file is still accepted
    EXPECT_EQ(q.readl(kBase + TP_REG_ID), kIdV2);
    EXPECT_EQ(status(q), "ok: " + plugin("test-periph-v2") + " (generation 2)");
    EXPECT_EQ(s.files(), std::vector<std::string>{"periph.so"}) << "private copies left behind";
}

TEST(DynperiphReload, ReloadWhileBusyWaitsForTheOperation)
{
    Scratch s;
    auto so = s.put("test-periph");
    Qemu q(device(so));
    auto data = std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8};
    q.write(kSram, data);
    q.writel(kBase + TP_REG_DELAY_NS, 100000);
    q.writel(kBase + TP_REG_DMA_SRC, kSram);
    q.writel(kBase + TP_REG_DMA_DST, kSram + 0x100);
    q.writel(kBase + TP_REG_DMA_LEN, 8);
    q.writel(kBase + TP_REG_DMA_CTRL, 1);
    ASSERT_EQ(q.readl(kBase + TP_REG_STATUS), TP_ST_BUSY);

    auto v2 = plugin("test-periph-v2");
    q.qom_set(kPath, "reload", v2);  // accepted, but deferred
    EXPECT_EQ(status(q).rfind("pending", 0), 0u) << status(q);
    std::this_thread::sleep_for(100ms);  // several retries happen meanwhile
    EXPECT_EQ(status(q).rfind("pending", 0), 0u) << status(q);
    EXPECT_EQ(q.readl(kBase + TP_REG_ID), kIdV1) << "reloaded while busy";

    q.clock_step(100000);  // the DMA completes in generation 1
    EXPECT_EQ(q.readl(kBase + TP_REG_STATUS), TP_ST_DONE);
    EXPECT_TRUE(eventually([&] { return status(q).rfind("ok: ", 0) == 0; })) << status(q);
    EXPECT_EQ(q.readl(kBase + TP_REG_ID), kIdV2);
    EXPECT_EQ(q.readl(kBase + TP_REG_STATUS), TP_ST_DONE);
    EXPECT_EQ(q.read(kSram + 0x100, 8), data);
}

TEST(DynperiphReload, WatchModePicksUpAReplacedFile)
{
    Scratch s;
    auto so = s.put("test-periph");
    Qemu q(device(so, ",watch=on"));
    q.writel(kBase + TP_REG_SCRATCH, 77);

    auto t0 = std::chrono::steady_clock::now();
    s.put("test-periph-v2");  // atomic rename over the watched file
    ASSERT_TRUE(eventually([&] { return q.readl(kBase + TP_REG_ID) == kIdV2; })) << status(q);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    RecordProperty("watch_reload_ms", static_cast<int>(ms.count()));
    std::printf("watch mode: file replaced -> guest sees the new plugin after %lld ms\n",
                static_cast<long long>(ms.count()));
    EXPECT_EQ(q.readl(kBase + TP_REG_SCRATCH), 77u);
    EXPECT_EQ(status(q), "ok: " + so + " (generation 2)");

    // In-place overwrite (truncate + write, like cp): the running copy is unaffected, the new
    // content is picked up once the file is quiet.
    fs::copy_file(plugin("test-periph"), so, fs::copy_options::overwrite_existing);
    ASSERT_TRUE(eventually([&] { return q.readl(kBase + TP_REG_ID) == kIdV1; })) << status(q);
    EXPECT_EQ(q.readl(kBase + TP_REG_SCRATCH), 77u);
    EXPECT_EQ(q.readl(kBase + TP_REG_LOADS), 2u);

    // A broken replacement is refused; the running plugin stays.
    s.put("test-abi2");
    ASSERT_TRUE(eventually([&] { return status(q).rfind("error: ", 0) == 0; })) << status(q);
    EXPECT_EQ(q.readl(kBase + TP_REG_ID), kIdV1);
    EXPECT_NE(q.stderr_text().find("reload failed, the previous plugin keeps running"),
              std::string::npos) << q.stderr_text();
}
