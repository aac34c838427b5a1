/*
 * dp_isolate: the QEMU side of an isolated plugin (see dp_isolate.h, dp_isolate_proto.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later OR MIT
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "dp_isolate.h"
#include "dp_isolate_chan.h"
#include "dynperiph/async.h"
#include "dynperiph/chardev.h"
#include "dynperiph/lifecycle.h"

#include <errno.h>
#include <pthread.h>
#include <inttypes.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>  /* environ (_GNU_SOURCE) */


#define ISO_SPIN_NS      50000u     /* the parent spins this long for an answer, then sleeps... */
#define ISO_SLICE_NS     1000000u   /* ...in 1 ms slices, checking that the child lives */
#define ISO_MAX_TIMERS   1024
#define ISO_LOG_MAX      4096
#define ISO_WHY_LEN      256
#define ISO_ASYNC_SLICE_NS 100000000u  /* the async doorbell thread's futex sleeps */

typedef struct iso_timer {
    dp_isolate *p;
    uint64_t id;
    dp_timer *t;                    /* the device's timer */
} iso_timer;

typedef struct iso_port {           /* opaque of the handlers the proxy sets on the device's port */
    dp_isolate *p;
    unsigned port;
    bool set;
} iso_port;

struct dp_isolate {
    dp_plugin_desc desc;            /* what the device sees */
    dp_isolate_cfg cfg;
    char *host_program;
    char *path;
    char *args;                     /* create's args, kept for a restart */
    const dp_host *host;
    char name[256];
    char description[1024];
    unsigned flags;                 /* DP_ISO_HAS_* */

    int fd;                         /* the channel memfd */
    void *shm;
    pid_t pid;                      /* 0: no child */
    uint32_t seen;                  /* last value of the to-parent doorbell */
    bool created;
    bool dead;                      /* the child failed and on-crash=buserror (or restart failed) */
    bool busy;                      /* a call is in flight (re-entry guard) */
    bool lost_in_work;              /* the child was lost while running blocking work */
    bool quit_sent;                 /* destroy asked the child to exit */
    char why[ISO_WHY_LEN];          /* set when the child was lost during the current call */

    const char *what;               /* the callback in flight, for the log line */
    uint64_t what_addr;

    iso_timer *timers[ISO_MAX_TIMERS];
    unsigned ntimers;

    void *ckpt;                     /* last checkpoint (save_state blob) */
    size_t ckpt_len;
    bool have_ckpt;
    bool dirty;                     /* calls since the last checkpoint */
    uint64_t ckpt_ns;               /* host monotonic time of the last checkpoint */
    void *save_buf;                 /* save_state(buf == NULL) result, handed out by the next call */
    size_t save_len;
    bool save_pending;

    /* ABI 1.1 (child programs with DP_ISO_HAS_CAPS) */
    dp_placement placement;         /* plugin level, asked at spawn */
    bool has_placement;
    unsigned inst_caps;             /* DP_ISO_INST_* of the instance */
    dp_peek peek;                   /* forwarding peek/1 and lifecycle/1 */
    dp_lifecycle lifecycle;
    bool active;                    /* activate succeeded, no deactivate since */
    const dp_async_api *async;      /* the device's async/1 (NULL: none) */
    pthread_t waiter;               /* waits on the child's async doorbell */
    bool waiter_running;
    int waiter_stop;                /* atomic */
    int async_posted;               /* atomic: a run of the child's queue is posted, not begun */
    const dp_chardev_api *chr;      /* the device's chardev/1 (NULL: none) */
    iso_port ports[DP_ISO_CHR_MAX_PORTS];

    dp_isolate *next;
};

static dp_isolate *iso_all;         /* open proxies: create() finds its proxy by the dp_host */

static void iso_err(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;

    if (err && n) {
        va_start(ap, fmt);
        vsnprintf(err, n, fmt, ap);
        va_end(ap);
    }
}

/* ---- the child process --------------------------------------------------------------------- */

static void iso_async_stop(dp_isolate *p);

static void iso_unmap(dp_isolate *p)
{
    iso_async_stop(p);              /* before the doorbell it waits on goes away */
    if (p->shm) {
        munmap(p->shm, DP_ISO_SHM_SIZE);
        p->shm = NULL;
    }
    if (p->fd >= 0) {
        close(p->fd);
        p->fd = -1;
    }
}

/* Kills and reaps the child (if any). */
static void iso_kill(dp_isolate *p)
{
    if (p->pid > 0) {
        kill(p->pid, SIGKILL);
        while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR) {
        }
        p->pid = 0;
    }
}

static void iso_describe_status(char *buf, size_t n, int status)
{
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);

        snprintf(buf, n, "crashed (signal %d, %s)", sig, strsignal(sig));
    } else if (WIFEXITED(status)) {
        snprintf(buf, n, "exited with status %d", WEXITSTATUS(status));
    } else {
        snprintf(buf, n, "stopped");
    }
}

/* The child is lost: kill, reap, record why. Returns false (for the callers' convenience). */
static bool iso_lost(dp_isolate *p, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(p->why, sizeof(p->why), fmt, ap);
    va_end(ap);
    iso_kill(p);
    return false;
}

