// dynperiph SDK: CMSIS-SVD parser and SVD → RegisterBank (see svd.hpp for the supported subset).
#include "dynperiph/sdk/svd.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <pugixml.hpp>

#include "bank_impl.hpp"

namespace dynperiph::svd {

namespace {

struct Ctx {
    const std::string &text;
    const std::string &source;

    unsigned line_of(const pugi::xml_node &n) const {
        ptrdiff_t off = n.offset_debug();
        if (off < 0)
            return 0;
        size_t end = std::min(size_t(off), text.size());
        return 1 + unsigned(std::count(text.begin(), text.begin() + ptrdiff_t(end), '\n'));
    }

    [[noreturn]] void fail(const pugi::xml_node &n, const std::string &path, const std::string &problem) const {
        unsigned line = n ? line_of(n) : 0;
        std::string where = source;
        if (line)
            where += ":" + std::to_string(line);
        if (!path.empty())
            where += ": " + path;
        throw Error("%s: %s", where.c_str(), problem.c_str());
    }
};

std::string trim(const char *s) {
    std::string t = s ? s : "";
    size_t a = t.find_first_not_of(" \t\r\n");
    size_t b = t.find_last_not_of(" \t\r\n");
    return a == std::string::npos ? std::string() : t.substr(a, b - a + 1);
}

// Child text, trimmed, or empty if the child is absent.
std::string child_text(const pugi::xml_node &n, const char *name) { return trim(n.child(name).text().get()); }

bool parse_number(const std::string &s, uint64_t &out) {
    if (s.empty())
        return false;
    uint64_t v = 0;
    auto add = [&v](unsigned base, unsigned d) {
        if (v > (UINT64_MAX - d) / base)
            return false;
        v = v * base + d;
        return true;
    };
    if (s[0] == '#') {
        if (s.size() < 2)
            return false;
        for (size_t i = 1; i < s.size(); ++i) {
            if (s[i] != '0' && s[i] != '1')
                return false;
            if (!add(2, unsigned(s[i] - '0')))
                return false;
        }
    } else if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        for (size_t i = 2; i < s.size(); ++i) {
            char c = char(std::tolower(static_cast<unsigned char>(s[i])));
            unsigned d;
            if (c >= '0' && c <= '9')
                d = unsigned(c - '0');
            else if (c >= 'a' && c <= 'f')
                d = unsigned(c - 'a' + 10);
            else
                return false;
            if (!add(16, d))
                return false;
        }
    } else {
        for (char c : s) {
            if (c < '0' || c > '9')
                return false;
            if (!add(10, unsigned(c - '0')))
                return false;
        }
    }
    out = v;
    return true;
}

struct Props {
    std::string size, access, reset;
};

Props inherit(const Props &parent, const pugi::xml_node &n) {
    Props p = parent;
    if (n.child("size"))
        p.size = child_text(n, "size");
    if (n.child("access"))
        p.access = child_text(n, "access");
    if (n.child("resetValue"))
        p.reset = child_text(n, "resetValue");
    return p;
}

class Parser {
  public:
    Parser(const std::string &text, const std::string &source) : c_{text, source} {}

