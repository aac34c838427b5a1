// The harness itself: loader errors (the same cases QEMU refuses), fake RAM, timers, IRQ history.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "dynperiph/testing/harness.hpp"

using namespace dynperiph::testing;

namespace {

std::string load_error(const std::string &path) {
    try {
        Plugin::load(path);
    } catch (const std::runtime_error &e) {
        return e.what();
    }
    return "no error";
}

std::string dir() { return SDK_TEST_PLUGIN_DIR; }

// A minimal timer client driving the C ABI directly.
struct Rec {
    FakeHost *h;
    std::vector<std::pair<int, uint64_t>> *fired;
    int id;
};
void on_timer(void *p) {
    Rec *r = static_cast<Rec *>(p);
    r->fired->emplace_back(r->id, r->h->host()->clock_ns(r->h->host()->ctx));
}

} // namespace

TEST(Harness, LoaderErrorsNameFileAndCause) {
    EXPECT_EQ(load_error(dir() + "/missing.so"), dir() + "/missing.so: cannot open plugin: No such file or directory");
    std::string junk = ::testing::TempDir() + "/junk.so";
    std::ofstream(junk) << "not an ELF file";
    EXPECT_EQ(load_error(junk).rfind(junk + ": not a loadable shared object: ", 0), 0u) << load_error(junk);
    std::remove(junk.c_str());
    EXPECT_EQ(load_error(dir() + "/no_entry.so"),
              dir() + "/no_entry.so: not a dynperiph plugin: no symbol dynperiph_plugin_entry");
    EXPECT_EQ(load_error(dir() + "/refuses.so"), dir() + "/refuses.so: the plugin refused host ABI 1.1");
    EXPECT_EQ(load_error(dir() + "/abi_future.so"),
              dir() + "/abi_future.so: plugin ABI 2.0 is not supported by this host (ABI 1.1)");
    EXPECT_EQ(load_error(dir() + "/probe.so"), "no error");
}

TEST(Harness, PluginExportsOnlyTheEntrySymbol) {
    std::string cmd = "nm -D --defined-only " + dir() + "/probe.so";
    FILE *f = ::popen(cmd.c_str(), "r");
    ASSERT_NE(f, nullptr);
    std::string out;
    char buf[256];
    while (std::fgets(buf, sizeof buf, f))
        out += buf;
    ASSERT_EQ(::pclose(f), 0);
    // one line: "<addr> T dynperiph_plugin_entry"
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
    EXPECT_NE(out.find(" T dynperiph_plugin_entry"), std::string::npos) << out;
}

