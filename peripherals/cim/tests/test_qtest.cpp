// The cim peripheral inside the real QEMU (mps2-an385), driven through the qtest protocol: the whole
// register protocol at 0x40100000 / IRQ 17, every ERRCODE, timing in virtual time, OUT_DMA, soft reset,
// hot reload, temporary-file cleanup, and QEMU refusing to start on every config error.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include <cmath>
#include <cstring>
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "data.hpp"
#include "cim_map.hpp"
#include "qtest_client.hpp"
#include "workdir.hpp"

using dp::qtest::Qemu;
using dynperiph::cim::WorkDir;
namespace fs = std::filesystem;

using namespace cimmap;

namespace {

constexpr uint64_t B = 0x40100000; // cim base
constexpr int kIrq = 17;
constexpr uint64_t kRam = 0x20000000, kRamEnd = 0x20800000; // SSRAM2&3 (4 MiB, mapped twice), then I/O
constexpr uint64_t kW = kRam + 0x10000, kX = kRam + 0x20000, kOut = kRam + 0x30000;

const std::string kTB = CIM_TEST_BACKENDS;
const std::string kBad = std::string(CIM_TEST_SRC) + "/standins/misbehave.sh";

std::string write_text(const std::string &path, const std::string &text) {
    FILE *f = std::fopen(path.c_str(), "w");
    std::fputs(text.c_str(), f);
    std::fclose(f);
    return path;
}

struct Env {
    WorkDir dir, tmp;
    std::string config;
    Env() {
        std::string err;
        dir.create(err);
        tmp.create(err);
        const std::string sim = std::string(CIM_STANDINS) + "/cim-stand-in-sim";
        config = write_text(dir.file("cim.toml"),
            "[[op]]\nindex = 0\nbackend = \"cim-ref.so\"\n"
            "params = { latency_ns = 100, ns_per_mac = 1, pj_per_mac = 0.5, area_um2 = 5000, leakage_uw = 2.5 }\n"
            "[[op]]\nindex = 2\nbackend = \"" + kTB + "/test-good.so\"\nparams = { fail = \"simulated backend failure\" }\n"
            "[[op]]\nindex = 3\nbackend = \"" + kTB + "/test-good.so\"\nparams = { short = \"yes\" }\n"
            "[[op]]\nindex = 4\nbackend = \"cim-exec.so\"\nparams = { argv = [\"" + kBad + "\", \"sleep\"], timeout_ms = 150 }\n"
            "[[op]]\nindex = 5\nbackend = \"cim-exec.so\"\nparams = { argv = [\"" + kBad + "\", \"exit\", \"3\"] }\n"
            "[[op]]\nindex = 7\nbackend = \"cim-exec.so\"\nparams = { argv = [\"" + sim + "\", \"mvm\", \"{weights_csv}\", "
            "\"{inputs_csv}\", \"{rows}\", \"{cols}\", \"{n_vectors}\", \"json\"] }\n");
    }
};

std::vector<std::string> cim_device(const std::string &config) {
    return {"-device", "dynperiph,plugin=" + dp::qtest::plugin("cim") + ",addr=0x40100000,irq=17,id=cim,args=config=" + config};
}

class CimQtest : public ::testing::Test {
protected:
    Env env;
    std::unique_ptr<Qemu> q;
    std::string saved_tmp;

    void SetUp() override {
        const char *t = getenv("TMPDIR");
        saved_tmp = t ? t : "";
        setenv("TMPDIR", env.tmp.path().c_str(), 1); // QEMU inherits it: its temp dirs go here
        q = std::make_unique<Qemu>(cim_device(env.config));
        q->irq_intercept_in("/machine/armv7m");
    }
    void TearDown() override {
        q.reset();
        if (saved_tmp.empty())
            unsetenv("TMPDIR");
        else
            setenv("TMPDIR", saved_tmp.c_str(), 1);
        EXPECT_TRUE(fs::is_empty(env.tmp.path())) << "temporary files left behind";
    }

    uint32_t r(uint32_t off) { return q->readl(B + off); }
    void w(uint32_t off, uint32_t v) { q->writel(B + off, v); }

