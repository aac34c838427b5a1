// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
//
// json:     {"outputs": [y0, y1, ...], "metrics": {"latency_ns": .., "energy_pj": .., "area_um2": ..,
//            "leakage_uw": ..}}   (outputs may be absent for a weights-only run; a metric may be
//            absent or null; other metric keys are ignored)
// csv:      one item per line; "#" starts a comment; "latency_ns,<v>" / "energy_pj,<v>" /
//           "area_um2,<v>" / "leakage_uw,<v>" set a metric; any other line is comma-separated output values
// neurosim: NeuroSim's summary lines: "ChipArea : <v>um^2", "Chip layer-by-layer readLatency (per
//           image) is: <v>ns", "Chip total readDynamicEnergy is: <v>pJ", "Chip total leakage Power is: <v>uW"
//           (or the pipeline-system variants); no outputs.
#include "result_parse.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

namespace dynperiph::cim::exec {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct MetricName {
    const char *key;
    double cim_metrics::*field;
};
constexpr MetricName kMetrics[] = {{"latency_ns", &cim_metrics::latency_ns},
                                   {"energy_pj", &cim_metrics::energy_pj},
                                   {"area_um2", &cim_metrics::area_um2},
                                   {"leakage_uw", &cim_metrics::leakage_uw}};

// Converts one output value; returns "" or a reason.
std::string to_word(double v, bool is_integer, cim_dtype dtype, uint32_t &word) {
    if (dtype == CIM_DTYPE_FLOAT32) {
        float f = static_cast<float>(v);
        std::memcpy(&word, &f, 4);
        return {};
    }
    if (!is_integer && std::floor(v) != v)
        return "is not an integer";
    if (!(v >= -2147483648.0 && v <= 4294967295.0))
        return "is out of the 32-bit range";
    word = v < 0 ? static_cast<uint32_t>(static_cast<int32_t>(v)) : static_cast<uint32_t>(v);
    return {};
}

std::string check_metric(const char *key, double v) {
    if (std::isnan(v))
        return {};
    if (!std::isfinite(v) || v < 0)
        return std::string("metric ") + key + " must be a non-negative number";
    return {};
}

std::string parse_json(const std::string &text, cim_dtype dtype, ParsedResult &out) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception &e) { // parse_error, and out_of_range for a number like 1e400
        std::string what = e.what();
        if (what.size() > 160)
            what = what.substr(0, 157) + "...";
        return "malformed JSON output: " + what;
    }
    if (!j.is_object())
        return "malformed JSON output: the top level is not an object";
    if (auto it = j.find("outputs"); it != j.end() && !it->is_null()) {
        if (!it->is_array())
            return "malformed JSON output: \"outputs\" is not an array";
        out.outputs.reserve(it->size());
        size_t i = 0;
        for (const auto &v : *it) {
            if (!v.is_number())
                return "malformed JSON output: outputs[" + std::to_string(i) + "] is not a number";
            uint32_t w = 0;
            std::string err = to_word(v.get<double>(), v.is_number_integer(), dtype, w);
            if (v.is_number_integer() && dtype != CIM_DTYPE_FLOAT32) {
                // exact path for big integers
                if (v.is_number_unsigned()) {
                    auto u = v.get<uint64_t>();
                    err = u > 0xFFFFFFFFull ? "is out of the 32-bit range" : "";
                    w = static_cast<uint32_t>(u);
                } else {
                    auto s = v.get<int64_t>();
                    err = (s < INT32_MIN || s > int64_t(0xFFFFFFFF)) ? "is out of the 32-bit range" : "";
                    w = static_cast<uint32_t>(s);
                }
            }
            if (!err.empty())
                return "malformed JSON output: outputs[" + std::to_string(i) + "] " + err;
            out.outputs.push_back(w);
            ++i;
        }
    }
    if (auto it = j.find("metrics"); it != j.end() && !it->is_null()) {
        if (!it->is_object())
            return "malformed JSON output: \"metrics\" is not an object";
        for (const auto &m : kMetrics) {
            auto mv = it->find(m.key);
            if (mv == it->end() || mv->is_null())
                continue;
            if (!mv->is_number())
                return std::string("malformed JSON output: metrics.") + m.key + " is not a number";
            out.metrics.*m.field = mv->get<double>();
            if (auto e = check_metric(m.key, out.metrics.*m.field); !e.empty())
                return "malformed JSON output: " + e;
        }
    }
    return {};
}

std::string trim(const std::string &s) {
    const size_t b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos)
        return {};
    const size_t e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

