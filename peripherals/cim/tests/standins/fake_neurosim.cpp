// A stand-in for NeuroSim's inference executable (never installed), for the exec backend's tests:
//   fake-neurosim NetWork.csv <weightBits> <inputBits> <subArrayRows> <parallelRows> weight1.csv input1.csv
// It validates the files the way NeuroSim reads them (NetWork.csv: one FC layer IFM 1x1xIN, kernel 1x1,
// OFM_C = OUT; weights: IN rows x OUT floats in (-1, 1); inputs: IN rows x (k * inputBits) columns of
// 0/1) and prints NeuroSim-style summary lines with made-up but deterministic PPA:
//   latency = 3 ns * ceil(IN / subArrayRows) * inputBits; energy = 0.25 pJ * IN * OUT, per image — like NeuroSim,
//   which takes the image from NetWork.csv (an FC layer: one vector), however many vectors the input file has;
//   area = 100 um^2 * ceil(IN / subArrayRows) * ceil(OUT * weightBits / subArrayRows) + 50; leakage = 2.5 uW.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

[[noreturn]] void die(const std::string &msg) {
    std::cerr << "Error: " << msg << std::endl;
    std::exit(1);
}

std::vector<std::vector<std::string>> read_csv(const std::string &path) {
    std::ifstream f(path);
    if (!f.good())
        die("the input file cannot be opened! (" + path + ")");
    std::vector<std::vector<std::string>> rows;
    std::string line;
    while (std::getline(f, line)) {
        std::vector<std::string> r;
        std::stringstream ss(line);
        std::string cell;
        while (std::getline(ss, cell, ','))
            r.push_back(cell);
        rows.push_back(r);
    }
    return rows;
}

} // namespace

int main(int argc, char **argv) {
    if (argc != 8)
        die("usage: fake-neurosim NetWork.csv wbits ibits subArrayRows parallelRows weight.csv input.csv");
    const auto net = read_csv(argv[1]);
    const int wbits = std::atoi(argv[2]), ibits = std::atoi(argv[3]), sub = std::atoi(argv[4]);
    const int par = std::atoi(argv[5]);
    if (wbits < 1 || ibits < 1 || sub < 1 || par < 1 || par > sub)
        die("bad numeric arguments");
    if (net.size() != 1 || net[0].size() != 8)
        die("NetWork.csv must hold one layer of 8 values");
    int v[8];
    for (int i = 0; i < 8; ++i)
        v[i] = std::atoi(net[0][i].c_str());
    if (v[0] != 1 || v[1] != 1 || v[3] != 1 || v[4] != 1 || v[6] != 0 || v[7] != 1)
        die("NetWork.csv layer is not a fully-connected layer 1,1,IN,1,1,OUT,0,1");
    const int in = v[2], out = v[5];
    const auto w = read_csv(argv[6]);
    if (int(w.size()) != in)
        die("weight file has " + std::to_string(w.size()) + " rows, expected " + std::to_string(in));
    for (const auto &r : w) {
        if (int(r.size()) != out)
            die("weight row has " + std::to_string(r.size()) + " columns, expected " + std::to_string(out));
        for (const auto &c : r) {
            char *end;
            double x = std::strtod(c.c_str(), &end);
            if (*end || !(x > -1.0 && x < 1.0))
                die("weight " + c + " is not a number in (-1, 1)");
        }
    }
    const auto x = read_csv(argv[7]);
    if (int(x.size()) != in)
        die("input file has " + std::to_string(x.size()) + " rows, expected " + std::to_string(in));
    const size_t ncol = x[0].size();
    if (ncol == 0 || ncol % ibits)
        die("input file columns are not a multiple of inputBits");
    for (const auto &r : x) {
        if (r.size() != ncol)
            die("input rows have different lengths");
        for (const auto &c : r)
            if (c != "0" && c != "1")
                die("input value " + c + " is not a 0/1 bit");
    }
    const double tiles_r = std::ceil(double(in) / sub), tiles_c = std::ceil(double(out) * wbits / sub);
    std::cout << "------------------------------ FloorPlan --------------------------------\n"
              << "Desired Conventional Mapped Tile Storage Size: " << sub << "x" << sub << "\n"
              << "-------------------------------------- Hardware Performance --------------------------------------\n"
              << "-------------------- Estimation of Layer 1 ----------------------\n"
              << "layer1's readLatency is: " << 3.0 * tiles_r * ibits << "ns\n"
              << "------------------------------ Summary --------------------------------\n\n"
              << "ChipArea : " << 100.0 * tiles_r * tiles_c + 50 << "um^2\n"
              << "Chip total CIM array : " << 100.0 * tiles_r * tiles_c << "um^2\n\n"
              << "Chip layer-by-layer readLatency (per image) is: " << 3.0 * tiles_r * ibits << "ns\n"
              << "Chip total readDynamicEnergy is: " << 0.25 * in * out << "pJ\n"
              << "Chip total leakage Energy is: 1.5pJ\n"
              << "Chip total leakage Power is: 2.5uW\n"
              << "----------------------------- Performance -------------------------------\n"
              << "Energy Efficiency TOPS/W (Layer-by-Layer Process): 12.5\n";
    return 0;
}
