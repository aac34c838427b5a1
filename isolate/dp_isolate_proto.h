/*
 * dp_isolate_proto: the shared-memory protocol between QEMU's dynperiph device (isolate=on, the proxy
 * in dp_isolate.c) and the child process that runs the peripheral (isolate/host/dp-isolate-host.c for
 * a plugin .so, python/dynperiph/ for a Python peripheral).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later OR MIT
 *
 * Channel: one memfd of DP_ISO_SHM_SIZE bytes, mapped shared by both sides; the child gets it as file
 * descriptor 3. One message is in flight at a time and the side that holds it is the only one that
 * touches the messages and the data area ("token passing"), so there are no queues and no locks. Each
 * direction's message sits in the cache line of its doorbell, so a round trip moves two lines:
 *
 *   parent (QEMU)                                   child
 *   CALL (READ, WRITE, TIMER, ...)  ───────────▶   runs the plugin's callback
 *                                   ◀───────────   SVC_* (DMA, IRQ, clock, timer, log, blocking work)
 *   SVC_REPLY (or BLOCKING_GO)      ───────────▶   ... (any number of service round trips)
 *                                   ◀───────────   DONE (status, value): the call is over
 *
 * Posting: write the message (and data), then increment the receiver's doorbell (a sequence number,
 * release order) and futex-wake it if it said it sleeps. Waiting: spin on the doorbell for a short
 * while, then announce sleep and futex-wait on it (FUTEX_WAIT, not private: two processes). The child
 * starts by posting HELLO (descriptor fields) or FATAL (a one-line reason) without being asked.
 *
 * A third doorbell (DP_ISO_OFF_ASYNC) goes child -> parent outside any call: the child rings it from
 * any thread when work it queued for async/1 waits; the parent later sends DP_ISO_ASYNC_RUN.
 *
 * Everything the child writes is untrusted: the parent reads each field once, checks lengths against
 * DP_ISO_DATA_SIZE and treats anything unexpected as a protocol violation (the child is killed).
 *
 * The layout is fixed offsets (the Python side mirrors them, python/dynperiph/protocol.py):
 */
#ifndef DP_ISOLATE_PROTO_H
#define DP_ISOLATE_PROTO_H

#include <stdint.h>

#define DP_ISO_MAGIC        0x4f534944u   /* "DISO" */
#define DP_ISO_VERSION      1u
#define DP_ISO_CHILD_FD     3             /* the memfd in the child */

#define DP_ISO_OFF_MAGIC        0         /* u32, written by the parent */
#define DP_ISO_OFF_VERSION      4         /* u32 */
#define DP_ISO_OFF_PARENT_PID   8         /* u32: the child exits if getppid() differs */
#define DP_ISO_OFF_TO_CHILD     64        /* u32 doorbell (futex word) the child waits on */
#define DP_ISO_OFF_CHILD_SLEEPS 68        /* u32: 1 while the child is (about to be) in FUTEX_WAIT */
#define DP_ISO_OFF_REQ          72        /* dp_iso_msg parent -> child */
#define DP_ISO_OFF_TO_PARENT    128       /* u32 doorbell the parent waits on */
#define DP_ISO_OFF_PARENT_SLEEPS 132      /* u32 */
#define DP_ISO_OFF_RSP          136       /* dp_iso_msg child -> parent */
#define DP_ISO_OFF_ASYNC        192       /* u32 doorbell: the child posted work (async.h), any thread */
#define DP_ISO_OFF_DATA         4096      /* bulk data: strings, DMA bytes, state blobs */
#define DP_ISO_DATA_SIZE        (4u << 20)
#define DP_ISO_SHM_SIZE         (DP_ISO_OFF_DATA + DP_ISO_DATA_SIZE)

/* A message (at DP_ISO_OFF_REQ or DP_ISO_OFF_RSP): little-endian, naturally aligned, 40 bytes. */
typedef struct dp_iso_msg {
    uint32_t op;        /* dp_iso_op */
    uint32_t status;    /* dp_status (DONE, SVC_REPLY) */
    uint64_t a, b, c;   /* arguments / results, per op below */
    uint32_t len;       /* bytes used at DP_ISO_OFF_DATA */
    uint32_t reserved;
} dp_iso_msg;

