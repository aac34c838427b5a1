/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QEMU mps3-an547 board facts used by dynperiph firmware (hw/arm/mps2-tz.c, hw/arm/armsse.c).
 * Cortex-M55 with TrustZone in an SSE-300; firmware runs Secure. Code in ITCM at 0, data in the
 * SSE-300's SRAM at 0x21000000 (the CPU's view: system memory holds *another* RAM, "sram 2", at the
 * same address, which is why a device must DMA through the CPU's address space). NVIC inputs 0..31
 * belong to the SSE, 32.. to the board (UART0 33/34, ...).
 */
#ifndef DP_BOARD_H
#define DP_BOARD_H

#define DP_BOARD_NAME     "mps3-an547"
#define DP_SYSCLK_HZ      32000000u  /* CPU clock (SysTick with CLKSOURCE = processor clock) */
#define DP_NUM_IRQS       128       /* NVIC inputs */
#define DP_RAM_BASE       0x21000000u /* .data, .bss, heap, stack */
#define DP_RAM_SIZE       0x00400000u
#define DP_RAM_END        0x21400000u /* contiguous RAM ends here: a DMA running past it fails */
#define DP_NOT_RAM_ADDR   0x0c000000u /* a hole in the CPU's view (0x60000000.. is DDR): DMA must fail */
#define DP_PLUGIN_WINDOW_BASE 0x40120000u /* free MMIO window for dynperiph devices */
#define DP_PLUGIN_WINDOW_SIZE 0x00010000u
#define DP_IRQ_FREE_A     100        /* NVIC inputs no board device drives */
#define DP_IRQ_FREE_B     101
/* No DP_CONSOLE_UART_BASE: stdout goes through semihosting (QEMU's stdout). */

#endif
