// dynperiph SDK: declarative register bank.
//
// A RegisterBank holds a peripheral's 32-bit registers, declared in code (add(...).field(...)) or loaded
// from a CMSIS-SVD description (from_svd*), and implements the guest-visible MMIO semantics:
//
//   field access  RW   read-write
//                 RO   read-only; a write that would change it is ignored and logged (once per register)
//                 WO   write-only; the written value is stored (hooks see it), reads return 0
//                 W1C  readable; writing 1 clears the bit, writing 0 leaves it
//                 W1S  readable; writing 1 sets the bit, writing 0 leaves it
//                 RC   read-only; a guest read returns the value, then clears it
//   (SVD may also give read-write+readAction=clear, zeroToClear, oneToToggle; those are supported too.)
//   reserved bits     bits of a register that has fields but that no field covers. Guest writes of 1s to
//                     them are ignored and logged once per register as a guest error; reads return 0.
//                     A register declared without fields is one field spanning 32 bits.
//   unmapped offsets  logged as guest errors; reads return 0 and writes are ignored, or, with
//                     set_unmapped(Unmapped::BusError), the access returns DP_ERR_BUS.
//   sub-word access   (size 1 or 2, naturally inside one 32-bit register) A read performs a full register
//                     read (hooks and read-to-clear act on the whole register) and returns the addressed
//                     bytes. A write only affects the addressed bytes: bits outside them are treated as not
//                     written (RW keeps its value, W1C/W1S act as 0), and only fields overlapping the
//                     written bytes get their write hook called.
//   8-byte access     (4-aligned) two 32-bit accesses, low word first. Any access crossing a 32-bit
//                     boundary otherwise is treated as unmapped.
//
// Hooks (called on the device thread, from read()/write()):
//   read:  the register's read hook runs first and may replace the stored value; then each field read hook
//          (ascending bit order) may replace its field; then WO and reserved bits are masked to 0; then
//          read-to-clear bits are cleared in storage.
//   write: the new stored value is computed from the access modes and stored; then field write hooks run
//          in ascending bit order (field-relative values), then the register write hook (whole register).
//          Hooks see WriteEvent{old_value, new_value, written, mask}; `written` is what the guest wrote
//          (restricted to `mask`, the bits the access covered).
//   Plugin-side get()/set() never trigger hooks, access modes or logging.
//
// Dispatch is a table indexed by word offset, so read()/write() cost O(1) plus the hooks.
#pragma once

#include <cstddef>
#include <cstdint>

#include <dynperiph/plugin.h>

#include "dynperiph/sdk/callable.hpp"
#include "dynperiph/sdk/error.hpp"

namespace dynperiph {

class StateWriter;
class StateReader;
class RegisterBank;
struct BankImpl; // defined in the SDK library

enum class Access : uint8_t { RW, RO, WO, W1C, W1S, RC };

enum class Unmapped : uint8_t { ReadZero, BusError };

struct WriteEvent {
    uint32_t old_value; // stored value before the write
    uint32_t new_value; // stored value after the write
    uint32_t written;   // value the guest wrote (bits outside `mask` are 0)
    uint32_t mask;      // bits covered by the access
};

using ReadHook = Fn<uint32_t(uint32_t value)>;
using WriteHook = Fn<void(const WriteEvent &)>;
using ArrayReadHook = Fn<uint32_t(unsigned index, uint32_t value)>;
using ArrayWriteHook = Fn<void(unsigned index, const WriteEvent &)>;
// Windows: word-indexed ranges without storage (e.g. a result window backed by a plugin buffer).
using WindowReadHook = Fn<uint32_t(uint32_t word)>;
using WindowWriteHook = Fn<void(uint32_t word, uint32_t value, uint32_t mask)>;
using LogSink = Fn<void(dp_log_level, const char *)>;

// Handle to one register. Cheap to copy; valid while the bank's contents live (moving a RegisterBank
// keeps handles valid; assigning another bank over it invalidates them).
class Reg {
  public:
    Reg() = default;
    uint32_t get() const;
    void set(uint32_t v) const;
    uint32_t offset() const;
    const char *name() const;
    bool valid() const { return bank_ != nullptr; }

  private:
    friend class RegisterBank;
    friend class RegBuilder;
    Reg(BankImpl *b, uint32_t i) : bank_(b), idx_(i) {}
    BankImpl *bank_ = nullptr;
    uint32_t idx_ = 0;
};

// Handle to one field: get()/set() work on the field-relative value.
class Field {
  public:
    Field() = default;
    uint32_t get() const { return (reg_.get() >> lsb_) & wmask(); }
    void set(uint32_t v) const { reg_.set((reg_.get() & ~mask()) | ((v & wmask()) << lsb_)); }
    uint32_t mask() const { return wmask() << lsb_; }
    unsigned lsb() const { return lsb_; }
    unsigned width() const { return width_; }
    Reg reg() const { return reg_; }

