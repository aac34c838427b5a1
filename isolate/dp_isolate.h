/*
 * dp_isolate: a plugin that runs in a child process (QEMU's dynperiph device with isolate=on).
 *
 * The proxy presents the child as an ordinary dp_plugin_desc: the device calls its create, read,
 * write, reset, save_state, load_state and destroy exactly as for an in-process plugin, and the proxy
 * forwards each call over shared memory (dp_isolate_proto.h) to the child, serving the host services
 * the child asks for during the call with the device's own dp_host (so DMA goes through the device's
 * guest-RAM checks, timers are the device's virtual-clock timers, run_blocking releases the BQL).
 *
 * Failures of the child: a crash (signal), an exit, a call not answered within deadline-ms (or a
 * blocking work item within blocking-deadline-ms), or a protocol violation. The child is killed and
 * reaped, the call in flight completes as DP_ERR_BUS (MMIO: a bus error), one line naming the plugin,
 * the callback and the cause is logged through dp_host.log(DP_LOG_ERROR), and then, per on-crash:
 *   buserror  every later call answers DP_ERR_BUS (reads return 0), IRQ lines are lowered, timers gone;
 *   restart   a new child is started, create(args) runs again and the last checkpoint is restored
 *             with load_state (no checkpoint yet: reset instead). A checkpoint is a save_state of the
 *             child taken before a call when at least checkpoint-ms passed since the previous one and
 *             calls happened since (save_state answering DP_ERR_BUSY: taken at a later call).
 * A hot reload after a crash carries the last checkpoint to the new plugin (save_state answers it).
 *
 * ABI 1.1 capabilities cross the boundary (child programs announcing DP_ISO_HAS_CAPS): the plugin's
 * placement/1, peek/1 and lifecycle/1 are forwarded calls (after a restart the new instance is
 * activated again if the old one was active); the host's chardev/1 is forwarded both ways (the
 * plugin's functions are services, the device's handler calls are calls); the host's async/1 queue
 * lives in the child, whose first post rings a doorbell that a thread of the proxy waits on and turns
 * into a post of the device's own async/1, which runs the child's queue on the device thread.
 *
 * Plain C + POSIX/Linux, no QEMU or glib headers; not thread-safe (the device calls it with the BQL
 * held; only the blocking-work wait runs on the device's worker thread, while the caller waits).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later OR MIT
 */
#ifndef DP_ISOLATE_H
#define DP_ISOLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dynperiph/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dp_isolate_cfg {
    const char *host_program;       /* the child program: a path, or a name looked up in $PATH */
    unsigned deadline_ms;           /* per call (silence of the child within one call) */
    unsigned blocking_deadline_ms;  /* per run_blocking work item */
    unsigned startup_ms;            /* loading the plugin and create() */
    unsigned checkpoint_ms;         /* 0: no checkpoints */
    bool restart;                   /* on-crash=restart (else buserror) */
} dp_isolate_cfg;

typedef struct dp_isolate dp_isolate;

/*
 * Starts the child for plugin `path` and waits for its descriptor. `host` is the dp_host the device
 * will pass to create() (the proxy's create finds the proxy by it) and serves the child's services.
 * Returns NULL with a one-line reason (not naming the path) in err.
 */
dp_isolate *dp_isolate_open(const dp_isolate_cfg *cfg, const char *path, const dp_host *host,
                            char *err, size_t err_size);

/* The descriptor forwarding to the child (valid until dp_isolate_close). */
const dp_plugin_desc *dp_isolate_desc(dp_isolate *p);

/*
 * The plugin-level DYNPERIPH_CAP_PLACEMENT of the child's plugin (NULL if none): get_capability(NULL,
 * ...) of the proxy's descriptor cannot tell which proxy is asked, so the device asks here.
 */
const dp_placement *dp_isolate_placement(dp_isolate *p);

/* Child's process id (0 when none runs). */
int dp_isolate_pid(dp_isolate *p);

/* Stops the child (if still running) and frees everything; call after desc->destroy. NULL is fine. */
void dp_isolate_close(dp_isolate *p);

#ifdef __cplusplus
}
#endif

#endif /* DP_ISOLATE_H */
