// ABI 1.1 on the QEMU device, under qtest: an ABI 1.0 plugin keeps working unchanged (load, MMIO, hot
// reload); a newer minor is refused with both versions named; the lifecycle capability gives a plugin's
// host resources (a listening TCP port and its thread) to exactly one instance across hot reloads, and a
// reload whose activate fails keeps the old instance serving.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "qtest_client.hpp"
#include "test_periph_regs.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

using dp::qtest::plugin;
using dp::qtest::Qemu;
using namespace std::chrono_literals;

namespace {

constexpr uint64_t kBase = 0x40120000;
#ifdef DP_TEST_ISOLATE  // dynperiph_isolated_lifecycle_tests: the plugin in a child process
const std::string kIsolate = ",isolate=on,isolate-host=" DP_TEST_ISOLATE;
#else
const std::string kIsolate;
#endif

// With isolate=on the plugin (and its listening port) lives in QEMU's one child process.
void expect_isolation(const Qemu &q) {
    EXPECT_EQ(dp::qtest::children_of(q.pid()).size(), kIsolate.empty() ? 0u : 1u);
}
const std::string kPath = "/machine/peripheral/dp0";

unsigned free_port() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a);
    socklen_t l = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr *>(&a), &l);
    close(fd);
    return ntohs(a.sin_port);
}

// Connects to 127.0.0.1:port and returns the one line the plugin answers ("" if nobody listens).
std::string ask(unsigned port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string line;
    if (connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0) {
        char buf[64];
        ssize_t n;
        while ((n = read(fd, buf, sizeof buf)) > 0) line.append(buf, size_t(n));
    }
    close(fd);
    return line;
}

std::string status(Qemu &q) { return q.qom_get(kPath, "reload-status").get<std::string>(); }

// CONNS is counted by posted work (the accept thread posts it): wait until it got there.
uint32_t conns(Qemu &q, uint32_t want) {
    uint32_t v = 0;
    for (int i = 0; i < 200 && (v = q.readl(kBase + 4)) < want; i++) std::this_thread::sleep_for(5ms);
    return v;
}

} // namespace

TEST(DynperiphAbi11, Abi10PluginWorksUnchanged) {
    Qemu q({"-device", "dynperiph,plugin=" + plugin("test-abi10") + ",addr=0x40120000,irq=25,id=dp0"});
    EXPECT_EQ(q.readl(kBase + TP_REG_ID), TP_ID_BASE + 1);
    q.writel(kBase + TP_REG_SCRATCH, 0x1234abcd);
    q.qom_set(kPath, "reload", plugin("test-abi10"));
    EXPECT_EQ(status(q).rfind("ok: ", 0), 0u) << status(q);
    EXPECT_EQ(q.readl(kBase + TP_REG_SCRATCH), 0x1234abcdu);
}

TEST(DynperiphAbi11, NewerMinorIsRefused) {
    auto r = dp::qtest::run_qemu({"-device", "dynperiph,plugin=" + plugin("test-abi1x") + ",addr=0x40120000"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("plugin ABI 1.99, this QEMU supports 1.0 to 1.1"), std::string::npos) << r.err;
}

TEST(DynperiphLifecycle, ListeningPortFollowsTheLiveInstance) {
    unsigned port = free_port();
    const std::string args = ",args=port=" + std::to_string(port);
    Qemu q({"-device", "dynperiph,plugin=" + plugin("test-listen") + ",addr=0x40120000,id=dp0" + args + kIsolate});
    EXPECT_EQ(ask(port), "listen v1\n");
    EXPECT_EQ(conns(q, 1), 1u);
    expect_isolation(q);
    for (int round = 0; round < 3; round++) {
        q.qom_set(kPath, "reload", plugin("test-listen-v2"));
        ASSERT_EQ(status(q).rfind("ok: ", 0), 0u) << status(q);
        EXPECT_EQ(q.readl(kBase), 0x4c000002u);
        EXPECT_EQ(ask(port), "listen v2\n") << "the new instance does not listen after the reload";
        q.qom_set(kPath, "reload", plugin("test-listen"));
        ASSERT_EQ(status(q).rfind("ok: ", 0), 0u) << status(q);
        EXPECT_EQ(ask(port), "listen v1\n");
    }
    EXPECT_EQ(conns(q, 7), 7u) << "the count posted by the threads travels in the state";
}

TEST(DynperiphLifecycle, FailedActivateKeepsTheOldInstanceServing) {
    unsigned port = free_port();
    const std::string args = ",args=port=" + std::to_string(port);
    Qemu q({"-device", "dynperiph,plugin=" + plugin("test-listen") + ",addr=0x40120000,id=dp0" + args + kIsolate});
    EXPECT_EQ(ask(port), "listen v1\n");
    EXPECT_THROW(q.qom_set(kPath, "reload", plugin("test-listen-refuse")), dp::qtest::QmpError);
    EXPECT_NE(status(q).find("activate failed: refused by the test variant"), std::string::npos) << status(q);
    EXPECT_EQ(q.readl(kBase), 0x4c000001u);
    EXPECT_EQ(ask(port), "listen v1\n") << "the old instance was not activated again";
}

TEST(DynperiphLifecycle, PortTakenAtStartupIsOneLine) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a);
    listen(fd, 1);
    socklen_t l = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr *>(&a), &l);
    unsigned port = ntohs(a.sin_port);
    auto r = dp::qtest::run_qemu({"-device", "dynperiph,plugin=" + plugin("test-listen") +
                                                 ",addr=0x40120000,args=port=" + std::to_string(port) + kIsolate});
    close(fd);
    EXPECT_EQ(r.exit_code, 1);
    auto lines = r.err_lines();
    ASSERT_EQ(lines.size(), 1u) << r.err;
    EXPECT_NE(lines[0].find("activate failed: bind 127.0.0.1:" + std::to_string(port) + ": Address already in use"),
              std::string::npos)
        << lines[0];
}
