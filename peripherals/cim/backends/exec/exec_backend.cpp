// The `exec` operation backend: runs an external simulator (e.g. cimsim, or a user's NeuroSim build)
// per operation, from an argv template, in the request's private work_dir, and parses its output.
// Parameters (the OP's [op.params] table) are documented in README.md next to this file.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../../src/data.hpp"
#include "argv_template.hpp"
#include "neurosim_files.hpp"
#include "result_parse.hpp"
#include "spawn.hpp"

namespace fs = std::filesystem;
using namespace dynperiph::cim;
using namespace dynperiph::cim::exec;

struct cim_op {
    std::vector<std::string> argv;
    SpawnOptions spawn;
    Format format = Format::Json;
    bool from_file = false;
    bool functional = false;
    int weight_bits = 8, input_bits = 8;
    std::map<std::string, std::string> static_values; // config_dir, plugin_dir, bin_dir
    bool uses_neurosim_files = false;
    bool uses_inputs_csv = false;
    std::string out_name;
};

namespace {

template <size_t N> void set_error(char (&buf)[N], const std::string &msg) {
    std::snprintf(buf, N, "%s", msg.c_str());
}

std::string module_dir() {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void *>(&module_dir), &info) && info.dli_fname) {
        std::error_code ec;
        return fs::weakly_canonical(fs::path(info.dli_fname), ec).parent_path().string();
    }
    return {};
}

const char *const kKnownParams[] = {"argv",        "timeout_ms",  "format",     "source",     "max_output_bytes",
                                    "weight_bits", "input_bits",  "functional", "kill_grace_ms"};

