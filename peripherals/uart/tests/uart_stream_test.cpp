// The uart example on a real guest (TCG, firmware/uart_echo.c) behind a socket chardev this test drives:
// 1 MiB streams through the guest's interrupt-driven echo without a lost or reordered byte, also with the
// peer reading late (back-pressure in both directions), and across hot reloads of the plugin mid-stream.
// Startup errors of chardev= are one line each.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "qtest_client.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

#ifdef DP_TEST_ISOLATE  // uart_isolated_tests: the same streams with the plugin in a child process
const std::string kIsolate = ",isolate=on,isolate-host=" DP_TEST_ISOLATE;
#else
const std::string kIsolate;
#endif
const std::string kDevice =
    "dynperiph,plugin=" + dp::qtest::plugin("uart") + ",addr=0x40130000,irq=28,id=uart0" + kIsolate;

struct TempDir {
    std::string path;
    TempDir() {
        char t[] = "/tmp/dp-uart-XXXXXX";
        if (!mkdtemp(t)) throw std::runtime_error("mkdtemp failed");
        path = t;
    }
    ~TempDir() {
        unlink((path + "/u0.sock").c_str());
        rmdir(path.c_str());
    }
};

int connect_unix(const std::string &path) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    for (int i = 0; i < 200; i++) {  // QEMU creates the listening socket during startup
        if (connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0) return fd;
        std::this_thread::sleep_for(10ms);
    }
    close(fd);
    return -1;
}

std::vector<uint8_t> payload(size_t n, uint32_t seed) {
    std::vector<uint8_t> v(n);
    for (auto &b : v) {
        seed = seed * 1664525u + 1013904223u;
        b = uint8_t(seed >> 24);
    }
    return v;
}

struct StreamResult {
    size_t received = 0;
    long first_mismatch = -1;
    double seconds = 0;
    int reloads = 0;
};

// Sends a 4-byte length + `data` to the echo firmware and checks what comes back. `reload_every` > 0: a
// hot reload (QMP) each time that many more bytes came back. `late_ms`: the peer starts reading late.
StreamResult stream(dp::qtest::Qemu &q, int fd, const std::vector<uint8_t> &data, size_t reload_every,
                    int late_ms) {
    StreamResult r;
    auto t0 = Clock::now();
    std::thread writer([&] {
        uint32_t n = uint32_t(data.size());
        uint8_t hdr[4] = {uint8_t(n), uint8_t(n >> 8), uint8_t(n >> 16), uint8_t(n >> 24)};
        (void)!write(fd, hdr, 4);
        size_t off = 0;
        while (off < data.size()) {
            ssize_t k = write(fd, data.data() + off, std::min<size_t>(data.size() - off, 65536));
            if (k <= 0) break;
            off += size_t(k);
        }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(late_ms));
    std::vector<uint8_t> buf(65536);
    size_t next_reload = reload_every;
    timeval tv{30, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (r.received < data.size()) {
        ssize_t k = read(fd, buf.data(), buf.size());
        if (k <= 0) break;
        for (ssize_t i = 0; i < k; i++) {
            if (r.first_mismatch < 0 && buf[size_t(i)] != data[r.received + size_t(i)])
                r.first_mismatch = long(r.received + size_t(i));
        }
        r.received += size_t(k);
        if (reload_every && r.received >= next_reload && r.received < data.size()) {
            next_reload += reload_every;
            q.qom_set("/machine/peripheral/uart0", "reload", "");
            auto st = q.qom_get("/machine/peripheral/uart0", "reload-status").get<std::string>();
            EXPECT_EQ(st.rfind("ok: ", 0), 0u) << st;
            r.reloads++;
        }
    }
    writer.join();
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return r;
}

void run_echo(size_t bytes, size_t reload_every, int late_ms, const std::string &args = "") {
    TempDir dir;
    const std::string sock = dir.path + "/u0.sock";
    dp::qtest::Options opt;
    opt.accel = "tcg";
    dp::qtest::Qemu q({"-semihosting-config", "enable=on,target=native", "-kernel", DP_UART_ECHO_FIRMWARE,
                       "-chardev", "socket,id=u0,path=" + sock + ",server=on,wait=off", "-device",
                       kDevice + ",chardev=u0" + (args.empty() ? "" : ",args=" + args)},
                      opt);
    int fd = connect_unix(sock);
    ASSERT_GE(fd, 0) << "cannot connect to " << sock;
    EXPECT_EQ(dp::qtest::children_of(q.pid()).size(), kIsolate.empty() ? 0u : 1u) << "isolate=on: one child";
    auto data = payload(bytes, 12345);
    StreamResult r = stream(q, fd, data, reload_every, late_ms);
    close(fd);
    EXPECT_EQ(r.received, data.size()) << q.stderr_text();
    EXPECT_EQ(r.first_mismatch, -1) << "first wrong byte at offset " << r.first_mismatch;
    EXPECT_EQ(q.wait_exit(), 0) << q.stderr_text();
    std::printf("uart echo: %zu bytes in %.2f s (%.2f MiB/s), %d hot reloads mid-stream\n%s", r.received,
                r.seconds, double(r.received) / r.seconds / 1048576.0, r.reloads, q.stderr_text().c_str());
}

} // namespace

// In-process 1 MiB; isolated 128 KiB (every MMIO access and chardev call is a round trip to the child: the
// same paths, an eighth of the CI time), with as many reloads.
const size_t kBig = kIsolate.empty() ? 1u << 20 : 128u << 10;

TEST(UartChardev, OneMiBEchoedByteForByte) { run_echo(kBig, 0, 0, "fifo=256"); }

TEST(UartChardev, PeerReadsLateBackPressure) { run_echo(kBig / 4, 0, 700, "fifo=4"); }

TEST(UartChardev, HotReloadMidStreamLosesNothing) { run_echo(kBig, kBig / 8, 0, "fifo=64"); }

TEST(UartChardev, StartupErrorsAreOneLine) {
    struct Case {
        std::vector<std::string> args;
        std::string expect;
    } cases[] = {
        {{"-device", kDevice + ",chardev=nope"}, "dynperiph uart0: chardev 'nope' not found"},
        {{"-chardev", "null,id=a", "-device", kDevice + ",chardev=a:a"}, "chardev 'a' is named twice"},
        {{"-chardev", "null,id=a", "-device", kDevice + ",chardev=a:"}, "empty chardev id"},
        {{"-device", kDevice}, "chardev port 0 needed, the device was given 0"},
    };
    for (const auto &c : cases) {
        auto r = dp::qtest::run_qemu(c.args);
        EXPECT_EQ(r.exit_code, 1) << r.err;
        auto lines = r.err_lines();
        ASSERT_EQ(lines.size(), 1u) << r.err;
        EXPECT_NE(lines[0].find(c.expect), std::string::npos) << lines[0];
    }
}
