// dynperiph SDK: the exception type plugin code throws for "this cannot work" (bad args, bad SVD, bad
// state blob). The SDK's trampolines catch every exception at the C ABI boundary and turn it into a
// dp_status plus one log line / create() error text, so a plugin never unwinds into QEMU.
#pragma once

#include <exception>

namespace dynperiph {

class Error : public std::exception {
  public:
    // printf-style message; truncated to 511 characters.
    explicit Error(const char *fmt, ...) noexcept __attribute__((format(printf, 2, 3)));
    const char *what() const noexcept override { return msg_; }

  private:
    char msg_[512];
};

} // namespace dynperiph
