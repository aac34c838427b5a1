// qtest client implementation: process handling, the qtest line protocol and QMP.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "qtest_client.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <poll.h>
#include <sstream>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace dp::qtest {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string hex(uint64_t v)
{
    char b[32];
    std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
    return b;
}

std::string join(const std::vector<std::string>& v)
{
    std::string s;
    for (const auto& a : v) s += (s.empty() ? "" : " ") + a;
    return s;
}

// A child process whose stderr goes to a file: once QEMU's write() returned (e.g. before it sent
// a qtest reply), err() sees the text; no reader thread, no pipe that could fill up.
class Child {
public:
    Child(const std::vector<std::string>& argv, std::string err_path) : err_path_(std::move(err_path))
    {
        int fd = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) throw Error("cannot create " + err_path_ + ": " + std::strerror(errno));
        pid_ = fork();
        if (pid_ < 0) throw Error(std::string("fork: ") + std::strerror(errno));
        if (pid_ == 0) exec_child(argv, fd);
        close(fd);
    }
    ~Child()
    {
        stop(2000ms);
        unlink(err_path_.c_str());
    }

    int pid() const { return pid_; }
    std::string err() const
    {
        std::ifstream in(err_path_, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    // Non-blocking: true once the process has ended (status in status_).
    bool exited()
    {
        if (reaped_) return true;
        int st = 0;
        if (waitpid(pid_, &st, WNOHANG) == pid_) {
            reaped_ = true;
            status_ = st;
        }
        return reaped_;
    }
    bool wait(std::chrono::milliseconds timeout)
    {
        auto end = Clock::now() + timeout;
        while (!exited()) {
            if (Clock::now() >= end) return false;
            std::this_thread::sleep_for(2ms);
        }
        return true;
    }
    // SIGTERM (QEMU shuts down cleanly), then SIGKILL after `grace`.
    void stop(std::chrono::milliseconds grace)
    {
        if (exited()) return;
        kill(pid_, SIGTERM);
        if (!wait(grace)) {
            kill(pid_, SIGKILL);
            wait(5000ms);
        }
    }
    int status() const { return status_; }

private:
    [[noreturn]] static void exec_child(const std::vector<std::string>& argv, int err_fd)
    {
        prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
        int null = open("/dev/null", O_RDWR);
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(err_fd, STDERR_FILENO);
        std::vector<char*> a;
        for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
        a.push_back(nullptr);
        execv(a[0], a.data());
        std::fprintf(stderr, "qtest_client: cannot run %s: %s\n", a[0], std::strerror(errno));
        _exit(127);
    }

    std::string err_path_;
    pid_t pid_ = -1;
    bool reaped_ = false;
    int status_ = 0;
};

// A listening Unix socket QEMU connects to, then the connection's line reader.
class LineSocket {
public:
    explicit LineSocket(const std::string& path) : path_(path)
    {
        listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        if (path.size() >= sizeof a.sun_path) throw Error("socket path too long: " + path);
        std::strcpy(a.sun_path, path.c_str());
        if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            listen(listen_fd_, 1) != 0)
            throw Error("cannot listen on " + path + ": " + std::strerror(errno));
    }
    ~LineSocket()
    {
        if (fd_ >= 0) close(fd_);
        if (listen_fd_ >= 0) close(listen_fd_);
        unlink(path_.c_str());
    }
    // Waits for QEMU to connect; `alive` says whether it is still worth waiting.
    template <class F>
    bool accept_until(Clock::time_point end, F alive)
    {
        while (Clock::now() < end) {
            pollfd p{listen_fd_, POLLIN, 0};
            if (poll(&p, 1, 20) > 0) {
                fd_ = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
                return fd_ >= 0;
            }
            if (!alive()) return false;
        }
        return false;
    }
    void send(const std::string& s)
    {
        size_t off = 0;
        while (off < s.size()) {
            ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) throw Error("QEMU closed the connection (" + path_ + ")");
            off += static_cast<size_t>(n);
        }
    }
    // Next line without the newline; nullopt at the deadline. Throws when QEMU hangs up.
    bool read_line(std::string& line, Clock::time_point end)
    {
        for (;;) {
            auto nl = buf_.find('\n');
            if (nl != std::string::npos) {
                line = buf_.substr(0, nl);
                if (!line.empty() && line.back() == '\r') line.pop_back();
                buf_.erase(0, nl + 1);
                return true;
            }
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
            if (left.count() < 0) return false;
            pollfd p{fd_, POLLIN, 0};
            int r = poll(&p, 1, static_cast<int>(left.count()));
            if (r < 0 && errno == EINTR) continue;
            if (r == 0) return false;
            char b[4096];
            ssize_t n = ::recv(fd_, b, sizeof b, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) throw Error("QEMU closed the connection (" + path_ + ")");
            buf_.append(b, static_cast<size_t>(n));
        }
    }

