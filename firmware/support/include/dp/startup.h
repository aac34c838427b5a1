/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Startup contract. Handlers: define `void IRQ<n>_Handler(void)` (n = NVIC input 0..31) or one of
 * NMI/HardFault/MemManage/BusFault/UsageFault/SVC/DebugMon/PendSV/SysTick_Handler to override the
 * weak default. main()'s return value becomes QEMU's exit status (semihosting SYS_EXIT_EXTENDED).
 * `SystemInit` (weak) sets VTOR, enables the configurable faults + divide-by-zero trap and UART0.
 */
#ifndef DP_STARTUP_H
#define DP_STARTUP_H

/* Exit statuses the support library itself uses; tests return their failure count (clamped < these). */
#define DP_EXIT_FAULT 254                /* HardFault/MemManage/BusFault/UsageFault */
#define DP_EXIT_UNEXPECTED_EXCEPTION 253 /* an exception or IRQ without a handler */
#define DP_EXIT_ABORT 252                /* abort(), failed assert() */

void SystemInit(void);

#endif
