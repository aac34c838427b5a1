/*
 * dynperiph placement: the CPU a device is attached to, its view of memory and its interrupt
 * controller; refusing a region that hides part of the board; warning for IRQ inputs in use
 *
 * Copyright (c) 2026 The dynperiph authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * DMA: a Cortex-M CPU does not always see system memory as it is. On the Armv8-M SSE boards
 * (mps2-an505/an521, mps3-an547) the CPU's memory is a container with the subsystem's own SRAM,
 * the secure aliases (0x1..., 0x3..., 0x5...) and MPCs that check the transaction's security, laid
 * over system memory. So a plugin's DMA goes through the CPU's address space with the attributes of
 * the world the firmware runs in (secure= on Armv8-M, default: the CPU's boot state, Secure).
 *
 * Placement: a region must not overlap RAM, ROM or a board device, neither in system memory nor in
 * the CPU's view. Unimplemented-device placeholders (QEMU's "unimplemented-device", priority -1000)
 * are where a not-yet-modelled peripheral goes, so they do not count.
 *
 * IRQ inputs in use: an input is driven when some device's GPIO output is linked to it. On the SSE
 * boards the board's devices drive the subsystem's EXP_IRQ[n] / EXP_CPU<k>_IRQ[n] inputs, which feed
 * NVIC input 32 + n; those are looked at too.
 */

#include "qemu/osdep.h"
#include "dynperiph-compat.h"
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "qemu/rcu.h"
#include "exec/address-spaces.h"
#include "exec/memory.h"
#include "hw/core/cpu.h"
#include "hw/irq.h"
#include "hw/qdev-core.h"
#include "dynperiph-placement.h"

#define DP_SSE_NUM_IRQS 32           /* the SSE's own NVIC inputs; EXP_IRQ[n] is input 32 + n */

/* ---- CPU, address space, interrupt controller ------------------------------------------------ */

typedef struct DPIntcSearch {
    CPUState *cpu;
    Object *found;
    unsigned count;                  /* armv7m containers seen */
} DPIntcSearch;

static int dp_intc_visit(Object *obj, void *opaque)
{
    DPIntcSearch *q = opaque;
    Object *cpu;

    if (!object_dynamic_cast(obj, "armv7m")) {
        return 0;
    }
    q->count++;
    cpu = object_resolve_path_component(obj, "cpu");
    if (cpu && CPU(cpu) == q->cpu) {
        q->found = obj;
    }
    return 0;
}

/* The NVIC of `cpu`: the "armv7m" container whose child "cpu" it is (it re-exports the inputs). */
static Object *dp_intc_of(CPUState *cpu)
{
    DPIntcSearch q = { .cpu = cpu };
    bool ambiguous = false;
    Object *o;

    object_child_foreach_recursive(object_get_root(), dp_intc_visit, &q);
    if (q.found) {
        return q.found;
    }
    o = object_resolve_path_type("", "armv7m_nvic", &ambiguous);
    return ambiguous ? NULL : o;
}

bool dp_attach(const char *plugin, uint32_t cpu_index, OnOffAuto secure, DPAttach *at,
               Error **errp)
{
    uint32_t index = cpu_index == DP_CPU_DEFAULT ? 0 : cpu_index;
    CPUState *cpu = qemu_get_cpu(index);
    bool sec;

    memset(at, 0, sizeof(*at));
    if (!cpu) {
        unsigned n = 0;
        CPUState *c;

        CPU_FOREACH(c) {
            n++;
        }
        if (cpu_index == DP_CPU_DEFAULT) {
            /* No CPU at all (e.g. -M none): system memory, no IRQs. */
            at->as = &address_space_memory;
            at->attrs = MEMTXATTRS_UNSPECIFIED;
            return true;
        }
        error_setg(errp, "plugin %s: cpu=%u but this machine has %u CPU%s (cpu=0..%u)", plugin,
                   cpu_index, n, n == 1 ? "" : "s", n ? n - 1 : 0);
        return false;
    }
    /* Armv8-M with the Security Extension: address space 1 is the Secure one (ARMASIdx_S). */
    sec = secure == ON_OFF_AUTO_AUTO ? cpu->num_ases > 1 : secure == ON_OFF_AUTO_ON;
    if (sec && cpu->num_ases < 2) {
        error_setg(errp, "plugin %s: secure=on but CPU %u has no Security Extension (only Armv8-M "
                   "CPUs with TrustZone have a secure view)", plugin, index);
        return false;
    }
    at->cpu = cpu;
    at->as = cpu_get_address_space(cpu, sec ? 1 : 0);
    at->attrs = (MemTxAttrs) { .secure = sec };
    at->intc = dp_intc_of(cpu);
    return true;
}

/* ---- regions -------------------------------------------------------------------------------- */

typedef struct DPOverlap {
    uint64_t lo, hi;                 /* inclusive */
    const MemoryRegion *mr;
    uint64_t mr_lo, mr_hi;
} DPOverlap;

static bool dp_counts(const MemoryRegion *mr)
{
    Object *owner = mr->owner;

    if (owner && (object_dynamic_cast(owner, "unimplemented-device") ||
                  object_dynamic_cast(owner, "dynperiph"))) {
        return false;                /* placeholder, or checked by dp_check_overlap */
    }
    return true;
}

static bool dp_overlap_cb(Int128 start, Int128 len, const MemoryRegion *mr,
                          hwaddr offset_in_region, void *opaque)
{
    DPOverlap *o = opaque;
    uint64_t s = int128_get64(start);
    uint64_t e = s + int128_get64(int128_sub(len, int128_one()));

    if (e < o->lo || s > o->hi || !dp_counts(mr)) {
        return false;
    }
    o->mr = mr;
    o->mr_lo = s;
    o->mr_hi = e;
    return true;
}

