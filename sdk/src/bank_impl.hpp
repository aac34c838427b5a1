// SDK-internal: the register bank's data structures (shared by register_bank.cpp and svd.cpp).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "dynperiph/sdk/register_bank.hpp"
#include "dynperiph/sdk/svd.hpp"

namespace dynperiph {

struct FieldDef {
    std::string name;
    uint8_t lsb = 0, width = 0;
    uint32_t mask = 0;
    svd::FieldMode mode;
    ReadHook rhook;
    WriteHook whook;
};

struct RegDef {
    std::string name;
    uint32_t offset = 0;
    uint32_t reset = 0;
    uint32_t value = 0;
    svd::FieldMode mode; // whole-register mode when there are no fields
    std::vector<FieldDef> fields;
    int array = -1;
    unsigned index = 0;
    ReadHook rhook;
    WriteHook whook;
    // derived masks (recomputed by BankImpl::finalize)
    uint32_t defined = 0, readable = 0, rc = 0, normal = 0, w1c = 0, w1s = 0, w0c = 0, w1t = 0, ro = 0;
    bool field_rhooks = false, field_whooks = false;
    bool warned_reserved = false, warned_ro = false;
};

struct ArrayDef {
    std::string name;
    uint32_t first = 0; // index of element 0 in regs
    unsigned count = 0;
    ArrayReadHook rhook;
    ArrayWriteHook whook;
};

struct WindowDef {
    std::string name;
    uint32_t offset = 0, words = 0;
    WindowReadHook rd;
    WindowWriteHook wr;
};

// A register whose guest read is a plain load: no register, array or field read hook and no read-to-clear
// bits. `value` points into BankImpl::regs (valid until the bank changes, which empties the fast table).
struct FastRead {
    const uint32_t *value = nullptr; // nullptr: the word needs the full read path (or is unmapped)
    uint32_t readable = 0;
};

struct BankImpl {
    std::string name;
    std::vector<RegDef> regs;
    std::vector<ArrayDef> arrays;
    std::vector<WindowDef> windows;
    std::unordered_map<std::string, uint32_t> reg_by_name;
    std::unordered_map<std::string, uint32_t> array_by_name;
    // start word -> (end word exclusive, entry); entry >= 0: register index, entry < 0: window -1-entry
    std::map<uint32_t, std::pair<uint32_t, int32_t>> spans;
    std::vector<int32_t> table; // word index -> entry, kUnmapped if none; covers [0, table.size())
    // word index -> plain register, same extent as `table`; empty while table_dirty. Any change that can
    // affect a register's read behaviour (spans, fields, read hooks) calls invalidate().
    std::vector<FastRead> fast;
    bool table_dirty = true;
    Unmapped unmapped = Unmapped::ReadZero;
    LogSink log;
    unsigned guest_errors = 0;
    uint64_t declared_size = 0;

    static constexpr int32_t kUnmapped = INT32_MIN;
    static constexpr uint32_t kTableMaxWords = 1u << 18; // direct table for the first 1 MiB

    uint32_t add_reg(const std::string &name, uint32_t offset, uint32_t reset, svd::FieldMode mode);
    void add_field(uint32_t reg, const std::string &name, unsigned lsb, unsigned width, svd::FieldMode mode);
    void add_span(uint32_t start_word, uint32_t words, int32_t entry, const std::string &what);
    void finalize(RegDef &r);
    int32_t lookup(uint32_t word);
    void rebuild_table();
    void invalidate() {
        table_dirty = true;
        fast.clear();
    }
    void logf(dp_log_level level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
    RegDef &reg_named(const char *name);
    FieldDef &field_named(RegDef &r, const char *name);
    ArrayDef &array_named(const char *name);
};

svd::FieldMode mode_of(Access a);

// The MMIO read fast path (RegisterBank::read and the SDK's read trampoline): an aligned word read of a
// plain register is one table index and a mask (same result as the full path: stored value & readable
// bits). Returns false when the access needs the full path.
inline bool fast_read(const BankImpl &b, uint64_t offset, unsigned size, uint64_t &value) {
    if (size != 4 || (offset & 3) != 0 || (offset >> 2) >= b.fast.size())
        return false;
    const FastRead &f = b.fast[size_t(offset >> 2)];
    if (!f.value)
        return false;
    value = *f.value & f.readable;
    return true;
}

} // namespace dynperiph
