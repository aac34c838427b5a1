// Network mode. SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "cimsim/network.hpp"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

#include "cimsim/crossbar.hpp"
#include "cimsim/csv.hpp"

namespace cimsim {

std::vector<LayerSpec> vgg8_layers() {
    return {{32, 32, 3, 3, 3, 128, 0, 1},   {32, 32, 128, 3, 3, 128, 1, 1}, {16, 16, 128, 3, 3, 256, 0, 1},
            {16, 16, 256, 3, 3, 256, 1, 1}, {8, 8, 256, 3, 3, 512, 0, 1},   {8, 8, 512, 3, 3, 512, 1, 1},
            {1, 1, 8192, 1, 1, 1024, 0, 1}, {1, 1, 1024, 1, 1, 10, 0, 1}};
}

std::vector<LayerSpec> read_network_csv(const std::string &path) {
    const CsvMatrix m = read_csv(path);
    if (m.cols != 8)
        throw Error("cimsim: " + path + ":1: has " + std::to_string(m.cols) +
                    " columns, expected 8 (IFM_H,IFM_W,IFM_C,K_H,K_W,OFM_C,pool,stride)");
    static const char *names[8] = {"IFM_H", "IFM_W", "IFM_C", "K_H", "K_W", "OFM_C", "pool", "stride"};
    std::vector<LayerSpec> layers;
    for (std::uint32_t i = 0; i < m.rows; ++i) {
        std::uint32_t f[8];
        for (int j = 0; j < 8; ++j) {
            const double v = m.values[i * 8 + j];
            const double lo = (j == 6) ? 0 : 1, hi = (j == 6) ? 1 : 1 << 20;
            if (v != std::floor(v) || v < lo || v > hi)
                throw Error("cimsim: " + path + ":" + std::to_string(i + 1) + ":" + std::to_string(j + 1) + ": " + names[j] +
                            " must be an integer in [" + std::to_string(int(lo)) + ", " + std::to_string(int(hi)) + "]");
            f[j] = std::uint32_t(v);
        }
        LayerSpec s{f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]};
        if (std::uint64_t(s.k_h) * s.k_w * s.ifm_c > (1u << 24))
            throw Error("cimsim: " + path + ":" + std::to_string(i + 1) + ": K_H·K_W·IFM_C is too large");
        layers.push_back(s);
    }
    return layers;
}

namespace {

std::vector<std::int32_t> load_weights(const std::string &path, const LayerSpec &s, int wb) {
    const CsvMatrix m = read_csv(path);
    if (m.rows != s.rows() || m.cols != s.cols())
        throw Error("cimsim: " + path + ": is " + std::to_string(m.rows) + "×" + std::to_string(m.cols) +
                    ", expected K_H·K_W·IFM_C × OFM_C = " + std::to_string(s.rows()) + "×" + std::to_string(s.cols()));
    const double scale = std::ldexp(1.0, wb - 1), hi = scale - 1, lo = -scale;
    std::vector<std::int32_t> w(m.values.size());
    for (std::size_t i = 0; i < w.size(); ++i) {
        const double v = m.values[i];
        if (std::fabs(v) > 1.0)
            throw Error("cimsim: " + path + ":" + std::to_string(i / m.cols + 1) + ":" + std::to_string(i % m.cols + 1) +
                        ": weight " + std::to_string(v) + " is outside [-1, 1]");
        w[i] = std::int32_t(std::clamp(std::round(v * scale), lo, hi));
    }
    return w;
}

std::vector<std::int32_t> load_inputs(const std::string &path, const LayerSpec &s, int ib, std::uint32_t &n) {
    const CsvMatrix m = read_csv(path);
    if (m.rows != s.rows())
        throw Error("cimsim: " + path + ": has " + std::to_string(m.rows) + " rows, expected K_H·K_W·IFM_C = " +
                    std::to_string(s.rows()));
    if (m.cols % std::uint32_t(ib) != 0)
        throw Error("cimsim: " + path + ": has " + std::to_string(m.cols) + " columns, not a multiple of input bits " +
                    std::to_string(ib));
    n = m.cols / std::uint32_t(ib);
    std::vector<std::int32_t> x(std::size_t(n) * m.rows);
    for (std::uint32_t r = 0; r < m.rows; ++r)
        for (std::uint32_t v = 0; v < n; ++v) {
            std::uint64_t bits = 0;
            for (int k = 0; k < ib; ++k) {
                const std::uint32_t col = v * std::uint32_t(ib) + std::uint32_t(k);
                const double b = m.values[std::size_t(r) * m.cols + col];
                if (b != 0 && b != 1)
                    throw Error("cimsim: " + path + ":" + std::to_string(r + 1) + ":" + std::to_string(col + 1) +
                                ": input bit must be 0 or 1");
                bits = (bits << 1) | std::uint64_t(b);
            }
            // two's complement: MSB (first column) is the sign
            std::int64_t val = std::int64_t(bits);
            if (ib < 64 && (bits >> (ib - 1)) & 1) val -= std::int64_t(1) << ib;
            x[std::size_t(v) * m.rows + r] = std::int32_t(val);
        }
    return x;
}

}  // namespace

