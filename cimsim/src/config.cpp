// Config keys: one table shared by the CLI flags, --config files and the backend's params JSON.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "cimsim/config.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <thread>

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "tech.hpp"

namespace cimsim {

std::string_view to_string(CellType c) {
    switch (c) {
    case CellType::Sram: return "sram";
    case CellType::Rram: return "rram";
    case CellType::Fefet: return "fefet";
    }
    return "?";
}

std::string_view to_string(EngineKind e) {
    switch (e) {
    case EngineKind::Auto: return "auto";
    case EngineKind::Exact: return "exact";
    case EngineKind::BitLevel: return "bitlevel";
    }
    return "?";
}

namespace {

[[noreturn]] void bad_value(std::string_view key, std::string_view what, std::string_view got) {
    throw Error("cimsim: config key '" + std::string(key) + "': expected " + std::string(what) + ", got '" +
                std::string(got) + "'");
}

long long parse_int(std::string_view key, std::string_view v) {
    long long x = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
    if (ec != std::errc() || p != v.data() + v.size() || v.empty()) bad_value(key, "an integer", v);
    return x;
}

std::uint64_t parse_uint(std::string_view key, std::string_view v) {
    std::uint64_t x = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
    if (ec != std::errc() || p != v.data() + v.size() || v.empty()) bad_value(key, "an unsigned integer", v);
    return x;
}

double parse_real(std::string_view key, std::string_view v) {
    std::string s(v);
    char *end = nullptr;
    double x = s.empty() ? NAN : std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(x)) bad_value(key, "a finite number", v);
    return x;
}

using Setter = std::function<void(Config &, std::string_view key, std::string_view value)>;

struct Key {
    KeyInfo info;
    Setter set;
};

template <typename T> Setter int_setter(T Config::*m) {
    return [m](Config &c, std::string_view k, std::string_view v) {
        long long x = parse_int(k, v);
        if (x < -(1LL << 31) || x > (1LL << 31) - 1) bad_value(k, "a 32-bit integer", v);
        c.*m = static_cast<T>(x);
    };
}
Setter real_setter(double Config::*m) {
    return [m](Config &c, std::string_view k, std::string_view v) { c.*m = parse_real(k, v); };
}
Setter opt_setter(std::optional<double> Config::*m) {
    return [m](Config &c, std::string_view k, std::string_view v) { c.*m = parse_real(k, v); };
}

const std::vector<Key> &keys() {
    static const std::vector<Key> table = {
        {{"tech_node_nm", KeyType::Int, "22", "technology node in nm: 130 90 65 45 32 22 14 10 7 5 3 2 1"},
         int_setter(&Config::tech_node_nm)},
        {{"cell", KeyType::String, "sram", "memory cell: sram | rram | fefet"},
         [](Config &c, std::string_view k, std::string_view v) {
             if (v == "sram") c.cell = CellType::Sram;
             else if (v == "rram") c.cell = CellType::Rram;
             else if (v == "fefet") c.cell = CellType::Fefet;
             else bad_value(k, "sram, rram or fefet", v);
         }},
        {{"g_on_us", KeyType::Real, "cell default", "on conductance (highest level) in µS"},
         opt_setter(&Config::g_on_us)},
        {{"g_off_us", KeyType::Real, "g_on/on_off_ratio", "off conductance (level 0) in µS"},
         opt_setter(&Config::g_off_us)},
        {{"on_off_ratio", KeyType::Real, "cell default", "g_on/g_off (alternative to g_off_us)"},
         opt_setter(&Config::on_off_ratio)},
        {{"bits_per_cell", KeyType::Int, "1", "weight bits stored per cell (1..8)"},
         int_setter(&Config::bits_per_cell)},
        {{"program_sigma", KeyType::Real, "0", "relative σ of a cell's conductance, drawn once when programmed"},
         real_setter(&Config::program_sigma)},
        {{"read_noise_sigma", KeyType::Real, "0", "relative σ of a cell's read current, drawn at every read"},
         real_setter(&Config::read_noise_sigma)},
        {{"stuck_at_0_rate", KeyType::Real, "0", "fraction of cells stuck at g_off (level 0)"},
         real_setter(&Config::stuck_at_0_rate)},
        {{"stuck_at_1_rate", KeyType::Real, "0", "fraction of cells stuck at g_on (top level)"},
         real_setter(&Config::stuck_at_1_rate)},
        {{"subarray_rows", KeyType::Int, "128", "rows (word lines) per sub-array"},
         int_setter(&Config::subarray_rows)},
        {{"subarray_cols", KeyType::Int, "128", "cell columns (bit lines) per sub-array"},
         int_setter(&Config::subarray_cols)},
        {{"parallel_rows", KeyType::Int, "128", "rows summed per analog read (clamped to subarray_rows)"},
         int_setter(&Config::parallel_rows)},
        {{"adc_bits", KeyType::Int, "0", "ADC resolution; 0 = lossless for parallel_rows·(2^bits_per_cell−1)"},
         int_setter(&Config::adc_bits)},
        {{"adc_range", KeyType::Real, "1", "ADC full scale as a fraction (0,1] of the largest partial sum"},
         real_setter(&Config::adc_range)},
        {{"cols_per_adc", KeyType::Int, "8", "cell columns multiplexed onto one ADC (power of two)"},
         int_setter(&Config::cols_per_adc)},
        {{"novel_mapping", KeyType::String, "true", "chip floorplan: convolutions laid out one kernel position per PE (true | false)"},
         [](Config &c, std::string_view k, std::string_view v) {
             if (v == "true" || v == "1") c.novel_mapping = true;
             else if (v == "false" || v == "0") c.novel_mapping = false;
             else bad_value(k, "true or false", v);
         }},
        {{"input_bits", KeyType::Int, "8", "input precision, two's complement, fed bit-serially (1..32)"},
         int_setter(&Config::input_bits)},
        {{"weight_bits", KeyType::Int, "8", "weight precision, two's complement (1..32)"},
         int_setter(&Config::weight_bits)},
        {{"clock_mhz", KeyType::Real, "0", "upper bound of the chip clock in MHz (it runs at the slower of this and its sensing path); 0 = the sensing path"},
         real_setter(&Config::clock_mhz)},
        {{"seed", KeyType::Uint, "1", "seed of every random draw (programming, faults, read noise)"},
         [](Config &c, std::string_view k, std::string_view v) { c.seed = parse_uint(k, v); }},
        {{"threads", KeyType::Int, "0", "worker threads; 0 = all cores (results never depend on it)"},
         int_setter(&Config::threads)},
        {{"engine", KeyType::String, "auto", "auto | exact | bitlevel (exact requires a lossless config)"},
         [](Config &c, std::string_view k, std::string_view v) {
             if (v == "auto") c.engine = EngineKind::Auto;
             else if (v == "exact") c.engine = EngineKind::Exact;
             else if (v == "bitlevel") c.engine = EngineKind::BitLevel;
             else bad_value(k, "auto, exact or bitlevel", v);
         }},
    };
    return table;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j)
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1] ? 1 : 0)});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

}  // namespace

