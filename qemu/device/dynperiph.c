/*
 * dynperiph: a peripheral whose behaviour lives in a dynamically loaded plugin (.so)
 *
 * Copyright (c) 2026 The dynperiph authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The plugin ABI is include/dynperiph/plugin.h: plain C, no QEMU or glib types, so a plugin never
 * depends on QEMU internals. This file is the host side of that ABI.
 *
 * QEMU interface:
 *  + user-creatable without a bus (like the generic "loader" device):
 *      -device dynperiph,plugin=PATH[,addr=BASE][,args=STRING][,irq=N][,cpu=N][,secure=on|off]
 *              [,watch=on][,id=NAME][,chardev=ID[:ID...]][,isolate=on]
 *  + properties: "plugin" (str, required), "addr" (uint64, base of the MMIO region; default the
 *    plugin's DYNPERIPH_CAP_PLACEMENT, i.e. its SVD's baseAddress; neither = error), "args" (str,
 *    handed to the plugin's create), "irq" (uint32, first interrupt-controller input: plugin line k
 *    drives input irq+k; default the SVD's <interrupt>), "cpu" (uint32, the CPU whose NVIC and view
 *    of memory the device uses, default 0), "secure" (on/off/auto: DMA as a Secure or Non-secure
 *    bus master on Armv8-M; auto = Secure when the CPU has TrustZone, as the boards boot),
 *    "watch" (bool, reload when the plugin file is replaced), "trial" (bool,
 *    default on: run the plugin's init in a forked child first, see dp_trial()), "trial-timeout"
 *    (uint32 seconds, default 10: a trial init taking longer counts as hung; with isolate=on: the
 *    bound for the child's plugin load and create), "chardev" (str, -chardev ids separated by ':',
 *    the plugin's ports 0, 1, ...: dynperiph-chardev.c)
 *  + isolate=on (isolate/dp_isolate.h): the plugin runs in a child process ("isolate-host", str:
 *    the child program, default $DYNPERIPH_ISOLATE_HOST or dp-isolate-host / dp-python-host from
 *    $PATH); a crash, an exit, a call unanswered for "deadline-ms" (uint32, default 1000) or blocking
 *    work running longer than "blocking-deadline-ms" (default 60000) costs a bus error and one log
 *    line; then "on-crash" (str) buserror (default: bus errors from then on) or restart (a new child
 *    from the last checkpoint, taken every "checkpoint-ms", default 100, 0 = never)
 *  + ABI 1.1 capabilities: placement and peek (plugin side, dynperiph-placement.c and dp_peek),
 *    async (dynperiph-async.c), chardev (dynperiph-chardev.c), and the plugin's lifecycle
 *    (activate / deactivate around startup, hot reload and exit: dp_gen_activate)
 *  + QOM properties for hot reload (QMP qom-set/qom-get on /machine/peripheral/NAME):
 *      "reload" (str; writing PATH or "" (= the current file) hot-reloads; reading gives the current file)
 *      "reload-status" (str, read-only): "idle" | "pending: ..." | "ok: PATH (generation N)" |
 *                                        "error: REASON"
 *  + one MMIO region of the plugin's mmio_size at addr in system memory, priority 0: above the
 *    board's unimplemented-device placeholders (priority -1000). Accesses of 1, 2, 4 or 8 bytes,
 *    naturally aligned (others are bus errors before they reach the plugin); DP_ERR_BUS from the
 *    plugin is MEMTX_ERROR (a precise BusFault on Cortex-M)
 *  + placement (dynperiph-placement.c): a region overlapping RAM, ROM or a board device is refused,
 *    an IRQ input some board device already drives is a warning; DMA goes through the CPU's
 *    address space (cpu_get_address_space) with that CPU's secure/non-secure attributes
 *  + IRQ lines: the unnamed GPIO inputs of the CPU's interrupt controller, found through QOM (the
 *    "armv7m" container whose child "cpu" the CPU is, else the only "armv7m_nvic" object)
 *  + debugger reads (MemTxAttrs.debug, or an access from outside any vCPU while the VM is stopped:
 *    gdbstub, monitor x/xp) never reach the plugin's read(): they go to its DYNPERIPH_CAP_PEEK
 *    (no side effects) or fail. Debugger writes are ordinary writes.
 *  + reset: qemu_register_reset (a bus-less device is not part of the qdev reset tree)
 *  + trace events: dynperiph_* (hw/misc/trace-events, added by qemu/glue.sh)
 *
 * Startup errors are reported by realize with error_setg as one line naming the plugin file.
 */

#include "qemu/osdep.h"
#include "dynperiph-compat.h"
#include "qemu/error-report.h"
#include "qemu/filemonitor.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "qemu/notify.h"
#include "qemu/queue.h"
#include "qemu/rcu.h"
#include "qemu/thread.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "exec/address-spaces.h"
#include "exec/memory.h"
#include "hw/irq.h"
#include "hw/qdev-core.h"
#include "hw/qdev-properties.h"
#include DP_SYSTEM_HEADER(reset)
#include DP_SYSEMU_HEADER
#include DP_SYSTEM_HEADER(runstate)
#include "hw/core/cpu.h"
#include "trace.h"
#include "dynperiph/plugin.h"
#include "dynperiph-common.h"
#include "dynperiph-placement.h"
#include "dynperiph-ext.h"
#include "dp_memload.h"
#include "dp_isolate.h"

#include <dlfcn.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#define TYPE_DYNPERIPH "dynperiph"
OBJECT_DECLARE_SIMPLE_TYPE(DynPeriphState, DYNPERIPH)

#define DP_IRQ_NONE         UINT32_MAX
#define DP_ADDR_NONE        UINT64_MAX    /* addr= not given */
#define DP_MAX_IRQS         32
#define DP_RELOAD_RETRY_MS  10    /* save_state said BUSY: try again after this long */
#define DP_WATCH_DEBOUNCE_MS 50   /* quiet time after the last change of a watched file */
#define DP_ERR_LEN          256

typedef struct DPGen DPGen;

/* A host timer handed to a plugin as dp_timer. */
typedef struct DPTimer {
    QEMUTimer timer;
    DPGen *gen;
    dp_timer_cb cb;
    void *opaque;
    bool deferred;                  /* fired during run_blocking: run when it returns */
    QLIST_ENTRY(DPTimer) next;
} DPTimer;

/* One loaded plugin file and the instance created from it ("generation"). */
struct DPGen {
    DynPeriphState *s;
    dp_host host;                   /* host.ctx == this */
    dp_memload so;                  /* the in-memory copy it runs from (dp_memload.h) */
    const dp_plugin_desc *desc;
    dp_instance *inst;
    char *path;                     /* the file it was loaded from */
    unsigned number;                /* 1 = loaded at startup, +1 per successful reload */
    uint32_t irq_level;             /* line levels as last set by this instance */
    int blocking;                   /* run_blocking calls of this instance in flight */
    bool trial;                     /* inside the forked trial child: services are inert */
    uint64_t trial_clock_ns;        /* the virtual time the trial child reports */
    pid_t trial_parent;             /* QEMU's pid, checked by the child after PR_SET_PDEATHSIG */
    const dp_peek *peek;            /* DYNPERIPH_CAP_PEEK of the instance, NULL if none */
    dp_isolate *iso;                /* isolate=on: the proxy whose desc forwards to the child */
    QLIST_HEAD(, DPTimer) timers;
    DPAsync *async;                 /* dynperiph-async.c */
    DPChardevClient *chr;           /* dynperiph-chardev.c: this instance's view of s->chardevs */
    const dp_lifecycle *lifecycle;  /* the plugin's activate / deactivate, NULL if it has none */
    bool active;                    /* activate succeeded, no deactivate since */
    bool reset_deferred;            /* a system reset came during run_blocking: reset when it returns */
};