// Throws std::string on a bad parameter.
cim_op *parse_params(const char *params_json, const char *base_dir) {
    nlohmann::json p;
    try {
        p = nlohmann::json::parse(params_json ? params_json : "{}");
    } catch (const std::exception &e) {
        throw std::string("params are not valid JSON: ") + e.what();
    }
    if (!p.is_object())
        throw std::string("params must be a table");
    for (auto it = p.begin(); it != p.end(); ++it) {
        if (std::find_if(std::begin(kKnownParams), std::end(kKnownParams),
                         [&](const char *k) { return it.key() == k; }) == std::end(kKnownParams)) {
            std::string known;
            for (const char *k : kKnownParams)
                known += (known.empty() ? "" : ", ") + std::string(k);
            throw "unknown param '" + it.key() + "' (known: " + known + ")";
        }
    }
    auto op = std::make_unique<cim_op>();
    auto integer = [&](const char *key, int64_t def, int64_t lo, int64_t hi) -> int64_t {
        auto it = p.find(key);
        if (it == p.end())
            return def;
        if (!it->is_number_integer() || it->get<int64_t>() < lo || it->get<int64_t>() > hi)
            throw "param '" + std::string(key) + "' must be an integer " + std::to_string(lo) + ".." +
                std::to_string(hi);
        return it->get<int64_t>();
    };
    auto choice = [&](const char *key, const char *def, std::vector<std::string> allowed) -> std::string {
        auto it = p.find(key);
        if (it == p.end())
            return def;
        if (it->is_string() && std::find(allowed.begin(), allowed.end(), it->get<std::string>()) != allowed.end())
            return it->get<std::string>();
        std::string list;
        for (const auto &a : allowed)
            list += (list.empty() ? "\"" : ", \"") + a + "\"";
        throw "param '" + std::string(key) + "' must be one of " + list;
    };

    auto argv = p.find("argv");
    if (argv == p.end() || !argv->is_array() || argv->empty())
        throw std::string("param 'argv' (a non-empty array of strings) is required");
    for (size_t i = 0; i < argv->size(); ++i) {
        if (!(*argv)[i].is_string())
            throw "argv[" + std::to_string(i) + "] is not a string";
        std::string a = (*argv)[i].get<std::string>();
        if (auto e = check_template(a); !e.empty())
            throw "argv[" + std::to_string(i) + "]: " + e;
        op->argv.push_back(std::move(a));
    }
    op->spawn.timeout_ms = static_cast<int>(integer("timeout_ms", 10000, 1, 3600000));
    op->spawn.kill_grace_ms = static_cast<int>(integer("kill_grace_ms", 200, 1, 60000));
    op->spawn.max_stdout = static_cast<size_t>(integer("max_output_bytes", 64 << 20, 1, int64_t(1) << 30));
    op->weight_bits = static_cast<int>(integer("weight_bits", 8, 1, 32));
    op->input_bits = static_cast<int>(integer("input_bits", 8, 1, 32));
    const std::string fmt = choice("format", "json", {"json", "csv", "neurosim"});
    op->format = fmt == "json" ? Format::Json : fmt == "csv" ? Format::Csv : Format::NeuroSim;
    op->from_file = choice("source", "stdout", {"stdout", "file"}) == "file";
    op->out_name = fmt == "json" ? "output.json" : fmt == "csv" ? "output.csv" : "output.txt";
    op->functional = op->format == Format::NeuroSim;
    if (auto it = p.find("functional"); it != p.end()) {
        if (!it->is_boolean())
            throw std::string("param 'functional' must be true or false");
        op->functional = it->get<bool>();
    }
    if (op->format == Format::NeuroSim && !op->functional)
        throw std::string("format \"neurosim\" gives no outputs: it needs functional = true");

    bool uses_out = false;
    for (const auto &a : op->argv) {
        for (const auto &ph : placeholders_in(a)) {
            uses_out |= ph == "out";
            op->uses_inputs_csv |= ph == "inputs_csv";
            op->uses_neurosim_files |= ph == "network_csv" || ph == "ns_weights_csv" || ph == "ns_inputs_csv";
        }
    }
    if (op->from_file && !uses_out)
        throw std::string("source = \"file\" but no argv element passes {out}");

    const std::string plugin_dir = module_dir();
    op->static_values["config_dir"] = base_dir ? base_dir : ".";
    op->static_values["plugin_dir"] = plugin_dir;
    op->static_values["bin_dir"] = (fs::path(plugin_dir).parent_path() / "bin").string();

    // argv[0] that depends only on static placeholders: check it now, so a typo fails at startup.
    bool static_prog = true;
    for (const auto &ph : placeholders_in(op->argv[0]))
        static_prog &= op->static_values.count(ph) > 0;
    if (static_prog) {
        std::string prog = expand_template(op->argv[0], op->static_values);
        if (prog.find('/') != std::string::npos) {
            fs::path pp(prog);
            if (pp.is_relative())
                pp = fs::path(op->static_values["config_dir"]) / pp;
            if (access(pp.c_str(), X_OK) != 0)
                throw "program " + pp.lexically_normal().string() + " is not an executable file";
        }
    }
    return op.release();
}

cim_op *exec_open(const char *params_json, const char *base_dir, char *err, size_t err_size) {
    try {
        return parse_params(params_json, base_dir);
    } catch (const std::string &e) {
        std::snprintf(err, err_size, "%s", e.c_str());
    } catch (const std::exception &e) {
        std::snprintf(err, err_size, "exec backend: %s", e.what());
    }
    return nullptr;
}

