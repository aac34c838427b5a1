// Chip model, composition: clock, per-layer stages, pipeline, leakage averaging, TOPS, TOPS/W.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
//
// How the figures combine (NeuroSim V1.4's pipeline mode, as its reports define them; checked over the
// reference grid by validation/validate_neurosim.py):
//  - clock: synchronous; the period is the slowest sensing path of the sub-array (chip_features.cpp:
//    clock_features_eval), or the configured clock_mhz when that is slower.
//  - a layer's stage time = (ADC + accumulation + buffer + interconnect + other cycles) × clock; the
//    chip's latency per image is the slowest stage; dynamic energy per image is the sum over layers.
//  - leakage: a layer's tiles leak their "busy" power (SRAM cells not being sensed) while the layer
//    computes and their full idle power for the rest of the pipeline cycle; the cycle a layer averages over
//    is the slowest stage among layers 1..l (NeuroSim's running maximum). Leakage energy per image =
//    Σ leakage power × the final pipeline cycle.
//  - TOPS/W = ops / (dynamic + leakage energy) / ζ, ζ = 1.22: the post-layout energy factor NeuroSim's
//    "validated" mode applies (SETTINGS.md of the reference grid). ops = 2·Σ IFM_H·IFM_W·IFM_C·K_H·K_W·OFM_C.
#include <algorithm>
#include <cmath>

#include "chip_model.hpp"

namespace cimsim {

namespace {
constexpr double kPostLayoutEnergy = 1.22;  // ζ
}

Parts &Parts::operator+=(const Parts &o) {
    array += o.array, adc += o.adc, accum += o.accum, buffer += o.buffer, ic += o.ic, other += o.other;
    return *this;
}

double ChipCost::tops_per_w() const {
    const double e = dyn_energy_pj + leakage_energy_pj;
    return e > 0 ? ops / e / kPostLayoutEnergy : 0;
}

namespace {

ChipContext make_context(const Resolved &r, const std::vector<LayerSpec> &layers, const ChipPlacement &place,
                         const std::vector<Activity> &act) {
    check_cell_node(r.cfg.cell, r.cfg.tech_node_nm);
    return ChipContext{r, layers, place, act, chip_tech(r.cfg.tech_node_nm), double(r.cfg.subarray_rows), double(r.cfg.subarray_cols),
                       double(r.parallel_rows), double(std::min(r.cfg.cols_per_adc, r.cfg.subarray_cols)), std::ldexp(1.0, r.adc_bits),
                       double(r.cfg.input_bits), double(r.cfg.weight_bits)};
}

std::vector<Activity> activity_or_default(const std::vector<LayerSpec> &layers, const std::vector<Activity> &act) {
    if (act.size() == layers.size()) return act;
    if (!act.empty()) throw Error("cimsim: " + std::to_string(act.size()) + " activity figures for " + std::to_string(layers.size()) + " layers");
    return std::vector<Activity>(layers.size());
}

const FeatureSet *find(const std::vector<FeatureSet> &fs, const char *target, int layer) {
    for (const auto &f : fs)
        if (f.target == target && f.layer == layer) return &f;
    return nullptr;
}

}  // namespace

ChipCost estimate_chip(const Resolved &r, const std::vector<LayerSpec> &layers, const std::vector<Activity> &activity, bool strict) {
    ChipCost c;
    c.placement = map_chip(r, layers, strict);
    const auto act = activity_or_default(layers, activity);
    const ChipContext cx = make_context(r, layers, c.placement, act);
    c.clock_ns = std::max(clock_features_eval(cx, nullptr), r.cfg.clock_mhz > 0 ? 1e3 / r.cfg.clock_mhz : 0.0);
    const auto cycles = layer_cycles(cx);
    const auto fs = chip_features(cx);
    const auto eval = [&](const char *target, int layer) {
        const FeatureSet *f = find(fs, target, layer);
        return f ? std::max(0.0, apply_coeffs(cx, target, f->f)) : 0.0;
    };

    // area
    for (const auto &l : c.placement.layers)
        c.area_um2.array += double(l.tiles) * l.pes_per_side * l.pes_per_side * l.subarray_slots_per_pe * cx.rows * cx.cols *
                            cell_area_um2(r.cfg.cell, cx.tech);
    c.area_um2.adc = eval("area_adc_um2", 0);
    c.area_um2.accum = eval("area_accum_um2", 0);
    c.area_um2.other = eval("area_other_um2", 0);
    c.area_um2.ic = eval("area_ic_um2", 0);
    c.chip_area_um2 = c.area_um2.total() + eval("area_empty_um2", 0);

    // layers: stage time, energy, leakage
    double running_max = 0;
    std::vector<double> busy(layers.size()), idle(layers.size());
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const int li = int(i) + 1;
        LayerCost lc;
        const auto &k = cycles[i];
        lc.latency_ns = {0, k.adc * c.clock_ns, k.accum * c.clock_ns, k.buffer * c.clock_ns, k.ic * c.clock_ns, k.other * c.clock_ns};
        lc.energy_pj.adc = eval("energy_adc_pj", li);
        lc.energy_pj.accum = eval("energy_accum_pj", li);
        lc.energy_pj.buffer = eval("energy_buffer_pj", li);
        lc.energy_pj.ic = eval("energy_ic_pj", li);
        lc.energy_pj.other = eval("energy_other_pj", li);
        const double tiles = c.placement.layers[i].tiles;
        busy[i] = tiles * eval("leak_busy_uw", li);
        idle[i] = tiles * eval("leak_idle_uw", li);
        lc.busy_leakage_uw = busy[i];
        lc.ops = layers[i].ops();
        const double lat = lc.latency_ns.total();
        running_max = std::max(running_max, lat);
        lc.leakage_uw = running_max > 0 ? (idle[i] * (running_max - lat) + busy[i] * lat) / running_max : busy[i];
        c.latency_ns = std::max(c.latency_ns, lat);
        c.dyn_energy_pj += lc.energy_pj.total();
        c.leakage_uw += lc.leakage_uw;
        c.ops += lc.ops;
        c.layers.push_back(lc);
    }
    c.leakage_energy_pj = c.leakage_uw * c.latency_ns * 1e-3;  // µW·ns = fJ
    return c;
}

