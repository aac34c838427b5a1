// dynperiph SDK: register bank implementation (see register_bank.hpp for the semantics).
#include "bank_impl.hpp"

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <utility>

#include "dynperiph/sdk/state.hpp"

namespace dynperiph {

namespace {
constexpr uint32_t kStateMagic = 0x42525044; // "DPRB"
constexpr uint32_t kStateFormat = 1;

uint32_t width_mask(unsigned width) { return width >= 32 ? 0xffffffffu : ((1u << width) - 1u); }
} // namespace

svd::FieldMode mode_of(Access a) {
    svd::FieldMode m;
    using W = svd::FieldMode::Write;
    switch (a) {
    case Access::RW: break;
    case Access::RO: m.writable = false; break;
    case Access::WO: m.readable = false; break;
    case Access::W1C: m.write = W::OneToClear; break;
    case Access::W1S: m.write = W::OneToSet; break;
    case Access::RC: m.writable = false; m.read_clears = true; break;
    }
    return m;
}

// ---------------------------------------------------------------------------------------------------
// BankImpl

void BankImpl::logf(dp_log_level level, const char *fmt, ...) {
    if (level == DP_LOG_GUEST_ERROR)
        ++guest_errors;
    if (!log)
        return;
    char buf[512];
    int n = std::snprintf(buf, sizeof buf, "%s: ", name.c_str());
    if (n < 0 || size_t(n) >= sizeof buf)
        n = 0;
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf + n, sizeof buf - size_t(n), fmt, ap);
    va_end(ap);
    log(level, buf);
}

void BankImpl::add_span(uint32_t start_word, uint32_t words, int32_t entry, const std::string &what) {
    uint32_t end = start_word + words;
    auto it = spans.upper_bound(start_word);
    auto clash = [&](const std::pair<const uint32_t, std::pair<uint32_t, int32_t>> &s) {
        int32_t e = s.second.second;
        const std::string other = e >= 0 ? "register " + regs[size_t(e)].name : "window " + windows[size_t(-1 - e)].name;
        throw Error("%s: %s at offset 0x%x overlaps %s at offset 0x%x", name.c_str(), what.c_str(),
                    start_word * 4, other.c_str(), s.first * 4);
    };
    if (it != spans.end() && it->first < end)
        clash(*it);
    if (it != spans.begin()) {
        auto prev = std::prev(it);
        if (prev->second.first > start_word)
            clash(*prev);
    }
    spans.emplace(start_word, std::make_pair(end, entry));
    invalidate();
}

uint32_t BankImpl::add_reg(const std::string &rname, uint32_t offset, uint32_t reset, svd::FieldMode mode) {
    if (rname.empty())
        throw Error("%s: register at offset 0x%x has an empty name", name.c_str(), offset);
    if (offset % 4)
        throw Error("%s: register %s: offset 0x%x is not a multiple of 4", name.c_str(), rname.c_str(), offset);
    if (reg_by_name.count(rname) || array_by_name.count(rname))
        throw Error("%s: register %s is declared twice", name.c_str(), rname.c_str());
    uint32_t idx = uint32_t(regs.size());
    add_span(offset / 4, 1, int32_t(idx), "register " + rname);
    RegDef r;
    r.name = rname;
    r.offset = offset;
    r.reset = r.value = reset;
    r.mode = mode;
    regs.push_back(std::move(r));
    reg_by_name.emplace(rname, idx);
    finalize(regs.back());
    return idx;
}

