/*
 * test-periph: a plain-C dynperiph plugin (no SDK) that exercises every host service, for the
 * device tests in tests/qtest. Variants are built from this one file with -D (tests/plugins/
 * CMakeLists.txt): TP_FAULTS, TP_VARIANT, TP_ID_VALUE, TP_ABI_MAJOR, TP_ABI_MINOR, TP_NO_ENTRY, TP_NULL_DESC, TP_STATE_VERSION,
 * TP_MMIO_SIZE, TP_IRQ_COUNT, TP_CRASH_IN_CREATE, TP_HANG_IN_CREATE.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later OR MIT
 *
 * Registers (32-bit unless noted; any other offset is a bus error):
 *   0x00 ID        RO   TP_ID_VALUE
 *   0x04 SCRATCH   RW   reset value from args "scratch=N"
 *   0x08 LAST_SIZE RO   size in bytes of the last MMIO write (any register)
 *   0x0C DMA_SRC   RW   \
 *   0x10 DMA_DST   RW    } DMA copy of DMA_LEN (<= 4096) bytes from DMA_SRC to DMA_DST
 *   0x14 DMA_LEN   RW   /
 *   0x18 DMA_CTRL  WO   1: start. Source is read at once; destination written DELAY_NS later
 *   0x1C STATUS    RO   0 idle, 1 busy, 2 done, 3 source range error, 4 destination range error
 *   0x20 DELAY_NS  RW   latency of a DMA copy (0: completes inside the DMA_CTRL write)
 *   0x24 IRQ_EN    RW   bit 0: DMA finished -> line 0; bit 1: timer expired -> line 1
 *   0x28 IRQ_STAT  W1C  bit 0 DMA finished, bit 1 timer expired
 *   0x2C TIMER_NS  WO   arm a one-shot timer at now + value ns (0 cancels)
 *   0x30 TIMER_CNT RO   number of timer expiries
 *   0x34 CLOCK_LO  RO   low 32 bits of the virtual clock in ns
 *   0x38 WORK      WO   run_blocking: sleeps value ms on the worker, then WORK_RES = 2 * value + 1
 *   0x3C WORK_RES  RO
 *   0x40 RESETS    RO   number of reset() calls (not cleared by reset)
 *   0x44 LOADS     RO   number of hot reloads this state went through
 *   0x48 VARIANT   RO   TP_VARIANT
 *   0x4C FAULT     RW   TP_FAULTS builds (test-faulty) only: with args fault=KIND@read (@write) reading
 *                       (writing) it faults; KIND segv (SIGSEGV), abort (SIGABRT) or hang (sleeps
 *                       forever). fault=KIND@timer faults in the TIMER_NS timer's callback,
 *                       KIND@reset in every reset() after the first (the machine's start),
 *                       KIND@work in the WORK register's blocking work. For isolate=on tests.
 *   0x100..0x1FF   MEM  256 bytes of RAM, accesses of 1, 2, 4 or 8 bytes
 */
#include "dynperiph/plugin.h"
#include "test_periph_regs.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef TP_FAULTS
#include <signal.h>
#endif

#ifndef TP_VARIANT
#define TP_VARIANT 1
#endif
#ifndef TP_ID_VALUE
#define TP_ID_VALUE (TP_ID_BASE + TP_VARIANT)
#endif
#ifndef TP_ABI_MINOR
#define TP_ABI_MINOR DYNPERIPH_ABI_MINOR
#endif
#ifndef TP_ABI_MAJOR
#define TP_ABI_MAJOR DYNPERIPH_ABI_MAJOR
#endif
#ifndef TP_STATE_VERSION
#define TP_STATE_VERSION 1
#endif
#ifndef TP_MMIO_SIZE
#define TP_MMIO_SIZE 0x1000
#endif
#ifndef TP_IRQ_COUNT
#define TP_IRQ_COUNT 2
#endif

/* Everything that survives a hot reload; the blob is this struct, tagged by TP_STATE_VERSION. */
typedef struct tp_regs {
    uint32_t scratch, last_size, dma_src, dma_dst, dma_len, status, delay_ns, irq_en, irq_stat;
    uint32_t timer_cnt, work_res, resets, loads;
    uint64_t timer_deadline;        /* 0: not armed */
    uint8_t mem[TP_MEM_SIZE];
} tp_regs;

struct dp_instance {
    const dp_host *host;
    tp_regs r;
    uint32_t scratch_reset;
    uint8_t dma_buf[TP_DMA_MAX];
    char marker[200];
    dp_timer *dma_timer, *timer;
    char fault_kind[8], fault_where[8];
    int in_work;                    /* atomic: the WORK register's blocking work runs */
};

