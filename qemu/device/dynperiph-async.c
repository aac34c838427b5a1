/*
 * dynperiph-async.c: host capability "dynperiph.async/1" (include/dynperiph/async.h): work and IRQ
 * changes posted from any thread run on the device thread.
 *
 * Copyright (c) 2026 The dynperiph authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * One FIFO per plugin instance under a QemuMutex; post() appends and schedules a main-loop bottom
 * half (qemu_bh_schedule is thread-safe and wakes the main loop). The BH runs with the BQL held, so
 * posted work never runs concurrently with MMIO, timers or other callbacks of the instance; while the
 * instance's run_blocking work is in flight the queue waits (dynperiph.c kicks it when that returns).
 * The lock is held only to link or unlink one item, never while the plugin's code runs, so a post
 * from the device thread itself or from inside posted work cannot deadlock.
 */

#include "qemu/osdep.h"
#include "qemu/main-loop.h"
#include "qemu/queue.h"
#include "qemu/thread.h"
#include "dynperiph-ext.h"

#define DP_ASYNC_BATCH 4096     /* items per BH run; the rest waits for the next main-loop turn */

typedef struct DPAsyncItem {
    dp_work_fn fn;              /* NULL: an IRQ change */
    void *opaque;
    unsigned line;
    int level;
    QSIMPLEQ_ENTRY(DPAsyncItem) next;
} DPAsyncItem;

struct DPAsync {
    dp_async_api api;           /* api.ctx == this */
    DPExtOwner owner;
    QemuMutex lock;
    QSIMPLEQ_HEAD(, DPAsyncItem) queue;
    QEMUBH *bh;
};

static dp_status dp_async_push(DPAsync *a, dp_work_fn fn, void *opaque, unsigned line, int level)
{
    DPAsyncItem *it;

    if (a->owner.inert(a->owner.opaque)) {
        return DP_OK;           /* the trial child: accepted and dropped */
    }
    it = g_try_new0(DPAsyncItem, 1);
    if (!it) {
        return DP_ERR_NOMEM;
    }
    it->fn = fn;
    it->opaque = opaque;
    it->line = line;
    it->level = level;
    qemu_mutex_lock(&a->lock);
    QSIMPLEQ_INSERT_TAIL(&a->queue, it, next);
    qemu_mutex_unlock(&a->lock);
    qemu_bh_schedule(a->bh);
    return DP_OK;
}

static dp_status dp_async_post(void *ctx, dp_work_fn fn, void *opaque)
{
    return fn ? dp_async_push(ctx, fn, opaque, 0, 0) : DP_ERR_INVALID;
}

static dp_status dp_async_set_irq(void *ctx, unsigned line, int level)
{
    DPAsync *a = ctx;

    return line < a->owner.irq_count(a->owner.opaque) ? dp_async_push(a, NULL, NULL, line, level != 0)
                                     : DP_ERR_INVALID;
}

/* Runs up to `max` items (fewer if the instance becomes busy); true if the queue is empty then. */
static bool dp_async_drain(DPAsync *a, unsigned max)
{
    while (max--) {
        DPAsyncItem *it;

        if (a->owner.busy(a->owner.opaque)) {
            return false;       /* run_blocking in flight: kicked again when it returns */
        }
        qemu_mutex_lock(&a->lock);
        it = QSIMPLEQ_FIRST(&a->queue);
        if (it) {
            QSIMPLEQ_REMOVE_HEAD(&a->queue, next);
        }
        qemu_mutex_unlock(&a->lock);
        if (!it) {
            return true;
        }
        if (it->fn) {
            it->fn(it->opaque);
        } else {
            a->owner.set_irq(a->owner.opaque, it->line, it->level);
        }
        g_free(it);
    }
    return false;
}

static void dp_async_bh(void *opaque)
{
    DPAsync *a = opaque;

    if (!dp_async_drain(a, DP_ASYNC_BATCH) && !a->owner.busy(a->owner.opaque)) {
        qemu_bh_schedule(a->bh);    /* a long queue: let the rest of the main loop run first */
    }
}

DPAsync *dp_async_new(const DPExtOwner *owner)
{
    DPAsync *a = g_new0(DPAsync, 1);

    a->api = (dp_async_api) {
        .abi = { 1, 0 },
        .ctx = a,
        .post = dp_async_post,
        .set_irq = dp_async_set_irq,
    };
    a->owner = *owner;
    qemu_mutex_init(&a->lock);
    QSIMPLEQ_INIT(&a->queue);
    a->bh = qemu_bh_new(dp_async_bh, a);
    return a;
}

void dp_async_free(DPAsync *a)
{
    DPAsyncItem *it, *tn;

    if (!a) {
        return;
    }
    qemu_bh_delete(a->bh);
    QSIMPLEQ_FOREACH_SAFE(it, &a->queue, next, tn) {
        g_free(it);
    }
    qemu_mutex_destroy(&a->lock);
    g_free(a);
}

const dp_async_api *dp_async_api_of(DPAsync *a)
{
    return &a->api;
}

void dp_async_run(DPAsync *a)
{
    dp_async_drain(a, UINT_MAX);
}

void dp_async_kick(DPAsync *a)
{
    bool pending;

    qemu_mutex_lock(&a->lock);
    pending = !QSIMPLEQ_EMPTY(&a->queue);
    qemu_mutex_unlock(&a->lock);
    if (pending) {
        qemu_bh_schedule(a->bh);
    }
}