struct DynPeriphState {
    DeviceState parent_obj;

    /* properties */
    char *plugin;
    uint64_t addr;
    char *args;
    uint32_t irq;
    uint32_t cpu;
    OnOffAuto secure;
    bool watch;
    bool trial;
    uint32_t trial_timeout_s;
    bool isolate;
    char *isolate_host;
    char *on_crash;
    uint32_t deadline_ms;
    uint32_t blocking_deadline_ms;
    uint32_t checkpoint_ms;

    DPAttach attach;                /* CPU, its address space + attributes, its NVIC */
    char *chardev;

    char *name;                     /* dp_host.instance_name: the id, or dynperiph@ADDR */
    MemoryRegion mmio;
    qemu_irq irqs[DP_MAX_IRQS];
    unsigned irqs_wired;
    DPGen *gen;                     /* the live plugin generation */
    DPChardevs *chardevs;           /* chardev=: the connections, kept across reloads */
    Notifier exit_notifier;
    QTAILQ_ENTRY(DynPeriphState) next;

    /* hot reload */
    char *reload_path;              /* requested reload not done yet (plugin busy) */
    char *reload_status;
    bool reloading;
    QEMUTimer *retry_timer;         /* QEMU_CLOCK_REALTIME: retry a pending reload */
    QFileMonitor *monitor;          /* watch=on */
    char *watch_dir;
    int64_t watch_id;
    QEMUTimer *debounce_timer;      /* QEMU_CLOCK_REALTIME: reload once the file is quiet */
};

static QTAILQ_HEAD(, DynPeriphState) dp_devices = QTAILQ_HEAD_INITIALIZER(dp_devices);

/* ---- host services (dp_host callbacks), registered in dp_host_init() ------------------------- */

static dp_status dp_dma_read(void *ctx, uint64_t addr, void *buf, size_t len);
static dp_status dp_dma_write(void *ctx, uint64_t addr, const void *buf, size_t len);
static void dp_set_irq(void *ctx, unsigned line, int level);
static uint64_t dp_clock_ns(void *ctx);
static dp_timer *dp_timer_new(void *ctx, dp_timer_cb cb, void *opaque);
static void dp_timer_arm(void *ctx, dp_timer *t, uint64_t deadline_ns);
static void dp_timer_cancel(void *ctx, dp_timer *t);
static void dp_timer_free(void *ctx, dp_timer *t);
static void dp_log(void *ctx, dp_log_level level, const char *msg);
static dp_status dp_run_blocking(void *ctx, dp_work_fn fn, void *opaque);
static const void *dp_get_capability(void *ctx, const char *id);

static bool dp_gen_busy(void *opaque)
{
    return ((DPGen *)opaque)->blocking > 0;
}

static bool dp_gen_inert(void *opaque)
{
    return ((DPGen *)opaque)->trial;
}

static unsigned dp_gen_irq_count(void *opaque)
{
    DPGen *g = opaque;

    return g->desc ? g->desc->irq_count : 0;
}

static void dp_host_init(DPGen *g)
{
    DPExtOwner owner = {
        .opaque = g,
        .busy = dp_gen_busy,
        .inert = dp_gen_inert,
        .set_irq = dp_set_irq,
        .irq_count = dp_gen_irq_count,
    };

    g->host = (dp_host) {
        .abi = { DYNPERIPH_ABI_MAJOR, DYNPERIPH_ABI_MINOR },
        .ctx = g,
        .instance_name = g->s->name,
        .dma_read = dp_dma_read,
        .dma_write = dp_dma_write,
        .set_irq = dp_set_irq,
        .clock_ns = dp_clock_ns,
        .timer_new = dp_timer_new,
        .timer_arm = dp_timer_arm,
        .timer_cancel = dp_timer_cancel,
        .timer_free = dp_timer_free,
        .log = dp_log,
        .run_blocking = dp_run_blocking,
        .get_capability = dp_get_capability,
    };
    g->async = dp_async_new(&owner);
    g->chr = dp_chardev_client_new(g->s->chardevs, &owner);
}

/*
 * ---- DMA: only guest RAM/ROM as the device's CPU sees it, checked byte range first -----------
 * (at->as is the CPU's address space with its secure/non-secure attributes, see dp_attach)
 */

static dp_status dp_dma(DPGen *g, uint64_t addr, void *buf, size_t len, bool is_write)
{
    DPAttach *at = &g->s->attach;

    if (is_write && g->trial) {                     /* the trial child discards writes */
        return dp_guest_range_is_ram_as(at->as, at->attrs, addr, len, true) ? DP_OK : DP_ERR_RANGE;
    }
    return dp_guest_ram_rw_as(at->as, at->attrs, addr, buf, len, is_write) ? DP_OK : DP_ERR_RANGE;
}

static dp_status dp_dma_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    DPGen *g = ctx;
    dp_status st = dp_dma(g, addr, buf, len, false);

    trace_dynperiph_dma(g->s->name, "read", addr, len, st);
    return st;
}

static dp_status dp_dma_write(void *ctx, uint64_t addr, const void *buf, size_t len)
{
    DPGen *g = ctx;
    dp_status st = dp_dma(g, addr, (void *)buf, len, true);

    trace_dynperiph_dma(g->s->name, "write", addr, len, st);
    return st;
}

/* ---- IRQs --------------------------------------------------------------------------------------- */

/* Drives the wired lines to the levels the live generation last set. */
static void dp_irq_sync(DynPeriphState *s)
{
    unsigned i;

    for (i = 0; i < s->irqs_wired; i++) {
        qemu_set_irq(s->irqs[i], (s->gen->irq_level >> i) & 1);
    }
}

static void dp_set_irq(void *ctx, unsigned line, int level)
{
    DPGen *g = ctx;
    DynPeriphState *s = g->s;

    if (g->trial || line >= g->desc->irq_count) {
        return;
    }
    g->irq_level = deposit32(g->irq_level, line, 1, level != 0);
    trace_dynperiph_irq(s->name, line, level != 0);
    /* A generation being loaded only records its levels; they are applied when it goes live. */
    if (g == s->gen && line < s->irqs_wired) {
        qemu_set_irq(s->irqs[line], level != 0);
    }
}

static bool dp_wire_irqs(DynPeriphState *s, unsigned count, Error **errp)
{
    Object *intc;
    unsigned i;

    if (s->irq == DP_IRQ_NONE || count == 0) {
        return true;                /* plugin lines stay unconnected */
    }
    intc = s->attach.intc;
    if (!intc) {
        error_setg(errp, "plugin %s: irq=%u given but this machine has no interrupt controller "
                   "(NVIC) to connect to", s->plugin, s->irq);
        return false;
    }
    dp_warn_irqs_in_use(s->plugin, &s->attach, s->irq, count);
    for (i = 0; i < count; i++) {
        g_autofree char *prop = g_strdup_printf("unnamed-gpio-in[%u]", s->irq + i);
        Object *o = object_resolve_path_component(intc, prop);

        o = o ? object_dynamic_cast(o, TYPE_IRQ) : NULL;
        if (!o) {
            error_setg(errp, "plugin %s: needs interrupt inputs %u..%u but the interrupt "
                       "controller has no input %u", s->plugin, s->irq, s->irq + count - 1,
                       s->irq + i);
            return false;
        }
        s->irqs[i] = (qemu_irq)o;
    }
    s->irqs_wired = count;
    return true;
}

