/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CMSDK APB UART (mps2 UART0 at 0x40004000 is QEMU's first serial port: stdio with -nographic).
 */
#ifndef DP_UART_H
#define DP_UART_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    volatile uint32_t DATA;     /* 0x00 */
    volatile uint32_t STATE;    /* 0x04 bit0 TX full, bit1 RX full, bit2/3 overrun (W1C) */
    volatile uint32_t CTRL;     /* 0x08 bit0 TX en, bit1 RX en, bit2/3 TX/RX irq en */
    volatile uint32_t INTSTATUS;/* 0x0C W1C */
    volatile uint32_t BAUDDIV;  /* 0x10 >= 16 */
} dp_uart_regs;

#define DP_UART_STATE_TXFULL (1u << 0)
#define DP_UART_STATE_RXFULL (1u << 1)
#define DP_UART_CTRL_TXEN    (1u << 0)
#define DP_UART_CTRL_RXEN    (1u << 1)

#define DP_UART0 ((dp_uart_regs *)0x40004000u)

void dp_uart_init(dp_uart_regs *uart, uint32_t baud);
void dp_uart_putc(dp_uart_regs *uart, char c);
void dp_uart_write(dp_uart_regs *uart, const char *buf, size_t len);
/* Returns the received byte, or -1 when nothing has arrived. */
int dp_uart_getc_nonblock(dp_uart_regs *uart);

#endif
