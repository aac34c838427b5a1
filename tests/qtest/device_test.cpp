// The dynperiph QEMU device driven through qtest with the plain-C test plugin (tests/plugins):
// MMIO with access sizes, DMA into guest RAM and its range checks, IRQs on the NVIC, virtual-clock
// timers, blocking work, reset, several instances, trace events.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "qtest_client.hpp"
#include "test_periph_regs.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <unistd.h>
#include <thread>

using dp::qtest::plugin;
using dp::qtest::Qemu;

namespace {

constexpr uint64_t kBase = 0x40120000;  // test area of the mps2-an385 address plan
constexpr uint64_t kBase2 = 0x40121000;
constexpr int kIrq = 25;                 // free NVIC inputs on mps2-an385: 23, 25-31
constexpr int kIrq2 = 27;
constexpr uint64_t kSram = 0x20000000;   // mps2-an385 SSRAM2/3, 8 MiB

std::string dev(const std::string& so, uint64_t addr, const std::string& extra = "")
{
    char a[32];
    std::snprintf(a, sizeof a, "0x%llx", static_cast<unsigned long long>(addr));
#ifdef DP_TEST_ISOLATE  // dynperiph_isolated_device_tests: the same tests with the plugin in a child
    return "dynperiph,plugin=" + plugin(so) + ",addr=" + a + ",isolate=on,isolate-host=" DP_TEST_ISOLATE + extra;
#else
    return "dynperiph,plugin=" + plugin(so) + ",addr=" + a + extra;
#endif
}

std::vector<std::string> one_device(const std::string& extra = "")
{
    return {"-device", dev("test-periph", kBase, ",irq=25,id=dp0" + extra)};
}

std::vector<uint8_t> pattern(size_t n, uint8_t seed)
{
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; i++) v[i] = static_cast<uint8_t>(seed + 7 * i);
    return v;
}

// Runs a DMA copy of len bytes (no latency) and returns STATUS.
uint32_t dma(Qemu& q, uint64_t base, uint64_t src, uint64_t dst, uint32_t len)
{
    q.writel(base + TP_REG_DMA_SRC, static_cast<uint32_t>(src));
    q.writel(base + TP_REG_DMA_DST, static_cast<uint32_t>(dst));
    q.writel(base + TP_REG_DMA_LEN, len);
    q.writel(base + TP_REG_DMA_CTRL, 1);
    return q.readl(base + TP_REG_STATUS);
}

}  // namespace

TEST(DynperiphDevice, MmioReachesThePlugin)
{
    Qemu q(one_device(",args=scratch=0x5a5a"));
    EXPECT_EQ(q.readl(kBase + TP_REG_ID), (TP_ID_BASE + 1));
    EXPECT_EQ(q.readl(kBase + TP_REG_VARIANT), 1u);
    EXPECT_EQ(q.readl(kBase + TP_REG_SCRATCH), 0x5a5au) << "args reach create()";
    q.writel(kBase + TP_REG_SCRATCH, 0xdeadbeef);
    EXPECT_EQ(q.readl(kBase + TP_REG_SCRATCH), 0xdeadbeefu);
}

TEST(DynperiphDevice, AccessSizeIsForwarded)
{
    Qemu q(one_device());
    q.writeb(kBase + TP_MEM + 3, 0x11);
    EXPECT_EQ(q.readl(kBase + TP_REG_LAST_SIZE), 1u);
    q.writew(kBase + TP_MEM + 4, 0x2233);
    EXPECT_EQ(q.readl(kBase + TP_REG_LAST_SIZE), 2u);
    q.writel(kBase + TP_MEM + 8, 0x44556677);
    EXPECT_EQ(q.readl(kBase + TP_REG_LAST_SIZE), 4u);
    q.writeq(kBase + TP_MEM + 16, 0x8899aabbccddeeffull);
    EXPECT_EQ(q.readl(kBase + TP_REG_LAST_SIZE), 8u);

    EXPECT_EQ(q.readl(kBase + TP_MEM), 0x11000000u) << "a byte write changes one byte only";
    EXPECT_EQ(q.readw(kBase + TP_MEM + 4), 0x2233u);
    EXPECT_EQ(q.readb(kBase + TP_MEM + 9), 0x66u);
    EXPECT_EQ(q.readq(kBase + TP_MEM + 16), 0x8899aabbccddeeffull);
    EXPECT_EQ(q.readw(kBase + TP_MEM + 20), 0xaabbu);
}

