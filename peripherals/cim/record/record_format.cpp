// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "record_format.hpp"

#include <cmath>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace dynperiph::cim::record {

using nlohmann::json;

namespace {

size_t elem_size(int dtype) { return dtype == CIM_DTYPE_INT8 ? 1 : dtype == CIM_DTYPE_INT16 ? 2 : 4; }

int64_t element(const void *data, int dtype, size_t i) {
    const auto *b = static_cast<const unsigned char *>(data);
    switch (dtype) {
    case CIM_DTYPE_INT8: return int8_t(b[i]);
    case CIM_DTYPE_INT16: {
        int16_t v;
        std::memcpy(&v, b + 2 * i, 2);
        return v;
    }
    case CIM_DTYPE_INT32: {
        int32_t v;
        std::memcpy(&v, b + 4 * i, 4);
        return v;
    }
    default: {
        uint32_t v;
        std::memcpy(&v, b + 4 * i, 4);
        return v;
    }
    }
}

json elements(const void *data, int dtype, size_t n) {
    json a = json::array();
    for (size_t i = 0; i < n; ++i)
        a.push_back(element(data, dtype, i));
    return a;
}

json metric(double v) { return std::isnan(v) ? json(nullptr) : json(v); }

double metric_of(const json &m, const char *key) {
    const auto it = m.find(key);
    if (it == m.end() || it->is_null())
        return std::nan("");
    return it->get<double>();
}

} // namespace

std::string header_line(unsigned op, const std::string &name, const std::string &backend) {
    return json{{"format", kFormat}, {"version", kVersion}, {"op", op}, {"name", name}, {"backend", backend}}.dump();
}

std::string run_line(const cim_request &req, const cim_result &res, dp_status status) {
    const size_t nw = size_t(req.rows) * req.cols, ni = size_t(req.n_vectors) * req.rows;
    json j{{"dtype", int(req.dtype)}, {"rows", req.rows}, {"cols", req.cols}, {"n_vectors", req.n_vectors}};
    j["weights"] = req.weights ? elements(req.weights, req.dtype, nw) : json::array();
    j["inputs"] = req.inputs ? elements(req.inputs, req.dtype, ni) : json::array();
    j["status"] = int(status);
    json out = json::array();
    for (size_t i = 0; status == DP_OK && res.outputs && i < res.out_count && i < res.out_capacity; ++i)
        out.push_back(res.outputs[i]);
    j["outputs"] = std::move(out);
    j["metrics"] = {{"latency_ns", metric(res.metrics.latency_ns)}, {"energy_pj", metric(res.metrics.energy_pj)},
                    {"area_um2", metric(res.metrics.area_um2)}, {"leakage_uw", metric(res.metrics.leakage_uw)}};
    j["error"] = status == DP_OK ? std::string() : std::string(res.error, strnlen(res.error, sizeof res.error));
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::vector<Entry> read(const std::string &path) {
    std::ifstream f(path);
    if (!f)
        throw std::runtime_error(path + ": cannot open the recording: " + std::strerror(errno));
    std::vector<Entry> out;
    std::string text;
    unsigned line = 0;
    while (std::getline(f, text)) {
        ++line;
        const std::string at = path + ":" + std::to_string(line) + ": ";
        json j;
        try {
            j = json::parse(text);
        } catch (const json::exception &e) {
            throw std::runtime_error(at + "not JSON (" + std::string(e.what()).substr(0, 120) + ")");
        }
        try {
            if (line == 1) {
                if (!j.is_object() || j.value("format", "") != kFormat)
                    throw std::runtime_error("not a dynperiph-cim-record header");
                if (j.value("version", 0) != kVersion)
                    throw std::runtime_error("recording version " + j.value("version", json(0)).dump() +
                                             ", this replay reads version " + std::to_string(kVersion));
                continue;
            }
            Entry e;
            e.line = line;
            e.dtype = j.at("dtype").get<int>();
            e.rows = j.at("rows").get<uint32_t>();
            e.cols = j.at("cols").get<uint32_t>();
            e.n_vectors = j.at("n_vectors").get<uint32_t>();
            e.weights = j.at("weights").get<std::vector<int64_t>>();
            e.inputs = j.at("inputs").get<std::vector<int64_t>>();
            e.status = j.at("status").get<int>();
            e.outputs = j.at("outputs").get<std::vector<uint32_t>>();
            const json &m = j.at("metrics");
            e.metrics = {metric_of(m, "latency_ns"), metric_of(m, "energy_pj"), metric_of(m, "area_um2"),
                         metric_of(m, "leakage_uw")};
            e.error = j.value("error", "");
            if (e.status == DP_OK && e.outputs.size() != size_t(e.n_vectors) * e.cols)
                throw std::runtime_error(std::to_string(e.outputs.size()) + " outputs for " +
                                         std::to_string(e.n_vectors) + " x " + std::to_string(e.cols));
            out.push_back(std::move(e));
        } catch (const json::exception &e) {
            throw std::runtime_error(at + "bad record (" + std::string(e.what()).substr(0, 120) + ")");
        } catch (const std::runtime_error &e) {
            throw std::runtime_error(at + e.what());
        }
    }
    if (line == 0)
        throw std::runtime_error(path + ": empty recording (no header line)");
    return out;
}

std::string first_difference(const cim_request &req, const Entry &e) {
    auto diff = [](const char *what, int64_t got, int64_t rec) {
        return std::string(what) + " = " + std::to_string(got) + ", recorded " + std::to_string(rec);
    };
    if (int(req.dtype) != e.dtype)
        return diff("dtype", req.dtype, e.dtype);
    if (req.rows != e.rows)
        return diff("rows", req.rows, e.rows);
    if (req.cols != e.cols)
        return diff("cols", req.cols, e.cols);
    if (req.n_vectors != e.n_vectors)
        return diff("n_vectors", req.n_vectors, e.n_vectors);
    const size_t nw = size_t(req.rows) * req.cols, ni = size_t(req.n_vectors) * req.rows;
    if (e.weights.size() != nw)
        return "the recording holds " + std::to_string(e.weights.size()) + " weights for " + std::to_string(nw);
    for (size_t i = 0; i < nw; ++i)
        if (int64_t v = element(req.weights, req.dtype, i); v != e.weights[i])
            return "weights[" + std::to_string(i) + "] = " + std::to_string(v) + ", recorded " + std::to_string(e.weights[i]);
    if (e.inputs.size() != ni)
        return "the recording holds " + std::to_string(e.inputs.size()) + " inputs for " + std::to_string(ni);
    for (size_t i = 0; i < ni; ++i)
        if (int64_t v = element(req.inputs, req.dtype, i); v != e.inputs[i])
            return "inputs[" + std::to_string(i) + "] = " + std::to_string(v) + ", recorded " + std::to_string(e.inputs[i]);
    (void)elem_size;
    return {};
}

} // namespace dynperiph::cim::record
