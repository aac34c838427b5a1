// The cim plugin (plugins/cim.so) driven through the SDK's host harness: the whole register protocol,
// every error code, timing in virtual time, IRQ, OUT_DMA, soft reset, hot-reload state, temp cleanup.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include <cmath>
#include <filesystem>

#include <dynperiph/testing/harness.hpp>

#include "cim_map.hpp"
#include "test_util.hpp"

using namespace cimtest;
using namespace dynperiph::testing;

using namespace cimmap;

namespace {


const std::string kTB = CIM_TEST_BACKENDS;
const std::string kBad = std::string(CIM_TEST_SRC) + "/standins/misbehave.sh";

// op 0: ref (100 ns + 1 ns/MAC, 0.5 pJ/MAC, area, leakage)   op 1: ref without metrics
// op 2: test backend failing   op 3: test backend returning a short result   op 4: exec timing out
// op 5: exec printing garbage  op 6: exec slow (sleeps 0.3 s of host time) reporting 777 ns
// op 7: exec stand-in simulator (CSV files)
std::string config_text() {
    const std::string sim = std::string(CIM_STANDINS) + "/cim-stand-in-sim";
    return "[[op]]\nindex = 0\nbackend = \"cim-ref.so\"\n"
           "params = { latency_ns = 100, ns_per_mac = 1, pj_per_mac = 0.5, area_um2 = 5000, leakage_uw = 2.5 }\n"
           "[[op]]\nindex = 1\nbackend = \"cim-ref.so\"\n"
           "[[op]]\nindex = 2\nbackend = \"" + kTB + "/test-good.so\"\nparams = { fail = \"simulated backend failure\" }\n"
           "[[op]]\nindex = 3\nbackend = \"" + kTB + "/test-good.so\"\nparams = { short = \"yes\" }\n"
           "[[op]]\nindex = 4\nbackend = \"cim-exec.so\"\nparams = { argv = [\"" + kBad + "\", \"sleep\"], timeout_ms = 150 }\n"
           "[[op]]\nindex = 5\nbackend = \"cim-exec.so\"\nparams = { argv = [\"" + kBad + "\", \"garbage\"] }\n"
           "[[op]]\nindex = 6\nbackend = \"cim-exec.so\"\nparams = { argv = [\"sh\", \"-c\", "
           "\"sleep 0.3; echo '{{\\\"metrics\\\": {{\\\"latency_ns\\\": 777}}}}'\"] }\n"
           "[[op]]\nindex = 7\nbackend = \"cim-exec.so\"\nparams = { argv = [\"" + sim + "\", \"mvm\", \"{weights_csv}\", "
           "\"{inputs_csv}\", \"{rows}\", \"{cols}\", \"{n_vectors}\", \"json\"] }\n";
}

constexpr uint64_t kRam = 0x20000000;
constexpr uint64_t kW = kRam + 0x1000, kX = kRam + 0x40000, kOut = kRam + 0x80000;

class CimPlugin : public ::testing::Test {
protected:
    Scratch scratch;
    FakeHost host;
    Plugin plugin = Plugin::load(plugin_path("cim"));
    std::unique_ptr<Instance> dev;
    std::string tmp_saved;
    bool had_tmp = false;
    dynperiph::cim::WorkDir tmpdir; // TMPDIR for this test: must be empty again after every run

    void SetUp() override {
        std::string err;
        ASSERT_TRUE(tmpdir.create(err));
        if (const char *t = getenv("TMPDIR")) {
            had_tmp = true;
            tmp_saved = t;
        }
        setenv("TMPDIR", tmpdir.path().c_str(), 1);
        dev = std::make_unique<Instance>(plugin, host, "config=" + scratch.put("cim.toml", config_text()));
    }
    void TearDown() override {
        dev.reset();
        EXPECT_TRUE(std::filesystem::is_empty(tmpdir.path())) << "temporary files left in " << tmpdir.path();
        if (had_tmp)
            setenv("TMPDIR", tmp_saved.c_str(), 1);
        else
            unsetenv("TMPDIR");
        EXPECT_TRUE(host.violations().empty()) << host.violations().front();
    }

    uint32_t r(uint32_t off) { return dev->read32(off); }
    void w(uint32_t off, uint32_t v) { dev->write32(off, v); }

    template <typename T> void put(uint64_t addr, const std::vector<T> &v) {
        host.write_ram(addr, std::span<const uint8_t>(reinterpret_cast<const uint8_t *>(v.data()), v.size() * sizeof(T)));
    }