TEST(DynperiphDevice, BusErrorStatusIsTraced)
{
    Qemu t({"-trace", "dynperiph_read", "-device", dev("test-periph", kBase, ",id=dp0")});
    t.readl(kBase + 0x800);  // no register there: the plugin answers DP_ERR_BUS
    t.readl(kBase + TP_REG_ID);
    auto err = t.stderr_text();
    EXPECT_NE(err.find("dynperiph_read dp0: read offset 0x800 size 4 value 0x0 status 1"),
              std::string::npos) << err;
    EXPECT_NE(err.find("dynperiph_read dp0: read offset 0x0 size 4 value 0x7e570001 status 0"),
              std::string::npos) << err;
}

TEST(DynperiphDevice, DmaRoundTripThroughGuestRam)
{
    Qemu q(one_device());
    auto data = pattern(256, 3);
    q.write(kSram + 0x100, data);
    EXPECT_EQ(dma(q, kBase, kSram + 0x100, kSram + 0x8000, 256), TP_ST_DONE);
    EXPECT_EQ(q.read(kSram + 0x8000, 256), data);
    EXPECT_EQ(q.read(kSram + 0x8100, 4), std::vector<uint8_t>(4, 0)) << "nothing beyond len";
    EXPECT_EQ(dma(q, kBase, kSram, kSram + 0x10, 0), TP_ST_DONE) << "len 0 is valid";
}

TEST(DynperiphDevice, DmaRejectsRangesThatAreNotRam)
{
    Qemu q({"-device", dev("test-periph", kBase, ",id=dp0"), "-device",
            dev("test-periph", kBase2, ",id=dp1")});
    q.writel(kBase2 + TP_MEM, 0x12345678);
    q.writeb(kBase2 + TP_MEM + 0x10, 0x99);  // LAST_SIZE = 1: any DMA write would change it
    struct Case {
        const char* what;
        uint64_t src, dst;
        uint32_t len;
        uint32_t status;
    } cases[] = {
        {"unmapped source", 0x60000000, kSram, 16, TP_ST_SRC_ERR},
        {"MMIO source (another plugin)", kBase2 + TP_MEM, kSram, 16, TP_ST_SRC_ERR},
        {"MMIO source (UART)", 0x40004000, kSram, 4, TP_ST_SRC_ERR},
        {"source runs from RAM into a placeholder", 0x207ffff0, kSram, 0x20, TP_ST_SRC_ERR},
        {"source past the 4 GiB end", 0xffffff00, kSram, 0x200, TP_ST_SRC_ERR},
        {"MMIO destination", kSram, kBase2 + TP_MEM, 16, TP_ST_DST_ERR},
        {"unmapped destination", kSram, 0x60000000, 16, TP_ST_DST_ERR},
        {"destination runs out of RAM", kSram, 0x207ffff8, 16, TP_ST_DST_ERR},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(dma(q, kBase, c.src, c.dst, c.len), c.status) << c.what;
    }
    EXPECT_EQ(q.readl(kBase2 + TP_MEM), 0x12345678u) << "a rejected DMA touched another device";
    EXPECT_EQ(q.readl(kBase2 + TP_REG_LAST_SIZE), 1u) << "a rejected DMA wrote to another device";
    EXPECT_EQ(q.read(0x207ffff8, 8), std::vector<uint8_t>(8, 0)) << "partial write happened";
}