/* ---- clock and timers (QEMU_CLOCK_VIRTUAL) -------------------------------------------------- */

static uint64_t dp_clock_ns(void *ctx)
{
    DPGen *g = ctx;

    /* The trial child must not take clock locks a vCPU thread may have held at fork time. */
    return g->trial ? g->trial_clock_ns : qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
}

static void dp_timer_fire(void *opaque)
{
    DPTimer *t = opaque;

    if (t->gen->blocking) {         /* never call into the instance while its work runs */
        t->deferred = true;
        return;
    }
    t->cb(t->opaque);
}

static dp_timer *dp_timer_new(void *ctx, dp_timer_cb cb, void *opaque)
{
    DPGen *g = ctx;
    DPTimer *t;

    if (!cb) {
        return NULL;
    }
    t = g_new0(DPTimer, 1);
    t->gen = g;
    t->cb = cb;
    t->opaque = opaque;
    timer_init_ns(&t->timer, QEMU_CLOCK_VIRTUAL, dp_timer_fire, t);
    QLIST_INSERT_HEAD(&g->timers, t, next);
    return (dp_timer *)t;
}

static void dp_timer_arm(void *ctx, dp_timer *pt, uint64_t deadline_ns)
{
    DPTimer *t = (DPTimer *)pt;

    if (t && !t->gen->trial) {
        t->deferred = false;
        timer_mod_ns(&t->timer, MIN(deadline_ns, (uint64_t)INT64_MAX));
    }
}

static void dp_timer_cancel(void *ctx, dp_timer *pt)
{
    DPTimer *t = (DPTimer *)pt;

    if (t) {
        t->deferred = false;
        timer_del(&t->timer);
    }
}

static void dp_timer_free(void *ctx, dp_timer *pt)
{
    DPTimer *t = (DPTimer *)pt;

    if (t) {
        timer_del(&t->timer);
        QLIST_REMOVE(t, next);
        g_free(t);
    }
}

/* The instance's reset (a system reset, or one deferred until its blocking work returned). */
static void dp_gen_reset(DPGen *g)
{
    trace_dynperiph_reset(g->s->name);
    g->desc->reset(g->inst);
}

/* Timers that fired while the instance was in run_blocking. */
static void dp_run_deferred_timers(DPGen *g)
{
    DPTimer *t, *tn;

    QLIST_FOREACH_SAFE(t, &g->timers, next, tn) {
        if (t->deferred) {
            t->deferred = false;
            t->cb(t->opaque);       /* may free t: hence the _SAFE walk */
        }
    }
}

/* ---- logging, blocking work, capabilities --------------------------------------------------- */

static void dp_log(void *ctx, dp_log_level level, const char *msg)
{
    DPGen *g = ctx;
    const char *name = g->s->name;

    if (g->trial || !msg) {
        return;
    }
    trace_dynperiph_log(name, level, msg);
    switch (level) {
    case DP_LOG_GUEST_ERROR:
        qemu_log_mask(LOG_GUEST_ERROR, "dynperiph %s: %s\n", name, msg);
        break;
    case DP_LOG_UNIMP:
        qemu_log_mask(LOG_UNIMP, "dynperiph %s: %s\n", name, msg);
        break;
    case DP_LOG_ERROR:
        error_report("dynperiph %s: %s", name, msg);
        break;
    default:
        break;                      /* DEBUG, INFO: the trace event only */
    }
}

typedef struct DPWork {
    dp_work_fn fn;
    void *opaque;
} DPWork;

static void *dp_work_thread(void *opaque)
{
    DPWork *w = opaque;

    w->fn(w->opaque);
    return NULL;
}

/*
 * Runs fn on a worker thread while the calling thread (a vCPU thread during MMIO, or the main loop
 * under qtest) waits for it with the BQL released, so QMP, the monitor and other devices keep
 * running. Guest time stays deterministic under -icount: the waiting vCPU executes no instructions,
 * so icount-driven QEMU_CLOCK_VIRTUAL does not move, and the result is ready at the same guest
 * instant however long the host takes. (Without -icount the virtual clock follows host time while
 * the VM runs, so then the work's wall time is visible to the guest.) While the work runs, nothing
 * else calls into this device's instance: its timers are deferred (dp_timer_fire), MMIO from other
 * threads gets a bus error, and a hot reload waits (it counts as busy).
 */
static dp_status dp_run_blocking(void *ctx, dp_work_fn fn, void *opaque)
{
    DPGen *g = ctx;
    DPWork w = { fn, opaque };
    QemuThread th;
    bool locked;

    if (!fn) {
        return DP_ERR_INVALID;
    }
    if (g->trial) {
        fn(opaque);
        return DP_OK;
    }
    locked = DP_BQL_LOCKED();
    g->blocking++;
    qemu_thread_create(&th, "dynperiph-work", dp_work_thread, &w, QEMU_THREAD_JOINABLE);
    if (locked) {
        DP_BQL_UNLOCK();
    }
    qemu_thread_join(&th);
    if (locked) {
        DP_BQL_LOCK();
    }
    g->blocking--;
    if (!g->blocking) {
        if (g->reset_deferred) {    /* first: a reset may cancel the timers that fired meanwhile */
            g->reset_deferred = false;
            dp_gen_reset(g);
        }
        dp_run_deferred_timers(g);
        dp_async_kick(g->async);    /* posted work and chardev input waited for it */
        dp_chardevs_kick(g->s->chardevs);
    }
    return DP_OK;
}

static const void *dp_get_capability(void *ctx, const char *id)
{
    DPGen *g = ctx;

    if (id && !strcmp(id, DP_ASYNC_CAPABILITY)) {
        return dp_async_api_of(g->async);
    }
    if (id && !strcmp(id, DP_CHARDEV_CAPABILITY)) {
        return dp_chardev_api_of(g->chr);
    }
    return NULL;
}

/* ---- MMIO and reset ------------------------------------------------------------------------- */

static bool dp_callable(DynPeriphState *s, const char *what, hwaddr addr)
{
    if (!s->gen) {
        return false;               /* instance already destroyed (QEMU is exiting) */
    }
    if (s->gen->blocking) {
        qemu_log_mask(LOG_GUEST_ERROR, "dynperiph %s: %s at 0x%" HWADDR_PRIx
                      " while the plugin's blocking work is in flight\n", s->name, what, addr);
        return false;
    }
    return true;
}

/*
 * dp_mmio_read with the dynperiph_read trace event on: out of line, so the hot path below keeps
 * nothing live across the plugin call (no callee-saved registers, no stack-protector canary).
 */
