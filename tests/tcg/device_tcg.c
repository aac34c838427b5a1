/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The dynperiph device under real TCG execution (not qtest), driven by a Cortex-M3 guest with the
 * test-periph plugin at DP_TEST_DEV_BASE, lines 0/1 on NVIC 25/26, run with -icount shift=0:
 * MMIO of every size from the CPU, DMA completion and timer interrupts taken by the guest, and
 * blocking work (host thread, BQL released) that costs the guest no virtual time.
 * The -append word "buserror" instead reads an offset the plugin refuses: the guest must take a
 * precise BusFault at that address (reported by the support library, exit 254). "longwork" starts
 * 1.5 s of blocking work (blocking_qmp_test.cpp checks that QMP answers meanwhile). "fault" reads
 * the FAULT register of test-faulty run with isolate=on: the child crashes or hangs there, and the guest
 * must take a precise BusFault at that address while QEMU stays up (exit 254 from the fault report).
 */
#include <stdint.h>
#include <string.h>

#include "dp/board.h"
#include "dp/cm3.h"
#include "dp/semihost.h"
#include "dp/test.h"
#include "test_periph_regs.h"

#define REG(off) DP_REG32(DP_TEST_DEV_BASE + (off))
#define IRQ_DMA 25
#define IRQ_TIMER 26

static volatile int dma_irqs, timer_irqs;

void IRQ25_Handler(void)
{
    dma_irqs++;
    REG(TP_REG_IRQ_STAT) = 1;
}

void IRQ26_Handler(void)
{
    timer_irqs++;
    REG(TP_REG_IRQ_STAT) = 2;
}

static void test_mmio(void)
{
    DP_TEST_CASE("mmio");
    CHECK_EQ(REG(TP_REG_ID), TP_ID_BASE + 1);
    REG(TP_REG_SCRATCH) = 0xfeedc0de;
    CHECK_EQ(REG(TP_REG_SCRATCH), 0xfeedc0de);
    volatile uint8_t *mem8 = (volatile uint8_t *)(DP_TEST_DEV_BASE + TP_MEM);
    volatile uint16_t *mem16 = (volatile uint16_t *)(DP_TEST_DEV_BASE + TP_MEM);
    mem8[1] = 0xab;
    CHECK_EQ(REG(TP_REG_LAST_SIZE), 1);
    mem16[1] = 0x1234;
    CHECK_EQ(REG(TP_REG_LAST_SIZE), 2);
    CHECK_EQ(REG(TP_MEM), 0x1234ab00);
}

static void test_dma_irq(void)
{
    static uint8_t src[64], dst[64];
    DP_TEST_CASE("dma+irq");
    for (unsigned i = 0; i < sizeof(src); i++) {
        src[i] = (uint8_t)(i * 3 + 1);
    }
    dp_nvic_enable_irq(IRQ_DMA);
    REG(TP_REG_IRQ_EN) = 1;
    REG(TP_REG_DELAY_NS) = 20000;
    REG(TP_REG_DMA_SRC) = (uint32_t)(uintptr_t)src;
    REG(TP_REG_DMA_DST) = (uint32_t)(uintptr_t)dst;
    REG(TP_REG_DMA_LEN) = sizeof(src);
    uint32_t t0 = REG(TP_REG_CLOCK_LO);
    REG(TP_REG_DMA_CTRL) = 1;
    CHECK_EQ(REG(TP_REG_STATUS), TP_ST_BUSY);
    DP_WAIT_UNTIL(dma_irqs == 1);
    CHECK(REG(TP_REG_CLOCK_LO) - t0 >= 20000);
    CHECK_EQ(REG(TP_REG_STATUS), TP_ST_DONE);
    CHECK(memcmp(src, dst, sizeof(src)) == 0);
}

static void test_timer_irq(void)
{
    DP_TEST_CASE("timer+irq");
    dp_nvic_enable_irq(IRQ_TIMER);
    REG(TP_REG_IRQ_EN) = 2;
    uint32_t t0 = REG(TP_REG_CLOCK_LO);
    REG(TP_REG_TIMER_NS) = 1000000;
    DP_WAIT_UNTIL(timer_irqs == 1);
    uint32_t dt = REG(TP_REG_CLOCK_LO) - t0;
    CHECK(dt >= 1000000);
    CHECK(dt < 1100000);
    CHECK_EQ(REG(TP_REG_TIMER_CNT), 1);
}

static void test_blocking_work(void)
{
    DP_TEST_CASE("blocking work");
    uint32_t t0 = REG(TP_REG_CLOCK_LO);
    REG(TP_REG_WORK) = 150;   /* the plugin's worker sleeps 150 ms of host time */
    uint32_t t1 = REG(TP_REG_CLOCK_LO);
    CHECK_EQ(REG(TP_REG_WORK_RES), 301);
    CHECK(t1 - t0 < 1000);    /* under -icount: a few instructions, not 150 ms of guest time */
}

int main(void)
{
    char buf[256], *argv[4];
    int argc = dp_semihost_args(buf, sizeof(buf), argv, 4);

    if (argc > 0 && strcmp(argv[0], "longwork") == 0) {
        REG(TP_REG_WORK) = 1500;  /* 1.5 s on the plugin's worker; QMP must stay responsive */
        return REG(TP_REG_WORK_RES) == 3001 ? 0 : 1;
    }
    if (argc > 0 && strcmp(argv[0], "buserror") == 0) {
        (void)REG(0x800);     /* the plugin answers DP_ERR_BUS */
        return 1;             /* not reached */
    }
    if (argc > 0 && strcmp(argv[0], "fault") == 0) {
        CHECK_EQ(REG(TP_REG_ID), TP_ID_BASE + 1);
        (void)REG(TP_REG_FAULT);  /* test-faulty, isolate=on: the plugin's child crashes or hangs */
        return 1;             /* not reached: a precise BusFault at 0x4012004c */
    }
    test_mmio();
    test_dma_irq();
    test_timer_irq();
    test_blocking_work();
    return dp_test_finish();
}