#ifdef TP_FAULTS
volatile uintptr_t tp_null_address;     /* 0, but the compiler cannot know it */
#endif

/* fault=KIND@WHERE (TP_FAULTS): misbehave here if WHERE matches. */
static void maybe_fault(const dp_instance *p, const char *where)
{
#ifdef TP_FAULTS
    if (strcmp(p->fault_where, where) != 0) {
        return;
    }
    if (strcmp(p->fault_kind, "segv") == 0) {
        *(volatile int *)tp_null_address = 1;   /* a real invalid access (SIGSEGV) */
    } else if (strcmp(p->fault_kind, "abort") == 0) {
        abort();
    } else if (strcmp(p->fault_kind, "hang") == 0) {
        for (;;) {
            struct timespec ts = { 1, 0 };

            nanosleep(&ts, NULL);
        }
    }
#else
    (void)p;
    (void)where;
#endif
}

static void update_irq(dp_instance *p)
{
    uint32_t pending = p->r.irq_stat & p->r.irq_en;
    unsigned i;

    for (i = 0; i < 2 && i < TP_IRQ_COUNT; i++) {
        p->host->set_irq(p->host->ctx, i, (pending >> i) & 1);
    }
}

static void dma_finish(void *opaque)
{
    dp_instance *p = opaque;
    dp_status st = p->host->dma_write(p->host->ctx, p->r.dma_dst, p->dma_buf, p->r.dma_len);

    p->r.status = st == DP_OK ? TP_ST_DONE : TP_ST_DST_ERR;
    p->r.irq_stat |= 1;
    update_irq(p);
}

static void dma_start(dp_instance *p)
{
    const dp_host *h = p->host;

    if (p->r.status == TP_ST_BUSY) {
        h->log(h->ctx, DP_LOG_GUEST_ERROR, "DMA_CTRL: a copy is already running");
        return;
    }
    if (p->r.dma_len > TP_DMA_MAX ||
        h->dma_read(h->ctx, p->r.dma_src, p->dma_buf, p->r.dma_len) != DP_OK) {
        p->r.status = TP_ST_SRC_ERR;
        p->r.irq_stat |= 1;
        update_irq(p);
        return;
    }
    if (p->r.delay_ns == 0) {
        dma_finish(p);
        return;
    }
    p->r.status = TP_ST_BUSY;
    h->timer_arm(h->ctx, p->dma_timer, h->clock_ns(h->ctx) + p->r.delay_ns);
}

static void timer_expired(void *opaque)
{
    dp_instance *p = opaque;

    maybe_fault(p, "timer");

    p->r.timer_deadline = 0;
    p->r.timer_cnt++;
    p->r.irq_stat |= 2;
    update_irq(p);
}

typedef struct work {
    uint32_t ms, result;
    dp_instance *p;
} work;

static void do_work(void *opaque)
{
    work *w = opaque;
    struct timespec ts = { (time_t)(w->ms / 1000), (long)(w->ms % 1000) * 1000000L };

    maybe_fault(w->p, "work");

    __atomic_store_n(&w->p->in_work, 1, __ATOMIC_SEQ_CST);
    nanosleep(&ts, NULL);
    w->result = 2 * w->ms + 1;
    __atomic_store_n(&w->p->in_work, 0, __ATOMIC_SEQ_CST);
}

static void tp_reset(dp_instance *p)
{
    uint32_t resets = p->r.resets + 1;

    if (resets >= 2) {
        maybe_fault(p, "reset");
    }
    if (__atomic_load_n(&p->in_work, __ATOMIC_SEQ_CST)) {   /* plugin.h: never concurrently */
        p->host->log(p->host->ctx, DP_LOG_ERROR, "reset() while the blocking work runs");
    }

    p->host->timer_cancel(p->host->ctx, p->dma_timer);
    p->host->timer_cancel(p->host->ctx, p->timer);
    memset(&p->r, 0, sizeof(p->r));
    p->r.scratch = p->scratch_reset;
    p->r.resets = resets;
    update_irq(p);
}