/* Waits for the child's next message; false (child lost, p->why set) on death or deadline. */
static bool iso_wait(dp_isolate *p, unsigned timeout_ms)
{
    uint64_t deadline = dp_iso_now_ns() + (uint64_t)timeout_ms * 1000000u;
    int status;
    pid_t r;

    for (;;) {
        if (dp_iso_wait(p->shm, DP_ISO_OFF_TO_PARENT, &p->seen, ISO_SPIN_NS, ISO_SLICE_NS)) {
            return true;
        }
        r = waitpid(p->pid, &status, WNOHANG);
        if (r == p->pid) {
            char how[128];

            p->pid = 0;
            iso_describe_status(how, sizeof(how), status);
            return iso_lost(p, "%s", how);
        }
        if (r < 0 && errno == ECHILD) {
            p->pid = 0;
            return iso_lost(p, "the isolation host vanished");
        }
        if (dp_iso_now_ns() >= deadline) {
            return iso_lost(p, "hung (no answer within %u ms; killed)", timeout_ms);
        }
    }
}

static void iso_send(dp_isolate *p, uint32_t op, uint32_t status, uint64_t a, uint64_t b,
                     uint64_t c, uint32_t len)
{
    dp_iso_send(p->shm, dp_iso_req(p->shm), DP_ISO_OFF_TO_CHILD, op, status, a, b, c, len);
}

static bool iso_call(dp_isolate *p, uint32_t op, uint64_t a, uint64_t b, uint64_t c,
                     uint32_t len, unsigned timeout_ms, dp_iso_msg *done);
static void iso_async_start(dp_isolate *p);

/* Starts the child and waits for HELLO. */
static bool iso_spawn(dp_isolate *p, char *err, size_t n)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none;
    char *argv[3] = { p->host_program, p->path, NULL };
    int fd, rc;
    dp_iso_msg m;
    uint32_t len;

    fd = memfd_create("dynperiph-isolate", MFD_CLOEXEC);
    if (fd >= 0 && fd <= DP_ISO_CHILD_FD) {       /* dup2 onto itself would keep CLOEXEC */
        int fd2 = fcntl(fd, F_DUPFD_CLOEXEC, DP_ISO_CHILD_FD + 1);

        close(fd);
        fd = fd2;
    }
    if (fd < 0 || ftruncate(fd, DP_ISO_SHM_SIZE) < 0) {
        iso_err(err, n, "isolate: cannot create the shared-memory channel: %s", strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return false;
    }
    p->fd = fd;
    p->shm = mmap(NULL, DP_ISO_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p->shm == MAP_FAILED) {
        p->shm = NULL;
        iso_err(err, n, "isolate: cannot map the channel: %s", strerror(errno));
        iso_unmap(p);
        return false;
    }
    *dp_iso_u32(p->shm, DP_ISO_OFF_MAGIC) = DP_ISO_MAGIC;
    *dp_iso_u32(p->shm, DP_ISO_OFF_VERSION) = DP_ISO_VERSION;
    *dp_iso_u32(p->shm, DP_ISO_OFF_PARENT_PID) = (uint32_t)getpid();
    p->seen = 0;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd, DP_ISO_CHILD_FD);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    posix_spawn_file_actions_addclosefrom_np(&fa, DP_ISO_CHILD_FD + 1);  /* none of QEMU's fds */
#endif
    posix_spawnattr_init(&attr);
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);    /* vCPU threads block signals; the child must not */
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    fflush(stdout);
    fflush(stderr);
    rc = strchr(p->host_program, '/')
         ? posix_spawn(&p->pid, p->host_program, &fa, &attr, argv, environ)
         : posix_spawnp(&p->pid, p->host_program, &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        p->pid = 0;
        iso_err(err, n, "isolate: cannot start the isolation host '%s': %s (set "
                "isolate-host=PATH)", p->host_program, strerror(rc));
        iso_unmap(p);
        return false;
    }
    if (!iso_wait(p, p->cfg.startup_ms)) {
        iso_err(err, n, "isolate: the isolation host '%s' %s while loading the plugin",
                p->host_program, p->why);
        iso_unmap(p);
        return false;
    }
    m = *dp_iso_rsp(p->shm);
    len = m.len < DP_ISO_DATA_SIZE ? m.len : DP_ISO_DATA_SIZE;
    if (m.op == DP_ISO_FATAL) {
        iso_err(err, n, "%.*s", (int)(len < 1024 ? len : 1024), (char *)dp_iso_data(p->shm));
        iso_kill(p);
        iso_unmap(p);
        return false;
    }
    if (m.op != DP_ISO_HELLO) {
        iso_lost(p, "protocol violation (message %u instead of HELLO)", m.op);
        iso_err(err, n, "isolate: the isolation host '%s': %s", p->host_program, p->why);
        iso_unmap(p);
        return false;
    }
    if (p->desc.mmio_size &&           /* a restart: the descriptor must not change */
        (m.a != p->desc.mmio_size || m.b != p->desc.irq_count)) {
        iso_lost(p, "restarted child reports another MMIO size or IRQ count");
        iso_err(err, n, "isolate: %s", p->why);
        iso_unmap(p);
        return false;
    }
    {
        const char *d = (const char *)dp_iso_data(p->shm);
        size_t nl = strnlen(d, len < sizeof(p->name) ? len : sizeof(p->name) - 1);

        memcpy(p->name, d, nl);
        p->name[nl] = 0;
        if (nl + 1 < len) {
            size_t dl = len - nl - 1 < sizeof(p->description) - 1 ? len - nl - 1
                                                                  : sizeof(p->description) - 1;
            memcpy(p->description, d + nl + 1, dl);
            p->description[dl] = 0;
        }
    }
    p->desc.mmio_size = m.a;
    p->desc.irq_count = m.b > 0xffffffffu ? 0xffffffffu : (unsigned)m.b;
    p->desc.state_version = (uint32_t)m.c;
    p->flags = (unsigned)(m.c >> 32);
    if (p->flags & DP_ISO_HAS_CAPS) {
        if (!iso_call(p, DP_ISO_PLACEMENT, 0, 0, 0, 0, p->cfg.startup_ms, &m)) {
            iso_err(err, n, "isolate: the isolation host '%s' %s while reporting the plugin's "
                    "placement", p->host_program, p->why);
            iso_unmap(p);
            return false;
        }
        p->placement = (dp_placement) {
            .version = { 1, 0 }, .has_base = (m.c & DP_ISO_PL_BASE) != 0,
            .has_irq = (m.c & DP_ISO_PL_IRQ) != 0, .base = m.a,
            .irq = m.b > 0xffffffffu ? 0xffffffffu : (uint32_t)m.b,
        };
        p->has_placement = p->placement.has_base || p->placement.has_irq;
        iso_async_start(p);
    }
    return true;
}

