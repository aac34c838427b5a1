// "Adding an operation needs neither a QEMU rebuild nor a rebuild of the composition plugin":
//  1. one config entry, no compile: a new [[op]] appears in a running QEMU after a hot reload of cim.so;
//  2. one new backend .so, built separately (this test compiles extend/offset_backend.cpp against the
//     ABI header only), referenced from the config: QEMU and plugins/cim.so are untouched (mtimes);
//     rebuilding that .so and hot-reloading cim.so makes the running QEMU use the new build.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "qtest_client.hpp"
#include "workdir.hpp"

using dp::qtest::Qemu;
namespace fs = std::filesystem;

namespace {

constexpr uint64_t B = 0x40100000, kW = 0x20010000, kX = 0x20020000;
constexpr uint32_t CTRL = 0x08, STATUS = 0x0C, ERRCODE = 0x10, OPMAP = 0x14, WSR = 0x20, WER = 0x24, ISR = 0x28,
                   IER = 0x2C, SHAPE = 0x30, DTYPE = 0x34, LAT_LO = 0x50, ODR = 0x100;
const std::string kPath = "/machine/peripheral/cim";

void write_text(const std::string &path, const std::string &text) {
    FILE *f = std::fopen(path.c_str(), "w");
    std::fputs(text.c_str(), f);
    std::fclose(f);
}

struct Stamp {
    struct timespec mtime;
    off_t size;
    bool operator==(const Stamp &o) const {
        return mtime.tv_sec == o.mtime.tv_sec && mtime.tv_nsec == o.mtime.tv_nsec && size == o.size;
    }
};
Stamp stamp(const std::string &path) {
    struct stat st {};
    EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
    return {st.st_mtim, st.st_size};
}

// 2 x 2 int16 weights, one vector: y = (1*1 + 1*3, 1*2 + 1*4) = (4, 6); returns {ODR0, ODR1, LAT_LO}.
std::vector<uint32_t> run_op(Qemu &q, unsigned op) {
    std::vector<uint8_t> w{1, 0, 2, 0, 3, 0, 4, 0}, x{1, 0, 1, 0};
    q.write(kW, w);
    q.write(kX, x);
    q.writel(B + DTYPE, 1);
    q.writel(B + SHAPE, 2u << 16 | 2);
    q.writel(B + ISR, kX);
    q.writel(B + IER, kX + 4);
    q.writel(B + WSR, kW);
    q.writel(B + WER, kW + 8);
    q.writel(B + CTRL, 1u | op << 8);
    q.clock_step(); // to the completion
    EXPECT_EQ(q.readl(B + STATUS), 2u) << "ERRCODE " << q.readl(B + ERRCODE);
    return {q.readl(B + ODR), q.readl(B + ODR + 4), q.readl(B + LAT_LO)};
}

void reload(Qemu &q) {
    q.qom_set(kPath, "reload", "");
    std::string st;
    for (int i = 0; i < 1000; ++i) {
        st = q.qom_get(kPath, "reload-status").get<std::string>();
        if (st.rfind("ok", 0) == 0 || st.rfind("error", 0) == 0)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_EQ(st.rfind("ok", 0), 0u) << st;
}

// Compiles extend/offset_backend.cpp into `out` (written atomically, as a linker does); returns seconds.
double build_backend(const std::string &out, int scale) {
    const std::string tmp = out + ".tmp", def = "-DOFFSET_SCALE=" + std::to_string(scale);
    const auto t0 = std::chrono::steady_clock::now();
    pid_t pid = fork();
    if (pid == 0) {
        execl(CIM_CXX, CIM_CXX, "-std=c++17", "-O2", "-shared", "-fPIC", def.c_str(), "-I" CIM_ABI_INCLUDE,
              CIM_TEST_SRC "/extend/offset_backend.cpp", "-o", tmp.c_str(), (char *)nullptr);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "compiling the backend failed";
    fs::rename(tmp, out);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

const std::string kBase = "[[op]]\nindex = 0\nbackend = \"cim-ref.so\"\nparams = { latency_ns = 100 }\n";

} // namespace

TEST(CimExtend, NewOperationIsOneConfigEntryNoCompile) {
    dynperiph::cim::WorkDir d;
    std::string err;
    ASSERT_TRUE(d.create(err));
    const std::string cfg = d.file("cim.toml");
    write_text(cfg, kBase);
    const std::string so = dp::qtest::plugin("cim");
    const Stamp cim_before = stamp(so), qemu_before = stamp(dp::qtest::qemu_binary());

    Qemu q({"-device", "dynperiph,plugin=" + so + ",addr=0x40100000,irq=17,id=cim,args=config=" + cfg});
    EXPECT_EQ(q.readl(B + OPMAP), 1u);
    EXPECT_EQ(run_op(q, 0), (std::vector<uint32_t>{4, 6, 100}));
    q.writel(B + CTRL, 1u | 9u << 8);
    EXPECT_EQ(q.readl(B + ERRCODE), 7u); // BAD_OP: op 9 does not exist yet

    // The new operation: the same backend with another parameter set -- one config entry.
    write_text(cfg, kBase + "\n[[op]]\nindex = 9\nname = \"ref-slow\"\nbackend = \"cim-ref.so\"\n"
                            "params = { latency_ns = 5000, ns_per_mac = 10 }\n");
    reload(q); // picks up the config without restarting QEMU
    EXPECT_EQ(q.readl(B + OPMAP), (1u << 0) | (1u << 9));
    EXPECT_EQ(run_op(q, 9), (std::vector<uint32_t>{4, 6, 5000 + 10 * 4}));
    EXPECT_EQ(run_op(q, 0), (std::vector<uint32_t>{4, 6, 100}));
    EXPECT_TRUE(stamp(so) == cim_before);
    EXPECT_TRUE(stamp(dp::qtest::qemu_binary()) == qemu_before);
}

TEST(CimExtend, NewBackendSoBuiltSeparatelyNoQemuNoCompositionRebuild) {
    dynperiph::cim::WorkDir d;
    std::string err;
    ASSERT_TRUE(d.create(err));
    const std::string cfg = d.file("cim.toml");
    write_text(cfg, kBase);
    const std::string so = dp::qtest::plugin("cim");
    const Stamp cim_before = stamp(so), qemu_before = stamp(dp::qtest::qemu_binary());
    Qemu q({"-device", "dynperiph,plugin=" + so + ",addr=0x40100000,irq=17,id=cim,args=config=" + cfg});
    EXPECT_EQ(run_op(q, 0), (std::vector<uint32_t>{4, 6, 100}));

    // Build the new backend on its own: one compiler call, the ABI header only.
    const std::string out = d.file("cim-offset.so");
    const double build_s = build_backend(out, 1);
    std::printf("[ build    ] new backend .so built in %.3f s (no QEMU, no cim.so rebuild)\n", build_s);

    write_text(cfg, kBase + "\n[[op]]\nindex = 3\nbackend = \"cim-offset.so\"\n"
                            "params = { offset = 1000, latency_ns = 321 }\n");
    reload(q);
    EXPECT_EQ(q.readl(B + OPMAP), (1u << 0) | (1u << 3));
    EXPECT_EQ(run_op(q, 3), (std::vector<uint32_t>{1004, 1006, 321}));
    EXPECT_TRUE(stamp(so) == cim_before);
    EXPECT_TRUE(stamp(dp::qtest::qemu_binary()) == qemu_before);

    // Rebuild the same backend file with new behaviour: a hot reload of cim.so loads it anew.
    build_backend(out, 2);
    reload(q);
    EXPECT_EQ(run_op(q, 3), (std::vector<uint32_t>{2004, 2006, 321}));
    EXPECT_TRUE(stamp(so) == cim_before);

    // And a freshly started QEMU with that config uses it from the start.
    Qemu q2({"-device", "dynperiph,plugin=" + so + ",addr=0x40100000,irq=17,id=cim,args=config=" + cfg});
    EXPECT_EQ(run_op(q2, 3), (std::vector<uint32_t>{2004, 2006, 321}));
}