// Parses a whole-field number; returns false if `s` is not one.
bool parse_number(const std::string &s, double &v, bool &is_integer) {
    const std::string t = trim(s);
    if (t.empty())
        return false;
    char *end = nullptr;
    errno = 0;
    long long ll = std::strtoll(t.c_str(), &end, 10);
    if (*end == '\0' && errno == 0) {
        v = static_cast<double>(ll);
        is_integer = true;
        return true;
    }
    v = std::strtod(t.c_str(), &end);
    is_integer = false;
    return *end == '\0';
}

std::string parse_csv(const std::string &text, cim_dtype dtype, ParsedResult &out) {
    std::istringstream in(text);
    std::string line;
    size_t lineno = 0;
    while (std::getline(in, line)) {
        ++lineno;
        const size_t hash = line.find('#');
        if (hash != std::string::npos)
            line.resize(hash);
        line = trim(line);
        if (line.empty())
            continue;
        const std::string where = "malformed CSV output, line " + std::to_string(lineno) + ": ";
        const size_t comma = line.find(',');
        const std::string first = trim(line.substr(0, comma));
        bool is_metric = false;
        for (const auto &m : kMetrics) {
            if (first != m.key)
                continue;
            is_metric = true;
            double v;
            bool integer;
            if (comma == std::string::npos || !parse_number(line.substr(comma + 1), v, integer))
                return where + "expected \"" + m.key + ",<number>\"";
            out.metrics.*m.field = v;
            if (auto e = check_metric(m.key, v); !e.empty())
                return where + e;
        }
        if (is_metric)
            continue;
        std::istringstream fields(line);
        std::string f;
        while (std::getline(fields, f, ',')) {
            double v;
            bool integer;
            if (!parse_number(f, v, integer))
                return where + "\"" + trim(f).substr(0, 40) + "\" is not a number";
            uint32_t w = 0;
            if (auto e = to_word(v, integer, dtype, w); !e.empty())
                return where + "value " + trim(f) + " " + e;
            out.outputs.push_back(w);
        }
    }
    return {};
}

struct NsLine {
    const char *prefix;
    const char *unit;
    double cim_metrics::*field;
};
constexpr NsLine kNeuroSim[] = {
    {"ChipArea :", "um^2", &cim_metrics::area_um2},
    {"Chip layer-by-layer readLatency (per image) is:", "ns", &cim_metrics::latency_ns},
    {"Chip pipeline-system-clock-cycle (per image) is:", "ns", &cim_metrics::latency_ns},
    {"Chip total readDynamicEnergy is:", "pJ", &cim_metrics::energy_pj},
    {"Chip pipeline-system readDynamicEnergy (per image) is:", "pJ", &cim_metrics::energy_pj},
    {"Chip total leakage Power is:", "uW", &cim_metrics::leakage_uw},
    {"Chip pipeline-system leakage Power (per image) is:", "uW", &cim_metrics::leakage_uw},
};

std::string parse_neurosim(const std::string &text, ParsedResult &out) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        line = trim(line);
        for (const auto &p : kNeuroSim) {
            if (line.rfind(p.prefix, 0) != 0)
                continue;
            std::string rest = trim(line.substr(std::strlen(p.prefix)));
            char *end = nullptr;
            const double v = std::strtod(rest.c_str(), &end);
            if (end == rest.c_str() || trim(end) != p.unit)
                return std::string("malformed NeuroSim output: expected \"") + p.prefix + " <number>" + p.unit +
                       "\", got \"" + line.substr(0, 120) + "\"";
            if (auto e = check_metric(p.prefix, v); !e.empty())
                return "malformed NeuroSim output: " + line.substr(0, 120) + " is not a non-negative number";
            out.metrics.*p.field = v;
        }
    }
    const struct {
        double cim_metrics::*field;
        const char *what;
    } need[] = {{&cim_metrics::latency_ns, "Chip ... readLatency"},
                {&cim_metrics::energy_pj, "Chip ... readDynamicEnergy"},
                {&cim_metrics::area_um2, "ChipArea"},
                {&cim_metrics::leakage_uw, "Chip ... leakage Power"}};
    for (const auto &n : need)
        if (std::isnan(out.metrics.*n.field))
            return std::string("malformed NeuroSim output: no \"") + n.what + "\" summary line";
    return {};
}

} // namespace

std::string parse_output(Format fmt, const std::string &text, cim_dtype dtype, ParsedResult &out) {
    out.outputs.clear();
    out.metrics = {kNaN, kNaN, kNaN, kNaN};
    switch (fmt) {
    case Format::Json: return parse_json(text, dtype, out);
    case Format::Csv: return parse_csv(text, dtype, out);
    case Format::NeuroSim: return parse_neurosim(text, out);
    }
    return "unknown output format";
}

} // namespace dynperiph::cim::exec
