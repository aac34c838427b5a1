/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Self-test of firmware/support under QEMU mps2-an385. Without arguments every check must pass
 * (exit 0). The first -append word selects a deliberately broken run so the test runner's failure
 * paths are tested too:
 *   fail       two failing CHECKs          -> exit 2, "selftest.c:<line>: ... CHECK failed"
 *   fault      integer division by zero    -> exit 254, "UsageFault pc=..."
 *   unhandled  IRQ 30 pended, no handler   -> exit 253, "IRQ30_Handler not defined"
 *   abort      failed assert()             -> exit 252
 *   hang       sleeps forever              -> killed by the runner's timeout
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp/board.h"
#include "dp/cm3.h"
#include "dp/semihost.h"
#include "dp/test.h"

static int initialized_data = 0x1234;
static int zeroed_bss;
static int constructor_ran;

__attribute__((constructor)) static void set_flag(void)
{
    constructor_ran = 1;
}

static void test_runtime(void)
{
    DP_TEST_CASE("runtime");
    CHECK_EQ(initialized_data, 0x1234);
    CHECK_EQ(zeroed_bss, 0);
    CHECK(constructor_ran);
    extern const uint32_t dp_vector_table[];
    CHECK_EQ(DP_SCB_VTOR, (uintptr_t)dp_vector_table);
    CHECK_EQ(dp_vector_table[0], DP_SSRAM23_BASE + DP_SSRAM23_SIZE); /* initial SP = top of SSRAM2&3 */
}

static void test_stdio_heap(void)
{
    DP_TEST_CASE("stdio+heap");
    char buf[64];
    snprintf(buf, sizeof(buf), "%d|%5s|%.3f|%x", -42, "ab", 3.25, 0xbeefu);
    CHECK(strcmp(buf, "-42|   ab|3.250|beef") == 0);
    uint8_t *p = malloc(64 * 1024);
    CHECK(p != NULL);
    if (p) {
        CHECK((uintptr_t)p >= DP_SSRAM23_BASE && (uintptr_t)p < DP_SSRAM23_BASE + DP_SSRAM23_SIZE);
        memset(p, 0xa5, 64 * 1024);
        CHECK_EQ(p[64 * 1024 - 1], 0xa5);
        free(p);
    }
    /* The heap stops at the stack: 8 MiB can never fit into 4 MiB of SSRAM2&3. */
    void *huge = malloc(8u * 1024 * 1024);
    CHECK(huge == NULL);
    free(huge);
}

static void test_cmdline(int argc, char **argv)
{
    DP_TEST_CASE("semihosting cmdline");
    /* The selftest test runs with -append "check alpha beta". */
    CHECK_EQ(argc, 3);
    if (argc == 3) {
        CHECK(strcmp(argv[1], "alpha") == 0);
        CHECK(strcmp(argv[2], "beta") == 0);
    }
    CHECK_EQ(dp_semihost_write("semihost-write-ok\n", 18), 18);
}

static volatile unsigned soft_irq_count;

void IRQ25_Handler(void)
{
    soft_irq_count++;
}

static void test_soft_irq(void)
{
    DP_TEST_CASE("software-pended NVIC IRQ");
    dp_nvic_set_priority(25, 2);
    dp_nvic_clear_pending(25);
    dp_nvic_enable_irq(25);
    dp_disable_irq();
    dp_nvic_set_pending(25);
    CHECK_EQ(soft_irq_count, 0); /* masked by PRIMASK */
    CHECK(dp_nvic_is_pending(25));
    dp_enable_irq();
    __asm volatile("isb");
    CHECK_EQ(soft_irq_count, 1);
    CHECK(!dp_nvic_is_pending(25));
    dp_nvic_disable_irq(25);
}

/* CMSDK APB timer 0: a real device interrupt through the NVIC, waited for with WFI. */
typedef struct {
    volatile uint32_t CTRL, VALUE, RELOAD, INTSTATUS; /* INTSTATUS writes = INTCLEAR */
} cmsdk_timer;
#define TIMER0 ((cmsdk_timer *)DP_TIMER0_BASE)
static volatile unsigned timer_ticks;

void IRQ8_Handler(void)
{
    TIMER0->INTSTATUS = 1;
    timer_ticks++;
}

static void test_timer_irq(void)
{
    DP_TEST_CASE("timer IRQ + WFI");
    dp_nvic_clear_pending(DP_IRQ_TIMER0);
    dp_nvic_enable_irq(DP_IRQ_TIMER0);
    TIMER0->RELOAD = DP_SYSCLK_HZ / 1000u; /* 1 ms */
    TIMER0->VALUE = DP_SYSCLK_HZ / 1000u;
    TIMER0->CTRL = 1u | 8u; /* enable, interrupt enable */
    DP_WAIT_UNTIL(timer_ticks >= 3);
    TIMER0->CTRL = 0;
    dp_nvic_disable_irq(DP_IRQ_TIMER0);
    CHECK(timer_ticks >= 3);
}

/* System exceptions are overridable like IRQs: SysTick (interrupt) and SVC (synchronous). */
static volatile unsigned systick_count, svc_count;

void SysTick_Handler(void)
{
    systick_count++;
}

void SVC_Handler(void)
{
    svc_count++;
}

static void test_system_exceptions(void)
{
    DP_TEST_CASE("SysTick + SVC handlers");
    DP_REG32(0xE000E014u) = DP_SYSCLK_HZ / 1000u - 1u; /* SYST_RVR: 1 ms */
    DP_REG32(0xE000E018u) = 0;                         /* SYST_CVR */
    DP_REG32(0xE000E010u) = 1u | 2u | 4u;              /* SYST_CSR: enable, TICKINT, CPU clock */
    DP_WAIT_UNTIL(systick_count >= 2);
    DP_REG32(0xE000E010u) = 0;
    CHECK(systick_count >= 2);
    __asm volatile("svc #0" ::: "memory");
    __asm volatile("svc #1" ::: "memory");
    CHECK_EQ(svc_count, 2);
}

static int broken_run(const char *mode)
{
    if (strcmp(mode, "fail") == 0) {
        CHECK_EQ(1 + 1, 3);
        CHECK(strcmp("a", "b") == 0);
        CHECK(1);
        return dp_test_finish();
    }
    if (strcmp(mode, "fault") == 0) {
        volatile int num = 100, zero = 0; /* volatile: no constant folding, no 1/x tricks */
        printf("divide: %d\n", num / zero);
        return 0;
    }
    if (strcmp(mode, "unhandled") == 0) {
        dp_nvic_enable_irq(30);
        dp_nvic_set_pending(30);
        __asm volatile("isb");
        return 0;
    }
    if (strcmp(mode, "abort") == 0) {
        volatile int one = 1;
        assert(one == 2);
        return 0;
    }
    if (strcmp(mode, "hang") == 0) {
        DP_WAIT_UNTIL(0);
    }
    printf("selftest: unknown mode '%s'\n", mode);
    return 1;
}

int main(void)
{
    static char cmdline[256];
    char *argv[8];
    int argc = dp_semihost_args(cmdline, sizeof(cmdline), argv, 8);
    if (argc >= 1 && strcmp(argv[0], "check") != 0) {
        return broken_run(argv[0]);
    }
    printf("firmware selftest\n");
    test_runtime();
    test_stdio_heap();
    test_cmdline(argc, argv);
    test_soft_irq();
    test_timer_irq();
    test_system_exceptions();
    return dp_test_finish();
}
