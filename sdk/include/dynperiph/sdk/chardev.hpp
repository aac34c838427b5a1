// dynperiph SDK: one port to a QEMU character device (ABI 1.1, include/dynperiph/chardev.h).
//
//   qemu ... -chardev socket,id=u0,path=u0.sock,server=on,wait=off -device dynperiph,...,chardev=u0
//
//   dynperiph::Chardev port_(host(), 0);                        // member of the peripheral
//   port_.on_receive([this](const uint8_t *b, size_t n) { ... push into the RX FIFO ... });
//   port_.on_writable([this] { drain_tx(); });                  // after a short write
//   port_.top_up(rx_free);                                      // credit = free RX FIFO space
//   size_t n = port_.write(buf, len);                           // never blocks; n < len: backend full
//
// Back-pressure: the host delivers no more bytes than the credit granted (top_up / grant), so the peer
// waits instead of losing bytes. The connection belongs to the device: it survives a hot reload, with its
// outstanding credit, so a restored FIFO only has to top_up() to its free space again. All calls and
// callbacks on the device thread (from your own thread: Async::post). Light header: <dynperiph/chardev.h>
// and callable.hpp only.
#pragma once

#include <dynperiph/chardev.h>

#include "dynperiph/sdk/callable.hpp"

namespace dynperiph {

class Host;

class Chardev {
  public:
    // Port `port` of chardev=ID[:ID...]. Throws dynperiph::Error naming what is missing (no such port, or a
    // host without the capability).
    Chardev(const Host &host, unsigned port = 0);
    ~Chardev();
    Chardev(const Chardev &) = delete;
    Chardev &operator=(const Chardev &) = delete;

    // How many ports the device was given (0 without chardev= or on a host without the capability).
    static unsigned count(const Host &host);

    void on_receive(Fn<void(const uint8_t *, size_t)> f) { receive_ = static_cast<decltype(f) &&>(f); }
    void on_writable(Fn<void()> f) { writable_ = static_cast<decltype(f) &&>(f); }
    void on_event(Fn<void(dp_chardev_event)> f) { event_ = static_cast<decltype(f) &&>(f); }

    size_t write(const void *buf, size_t len) { return api_->write(api_->ctx, port_, buf, len); }
    void grant(size_t bytes) { api_->grant(api_->ctx, port_, bytes); }
    size_t credit() const { return api_->credit(api_->ctx, port_); }
    // Grants what is missing for the credit to equal `free` (never takes credit back).
    void top_up(size_t free) {
        size_t c = credit();
        if (free > c)
            grant(free - c);
    }
    bool connected() const { return api_->connected(api_->ctx, port_); }
    const char *name() const { return api_->name(api_->ctx, port_); }
    unsigned port() const { return port_; }

  private:
    static void on_receive_cb(void *self, const uint8_t *buf, size_t len);
    static void on_writable_cb(void *self);
    static void on_event_cb(void *self, dp_chardev_event ev);
    const dp_host *host_ = nullptr;
    const dp_chardev_api *api_ = nullptr;
    unsigned port_ = 0;
    Fn<void(const uint8_t *, size_t)> receive_;
    Fn<void()> writable_;
    Fn<void(dp_chardev_event)> event_;
};

} // namespace dynperiph