/* ---- calls and the services the child asks for during them ---------------------------------- */

static void iso_timer_fire(void *opaque);

static iso_timer *iso_find_timer(dp_isolate *p, uint64_t id, unsigned *idx)
{
    unsigned i;

    for (i = 0; i < p->ntimers; i++) {
        if (p->timers[i]->id == id) {
            if (idx) {
                *idx = i;
            }
            return p->timers[i];
        }
    }
    return NULL;
}

static void iso_free_timers(dp_isolate *p)
{
    unsigned i;

    for (i = 0; i < p->ntimers; i++) {
        p->host->timer_free(p->host->ctx, p->timers[i]->t);
        free(p->timers[i]);
    }
    p->ntimers = 0;
}

static void iso_blocking_work(void *opaque);
static uint32_t iso_chr_service(dp_isolate *p, const dp_iso_msg *m, uint64_t *a, uint32_t *len);

/* Serves one service request; false if the child is lost (protocol violation). */
static bool iso_service(dp_isolate *p, const dp_iso_msg *m)
{
    const dp_host *h = p->host;
    uint8_t *data = dp_iso_data(p->shm);
    uint32_t st = DP_OK, len = 0;
    uint64_t a = 0;
    iso_timer *t;
    unsigned idx;

    if (m->len > DP_ISO_DATA_SIZE) {
        return iso_lost(p, "protocol violation (length %u)", m->len);
    }
    switch (m->op) {
    case DP_ISO_SVC_DMA_READ:
        if (m->b > DP_ISO_DATA_SIZE) {
            return iso_lost(p, "protocol violation (DMA read of %" PRIu64 " bytes)", m->b);
        }
        st = h->dma_read(h->ctx, m->a, data, (size_t)m->b);
        len = st == DP_OK ? (uint32_t)m->b : 0;
        break;
    case DP_ISO_SVC_DMA_WRITE:
        st = h->dma_write(h->ctx, m->a, data, m->len);
        break;
    case DP_ISO_SVC_SET_IRQ:
        if (m->a < p->desc.irq_count) {
            h->set_irq(h->ctx, (unsigned)m->a, m->b != 0);
        }
        break;
    case DP_ISO_SVC_CLOCK:
        a = h->clock_ns(h->ctx);
        break;
    case DP_ISO_SVC_TIMER_NEW:
        if (p->ntimers >= ISO_MAX_TIMERS || m->a == 0 || iso_find_timer(p, m->a, NULL)) {
            st = DP_ERR_NOMEM;
            break;
        }
        t = calloc(1, sizeof(*t));
        if (!t) {
            st = DP_ERR_NOMEM;
            break;
        }
        t->p = p;
        t->id = m->a;
        t->t = h->timer_new(h->ctx, iso_timer_fire, t);
        if (!t->t) {
            free(t);
            st = DP_ERR_NOMEM;
            break;
        }
        p->timers[p->ntimers++] = t;
        break;
    case DP_ISO_SVC_TIMER_ARM:
        if ((t = iso_find_timer(p, m->a, NULL))) {
            h->timer_arm(h->ctx, t->t, m->b);
        }
        break;
    case DP_ISO_SVC_TIMER_CANCEL:
        if ((t = iso_find_timer(p, m->a, NULL))) {
            h->timer_cancel(h->ctx, t->t);
        }
        break;
    case DP_ISO_SVC_TIMER_FREE:
        if ((t = iso_find_timer(p, m->a, &idx))) {
            h->timer_free(h->ctx, t->t);
            free(t);
            p->timers[idx] = p->timers[--p->ntimers];
        }
        break;
    case DP_ISO_SVC_LOG: {
        char msg[ISO_LOG_MAX + 1];
        uint32_t n = m->len < ISO_LOG_MAX ? m->len : ISO_LOG_MAX;

        memcpy(msg, data, n);
        msg[n] = 0;
        h->log(h->ctx, m->a <= DP_LOG_ERROR ? (dp_log_level)m->a : DP_LOG_ERROR, msg);
        break;
    }
    case DP_ISO_SVC_RUN_BLOCKING:
        st = h->run_blocking(h->ctx, iso_blocking_work, p);
        if (!p->pid) {
            return false;           /* lost during the work (p->why set by the worker) */
        }
        break;
    case DP_ISO_SVC_CHR_INFO:
    case DP_ISO_SVC_CHR_HANDLERS:
    case DP_ISO_SVC_CHR_GRANT:
    case DP_ISO_SVC_CHR_CREDIT:
    case DP_ISO_SVC_CHR_WRITE:
    case DP_ISO_SVC_CHR_CONNECTED:
        st = iso_chr_service(p, m, &a, &len);
        break;
    default:
        return iso_lost(p, "protocol violation (unexpected message %u)", m->op);
    }
    iso_send(p, DP_ISO_SVC_REPLY, st, a, 0, 0, len);
    return true;
}

