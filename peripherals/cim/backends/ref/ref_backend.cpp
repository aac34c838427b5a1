// The `ref` operation backend (plugins/cim-ref.so): an ideal digital MVM computed in-process, with a
// linear cost model taken from its parameters. It is the functional reference the other backends
// are compared with, and a fast, fully deterministic operation for tests.
//
// Params (all optional; a metric whose parameters are all absent is reported as NaN = not estimated):
//   latency_ns = <fixed ns>           latency = latency_ns + ns_per_mac * MACs
//   ns_per_mac = <ns>
//   pj_per_mac = <pJ>                 energy  = pj_per_mac * MACs
//   area_um2   = <um^2>               reported as is
//   leakage_uw = <uW>                 reported as is
// MACs = rows * cols * max(n_vectors, 1).
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>

#include "data.hpp"
#include "flat_params.hpp"

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

struct cim_op {
    double latency_ns = kNaN, ns_per_mac = kNaN, pj_per_mac = kNaN, area_um2 = kNaN, leakage_uw = kNaN;
};

namespace {

cim_op *ref_open(const char *params_json, const char *, char *err, size_t err_size) {
    try {
        auto op = std::make_unique<cim_op>();
        for (const auto &p : dynperiph::cim::parse_flat_params(params_json)) {
            double cim_op::*f = nullptr;
            if (p.key == "latency_ns") f = &cim_op::latency_ns;
            else if (p.key == "ns_per_mac") f = &cim_op::ns_per_mac;
            else if (p.key == "pj_per_mac") f = &cim_op::pj_per_mac;
            else if (p.key == "area_um2") f = &cim_op::area_um2;
            else if (p.key == "leakage_uw") f = &cim_op::leakage_uw;
            if (!f)
                throw std::runtime_error("unknown param '" + p.key +
                                         "' (known: latency_ns, ns_per_mac, pj_per_mac, area_um2, leakage_uw)");
            if (p.kind != dynperiph::cim::FlatParam::Number || p.number < 0 || !std::isfinite(p.number))
                throw std::runtime_error("param '" + p.key + "' must be a non-negative number");
            op.get()->*f = p.number;
        }
        return op.release();
    } catch (const std::exception &e) {
        std::snprintf(err, err_size, "%s", e.what());
        return nullptr;
    }
}

dp_status ref_run(cim_op *op, const cim_request *req, cim_result *res) {
    try {
        auto out = dynperiph::cim::reference_mvm(*req);
        if (out.size() > res->out_capacity) {
            std::snprintf(res->error, sizeof res->error, "output buffer too small");
            return DP_ERR_INVALID;
        }
        std::copy(out.begin(), out.end(), res->outputs);
        res->out_count = out.size();
        const double macs = double(req->rows) * req->cols * std::max<uint32_t>(req->n_vectors, 1);
        const bool lat = !std::isnan(op->latency_ns) || !std::isnan(op->ns_per_mac);
        res->metrics.latency_ns = lat ? (std::isnan(op->latency_ns) ? 0 : op->latency_ns) +
                                            (std::isnan(op->ns_per_mac) ? 0 : op->ns_per_mac * macs)
                                      : kNaN;
        res->metrics.energy_pj = op->pj_per_mac * macs;
        res->metrics.area_um2 = op->area_um2;
        res->metrics.leakage_uw = op->leakage_uw;
        return DP_OK;
    } catch (const std::exception &e) {
        std::snprintf(res->error, sizeof res->error, "ref backend: %s", e.what());
        return DP_ERR_INTERNAL;
    }
}

void ref_close(cim_op *op) { delete op; }

const cim_backend_desc kDesc = {
    {CIM_BACKEND_ABI_MAJOR, CIM_BACKEND_ABI_MINOR},
    "ref",
    "ideal digital MVM computed in-process with a linear cost model",
    0,
    ref_open,
    ref_run,
    ref_close,
};

} // namespace

extern "C" DP_EXPORT const cim_backend_desc *cim_backend_entry(dp_version host_abi) {
    return host_abi.major == CIM_BACKEND_ABI_MAJOR ? &kDesc : nullptr;
}
