// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "flat_params.hpp"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace dynperiph::cim {

namespace {

struct Reader {
    const char *s;
    size_t i = 0;

    [[noreturn]] void fail(const char *what) const {
        throw std::runtime_error("params are not a JSON object: " + std::string(what) + " at offset " +
                                 std::to_string(i));
    }
    void ws() {
        while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
            ++i;
    }
    bool eat(char c) {
        ws();
        if (s[i] != c)
            return false;
        ++i;
        return true;
    }
    std::string string() {
        if (!eat('"'))
            fail("expected a string");
        std::string out;
        while (s[i] != '"') {
            if (!s[i])
                fail("unterminated string");
            if (s[i] != '\\') {
                out += s[i++];
                continue;
            }
            const char e = s[++i];
            ++i;
            switch (e) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                unsigned cp = 0;
                for (int k = 0; k < 4; ++k, ++i) {
                    const char h = s[i];
                    if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F')))
                        fail("bad \\u escape");
                    cp = cp * 16 + unsigned(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
                }
                if (cp < 0x80) { // keys and values of interest are ASCII; others are kept as UTF-8
                    out += char(cp);
                } else if (cp < 0x800) {
                    out += char(0xC0 | (cp >> 6));
                    out += char(0x80 | (cp & 0x3F));
                } else {
                    out += char(0xE0 | (cp >> 12));
                    out += char(0x80 | ((cp >> 6) & 0x3F));
                    out += char(0x80 | (cp & 0x3F));
                }
                break;
            }
            default: fail("bad escape");
            }
        }
        ++i;
        return out;
    }
    // Skips any JSON value (for arrays / objects / null); nesting is bounded so hostile text cannot
    // exhaust the stack.
    void skip(int depth = 0) {
        if (depth > 64)
            fail("nesting deeper than 64 levels");
        ws();
        if (s[i] == '"') {
            string();
        } else if (s[i] == '[' || s[i] == '{') {
            const char close = s[i] == '[' ? ']' : '}';
            ++i;
            if (eat(close))
                return;
            do {
                if (close == '}') {
                    string();
                    if (!eat(':'))
                        fail("expected ':'");
                }
                skip(depth + 1);
            } while (eat(','));
            if (!eat(close))
                fail("unterminated array or object");
        } else if (std::strncmp(s + i, "null", 4) == 0 || std::strncmp(s + i, "true", 4) == 0) {
            i += 4;
        } else if (std::strncmp(s + i, "false", 5) == 0) {
            i += 5;
        } else {
            char *end = nullptr;
            std::strtod(s + i, &end);
            if (end == s + i)
                fail("expected a value");
            i = size_t(end - s);
        }
    }
};

} // namespace

std::vector<FlatParam> parse_flat_params(const char *json) {
    Reader r{json ? json : "{}"};
    std::vector<FlatParam> out;
    if (!r.eat('{'))
        r.fail("expected '{'");
    if (!r.eat('}')) {
        do {
            FlatParam p;
            p.key = r.string();
            if (!r.eat(':'))
                r.fail("expected ':'");
            r.ws();
            const char *v = r.s + r.i;
            if (*v == '"') {
                p.kind = FlatParam::String;
                p.text = r.string();
            } else if (std::strncmp(v, "true", 4) == 0 || std::strncmp(v, "false", 5) == 0) {
                p.kind = FlatParam::Bool;
                p.boolean = *v == 't';
                r.skip();
            } else if (*v == '-' || (*v >= '0' && *v <= '9')) {
                char *end = nullptr;
                p.kind = FlatParam::Number;
                p.number = std::strtod(v, &end);
                if (end == v || !std::isfinite(p.number))
                    r.fail("expected a finite number");
                r.i = size_t(end - r.s);
            } else {
                r.skip(); // array, object, null: Other
            }
            out.push_back(std::move(p));
        } while (r.eat(','));
        if (!r.eat('}'))
            r.fail("expected ',' or '}'");
    }
    r.ws();
    if (r.s[r.i])
        r.fail("trailing characters");
    return out;
}

} // namespace dynperiph::cim
