// dynperiph SDK: Host wrapper, Timer, Peripheral defaults and the noexcept C-ABI trampolines.
#include "dynperiph/sdk/peripheral.hpp"
#include "dynperiph/sdk/embedded_svd.hpp"

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <new>
#include <vector>

#include <dynperiph/lifecycle.h>

#include "bank_impl.hpp"

namespace dynperiph {

namespace {

void vformat(char *buf, size_t n, const char *fmt, va_list ap) { std::vsnprintf(buf, n, fmt, ap); }

Peripheral *self(dp_instance *inst) { return reinterpret_cast<Peripheral *>(inst); }

// Logs an exception that reached the ABI boundary; never throws.
void report(const Peripheral *p, const char *where, const char *what) noexcept {
    if (p)
        p->log_error("%s failed: %s", where, what);
}

template <class F>
dp_status guarded(Peripheral *p, const char *where, dp_status on_error, F &&f) noexcept {
    try {
        return f();
    } catch (const std::exception &e) {
        report(p, where, e.what());
    } catch (...) {
        report(p, where, "unknown exception");
    }
    return on_error;
}

} // namespace

// ---------------------------------------------------------------------------------------------------
// Host

dp_status Host::dma_read(uint64_t addr, void *buf, size_t len) const { return h_->dma_read(h_->ctx, addr, buf, len); }
dp_status Host::dma_write(uint64_t addr, const void *buf, size_t len) const {
    return h_->dma_write(h_->ctx, addr, buf, len);
}
void Host::irq(unsigned line, bool level) const { h_->set_irq(h_->ctx, line, level ? 1 : 0); }
uint64_t Host::now_ns() const { return h_->clock_ns(h_->ctx); }
void Host::log_str(dp_log_level level, const char *msg) const {
    if (h_ && h_->log)
        h_->log(h_->ctx, level, msg);
}
void Host::log(dp_log_level level, const char *fmt, ...) const {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vformat(buf, sizeof buf, fmt, ap);
    va_end(ap);
    log_str(level, buf);
}
const char *Host::instance_name() const { return h_ && h_->instance_name ? h_->instance_name : ""; }
const void *Host::capability(const char *id) const {
    return h_->get_capability ? h_->get_capability(h_->ctx, id) : nullptr;
}
dp_status Host::run_blocking_raw(dp_work_fn fn, void *opaque) const { return h_->run_blocking(h_->ctx, fn, opaque); }

// ---------------------------------------------------------------------------------------------------
// Timer

Timer::Timer(const Host &host, Fn<void()> cb) : host_(host), cb_(static_cast<Fn<void()> &&>(cb)) {
    const dp_host *h = host_.raw();
    t_ = h->timer_new(h->ctx, &Timer::fire, this);
    if (!t_)
        throw Error("the host could not create a timer");
}

Timer::~Timer() {
    const dp_host *h = host_.raw();
    if (t_)
        h->timer_free(h->ctx, t_);
}

void Timer::arm_at(uint64_t deadline_ns) {
    const dp_host *h = host_.raw();
    deadline_ = deadline_ns;
    armed_ = true;
    h->timer_arm(h->ctx, t_, deadline_ns);
}

void Timer::arm_in(uint64_t delay_ns) { arm_at(host_.now_ns() + delay_ns); }

void Timer::cancel() {
    const dp_host *h = host_.raw();
    armed_ = false;
    h->timer_cancel(h->ctx, t_);
}

void Timer::fire(void *opaque) {
    Timer *t = static_cast<Timer *>(opaque);
    t->armed_ = false;
    if (!t->cb_)
        return;
    try {
        t->cb_();
    } catch (const std::exception &e) {
        t->host_.log(DP_LOG_ERROR, "timer callback failed: %s", e.what());
    } catch (...) {
        t->host_.log(DP_LOG_ERROR, "timer callback failed: unknown exception");
    }
}

// ---------------------------------------------------------------------------------------------------
// Peripheral

Peripheral::Peripheral(const CreateArgs &a) : host_(a.host), args_(a.args ? a.args : "") {
    regs_.set_log([this](dp_log_level l, const char *m) { host_.log_str(l, m); });
}
Peripheral::~Peripheral() = default;

void Peripheral::reset() { regs_.reset(); }
dp_status Peripheral::read(uint64_t offset, unsigned size, uint64_t &value) {
    // Inlined into the read trampoline (speculative devirtualization): plain registers need no call.
    if (fast_read(*regs_.impl(), offset, size, value))
        return DP_OK;
    return regs_.read(offset, size, value);
}
dp_status Peripheral::write(uint64_t offset, unsigned size, uint64_t value) { return regs_.write(offset, size, value); }
dp_status Peripheral::save_state(StateWriter &w) {
    regs_.save(w);
    return DP_OK;
}
dp_status Peripheral::load_state(uint32_t, StateReader &r) {
    regs_.load(r);
    return DP_OK;
}
const void *Peripheral::capability(const char *) { return nullptr; }
dp_status Peripheral::peek(uint64_t offset, unsigned size, uint64_t &value) { return regs_.peek(offset, size, value); }
void Peripheral::activate() {}
void Peripheral::deactivate() {}

#define DP_LOG_FN(fn, level)                                                                                    \
    void Peripheral::fn(const char *fmt, ...) const {                                                            \
        char buf[1024];                                                                                          \
        va_list ap;                                                                                              \
        va_start(ap, fmt);                                                                                       \
        vformat(buf, sizeof buf, fmt, ap);                                                                       \
        va_end(ap);                                                                                              \
        host_.log_str(level, buf);                                                                               \
    }
DP_LOG_FN(log_debug, DP_LOG_DEBUG)
DP_LOG_FN(log_info, DP_LOG_INFO)
DP_LOG_FN(guest_error, DP_LOG_GUEST_ERROR)
DP_LOG_FN(unimp, DP_LOG_UNIMP)
DP_LOG_FN(log_error, DP_LOG_ERROR)
#undef DP_LOG_FN

// ---------------------------------------------------------------------------------------------------
// Trampolines

namespace detail {

dp_instance *create(Factory f, uint64_t mmio_size, const dp_host *h, const char *args, char *err, size_t n) noexcept {
    auto fail = [&](const char *msg) -> dp_instance * {
        if (err && n) {
            std::snprintf(err, n, "%s", msg);
        }
        return nullptr;
    };
    if (!h)
        return fail("no host services given");
    Peripheral *p = nullptr;
    try {
        CreateArgs a{h, args ? args : ""};
        p = f(a);
        if (p->regs().extent() > mmio_size) {
            char msg[256];
            std::snprintf(msg, sizeof msg, "register map of %s ends at 0x%llx, beyond the plugin's MMIO size 0x%llx",
                          p->regs().name(), (unsigned long long)p->regs().extent(), (unsigned long long)mmio_size);
            delete p;
            return fail(msg);
        }
        return reinterpret_cast<dp_instance *>(p);
    } catch (const std::bad_alloc &) {
        return fail("out of memory");
    } catch (const std::exception &e) {
        return fail(e.what());
    } catch (...) {
        return fail("unknown exception in the plugin's constructor");
    }
}

void destroy(dp_instance *inst) noexcept {
    try {
        delete self(inst);
    } catch (...) {
        // a destructor that throws is already a terminate in C++; nothing sensible to do here
    }
}

void reset(dp_instance *inst) noexcept {
    Peripheral *p = self(inst);
    guarded(p, "reset", DP_ERR_INTERNAL, [&] {
        p->reset();
        return DP_OK;
    });
}

dp_status read(dp_instance *inst, uint64_t offset, unsigned size, uint64_t *value) noexcept {
    // The MMIO hot path: the device's read stores straight into *value (no temporary); the try block costs
    // nothing unless something throws.
    Peripheral *p = self(inst);
    *value = 0;
    try {
        dp_status st = p->read(offset, size, *value);
        return st == DP_ERR_INTERNAL ? DP_ERR_BUS : st; // the guest sees a bus error
    } catch (const std::exception &e) {
        report(p, "MMIO read", e.what());
    } catch (...) {
        report(p, "MMIO read", "unknown exception");
    }
    *value = 0; // a read that throws returns 0, whatever it stored before
    return DP_ERR_BUS;
}

dp_status write(dp_instance *inst, uint64_t offset, unsigned size, uint64_t value) noexcept {
    Peripheral *p = self(inst);
    dp_status st = guarded(p, "MMIO write", DP_ERR_INTERNAL, [&] { return p->write(offset, size, value); });
    return st == DP_ERR_INTERNAL ? DP_ERR_BUS : st;
}

dp_status save_state(dp_instance *inst, void *buf, size_t cap, size_t *len) noexcept {
    Peripheral *p = self(inst);
    return guarded(p, "save_state", DP_ERR_INTERNAL, [&] {
        StateWriter w;
        dp_status st = p->save_state(w);
        if (st != DP_OK)
            return st;
        if (len)
            *len = w.size();
        if (!buf)
            return DP_OK;
        if (cap < w.size())
            return DP_ERR_NOMEM;
        std::memcpy(buf, w.data(), w.size());
        return DP_OK;
    });
}

dp_status load_state(dp_instance *inst, uint32_t version, const void *buf, size_t len) noexcept {
    Peripheral *p = self(inst);
    return guarded(p, "load_state", DP_ERR_INVALID, [&] {
        StateReader r(buf, len);
        return p->load_state(version, r);
    });
}

dp_status activate(dp_instance *inst, char *err, size_t n) noexcept {
    Peripheral *p = self(inst);
    try {
        p->activate();
        return DP_OK;
    } catch (const std::exception &e) {
        if (err && n)
            std::snprintf(err, n, "%s", e.what());
    } catch (...) {
        if (err && n)
            std::snprintf(err, n, "unknown exception");
    }
    return DP_ERR_INTERNAL;
}

void deactivate(dp_instance *inst) noexcept {
    Peripheral *p = self(inst);
    guarded(p, "deactivate", DP_ERR_INTERNAL, [&] {
        p->deactivate();
        return DP_OK;
    });
}

namespace {
dp_status peek_tramp(dp_instance *inst, uint64_t offset, unsigned size, uint64_t *value) noexcept {
    try {
        return self(inst)->peek(offset, size, *value);
    } catch (...) {
        return DP_ERR_BUS;
    }
}
const dp_peek kPeek = {{1, 0}, &peek_tramp};
const dp_lifecycle kLifecycle = {{1, 0}, &activate, &deactivate};
} // namespace

const void *get_capability(dp_instance *inst, const char *id) noexcept {
    if (!id)
        return nullptr;
    if (!inst) { // plugin-level capabilities (ABI 1.1)
        if (std::strcmp(id, DYNPERIPH_CAP_PLACEMENT) == 0 && &embedded_placement != nullptr &&
            (embedded_placement.has_base || embedded_placement.has_irq))
            return &embedded_placement;
        return nullptr;
    }
    Peripheral *p = self(inst);
    if (id && std::strcmp(id, DP_LIFECYCLE_CAPABILITY) == 0)
        return &kLifecycle;
    try {
        if (const void *c = p->capability(id))
            return c;
        return std::strcmp(id, DYNPERIPH_CAP_PEEK) == 0 ? &kPeek : nullptr;
    } catch (...) {
        return nullptr;
    }
}

const dp_plugin_desc *entry(const dp_plugin_desc *d, dp_version host_abi) noexcept {
    return host_abi.major == d->abi.major ? d : nullptr;
}

} // namespace detail
} // namespace dynperiph