const std::vector<KeyInfo> &config_keys() {
    static const std::vector<KeyInfo> infos = [] {
        std::vector<KeyInfo> v;
        for (const auto &k : keys()) v.push_back(k.info);
        return v;
    }();
    return infos;
}

void set_key(Config &cfg, std::string_view key, std::string_view value) {
    for (const auto &k : keys())
        if (k.info.name == key) {
            k.set(cfg, key, value);
            return;
        }
    std::string msg = "cimsim: unknown config key '" + std::string(key) + "'";
    std::string_view best;
    std::size_t best_d = 3;
    for (const auto &k : keys()) {
        std::size_t d = edit_distance(key, k.info.name);
        if (d < best_d) best_d = d, best = k.info.name;
    }
    if (!best.empty()) msg += " (did you mean '" + std::string(best) + "'?)";
    throw Error(msg);
}

namespace {
std::string json_scalar_text(const nlohmann::json &v, std::string_view key, std::string_view origin) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
    if (v.is_number_float()) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.17g", v.get<double>());
        return buf;
    }
    if (v.is_boolean()) return v.get<bool>() ? "1" : "0";
    throw Error("cimsim: " + std::string(origin) + ": config key '" + std::string(key) +
                "' must be a number or a string");
}
}  // namespace

void apply_json(Config &cfg, std::string_view json_text, std::string_view origin) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(json_text);
    } catch (const nlohmann::json::exception &e) { // parse_error, and out_of_range for a number like 1e400
        throw Error("cimsim: " + std::string(origin) + ": invalid JSON (" + e.what() + ")");
    }
    if (j.is_null()) return;
    if (!j.is_object()) throw Error("cimsim: " + std::string(origin) + ": expected a JSON object of config keys");
    for (auto it = j.begin(); it != j.end(); ++it) set_key(cfg, it.key(), json_scalar_text(it.value(), it.key(), origin));
}

