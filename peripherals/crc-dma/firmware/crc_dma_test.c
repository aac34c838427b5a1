/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crc-dma example peripheral, driven from firmware on any board in firmware/support/boards (QEMU +
 * plugins/crc-dma.so at CRC_DMA_BASE, NVIC input CRC_DMA_IRQn: the SVD's 0x40110000 / 16 unless the
 * build overrides them for a board, default plugin args, -icount shift=0). Exercises MMIO (ID,
 * registers), DMA (CRC over a RAM buffer at the very start of the board's RAM, as the CPU sees it:
 * 0x21000000 on mps3-an547, the Secure alias 0x38000000 on mps2-an505; COPY to another buffer), the
 * IRQ (NVIC handler, level line cleared by W1C) and the virtual-time BUSY period, against a bitwise
 * software CRC. Exit 0 = pass.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "crc-dma.h"
#include "dp/board.h"
#include "dp/cm3.h"
#include "dp/semihost.h"
#include "dp/test.h"

/* Plugin defaults (crc-dma.cpp): clock_hz 50 MHz, 1 cycle per byte, 16 setup cycles. */
#define CLOCK_HZ 50000000u
#define SETUP_CYCLES 16u
#define EXPECTED_NS(len) ((uint32_t)(((uint64_t)SETUP_CYCLES + (len)) * 1000000000u / CLOCK_HZ))

#define BUF_LEN 4096u
static uint8_t src[BUF_LEN] DP_RAM_START; /* at DP_RAM_BASE: where the CPU's and system memory may differ */
static uint8_t dst[BUF_LEN];

/* Bit-at-a-time reflected CRC (independent of the plugin's table-driven one). */
static uint32_t sw_crc(uint32_t poly_reflected, const uint8_t *p, size_t n)
{
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) {
            crc = (crc & 1u) ? (crc >> 1) ^ poly_reflected : crc >> 1;
        }
    }
    return crc ^ 0xffffffffu;
}
#define SW_CRC32(p, n) sw_crc(0xEDB88320u, p, n)
#define SW_CRC32C(p, n) sw_crc(0x82F63B78u, p, n)

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (uint8_t)(seed >> 24);
    }
}

static void clear_status(void)
{
    CRC_DMA->STATUS = CRC_DMA_STATUS_DONE_Msk | CRC_DMA_STATUS_ERROR_Msk;
}

static void start(const void *buf, uint32_t len, uint32_t ctrl)
{
    clear_status();
    CRC_DMA->SRC = (uint32_t)(uintptr_t)buf;
    CRC_DMA->LEN = len;
    CRC_DMA->INIT = 0xffffffffu;
    CRC_DMA->CTRL = ctrl | CRC_DMA_CTRL_START_Msk;
}

/* Polls until DONE or ERROR; returns STATUS. */
static uint32_t wait_poll(void)
{
    uint32_t st;
    unsigned spins = 0;
    do {
        st = CRC_DMA->STATUS;
    } while (!(st & (CRC_DMA_STATUS_DONE_Msk | CRC_DMA_STATUS_ERROR_Msk)) && ++spins < 10000000u);
    return st;
}

/* SysTick on the CPU clock (DP_SYSCLK_HZ) measures how long BUSY lasts (virtual time under -icount). */
#define SYST_CSR DP_REG32(0xE000E010u)
#define SYST_RVR DP_REG32(0xE000E014u)
#define SYST_CVR DP_REG32(0xE000E018u)

/* The DMA reads the bytes the CPU wrote at the start of its RAM, and writes where the CPU reads. */
static void test_cpu_view(void)
{
    DP_TEST_CASE("DMA sees memory as the CPU does (buffer at DP_RAM_BASE)");
    CHECK_EQ((uint32_t)(uintptr_t)src, DP_RAM_BASE);
    fill(src, 256, 99);
    start(src, 256, CRC_DMA_CTRL_POLY_CRC32 << CRC_DMA_CTRL_POLY_Pos);
    CHECK_EQ(wait_poll() & (CRC_DMA_STATUS_DONE_Msk | CRC_DMA_STATUS_ERROR_Msk), CRC_DMA_STATUS_DONE_Msk);
    CHECK_EQ(CRC_DMA->RESULT, SW_CRC32(src, 256));
    memset(dst, 0, 256);
    CRC_DMA->DST = (uint32_t)(uintptr_t)dst;
    start(src, 256, CRC_DMA_CTRL_COPY_Msk);
    CHECK(wait_poll() & CRC_DMA_STATUS_DONE_Msk);
    CHECK(memcmp(src, dst, 256) == 0);
    clear_status();
}

