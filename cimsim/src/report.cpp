// Reports. SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "cimsim/report.hpp"

#include <cstdarg>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace cimsim {

namespace {

std::string fmt(const char *f, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, f);
    std::vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return buf;
}

nlohmann::json breakdown_json(const Breakdown &b) {
    return {{"array", b.array},     {"adc", b.adc},         {"shift_add", b.shift_add},
            {"drivers", b.drivers}, {"buffers", b.buffers}, {"interconnect", b.interconnect},
            {"total", b.total()}};
}

nlohmann::json ppa_json(const Ppa &p) {
    return {{"area_um2", breakdown_json(p.area_um2)},
            {"latency_ns", breakdown_json(p.latency_ns)},
            {"energy_pj", breakdown_json(p.energy_pj)},
            {"leakage_uw", breakdown_json(p.leakage_uw)},
            {"ops", p.ops},
            {"tops", p.tops()},
            {"tops_per_w", p.tops_per_w()},
            {"subarrays", p.subarrays},
            {"adcs", p.adcs},
            {"conversions", p.conversions}};
}

std::string breakdown_line(const char *name, const Breakdown &b, double k, const char *unit) {
    return fmt("  %-14s %12.4g %s  (array %.3g, ADC %.3g, shift-add %.3g, drivers %.3g, buffers %.3g, interconnect %.3g)\n",
               name, b.total() * k, unit, b.array * k, b.adc * k, b.shift_add * k, b.drivers * k, b.buffers * k,
               b.interconnect * k);
}

std::string ppa_text(const Ppa &p) {
    std::string s;
    s += breakdown_line("area", p.area_um2, 1e-6, "mm²");
    s += breakdown_line("latency", p.latency_ns, 1e-3, "µs ");
    s += breakdown_line("dynamic energy", p.energy_pj, 1e-6, "µJ ");
    s += breakdown_line("leakage", p.leakage_uw, 1e-3, "mW ");
    return s;
}

}  // namespace

std::string mvm_json(const MvmReport &m) {
    nlohmann::json j;
    auto outputs = nlohmann::json::array();
    if (m.problem.dtype == Dtype::Float32)
        for (float f : m.out.floats) outputs.push_back(double(f));
    else
        for (std::uint32_t w : m.out.words) outputs.push_back(std::int32_t(w));
    j["outputs"] = std::move(outputs);
    j["metrics"] = {{"latency_ns", m.ppa.latency()},
                    {"energy_pj", m.ppa.energy()},
                    {"area_um2", m.ppa.area()},
                    {"leakage_uw", m.ppa.leakage()}};
    j["details"] = {{"dtype", std::string(to_string(m.problem.dtype))},
                    {"rows", m.problem.rows},
                    {"cols", m.problem.cols},
                    {"n_vectors", m.problem.n_vectors},
                    {"engine", std::string(to_string(m.out.engine))},
                    {"w_scale", m.out.w_scale},
                    {"x_scale", m.out.x_scale},
                    {"ppa", ppa_json(m.ppa)},
                    {"config", nlohmann::json::parse(config_to_json(m.r.cfg))}};
    return j.dump() + "\n";
}

std::string mvm_text(const MvmReport &m) {
    const auto &p = m.problem;
    std::string s = fmt("cimsim MVM: %u×%u weights, %u vector(s), %s, engine %s\n", p.rows, p.cols, p.n_vectors,
                        std::string(to_string(p.dtype)).c_str(), std::string(to_string(m.out.engine)).c_str());
    s += fmt("config: %s %d nm, %d×%d sub-arrays, %d parallel rows, %d-bit ADC, %d b/cell, %db×%db\n",
             std::string(to_string(m.r.cfg.cell)).c_str(), m.r.cfg.tech_node_nm, m.r.cfg.subarray_rows,
             m.r.cfg.subarray_cols, m.r.parallel_rows, m.r.adc_bits, m.r.cfg.bits_per_cell, m.r.cfg.weight_bits,
             m.r.cfg.input_bits);
    s += "outputs:\n";
    const std::size_t show = std::min<std::size_t>(p.n_vectors, 16);
    for (std::size_t v = 0; v < show; ++v) {
        s += "  [";
        for (std::uint32_t c = 0; c < p.cols && c < 16; ++c) {
            const std::size_t i = v * p.cols + c;
            s += (c ? ", " : "") + (p.dtype == Dtype::Float32 ? fmt("%.6g", double(m.out.floats[i]))
                                                               : fmt("%d", std::int32_t(m.out.words[i])));
        }
        s += p.cols > 16 ? ", ...]\n" : "]\n";
    }
    if (p.n_vectors > show) s += fmt("  ... (%u vectors; --out FILE writes all)\n", p.n_vectors);
    s += fmt("PPA (%llu sub-arrays, %llu ADCs, %llu conversions):\n", (unsigned long long)m.ppa.subarrays,
             (unsigned long long)m.ppa.adcs, (unsigned long long)m.ppa.conversions);
    s += ppa_text(m.ppa);
    if (m.ppa.latency() > 0) s += fmt("  throughput     %12.4g TOPS, %.4g TOPS/W\n", m.ppa.tops(), m.ppa.tops_per_w());
    return s;
}