/*
 * Runs on the device's worker thread (BQL released) while the vCPU waits in run_blocking: lets the
 * child run its work and waits for BLOCKING_DONE. If run_blocking could not start the work, this is
 * never called and the child gets SVC_REPLY with the error instead of BLOCKING_GO.
 */
static void iso_blocking_work(void *opaque)
{
    dp_isolate *p = opaque;
    dp_iso_msg m;

    iso_send(p, DP_ISO_BLOCKING_GO, DP_OK, 0, 0, 0, 0);
    if (!iso_wait(p, p->cfg.blocking_deadline_ms)) {
        p->lost_in_work = true;
        return;
    }
    m = *dp_iso_rsp(p->shm);
    if (m.op != DP_ISO_BLOCKING_DONE) {
        iso_lost(p, "protocol violation (message %u during blocking work)", m.op);
    }
}

/*
 * One call: sends it, serves services until DONE. Returns false if the child was lost (p->why).
 * The deadline restarts with every message from the child (it bounds the child's silence).
 */
static bool iso_call(dp_isolate *p, uint32_t op, uint64_t a, uint64_t b, uint64_t c,
                     uint32_t len, unsigned timeout_ms, dp_iso_msg *done)
{
    dp_iso_msg m;

    if (!p->pid) {
        return iso_lost(p, "not running");
    }
    iso_send(p, op, 0, a, b, c, len);
    for (;;) {
        if (!iso_wait(p, timeout_ms)) {
            return false;
        }
        m = *dp_iso_rsp(p->shm);
        if (m.op == DP_ISO_DONE) {
            if (m.len > DP_ISO_DATA_SIZE) {
                return iso_lost(p, "protocol violation (length %u)", m.len);
            }
            *done = m;
            return true;
        }
        if (!iso_service(p, &m)) {
            return false;
        }
    }
}

static void iso_log_line(dp_isolate *p, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    p->host->log(p->host->ctx, DP_LOG_ERROR, line);
}

/* Brings the instance back after a loss (on-crash=restart); false if that failed too. */
static bool iso_restart(dp_isolate *p, char *how, size_t n)
{
    char err[512] = "";
    dp_iso_msg m;
    uint64_t m_caps;
    size_t al = strlen(p->args), nl = strlen(p->host->instance_name);

    iso_unmap(p);
    if (!iso_spawn(p, err, sizeof(err))) {
        snprintf(how, n, "restart failed: %s", err);
        return false;
    }
    memcpy(dp_iso_data(p->shm), p->args, al + 1);
    memcpy(dp_iso_data(p->shm) + al + 1, p->host->instance_name, nl);
    if (!iso_call(p, DP_ISO_CREATE, 0, 0, 0, (uint32_t)(al + 1 + nl), p->cfg.startup_ms, &m) ||
        m.status != DP_OK) {
        snprintf(how, n, "restart failed: create %s", p->pid ? "refused" : p->why);
        iso_kill(p);
        return false;
    }
    m_caps = m.c;
    if (p->have_ckpt) {
        memcpy(dp_iso_data(p->shm), p->ckpt, p->ckpt_len);
        if (!iso_call(p, DP_ISO_LOAD, p->desc.state_version, 0, 0, (uint32_t)p->ckpt_len,
                      p->cfg.deadline_ms, &m) || m.status != DP_OK) {
            snprintf(how, n, "restart failed: load_state of the checkpoint %s",
                     p->pid ? "refused" : p->why);
            iso_kill(p);
            return false;
        }
        snprintf(how, n, "restarted (pid %d) from the checkpoint of %" PRIu64 " ms ago",
                 (int)p->pid, (dp_iso_now_ns() - p->ckpt_ns) / 1000000u);
    } else {
        if (!iso_call(p, DP_ISO_RESET, 0, 0, 0, 0, p->cfg.deadline_ms, &m)) {
            snprintf(how, n, "restart failed: reset %s", p->why);
            return false;
        }
        snprintf(how, n, "restarted (pid %d) from reset (no checkpoint)", (int)p->pid);
    }
    p->inst_caps = (p->flags & DP_ISO_HAS_CAPS) ? (unsigned)m_caps : 0;
    if (p->active && (p->inst_caps & DP_ISO_INST_LIFECYCLE) &&
        (!iso_call(p, DP_ISO_ACTIVATE, 0, 0, 0, 0, p->cfg.deadline_ms, &m) || m.status != DP_OK)) {
        snprintf(how, n, "restart failed: activate %s", p->pid ? "refused" : p->why);
        iso_kill(p);
        return false;
    }
    return true;
}

static void iso_chr_unset_all(dp_isolate *p);

