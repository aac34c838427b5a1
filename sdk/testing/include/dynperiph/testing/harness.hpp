// dynperiph host test harness: load a plugin .so exactly as QEMU's dynperiph device does (dlopen, entry
// symbol, ABI check, create with args) and drive it against a fake host, so plugins are testable without
// QEMU.
//
//   dynperiph::testing::FakeHost host;                     // RAM at 0x20000000, 1 MiB
//   auto plugin = dynperiph::testing::Plugin::load(dynperiph::testing::plugin_path("crc-dma"));
//   dynperiph::testing::Instance dev(plugin, host, "cycles_per_byte=2");
//   host.write_ram(0x20000000, data);
//   dev.write32(0x08, 0x20000000);
//   host.advance(1000);                                      // fires due timers in deadline order
//   EXPECT_EQ(host.irq(0), 1);
//
// The fake host follows the ABI's rules and records violations (a host service called from a
// run_blocking worker thread, a DMA/IRQ/timer call with a bad argument) in violations().
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <dynperiph/plugin.h>

namespace dynperiph::testing {

struct LogLine {
    dp_log_level level;
    std::string text;
};

struct IrqEvent {
    uint64_t time_ns;
    unsigned line;
    int level;
};

class FakeHost {
  public:
    explicit FakeHost(uint64_t ram_base = 0x20000000, size_t ram_size = 1u << 20, std::string instance_name = "dev0",
                      unsigned irq_lines = 32);
    ~FakeHost();
    FakeHost(const FakeHost &) = delete;
    FakeHost &operator=(const FakeHost &) = delete;

    const dp_host *host() const { return &host_; }

    // --- guest RAM [ram_base, ram_base + ram_size)
    uint64_t ram_base() const { return ram_base_; }
    std::vector<uint8_t> &ram() { return ram_; }
    void write_ram(uint64_t addr, std::span<const uint8_t> data);
    std::vector<uint8_t> read_ram(uint64_t addr, size_t len) const;
    void write32(uint64_t addr, uint32_t v);
    uint32_t read32(uint64_t addr) const;
    uint64_t dma_reads() const { return dma_reads_; }
    uint64_t dma_writes() const { return dma_writes_; }
    uint64_t dma_errors() const { return dma_errors_; }

    // --- IRQ lines (level as last driven; history of every change)
    int irq(unsigned line) const;
    const std::vector<IrqEvent> &irq_history() const { return irq_history_; }
    unsigned irq_raises(unsigned line) const; // 0 → 1 transitions

    // --- virtual clock and timers
    uint64_t now() const { return now_; }
    // Advances the clock by ns, firing every timer whose deadline is reached, in deadline order (ties: the
    // timer armed first); the clock reads the deadline while its callback runs. Timers (re)armed by a
    // callback fire in the same call if due.
    void advance(uint64_t ns);
    // Jumps to the earliest armed timer and fires it; false if none is armed.
    bool run_next_timer();
    // Advances until no timer is armed (at most max_steps firings); returns the number fired.
    unsigned run_until_idle(unsigned max_steps = 100000);
    std::optional<uint64_t> next_deadline() const;
    size_t armed_timers() const;
    size_t live_timers() const { return timers_.size(); }

    // --- log
    const std::vector<LogLine> &logs() const { return logs_; }
    bool log_contains(const std::string &needle) const;
    bool log_contains(dp_log_level level, const std::string &needle) const;
    size_t log_count(dp_log_level level) const;
    void clear_logs() { logs_.clear(); }
    bool echo_logs = false; // also print log lines to stderr

    // --- blocking work
    unsigned blocking_runs() const { return blocking_runs_; }
    bool fail_run_blocking = false; // make run_blocking return DP_ERR_INTERNAL without running fn

    // --- capabilities: id → pointer returned by get_capability
    std::map<std::string, const void *> capabilities;

    // --- ABI rule violations seen (empty in a correct plugin)
    const std::vector<std::string> &violations() const { return violations_; }