Config config_from_json(std::string_view json_text, std::string_view origin) {
    Config c;
    apply_json(c, json_text, origin);
    return c;
}

void apply_toml(Config &cfg, std::string_view toml_text, std::string_view origin) {
    toml::table t;
    try {
        t = toml::parse(toml_text, std::string(origin));
    } catch (const toml::parse_error &e) {
        auto &src = e.source();
        throw Error("cimsim: " + std::string(origin) + ":" + std::to_string(src.begin.line) + ":" +
                    std::to_string(src.begin.column) + ": invalid TOML (" + std::string(e.description()) + ")");
    }
    for (auto &&[k, node] : t) {
        std::string key(k.str());
        std::string text;
        if (auto s = node.as_string()) text = s->get();
        else if (auto i = node.as_integer()) text = std::to_string(i->get());
        else if (auto f = node.as_floating_point()) {
            char buf[64];
            std::snprintf(buf, sizeof buf, "%.17g", f->get());
            text = buf;
        } else if (auto b = node.as_boolean()) text = b->get() ? "1" : "0";
        else throw Error("cimsim: " + std::string(origin) + ": config key '" + key + "' must be a number or a string");
        set_key(cfg, key, text);
    }
}

Resolved resolve(const Config &c) {
    auto fail = [](std::string_view key, const std::string &why) -> void {
        throw Error("cimsim: config key '" + std::string(key) + "': " + why);
    };
    auto range = [&](std::string_view key, double v, double lo, double hi) {
        if (!(v >= lo && v <= hi)) {
            char buf[160];
            std::snprintf(buf, sizeof buf, "%g is outside [%g, %g]", v, lo, hi);
            fail(key, buf);
        }
    };
    if (!known_node(c.tech_node_nm)) fail("tech_node_nm", std::to_string(c.tech_node_nm) + " is not a known node (" + known_nodes_text() + ")");
    range("bits_per_cell", c.bits_per_cell, 1, 8);
    range("program_sigma", c.program_sigma, 0, 1);
    range("read_noise_sigma", c.read_noise_sigma, 0, 1);
    range("stuck_at_0_rate", c.stuck_at_0_rate, 0, 1);
    range("stuck_at_1_rate", c.stuck_at_1_rate, 0, 1);
    if (c.stuck_at_0_rate + c.stuck_at_1_rate > 1) fail("stuck_at_1_rate", "stuck_at_0_rate + stuck_at_1_rate exceeds 1");
    range("subarray_rows", c.subarray_rows, 1, 4096);
    range("subarray_cols", c.subarray_cols, 1, 4096);
    range("parallel_rows", c.parallel_rows, 1, 4096);
    range("adc_bits", c.adc_bits, 0, 24);
    if (!(c.adc_range > 0 && c.adc_range <= 1)) fail("adc_range", "must be in (0, 1]");
    range("cols_per_adc", c.cols_per_adc, 1, 4096);
    if ((c.cols_per_adc & (c.cols_per_adc - 1)) != 0) fail("cols_per_adc", "must be a power of two");
    range("input_bits", c.input_bits, 1, 32);
    range("weight_bits", c.weight_bits, 1, 32);
    range("clock_mhz", c.clock_mhz, 0, 100000);
    range("threads", c.threads, 0, 256);

    Resolved r;
    r.cfg = c;
    const CellDefaults cd = cell_defaults(c.cell);
    r.g_on_us = c.g_on_us.value_or(cd.g_on_us);
    if (!(r.g_on_us > 0)) fail("g_on_us", "must be > 0");
    if (c.g_off_us && c.on_off_ratio) fail("on_off_ratio", "give either g_off_us or on_off_ratio, not both");
    if (c.g_off_us) r.g_off_us = *c.g_off_us;
    else {
        double ratio = c.on_off_ratio.value_or(cd.on_off_ratio);
        if (!(ratio > 1)) fail("on_off_ratio", "must be > 1");
        r.g_off_us = r.g_on_us / ratio;
    }
    if (!(r.g_off_us >= 0 && r.g_off_us < r.g_on_us)) fail("g_off_us", "must be in [0, g_on_us)");

    r.slices = (c.weight_bits + c.bits_per_cell - 1) / c.bits_per_cell;
    if (r.slices > c.subarray_cols)
        fail("subarray_cols", std::to_string(c.subarray_cols) + " columns cannot hold one " +
                                  std::to_string(c.weight_bits) + "-bit weight (" + std::to_string(r.slices) + " cells)");
    r.weights_per_tile_cols = c.subarray_cols / r.slices;
    r.parallel_rows = std::min(c.parallel_rows, c.subarray_rows);
    const double max_sum = double(r.parallel_rows) * double((1u << c.bits_per_cell) - 1);
    int need = 1;
    while (double((1ull << need) - 1) < max_sum) ++need;
    r.adc_bits = c.adc_bits == 0 ? need : c.adc_bits;
    r.adc_lossless = c.adc_range == 1.0 && r.adc_bits >= need;
    r.analog_ideal = c.program_sigma == 0 && c.read_noise_sigma == 0 && c.stuck_at_0_rate == 0 && c.stuck_at_1_rate == 0;
    if (c.engine == EngineKind::Exact && !(r.adc_lossless && r.analog_ideal))
        fail("engine", "'exact' needs a lossless ADC (adc_bits 0 or >= " + std::to_string(need) +
                           ", adc_range 1) and no variation, noise or faults");
    r.clock_mhz = c.clock_mhz;
    r.threads = c.threads > 0 ? c.threads : std::max(1u, std::thread::hardware_concurrency());
    return r;
}