    template <typename T> void put(uint64_t addr, const std::vector<T> &v) {
        std::vector<uint8_t> bytes(v.size() * sizeof(T));
        std::memcpy(bytes.data(), v.data(), bytes.size());
        q->write(addr, bytes);
    }
    template <typename T>
    void setup(cim_dtype t, uint32_t rows, uint32_t cols, const std::vector<T> &wts, const std::vector<T> &in) {
        put(kW, wts);
        put(kX, in);
        w(DTYPE, t);
        w(SHAPE, cols << 16 | rows);
        w(ISR, uint32_t(kX));
        w(IER, uint32_t(kX + in.size() * sizeof(T)));
        w(OUT_DMA, 0);
        w(WSR, uint32_t(kW));
        w(WER, uint32_t(kW + wts.size() * sizeof(T)));
    }
    void expect_error(uint32_t code) {
        EXPECT_EQ(r(STATUS), ERROR) << "want ERRCODE " << code;
        EXPECT_EQ(r(ERRCODE), code);
    }
    void expect_usable() {
        setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
        w(CTRL, START);
        q->clock_step(104);
        EXPECT_EQ(r(STATUS), DONE);
        EXPECT_EQ(r(ODR), 4u);
        EXPECT_EQ(r(ODR + 4), 6u);
    }
};

std::vector<uint32_t> reference(cim_dtype t, uint32_t rows, uint32_t cols, const void *wts, const void *in, uint32_t nvec) {
    cim_request req{};
    req.dtype = t;
    req.rows = rows;
    req.cols = cols;
    req.n_vectors = nvec;
    req.weights = wts;
    req.inputs = in;
    return dynperiph::cim::reference_mvm(req);
}

float f32(uint32_t v) {
    float f;
    std::memcpy(&f, &v, 4);
    return f;
}

} // namespace

TEST_F(CimQtest, PublishedProtocolPolling) {
    EXPECT_EQ(r(ID), 0x43494D00u);
    EXPECT_EQ(r(VERSION), 0x00010000u);
    EXPECT_EQ(r(OPMAP), (1u << 0) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 7));
    std::vector<int16_t> wts{1, -2, 3, 400, -500, 6}, in{7, 8, 9, -1, 0, 1000};
    setup(CIM_DTYPE_INT16, 3, 2, wts, in);
    w(CTRL, 1);
    EXPECT_EQ(r(STATUS), BUSY);
    q->clock_step(111);
    EXPECT_EQ(r(STATUS), BUSY);
    q->clock_step(1);
    EXPECT_EQ(r(STATUS), DONE);
    const auto exp = reference(CIM_DTYPE_INT16, 3, 2, wts.data(), in.data(), 2);
    for (uint32_t i = 0; i < 4; ++i)
        EXPECT_EQ(r(ODR + 4 * i), exp[i]) << i;
    EXPECT_EQ(r(OUT_COUNT), 4u);
    EXPECT_EQ(r(NVEC), 2u);
    EXPECT_EQ(r(LAT_LO), 112u);
    EXPECT_EQ(r(LAT_HI), 0u);
    EXPECT_EQ(f32(r(ENERGY)), 6.0f);
    EXPECT_EQ(f32(r(AREA)), 5000.0f);
    EXPECT_EQ(f32(r(LEAKAGE)), 2.5f);
    EXPECT_EQ(r(MVALID), 0xfu);
    EXPECT_FALSE(q->irq_level(kIrq));
    w(STATUS, DONE);
    EXPECT_EQ(r(STATUS), 0u);
}

TEST_F(CimQtest, IrqAndSubWordAccess) {
    setup(CIM_DTYPE_FLOAT32, 2, 1, std::vector<float>{0.5f, -2.0f}, std::vector<float>{4.0f, 1.0f});
    q->writew(B + CTRL, START | IE); // 16-bit write of the control register
    q->clock_step(101);
    EXPECT_FALSE(q->irq_level(kIrq));
    q->clock_step(1);
    EXPECT_TRUE(q->irq_level(kIrq));
    EXPECT_EQ(f32(r(ODR)), 0.0f);
    EXPECT_EQ(q->readb(B + STATUS), DONE);
    w(STATUS, DONE);
    EXPECT_FALSE(q->irq_level(kIrq));
    EXPECT_EQ(q->irq_raised(kIrq), 1);
}

