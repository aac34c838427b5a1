// qtest client: drives the patched qemu-system-arm through QEMU's qtest text protocol and QMP.
//
//   dp::qtest::Qemu q({"-device", "dynperiph,plugin=" + dp::qtest::plugin("test-periph") +
//                                 ",addr=0x40120000,irq=25,id=dp0"});
//   q.writel(0x40120004, 42);  EXPECT_EQ(q.readl(0x40120004), 42u);
//   q.irq_intercept_in("/machine/armv7m");  q.clock_step(1000);  q.irq_level(25);
//   q.qom_set("/machine/peripheral/dp0", "reload", "");
//
// Every call has a deadline (Options::timeout): a hung or crashed QEMU makes the call throw
// dp::qtest::Error (with QEMU's stderr in the message) instead of hanging the test. The destructor
// stops QEMU (SIGTERM, then SIGKILL) and removes the sockets' temporary directory.
//
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace dp::qtest {

struct Error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A QMP command answered with {"error": ...}; what() is the error's "desc".
struct QmpError : Error {
    QmpError(const std::string& cls, const std::string& desc) : Error(desc), error_class(cls) {}
    std::string error_class;
};

// Path of the QEMU binary: $DYNPERIPH_QEMU, else the one this library was configured with.
std::string qemu_binary();
// ${DYNPERIPH_PLUGIN_DIR}/<name>.so ($DYNPERIPH_PLUGIN_DIR overrides the configured folder).
std::string plugin(const std::string& name);

struct Options {
    std::string qemu = qemu_binary();
    std::string machine = "mps2-an385";
    std::chrono::milliseconds timeout{10000};  // per call, and for QEMU to start
    // "qtest" (default): no guest code runs, the qtest socket drives memory, IRQs and the clock.
    // Anything else (e.g. "tcg"): a real guest runs and only QMP is connected; qtest calls throw.
    std::string accel = "qtest";
};

class Qemu {
public:
    explicit Qemu(std::vector<std::string> extra_args, Options opt = {});
    ~Qemu();
    Qemu(const Qemu&) = delete;
    Qemu& operator=(const Qemu&) = delete;

    // Guest-physical memory (through the CPU's address space, like a bus master).
    uint8_t readb(uint64_t addr);
    uint16_t readw(uint64_t addr);
    uint32_t readl(uint64_t addr);
    uint64_t readq(uint64_t addr);
    void writeb(uint64_t addr, uint8_t v);
    void writew(uint64_t addr, uint16_t v);
    void writel(uint64_t addr, uint32_t v);
    void writeq(uint64_t addr, uint64_t v);
    std::vector<uint8_t> read(uint64_t addr, size_t len);
    void write(uint64_t addr, const std::vector<uint8_t>& data);

    // Advances the virtual clock by ns (ns < 0: to the next timer deadline); returns the new time.
    int64_t clock_step(int64_t ns = -1);
    int64_t clock_ns();  // current virtual time

    // Intercepts the unnamed GPIO inputs of the device at `qom_path` (the NVIC's: "/machine/armv7m").
    void irq_intercept_in(const std::string& qom_path);
    bool irq_level(int n);       // last level reported for input n
    int irq_raised(int n);       // how many times input n went 0 -> 1

    // QMP: `cmd` is a whole command object; returns its "return" value, throws QmpError.
    nlohmann::json qmp(const nlohmann::json& cmd);
    nlohmann::json qom_get(const std::string& path, const std::string& prop);
    void qom_set(const std::string& path, const std::string& prop, const nlohmann::json& value);

    std::string command(const std::string& line);  // raw qtest command -> reply ("OK ...")
    std::string stderr_text() const;              // everything QEMU wrote to stderr so far
    // Asks QEMU to quit (QMP "quit") and returns its exit status; throws on timeout.
    int quit();
    // Waits for QEMU to exit on its own (e.g. a guest's semihosting exit); returns the exit status.
    int wait_exit();
    int pid() const;

private:
    struct Impl;
    std::unique_ptr<Impl> p_;
};

// Result of running QEMU that is expected to fail at startup.
struct RunResult {
    int pid = 0;            // QEMU's process id
    int exit_code = -1;     // exit status, -1 if killed by a signal or timed out
    int signal = 0;         // terminating signal, 0 if none
    bool timed_out = false; // still running after the timeout (then killed)
    std::string err;        // stderr
    std::vector<std::string> err_lines() const;  // stderr split into non-empty lines
};

// Runs `qemu -machine <machine> -accel qtest -display none -nodefaults -qtest-log none <args>`
// until it exits (or Options::timeout: then it is stopped and timed_out is set).
RunResult run_qemu(const std::vector<std::string>& args, Options opt = {});

// The child processes of process `pid` (all its threads), e.g. an isolate=on plugin's host.
std::vector<int> children_of(int pid);

}  // namespace dp::qtest
