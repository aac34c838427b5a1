// dynperiph SDK: parser for the device's args= string: "key=value,key=value" or "key=value;key=value" (no
// spaces around keys; values may not contain ',' or ';'). On the QEMU command line a ',' inside args= must be doubled
// (args=a=1,,b=2); ';' needs no escaping (args=a=1;b=2, quoted for the shell).
// Typed getters with defaults and ranges; finish() rejects unknown keys, so a
// typo becomes one clear create() error instead of a silently ignored setting.
//
//   dynperiph::Args a(args());
//   uint64_t hz = a.u64("clock_hz", 50000000, 1, 4000000000);
//   a.finish();   // throws dynperiph::Error: "args: unknown key 'clk' (known: clock_hz)"
#pragma once

#include <cstdint>

#include "dynperiph/sdk/error.hpp"

namespace dynperiph {

class Args {
  public:
    explicit Args(const char *text); // throws Error on a malformed or duplicated pair
    ~Args();
    Args(const Args &) = delete;
    Args &operator=(const Args &) = delete;

    bool has(const char *key) const;
    // Decimal or 0x-hex; throws Error naming the key for a non-number or a value outside [min, max].
    uint64_t u64(const char *key, uint64_t def, uint64_t min = 0, uint64_t max = UINT64_MAX);
    bool flag(const char *key, bool def); // 0/1/true/false/yes/no/on/off
    // The value's text (valid while this Args lives), or def if the key is absent.
    const char *str(const char *key, const char *def);
    // Throws Error if a key was given that no getter asked for.
    void finish() const;

  private:
    struct Impl;
    Impl *p_;
};

} // namespace dynperiph