void BankImpl::add_field(uint32_t ri, const std::string &fname, unsigned lsb, unsigned width, svd::FieldMode mode) {
    RegDef &r = regs[ri];
    if (fname.empty())
        throw Error("%s: register %s: a field has an empty name", name.c_str(), r.name.c_str());
    if (width < 1 || lsb > 31 || lsb + width > 32)
        throw Error("%s: register %s: field %s bits [%u+%u] do not fit in 32 bits", name.c_str(), r.name.c_str(),
                    fname.c_str(), lsb, width);
    uint32_t mask = width_mask(width) << lsb;
    for (const FieldDef &f : r.fields) {
        if (f.name == fname)
            throw Error("%s: register %s: field %s is declared twice", name.c_str(), r.name.c_str(), fname.c_str());
        if (f.mask & mask)
            throw Error("%s: register %s: field %s (bits %u..%u) overlaps field %s (bits %u..%u)", name.c_str(),
                        r.name.c_str(), fname.c_str(), lsb, lsb + width - 1, f.name.c_str(), unsigned(f.lsb),
                        unsigned(f.lsb + f.width - 1));
    }
    FieldDef f;
    f.name = fname;
    f.lsb = uint8_t(lsb);
    f.width = uint8_t(width);
    f.mask = mask;
    f.mode = mode;
    auto pos = r.fields.begin();
    while (pos != r.fields.end() && pos->lsb < lsb)
        ++pos;
    r.fields.insert(pos, std::move(f));
    finalize(r);
}

void BankImpl::finalize(RegDef &r) {
    invalidate();
    r.defined = r.readable = r.rc = r.normal = r.w1c = r.w1s = r.w0c = r.w1t = r.ro = 0;
    r.field_rhooks = r.field_whooks = false;
    auto apply = [&r](uint32_t mask, const svd::FieldMode &m) {
        using W = svd::FieldMode::Write;
        r.defined |= mask;
        if (m.readable)
            r.readable |= mask;
        if (m.read_clears)
            r.rc |= mask;
        if (!m.writable) {
            r.ro |= mask;
            return;
        }
        switch (m.write) {
        case W::Normal: r.normal |= mask; break;
        case W::OneToClear: r.w1c |= mask; break;
        case W::OneToSet: r.w1s |= mask; break;
        case W::ZeroToClear: r.w0c |= mask; break;
        case W::OneToToggle: r.w1t |= mask; break;
        }
    };
    if (r.fields.empty()) {
        apply(0xffffffffu, r.mode);
    } else {
        for (const FieldDef &f : r.fields) {
            apply(f.mask, f.mode);
            r.field_rhooks |= bool(f.rhook);
            r.field_whooks |= bool(f.whook);
        }
    }
}

void BankImpl::rebuild_table() {
    uint32_t words = 0;
    if (!spans.empty()) {
        auto last = std::prev(spans.end());
        words = last->second.first;
    }
    if (words > kTableMaxWords)
        words = kTableMaxWords;
    table.assign(words, kUnmapped);
    for (const auto &[start, s] : spans)
        for (uint32_t w = start; w < s.first && w < words; ++w)
            table[w] = s.second;
    fast.assign(words, FastRead{});
    for (uint32_t w = 0; w < words; ++w) {
        if (table[w] < 0)
            continue;
        const RegDef &r = regs[size_t(table[w])];
        bool array_rhook = r.array >= 0 && arrays[size_t(r.array)].rhook;
        if (!r.rhook && !array_rhook && !r.field_rhooks && !r.rc)
            fast[w] = FastRead{&r.value, r.readable};
    }
    table_dirty = false;
}

int32_t BankImpl::lookup(uint32_t word) {
    if (table_dirty)
        rebuild_table();
    if (word < table.size())
        return table[word];
    auto it = spans.upper_bound(word);
    if (it == spans.begin())
        return kUnmapped;
    --it;
    return word < it->second.first ? it->second.second : kUnmapped;
}

RegDef &BankImpl::reg_named(const char *rname) {
    auto it = reg_by_name.find(rname);
    if (it == reg_by_name.end())
        throw Error("%s: no register named '%s'", name.c_str(), rname);
    return regs[it->second];
}

FieldDef &BankImpl::field_named(RegDef &r, const char *fname) {
    for (FieldDef &f : r.fields)
        if (f.name == fname)
            return f;
    throw Error("%s: register %s has no field named '%s'", name.c_str(), r.name.c_str(), fname);
}

ArrayDef &BankImpl::array_named(const char *aname) {
    auto it = array_by_name.find(aname);
    if (it == array_by_name.end())
        throw Error("%s: no register array named '%s'", name.c_str(), aname);
    return arrays[it->second];
}

