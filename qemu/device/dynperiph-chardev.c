/*
 * dynperiph-chardev.c: host capability "dynperiph.chardev/1" (include/dynperiph/chardev.h): a
 * plugin's ports to QEMU character devices, given as -device dynperiph,...,chardev=ID[:ID...].
 *
 * Copyright (c) 2026 The dynperiph authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The device owns the connections (DPChardevs: one CharBackend per port, the receive credit, bytes
 * held back, the pending write watch), so they outlive plugin instances: a hot reload only changes
 * which instance's handlers (DPChardevClient) are live. Receive: the frontend's can_read answers the
 * credit the plugin granted (0 while the instance is busy or has no receive handler), so the backend
 * stops reading and the peer blocks instead of losing bytes. Bytes that arrive anyway when they
 * cannot be delivered (the instance became busy between the main loop's poll and its dispatch) are
 * held and delivered from a BH: they were within the credit. Transmit: qemu_chr_fe_write (never the
 * blocking _all variant); after a short write a G_IO_OUT watch calls the plugin's writable().
 * No plugin callback is ever made from inside one of the plugin's own calls (no re-entrancy): what
 * would be, goes through the BH.
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "qemu/timer.h"
#include "chardev/char.h"
#include "chardev/char-fe.h"
#include "dynperiph-ext.h"

#define DP_CHARDEV_RETRY_MS 1   /* a backend without watch support: try writable() again after */

typedef struct DPPort {
    DPChardevs *c;
    unsigned index;
    char *id;
    CharBackend be;
    size_t credit;              /* bytes the live instance can still take (granted, not received) */
    GByteArray *held;           /* received within the credit, not delivered yet */
    guint watch;                /* G_IO_OUT watch after a short write, 0 if none */
    bool owe_writable;          /* the watch fired: writable() is due */
    int owe_event;              /* dp_chardev_event not delivered yet, 0 if none */
} DPPort;

struct DPChardevs {
    char *dev_name;
    unsigned count;
    DPPort *ports;
    DPChardevClient *live;
    int in_api;                 /* inside a plugin's call (write, grant, ...): no callback now */
    bool started;
    QEMUBH *bh;                 /* delivers what was held back */
    QEMUTimer *retry;
};

typedef struct DPClientPort {
    dp_chardev_handlers h;
    void *opaque;
} DPClientPort;

struct DPChardevClient {
    dp_chardev_api api;         /* api.ctx == this */
    DPChardevs *c;
    DPExtOwner owner;
    DPClientPort *ports;        /* c->count entries */
};

/* ---- delivery to the live instance -------------------------------------------------------------- */

static DPClientPort *dp_live_port(DPPort *p)
{
    DPChardevClient *cl = p->c->live;

    if (!cl || p->c->in_api || cl->owner.busy(cl->owner.opaque)) {
        return NULL;
    }
    return &cl->ports[p->index];
}

/* Delivers held bytes, a due event and a due writable(); BH or frontend callback (BQL held). */
static void dp_port_flush(DPPort *p)
{
    DPClientPort *cp = dp_live_port(p);

    if (!cp) {
        return;
    }
    if (p->owe_event && cp->h.event) {
        int ev = p->owe_event;

        p->owe_event = 0;
        cp->h.event(cp->opaque, ev);
        if (!(cp = dp_live_port(p))) {
            return;
        }
    }
    if (p->held->len && cp->h.receive) {
        GByteArray *bytes = p->held;

        p->held = g_byte_array_new();
        cp->h.receive(cp->opaque, bytes->data, bytes->len);
        g_byte_array_unref(bytes);
        if (!(cp = dp_live_port(p))) {
            return;
        }
    }
    if (p->owe_writable && cp->h.writable) {
        p->owe_writable = false;
        cp->h.writable(cp->opaque);
    }
}

static void dp_chardevs_bh(void *opaque)
{
    DPChardevs *c = opaque;
    unsigned i;

    for (i = 0; i < c->count; i++) {
        dp_port_flush(&c->ports[i]);
    }
}

void dp_chardevs_kick(DPChardevs *c)
{
    if (c) {
        qemu_bh_schedule(c->bh);
    }
}

/* ---- frontend callbacks (main loop, BQL held) ---------------------------------------------------- */

static int dp_port_can_read(void *opaque)
{
    DPPort *p = opaque;
    DPClientPort *cp = dp_live_port(p);

    if (!cp || !cp->h.receive || p->held->len) {
        return 0;
    }
    return MIN(p->credit, (size_t)INT_MAX);
}