    Peripheral run(const std::string &want) {
        pugi::xml_document doc;
        pugi::xml_parse_result res = doc.load_buffer(c_.text.data(), c_.text.size());
        if (!res) {
            size_t end = std::min(size_t(std::max<ptrdiff_t>(res.offset, 0)), c_.text.size());
            unsigned line = 1 + unsigned(std::count(c_.text.begin(), c_.text.begin() + ptrdiff_t(end), '\n'));
            throw Error("%s:%u: XML error: %s", c_.source.c_str(), line, res.description());
        }
        pugi::xml_node dev = doc.document_element();
        if (std::strcmp(dev.name(), "device") != 0)
            c_.fail(dev, "", std::string("root element is <") + dev.name() + ">, expected <device>");
        Props dprops = inherit(Props{"32", "read-write", "0"}, dev);
        pugi::xml_node periphs = dev.child("peripherals");
        std::vector<pugi::xml_node> all;
        for (pugi::xml_node p : periphs.children("peripheral"))
            all.push_back(p);
        if (all.empty())
            c_.fail(dev, "device", "no <peripherals>/<peripheral> element");
        pugi::xml_node chosen;
        std::string names;
        for (pugi::xml_node p : all) {
            std::string n = child_text(p, "name");
            names += (names.empty() ? "" : ", ") + n;
            if (!want.empty() && n == want)
                chosen = p;
        }
        if (want == "*") {
            for (pugi::xml_node p : all)
                all_.push_back(peripheral(p, dprops));
            return all_.front();
        }
        if (want.empty()) {
            if (all.size() != 1)
                c_.fail(dev, "device", std::to_string(all.size()) + " peripherals; name one of: " + names);
            chosen = all[0];
        } else if (!chosen) {
            c_.fail(periphs, "device", "no peripheral named '" + want + "' (has: " + names + ")");
        }
        return peripheral(chosen, dprops);
    }

    std::vector<Peripheral> all_;

  private:
    Ctx c_;

    uint64_t number(const pugi::xml_node &n, const std::string &path, const char *child, uint64_t max) {
        pugi::xml_node e = n.child(child);
        std::string s = trim(e.text().get());
        uint64_t v;
        if (!parse_number(s, v))
            c_.fail(e, path, std::string("<") + child + "> '" + s + "' is not a number");
        if (v > max)
            c_.fail(e, path, std::string("<") + child + "> " + s + " is out of range (max " + std::to_string(max) + ")");
        return v;
    }

    uint64_t number_str(const pugi::xml_node &n, const std::string &path, const char *what, const std::string &s,
                        uint64_t max) {
        uint64_t v;
        if (!parse_number(s, v))
            c_.fail(n, path, std::string(what) + " '" + s + "' is not a number");
        if (v > max)
            c_.fail(n, path, std::string(what) + " " + s + " is out of range");
        return v;
    }

    std::string required(const pugi::xml_node &n, const std::string &path, const char *child) {
        if (!n.child(child))
            c_.fail(n, path, std::string("missing <") + child + ">");
        std::string s = child_text(n, child);
        if (s.empty())
            c_.fail(n.child(child), path, std::string("empty <") + child + ">");
        return s;
    }

    FieldMode mode(const pugi::xml_node &n, const std::string &path, const std::string &access,
                   const pugi::xml_node &mod_owner) {
        FieldMode m;
        if (access == "read-write" || access == "read-writeOnce") {
        } else if (access == "read-only") {
            m.writable = false;
        } else if (access == "write-only" || access == "writeOnce") {
            m.readable = false;
        } else {
            c_.fail(n, path, "<access> '" + access +
                                 "' is not one of read-only, write-only, read-write, writeOnce, read-writeOnce");
        }
        if (mod_owner) {
            std::string mw = child_text(mod_owner, "modifiedWriteValues");
            using W = FieldMode::Write;
            if (mw.empty() || mw == "modify")
                m.write = W::Normal;
            else if (mw == "oneToClear")
                m.write = W::OneToClear;
            else if (mw == "oneToSet")
                m.write = W::OneToSet;
            else if (mw == "zeroToClear")
                m.write = W::ZeroToClear;
            else if (mw == "oneToToggle")
                m.write = W::OneToToggle;
            else
                c_.fail(mod_owner.child("modifiedWriteValues"), path,
                        "<modifiedWriteValues> '" + mw +
                            "' is not supported (supported: oneToClear, oneToSet, zeroToClear, oneToToggle, modify)");
            if (m.write != W::Normal && !m.writable)
                c_.fail(mod_owner.child("modifiedWriteValues"), path,
                        "<modifiedWriteValues> " + mw + " on a read-only field");
            std::string ra = child_text(mod_owner, "readAction");
            if (ra == "clear") {
                if (!m.readable)
                    c_.fail(mod_owner.child("readAction"), path, "<readAction> clear on a write-only field");
                m.read_clears = true;
            } else if (!ra.empty()) {
                c_.fail(mod_owner.child("readAction"), path,
                        "<readAction> '" + ra + "' is not supported (supported: clear)");
            }
        }
        return m;
    }

