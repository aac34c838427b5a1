/*
 * dynperiph ABI 1.1, plugin capability "dynperiph.lifecycle/1": activate / deactivate, so a plugin's
 * host resources (listening sockets, threads, open files, child processes) exist exactly once, in the
 * one instance the device is running, also across a hot reload.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later OR MIT
 *
 * A plugin returns a dp_lifecycle from dp_plugin_desc.get_capability(inst, DP_LIFECYCLE_CAPABILITY).
 * Why: create() also runs in QEMU's forked trial child and, on hot reload, while the old instance
 * still lives, so a port opened in create is taken twice (the reload fails, or worse, a status "ok"
 * with a dead listener). With this capability the host calls:
 *
 *   startup      create -> activate -> (running) ... deactivate -> destroy        (QEMU exit)
 *   hot reload   old: deactivate -> its queued async work runs -> save_state
 *                new: create -> load_state -> activate -> the new instance is live -> old: destroy
 *                On any failure of the new instance (create, load_state, activate) the new one is
 *                destroyed, the old one is activated again and keeps running; the reload status
 *                says "error: ..." with the reason. If save_state says DP_ERR_BUSY the old
 *                instance is activated again and the reload is retried later.
 *   trial child  create -> load_state -> destroy: activate is never called there.
 *
 * activate: take the host resources and start threads. Returns DP_OK, or an error with a one-line
 * reason in err[0..err_size-1] (e.g. "bind 127.0.0.1:5555: Address already in use"); then the host
 * calls neither deactivate nor anything but destroy on that instance. deactivate: stop threads (join
 * them: no post after deactivate returns), close sockets and files. Every call pairs: deactivate
 * only follows a successful activate; an instance may be activated again after a deactivate.
 * Both run on the device thread; host services (timers, IRQ, DMA, chardev, async) may be used.
 *
 * Only <stdint.h>, <stddef.h>, <stdbool.h> (through plugin.h); compiled as C11 and C++17 in the tests.
 */
#ifndef DYNPERIPH_LIFECYCLE_H
#define DYNPERIPH_LIFECYCLE_H

#include "dynperiph/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DP_LIFECYCLE_CAPABILITY "dynperiph.lifecycle/1"

typedef struct dp_lifecycle {
    dp_version abi;  /* {1, 0}: the version of this struct */
    dp_status (*activate)(dp_instance *inst, char *err, size_t err_size);
    void (*deactivate)(dp_instance *inst);
} dp_lifecycle;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DYNPERIPH_LIFECYCLE_H */
