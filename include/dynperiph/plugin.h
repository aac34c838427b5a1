/*
 * dynperiph plugin ABI: the only thing QEMU's `dynperiph` device and a peripheral plugin share.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later OR MIT
 *
 * A plugin is a shared object that exports exactly one symbol, DYNPERIPH_ENTRY_SYMBOL, of type
 * dp_entry_fn. The host (QEMU's dynperiph device, or the test harness) calls it once per loaded file
 * and gets back a dp_plugin_desc describing the plugin and its callbacks. The host then creates one
 * instance per device (several instances of one plugin may coexist).
 *
 * Rules:
 *  - Every struct that crosses the boundary starts with a dp_version {major, minor}. A host accepts a
 *    plugin whose `abi.major == DYNPERIPH_ABI_MAJOR` and `abi.minor <= DYNPERIPH_ABI_MINOR` (the loader
 *    names both versions when it refuses). Minor versions only append members at the end of a struct;
 *    readers check `minor` before touching a member added later.
 *  - Optional capabilities are looked up by string id with dp_host.get_capability (host side) and
 *    dp_plugin_desc.get_capability (plugin side); NULL means "unsupported". This is how the ABI grows
 *    without breaking old plugins.
 *  - Threads (the threading contract): unless a comment says otherwise, every callback is invoked on
 *    "the device thread": the thread that owns the device at that moment (in QEMU: a vCPU thread or
 *    the main loop, always with QEMU's global lock held), never concurrently with another callback of
 *    the same instance (MMIO, reset, timers, posted work, chardev callbacks, save/load, activate /
 *    deactivate). Host services may only be called from the device thread, except where marked "any
 *    thread". A plugin's own threads (started in activate, stopped in deactivate: lifecycle.h) reach
 *    the device only through the async capability (async.h): post() from any thread queues work that
 *    runs later on the device thread, where every host service may be called.
 *  - No callback may throw (C++), longjmp out or call exit(). Errors are returned as dp_status.
 *  - Only <stdint.h>, <stddef.h> and <stdbool.h> are included; compiled as C11 and C++17 in the tests.
 *
 * ABI change log:
 *   1.0  first version: MMIO, reset, DMA, IRQ, virtual clock, timers, logging, blocking work,
 *        save/restore for hot reload.
 *   1.1  no struct changed (a 1.0 plugin works unchanged on a 1.1 host); capabilities only:
 *        desc.get_capability may be called with inst == NULL for plugin-level capabilities (a 1.1
 *        plugin returns NULL for ids it does not know): DYNPERIPH_CAP_PLACEMENT (default MMIO base and
 *        first IRQ, plugin level); per instance DYNPERIPH_CAP_PEEK (side-effect-free debugger reads) and
 *        "dynperiph.lifecycle/1" (lifecycle.h: activate / deactivate around creation, hot reload and
 *        destruction, for host resources such as sockets, threads and files); host capabilities, each in
 *        its own header: "dynperiph.async/1" (async.h: post work / IRQ changes from any thread) and
 *        "dynperiph.chardev/1" (chardev.h: QEMU character devices with back-pressure).
 */
#ifndef DYNPERIPH_PLUGIN_H
#define DYNPERIPH_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DYNPERIPH_ABI_MAJOR 1
#define DYNPERIPH_ABI_MINOR 1
#define DYNPERIPH_ENTRY_SYMBOL "dynperiph_plugin_entry"

#if defined(_WIN32)
#define DP_EXPORT __declspec(dllexport)
#else
#define DP_EXPORT __attribute__((visibility("default")))
#endif

typedef struct dp_version {
    uint16_t major;
    uint16_t minor;
} dp_version;

typedef enum dp_status {
    DP_OK = 0,
    DP_ERR_BUS = 1,         /* MMIO: the access is a bus error (the guest sees a fault) */
    DP_ERR_INVALID = 2,     /* bad argument (e.g. args string rejected, bad state blob) */
    DP_ERR_RANGE = 3,       /* DMA: address range not backed by guest RAM or out of bounds */
    DP_ERR_NOMEM = 4,
    DP_ERR_UNSUPPORTED = 5,
    DP_ERR_BUSY = 6,        /* save_state: an operation is in flight; the host retries later */
    DP_ERR_INTERNAL = 7
} dp_status;

