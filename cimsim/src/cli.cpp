// cimsim command-line interface. SPDX-License-Identifier: GPL-2.0-or-later OR MIT
//
//   cimsim mvm --weights W.csv [--inputs X.csv] [--dtype T] [--out Y.csv] [--json] [--json-file F] [config]
//   cimsim network NetWork.csv [w1.csv in1.csv ...] [--json] [--progress] [--outputs-dir D] [config]
//   cimsim neurosim NetWork.csv <wbits> <ibits> <subArrayRows> <parallelRows> [w1.csv in1.csv ...] [config]
//   cimsim keys
//   cimsim sweep ...      (the Python design-space sweep, cli_sweep.cpp; `cimsim sweep --help`)
// [config] = --config FILE (.json or .toml) and/or one flag per config key (--adc-bits 4 or --adc_bits 4);
// flags override the file. `cimsim keys` prints the key table.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

#include <CLI/CLI.hpp>

#include "cimsim/chip.hpp"
#include "cimsim/config.hpp"
#include "cimsim/cost.hpp"
#include "cimsim/csv.hpp"
#include "cimsim/mvm.hpp"
#include "cimsim/network.hpp"
#include "cimsim/report.hpp"

using namespace cimsim;

namespace {

struct ConfigArgs {
    std::string config_file;
    std::map<std::string, std::string> values;  // key -> value text
    std::map<std::string, CLI::Option *> opts;
};

void add_config_options(CLI::App *app, ConfigArgs &ca) {
    app->add_option("--config", ca.config_file, "config file (.json object or .toml table of config keys)")
        ->check(CLI::ExistingFile);
    for (const auto &k : config_keys()) {
        std::string key(k.name), dashed = key;
        for (char &ch : dashed)
            if (ch == '_') ch = '-';
        std::string names = "--" + dashed;
        if (dashed != key) names += ",--" + key;
        ca.opts[key] = app->add_option(names, ca.values[key], std::string(k.doc) + " [default " + std::string(k.default_text) + "]")
                           ->group("Config keys (see `cimsim keys`)")
                           ->type_name(k.type == KeyType::String ? "TEXT" : "NUM");
    }
}

std::string slurp(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("cimsim: cannot open '" + path + "'");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

Config build_config(const ConfigArgs &ca, Config cfg = {}) {
    if (!ca.config_file.empty()) {
        const std::string text = slurp(ca.config_file);
        const bool toml = ca.config_file.size() > 5 && ca.config_file.substr(ca.config_file.size() - 5) == ".toml";
        if (toml) apply_toml(cfg, text, ca.config_file);
        else apply_json(cfg, text, ca.config_file);
    }
    for (const auto &[key, opt] : ca.opts)
        if (opt->count() > 0) set_key(cfg, key, ca.values.at(key));
    return cfg;
}

bool want_progress(bool flag) { return flag || isatty(STDERR_FILENO); }

Progress make_progress(bool on) {
    if (!on) return {};
    return [](std::size_t i, std::size_t n, const std::string &what) {
        if (i >= n) std::fprintf(stderr, "\rcimsim: %zu/%zu layers done          \n", n, n);
        else std::fprintf(stderr, "\rcimsim: %s/%zu ...", what.c_str(), n);
        std::fflush(stderr);
    };
}

int run_mvm(const ConfigArgs &ca, const std::string &wpath, const std::string &xpath, const std::string &dtype_text,
            const std::string &out_path, bool json, const std::string &json_file, std::int64_t want_rows, std::int64_t want_cols) {
    const Resolved r = resolve(build_config(ca));
    const CsvMatrix w = read_csv(wpath);
    if (want_rows >= 0 && std::int64_t(w.rows) != want_rows)
        throw Error("cimsim: " + wpath + ": has " + std::to_string(w.rows) + " rows, --rows says " + std::to_string(want_rows));
    if (want_cols >= 0 && std::int64_t(w.cols) != want_cols)
        throw Error("cimsim: " + wpath + ": has " + std::to_string(w.cols) + " columns, --cols says " + std::to_string(want_cols));
    std::optional<CsvMatrix> x;
    if (!xpath.empty()) {
        x = read_csv(xpath, true);  // an empty inputs file = no vectors (PPA only)
        if (x->rows == 0) x.reset();
    }
    if (x) {
        if (x->cols != w.rows)
            throw Error("cimsim: " + xpath + ": input vectors have " + std::to_string(x->cols) + " values but " + wpath +
                        " has " + std::to_string(w.rows) + " rows (one input per weight row)");
    }
    MvmProblem p;
    if (dtype_text == "auto") p.dtype = (w.all_integers && (!x || x->all_integers)) ? Dtype::Int32 : Dtype::Float32;
    else if (auto d = parse_dtype(dtype_text)) p.dtype = *d;
    else throw Error("cimsim: --dtype: expected auto, int8, int16, int32 or float32, got '" + dtype_text + "'");
    p.rows = w.rows, p.cols = w.cols, p.n_vectors = x ? x->rows : 0;
    p.weights = w.values;
    if (x) p.inputs = x->values;
    if (p.dtype == Dtype::Float32) {  // float32 semantics: "%.9g" text maps back to the exact float
        for (auto &v : p.weights) v = double(float(v));
        for (auto &v : p.inputs) v = double(float(v));
    }
    const MvmOutput out = run_functional(r, p);
    const Ppa ppa = estimate_mvm(r, p.rows, p.cols, p.n_vectors);
    const MvmReport rep{p, out, ppa, r};
    if (!out_path.empty()) {
        if (p.dtype == Dtype::Float32) write_csv_floats(out_path, out.floats, p.cols);
        else {
            std::vector<std::int64_t> wrapped(out.words.begin(), out.words.end());
            for (std::size_t i = 0; i < wrapped.size(); ++i) wrapped[i] = std::int32_t(out.words[i]);
            write_csv_ints(out_path, wrapped, p.cols);
        }
    }
    if (!json_file.empty()) {
        std::ofstream f(json_file);
        f << mvm_json(rep);
        if (!f) throw Error("cimsim: cannot write '" + json_file + "'");
    }
    std::fputs(json ? mvm_json(rep).c_str() : mvm_text(rep).c_str(), stdout);
    return 0;
}

int run_net(const Resolved &r, const std::string &net, const std::vector<std::string> &pairs, bool json, bool progress,
            const std::string &outputs_dir, bool neurosim = false, bool features = false) {
    if (pairs.size() % 2 != 0)
        throw Error("cimsim: weight and input files come in pairs (w1.csv in1.csv ...); got " + std::to_string(pairs.size()) + " file(s)");
    const auto layers = read_network_csv(net);
    std::vector<LayerFiles> files;
    for (std::size_t i = 0; i + 1 < pairs.size(); i += 2) files.push_back({pairs[i], pairs[i + 1]});
    if (features) {  // the structural counts fit_neurosim.py fits the unit costs on (no functional run)
        std::fputs(chip_features_json(r, layers, measure_network_activity(r, layers, files)).c_str(), stdout);
        return 0;
    }
    const NetworkResult res = run_network(r, layers, files, make_progress(want_progress(progress)), outputs_dir, neurosim);
    std::fputs(json ? network_json(res, r).c_str() : network_text(res, r).c_str(), stdout);
    return 0;
}

// "--adc-bitz" → "cimsim: unknown option '--adc-bitz' (did you mean '--adc-bits'?)"
std::string explain_extra(const std::string &arg) {
    if (arg.rfind("--", 0) != 0) return "cimsim: unexpected argument '" + arg + "'";
    std::string key = arg.substr(2);
    if (auto eq = key.find('='); eq != std::string::npos) key.resize(eq);
    for (char &ch : key)
        if (ch == '-') ch = '_';
    try {
        Config scratch;
        set_key(scratch, key, "x");
    } catch (const Error &e) {
        std::string msg = e.what();
        auto p = msg.find("(did you mean '");
        if (p != std::string::npos) {
            std::string s = msg.substr(p + 15);
            s.resize(s.find('\''));
            for (char &ch : s)
                if (ch == '_') ch = '-';
            return "cimsim: unknown option '" + arg + "' (did you mean '--" + s + "'?)";
        }
    }
    return "cimsim: unknown option '" + arg + "'";
}

}  // namespace

namespace cimsim {
int exec_sweep(int argc, char **argv);
}

int main(int argc, char **argv) {
    if (argc > 1 && std::string(argv[1]) == "sweep") return exec_sweep(argc, argv);
    CLI::App app{"cimsim: compute-in-memory accelerator simulator (functional MVM + area/latency/energy/leakage)"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "cimsim 0.1");

    auto *mvm = app.add_subcommand("mvm", "one matrix-vector multiplication from integer/float CSV files");
    ConfigArgs mvm_cfg;
    std::string wpath, xpath, out_path, dtype = "auto", json_file;
    bool mvm_json_flag = false;
    std::int64_t want_rows = -1, want_cols = -1;
    mvm->add_option("--weights,-w", wpath, "weights CSV: rows × cols (rows = inputs, cols = outputs)")->required()->check(CLI::ExistingFile);
    mvm->add_option("--inputs,-x", xpath, "inputs CSV: one vector of `rows` values per line (omit for PPA only)")->check(CLI::ExistingFile);
    mvm->add_option("--dtype", dtype, "auto | int8 | int16 | int32 | float32 (auto: float32 if any value is not an integer)");
    mvm->add_option("--out,-o", out_path, "write the outputs as CSV (one vector per line)");
    mvm->add_flag("--json", mvm_json_flag, "print JSON {outputs, metrics, details} instead of the report");
    mvm->add_option("--json-file", json_file, "also write the JSON result to this file");
    mvm->add_option("--rows", want_rows, "expected weight rows (checked against the CSV)");
    mvm->add_option("--cols", want_cols, "expected weight columns (checked against the CSV)");
    add_config_options(mvm, mvm_cfg);

    auto *net = app.add_subcommand("network", "PPA (and functional run) of a NeuroSim-format network");
    ConfigArgs net_cfg;
    std::string net_csv;
    std::vector<std::string> net_files;
    bool net_json = false, net_progress = false;
    std::string outputs_dir;
    net->add_option("network", net_csv, "NetWork.csv (IFM_H,IFM_W,IFM_C,K_H,K_W,OFM_C,pool,stride per layer)")->required()->check(CLI::ExistingFile);
    net->add_option("files", net_files, "weight/input CSV pairs, one per layer (optional)")->check(CLI::ExistingFile);
    net->add_flag("--json", net_json, "print JSON");
    net->add_flag("--progress", net_progress, "print progress on stderr even when it is not a terminal");
    net->add_option("--outputs-dir", outputs_dir, "write each layer's integer outputs to DIR/output<L>.csv")->check(CLI::ExistingDirectory);
    add_config_options(net, net_cfg);

    auto *ns = app.add_subcommand("neurosim", "NeuroSim's argument order: NetWork.csv wbits ibits subArrayRows parallelRows w1 in1 ...");
    ConfigArgs ns_cfg;
    std::vector<std::string> ns_args;
    bool ns_json = false, ns_progress = false, ns_features = false;
    ns->add_option("args", ns_args, "NetWork.csv <wbits> <ibits> <subArrayRows> <parallelRows> [w1.csv in1.csv ...]")->required();
    ns->add_flag("--json", ns_json, "print JSON");
    ns->add_flag("--features", ns_features, "print the chip model's structural counts as JSON (for validation/fit_neurosim.py)");
    ns->add_flag("--progress", ns_progress, "print progress on stderr even when it is not a terminal");
    ns->add_option("--outputs-dir", outputs_dir, "write each layer's integer outputs to DIR/output<L>.csv")->check(CLI::ExistingDirectory);
    add_config_options(ns, ns_cfg);

    app.add_subcommand("keys", "print the config key table (Markdown)");
    app.add_subcommand("sweep", "design-space sweep on Dask (Python; `cimsim sweep --help`)");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ExtrasError &e) {
        // Report the first unexpected option (or argument) with a suggestion.
        std::vector<std::string> extras;
        for (auto *sub : {&app, mvm, net, ns})
            for (const auto &a : sub->remaining()) extras.push_back(a);
        std::string first = extras.empty() ? std::string() : extras.front();
        for (const auto &a : extras)
            if (a.rfind("--", 0) == 0) {
                first = a;
                break;
            }
        std::fprintf(stderr, "%s\n", first.empty() ? ("cimsim: " + std::string(e.what())).c_str() : explain_extra(first).c_str());
        return 2;
    } catch (const CLI::CallForHelp &e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp &e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion &e) {
        return app.exit(e);
    } catch (const CLI::ParseError &e) {
        std::fprintf(stderr, "cimsim: %s (see cimsim --help)\n", e.what());
        return 2;
    }

