// Protocol parity: cim-builtin (compiled into QEMU) and the cim plugin (dynperiph + cim.so + a config
// mapping the same OP indices to the same operations) must answer the same register sequences with the
// same values: reset state, sub-word access, every operation kind, every guest-caused ERRCODE, BUSY
// timing in virtual time, IRQ 17, OUT_DMA, W1C and soft reset. Each scenario runs on both devices and
// the two traces (every value read, the virtual time, the IRQ level) are compared entry by entry.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cim_map.hpp"

#include "qtest_client.hpp"

namespace fs = std::filesystem;
using dp::qtest::Qemu;
using namespace cimmap;

namespace {

constexpr uint64_t B = 0x40100000;
constexpr int kIrq = 17;
constexpr uint64_t kW = 0x20010000, kX = 0x20020000, kOut = 0x20030000;
const std::string kPlugins = PLUGIN_DIR;
const std::string kCimsim = CIMSIM_BIN;

struct Entry {
    std::string what;
    uint64_t value;
};
using Trace = std::vector<Entry>;

// Records everything a scenario observes.
struct Probe {
    Qemu &q;
    Trace &t;
    void rd(uint32_t off, const char *what = "readl") { t.push_back({std::string(what) + " @" + hex(off), q.readl(B + off)}); }
    void rdb(uint32_t off) { t.push_back({"readb @" + hex(off), q.readb(B + off)}); }
    void rdw(uint32_t off) { t.push_back({"readw @" + hex(off), q.readw(B + off)}); }
    void w(uint32_t off, uint32_t v) { q.writel(B + off, v); }
    void irq() { t.push_back({"irq17", q.irq_level(kIrq) ? 1u : 0u}); }
    void step() { t.push_back({"clock_step", uint64_t(q.clock_step())}); }
    void mem(uint64_t addr, size_t n) {
        auto v = q.read(addr, n);
        for (size_t i = 0; i < n; ++i)
            t.push_back({"mem @" + hex(uint32_t(addr + i)), v[i]});
    }
    void regs() {
        for (uint32_t off : {ID, VERSION, CTRL, STATUS, ERRCODE, OPMAP, WSR, WER, ISR, IER, SHAPE, DTYPE, OUT_DMA,
                             NVEC, OUT_COUNT, MVALID, LAT_LO, LAT_HI, ENERGY, AREA, LEAKAGE})
            rd(off);
        for (uint32_t i = 0; i < 12; ++i)
            rd(ODR + 4 * i);
        irq();
    }
    template <typename T> void put(uint64_t addr, const std::vector<T> &v) {
        std::vector<uint8_t> bytes(v.size() * sizeof(T));
        std::memcpy(bytes.data(), v.data(), bytes.size());
        q.write(addr, bytes);
    }
    // Configures an MVM with weights at kW and inputs at kX.
    template <typename T>
    void setup(uint32_t dtype, uint32_t rows, uint32_t cols, const std::vector<T> &wts, const std::vector<T> &in) {
        put(kW, wts);
        if (!in.empty())
            put(kX, in);
        w(DTYPE, dtype);
        w(SHAPE, cols << 16 | rows);
        w(ISR, uint32_t(kX));
        w(IER, uint32_t(kX + in.size() * sizeof(T)));
        w(WSR, uint32_t(kW));
        w(WER, uint32_t(kW + wts.size() * sizeof(T)));
    }
    // START, then run the virtual clock until BUSY clears; records every step.
    void start_and_finish(uint32_t ctrl) {
        w(CTRL, ctrl);
        rd(STATUS);
        for (int i = 0; i < 8 && (q.readl(B + STATUS) & 1); ++i)
            step();
        regs();
    }
    static std::string hex(uint32_t v) {
        char b[16];
        std::snprintf(b, sizeof b, "0x%03x", v);
        return b;
    }
};

using Scenario = std::function<void(Probe &)>;

class Parity : public ::testing::Test {
protected:
    fs::path dir, tmp;
    std::string config;
    bool have_cimsim_so = false;

