/*
 * dp-isolate-host: runs one dynperiph plugin .so in its own process for QEMU's dynperiph device with
 * isolate=on. The device starts it with the channel's memfd as fd 3 (isolate/dp_isolate_proto.h):
 *
 *   dp-isolate-host PLUGIN.so
 *
 * It loads the plugin from a sealed in-memory copy (memload/), posts HELLO with the descriptor, then
 * serves the device's calls one at a time on its main thread, forwarding every host service the
 * plugin calls back to QEMU over the channel. Not meant to be run by hand (it says so and exits 2).
 *
 * Lifetime: PR_SET_PDEATHSIG(SIGKILL), and it exits when its parent is not the QEMU that started it,
 * so it never outlives QEMU; no core dumps (RLIMIT_CORE 0), no files.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later OR MIT
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "dp_isolate_chan.h"
#include "iso_host.h"
#include "dp_memload.h"
#include "dynperiph/plugin.h"

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#define CHILD_SPIN_NS   100000u      /* spin this long for the next message before sleeping */
#define CHILD_SLICE_NS  100000000u   /* then check the parent every 100 ms */

typedef struct iso_timer {
    uint64_t id;
    dp_timer_cb cb;
    void *opaque;
    struct iso_timer *next;
} iso_timer;

void *iso_shm;
static uint32_t seen;               /* last value of the to-child doorbell */
static pid_t parent;
static pthread_t main_thread;
static const dp_plugin_desc *desc;
static dp_instance *inst;
static dp_host host;
static int in_call;                 /* a call is being served: services may be used */
static int in_work;                 /* inside run_blocking's fn: services refused */
static iso_timer *timers;
static uint64_t next_timer_id = 1;
static char *instance_name;

static void wait_parent(void)
{
    while (!dp_iso_wait(iso_shm, DP_ISO_OFF_TO_CHILD, &seen, CHILD_SPIN_NS, CHILD_SLICE_NS)) {
        if (getppid() != parent) {
            _exit(0);               /* QEMU is gone */
        }
    }
}

static void post(uint32_t op, uint32_t status, uint64_t a, uint64_t b, uint64_t c, uint32_t len)
{
    dp_iso_send(iso_shm, dp_iso_rsp(iso_shm), DP_ISO_OFF_TO_PARENT, op, status, a, b, c, len);
}

static void fatal(const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf((char *)dp_iso_data(iso_shm), 1024, fmt, ap);
    va_end(ap);
    post(DP_ISO_FATAL, 0, 0, 0, 0, n < 0 ? 0 : (n > 1023 ? 1023 : (uint32_t)n));
    _exit(1);
}

/* A service round trip; false when not allowed now (outside a call, another thread, in blocking work). */
bool iso_svc(uint32_t op, uint64_t a, uint64_t b, uint32_t len, dp_iso_msg *reply)
{
    if (!in_call || in_work || !pthread_equal(pthread_self(), main_thread)) {
        fprintf(stderr, "dp-isolate-host %s: host service %u called outside a device callback "
                "(refused)\n", instance_name ? instance_name : "?", op);
        return false;
    }
    post(op, 0, a, b, 0, len);
    wait_parent();
    *reply = *dp_iso_req(iso_shm);
    return true;
}

/* ---- dp_host, forwarded ---------------------------------------------------------------------- */

static dp_status h_dma_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    dp_iso_msg r;
    size_t done = 0;

    do {                            /* chunks of the data area; len may be 0 */
        size_t n = len - done < DP_ISO_DATA_SIZE ? len - done : DP_ISO_DATA_SIZE;

        if (!iso_svc(DP_ISO_SVC_DMA_READ, addr + done, n, 0, &r)) {
            return DP_ERR_INTERNAL;
        }
        if (r.status != DP_OK) {
            return (dp_status)r.status;
        }
        memcpy((char *)buf + done, dp_iso_data(iso_shm), n);
        done += n;
    } while (done < len);
    return DP_OK;
}