namespace {

nlohmann::json parts_json(const Parts &p) {
    return {{"array", p.array}, {"adc", p.adc}, {"accum", p.accum}, {"buffer", p.buffer}, {"ic", p.ic},
            {"other", p.other}, {"total", p.total()}};
}

}  // namespace

std::string network_json(const NetworkResult &n, const Resolved &r) {
    const ChipCost &c = n.chip;
    nlohmann::json j;
    // NeuroSim's summary figures, named and scaled like the reference grid's columns
    j["area_um2"] = c.chip_area_um2;
    j["latency_ns_per_image"] = c.latency_ns;
    j["dyn_energy_pj_per_image"] = c.dyn_energy_pj;
    j["leakage_uw"] = c.leakage_uw;
    j["leakage_energy_pj_per_image"] = c.leakage_energy_pj;
    j["tops_per_w"] = c.tops_per_w();
    j["tops"] = c.tops();
    j["fps"] = c.latency_ns > 0 ? 1e9 / c.latency_ns : 0;
    j["tops_per_mm2"] = c.chip_area_um2 > 0 ? c.tops() / (c.chip_area_um2 * 1e-6) : 0;
    j["clock_period_ns"] = c.clock_ns;
    j["ops"] = c.ops;
    j["area_breakdown_um2"] = parts_json(c.area_um2);
    j["placement"] = {{"tile_side", c.placement.tile_side}, {"novel_pe_side", c.placement.novel_pe_side},
                      {"tiles", c.placement.tiles}, {"utilization", c.placement.utilization}};
    auto layers = nlohmann::json::array();
    for (std::size_t i = 0; i < n.layers.size(); ++i) {
        const auto &l = n.layers[i];
        const auto &lc = c.layers[i];
        const auto &lp = c.placement.layers[i];
        nlohmann::json lj = {{"layer", i + 1},
                             {"shape", {l.spec.ifm_h, l.spec.ifm_w, l.spec.ifm_c, l.spec.k_h, l.spec.k_w, l.spec.ofm_c, l.spec.pool, l.spec.stride}},
                             {"rows", l.spec.rows()},
                             {"cols", l.spec.cols()},
                             {"vectors", l.spec.vectors()},
                             {"tiles", lp.tiles},
                             {"novel", lp.novel},
                             {"speedup", lp.speedup},
                             {"utilization", lp.utilization},
                             {"latency_ns", lc.latency_ns.total()},
                             {"dyn_energy_pj", lc.energy_pj.total()},
                             {"leakage_uw", lc.leakage_uw},
                             {"latency_breakdown_ns", parts_json(lc.latency_ns)},
                             {"energy_breakdown_pj", parts_json(lc.energy_pj)},
                             {"activity", {{"input_ones", l.activity.input_ones}, {"weight_ones", l.activity.weight_ones}}}};
        if (l.functional)
            lj["functional"] = {{"vectors_run", l.vectors_run}, {"rms_error", l.rms_error}, {"max_abs_error", l.max_abs_error},
                                {"checksum", l.checksum}};
        layers.push_back(std::move(lj));
    }
    j["layers"] = std::move(layers);
    // the four figures the CIM peripheral's metric registers carry (exec backend "json" format)
    j["metrics"] = {{"latency_ns", c.latency_ns}, {"energy_pj", c.dyn_energy_pj}, {"area_um2", c.chip_area_um2}, {"leakage_uw", c.leakage_uw}};
    j["config"] = nlohmann::json::parse(config_to_json(r.cfg));
    j["host_seconds"] = n.seconds;
    return j.dump() + "\n";
}

namespace {

std::string parts_line(const char *name, const Parts &p, double k, const char *unit) {
    return fmt("  %-16s %12.6g %s  (ADC %.4g, accumulation %.4g, buffer %.4g, interconnect %.4g, array %.4g, other %.4g)\n",
               name, p.total() * k, unit, p.adc * k, p.accum * k, p.buffer * k, p.ic * k, p.array * k, p.other * k);
}

}  // namespace