    void SetUp() override {
        dir = fs::temp_directory_path() / ("cim-parity-" + std::to_string(getpid()));
        tmp = dir / "tmp";
        fs::create_directories(tmp);
        have_cimsim_so = fs::exists(kPlugins + "/cim-cimsim.so");
        // The same operations as cim-builtin's default table (qemu/device/cim-builtin.c).
        const std::string mvm = "\"" + kCimsim + "\", \"mvm\", \"--weights\", \"{weights_csv}\", \"--inputs\", "
                                "\"{inputs_csv}\", \"--dtype\", \"{dtype}\", \"--json\"";
        std::ofstream f(dir / "cim.toml");
        f << "[[op]]\nindex = 0\nbackend = \"cim-exec.so\"\nparams = { argv = [" << mvm << "] }\n"
          << "[[op]]\nindex = 1\nbackend = \"cim-exec.so\"\nparams = { argv = [" << mvm
          << ", \"--adc-bits\", \"4\"] }\n"
          << "[[op]]\nindex = 2\nbackend = \"cim-ref.so\"\n";
        if (have_cimsim_so)
            f << "[[op]]\nindex = 3\nbackend = \"cim-cimsim.so\"\n";
        config = (dir / "cim.toml").string();
        setenv("TMPDIR", tmp.c_str(), 1);
    }
    void TearDown() override {
        EXPECT_TRUE(fs::is_empty(tmp)) << "temporary files left behind";
        unsetenv("TMPDIR");
        fs::remove_all(dir);
    }

    Trace run(const std::vector<std::string> &dev, const Scenario &s) {
        Qemu q(dev);
        q.irq_intercept_in("/machine/armv7m");
        Trace t;
        Probe p{q, t};
        s(p);
        return t;
    }