    Peripheral peripheral(const pugi::xml_node &pn, const Props &dprops) {
        Peripheral p;
        p.source = c_.source;
        p.name = child_text(pn, "name");
        std::string path = "peripheral " + p.name;
        if (p.name.empty())
            c_.fail(pn, "peripheral", "missing <name>");
        if (pn.attribute("derivedFrom"))
            c_.fail(pn, path, "derivedFrom is not supported; describe the peripheral in full");
        p.description = child_text(pn, "description");
        if (pn.child("baseAddress")) {
            p.base = number(pn, path, "baseAddress", UINT64_MAX);
            p.has_base = true;
        }
        for (pugi::xml_node in : pn.children("interrupt")) {
            Interrupt irq;
            irq.name = child_text(in, "name");
            irq.description = child_text(in, "description");
            if (irq.name.empty())
                c_.fail(in, path + ", interrupt", "missing <name>");
            if (!in.child("value"))
                c_.fail(in, path + ", interrupt " + irq.name, "missing <value>");
            irq.value = uint32_t(number(in, path + ", interrupt " + irq.name, "value", 479));
            p.interrupts.push_back(irq);
        }
        for (pugi::xml_node ab : pn.children("addressBlock"))
            if (ab.child("size")) {
                uint64_t off = ab.child("offset") ? number(ab, path + ", addressBlock", "offset", UINT32_MAX) : 0;
                p.block_size = std::max(p.block_size, off + number(ab, path + ", addressBlock", "size", UINT32_MAX));
            }
        Props pprops = inherit(dprops, pn);
        pugi::xml_node regs = pn.child("registers");
        if (!regs)
            c_.fail(pn, path, "missing <registers>");
        for (pugi::xml_node rn : regs.children()) {
            if (rn.type() != pugi::node_element)
                continue;
            if (std::strcmp(rn.name(), "cluster") == 0)
                c_.fail(rn, path, "<cluster> is not supported; flatten it into registers");
            if (std::strcmp(rn.name(), "register") != 0)
                c_.fail(rn, path, std::string("unexpected <") + rn.name() + "> in <registers>");
            reg(p, rn, path, pprops);
        }
        if (p.registers.empty())
            c_.fail(regs, path, "<registers> is empty");
        std::stable_sort(p.registers.begin(), p.registers.end(),
                         [](const Register &a, const Register &b) { return a.offset < b.offset; });
        for (size_t i = 1; i < p.registers.size(); ++i) {
            const Register &a = p.registers[i - 1], &b = p.registers[i];
            if (a.offset == b.offset) {
                char buf[64];
                std::snprintf(buf, sizeof buf, "0x%x", b.offset);
                c_.fail(pugi::xml_node(), path,
                        "register " + b.name + " overlaps register " + a.name + " at offset " + buf);
            }
        }
        std::vector<std::string> seen;
        for (const Register &r : p.registers)
            seen.push_back(r.name);
        std::sort(seen.begin(), seen.end());
        auto dup = std::adjacent_find(seen.begin(), seen.end());
        if (dup != seen.end())
            c_.fail(pugi::xml_node(), path, "register name " + *dup + " is used twice");
        if (p.block_size) {
            for (const Register &r : p.registers)
                if (uint64_t(r.offset) + 4 > p.block_size) {
                    char buf[96];
                    std::snprintf(buf, sizeof buf, " at offset 0x%x lies outside the addressBlock (size 0x%llx)",
                                  r.offset, (unsigned long long)p.block_size);
                    c_.fail(pugi::xml_node(), path, "register " + r.name + buf);
                }
        }
        return p;
    }

