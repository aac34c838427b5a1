// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "neurosim_files.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "../../src/data.hpp"

namespace dynperiph::cim::exec {

namespace {

std::string write_file(const std::string &path, const std::string &text) {
    FILE *f = std::fopen(path.c_str(), "wx");
    if (!f)
        return "cannot create " + path + ": " + std::strerror(errno);
    const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    if (std::fclose(f) != 0 || !ok)
        return "cannot write " + path + ": " + std::strerror(errno);
    return {};
}

} // namespace

std::string write_neurosim_files(const cim_request &req, int weight_bits, int input_bits, const std::string &dir,
                                 NeuroSimFiles &out) {
    out.network = dir + "/NetWork.csv";
    out.weights = dir + "/weight1.csv";
    out.inputs = dir + "/input1.csv";

    std::string net = "1,1," + std::to_string(req.rows) + ",1,1," + std::to_string(req.cols) + ",0,1\n";
    if (auto e = write_file(out.network, net); !e.empty())
        return e;

    const size_t nw = size_t(req.rows) * req.cols;
    double wmax = 0;
    for (size_t i = 0; i < nw; ++i)
        wmax = std::max(wmax, std::fabs(element(req.weights, req.dtype, i)));
    const double wscale = wmax > 0 ? (1.0 - std::ldexp(1.0, -(weight_bits - 1))) / wmax : 0.0;
    std::string text;
    char num[40];
    for (uint32_t r = 0; r < req.rows; ++r) {
        for (uint32_t c = 0; c < req.cols; ++c) {
            std::snprintf(num, sizeof num, "%s%.9g", c ? "," : "",
                          element(req.weights, req.dtype, size_t(r) * req.cols + c) * wscale);
            text += num;
        }
        text += '\n';
    }
    if (auto e = write_file(out.weights, text); !e.empty())
        return e;

    const int64_t qmax = (int64_t(1) << (input_bits - 1)) - 1, qmin = -(int64_t(1) << (input_bits - 1));
    const uint32_t nvec = std::max<uint32_t>(req.n_vectors, 1);
    double xscale = 1.0;
    if (req.dtype == CIM_DTYPE_FLOAT32 && req.n_vectors) {
        double xmax = 0;
        for (size_t i = 0; i < size_t(req.n_vectors) * req.rows; ++i)
            xmax = std::max(xmax, std::fabs(element(req.inputs, req.dtype, i)));
        xscale = xmax > 0 ? double(qmax) / xmax : 0.0;
    }
    text.clear();
    for (uint32_t r = 0; r < req.rows; ++r) {
        for (uint32_t v = 0; v < nvec; ++v) {
            int64_t q = 0;
            if (req.n_vectors) {
                const double x = element(req.inputs, req.dtype, size_t(v) * req.rows + r);
                q = static_cast<int64_t>(std::llround(x * xscale));
                q = std::clamp(q, qmin, qmax);
            }
            const uint64_t bits = static_cast<uint64_t>(q);
            for (int b = input_bits - 1; b >= 0; --b) {
                if (v || b != input_bits - 1)
                    text += ',';
                text += ((bits >> b) & 1u) ? '1' : '0';
            }
        }
        text += '\n';
    }
    return write_file(out.inputs, text);
}

} // namespace dynperiph::cim::exec
