/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Cortex-M startup for every board in boards/ (dp/board.h): vector table (16 system entries +
 * DP_NUM_IRQS NVIC inputs, every
 * handler a weak alias that can be overridden by defining a function of the same name), Reset_Handler
 * (copy .data, zero .bss, SystemInit, constructors, main, exit via semihosting with main's status),
 * and fault reporting that names the fault and the faulting PC before exiting with status 253/254 (see dp/startup.h).
 */
#include <stdint.h>
#include <stdlib.h>

#include "dp/board.h"
#include "dp/cm3.h"
#include "dp/console.h"
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

#define DP_IRQ_ALIAS(n) DP_WEAK_ALIAS(IRQ##n##_Handler);
/* Up to 128 NVIC inputs; the vector table below uses the board's DP_NUM_IRQS of them. */
#define DP_IRQ_LIST(X) \
    X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) \
    X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15) \
    X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23) \
    X(24) X(25) X(26) X(27) X(28) X(29) X(30) X(31) \
    X(32) X(33) X(34) X(35) X(36) X(37) X(38) X(39) \
    X(40) X(41) X(42) X(43) X(44) X(45) X(46) X(47) \
    X(48) X(49) X(50) X(51) X(52) X(53) X(54) X(55) \
    X(56) X(57) X(58) X(59) X(60) X(61) X(62) X(63) \
    X(64) X(65) X(66) X(67) X(68) X(69) X(70) X(71) \
    X(72) X(73) X(74) X(75) X(76) X(77) X(78) X(79) \
    X(80) X(81) X(82) X(83) X(84) X(85) X(86) X(87) \
    X(88) X(89) X(90) X(91) X(92) X(93) X(94) X(95) \
    X(96) X(97) X(98) X(99) X(100) X(101) X(102) X(103) \
    X(104) X(105) X(106) X(107) X(108) X(109) X(110) X(111) \
    X(112) X(113) X(114) X(115) X(116) X(117) X(118) X(119) \
    X(120) X(121) X(122) X(123) X(124) X(125) X(126) X(127)
DP_IRQ_LIST(DP_IRQ_ALIAS)

typedef void (*dp_vector)(void);

_Static_assert(DP_NUM_IRQS <= 128, "startup.c defines IRQ0..IRQ127_Handler");

/* 16 system entries + the board's DP_NUM_IRQS inputs (a multiple of 4). */
_Static_assert(DP_NUM_IRQS % 4 == 0, "DP_NUM_IRQS must be a multiple of 4");
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
#if DP_NUM_IRQS > 4
    IRQ4_Handler, IRQ5_Handler, IRQ6_Handler, IRQ7_Handler,
#endif
#if DP_NUM_IRQS > 8
    IRQ8_Handler, IRQ9_Handler, IRQ10_Handler, IRQ11_Handler,
#endif
#if DP_NUM_IRQS > 12
    IRQ12_Handler, IRQ13_Handler, IRQ14_Handler, IRQ15_Handler,
#endif
#if DP_NUM_IRQS > 16
    IRQ16_Handler, IRQ17_Handler, IRQ18_Handler, IRQ19_Handler,
#endif
#if DP_NUM_IRQS > 20
    IRQ20_Handler, IRQ21_Handler, IRQ22_Handler, IRQ23_Handler,
#endif
#if DP_NUM_IRQS > 24
    IRQ24_Handler, IRQ25_Handler, IRQ26_Handler, IRQ27_Handler,
#endif
#if DP_NUM_IRQS > 28
    IRQ28_Handler, IRQ29_Handler, IRQ30_Handler, IRQ31_Handler,
#endif
#if DP_NUM_IRQS > 32
    IRQ32_Handler, IRQ33_Handler, IRQ34_Handler, IRQ35_Handler,
#endif
#if DP_NUM_IRQS > 36
    IRQ36_Handler, IRQ37_Handler, IRQ38_Handler, IRQ39_Handler,
#endif
#if DP_NUM_IRQS > 40
    IRQ40_Handler, IRQ41_Handler, IRQ42_Handler, IRQ43_Handler,
#endif
#if DP_NUM_IRQS > 44
    IRQ44_Handler, IRQ45_Handler, IRQ46_Handler, IRQ47_Handler,
#endif
#if DP_NUM_IRQS > 48
    IRQ48_Handler, IRQ49_Handler, IRQ50_Handler, IRQ51_Handler,
#endif
#if DP_NUM_IRQS > 52
    IRQ52_Handler, IRQ53_Handler, IRQ54_Handler, IRQ55_Handler,
#endif
#if DP_NUM_IRQS > 56
    IRQ56_Handler, IRQ57_Handler, IRQ58_Handler, IRQ59_Handler,
#endif
#if DP_NUM_IRQS > 60
    IRQ60_Handler, IRQ61_Handler, IRQ62_Handler, IRQ63_Handler,
#endif
#if DP_NUM_IRQS > 64
    IRQ64_Handler, IRQ65_Handler, IRQ66_Handler, IRQ67_Handler,
#endif
#if DP_NUM_IRQS > 68
    IRQ68_Handler, IRQ69_Handler, IRQ70_Handler, IRQ71_Handler,
#endif
#if DP_NUM_IRQS > 72
    IRQ72_Handler, IRQ73_Handler, IRQ74_Handler, IRQ75_Handler,
#endif
#if DP_NUM_IRQS > 76
    IRQ76_Handler, IRQ77_Handler, IRQ78_Handler, IRQ79_Handler,
#endif
#if DP_NUM_IRQS > 80
    IRQ80_Handler, IRQ81_Handler, IRQ82_Handler, IRQ83_Handler,
#endif
#if DP_NUM_IRQS > 84
    IRQ84_Handler, IRQ85_Handler, IRQ86_Handler, IRQ87_Handler,
#endif
#if DP_NUM_IRQS > 88
    IRQ88_Handler, IRQ89_Handler, IRQ90_Handler, IRQ91_Handler,
#endif
#if DP_NUM_IRQS > 92
    IRQ92_Handler, IRQ93_Handler, IRQ94_Handler, IRQ95_Handler,
#endif
#if DP_NUM_IRQS > 96
    IRQ96_Handler, IRQ97_Handler, IRQ98_Handler, IRQ99_Handler,
#endif
#if DP_NUM_IRQS > 100
    IRQ100_Handler, IRQ101_Handler, IRQ102_Handler, IRQ103_Handler,
#endif
#if DP_NUM_IRQS > 104
    IRQ104_Handler, IRQ105_Handler, IRQ106_Handler, IRQ107_Handler,
#endif
#if DP_NUM_IRQS > 108
    IRQ108_Handler, IRQ109_Handler, IRQ110_Handler, IRQ111_Handler,
#endif
#if DP_NUM_IRQS > 112
    IRQ112_Handler, IRQ113_Handler, IRQ114_Handler, IRQ115_Handler,
#endif
#if DP_NUM_IRQS > 116
    IRQ116_Handler, IRQ117_Handler, IRQ118_Handler, IRQ119_Handler,
#endif
#if DP_NUM_IRQS > 120
    IRQ120_Handler, IRQ121_Handler, IRQ122_Handler, IRQ123_Handler,
#endif
#if DP_NUM_IRQS > 124
    IRQ124_Handler, IRQ125_Handler, IRQ126_Handler, IRQ127_Handler,
#endif
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
#ifdef DP_CONSOLE_UART_BASE
    dp_uart_init(DP_UART0, 115200u);
#else
    dp_console_use_semihosting(1); /* this board's console is semihosting (QEMU's stdout) */
#endif
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
