// Request-level MVM: dtype handling, float quantization, ABI output words.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "cimsim/mvm.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <string>

#include "cimsim/crossbar.hpp"

namespace cimsim {

std::string_view to_string(Dtype d) {
    switch (d) {
    case Dtype::Int8: return "int8";
    case Dtype::Int16: return "int16";
    case Dtype::Int32: return "int32";
    case Dtype::Float32: return "float32";
    }
    return "?";
}

std::optional<Dtype> parse_dtype(std::string_view s) {
    if (s == "int8") return Dtype::Int8;
    if (s == "int16") return Dtype::Int16;
    if (s == "int32") return Dtype::Int32;
    if (s == "float32") return Dtype::Float32;
    return std::nullopt;
}

std::vector<std::int32_t> quantize(const std::vector<double> &v, int bits, double &scale, std::string_view what) {
    if (bits < 2) throw Error("cimsim: float32 data needs at least 2 bits for " + std::string(what) + "s");
    double mx = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (!std::isfinite(v[i])) throw Error("cimsim: " + std::string(what) + " value " + std::to_string(i) + " is not finite");
        mx = std::max(mx, std::fabs(v[i]));
    }
    const double qmax = double((std::int64_t(1) << (bits - 1)) - 1);
    scale = mx > 0 ? mx / qmax : 1.0;
    std::vector<std::int32_t> q(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) q[i] = std::int32_t(std::clamp(std::round(v[i] / scale), -qmax, qmax));
    return q;
}

namespace {
std::vector<std::int32_t> to_ints(const std::vector<double> &v, Dtype d, std::string_view what, std::uint32_t row_len) {
    double lo = -2147483648.0, hi = 2147483647.0;
    if (d == Dtype::Int8) lo = -128, hi = 127;
    if (d == Dtype::Int16) lo = -32768, hi = 32767;
    std::vector<std::int32_t> out(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (!(v[i] >= lo && v[i] <= hi) || v[i] != std::floor(v[i]))
            throw Error("cimsim: " + std::string(what) + " [" + std::to_string(i / row_len) + "][" +
                        std::to_string(i % row_len) + "] is not an " + std::string(to_string(d)) + " value");
        out[i] = std::int32_t(v[i]);
    }
    return out;
}
}  // namespace

MvmOutput run_functional(const Resolved &r, const MvmProblem &p) {
    if (p.weights.size() != std::size_t(p.rows) * p.cols)
        throw Error("cimsim: weights have " + std::to_string(p.weights.size()) + " values, expected " +
                    std::to_string(p.rows) + "×" + std::to_string(p.cols));
    if (p.inputs.size() != std::size_t(p.n_vectors) * p.rows)
        throw Error("cimsim: inputs have " + std::to_string(p.inputs.size()) + " values, expected " +
                    std::to_string(p.n_vectors) + " vectors × " + std::to_string(p.rows));
    if (p.dtype != Dtype::Float32)
        return run_functional_ints(r, p.dtype, p.rows, p.cols, p.n_vectors, to_ints(p.weights, p.dtype, "weight", p.cols),
                                   to_ints(p.inputs, p.dtype, "input", p.rows));
    MvmOutput out;
    const std::vector<std::int32_t> w = quantize(p.weights, r.cfg.weight_bits, out.w_scale, "weight");
    const std::vector<std::int32_t> x = quantize(p.inputs, r.cfg.input_bits, out.x_scale, "input");
    Crossbar xb(r, p.rows, p.cols, w);
    out.engine = xb.engine();
    out.ints.assign(std::size_t(p.n_vectors) * p.cols, 0);
    xb.mvm(x, p.n_vectors, out.ints);
    out.words.resize(out.ints.size());
    out.floats.resize(out.ints.size());
    for (std::size_t i = 0; i < out.ints.size(); ++i) {
        out.floats[i] = float(double(out.ints[i]) * out.w_scale * out.x_scale);
        out.words[i] = std::bit_cast<std::uint32_t>(out.floats[i]);
    }
    return out;
}

MvmOutput run_functional_ints(const Resolved &r, Dtype dtype, std::uint32_t rows, std::uint32_t cols,
                              std::uint32_t n_vectors, std::span<const std::int32_t> w, std::span<const std::int32_t> x) {
    if (dtype == Dtype::Float32) throw Error("cimsim: run_functional_ints takes integer data, not float32");
    if (w.size() != std::size_t(rows) * cols)
        throw Error("cimsim: weights have " + std::to_string(w.size()) + " values, expected " + std::to_string(rows) +
                    "×" + std::to_string(cols));
    if (x.size() != std::size_t(n_vectors) * rows)
        throw Error("cimsim: inputs have " + std::to_string(x.size()) + " values, expected " +
                    std::to_string(n_vectors) + " vectors × " + std::to_string(rows));
    MvmOutput out;
    Crossbar xb(r, rows, cols, w);
    out.engine = xb.engine();
    out.ints.assign(std::size_t(n_vectors) * cols, 0);
    xb.mvm(x, n_vectors, out.ints);
    out.words.resize(out.ints.size());
    for (std::size_t i = 0; i < out.ints.size(); ++i) out.words[i] = std::uint32_t(std::uint64_t(out.ints[i]));
    return out;
}

}  // namespace cimsim
