/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Async capability stress under TCG: the test-async plugin (tests/plugins/test_async.c) at
 * 0x40140000, line 0 on NVIC 30. The guest starts the plugin's host threads (4 x 20000 posts, an
 * async IRQ raise every 2000) and hammers the plugin's SCRATCH register with writes and read-backs
 * until every post ran; then the plugin must report no contract violation (order per thread, no
 * concurrency with MMIO, never on a plugin thread) and the guest must have taken the async IRQs.
 */
#include <stdint.h>
#include <stdio.h>

#include "dp/cm3.h"
#include "dp/test.h"

#define BASE 0x40140000u
#define REG(off) DP_REG32(BASE + (off))
#define IRQ 30

static volatile uint32_t irqs;

void IRQ30_Handler(void)
{
    irqs++;
    REG(0x14) = 1;                  /* IRQ_ACK: lower the line */
}

int main(void)
{
    uint32_t expect, mmio = 0, bad = 0, v = 0x9e3779b9u;

    DP_TEST_CASE("async stress");
    CHECK_EQ(REG(0x00), 0x4e595341u);
    expect = REG(0x1c) * REG(0x20);
    dp_nvic_enable_irq(IRQ);
    REG(0x04) = 1;                  /* START */
    while (REG(0x08) < expect) {
        for (int i = 0; i < 64; i++) {
            v = v * 1664525u + 1013904223u;
            REG(0x10) = v;
            bad += REG(0x10) != v;
            mmio += 2;
        }
    }
    CHECK_EQ(REG(0x08), expect);
    CHECK_EQ(REG(0x0c), 0);
    CHECK_EQ(bad, 0);
    CHECK(irqs >= 1);
    CHECK_EQ(REG(0x18), expect / 2000);
    printf("async stress: %lu posts ran, %lu guest MMIO accesses meanwhile, %lu async IRQs taken\n",
           (unsigned long)expect, (unsigned long)mmio, (unsigned long)irqs);
    return dp_test_finish();
}
