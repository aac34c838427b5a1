// P3: host time per operation of two CIM operation backends on the same MVM, through the backend ABI
// (include/dynperiph/cim_backend.h), as the cim plugin calls them: for a backend that wants CSV files,
// every operation creates a private temporary directory, writes weights.csv / inputs.csv, runs, removes
// the directory (the published way: CSV file + one simulator process per operation).
//
//   backend_bench --a PATH --a-params JSON --b PATH --b-params JSON [--rows 64 --cols 64 --vectors 1]
//                 [--iters 200] [--min-seconds 2] [--rounds 1] [--json FILE]
//
// Prints both per-operation times (mean, median with its 95 % interval) and the ratio b/a of the means and of
// the medians; --rounds N interleaves a and b in N rounds; checks that both give the same outputs.
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

struct Stats {
    double mean = 0, median = 0, min = 0, lo95 = 0, hi95 = 0;  // lo95/hi95: 95 % interval of the median
    size_t n = 0;
};

// Times operations until both `iters` and `min_seconds` are reached; appends the per-operation seconds.
void measure(Backend &b, const std::vector<int8_t> &w, const std::vector<int8_t> &x, uint32_t rows, uint32_t cols,
             uint32_t nvec, size_t iters, double min_seconds, std::vector<double> &t) {
    double total = 0;
    for (size_t k = 0; k < iters || total < min_seconds; ++k) {
        double s = run_once(b, w, x, rows, cols, nvec).seconds;
        t.push_back(s);
        total += s;
        if (k >= 100000)
            break;
    }
}

Stats stats(std::vector<double> t) {
    std::sort(t.begin(), t.end());
    Stats st;
    st.n = t.size();
    for (double v : t)
        st.mean += v;
    st.mean /= double(t.size());
    st.median = t[t.size() / 2];
    st.min = t.front();
    // distribution-free interval of the median from order statistics: ranks n/2 -+ 1.96 sqrt(n)/2
    const double h = 1.96 * std::sqrt(double(t.size())) / 2;
    const double mid = double(t.size()) / 2;
    st.lo95 = t[size_t(std::max(0.0, std::floor(mid - h)))];
    st.hi95 = t[size_t(std::min(double(t.size() - 1), std::ceil(mid + h)))];
    return st;
}

[[noreturn]] void usage(const char *msg) {
    std::fprintf(stderr, "backend_bench: %s\nusage: backend_bench --a SO --a-params JSON --b SO --b-params JSON "
                         "[--rows N] [--cols N] [--vectors N] [--iters N] [--min-seconds S] [--rounds N] [--json FILE]\n",
                 msg);
    std::exit(2);
}

} // namespace

int main(int argc, char **argv) {
    std::string a, ap = "{}", b, bp = "{}", json;
    uint32_t rows = 64, cols = 64, nvec = 1;
    size_t iters = 50, rounds = 1;
    double min_s = 1.0;
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
            else if (k == "--min-seconds") min_s = std::stod(v);
            else if (k == "--rounds") rounds = std::stoul(v);
            else if (k == "--json") json = v;
            else usage(("unknown option " + k).c_str());
        } catch (const std::logic_error &) {
            usage(("bad value for " + k + ": '" + v + "'").c_str());
        }
    }
    if (a.empty() || b.empty())
        usage("--a and --b are required");
    if (!rounds || rounds > 1000)
        usage("rounds must be 1..1000");
    if (!rows || !cols || !nvec || rows > 4096 || cols > 4096 || nvec > 1024)
        usage("rows/cols must be 1..4096, vectors 1..1024");
    try {
        std::mt19937 rng(42);
        std::uniform_int_distribution<int> d(-128, 127);
        std::vector<int8_t> w(size_t(rows) * cols), x(size_t(nvec) * rows);
        for (auto &v : w) v = int8_t(d(rng));
        for (auto &v : x) v = int8_t(d(rng));
        Backend ba(a, ap), bb(b, bp);
        // warm-up (page cache, lazy binding), then `rounds` interleaved rounds: a, b, a, b, ... so that a change in
        // machine load hits both alike
        const std::vector<uint32_t> oa = run_once(ba, w, x, rows, cols, nvec).outputs;
        const std::vector<uint32_t> ob = run_once(bb, w, x, rows, cols, nvec).outputs;
        std::vector<double> ta, tb;
        for (size_t r = 0; r < rounds; ++r) {
            measure(ba, w, x, rows, cols, nvec, (iters + rounds - 1) / rounds, min_s / double(rounds), ta);
            measure(bb, w, x, rows, cols, nvec, (iters + rounds - 1) / rounds, min_s / double(rounds), tb);
        }
        const Stats sa = stats(ta), sb = stats(tb);
        const bool same = oa == ob;
        const double ratio = sb.mean / sa.mean, ratio_median = sb.median / sa.median;
        std::printf("P3: %ux%u int8 MVM, %u vector(s)\n", rows, cols, nvec);
        std::printf("  %-10s %-28s mean %9.1f us/op, median %.1f [95%% %.1f..%.1f], min %.1f, n=%zu\n", ba.desc->name,
                    fs::path(a).filename().c_str(), sa.mean * 1e6, sa.median * 1e6, sa.lo95 * 1e6, sa.hi95 * 1e6,
                    sa.min * 1e6, sa.n);
        std::printf("  %-10s %-28s mean %9.1f us/op, median %.1f [95%% %.1f..%.1f], min %.1f, n=%zu\n", bb.desc->name,
                    fs::path(b).filename().c_str(), sb.mean * 1e6, sb.median * 1e6, sb.lo95 * 1e6, sb.hi95 * 1e6,
                    sb.min * 1e6, sb.n);
        std::printf("  ratio b/a = %.1fx (medians), %.1fx (means)   outputs %s\n", ratio_median, ratio,
                    same ? "identical" : "DIFFER");
        if (!json.empty()) {
            std::ofstream f(json);
            auto side = [&](const char *name, const Stats &st) {
                f << "{\"name\":\"" << name << "\",\"mean_us\":" << st.mean * 1e6 << ",\"median_us\":" << st.median * 1e6
                  << ",\"median_lo95_us\":" << st.lo95 * 1e6 << ",\"median_hi95_us\":" << st.hi95 * 1e6
                  << ",\"min_us\":" << st.min * 1e6 << ",\"n\":" << st.n << "}";
            };
            f << "{\"rows\":" << rows << ",\"cols\":" << cols << ",\"vectors\":" << nvec << ",\"rounds\":" << rounds
              << ",\"a\":";
            side(ba.desc->name, sa);
            f << ",\"b\":";
            side(bb.desc->name, sb);
            f << ",\"ratio\":" << ratio << ",\"ratio_median\":" << ratio_median
              << ",\"outputs_identical\":" << (same ? "true" : "false") << "}\n";
        }
        return same ? 0 : 1;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "backend_bench: %s\n", e.what());
        return 1;
    }
}