NetworkResult run_network(const Resolved &r, const std::vector<LayerSpec> &layers, const std::vector<LayerFiles> &files,
                          const Progress &progress, const std::string &outputs_dir, bool neurosim_floorplan) {
    if (!outputs_dir.empty() && files.empty())
        throw Error("cimsim: --outputs-dir needs the weight/input files of every layer");
    if (!files.empty() && files.size() != layers.size())
        throw Error("cimsim: the network has " + std::to_string(layers.size()) + " layers but " +
                    std::to_string(files.size()) + " weight/input file pairs were given");
    const auto t0 = std::chrono::steady_clock::now();
    NetworkResult out;
    Resolved ideal = r;
    ideal.cfg.adc_bits = 0, ideal.cfg.adc_range = 1, ideal.cfg.program_sigma = 0, ideal.cfg.read_noise_sigma = 0;
    ideal.cfg.stuck_at_0_rate = ideal.cfg.stuck_at_1_rate = 0, ideal.cfg.engine = EngineKind::Exact;
    ideal = resolve(ideal.cfg);
    const bool is_ideal = r.adc_lossless && r.analog_ideal;
    map_chip(r, layers, neurosim_floorplan);  // a refused floorplan is refused before any file is read
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const LayerSpec &s = layers[i];
        if (progress) progress(i, layers.size(), "layer " + std::to_string(i + 1));
        LayerResult lr;
        lr.spec = s;
        if (!files.empty()) {
            const auto w = load_weights(files[i].weights, s, r.cfg.weight_bits);
            std::uint32_t n = 0;
            const auto x = load_inputs(files[i].inputs, s, r.cfg.input_bits, n);
            lr.activity = measure_activity(r, s.rows(), s.cols(), w, x, s.vectors());
            Crossbar xb(r, s.rows(), s.cols(), w);
            std::vector<std::int64_t> y(std::size_t(n) * s.cols());
            xb.mvm(x, n, y);
            if (!outputs_dir.empty()) write_csv_ints(outputs_dir + "/output" + std::to_string(i + 1) + ".csv", y, s.cols());
            std::uint64_t sum = 0;
            for (auto v : y) sum += std::uint64_t(v);
            lr.checksum = std::int64_t(sum);
            if (!is_ideal) {
                Crossbar ex(ideal, s.rows(), s.cols(), w);
                std::vector<std::int64_t> ye(y.size());
                ex.mvm(x, n, ye);
                double se = 0;
                for (std::size_t k = 0; k < y.size(); ++k) {
                    const double d = double(y[k] - ye[k]);
                    se += d * d;
                    lr.max_abs_error = std::max(lr.max_abs_error, std::fabs(d));
                }
                lr.rms_error = y.empty() ? 0 : std::sqrt(se / double(y.size()));
            }
            lr.functional = true;
            lr.vectors_run = n;
        }
        out.layers.push_back(std::move(lr));
    }
    std::vector<Activity> act;
    for (const auto &l : out.layers) act.push_back(l.activity);
    out.chip = estimate_chip(r, layers, act, neurosim_floorplan);
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (progress) progress(layers.size(), layers.size(), "done");
    return out;
}

std::vector<Activity> measure_network_activity(const Resolved &r, const std::vector<LayerSpec> &layers,
                                               const std::vector<LayerFiles> &files) {
    if (files.empty()) return {};
    if (files.size() != layers.size())
        throw Error("cimsim: the network has " + std::to_string(layers.size()) + " layers but " +
                    std::to_string(files.size()) + " weight/input file pairs were given");
    std::vector<Activity> out;
    for (std::size_t i = 0; i < layers.size(); ++i) {
        std::uint32_t n = 0;
        const auto w = load_weights(files[i].weights, layers[i], r.cfg.weight_bits);
        const auto x = load_inputs(files[i].inputs, layers[i], r.cfg.input_bits, n);
        out.push_back(measure_activity(r, layers[i].rows(), layers[i].cols(), w, x, layers[i].vectors()));
    }
    return out;
}

std::vector<LayerFiles> write_random_network_files(const std::string &dir, const std::vector<LayerSpec> &layers,
                                                   int weight_bits, int input_bits, std::uint64_t seed,
                                                   std::uint32_t max_vectors) {
    std::mt19937_64 g(seed);
    std::vector<LayerFiles> files;
    std::string buf;
    auto flush = [&](const std::string &path) {
        FILE *f = std::fopen(path.c_str(), "w");
        if (!f || std::fwrite(buf.data(), 1, buf.size(), f) != buf.size() || std::fclose(f) != 0)
            throw Error("cimsim: cannot write '" + path + "'");
        buf.clear();
    };
    const std::int64_t half = std::int64_t(1) << (weight_bits - 1);
    std::uniform_int_distribution<std::int64_t> wd(-half, half - 1);
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const LayerSpec &s = layers[i];
        LayerFiles lf{dir + "/weight" + std::to_string(i + 1) + ".csv", dir + "/input" + std::to_string(i + 1) + ".csv"};
        char tmp[32];
        for (std::uint32_t r = 0; r < s.rows(); ++r)
            for (std::uint32_t c = 0; c < s.cols(); ++c) {
                std::snprintf(tmp, sizeof tmp, "%.9g", double(wd(g)) / double(half));
                buf += tmp;
                buf += c + 1 == s.cols() ? '\n' : ',';
            }
        flush(lf.weights);
        std::uint64_t nv = s.vectors();
        if (max_vectors && nv > max_vectors) nv = max_vectors;
        const std::uint64_t ncols = nv * std::uint64_t(input_bits);
        for (std::uint32_t r = 0; r < s.rows(); ++r) {
            std::uint64_t bits = 0;
            int left = 0;
            for (std::uint64_t c = 0; c < ncols; ++c) {
                if (left == 0) bits = g(), left = 64;
                buf += char('0' + (bits & 1));
                bits >>= 1, --left;
                buf += c + 1 == ncols ? '\n' : ',';
            }
        }
        flush(lf.inputs);
        files.push_back(lf);
    }
    return files;
}

}  // namespace cimsim
