/*
 * test-async: stress plugin for the async capability (include/dynperiph/async.h), plain C.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later OR MIT
 *
 * A guest write of START spawns TA_THREADS host threads; each posts TA_POSTS work items (its thread
 * number and a sequence number) and, every TA_IRQ_EVERY posts, an IRQ-raise through async set_irq.
 * Posted work checks the contract and counts what it breaks in ERRORS: items of one thread run in
 * the order posted; no item runs concurrently with another callback of the instance (MMIO, posted
 * work) nor on one of the plugin's own threads. The guest (tests/tcg/async_stress.c) hammers SCRATCH
 * meanwhile and finally checks DONE == TA_THREADS * TA_POSTS and ERRORS == 0. The threads are joined
 * in deactivate (lifecycle.h) and destroy.
 *
 * Registers (32-bit): 0x00 ID "ASYN", 0x04 START (write 1), 0x08 DONE (items run), 0x0c ERRORS,
 * 0x10 SCRATCH (read-write), 0x14 IRQ_ACK (write: lower line 0), 0x18 RAISED (async IRQ raises
 * applied), 0x1c THREADS, 0x20 POSTS (per thread).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynperiph/async.h"
#include "dynperiph/lifecycle.h"

#define TA_THREADS 4
#define TA_POSTS 20000
#define TA_IRQ_EVERY 2000
#define TA_UNUSED __attribute__((unused))

typedef struct ta_item {
    struct ta_inst *inst;
    unsigned thread, seq;
} ta_item;

typedef struct ta_inst {
    const dp_host *host;
    const dp_async_api *async;
    pthread_t threads[TA_THREADS];
    pthread_t ids[TA_THREADS];
    bool running;
    ta_item *items[TA_THREADS];
    unsigned next_seq[TA_THREADS];
    atomic_int inside;              /* callbacks of this instance in progress */
    uint32_t done, errors, scratch, raised;
} ta_inst;

typedef struct ta_arg {
    ta_inst *inst;
    unsigned t;
} ta_arg;
static ta_arg ta_args[TA_THREADS];

static void ta_enter(ta_inst *in)
{
    if (atomic_fetch_add(&in->inside, 1) != 0) {
        in->errors++;               /* two callbacks at once */
    }
}

static void ta_leave(ta_inst *in)
{
    atomic_fetch_sub(&in->inside, 1);
}

static void ta_work(void *opaque)
{
    ta_item *it = opaque;
    ta_inst *in = it->inst;
    pthread_t self = pthread_self();
    unsigned i;

    ta_enter(in);
    for (i = 0; i < TA_THREADS; i++) {
        if (in->running && pthread_equal(self, in->ids[i])) {
            in->errors++;           /* ran on a plugin thread */
        }
    }
    if (it->seq != in->next_seq[it->thread]) {
        in->errors++;               /* out of order */
    }
    in->next_seq[it->thread] = it->seq + 1;
    in->done++;
    ta_leave(in);
}

static void ta_count_raise(void *opaque)
{
    ta_inst *in = opaque;

    ta_enter(in);
    in->raised++;
    ta_leave(in);
}

static void *ta_thread(void *opaque)
{
    ta_arg *a = opaque;
    ta_inst *in = a->inst;
    unsigned i;

    for (i = 0; i < TA_POSTS; i++) {
        ta_item *it = &in->items[a->t][i];

        it->inst = in;
        it->thread = a->t;
        it->seq = i;
        if (in->async->post(in->async->ctx, ta_work, it) != DP_OK) {
            __atomic_add_fetch(&in->errors, 1, __ATOMIC_RELAXED);
        }
        if (i % TA_IRQ_EVERY == TA_IRQ_EVERY - 1) {
            in->async->set_irq(in->async->ctx, 0, 1);
            in->async->post(in->async->ctx, ta_count_raise, in);
        }
    }
    return NULL;
}

static void ta_join(ta_inst *in)
{
    unsigned i;

    if (!in->running) {
        return;
    }
    for (i = 0; i < TA_THREADS; i++) {
        pthread_join(in->threads[i], NULL);
    }
    in->running = false;
}

