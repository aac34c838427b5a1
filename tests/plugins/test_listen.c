/*
 * test-listen: a plugin owning host resources (a listening TCP port on 127.0.0.1 and a thread),
 * taken in activate and given back in deactivate (include/dynperiph/lifecycle.h), so they survive
 * hot reloads; plain C.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later OR MIT
 *
 * args: port=N. Each connection is answered with "listen vV\n" (V = TL_VARIANT) and closed; the
 * accept thread posts the count through the async capability into CONNS, which travels across hot
 * reloads in the state blob. Registers: 0x00 ID (0x4c000000 + variant), 0x04 CONNS.
 * Variants (-D): TL_VARIANT=N, TL_FAIL_ACTIVATE (activate refuses with a reason).
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dynperiph/async.h"
#include "dynperiph/lifecycle.h"

#ifndef TL_VARIANT
#define TL_VARIANT 1
#endif
#define TL_UNUSED __attribute__((unused))

typedef struct tl_inst {
    const dp_host *host;
    const dp_async_api *async;
    unsigned port;
    int lfd, stop[2];
    pthread_t thread;
    bool active;
    uint32_t conns;
} tl_inst;

static void tl_count(void *opaque)
{
    ((tl_inst *)opaque)->conns++;
}

static void *tl_accept(void *opaque)
{
    tl_inst *in = opaque;
    char msg[32];
    int len = snprintf(msg, sizeof(msg), "listen v%d\n", TL_VARIANT);

    for (;;) {
        struct pollfd p[2] = { { in->lfd, POLLIN, 0 }, { in->stop[0], POLLIN, 0 } };
        int fd;

        if (poll(p, 2, -1) < 0 && errno != EINTR) {
            break;
        }
        if (p[1].revents) {
            break;
        }
        if (!(p[0].revents & POLLIN) || (fd = accept(in->lfd, NULL, NULL)) < 0) {
            continue;
        }
        in->async->post(in->async->ctx, tl_count, in);   /* before the answer: the test reads it after */
        (void)!write(fd, msg, len);
        close(fd);
    }
    return NULL;
}

static dp_status tl_activate(dp_instance *p, char *err, size_t n)
{
    tl_inst *in = (tl_inst *)p;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(in->port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int one = 1;

#ifdef TL_FAIL_ACTIVATE
    snprintf(err, n, "refused by the test variant");
    return DP_ERR_INVALID;
#endif
    in->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    setsockopt(in->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(in->lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(in->lfd, 8) < 0) {
        snprintf(err, n, "bind 127.0.0.1:%u: %s", in->port, strerror(errno));
        close(in->lfd);
        return DP_ERR_INVALID;
    }
    if (pipe(in->stop) < 0) {
        snprintf(err, n, "pipe: %s", strerror(errno));
        close(in->lfd);
        return DP_ERR_INTERNAL;
    }
    pthread_create(&in->thread, NULL, tl_accept, in);
    in->active = true;
    return DP_OK;
}

static void tl_deactivate(dp_instance *p)
{
    tl_inst *in = (tl_inst *)p;

    if (!in->active) {
        return;
    }
    (void)!write(in->stop[1], "x", 1);
    pthread_join(in->thread, NULL);
    close(in->stop[0]);
    close(in->stop[1]);
    close(in->lfd);
    in->active = false;
}

static dp_instance *tl_create(const dp_host *h, const char *args, char *err, size_t n)
{
    tl_inst *in;
    unsigned port = 0;
    const dp_async_api *a = h->get_capability ? h->get_capability(h->ctx, DP_ASYNC_CAPABILITY) : NULL;

    if (!a) {
        snprintf(err, n, "the host has no %s capability", DP_ASYNC_CAPABILITY);
        return NULL;
    }
    if (sscanf(args, "port=%u", &port) != 1 || port == 0 || port > 65535) {
        snprintf(err, n, "args: port=N (1..65535) required, got \"%s\"", args);
        return NULL;
    }
    in = calloc(1, sizeof(*in));
    in->host = h;
    in->async = a;
    in->port = port;
    return (dp_instance *)in;
}

static void tl_destroy(dp_instance *p)
{
    tl_deactivate(p);               /* the host deactivates first; harmless if it did */
    free(p);
}

static dp_status tl_read(dp_instance *p, uint64_t off, unsigned size TL_UNUSED, uint64_t *v)
{
    tl_inst *in = (tl_inst *)p;

    *v = off == 0 ? 0x4c000000u + TL_VARIANT : off == 4 ? in->conns : 0;
    return DP_OK;
}

static dp_status tl_write(dp_instance *p TL_UNUSED, uint64_t off TL_UNUSED, unsigned size TL_UNUSED,
                          uint64_t v TL_UNUSED)
{
    return DP_OK;
}

static dp_status tl_save(dp_instance *p, void *buf, size_t cap, size_t *len)
{
    *len = sizeof(uint32_t);
    if (buf && cap >= sizeof(uint32_t)) {
        memcpy(buf, &((tl_inst *)p)->conns, sizeof(uint32_t));
    }
    return DP_OK;
}

static dp_status tl_load(dp_instance *p, uint32_t version, const void *buf, size_t len)
{
    if (version != 1 || len != sizeof(uint32_t)) {
        return DP_ERR_INVALID;
    }
    memcpy(&((tl_inst *)p)->conns, buf, sizeof(uint32_t));
    return DP_OK;
}

static const dp_lifecycle tl_lifecycle = { { 1, 0 }, tl_activate, tl_deactivate };

static const void *tl_cap(dp_instance *p TL_UNUSED, const char *id)
{
    return strcmp(id, DP_LIFECYCLE_CAPABILITY) == 0 ? &tl_lifecycle : NULL;
}

static const dp_plugin_desc tl_desc = {
    .abi = { DYNPERIPH_ABI_MAJOR, DYNPERIPH_ABI_MINOR },
    .name = "test-listen",
    .description = "lifecycle test plugin: a TCP port across hot reload",
    .mmio_size = 0x1000,
    .irq_count = 0,
    .state_version = 1,
    .create = tl_create,
    .destroy = tl_destroy,
    .read = tl_read,
    .write = tl_write,
    .save_state = tl_save,
    .load_state = tl_load,
    .get_capability = tl_cap,
};

DP_EXPORT const dp_plugin_desc *dynperiph_plugin_entry(dp_version host_abi)
{
    return host_abi.major == DYNPERIPH_ABI_MAJOR ? &tl_desc : NULL;
}
