// dynperiph SDK: work posted from any thread runs on the device thread (ABI 1.1, include/dynperiph/async.h).
//
//   dynperiph::Async async_(host());                       // member of the peripheral
//   std::thread ...: async_.post([this] { regs().field("STATUS", "READY").set(1); irq(0, true); });
//                    async_.irq(0, true);                   // just an IRQ change
//
// post() and irq() may be called from any thread; the work runs on the device thread, never concurrently
// with MMIO, timers or other callbacks of the peripheral, in the order one thread posted it (async.h has the
// whole contract). An exception thrown by posted work is logged. Stop your threads in deactivate() (see
// Peripheral::activate): work still queued when the peripheral is destroyed is dropped. Light header:
// <dynperiph/async.h> and callable.hpp only.
#pragma once

#include <dynperiph/async.h>

#include "dynperiph/sdk/callable.hpp"

namespace dynperiph {

class Host;

class Async {
  public:
    // Throws dynperiph::Error if the host has no async capability (an ABI 1.0 host).
    explicit Async(const Host &host);

    // Any thread: f() runs later on the device thread. false if it could not be queued (out of memory).
    bool post(Fn<void()> f) const;
    // Any thread: drive IRQ line `line` to `level` on the device thread (ordered with post()).
    bool irq(unsigned line, bool level) const;

    const dp_async_api *raw() const { return api_; }

  private:
    static void run(void *job);
    const dp_host *host_ = nullptr;
    const dp_async_api *api_ = nullptr;
};

} // namespace dynperiph