    // Configures a job at kW/kX in the published order (config, WSR, WER) without starting it.
    template <typename T>
    void setup(cim_dtype t, uint32_t rows, uint32_t cols, const std::vector<T> &wts, const std::vector<T> &in,
               bool explicit_shape = true) {
        put(kW, wts);
        put(kX, in);
        w(DTYPE, t);
        w(SHAPE, explicit_shape ? (cols << 16 | rows) : 0);
        w(ISR, uint32_t(kX));
        w(IER, uint32_t(kX + in.size() * sizeof(T)));
        w(WSR, uint32_t(kW));
        w(WER, uint32_t(kW + wts.size() * sizeof(T)));
    }

    // Runs to completion; returns the BUSY time in virtual ns.
    uint64_t finish() {
        const uint64_t t0 = host.now();
        EXPECT_EQ(r(STATUS) & BUSY, BUSY);
        host.run_until_idle();
        EXPECT_EQ(r(STATUS) & BUSY, 0u);
        return host.now() - t0;
    }

    void expect_error(uint32_t code) {
        EXPECT_EQ(r(STATUS), ERROR) << "expected ERROR with ERRCODE " << code;
        EXPECT_EQ(r(ERRCODE), code);
        EXPECT_EQ(host.armed_timers(), 0u);
    }

    // A good operation right after an error: the peripheral is usable again.
    void expect_usable() {
        setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
        w(OUT_DMA, 0);
        w(CTRL, START);
        finish();
        EXPECT_EQ(r(STATUS), DONE);
        EXPECT_EQ(r(ERRCODE), E_NONE);
        EXPECT_EQ(r(ODR + 0), 4u);
        EXPECT_EQ(r(ODR + 4), 6u);
    }

    std::vector<uint32_t> odr(size_t n) {
        std::vector<uint32_t> v(n);
        for (size_t i = 0; i < n; ++i)
            v[i] = r(ODR + 4 * uint32_t(i));
        return v;
    }
};

float f32(uint32_t w) {
    float f;
    std::memcpy(&f, &w, 4);
    return f;
}

} // namespace

TEST_F(CimPlugin, IdentityAndOpmap) {
    EXPECT_EQ(r(ID), 0x43494D00u);
    EXPECT_EQ(r(VERSION), 0x00010000u);
    EXPECT_EQ(r(OPMAP), 0xffu);
    EXPECT_EQ(r(STATUS), 0u);
    EXPECT_EQ(plugin.desc().mmio_size, 0x1000u);
    EXPECT_EQ(plugin.desc().irq_count, 1u);
}

TEST_F(CimPlugin, PublishedOrderOfOperationsPolling) {
    Job j(CIM_DTYPE_INT16, 3, 2, std::vector<int16_t>{1, -2, 3, 400, -500, 6}, std::vector<int16_t>{7, 8, 9, -1, 0, 1000});
    setup(CIM_DTYPE_INT16, 3, 2, std::vector<int16_t>{1, -2, 3, 400, -500, 6}, std::vector<int16_t>{7, 8, 9, -1, 0, 1000});
    w(CTRL, 1); // "1" to the control register
    EXPECT_EQ(r(STATUS), BUSY);
    EXPECT_EQ(r(NVEC), 2u);
    EXPECT_EQ(r(OUT_COUNT), 0u); // results appear at DONE
    host.advance(100 + 12 - 1);
    EXPECT_EQ(r(STATUS), BUSY);
    host.advance(1);
    EXPECT_EQ(r(STATUS), DONE);
    EXPECT_EQ(odr(4), j.expected());
    EXPECT_EQ(r(ODR + 16), 0u);
    EXPECT_EQ(r(OUT_COUNT), 4u);
    EXPECT_EQ(r(LAT_LO), 112u);
    EXPECT_EQ(r(LAT_HI), 0u);
    EXPECT_EQ(f32(r(ENERGY)), 6.0f);
    EXPECT_EQ(f32(r(AREA)), 5000.0f);
    EXPECT_EQ(f32(r(LEAKAGE)), 2.5f);
    EXPECT_EQ(r(MVALID), 0xfu);
    EXPECT_EQ(host.irq(0), 0);       // IE was 0
    EXPECT_EQ(r(CTRL), 0u);          // START reads as 0
    w(STATUS, DONE);                 // W1C
    EXPECT_EQ(r(STATUS), 0u);
    EXPECT_EQ(host.blocking_runs(), 1u);
}