TEST_F(CimQtest, EngineThroughExecBackendAndOutDma) {
    const uint32_t rows = 16, cols = 40, nvec = 10; // 400 result words
    std::vector<int8_t> wts(rows * cols), in(rows * nvec);
    for (size_t i = 0; i < wts.size(); ++i) wts[i] = int8_t(i * 7 % 255 - 127);
    for (size_t i = 0; i < in.size(); ++i) in[i] = int8_t(i * 13 % 255 - 127);
    setup(CIM_DTYPE_INT8, rows, cols, wts, in);
    w(OUT_DMA, uint32_t(kOut));
    w(CTRL, START | op(7));
    q->clock_step(); // to the completion
    ASSERT_EQ(r(STATUS), DONE);
    EXPECT_EQ(r(LAT_LO), 10u + rows * cols * nvec);
    const auto exp = reference(CIM_DTYPE_INT8, rows, cols, wts.data(), in.data(), nvec);
    auto bytes = q->read(kOut, exp.size() * 4);
    std::vector<uint32_t> got(exp.size());
    std::memcpy(got.data(), bytes.data(), bytes.size());
    EXPECT_EQ(got, exp);
    EXPECT_EQ(r(OUT_COUNT), 400u);
    EXPECT_EQ(r(ODR + 255 * 4), exp[255]);
}

TEST_F(CimQtest, EveryError) {
    // ORDER
    setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
    w(WER, uint32_t(kW - 4));
    w(CTRL, START);
    expect_error(E_ORDER);
    expect_usable();
    // SIZE
    setup(CIM_DTYPE_INT32, 1, 1, std::vector<int32_t>{1}, std::vector<int32_t>{1});
    w(WER, uint32_t(kW + 5));
    w(SHAPE, 0);
    w(CTRL, START);
    expect_error(E_SIZE);
    expect_usable();
    // SHAPE
    setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
    w(SHAPE, 2 << 16 | 3);
    w(CTRL, START);
    expect_error(E_SHAPE);
    expect_usable();
    // DMA: weights crossing the end of RAM, inputs in MMIO, OUT_DMA outside RAM
    setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
    w(WSR, uint32_t(kRamEnd - 2));
    w(WER, uint32_t(kRamEnd + 2));
    w(CTRL, START);
    expect_error(E_DMA);
    setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
    w(ISR, 0x40004000);
    w(IER, 0x40004002);
    w(CTRL, START);
    expect_error(E_DMA);
    setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
    w(OUT_DMA, 0x40100000);
    w(CTRL, START);
    expect_error(E_DMA);
    expect_usable();
    // TOO_LARGE
    setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
    w(WSR, uint32_t(kRam));
    w(WER, uint32_t(kRam + (1u << 20) + 4));
    w(SHAPE, 0);
    w(CTRL, START);
    expect_error(E_TOO_LARGE);
    expect_usable();
    // BUSY
    setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
    w(CTRL, START);
    w(CTRL, START);
    EXPECT_EQ(r(STATUS), BUSY | ERROR);
    EXPECT_EQ(r(ERRCODE), E_BUSY);
    q->clock_step(104);
    EXPECT_EQ(r(STATUS), DONE | ERROR);
    expect_usable();
    // BAD_OP, BAD_DTYPE
    setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
    w(CTRL, START | op(1));
    expect_error(E_BAD_OP);
    w(DTYPE, 7);
    w(CTRL, START);
    expect_error(E_BAD_DTYPE);
    expect_usable();
    // BACKEND: failure, timeout (QEMU keeps running), non-zero exit
    for (unsigned n : {2u, 4u, 5u}) {
        setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
        w(CTRL, START | op(n));
        expect_error(E_BACKEND);
        expect_usable();
    }
    // OUTPUT
    setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
    w(CTRL, START | op(3));
    expect_error(E_OUTPUT);
    expect_usable();
    const std::string err = q->stderr_text();
    EXPECT_NE(err.find("op 2 (test-good) failed: simulated backend failure"), std::string::npos) << err;
    EXPECT_NE(err.find("timed out after 150 ms"), std::string::npos) << err;
    EXPECT_NE(err.find("exited with status 3: simulated failure on stderr"), std::string::npos) << err;
}

