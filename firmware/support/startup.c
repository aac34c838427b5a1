/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Cortex-M3 startup for QEMU mps2-an385: vector table (16 system entries + 32 NVIC inputs, every
 * handler a weak alias that can be overridden by defining a function of the same name), Reset_Handler
 * (copy .data, zero .bss, SystemInit, constructors, main, exit via semihosting with main's status),
 * and fault reporting that names the fault and the faulting PC before exiting with status 253/254 (see dp/startup.h).
 */
#include <stdint.h>
#include <stdlib.h>

#include "dp/board.h"
#include "dp/cm3.h"
#include "dp/semihost.h"
#include "dp/startup.h"
#include "dp/uart.h"

extern uint32_t __data_load__[], __data_start__[], __data_end__[];
extern uint32_t __bss_start__[], __bss_end__[];
extern uint32_t __StackTop[];

int main(void);
extern void __libc_init_array(void);

void Reset_Handler(void);
void Default_Handler(void);
void HardFault_Handler(void);

#define DP_WEAK_ALIAS(name) void name(void) __attribute__((weak, alias("Default_Handler")))
#define DP_WEAK_FAULT(name) void name(void) __attribute__((weak, alias("HardFault_Handler")))

DP_WEAK_ALIAS(NMI_Handler);
DP_WEAK_FAULT(MemManage_Handler);
DP_WEAK_FAULT(BusFault_Handler);
DP_WEAK_FAULT(UsageFault_Handler);
DP_WEAK_ALIAS(SVC_Handler);
DP_WEAK_ALIAS(DebugMon_Handler);
DP_WEAK_ALIAS(PendSV_Handler);
DP_WEAK_ALIAS(SysTick_Handler);

#define DP_IRQ_ALIAS(n) DP_WEAK_ALIAS(IRQ##n##_Handler)
DP_IRQ_ALIAS(0); DP_IRQ_ALIAS(1); DP_IRQ_ALIAS(2); DP_IRQ_ALIAS(3);
DP_IRQ_ALIAS(4); DP_IRQ_ALIAS(5); DP_IRQ_ALIAS(6); DP_IRQ_ALIAS(7);
DP_IRQ_ALIAS(8); DP_IRQ_ALIAS(9); DP_IRQ_ALIAS(10); DP_IRQ_ALIAS(11);
DP_IRQ_ALIAS(12); DP_IRQ_ALIAS(13); DP_IRQ_ALIAS(14); DP_IRQ_ALIAS(15);
DP_IRQ_ALIAS(16); DP_IRQ_ALIAS(17); DP_IRQ_ALIAS(18); DP_IRQ_ALIAS(19);
DP_IRQ_ALIAS(20); DP_IRQ_ALIAS(21); DP_IRQ_ALIAS(22); DP_IRQ_ALIAS(23);
DP_IRQ_ALIAS(24); DP_IRQ_ALIAS(25); DP_IRQ_ALIAS(26); DP_IRQ_ALIAS(27);
DP_IRQ_ALIAS(28); DP_IRQ_ALIAS(29); DP_IRQ_ALIAS(30); DP_IRQ_ALIAS(31);

typedef void (*dp_vector)(void);

__attribute__((section(".vectors"), used)) const dp_vector dp_vector_table[16 + DP_NUM_IRQS] = {
    (dp_vector)(uintptr_t)__StackTop,
    Reset_Handler,
    NMI_Handler,
    HardFault_Handler,
    MemManage_Handler,
    BusFault_Handler,
    UsageFault_Handler,
    0, 0, 0, 0, /* reserved */
    SVC_Handler,
    DebugMon_Handler,
    0, /* reserved */
    PendSV_Handler,
    SysTick_Handler,
    IRQ0_Handler, IRQ1_Handler, IRQ2_Handler, IRQ3_Handler,
    IRQ4_Handler, IRQ5_Handler, IRQ6_Handler, IRQ7_Handler,
    IRQ8_Handler, IRQ9_Handler, IRQ10_Handler, IRQ11_Handler,
    IRQ12_Handler, IRQ13_Handler, IRQ14_Handler, IRQ15_Handler,
    IRQ16_Handler, IRQ17_Handler, IRQ18_Handler, IRQ19_Handler,
    IRQ20_Handler, IRQ21_Handler, IRQ22_Handler, IRQ23_Handler,
    IRQ24_Handler, IRQ25_Handler, IRQ26_Handler, IRQ27_Handler,
    IRQ28_Handler, IRQ29_Handler, IRQ30_Handler, IRQ31_Handler,
};

/* Newlib's __libc_init_array calls _init/_fini from crti.o, which -nostartfiles leaves out. */
void _init(void) {}
void _fini(void) {}

__attribute__((weak)) void SystemInit(void)
{
    DP_SCB_VTOR = (uint32_t)(uintptr_t)dp_vector_table;
    /* Separate fault handlers and trap integer division by zero, so bugs show up as faults. */
    DP_SCB_SHCSR |= DP_SCB_SHCSR_MEMFAULTENA | DP_SCB_SHCSR_BUSFAULTENA | DP_SCB_SHCSR_USGFAULTENA;
    DP_SCB_CCR |= DP_SCB_CCR_DIV_0_TRP;
    dp_uart_init(DP_UART0, 115200u);
}

__attribute__((noreturn)) void Reset_Handler(void)
{
    for (uint32_t *src = __data_load__, *dst = __data_start__; dst < __data_end__;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = __bss_start__; dst < __bss_end__;) {
        *dst++ = 0;
    }
    SystemInit();
    __libc_init_array();
    exit(main()); /* flushes stdio, then _exit() ends QEMU through semihosting */
}

/* ---- exception reporting: semihosting only, no stdio (may be broken when we get here) ---- */

static void put_hex(uint32_t v)
{
    char buf[11] = "0x";
    for (int i = 0; i < 8; i++) {
        buf[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 0xfu];
    }
    buf[10] = '\0';
    dp_semihost_write0(buf);
}

static void put_dec(uint32_t v)
{
    char buf[12];
    int i = 11;
    buf[i] = '\0';
    do {
        buf[--i] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    dp_semihost_write0(&buf[i]);
}

void Default_Handler(void)
{
    uint32_t exc = dp_ipsr() & 0x1ffu;
    dp_semihost_write0("dp-fw: unexpected exception ");
    put_dec(exc);
    if (exc >= 16) {
        dp_semihost_write0(" (IRQ");
        put_dec(exc - 16);
        dp_semihost_write0("_Handler not defined)");
    }
    dp_semihost_write0("\n");
    dp_semihost_exit(DP_EXIT_UNEXPECTED_EXCEPTION);
}

void dp_fault_report(const uint32_t *frame, uint32_t exc)
{
    static const char *const names[] = {"?", "?", "NMI", "HardFault", "MemManage", "BusFault", "UsageFault"};
    dp_semihost_write0("dp-fw: ");
    dp_semihost_write0(exc < 7 ? names[exc] : "fault");
    dp_semihost_write0(" pc=");
    put_hex(frame[6]);
    dp_semihost_write0(" lr=");
    put_hex(frame[5]);
    dp_semihost_write0(" cfsr=");
    put_hex(DP_SCB_CFSR);
    dp_semihost_write0(" hfsr=");
    put_hex(DP_SCB_HFSR);
    dp_semihost_write0(" bfar=");
    put_hex(DP_SCB_BFAR);
    dp_semihost_write0("\n");
    dp_semihost_exit(DP_EXIT_FAULT);
}

/* Picks the stack the exception frame was pushed to (EXC_RETURN bit 2) and reports it. */
__attribute__((naked)) void HardFault_Handler(void)
{
    __asm volatile("tst lr, #4\n"
                   "ite eq\n"
                   "mrseq r0, msp\n"
                   "mrsne r0, psp\n"
                   "mrs r1, ipsr\n"
                   "ubfx r1, r1, #0, #9\n"
                   "b dp_fault_report\n");
}
