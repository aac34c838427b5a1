// Python bindings of cimsim (module cimsim._cimsim; the public API is cimsim/__init__.py).
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
//
// Contract: configs arrive as the JSON text of a dict of config keys and go through the same key table as the
// CLI's --config (cimsim::apply_json), so keys, defaults and one-line errors are the CLI's. Reports are the
// CLI's own JSON (mvm_json, network_json) handed back as text, so every field the report has reaches Python
// unchanged. Arrays are copied in and out with the GIL held; the simulation itself runs with the GIL released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "cimsim/config.hpp"
#include "cimsim/cost.hpp"
#include "cimsim/mvm.hpp"
#include "cimsim/network.hpp"
#include "cimsim/report.hpp"

namespace py = pybind11;
using namespace cimsim;

namespace {

Resolved resolve_json(const std::string &config_json) { return resolve(config_from_json(config_json, "config")); }

// A 1-D (one vector) or 2-D numpy array as doubles or int32s with its shape; integer data must fit int32.
struct Matrix {
    std::uint32_t rows = 0, cols = 0;
    bool one_d = false, is_float = false;
    Dtype dtype = Dtype::Int32;
    std::vector<double> f;
    std::vector<std::int32_t> i;
};

Matrix to_matrix(const py::array &a, const char *what, bool allow_1d) {
    Matrix m;
    if (a.ndim() == 1 && allow_1d) m.one_d = true, m.rows = 1, m.cols = std::uint32_t(a.shape(0));
    else if (a.ndim() == 2) m.rows = std::uint32_t(a.shape(0)), m.cols = std::uint32_t(a.shape(1));
    else
        throw Error(std::string("cimsim: ") + what + " must be a " + (allow_1d ? "1-D or " : "") + "2-D array, got " +
                    std::to_string(a.ndim()) + " dimensions");
    if (a.ndim() >= 1 && (a.shape(0) > 0xffffffffll || (a.ndim() == 2 && a.shape(1) > 0xffffffffll)))
        throw Error(std::string("cimsim: ") + what + " is too large");
    const char kind = a.dtype().kind();
    if (kind == 'f') {
        m.is_float = true, m.dtype = Dtype::Float32;
        auto d = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(a);
        // float32 semantics, as the CLI: every value is taken as the float it rounds to
        m.f.resize(std::size_t(d.size()));
        for (std::size_t k = 0; k < m.f.size(); ++k) m.f[k] = double(float(d.data()[k]));
    } else if (kind == 'i' || kind == 'u' || kind == 'b') {
        m.dtype = a.itemsize() == 1 && kind == 'i' ? Dtype::Int8 : a.itemsize() <= 2 && kind == 'i' ? Dtype::Int16 : Dtype::Int32;
        auto d = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(a);
        if (!d) throw Error(std::string("cimsim: ") + what + ": cannot read as integers");
        m.i.resize(std::size_t(d.size()));
        for (std::size_t k = 0; k < m.i.size(); ++k) {
            const std::int64_t v = d.data()[k];
            if (v < std::numeric_limits<std::int32_t>::min() || v > std::numeric_limits<std::int32_t>::max())
                throw Error(std::string("cimsim: ") + what + " [" + std::to_string(k / std::max(1u, m.cols)) + "][" +
                            std::to_string(k % std::max(1u, m.cols)) + "] = " + std::to_string(v) + " does not fit int32");
            m.i[k] = std::int32_t(v);
        }
    } else {
        throw Error(std::string("cimsim: ") + what + " must hold integers or floats, got numpy dtype '" +
                    std::string(py::str(a.dtype())) + "'");
    }
    return m;
}

// mvm(W, X, config_json) -> (outputs array, report JSON text without the outputs)
py::tuple mvm(const py::array &w_in, const py::object &x_in, const std::string &config_json) {
    const Resolved r = resolve_json(config_json);
    Matrix w = to_matrix(w_in, "W", false);
    Matrix x;
    const bool has_x = !x_in.is_none();
    if (has_x) x = to_matrix(py::array::ensure(x_in), "X", true);
    if (has_x && x.cols != w.rows)
        throw Error("cimsim: X has " + std::to_string(x.cols) + " values per vector but W has " + std::to_string(w.rows) +
                    " rows (one input per weight row)");
    if (has_x && x.is_float != w.is_float)
        throw Error("cimsim: W and X must both be integer or both be float arrays");
    MvmProblem p;
    p.dtype = w.is_float ? Dtype::Float32 : (has_x && int(x.dtype) > int(w.dtype) ? x.dtype : w.dtype);
    p.rows = w.rows, p.cols = w.cols, p.n_vectors = has_x ? x.rows : 0;
    MvmOutput out;
    Ppa ppa;
    {
        py::gil_scoped_release nogil;
        if (w.is_float) {
            p.weights = std::move(w.f);
            p.inputs = std::move(x.f);
            out = run_functional(r, p);
        } else {
            out = run_functional_ints(r, p.dtype, p.rows, p.cols, p.n_vectors, w.i, x.i);
        }
        ppa = estimate_mvm(r, p.rows, p.cols, p.n_vectors);
    }
    py::array result;
    std::vector<py::ssize_t> shape = {py::ssize_t(p.n_vectors), py::ssize_t(p.cols)};
    if (x.one_d) shape = {py::ssize_t(p.cols)};
    if (w.is_float) {
        py::array_t<float> a(shape);
        std::copy(out.floats.begin(), out.floats.end(), a.mutable_data());
        result = a;
    } else {
        py::array_t<std::int64_t> a(shape);
        std::copy(out.ints.begin(), out.ints.end(), a.mutable_data());
        result = a;
    }
    out.floats.clear(), out.words.clear();  // the report without its outputs (they are in `result`)
    std::string report = mvm_json(MvmReport{p, out, ppa, r});
    return py::make_tuple(result, report);
}

std::vector<LayerSpec> to_layers(const py::object &layers) {
    if (py::isinstance<py::str>(layers)) return read_network_csv(layers.cast<std::string>());
    std::vector<LayerSpec> out;
    std::size_t i = 0;
    for (const auto &row : layers) {
        ++i;
        std::vector<std::int64_t> v;
        try {
            v = row.cast<std::vector<std::int64_t>>();
        } catch (const py::cast_error &) {
            throw Error("cimsim: layer " + std::to_string(i) + ": expected 8 integers (IFM_H,IFM_W,IFM_C,K_H,K_W,OFM_C,pool,stride)");
        }
        if (v.size() != 8)
            throw Error("cimsim: layer " + std::to_string(i) + ": has " + std::to_string(v.size()) +
                        " values, expected 8 (IFM_H,IFM_W,IFM_C,K_H,K_W,OFM_C,pool,stride)");
        for (int j = 0; j < 8; ++j) {
            const std::int64_t lo = j == 6 ? 0 : 1, hi = j == 6 ? 1 : 1 << 20;
            if (v[j] < lo || v[j] > hi)
                throw Error("cimsim: layer " + std::to_string(i) + ": value " + std::to_string(j + 1) + " = " +
                            std::to_string(v[j]) + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
        }
        LayerSpec s{std::uint32_t(v[0]), std::uint32_t(v[1]), std::uint32_t(v[2]), std::uint32_t(v[3]),
                    std::uint32_t(v[4]), std::uint32_t(v[5]), std::uint32_t(v[6]), std::uint32_t(v[7])};
        if (std::uint64_t(s.k_h) * s.k_w * s.ifm_c > (1u << 24))
            throw Error("cimsim: layer " + std::to_string(i) + ": K_H·K_W·IFM_C is too large");
        out.push_back(s);
    }
    if (out.empty()) throw Error("cimsim: the network has no layers");
    return out;
}

// network(layers, files, config_json, outputs_dir) -> report JSON text (network_json) and host seconds
py::tuple network(const py::object &layers_in, const std::vector<std::pair<std::string, std::string>> &pairs,
                  const std::string &config_json, const std::string &outputs_dir) {
    const Resolved r = resolve_json(config_json);
    const std::vector<LayerSpec> layers = to_layers(layers_in);
    std::vector<LayerFiles> files;
    for (const auto &[wf, xf] : pairs) files.push_back({wf, xf});
    std::string report;
    double seconds = 0;
    {
        py::gil_scoped_release nogil;
        const NetworkResult res = run_network(r, layers, files, {}, outputs_dir);
        report = network_json(res, r);
        seconds = res.seconds;
    }
    return py::make_tuple(report, seconds);
}

}  // namespace

PYBIND11_MODULE(_cimsim, m) {
    m.doc() = "cimsim: compute-in-memory accelerator simulator (functional MVM + area/latency/energy/leakage)";
    py::register_exception<Error>(m, "Error", PyExc_ValueError);
    m.def("resolve", [](const std::string &config_json) { return config_to_json(config_from_json(config_json, "config")); },
          py::arg("config_json"), "resolved config (every key, defaults filled) as JSON text; raises cimsim.Error");
    m.def("keys", [] {
        py::list out;
        static const char *types[] = {"int", "uint", "real", "string"};
        for (const auto &k : config_keys()) {
            py::dict d;
            d["name"] = std::string(k.name), d["type"] = types[int(k.type)];
            d["default"] = std::string(k.default_text), d["doc"] = std::string(k.doc);
            out.append(d);
        }
        return out;
    });
    m.def("mvm", &mvm, py::arg("W"), py::arg("X"), py::arg("config_json"));
    m.def("network", &network, py::arg("layers"), py::arg("files"), py::arg("config_json"), py::arg("outputs_dir"));
}