TEST(Harness, RamBoundsAreEnforced) {
    FakeHost h(0x1000, 0x100);
    const dp_host *hp = h.host();
    uint8_t b[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    EXPECT_EQ(hp->dma_write(hp->ctx, 0x1000, b, 8), DP_OK);
    EXPECT_EQ(hp->dma_write(hp->ctx, 0x10F8, b, 8), DP_OK);
    EXPECT_EQ(hp->dma_write(hp->ctx, 0x10F9, b, 8), DP_ERR_RANGE);
    EXPECT_EQ(hp->dma_read(hp->ctx, 0xFFF, b, 1), DP_ERR_RANGE);
    EXPECT_EQ(hp->dma_read(hp->ctx, UINT64_MAX - 2, b, 8), DP_ERR_RANGE);
    EXPECT_EQ(hp->dma_read(hp->ctx, 0x1100, b, 0), DP_OK) << "empty range at the end";
    EXPECT_EQ(h.read32(0x1000), 0x04030201u);
    EXPECT_EQ(h.dma_errors(), 3u);
}

TEST(Harness, TimersFireInDeadlineOrderWithClockAtDeadline) {
    FakeHost h;
    const dp_host *hp = h.host();
    std::vector<std::pair<int, uint64_t>> fired;
    Rec a{&h, &fired, 1}, b{&h, &fired, 2}, c{&h, &fired, 3};
    dp_timer *ta = hp->timer_new(hp->ctx, on_timer, &a);
    dp_timer *tb = hp->timer_new(hp->ctx, on_timer, &b);
    dp_timer *tc = hp->timer_new(hp->ctx, on_timer, &c);
    hp->timer_arm(hp->ctx, ta, 300);
    hp->timer_arm(hp->ctx, tb, 100);
    hp->timer_arm(hp->ctx, tc, 100); // same deadline as b, armed later → fires after b
    EXPECT_EQ(h.next_deadline(), 100u);
    h.advance(50);
    EXPECT_TRUE(fired.empty());
    h.advance(1000);
    ASSERT_EQ(fired.size(), 3u);
    EXPECT_EQ(fired[0], std::make_pair(2, uint64_t(100)));
    EXPECT_EQ(fired[1], std::make_pair(3, uint64_t(100)));
    EXPECT_EQ(fired[2], std::make_pair(1, uint64_t(300)));
    EXPECT_EQ(h.now(), 1050u);
    // cancel, re-arm, past deadline fires on the next advance(0)
    hp->timer_arm(hp->ctx, ta, 2000);
    hp->timer_cancel(hp->ctx, ta);
    hp->timer_arm(hp->ctx, tb, 10);
    h.advance(0);
    ASSERT_EQ(fired.size(), 4u);
    EXPECT_EQ(fired[3], std::make_pair(2, uint64_t(1050)));
    EXPECT_EQ(h.armed_timers(), 0u);
    hp->timer_arm(hp->ctx, tc, 5000);
    EXPECT_TRUE(h.run_next_timer());
    EXPECT_EQ(h.now(), 5000u);
    EXPECT_FALSE(h.run_next_timer());
    hp->timer_free(hp->ctx, ta);
    hp->timer_free(hp->ctx, tb);
    hp->timer_free(hp->ctx, tc);
    EXPECT_EQ(h.live_timers(), 0u);
    EXPECT_TRUE(h.violations().empty());
    hp->timer_free(hp->ctx, ta);
    EXPECT_EQ(h.violations().size(), 1u);
}

TEST(Harness, IrqHistoryAndLog) {
    FakeHost h(0x20000000, 1024, "dev7", 4);
    const dp_host *hp = h.host();
    EXPECT_STREQ(hp->instance_name, "dev7");
    hp->set_irq(hp->ctx, 2, 1);
    hp->set_irq(hp->ctx, 2, 1);
    hp->set_irq(hp->ctx, 2, 0);
    hp->set_irq(hp->ctx, 2, 1);
    EXPECT_EQ(h.irq(2), 1);
    EXPECT_EQ(h.irq_raises(2), 2u);
    EXPECT_EQ(h.irq_history().size(), 4u);
    hp->set_irq(hp->ctx, 4, 1);
    EXPECT_EQ(h.violations().size(), 1u);
    hp->log(hp->ctx, DP_LOG_GUEST_ERROR, "bad guest");
    EXPECT_TRUE(h.log_contains(DP_LOG_GUEST_ERROR, "bad guest"));
    EXPECT_FALSE(h.log_contains(DP_LOG_ERROR, "bad guest"));
    EXPECT_EQ(h.log_count(DP_LOG_GUEST_ERROR), 1u);
    static const int cap = 5;
    h.capabilities["test.cap/1"] = &cap;
    EXPECT_EQ(hp->get_capability(hp->ctx, "test.cap/1"), &cap);
    EXPECT_EQ(hp->get_capability(hp->ctx, "nope"), nullptr);
}

TEST(Harness, PluginPathUsesEnvironment) {
    ::setenv("DYNPERIPH_PLUGIN_DIR", "/x/y", 1);
    EXPECT_EQ(plugin_path("crc-dma"), "/x/y/crc-dma.so");
    ::unsetenv("DYNPERIPH_PLUGIN_DIR");
    EXPECT_EQ(plugin_path("crc-dma"), std::string(DYNPERIPH_PLUGIN_DIR_FOR_TEST) + "/crc-dma.so");
}