// ---------------------------------------------------------------------------------------------------
// Reg / RegBuilder

uint32_t Reg::get() const { return bank_->regs[idx_].value; }
void Reg::set(uint32_t v) const { bank_->regs[idx_].value = v; }
uint32_t Reg::offset() const { return bank_->regs[idx_].offset; }
const char *Reg::name() const { return bank_->regs[idx_].name.c_str(); }

RegBuilder &RegBuilder::field(const char *name, unsigned lsb, unsigned width, Access access) {
    bank_->impl()->add_field(idx_, name ? name : "", lsb, width, mode_of(access));
    return *this;
}

RegBuilder &RegBuilder::field(const char *name, unsigned lsb, unsigned width, Access access, uint32_t reset) {
    field(name, lsb, width, access);
    RegDef &r = bank_->impl()->regs[idx_];
    uint32_t mask = width_mask(width) << lsb;
    r.reset = (r.reset & ~mask) | ((reset << lsb) & mask);
    r.value = (r.value & ~mask) | ((reset << lsb) & mask);
    return *this;
}

Reg RegBuilder::reg() const { return Reg(bank_->impl(), idx_); }

// ---------------------------------------------------------------------------------------------------
// RegisterBank

RegisterBank::RegisterBank(const char *name) : impl_(new BankImpl) { impl_->name = name ? name : "regs"; }
RegisterBank::~RegisterBank() { delete impl_; }
RegisterBank::RegisterBank(RegisterBank &&o) noexcept : impl_(o.impl_) { o.impl_ = new BankImpl; }

RegisterBank &RegisterBank::operator=(RegisterBank &&o) noexcept {
    if (this != &o) {
        if (!o.impl_->log)
            o.impl_->log = std::move(impl_->log);
        std::swap(impl_, o.impl_);
    }
    return *this;
}

RegBuilder RegisterBank::add(const char *name, uint32_t offset, uint32_t reset, Access access) {
    return RegBuilder(this, impl_->add_reg(name ? name : "", offset, reset, mode_of(access)));
}

void RegisterBank::add_array(const char *name, uint32_t offset, unsigned count, uint32_t stride, uint32_t reset,
                             Access access) {
    BankImpl &b = *impl_;
    std::string n = name ? name : "";
    if (count == 0 || stride < 4 || stride % 4)
        throw Error("%s: register array %s: need count >= 1 and a stride that is a multiple of 4 (got %u, %u)",
                    b.name.c_str(), n.c_str(), count, stride);
    if (b.array_by_name.count(n) || b.reg_by_name.count(n))
        throw Error("%s: register array %s is declared twice", b.name.c_str(), n.c_str());
    ArrayDef a;
    a.name = n;
    a.first = uint32_t(b.regs.size());
    a.count = count;
    uint32_t aid = uint32_t(b.arrays.size());
    for (unsigned i = 0; i < count; ++i) {
        uint32_t idx = b.add_reg(n + "[" + std::to_string(i) + "]", uint32_t(offset + uint64_t(i) * stride), reset,
                                 mode_of(access));
        b.regs[idx].array = int(aid);
        b.regs[idx].index = i;
    }
    b.arrays.push_back(std::move(a));
    b.array_by_name.emplace(n, aid);
}

void RegisterBank::add_window(const char *name, uint32_t offset, uint32_t words, WindowReadHook rd,
                              WindowWriteHook wr) {
    BankImpl &b = *impl_;
    std::string n = name ? name : "";
    if (offset % 4 || words == 0)
        throw Error("%s: window %s: offset 0x%x must be a multiple of 4 and size non-zero", b.name.c_str(),
                    n.c_str(), offset);
    WindowDef w;
    w.name = n;
    w.offset = offset;
    w.words = words;
    w.rd = std::move(rd);
    w.wr = std::move(wr);
    b.windows.push_back(std::move(w));
    try {
        b.add_span(offset / 4, words, -1 - int32_t(b.windows.size() - 1), "window " + n);
    } catch (...) {
        b.windows.pop_back();
        throw;
    }
}

