// P3: host time per operation of two CIM operation backends on the same MVM, through the backend ABI
// (include/dynperiph/cim_backend.h), as the cim plugin calls them: for a backend that wants CSV files,
// every operation creates a private temporary directory, writes weights.csv / inputs.csv, runs, removes
// the directory (the published way: CSV file + one simulator process per operation).
//
//   backend_bench --a PATH --a-params JSON --b PATH --b-params JSON [--rows 64 --cols 64 --vectors 1]
//                 [--rounds 20] [--iters 60] [--seconds 4] [--json FILE]
//
// The two backends run interleaved (rounds of a then b). Prints both per-operation times and the ratio
// b/a as a ratio of means and as a ratio of medians (they differ when one backend has a long tail, e.g. a
// thread pool's wake-ups on a loaded machine); checks that both give the same outputs. --json writes
// every sample (µs, per round) for bench/overhead/run's statistics.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "dynperiph/cim_backend.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct Backend {
    std::string path;
    void *handle = nullptr;
    const cim_backend_desc *desc = nullptr;
    cim_op *op = nullptr;

    Backend(const std::string &p, const std::string &params) : path(p) {
        handle = dlopen(p.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!handle)
            throw std::runtime_error("cannot load " + p + ": " + dlerror());
        auto entry = reinterpret_cast<cim_backend_entry_fn>(dlsym(handle, CIM_BACKEND_ENTRY_SYMBOL));
        if (!entry)
            throw std::runtime_error(p + " does not export " CIM_BACKEND_ENTRY_SYMBOL);
        desc = entry({CIM_BACKEND_ABI_MAJOR, CIM_BACKEND_ABI_MINOR});
        if (!desc || desc->abi.major != CIM_BACKEND_ABI_MAJOR)
            throw std::runtime_error(p + ": incompatible cim backend ABI");
        char err[256] = "";
        op = desc->open(params.c_str(), fs::path(p).parent_path().c_str(), err, sizeof err);
        if (!op)
            throw std::runtime_error(p + " rejected its params: " + err);
    }
    ~Backend() {
        if (op)
            desc->close(op);
        // not dlclosed: a backend may keep threads; the process ends anyway
    }
    bool wants_csv() const { return desc->flags & CIM_BACKEND_WANTS_CSV; }
};

void write_csv(const std::string &path, const std::vector<int8_t> &v, size_t nrows, size_t ncols) {
    std::string s;
    s.reserve(v.size() * 5);
    for (size_t r = 0; r < nrows; ++r) {
        for (size_t c = 0; c < ncols; ++c) {
            if (c)
                s += ',';
            s += std::to_string(int(v[r * ncols + c]));
        }
        s += '\n';
    }
    std::ofstream f(path, std::ios::binary);
    f << s;
    if (!f)
        throw std::runtime_error("cannot write " + path);
}

struct Run {
    std::vector<uint32_t> outputs;
    double seconds = 0;
};

// One operation exactly as the composition performs it.
Run run_once(Backend &b, const std::vector<int8_t> &w, const std::vector<int8_t> &x, uint32_t rows, uint32_t cols,
             uint32_t nvec) {
    Run r;
    r.outputs.assign(size_t(nvec) * cols, 0);
    auto t0 = Clock::now();
    std::string dir, wcsv, icsv;
    cim_request req{};
    req.abi = {CIM_BACKEND_ABI_MAJOR, CIM_BACKEND_ABI_MINOR};
    req.dtype = CIM_DTYPE_INT8;
    req.rows = rows;
    req.cols = cols;
    req.n_vectors = nvec;
    req.weights = w.data();
    req.inputs = x.data();
    if (b.wants_csv()) {
        std::string tmpl = (fs::temp_directory_path() / "dp-p3-XXXXXX").string();
        if (!mkdtemp(tmpl.data()))
            throw std::runtime_error("mkdtemp failed");
        dir = tmpl;
        wcsv = dir + "/weights.csv";
        icsv = dir + "/inputs.csv";
        write_csv(wcsv, w, rows, cols);
        write_csv(icsv, x, nvec, rows);
        req.weights_csv = wcsv.c_str();
        req.inputs_csv = icsv.c_str();
        req.work_dir = dir.c_str();
    }
    cim_result res{};
    res.abi = {CIM_BACKEND_ABI_MAJOR, CIM_BACKEND_ABI_MINOR};
    res.outputs = r.outputs.data();
    res.out_capacity = r.outputs.size();
    dp_status st = b.desc->run(b.op, &req, &res);
    if (!dir.empty())
        fs::remove_all(dir);
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    if (st != DP_OK)
        throw std::runtime_error(b.path + " failed: " + res.error);
    if (res.out_count != r.outputs.size())
        throw std::runtime_error(b.path + ": wrong output count");
    return r;
}

