/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QEMU netduinoplus2 board facts used by dynperiph firmware (hw/arm/netduinoplus2.c, hw/arm/stm32f405_soc.c).
 * STM32F405 (Cortex-M4, 168 MHz): 1 MiB flash at 0x08000000 (aliased at 0), 128 KiB SRAM (QEMU 10.0; 7.2 models 192 KiB) at
 * 0x20000000. QEMU models USART1..6, timers 2..5, ADCs, SPIs, EXTI and SYSCFG; the rest of the
 * peripheral space is unimplemented-device placeholders.
 */
#ifndef DP_BOARD_H
#define DP_BOARD_H

#define DP_BOARD_NAME     "netduinoplus2"
#define DP_SYSCLK_HZ      168000000u  /* CPU clock (SysTick with CLKSOURCE = processor clock) */
#define DP_NUM_IRQS       96       /* NVIC inputs */
#define DP_RAM_BASE       0x20000000u /* .data, .bss, heap, stack */
#define DP_RAM_SIZE       0x00020000u
#define DP_RAM_END        0x20030000u /* QEMU 7.2 SRAM end (10.0: 0x20020000): a DMA over it fails on both */
#define DP_NOT_RAM_ADDR   0x70000000u /* nothing there: DMA must fail */
#define DP_PLUGIN_WINDOW_BASE 0x40030000u /* free MMIO window for dynperiph devices */
#define DP_PLUGIN_WINDOW_SIZE 0x00010000u
#define DP_IRQ_FREE_A     16        /* NVIC inputs no board device drives */
#define DP_IRQ_FREE_B     17
/* No DP_CONSOLE_UART_BASE: stdout goes through semihosting (QEMU's stdout). */

#endif