private:
    std::string path_;
    int listen_fd_ = -1;
    int fd_ = -1;
    std::string buf_;
};

std::vector<std::string> base_args(const Options& o)
{
    std::vector<std::string> a{o.qemu, "-machine", o.machine, "-accel", o.accel,
                               "-display", "none", "-nodefaults"};
    if (o.accel == "qtest") a.insert(a.end(), {"-qtest-log", "none"});
    return a;
}

}  // namespace

std::string qemu_binary()
{
    if (const char* e = std::getenv("DYNPERIPH_QEMU"); e && *e) return e;
    return DP_QTEST_DEFAULT_QEMU;
}

std::string plugin(const std::string& name)
{
    const char* e = std::getenv("DYNPERIPH_PLUGIN_DIR");
    return std::string(e && *e ? e : DP_QTEST_DEFAULT_PLUGIN_DIR) + "/" + name + ".so";
}

struct Qemu::Impl {
    Options opt;
    std::string dir;
    std::unique_ptr<LineSocket> qt, qmp;
    std::unique_ptr<Child> child;
    std::map<int, bool> levels;
    std::map<int, int> raised;

    ~Impl()  // also runs when the constructor throws
    {
        qt.reset();
        qmp.reset();
        child.reset();  // stops QEMU, removes its stderr file
        if (!dir.empty()) rmdir(dir.c_str());
    }

    Clock::time_point deadline() const { return Clock::now() + opt.timeout; }

    [[noreturn]] void fail(const std::string& what)
    {
        bool dead = child->exited();
        std::string msg = "qtest: " + what;
        if (dead) {
            int st = child->status();
            msg += WIFSIGNALED(st) ? " (QEMU killed by signal " + std::to_string(WTERMSIG(st)) + ")"
                                   : " (QEMU exited with " + std::to_string(WEXITSTATUS(st)) + ")";
        }
        std::string err = child->err();
        if (!err.empty()) msg += "; QEMU stderr:\n" + err;
        throw Error(msg);
    }

    void note_irq(const std::string& line)
    {
        std::istringstream in(line);
        std::string irq, dir;
        int n = -1;
        in >> irq >> dir >> n;
        bool up = dir == "raise";
        if (up && !levels[n]) raised[n]++;
        levels[n] = up;
    }

    // Sends a qtest command; returns the reply after "OK " (or after "FAIL " when fail_ok).
    std::string qtest(const std::string& cmd, bool fail_ok = false)
    {
        if (!qt) throw Error("qtest: '" + cmd + "' needs Options::accel = \"qtest\"");
        try {
            qt->send(cmd + "\n");
            auto end = deadline();
            std::string line;
            for (;;) {
                if (!qt->read_line(line, end))
                    fail("no reply to '" + cmd + "' within " + std::to_string(opt.timeout.count()) + " ms");
                if (line.rfind("IRQ ", 0) == 0) {
                    note_irq(line);
                    continue;
                }
                if (fail_ok && line.rfind("FAIL ", 0) == 0) return line.substr(5);
                if (line.rfind("OK", 0) != 0) fail("'" + cmd + "' failed: " + line);
                return line.size() > 3 ? line.substr(3) : std::string();
            }
        } catch (const Error& e) {
            if (std::string(e.what()).rfind("qtest: ", 0) == 0) throw;
            fail(e.what());
        }
    }

