/*
 * dynperiph-ext.h: the ABI 1.1 services of the dynperiph device, each in its own file, and the few
 * hooks dynperiph.c calls them through.
 *
 * Copyright (c) 2026 The dynperiph authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 *   dynperiph-async.c    "dynperiph.async/1"    (include/dynperiph/async.h): one queue per plugin
 *                                               instance, filled from any thread, run by a main-loop BH
 *   dynperiph-chardev.c  "dynperiph.chardev/1"  (include/dynperiph/chardev.h): the device's chardev=
 *                                               connections (they outlive every instance) and each
 *                                               instance's view of them
 *
 * Both ask their owner (a plugin instance of dynperiph.c) two questions through DPExtOwner: is it busy
 * (its run_blocking work is in flight: hold everything back) and is it inert (the forked trial child:
 * accept and drop). After run_blocking returns, dynperiph.c calls dp_async_kick and dp_chardevs_kick.
 */
#ifndef HW_MISC_DYNPERIPH_EXT_H
#define HW_MISC_DYNPERIPH_EXT_H

#include "qapi/error.h"
#include "dynperiph/async.h"
#include "dynperiph/chardev.h"
#include "dynperiph/lifecycle.h"

typedef struct DPExtOwner {
    void *opaque;
    bool (*busy)(void *opaque);
    bool (*inert)(void *opaque);
    void (*set_irq)(void *opaque, unsigned line, int level);  /* async.h set_irq, device thread */
    unsigned (*irq_count)(void *opaque);
} DPExtOwner;

/* ---- dynperiph-async.c ------------------------------------------------------------------------- */
typedef struct DPAsync DPAsync;

DPAsync *dp_async_new(const DPExtOwner *owner);
void dp_async_free(DPAsync *a);                 /* queued work is dropped */
const dp_async_api *dp_async_api_of(DPAsync *a);
void dp_async_run(DPAsync *a);                  /* device thread: run the queue now, to the end */
void dp_async_kick(DPAsync *a);                 /* queue not empty: run it soon (main loop) */

/* ---- dynperiph-chardev.c ----------------------------------------------------------------------- */
typedef struct DPChardevs DPChardevs;           /* a device's connections */
typedef struct DPChardevClient DPChardevClient; /* one instance's view of them */

/* Parses "ID[:ID...]" and takes each chardev as frontend; NULL with errp set on failure. */
DPChardevs *dp_chardevs_new(const char *dev_name, const char *ids, Error **errp);
void dp_chardevs_free(DPChardevs *c);
/* The instance whose handlers are called from now on (NULL: none); the first call opens the ports. */
void dp_chardevs_set_live(DPChardevs *c, DPChardevClient *cl);
void dp_chardevs_kick(DPChardevs *c);           /* deliver what was held back, soon (main loop) */

DPChardevClient *dp_chardev_client_new(DPChardevs *c, const DPExtOwner *owner);  /* c may be NULL */
void dp_chardev_client_free(DPChardevClient *cl);
const dp_chardev_api *dp_chardev_api_of(DPChardevClient *cl);

#endif /* HW_MISC_DYNPERIPH_EXT_H */
