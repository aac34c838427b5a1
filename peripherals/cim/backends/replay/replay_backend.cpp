// plugins/cim-replay.so: answers an operation's requests from a recording (record/record_format.hpp) made
// by an [[op]] with `record = "FILE"`, so a firmware run that used a slow simulator (a real NeuroSim, ...)
// repeats without it. params: { file = "rec.jsonl" } (relative to the config's folder).
// The n-th request must equal the n-th recorded one (dtype, shape, every weight and input); otherwise the
// run fails (ERRCODE BACKEND) naming the first difference. Outputs, metrics and a recorded failure come
// back exactly as recorded.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dynperiph/cim_backend.h"
#include "record_format.hpp"

namespace rec = dynperiph::cim::record;

struct cim_op {
    std::string path;
    std::vector<rec::Entry> entries;
    size_t next = 0;
};

namespace {

void set_err(char *buf, std::size_t size, const std::string &msg) {
    if (buf && size)
        std::snprintf(buf, size, "%s", msg.c_str());
}

cim_op *op_open(const char *params_json, const char *base_dir, char *err, std::size_t err_size) noexcept {
    try {
        const auto p = nlohmann::json::parse(params_json && *params_json ? params_json : "{}");
        for (auto it = p.begin(); it != p.end(); ++it)
            if (it.key() != "file")
                throw std::runtime_error("replay: unknown param '" + it.key() + "' (expected file)");
        if (!p.contains("file") || !p["file"].is_string() || p["file"].get<std::string>().empty())
            throw std::runtime_error("replay: param 'file' (the recording) is required");
        std::filesystem::path f(p["file"].get<std::string>());
        if (f.is_relative() && base_dir)
            f = std::filesystem::path(base_dir) / f;
        auto op = new cim_op{f.string(), rec::read(f.string()), 0};
        return op;
    } catch (const std::exception &e) {
        set_err(err, err_size, std::string("replay: ") + e.what());
    } catch (...) {
        set_err(err, err_size, "replay: unknown error while opening");
    }
    return nullptr;
}

dp_status op_run(cim_op *op, const cim_request *req, cim_result *res) noexcept {
    if (!op || !req || !res)
        return DP_ERR_INVALID;
    res->out_count = 0;
    try {
        const size_t n = op->next + 1;
        if (op->next >= op->entries.size()) {
            set_err(res->error, sizeof res->error, "replay " + op->path + ": request " + std::to_string(n) +
                                                       ", but the recording holds only " +
                                                       std::to_string(op->entries.size()));
            return DP_ERR_INVALID;
        }
        const rec::Entry &e = op->entries[op->next];
        if (const std::string d = rec::first_difference(*req, e); !d.empty()) {
            set_err(res->error, sizeof res->error, "replay " + op->path + ": request " + std::to_string(n) +
                                                       " differs from the recording (line " + std::to_string(e.line) +
                                                       "): " + d);
            return DP_ERR_INVALID;
        }
        ++op->next;
        res->metrics = e.metrics;
        if (e.status != DP_OK) {
            set_err(res->error, sizeof res->error, e.error.empty() ? "recorded failure" : e.error);
            return dp_status(e.status);
        }
        if (e.outputs.size() > res->out_capacity) {
            set_err(res->error, sizeof res->error, "replay: output buffer too small");
            return DP_ERR_INVALID;
        }
        if (!e.outputs.empty())
            std::memcpy(res->outputs, e.outputs.data(), e.outputs.size() * sizeof(uint32_t));
        res->out_count = e.outputs.size();
        res->error[0] = '\0';
        return DP_OK;
    } catch (const std::exception &e) {
        set_err(res->error, sizeof res->error, std::string("replay: ") + e.what());
    } catch (...) {
        set_err(res->error, sizeof res->error, "replay: unknown error");
    }
    return DP_ERR_INVALID;
}

void op_close(cim_op *op) noexcept { delete op; }

const cim_backend_desc kDesc = {
    {CIM_BACKEND_ABI_MAJOR, CIM_BACKEND_ABI_MINOR},
    "replay",
    "answers requests from a recording made with an [[op]]'s record = FILE",
    0u,
    op_open,
    op_run,
    op_close,
};

} // namespace

extern "C" DP_EXPORT const cim_backend_desc *cim_backend_entry(dp_version /*host_abi*/) { return &kDesc; }