static void test_identity(void)
{
    DP_TEST_CASE("identity + reset values");
    CHECK_EQ(CRC_DMA->ID, 0x43524344u); /* "CRCD" */
    CHECK_EQ(CRC_DMA->STATUS & CRC_DMA_STATUS_BUSY_Msk, 0);
    CHECK_EQ(CRC_DMA->INIT, 0xffffffffu);
    CRC_DMA->SRC = 0x12345678u;
    CHECK_EQ(CRC_DMA->SRC, 0x12345678u);
    CHECK_EQ(CRC_DMA->CTRL & CRC_DMA_CTRL_START_Msk, 0); /* START reads 0 */
}

static void test_check_values(void)
{
    DP_TEST_CASE("standard check values (polling)");
    static const char digits[] = "123456789";
    start(digits, 9, CRC_DMA_CTRL_POLY_CRC32 << CRC_DMA_CTRL_POLY_Pos);
    CHECK(wait_poll() & CRC_DMA_STATUS_DONE_Msk);
    CHECK_EQ(CRC_DMA->RESULT, 0xCBF43926u);
    CHECK_EQ(SW_CRC32((const uint8_t *)digits, 9), 0xCBF43926u);
    start(digits, 9, CRC_DMA_CTRL_POLY_CRC32C << CRC_DMA_CTRL_POLY_Pos);
    CHECK(wait_poll() & CRC_DMA_STATUS_DONE_Msk);
    CHECK_EQ(CRC_DMA->RESULT, 0xE3069283u);
    CHECK_EQ(SW_CRC32C((const uint8_t *)digits, 9), 0xE3069283u);
}

static void test_polling(void)
{
    DP_TEST_CASE("CRC-32 of a RAM buffer by polling, BUSY in virtual time");
    fill(src, BUF_LEN, 1);
    SYST_RVR = 0xffffffu;
    SYST_CVR = 0;
    SYST_CSR = 1u | 4u; /* enable, processor clock */
    start(src, BUF_LEN, CRC_DMA_CTRL_POLY_CRC32 << CRC_DMA_CTRL_POLY_Pos);
    uint32_t t0 = SYST_CVR;
    CHECK(CRC_DMA->STATUS & CRC_DMA_STATUS_BUSY_Msk); /* BUSY right after START */
    CHECK_EQ(CRC_DMA->STATUS & CRC_DMA_STATUS_DONE_Msk, 0);
    uint32_t st = wait_poll();
    uint32_t t1 = SYST_CVR;
    SYST_CSR = 0;
    CHECK_EQ(st & (CRC_DMA_STATUS_DONE_Msk | CRC_DMA_STATUS_ERROR_Msk | CRC_DMA_STATUS_BUSY_Msk),
             CRC_DMA_STATUS_DONE_Msk);
    CHECK_EQ(CRC_DMA->RESULT, SW_CRC32(src, BUF_LEN));
    CHECK_EQ(CRC_DMA->LAST_NS, EXPECTED_NS(BUF_LEN));
    /* SysTick counts down at DP_SYSCLK_HZ. BUSY must have lasted the modelled time. */
    uint32_t tick_ns = (1000000000u + DP_SYSCLK_HZ - 1u) / DP_SYSCLK_HZ;
    uint32_t busy_ns = (uint32_t)((uint64_t)((t0 - t1) & 0xffffffu) * 1000000000u / DP_SYSCLK_HZ);
    printf("polling: LAST_NS=%lu, measured BUSY ~%lu ns\n", (unsigned long)CRC_DMA->LAST_NS,
           (unsigned long)busy_ns);
    CHECK(busy_ns + tick_ns >= EXPECTED_NS(BUF_LEN));
    CHECK(busy_ns <= EXPECTED_NS(BUF_LEN) + 100000u);
    clear_status();
}