    // IRQ lines QEMU sent while no command was waiting for them.
    void drain_async()
    {
        std::string line;
        if (!qt) return;
        while (qt->read_line(line, Clock::now())) {
            if (line.rfind("IRQ ", 0) != 0) fail("unexpected qtest line: " + line);
            note_irq(line);
        }
    }

    nlohmann::json qmp_read(const std::string& what)
    {
        auto end = deadline();
        std::string line;
        for (;;) {
            if (!qmp->read_line(line, end)) fail("no QMP reply to " + what);
            auto j = nlohmann::json::parse(line, nullptr, false);
            if (j.is_discarded()) fail("bad QMP line: " + line);
            if (!j.contains("event")) return j;
        }
    }
};

Qemu::Qemu(std::vector<std::string> extra_args, Options opt) : p_(std::make_unique<Impl>())
{
    p_->opt = std::move(opt);
    char tmpl[] = "/tmp/dp-qtest-XXXXXX";
    if (!mkdtemp(tmpl)) throw Error(std::string("mkdtemp: ") + std::strerror(errno));
    p_->dir = tmpl;
    bool use_qtest = p_->opt.accel == "qtest";
    if (use_qtest) p_->qt = std::make_unique<LineSocket>(p_->dir + "/qtest.sock");
    p_->qmp = std::make_unique<LineSocket>(p_->dir + "/qmp.sock");
    auto argv = base_args(p_->opt);
    if (use_qtest) argv.insert(argv.end(), {"-qtest", "unix:" + p_->dir + "/qtest.sock"});
    argv.insert(argv.end(), {"-chardev", "socket,id=dpqmp,path=" + p_->dir + "/qmp.sock",
                             "-mon", "chardev=dpqmp,mode=control"});
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    p_->child = std::make_unique<Child>(argv, p_->dir + "/stderr");
    auto end = p_->deadline();
    auto alive = [this] { return !p_->child->exited(); };
    if (!p_->qmp->accept_until(end, alive) || (use_qtest && !p_->qt->accept_until(end, alive)))
        p_->fail("QEMU did not start: " + join(argv));
    p_->qmp_read("the greeting");
    qmp({{"execute", "qmp_capabilities"}});
}

Qemu::~Qemu() = default;

std::string Qemu::command(const std::string& line) { return p_->qtest(line); }

uint8_t Qemu::readb(uint64_t a) { return static_cast<uint8_t>(std::stoull(p_->qtest("readb " + hex(a)), nullptr, 16)); }
uint16_t Qemu::readw(uint64_t a) { return static_cast<uint16_t>(std::stoull(p_->qtest("readw " + hex(a)), nullptr, 16)); }
uint32_t Qemu::readl(uint64_t a) { return static_cast<uint32_t>(std::stoull(p_->qtest("readl " + hex(a)), nullptr, 16)); }
uint64_t Qemu::readq(uint64_t a) { return std::stoull(p_->qtest("readq " + hex(a)), nullptr, 16); }
void Qemu::writeb(uint64_t a, uint8_t v) { p_->qtest("writeb " + hex(a) + " " + hex(v)); }
void Qemu::writew(uint64_t a, uint16_t v) { p_->qtest("writew " + hex(a) + " " + hex(v)); }
void Qemu::writel(uint64_t a, uint32_t v) { p_->qtest("writel " + hex(a) + " " + hex(v)); }
void Qemu::writeq(uint64_t a, uint64_t v) { p_->qtest("writeq " + hex(a) + " " + hex(v)); }

std::vector<uint8_t> Qemu::read(uint64_t addr, size_t len)
{
    std::string r = p_->qtest("read " + hex(addr) + " " + hex(len));
    if (r.rfind("0x", 0) != 0 || r.size() != 2 + 2 * len) p_->fail("bad read reply: " + r);
    std::vector<uint8_t> out(len);
    for (size_t i = 0; i < len; i++) out[i] = static_cast<uint8_t>(std::stoul(r.substr(2 + 2 * i, 2), nullptr, 16));
    return out;
}

void Qemu::write(uint64_t addr, const std::vector<uint8_t>& data)
{
    std::string h = "0x";
    static const char* d = "0123456789abcdef";
    for (uint8_t b : data) {
        h += d[b >> 4];
        h += d[b & 15];
    }
    p_->qtest("write " + hex(addr) + " " + hex(data.size()) + " " + h);
}

