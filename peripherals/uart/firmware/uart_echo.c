/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uart example peripheral, driven from firmware on mps2-an385 (QEMU + plugins/uart.so at 0x40130000,
 * NVIC inputs 28 (RX) and 29 (TX empty), chardev=ID on port 0). Echo server: reads a 4-byte
 * little-endian length N from the UART, then echoes the next N bytes back unchanged, interrupt-driven:
 * it sleeps in WFI with RXIE set while it has room and TXEIE set while it has bytes the TX FIFO could
 * not take. Exits 0 once all N bytes went out (STATUS.TXEMPTY) and no TX overrun / RX underrun was
 * seen; the peer (tests/uart_stream_test.cpp) checks every byte.
 */
#include <stdint.h>
#include <stdio.h>

#include "dp/cm3.h"
#include "uart.h"

#define IRQ_RX 28
#define IRQ_TX 29
#define RING 4096u

static volatile uint32_t rx_irqs, tx_irqs;
static uint8_t ring[RING];

/* Level lines: the handlers mask their source; the main loop enables what it waits for. */
void IRQ28_Handler(void)
{
    rx_irqs++;
    DPUART->CTRL &= ~DPUART_CTRL_RXIE_Msk;
}

void IRQ29_Handler(void)
{
    tx_irqs++;
    DPUART->CTRL &= ~DPUART_CTRL_TXEIE_Msk;
}

int main(void)
{
    uint32_t head = 0, count = 0, hdr = 0, n = 0, echoed = 0;

    if (DPUART->ID != 0x55415254u) {
        fprintf(stderr, "uart-echo: bad ID 0x%08lx\n", (unsigned long)DPUART->ID);
        return 1;
    }
    dp_nvic_enable_irq(IRQ_RX);
    dp_nvic_enable_irq(IRQ_TX);
    for (;;) {
        int moved = 0;

        dp_disable_irq();
        while (count < RING && (DPUART->STATUS & DPUART_STATUS_RXNE_Msk)) {
            uint8_t b = (uint8_t)DPUART->DATA;

            if (hdr < 4) {
                n |= (uint32_t)b << (8 * hdr++);
            } else {
                ring[(head + count++) % RING] = b;
            }
            moved = 1;
        }
        while (count && !(DPUART->STATUS & DPUART_STATUS_TXFULL_Msk)) {
            DPUART->DATA = ring[head];
            head = (head + 1) % RING;
            count--;
            echoed++;
            moved = 1;
        }
        if (hdr == 4 && echoed == n) {
            break;
        }
        if (!moved) {
            DPUART->CTRL = (count < RING ? DPUART_CTRL_RXIE_Msk : 0) | (count ? DPUART_CTRL_TXEIE_Msk : 0);
            dp_wfi();               /* wakes on the pending line even with PRIMASK set */
        }
        dp_enable_irq();            /* a pending handler runs here */
    }
    DPUART->CTRL = DPUART_CTRL_TXEIE_Msk;
    while (!(DPUART->STATUS & DPUART_STATUS_TXEMPTY_Msk)) {
        dp_wfi();
        dp_enable_irq();
        dp_disable_irq();
        DPUART->CTRL = DPUART_CTRL_TXEIE_Msk;
    }
    dp_enable_irq();
    DPUART->CTRL = 0;
    fprintf(stderr, "uart-echo: %lu bytes echoed, %lu RX and %lu TX-empty interrupts\n",
            (unsigned long)echoed, (unsigned long)rx_irqs, (unsigned long)tx_irqs);
    if (DPUART->STATUS & (DPUART_STATUS_TXOVR_Msk | DPUART_STATUS_RXUNDR_Msk)) {
        fprintf(stderr, "uart-echo: STATUS 0x%08lx: overrun or underrun\n", (unsigned long)DPUART->STATUS);
        return 2;
    }
    return 0;
}