    void reg(Peripheral &p, const pugi::xml_node &rn, const std::string &ppath, const Props &pprops) {
        std::string name = required(rn, ppath + ", register", "name");
        std::string path = ppath + ", register " + name;
        if (rn.attribute("derivedFrom"))
            c_.fail(rn, path, "derivedFrom is not supported; describe the register in full");
        Props props = inherit(pprops, rn);
        uint64_t size = number_str(rn.child("size") ? rn.child("size") : rn, path, "<size>", props.size, 64);
        if (size != 32)
            c_.fail(rn.child("size") ? rn.child("size") : rn, path,
                    "<size> " + props.size + " is not supported (only 32-bit registers)");
        if (!rn.child("addressOffset"))
            c_.fail(rn, path, "missing <addressOffset>");
        uint64_t offset = number(rn, path, "addressOffset", UINT32_MAX);
        if (offset % 4)
            c_.fail(rn.child("addressOffset"), path, "<addressOffset> " + child_text(rn, "addressOffset") +
                                                         " is not a multiple of 4");
        uint64_t reset =
            number_str(rn.child("resetValue") ? rn.child("resetValue") : rn, path, "<resetValue>", props.reset,
                       UINT32_MAX);
        Register proto;
        proto.description = child_text(rn, "description");
        proto.reset = uint32_t(reset);
        proto.access = props.access;
        proto.mode = mode(rn, path, props.access, rn);

        pugi::xml_node fields = rn.child("fields");
        for (pugi::xml_node fn : fields.children("field"))
            proto.fields.push_back(field(fn, path, props.access));
        std::sort(proto.fields.begin(), proto.fields.end(),
                  [](const Field &a, const Field &b) { return a.lsb < b.lsb; });
        for (size_t i = 1; i < proto.fields.size(); ++i) {
            const Field &a = proto.fields[i - 1], &b = proto.fields[i];
            if (a.lsb + a.width > b.lsb)
                c_.fail(fields, path,
                        "field " + b.name + " (bits " + std::to_string(b.lsb) + ".." +
                            std::to_string(b.lsb + b.width - 1) + ") overlaps field " + a.name + " (bits " +
                            std::to_string(a.lsb) + ".." + std::to_string(a.lsb + a.width - 1) + ")");
            if (a.name == b.name)
                c_.fail(fields, path, "field " + a.name + " is declared twice");
        }
        for (size_t i = 0; i < proto.fields.size(); ++i)
            for (size_t j = i + 1; j < proto.fields.size(); ++j)
                if (proto.fields[i].name == proto.fields[j].name)
                    c_.fail(fields, path, "field " + proto.fields[i].name + " is declared twice");

        if (!rn.child("dim")) {
            if (name.find("%s") != std::string::npos)
                c_.fail(rn, path, "name contains %s but there is no <dim>");
            proto.name = name;
            proto.offset = uint32_t(offset);
            p.registers.push_back(std::move(proto));
            return;
        }
        uint64_t dim = number(rn, path, "dim", 65536);
        if (dim == 0)
            c_.fail(rn.child("dim"), path, "<dim> must be at least 1");
        if (!rn.child("dimIncrement"))
            c_.fail(rn, path, "<dim> without <dimIncrement>");
        uint64_t inc = number(rn, path, "dimIncrement", UINT32_MAX);
        if (inc < 4 || inc % 4)
            c_.fail(rn.child("dimIncrement"), path, "<dimIncrement> must be a non-zero multiple of 4");
        if (offset + (dim - 1) * inc > UINT32_MAX)
            c_.fail(rn.child("dim"), path, "the array runs past offset 0xffffffff");
        bool is_array = name.size() > 4 && name.compare(name.size() - 4, 4, "[%s]") == 0;
        std::vector<std::string> index = dim_index(rn, path, unsigned(dim));
        if (is_array && rn.child("dimIndex"))
            c_.fail(rn.child("dimIndex"), path, "<dimIndex> is not allowed on an array register NAME[%s]");
        if (!is_array && name.find("%s") == std::string::npos)
            c_.fail(rn, path, "a register with <dim> needs %s in its name (NAME[%s] for an array)");
        std::string base = is_array ? name.substr(0, name.size() - 4) : name;
        for (unsigned i = 0; i < dim; ++i) {
            Register r = proto;
            r.offset = uint32_t(offset + i * inc);
            if (is_array) {
                r.name = base + "[" + std::to_string(i) + "]";
                r.array = base;
                r.index = i;
            } else {
                r.name = base;
                r.name.replace(r.name.find("%s"), 2, index[i]);
            }
            p.registers.push_back(std::move(r));
        }
    }