static MemTxResult __attribute__((noinline)) dp_mmio_read_traced(DynPeriphState *s, hwaddr addr,
                                                                 uint64_t *data, unsigned size)
{
    DPGen *g = s->gen;
    dp_status st;

    *data = 0;
    st = g->desc->read(g->inst, addr, size, data);
    if (size < 8) {
        *data &= MAKE_64BIT_MASK(0, size * 8);
    }
    trace_dynperiph_read(s->name, addr, size, *data, st);
    return st == DP_OK ? MEMTX_OK : MEMTX_ERROR;
}

/*
 * A debugger's read (gdbstub x/, monitor x/xp): the guest's view must not change behind its back,
 * so it goes to the plugin's side-effect-free peek, or fails (the debugger shows an access error).
 */
static MemTxResult __attribute__((noinline)) dp_mmio_debug_read(DynPeriphState *s, hwaddr addr,
                                                                 uint64_t *data, unsigned size)
{
    DPGen *g = s->gen;
    dp_status st = DP_ERR_BUS;

    *data = 0;
    if (g && !g->blocking && g->peek) {
        st = g->peek->peek(g->inst, addr, size, data);
    }
    if (size < 8) {
        *data &= MAKE_64BIT_MASK(0, size * 8);
    }
    trace_dynperiph_read(s->name, addr, size, *data, st);
    return st == DP_OK ? MEMTX_OK : MEMTX_ERROR;
}

/* Debug access: flagged as one, or from outside any vCPU while the VM is stopped (gdbstub). */
static inline bool dp_is_debug_access(MemTxAttrs attrs)
{
    return DP_ATTRS_DEBUG(attrs) || (!current_cpu && !runstate_is_running());
}

static MemTxResult dp_mmio_read(void *opaque, hwaddr addr, uint64_t *data, unsigned size,
                                MemTxAttrs attrs)
{
    DynPeriphState *s = opaque;
    DPGen *g = s->gen;

    if (unlikely(!current_cpu || DP_ATTRS_DEBUG(attrs)) && dp_is_debug_access(attrs)) {
        return dp_mmio_debug_read(s, addr, data, size);
    }
    if (unlikely(!dp_callable(s, "read", addr))) {
        *data = 0;
        return MEMTX_ERROR;
    }
    if (unlikely(trace_event_get_state_backends(TRACE_DYNPERIPH_READ))) {
        return dp_mmio_read_traced(s, addr, data, size);
    }
    /*
     * The plugin stores straight into QEMU's result; the memory core masks it to the access size
     * (memory_region_shift_read_access), so bits a plugin sets above `size` never reach the guest.
     */
    *data = 0;
    return g->desc->read(g->inst, addr, size, data) == DP_OK ? MEMTX_OK : MEMTX_ERROR;
}

static MemTxResult dp_mmio_write(void *opaque, hwaddr addr, uint64_t data, unsigned size,
                                 MemTxAttrs attrs)
{
    DynPeriphState *s = opaque;
    dp_status st;

    if (unlikely(!dp_callable(s, "write", addr))) {
        return MEMTX_ERROR;
    }
    st = s->gen->desc->write(s->gen->inst, addr, size, data);
    trace_dynperiph_write(s->name, addr, size, data, st);
    return st == DP_OK ? MEMTX_OK : MEMTX_ERROR;
}

static const MemoryRegionOps dp_mmio_ops = {
    .read_with_attrs = dp_mmio_read,
    .write_with_attrs = dp_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 8 },
    .impl = { .min_access_size = 1, .max_access_size = 8 },   /* the plugin sees the real size */
};

static void dp_reset(void *opaque)
{
    DynPeriphState *s = opaque;

    if (s->gen && s->gen->desc->reset) {
        if (s->gen->blocking) {     /* never concurrently with the instance's blocking work */
            s->gen->reset_deferred = true;
            return;
        }
        dp_gen_reset(s->gen);
    }
}

/* ---- loading a plugin file ------------------------------------------------------------------ */

/*
 * Every load runs from a sealed in-memory copy (dp_memload.h): a reload of the same path gets the
 * new code, a build that overwrites the original in place cannot change running code, and no copy
 * is ever written to disk, so a SIGKILL at any moment leaves nothing behind. $ORIGIN-relative
 * dependencies and dladdr() keep naming the original directory.
 */

static bool dp_abi_ok(dp_version v)
{
    return v.major == DYNPERIPH_ABI_MAJOR && v.minor <= DYNPERIPH_ABI_MINOR;
}

static void dp_abi_error(const char *path, dp_version v, Error **errp)
{
    if (DYNPERIPH_ABI_MINOR == 0) {
        error_setg(errp, "plugin %s: plugin ABI %u.%u, this QEMU supports %u.0", path,
                   v.major, v.minor, DYNPERIPH_ABI_MAJOR);
    } else {
        error_setg(errp, "plugin %s: plugin ABI %u.%u, this QEMU supports %u.0 to %u.%u", path,
                   v.major, v.minor, DYNPERIPH_ABI_MAJOR, DYNPERIPH_ABI_MAJOR,
                   DYNPERIPH_ABI_MINOR);
    }
}

static bool dp_desc_ok(const char *path, const dp_plugin_desc *d, Error **errp)
{
    const char *missing = !d->create ? "create" : !d->destroy ? "destroy"
                          : !d->read ? "read" : !d->write ? "write" : NULL;

    if (!dp_abi_ok(d->abi)) {
        dp_abi_error(path, d->abi, errp);
    } else if (missing) {
        error_setg(errp, "plugin %s: bad descriptor: no %s callback", path, missing);
    } else if (d->mmio_size == 0) {
        error_setg(errp, "plugin %s: bad descriptor: mmio_size is 0", path);
    } else if (d->irq_count > DP_MAX_IRQS) {
        error_setg(errp, "plugin %s: bad descriptor: irq_count %u exceeds %d", path,
                   d->irq_count, DP_MAX_IRQS);
    } else {
        return true;
    }
    return false;
}

/* State carried from the old generation to the new one on hot reload. */
typedef struct DPState {
    uint32_t version;
    void *data;
    size_t len;
} DPState;

/* Creates the instance of g (and restores st into it when st != NULL). */
static bool dp_instantiate(DPGen *g, const char *args, const DPState *st, Error **errp)
{
    char err[DP_ERR_LEN] = "";
    dp_status rc;

    g->inst = g->desc->create(&g->host, args, err, sizeof(err));
    if (!g->inst) {
        err[sizeof(err) - 1] = 0;
        error_setg(errp, "plugin %s: create failed (args \"%s\"): %s", g->path, args,
                   err[0] ? err : "no reason given");
        return false;
    }
    if (g->desc->abi.minor >= 1 && g->desc->get_capability) {
        const dp_peek *pk = g->desc->get_capability(g->inst, DYNPERIPH_CAP_PEEK);

        g->peek = pk && pk->version.major == 1 && pk->peek ? pk : NULL;
    }
    if (!st) {
        return true;
    }
    rc = g->desc->load_state ? g->desc->load_state(g->inst, st->version, st->data, st->len)
                             : DP_ERR_UNSUPPORTED;
    if (rc != DP_OK) {
        error_setg(errp, "plugin %s: load_state refused the state of version %u (%zu bytes): "
                   "status %d", g->path, st->version, st->len, rc);
        return false;
    }
    return true;
}

/*
 * Lifecycle (include/dynperiph/lifecycle.h): host resources of a plugin (ports, threads, files)
 * exist only in the one instance that runs, so create() may also run in the trial child and while
 * the old instance of a hot reload still lives. Without the capability both are no-ops (ABI 1.0).
 */
