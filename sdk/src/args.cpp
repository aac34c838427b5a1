// dynperiph SDK: args= string parser (see args.hpp).
#include "dynperiph/sdk/args.hpp"

#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

namespace dynperiph {

struct Args::Impl {
    struct Item {
        std::string key, value;
        bool used = false;
    };
    std::vector<Item> items;
    std::vector<std::string> known;

    Item *find(const char *key) {
        known.emplace_back(key);
        for (Item &i : items)
            if (i.key == key) {
                i.used = true;
                return &i;
            }
        return nullptr;
    }
};

Args::Args(const char *text) : p_(new Impl) {
    std::string s = text ? text : "";
    size_t pos = 0;
    try {
        while (pos < s.size()) {
            size_t comma = s.find_first_of(",;", pos); // ';' needs no QEMU ',,' escaping
            if (comma == std::string::npos)
                comma = s.size();
            std::string item = s.substr(pos, comma - pos);
            pos = comma + 1;
            if (item.empty())
                continue;
            size_t eq = item.find('=');
            if (eq == std::string::npos || eq == 0)
                throw Error("args: '%s' is not of the form key=value", item.c_str());
            Impl::Item it{item.substr(0, eq), item.substr(eq + 1)};
            for (const Impl::Item &o : p_->items)
                if (o.key == it.key)
                    throw Error("args: key '%s' is given twice", it.key.c_str());
            p_->items.push_back(std::move(it));
        }
    } catch (...) {
        delete p_;
        throw;
    }
}

Args::~Args() { delete p_; }

bool Args::has(const char *key) const {
    for (const Impl::Item &i : p_->items)
        if (i.key == key)
            return true;
    return false;
}

uint64_t Args::u64(const char *key, uint64_t def, uint64_t min, uint64_t max) {
    Impl::Item *i = p_->find(key);
    if (!i)
        return def;
    const char *v = i->value.c_str();
    char *end = nullptr;
    errno = 0;
    unsigned long long n = std::strtoull(v, &end, 0);
    if (!*v || *end || errno || v[0] == '-')
        throw Error("args: %s='%s' is not a non-negative integer", key, v);
    if (n < min || n > max)
        throw Error("args: %s=%llu is out of range [%llu, %llu]", key, n, (unsigned long long)min,
                    (unsigned long long)max);
    return n;
}

bool Args::flag(const char *key, bool def) {
    Impl::Item *i = p_->find(key);
    if (!i)
        return def;
    const std::string &v = i->value;
    if (v == "1" || v == "true" || v == "yes" || v == "on")
        return true;
    if (v == "0" || v == "false" || v == "no" || v == "off")
        return false;
    throw Error("args: %s='%s' is not a boolean (0/1/true/false/yes/no/on/off)", key, v.c_str());
}

const char *Args::str(const char *key, const char *def) {
    Impl::Item *i = p_->find(key);
    return i ? i->value.c_str() : def;
}

void Args::finish() const {
    for (const Impl::Item &i : p_->items) {
        if (i.used)
            continue;
        std::vector<std::string> seen;
        std::string known;
        for (const std::string &k : p_->known) {
            bool dup = false;
            for (const std::string &x : seen)
                dup |= x == k;
            if (!dup) {
                seen.push_back(k);
                known += (known.empty() ? "" : ", ") + k;
            }
        }
        throw Error("args: unknown key '%s' (known: %s)", i.key.c_str(), known.empty() ? "none" : known.c_str());
    }
}

} // namespace dynperiph
