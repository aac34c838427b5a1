// The isolation proxy (isolate/dp_isolate.c) without QEMU: the SDK's FakeHost stands in for the device's
// dp_host, the child is the real dp-isolate-host (or python/dp-python-host). Checks that every host
// service crosses the boundary (DMA, IRQ, clock, timers, log, run_blocking, save/load) and that a
// crashing child becomes DP_ERR_BUS plus one log line.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "dp_isolate.h"
#include "test_periph_regs.h"

#include <dynperiph/testing/harness.hpp>
#include <gtest/gtest.h>

#include <string>

using dynperiph::testing::FakeHost;
using dynperiph::testing::plugin_path;

namespace {

struct Isolated {
    Isolated(FakeHost& h, const std::string& path, const std::string& args, bool restart = false,
             const char* prog = DP_ISOLATE_HOST)
        : host(h)
    {
        dp_isolate_cfg cfg{prog, 300, 400, 10000, 1, restart};
        char err[512] = "";
        p = dp_isolate_open(&cfg, path.c_str(), h.host(), err, sizeof err);
        if (!p) throw std::runtime_error(err);
        d = dp_isolate_desc(p);
        inst = d->create(h.host(), args.c_str(), err, sizeof err);
        if (!inst) throw std::runtime_error(err);
    }
    ~Isolated()
    {
        d->destroy(inst);
        dp_isolate_close(p);
    }
    uint32_t rd(uint64_t off, dp_status* st = nullptr)
    {
        uint64_t v = 0;
        dp_status s = d->read(inst, off, 4, &v);
        if (st) *st = s;
        return static_cast<uint32_t>(v);
    }
    dp_status wr(uint64_t off, uint32_t v) { return d->write(inst, off, 4, v); }
    FakeHost& host;
    dp_isolate* p = nullptr;
    const dp_plugin_desc* d = nullptr;
    dp_instance* inst = nullptr;
};

}  // namespace

TEST(IsolateProxy, EveryServiceCrossesTheBoundary)
{
    FakeHost h;
    Isolated i(h, plugin_path("test-periph"), "scratch=5");
    EXPECT_EQ(i.d->mmio_size, 0x1000u);
    EXPECT_EQ(i.d->irq_count, 2u);
    EXPECT_STREQ(i.d->name, "test-periph");
    EXPECT_EQ(i.rd(TP_REG_ID), TP_ID_BASE + 1);
    EXPECT_EQ(i.rd(TP_REG_SCRATCH), 5u);
    // DMA through the host, IRQ
    std::vector<uint8_t> data(64);
    for (size_t k = 0; k < data.size(); k++) data[k] = uint8_t(k * 3);
    h.write_ram(0x20000000, data);
    i.wr(TP_REG_IRQ_EN, 3);
    i.wr(TP_REG_DMA_SRC, 0x20000000);
    i.wr(TP_REG_DMA_DST, 0x20000100);
    i.wr(TP_REG_DMA_LEN, 64);
    i.wr(TP_REG_DMA_CTRL, 1);
    EXPECT_EQ(i.rd(TP_REG_STATUS), uint32_t(TP_ST_DONE));
    EXPECT_EQ(h.read_ram(0x20000100, 64), data);
    EXPECT_EQ(h.irq(0), 1);
    i.wr(TP_REG_DMA_SRC, 0x10000000);   // not RAM: refused by the host
    i.wr(TP_REG_DMA_CTRL, 1);
    EXPECT_EQ(i.rd(TP_REG_STATUS), uint32_t(TP_ST_SRC_ERR));
    // clock, timer
    h.advance(500);
    EXPECT_EQ(i.rd(TP_REG_CLOCK_LO), 500u);
    i.wr(TP_REG_TIMER_NS, 1000);
    h.advance(999);
    EXPECT_EQ(i.rd(TP_REG_TIMER_CNT), 0u);
    h.advance(1);
    EXPECT_EQ(i.rd(TP_REG_TIMER_CNT), 1u);
    EXPECT_EQ(h.irq(1), 1);
    // log, blocking work
    EXPECT_EQ(i.wr(0x800, 1), DP_ERR_BUS);
    EXPECT_TRUE(h.log_contains(DP_LOG_GUEST_ERROR, "write to a read-only or unknown register"));
    EXPECT_EQ(i.wr(TP_REG_WORK, 3), DP_OK);
    EXPECT_EQ(i.rd(TP_REG_WORK_RES), 7u);
    EXPECT_EQ(h.blocking_runs(), 1u);
    // save / load / reset
    size_t len = 0;
    ASSERT_EQ(i.d->save_state(i.inst, nullptr, 0, &len), DP_OK);
    std::vector<uint8_t> blob(len);
    ASSERT_EQ(i.d->save_state(i.inst, blob.data(), blob.size(), &len), DP_OK);
    i.d->reset(i.inst);
    EXPECT_EQ(i.rd(TP_REG_TIMER_CNT), 0u);
    ASSERT_EQ(i.d->load_state(i.inst, 1, blob.data(), blob.size()), DP_OK);
    EXPECT_EQ(i.rd(TP_REG_TIMER_CNT), 1u);
    EXPECT_EQ(i.rd(TP_REG_LOADS), 1u);
    EXPECT_TRUE(h.violations().empty());
}