std::string network_text(const NetworkResult &n, const Resolved &r) {
    const ChipCost &c = n.chip;
    std::string s = fmt("cimsim network: %zu layers, %s %d nm, %d×%d sub-arrays, %d parallel rows, %d-bit ADC (%d levels), "
                        "%db weights × %db inputs, novel mapping %s\n",
                        n.layers.size(), std::string(to_string(r.cfg.cell)).c_str(), r.cfg.tech_node_nm,
                        r.cfg.subarray_rows, r.cfg.subarray_cols, r.parallel_rows, r.adc_bits, 1 << r.adc_bits,
                        r.cfg.weight_bits, r.cfg.input_bits, r.cfg.novel_mapping ? "on" : "off");
    s += fmt("floorplan: tile %u×%u cells (PE %u×%u)", c.placement.tile_side, c.placement.tile_side, c.placement.tile_side / 2,
             c.placement.tile_side / 2);
    if (c.placement.novel_pe_side) s += fmt(", novel-mapped PEs %u×%u", c.placement.novel_pe_side, c.placement.novel_pe_side);
    s += fmt(", %u tiles, memory utilization %.2f %%; clock period %.6g ns\n", c.placement.tiles, 100 * c.placement.utilization, c.clock_ns);
    for (std::size_t i = 0; i < n.layers.size(); ++i) {
        const auto &l = n.layers[i];
        const auto &lc = c.layers[i];
        const auto &lp = c.placement.layers[i];
        s += fmt("\n-------------------- Layer %zu: %ux%ux%u, kernel %ux%u, %u out, %u×%u matrix, %llu vectors, %u tile(s)%s, speed-up %u\n",
                 i + 1, l.spec.ifm_h, l.spec.ifm_w, l.spec.ifm_c, l.spec.k_h, l.spec.k_w, l.spec.ofm_c, l.spec.rows(), l.spec.cols(),
                 (unsigned long long)l.spec.vectors(), lp.tiles, lp.novel ? " (novel)" : "", lp.speedup);
        s += parts_line("latency", lc.latency_ns, 1, "ns");
        s += parts_line("dynamic energy", lc.energy_pj, 1, "pJ");
        s += fmt("  %-16s %12.6g uW (averaged over the pipeline cycle)\n", "leakage", lc.leakage_uw);
        if (l.functional)
            s += fmt("  functional       %u vectors run, RMS error %.4g, max |error| %.4g (integer output units), checksum %lld\n",
                     l.vectors_run, l.rms_error, l.max_abs_error, (long long)l.checksum);
    }
    const Parts &a = c.area_um2;
    s += "\n==================== Summary\n";
    s += fmt("  chip area                 %.6g mm² (ADC %.4g, accumulation %.4g, buffers %.4g, interconnect %.4g, array %.4g, "
             "other %.4g; floorplan %.4g)\n",
             c.chip_area_um2 * 1e-6, a.adc * 1e-6, a.accum * 1e-6, a.buffer * 1e-6, a.ic * 1e-6, a.array * 1e-6, a.other * 1e-6,
             (c.chip_area_um2 - a.total()) * 1e-6);
    s += fmt("  latency per image         %.6g ns (pipelined: the slowest layer)\n", c.latency_ns);
    s += fmt("  energy per image          %.6g pJ (dynamic %.6g + leakage %.6g)\n", c.dyn_energy_pj + c.leakage_energy_pj,
             c.dyn_energy_pj, c.leakage_energy_pj);
    s += fmt("  leakage power             %.6g uW\n", c.leakage_uw);
    s += fmt("  energy efficiency         %.4g TOPS/W\n", c.tops_per_w());
    s += fmt("  throughput                %.4g TOPS, %.4g FPS\n", c.tops(), c.latency_ns > 0 ? 1e9 / c.latency_ns : 0);
    s += fmt("  host run time             %.3f s\n", n.seconds);
    // The summary lines NeuroSim prints in pipeline mode, so tools that parse NeuroSim's stdout (the exec
    // backend's "neurosim" format) read cimsim's report unchanged.
    s += "\n-------------------- NeuroSim-style summary\n";
    s += fmt("ChipArea : %.6gum^2\n", c.chip_area_um2);
    s += fmt("Chip clock period is: %.6gns\n", c.clock_ns);
    s += fmt("Chip pipeline-system-clock-cycle (per image) is: %.6gns\n", c.latency_ns);
    s += fmt("Chip pipeline-system readDynamicEnergy (per image) is: %.6gpJ\n", c.dyn_energy_pj);
    s += fmt("Chip pipeline-system leakage Energy (per image) is: %.6gpJ\n", c.leakage_energy_pj);
    s += fmt("Chip pipeline-system leakage Power (per image) is: %.6guW\n", c.leakage_uw);
    s += fmt("Energy Efficiency TOPS/W (Pipelined Process): %.6g\n", c.tops_per_w());
    s += fmt("Throughput TOPS (Pipelined Process): %.6g\n", c.tops());
    s += fmt("Throughput FPS (Pipelined Process): %.6g\n", c.latency_ns > 0 ? 1e9 / c.latency_ns : 0);
    s += fmt("Compute efficiency TOPS/mm^2 (Pipelined Process): %.6g\n", c.chip_area_um2 > 0 ? c.tops() / (c.chip_area_um2 * 1e-6) : 0);
    return s;
}

std::string keys_markdown() {
    std::string s = "| key | type | default | meaning |\n|---|---|---|---|\n";
    for (const auto &k : config_keys()) {
        const char *ty = k.type == KeyType::Int ? "int" : k.type == KeyType::Uint ? "uint" : k.type == KeyType::Real ? "real" : "string";
        std::string doc;
        for (char ch : k.doc) doc += ch == '|' ? std::string("\\|") : std::string(1, ch);
        s += "| `" + std::string(k.name) + "` | " + ty + " | " + std::string(k.default_text) + " | " + doc + " |\n";
    }
    return s;
}

}  // namespace cimsim