static void dp_port_read(void *opaque, const uint8_t *buf, int size)
{
    DPPort *p = opaque;
    DPClientPort *cp = dp_live_port(p);

    if (size <= 0) {
        return;
    }
    if ((size_t)size > p->credit) {     /* cannot happen (can_read bounds it); never overrun */
        error_report("dynperiph %s: chardev %s delivered %d bytes with credit %zu; %zu dropped",
                     p->c->dev_name, p->id, size, p->credit, (size_t)size - p->credit);
        size = p->credit;
    }
    p->credit -= size;
    if (cp && cp->h.receive && !p->held->len) {
        cp->h.receive(cp->opaque, buf, size);
    } else {
        g_byte_array_append(p->held, buf, size);
        qemu_bh_schedule(p->c->bh);
    }
}

static void dp_port_event(void *opaque, QEMUChrEvent event)
{
    DPPort *p = opaque;

    if (event != CHR_EVENT_OPENED && event != CHR_EVENT_CLOSED) {
        return;                         /* break, mux focus: nothing a plugin is told about */
    }
    /* Through the BH: a write error closes a socket from inside the plugin's write(). */
    p->owe_event = event == CHR_EVENT_OPENED ? DP_CHARDEV_OPENED : DP_CHARDEV_CLOSED;
    qemu_bh_schedule(p->c->bh);
}

static gboolean dp_port_watch_cb(void *do_not_use, GIOCondition cond, void *opaque)
{
    DPPort *p = opaque;

    p->watch = 0;
    p->owe_writable = true;
    dp_port_flush(p);
    return G_SOURCE_REMOVE;
}

static void dp_chardevs_retry_cb(void *opaque)
{
    DPChardevs *c = opaque;
    unsigned i;

    for (i = 0; i < c->count; i++) {
        if (c->ports[i].owe_writable) {
            dp_port_flush(&c->ports[i]);
        }
    }
}

/* ---- the device's connections --------------------------------------------------------------------- */

DPChardevs *dp_chardevs_new(const char *dev_name, const char *ids, Error **errp)
{
    g_auto(GStrv) names = NULL;
    DPChardevs *c;
    unsigned i, j;

    if (!ids || !*ids) {
        return NULL;
    }
    names = g_strsplit(ids, ":", -1);
    c = g_new0(DPChardevs, 1);
    c->dev_name = g_strdup(dev_name);
    c->count = g_strv_length(names);
    c->ports = g_new0(DPPort, c->count);
    for (i = 0; i < c->count; i++) {
        DPPort *p = &c->ports[i];
        Chardev *chr;

        p->c = c;
        p->index = i;
        p->id = g_strdup(names[i]);
        p->held = g_byte_array_new();
        if (!*names[i]) {
            error_setg(errp, "dynperiph %s: chardev=%s: empty chardev id in the list (IDs are "
                       "separated by ':')", dev_name, ids);
            goto fail;
        }
        for (j = 0; j < i; j++) {
            if (!strcmp(names[j], names[i])) {
                error_setg(errp, "dynperiph %s: chardev=%s: chardev '%s' is named twice",
                           dev_name, ids, names[i]);
                goto fail;
            }
        }
        chr = qemu_chr_find(names[i]);
        if (!chr) {
            error_setg(errp, "dynperiph %s: chardev '%s' not found (give it with -chardev "
                       "BACKEND,id=%s,...)", dev_name, names[i], names[i]);
            goto fail;
        }
        if (!qemu_chr_fe_init(&p->be, chr, errp)) {
            error_prepend(errp, "dynperiph %s: chardev '%s': ", dev_name, names[i]);
            goto fail;
        }
    }
    c->bh = qemu_bh_new(dp_chardevs_bh, c);
    c->retry = timer_new_ms(QEMU_CLOCK_REALTIME, dp_chardevs_retry_cb, c);
    return c;

fail:
    dp_chardevs_free(c);
    return NULL;
}

void dp_chardevs_free(DPChardevs *c)
{
    unsigned i;

    if (!c) {
        return;
    }
    for (i = 0; i < c->count; i++) {
        DPPort *p = &c->ports[i];

        if (p->watch) {
            g_source_remove(p->watch);
        }
        qemu_chr_fe_deinit(&p->be, false);
        if (p->held) {
            g_byte_array_unref(p->held);
        }
        g_free(p->id);
    }
    if (c->bh) {
        qemu_bh_delete(c->bh);
    }
    if (c->retry) {
        timer_free(c->retry);
    }
    g_free(c->ports);
    g_free(c->dev_name);
    g_free(c);
}

void dp_chardevs_set_live(DPChardevs *c, DPChardevClient *cl)
{
    unsigned i;

    if (!c) {
        return;
    }
    c->live = cl;
    if (!c->started && cl) {
        c->started = true;
        for (i = 0; i < c->count; i++) {
            qemu_chr_fe_set_handlers(&c->ports[i].be, dp_port_can_read, dp_port_read,
                                     dp_port_event, NULL, &c->ports[i], NULL, true);
        }
    }
    qemu_bh_schedule(c->bh);            /* held bytes and due callbacks go to the new instance */
    for (i = 0; i < c->count; i++) {
        qemu_chr_fe_accept_input(&c->ports[i].be);
    }
}