TEST(DynperiphDevice, IrqRaisedAndLoweredOnTheNvic)
{
    Qemu q(one_device());
    q.irq_intercept_in("/machine/armv7m");
    q.writel(kBase + TP_REG_IRQ_EN, 1);
    EXPECT_FALSE(q.irq_level(kIrq));
    EXPECT_EQ(dma(q, kBase, kSram, kSram + 0x100, 4), TP_ST_DONE);
    EXPECT_TRUE(q.irq_level(kIrq));
    EXPECT_FALSE(q.irq_level(kIrq + 1)) << "line 1 stays low";
    q.writel(kBase + TP_REG_IRQ_STAT, 1);
    EXPECT_FALSE(q.irq_level(kIrq));
    EXPECT_EQ(q.irq_raised(kIrq), 1);
}

TEST(DynperiphDevice, TimerFiresAfterTheVirtualDelayAndNotBefore)
{
    Qemu q(one_device());
    q.irq_intercept_in("/machine/armv7m");
    q.writel(kBase + TP_REG_IRQ_EN, 2);
    int64_t t0 = q.clock_ns();
    EXPECT_EQ(q.readl(kBase + TP_REG_CLOCK_LO), static_cast<uint32_t>(t0));
    q.writel(kBase + TP_REG_TIMER_NS, 10000);
    q.clock_step(9999);
    EXPECT_EQ(q.readl(kBase + TP_REG_TIMER_CNT), 0u);
    EXPECT_FALSE(q.irq_level(kIrq + 1));
    q.clock_step(1);
    EXPECT_EQ(q.readl(kBase + TP_REG_TIMER_CNT), 1u);
    EXPECT_TRUE(q.irq_level(kIrq + 1));
    EXPECT_EQ(q.readl(kBase + TP_REG_CLOCK_LO), static_cast<uint32_t>(t0 + 10000));

    q.writel(kBase + TP_REG_TIMER_NS, 500);  // cancelled before it fires
    q.writel(kBase + TP_REG_TIMER_NS, 0);
    q.clock_step(100000);
    EXPECT_EQ(q.readl(kBase + TP_REG_TIMER_CNT), 1u);
}

TEST(DynperiphDevice, DmaLatencyComesFromAHostTimer)
{
    Qemu q(one_device());
    auto data = pattern(64, 9);
    q.write(kSram, data);
    q.writel(kBase + TP_REG_DELAY_NS, 5000);
    EXPECT_EQ(dma(q, kBase, kSram, kSram + 0x1000, 64), TP_ST_BUSY);
    q.clock_step(4999);
    EXPECT_EQ(q.readl(kBase + TP_REG_STATUS), TP_ST_BUSY);
    EXPECT_EQ(q.read(kSram + 0x1000, 64), std::vector<uint8_t>(64, 0));
    q.clock_step(1);
    EXPECT_EQ(q.readl(kBase + TP_REG_STATUS), TP_ST_DONE);
    EXPECT_EQ(q.read(kSram + 0x1000, 64), data);
}

TEST(DynperiphDevice, BlockingWorkRunsWithoutAdvancingGuestTime)
{
    Qemu q(one_device());
    int64_t t0 = q.clock_ns();
    auto start = std::chrono::steady_clock::now();
    q.writel(kBase + TP_REG_WORK, 200);  // the worker sleeps 200 ms of host time
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(q.readl(kBase + TP_REG_WORK_RES), 401u);
    EXPECT_GE(took, std::chrono::milliseconds(200));
    EXPECT_EQ(q.clock_ns(), t0) << "the virtual clock moved during blocking work";
}

TEST(DynperiphDevice, SystemResetResetsThePlugin)
{
    Qemu q(one_device(",args=scratch=7"));
    q.irq_intercept_in("/machine/armv7m");
    uint32_t resets = q.readl(kBase + TP_REG_RESETS);  // machine start resets once
    q.writel(kBase + TP_REG_SCRATCH, 99);
    q.writel(kBase + TP_REG_IRQ_EN, 1);
    dma(q, kBase, kSram, kSram + 4, 4);
    ASSERT_TRUE(q.irq_level(kIrq));
    q.qmp({{"execute", "system_reset"}});
    for (int i = 0; i < 200 && q.readl(kBase + TP_REG_RESETS) == resets; i++)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(q.readl(kBase + TP_REG_RESETS), resets + 1);
    EXPECT_EQ(q.readl(kBase + TP_REG_SCRATCH), 7u);
    EXPECT_EQ(q.readl(kBase + TP_REG_IRQ_EN), 0u);
    EXPECT_FALSE(q.irq_level(kIrq)) << "reset lowers the line";
}

