// P2 register kinds (plugins/bench-regkinds.so): three 32-bit registers whose reads take the three
// paths of the SDK's register bank, for bench/overhead/run to time from the guest.
//   0x0 PLAIN   read-only constant 0x504C4149 ("PLAI"): the fast path (a table lookup, no call)
//   0x4 HOOKED  read-only, an on_read hook: the n-th read returns n (a std::function-like call per read)
//   0x8 RC      read-clear (SVD readAction=clear): the first read returns 0x52435243 ("RCRC"), later reads 0
// The firmware (bench-mmio-loop.elf) checks every value, so a read that skipped the hook or the side
// effect fails the run.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include <dynperiph/sdk/peripheral.hpp>

namespace {

using dynperiph::Access;

class RegKinds final : public dynperiph::Peripheral {
  public:
    explicit RegKinds(const dynperiph::CreateArgs &a) : Peripheral(a) {
        regs().add("PLAIN", 0x0, 0x504C4149u, Access::RO);
        regs().add("HOOKED", 0x4, 0, Access::RO);
        regs().add("RC", 0x8, 0x52435243u, Access::RC);
        regs().on_read("HOOKED", [this](uint32_t) { return ++reads_; });
    }

    void reset() override {
        Peripheral::reset();
        reads_ = 0;
    }

  private:
    uint32_t reads_ = 0;
};

} // namespace

DYNPERIPH_PLUGIN(RegKinds, "bench-regkinds", "P2 benchmark: plain, hooked and read-clear registers", 0x1000, 0, 1)