static bool dp_gen_activate(DPGen *g, Error **errp)
{
    char err[DP_ERR_LEN] = "";

    if (!g->lifecycle && g->desc->get_capability) {
        const dp_lifecycle *lc = g->desc->get_capability(g->inst, DP_LIFECYCLE_CAPABILITY);

        g->lifecycle = lc && lc->abi.major == 1 && lc->activate && lc->deactivate ? lc : NULL;
    }
    if (g->active || !g->lifecycle) {
        return true;
    }
    if (g->lifecycle->activate(g->inst, err, sizeof(err)) != DP_OK) {
        err[sizeof(err) - 1] = 0;
        error_setg(errp, "plugin %s: activate failed: %s", g->path, err[0] ? err : "no reason given");
        return false;
    }
    g->active = true;
    return true;
}

static void dp_gen_deactivate(DPGen *g)
{
    if (g && g->active) {
        g->active = false;
        g->lifecycle->deactivate(g->inst);
    }
}

/*
 * Crash guard. A plugin runs inside QEMU's process, so a crash in its code cannot be caught there
 * (a SIGSEGV handler cannot safely resume). What can be done: run the risky first steps (dlopen
 * with the plugin's constructors, the entry point, create, load_state, destroy) once in a forked
 * child first. A child killed by a signal, or hung past trial-timeout seconds, means the file is
 * refused and the running plugin keeps going. In the child the host services are inert (no IRQ,
 * timers never fire, DMA writes discarded, logs dropped). Not covered: a plugin that crashes only
 * later, in MMIO or timer callbacks, or only in the real process (non-deterministic init); such a
 * crash still takes QEMU down. Disable with trial=off.
 */
static void G_GNUC_NORETURN dp_trial_child(DPGen *g, const char *args, const DPState *st,
                                           unsigned timeout_s)
{
    static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGALRM };
    sigset_t none;
    dp_entry_fn entry;
    void *h;
    char err[1024];
    int fd = open("/dev/null", O_WRONLY);
    size_t i;

    prctl(PR_SET_PDEATHSIG, SIGKILL);   /* QEMU killed: the trial (and its copy) goes too */
    if (getppid() != g->trial_parent) {
        _exit(0);
    }
    if (fd >= 0) {                  /* the real load prints whatever the plugin prints */
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
    }
    for (i = 0; i < ARRAY_SIZE(sigs); i++) {
        signal(sigs[i], SIG_DFL);
    }
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);
    alarm(timeout_s);
    g->trial = true;
    h = dp_memload_open(&g->so, RTLD_NOW | RTLD_LOCAL, err, sizeof(err)) == 0 ? g->so.handle : NULL;
    entry = h ? (dp_entry_fn)dlsym(h, DYNPERIPH_ENTRY_SYMBOL) : NULL;
    if (entry) {
        g->desc = entry((dp_version) { DYNPERIPH_ABI_MAJOR, DYNPERIPH_ABI_MINOR });
        if (g->desc && dp_abi_ok(g->desc->abi) && g->desc->create) {
            g->inst = g->desc->create(&g->host, args, (char[DP_ERR_LEN]) { 0 }, DP_ERR_LEN);
            if (g->inst && st && g->desc->load_state) {
                g->desc->load_state(g->inst, st->version, st->data, st->len);
            }
            if (g->inst && g->desc->destroy) {
                g->desc->destroy(g->inst);
            }
        }
    }
    _exit(0);                       /* errors other than crashes are reported by the real load */
}

static bool dp_trial(DPGen *g, const char *args, const DPState *st, Error **errp)
{
    unsigned timeout_s = MAX(g->s->trial_timeout_s, 1);
    int64_t deadline = qemu_clock_get_ms(QEMU_CLOCK_HOST) + (timeout_s + 2) * 1000LL;
    int status = 0;
    pid_t pid, r;

    g->trial_clock_ns = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    g->trial_parent = getpid();
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        return true;                /* no guard possible; load without it */
    }
    if (pid == 0) {
        dp_trial_child(g, args, st, timeout_s);
    }
    while ((r = waitpid(pid, &status, WNOHANG)) == 0 &&
           qemu_clock_get_ms(QEMU_CLOCK_HOST) < deadline) {
        g_usleep(1000);
    }
    if (r == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        error_setg(errp, "plugin %s: hung during initialisation (trial load)", g->path);
        return false;
    }
    if (r == pid && WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);

        if (sig == SIGALRM) {
            error_setg(errp, "plugin %s: hung during initialisation (more than %u s in a trial "
                       "load)", g->path, timeout_s);
        } else {
            error_setg(errp, "plugin %s: crashed during initialisation (signal %d, %s, in a "
                       "trial load)", g->path, sig, strsignal(sig));
        }
        return false;
    }
    return true;
}

static void dp_gen_free(DPGen *g)
{
    DPTimer *t, *tn;

    if (!g) {
        return;
    }
    if (g->inst) {
        dp_gen_deactivate(g);
        g->desc->destroy(g->inst);
    }
    dp_isolate_close(g->iso);       /* the child process, its channel, its async doorbell thread */
    dp_async_free(g->async);        /* after destroy: the plugin's threads are joined by then */
    dp_chardev_client_free(g->chr);
    QLIST_FOREACH_SAFE(t, &g->timers, next, tn) {   /* timers the plugin did not free */
        dp_timer_free(&g->host, (dp_timer *)t);
    }
    dp_memload_close(&g->so);       /* dlclose, and the copy is gone */
    g_free(g->path);
    g_free(g);
}

/* The forked trial load guards an in-process plugin; an isolated one is its own guard. */
static bool dp_use_trial(DynPeriphState *s)
{
    return s->trial && !s->isolate;
}

/*
 * isolate=on: the plugin runs in a child process (isolate/dp_isolate.h); g->desc is the proxy's
 * descriptor, which forwards every call. The child program: isolate-host=, else
 * $DYNPERIPH_ISOLATE_HOST, else dp-isolate-host (dp-python-host for a .py peripheral) from $PATH.
 */
static bool dp_isolate_gen_open(DPGen *g, Error **errp)
{
    DynPeriphState *s = g->s;
    const char *env = getenv("DYNPERIPH_ISOLATE_HOST");
    bool py = g_str_has_suffix(g->path, ".py");
    dp_isolate_cfg cfg = {
        .host_program = s->isolate_host && *s->isolate_host ? s->isolate_host
                        : env && *env && !py ? env
                        : py ? "dp-python-host" : "dp-isolate-host",
        .deadline_ms = MAX(s->deadline_ms, 1),
        .blocking_deadline_ms = MAX(s->blocking_deadline_ms, 1),
        .startup_ms = MAX(s->trial_timeout_s, 1) * 1000,
        .checkpoint_ms = s->checkpoint_ms,
        .restart = !g_strcmp0(s->on_crash, "restart"),
    };
    char err[1024];

    g->iso = dp_isolate_open(&cfg, g->path, &g->host, err, sizeof(err));
    if (!g->iso) {
        error_setg(errp, "plugin %s: %s", g->path, err);
        return false;
    }
    g->desc = dp_isolate_desc(g->iso);
    return dp_desc_ok(g->path, g->desc, errp);
}