Reg RegisterBank::reg(const char *name) const {
    RegDef &r = impl_->reg_named(name);
    return Reg(impl_, uint32_t(&r - impl_->regs.data()));
}

Reg RegisterBank::reg(const char *array, unsigned index) const {
    ArrayDef &a = impl_->array_named(array);
    if (index >= a.count)
        throw Error("%s: register array %s has %u elements, index %u is out of range", impl_->name.c_str(), array,
                    a.count, index);
    return Reg(impl_, a.first + index);
}

Field RegisterBank::field(const char *reg, const char *field) const {
    RegDef &r = impl_->reg_named(reg);
    FieldDef &f = impl_->field_named(r, field);
    return Field(Reg(impl_, uint32_t(&r - impl_->regs.data())), f.lsb, f.width);
}

unsigned RegisterBank::array_size(const char *array) const { return impl_->array_named(array).count; }
bool RegisterBank::has_reg(const char *name) const { return impl_->reg_by_name.count(name) != 0; }

void RegisterBank::on_read(const char *reg, ReadHook h) {
    impl_->reg_named(reg).rhook = std::move(h);
    impl_->invalidate();
}
void RegisterBank::on_write(const char *reg, WriteHook h) { impl_->reg_named(reg).whook = std::move(h); }

void RegisterBank::on_read(const char *reg, const char *field, ReadHook h) {
    RegDef &r = impl_->reg_named(reg);
    impl_->field_named(r, field).rhook = std::move(h);
    impl_->finalize(r);
}

void RegisterBank::on_write(const char *reg, const char *field, WriteHook h) {
    RegDef &r = impl_->reg_named(reg);
    impl_->field_named(r, field).whook = std::move(h);
    impl_->finalize(r);
}

void RegisterBank::on_read_array(const char *array, ArrayReadHook h) {
    impl_->array_named(array).rhook = std::move(h);
    impl_->invalidate();
}
void RegisterBank::on_write_array(const char *array, ArrayWriteHook h) {
    impl_->array_named(array).whook = std::move(h);
}

void RegisterBank::set_unmapped(Unmapped u) { impl_->unmapped = u; }
void RegisterBank::set_log(LogSink sink) { impl_->log = std::move(sink); }
const char *RegisterBank::name() const { return impl_->name.c_str(); }
uint64_t RegisterBank::declared_size() const { return impl_->declared_size; }
size_t RegisterBank::register_count() const { return impl_->regs.size(); }
unsigned RegisterBank::guest_errors() const { return impl_->guest_errors; }

uint64_t RegisterBank::extent() const {
    if (impl_->spans.empty())
        return 0;
    return uint64_t(std::prev(impl_->spans.end())->second.first) * 4;
}

void RegisterBank::reset() {
    for (RegDef &r : impl_->regs)
        r.value = r.reset;
}

