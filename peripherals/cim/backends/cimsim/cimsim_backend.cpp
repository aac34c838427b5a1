// In-process CIM operation backend built on the cimsim library (plugins/cim-cimsim.so).
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
//
// params: a JSON object of cimsim config keys, the same keys the `cimsim` CLI takes as flags or in
// --config (see cimsim/README.md), e.g. {"cell": "rram", "adc_bits": 5, "program_sigma": 0.05, "seed": 7}.
// run(): y = x^T W through cimsim's functional model (outputs in the ABI's word convention) plus the cost
// model's latency / dynamic energy / area / leakage of that MVM. Values outside the configured
// weight_bits / input_bits range are an error (no silent clipping). No files are used.
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <vector>

#include "cimsim/config.hpp"
#include "cimsim/cost.hpp"
#include "cimsim/mvm.hpp"
#include "dynperiph/cim_backend.h"

struct cim_op {
    cimsim::Resolved r;
};

namespace {

void set_err(char *buf, std::size_t size, const char *msg) {
    if (buf && size) std::snprintf(buf, size, "%s", msg);
}

double element(const void *data, cim_dtype t, std::size_t i) {
    const auto *b = static_cast<const unsigned char *>(data);
    switch (t) {
    case CIM_DTYPE_INT8: return double(std::int8_t(b[i]));
    case CIM_DTYPE_INT16: {
        std::int16_t v;
        std::memcpy(&v, b + 2 * i, 2);
        return v;
    }
    case CIM_DTYPE_INT32: {
        std::int32_t v;
        std::memcpy(&v, b + 4 * i, 4);
        return v;
    }
    case CIM_DTYPE_FLOAT32: {
        float v;
        std::memcpy(&v, b + 4 * i, 4);
        return v;
    }
    }
    return 0;
}

cim_op *op_open(const char *params_json, const char * /*base_dir*/, char *err, std::size_t err_size) noexcept {
    try {
        const char *text = params_json && *params_json ? params_json : "{}";
        return new cim_op{cimsim::resolve(cimsim::config_from_json(text, "cimsim params"))};
    } catch (const std::exception &e) {
        set_err(err, err_size, e.what());
    } catch (...) {
        set_err(err, err_size, "cimsim: unknown error while opening");
    }
    return nullptr;
}

dp_status op_run(cim_op *op, const cim_request *req, cim_result *res) noexcept {
    if (!op || !req || !res) return DP_ERR_INVALID;
    res->out_count = 0;
    try {
        if (req->abi.major != CIM_BACKEND_ABI_MAJOR) throw cimsim::Error("cimsim: request ABI major mismatch");
        if (unsigned(req->dtype) > CIM_DTYPE_FLOAT32) throw cimsim::Error("cimsim: unknown dtype " + std::to_string(unsigned(req->dtype)));
        if (!req->weights || (req->n_vectors && !req->inputs)) throw cimsim::Error("cimsim: missing weight or input data");
        const std::size_t n_out = std::size_t(req->n_vectors) * req->cols;
        if (n_out > res->out_capacity || (n_out && !res->outputs))
            throw cimsim::Error("cimsim: output buffer holds " + std::to_string(res->out_capacity) + " words, need " + std::to_string(n_out));
        const std::uint32_t rows = req->rows, cols = req->cols, nv = req->n_vectors;
        const auto dtype = cimsim::Dtype(int(req->dtype));  // same order: int8, int16, int32, float32
        cimsim::MvmOutput out;
        if (dtype == cimsim::Dtype::Float32) {
            cimsim::MvmProblem p;
            p.dtype = dtype, p.rows = rows, p.cols = cols, p.n_vectors = nv;
            p.weights.resize(std::size_t(rows) * cols);
            for (std::size_t i = 0; i < p.weights.size(); ++i) p.weights[i] = element(req->weights, req->dtype, i);
            p.inputs.resize(std::size_t(nv) * rows);
            for (std::size_t i = 0; i < p.inputs.size(); ++i) p.inputs[i] = element(req->inputs, req->dtype, i);
            out = cimsim::run_functional(op->r, p);
        } else {  // integers go straight to the crossbar (no double copies of the data)
            std::vector<std::int32_t> w(std::size_t(rows) * cols), x(std::size_t(nv) * rows);
            for (std::size_t i = 0; i < w.size(); ++i) w[i] = std::int32_t(element(req->weights, req->dtype, i));
            for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::int32_t(element(req->inputs, req->dtype, i));
            out = cimsim::run_functional_ints(op->r, dtype, rows, cols, nv, w, x);
        }
        const cimsim::Ppa ppa = cimsim::estimate_mvm(op->r, rows, cols, nv);
        std::memcpy(res->outputs, out.words.data(), out.words.size() * sizeof(std::uint32_t));
        res->out_count = out.words.size();
        res->metrics = {ppa.latency(), ppa.energy(), ppa.area(), ppa.leakage()};
        res->error[0] = '\0';
        return DP_OK;
    } catch (const std::bad_alloc &) {
        set_err(res->error, sizeof res->error, "cimsim: out of memory");
        return DP_ERR_NOMEM;
    } catch (const std::exception &e) {
        set_err(res->error, sizeof res->error, e.what());
    } catch (...) {
        set_err(res->error, sizeof res->error, "cimsim: unknown error");
    }
    return DP_ERR_INVALID;
}

void op_close(cim_op *op) noexcept { delete op; }

const cim_backend_desc kDesc = {
    {CIM_BACKEND_ABI_MAJOR, CIM_BACKEND_ABI_MINOR},
    "cimsim",
    "cimsim in-process: bit-sliced crossbar MVM with ADC/variation/noise/faults + area/latency/energy/leakage",
    0u,
    op_open,
    op_run,
    op_close,
};

}  // namespace

static_assert(int(cimsim::Dtype::Int8) == CIM_DTYPE_INT8 && int(cimsim::Dtype::Float32) == CIM_DTYPE_FLOAT32);

extern "C" DP_EXPORT const cim_backend_desc *cim_backend_entry(dp_version /*host_abi*/) { return &kDesc; }
