/*
 * Driver for the dynperiph CIM accelerator (cim.svd, peripherals/cim/REGISTERS.md).
 * SPDX-License-Identifier: GPL-2.0-or-later OR MIT
 *
 *   cim_job_t job = { .op = 0, .dtype = CIM_DTYPE_TYPE_INT8, .rows = 64, .cols = 10,
 *                     .weights = w, .weights_bytes = sizeof w, .inputs = x, .inputs_bytes = sizeof x };
 *   uint32_t y[10]; cim_result_t r;
 *   if (cim_run(&job, y, 10, &r) != 0) printf("CIM error %s\n", cim_errname(r.errcode));
 *
 * Both variants program the registers in the published order -- configuration, then WSR (weight start
 * address), WER (weight end address, exclusive), then the control register -- and wait: cim_run polls
 * STATUS, cim_run_irq enables CTRL.IE and sleeps (WFI) until its IRQ (CIM_IRQn: the SVD's 17 unless the build overrides it).
 */
#ifndef DYNPERIPH_CIM_DRIVER_H
#define DYNPERIPH_CIM_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "cim_regs.h" /* generated from cim.svd */

typedef struct {
    unsigned op;                 /* CTRL.OP: operation index (see CIM->OPMAP) */
    uint32_t dtype;              /* CIM_DTYPE_TYPE_INT8 / INT16 / INT32 / FLOAT32 */
    uint16_t rows, cols;         /* weight matrix shape; 0, 0 = one column */
    const void *weights;         /* rows * cols elements, row-major */
    size_t weights_bytes;
    const void *inputs;          /* n_vectors * rows elements, or NULL (weights-only operation) */
    size_t inputs_bytes;
    uint32_t *out_dma;           /* optional: all result words are written here too (NULL: ODR only) */
} cim_job_t;

typedef struct {
    uint32_t status;             /* STATUS at completion (DONE or ERROR bits) */
    uint32_t errcode;            /* CIM_ERRCODE_CODE_* (0 = none) */
    uint32_t nvec, out_count;    /* input vectors, result words */
    uint32_t mvalid;             /* CIM_MVALID_* bits */
    uint64_t latency_ns;         /* simulated latency (= time BUSY was set) */
    float energy_pj, area_um2, leakage_uw;
    uint32_t busy_polls;         /* polling variant: STATUS reads that saw BUSY */
} cim_result_t;

/* Runs one operation, polling. Copies min(out_count, out_cap) result words into out (from the OUT_DMA
 * buffer if set, else from ODR, which holds the first 256). Returns 0 on success, else the ERRCODE. */
int cim_run(const cim_job_t *job, uint32_t *out, size_t out_cap, cim_result_t *res);

/* The same, waiting for the CIM interrupt (NVIC input 17) with WFI. */
int cim_run_irq(const cim_job_t *job, uint32_t *out, size_t out_cap, cim_result_t *res);

/* "NONE", "ORDER", ... for an ERRCODE value. */
const char *cim_errname(uint32_t code);

/* Number of bytes of one element of dtype (0 for an unknown dtype). */
size_t cim_dtype_size(uint32_t dtype);

#endif