  private:
    friend class RegisterBank;
    Field(Reg r, unsigned lsb, unsigned width) : reg_(r), lsb_(uint8_t(lsb)), width_(uint8_t(width)) {}
    uint32_t wmask() const { return width_ >= 32 ? 0xffffffffu : ((1u << width_) - 1u); }
    Reg reg_;
    uint8_t lsb_ = 0, width_ = 0;
};

// Returned by RegisterBank::add: declares the register's fields.
class RegBuilder {
  public:
    // Field at bits [lsb, lsb+width); reset bits come from the register's reset value unless given.
    RegBuilder &field(const char *name, unsigned lsb, unsigned width, Access access);
    RegBuilder &field(const char *name, unsigned lsb, unsigned width, Access access, uint32_t reset);
    Reg reg() const;

  private:
    friend class RegisterBank;
    RegBuilder(RegisterBank *b, uint32_t i) : bank_(b), idx_(i) {}
    RegisterBank *bank_;
    uint32_t idx_;
};

class RegisterBank {
  public:
    // `name` prefixes log lines (the peripheral name). Registers may lie anywhere in [0, 2^32).
    explicit RegisterBank(const char *name = "regs");
    ~RegisterBank();
    RegisterBank(RegisterBank &&o) noexcept;
    // Move assignment keeps this bank's log sink if `o` has none (so a Peripheral's wiring survives
    // `regs() = RegisterBank::from_svd(...)`).
    RegisterBank &operator=(RegisterBank &&o) noexcept;
    RegisterBank(const RegisterBank &) = delete;
    RegisterBank &operator=(const RegisterBank &) = delete;

    // --- SVD (see svd.hpp for the supported subset). Errors throw dynperiph::Error naming the source,
    // the element and the problem. `peripheral` may be nullptr if the SVD has exactly one peripheral.
    static RegisterBank from_svd(const char *path_or_text, const char *peripheral);
    static RegisterBank from_svd_file(const char *path, const char *peripheral);
    static RegisterBank from_svd_text(const char *text, const char *peripheral, const char *source_name);

    // --- declaration (throws dynperiph::Error on overlaps, duplicates, misalignment)
    RegBuilder add(const char *name, uint32_t offset, uint32_t reset = 0, Access access = Access::RW);
    // `count` registers name[0..count-1] at offset + i*stride (stride a multiple of 4).
    void add_array(const char *name, uint32_t offset, unsigned count, uint32_t stride, uint32_t reset = 0,
                   Access access = Access::RW);
    // A storage-less window of `words` 32-bit words; a missing read hook reads 0, a missing write hook
    // makes writes guest errors.
    void add_window(const char *name, uint32_t offset, uint32_t words, WindowReadHook rd,
                    WindowWriteHook wr);

    // --- lookup (throws dynperiph::Error naming what is missing). "ODR[3]" names array element 3.
    Reg reg(const char *name) const;
    Reg reg(const char *array, unsigned index) const;
    Field field(const char *reg, const char *field) const;
    unsigned array_size(const char *array) const;
    bool has_reg(const char *name) const;
    uint32_t get(const char *reg) const { return this->reg(reg).get(); }
    void set(const char *reg, uint32_t v) const { this->reg(reg).set(v); }

    // --- hooks (a later call replaces an earlier hook of the same kind)
    void on_read(const char *reg, ReadHook h);
    void on_write(const char *reg, WriteHook h);
    void on_read(const char *reg, const char *field, ReadHook h);
    void on_write(const char *reg, const char *field, WriteHook h);
    void on_read_array(const char *array, ArrayReadHook h);
    void on_write_array(const char *array, ArrayWriteHook h);

    // --- behaviour
    void set_unmapped(Unmapped u);
    void set_log(LogSink sink);
    const char *name() const;
    uint64_t extent() const;   // one past the highest mapped byte
    uint64_t declared_size() const; // SVD addressBlock size (0 if unknown / declared in code)
    size_t register_count() const;
    unsigned guest_errors() const; // guest errors seen so far (logged or not)

    // --- guest side (the MMIO path)
    void reset();
    dp_status read(uint64_t offset, unsigned size, uint64_t &value);
    dp_status write(uint64_t offset, unsigned size, uint64_t value);
    // A debugger's read: what read() returns for a register without hooks, but never runs a hook, never
    // clears read-to-clear bits and never logs (registers with read hooks give their stored value;
    // windows and unmapped offsets are DP_ERR_BUS).
    dp_status peek(uint64_t offset, unsigned size, uint64_t &value);

    // --- hot reload: register values keyed by register name (registers missing from the blob keep
    // their reset values; unknown names in the blob are ignored with a debug log line).
    void save(StateWriter &w) const;
    void load(StateReader &r);

    BankImpl *impl() const noexcept { return impl_; } // SDK internal

  private:
    BankImpl *impl_;
};

} // namespace dynperiph