// Per-operation times of both backends, interleaved: `rounds` rounds, each running a for about
// `seconds / rounds / 2` and then b for as long (at least one operation each), so a change of machine
// load hits both alike. samples[r] holds round r's times in seconds.
struct Samples {
    std::vector<std::vector<double>> a, b;
};

void run_for(Backend &be, const std::vector<int8_t> &w, const std::vector<int8_t> &x, uint32_t rows, uint32_t cols,
             uint32_t nvec, double budget, size_t min_ops, std::vector<double> &out) {
    double total = 0;
    while (out.size() < min_ops || total < budget) {
        double s = run_once(be, w, x, rows, cols, nvec).seconds;
        out.push_back(s);
        total += s;
        if (out.size() >= 50000)
            break;
    }
}

Samples measure(Backend &ba, Backend &bb, const std::vector<int8_t> &w, const std::vector<int8_t> &x, uint32_t rows,
                uint32_t cols, uint32_t nvec, size_t rounds, size_t min_ops, double seconds, std::vector<uint32_t> &oa,
                std::vector<uint32_t> &ob) {
    oa = run_once(ba, w, x, rows, cols, nvec).outputs; // warm-up (page cache, lazy binding)
    ob = run_once(bb, w, x, rows, cols, nvec).outputs;
    Samples s;
    s.a.resize(rounds);
    s.b.resize(rounds);
    const double budget = seconds / double(rounds) / 2;
    const size_t per_round = (min_ops + rounds - 1) / rounds;
    for (size_t r = 0; r < rounds; ++r) {
        run_for(ba, w, x, rows, cols, nvec, budget, per_round, s.a[r]);
        run_for(bb, w, x, rows, cols, nvec, budget, per_round, s.b[r]);
    }
    return s;
}

double median_of(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::vector<double> flat(const std::vector<std::vector<double>> &v) {
    std::vector<double> out;
    for (const auto &r : v)
        out.insert(out.end(), r.begin(), r.end());
    return out;
}

double mean_of(const std::vector<double> &v) {
    double t = 0;
    for (double x : v)
        t += x;
    return t / double(v.size());
}

void write_rounds(std::ofstream &f, const std::vector<std::vector<double>> &v) {
    f << "[";
    for (size_t r = 0; r < v.size(); ++r) {
        f << (r ? ",[" : "[");
        for (size_t i = 0; i < v[r].size(); ++i)
            f << (i ? "," : "") << v[r][i] * 1e6;
        f << "]";
    }
    f << "]";
}

[[noreturn]] void usage(const char *msg) {
    std::fprintf(stderr, "backend_bench: %s\nusage: backend_bench --a SO --a-params JSON --b SO --b-params JSON "
                         "[--rows N] [--cols N] [--vectors N] [--rounds N] [--iters N] [--seconds S] [--json FILE]\n",
                 msg);
    std::exit(2);
}

} // namespace

