/*
 * dynperiph-compat.h: the QEMU API differences between the releases the devices support, each
 * behind one named macro, so dynperiph.c and cim-builtin.c are one source for all of them.
 *
 * Copyright (c) 2026 The dynperiph authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Supported: QEMU 7.2 and 10.0. Include after "qemu/osdep.h" (whose config-host.h defines
 * QEMU_VERSION_MAJOR/MINOR).
 *
 *   macro                       7.2                               10.0
 *   DP_SYSTEM_HEADER(reset)     "sysemu/reset.h"                  "system/reset.h"
 *   DP_SYSEMU_HEADER            "sysemu/sysemu.h"                 "system/system.h"
 *   DP_QOBJECT_HEADER(qdict)    "qapi/qmp/qdict.h"                "qobject/qdict.h"
 *   DP_PROPERTIES               Property (non-const table)        const Property
 *   DP_PROP_END                 DEFINE_PROP_END_OF_LIST(),        (nothing: counted by ARRAY_SIZE)
 *   DP_BQL_LOCK() / _UNLOCK()   qemu_mutex_{lock,unlock}_iothread bql_lock / bql_unlock
 *   DP_BQL_LOCKED()             qemu_mutex_iothread_locked        bql_locked
 *   DP_ATTRS_DEBUG(attrs)       0 (MemTxAttrs has no debug flag)  attrs.debug (debugger access)
 *
 * Outside this header: QEMU's meson source set for system-emulation files is softmmu_ss in 7.2
 * and system_ss in 10.0 (qemu/glue.sh picks the one hw/misc/meson.build uses).
 */
#ifndef DYNPERIPH_COMPAT_H
#define DYNPERIPH_COMPAT_H

#if !defined(QEMU_VERSION_MAJOR)
#error "dynperiph-compat.h: include qemu/osdep.h first"
#elif !((QEMU_VERSION_MAJOR == 7 && QEMU_VERSION_MINOR == 2) || \
        (QEMU_VERSION_MAJOR == 10 && QEMU_VERSION_MINOR == 0))
#error "dynperiph supports QEMU 7.2 and 10.0 only (see qemu/device/dynperiph-compat.h)"
#endif

#define DP_COMPAT_STR_(x) #x
#define DP_COMPAT_STR(x) DP_COMPAT_STR_(x)

#if QEMU_VERSION_MAJOR >= 10
#define DP_SYSTEM_HEADER(name)  DP_COMPAT_STR(system/name.h)
#define DP_SYSEMU_HEADER        "system/system.h"
#define DP_QOBJECT_HEADER(name) DP_COMPAT_STR(qobject/name.h)
#define DP_PROPERTIES           const Property
#define DP_PROP_END
#define DP_BQL_LOCK()           bql_lock()
#define DP_BQL_UNLOCK()         bql_unlock()
#define DP_BQL_LOCKED()         bql_locked()
#define DP_ATTRS_DEBUG(attrs)   ((attrs).debug)
#else
#define DP_SYSTEM_HEADER(name)  DP_COMPAT_STR(sysemu/name.h)
#define DP_SYSEMU_HEADER        "sysemu/sysemu.h"
#define DP_QOBJECT_HEADER(name) DP_COMPAT_STR(qapi/qmp/name.h)
#define DP_PROPERTIES           Property
#define DP_PROP_END             DEFINE_PROP_END_OF_LIST(),
#define DP_BQL_LOCK()           qemu_mutex_lock_iothread()
#define DP_BQL_UNLOCK()         qemu_mutex_unlock_iothread()
#define DP_BQL_LOCKED()         qemu_mutex_iothread_locked()
#define DP_ATTRS_DEBUG(attrs)   ((void)(attrs), false)
#endif

#endif /* DYNPERIPH_COMPAT_H */
