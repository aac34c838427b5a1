/* SPDX-License-Identifier: GPL-2.0-or-later */
/* QEMU mps2-an386 (Cortex-M4): the AN385 memory map and NVIC wiring (hw/arm/mps2.c), under its own name. */
#define DP_BOARD_NAME "mps2-an386"
#include "../../mps2-an385/dp/board.h"