static volatile unsigned irq_count;
static volatile uint32_t irq_status, irq_result;

void DP_IRQ_HANDLER(CRC_DMA_IRQn)(void)
{
    irq_count++;
    irq_status = CRC_DMA->STATUS;
    irq_result = CRC_DMA->RESULT;
    clear_status(); /* W1C drops the level-triggered line */
}

static void test_irq(void)
{
    DP_TEST_CASE("CRC-32C with COPY, completion by its IRQ");
    fill(src, BUF_LEN, 7);
    memset(dst, 0, sizeof(dst));
    irq_count = 0;
    dp_nvic_clear_pending(CRC_DMA_IRQn);
    dp_nvic_set_priority(CRC_DMA_IRQn, 1);
    dp_nvic_enable_irq(CRC_DMA_IRQn);
    CRC_DMA->DST = (uint32_t)(uintptr_t)dst;
    start(src, BUF_LEN,
          CRC_DMA_CTRL_IE_Msk | CRC_DMA_CTRL_COPY_Msk | (CRC_DMA_CTRL_POLY_CRC32C << CRC_DMA_CTRL_POLY_Pos));
    DP_WAIT_UNTIL(irq_count > 0);
    CHECK_EQ(irq_count, 1);
    CHECK(irq_status & CRC_DMA_STATUS_DONE_Msk);
    CHECK_EQ(irq_result, SW_CRC32C(src, BUF_LEN));
    CHECK(memcmp(src, dst, BUF_LEN) == 0);
    CHECK_EQ(CRC_DMA->STATUS & (CRC_DMA_STATUS_DONE_Msk | CRC_DMA_STATUS_ERROR_Msk), 0);
    CHECK(!dp_nvic_is_pending(CRC_DMA_IRQn)); /* line low after W1C */

    /* Several back-to-back operations of different sizes, each completing by IRQ. */
    static const uint32_t lens[] = {1, 255, 256, 257, 1000, BUF_LEN};
    for (unsigned i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        irq_count = 0;
        start(src + 3, lens[i] - (lens[i] == BUF_LEN ? 3 : 0),
              CRC_DMA_CTRL_IE_Msk | (CRC_DMA_CTRL_POLY_CRC32 << CRC_DMA_CTRL_POLY_Pos));
        DP_WAIT_UNTIL(irq_count > 0);
        uint32_t n = lens[i] - (lens[i] == BUF_LEN ? 3 : 0);
        if (!CHECK_EQ(irq_result, SW_CRC32(src + 3, n))) {
            printf("  length %lu\n", (unsigned long)n);
        }
        CHECK_EQ(CRC_DMA->LAST_NS, EXPECTED_NS(n));
    }
    CRC_DMA->CTRL = 0;
    dp_nvic_disable_irq(CRC_DMA_IRQn);
}

