// SIGKILL at random moments of a plugin load or reload (QEMU itself, or the forked trial child)
// leaves nothing anywhere: no file next to the plugin, in /tmp or in /dev/shm, and no process that
// still holds a copy. Covers the device's own loads (test-periph) and the CIM plugin's backend
// loads (cim.so + cim-ref.so, found next to cim.so through dladdr).
// The random delays come from a seed printed by each test (DP_KILL_SEED=N repeats a run).
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "qtest_client.hpp"
#include "test_periph_regs.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <set>
#include <thread>

using dp::qtest::plugin;
using dp::qtest::Qemu;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

extern char **environ;

namespace {

const std::string kPath = "/machine/peripheral/dp0";

std::set<std::string> names(const fs::path& d)
{
    std::set<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(d, ec)) out.insert(e.path().filename().string());
    return out;
}

std::string slurp(const fs::path& p)
{
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

// Processes whose command line mentions `needle` (QEMU and its forked trial children do).
std::vector<int> processes_mentioning(const std::string& needle)
{
    std::vector<int> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc", ec)) {
        const std::string n = e.path().filename().string();
        if (n.find_first_not_of("0123456789") != std::string::npos) continue;
        std::string cmd = slurp(e.path() / "cmdline");
        if (cmd.find(needle) != std::string::npos && std::stoi(n) != getpid()) out.push_back(std::stoi(n));
    }
    return out;
}

unsigned seed()
{
    if (const char* e = std::getenv("DP_KILL_SEED")) return unsigned(std::strtoul(e, nullptr, 10));
    return unsigned(std::random_device{}());
}

// A name a copy of a plugin or backend could have: *.so*, .NAME.dynperiph-*, dynperiph-* (not the CIM
// plugin's per-operation work folders dynperiph-cim-*, which other tests' operations make).
bool could_be_a_copy(const std::string& n)
{
    return n.find(".so") != std::string::npos || n.find(".dynperiph-") != std::string::npos ||
           (n.rfind("dynperiph-", 0) == 0 && n.rfind("dynperiph-cim-", 0) != 0);
}

// A folder that holds the plugin files QEMU loads; snapshots /tmp and /dev/shm to compare with.
struct Scene {
    fs::path dir;
    std::set<std::string> files, tmp, shm;
    Scene()
    {
        char t[] = "/tmp/dp-kill-XXXXXX";
        dir = mkdtemp(t);
        fs::copy_file(plugin("test-periph"), dir / "periph.so");
        fs::copy_file(plugin("test-periph-v2"), dir / "periph-v2.so");
        fs::copy_file(plugin("test-hang"), dir / "hang.so");
        fs::copy_file(plugin("cim"), dir / "cim.so");
        fs::copy_file(plugin("cim-ref"), dir / "cim-ref.so");
        std::ofstream(dir / "cim.toml") << "[[op]]\nindex = 0\nbackend = \"cim-ref.so\"\n";
        fs::create_directory(dir / "cfg");  // config elsewhere: the backend must come from cim.so's folder
        std::ofstream(dir / "cfg" / "cim.toml") << "[[op]]\nindex = 0\nbackend = \"cim-ref.so\"\n";
        files = names(dir);
        tmp = names("/tmp");
        shm = names("/dev/shm");
    }
    ~Scene() { fs::remove_all(dir); }

    std::vector<std::string> device(const std::string& so, const std::string& extra = "") const
    {
        const bool cim = so == "cim.so";
        std::string where = cim ? ",addr=0x40100000,irq=17,args=config=" + (dir / "cfg" / "cim.toml").string()
                                : ",addr=0x40120000,irq=25";
        return {"-device", "dynperiph,plugin=" + (dir / so).string() + where + ",id=dp0" + extra};
    }

    // Nothing new next to the plugins, in /tmp or in /dev/shm (there, only names a plugin copy could
    // have: other programs use them too), and no process of this scene still running.
    void expect_clean(const std::string& when) const
    {
        SCOPED_TRACE(when);
        auto end = std::chrono::steady_clock::now() + 5s;
        std::vector<int> procs;
        while (!(procs = processes_mentioning(dir.string())).empty() && std::chrono::steady_clock::now() < end)
            std::this_thread::sleep_for(5ms);
        EXPECT_TRUE(procs.empty()) << procs.size() << " process(es) still hold this scene's files, e.g. pid "
                                   << (procs.empty() ? 0 : procs[0]);
        EXPECT_EQ(names(dir), files) << "files appeared next to the plugins";
        for (const auto& [d, before] : {std::pair{fs::path("/tmp"), tmp}, std::pair{fs::path("/dev/shm"), shm}})
            for (const auto& n : names(d))
                if (!before.count(n) && could_be_a_copy(n)) ADD_FAILURE() << "left in " << d << ": " << n;
    }
};