namespace {

dp_status unmapped_access(BankImpl &b, bool is_write, uint64_t offset, unsigned size, uint64_t value) {
    if (is_write)
        b.logf(DP_LOG_GUEST_ERROR, "write of 0x%llx (size %u) to unmapped offset 0x%llx%s", (unsigned long long)value,
               size, (unsigned long long)offset, b.unmapped == Unmapped::BusError ? " (bus error)" : " ignored");
    else
        b.logf(DP_LOG_GUEST_ERROR, "read (size %u) from unmapped offset 0x%llx%s", size, (unsigned long long)offset,
               b.unmapped == Unmapped::BusError ? " (bus error)" : " returns 0");
    return b.unmapped == Unmapped::BusError ? DP_ERR_BUS : DP_OK;
}

uint32_t read_reg(BankImpl &b, RegDef &r) {
    uint32_t v = r.value;
    if (r.rhook)
        v = r.rhook(v);
    else if (r.array >= 0 && b.arrays[size_t(r.array)].rhook)
        v = b.arrays[size_t(r.array)].rhook(r.index, v);
    if (r.field_rhooks) {
        for (FieldDef &f : r.fields) {
            if (!f.rhook)
                continue;
            uint32_t fv = f.rhook((v & f.mask) >> f.lsb);
            v = (v & ~f.mask) | ((fv << f.lsb) & f.mask);
        }
    }
    v &= r.readable;
    if (r.rc)
        r.value &= ~r.rc;
    return v;
}

void write_reg(BankImpl &b, uint32_t idx, uint32_t w, uint32_t m) {
    RegDef *r = &b.regs[idx];
    uint32_t old = r->value;
    uint32_t reserved = w & m & ~r->defined;
    if (reserved) {
        if (!r->warned_reserved) {
            b.logf(DP_LOG_GUEST_ERROR, "write of 1s to reserved bits 0x%08x of %s (offset 0x%x) ignored", reserved,
                   r->name.c_str(), r->offset);
            r->warned_reserved = true;
        } else {
            ++b.guest_errors;
        }
    }
    uint32_t ro = (w ^ old) & m & r->ro;
    if (ro) {
        if (!r->warned_ro) {
            b.logf(DP_LOG_GUEST_ERROR, "write to read-only bits 0x%08x of %s (offset 0x%x) ignored", ro,
                   r->name.c_str(), r->offset);
            r->warned_ro = true;
        } else {
            ++b.guest_errors;
        }
    }
    uint32_t nv = old;
    nv = (nv & ~(m & r->normal)) | (w & m & r->normal);
    nv &= ~(w & m & r->w1c);
    nv |= w & m & r->w1s;
    nv &= ~(~w & m & r->w0c);
    nv ^= w & m & r->w1t;
    r->value = nv;
    if (r->field_whooks) {
        // Index-based: a hook may touch other registers (never add registers from a hook).
        for (size_t i = 0; i < b.regs[idx].fields.size(); ++i) {
            FieldDef &f = b.regs[idx].fields[i];
            if (!f.whook || !(f.mask & m))
                continue;
            WriteEvent ev{(old & f.mask) >> f.lsb, (nv & f.mask) >> f.lsb, (w & m & f.mask) >> f.lsb,
                          (m & f.mask) >> f.lsb};
            f.whook(ev);
        }
        r = &b.regs[idx];
    }
    WriteEvent ev{old, nv, w & m, m};
    if (r->whook)
        r->whook(ev);
    else if (r->array >= 0 && b.arrays[size_t(r->array)].whook)
        b.arrays[size_t(r->array)].whook(r->index, ev);
}

// Everything but an aligned 32-bit read of a plain register (kept out of line so the fast path in
// RegisterBank::read needs no stack frame).
__attribute__((noinline)) dp_status read_slow(RegisterBank &bank, BankImpl &b, uint64_t offset, unsigned size,
                                              uint64_t &value) {
    value = 0;
    if (size == 8 && offset % 4 == 0) {
        uint64_t lo = 0, hi = 0;
        dp_status st = bank.read(offset, 4, lo);
        if (st == DP_OK)
            st = bank.read(offset + 4, 4, hi);
        value = lo | (hi << 32);
        return st;
    }
    if ((size != 1 && size != 2 && size != 4) || (offset % 4) + size > 4 || offset > 0xffffffffu)
        return unmapped_access(b, false, offset, size, 0);
    int32_t e = b.lookup(uint32_t(offset / 4));
    if (e == BankImpl::kUnmapped)
        return unmapped_access(b, false, offset, size, 0);
    uint32_t word;
    if (e >= 0) {
        word = read_reg(b, b.regs[size_t(e)]);
    } else {
        WindowDef &w = b.windows[size_t(-1 - e)];
        word = w.rd ? w.rd(uint32_t(offset / 4 - w.offset / 4)) : 0;
    }
    unsigned shift = unsigned(offset % 4) * 8;
    uint32_t smask = size == 4 ? 0xffffffffu : ((1u << (size * 8)) - 1u);
    value = (word >> shift) & smask;
    return DP_OK;
}

} // namespace

dp_status RegisterBank::read(uint64_t offset, unsigned size, uint64_t &value) {
    if (fast_read(*impl_, offset, size, value))
        return DP_OK;
    return read_slow(*this, *impl_, offset, size, value);
}