static dp_status h_dma_write(void *ctx, uint64_t addr, const void *buf, size_t len)
{
    dp_iso_msg r;
    size_t done = 0;

    do {                            /* > DP_ISO_DATA_SIZE: chunks, each checked by QEMU on its own */
        size_t n = len - done < DP_ISO_DATA_SIZE ? len - done : DP_ISO_DATA_SIZE;

        if (!in_call || in_work) {
            return DP_ERR_INTERNAL;
        }
        memcpy(dp_iso_data(iso_shm), (const char *)buf + done, n);
        if (!iso_svc(DP_ISO_SVC_DMA_WRITE, addr + done, 0, (uint32_t)n, &r)) {
            return DP_ERR_INTERNAL;
        }
        if (r.status != DP_OK) {
            return (dp_status)r.status;
        }
        done += n;
    } while (done < len);
    return DP_OK;
}

static void h_set_irq(void *ctx, unsigned line, int level)
{
    dp_iso_msg r;

    iso_svc(DP_ISO_SVC_SET_IRQ, line, level != 0, 0, &r);
}

static uint64_t h_clock_ns(void *ctx)
{
    dp_iso_msg r;

    return iso_svc(DP_ISO_SVC_CLOCK, 0, 0, 0, &r) ? r.a : 0;
}

static dp_timer *h_timer_new(void *ctx, dp_timer_cb cb, void *opaque)
{
    iso_timer *t;
    dp_iso_msg r;

    if (!cb || !(t = calloc(1, sizeof(*t)))) {
        return NULL;
    }
    t->id = next_timer_id++;
    t->cb = cb;
    t->opaque = opaque;
    if (!iso_svc(DP_ISO_SVC_TIMER_NEW, t->id, 0, 0, &r) || r.status != DP_OK) {
        free(t);
        return NULL;
    }
    t->next = timers;
    timers = t;
    return (dp_timer *)t;
}

static void h_timer_arm(void *ctx, dp_timer *t, uint64_t deadline_ns)
{
    dp_iso_msg r;

    if (t) {
        iso_svc(DP_ISO_SVC_TIMER_ARM, ((iso_timer *)t)->id, deadline_ns, 0, &r);
    }
}

static void h_timer_cancel(void *ctx, dp_timer *t)
{
    dp_iso_msg r;

    if (t) {
        iso_svc(DP_ISO_SVC_TIMER_CANCEL, ((iso_timer *)t)->id, 0, 0, &r);
    }
}