/* After a call lost the child: lower the IRQs, drop the timers, log one line, maybe restart. */
static void iso_after_loss(dp_isolate *p)
{
    char how[600], cause[ISO_WHY_LEN + 64], where[96];
    unsigned i;

    snprintf(cause, sizeof(cause), "%s%s", p->why, p->lost_in_work ? " in blocking work of" : " in");
    if (p->what_addr != UINT64_MAX) {
        snprintf(where, sizeof(where), "%s at 0x%" PRIx64, p->what, p->what_addr);
    } else {
        snprintf(where, sizeof(where), "%s", p->what);
    }
    p->lost_in_work = false;
    iso_free_timers(p);
    iso_chr_unset_all(p);           /* a restarted instance sets its own */
    for (i = 0; i < p->desc.irq_count; i++) {
        p->host->set_irq(p->host->ctx, i, 0);
    }
    if (p->cfg.restart && p->created && iso_restart(p, how, sizeof(how))) {
        p->dead = false;
    } else {
        if (!p->cfg.restart || !p->created) {
            snprintf(how, sizeof(how), "bus errors from now on (on-crash=buserror; a reload "
                     "recovers)");
        }
        p->dead = true;
        iso_unmap(p);
    }
    iso_log_line(p, "plugin %s (isolated): %s %s; %s", p->path, cause, where, how);
}

/* ---- the forwarded descriptor ---------------------------------------------------------------- */

static dp_status iso_checkpoint(dp_isolate *p);

/* Common entry of a call from the device: false if it cannot be forwarded now. */
static bool iso_enter(dp_isolate *p, const char *what, uint64_t addr)
{
    if (p->dead || p->busy || !p->pid) {
        return false;
    }
    if (p->dirty && p->cfg.checkpoint_ms && (p->flags & DP_ISO_HAS_SAVE) &&
        dp_iso_now_ns() - p->ckpt_ns >= (uint64_t)p->cfg.checkpoint_ms * 1000000u) {
        iso_checkpoint(p);
        if (p->dead || !p->pid) {
            return false;
        }
    }
    p->what = what;
    p->what_addr = addr;
    p->busy = true;
    return true;
}

/* Runs a call entered with iso_enter; false (after the loss handling) if the child was lost. */
static bool iso_run(dp_isolate *p, uint32_t op, uint64_t a, uint64_t b, uint64_t c, uint32_t len,
                    unsigned timeout_ms, dp_iso_msg *done)
{
    bool ok = iso_call(p, op, a, b, c, len, timeout_ms, done);

    if (!ok) {
        iso_after_loss(p);
    } else {
        p->dirty = true;
    }
    p->busy = false;
    return ok;
}

static dp_status iso_checkpoint(dp_isolate *p)
{
    dp_iso_msg m;
    void *blob;

    p->what = "save_state (checkpoint)";
    p->what_addr = UINT64_MAX;
    p->busy = true;
    if (!iso_run(p, DP_ISO_SAVE, 0, 0, 0, 0, p->cfg.deadline_ms, &m)) {
        return DP_ERR_INTERNAL;
    }
    if (m.status != DP_OK) {
        return (dp_status)m.status; /* BUSY: at a later call */
    }
    blob = malloc(m.len ? m.len : 1);
    if (!blob) {
        return DP_ERR_NOMEM;
    }
    memcpy(blob, dp_iso_data(p->shm), m.len);
    free(p->ckpt);
    p->ckpt = blob;
    p->ckpt_len = m.len;
    p->have_ckpt = true;
    p->dirty = false;
    p->ckpt_ns = dp_iso_now_ns();
    return DP_OK;
}

static dp_instance *iso_create(const dp_host *host, const char *args, char *err, size_t n)
{
    dp_isolate *p;
    dp_iso_msg m;
    size_t al = strlen(args), nl;

    for (p = iso_all; p && p->host != host; p = p->next) {
    }
    if (!p || !p->pid) {
        iso_err(err, n, "isolate: no isolated plugin for this device");
        return NULL;
    }
    nl = strlen(host->instance_name);
    if (al + 1 + nl > DP_ISO_DATA_SIZE) {
        iso_err(err, n, "args too long");
        return NULL;
    }
    free(p->args);
    p->args = strdup(args);
    memcpy(dp_iso_data(p->shm), args, al + 1);
    memcpy(dp_iso_data(p->shm) + al + 1, host->instance_name, nl);
    p->what = "create";
    p->what_addr = UINT64_MAX;
    if (!iso_call(p, DP_ISO_CREATE, 0, 0, 0, (uint32_t)(al + 1 + nl), p->cfg.startup_ms, &m)) {
        iso_err(err, n, "the isolated plugin %s in create", p->why);
        return NULL;
    }
    if (m.status != DP_OK) {
        iso_err(err, n, "%.*s", (int)(m.len < n ? m.len : n), (char *)dp_iso_data(p->shm));
        return NULL;
    }
    p->created = true;
    p->inst_caps = (p->flags & DP_ISO_HAS_CAPS) ? (unsigned)m.c : 0;
    p->ckpt_ns = dp_iso_now_ns();
    p->dirty = true;
    return (dp_instance *)p;
}

static void iso_destroy(dp_instance *inst)
{
    dp_isolate *p = (dp_isolate *)inst;
    dp_iso_msg m;

    if (p->pid && !p->busy) {
        p->what = "destroy";
        if (iso_call(p, DP_ISO_DESTROY, 0, 0, 0, 0, p->cfg.deadline_ms, &m)) {
            iso_send(p, DP_ISO_QUIT, 0, 0, 0, 0, 0);
            p->quit_sent = true;
        }
    }
    iso_async_stop(p);              /* the device's async/1 goes away after destroy */
    iso_free_timers(p);
    p->created = false;
}

static void iso_reset(dp_instance *inst)
{
    dp_isolate *p = (dp_isolate *)inst;
    dp_iso_msg m;

    if (iso_enter(p, "reset", UINT64_MAX)) {
        iso_run(p, DP_ISO_RESET, 0, 0, 0, 0, p->cfg.deadline_ms, &m);
    }
}

