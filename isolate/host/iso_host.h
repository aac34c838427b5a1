/*
 * iso_host.h: what dp-isolate-host's two translation units share: the channel and its service round
 * trip (dp-isolate-host.c), and the ABI 1.1 capabilities served inside the child (iso-caps.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later OR MIT
 */
#ifndef ISO_HOST_H
#define ISO_HOST_H

#include "dp_isolate_proto.h"
#include "dynperiph/plugin.h"

#include <stdbool.h>
#include <stddef.h>

/* The mapped channel (dp_isolate_proto.h). */
extern void *iso_shm;

/* A service round trip to QEMU (only on the main thread inside a call; false and a log line if not). */
bool iso_svc(uint32_t op, uint64_t a, uint64_t b, uint32_t len, dp_iso_msg *reply);

/* ---- iso-caps.c ------------------------------------------------------------------------------ */

/* Once, after the plugin is loaded: the host whose set_irq the async queue uses. */
void iso_caps_init(const dp_plugin_desc *desc, const dp_host *host);

/* dp_host.get_capability inside the child: async/1 and chardev/1 (NULL for anything else). */
const void *iso_caps_host_capability(const char *id);

/* CREATE's DONE c: DP_ISO_INST_* the new instance offers. */
uint64_t iso_caps_instance_flags(dp_instance *inst);

/* Work still queued when destroy starts is dropped (async.h); also after destroy. */
void iso_caps_drop_posted(void);

/*
 * Serves the capability calls (DP_ISO_PLACEMENT .. DP_ISO_CHR_EVENT) into *done (the DONE message;
 * done->len bytes at the data area). False for any other op.
 */
bool iso_caps_serve(const dp_iso_msg *m, dp_instance *inst, dp_iso_msg *done);

#endif /* ISO_HOST_H */
