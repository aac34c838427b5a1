/*
 * Register map of the test-periph plugin (test_periph.c), shared with the C++ tests.
 * SPDX-License-Identifier: GPL-2.0-or-later OR MIT
 */
#ifndef TEST_PERIPH_REGS_H
#define TEST_PERIPH_REGS_H

#define TP_ID_BASE 0x7E570000u  /* ID = TP_ID_BASE + variant unless built with -DTP_ID=... */

enum tp_reg {
    TP_REG_ID = 0x00, TP_REG_SCRATCH = 0x04, TP_REG_LAST_SIZE = 0x08, TP_REG_DMA_SRC = 0x0C, TP_REG_DMA_DST = 0x10,
    TP_REG_DMA_LEN = 0x14, TP_REG_DMA_CTRL = 0x18, TP_REG_STATUS = 0x1C, TP_REG_DELAY_NS = 0x20, TP_REG_IRQ_EN = 0x24,
    TP_REG_IRQ_STAT = 0x28, TP_REG_TIMER_NS = 0x2C, TP_REG_TIMER_CNT = 0x30, TP_REG_CLOCK_LO = 0x34, TP_REG_WORK = 0x38,
    TP_REG_WORK_RES = 0x3C, TP_REG_RESETS = 0x40, TP_REG_LOADS = 0x44, TP_REG_VARIANT = 0x48,
    TP_REG_FAULT = 0x4C,   /* test-faulty only (TP_FAULTS) */
    TP_MEM = 0x100, TP_MEM_SIZE = 0x100, TP_DMA_MAX = 4096
};

enum tp_status { TP_ST_IDLE, TP_ST_BUSY, TP_ST_DONE, TP_ST_SRC_ERR, TP_ST_DST_ERR };

#endif
