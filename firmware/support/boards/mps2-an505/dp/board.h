/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QEMU mps2-an505 board facts used by dynperiph firmware (hw/arm/mps2-tz.c, hw/arm/armsse.c).
 * Cortex-M33 with TrustZone in an SSE-200 (IoTKit); firmware runs Secure (the SAU is off after reset,
 * so every access is Secure). Code in the Secure alias 0x10000000 of SSRAM1, data in the Secure alias
 * 0x38000000 of SSRAM2/3 (behind MPCs that let Secure accesses through after reset). NVIC inputs
 * 0..31 belong to the SSE (timers, watchdogs, MPC/PPC), 32.. to the board (UART0 32/33, ...).
 */
#ifndef DP_BOARD_H
#define DP_BOARD_H

#define DP_BOARD_NAME     "mps2-an505"
#define DP_SYSCLK_HZ      20000000u  /* CPU clock (SysTick with CLKSOURCE = processor clock) */
#define DP_NUM_IRQS       124       /* NVIC inputs */
#define DP_RAM_BASE       0x38000000u /* .data, .bss, heap, stack */
#define DP_RAM_SIZE       0x00400000u
#define DP_RAM_END        0x38400000u /* contiguous RAM ends here: a DMA running past it fails */
#define DP_NOT_RAM_ADDR   0x70000000u /* nothing there: DMA must fail */
#define DP_PLUGIN_WINDOW_BASE 0x40120000u /* free MMIO window for dynperiph devices */
#define DP_PLUGIN_WINDOW_SIZE 0x00010000u
#define DP_IRQ_FREE_A     100        /* NVIC inputs no board device drives */
#define DP_IRQ_FREE_B     101
/* No DP_CONSOLE_UART_BASE: stdout goes through semihosting (QEMU's stdout). */

#endif