/*
 * Opens `path` and checks its descriptor; no instance yet. When `trial_args` is non-NULL the
 * trial child also runs create(trial_args) and load_state(st) before the file is used here.
 */
static DPGen *dp_gen_open(DynPeriphState *s, const char *path, const char *trial_args,
                          const DPState *st, Error **errp)
{
    DPGen *g = g_new0(DPGen, 1);
    char err[1024];
    dp_entry_fn entry;
    struct stat sb;

    g->s = s;
    g->so = (dp_memload)DP_MEMLOAD_INIT;
    g->path = g_strdup(path);
    QLIST_INIT(&g->timers);
    dp_host_init(g);
    if (stat(path, &sb) < 0) {
        error_setg(errp, "plugin %s: %s", path,
                   errno == ENOENT ? "file not found" : strerror(errno));
        goto fail;
    }
    if (!S_ISREG(sb.st_mode)) {
        error_setg(errp, "plugin %s: not a regular file", path);
        goto fail;
    }
    if (s->isolate) {
        return dp_isolate_gen_open(g, errp) ? g : (dp_gen_free(g), NULL);
    }
    if (dp_memload_prepare(&g->so, path, err, sizeof(err)) < 0) {
        error_setg(errp, "plugin %s: %s", path, err);
        goto fail;
    }
    if (trial_args && !dp_trial(g, trial_args, st, errp)) {
        goto fail;
    }
    if (dp_memload_open(&g->so, RTLD_NOW | RTLD_LOCAL, err, sizeof(err)) < 0) {
        error_setg(errp, "plugin %s: not a loadable plugin: %s", path, err);
        goto fail;
    }
    entry = (dp_entry_fn)dlsym(g->so.handle, DYNPERIPH_ENTRY_SYMBOL);
    if (!entry) {
        error_setg(errp, "plugin %s: not a dynperiph plugin: no '%s' symbol", path,
                   DYNPERIPH_ENTRY_SYMBOL);
        goto fail;
    }
    g->desc = entry((dp_version) { DYNPERIPH_ABI_MAJOR, DYNPERIPH_ABI_MINOR });
    if (!g->desc) {
        error_setg(errp, "plugin %s: the entry point returned no descriptor (the plugin cannot "
                   "work with host ABI %u.%u)", path, DYNPERIPH_ABI_MAJOR, DYNPERIPH_ABI_MINOR);
        goto fail;
    }
    if (!dp_desc_ok(path, g->desc, errp)) {
        goto fail;
    }
    return g;

fail:
    dp_gen_free(g);
    return NULL;
}

/* ---- hot reload ------------------------------------------------------------------------------ */

static void dp_set_status(DynPeriphState *s, char *status)
{
    g_free(s->reload_status);
    s->reload_status = status;
    trace_dynperiph_reload(s->name, status);
}

/* Reads the live instance's state. Returns DP_ERR_BUSY while it has work in flight. */
static dp_status dp_save_state(DynPeriphState *s, DPState *st, Error **errp)
{
    DPGen *g = s->gen;
    dp_status rc;
    size_t len = 0;

    st->version = g->desc->state_version;
    st->data = NULL;
    st->len = 0;
    if (g->blocking) {
        return DP_ERR_BUSY;
    }
    if (!g->desc->save_state) {
        error_setg(errp, "plugin %s has no save_state: reloading it would reset its registers",
                   g->path);
        return DP_ERR_UNSUPPORTED;
    }
    rc = g->desc->save_state(g->inst, NULL, 0, &len);
    if (rc == DP_OK) {
        st->data = g_malloc0(MAX(len, 1));
        rc = g->desc->save_state(g->inst, st->data, len, &st->len);
    }
    if (rc != DP_OK) {
        g_free(st->data);
        st->data = NULL;
        if (rc != DP_ERR_BUSY) {
            error_setg(errp, "plugin %s: save_state failed: status %d", g->path, rc);
        }
    }
    return rc;
}

/* Loads `path` as the next generation and swaps it in, keeping the old one on any failure. */
static bool dp_swap_in(DynPeriphState *s, const char *path, const DPState *st, Error **errp)
{
    DPGen *old = s->gen;
    DPGen *g = dp_gen_open(s, path, dp_use_trial(s) ? s->args : NULL, st, errp);

    if (!g) {
        return false;
    }
    if (g->desc->mmio_size != old->desc->mmio_size) {
        error_setg(errp, "plugin %s: MMIO size 0x%" PRIx64 " differs from the running plugin's "
                   "0x%" PRIx64 "; restart QEMU to change it", path, g->desc->mmio_size,
                   old->desc->mmio_size);
    } else if (g->desc->irq_count > old->desc->irq_count) {
        error_setg(errp, "plugin %s: needs %u IRQ lines, the running plugin was wired with %u; "
                   "restart QEMU to change it", path, g->desc->irq_count, old->desc->irq_count);
    } else if (dp_instantiate(g, s->args, st, errp) && dp_gen_activate(g, errp)) {
        g->number = old->number + 1;
        s->gen = g;
        dp_chardevs_set_live(s->chardevs, g->chr);
        dp_irq_sync(s);
        dp_gen_free(old);
        dp_async_kick(g->async);    /* what the new instance posted while it was not live yet */
        return true;
    }
    dp_gen_free(g);
    return false;
}

static void dp_try_reload(DynPeriphState *s, Error **errp)
{
    g_autofree char *path = g_strdup(s->reload_path);
    Error *err = NULL;
    DPState st;
    dp_status rc;

    /*
     * The old instance gives up its host resources before the new one is created (lifecycle.h), and
     * what its threads posted until then runs first, so the saved state is complete.
     */
    if (!s->gen->blocking) {
        dp_gen_deactivate(s->gen);
        dp_async_run(s->gen->async);
    }
    rc = dp_save_state(s, &st, &err);
    if (rc == DP_ERR_BUSY) {
        Error *again = NULL;

        if (!s->gen->blocking && !dp_gen_activate(s->gen, &again)) {
            warn_report_err(again);
        }
        dp_set_status(s, g_strdup_printf("pending: %s (plugin busy, retrying)", path));
        timer_mod(s->retry_timer,
                  qemu_clock_get_ms(QEMU_CLOCK_REALTIME) + DP_RELOAD_RETRY_MS);
        return;
    }
    g_free(s->reload_path);
    s->reload_path = NULL;
    s->reloading = true;
    if (rc == DP_OK) {
        dp_swap_in(s, path, &st, &err);
    }
    if (err) {                      /* the old instance keeps running: give its resources back */
        Error *again = NULL;

        if (!dp_gen_activate(s->gen, &again)) {
            error_append_hint(&err, "and the running plugin could not be activated again: %s\n",
                              error_get_pretty(again));
            error_report("dynperiph %s: %s", s->name, error_get_pretty(again));
            error_free(again);
        }
    }
    s->reloading = false;
    g_free(st.data);
    if (err) {
        dp_set_status(s, g_strdup_printf("error: %s", error_get_pretty(err)));
        error_propagate(errp, err);
        return;
    }
    dp_set_status(s, g_strdup_printf("ok: %s (generation %u)", path, s->gen->number));
}

/* Starts a hot reload of `path` ("" = the current file). */
static void dp_request_reload(DynPeriphState *s, const char *path, Error **errp)
{
    if (!s->gen) {
        error_setg(errp, "dynperiph %s: no plugin loaded", s->name);
        return;
    }
    if (s->reloading) {
        error_setg(errp, "dynperiph %s: a reload is already in progress", s->name);
        return;
    }
    g_free(s->reload_path);
    s->reload_path = g_strdup(path && *path ? path : s->gen->path);
    dp_try_reload(s, errp);
}

