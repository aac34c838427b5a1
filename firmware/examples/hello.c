/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Smallest dynperiph firmware: printf over UART0, then main's 0 becomes QEMU's exit status. */
#include <stdio.h>

int main(void)
{
    printf("Hello from dynperiph firmware on mps2-an385 (Cortex-M3)\n");
    return 0;
}
