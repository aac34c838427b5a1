// `cimsim sweep ...`: the design-space sweep is Python (cimsim/python/cimsim/sweep.py, on the bindings); the
// CLI hands its arguments to it. SPDX-License-Identifier: GPL-2.0-or-later OR MIT
//
// The package is looked up next to the executable (<bin>/../python, where the build puts it) unless
// CIMSIM_PYTHONPATH names another directory; Debian's /usr/bin/python3 runs it (it sees Debian's numpy,
// pandas and Dask).
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace cimsim {

int exec_sweep(int argc, char **argv) {
    namespace fs = std::filesystem;
    std::error_code ec;
    std::string dir;
    if (const char *env = std::getenv("CIMSIM_PYTHONPATH"); env && *env) dir = env;
    else dir = (fs::read_symlink("/proc/self/exe", ec).parent_path().parent_path() / "python").string();
    if (ec || !fs::exists(fs::path(dir) / "cimsim" / "sweep.py")) {
        std::fprintf(stderr, "cimsim: sweep needs the cimsim Python package, not found in '%s' (build target "
                             "cimsim_python, or set CIMSIM_PYTHONPATH)\n", dir.c_str());
        return 1;
    }
    const char *old = std::getenv("PYTHONPATH");
    const std::string path = old && *old ? dir + ":" + old : dir;
    setenv("PYTHONPATH", path.c_str(), 1);
    std::vector<char *> args = {const_cast<char *>("/usr/bin/python3"), const_cast<char *>("-m"),
                                const_cast<char *>("cimsim.sweep")};
    for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
    args.push_back(nullptr);
    execv(args[0], args.data());
    std::fprintf(stderr, "cimsim: sweep: cannot run /usr/bin/python3: %s\n", std::strerror(errno));
    return 1;
}

}  // namespace cimsim