/* Retry timer and watch debounce timer: asynchronous, so failures go to stderr as well. */
static void dp_reload_async(DynPeriphState *s, const char *path)
{
    Error *err = NULL;

    if (s->reloading) {
        return;
    }
    if (path) {
        g_free(s->reload_path);
        s->reload_path = g_strdup(path);
    }
    if (s->reload_path) {
        dp_try_reload(s, &err);
    }
    if (err) {
        warn_reportf_err(err, "dynperiph %s: reload failed, the previous plugin keeps running: ",
                         s->name);
    }
}

static void dp_retry_cb(void *opaque)
{
    dp_reload_async(opaque, NULL);
}

/* watch=on follows the file named by the "plugin" property, also after a reload from another path. */
static void dp_debounce_cb(void *opaque)
{
    DynPeriphState *s = opaque;

    if (access(s->plugin, R_OK) == 0) {    /* deleted and not (yet) recreated: wait for more */
        dp_reload_async(s, s->plugin);
    }
}

/* Runs in the main loop (BQL held) with the monitor's lock held: only (re)arm a timer here. */
static void dp_watch_cb(int64_t id, QFileMonitorEvent ev, const char *name, void *opaque)
{
    DynPeriphState *s = opaque;

    if (ev == QFILE_MONITOR_EVENT_CREATED || ev == QFILE_MONITOR_EVENT_MODIFIED ||
        ev == QFILE_MONITOR_EVENT_ATTRIBUTES) {
        timer_mod(s->debounce_timer,
                  qemu_clock_get_ms(QEMU_CLOCK_REALTIME) + DP_WATCH_DEBOUNCE_MS);
    }
}

static bool dp_watch_start(DynPeriphState *s, Error **errp)
{
    g_autofree char *base = g_path_get_basename(s->plugin);
    Error *err = NULL;

    s->monitor = qemu_file_monitor_new(&err);
    if (s->monitor) {
        s->watch_dir = g_path_get_dirname(s->plugin);
        s->watch_id = qemu_file_monitor_add_watch(s->monitor, s->watch_dir, base, dp_watch_cb,
                                                  s, &err);
    }
    if (err) {
        error_setg(errp, "plugin %s: watch=on: %s", s->plugin, error_get_pretty(err));
        error_free(err);
        return false;
    }
    s->debounce_timer = timer_new_ms(QEMU_CLOCK_REALTIME, dp_debounce_cb, s);
    return true;
}

static char *dp_get_reload(Object *obj, Error **errp)
{
    DynPeriphState *s = DYNPERIPH(obj);

    return g_strdup(s->gen ? s->gen->path : s->plugin);
}

static void dp_set_reload(Object *obj, const char *value, Error **errp)
{
    DynPeriphState *s = DYNPERIPH(obj);

    if (!DEVICE(obj)->realized) {
        error_setg(errp, "dynperiph: 'reload' is only valid on a running device");
        return;
    }
    dp_request_reload(s, value, errp);
}

static char *dp_get_reload_status(Object *obj, Error **errp)
{
    return g_strdup(DYNPERIPH(obj)->reload_status);
}

/* ---- realize / unrealize --------------------------------------------------------------------- */

static bool dp_check_overlap(DynPeriphState *s, uint64_t size, Error **errp)
{
    DynPeriphState *o;

    if (s->addr + size - 1 < s->addr) {
        error_setg(errp, "plugin %s: region at 0x%" PRIx64 " of size 0x%" PRIx64
                   " wraps around the address space", s->plugin, s->addr, size);
        return false;
    }
    QTAILQ_FOREACH(o, &dp_devices, next) {
        uint64_t osize = o->gen->desc->mmio_size;

        if (s->addr <= o->addr + osize - 1 && o->addr <= s->addr + size - 1) {
            error_setg(errp, "plugin %s: region 0x%" PRIx64 "..0x%" PRIx64 " overlaps dynperiph "
                       "'%s' (%s) at 0x%" PRIx64 "..0x%" PRIx64, s->plugin, s->addr,
                       s->addr + size - 1, o->name, o->gen->path, o->addr, o->addr + osize - 1);
            return false;
        }
    }
    return true;
}

/*
 * addr= and irq= default to the plugin's DYNPERIPH_CAP_PLACEMENT (its SVD's baseAddress and first
 * <interrupt>); without either, addr= is required: nothing is ever mapped at 0 by default.
 */
static bool dp_default_placement(DynPeriphState *s, DPGen *g, Error **errp)
{
    const dp_placement *pl = NULL;

    if (g->iso) {
        pl = dp_isolate_placement(g->iso);     /* the child's, asked for at its start */
    } else if (g->desc->abi.minor >= 1 && g->desc->get_capability) {
        pl = g->desc->get_capability(NULL, DYNPERIPH_CAP_PLACEMENT);
        pl = pl && pl->version.major == 1 ? pl : NULL;
    }
    if (s->addr == DP_ADDR_NONE) {
        if (!pl || !pl->has_base) {
            error_setg(errp, "plugin %s: no addr= given and the plugin names no default address "
                       "(no <baseAddress> in its SVD); give addr=BASE", s->plugin);
            return false;
        }
        s->addr = pl->base;
    }
    if (s->irq == DP_IRQ_NONE && pl && pl->has_irq && g->desc->irq_count > 0) {
        s->irq = pl->irq;
    }
    if (!DEVICE(s)->id) {
        g_free(s->name);
        s->name = g_strdup_printf("dynperiph@0x%" PRIx64, s->addr);
        g->host.instance_name = s->name;
    }
    return true;
}

static void dp_exit_notify(Notifier *n, void *data);
static void dp_teardown(DynPeriphState *s);