TEST_F(CimPlugin, IrqMode) {
    setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
    w(CTRL, START | IE | op(0));
    EXPECT_EQ(host.irq(0), 0);
    EXPECT_EQ(finish(), 104u);
    EXPECT_EQ(host.irq(0), 1);
    EXPECT_EQ(r(CTRL), IE);
    w(STATUS, DONE);
    EXPECT_EQ(host.irq(0), 0);
    // an error raises the IRQ too
    w(CTRL, START | IE | op(9));
    EXPECT_EQ(host.irq(0), 1);
    EXPECT_EQ(r(ERRCODE), E_BAD_OP);
    w(CTRL, IE); // still pending
    EXPECT_EQ(host.irq(0), 1);
    w(CTRL, 0); // IE off lowers the line
    EXPECT_EQ(host.irq(0), 0);
    EXPECT_EQ(host.irq_raises(0), 2u);
}

TEST_F(CimPlugin, DtypesAndShapes) {
    struct S { uint32_t rows, cols, nvec; };
    for (S s : {S{1, 1, 1}, S{4, 3, 2}, S{16, 16, 4}, S{64, 10, 3}, S{7, 1, 5}, S{1, 200, 1}}) {
        for (cim_dtype t : {CIM_DTYPE_INT8, CIM_DTYPE_INT16, CIM_DTYPE_INT32, CIM_DTYPE_FLOAT32}) {
            std::vector<int32_t> wi(s.rows * s.cols), xi(s.rows * s.nvec);
            for (size_t i = 0; i < wi.size(); ++i)
                wi[i] = int32_t(i * 2654435761u >> 25) - 64;
            for (size_t i = 0; i < xi.size(); ++i)
                xi[i] = int32_t(i * 40503u % 255) - 127;
            auto run = [&](auto sample) {
                using T = decltype(sample);
                std::vector<T> wt(wi.begin(), wi.end()), xt(xi.begin(), xi.end());
                if constexpr (std::is_same_v<T, float>)
                    for (auto &v : wt) v *= 0.125f;
                Job j(t, s.rows, s.cols, wt, xt);
                setup(t, s.rows, s.cols, wt, xt);
                w(CTRL, START);
                finish();
                ASSERT_EQ(r(STATUS), DONE);
                EXPECT_EQ(r(OUT_COUNT), s.nvec * s.cols);
                EXPECT_EQ(odr(s.nvec * s.cols), j.expected()) << s.rows << "x" << s.cols << " " << dynperiph::cim::dtype_name(t);
            };
            switch (t) {
            case CIM_DTYPE_INT8: run(int8_t{}); break;
            case CIM_DTYPE_INT16: run(int16_t{}); break;
            case CIM_DTYPE_INT32: run(int32_t{}); break;
            default: run(float{}); break;
            }
        }
    }
}

TEST_F(CimPlugin, AutoShapeIsOneColumn) {
    Job j(CIM_DTYPE_INT32, 4, 1, std::vector<int32_t>{1, 2, 3, 4}, std::vector<int32_t>{1, 0, 2, -1});
    setup(CIM_DTYPE_INT32, 4, 1, std::vector<int32_t>{1, 2, 3, 4}, std::vector<int32_t>{1, 0, 2, -1}, false);
    w(CTRL, START);
    finish();
    EXPECT_EQ(r(STATUS), DONE);
    EXPECT_EQ(r(OUT_COUNT), 1u);
    EXPECT_EQ(r(ODR), j.expected()[0]);
}

TEST_F(CimPlugin, WeightsOnlyOperation) {
    put(kW, std::vector<int8_t>{1, 2, 3, 4});
    w(WSR, uint32_t(kW));
    w(WER, uint32_t(kW + 4));
    w(CTRL, 1);
    EXPECT_EQ(finish(), 104u); // 100 + 4 MACs (one pass)
    EXPECT_EQ(r(STATUS), DONE);
    EXPECT_EQ(r(NVEC), 0u);
    EXPECT_EQ(r(OUT_COUNT), 0u);
}

