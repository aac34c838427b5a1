/*
 * Helpers shared by dynperiph's QEMU devices (dynperiph.c, cim-builtin.c): guest-RAM-only memory
 * access and finding the board's interrupt controller
 *
 * Copyright (c) 2026 The dynperiph authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A peripheral's DMA must never reach anything but guest RAM: not MMIO (which could re-enter a
 * device, including the caller), not unmapped space, not a range that wraps around the address
 * space. The whole range is checked before a single byte moves. Call with the BQL held (the memory
 * map cannot change between the check and the copy).
 */
#ifndef HW_MISC_DYNPERIPH_COMMON_H
#define HW_MISC_DYNPERIPH_COMMON_H

#include "exec/address-spaces.h"
#include "exec/memory.h"
#include "qemu/rcu.h"
#include "qom/object.h"

/*
 * True if every byte of [addr, addr+len) is guest RAM in address space `as` seen with `attrs` (for
 * reads also ROM; for writes writable RAM). IOMMU regions on the way (e.g. an Armv8-M MPC) are
 * translated with attrs, so a range the MPC blocks for that security state is not RAM.
 */
static inline bool dp_guest_range_is_ram_as(AddressSpace *as, MemTxAttrs attrs, uint64_t addr,
                                            uint64_t len, bool is_write)
{
    if (len > 0 && addr + len - 1 < addr) {
        return false;                               /* wraps around the address space */
    }
    RCU_READ_LOCK_GUARD();
    while (len > 0) {
        hwaddr xlat, l = len;
        MemoryRegion *mr = address_space_translate(as, addr, &xlat, &l, is_write, attrs);
        bool ok = memory_region_is_ram(mr) && !memory_region_is_ram_device(mr);

        if (!is_write && memory_region_is_romd(mr)) {
            ok = true;
        }
        if (is_write && (mr->readonly || mr->rom_device)) {
            ok = false;
        }
        if (!ok || l == 0) {
            return false;
        }
        l = MIN(l, len);
        addr += l;
        len -= l;
    }
    return true;
}

/* Copies len bytes between buf and guest RAM at addr; false, with nothing moved, if the check fails. */
static inline bool dp_guest_ram_rw_as(AddressSpace *as, MemTxAttrs attrs, uint64_t addr, void *buf,
                                      uint64_t len, bool is_write)
{
    if (!dp_guest_range_is_ram_as(as, attrs, addr, len, is_write)) {
        return false;
    }
    return len == 0 || address_space_rw(as, addr, attrs, buf, len, is_write) == MEMTX_OK;
}

/* The same in system memory (the built-in reference device, on mps2-an385 where both agree). */
static inline bool dp_guest_range_is_ram(uint64_t addr, uint64_t len, bool is_write)
{
    return dp_guest_range_is_ram_as(&address_space_memory, MEMTXATTRS_UNSPECIFIED, addr, len,
                                    is_write);
}

static inline bool dp_guest_ram_rw(uint64_t addr, void *buf, uint64_t len, bool is_write)
{
    return dp_guest_ram_rw_as(&address_space_memory, MEMTXATTRS_UNSPECIFIED, addr, buf, len,
                              is_write);
}

/*
 * The interrupt controller: on Cortex-M boards the NVIC, whose inputs the "armv7m" container
 * re-exports (qdev_pass_gpios moves them, so the container is asked first). Names are QOM type
 * names; the headers defining them are target-specific and these devices are target-independent.
 * NULL if the board has none.
 */
static inline Object *dp_find_intc(void)
{
    static const char *const types[] = { "armv7m", "armv7m_nvic" };
    Object *o = object_resolve_path("/machine/armv7m", NULL);
    size_t i;

    for (i = 0; !o && i < ARRAY_SIZE(types); i++) {
        bool ambiguous = false;

        o = object_resolve_path_type("", types[i], &ambiguous);
        if (ambiguous) {
            o = NULL;
        }
    }
    return o;
}

#endif /* HW_MISC_DYNPERIPH_COMMON_H */
