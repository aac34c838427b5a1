// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "spawn.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

extern char **environ;

namespace dynperiph::cim::exec {

namespace {

using Clock = std::chrono::steady_clock;

struct Fd {
    int fd = -1;
    ~Fd() { reset(); }
    void reset() {
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
};

int ms_until(Clock::time_point t) {
    auto d = std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now()).count();
    return d < 0 ? 0 : static_cast<int>(d);
}

// Reads what is available; appends up to `cap` bytes (tail mode keeps the last `cap`).
// Returns false at EOF or error.
bool drain(int fd, std::string &buf, size_t cap, bool keep_tail, bool &overflow) {
    char chunk[65536];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0)
        return errno == EINTR || errno == EAGAIN;
    if (n == 0)
        return false;
    buf.append(chunk, static_cast<size_t>(n));
    if (buf.size() > cap) {
        overflow = true;
        if (keep_tail)
            buf.erase(0, buf.size() - cap);
        else
            buf.resize(cap);
    }
    return true;
}

std::string last_line(const std::string &s) {
    size_t end = s.find_last_not_of(" \t\r\n");
    if (end == std::string::npos)
        return {};
    size_t begin = s.rfind('\n', end);
    begin = begin == std::string::npos ? 0 : begin + 1;
    std::string line = s.substr(begin, end - begin + 1);
    if (line.size() > 160)
        line = line.substr(0, 157) + "...";
    return line;
}

} // namespace

std::string SpawnResult::describe(const SpawnOptions &opt) const {
    std::string prog = opt.argv.empty() ? "?" : opt.argv[0];
    std::string what;
    if (!started)
        return "cannot run " + prog + ": " + error;
    if (timed_out)
        what = prog + " timed out after " + std::to_string(opt.timeout_ms) + " ms (process group killed)";
    else if (stdout_overflow)
        what = prog + " wrote more than " + std::to_string(opt.max_stdout) + " bytes to stdout (killed)";
    else if (term_signal)
        what = prog + " was killed by signal " + std::to_string(term_signal) + " (" + strsignal(term_signal) + ")";
    else if (exited && exit_code != 0)
        what = prog + " exited with status " + std::to_string(exit_code);
    else
        return {};
    const std::string tail = last_line(err);
    if (!tail.empty())
        what += ": " + tail;
    return what;
}

SpawnResult run_process(const SpawnOptions &opt) {
    SpawnResult r;
    const auto t0 = Clock::now();
    if (opt.argv.empty()) {
        r.error = "empty argv";
        return r;
    }
    int out_pipe[2], err_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0) {
        r.error = std::string("pipe: ") + std::strerror(errno);
        return r;
    }
    Fd out_rd{out_pipe[0]}, out_wr{out_pipe[1]};
    if (pipe2(err_pipe, O_CLOEXEC) != 0) {
        r.error = std::string("pipe: ") + std::strerror(errno);
        return r;
    }
    Fd err_rd{err_pipe[0]}, err_wr{err_pipe[1]};

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out_wr.fd, 1);
    posix_spawn_file_actions_adddup2(&fa, err_wr.fd, 2);
    if (!opt.cwd.empty())
        posix_spawn_file_actions_addchdir_np(&fa, opt.cwd.c_str());
    // Own process group (so a timeout can kill the whole tree), default signal dispositions and an
    // empty signal mask (the host process may ignore SIGPIPE or block signals for its own threads).
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

    std::vector<char *> argv;
    for (const auto &a : opt.argv)
        argv.push_back(const_cast<char *>(a.c_str()));
    argv.push_back(nullptr);

    pid_t pid = -1;
    const bool search = opt.argv[0].find('/') == std::string::npos;
    int rc = search ? posix_spawnp(&pid, argv[0], &fa, &attr, argv.data(), environ)
                    : posix_spawn(&pid, argv[0], &fa, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    out_wr.reset();
    err_wr.reset();
    if (rc != 0) {
        r.error = std::strerror(rc);
        return r;
    }
    r.started = true;

    Fd pidfd{static_cast<int>(syscall(SYS_pidfd_open, pid, 0))};
    const auto deadline = t0 + std::chrono::milliseconds(opt.timeout_ms);
    bool out_open = true, err_open = true, child_done = false, overflow_err = false;
    bool killed_term = false, killed = false;
    Clock::time_point kill_at{};
    siginfo_t si{};

    auto child_exited = [&]() {
        // WNOWAIT: the child stays a zombie, so its pid (= our process group id) cannot be reused
        // before we have signalled the group.
        si.si_pid = 0;
        if (waitid(P_PID, static_cast<id_t>(pid), &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid)
            return true;
        return false;
    };

    while (true) {
        if (!child_done && child_exited()) {
            child_done = true;
            kill(-pid, SIGKILL); // stragglers left in the group (background children)
        }
        if (child_done && !out_open && !err_open)
            break;
        const auto now = Clock::now();
        if (!killed_term && now >= deadline) {
            r.timed_out = true;
            kill(-pid, SIGTERM);
            killed_term = true;
            kill_at = now + std::chrono::milliseconds(opt.kill_grace_ms);
        }
        if (killed_term && !killed && now >= kill_at) {
            kill(-pid, SIGKILL);
            killed = true;
        }
        if (r.stdout_overflow && !killed_term) { // no point in letting it run on
            kill(-pid, SIGKILL);
            killed_term = killed = true;
        }
        if (child_done && killed && (out_open || err_open) && now >= kill_at + std::chrono::milliseconds(500))
            break; // something outside the group holds the pipes: give up on them

        pollfd fds[3];
        int n = 0, i_out = -1, i_err = -1;
        if (out_open) { fds[n] = {out_rd.fd, POLLIN, 0}; i_out = n++; }
        if (err_open) { fds[n] = {err_rd.fd, POLLIN, 0}; i_err = n++; }
        if (!child_done && pidfd.fd >= 0) fds[n++] = {pidfd.fd, POLLIN, 0};
        int wait_ms = killed_term ? ms_until(kill_at) : ms_until(deadline);
        if (killed)
            wait_ms = 20;
        if (pidfd.fd < 0 || (child_done && n == 0))
            wait_ms = std::min(wait_ms, 5);
        wait_ms = std::max(wait_ms, 1);
        int pr = poll(fds, static_cast<nfds_t>(n), wait_ms);
        if (pr < 0 && errno != EINTR)
            break;
        if (pr > 0) {
            if (i_out >= 0 && (fds[i_out].revents & (POLLIN | POLLHUP | POLLERR)))
                out_open = drain(out_rd.fd, r.out, opt.max_stdout, false, r.stdout_overflow);
            if (i_err >= 0 && (fds[i_err].revents & (POLLIN | POLLHUP | POLLERR)))
                err_open = drain(err_rd.fd, r.err, opt.max_stderr, true, overflow_err);
        }
    }

    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status)) {
        r.exited = true;
        r.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        r.term_signal = WTERMSIG(status);
    }
    r.wall_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    return r;
}

} // namespace dynperiph::cim::exec