TEST_F(CimPlugin, LargeResultGoesToOutDma) {
    const uint32_t rows = 8, cols = 100, nvec = 5; // 500 result words > 256 ODR words
    std::vector<int32_t> wt(rows * cols), xt(rows * nvec);
    for (size_t i = 0; i < wt.size(); ++i) wt[i] = int32_t(i % 17) - 8;
    for (size_t i = 0; i < xt.size(); ++i) xt[i] = int32_t(i % 5) - 2;
    Job j(CIM_DTYPE_INT32, rows, cols, wt, xt);
    setup(CIM_DTYPE_INT32, rows, cols, wt, xt);
    w(OUT_DMA, uint32_t(kOut));
    w(CTRL, START);
    finish();
    ASSERT_EQ(r(STATUS), DONE);
    EXPECT_EQ(r(OUT_COUNT), 500u);
    const auto exp = j.expected();
    EXPECT_EQ(odr(256), std::vector<uint32_t>(exp.begin(), exp.begin() + 256));
    std::vector<uint32_t> got(500);
    for (size_t i = 0; i < 500; ++i)
        got[i] = host.read32(kOut + 4 * i);
    EXPECT_EQ(got, exp);
    // without OUT_DMA: ODR holds the first 256, OUT_COUNT says there were more
    w(OUT_DMA, 0);
    w(CTRL, START);
    finish();
    EXPECT_EQ(r(OUT_COUNT), 500u);
    EXPECT_EQ(odr(256), std::vector<uint32_t>(exp.begin(), exp.begin() + 256));
}

TEST_F(CimPlugin, DefaultLatencyWhenTheBackendGivesNone) {
    setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
    w(CTRL, START | op(1));
    EXPECT_EQ(finish(), 1000u);
    EXPECT_EQ(r(STATUS), DONE);
    EXPECT_EQ(r(LAT_LO), 1000u);
    EXPECT_EQ(r(MVALID), 0u);
    EXPECT_TRUE(std::isnan(f32(r(ENERGY))));
    EXPECT_TRUE(std::isnan(f32(r(AREA))));
    EXPECT_TRUE(std::isnan(f32(r(LEAKAGE))));
}

TEST_F(CimPlugin, GuestTimingDoesNotDependOnHostSpeed) {
    put(kW, std::vector<int8_t>{1});
    w(WSR, uint32_t(kW));
    w(WER, uint32_t(kW + 1));
    const uint64_t t0 = host.now();
    w(CTRL, START | op(6)); // the simulator takes 0.3 s of host time
    EXPECT_EQ(host.now(), t0); // no guest time passed meanwhile
    EXPECT_EQ(finish(), 777u);
    EXPECT_EQ(r(STATUS), DONE);
    EXPECT_EQ(r(MVALID), 1u);
}

TEST_F(CimPlugin, ExecBackendThroughCsvFiles) {
    std::vector<int16_t> wt{5, -6, 7, 8, 9, 10}, xt{1, 2, 3, -3, -2, -1};
    Job j(CIM_DTYPE_INT16, 3, 2, wt, xt);
    setup(CIM_DTYPE_INT16, 3, 2, wt, xt);
    w(CTRL, START | op(7));
    EXPECT_EQ(finish(), 10u + 12u);
    EXPECT_EQ(r(STATUS), DONE);
    EXPECT_EQ(odr(4), j.expected());
    EXPECT_EQ(f32(r(AREA)), 1234.5f);
}

// ---------------------------------------------------------------- every error, then usable again
TEST_F(CimPlugin, ErrorOrder) {
    setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
    w(WER, uint32_t(kW - 1));
    w(CTRL, START);
    expect_error(E_ORDER);
    EXPECT_TRUE(host.log_contains(DP_LOG_GUEST_ERROR, "WER (0x20000fff) < WSR (0x20001000)"));
    expect_usable();
    setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
    w(IER, uint32_t(kX - 2));
    w(CTRL, START);
    expect_error(E_ORDER);
    expect_usable();
}

TEST_F(CimPlugin, ErrorSize) {
    w(WSR, uint32_t(kW));
    w(WER, uint32_t(kW)); // empty
    w(CTRL, START);
    expect_error(E_SIZE);
    expect_usable();
    setup(CIM_DTYPE_INT32, 1, 1, std::vector<int32_t>{1}, std::vector<int32_t>{1});
    w(WER, uint32_t(kW + 6)); // not a multiple of 4
    w(SHAPE, 0);
    w(CTRL, START);
    expect_error(E_SIZE);
    EXPECT_TRUE(host.log_contains("weight range of 6 bytes is not a multiple of the int32 element size 4"));
    setup(CIM_DTYPE_INT16, 1, 1, std::vector<int16_t>{1}, std::vector<int16_t>{1});
    w(IER, uint32_t(kX + 3));
    w(CTRL, START);
    expect_error(E_SIZE);
    expect_usable();
}

