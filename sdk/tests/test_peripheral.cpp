// Peripheral base class + trampolines, exercised through the harness exactly as QEMU would call them.
#include <gtest/gtest.h>

#include <cstring>

#include "dynperiph/testing/harness.hpp"

using namespace dynperiph::testing;

namespace {

std::string probe_path() { return std::string(SDK_TEST_PLUGIN_DIR) + "/probe.so"; }

std::string create_error(const std::string &args) {
    FakeHost host;
    Plugin p = Plugin::load(probe_path());
    try {
        Instance dev(p, host, args);
    } catch (const std::runtime_error &e) {
        return e.what();
    }
    return "no error";
}

struct ProbeTest : ::testing::Test {
    FakeHost host;
    Plugin plugin = Plugin::load(probe_path());
    Instance dev{plugin, host};
    void TearDown() override { EXPECT_TRUE(host.violations().empty()) << host.violations().front(); }
};

} // namespace

TEST(Peripheral, ConstructorExceptionsBecomeCreateErrors) {
    EXPECT_EQ(create_error("fail=error"), "probe: probe: constructor failure requested (error)");
    EXPECT_EQ(create_error("fail=bad_alloc"), "probe: out of memory");
    EXPECT_EQ(create_error("fail=int"), "probe: unknown exception in the plugin's constructor");
    EXPECT_EQ(create_error("bogus=1"), "probe: args: unknown key 'bogus' (known: fail, big)");
    EXPECT_EQ(create_error("big=maybe"), "probe: args: big='maybe' is not a boolean (0/1/true/false/yes/no/on/off)");
    EXPECT_EQ(create_error("big=1"), "probe: register map of regs ends at 0x2004, beyond the plugin's MMIO size 0x1000");
    EXPECT_EQ(create_error(""), "no error");
}

TEST(Peripheral, CreateErrorIsTruncatedSafely) {
    FakeHost host;
    Plugin p = Plugin::load(probe_path());
    char err[8];
    std::memset(err, 'x', sizeof err);
    EXPECT_EQ(p.desc().create(host.host(), "fail=error", err, sizeof err), nullptr);
    EXPECT_EQ(std::string(err), "probe: ");
    EXPECT_EQ(p.desc().create(nullptr, "", err, sizeof err), nullptr);
}

TEST_F(ProbeTest, HookExceptionBecomesBusErrorAndIsLogged) {
    EXPECT_EQ(dev.write(0x00, 4, 1), DP_ERR_BUS);
    EXPECT_TRUE(host.log_contains(DP_LOG_ERROR, "MMIO write failed: probe: hook failure requested"));
    // the device keeps working
    dev.write32(0x0C, 5);
    EXPECT_EQ(dev.read32(0x0C), 5u);
}

TEST_F(ProbeTest, DmaThroughHost) {
    for (int i = 0; i < 16; ++i)
        host.ram()[0x100 + i] = uint8_t(i);
    dev.write32(0x04, 0x20000100);
    dev.write32(0x00, 2);
    EXPECT_EQ(dev.read32(0x08), 120u);
    EXPECT_EQ(host.read_ram(0x20000110, 16), std::vector<uint8_t>(16, 0xA5));
    dev.write32(0x04, 0x10000000); // not RAM
    dev.write32(0x00, 2);
    EXPECT_EQ(dev.read32(0x08), 0xFFFFFFFFu);
    EXPECT_EQ(host.dma_errors(), 1u);
    dev.write32(0x04, 0x20000000 + (1u << 20) - 24); // read fits, write runs past the end of RAM
    dev.write32(0x00, 2);
    EXPECT_EQ(dev.read32(0x08), 0xFFFFFFFEu);
}

TEST_F(ProbeTest, TimerFiresAtDeadlineAndRaisesIrq) {
    dev.write32(0x04, 1000);
    dev.write32(0x00, 3);
    host.advance(999);
    EXPECT_EQ(host.irq(1), 0);
    EXPECT_EQ(dev.read32(0x08), 0u);
    host.advance(1);
    EXPECT_EQ(host.irq(1), 1);
    EXPECT_EQ(dev.read32(0x08), 1u);
    ASSERT_EQ(host.irq_history().size(), 1u);
    EXPECT_EQ(host.irq_history()[0].time_ns, 1000u);
}

