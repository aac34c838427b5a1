/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Minimal Cortex-M core access for Armv7-M and Armv8-M mainline (no CMSIS package on Debian): NVIC, SCB, interrupt masking, WFI.
 * Only what dynperiph firmware needs; names follow CMSIS so code reads familiar.
 */
#ifndef DP_CM3_H
#define DP_CM3_H

#include <stdint.h>

#define DP_REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* System control space */
#define DP_SCB_ICSR  DP_REG32(0xE000ED04u)
#define DP_SCB_VTOR  DP_REG32(0xE000ED08u)
#define DP_SCB_AIRCR DP_REG32(0xE000ED0Cu)
#define DP_SCB_CCR   DP_REG32(0xE000ED14u)
#define DP_SCB_SHCSR DP_REG32(0xE000ED24u)
#define DP_SCB_CFSR  DP_REG32(0xE000ED28u)
#define DP_SCB_HFSR  DP_REG32(0xE000ED2Cu)
#define DP_SCB_MMFAR DP_REG32(0xE000ED34u)
#define DP_SCB_BFAR  DP_REG32(0xE000ED38u)

#define DP_SCB_CCR_DIV_0_TRP      (1u << 4)
#define DP_SCB_SHCSR_MEMFAULTENA  (1u << 16)
#define DP_SCB_SHCSR_BUSFAULTENA  (1u << 17)
#define DP_SCB_SHCSR_USGFAULTENA  (1u << 18)

/* NVIC: 32 inputs on mps2-an385, so one register of each bank suffices; kept generic anyway. */
#define DP_NVIC_ISER(n) DP_REG32(0xE000E100u + 4u * (n))
#define DP_NVIC_ICER(n) DP_REG32(0xE000E180u + 4u * (n))
#define DP_NVIC_ISPR(n) DP_REG32(0xE000E200u + 4u * (n))
#define DP_NVIC_ICPR(n) DP_REG32(0xE000E280u + 4u * (n))
#define DP_NVIC_IABR(n) DP_REG32(0xE000E300u + 4u * (n))
#define DP_NVIC_IPR_BYTE(irq) (*(volatile uint8_t *)(uintptr_t)(0xE000E400u + (unsigned)(irq)))

/* The Cortex-M3 implements 8 priority bits in QEMU; use the top 3 so code also fits real parts. */
#define DP_NVIC_PRIO_BITS 3u

static inline void dp_nvic_enable_irq(unsigned irq)
{
    DP_NVIC_ISER(irq >> 5) = 1u << (irq & 31u);
}

static inline void dp_nvic_disable_irq(unsigned irq)
{
    DP_NVIC_ICER(irq >> 5) = 1u << (irq & 31u);
    __asm volatile("dsb\n isb" ::: "memory");
}

static inline void dp_nvic_clear_pending(unsigned irq)
{
    DP_NVIC_ICPR(irq >> 5) = 1u << (irq & 31u);
}

static inline void dp_nvic_set_pending(unsigned irq)
{
    DP_NVIC_ISPR(irq >> 5) = 1u << (irq & 31u);
}

static inline int dp_nvic_is_pending(unsigned irq)
{
    return (DP_NVIC_ISPR(irq >> 5) >> (irq & 31u)) & 1u;
}

/* prio 0 (highest) .. 7 (lowest) */
static inline void dp_nvic_set_priority(unsigned irq, unsigned prio)
{
    DP_NVIC_IPR_BYTE(irq) = (uint8_t)(prio << (8u - DP_NVIC_PRIO_BITS));
}

static inline void dp_enable_irq(void)
{
    __asm volatile("cpsie i" ::: "memory");
}

static inline void dp_disable_irq(void)
{
    __asm volatile("cpsid i" ::: "memory");
}

/* Returns the previous PRIMASK (1 = interrupts were masked) for dp_irq_restore. */
static inline uint32_t dp_irq_save(void)
{
    uint32_t primask;
    __asm volatile("mrs %0, primask\n cpsid i" : "=r"(primask)::"memory");
    return primask;
}

static inline void dp_irq_restore(uint32_t primask)
{
    __asm volatile("msr primask, %0" ::"r"(primask) : "memory");
}

static inline void dp_wfi(void)
{
    __asm volatile("dsb\n wfi" ::: "memory");
}

static inline void dp_dsb(void)
{
    __asm volatile("dsb" ::: "memory");
}

/*
 * The handler name of NVIC input n, for a number that comes from a macro (a generated header's
 * <NAME>_IRQn, a board's DP_IRQ_FREE_A): void DP_IRQ_HANDLER(CRC_DMA_IRQn)(void) { ... } defines
 * IRQ16_Handler when CRC_DMA_IRQn is 16. n must expand to a plain decimal literal.
 */
#define DP_IRQ_HANDLER(n) DP_IRQ_HANDLER_(n)
#define DP_IRQ_HANDLER_(n) IRQ##n##_Handler

/* Places an object at the very start of the board's RAM (DP_RAM_BASE; see sections.ld). */
#define DP_RAM_START __attribute__((section(".dp_ram_start")))

/*
 * Sleep until `cond` (set by an interrupt handler) holds, without the lost-wakeup race: the condition is
 * tested with interrupts masked, and WFI still wakes on a pending interrupt while PRIMASK is set.
 */
#define DP_WAIT_UNTIL(cond)                                                                        \
    do {                                                                                           \
        dp_disable_irq();                                                                          \
        while (!(cond)) {                                                                          \
            dp_wfi();                                                                              \
            dp_enable_irq();                                                                       \
            dp_disable_irq();                                                                      \
        }                                                                                          \
        dp_enable_irq();                                                                           \
    } while (0)

static inline uint32_t dp_ipsr(void)
{
    uint32_t v;
    __asm volatile("mrs %0, ipsr" : "=r"(v));
    return v;
}

#endif
