/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Smallest dynperiph firmware: printf on the board's console, then main's 0 becomes QEMU's exit status. */
#include <stdio.h>

#include "dp/board.h"

int main(void)
{
    printf("Hello from dynperiph firmware on %s\n", DP_BOARD_NAME);
    return 0;
}
