// dynperiph SDK: base class for a peripheral plugin, host wrapper, timers, and the export macro.
//
//   #include <dynperiph/sdk/peripheral.hpp>
//   class MyDev : public dynperiph::Peripheral {
//     public:
//       explicit MyDev(const dynperiph::CreateArgs &a) : Peripheral(a) {
//           regs() = dynperiph::RegisterBank::from_svd_text(svd, "MYDEV", "mydev.svd");
//           regs().on_write("CTRL", [this](const dynperiph::WriteEvent &e) { ... });
//       }
//   };
//   DYNPERIPH_PLUGIN(MyDev, "mydev", "what it does", 0x1000, 1, 1)
//
// Everything that crosses the C ABI goes through static noexcept trampolines in the SDK library: an
// exception thrown by the constructor becomes create()'s error text; one thrown by read/write is logged
// (DP_LOG_ERROR) and becomes DP_ERR_BUS (the guest sees a bus error, reads return 0); one thrown by reset
// or a timer callback is logged; one thrown by save_state becomes DP_ERR_INTERNAL, by load_state
// DP_ERR_INVALID. Nothing ever unwinds into the host.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>

#include <dynperiph/plugin.h>

#include "dynperiph/sdk/callable.hpp"
#include "dynperiph/sdk/error.hpp"
#include "dynperiph/sdk/register_bank.hpp"
#include "dynperiph/sdk/state.hpp"

#define DYNPERIPH_PRINTF(a, b) __attribute__((format(printf, a, b)))

namespace dynperiph {

// Thin, copyable wrapper over the dp_host services.
class Host {
  public:
    Host() = default;
    explicit Host(const dp_host *h) : h_(h) {}

    // DMA: DP_OK or DP_ERR_RANGE (nothing transferred) for a range that is not guest RAM.
    dp_status dma_read(uint64_t addr, void *buf, size_t len) const;
    dp_status dma_write(uint64_t addr, const void *buf, size_t len) const;
    // Convenience for any contiguous container (std::span, std::vector, std::array, ...) and C arrays.
    template <class C>
    dp_status dma_read(uint64_t addr, C &&c) const {
        return dma_read(addr, c.data(), c.size() * sizeof(*c.data()));
    }
    template <class C>
    dp_status dma_write(uint64_t addr, const C &c) const {
        return dma_write(addr, c.data(), c.size() * sizeof(*c.data()));
    }
    template <class T, size_t N>
    dp_status dma_read(uint64_t addr, T (&a)[N]) const {
        return dma_read(addr, a, sizeof a);
    }
    template <class T, size_t N>
    dp_status dma_write(uint64_t addr, const T (&a)[N]) const {
        return dma_write(addr, a, sizeof a);
    }

    void irq(unsigned line, bool level) const;
    uint64_t now_ns() const;
    void log(dp_log_level level, const char *fmt, ...) const DYNPERIPH_PRINTF(3, 4);
    void log_str(dp_log_level level, const char *msg) const;
    const char *instance_name() const;
    const void *capability(const char *id) const;
    const dp_host *raw() const { return h_; }

    // Runs f() on a host worker thread and returns when it has finished (see dp_host.run_blocking: f
    // must not call host services). An exception thrown by f is rethrown here, on the device thread.
    template <class F>
    dp_status run_blocking(F &&f) const {
        struct Job {
            F *f;
            std::exception_ptr ep;
        } job{&f, nullptr};
        dp_status st = run_blocking_raw(
            [](void *p) {
                Job *j = static_cast<Job *>(p);
                try {
                    (*j->f)();
                } catch (...) {
                    j->ep = std::current_exception();
                }
            },
            &job);
        if (job.ep)
            std::rethrow_exception(job.ep);
        return st;
    }
    dp_status run_blocking_raw(dp_work_fn fn, void *opaque) const;

  private:
    const dp_host *h_ = nullptr;
};

// One-shot timer on the guest's virtual clock (RAII: freed with the object). Not movable: the host keeps
// a pointer to it. The callback runs on the device thread; an exception it throws is logged.
class Timer {
  public:
    Timer(const Host &host, Fn<void()> cb);
    ~Timer();
    Timer(const Timer &) = delete;
    Timer &operator=(const Timer &) = delete;

    void arm_at(uint64_t deadline_ns);
    void arm_in(uint64_t delay_ns); // now_ns() + delay
    void cancel();
    bool armed() const { return armed_; }
    uint64_t deadline() const { return deadline_; }

  private:
    static void fire(void *self);
    Host host_;
    dp_timer *t_ = nullptr;
    Fn<void()> cb_;
    bool armed_ = false;
    uint64_t deadline_ = 0;
};

struct CreateArgs {
    const dp_host *host;
    const char *args; // the device's args= string, never nullptr
};

class Peripheral {
  public:
    explicit Peripheral(const CreateArgs &a);
    virtual ~Peripheral();
    Peripheral(const Peripheral &) = delete;
    Peripheral &operator=(const Peripheral &) = delete;