static dp_status tp_read(dp_instance *p, uint64_t off, unsigned size, uint64_t *value)
{
    if (off >= TP_MEM && off + size <= TP_MEM + TP_MEM_SIZE) {
        *value = 0;
        memcpy(value, &p->r.mem[off - TP_MEM], size);     /* little-endian host */
        return DP_OK;
    }
    switch (size == 4 ? off : ~0ull) {
    case TP_REG_ID: *value = TP_ID_VALUE; break;
    case TP_REG_SCRATCH: *value = p->r.scratch; break;
    case TP_REG_LAST_SIZE: *value = p->r.last_size; break;
    case TP_REG_DMA_SRC: *value = p->r.dma_src; break;
    case TP_REG_DMA_DST: *value = p->r.dma_dst; break;
    case TP_REG_DMA_LEN: *value = p->r.dma_len; break;
    case TP_REG_STATUS: *value = p->r.status; break;
    case TP_REG_DELAY_NS: *value = p->r.delay_ns; break;
    case TP_REG_IRQ_EN: *value = p->r.irq_en; break;
    case TP_REG_IRQ_STAT: *value = p->r.irq_stat; break;
    case TP_REG_TIMER_CNT: *value = p->r.timer_cnt; break;
    case TP_REG_CLOCK_LO: *value = (uint32_t)p->host->clock_ns(p->host->ctx); break;
    case TP_REG_WORK_RES: *value = p->r.work_res; break;
    case TP_REG_RESETS: *value = p->r.resets; break;
    case TP_REG_LOADS: *value = p->r.loads; break;
    case TP_REG_VARIANT: *value = TP_VARIANT; break;
#ifdef TP_FAULTS
    case TP_REG_FAULT: maybe_fault(p, "read"); *value = 0; break;
#endif
    default:
        return DP_ERR_BUS;
    }
    return DP_OK;
}

static dp_status tp_write(dp_instance *p, uint64_t off, unsigned size, uint64_t value)
{
    const dp_host *h = p->host;
    uint32_t v = (uint32_t)value;

    p->r.last_size = size;
    if (off >= TP_MEM && off + size <= TP_MEM + TP_MEM_SIZE) {
        memcpy(&p->r.mem[off - TP_MEM], &value, size);
        return DP_OK;
    }
    switch (size == 4 ? off : ~0ull) {
    case TP_REG_SCRATCH: p->r.scratch = v; break;
    case TP_REG_DMA_SRC: p->r.dma_src = v; break;
    case TP_REG_DMA_DST: p->r.dma_dst = v; break;
    case TP_REG_DMA_LEN: p->r.dma_len = v; break;
    case TP_REG_DMA_CTRL:
        if (v & 1) {
            dma_start(p);
        }
        break;
    case TP_REG_DELAY_NS: p->r.delay_ns = v; break;
#ifdef TP_FAULTS
    case TP_REG_FAULT: maybe_fault(p, "write"); break;
#endif
    case TP_REG_IRQ_EN: p->r.irq_en = v & 3; update_irq(p); break;
    case TP_REG_IRQ_STAT: p->r.irq_stat &= ~v; update_irq(p); break;
    case TP_REG_TIMER_NS:
        if (v == 0) {
            p->r.timer_deadline = 0;
            h->timer_cancel(h->ctx, p->timer);
        } else {
            p->r.timer_deadline = h->clock_ns(h->ctx) + v;
            h->timer_arm(h->ctx, p->timer, p->r.timer_deadline);
        }
        break;
    case TP_REG_WORK: {
        work w = { v, 0, p };

        if (h->run_blocking(h->ctx, do_work, &w) != DP_OK) {
            return DP_ERR_BUS;
        }
        p->r.work_res = w.result;
        break;
    }
    default:
        h->log(h->ctx, DP_LOG_GUEST_ERROR, "write to a read-only or unknown register");
        return DP_ERR_BUS;
    }
    return DP_OK;
}

/*
 * args: space- or ';'-separated key=value. scratch=N: reset value of SCRATCH. marker=PATH: a file
 * create() makes and destroy() removes (shows that QEMU destroys instances when it exits).
 */
static int parse_args(dp_instance *p, const char *args, char *err, size_t err_size)
{
    char buf[256], *save = NULL, *tok;

    if (strlen(args) >= sizeof(buf)) {
        snprintf(err, err_size, "args longer than %zu characters", sizeof(buf) - 1);
        return -1;
    }
    strcpy(buf, args);
    for (tok = strtok_r(buf, " ;", &save); tok; tok = strtok_r(NULL, " ;", &save)) {
        char *end;

        if (strncmp(tok, "marker=", 7) == 0 && tok[7] && strlen(tok + 7) < sizeof(p->marker)) {
            strcpy(p->marker, tok + 7);
            continue;
        }
#ifdef TP_FAULTS
        if (strncmp(tok, "fault=", 6) == 0 &&
            sscanf(tok + 6, "%7[a-z]@%7[a-z]", p->fault_kind, p->fault_where) == 2) {
            continue;
        }
#endif
        if (strncmp(tok, "scratch=", 8) != 0) {
            snprintf(err, err_size, "unknown args key '%s' (known: scratch=N, marker=PATH)", tok);
            return -1;
        }
        p->scratch_reset = (uint32_t)strtoul(tok + 8, &end, 0);
        if (end == tok + 8 || *end) {
            snprintf(err, err_size, "scratch: '%s' is not a number", tok + 8);
            return -1;
        }
    }
    return 0;
}

