/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QEMU mps2-an385 (Cortex-M3) board facts used by dynperiph firmware: memory map, peripheral bases and
 * the NVIC inputs QEMU wires (hw/arm/mps2.c); also mps2-an386's (same map and wiring). Free NVIC inputs are listed for dynperiph devices.
 */
#ifndef DP_BOARD_H
#define DP_BOARD_H

/* Memory (all RAM in QEMU). Code+rodata are linked to SSRAM1, data/bss/heap/stack to SSRAM2&3. */
#define DP_SSRAM1_BASE   0x00000000u /* 4 MiB, mirrored at 0x00400000 */
#define DP_SSRAM1_SIZE   0x00400000u
#define DP_SSRAM23_BASE  0x20000000u /* 4 MiB, mirrored at 0x20400000 */
#define DP_SSRAM23_SIZE  0x00400000u
#define DP_PSRAM_BASE    0x21000000u /* 16 MiB (QEMU's machine RAM) */
#define DP_PSRAM_SIZE    0x01000000u

/* CMSDK APB peripherals QEMU implements. */
#define DP_TIMER0_BASE    0x40000000u
#define DP_TIMER1_BASE    0x40001000u
#define DP_DUALTIMER_BASE 0x40002000u
#define DP_UART0_BASE     0x40004000u
#define DP_UART1_BASE     0x40005000u
#define DP_UART2_BASE     0x40006000u
#define DP_WATCHDOG_BASE  0x40008000u
#define DP_FPGAIO_BASE    0x40028000u
#define DP_SCC_BASE       0x4002f000u

/* Peripheral and CPU clock of the board (UART baud divisor, timers, SysTick). */
#define DP_SYSCLK_HZ 25000000u

/* dynperiph address plan: inside the board's unimplemented 0x40030000-0x401FFFFF hole. */
#define DP_CIM_BASE      0x40100000u
#define DP_CRC_DMA_BASE  0x40110000u
#define DP_TEST_DEV_BASE 0x40120000u

/* NVIC inputs (external IRQ numbers) QEMU's mps2-an385 drives; the NVIC has 32 inputs. */
enum dp_irqn {
    DP_IRQ_UART0_RX = 0,
    DP_IRQ_UART0_TX = 1,
    DP_IRQ_UART1_RX = 2,
    DP_IRQ_UART1_TX = 3,
    DP_IRQ_UART2_RX = 4,
    DP_IRQ_UART2_TX = 5,
    DP_IRQ_TIMER0 = 8,
    DP_IRQ_TIMER1 = 9,
    DP_IRQ_DUALTIMER = 10,
    DP_IRQ_SPI0 = 11,     /* APB SPI + LCD SPI */
    DP_IRQ_UART_OVF = 12, /* UART0..2 overflow, ORed */
    DP_IRQ_ETHERNET = 13,
    DP_IRQ_UART3_RX = 18,
    DP_IRQ_UART3_TX = 19,
    DP_IRQ_UART4_RX = 20,
    DP_IRQ_UART4_TX = 21,
    DP_IRQ_ADC_SPI = 22,
    DP_IRQ_SPI_SHIELD = 24,
};
/* NVIC inputs no QEMU board device drives: 6 7 14 15 16 17 23 25..31 (16, 17 taken by the plan). */
#define DP_NUM_IRQS 32


/* The facts every board header gives (firmware/README.md "Boards"). */
#ifndef DP_BOARD_NAME /* mps2-an386 reuses this header under its own name */
#define DP_BOARD_NAME     "mps2-an385"
#endif
#define DP_RAM_BASE       DP_SSRAM23_BASE              /* .data, .bss, heap, stack */
#define DP_RAM_SIZE       DP_SSRAM23_SIZE
#define DP_RAM_END        (DP_SSRAM23_BASE + 2u * DP_SSRAM23_SIZE) /* contiguous RAM ends (mirror) */
#define DP_NOT_RAM_ADDR   0x10000000u                  /* a reserved hole: DMA there must fail */
#define DP_PLUGIN_WINDOW_BASE 0x40100000u              /* free MMIO window for dynperiph devices */
#define DP_PLUGIN_WINDOW_SIZE 0x00100000u
#define DP_IRQ_FREE_A     16                           /* NVIC inputs no board device drives */
#define DP_IRQ_FREE_B     17
#define DP_CONSOLE_UART_BASE DP_UART0_BASE             /* stdout: CMSDK UART0 = QEMU's serial 0 */

#endif