    try {
        if (mvm->parsed()) return run_mvm(mvm_cfg, wpath, xpath, dtype, out_path, mvm_json_flag, json_file, want_rows, want_cols);
        if (net->parsed()) return run_net(resolve(build_config(net_cfg)), net_csv, net_files, net_json, net_progress, outputs_dir);
        if (ns->parsed()) {
            if (ns_args.size() < 5)
                throw Error("cimsim: neurosim needs NetWork.csv <wbits> <ibits> <subArrayRows> <parallelRows> [w1.csv in1.csv ...]");
            // NeuroSim V1.4's compiled-in settings (Param.cpp as shipped): SRAM, 22 nm, a 32-level (5-bit) sense-amp
            // ADC, 8 columns per ADC, 128-column sub-arrays, pipelined, novel mapping. The argv sets precision and
            // the sub-array rows; flags and --config override the rest.
            Config base;
            base.cell = CellType::Sram, base.tech_node_nm = 22, base.adc_bits = 5, base.cols_per_adc = 8;
            base.subarray_cols = 128, base.novel_mapping = true;
            const char *what[] = {"", "<wbits>", "<ibits>", "<subArrayRows>", "<parallelRows>"};
            const char *key[] = {"", "weight_bits", "input_bits", "subarray_rows", "parallel_rows"};
            for (int i = 1; i <= 4; ++i) {
                try {
                    set_key(base, key[i], ns_args[std::size_t(i)]);
                } catch (const Error &) {
                    throw Error(std::string("cimsim: neurosim: ") + what[i] + " must be an integer, got '" + ns_args[std::size_t(i)] + "'");
                }
            }
            Config cfg = build_config(ns_cfg, base);
            return run_net(resolve(cfg), ns_args[0], {ns_args.begin() + 5, ns_args.end()}, ns_json, ns_progress, outputs_dir, true, ns_features);
        }
        std::fputs(keys_markdown().c_str(), stdout);
        return 0;
    } catch (const Error &e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "cimsim: internal error: %s\n", e.what());
        return 1;
    }
}
