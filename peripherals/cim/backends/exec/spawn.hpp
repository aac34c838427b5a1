// Runs one external program without a shell: own process group, stdin = /dev/null, stdout/stderr
// captured with size limits, a timeout that kills the whole group (SIGTERM, then SIGKILL), always reaped.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace dynperiph::cim::exec {

struct SpawnOptions {
    std::vector<std::string> argv; // argv[0]: a path, or a bare name searched in PATH
    std::string cwd;               // working directory of the child
    int timeout_ms = 10000;
    int kill_grace_ms = 200;       // SIGTERM → SIGKILL delay
    size_t max_stdout = 64u << 20;
    size_t max_stderr = 64u << 10; // only the tail is kept
};

struct SpawnResult {
    bool started = false;    // false: `error` says why the program could not be started
    bool exited = false;     // normal exit; exit_code valid
    int exit_code = -1;
    int term_signal = 0;     // killed by this signal
    bool timed_out = false;
    bool stdout_overflow = false;
    std::string out;         // stdout (at most max_stdout bytes)
    std::string err;         // the last max_stderr bytes of stderr
    std::string error;       // start failure
    double wall_ms = 0;

    bool ok() const { return started && exited && exit_code == 0 && !timed_out && !stdout_overflow; }
    // One line describing a failure (exit status / signal / timeout / overflow + stderr's last line).
    std::string describe(const SpawnOptions &opt) const;
};

SpawnResult run_process(const SpawnOptions &opt);

} // namespace dynperiph::cim::exec
