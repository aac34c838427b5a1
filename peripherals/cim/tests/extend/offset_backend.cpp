// A third-party operation backend in one file, built on its own (not by this project's build): the
// extensibility test compiles it at test time with nothing but include/dynperiph/cim_backend.h and
// references it from a config entry; neither QEMU nor the cim plugin is rebuilt.
//   c++ -std=c++17 -O2 -shared -fPIC -I<repo>/include offset_backend.cpp -o cim-offset.so
// Operation: y = x^T W + offset * OFFSET_SCALE (integer dtypes; OFFSET_SCALE: -D at build time, default 1), latency = latency_ns. Params: {"offset": N,
// "latency_ns": T} (both integers; missing = 0 / 1000).
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "dynperiph/cim_backend.h"

#ifndef OFFSET_SCALE // a build-time knob, so a test can rebuild the same file with new behaviour
#define OFFSET_SCALE 1
#endif

struct cim_op {
    long offset = 0;
    double latency_ns = 1000;
};

static long number_after(const char *json, const char *key, long def) {
    const char *p = std::strstr(json, key);
    if (!p)
        return def;
    p = std::strchr(p + std::strlen(key), ':');
    return p ? std::strtol(p + 1, nullptr, 10) : def;
}

static cim_op *o_open(const char *params, const char *, char *, size_t) {
    cim_op *op = new cim_op;
    op->offset = number_after(params, "\"offset\"", 0);
    op->latency_ns = double(number_after(params, "\"latency_ns\"", 1000));
    return op;
}

static int32_t elem(const void *p, cim_dtype t, size_t i) {
    switch (t) {
    case CIM_DTYPE_INT8: return static_cast<const int8_t *>(p)[i];
    case CIM_DTYPE_INT16: return static_cast<const int16_t *>(p)[i];
    default: return static_cast<const int32_t *>(p)[i];
    }
}

static dp_status o_run(cim_op *op, const cim_request *req, cim_result *res) {
    if (req->dtype == CIM_DTYPE_FLOAT32) {
        std::snprintf(res->error, sizeof res->error, "offset backend: integer dtypes only");
        return DP_ERR_UNSUPPORTED;
    }
    for (uint32_t v = 0; v < req->n_vectors; ++v)
        for (uint32_t j = 0; j < req->cols; ++j) {
            uint32_t acc = static_cast<uint32_t>(op->offset * OFFSET_SCALE);
            for (uint32_t i = 0; i < req->rows; ++i)
                acc += uint32_t(elem(req->inputs, req->dtype, size_t(v) * req->rows + i)) *
                       uint32_t(elem(req->weights, req->dtype, size_t(i) * req->cols + j));
            res->outputs[size_t(v) * req->cols + j] = acc;
        }
    res->out_count = size_t(req->n_vectors) * req->cols;
    res->metrics.latency_ns = op->latency_ns;
    res->metrics.energy_pj = res->metrics.area_um2 = res->metrics.leakage_uw = 0.0 / 0.0;
    return DP_OK;
}

static void o_close(cim_op *op) { delete op; }

static const cim_backend_desc desc = {
    {CIM_BACKEND_ABI_MAJOR, CIM_BACKEND_ABI_MINOR}, "offset", "MVM plus a constant (extensibility example)", 0,
    o_open, o_run, o_close,
};

extern "C" __attribute__((visibility("default"))) const cim_backend_desc *cim_backend_entry(dp_version host) {
    return host.major == CIM_BACKEND_ABI_MAJOR ? &desc : nullptr;
}