/* A read (op DP_ISO_READ) or a debugger's peek (DP_ISO_PEEK). */
static dp_status iso_load(dp_isolate *p, const char *what, uint32_t op, uint64_t offset,
                          unsigned size, uint64_t *value)
{
    dp_iso_msg m;

    if (!iso_enter(p, what, offset) ||
        !iso_run(p, op, offset, size, 0, 0, p->cfg.deadline_ms, &m)) {
        return DP_ERR_BUS;
    }
    *value = m.a;
    return (dp_status)m.status;
}

static dp_status iso_read(dp_instance *inst, uint64_t offset, unsigned size, uint64_t *value)
{
    return iso_load((dp_isolate *)inst, "read", DP_ISO_READ, offset, size, value);
}

static dp_status iso_write(dp_instance *inst, uint64_t offset, unsigned size, uint64_t value)
{
    dp_isolate *p = (dp_isolate *)inst;
    dp_iso_msg m;

    if (!iso_enter(p, "write", offset) ||
        !iso_run(p, DP_ISO_WRITE, offset, size, value, 0, p->cfg.deadline_ms, &m)) {
        return DP_ERR_BUS;
    }
    return (dp_status)m.status;
}

static void iso_timer_fire(void *opaque)
{
    iso_timer *t = opaque;
    dp_isolate *p = t->p;
    dp_iso_msg m;

    if (iso_enter(p, "timer callback", UINT64_MAX)) {
        iso_run(p, DP_ISO_TIMER, t->id, 0, 0, 0, p->cfg.deadline_ms, &m);   /* may free t */
    }
}

/* The device asks twice (buf == NULL for the length, then the bytes): one SAVE serves both. */
static dp_status iso_save_state(dp_instance *inst, void *buf, size_t cap, size_t *len)
{
    dp_isolate *p = (dp_isolate *)inst;
    dp_iso_msg m;

    if (buf && p->save_pending) {
        size_t k = p->save_len < cap ? p->save_len : cap;

        memcpy(buf, p->save_buf, k);
        *len = k;
        free(p->save_buf);
        p->save_buf = NULL;
        p->save_pending = false;
        return DP_OK;
    }
    free(p->save_buf);
    p->save_buf = NULL;
    p->save_pending = false;
    if (p->dead) {                  /* crashed: hand over the last checkpoint */
        if (!p->have_ckpt) {
            return DP_ERR_UNSUPPORTED;
        }
        p->save_buf = malloc(p->ckpt_len ? p->ckpt_len : 1);
        if (!p->save_buf) {
            return DP_ERR_NOMEM;
        }
        memcpy(p->save_buf, p->ckpt, p->ckpt_len);
        p->save_len = p->ckpt_len;
    } else {
        if (!iso_enter(p, "save_state", UINT64_MAX)) {
            return p->busy ? DP_ERR_BUSY : DP_ERR_INTERNAL;
        }
        if (!iso_run(p, DP_ISO_SAVE, 0, 0, 0, 0, p->cfg.deadline_ms, &m)) {
            return DP_ERR_INTERNAL;
        }
        if (m.status != DP_OK) {
            return (dp_status)m.status;
        }
        p->save_buf = malloc(m.len ? m.len : 1);
        if (!p->save_buf) {
            return DP_ERR_NOMEM;
        }
        memcpy(p->save_buf, dp_iso_data(p->shm), m.len);
        p->save_len = m.len;
    }
    if (!buf) {
        p->save_pending = true;
        *len = p->save_len;
        return DP_OK;
    }
    p->save_pending = true;
    return iso_save_state(inst, buf, cap, len);
}

static dp_status iso_load_state(dp_instance *inst, uint32_t version, const void *buf, size_t len)
{
    dp_isolate *p = (dp_isolate *)inst;
    dp_iso_msg m;

    if (len > DP_ISO_DATA_SIZE) {
        return DP_ERR_NOMEM;
    }
    if (!iso_enter(p, "load_state", UINT64_MAX)) {
        return DP_ERR_INTERNAL;
    }
    memcpy(dp_iso_data(p->shm), buf, len);
    if (!iso_run(p, DP_ISO_LOAD, version, 0, 0, (uint32_t)len, p->cfg.deadline_ms, &m)) {
        return DP_ERR_INTERNAL;
    }
    return (dp_status)m.status;
}

/* ---- ABI 1.1 across the boundary: async/1, chardev/1, peek/1, lifecycle/1 -------------------- */

/* Device thread, posted through the device's async/1: the child runs the work it queued. */
static void iso_async_fire(void *opaque)
{
    dp_isolate *p = opaque;
    dp_iso_msg m;

    __atomic_store_n(&p->async_posted, 0, __ATOMIC_SEQ_CST);
    if (iso_enter(p, "posted work", UINT64_MAX)) {
        iso_run(p, DP_ISO_ASYNC_RUN, 0, 0, 0, 0, p->cfg.deadline_ms, &m);
    } else if (!p->dead && p->pid && p->busy &&
               !__atomic_exchange_n(&p->async_posted, 1, __ATOMIC_SEQ_CST) &&
               p->async->post(p->async->ctx, iso_async_fire, p) != DP_OK) {
        __atomic_store_n(&p->async_posted, 0, __ATOMIC_SEQ_CST);   /* inside a call: later */
    }
}

