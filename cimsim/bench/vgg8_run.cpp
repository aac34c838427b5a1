// Timed VGG-8-shaped network run through the CLI on NeuroSim-format files.
// Usage: cimsim_vgg8_run [extra cimsim flags...]   (e.g. --cell rram --adc-bits 4)
// Writes random weight/input CSVs for NeuroSim's VGG-8 shapes (all vectors of every layer) into a fresh
// temp dir, runs `cimsim neurosim NetWork.csv 8 8 128 64 w1 in1 ... --adc-bits 4`, reports the times and
// removes the temp dir.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "cimsim/network.hpp"

int main(int argc, char **argv) {
    namespace fs = std::filesystem;
    char tmpl[] = "/tmp/cimsim-vgg8-XXXXXX";
    if (!mkdtemp(tmpl)) {
        std::perror("mkdtemp");
        return 1;
    }
    const std::string dir = tmpl;
    int rc = 1;
    try {
        const auto layers = cimsim::vgg8_layers();
        auto t0 = std::chrono::steady_clock::now();
        {
            FILE *f = std::fopen((dir + "/NetWork.csv").c_str(), "w");
            for (const auto &l : layers)
                std::fprintf(f, "%u,%u,%u,%u,%u,%u,%u,%u\n", l.ifm_h, l.ifm_w, l.ifm_c, l.k_h, l.k_w, l.ofm_c, l.pool, l.stride);
            std::fclose(f);
        }
        const auto files = cimsim::write_random_network_files(dir, layers, 8, 8, 2024);
        const double gen_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::uintmax_t bytes = 0;
        for (const auto &e : fs::directory_iterator(dir)) bytes += e.file_size();
        std::vector<std::string> args = {CIMSIM_CLI, "neurosim", dir + "/NetWork.csv", "8", "8", "128", "64"};
        for (const auto &lf : files) args.push_back(lf.weights), args.push_back(lf.inputs);
        args.push_back("--adc-bits");
        args.push_back("4");
        for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
        std::vector<char *> av;
        for (auto &a : args) av.push_back(a.data());
        av.push_back(nullptr);
        t0 = std::chrono::steady_clock::now();
        const pid_t pid = fork();
        if (pid == 0) {
            execv(av[0], av.data());
            _exit(127);
        }
        int status = 0;
        struct rusage ru {};
        wait4(pid, &status, 0, &ru);
        const double run_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const double cpu_s = double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + 1e-6 * double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
        std::printf("\nvgg8_run: generated %.1f MB of NeuroSim-format CSVs in %.2f s; cimsim neurosim run: %.2f s wall, "
                    "%.2f s CPU, max RSS %.0f MB (exit %d)\n",
                    double(bytes) / 1e6, gen_s, run_s, cpu_s, double(ru.ru_maxrss) / 1024.0, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        rc = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "vgg8_run: %s\n", e.what());
    }
    fs::remove_all(dir);
    return rc;
}