typedef enum dp_log_level {
    DP_LOG_DEBUG = 0,       /* QEMU: trace event dynperiph_log */
    DP_LOG_INFO = 1,        /* QEMU: trace event dynperiph_log */
    DP_LOG_GUEST_ERROR = 2, /* QEMU: qemu_log_mask(LOG_GUEST_ERROR), shown with -d guest_errors */
    DP_LOG_UNIMP = 3,       /* QEMU: qemu_log_mask(LOG_UNIMP), shown with -d unimp */
    DP_LOG_ERROR = 4        /* QEMU: error_report (always shown) */
} dp_log_level;

typedef struct dp_timer dp_timer; /* opaque, owned by the host */
typedef void (*dp_timer_cb)(void *opaque);
typedef void (*dp_work_fn)(void *opaque);

/*
 * Services the host offers a plugin instance. Valid from create() until destroy() returns. `ctx` is the
 * host's per-instance context: pass it back as the first argument of every service.
 */
typedef struct dp_host {
    dp_version abi;  /* the host's ABI version */
    void *ctx;
    const char *instance_name; /* the device id (QEMU: -device ...,id=NAME), never NULL */

    /*
     * Guest-physical memory access (DMA). Returns DP_ERR_RANGE, touching nothing, if any byte of
     * [addr, addr+len) is not guest RAM/ROM (or addr+len overflows). Never reaches host memory outside
     * guest RAM. len may be 0.
     */
    dp_status (*dma_read)(void *ctx, uint64_t addr, void *buf, size_t len);
    dp_status (*dma_write)(void *ctx, uint64_t addr, const void *buf, size_t len);

    /* Drives output IRQ line `line` (0 .. irq_count-1 from the descriptor) to `level` (0 or 1). */
    void (*set_irq)(void *ctx, unsigned line, int level);

    /* Guest virtual time in nanoseconds (QEMU_CLOCK_VIRTUAL): deterministic under -icount. */
    uint64_t (*clock_ns)(void *ctx);

    /*
     * One-shot timers on the virtual clock. timer_new returns NULL on failure. timer_arm (re)arms the
     * timer to fire at absolute virtual time `deadline_ns`; the callback runs on the device thread.
     * Timers still existing at destroy() are freed by the host.
     */
    dp_timer *(*timer_new)(void *ctx, dp_timer_cb cb, void *opaque);
    void (*timer_arm)(void *ctx, dp_timer *t, uint64_t deadline_ns);
    void (*timer_cancel)(void *ctx, dp_timer *t);
    void (*timer_free)(void *ctx, dp_timer *t);

    /* Logs one message (no trailing newline needed). */
    void (*log)(void *ctx, dp_log_level level, const char *msg);

    /*
     * Runs fn(opaque) on a host worker thread and returns when it has finished. While it runs, the
     * calling vCPU is stalled (guest virtual time does not advance for it, so results stay
     * deterministic under -icount) but QEMU's global lock is released, so the monitor, QMP and other
     * devices keep working. fn must not call any other host service. No callback of the instance runs
     * meanwhile: MMIO from other vCPUs is refused, timers that fire and a system reset are delivered
     * when fn has returned. Returns DP_OK, or an error if the work could not be started (then fn was
     * not run).
     */
    dp_status (*run_blocking)(void *ctx, dp_work_fn fn, void *opaque);

    /*
     * Optional host capabilities by id (e.g. DP_ASYNC_CAPABILITY from async.h); NULL if unsupported.
     * The returned struct is valid until destroy() returns. Device thread (also inside create).
     */
    const void *(*get_capability)(void *ctx, const char *id);
} dp_host;

typedef struct dp_instance dp_instance; /* opaque, owned by the plugin */

/*
 * What a plugin exports. All callbacks except create/destroy take the instance pointer create returned.
 */