int main(int argc, char **argv) {
    std::string a, ap = "{}", b, bp = "{}", json;
    uint32_t rows = 64, cols = 64, nvec = 1;
    size_t iters = 60, rounds = 20;
    double seconds = 4.0;
    for (int i = 1; i < argc; ++i) {
        std::string k = argv[i];
        if (i + 1 >= argc)
            usage(("missing value for " + k).c_str());
        std::string v = argv[++i];
        try {
            if (k == "--a") a = v;
            else if (k == "--a-params") ap = v;
            else if (k == "--b") b = v;
            else if (k == "--b-params") bp = v;
            else if (k == "--rows") rows = uint32_t(std::stoul(v));
            else if (k == "--cols") cols = uint32_t(std::stoul(v));
            else if (k == "--vectors") nvec = uint32_t(std::stoul(v));
            else if (k == "--iters") iters = std::stoul(v);
            else if (k == "--rounds") rounds = std::stoul(v);
            else if (k == "--seconds") seconds = std::stod(v);
            else if (k == "--json") json = v;
            else usage(("unknown option " + k).c_str());
        } catch (const std::logic_error &) {
            usage(("bad value for " + k + ": '" + v + "'").c_str());
        }
    }
    if (a.empty() || b.empty())
        usage("--a and --b are required");
    if (!rows || !cols || !nvec || rows > 4096 || cols > 4096 || nvec > 1024)
        usage("rows/cols must be 1..4096, vectors 1..1024");
    if (!rounds || rounds > 1000 || !iters || !(seconds >= 0 && seconds <= 3600))
        usage("--rounds must be 1..1000, --iters >= 1, --seconds 0..3600");
    try {
        std::mt19937 rng(42);
        std::uniform_int_distribution<int> d(-128, 127);
        std::vector<int8_t> w(size_t(rows) * cols), x(size_t(nvec) * rows);
        for (auto &v : w) v = int8_t(d(rng));
        for (auto &v : x) v = int8_t(d(rng));
        Backend ba(a, ap), bb(b, bp);
        std::vector<uint32_t> oa, ob;
        Samples smp = measure(ba, bb, w, x, rows, cols, nvec, rounds, iters, seconds, oa, ob);
        const bool same = oa == ob;
        const std::vector<double> fa = flat(smp.a), fb = flat(smp.b);
        const double ma = mean_of(fa), mb = mean_of(fb), meda = median_of(fa), medb = median_of(fb);
        std::printf("P3: %ux%u int8 MVM, %u vector(s), %zu interleaved rounds\n", rows, cols, nvec, rounds);
        std::printf("  %-10s %-20s mean %10.1f us/op, median %10.1f (n=%zu)\n", ba.desc->name,
                    fs::path(a).filename().c_str(), ma * 1e6, meda * 1e6, fa.size());
        std::printf("  %-10s %-20s mean %10.1f us/op, median %10.1f (n=%zu)\n", bb.desc->name,
                    fs::path(b).filename().c_str(), mb * 1e6, medb * 1e6, fb.size());
        std::printf("  ratio b/a = %.1fx (ratio of means), %.1fx (ratio of medians)   outputs %s\n", mb / ma,
                    medb / meda, same ? "identical" : "DIFFER");
        if (!json.empty()) {
            std::ofstream f(json);
            f << "{\"rows\":" << rows << ",\"cols\":" << cols << ",\"vectors\":" << nvec << ",\"rounds\":" << rounds
              << ",\"a\":{\"name\":\"" << ba.desc->name << "\",\"samples_us\":";
            write_rounds(f, smp.a);
            f << "},\"b\":{\"name\":\"" << bb.desc->name << "\",\"samples_us\":";
            write_rounds(f, smp.b);
            f << "},\"outputs_identical\":" << (same ? "true" : "false") << "}\n";
            if (!f)
                throw std::runtime_error("cannot write " + json);
        }
        return same ? 0 : 1;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "backend_bench: %s\n", e.what());
        return 1;
    }
}