TEST(IsolateProxy, CrashIsABusErrorAndOneLogLine)
{
    FakeHost h;
    Isolated i(h, plugin_path("test-faulty"), "fault=segv@read");
    dp_status st;
    EXPECT_EQ(i.rd(TP_REG_ID), TP_ID_BASE + 1);
    i.rd(TP_REG_FAULT, &st);
    EXPECT_EQ(st, DP_ERR_BUS);
    EXPECT_EQ(h.log_count(DP_LOG_ERROR), 1u);
    EXPECT_TRUE(h.log_contains(DP_LOG_ERROR, "crashed (signal 11, Segmentation fault) in read at 0x4c; bus errors"));
    i.rd(TP_REG_ID, &st);
    EXPECT_EQ(st, DP_ERR_BUS);
}

TEST(IsolateProxy, HangInBlockingWorkRestarts)
{
    FakeHost h;
    Isolated i(h, plugin_path("test-faulty"), "fault=hang@work", true);
    EXPECT_EQ(i.wr(TP_REG_SCRATCH, 9), DP_OK);
    usleep(3000);
    EXPECT_EQ(i.rd(TP_REG_ID), TP_ID_BASE + 1);  // checkpoint (SCRATCH 9)
    EXPECT_EQ(i.wr(TP_REG_WORK, 1), DP_ERR_BUS);
    EXPECT_TRUE(h.log_contains(DP_LOG_ERROR, "hung (no answer within 400 ms; killed) in blocking work of write at 0x38; restarted"))
        << (h.logs().empty() ? "" : h.logs().back().text);
    EXPECT_EQ(i.rd(TP_REG_SCRATCH), 9u);
}

TEST(IsolateProxy, PythonPeripheral)
{
    FakeHost h;
    Isolated i(h, DP_SOURCE_DIR "/peripherals/crc-dma/crc_dma.py", "", false, DP_SOURCE_DIR "/python/dp-python-host");
    EXPECT_STREQ(i.d->name, "crc-dma-py");
    EXPECT_EQ(i.rd(0x00), 0x43524344u);
    const char digits[] = "123456789";
    h.write_ram(0x20000000, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(digits), 9));
    i.wr(0x0C, 0x20000000);
    i.wr(0x10, 9);
    i.wr(0x04, 0x3);  // START, IE
    EXPECT_EQ(i.rd(0x08) & 1, 1u) << "BUSY";
    h.run_until_idle();
    EXPECT_EQ(i.rd(0x08) & 2, 2u) << "DONE";
    EXPECT_EQ(i.rd(0x1C), 0xCBF43926u);
    EXPECT_EQ(h.irq(0), 1);
}