/* ---- an instance's view (the capability) ------------------------------------------------------- */

static DPPort *dp_client_port(DPChardevClient *cl, unsigned port)
{
    return cl->c && port < cl->c->count ? &cl->c->ports[port] : NULL;
}

static const char *dp_cap_name(void *ctx, unsigned port)
{
    DPPort *p = dp_client_port(ctx, port);

    return p ? p->id : NULL;
}

static dp_status dp_cap_set_handlers(void *ctx, unsigned port, const dp_chardev_handlers *h,
                                     void *opaque)
{
    DPChardevClient *cl = ctx;
    DPPort *p = dp_client_port(cl, port);

    if (!p) {
        return DP_ERR_INVALID;
    }
    cl->ports[port].h = h ? *h : (dp_chardev_handlers) { 0 };
    cl->ports[port].opaque = opaque;
    if (!cl->owner.inert(cl->owner.opaque) && cl->c->live == cl) {
        qemu_bh_schedule(cl->c->bh);    /* held bytes for the new receive handler */
        cl->c->in_api++;
        qemu_chr_fe_accept_input(&p->be);
        cl->c->in_api--;
    }
    return DP_OK;
}

static void dp_cap_grant(void *ctx, unsigned port, size_t bytes)
{
    DPChardevClient *cl = ctx;
    DPPort *p = dp_client_port(cl, port);
    bool was_zero;

    if (!p || !bytes || cl->owner.inert(cl->owner.opaque)) {
        return;
    }
    was_zero = p->credit == 0;
    p->credit = p->credit > SIZE_MAX - bytes ? SIZE_MAX : p->credit + bytes;
    if (was_zero) {
        cl->c->in_api++;
        qemu_chr_fe_accept_input(&p->be);   /* the backend may read again: wake the main loop */
        cl->c->in_api--;
    }
}

static size_t dp_cap_credit(void *ctx, unsigned port)
{
    DPPort *p = dp_client_port(ctx, port);

    return p ? p->credit : 0;
}

static size_t dp_cap_write(void *ctx, unsigned port, const void *buf, size_t len)
{
    DPChardevClient *cl = ctx;
    DPPort *p = dp_client_port(cl, port);
    int n;

    if (!p) {
        return 0;
    }
    if (cl->owner.inert(cl->owner.opaque) || len == 0) {
        return len;                     /* the trial child never touches the connection */
    }
    cl->c->in_api++;
    n = qemu_chr_fe_write(&p->be, buf, MIN(len, (size_t)INT_MAX));
    cl->c->in_api--;
    if (n < 0 && errno != EAGAIN) {
        return len;                     /* no peer (socket not connected): the bytes are dropped */
    }
    n = MAX(n, 0);
    if ((size_t)n < len && !p->watch && !p->owe_writable) {
        p->watch = qemu_chr_fe_add_watch(&p->be, G_IO_OUT | G_IO_HUP, dp_port_watch_cb, p);
        if (!p->watch) {                /* backend without watch support: retry on a timer */
            p->owe_writable = true;
            timer_mod(p->c->retry, qemu_clock_get_ms(QEMU_CLOCK_REALTIME) + DP_CHARDEV_RETRY_MS);
        }
    }
    return n;
}

static bool dp_cap_connected(void *ctx, unsigned port)
{
    DPPort *p = dp_client_port(ctx, port);

    return p && qemu_chr_fe_backend_open(&p->be);
}

DPChardevClient *dp_chardev_client_new(DPChardevs *c, const DPExtOwner *owner)
{
    DPChardevClient *cl = g_new0(DPChardevClient, 1);

    cl->c = c;
    cl->owner = *owner;
    cl->ports = g_new0(DPClientPort, c ? c->count : 0);
    cl->api = (dp_chardev_api) {
        .abi = { 1, 0 },
        .ctx = cl,
        .count = c ? c->count : 0,
        .name = dp_cap_name,
        .set_handlers = dp_cap_set_handlers,
        .grant = dp_cap_grant,
        .credit = dp_cap_credit,
        .write = dp_cap_write,
        .connected = dp_cap_connected,
    };
    return cl;
}

void dp_chardev_client_free(DPChardevClient *cl)
{
    if (!cl) {
        return;
    }
    if (cl->c && cl->c->live == cl) {
        cl->c->live = NULL;
    }
    g_free(cl->ports);
    g_free(cl);
}

const dp_chardev_api *dp_chardev_api_of(DPChardevClient *cl)
{
    return &cl->api;
}