/* The thread that turns the child's async doorbell into a post of the device's async/1. */
static void *iso_async_waiter(void *opaque)
{
    dp_isolate *p = opaque;
    uint32_t seen = 0;              /* the channel starts zeroed: a ring before we ran counts */

    while (!__atomic_load_n(&p->waiter_stop, __ATOMIC_SEQ_CST)) {
        if (dp_iso_wait(p->shm, DP_ISO_OFF_ASYNC, &seen, 0, ISO_ASYNC_SLICE_NS) &&
            !__atomic_load_n(&p->waiter_stop, __ATOMIC_SEQ_CST) &&
            !__atomic_exchange_n(&p->async_posted, 1, __ATOMIC_SEQ_CST) &&
            p->async->post(p->async->ctx, iso_async_fire, p) != DP_OK) {
            __atomic_store_n(&p->async_posted, 0, __ATOMIC_SEQ_CST);
        }
    }
    return NULL;
}

static void iso_async_start(dp_isolate *p)
{
    sigset_t all, old;

    if (!p->async || p->waiter_running) {
        return;
    }
    __atomic_store_n(&p->waiter_stop, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&p->async_posted, 0, __ATOMIC_SEQ_CST);
    sigfillset(&all);               /* QEMU's signals stay with QEMU's threads */
    pthread_sigmask(SIG_SETMASK, &all, &old);
    p->waiter_running = pthread_create(&p->waiter, NULL, iso_async_waiter, p) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void iso_async_stop(dp_isolate *p)
{
    if (!p->waiter_running) {
        return;
    }
    __atomic_store_n(&p->waiter_stop, 1, __ATOMIC_SEQ_CST);
    dp_iso_post(p->shm, DP_ISO_OFF_ASYNC);
    pthread_join(p->waiter, NULL);
    p->waiter_running = false;
}

/* The device's port handlers, set for the child's: each is a call into the child. */
static void iso_chr_receive(void *opaque, const uint8_t *buf, size_t len)
{
    iso_port *ip = opaque;
    dp_isolate *p = ip->p;
    dp_iso_msg m;

    while (len) {                   /* within the credit the child granted; lost if it died */
        size_t n = len < DP_ISO_DATA_SIZE ? len : DP_ISO_DATA_SIZE;

        if (!iso_enter(p, "chardev receive", UINT64_MAX)) {
            return;
        }
        memcpy(dp_iso_data(p->shm), buf, n);
        if (!iso_run(p, DP_ISO_CHR_RECEIVE, ip->port, 0, 0, (uint32_t)n, p->cfg.deadline_ms, &m)) {
            return;
        }
        buf += n;
        len -= n;
    }
}

static void iso_chr_writable(void *opaque)
{
    iso_port *ip = opaque;
    dp_iso_msg m;

    if (iso_enter(ip->p, "chardev writable", UINT64_MAX)) {
        iso_run(ip->p, DP_ISO_CHR_WRITABLE, ip->port, 0, 0, 0, ip->p->cfg.deadline_ms, &m);
    }
}

static void iso_chr_event(void *opaque, dp_chardev_event ev)
{
    iso_port *ip = opaque;
    dp_iso_msg m;

    if (iso_enter(ip->p, "chardev event", UINT64_MAX)) {
        iso_run(ip->p, DP_ISO_CHR_EVENT, ip->port, (uint64_t)ev, 0, 0, ip->p->cfg.deadline_ms, &m);
    }
}

static void iso_chr_unset_all(dp_isolate *p)
{
    unsigned i;

    for (i = 0; p->chr && i < p->chr->count && i < DP_ISO_CHR_MAX_PORTS; i++) {
        if (p->ports[i].set) {
            p->chr->set_handlers(p->chr->ctx, i, NULL, NULL);
            p->ports[i].set = false;
        }
    }
}

/* The child's chardev/1 services (the device's functions, called on its behalf). */
static uint32_t iso_chr_service(dp_isolate *p, const dp_iso_msg *m, uint64_t *a, uint32_t *len)
{
    const dp_chardev_api *c = p->chr;
    uint8_t *data = dp_iso_data(p->shm);
    unsigned count = c ? (c->count < DP_ISO_CHR_MAX_PORTS ? c->count : DP_ISO_CHR_MAX_PORTS) : 0;
    unsigned port = m->a < count ? (unsigned)m->a : count;
    unsigned i;

    if (!c) {
        return DP_ERR_UNSUPPORTED;
    }
    if (m->op == DP_ISO_SVC_CHR_INFO) {
        *a = count;
        for (i = 0; i < count; i++) {
            const char *id = c->name(c->ctx, i);
            size_t n = strnlen(id ? id : "", 255);

            memcpy(data + *len, id ? id : "", n);
            data[*len + n] = 0;
            *len += (uint32_t)n + 1;
        }
        return DP_OK;
    }
    if (port >= count) {
        return DP_ERR_INVALID;
    }
    switch (m->op) {
    case DP_ISO_SVC_CHR_HANDLERS: {
        dp_chardev_handlers h = {
            .receive = (m->b & DP_ISO_CHR_RECEIVE_H) ? iso_chr_receive : NULL,
            .writable = (m->b & DP_ISO_CHR_WRITABLE_H) ? iso_chr_writable : NULL,
            .event = (m->b & DP_ISO_CHR_EVENT_H) ? iso_chr_event : NULL,
        };

        p->ports[port] = (iso_port) { p, port, m->b != 0 };
        return c->set_handlers(c->ctx, port, m->b ? &h : NULL, &p->ports[port]);
    }
    case DP_ISO_SVC_CHR_GRANT:
        c->grant(c->ctx, port, (size_t)m->b);
        return DP_OK;
    case DP_ISO_SVC_CHR_CREDIT:
        *a = c->credit(c->ctx, port);
        return DP_OK;
    case DP_ISO_SVC_CHR_WRITE:
        *a = c->write(c->ctx, port, data, m->len);
        return DP_OK;
    default: /* DP_ISO_SVC_CHR_CONNECTED */
        *a = c->connected(c->ctx, port);
        return DP_OK;
    }
}

static dp_status iso_peek(dp_instance *inst, uint64_t offset, unsigned size, uint64_t *value)
{
    return iso_load((dp_isolate *)inst, "peek", DP_ISO_PEEK, offset, size, value);
}

static dp_status iso_activate(dp_instance *inst, char *err, size_t n)
{
    dp_isolate *p = (dp_isolate *)inst;
    dp_iso_msg m;

    if (!iso_enter(p, "activate", UINT64_MAX) ||
        !iso_run(p, DP_ISO_ACTIVATE, 0, 0, 0, 0, p->cfg.deadline_ms, &m)) {
        iso_err(err, n, "the isolated plugin is not running");
        return DP_ERR_INTERNAL;
    }
    if (m.status != DP_OK) {
        iso_err(err, n, "%.*s", (int)(m.len < 1023 ? m.len : 1023), (char *)dp_iso_data(p->shm));
        return (dp_status)m.status;
    }
    p->active = true;
    return DP_OK;
}

static void iso_deactivate(dp_instance *inst)
{
    dp_isolate *p = (dp_isolate *)inst;
    dp_iso_msg m;

    p->active = false;
    if (iso_enter(p, "deactivate", UINT64_MAX)) {
        iso_run(p, DP_ISO_DEACTIVATE, 0, 0, 0, 0, p->cfg.deadline_ms, &m);
    }
}

static const void *iso_get_capability(dp_instance *inst, const char *id)
{
    dp_isolate *p = (dp_isolate *)inst;

    if (!p || !id) {
        return NULL;                /* plugin level: dp_isolate_placement */
    }
    if (!strcmp(id, DYNPERIPH_CAP_PEEK) && (p->inst_caps & DP_ISO_INST_PEEK)) {
        return &p->peek;
    }
    if (!strcmp(id, DP_LIFECYCLE_CAPABILITY) && (p->inst_caps & DP_ISO_INST_LIFECYCLE)) {
        return &p->lifecycle;
    }
    return NULL;
}

const dp_placement *dp_isolate_placement(dp_isolate *p)
{
    return p && p->has_placement ? &p->placement : NULL;
}

/* ---- open / close ---------------------------------------------------------------------------- */

dp_isolate *dp_isolate_open(const dp_isolate_cfg *cfg, const char *path, const dp_host *host,
                            char *err, size_t err_size)
{
    dp_isolate *p = calloc(1, sizeof(*p));

    if (!p) {
        iso_err(err, err_size, "out of memory");
        return NULL;
    }
    p->cfg = *cfg;
    p->host_program = strdup(cfg->host_program);
    p->path = strdup(path);
    p->args = strdup("");
    p->host = host;
    p->fd = -1;
    p->what = "load";
    p->what_addr = UINT64_MAX;
    if (host->abi.minor >= 1 && host->get_capability) {
        const dp_async_api *a = host->get_capability(host->ctx, DP_ASYNC_CAPABILITY);
        const dp_chardev_api *c = host->get_capability(host->ctx, DP_CHARDEV_CAPABILITY);

        p->async = a && a->abi.major == 1 && a->post ? a : NULL;
        p->chr = c && c->abi.major == 1 ? c : NULL;
    }
    p->peek = (dp_peek) { { 1, 0 }, iso_peek };
    p->lifecycle = (dp_lifecycle) { { 1, 0 }, iso_activate, iso_deactivate };
    if (!p->host_program || !p->path || !p->args || !iso_spawn(p, err, err_size)) {
        dp_isolate_close(p);
        return NULL;
    }
    p->desc.abi = (dp_version) { DYNPERIPH_ABI_MAJOR, DYNPERIPH_ABI_MINOR };
    p->desc.name = p->name;
    p->desc.description = p->description;
    p->desc.create = iso_create;
    p->desc.destroy = iso_destroy;
    p->desc.reset = (p->flags & DP_ISO_HAS_RESET) ? iso_reset : NULL;
    p->desc.read = iso_read;
    p->desc.write = iso_write;
    p->desc.save_state = (p->flags & DP_ISO_HAS_SAVE) ? iso_save_state : NULL;
    p->desc.load_state = (p->flags & DP_ISO_HAS_LOAD) ? iso_load_state : NULL;
    p->desc.get_capability = iso_get_capability;
    p->next = iso_all;
    iso_all = p;
    return p;
}

const dp_plugin_desc *dp_isolate_desc(dp_isolate *p)
{
    return &p->desc;
}

int dp_isolate_pid(dp_isolate *p)
{
    return p ? (int)p->pid : 0;
}

void dp_isolate_close(dp_isolate *p)
{
    dp_isolate **pp;
    int i;

    if (!p) {
        return;
    }
    for (pp = &iso_all; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    if (p->pid > 0 && p->quit_sent) {   /* asked to QUIT by destroy: a moment, then kill */
        for (i = 0; i < 100 && waitpid(p->pid, NULL, WNOHANG) == 0; i++) {
            usleep(1000);
        }
        if (i < 100) {
            p->pid = 0;
        }
    }
    iso_kill(p);
    iso_free_timers(p);
    iso_unmap(p);
    free(p->ckpt);
    free(p->save_buf);
    free(p->host_program);
    free(p->path);
    free(p->args);
    free(p);
}
