// libFuzzer target: cimsim's NetWork.csv reader (it reads a file, so the input goes through a temp file
// that is removed at exit) (scripts/fuzz.sh).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cimsim/config.hpp"
#include "cimsim/network.hpp"

static std::string g_path;
static void remove_tmp() { std::remove(g_path.c_str()); }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (g_path.empty()) {
        const char *dir = std::getenv("TMPDIR");
        g_path = std::string(dir && *dir ? dir : "/tmp") + "/dp-fuzz-network-" + std::to_string(getpid()) + ".csv";
        std::atexit(remove_tmp);
    }
    FILE *f = std::fopen(g_path.c_str(), "wb");
    if (!f)
        return 0;
    std::fwrite(data, 1, size, f);
    std::fclose(f);
    try {
        (void)cimsim::read_network_csv(g_path);
    } catch (const cimsim::Error &) {
    }
    return 0;
}