typedef struct dp_plugin_desc {
    dp_version abi;          /* DYNPERIPH_ABI_MAJOR / DYNPERIPH_ABI_MINOR the plugin was built with */
    const char *name;        /* short identifier, e.g. "crc-dma" */
    const char *description; /* one line */
    uint64_t mmio_size;      /* size of the MMIO region in bytes (> 0) */
    unsigned irq_count;      /* number of output IRQ lines (0..32) */
    uint32_t state_version;  /* version of the blob save_state writes (for hot reload) */

    /*
     * Creates an instance. `args` is the device's args= string ("" if absent). On failure returns NULL
     * and writes a one-line, NUL-terminated reason into err[0..err_size-1]. Called on the main thread.
     * create may run more than once per instance the host keeps: QEMU first tries it (with load_state
     * and destroy) in a forked child, and on hot reload it runs while the old instance still lives.
     * So create must not take host resources that exist once (a listening port, a thread, an exclusive
     * file): take them in the lifecycle capability's activate (lifecycle.h).
     */
    dp_instance *(*create)(const dp_host *host, const char *args, char *err, size_t err_size);
    void (*destroy)(dp_instance *inst);

    /* Device reset: registers back to reset values, in-flight work abandoned. */
    void (*reset)(dp_instance *inst);

    /*
     * MMIO access at byte `offset` within the region, `size` in {1, 2, 4, 8}, little-endian value.
     * Return DP_OK, or DP_ERR_BUS to signal a bus error to the guest.
     */
    dp_status (*read)(dp_instance *inst, uint64_t offset, unsigned size, uint64_t *value);
    dp_status (*write)(dp_instance *inst, uint64_t offset, unsigned size, uint64_t value);

    /*
     * Hot reload (optional, may be NULL). save_state writes the register state into buf (capacity cap)
     * and stores the length in *len; with buf == NULL it only reports the needed length. It returns
     * DP_ERR_BUSY while an operation is in flight (the host retries later). load_state, called on a
     * freshly created instance of the (possibly new) plugin, restores a blob written by a plugin whose
     * desc.state_version was `version`; it returns DP_ERR_INVALID for a blob it cannot take (the host
     * then keeps the old plugin running).
     */
    dp_status (*save_state)(dp_instance *inst, void *buf, size_t cap, size_t *len);
    dp_status (*load_state)(dp_instance *inst, uint32_t version, const void *buf, size_t len);

    /* Optional plugin capabilities by id (e.g. DP_LIFECYCLE_CAPABILITY from lifecycle.h); may be NULL. */
    const void *(*get_capability)(dp_instance *inst, const char *id);
} dp_plugin_desc;

/*
 * Plugin capability DYNPERIPH_CAP_PLACEMENT (ABI 1.1), asked for with inst == NULL before any instance
 * exists: where the plugin's registers and interrupt are meant to be, from its SVD (<baseAddress>,
 * the first <interrupt>'s <value>). The host uses them when the user gives no addr= / irq=.
 */
#define DYNPERIPH_CAP_PLACEMENT "dynperiph.placement/1"
typedef struct dp_placement {
    dp_version version;      /* {1, 0} */
    bool has_base;           /* base is meaningful */
    bool has_irq;            /* irq is meaningful */
    uint64_t base;           /* default MMIO base address */
    uint32_t irq;            /* default first interrupt-controller input */
} dp_placement;

/*
 * Instance capability DYNPERIPH_CAP_PEEK (ABI 1.1): a debugger's read (gdbstub, monitor x/xp while the
 * VM is stopped). It returns the value a guest read would see *without* any side effect: no
 * read-to-clear, no read hook, no log line, no state change. DP_ERR_BUS if the offset cannot be read
 * that way (the debugger then shows an access error). A plugin without it is not read by debuggers.
 */
#define DYNPERIPH_CAP_PEEK "dynperiph.peek/1"
typedef struct dp_peek {
    dp_version version;      /* {1, 0} */
    dp_status (*peek)(dp_instance *inst, uint64_t offset, unsigned size, uint64_t *value);
} dp_peek;

/*
 * The one exported entry point. `host_abi` is the host's ABI version; the plugin returns its
 * descriptor (static storage, valid until the file is unloaded) or NULL if it cannot work with that
 * host. Called on the main thread, once per dlopen.
 */
typedef const dp_plugin_desc *(*dp_entry_fn)(dp_version host_abi);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DYNPERIPH_PLUGIN_H */