typedef enum dp_iso_op {
    /* child -> parent, unasked, once at start */
    DP_ISO_HELLO = 1,         /* a=mmio_size b=irq_count c=state_version | flags<<32, data=name\0description */
    DP_ISO_FATAL = 2,         /* data=one-line reason (plugin not loadable, ...); the child then exits */

    /* parent -> child: calls of the plugin's callbacks; answered by DONE */
    DP_ISO_CREATE = 10,       /* data=args\0instance_name; DONE status, data=error text */
    DP_ISO_DESTROY = 11,
    DP_ISO_RESET = 12,
    DP_ISO_READ = 13,         /* a=offset b=size; DONE status a=value */
    DP_ISO_WRITE = 14,        /* a=offset b=size c=value; DONE status */
    DP_ISO_SAVE = 15,         /* DONE status, data=blob */
    DP_ISO_LOAD = 16,         /* a=version data=blob; DONE status */
    DP_ISO_TIMER = 17,        /* a=timer id: its callback */
    DP_ISO_QUIT = 18,         /* the child exits (no DONE) */
    /* ABI 1.1 capabilities, sent only to a child whose HELLO has DP_ISO_HAS_CAPS */
    DP_ISO_PLACEMENT = 19,    /* DONE a=base b=irq c=DP_ISO_PL_* (the plugin-level placement/1) */
    DP_ISO_PEEK = 20,         /* a=offset b=size; DONE status a=value (peek/1 of the instance) */
    DP_ISO_ACTIVATE = 21,     /* lifecycle/1 activate; DONE status, data=error text */
    DP_ISO_DEACTIVATE = 22,   /* lifecycle/1 deactivate, then the work the child had posted runs */
    DP_ISO_ASYNC_RUN = 23,    /* run the work the child posted (async/1) */
    DP_ISO_CHR_RECEIVE = 24,  /* a=port data=bytes: the port's receive handler (chardev/1) */
    DP_ISO_CHR_WRITABLE = 25, /* a=port: its writable handler */
    DP_ISO_CHR_EVENT = 26,    /* a=port b=dp_chardev_event: its event handler */

    /* child -> parent, during a call: host services; answered by SVC_REPLY */
    DP_ISO_SVC_DMA_READ = 30,   /* a=addr b=len (<= DATA_SIZE); reply status, data=bytes */
    DP_ISO_SVC_DMA_WRITE = 31,  /* a=addr data=bytes; reply status */
    DP_ISO_SVC_SET_IRQ = 32,    /* a=line b=level */
    DP_ISO_SVC_CLOCK = 33,      /* reply a=ns */
    DP_ISO_SVC_TIMER_NEW = 34,  /* a=timer id (chosen by the child, > 0); reply status */
    DP_ISO_SVC_TIMER_ARM = 35,  /* a=id b=deadline_ns */
    DP_ISO_SVC_TIMER_CANCEL = 36,
    DP_ISO_SVC_TIMER_FREE = 37,
    DP_ISO_SVC_LOG = 38,        /* a=level data=message */
    DP_ISO_SVC_RUN_BLOCKING = 39, /* parent answers BLOCKING_GO (run it now; then the child posts
                                     BLOCKING_DONE) or SVC_REPLY with an error (not run) */
    DP_ISO_BLOCKING_DONE = 40,  /* child -> parent: the work finished; parent answers SVC_REPLY */
    DP_ISO_SVC_CHR_INFO = 41,   /* reply a=ports, data=their chardev ids, each \0-terminated */
    DP_ISO_SVC_CHR_HANDLERS = 42, /* a=port b=DP_ISO_CHR_* handlers present (0: removed); reply status */
    DP_ISO_SVC_CHR_GRANT = 43,  /* a=port b=bytes */
    DP_ISO_SVC_CHR_CREDIT = 44, /* a=port; reply a=credit */
    DP_ISO_SVC_CHR_WRITE = 45,  /* a=port data=bytes; reply a=bytes taken */
    DP_ISO_SVC_CHR_CONNECTED = 46, /* a=port; reply a=0/1 */

    /* replies */
    DP_ISO_DONE = 50,           /* child -> parent: end of a call */
    DP_ISO_SVC_REPLY = 51,      /* parent -> child: end of a service */
    DP_ISO_BLOCKING_GO = 52     /* parent -> child: the host worker waits; run the work */
} dp_iso_op;

/* HELLO flags (c >> 32) */
#define DP_ISO_HAS_RESET        1u
#define DP_ISO_HAS_SAVE         2u
#define DP_ISO_HAS_LOAD         4u
#define DP_ISO_HAS_CAPS         8u        /* serves PLACEMENT..CHR_EVENT (dp-isolate-host does) */

/* CREATE's DONE c: capabilities of the new instance */
#define DP_ISO_INST_PEEK        1u
#define DP_ISO_INST_LIFECYCLE   2u

/* PLACEMENT's DONE c */
#define DP_ISO_PL_BASE          1u
#define DP_ISO_PL_IRQ           2u

/* SVC_CHR_HANDLERS b */
#define DP_ISO_CHR_RECEIVE_H    1u
#define DP_ISO_CHR_WRITABLE_H   2u
#define DP_ISO_CHR_EVENT_H      4u

/* chardev ports forwarded across the boundary (the first this many of the device's) */
#define DP_ISO_CHR_MAX_PORTS    64u

#ifdef __cplusplus
static_assert(sizeof(dp_iso_msg) == 40, "dp_iso_msg layout");
#else
_Static_assert(sizeof(dp_iso_msg) == 40, "dp_iso_msg layout");
#endif

#endif /* DP_ISOLATE_PROTO_H */
