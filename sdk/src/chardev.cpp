// dynperiph SDK: Chardev (include/dynperiph/sdk/chardev.hpp).
#include "dynperiph/sdk/chardev.hpp"

#include <exception>

#include "dynperiph/sdk/error.hpp"
#include "dynperiph/sdk/peripheral.hpp"

namespace dynperiph {

namespace {
const dp_chardev_api *api_of(const Host &host) {
    auto *api = static_cast<const dp_chardev_api *>(host.capability(DP_CHARDEV_CAPABILITY));
    return api && api->abi.major == 1 ? api : nullptr;
}

template <class F>
void guarded(const dp_host *h, const char *what, F &&f) noexcept {
    try {
        f();
    } catch (const std::exception &e) {
        Host(h).log(DP_LOG_ERROR, "chardev %s callback failed: %s", what, e.what());
    } catch (...) {
        Host(h).log(DP_LOG_ERROR, "chardev %s callback failed: unknown exception", what);
    }
}
} // namespace

unsigned Chardev::count(const Host &host) {
    const dp_chardev_api *api = api_of(host);
    return api ? api->count : 0;
}

Chardev::Chardev(const Host &host, unsigned port) : host_(host.raw()), api_(api_of(host)), port_(port) {
    if (!api_)
        throw Error("the host has no " DP_CHARDEV_CAPABILITY " capability (QEMU's dynperiph device older than "
                    "ABI 1.1)");
    if (port >= api_->count)
        throw Error("chardev port %u needed, the device was given %u (-device dynperiph,...,chardev=ID[:ID...] "
                    "with -chardev ...,id=ID)",
                    port, api_->count);
    const dp_chardev_handlers h = {&Chardev::on_receive_cb, &Chardev::on_writable_cb, &Chardev::on_event_cb};
    api_->set_handlers(api_->ctx, port_, &h, this);
}

Chardev::~Chardev() { api_->set_handlers(api_->ctx, port_, nullptr, nullptr); }

void Chardev::on_receive_cb(void *self, const uint8_t *buf, size_t len) {
    Chardev *c = static_cast<Chardev *>(self);
    if (c->receive_)
        guarded(c->host_, "receive", [&] { c->receive_(buf, len); });
}

void Chardev::on_writable_cb(void *self) {
    Chardev *c = static_cast<Chardev *>(self);
    if (c->writable_)
        guarded(c->host_, "writable", [&] { c->writable_(); });
}

void Chardev::on_event_cb(void *self, dp_chardev_event ev) {
    Chardev *c = static_cast<Chardev *>(self);
    if (c->event_)
        guarded(c->host_, "event", [&] { c->event_(ev); });
}

} // namespace dynperiph
