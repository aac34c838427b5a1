/*
 * iso-caps.c: the ABI 1.1 capabilities of a plugin that runs in dp-isolate-host.
 *
 * Plugin side (placement/1, peek/1, lifecycle/1): QEMU's proxy calls them over the channel and this
 * file calls the plugin's. Host side (async/1, chardev/1): served here, inside the plugin's process.
 *  - async/1: post() and set_irq() queue in this process (fn and opaque never leave it); the first
 *    item of an empty queue rings the DP_ISO_OFF_ASYNC doorbell, QEMU's proxy then asks for
 *    DP_ISO_ASYNC_RUN on the device thread and the queue runs here, in order, inside that call.
 *  - chardev/1: every function is a service round trip (they are device-thread only); the handlers
 *    stay here and QEMU's proxy calls them with DP_ISO_CHR_RECEIVE / _WRITABLE / _EVENT.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later OR MIT
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "iso_host.h"
#include "dp_isolate_chan.h"
#include "dynperiph/async.h"
#include "dynperiph/chardev.h"
#include "dynperiph/lifecycle.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>


static const dp_plugin_desc *desc;
static const dp_host *host;

/* ---- async/1: a queue in this process -------------------------------------------------------- */

typedef struct posted {
    dp_work_fn fn;                  /* NULL: an IRQ change (line, level) */
    void *opaque;
    unsigned line;
    int level;
    struct posted *next;
} posted;

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static posted *q_head, **q_tail = &q_head;
static bool q_rung;                 /* the doorbell was rung for what is queued */

static dp_status a_queue(dp_work_fn fn, void *opaque, unsigned line, int level)
{
    posted *w = malloc(sizeof(*w));

    if (!w) {
        return DP_ERR_NOMEM;
    }
    *w = (posted) { fn, opaque, line, level, NULL };
    pthread_mutex_lock(&q_lock);
    *q_tail = w;
    q_tail = &w->next;
    if (!q_rung) {
        q_rung = true;
        dp_iso_post(iso_shm, DP_ISO_OFF_ASYNC);     /* never blocks: an increment and a wake */
    }
    pthread_mutex_unlock(&q_lock);
    return DP_OK;
}

static dp_status a_post(void *ctx, dp_work_fn fn, void *opaque)
{
    return fn ? a_queue(fn, opaque, 0, 0) : DP_ERR_INVALID;
}

static dp_status a_set_irq(void *ctx, unsigned line, int level)
{
    return line < desc->irq_count ? a_queue(NULL, NULL, line, level != 0) : DP_ERR_INVALID;
}

static const dp_async_api async_api = { { 1, 0 }, NULL, a_post, a_set_irq };

static posted *a_take(void)
{
    posted *all;

    pthread_mutex_lock(&q_lock);
    all = q_head;
    q_head = NULL;
    q_tail = &q_head;
    q_rung = false;
    pthread_mutex_unlock(&q_lock);
    return all;
}

/* Runs the queue to its end, including what the work posts meanwhile (on the device thread). */
static void a_run(void)
{
    posted *w, *next;

    while ((w = a_take())) {
        for (; w; w = next) {
            next = w->next;
            if (w->fn) {
                w->fn(w->opaque);
            } else {
                host->set_irq(host->ctx, w->line, w->level);
            }
            free(w);
        }
    }
}

void iso_caps_drop_posted(void)
{
    posted *w = a_take(), *next;

    for (; w; w = next) {
        next = w->next;
        free(w);
    }
}

/* ---- chardev/1: forwarded functions, local handlers ------------------------------------------ */

typedef struct chr_port {
    dp_chardev_handlers h;
    void *opaque;
    char *name;
} chr_port;

static dp_chardev_api chr_api;
static chr_port chr_ports[DP_ISO_CHR_MAX_PORTS];
static bool chr_known;

static const char *c_name(void *ctx, unsigned port)
{
    return port < chr_api.count ? chr_ports[port].name : NULL;
}

static dp_status c_set_handlers(void *ctx, unsigned port, const dp_chardev_handlers *h, void *opaque)
{
    dp_iso_msg r;
    uint64_t mask = 0;

    if (port >= chr_api.count) {
        return DP_ERR_INVALID;
    }
    if (h) {
        mask = (h->receive ? DP_ISO_CHR_RECEIVE_H : 0) | (h->writable ? DP_ISO_CHR_WRITABLE_H : 0) |
               (h->event ? DP_ISO_CHR_EVENT_H : 0);
    }
    if (!iso_svc(DP_ISO_SVC_CHR_HANDLERS, port, mask, 0, &r)) {
        return DP_ERR_INTERNAL;
    }
    if (r.status == DP_OK) {
        chr_ports[port].h = h ? *h : (dp_chardev_handlers) { 0 };
        chr_ports[port].opaque = h ? opaque : NULL;
    }
    return (dp_status)r.status;
}

static void c_grant(void *ctx, unsigned port, size_t bytes)
{
    dp_iso_msg r;

    if (port < chr_api.count) {
        iso_svc(DP_ISO_SVC_CHR_GRANT, port, bytes, 0, &r);
    }
}

static size_t c_credit(void *ctx, unsigned port)
{
    dp_iso_msg r;

    return port < chr_api.count && iso_svc(DP_ISO_SVC_CHR_CREDIT, port, 0, 0, &r) ? (size_t)r.a : 0;
}

static size_t c_write(void *ctx, unsigned port, const void *buf, size_t len)
{
    dp_iso_msg r;

    if (port >= chr_api.count || !buf) {
        return 0;
    }
    len = len < DP_ISO_DATA_SIZE ? len : DP_ISO_DATA_SIZE;  /* a short write; writable() follows */
    memcpy(dp_iso_data(iso_shm), buf, len);
    if (!iso_svc(DP_ISO_SVC_CHR_WRITE, port, 0, (uint32_t)len, &r)) {
        return 0;
    }
    return r.a < len ? (size_t)r.a : len;
}

