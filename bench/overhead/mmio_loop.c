/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * P2 firmware: N 32-bit reads of the CIM peripheral's ID register (0x40100000) in a tight loop, the
 * same binary against the cim plugin (dynperiph,plugin=cim.so) and against cim-builtin. N comes from
 * the command line (-append N, default 1000000); bench/overhead/run times QEMU from the host.
 * Exit status 0 iff every read returned "CIM\0".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "dp/semihost.h"

#define CIM_ID (*(volatile uint32_t *)0x40100000u)

int main(void)
{
    char line[128];
    unsigned long n = 1000000;
    const char *arg = NULL;
    uint32_t bad = 0;

    if (dp_semihost_get_cmdline(line, sizeof line) > 0) {
        char *sp = line;
        while (*sp && *sp != ' ') {
            sp++;
        }
        if (*sp == ' ') {
            arg = sp + 1;
        }
    }
    if (arg && *arg) {
        n = strtoul(arg, NULL, 0);
    }
    for (unsigned long i = 0; i < n; i++) {
        bad |= CIM_ID ^ 0x43494D00u;
    }
    printf("mmio_loop: %lu reads %s\n", n, bad ? "FAILED" : "ok");
    return bad ? 1 : 0;
}