TEST(DynperiphDevice, TwoInstancesAreIndependent)
{
    Qemu q({"-device", dev("test-periph", kBase, ",irq=25,id=dp0,args=scratch=1"), "-device",
            dev("test-periph-v2", kBase2, ",irq=27,id=dp1,args=scratch=2")});
    q.irq_intercept_in("/machine/armv7m");
    EXPECT_EQ(q.readl(kBase + TP_REG_ID), (TP_ID_BASE + 1));
    EXPECT_EQ(q.readl(kBase2 + TP_REG_ID), (TP_ID_BASE + 2));
    EXPECT_EQ(q.readl(kBase + TP_REG_SCRATCH), 1u);
    EXPECT_EQ(q.readl(kBase2 + TP_REG_SCRATCH), 2u);
    q.writel(kBase2 + TP_REG_SCRATCH, 22);
    EXPECT_EQ(q.readl(kBase + TP_REG_SCRATCH), 1u);
    q.writel(kBase2 + TP_REG_IRQ_EN, 1);
    dma(q, kBase2, kSram, kSram + 0x40, 4);
    EXPECT_TRUE(q.irq_level(kIrq2));
    EXPECT_FALSE(q.irq_level(kIrq));
}

TEST(DynperiphDevice, SameFileTwiceGivesTwoInstances)
{
    Qemu q({"-device", dev("test-periph", kBase, ",id=a"), "-device",
            dev("test-periph", kBase2, ",id=b")});
    q.writel(kBase + TP_REG_SCRATCH, 10);
    q.writel(kBase2 + TP_REG_SCRATCH, 20);
    EXPECT_EQ(q.readl(kBase + TP_REG_SCRATCH), 10u);
    EXPECT_EQ(q.readl(kBase2 + TP_REG_SCRATCH), 20u);
}

TEST(DynperiphDevice, PlaceholderHoleIsCoveredAndNeighboursStayUnimplemented)
{
    Qemu q({"-d", "unimp", "-trace", "dynperiph_read", "-device", dev("test-periph", kBase, "")});
    EXPECT_EQ(q.readl(kBase + TP_REG_ID), (TP_ID_BASE + 1)) << "the device wins over the placeholder";
    q.readl(kBase + 0x1000 + TP_REG_SCRATCH);  // just past mmio_size (0x1000)
    auto err = q.stderr_text();
    EXPECT_NE(err.find("dynperiph@0x40120000: read offset 0x0 size 4"), std::string::npos)
        << "a device without id is named after its address: " << err;
    EXPECT_EQ(err.find("offset 0x1004"), std::string::npos) << "the region is larger than mmio_size";
    EXPECT_NE(err.find("unimplemented device read"), std::string::npos)
        << "the board's placeholder no longer answers next to the device: " << err;
}

TEST(DynperiphDevice, InstancesAreDestroyedWhenQemuExits)
{
    auto marker = std::filesystem::temp_directory_path() /
                  ("dp-marker-" + std::to_string(getpid()));
    {
        Qemu q({"-device", dev("test-periph", kBase, ",id=dp0,args=marker=" + marker.string()),
                "-device", dev("test-periph", kBase2, ",id=dp1,trial=off")});
        EXPECT_TRUE(std::filesystem::exists(marker)) << "create() did not run";
        EXPECT_EQ(q.readl(kBase2 + TP_REG_ID), (TP_ID_BASE + 1)) << "trial=off loads too";
        EXPECT_EQ(q.quit(), 0);
    }
    EXPECT_FALSE(std::filesystem::exists(marker)) << "destroy() did not run at exit";
    std::filesystem::remove(marker);
}
