/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "dp/uart.h"

#include "dp/board.h"

void dp_uart_init(dp_uart_regs *uart, uint32_t baud)
{
    uint32_t div = DP_SYSCLK_HZ / (baud ? baud : 115200u);
    uart->CTRL = 0;
    uart->BAUDDIV = div < 16u ? 16u : div;
    uart->CTRL = DP_UART_CTRL_TXEN | DP_UART_CTRL_RXEN;
}

void dp_uart_putc(dp_uart_regs *uart, char c)
{
    while (uart->STATE & DP_UART_STATE_TXFULL) {
    }
    uart->DATA = (uint8_t)c;
}

void dp_uart_write(dp_uart_regs *uart, const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n') {
            dp_uart_putc(uart, '\r');
        }
        dp_uart_putc(uart, buf[i]);
    }
}

int dp_uart_getc_nonblock(dp_uart_regs *uart)
{
    if (!(uart->STATE & DP_UART_STATE_RXFULL)) {
        return -1;
    }
    return (int)(uart->DATA & 0xffu);
}