    void check(const Scenario &s) {
        if (!have_cimsim_so)
            GTEST_SKIP() << "plugins/cim-cimsim.so is not built (cim-builtin's table needs it)";
        Trace a = run({"-device", "cim-builtin,addr=0x40100000,irq=17,cimsim=" + kCimsim + ",backend-dir=" + kPlugins},
                      s);
        Trace b = run({"-device", "dynperiph,plugin=" + kPlugins + "/cim.so,addr=0x40100000,irq=17,args=config=" +
                                      config},
                      s);
        ASSERT_EQ(a.size(), b.size());
        int diffs = 0;
        for (size_t i = 0; i < a.size() && diffs < 10; ++i) {
            EXPECT_EQ(a[i].value, b[i].value) << "#" << i << " " << a[i].what << ": cim-builtin 0x" << std::hex
                                              << a[i].value << ", cim plugin 0x" << b[i].value;
            diffs += a[i].value != b[i].value;
        }
        EXPECT_GT(a.size(), 10u);
    }
};

TEST_F(Parity, ResetStateAndSubWordAccess) {
    check([](Probe &p) {
        p.regs();
        for (uint32_t off = 0; off < 0x120; off += 4)
            p.rd(off);           // incl. unmapped offsets (read 0)
        p.rd(0xFFC);
        p.q.writeb(B + CTRL, 0x02); // IE by a byte write
        p.rd(CTRL);
        p.q.writeb(B + CTRL + 1, 0x03); // OP = 3
        p.rd(CTRL);
        p.rdb(ID + 1);
        p.rdw(ID + 2);
        p.q.writew(B + WSR + 2, 0x2001);
        p.rd(WSR);
        p.w(DTYPE, 0xFFFFFFFF); // reserved bits dropped
        p.rd(DTYPE);
        p.w(ID, 0x1234);        // read-only
        p.w(0x018, 5);          // unmapped
        p.w(STATUS, 7);         // BUSY is read-only, DONE/ERROR W1C on 0
        p.regs();
    });
}

TEST_F(Parity, EveryOperationAndDtype) {
    check([](Probe &p) {
        std::vector<int8_t> w8{1, -2, 3, 4, 5, -6, 7, 8, -9, 10, 11, 12};
        std::vector<int8_t> x8{1, 2, 3, -1, 0, 1, 2, -3, 4};
        for (uint32_t op : {0u, 1u, 2u, 3u}) {
            p.setup(0, 3, 4, w8, x8);
            p.start_and_finish(1u | op << 8);
        }
        std::vector<int16_t> w16{300, -2, 3, 4, 5, -600};
        std::vector<int16_t> x16{1000, 2, -3, 4, 5, 6};
        p.setup(1, 3, 2, w16, x16);
        p.start_and_finish(1u | 0u << 8);
        p.start_and_finish(1u | 2u << 8);
        std::vector<int32_t> w32{100000, -2, 3, 4};
        std::vector<int32_t> x32{7, 8};
        p.setup(2, 2, 2, w32, x32);
        p.start_and_finish(1u | 2u << 8);
        std::vector<float> wf{0.5f, -1.25f, 2.0f, 0.125f, 3.0f, -0.5f};
        std::vector<float> xf{1.0f, 2.0f, -4.0f};
        p.setup(3, 3, 2, wf, xf);
        p.start_and_finish(1u | 2u << 8);
        p.start_and_finish(1u | 0u << 8);
        // weights only (no input vectors): a PPA-only operation, in-process and through the simulator
        p.setup(0, 3, 4, w8, std::vector<int8_t>{});
        p.start_and_finish(1u | 2u << 8);
        p.start_and_finish(1u | 0u << 8);
        p.start_and_finish(1u | 3u << 8);
    });
}

TEST_F(Parity, EveryGuestErrorThenUsable) {
    check([](Probe &p) {
        std::vector<int8_t> w8{1, 2, 3, 4, 5, 6};
        std::vector<int8_t> x8{1, 1, 1};
        auto again = [&](uint32_t ctrl) {
            p.w(CTRL, ctrl);
            p.regs();
        };
        p.setup(0, 3, 2, w8, x8);
        p.w(WER, uint32_t(kW - 1));
        again(1); // ORDER (weights)
        p.setup(0, 3, 2, w8, x8);
        p.w(IER, uint32_t(kX - 4));
        again(1); // ORDER (inputs)
        p.setup(0, 3, 2, w8, x8);
        p.w(WER, uint32_t(kW));
        again(1); // SIZE (empty)
        p.setup(1, 3, 1, std::vector<int16_t>{1, 2, 3}, std::vector<int16_t>{1, 2, 3});
        p.w(WER, uint32_t(kW + 5));
        again(3); // SIZE (odd bytes for int16) with IE
        p.setup(0, 4, 2, w8, x8);
        again(1); // SHAPE
        p.setup(0, 3, 2, w8, std::vector<int8_t>{1, 2});
        again(1); // SHAPE (inputs)
        p.setup(0, 3, 2, w8, x8);
        p.w(WSR, 0x40000000);
        p.w(WER, 0x40000006);
        again(1); // DMA (MMIO, not RAM)
        p.setup(0, 3, 2, w8, x8);
        p.w(OUT_DMA, 0x40000000);
        again(1); // DMA (OUT_DMA)
        p.w(OUT_DMA, 0);
        p.setup(0, 0, 1, w8, x8);
        p.w(WER, uint32_t(kW + (1u << 20) + 1));
        p.w(SHAPE, 0);
        again(1); // TOO_LARGE
        p.setup(0, 3, 2, w8, x8);
        again(1 | 9u << 8); // BAD_OP
        p.w(DTYPE, 5);
        again(1 | 2u << 8); // BAD_DTYPE
        p.setup(0, 3, 2, w8, x8);
        p.w(CTRL, 1 | 2 | 2u << 8); // accepted, BUSY
        p.rd(STATUS);
        again(1 | 2 | 2u << 8);     // BUSY: rejected, the first continues
        p.step();
        p.regs();                   // DONE (and the ERROR of the rejected START)
        p.w(STATUS, 4);             // W1C ERROR
        p.regs();
        p.w(STATUS, 2);             // W1C DONE -> IRQ low
        p.regs();
        p.setup(0, 3, 2, w8, x8);
        p.w(OUT_DMA, uint32_t(kOut));
        p.start_and_finish(1 | 2 | 2u << 8); // OUT_DMA
        p.mem(kOut, 8);
        p.w(CTRL, 1 | 2u << 8);     // START then SOFT_RESET while BUSY
        p.w(CTRL, 4);
        p.regs();
        p.step();
        p.regs();
    });
}

} // namespace