    std::vector<std::string> dim_index(const pugi::xml_node &rn, const std::string &path, unsigned dim) {
        std::vector<std::string> out;
        std::string s = child_text(rn, "dimIndex");
        if (s.empty()) {
            for (unsigned i = 0; i < dim; ++i)
                out.push_back(std::to_string(i));
            return out;
        }
        size_t dash = s.find('-');
        if (s.find(',') == std::string::npos && dash != std::string::npos) {
            uint64_t a, b;
            if (!parse_number(s.substr(0, dash), a) || !parse_number(s.substr(dash + 1), b) || b < a)
                c_.fail(rn.child("dimIndex"), path, "<dimIndex> '" + s + "' is not a range like 0-3");
            // Compare the count before expanding: a huge range must not be materialised (or wrap around).
            if (b - a != dim - 1)
                c_.fail(rn.child("dimIndex"), path,
                        "<dimIndex> '" + s + "' does not have " + std::to_string(dim) + " entries like <dim>");
            for (uint64_t i = 0; i < dim; ++i)
                out.push_back(std::to_string(a + i));
        } else {
            std::stringstream ss(s);
            std::string item;
            while (std::getline(ss, item, ','))
                out.push_back(trim(item.c_str()));
        }
        if (out.size() != dim)
            c_.fail(rn.child("dimIndex"), path,
                    "<dimIndex> has " + std::to_string(out.size()) + " entries but <dim> is " + std::to_string(dim));
        return out;
    }

    Field field(const pugi::xml_node &fn, const std::string &rpath, const std::string &reg_access) {
        Field f;
        f.name = required(fn, rpath + ", field", "name");
        std::string path = rpath + ", field " + f.name;
        if (fn.child("dim"))
            c_.fail(fn, path, "field arrays (<dim> on a field) are not supported");
        if (fn.attribute("derivedFrom"))
            c_.fail(fn, path, "derivedFrom is not supported");
        f.description = child_text(fn, "description");
        uint64_t lsb, msb;
        if (fn.child("bitOffset")) {
            lsb = number(fn, path, "bitOffset", 31);
            if (!fn.child("bitWidth"))
                c_.fail(fn, path, "<bitOffset> without <bitWidth>");
            uint64_t w = number(fn, path, "bitWidth", 32);
            if (w == 0)
                c_.fail(fn.child("bitWidth"), path, "<bitWidth> must be at least 1");
            msb = lsb + w - 1;
        } else if (fn.child("lsb") || fn.child("msb")) {
            if (!fn.child("lsb") || !fn.child("msb"))
                c_.fail(fn, path, "needs both <lsb> and <msb>");
            lsb = number(fn, path, "lsb", 31);
            msb = number(fn, path, "msb", 31);
        } else if (fn.child("bitRange")) {
            std::string br = child_text(fn, "bitRange");
            size_t colon = br.find(':');
            if (br.size() < 5 || br.front() != '[' || br.back() != ']' || colon == std::string::npos ||
                !parse_number(br.substr(1, colon - 1), msb) ||
                !parse_number(br.substr(colon + 1, br.size() - colon - 2), lsb))
                c_.fail(fn.child("bitRange"), path, "<bitRange> '" + br + "' is not of the form [msb:lsb]");
        } else {
            c_.fail(fn, path, "no bit position (<bitOffset>+<bitWidth>, <lsb>+<msb> or <bitRange>)");
        }
        if (msb < lsb || msb > 31)
            c_.fail(fn, path,
                    "bits " + std::to_string(lsb) + ".." + std::to_string(msb) + " do not fit in a 32-bit register");
        f.lsb = unsigned(lsb);
        f.width = unsigned(msb - lsb + 1);
        f.access = fn.child("access") ? child_text(fn, "access") : reg_access;
        f.mode = mode(fn.child("access") ? fn.child("access") : fn, path, f.access, fn);
        for (pugi::xml_node ev : fn.children("enumeratedValues"))
            for (pugi::xml_node e : ev.children("enumeratedValue")) {
                if (e.child("isDefault"))
                    continue;
                EnumValue v;
                v.name = required(e, path + ", enumeratedValue", "name");
                std::string epath = path + ", enumeratedValue " + v.name;
                uint64_t val = number(e, epath, "value", UINT32_MAX);
                if (f.width < 32 && val >> f.width)
                    c_.fail(e.child("value"), epath, "<value> does not fit in the field's " + std::to_string(f.width) +
                                                         " bits");
                v.value = uint32_t(val);
                v.description = child_text(e, "description");
                f.enums.push_back(std::move(v));
            }
        return f;
    }
};

} // namespace