static void h_timer_free(void *ctx, dp_timer *pt)
{
    iso_timer *t = (iso_timer *)pt, **pp;
    dp_iso_msg r;

    if (!t) {
        return;
    }
    iso_svc(DP_ISO_SVC_TIMER_FREE, t->id, 0, 0, &r);
    for (pp = &timers; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    free(t);
}

static void h_log(void *ctx, dp_log_level level, const char *msg)
{
    dp_iso_msg r;
    size_t n;

    if (!msg || !in_call || in_work) {
        return;
    }
    n = strnlen(msg, 4095);
    memcpy(dp_iso_data(iso_shm), msg, n);
    iso_svc(DP_ISO_SVC_LOG, (uint64_t)level, 0, (uint32_t)n, &r);
}

static dp_status h_run_blocking(void *ctx, dp_work_fn fn, void *opaque)
{
    dp_iso_msg r;

    if (!fn) {
        return DP_ERR_INVALID;
    }
    if (!iso_svc(DP_ISO_SVC_RUN_BLOCKING, 0, 0, 0, &r)) {
        return DP_ERR_INTERNAL;
    }
    if (r.op != DP_ISO_BLOCKING_GO) {
        return (dp_status)r.status; /* could not be started: fn not run */
    }
    in_work = 1;                    /* QEMU's worker thread waits (BQL released) while fn runs */
    fn(opaque);
    in_work = 0;
    post(DP_ISO_BLOCKING_DONE, 0, 0, 0, 0, 0);
    wait_parent();
    return (dp_status)dp_iso_req(iso_shm)->status;
}

static const void *h_get_capability(void *ctx, const char *id)
{
    return iso_caps_host_capability(id);   /* async/1, chardev/1: iso-caps.c */
}

/* ---- the calls ------------------------------------------------------------------------------- */

static iso_timer *find_timer(uint64_t id)
{
    iso_timer *t;

    for (t = timers; t && t->id != id; t = t->next) {
    }
    return t;
}

static void serve(const dp_iso_msg *m)
{
    uint8_t *data = dp_iso_data(iso_shm);
    uint32_t len = m->len < DP_ISO_DATA_SIZE ? m->len : DP_ISO_DATA_SIZE;
    uint64_t value = 0;
    dp_status st = DP_OK;
    size_t out = 0;
    uint64_t caps = 0;
    iso_timer *t;
    dp_iso_msg done;

    in_call = 1;
    switch (m->op) {
    case DP_ISO_CREATE: {
        char *args = strndup((char *)data, len);
        char err[1024] = "";
        size_t alen = strlen(args);

        free(instance_name);
        instance_name = strndup((char *)data + (alen < len ? alen + 1 : len),
                                len - (alen < len ? alen + 1 : len));
        host.instance_name = instance_name;
        inst = desc->create(&host, args, err, sizeof(err));
        free(args);
        caps = iso_caps_instance_flags(inst);
        if (!inst) {
            err[sizeof(err) - 1] = 0;
            out = strlen(err);
            memcpy(data, err, out);
            st = DP_ERR_INVALID;
        }
        break;
    }
    case DP_ISO_DESTROY:
        iso_caps_drop_posted();     /* queued work is dropped when destroy starts (async.h) */
        if (inst) {
            desc->destroy(inst);
            inst = NULL;
        }
        iso_caps_drop_posted();
        break;
    case DP_ISO_RESET:
        if (inst && desc->reset) {
            desc->reset(inst);
        }
        break;
    case DP_ISO_READ:
        st = inst ? desc->read(inst, m->a, (unsigned)m->b, &value) : DP_ERR_BUS;
        break;
    case DP_ISO_WRITE:
        st = inst ? desc->write(inst, m->a, (unsigned)m->b, m->c) : DP_ERR_BUS;
        break;
    case DP_ISO_SAVE:
        if (!inst || !desc->save_state) {
            st = DP_ERR_UNSUPPORTED;
            break;
        }
        st = desc->save_state(inst, NULL, 0, &out);
        if (st == DP_OK && out > DP_ISO_DATA_SIZE) {
            st = DP_ERR_NOMEM;
        } else if (st == DP_OK) {
            size_t cap = out;
            void *buf = malloc(cap ? cap : 1);

            st = buf ? desc->save_state(inst, buf, cap, &out) : DP_ERR_NOMEM;
            if (st == DP_OK) {
                out = out < cap ? out : cap;
                memcpy(data, buf, out);
            }
            free(buf);
        }
        if (st != DP_OK) {
            out = 0;
        }
        break;
    case DP_ISO_LOAD: {
        void *buf = malloc(len ? len : 1);

        if (!buf) {
            st = DP_ERR_NOMEM;
            break;
        }
        memcpy(buf, data, len);
        st = inst && desc->load_state ? desc->load_state(inst, (uint32_t)m->a, buf, len)
                                      : DP_ERR_UNSUPPORTED;
        free(buf);
        break;
    }
    case DP_ISO_TIMER:
        t = find_timer(m->a);
        if (t) {
            t->cb(t->opaque);       /* may free t */
        }
        break;
    case DP_ISO_QUIT:
        _exit(0);
    default:
        if (iso_caps_serve(m, inst, &done)) {  /* PLACEMENT .. CHR_EVENT: off the MMIO path */
            in_call = 0;
            post(DP_ISO_DONE, done.status, done.a, done.b, done.c, done.len);
            return;
        }
        fprintf(stderr, "dp-isolate-host: unknown call %u from the device\n", m->op);
        _exit(3);
    }
    in_call = 0;
    post(DP_ISO_DONE, st, value, 0, caps, (uint32_t)out);
}

int main(int argc, char **argv)
{
    static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGPIPE };
    struct rlimit nocore = { 0, 0 };
    struct stat sb;
    dp_memload so = DP_MEMLOAD_INIT;
    char err[1024];
    dp_entry_fn entry;
    size_t i, nl, dl;

    if (argc != 2 || fstat(DP_ISO_CHILD_FD, &sb) < 0 || (size_t)sb.st_size < DP_ISO_SHM_SIZE) {
        fprintf(stderr, "dp-isolate-host: started by QEMU's dynperiph device (isolate=on), not by "
                "hand: usage: dp-isolate-host PLUGIN.so with the channel memfd as fd 3\n");
        return 2;
    }
    iso_shm = mmap(NULL, DP_ISO_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, DP_ISO_CHILD_FD, 0);
    if (iso_shm == MAP_FAILED || *dp_iso_u32(iso_shm, DP_ISO_OFF_MAGIC) != DP_ISO_MAGIC) {
        fprintf(stderr, "dp-isolate-host: fd 3 is not a dynperiph isolation channel\n");
        return 2;
    }
    parent = (pid_t)*dp_iso_u32(iso_shm, DP_ISO_OFF_PARENT_PID);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) {
        _exit(0);
    }
    setrlimit(RLIMIT_CORE, &nocore);
    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        signal(sigs[i], SIG_DFL);
    }
    seen = __atomic_load_n(dp_iso_u32(iso_shm, DP_ISO_OFF_TO_CHILD), __ATOMIC_ACQUIRE);
    main_thread = pthread_self();
    if (*dp_iso_u32(iso_shm, DP_ISO_OFF_VERSION) != DP_ISO_VERSION) {
        fatal("protocol version %u, this dp-isolate-host speaks %u",
              *dp_iso_u32(iso_shm, DP_ISO_OFF_VERSION), DP_ISO_VERSION);
    }
    if (dp_memload_prepare(&so, argv[1], err, sizeof(err)) < 0) {
        fatal("%s", err);
    }
    if (dp_memload_open(&so, RTLD_NOW | RTLD_LOCAL, err, sizeof(err)) < 0) {
        fatal("not a loadable plugin: %s", err);
    }
    entry = (dp_entry_fn)dlsym(so.handle, DYNPERIPH_ENTRY_SYMBOL);
    if (!entry) {
        fatal("not a dynperiph plugin: no '%s' symbol", DYNPERIPH_ENTRY_SYMBOL);
    }
    desc = entry((dp_version) { DYNPERIPH_ABI_MAJOR, DYNPERIPH_ABI_MINOR });
    if (!desc) {
        fatal("the entry point returned no descriptor (the plugin cannot work with host ABI %u.%u)",
              DYNPERIPH_ABI_MAJOR, DYNPERIPH_ABI_MINOR);
    }
    if (desc->abi.major != DYNPERIPH_ABI_MAJOR || desc->abi.minor > DYNPERIPH_ABI_MINOR) {
        fatal("plugin ABI %u.%u, this host supports %u.0 to %u.%u", desc->abi.major,
              desc->abi.minor, DYNPERIPH_ABI_MAJOR, DYNPERIPH_ABI_MAJOR, DYNPERIPH_ABI_MINOR);
    }
    if (!desc->create || !desc->destroy || !desc->read || !desc->write) {
        fatal("bad descriptor: no %s callback", !desc->create ? "create" : !desc->destroy
              ? "destroy" : !desc->read ? "read" : "write");
    }
    host = (dp_host) {
        .abi = { DYNPERIPH_ABI_MAJOR, DYNPERIPH_ABI_MINOR },
        .ctx = NULL,
        .instance_name = "",
        .dma_read = h_dma_read,
        .dma_write = h_dma_write,
        .set_irq = h_set_irq,
        .clock_ns = h_clock_ns,
        .timer_new = h_timer_new,
        .timer_arm = h_timer_arm,
        .timer_cancel = h_timer_cancel,
        .timer_free = h_timer_free,
        .log = h_log,
        .run_blocking = h_run_blocking,
        .get_capability = h_get_capability,
    };
    iso_caps_init(desc, &host);
    nl = desc->name ? strnlen(desc->name, 255) : 0;
    dl = desc->description ? strnlen(desc->description, 1023) : 0;
    memcpy(dp_iso_data(iso_shm), desc->name ? desc->name : "", nl);
    dp_iso_data(iso_shm)[nl] = 0;
    memcpy(dp_iso_data(iso_shm) + nl + 1, desc->description ? desc->description : "", dl);
    post(DP_ISO_HELLO, 0, desc->mmio_size, desc->irq_count,
         (uint64_t)desc->state_version |
         ((uint64_t)((desc->reset ? DP_ISO_HAS_RESET : 0) | (desc->save_state ? DP_ISO_HAS_SAVE : 0) |
                     (desc->load_state ? DP_ISO_HAS_LOAD : 0) | DP_ISO_HAS_CAPS) << 32),
         (uint32_t)(nl + 1 + dl));
    for (;;) {
        dp_iso_msg m;

        wait_parent();
        m = *dp_iso_req(iso_shm);
        serve(&m);
    }
}
