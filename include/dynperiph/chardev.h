/*
 * dynperiph ABI 1.1, host capability "dynperiph.chardev/1": bytes to and from QEMU's character
 * devices (-chardev socket | file | stdio | pty | ...), with back-pressure both ways.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later OR MIT
 *
 *   qemu ... -chardev socket,id=u0,path=/tmp/u0.sock,server=on,wait=off \
 *            -device dynperiph,plugin=uart.so,...,chardev=u0          (several: chardev=u0:u1, port 0, 1)
 *
 *   const dp_chardev_api *c = host->get_capability(host->ctx, DP_CHARDEV_CAPABILITY);
 *   c->set_handlers(c->ctx, 0, &handlers, self);   receive / writable / event callbacks of port 0
 *   c->grant(c->ctx, 0, 16);                       "I can take 16 more bytes" (receive credit)
 *   n = c->write(c->ctx, 0, buf, len);             n < len: backend full, writable() follows
 *
 * Receive (back-pressure by credit): the host delivers at most as many bytes as the plugin granted
 * and has not received yet; with no credit left it stops reading from the backend, so a socket peer
 * blocks instead of losing bytes. grant() adds credit (typically: the RX FIFO's depth once, then one
 * per byte the guest pops). Credit is incremental, so it stays correct however host and plugin
 * interleave (also across a process boundary).
 *
 * Transmit: write() never blocks; it returns how many bytes the backend took (0..len). After a short
 * write the host calls writable() once, when the backend can take more. A socket backend without a
 * connected peer drops what is written (QEMU's behaviour; connected() tells).
 *
 * The connection belongs to the device, not to a plugin instance: it survives a hot reload
 * unchanged (no byte lost, duplicated or reordered). Outstanding credit carries over to the new
 * instance (its FIFO, restored by load_state, has the same free space); the new instance sets its
 * own handlers (in create or activate); the old instance's handlers are never called after the swap.
 *
 * Threads: every function here is for the device thread only (from another thread: post with
 * async.h). The handlers are called on the device thread, never concurrently with another callback
 * of the instance and never while its run_blocking work is in flight (bytes arriving then are
 * delivered when it returns). In QEMU's forked trial child (plugin.h, create) write() discards
 * (returns len) and no handler is ever called.
 *
 * Only <stdint.h>, <stddef.h>, <stdbool.h> (through plugin.h); compiled as C11 and C++17 in the tests.
 */
#ifndef DYNPERIPH_CHARDEV_H
#define DYNPERIPH_CHARDEV_H

#include "dynperiph/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DP_CHARDEV_CAPABILITY "dynperiph.chardev/1"

typedef enum dp_chardev_event {
    DP_CHARDEV_OPENED = 1,  /* the backend is connected (socket peer connected, file/stdio open) */
    DP_CHARDEV_CLOSED = 2   /* the peer went away (socket closed); credit and handlers stay */
} dp_chardev_event;

/* Plugin callbacks for one port (any member may be NULL). `opaque` is set_handlers' opaque. */
typedef struct dp_chardev_handlers {
    /* len >= 1 bytes arrived; len never exceeds the credit granted and not yet used up. */
    void (*receive)(void *opaque, const uint8_t *buf, size_t len);
    /* After a short write: the backend can take more bytes now (called once per short write). */
    void (*writable)(void *opaque);
    /* The backend was connected or disconnected. */
    void (*event)(void *opaque, dp_chardev_event ev);
} dp_chardev_handlers;

typedef struct dp_chardev_api {
    dp_version abi;  /* {1, 0}: the version of this struct */
    void *ctx;       /* pass as the first argument of every function below */
    unsigned count;  /* ports: the chardevs named by chardev=ID[:ID...], in that order (0 if none) */

    /* The chardev's id (-chardev ...,id=ID) of `port`, or NULL for port >= count. */
    const char *(*name)(void *ctx, unsigned port);

    /*
     * Sets the callbacks of `port` for this instance (*h is copied; h == NULL removes them).
     * DP_ERR_INVALID for port >= count.
     */
    dp_status (*set_handlers)(void *ctx, unsigned port, const dp_chardev_handlers *h, void *opaque);

    /* Adds `bytes` of receive credit to `port` (see above). Ignored for port >= count. */
    void (*grant)(void *ctx, unsigned port, size_t bytes);

    /* Receive credit of `port` not used up yet (0 for port >= count). */
    size_t (*credit)(void *ctx, unsigned port);

    /* Sends up to len bytes; returns how many the backend took (0 for port >= count). */
    size_t (*write)(void *ctx, unsigned port, const void *buf, size_t len);

    /* True if the backend is connected (for a socket: a peer is there). */
    bool (*connected)(void *ctx, unsigned port);
} dp_chardev_api;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DYNPERIPH_CHARDEV_H */
