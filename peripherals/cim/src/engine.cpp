// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "engine.hpp"

#include <cinttypes>
#include <cstdarg>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <dynperiph/sdk/peripheral.hpp>

#include "data.hpp"
#include "ops.hpp"
#include "workdir.hpp"

namespace dynperiph::cim {

struct Engine::Impl {
    std::unique_ptr<OpTable> ops;
    std::vector<uint32_t> outputs; // of the last start()
    std::string message;

    Outcome fail(uint32_t code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
};

Outcome Engine::Impl::fail(uint32_t code, const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    message = buf;
    Outcome o;
    o.err = code;
    o.message = message.c_str();
    return o;
}

Engine::Engine(const char *args) {
    auto impl = std::make_unique<Impl>();
    PluginArgs a = parse_plugin_args(args ? args : "");
    impl->ops = OpTable::load(a.config, this_module_dir());
    impl_ = impl.release();
}

Engine::~Engine() { delete impl_; }

uint32_t Engine::opmap() const { return impl_->ops->opmap(); }

void Engine::release() {
    impl_->outputs.clear();
    impl_->outputs.shrink_to_fit();
}

namespace {

uint64_t busy_time(double latency_ns, bool &valid) {
    valid = std::isfinite(latency_ns) && latency_ns >= 0;
    if (!valid)
        return kDefaultLatencyNs;
    constexpr double cap = 1e15; // ~11.6 days of guest time
    const double ns = std::ceil(std::min(latency_ns, cap));
    return ns < 1 ? 1 : static_cast<uint64_t>(ns);
}

} // namespace

Outcome Engine::start(const Launch &l, const Host &host) {
    release();
    auto fail = [this](auto... a) { return impl_->fail(a...); };
    const Operation *op = impl_->ops->find(l.op);
    if (!op)
        return fail(ERR_BAD_OP, "CTRL.OP = %u selects no configured operation (OPMAP = 0x%08" PRIx32 ")", l.op,
                    opmap());
    const size_t esz = dtype_size(l.dtype);
    if (!esz)
        return fail(ERR_BAD_DTYPE, "DTYPE = %" PRIu32 " is no element type (0..3)", l.dtype);
    if (l.wer < l.wsr)
        return fail(ERR_ORDER, "WER (0x%08" PRIx32 ") < WSR (0x%08" PRIx32 ")", l.wer, l.wsr);
    if (l.ier < l.isr)
        return fail(ERR_ORDER, "IER (0x%08" PRIx32 ") < ISR (0x%08" PRIx32 ")", l.ier, l.isr);
    const uint64_t wbytes = l.wer - l.wsr, ibytes = l.ier - l.isr;
    if (wbytes == 0)
        return fail(ERR_SIZE, "the weight range [WSR, WER) is empty");
    if (wbytes % esz || ibytes % esz)
        return fail(ERR_SIZE, "%s range of %" PRIu64 " bytes is not a multiple of the %s element size %zu",
                    wbytes % esz ? "weight" : "input", wbytes % esz ? wbytes : ibytes, dtype_name(l.dtype), esz);
    const uint64_t nw = wbytes / esz, ni = ibytes / esz;
    if (nw > kMaxElements || ni > kMaxElements)
        return fail(ERR_TOO_LARGE, "%" PRIu64 " %s exceed the maximum of %u", nw > kMaxElements ? nw : ni,
                    nw > kMaxElements ? "weights" : "inputs", kMaxElements);
    const uint64_t cols = l.cols_field ? l.cols_field : 1;
    const uint64_t rows = l.rows_field ? l.rows_field : nw / cols;
    if (rows == 0 || rows * cols != nw)
        return fail(ERR_SHAPE, "SHAPE %" PRIu64 " x %" PRIu64 " does not match %" PRIu64 " weights", rows, cols, nw);
    if (ni % rows)
        return fail(ERR_SHAPE, "%" PRIu64 " inputs are not a multiple of ROWS = %" PRIu64, ni, rows);
    const uint64_t nvec = ni / rows, nout = nvec * cols;
    if (nout > kMaxElements)
        return fail(ERR_TOO_LARGE, "%" PRIu64 " result words exceed the maximum of %u", nout, kMaxElements);

    std::vector<uint8_t> w(wbytes), x(ibytes);
    if (host.dma_read(l.wsr, w.data(), w.size()) != DP_OK)
        return fail(ERR_DMA, "weights [0x%08" PRIx32 ", 0x%08" PRIx32 ") are not guest RAM", l.wsr, l.wer);
    if (ibytes && host.dma_read(l.isr, x.data(), x.size()) != DP_OK)
        return fail(ERR_DMA, "inputs [0x%08" PRIx32 ", 0x%08" PRIx32 ") are not guest RAM", l.isr, l.ier);
    if (l.out_dma && nout) {
        std::vector<uint8_t> probe(nout * 4); // the output buffer must be guest RAM too (checked now)
        if (host.dma_read(l.out_dma, probe.data(), probe.size()) != DP_OK)
            return fail(ERR_DMA, "OUT_DMA [0x%08" PRIx32 ", +%" PRIu64 " bytes) is not guest RAM", l.out_dma, nout * 4);
    }

    std::vector<uint32_t> &outputs = impl_->outputs;
    outputs.assign(nout, 0);
    cim_request req{};
    req.abi = {CIM_BACKEND_ABI_MAJOR, CIM_BACKEND_ABI_MINOR};
    req.dtype = static_cast<cim_dtype>(l.dtype);
    req.rows = static_cast<uint32_t>(rows);
    req.cols = static_cast<uint32_t>(cols);
    req.n_vectors = static_cast<uint32_t>(nvec);
    req.weights = w.data();
    req.inputs = nvec ? x.data() : nullptr;
    cim_result res{};
    res.abi = {CIM_BACKEND_ABI_MAJOR, CIM_BACKEND_ABI_MINOR};
    res.outputs = outputs.data();
    res.out_capacity = outputs.size();
    const double nan = std::numeric_limits<double>::quiet_NaN();
    res.metrics = {nan, nan, nan, nan};

    // On the worker: files (if the backend wants them), the backend, cleanup. No host services here.
    uint32_t worker_err = ERR_NONE;
    std::string worker_msg;
    dp_status st = DP_OK;
    dp_status rb = host.run_blocking([&] {
        WorkDir wd;
        std::string paths[2];
        if (op->wants_csv()) {
            if (!wd.create(worker_msg) || !write_request_csvs(req, wd.path(), paths, worker_msg)) {
                worker_err = ERR_HOST;
                return;
            }
            req.work_dir = wd.path().c_str();
        }
        st = op->run(req, res);
        req.work_dir = nullptr;
    }); // ~WorkDir removed the directory, success or not
    if (rb != DP_OK)
        return fail(ERR_HOST, "op %u (%s): could not start the host worker (status %d)", l.op, op->name().c_str(), rb);
    if (worker_err)
        return fail(worker_err, "op %u (%s): %s", l.op, op->name().c_str(), worker_msg.c_str());
    if (st != DP_OK) {
        res.error[sizeof res.error - 1] = '\0';
        return fail(ERR_BACKEND, "op %u (%s) failed: %s", l.op, op->name().c_str(),
                    res.error[0] ? res.error : "no reason given");
    }
    if (res.out_count != nout)
        return fail(ERR_OUTPUT, "op %u (%s) returned %zu result words, expected %" PRIu64, l.op, op->name().c_str(),
                    res.out_count, nout);

    Outcome o;
    o.nvec = static_cast<uint32_t>(nvec);
    o.outputs = outputs.data();
    o.out_count = outputs.size();
    bool valid = false;
    o.metrics = res.metrics;
    o.latency_ns = busy_time(res.metrics.latency_ns, valid);
    o.mvalid = valid ? 1u : 0u;
    auto ok = [](double v) { return std::isfinite(v) && v >= 0; };
    o.mvalid |= ok(res.metrics.energy_pj) ? 2u : 0u;
    o.mvalid |= ok(res.metrics.area_um2) ? 4u : 0u;
    o.mvalid |= ok(res.metrics.leakage_uw) ? 8u : 0u;
    return o;
}

} // namespace dynperiph::cim