TEST_F(CimQtest, SoftResetAndHotReload) {
    setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
    w(CTRL, START | IE);
    w(CTRL, SOFT_RESET);
    EXPECT_EQ(r(STATUS), 0u);
    q->clock_step(1000);
    EXPECT_EQ(r(STATUS), 0u);
    EXPECT_FALSE(q->irq_level(kIrq));
    expect_usable();
    // state survives a reload of cim.so (QMP), the guest sees no reset
    w(CTRL, IE);
    EXPECT_TRUE(q->irq_level(kIrq)); // DONE pending with IE
    q->qom_set("/machine/peripheral/cim", "reload", "");
    for (int i = 0; i < 500 && q->qom_get("/machine/peripheral/cim", "reload-status").get<std::string>().rfind("ok", 0) != 0; ++i)
        usleep(10000);
    EXPECT_EQ(q->qom_get("/machine/peripheral/cim", "reload-status").get<std::string>().rfind("ok", 0), 0u);
    EXPECT_EQ(r(STATUS), DONE);
    EXPECT_EQ(r(ODR), 4u);
    EXPECT_EQ(r(WSR), uint32_t(kW));
    EXPECT_EQ(r(CTRL), IE);
    EXPECT_TRUE(q->irq_level(kIrq));
    expect_usable();
}

TEST_F(CimQtest, HotReloadWaitsWhileBusy) {
    setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
    w(CTRL, START);
    ASSERT_EQ(r(STATUS), BUSY);
    q->qom_set("/machine/peripheral/cim", "reload", "");
    const auto status = [&] { return q->qom_get("/machine/peripheral/cim", "reload-status").get<std::string>(); };
    usleep(50000);
    EXPECT_EQ(status().rfind("pending", 0), 0u) << status(); // cim.so refuses save_state while BUSY
    EXPECT_EQ(r(STATUS), BUSY);
    q->clock_step(104); // the operation completes, then the reload goes through
    for (int i = 0; i < 500 && status().rfind("ok", 0) != 0; ++i)
        usleep(10000);
    EXPECT_EQ(status().rfind("ok", 0), 0u) << status();
    EXPECT_EQ(r(STATUS), DONE);
    EXPECT_EQ(r(ODR), 4u);
    expect_usable();
}

TEST_F(CimQtest, HostErrorWhenNoTempDir) {
    q.reset();
    setenv("TMPDIR", "/nonexistent-cim-tmp", 1);
    q = std::make_unique<Qemu>(cim_device(env.config));
    setup(CIM_DTYPE_INT8, 2, 2, std::vector<int8_t>{1, 2, 3, 4}, std::vector<int8_t>{1, 1});
    w(CTRL, START | op(7));
    expect_error(E_HOST);
    expect_usable(); // in-process backends need no files
}

// ---------------------------------------------------------------- config errors: QEMU does not start
namespace {
void expect_refused(const std::string &config, const std::string &needle) {
    auto r = dp::qtest::run_qemu(cim_device(config));
    SCOPED_TRACE("stderr:\n" + r.err);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.signal, 0);
    EXPECT_NE(r.exit_code, 0);
    auto lines = r.err_lines();
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find(needle), std::string::npos) << lines[0];
}
} // namespace

TEST(CimQtestStartup, ConfigErrorsRefuseToStart) {
    Env env;
    expect_refused(env.dir.file("missing.toml"), "missing.toml: no such file");
    expect_refused(write_text(env.dir.file("bad.toml"), "[[op]]\nindex = 0\nbackend = \"x.so\n"), "bad.toml:3:");
    expect_refused(write_text(env.dir.file("key.toml"), "[[op]]\nindex = 0\nbackend = \"cim-ref.so\"\nparam = {}\n"),
                   "unknown key 'param'");
    expect_refused(write_text(env.dir.file("dup.toml"), "[[op]]\nindex = 1\nbackend = \"cim-ref.so\"\n"
                                                        "[[op]]\nindex = 1\nbackend = \"cim-ref.so\"\n"),
                   "op index 1 is defined twice");
    expect_refused(write_text(env.dir.file("nofile.toml"), "[[op]]\nindex = 0\nbackend = \"cim-none.so\"\n"),
                   "backend cim-none.so not found");
    expect_refused(write_text(env.dir.file("abi.toml"), "[[op]]\nindex = 0\nbackend = \"" + kTB + "/test-abi2.so\"\n"),
                   "built for cim backend ABI 2.0, this host supports 1.0");
    expect_refused(write_text(env.dir.file("params.toml"), "[[op]]\nindex = 0\nbackend = \"cim-exec.so\"\n"
                                                           "params = { argv = [\"sim\", \"{bogus}\"] }\n"),
                   "unknown placeholder {bogus}");
}