dp_status run_impl(cim_op *op, const cim_request *req, cim_result *res) {
    if (!req->work_dir) {
        set_error(res->error, "exec backend: the host gave no work_dir");
        return DP_ERR_INVALID;
    }
    const std::string dir = req->work_dir;
    std::map<std::string, std::string> v = op->static_values;
    v["work_dir"] = dir;
    v["rows"] = std::to_string(req->rows);
    v["cols"] = std::to_string(req->cols);
    v["n_vectors"] = std::to_string(req->n_vectors);
    v["dtype"] = dtype_name(req->dtype);
    v["weight_bits"] = std::to_string(op->weight_bits);
    v["input_bits"] = std::to_string(op->input_bits);
    v["out"] = dir + "/" + op->out_name;

    std::string err;
    if (req->weights_csv) {
        v["weights_csv"] = req->weights_csv;
    } else {
        v["weights_csv"] = dir + "/weights.csv";
        if (!write_matrix_csv(v["weights_csv"], req->weights, req->dtype, req->rows, req->cols, err)) {
            set_error(res->error, err);
            return DP_ERR_INTERNAL;
        }
    }
    if (req->inputs_csv) {
        v["inputs_csv"] = req->inputs_csv;
    } else {
        v["inputs_csv"] = dir + "/inputs.csv";
        if (op->uses_inputs_csv &&
            !write_matrix_csv(v["inputs_csv"], req->inputs, req->dtype, req->n_vectors, req->rows, err)) {
            set_error(res->error, err);
            return DP_ERR_INTERNAL;
        }
    }
    if (op->uses_neurosim_files) {
        NeuroSimFiles ns;
        if (auto e = write_neurosim_files(*req, op->weight_bits, op->input_bits, dir, ns); !e.empty()) {
            set_error(res->error, e);
            return DP_ERR_INTERNAL;
        }
        v["network_csv"] = ns.network;
        v["ns_weights_csv"] = ns.weights;
        v["ns_inputs_csv"] = ns.inputs;
    }

    SpawnOptions so = op->spawn;
    so.cwd = dir;
    for (const auto &a : op->argv)
        so.argv.push_back(expand_template(a, v));
    if (so.argv[0].find('/') != std::string::npos && fs::path(so.argv[0]).is_relative())
        so.argv[0] = (fs::path(v["config_dir"]) / so.argv[0]).lexically_normal().string();

    SpawnResult sr = run_process(so);
    if (!sr.ok()) {
        set_error(res->error, sr.describe(so));
        return DP_ERR_INTERNAL;
    }
    std::string text;
    if (op->from_file) {
        FILE *f = std::fopen(v["out"].c_str(), "rb");
        if (!f) {
            set_error(res->error, so.argv[0] + " did not write its output file {out}");
            return DP_ERR_INTERNAL;
        }
        char buf[65536];
        size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, f)) > 0 && text.size() <= so.max_stdout)
            text.append(buf, n);
        std::fclose(f);
        if (text.size() > so.max_stdout) {
            set_error(res->error, "output file larger than " + std::to_string(so.max_stdout) + " bytes");
            return DP_ERR_INTERNAL;
        }
    } else {
        text = std::move(sr.out);
    }
    ParsedResult pr;
    if (auto e = parse_output(op->format, text, req->dtype, pr); !e.empty()) {
        set_error(res->error, so.argv[0] + ": " + e);
        return DP_ERR_INTERNAL;
    }
    if (op->functional)
        pr.outputs = reference_mvm(*req);
    if (pr.outputs.size() != res->out_capacity) {
        set_error(res->error, so.argv[0] + ": expected " + std::to_string(res->out_capacity) + " outputs, got " +
                                  std::to_string(pr.outputs.size()));
        return DP_ERR_INTERNAL;
    }
    std::copy(pr.outputs.begin(), pr.outputs.end(), res->outputs);
    res->out_count = pr.outputs.size();
    res->metrics = pr.metrics;
    if (op->format == Format::NeuroSim && req->n_vectors > 1) {
        // NetWork.csv describes one FC layer, so NeuroSim's "per image" figures are per input vector; the
        // START processed n_vectors of them through the pipeline, one after another.
        res->metrics.latency_ns *= req->n_vectors;
        res->metrics.energy_pj *= req->n_vectors;
    }
    return DP_OK;
}

dp_status exec_run(cim_op *op, const cim_request *req, cim_result *res) {
    try {
        return run_impl(op, req, res);
    } catch (const std::exception &e) {
        set_error(res->error, std::string("exec backend: ") + e.what());
        return DP_ERR_INTERNAL;
    }
}

void exec_close(cim_op *op) { delete op; }

const cim_backend_desc kDesc = {
    {CIM_BACKEND_ABI_MAJOR, CIM_BACKEND_ABI_MINOR},
    "exec",
    "runs an external simulator per operation (argv template, CSV in, JSON/CSV/NeuroSim out)",
    CIM_BACKEND_WANTS_CSV,
    exec_open,
    exec_run,
    exec_close,
};

} // namespace

extern "C" DP_EXPORT const cim_backend_desc *cim_backend_entry(dp_version host_abi) {
    if (host_abi.major != CIM_BACKEND_ABI_MAJOR)
        return nullptr;
    return &kDesc;
}