static bool c_connected(void *ctx, unsigned port)
{
    dp_iso_msg r;

    return port < chr_api.count && iso_svc(DP_ISO_SVC_CHR_CONNECTED, port, 0, 0, &r) && r.a;
}

/* The ports QEMU's device has (asked once, inside the first call that wants the capability). */
static const dp_chardev_api *c_api(void)
{
    dp_iso_msg r;
    const char *d;
    size_t used = 0;
    unsigned i;

    if (chr_known) {
        return &chr_api;
    }
    if (!iso_svc(DP_ISO_SVC_CHR_INFO, 0, 0, 0, &r) || r.status != DP_OK) {
        return NULL;
    }
    d = (const char *)dp_iso_data(iso_shm);
    chr_api = (dp_chardev_api) { { 1, 0 }, NULL, 0, c_name, c_set_handlers, c_grant, c_credit,
                                 c_write, c_connected };
    for (i = 0; i < r.a && i < DP_ISO_CHR_MAX_PORTS && used < r.len; i++) {
        size_t n = strnlen(d + used, r.len - used);

        chr_ports[i].name = strndup(d + used, n);
        used += n + 1;
    }
    chr_api.count = i;
    chr_known = true;
    return &chr_api;
}

/* ---- serving --------------------------------------------------------------------------------- */

void iso_caps_init(const dp_plugin_desc *d, const dp_host *h)
{
    desc = d;
    host = h;
}

const void *iso_caps_host_capability(const char *id)
{
    if (id && !strcmp(id, DP_ASYNC_CAPABILITY)) {
        return &async_api;
    }
    if (id && !strcmp(id, DP_CHARDEV_CAPABILITY)) {
        return c_api();
    }
    return NULL;
}

static const void *plugin_capability(dp_instance *inst, const char *id)
{
    return desc->abi.minor >= 1 && desc->get_capability ? desc->get_capability(inst, id) : NULL;
}

static const dp_lifecycle *lifecycle_of(dp_instance *inst)
{
    const dp_lifecycle *lc = inst ? plugin_capability(inst, DP_LIFECYCLE_CAPABILITY) : NULL;

    return lc && lc->abi.major == 1 && lc->activate && lc->deactivate ? lc : NULL;
}

static const dp_peek *peek_of(dp_instance *inst)
{
    const dp_peek *pk = inst ? plugin_capability(inst, DYNPERIPH_CAP_PEEK) : NULL;

    return pk && pk->version.major == 1 && pk->peek ? pk : NULL;
}

uint64_t iso_caps_instance_flags(dp_instance *inst)
{
    return (peek_of(inst) ? DP_ISO_INST_PEEK : 0) | (lifecycle_of(inst) ? DP_ISO_INST_LIFECYCLE : 0);
}

bool iso_caps_serve(const dp_iso_msg *m, dp_instance *inst, dp_iso_msg *done)
{
    uint8_t *data = dp_iso_data(iso_shm);
    uint32_t len = m->len < DP_ISO_DATA_SIZE ? m->len : DP_ISO_DATA_SIZE;
    unsigned port = m->a < DP_ISO_CHR_MAX_PORTS ? (unsigned)m->a : DP_ISO_CHR_MAX_PORTS;
    chr_port *cp = port < chr_api.count ? &chr_ports[port] : NULL;

    *done = (dp_iso_msg) { .op = DP_ISO_DONE, .status = DP_OK };
    switch (m->op) {
    case DP_ISO_PLACEMENT: {
        const dp_placement *pl = plugin_capability(NULL, DYNPERIPH_CAP_PLACEMENT);

        if (pl && pl->version.major == 1) {
            done->a = pl->base;
            done->b = pl->irq;
            done->c = (pl->has_base ? DP_ISO_PL_BASE : 0) | (pl->has_irq ? DP_ISO_PL_IRQ : 0);
        }
        return true;
    }
    case DP_ISO_PEEK: {
        const dp_peek *pk = peek_of(inst);

        done->status = pk ? pk->peek(inst, m->a, (unsigned)m->b, &done->a) : DP_ERR_BUS;
        return true;
    }
    case DP_ISO_ACTIVATE: {
        const dp_lifecycle *lc = lifecycle_of(inst);
        char err[1024] = "";

        done->status = lc ? lc->activate(inst, err, sizeof(err)) : DP_OK;
        if (done->status != DP_OK) {
            err[sizeof(err) - 1] = 0;
            done->len = (uint32_t)strlen(err);
            memcpy(data, err, done->len);
        }
        return true;
    }
    case DP_ISO_DEACTIVATE: {
        const dp_lifecycle *lc = lifecycle_of(inst);

        if (lc) {
            lc->deactivate(inst);
        }
        a_run();                    /* nothing posted before deactivate returned is lost */
        return true;
    }
    case DP_ISO_ASYNC_RUN:
        if (inst) {
            a_run();
        }
        return true;
    case DP_ISO_CHR_RECEIVE:
        if (inst && cp && cp->h.receive && len) {
            cp->h.receive(cp->opaque, data, len);
        }
        return true;
    case DP_ISO_CHR_WRITABLE:
        if (inst && cp && cp->h.writable) {
            cp->h.writable(cp->opaque);
        }
        return true;
    case DP_ISO_CHR_EVENT:
        if (inst && cp && cp->h.event && (m->b == DP_CHARDEV_OPENED || m->b == DP_CHARDEV_CLOSED)) {
            cp->h.event(cp->opaque, (dp_chardev_event)m->b);
        }
        return true;
    default:
        return false;
    }
}