dp_status RegisterBank::peek(uint64_t offset, unsigned size, uint64_t &value) {
    BankImpl &b = *impl_;
    value = 0;
    if (size == 8 && offset % 4 == 0) {
        uint64_t lo = 0, hi = 0;
        dp_status st = peek(offset, 4, lo);
        if (st == DP_OK)
            st = peek(offset + 4, 4, hi);
        value = lo | (hi << 32);
        return st;
    }
    if ((size != 1 && size != 2 && size != 4) || (offset % 4) + size > 4 || offset > 0xffffffffu)
        return DP_ERR_BUS;
    int32_t e = b.lookup(uint32_t(offset / 4));
    if (e < 0) // unmapped or a window (computed by a callback that may have side effects)
        return DP_ERR_BUS;
    const RegDef &r = b.regs[size_t(e)];
    value = ((r.value & r.readable) >> (unsigned(offset % 4) * 8)) &
            (size == 4 ? 0xffffffffu : ((1u << (size * 8)) - 1u));
    return DP_OK;
}

dp_status RegisterBank::write(uint64_t offset, unsigned size, uint64_t value) {
    BankImpl &b = *impl_;
    if (size == 8 && offset % 4 == 0) {
        dp_status st = write(offset, 4, value & 0xffffffffu);
        dp_status st2 = write(offset + 4, 4, value >> 32);
        return st != DP_OK ? st : st2;
    }
    if ((size != 1 && size != 2 && size != 4) || (offset % 4) + size > 4 || offset > 0xffffffffu)
        return unmapped_access(b, true, offset, size, value);
    int32_t e = b.lookup(uint32_t(offset / 4));
    if (e == BankImpl::kUnmapped)
        return unmapped_access(b, true, offset, size, value);
    unsigned shift = unsigned(offset % 4) * 8;
    uint32_t smask = size == 4 ? 0xffffffffu : ((1u << (size * 8)) - 1u);
    uint32_t m = smask << shift;
    uint32_t w = uint32_t(value << shift) & m;
    if (e >= 0) {
        write_reg(b, uint32_t(e), w, m);
    } else {
        WindowDef &win = b.windows[size_t(-1 - e)];
        if (win.wr)
            win.wr(uint32_t(offset / 4 - win.offset / 4), w, m);
        else
            b.logf(DP_LOG_GUEST_ERROR, "write of 0x%x to read-only window %s at offset 0x%llx ignored", w,
                   win.name.c_str(), (unsigned long long)offset);
    }
    return DP_OK;
}

void RegisterBank::save(StateWriter &w) const {
    w.u32(kStateMagic);
    w.u32(kStateFormat);
    w.u32(uint32_t(impl_->regs.size()));
    for (const RegDef &r : impl_->regs) {
        w.str(r.name.c_str());
        w.u32(r.value);
    }
}

void RegisterBank::load(StateReader &r) {
    if (r.u32() != kStateMagic)
        throw Error("%s: state blob does not start with a register-bank record", impl_->name.c_str());
    uint32_t fmt = r.u32();
    if (fmt != kStateFormat)
        throw Error("%s: register-bank state format %u is not supported (expected %u)", impl_->name.c_str(), fmt,
                    kStateFormat);
    uint32_t n = r.u32();
    // Decode fully before applying, so a truncated blob leaves the registers untouched.
    std::vector<std::pair<uint32_t, uint32_t>> updates;
    char name[256];
    for (uint32_t i = 0; i < n; ++i) {
        r.str(name, sizeof name);
        uint32_t v = r.u32();
        auto it = impl_->reg_by_name.find(name);
        if (it == impl_->reg_by_name.end())
            impl_->logf(DP_LOG_DEBUG, "state blob register %s no longer exists; dropped", name);
        else
            updates.emplace_back(it->second, v);
    }
    for (auto [idx, v] : updates)
        impl_->regs[idx].value = v;
}

// ---------------------------------------------------------------------------------------------------
// Error

Error::Error(const char *fmt, ...) noexcept {
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(msg_, sizeof msg_, fmt, ap);
    va_end(ap);
}

} // namespace dynperiph