TEST_F(CimPlugin, ErrorShape) {
    setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
    w(SHAPE, 3 << 16 | 2); // 2x3 = 6 != 4 weights
    w(CTRL, START);
    expect_error(E_SHAPE);
    setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1, 1});
    w(CTRL, START); // 3 inputs, ROWS = 2
    expect_error(E_SHAPE);
    setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
    w(SHAPE, 8u << 16); // COLS 8 > 4 weights: ROWS would be 0
    w(CTRL, START);
    expect_error(E_SHAPE);
    expect_usable();
}

TEST_F(CimPlugin, ErrorDma) {
    setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
    w(WSR, 0x10000000);
    w(WER, 0x10000004);
    w(CTRL, START);
    expect_error(E_DMA);
    setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
    w(WSR, uint32_t(kRam + (1u << 20) - 2)); // crosses the end of RAM
    w(WER, uint32_t(kRam + (1u << 20) + 2));
    w(CTRL, START);
    expect_error(E_DMA);
    setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
    w(ISR, 0x40100000); // the peripheral's own MMIO is not RAM
    w(IER, 0x40100002);
    w(CTRL, START);
    expect_error(E_DMA);
    setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
    w(OUT_DMA, uint32_t(kRam + (1u << 20) - 4)); // 2 words do not fit
    w(CTRL, START);
    expect_error(E_DMA);
    EXPECT_TRUE(host.log_contains("OUT_DMA"));
    expect_usable();
}

TEST_F(CimPlugin, ErrorTooLarge) {
    w(DTYPE, CIM_DTYPE_INT8);
    w(WSR, uint32_t(kRam));
    w(WER, uint32_t(kRam + (1u << 20) + 1));
    w(CTRL, START);
    expect_error(E_TOO_LARGE);
    EXPECT_EQ(host.dma_reads(), 0u); // rejected before touching memory
    // inputs
    w(WER, uint32_t(kRam + 1));
    w(SHAPE, 1 << 16 | 1);
    w(ISR, uint32_t(kRam));
    w(IER, uint32_t(kRam + (1u << 20) + 1));
    w(CTRL, START);
    expect_error(E_TOO_LARGE);
    // result words: 1 x 2048 weights, 1024 vectors -> 2 Mi words
    w(WER, uint32_t(kRam + 2048));
    w(SHAPE, 2048u << 16 | 1);
    w(IER, uint32_t(kRam + 1024));
    w(CTRL, START);
    expect_error(E_TOO_LARGE);
    expect_usable();
}

TEST_F(CimPlugin, ErrorBusy) {
    setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
    w(CTRL, START | IE);
    EXPECT_EQ(r(STATUS), BUSY);
    w(CTRL, START | IE);
    EXPECT_EQ(r(STATUS), BUSY | ERROR);
    EXPECT_EQ(r(ERRCODE), E_BUSY);
    EXPECT_EQ(host.irq(0), 1);
    EXPECT_EQ(host.blocking_runs(), 1u); // the second START ran nothing
    host.run_until_idle();               // the first operation completes normally
    EXPECT_EQ(r(STATUS), DONE | ERROR);
    EXPECT_EQ(r(ODR), 4u);
    w(STATUS, DONE | ERROR);
    EXPECT_EQ(host.irq(0), 0);
    w(CTRL, 0);
    expect_usable();
}

TEST_F(CimPlugin, ErrorBadOp) {
    setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
    w(CTRL, START | op(31));
    expect_error(E_BAD_OP);
    EXPECT_TRUE(host.log_contains("CTRL.OP = 31 selects no configured operation (OPMAP = 0x000000ff)"));
    expect_usable();
}

TEST_F(CimPlugin, ErrorBadDtype) {
    setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
    w(DTYPE, 5);
    w(CTRL, START);
    expect_error(E_BAD_DTYPE);
    expect_usable();
}

TEST_F(CimPlugin, ErrorBackendFailureTimeoutGarbage) {
    for (unsigned n : {2u, 4u, 5u}) {
        setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
        w(CTRL, START | op(n));
        expect_error(E_BACKEND);
        expect_usable();
    }
    EXPECT_TRUE(host.log_contains(DP_LOG_ERROR, "op 2 (test-good) failed: simulated backend failure"));
    EXPECT_TRUE(host.log_contains(DP_LOG_ERROR, "timed out after 150 ms"));
    EXPECT_TRUE(host.log_contains(DP_LOG_ERROR, "malformed JSON output"));
}