static dp_instance *tp_create(const dp_host *host, const char *args, char *err, size_t err_size)
{
    dp_instance *p = calloc(1, sizeof(*p));

#ifdef TP_HANG_IN_CREATE
    for (;;) {
        struct timespec ts = { 1, 0 };

        nanosleep(&ts, NULL);                   /* the hang the trial load must time out */
    }
#endif
#ifdef TP_CRASH_IN_CREATE
    int *volatile bad = NULL;
    *bad = 1;                                   /* the crash the trial load must catch */
#endif
    if (!p) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    p->host = host;
    if (parse_args(p, args, err, err_size) != 0) {
        free(p);
        return NULL;
    }
    p->dma_timer = host->timer_new(host->ctx, dma_finish, p);
    p->timer = host->timer_new(host->ctx, timer_expired, p);
    if (!p->dma_timer || !p->timer) {
        snprintf(err, err_size, "no host timers");
        free(p);
        return NULL;
    }
    if (p->marker[0]) {
        FILE *f = fopen(p->marker, "w");

        if (!f) {
            snprintf(err, err_size, "marker: cannot create %s", p->marker);
            host->timer_free(host->ctx, p->dma_timer);
            host->timer_free(host->ctx, p->timer);
            free(p);
            return NULL;
        }
        fclose(f);
    }
    p->r.scratch = p->scratch_reset;
    return p;
}

static void tp_destroy(dp_instance *p)
{
    if (p->marker[0]) {
        remove(p->marker);
    }
    p->host->timer_free(p->host->ctx, p->dma_timer);
    p->host->timer_free(p->host->ctx, p->timer);
    free(p);
}

static dp_status tp_save_state(dp_instance *p, void *buf, size_t cap, size_t *len)
{
    if (p->r.status == TP_ST_BUSY) {
        return DP_ERR_BUSY;
    }
    *len = sizeof(p->r);
    if (buf) {
        if (cap < sizeof(p->r)) {
            return DP_ERR_INVALID;
        }
        memcpy(buf, &p->r, sizeof(p->r));
    }
    return DP_OK;
}

static dp_status tp_load_state(dp_instance *p, uint32_t version, const void *buf, size_t len)
{
    if (version != TP_STATE_VERSION || len != sizeof(p->r)) {
        p->host->log(p->host->ctx, DP_LOG_ERROR, "load_state: unsupported state version");
        return DP_ERR_INVALID;
    }
    memcpy(&p->r, buf, sizeof(p->r));
    p->r.loads++;
    if (p->r.timer_deadline) {
        p->host->timer_arm(p->host->ctx, p->timer, p->r.timer_deadline);
    }
    update_irq(p);
    return DP_OK;
}

static const dp_plugin_desc tp_desc = {
    .abi = { TP_ABI_MAJOR, TP_ABI_MINOR },
    .name = "test-periph",
    .description = "dynperiph test peripheral: registers, DMA copy, timer, IRQs, blocking work",
    .mmio_size = TP_MMIO_SIZE,
    .irq_count = TP_IRQ_COUNT,
    .state_version = TP_STATE_VERSION,
    .create = tp_create,
    .destroy = tp_destroy,
    .reset = tp_reset,
    .read = tp_read,
    .write = tp_write,
    .save_state = tp_save_state,
    .load_state = tp_load_state,
};

#ifdef TP_NO_ENTRY
#define TP_ENTRY_NAME dynperiph_plugin_entry_missing
#else
#define TP_ENTRY_NAME dynperiph_plugin_entry
#endif

DP_EXPORT const dp_plugin_desc *TP_ENTRY_NAME(dp_version host_abi);

DP_EXPORT const dp_plugin_desc *TP_ENTRY_NAME(dp_version host_abi)
{
    (void)host_abi;
#ifdef TP_NULL_DESC
    (void)tp_desc;
    return NULL;
#else
    return &tp_desc;
#endif
}
