// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "argv_template.hpp"

#include <algorithm>

namespace dynperiph::cim::exec {

const std::vector<std::string> &known_placeholders() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> v{
            "weights_csv", "inputs_csv", "out", "work_dir", "rows", "cols", "n_vectors", "dtype",
            "config_dir", "plugin_dir", "bin_dir",
            // NeuroSim-format files (written only when used): see the exec backend's README.
            "network_csv", "ns_weights_csv", "ns_inputs_csv", "weight_bits", "input_bits"};
        std::sort(v.begin(), v.end());
        return v;
    }();
    return names;
}

namespace {

// Walks `tmpl`; calls lit(text) for literal text and ph(name) for each placeholder.
// Returns "" or an error.
template <typename Lit, typename Ph> std::string walk(const std::string &tmpl, Lit lit, Ph ph) {
    size_t i = 0;
    while (i < tmpl.size()) {
        const char c = tmpl[i];
        if (c == '{') {
            if (i + 1 < tmpl.size() && tmpl[i + 1] == '{') {
                lit("{");
                i += 2;
                continue;
            }
            const size_t close = tmpl.find('}', i + 1);
            if (close == std::string::npos)
                return "unterminated '{' in \"" + tmpl + "\"";
            const std::string name = tmpl.substr(i + 1, close - i - 1);
            if (name.find('{') != std::string::npos)
                return "nested '{' in \"" + tmpl + "\"";
            std::string err = ph(name);
            if (!err.empty())
                return err;
            i = close + 1;
        } else if (c == '}') {
            if (i + 1 < tmpl.size() && tmpl[i + 1] == '}') {
                lit("}");
                i += 2;
                continue;
            }
            return "unmatched '}' in \"" + tmpl + "\" (write }} for a literal brace)";
        } else {
            const size_t next = tmpl.find_first_of("{}", i);
            const size_t end = next == std::string::npos ? tmpl.size() : next;
            lit(tmpl.substr(i, end - i));
            i = end;
        }
    }
    return {};
}

} // namespace

std::string check_template(const std::string &tmpl) {
    const auto &known = known_placeholders();
    return walk(
        tmpl, [](const std::string &) {},
        [&](const std::string &name) -> std::string {
            if (std::binary_search(known.begin(), known.end(), name))
                return {};
            std::string list;
            for (const auto &k : known)
                list += (list.empty() ? "{" : ", {") + k + "}";
            return "unknown placeholder {" + name + "} (known: " + list + ")";
        });
}

std::vector<std::string> placeholders_in(const std::string &tmpl) {
    std::vector<std::string> out;
    walk(
        tmpl, [](const std::string &) {},
        [&](const std::string &name) -> std::string {
            out.push_back(name);
            return {};
        });
    return out;
}

std::string expand_template(const std::string &tmpl, const std::map<std::string, std::string> &values) {
    std::string out;
    walk(
        tmpl, [&](const std::string &s) { out += s; },
        [&](const std::string &name) -> std::string {
            auto it = values.find(name);
            if (it != values.end())
                out += it->second;
            return {};
        });
    return out;
}

} // namespace dynperiph::cim::exec