static void ta_start(ta_inst *in)
{
    unsigned i;

    ta_join(in);
    memset(in->next_seq, 0, sizeof(in->next_seq));
    for (i = 0; i < TA_THREADS; i++) {
        ta_args[i] = (ta_arg) { in, i };
        pthread_create(&in->threads[i], NULL, ta_thread, &ta_args[i]);
        in->ids[i] = in->threads[i];
    }
    in->running = true;
}

static dp_instance *ta_create(const dp_host *h, const char *args TA_UNUSED, char *err, size_t n)
{
    ta_inst *in;
    const dp_async_api *a = h->get_capability ? h->get_capability(h->ctx, DP_ASYNC_CAPABILITY) : NULL;
    unsigned i;

    if (!a) {
        snprintf(err, n, "the host has no %s capability", DP_ASYNC_CAPABILITY);
        return NULL;
    }
    in = calloc(1, sizeof(*in));
    in->host = h;
    in->async = a;
    for (i = 0; i < TA_THREADS; i++) {
        in->items[i] = calloc(TA_POSTS, sizeof(ta_item));
    }
    return (dp_instance *)in;
}

static void ta_destroy(dp_instance *p)
{
    ta_inst *in = (ta_inst *)p;
    unsigned i;

    ta_join(in);
    for (i = 0; i < TA_THREADS; i++) {
        free(in->items[i]);
    }
    free(in);
}

static void ta_reset(dp_instance *p)
{
    ta_inst *in = (ta_inst *)p;

    in->scratch = 0;
}

static dp_status ta_read(dp_instance *p, uint64_t off, unsigned size TA_UNUSED, uint64_t *v)
{
    ta_inst *in = (ta_inst *)p;

    ta_enter(in);
    switch (off) {
    case 0x00: *v = 0x4e595341; break;  /* "ASYN" */
    case 0x08: *v = in->done; break;
    case 0x0c: *v = in->errors; break;
    case 0x10: *v = in->scratch; break;
    case 0x18: *v = in->raised; break;
    case 0x1c: *v = TA_THREADS; break;
    case 0x20: *v = TA_POSTS; break;
    default: *v = 0; break;
    }
    ta_leave(in);
    return DP_OK;
}

static dp_status ta_write(dp_instance *p, uint64_t off, unsigned size TA_UNUSED, uint64_t v)
{
    ta_inst *in = (ta_inst *)p;

    ta_enter(in);
    switch (off) {
    case 0x04:
        if (v & 1) {
            ta_start(in);
        }
        break;
    case 0x10: in->scratch = (uint32_t)v; break;
    case 0x14: in->host->set_irq(in->host->ctx, 0, 0); break;
    default: break;
    }
    ta_leave(in);
    return DP_OK;
}

static dp_status ta_activate(dp_instance *p TA_UNUSED, char *err TA_UNUSED, size_t n TA_UNUSED)
{
    return DP_OK;                   /* threads start on the guest's START */
}

static void ta_deactivate(dp_instance *p)
{
    ta_join((ta_inst *)p);          /* no post after this returns */
}

static const dp_lifecycle ta_lifecycle = { { 1, 0 }, ta_activate, ta_deactivate };

static const void *ta_cap(dp_instance *p TA_UNUSED, const char *id)
{
    return strcmp(id, DP_LIFECYCLE_CAPABILITY) == 0 ? &ta_lifecycle : NULL;
}

static const dp_plugin_desc ta_desc = {
    .abi = { DYNPERIPH_ABI_MAJOR, DYNPERIPH_ABI_MINOR },
    .name = "test-async",
    .description = "async capability stress plugin",
    .mmio_size = 0x1000,
    .irq_count = 1,
    .state_version = 1,
    .create = ta_create,
    .destroy = ta_destroy,
    .reset = ta_reset,
    .read = ta_read,
    .write = ta_write,
    .get_capability = ta_cap,
};

DP_EXPORT const dp_plugin_desc *dynperiph_plugin_entry(dp_version host_abi)
{
    return host_abi.major == DYNPERIPH_ABI_MAJOR ? &ta_desc : NULL;
}
