// A stand-in simulator for the exec backend's tests (never installed): reads the weights/inputs CSV
// files the cim composition writes, computes the MVM and prints it in the exec backend's formats.
//   stand-in-sim mvm <weights.csv> <inputs.csv> <rows> <cols> <n_vectors> <json|csv> [--dtype=T] [out-file]
//     without --dtype: sums in double; with an integer T: wrapping int32 sums (the backend ABI's
//     convention); with float32: float sums in row order (bit-exact with the ABI's reference)
//   stand-in-sim args <file>        writes its argv (after "args <file>") as a JSON array to <file>
//                                   and prints an empty JSON result
// Latency reported: 10 ns + 1 ns per MAC; energy 0.5 pJ per MAC; area 1234.5 um^2; leakage 6.25 uW.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

[[noreturn]] void die(const std::string &msg) {
    std::cerr << "stand-in-sim: " << msg << "\n";
    std::exit(2);
}

std::vector<std::vector<double>> read_csv(const std::string &path) {
    std::ifstream f(path);
    if (!f)
        die("cannot open " + path);
    std::vector<std::vector<double>> rows;
    std::string line;
    while (std::getline(f, line)) {
        std::vector<double> r;
        std::stringstream ss(line);
        std::string cell;
        while (std::getline(ss, cell, ','))
            r.push_back(std::strtod(cell.c_str(), nullptr));
        rows.push_back(r);
    }
    return rows;
}

std::string json_string(const std::string &s) {
    std::string o = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\')
            o += '\\';
        o += c;
    }
    return o + "\"";
}

} // namespace

int main(int argc, char **argv) {
    if (argc >= 3 && std::string(argv[1]) == "args") {
        std::ofstream f(argv[2]);
        f << "[";
        for (int i = 3; i < argc; ++i)
            f << (i > 3 ? "," : "") << json_string(argv[i]);
        f << "]\n";
        std::cout << "{\"outputs\": []}\n";
        return 0;
    }
    if (argc < 8 || std::string(argv[1]) != "mvm")
        die("usage: stand-in-sim mvm <weights.csv> <inputs.csv> <rows> <cols> <n_vectors> <json|csv> [out]");
    std::string dtype, out_file;
    for (int i = 8; i < argc; ++i) {
        const std::string a = argv[i];
        if (a.rfind("--dtype=", 0) == 0)
            dtype = a.substr(8);
        else
            out_file = a;
    }
    const auto w = read_csv(argv[2]);
    const unsigned rows = std::atoi(argv[4]), cols = std::atoi(argv[5]), nvec = std::atoi(argv[6]);
    const std::vector<std::vector<double>> x = nvec ? read_csv(argv[3]) : std::vector<std::vector<double>>{};
    if (w.size() != rows)
        die("weights.csv has " + std::to_string(w.size()) + " rows, expected " + std::to_string(rows));
    for (const auto &r : w)
        if (r.size() != cols)
            die("a weights.csv row has " + std::to_string(r.size()) + " values, expected " + std::to_string(cols));
    if (x.size() != nvec)
        die("inputs.csv has " + std::to_string(x.size()) + " lines, expected " + std::to_string(nvec));
    std::ostringstream out;
    const bool json = std::string(argv[7]) == "json";
    const double macs = double(rows) * cols * (nvec ? nvec : 1);
    char num[64];
    if (json)
        out << "{\"outputs\": [";
    for (unsigned v = 0; v < nvec; ++v) {
        if (x[v].size() != rows)
            die("an inputs.csv line has the wrong length");
        for (unsigned j = 0; j < cols; ++j) {
            if (dtype == "float32") {
                float acc = 0;
                for (unsigned i = 0; i < rows; ++i)
                    acc += float(x[v][i]) * float(w[i][j]);
                std::snprintf(num, sizeof num, "%.9g", double(acc));
            } else if (!dtype.empty()) {
                uint64_t acc = 0; // wraps like a 32-bit accumulator (low 32 bits)
                for (unsigned i = 0; i < rows; ++i)
                    acc += uint64_t(int64_t(x[v][i]) * int64_t(w[i][j]));
                std::snprintf(num, sizeof num, "%d", int32_t(uint32_t(acc)));
            } else {
                double acc = 0;
                for (unsigned i = 0; i < rows; ++i)
                    acc += x[v][i] * w[i][j];
                std::snprintf(num, sizeof num, "%.17g", acc);
            }
            out << ((v || j) ? "," : "") << num;
        }
        if (!json)
            out << "\n";
    }
    if (json)
        out << "], \"metrics\": {\"latency_ns\": " << 10 + macs << ", \"energy_pj\": " << 0.5 * macs
            << ", \"area_um2\": 1234.5, \"leakage_uw\": 6.25, \"extra_metric\": 1}}\n";
    else
        out << "latency_ns," << 10 + macs << "\nenergy_pj," << 0.5 * macs << "\narea_um2,1234.5\nleakage_uw,6.25\n";
    if (!out_file.empty()) {
        std::ofstream f(out_file);
        f << out.str();
        std::cout << "wrote " << out_file << "\n";
    } else {
        std::cout << out.str();
    }
    return 0;
}
