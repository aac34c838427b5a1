// crc-dma plugin through the host harness: loaded from plugins/crc-dma.so exactly as QEMU loads it.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "dynperiph/testing/harness.hpp"

using namespace dynperiph::testing;

namespace {

// Offsets and bits as in crc-dma.svd; the generated firmware header is checked against them below.
enum : uint32_t { ID = 0x00, CTRL = 0x04, STATUS = 0x08, SRC = 0x0C, LEN = 0x10, DST = 0x14, INIT = 0x18,
                  RESULT = 0x1C, ERRCODE = 0x20, LAST_NS = 0x24 };
enum : uint32_t { START = 1u << 0, IE = 1u << 1, POLY_C = 1u << 2, POLY_BAD = 2u << 2, COPY = 1u << 4 };
enum : uint32_t { BUSY = 1u << 0, DONE = 1u << 1, ERROR = 1u << 2 };
constexpr uint64_t kRam = 0x20000000;

// Independent bitwise reference CRC.
uint32_t ref_crc(uint32_t poly, const uint8_t *p, size_t n, uint32_t init = 0xffffffffu) {
    uint32_t c = init;
    for (size_t i = 0; i < n; ++i) {
        c ^= p[i];
        for (int k = 0; k < 8; ++k)
            c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
    }
    return c ^ 0xffffffffu;
}

struct CrcDma : ::testing::Test {
    FakeHost host{kRam, 2u << 20};
    Plugin plugin = Plugin::load(plugin_path("crc-dma"));
    std::unique_ptr<Instance> dev;
    void SetUp() override { dev = std::make_unique<Instance>(plugin, host); }
    void TearDown() override {
        dev.reset();
        EXPECT_TRUE(host.violations().empty()) << host.violations().front();
        EXPECT_EQ(host.live_timers(), 0u) << "timers freed at destroy";
    }
    void put(uint64_t addr, const std::string &s) {
        host.write_ram(addr, std::span(reinterpret_cast<const uint8_t *>(s.data()), s.size()));
    }
    void start(uint64_t src, uint32_t len, uint32_t ctrl = 0) {
        dev->write32(SRC, uint32_t(src));
        dev->write32(LEN, len);
        dev->write32(CTRL, ctrl | START);
    }
};

} // namespace

TEST_F(CrcDma, Descriptor) {
    EXPECT_STREQ(plugin.desc().name, "crc-dma");
    EXPECT_EQ(plugin.desc().mmio_size, 0x1000u);
    EXPECT_EQ(plugin.desc().irq_count, 1u);
    EXPECT_EQ(dev->read32(ID), 0x43524344u);
    EXPECT_EQ(dev->read32(INIT), 0xffffffffu);
}

TEST_F(CrcDma, Crc32CheckValueWithBusyLatencyAndIrq) {
    put(kRam + 0x100, "123456789");
    start(kRam + 0x100, 9, IE);
    EXPECT_EQ(dev->read32(STATUS), BUSY);
    EXPECT_EQ(host.irq(0), 0);
    const uint64_t ns = (16 + 9) * 1000000000ull / 50000000; // setup + 1 cycle/byte at 50 MHz = 500 ns
    host.advance(ns - 1);
    EXPECT_EQ(dev->read32(STATUS), BUSY);
    EXPECT_EQ(dev->read32(RESULT), 0u) << "RESULT only valid at DONE";
    host.advance(1);
    EXPECT_EQ(dev->read32(STATUS), DONE);
    EXPECT_EQ(dev->read32(RESULT), 0xCBF43926u); // the CRC-32 check value
    EXPECT_EQ(dev->read32(LAST_NS), ns);
    EXPECT_EQ(host.irq(0), 1);
    ASSERT_FALSE(host.irq_history().empty());
    EXPECT_EQ(host.irq_history().back().time_ns, ns);
    dev->write32(STATUS, DONE); // W1C
    EXPECT_EQ(dev->read32(STATUS), 0u);
    EXPECT_EQ(host.irq(0), 0);
    EXPECT_EQ(host.irq_raises(0), 1u);
}

TEST_F(CrcDma, Crc32cAndInitAndPolling) {
    put(kRam, "123456789");
    start(kRam, 9, POLY_C);
    host.run_until_idle();
    EXPECT_EQ(dev->read32(RESULT), 0xE3069283u); // the CRC-32C check value
    EXPECT_EQ(host.irq(0), 0) << "IE clear: no IRQ";
    dev->write32(INIT, 0x12345678);
    start(kRam, 9);
    host.run_until_idle();
    const uint8_t msg[] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
    EXPECT_EQ(dev->read32(RESULT), ref_crc(0xEDB88320u, msg, 9, 0x12345678));
}