TEST_F(ProbeTest, TimerCallbackExceptionIsLogged) {
    dev.write32(0x04, 10);
    dev.write32(0x00, 9);
    host.advance(10);
    EXPECT_TRUE(host.log_contains(DP_LOG_ERROR, "timer callback failed: probe: timer failure requested"));
    EXPECT_EQ(dev.read32(0x08), 0u);
}

TEST_F(ProbeTest, RunBlockingRunsOnWorkerAndRethrows) {
    dev.write32(0x04, 100);
    dev.write32(0x00, 4);
    EXPECT_EQ(dev.read32(0x08), 5050u);
    EXPECT_EQ(host.blocking_runs(), 1u);
    EXPECT_EQ(dev.write(0x00, 4, 5), DP_ERR_BUS);
    EXPECT_TRUE(host.log_contains(DP_LOG_ERROR, "probe: worker failure requested"));
    host.fail_run_blocking = true;
    dev.write32(0x00, 4);
    EXPECT_EQ(dev.read32(0x08), 0xFFFFFFFFu);
}

TEST_F(ProbeTest, IrqAndClock) {
    host.advance(1234);
    dev.write32(0x04, 0);
    dev.write32(0x00, 7);
    EXPECT_EQ(host.irq(0), 1);
    EXPECT_EQ(dev.read32(0x08), 1234u);
    dev.write32(0x00, 8);
    EXPECT_EQ(host.irq(0), 0);
    EXPECT_EQ(host.irq_raises(0), 1u);
}

TEST_F(ProbeTest, UnknownCommandAndRegisterErrorsAreGuestErrors) {
    dev.write32(0x00, 77);
    EXPECT_TRUE(host.log_contains(DP_LOG_GUEST_ERROR, "unknown command 77"));
    uint64_t v;
    EXPECT_EQ(dev.read(0x400, 4, v), DP_OK);
    EXPECT_TRUE(host.log_contains(DP_LOG_GUEST_ERROR, "unmapped offset 0x400"));
    dev.write32(0x08, 1);
    EXPECT_TRUE(host.log_contains(DP_LOG_GUEST_ERROR, "read-only bits"));
}

TEST_F(ProbeTest, SaveLoadThroughTheAbi) {
    dev.write32(0x0C, 0xfeed);
    dev.write32(0x04, 7);
    std::vector<uint8_t> blob;
    ASSERT_EQ(dev.save(blob), DP_OK);
    EXPECT_GT(blob.size(), 12u);
    // too small a buffer: NOMEM with the needed length
    size_t len = 0;
    uint8_t small[4];
    EXPECT_EQ(dev.desc().save_state(dev.raw(), small, sizeof small, &len), DP_ERR_NOMEM);
    EXPECT_EQ(len, blob.size());

    Instance fresh(plugin, host);
    ASSERT_EQ(fresh.load(1, blob), DP_OK);
    EXPECT_EQ(fresh.read32(0x0C), 0xfeedu);
    EXPECT_EQ(fresh.read32(0x04), 7u);
    // wrong version (the plugin's override throws), truncated and garbage blobs: INVALID, state kept
    EXPECT_EQ(fresh.load(2, blob), DP_ERR_INVALID);
    EXPECT_TRUE(host.log_contains(DP_LOG_ERROR, "load_state failed: probe: cannot load state version 2"));
    std::vector<uint8_t> cut(blob.begin(), blob.end() - 2);
    fresh.write32(0x0C, 1);
    EXPECT_EQ(fresh.load(1, cut), DP_ERR_INVALID);
    EXPECT_EQ(fresh.read32(0x0C), 1u);
    EXPECT_EQ(fresh.load(1, std::vector<uint8_t>(40, 0xEE)), DP_ERR_INVALID);
}

TEST_F(ProbeTest, ResetRestoresRegisters) {
    dev.write32(0x0C, 3);
    dev.reset();
    EXPECT_EQ(dev.read32(0x0C), 0u);
}

TEST(Peripheral, HostServiceFromWorkerIsAViolation) {
    FakeHost host;
    Plugin p = Plugin::load(probe_path());
    Instance dev(p, host);
    dev.write32(0x00, 6);
    ASSERT_EQ(host.violations().size(), 1u);
    EXPECT_EQ(host.violations()[0], "clock_ns called from a thread other than the device thread");
}