static const char *dp_mr_kind(const MemoryRegion *mr)
{
    if (memory_region_is_rom((MemoryRegion *)mr) || mr->readonly || mr->rom_device) {
        return "ROM";
    }
    return memory_region_is_ram((MemoryRegion *)mr) ? "RAM" : "device";
}

/* "'uart' of /machine/mps2-uart0 (cmsdk-apb-uart)" */
static char *dp_mr_describe(const MemoryRegion *mr)
{
    const char *name = memory_region_name(mr);
    Object *owner = mr->owner;

    if (owner && object_dynamic_cast(owner, TYPE_DEVICE)) {
        g_autofree char *path = object_get_canonical_path(owner);

        return g_strdup_printf("'%s' of %s (%s)", name, path ? path : "?",
                               object_get_typename(owner));
    }
    return g_strdup_printf("'%s'", name);
}

static bool dp_region_free_in(const char *plugin, AddressSpace *as, const char *view,
                              uint64_t addr, uint64_t size, Error **errp)
{
    DPOverlap o = { .lo = addr, .hi = addr + size - 1 };
    g_autofree char *what = NULL;

    RCU_READ_LOCK_GUARD();
    flatview_for_each_range(address_space_to_flatview(as), dp_overlap_cb, &o);
    if (!o.mr) {
        return true;
    }
    what = dp_mr_describe(o.mr);
    error_setg(errp, "plugin %s: region 0x%" PRIx64 "..0x%" PRIx64 " overlaps %s %s at 0x%" PRIx64
               "..0x%" PRIx64 "%s; pick a free address with addr= (see the board's free window)",
               plugin, addr, addr + size - 1, dp_mr_kind(o.mr), what, o.mr_lo, o.mr_hi, view);
    return false;
}

bool dp_region_is_free(const char *plugin, const DPAttach *at, uint64_t addr, uint64_t size,
                       Error **errp)
{
    if (!dp_region_free_in(plugin, &address_space_memory, "", addr, size, errp)) {
        return false;
    }
    if (at->as && at->as != &address_space_memory) {
        g_autofree char *view = g_strdup_printf(" (as CPU %d sees memory%s)", at->cpu->cpu_index,
                                                at->attrs.secure ? ", secure" : "");

        return dp_region_free_in(plugin, at->as, view, addr, size, errp);
    }
    return true;
}

/* ---- IRQ inputs in use ---------------------------------------------------------------------- */

typedef struct DPIrqUser {
    Object *targets[2];              /* the NVIC input, and the SSE input feeding it (or NULL) */
    Object *driver;
} DPIrqUser;

static int dp_irq_user_visit(Object *obj, void *opaque)
{
    DPIrqUser *q = opaque;
    DeviceState *dev;
    NamedGPIOList *ngl;

    if (q->driver || !object_dynamic_cast(obj, TYPE_DEVICE)) {
        return 0;
    }
    dev = DEVICE(obj);
    QLIST_FOREACH(ngl, &dev->gpios, node) {
        int i;

        for (i = 0; i < ngl->num_out; i++) {
            g_autofree char *prop = g_strdup_printf("%s[%d]", ngl->name ? ngl->name
                                                    : "unnamed-gpio-out", i);
            Object *t = object_property_get_link(obj, prop, NULL);

            if (t && (t == q->targets[0] || t == q->targets[1])) {
                q->driver = obj;
                return 1;
            }
        }
    }
    return 0;
}

/* On an SSE board, the subsystem input that feeds NVIC input n (n >= 32) of this NVIC. */
static Object *dp_sse_input(Object *intc, uint32_t n)
{
    Object *p;
    const char *me = object_get_canonical_path_component(intc);
    int k = me && g_str_has_prefix(me, "armv7m") ? atoi(me + 6) : 0;

    if (n < DP_SSE_NUM_IRQS) {
        return NULL;
    }
    for (p = intc->parent; p && p != object_get_root(); p = p->parent) {
        if (object_dynamic_cast(p, "arm-sse")) {
            g_autofree char *one = g_strdup_printf("EXP_IRQ[%u]", n - DP_SSE_NUM_IRQS);
            g_autofree char *mine = g_strdup_printf("EXP_CPU%d_IRQ[%u]", k, n - DP_SSE_NUM_IRQS);
            Object *o = object_resolve_path_component(p, one);

            return o ? o : object_resolve_path_component(p, mine);
        }
    }
    return NULL;
}

void dp_warn_irqs_in_use(const char *plugin, const DPAttach *at, uint32_t irq, unsigned count)
{
    unsigned i;

    if (!at->intc) {
        return;
    }
    for (i = 0; i < count; i++) {
        g_autofree char *prop = g_strdup_printf("unnamed-gpio-in[%u]", irq + i);
        DPIrqUser q = { { object_resolve_path_component(at->intc, prop),
                          dp_sse_input(at->intc, irq + i) } };
        g_autofree char *path = NULL;

        if (!q.targets[0]) {
            continue;                /* dp_wire_irqs reports the missing input */
        }
        object_child_foreach_recursive(object_get_root(), dp_irq_user_visit, &q);
        if (q.driver) {
            path = object_get_canonical_path(q.driver);
            warn_report("plugin %s: interrupt input %u is already driven by %s (%s); the two "
                        "share the line (pick a free one with irq=)", plugin, irq + i, path,
                        object_get_typename(q.driver));
        }
    }
}