// Starts QEMU (qtest accelerator, no client) with `args`; returns its pid.
int spawn_qemu(const std::vector<std::string>& extra)
{
    std::vector<std::string> a{dp::qtest::qemu_binary(), "-machine", "mps2-an385", "-accel", "qtest",
                               "-qtest", "null", "-qtest-log", "none", "-display", "none", "-nodefaults"};
    a.insert(a.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& s : a) argv.push_back(s.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    EXPECT_EQ(rc, 0) << "posix_spawn " << argv[0];
    return pid;
}

}  // namespace

// QEMU killed while it loads the plugin at startup: during dlopen, the trial child, create, ...
TEST(DynperiphKill, SigkillDuringStartupLoadLeavesNothing)
{
    const unsigned s = seed();
    std::printf("seed %u (DP_KILL_SEED=%u repeats it)\n", s, s);
    std::mt19937 rng(s);
    Scene scene;
    const char* plugins[] = {"periph.so", "cim.so", "hang.so"};
    for (int i = 0; i < 24; i++) {
        const std::string so = plugins[i % 3];
        // periph/cim: QEMU's whole startup (~50-150 ms here); hang.so: inside its 1 s trial load
        std::uniform_int_distribution<int> us(0, so == "hang.so" ? 600000 : 150000);
        const int delay = us(rng);
        int pid = spawn_qemu(scene.device(so, so == "hang.so" ? ",trial-timeout=1" : ""));
        std::this_thread::sleep_for(std::chrono::microseconds(delay));
        kill(pid, SIGKILL);
        int st = 0;
        waitpid(pid, &st, 0);
        scene.expect_clean("startup with " + so + ", killed after " + std::to_string(delay) + " us");
    }
}

// QEMU killed in the middle of a QMP hot reload (of the same file, of a new one, of a hanging one).
TEST(DynperiphKill, SigkillDuringReloadLeavesNothing)
{
    const unsigned s = seed();
    std::printf("seed %u (DP_KILL_SEED=%u repeats it)\n", s, s);
    std::mt19937 rng(s);
    Scene scene;
    struct Case { std::string start, reload; int max_us; };
    const Case cases[] = {{"periph.so", "", 20000}, {"periph.so", "periph-v2.so", 20000},
                          {"periph.so", "hang.so", 600000}, {"cim.so", "", 30000}};
    for (int i = 0; i < 16; i++) {
        const Case& c = cases[i % 4];
        std::uniform_int_distribution<int> us(0, c.max_us);
        const int delay = us(rng);
        {
            Qemu q(scene.device(c.start, ",trial-timeout=1"));
            const int pid = q.pid();
            std::thread reload([&] {
                try {
                    q.qom_set(kPath, "reload", c.reload.empty() ? "" : (scene.dir / c.reload).string());
                } catch (const dp::qtest::Error&) {  // QEMU killed under it, or the hang refused
                }
            });
            std::this_thread::sleep_for(std::chrono::microseconds(delay));
            kill(pid, SIGKILL);
            reload.join();
        }
        scene.expect_clean("reload " + c.start + " -> " + (c.reload.empty() ? "same file" : c.reload) +
                           ", killed after " + std::to_string(delay) + " us");
    }
}

// The trial child killed during a reload: the reload is refused, the old plugin keeps running, and
// no copy is left (the child's memory copy dies with it).
TEST(DynperiphKill, SigkillOfTheTrialChildRefusesTheReloadAndLeavesNothing)
{
    Scene scene;
    {
        Qemu q(scene.device("periph.so", ",trial-timeout=5"));
        q.writel(0x40120000 + TP_REG_SCRATCH, 0x5a5a5a5a);
        std::string error;
        std::thread reload([&] {
            try {
                q.qom_set(kPath, "reload", (scene.dir / "hang.so").string());
            } catch (const dp::qtest::QmpError& e) {
                error = e.what();
            }
        });
        std::vector<int> kids;
        auto end = std::chrono::steady_clock::now() + 5s;
        while ((kids = dp::qtest::children_of(q.pid())).empty() && std::chrono::steady_clock::now() < end)
            std::this_thread::sleep_for(1ms);
        ASSERT_FALSE(kids.empty()) << "no trial child appeared";
        for (int k : kids) kill(k, SIGKILL);
        reload.join();
        EXPECT_NE(error.find("crashed during initialisation (signal 9"), std::string::npos) << error;
        EXPECT_EQ(q.readl(0x40120000 + TP_REG_SCRATCH), 0x5a5a5a5au) << "the old plugin must keep running";
        EXPECT_EQ(q.quit(), 0);
    }
    scene.expect_clean("trial child killed");
}