std::string chip_features_json(const Resolved &r, const std::vector<LayerSpec> &layers, const std::vector<Activity> &activity) {
    const ChipPlacement place = map_chip(r, layers, true);
    const auto act = activity_or_default(layers, activity);
    const ChipContext cx = make_context(r, layers, place, act);
    std::vector<double> clk;
    clock_features_eval(cx, &clk);
    auto fs = chip_features(cx);
    fs.push_back({"clock_ns", 0, clk});
    const auto cycles = layer_cycles(cx);
    for (std::size_t i = 0; i < cycles.size(); ++i)
        fs.push_back({"cycles", int(i) + 1, {cycles[i].adc, cycles[i].accum, cycles[i].buffer, cycles[i].ic, cycles[i].other}});
    std::string s = "{\"cell\":\"" + std::string(to_string(r.cfg.cell)) + "\",\"node\":" + std::to_string(r.cfg.tech_node_nm) +
                    ",\"tiles\":[";
    for (std::size_t i = 0; i < place.layers.size(); ++i) s += (i ? "," : "") + std::to_string(place.layers[i].tiles);
    s += "],\"features\":[";
    char buf[64];
    for (std::size_t i = 0; i < fs.size(); ++i) {
        s += (i ? ",{" : "{") + std::string("\"target\":\"") + fs[i].target + "\",\"layer\":" + std::to_string(fs[i].layer) + ",\"f\":[";
        for (std::size_t k = 0; k < fs[i].f.size(); ++k) {
            std::snprintf(buf, sizeof buf, "%s%.17g", k ? "," : "", fs[i].f[k]);
            s += buf;
        }
        s += "]}";
    }
    return s + "]}\n";
}

}  // namespace cimsim
