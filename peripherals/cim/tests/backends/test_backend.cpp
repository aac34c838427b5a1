// Test-only CIM backends (built into the test build directory, never into plugins/):
//   -DTEST_ABI_MAJOR=N -DTEST_ABI_MINOR=M   claim another backend ABI version
//   -DTEST_NO_ENTRY                        export no cim_backend_entry
//   -DTEST_NULL_ENTRY                      cim_backend_entry returns NULL
// open(): params {"reject": "<why>"} makes open fail with that text; every open records its params
// JSON and base_dir; with {"record": "<file>"} it also writes them to that file (params, newline,
// base_dir) -- the loader loads an in-memory copy of the .so, so the test cannot dlopen it by name.
// run(): outputs = the reference MVM, metrics {100 ns, 1 pJ, 2 um^2, 3 uW}; params {"fail": "<why>"}
// makes run fail instead, {"short": "yes"} returns one result word too few.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include <cstdio>
#include <cstring>
#include <string>

#include "data.hpp"

#ifndef TEST_ABI_MAJOR
#define TEST_ABI_MAJOR CIM_BACKEND_ABI_MAJOR
#endif
#ifndef TEST_ABI_MINOR
#define TEST_ABI_MINOR CIM_BACKEND_ABI_MINOR
#endif

namespace {
std::string g_last_params, g_last_base;
int g_open_count = 0;
}

struct cim_op {
    std::string fail;
    bool short_output;
};

extern "C" __attribute__((visibility("default"))) const char *test_backend_last_params() { return g_last_params.c_str(); }
extern "C" __attribute__((visibility("default"))) const char *test_backend_last_base_dir() { return g_last_base.c_str(); }
extern "C" __attribute__((visibility("default"))) int test_backend_open_count() { return g_open_count; }

namespace {

// Minimal "key": "value" lookup (the tests control the JSON exactly).
std::string find_str(const std::string &json, const char *key) {
    const std::string k = std::string("\"") + key + "\"";
    size_t p = json.find(k);
    if (p == std::string::npos)
        return {};
    p = json.find('"', json.find(':', p) + 1);
    const size_t e = json.find('"', p + 1);
    return json.substr(p + 1, e - p - 1);
}

cim_op *t_open(const char *params, const char *base, char *err, size_t n) {
    g_last_params = params;
    g_last_base = base;
    ++g_open_count;
    if (const std::string rec = find_str(params, "record"); !rec.empty()) {
        if (FILE *f = std::fopen(rec.c_str(), "w")) {
            std::fprintf(f, "%s\n%s", params, base);
            std::fclose(f);
        }
    }
    const std::string reject = find_str(params, "reject");
    if (!reject.empty()) {
        std::snprintf(err, n, "param 'reject': %s", reject.c_str());
        return nullptr;
    }
    return new cim_op{find_str(params, "fail"), !find_str(params, "short").empty()};
}

dp_status t_run(cim_op *op, const cim_request *req, cim_result *res) {
    if (!op->fail.empty()) {
        std::snprintf(res->error, sizeof res->error, "%s", op->fail.c_str());
        return DP_ERR_INTERNAL;
    }
    auto out = dynperiph::cim::reference_mvm(*req);
    std::memcpy(res->outputs, out.data(), out.size() * 4);
    res->out_count = op->short_output ? out.size() - 1 : out.size();
    res->metrics = {100, 1, 2, 3};
    return DP_OK;
}

void t_close(cim_op *op) { delete op; }

const cim_backend_desc kDesc = {
    {TEST_ABI_MAJOR, TEST_ABI_MINOR}, "test", "test backend", 0, t_open, t_run, t_close,
};

} // namespace

#ifndef TEST_NO_ENTRY
extern "C" __attribute__((visibility("default"))) const cim_backend_desc *cim_backend_entry(dp_version) {
#ifdef TEST_NULL_ENTRY
    return nullptr;
#else
    return &kDesc;
#endif
}
#endif
