/*
 * dynperiph placement: which CPU a device is attached to, its view of memory (for DMA), its interrupt
 * controller, and whether a region / IRQ line is free on the board (dynperiph-placement.c)
 *
 * Copyright (c) 2026 The dynperiph authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_MISC_DYNPERIPH_PLACEMENT_H
#define HW_MISC_DYNPERIPH_PLACEMENT_H

#include "exec/memory.h"
#include "qapi/qapi-types-common.h"

#define DP_CPU_DEFAULT UINT32_MAX    /* cpu= not given: CPU 0 */

typedef struct DPAttach {
    CPUState *cpu;                   /* the CPU (bus master) the device is attached to */
    AddressSpace *as;                /* that CPU's view of memory: DMA goes here */
    MemTxAttrs attrs;                /* secure or not (Armv8-M) */
    Object *intc;                    /* its interrupt controller (NVIC), NULL if none */
} DPAttach;

/*
 * Resolves cpu= (DP_CPU_DEFAULT = CPU 0) and secure= (auto = what the CPU boots as: secure when it
 * has the Armv8-M Security Extension) into *at. One-line error naming the plugin file.
 */
bool dp_attach(const char *plugin, uint32_t cpu_index, OnOffAuto secure, DPAttach *at, Error **errp);

/*
 * Refuses [addr, addr+size) if it overlaps RAM, ROM or a device of the board in system memory or in
 * the CPU's view (unimplemented-device placeholders and other dynperiph devices excepted: those
 * are checked by the caller). The error names what is there.
 */
bool dp_region_is_free(const char *plugin, const DPAttach *at, uint64_t addr, uint64_t size,
                       Error **errp);

/* Warns (one line per input, naming the device) for interrupt inputs irq..irq+count-1 already driven. */
void dp_warn_irqs_in_use(const char *plugin, const DPAttach *at, uint32_t irq, unsigned count);

#endif /* HW_MISC_DYNPERIPH_PLACEMENT_H */
