/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Firmware the gdb test (gdb_test.py) debugs on mps2-an385: plugins/bench-regkinds.so at 0x40120000
 * (PLAIN constant, HOOKED: the n-th guest read returns n, RC: read-to-clear 0x52435243) and
 * plugins/test-periph.so at 0x40121000 (an ABI 1.1 plugin without DYNPERIPH_CAP_PEEK). gdb stops in
 * dp_gdb_probe() and reads the registers with x/ before the guest does; the guest then checks that
 * those debugger reads had no side effect: RC still holds its value, HOOKED's hook has not run.
 * Exit 0 = the guest's view did not change behind its back.
 */
#include <stdint.h>
#include <stdio.h>

#include "dp/cm3.h"
#include "dp/test.h"

#define REGKINDS_BASE 0x40120000u
#define PLAIN DP_REG32(REGKINDS_BASE + 0x0u)
#define HOOKED DP_REG32(REGKINDS_BASE + 0x4u)
#define RC DP_REG32(REGKINDS_BASE + 0x8u)

volatile uint32_t dp_gdb_counter;

/* gdb's breakpoint: called before the guest touches the registers. */
__attribute__((noinline)) void dp_gdb_probe(void)
{
    __asm volatile("" ::: "memory");
}

int main(void)
{
    for (uint32_t i = 1; i <= 3; i++) {
        dp_gdb_counter += i; /* something to step through: 1 + 2 + 3 */
    }
    dp_gdb_probe();
    uint32_t rc = RC, hooked = HOOKED;
    printf("guest: PLAIN 0x%08lx, first RC read 0x%08lx, first HOOKED read %lu\n", (unsigned long)PLAIN,
           (unsigned long)rc, (unsigned long)hooked);
    DP_TEST_CASE("debugger reads have no side effects");
    CHECK_EQ(dp_gdb_counter, 6u);
    CHECK_EQ(PLAIN, 0x504C4149u);
    CHECK_EQ(rc, 0x52435243u); /* the debugger's x/ did not clear it */
    CHECK_EQ(hooked, 1u);      /* nor run the read hook */
    CHECK_EQ(RC, 0u);          /* the guest's own read did clear it */
    return dp_test_finish();
}
