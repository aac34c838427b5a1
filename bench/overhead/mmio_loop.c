/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * P2 firmware: N 32-bit reads of one MMIO register in a tight loop, the same binary against a plugin
 * (dynperiph,plugin=...) and against cim-builtin; bench/overhead/run times QEMU from the host.
 *
 *   -append "N [ADDR [KIND EXPECT]]"     (defaults: 1000000 reads of the CIM ID register 0x40100000)
 *
 * Every value read is checked, with one loop body for all kinds (same guest instructions per read):
 *   KIND 0  constant:   every read returns EXPECT
 *   KIND 1  counter:    read i (from 0) returns EXPECT + i  (a register with a read hook)
 *   KIND 2  read-clear: the first read returns EXPECT, every later read 0
 * Exit status 0 iff every read matched ("mmio_loop: N reads of ADDR ok").
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "dp/semihost.h"

int main(void)
{
    char line[160];
    unsigned long n = 1000000;
    uintptr_t addr = 0x40100000u;
    unsigned long kind = 0;
    uint32_t expect = 0x43494D00u; /* "CIM\0" */
    uint32_t bad = 0, mul, add;
    const char *p = NULL;
    char *end;

    if (dp_semihost_get_cmdline(line, sizeof line) > 0) {
        p = line;
        while (*p && *p != ' ') { /* skip the program name */
            p++;
        }
    }
    if (p && *p) {
        n = strtoul(p, &end, 0);
        if (*end) {
            addr = strtoul(end, &end, 0);
        }
        if (*end) {
            kind = strtoul(end, &end, 0);
            expect = strtoul(end, &end, 0);
        }
    }
    if (kind > 2) {
        printf("mmio_loop: KIND must be 0, 1 or 2\n");
        return 2;
    }
    mul = kind == 2 ? 0 : 1;
    add = kind == 1 ? 1 : 0;
    volatile const uint32_t *reg = (volatile const uint32_t *)addr;
    for (unsigned long i = 0; i < n; i++) {
        bad |= *reg ^ expect;
        expect = expect * mul + add;
    }
    printf("mmio_loop: %lu reads of 0x%08lx %s\n", n, (unsigned long)addr, bad ? "FAILED" : "ok");
    return bad ? 1 : 0;
}