static void dp_realize(DeviceState *dev, Error **errp)
{
    DynPeriphState *s = DYNPERIPH(dev);
    DPGen *g;

    s->name = dev->id ? g_strdup(dev->id)
              : s->addr != DP_ADDR_NONE ? g_strdup_printf("dynperiph@0x%" PRIx64, s->addr)
                                        : g_strdup("dynperiph");
    if (!s->plugin || !*s->plugin) {
        error_setg(errp, "dynperiph %s: property 'plugin' (path of the plugin .so) is required",
                   s->name);
        return;
    }
    if (!s->args) {
        s->args = g_strdup("");
    }
    if (!dp_attach(s->plugin, s->cpu, s->secure, &s->attach, errp)) {
        return;
    }
    if (s->on_crash && strcmp(s->on_crash, "buserror") && strcmp(s->on_crash, "restart")) {
        error_setg(errp, "dynperiph %s: on-crash=%s: expected buserror or restart", s->name,
                   s->on_crash);
        return;
    }
    if (!s->isolate && (s->on_crash || s->isolate_host)) {
        error_setg(errp, "dynperiph %s: %s applies to isolate=on only", s->name,
                   s->on_crash ? "on-crash" : "isolate-host");
        return;
    }
    if (s->chardev && *s->chardev &&
        !(s->chardevs = dp_chardevs_new(s->name, s->chardev, errp))) {
        return;
    }
    g = dp_gen_open(s, s->plugin, dp_use_trial(s) ? s->args : NULL, NULL, errp);
    if (!g) {
        dp_teardown(s);
        return;
    }
    if (!dp_default_placement(s, g, errp) ||
        !dp_check_overlap(s, g->desc->mmio_size, errp) ||
        !dp_region_is_free(s->plugin, &s->attach, s->addr, g->desc->mmio_size, errp) ||
        !dp_wire_irqs(s, g->desc->irq_count, errp) ||
        (s->watch && !dp_watch_start(s, errp)) ||
        !dp_instantiate(g, s->args, NULL, errp) ||
        !dp_gen_activate(g, errp)) {
        dp_gen_free(g);
        dp_teardown(s);
        return;
    }
    g->number = 1;
    s->gen = g;
    dp_chardevs_set_live(s->chardevs, g->chr);
    s->reload_status = g_strdup("idle");
    s->retry_timer = timer_new_ms(QEMU_CLOCK_REALTIME, dp_retry_cb, s);
    memory_region_init_io(&s->mmio, OBJECT(dev), &dp_mmio_ops, s, s->name, g->desc->mmio_size);
    memory_region_add_subregion_overlap(get_system_memory(), s->addr, &s->mmio, 0);
    qemu_register_reset(dp_reset, s);
    s->exit_notifier.notify = dp_exit_notify;
    qemu_add_exit_notifier(&s->exit_notifier);
    QTAILQ_INSERT_TAIL(&dp_devices, s, next);
}

static void dp_teardown(DynPeriphState *s)
{
    if (s->monitor) {
        qemu_file_monitor_free(s->monitor);
        s->monitor = NULL;
    }
    if (s->debounce_timer) {
        timer_free(s->debounce_timer);
        s->debounce_timer = NULL;
    }
    if (s->retry_timer) {
        timer_free(s->retry_timer);
        s->retry_timer = NULL;
    }
    dp_gen_free(s->gen);
    s->gen = NULL;
    dp_chardevs_free(s->chardevs);  /* after the instance: it may write in deactivate */
    s->chardevs = NULL;
}

/*
 * QEMU does not unrealize devices when it exits, but a plugin may own host resources (temporary
 * files, threads, child processes) that only its destroy() releases. exit() may come from a vCPU
 * thread (semihosting SYS_EXIT), so take the BQL unless this thread already holds it.
 */
static void dp_exit_notify(Notifier *n, void *data)
{
    DynPeriphState *s = container_of(n, DynPeriphState, exit_notifier);
    bool locked = DP_BQL_LOCKED();

    if ((s->gen && s->gen->blocking) || s->reloading) {
        return;                     /* a work thread or a half-done reload still uses it */
    }
    if (!locked) {
        DP_BQL_LOCK();
    }
    dp_teardown(s);
    if (!locked) {
        DP_BQL_UNLOCK();
    }
}

static void dp_unrealize(DeviceState *dev)
{
    DynPeriphState *s = DYNPERIPH(dev);

    QTAILQ_REMOVE(&dp_devices, s, next);
    notifier_remove(&s->exit_notifier);
    qemu_unregister_reset(dp_reset, s);
    memory_region_del_subregion(get_system_memory(), &s->mmio);
    dp_teardown(s);
    g_free(s->reload_path);
    g_free(s->reload_status);
    g_free(s->watch_dir);
    g_free(s->name);
}

static DP_PROPERTIES dp_properties[] = {
    DEFINE_PROP_STRING("plugin", DynPeriphState, plugin),
    DEFINE_PROP_UINT64("addr", DynPeriphState, addr, DP_ADDR_NONE),
    DEFINE_PROP_STRING("args", DynPeriphState, args),
    DEFINE_PROP_UINT32("irq", DynPeriphState, irq, DP_IRQ_NONE),
    DEFINE_PROP_UINT32("cpu", DynPeriphState, cpu, DP_CPU_DEFAULT),
    DEFINE_PROP_ON_OFF_AUTO("secure", DynPeriphState, secure, ON_OFF_AUTO_AUTO),
    DEFINE_PROP_BOOL("watch", DynPeriphState, watch, false),
    DEFINE_PROP_BOOL("trial", DynPeriphState, trial, true),
    DEFINE_PROP_UINT32("trial-timeout", DynPeriphState, trial_timeout_s, 10),
    DEFINE_PROP_BOOL("isolate", DynPeriphState, isolate, false),
    DEFINE_PROP_STRING("isolate-host", DynPeriphState, isolate_host),
    DEFINE_PROP_STRING("on-crash", DynPeriphState, on_crash),
    DEFINE_PROP_UINT32("deadline-ms", DynPeriphState, deadline_ms, 1000),
    DEFINE_PROP_UINT32("blocking-deadline-ms", DynPeriphState, blocking_deadline_ms, 60000),
    DEFINE_PROP_UINT32("checkpoint-ms", DynPeriphState, checkpoint_ms, 100),
    DEFINE_PROP_STRING("chardev", DynPeriphState, chardev),
    DP_PROP_END
};

/* What -device dynperiph,help prints next to each property. */
static void dp_describe_props(ObjectClass *klass)
{
    static const char *const text[][2] = {
        { "plugin", "path of the peripheral plugin .so (required)" },
        { "addr", "base address of its MMIO region (default: the plugin's SVD <baseAddress>; "
                  "refused if it overlaps RAM, ROM or a board device)" },
        { "irq", "first interrupt-controller (NVIC) input; plugin line k drives irq+k (default: "
                 "the SVD's <interrupt>; a warning names a board device already on it)" },
        { "args", "string handed to the plugin: key=value pairs separated by ';' (or by ',' "
                  "written ',,' on the QEMU command line)" },
        { "cpu", "index of the CPU whose NVIC and view of memory (DMA) the device uses (default 0)" },
        { "secure", "Armv8-M: DMA as a Secure (on) or Non-secure (off) bus master; auto = Secure "
                    "if the CPU has TrustZone (what the board boots as)" },
        { "watch", "on: hot-reload when the plugin file is replaced" },
        { "trial", "on (default): run the plugin's initialisation in a forked child first, so a "
                   "crash or hang there is an error, not a dead QEMU" },
        { "trial-timeout", "seconds a trial initialisation may take (default 10)" },
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(text); i++) {
        object_class_property_set_description(klass, text[i][0], text[i][1]);
    }
}

static void dp_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->realize = dp_realize;
    dc->unrealize = dp_unrealize;
    dc->desc = "Peripheral implemented by a dynamically loaded plugin";
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    device_class_set_props(dc, dp_properties);
    dp_describe_props(klass);
    object_class_property_add_str(klass, "reload", dp_get_reload, dp_set_reload);
    object_class_property_set_description(klass, "reload",
        "write a plugin path (empty: the current one) to hot-reload it without a reset");
    object_class_property_add_str(klass, "reload-status", dp_get_reload_status, NULL);
    object_class_property_set_description(klass, "reload-status",
        "idle | pending: ... | ok: PATH (generation N) | error: REASON");
}

static const TypeInfo dp_info = {
    .name = TYPE_DYNPERIPH,
    .parent = TYPE_DEVICE,
    .instance_size = sizeof(DynPeriphState),
    .class_init = dp_class_init,
};

static void dp_register_types(void)
{
    type_register_static(&dp_info);
}

type_init(dp_register_types)