TEST_F(CimPlugin, ErrorOutputCount) {
    setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
    w(CTRL, START | op(3));
    expect_error(E_OUTPUT);
    EXPECT_TRUE(host.log_contains("returned 1 result words, expected 2"));
    expect_usable();
}

TEST_F(CimPlugin, ErrorHost) {
    setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
    host.fail_run_blocking = true;
    w(CTRL, START);
    expect_error(E_HOST);
    host.fail_run_blocking = false;
    expect_usable();
    // a CSV backend when no temporary directory can be made
    setenv("TMPDIR", "/nonexistent-cim-tmp", 1);
    setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
    w(CTRL, START | op(7));
    expect_error(E_HOST);
    EXPECT_TRUE(host.log_contains("cannot create a temporary directory"));
    setenv("TMPDIR", tmpdir.path().c_str(), 1);
    expect_usable();
}

// ---------------------------------------------------------------- reset, hot reload, config errors
TEST_F(CimPlugin, SoftResetAbandonsTheOperation) {
    setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
    w(CTRL, START | IE);
    ASSERT_EQ(r(STATUS), BUSY);
    w(CTRL, SOFT_RESET);
    EXPECT_EQ(r(STATUS), 0u);
    EXPECT_EQ(r(CTRL), 0u);
    EXPECT_EQ(r(WSR), 0u);
    EXPECT_EQ(r(OPMAP), 0xffu); // from the config, not a reset value
    EXPECT_EQ(host.armed_timers(), 0u);
    host.advance(10000);
    EXPECT_EQ(r(STATUS), 0u);
    EXPECT_EQ(r(ODR), 0u);
    EXPECT_EQ(host.irq(0), 0);
    expect_usable();
    dev->reset(); // device reset: the same
    EXPECT_EQ(r(ODR), 0u);
    EXPECT_EQ(r(STATUS), 0u);
}

TEST_F(CimPlugin, HotReloadState) {
    setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
    w(CTRL, START | IE | op(0));
    std::vector<uint8_t> blob;
    EXPECT_EQ(dev->save(blob), DP_ERR_BUSY);
    host.run_until_idle();
    ASSERT_EQ(dev->save(blob), DP_OK);
    EXPECT_EQ(plugin.desc().state_version, 1u);

    Instance fresh(plugin, host, "config=" + scratch.dir.file("cim.toml"));
    ASSERT_EQ(fresh.load(plugin.desc().state_version, blob), DP_OK);
    for (uint32_t off : std::initializer_list<uint32_t>{CTRL, STATUS, ERRCODE, OPMAP, WSR, WER, ISR, IER, SHAPE, DTYPE, NVEC, OUT_COUNT, LAT_LO,
                         ENERGY, ODR, ODR + 4})
        EXPECT_EQ(fresh.read32(off), r(off)) << std::hex << off;
    EXPECT_EQ(fresh.read32(STATUS), DONE);
    EXPECT_EQ(fresh.load(99, blob), DP_ERR_INVALID);
    std::vector<uint8_t> junk{1, 2, 3};
    EXPECT_EQ(fresh.load(1, junk), DP_ERR_INVALID);
}

TEST_F(CimPlugin, ConfigErrorsFailCreate) {
    auto create_error = [&](const std::string &args) -> std::string {
        try {
            Instance bad(plugin, host, args);
        } catch (const std::exception &e) {
            return e.what();
        }
        return "(created)";
    };
    EXPECT_NE(create_error("").find("cim args: config=PATH is required"), std::string::npos);
    EXPECT_NE(create_error("config=/nonexistent.toml").find("cim config /nonexistent.toml: no such file"),
              std::string::npos);
    const std::string abi = scratch.put("abi.toml", "[[op]]\nindex = 0\nbackend = \"" + kTB + "/test-abi2.so\"\n");
    EXPECT_NE(create_error("config=" + abi).find("built for cim backend ABI 2.0, this host supports 1.0"), std::string::npos);
    const std::string missing = scratch.put("missing.toml", "[[op]]\nindex = 0\nbackend = \"cim-nope.so\"\n");
    EXPECT_NE(create_error("config=" + missing).find("backend cim-nope.so not found"), std::string::npos);
}