TEST_F(CrcDma, LargeBufferWithCopyMatchesReference) {
    std::vector<uint8_t> data(100000);
    uint32_t x = 1;
    for (auto &b : data) {
        x = x * 1103515245u + 12345u;
        b = uint8_t(x >> 16);
    }
    host.write_ram(kRam + 0x1000, data);
    dev->write32(DST, uint32_t(kRam + 0x80000));
    start(kRam + 0x1000, uint32_t(data.size()), COPY | IE);
    host.run_until_idle();
    EXPECT_EQ(dev->read32(STATUS), DONE);
    EXPECT_EQ(dev->read32(RESULT), ref_crc(0xEDB88320u, data.data(), data.size()));
    EXPECT_EQ(host.read_ram(kRam + 0x80000, data.size()), data);
    EXPECT_EQ(host.now(), (16 + 100000) * 1000000000ull / 50000000);
}

TEST_F(CrcDma, ZeroLength) {
    start(kRam, 0);
    host.run_until_idle();
    EXPECT_EQ(dev->read32(STATUS), DONE);
    EXPECT_EQ(dev->read32(RESULT), 0u); // ~0xffffffff
}

TEST_F(CrcDma, ErrorsAreReportedAndTheDeviceRecovers) {
    // SRC outside RAM
    start(0x10000000, 16, IE);
    EXPECT_EQ(dev->read32(STATUS), ERROR);
    EXPECT_EQ(dev->read32(ERRCODE), 1u);
    EXPECT_EQ(host.irq(0), 1);
    EXPECT_TRUE(host.log_contains(DP_LOG_GUEST_ERROR, "ERRCODE 1"));
    dev->write32(STATUS, ERROR);
    EXPECT_EQ(host.irq(0), 0);
    // range running past the end of RAM
    start(kRam + (2u << 20) - 8, 16);
    EXPECT_EQ(dev->read32(ERRCODE), 1u);
    // DST outside RAM
    dev->write32(DST, 0x30000000);
    start(kRam, 16, COPY);
    EXPECT_EQ(dev->read32(ERRCODE), 2u);
    // too long
    start(kRam, 0x100001);
    EXPECT_EQ(dev->read32(ERRCODE), 3u);
    // bad polynomial
    start(kRam, 4, POLY_BAD);
    EXPECT_EQ(dev->read32(ERRCODE), 5u);
    // START while BUSY: error, the running operation continues and completes
    put(kRam, "123456789");
    start(kRam, 9);
    EXPECT_EQ(dev->read32(STATUS), BUSY);
    dev->write32(CTRL, START);
    EXPECT_EQ(dev->read32(STATUS), BUSY | ERROR);
    EXPECT_EQ(dev->read32(ERRCODE), 4u);
    host.run_until_idle();
    EXPECT_EQ(dev->read32(STATUS), DONE | ERROR);
    EXPECT_EQ(dev->read32(RESULT), 0xCBF43926u);
    // a good START clears the old flags
    start(kRam, 9);
    host.run_until_idle();
    EXPECT_EQ(dev->read32(STATUS), DONE);
    EXPECT_EQ(dev->read32(ERRCODE), 0u);
}

TEST_F(CrcDma, RegisterSemantics) {
    dev->write32(ID, 0);
    EXPECT_EQ(dev->read32(ID), 0x43524344u);
    dev->write32(RESULT, 5);
    EXPECT_EQ(dev->read32(RESULT), 0u);
    dev->write32(CTRL, IE | COPY | POLY_C);
    EXPECT_EQ(dev->read32(CTRL), IE | COPY | POLY_C) << "START reads 0";
    dev->write32(STATUS, BUSY); // RO: ignored
    EXPECT_EQ(dev->read32(STATUS), 0u);
    uint64_t v = 1;
    EXPECT_EQ(dev->read(0x800, 4, v), DP_OK);
    EXPECT_EQ(v, 0u);
    EXPECT_TRUE(host.log_contains(DP_LOG_GUEST_ERROR, "unmapped offset 0x800"));
    // IE enabled while DONE pending raises the line; disabling lowers it
    start(kRam, 4);
    host.run_until_idle();
    EXPECT_EQ(host.irq(0), 0);
    dev->write32(CTRL, IE);
    EXPECT_EQ(host.irq(0), 1);
    dev->write32(CTRL, 0);
    EXPECT_EQ(host.irq(0), 0);
}