Peripheral parse_text(const std::string &text, const std::string &peripheral, const std::string &source) {
    return Parser(text, source).run(peripheral);
}

std::vector<Peripheral> parse_all(const std::string &text, const std::string &source) {
    Parser parser(text, source);
    parser.run("*");
    return std::move(parser.all_);
}

Peripheral parse_file(const std::string &path, const std::string &peripheral) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error("%s: cannot open SVD file: %s", path.c_str(), std::strerror(errno));
    std::stringstream ss;
    ss << in.rdbuf();
    return parse_text(ss.str(), peripheral, path);
}

RegisterBank to_bank(const Peripheral &p) {
    RegisterBank bank(p.name.c_str());
    BankImpl &b = *bank.impl();
    b.declared_size = p.block_size;
    auto add = [&b](const Register &r) {
        uint32_t idx = b.add_reg(r.name, r.offset, r.reset, r.mode);
        for (const Field &f : r.fields)
            b.add_field(idx, f.name, f.lsb, f.width, f.mode);
        return idx;
    };
    std::vector<std::string> arrays;
    for (const Register &r : p.registers) {
        if (r.array.empty())
            add(r);
        else if (std::find(arrays.begin(), arrays.end(), r.array) == arrays.end())
            arrays.push_back(r.array);
    }
    // Array elements are added contiguously (index order) so an array is a run of register indices.
    for (const std::string &name : arrays) {
        ArrayDef a;
        a.name = name;
        a.first = uint32_t(b.regs.size());
        uint32_t aid = uint32_t(b.arrays.size());
        for (const Register &r : p.registers) {
            if (r.array != name)
                continue;
            uint32_t idx = add(r);
            b.regs[idx].array = int(aid);
            b.regs[idx].index = r.index;
            ++a.count;
        }
        b.arrays.push_back(std::move(a));
        b.array_by_name.emplace(name, aid);
    }
    return bank;
}

} // namespace dynperiph::svd

namespace dynperiph {

RegisterBank RegisterBank::from_svd_text(const char *text, const char *peripheral, const char *source_name) {
    return svd::to_bank(svd::parse_text(text ? text : "", peripheral ? peripheral : "",
                                        source_name ? source_name : "<svd text>"));
}

RegisterBank RegisterBank::from_svd_file(const char *path, const char *peripheral) {
    return svd::to_bank(svd::parse_file(path ? path : "", peripheral ? peripheral : ""));
}

RegisterBank RegisterBank::from_svd(const char *path_or_text, const char *peripheral) {
    const char *s = path_or_text ? path_or_text : "";
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        ++s;
    if (*s == '<')
        return from_svd_text(path_or_text, peripheral, "<svd text>");
    return from_svd_file(path_or_text, peripheral);
}

} // namespace dynperiph