int64_t Qemu::clock_step(int64_t ns)
{
    if (ns >= 0) return std::stoll(p_->qtest("clock_step " + std::to_string(ns)));
    // To the next deadline. With no timer pending, QEMU 7.2 answers "OK <unchanged time>" and 10.0
    // "FAIL cannot advance clock ... no pending deadline": both mean the clock stays where it is.
    const std::string r = p_->qtest("clock_step", true);
    if (r.find("no pending deadline") != std::string::npos) return clock_ns();
    if (r.empty() || r.find_first_not_of("0123456789") != std::string::npos) p_->fail("'clock_step' failed: FAIL " + r);
    return std::stoll(r);
}

// "clock_set 0" never moves the clock and answers with the current time: "OK N" on QEMU 7.2, "FAIL N"
// on 10.0 when N > 0. ("clock_step 0", which 7.2 answers with the time, is an error on 10.0.)
int64_t Qemu::clock_ns() { return std::stoll(p_->qtest("clock_set 0", true)); }

void Qemu::irq_intercept_in(const std::string& path) { p_->qtest("irq_intercept_in " + path); }

bool Qemu::irq_level(int n)
{
    p_->drain_async();
    return p_->levels[n];
}

int Qemu::irq_raised(int n)
{
    p_->drain_async();
    return p_->raised[n];
}

nlohmann::json Qemu::qmp(const nlohmann::json& cmd)
{
    try {
        p_->qmp->send(cmd.dump() + "\n");
    } catch (const Error& e) {
        p_->fail(e.what());
    }
    auto r = p_->qmp_read(cmd.dump());
    if (r.contains("error"))
        throw QmpError(r["error"].value("class", ""), r["error"].value("desc", r.dump()));
    return r.value("return", nlohmann::json::object());
}

nlohmann::json Qemu::qom_get(const std::string& path, const std::string& prop)
{
    return qmp({{"execute", "qom-get"}, {"arguments", {{"path", path}, {"property", prop}}}});
}

void Qemu::qom_set(const std::string& path, const std::string& prop, const nlohmann::json& value)
{
    qmp({{"execute", "qom-set"},
         {"arguments", {{"path", path}, {"property", prop}, {"value", value}}}});
}

std::string Qemu::stderr_text() const { return p_->child->err(); }

int Qemu::pid() const { return p_->child->pid(); }

int Qemu::quit()
{
    try {
        qmp({{"execute", "quit"}});
    } catch (const Error&) {
        // QEMU may close the socket before answering
    }
    if (!p_->child->wait(p_->opt.timeout)) p_->fail("QEMU did not quit");
    int st = p_->child->status();
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int Qemu::wait_exit()
{
    if (!p_->child->wait(p_->opt.timeout)) p_->fail("QEMU did not exit");
    int st = p_->child->status();
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::vector<std::string> RunResult::err_lines() const
{
    std::vector<std::string> out;
    std::istringstream in(err);
    for (std::string l; std::getline(in, l);)
        if (!l.empty()) out.push_back(l);
    return out;
}

RunResult run_qemu(const std::vector<std::string>& args, Options opt)
{
    auto argv = base_args(opt);
    argv.insert(argv.end(), args.begin(), args.end());
    char tmpl[] = "/tmp/dp-qemu-err-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) throw Error(std::string("mkstemp: ") + std::strerror(errno));
    close(fd);
    RunResult r;
    Child c(argv, tmpl);
    r.pid = c.pid();
    if (!c.wait(opt.timeout)) {
        r.timed_out = true;
        c.stop(1000ms);
    }
    int st = c.status();
    if (!r.timed_out && WIFEXITED(st)) r.exit_code = WEXITSTATUS(st);
    if (WIFSIGNALED(st)) r.signal = WTERMSIG(st);
    r.err = c.err();
    return r;
}

std::vector<int> children_of(int pid)
{
    std::vector<int> out;
    std::error_code ec;
    for (auto& t : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
        std::ifstream f(t.path() / "children");
        for (int c; f >> c;) out.push_back(c);
    }
    return out;
}

}  // namespace dp::qtest