TEST_F(CrcDma, ResetAbandonsOperation) {
    start(kRam, 1000, IE);
    dev->reset();
    EXPECT_EQ(dev->read32(STATUS), 0u);
    EXPECT_EQ(host.armed_timers(), 0u);
    host.advance(1000000);
    EXPECT_EQ(dev->read32(STATUS), 0u);
    EXPECT_EQ(host.irq(0), 0);
}

TEST_F(CrcDma, HotReloadStateRoundTripAndBusyRefusal) {
    put(kRam, "123456789");
    dev->write32(INIT, 0xabcdef01);
    dev->write32(DST, 0x20001000);
    start(kRam, 9, IE);
    std::vector<uint8_t> blob;
    EXPECT_EQ(dev->save(blob), DP_ERR_BUSY);
    host.run_until_idle();
    ASSERT_EQ(dev->save(blob), DP_OK);
    Instance fresh(plugin, host);
    ASSERT_EQ(fresh.load(plugin.desc().state_version, blob), DP_OK);
    for (uint32_t off : {CTRL, STATUS, SRC, LEN, DST, INIT, RESULT, ERRCODE, LAST_NS})
        EXPECT_EQ(fresh.read32(off), dev->read32(off)) << off;
}

TEST_F(CrcDma, DeterministicTiming) {
    // Same inputs, fresh host each time: identical IRQ timestamps and results (no host-speed dependence).
    auto run = [this](FakeHost &h) {
        Instance d(plugin, h);
        std::string s(5000, 'q');
        h.write_ram(kRam, std::span(reinterpret_cast<const uint8_t *>(s.data()), s.size()));
        d.write32(SRC, uint32_t(kRam));
        d.write32(LEN, 5000);
        d.write32(CTRL, START | IE);
        h.run_until_idle();
        return std::make_pair(h.irq_history().back().time_ns, d.read32(RESULT));
    };
    FakeHost h1{kRam, 1u << 20}, h2{kRam, 1u << 20};
    EXPECT_EQ(run(h1), run(h2));
}

TEST(CrcDmaArgs, LatencyModelAndBadArgs) {
    FakeHost host{kRam, 1u << 20};
    Plugin plugin = Plugin::load(plugin_path("crc-dma"));
    {
        Instance dev(plugin, host, "clock_hz=1000000,cycles_per_byte=4,setup_cycles=0");
        dev.write32(SRC, uint32_t(kRam));
        dev.write32(LEN, 10);
        dev.write32(CTRL, START);
        host.run_until_idle();
        EXPECT_EQ(dev.read32(LAST_NS), 40000u); // 40 cycles at 1 MHz
    }
    auto err = [&](const char *args) {
        try {
            Instance d(plugin, host, args);
        } catch (const std::runtime_error &e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_EQ(err("clock_hz=0"), "crc-dma: args: clock_hz=0 is out of range [1, 10000000000]");
    EXPECT_EQ(err("speed=3"), "crc-dma: args: unknown key 'speed' (known: clock_hz, cycles_per_byte, setup_cycles)");
    EXPECT_EQ(err("cycles_per_byte=x"), "crc-dma: args: cycles_per_byte='x' is not a non-negative integer");
}

TEST(CrcDmaHeader, GeneratedHeaderMatchesTheOffsetsUsedHere) {
    // The firmware header is generated from the same SVD: check a few of its macros against this test's map.
    std::string hdr = CRC_DMA_HEADER;
    FILE *f = std::fopen(hdr.c_str(), "r");
    ASSERT_NE(f, nullptr) << hdr;
    std::string text;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
        text.append(buf, n);
    std::fclose(f);
    EXPECT_NE(text.find("offsetof(CRC_DMA_Type, RESULT) == 0x1C"), std::string::npos);
    EXPECT_NE(text.find("offsetof(CRC_DMA_Type, LAST_NS) == 0x24"), std::string::npos);
    EXPECT_NE(text.find("#define CRC_DMA_STATUS_DONE_Pos 1U"), std::string::npos);
    EXPECT_NE(text.find("#define CRC_DMA_CTRL_COPY_Pos 4U"), std::string::npos);
    EXPECT_NE(text.find("#define CRC_DMA_BASE 0x40110000UL"), std::string::npos);
}
