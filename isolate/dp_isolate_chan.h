/*
 * dp_isolate_chan: post / wait on the doorbells of the isolation channel (dp_isolate_proto.h), for the
 * C sides (QEMU's proxy and dp-isolate-host). Linux only (futex).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later OR MIT
 */
#ifndef DP_ISOLATE_CHAN_H
#define DP_ISOLATE_CHAN_H

#include "dp_isolate_proto.h"

#include <errno.h>
#include <sched.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static inline uint32_t *dp_iso_u32(void *shm, unsigned off)
{
    return (uint32_t *)((char *)shm + off);
}

/* The message parent -> child (request) and child -> parent (response). */
static inline dp_iso_msg *dp_iso_req(void *shm)
{
    return (dp_iso_msg *)((char *)shm + DP_ISO_OFF_REQ);
}

static inline dp_iso_msg *dp_iso_rsp(void *shm)
{
    return (dp_iso_msg *)((char *)shm + DP_ISO_OFF_RSP);
}

static inline uint8_t *dp_iso_data(void *shm)
{
    return (uint8_t *)shm + DP_ISO_OFF_DATA;
}

static inline uint64_t dp_iso_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void dp_iso_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Rings the doorbell at `bell` (its "sleeps" word follows it). */
static inline void dp_iso_post(void *shm, unsigned bell)
{
    uint32_t *seq = dp_iso_u32(shm, bell);

    __atomic_fetch_add(seq, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(dp_iso_u32(shm, bell + 4), __ATOMIC_SEQ_CST)) {
        syscall(SYS_futex, seq, FUTEX_WAKE, 1, NULL, NULL, 0);
    }
}

/* Writes message *m (at DP_ISO_OFF_REQ or DP_ISO_OFF_RSP) and rings the doorbell `bell` for it. */
static inline void dp_iso_send(void *shm, dp_iso_msg *m, unsigned bell, uint32_t op, uint32_t status,
                               uint64_t a, uint64_t b, uint64_t c, uint32_t len)
{
    m->op = op;
    m->status = status;
    m->a = a;
    m->b = b;
    m->c = c;
    m->len = len;
    dp_iso_post(shm, bell);
}

/*
 * Waits until the doorbell at `bell` differs from *seen (then updates *seen and returns 1): spins with
 * the CPU's pause hint for DP_ISO_PAUSE_NS (a peer running on another core answers within that), then
 * keeps polling with sched_yield() until spin_ns passed (a peer that shares this core, or waits for
 * one on an overcommitted machine, gets it), then sleeps on the futex in slices of at most slice_ns.
 * Returns 0 when a slice passed without a ring (the caller checks its deadline and whether the peer
 * lives, and waits again).
 */
#define DP_ISO_PAUSE_NS 4000u

static inline int dp_iso_wait(void *shm, unsigned bell, uint32_t *seen, uint64_t spin_ns,
                              uint64_t slice_ns)
{
    uint32_t *seq = dp_iso_u32(shm, bell);
    uint32_t *sleeps = dp_iso_u32(shm, bell + 4);
    uint64_t t0 = 0, now;
    unsigned i;
    struct timespec ts;
    uint32_t v;

    for (i = 0;; i++) {
        v = __atomic_load_n(seq, __ATOMIC_ACQUIRE);
        if (v != *seen) {
            *seen = v;
            return 1;
        }
        if ((i & 63) == 63 || t0) {
            now = dp_iso_now_ns();
            if (!t0) {
                t0 = now;
            } else if (now - t0 >= spin_ns) {
                break;
            } else if (now - t0 >= DP_ISO_PAUSE_NS) {
                sched_yield();
                continue;
            }
        }
        dp_iso_cpu_relax();
    }
    __atomic_store_n(sleeps, 1, __ATOMIC_SEQ_CST);
    v = __atomic_load_n(seq, __ATOMIC_SEQ_CST);
    if (v == *seen) {
        ts.tv_sec = slice_ns / 1000000000u;
        ts.tv_nsec = slice_ns % 1000000000u;
        syscall(SYS_futex, seq, FUTEX_WAIT, v, &ts, NULL, 0);
        v = __atomic_load_n(seq, __ATOMIC_ACQUIRE);
    }
    __atomic_store_n(sleeps, 0, __ATOMIC_SEQ_CST);
    if (v != *seen) {
        *seen = v;
        return 1;
    }
    return 0;
}

#endif /* DP_ISOLATE_CHAN_H */
