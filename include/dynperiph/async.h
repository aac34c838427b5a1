/*
 * dynperiph ABI 1.1, host capability "dynperiph.async/1": work posted from any thread runs on the
 * device thread.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later OR MIT
 *
 *   const dp_async_api *a = host->get_capability(host->ctx, DP_ASYNC_CAPABILITY);  (NULL: unsupported)
 *   a->post(a->ctx, fn, opaque);        from any thread: fn(opaque) runs later on the device thread
 *   a->set_irq(a->ctx, line, level);    from any thread: the IRQ line changes on the device thread
 *
 * Threading contract (see also plugin.h):
 *  - post and set_irq may be called from any thread, including the device thread and the plugin's own
 *    threads, at any time between create() and the end of destroy(). They never block on the device
 *    thread (no deadlock when the device thread waits for the plugin's thread) and never call back
 *    into the plugin before they return.
 *  - Posted work runs on the device thread (in QEMU: the main loop, holding the global lock), never
 *    concurrently with any other callback of the instance, and never while its run_blocking work is
 *    in flight (it waits until that returns). Inside fn every host service may be called.
 *  - Order: the work one thread posts runs in the order it was posted; set_irq calls are queued
 *    with posted work in the same order. No order between different threads.
 *  - Each post runs exactly once, unless the instance is destroyed first: work still queued when
 *    destroy() starts is dropped without running (hot reload runs the old instance's queue to the
 *    end after deactivate and before save_state, so nothing posted before deactivate returned is
 *    lost across a reload). A plugin must have stopped (joined) its threads before destroy() returns:
 *    the capability struct and its ctx die with the instance.
 *  - In QEMU's forked trial child (see plugin.h, create) post and set_irq are accepted and dropped.
 *  - Across a process boundary (an isolated plugin host) the capability is served inside the
 *    plugin's process: fn, opaque and the queue never leave it; only the IRQ changes cross.
 *
 * Only <stdint.h>, <stddef.h>, <stdbool.h> (through plugin.h); compiled as C11 and C++17 in the tests.
 */
#ifndef DYNPERIPH_ASYNC_H
#define DYNPERIPH_ASYNC_H

#include "dynperiph/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DP_ASYNC_CAPABILITY "dynperiph.async/1"

typedef struct dp_async_api {
    dp_version abi;  /* {1, 0}: the version of this struct */
    void *ctx;       /* pass as the first argument of every function below */

    /*
     * Any thread. Queues fn(opaque) to run on the device thread. DP_OK, DP_ERR_INVALID (fn NULL) or
     * DP_ERR_NOMEM; never blocks for longer than a short internal lock.
     */
    dp_status (*post)(void *ctx, dp_work_fn fn, void *opaque);

    /*
     * Any thread. Queues "drive IRQ line `line` to `level`" (as dp_host.set_irq on the device thread).
     * DP_ERR_INVALID for a line >= irq_count.
     */
    dp_status (*set_irq)(void *ctx, unsigned line, int level);
} dp_async_api;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DYNPERIPH_ASYNC_H */