    // Safe defaults: everything goes through the register bank.
    virtual void reset();
    virtual dp_status read(uint64_t offset, unsigned size, uint64_t &value);
    virtual dp_status write(uint64_t offset, unsigned size, uint64_t value);
    // Hot reload. Default: the register bank (name-keyed, so it tolerates added/removed registers).
    // Return DP_ERR_BUSY from save_state while an operation is in flight.
    virtual dp_status save_state(StateWriter &w);
    virtual dp_status load_state(uint32_t version, StateReader &r);
    virtual const void *capability(const char *id);
    // A debugger's read (DYNPERIPH_CAP_PEEK): the value without side effects. Default: the register
    // bank's peek (stored value, no read hooks, read-to-clear bits stay). Override when read() is custom.
    virtual dp_status peek(uint64_t offset, unsigned size, uint64_t &value);
    // Lifecycle (ABI 1.1, include/dynperiph/lifecycle.h): the constructor may also run in QEMU's trial child
    // and, on hot reload, while the old instance still lives; take host resources that exist once (a
    // listening socket, threads, an exclusive file) in activate() and give them back in deactivate(). On hot
    // reload: old deactivate() -> its posted work runs -> save_state -> new constructor -> load_state -> new
    // activate(); the old instance is activated again if the new one fails. Throw dynperiph::Error from
    // activate() to refuse (the reason is reported). Defaults: nothing.
    virtual void activate();
    virtual void deactivate();

    const Host &host() const { return host_; }
    RegisterBank &regs() { return regs_; }
    const RegisterBank &regs() const { return regs_; }
    const char *args() const { return args_; }

    void irq(unsigned line, bool level) const { host_.irq(line, level); }
    void log_debug(const char *fmt, ...) const DYNPERIPH_PRINTF(2, 3);
    void log_info(const char *fmt, ...) const DYNPERIPH_PRINTF(2, 3);
    void guest_error(const char *fmt, ...) const DYNPERIPH_PRINTF(2, 3);
    void unimp(const char *fmt, ...) const DYNPERIPH_PRINTF(2, 3);
    void log_error(const char *fmt, ...) const DYNPERIPH_PRINTF(2, 3);

  private:
    Host host_;
    const char *args_;
    RegisterBank regs_;
};

namespace detail {
using Factory = Peripheral *(*)(const CreateArgs &);
dp_instance *create(Factory f, uint64_t mmio_size, const dp_host *h, const char *args, char *err, size_t n) noexcept;
void destroy(dp_instance *inst) noexcept;
void reset(dp_instance *inst) noexcept;
dp_status read(dp_instance *inst, uint64_t offset, unsigned size, uint64_t *value) noexcept;
dp_status write(dp_instance *inst, uint64_t offset, unsigned size, uint64_t value) noexcept;
dp_status save_state(dp_instance *inst, void *buf, size_t cap, size_t *len) noexcept;
dp_status load_state(dp_instance *inst, uint32_t version, const void *buf, size_t len) noexcept;
const void *get_capability(dp_instance *inst, const char *id) noexcept;
dp_status activate(dp_instance *inst, char *err, size_t n) noexcept;
void deactivate(dp_instance *inst) noexcept;
const dp_plugin_desc *entry(const dp_plugin_desc *d, dp_version host_abi) noexcept;
} // namespace detail

} // namespace dynperiph

// Defines the plugin's exported entry symbol and its static descriptor. Use once per plugin, at global
// scope. Class must have a constructor taking `const dynperiph::CreateArgs &`.
#define DYNPERIPH_PLUGIN(Class, name, description, mmio_size, irq_count, state_version)                       \
    static ::dynperiph::Peripheral *dynperiph_make_instance_(const ::dynperiph::CreateArgs &a) {               \
        return new Class(a);                                                                                   \
    }                                                                                                          \
    static dp_instance *dynperiph_create_(const dp_host *h, const char *args, char *err, size_t n) {         \
        return ::dynperiph::detail::create(&dynperiph_make_instance_, (mmio_size), h, args, err, n);            \
    }                                                                                                          \
    static const dp_plugin_desc dynperiph_desc_ = {                                                            \
        {DYNPERIPH_ABI_MAJOR, DYNPERIPH_ABI_MINOR},                                                            \
        (name),                                                                                                \
        (description),                                                                                         \
        (mmio_size),                                                                                           \
        (irq_count),                                                                                           \
        (state_version),                                                                                       \
        &dynperiph_create_,                                                                                    \
        &::dynperiph::detail::destroy,                                                                         \
        &::dynperiph::detail::reset,                                                                           \
        &::dynperiph::detail::read,                                                                            \
        &::dynperiph::detail::write,                                                                           \
        &::dynperiph::detail::save_state,                                                                      \
        &::dynperiph::detail::load_state,                                                                      \
        &::dynperiph::detail::get_capability,                                                                  \
    };                                                                                                         \
    extern "C" DP_EXPORT const dp_plugin_desc *dynperiph_plugin_entry(dp_version host_abi) {                   \
        return ::dynperiph::detail::entry(&dynperiph_desc_, host_abi);                                         \
    }
