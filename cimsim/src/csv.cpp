// CSV input/output. SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "cimsim/csv.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cimsim/config.hpp"

namespace cimsim {

CsvMatrix parse_csv(const std::string &text, const std::string &name, bool allow_empty) {
    CsvMatrix m;
    m.path = name;
    std::size_t pos = 0, line_no = 0;
    const std::size_t len = text.size();
    while (pos < len) {
        std::size_t eol = text.find('\n', pos);
        if (eol == std::string::npos) eol = len;
        ++line_no;
        std::size_t end = eol;
        while (end > pos && (text[end - 1] == '\r' || text[end - 1] == ' ' || text[end - 1] == '\t')) --end;
        if (end > pos && text[end - 1] == ',') --end;  // trailing comma
        if (end == pos) {
            pos = eol + 1;
            continue;
        }
        std::uint32_t fields = 0;
        std::size_t f = pos;
        while (true) {
            std::size_t comma = text.find(',', f);
            if (comma == std::string::npos || comma > end) comma = end;
            std::size_t a = f, z = comma;
            while (a < z && (text[a] == ' ' || text[a] == '\t')) ++a;
            while (z > a && (text[z - 1] == ' ' || text[z - 1] == '\t')) --z;
            ++fields;
            auto where = [&] { return name + ":" + std::to_string(line_no) + ":" + std::to_string(fields) + ": "; };
            if (a == z) throw Error("cimsim: " + where() + "empty field");
            const char *b = text.data() + a, *e = text.data() + z;
            if (e - b == 1 && *b >= '0' && *b <= '9') {  // fast path: one digit (bit matrices)
                m.values.push_back(double(*b - '0'));
                if (comma == end) break;
                f = comma + 1;
                continue;
            }
            if (*b == '+' && e - b > 1 && b[1] != '-' && b[1] != '+') ++b;  // "+5" yes, "+-5" no
            double v = 0;
            auto [p, ec] = std::from_chars(b, e, v);
            if (ec != std::errc() || p != e || !std::isfinite(v))
                throw Error("cimsim: " + where() + "'" + text.substr(a, std::min<std::size_t>(z - a, 40)) + "' is not a finite number");
            for (const char *q = b; q < e; ++q)
                if (*q == '.' || *q == 'e' || *q == 'E') {
                    m.all_integers = false;
                    break;
                }
            m.values.push_back(v);
            if (comma == end) break;
            f = comma + 1;
        }
        if (m.rows == 0) m.cols = fields;
        else if (fields != m.cols)
            throw Error("cimsim: " + name + ":" + std::to_string(line_no) + ": has " + std::to_string(fields) +
                        " columns, expected " + std::to_string(m.cols) + " like the first row");
        ++m.rows;
        pos = eol + 1;
    }
    if (m.rows == 0 && !allow_empty) throw Error("cimsim: " + name + ": no data rows");
    return m;
}

CsvMatrix read_csv(const std::string &path, bool allow_empty) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("cimsim: cannot open '" + path + "'");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw Error("cimsim: error reading '" + path + "'");
    return parse_csv(ss.str(), path, allow_empty);
}

namespace {
template <typename Fmt> void write_rows(const std::string &path, std::size_t n, std::uint32_t cols, Fmt fmt) {
    FILE *f = std::fopen(path.c_str(), "w");
    if (!f) throw Error("cimsim: cannot write '" + path + "'");
    for (std::size_t i = 0; i < n; ++i) {
        fmt(f, i);
        std::fputc((i + 1) % cols == 0 ? '\n' : ',', f);
    }
    if (std::fclose(f) != 0) throw Error("cimsim: error writing '" + path + "'");
}
}  // namespace

void write_csv_ints(const std::string &path, const std::vector<std::int64_t> &v, std::uint32_t cols) {
    write_rows(path, v.size(), cols, [&](FILE *f, std::size_t i) { std::fprintf(f, "%lld", (long long)v[i]); });
}

void write_csv_floats(const std::string &path, const std::vector<float> &v, std::uint32_t cols) {
    write_rows(path, v.size(), cols, [&](FILE *f, std::size_t i) { std::fprintf(f, "%.9g", double(v[i])); });
}

}  // namespace cimsim