std::string config_to_json(const Config &c) {
    Resolved r = resolve(c);
    nlohmann::json j;
    j["tech_node_nm"] = c.tech_node_nm;
    j["cell"] = std::string(to_string(c.cell));
    j["g_on_us"] = r.g_on_us;
    j["g_off_us"] = r.g_off_us;
    j["bits_per_cell"] = c.bits_per_cell;
    j["program_sigma"] = c.program_sigma;
    j["read_noise_sigma"] = c.read_noise_sigma;
    j["stuck_at_0_rate"] = c.stuck_at_0_rate;
    j["stuck_at_1_rate"] = c.stuck_at_1_rate;
    j["subarray_rows"] = c.subarray_rows;
    j["subarray_cols"] = c.subarray_cols;
    j["parallel_rows"] = r.parallel_rows;
    j["adc_bits"] = r.adc_bits;
    j["adc_range"] = c.adc_range;
    j["cols_per_adc"] = c.cols_per_adc;
    j["novel_mapping"] = c.novel_mapping;
    j["input_bits"] = c.input_bits;
    j["weight_bits"] = c.weight_bits;
    j["clock_mhz"] = r.clock_mhz;
    j["seed"] = c.seed;
    j["engine"] = std::string(to_string(c.engine));
    return j.dump();
}

}  // namespace cimsim