  private:
    struct Timer {
        dp_timer_cb cb;
        void *opaque;
        bool armed = false;
        uint64_t deadline = 0;
        uint64_t seq = 0;
    };
    static FakeHost *self(void *ctx) { return static_cast<FakeHost *>(ctx); }
    void check_thread(const char *service);
    bool ram_range(uint64_t addr, size_t len) const;
    Timer *find_due(uint64_t limit);

    static dp_status s_dma_read(void *ctx, uint64_t addr, void *buf, size_t len);
    static dp_status s_dma_write(void *ctx, uint64_t addr, const void *buf, size_t len);
    static void s_set_irq(void *ctx, unsigned line, int level);
    static uint64_t s_clock_ns(void *ctx);
    static dp_timer *s_timer_new(void *ctx, dp_timer_cb cb, void *opaque);
    static void s_timer_arm(void *ctx, dp_timer *t, uint64_t deadline);
    static void s_timer_cancel(void *ctx, dp_timer *t);
    static void s_timer_free(void *ctx, dp_timer *t);
    static void s_log(void *ctx, dp_log_level level, const char *msg);
    static dp_status s_run_blocking(void *ctx, dp_work_fn fn, void *opaque);
    static const void *s_get_capability(void *ctx, const char *id);

    dp_host host_{};
    std::string instance_name_;
    uint64_t ram_base_;
    std::vector<uint8_t> ram_;
    std::vector<int> irq_;
    std::vector<IrqEvent> irq_history_;
    uint64_t now_ = 0;
    uint64_t seq_ = 0;
    std::map<dp_timer *, std::unique_ptr<Timer>> timers_;
    std::vector<LogLine> logs_;
    std::vector<std::string> violations_;
    std::thread::id owner_;
    std::thread::id worker_{};
    unsigned blocking_runs_ = 0;
    uint64_t dma_reads_ = 0, dma_writes_ = 0, dma_errors_ = 0;
};

// A loaded plugin file. Load errors throw std::runtime_error with one line naming the file and the cause,
// in the same cases where QEMU refuses to start.
class Plugin {
  public:
    static Plugin load(const std::string &path);
    Plugin(Plugin &&o) noexcept;
    Plugin &operator=(Plugin &&o) noexcept;
    ~Plugin();
    const dp_plugin_desc &desc() const { return *desc_; }
    const std::string &path() const { return path_; }
    void *handle() const { return handle_; }

  private:
    Plugin() = default;
    std::string path_;
    void *handle_ = nullptr;
    const dp_plugin_desc *desc_ = nullptr;
};

// One device instance (create on construction, destroy on destruction). create() failure throws
// std::runtime_error carrying the plugin's error text.
class Instance {
  public:
    Instance(const Plugin &plugin, FakeHost &host, const std::string &args = "");
    ~Instance();
    Instance(const Instance &) = delete;
    Instance &operator=(const Instance &) = delete;

    dp_status read(uint64_t offset, unsigned size, uint64_t &value);
    dp_status write(uint64_t offset, unsigned size, uint64_t value);
    // 32-bit accesses that fail the test helper's expectation of DP_OK by throwing std::runtime_error.
    uint32_t read32(uint64_t offset);
    void write32(uint64_t offset, uint32_t value);
    void reset();

    // Hot reload helpers: save (size query + fill, as QEMU does) and load into this instance.
    dp_status save(std::vector<uint8_t> &blob);
    dp_status load(uint32_t version, const std::vector<uint8_t> &blob);

    const dp_plugin_desc &desc() const { return *desc_; }
    dp_instance *raw() const { return inst_; }

  private:
    const dp_plugin_desc *desc_;
    FakeHost &host_;
    dp_instance *inst_ = nullptr;
};

// Path of a plugin built into DYNPERIPH_PLUGIN_DIR: plugin_path("crc-dma") → ".../plugins/crc-dma.so".
// The directory comes from the DYNPERIPH_PLUGIN_DIR environment variable if set, else the build's.
std::string plugin_path(const std::string &name);

} // namespace dynperiph::testing