static void test_errors(void)
{
    DP_TEST_CASE("guest errors: ERRCODE, IRQ on error, usable afterwards");
    /* Nothing at DP_NOT_RAM_ADDR on this board. */
    start((const void *)DP_NOT_RAM_ADDR, 64, 0);
    CHECK_EQ(wait_poll() & (CRC_DMA_STATUS_ERROR_Msk | CRC_DMA_STATUS_DONE_Msk), CRC_DMA_STATUS_ERROR_Msk);
    CHECK_EQ(CRC_DMA->ERRCODE & CRC_DMA_ERRCODE_CODE_Msk, CRC_DMA_ERRCODE_CODE_SRC_FAULT);
    /* A range that starts in RAM and runs past its end. */
    start((const void *)(DP_RAM_END - 16u), 64, 0);
    CHECK(wait_poll() & CRC_DMA_STATUS_ERROR_Msk);
    CHECK_EQ(CRC_DMA->ERRCODE, CRC_DMA_ERRCODE_CODE_SRC_FAULT);
    start(src, 0x100001u, 0);
    CHECK(wait_poll() & CRC_DMA_STATUS_ERROR_Msk);
    CHECK_EQ(CRC_DMA->ERRCODE, CRC_DMA_ERRCODE_CODE_TOO_LONG);
    start(src, 16, 2u << CRC_DMA_CTRL_POLY_Pos);
    CHECK(wait_poll() & CRC_DMA_STATUS_ERROR_Msk);
    CHECK_EQ(CRC_DMA->ERRCODE, CRC_DMA_ERRCODE_CODE_BAD_POLY);
    CRC_DMA->DST = DP_NOT_RAM_ADDR;
    start(src, 16, CRC_DMA_CTRL_COPY_Msk);
    CHECK(wait_poll() & CRC_DMA_STATUS_ERROR_Msk);
    CHECK_EQ(CRC_DMA->ERRCODE, CRC_DMA_ERRCODE_CODE_DST_FAULT);

    /* START while BUSY: ERROR/BUSY, and the running operation still completes correctly. */
    start(src, BUF_LEN, 0);
    CHECK(CRC_DMA->STATUS & CRC_DMA_STATUS_BUSY_Msk);
    CRC_DMA->CTRL = CRC_DMA_CTRL_START_Msk;
    CHECK(CRC_DMA->STATUS & CRC_DMA_STATUS_ERROR_Msk);
    CHECK_EQ(CRC_DMA->ERRCODE, CRC_DMA_ERRCODE_CODE_BUSY);
    uint32_t st;
    unsigned spins = 0;
    do {
        st = CRC_DMA->STATUS;
    } while (!(st & CRC_DMA_STATUS_DONE_Msk) && ++spins < 10000000u);
    CHECK(st & CRC_DMA_STATUS_DONE_Msk);
    CHECK_EQ(CRC_DMA->RESULT, SW_CRC32(src, BUF_LEN));

    /* An error raises the IRQ too when IE is set. */
    irq_count = 0;
    dp_nvic_clear_pending(CRC_DMA_IRQn);
    dp_nvic_enable_irq(CRC_DMA_IRQn);
    start(src, 0x200000u, CRC_DMA_CTRL_IE_Msk);
    DP_WAIT_UNTIL(irq_count > 0);
    CHECK(irq_status & CRC_DMA_STATUS_ERROR_Msk);
    CRC_DMA->CTRL = 0;
    dp_nvic_disable_irq(CRC_DMA_IRQn);

    /* Still usable. */
    start(src, 100, 0);
    CHECK(wait_poll() & CRC_DMA_STATUS_DONE_Msk);
    CHECK_EQ(CRC_DMA->RESULT, SW_CRC32(src, 100));
}

/* Run with the device's secure=off on mps2-an505 (argument "expect-blocked"): the RAM at the Secure
 * alias is behind an MPC that lets only Secure transactions through, so a Non-secure bus master's DMA
 * there must fail (SRC_FAULT), while the CPU (Secure) reads it fine. */
static int test_blocked(void)
{
    DP_TEST_CASE("Non-secure DMA into Secure RAM is refused");
    fill(src, 64, 5);
    start(src, 64, 0);
    CHECK_EQ(wait_poll() & (CRC_DMA_STATUS_DONE_Msk | CRC_DMA_STATUS_ERROR_Msk), CRC_DMA_STATUS_ERROR_Msk);
    CHECK_EQ(CRC_DMA->ERRCODE & CRC_DMA_ERRCODE_CODE_Msk, CRC_DMA_ERRCODE_CODE_SRC_FAULT);
    return dp_test_finish();
}

int main(void)
{
    char args[512], *argv[4];
    if (dp_semihost_args(args, sizeof args, argv, 4) == 1 && strcmp(argv[0], "expect-blocked") == 0) {
        return test_blocked();
    }
    printf("crc-dma firmware test on %s (CRC_DMA at 0x%08lx, IRQ %d)\n", DP_BOARD_NAME,
           (unsigned long)CRC_DMA_BASE, CRC_DMA_IRQn);
    test_identity();
    test_cpu_view();
    test_check_values();
    test_polling();
    test_irq();
    test_errors();
    return dp_test_finish();
}
