/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
#include "cim_driver.h"

#include <string.h>

#include "dp/board.h"
#include "dp/cm3.h"

static volatile int cim_irq_seen;

/* Level-triggered line: high while CTRL.IE and (DONE or ERROR). The handler drops IE (keeping DONE /
 * ERROR for the driver to read) so the line goes low. */
void DP_IRQ_HANDLER(CIM_IRQn)(void)
{
    CIM->CTRL = CIM->CTRL & ~CIM_CTRL_IE_Msk;
    cim_irq_seen = 1;
}

size_t cim_dtype_size(uint32_t dtype)
{
    switch (dtype) {
    case CIM_DTYPE_TYPE_INT8: return 1;
    case CIM_DTYPE_TYPE_INT16: return 2;
    case CIM_DTYPE_TYPE_INT32:
    case CIM_DTYPE_TYPE_FLOAT32: return 4;
    default: return 0;
    }
}

const char *cim_errname(uint32_t code)
{
    static const char *const names[] = {"NONE", "ORDER", "SIZE", "SHAPE", "DMA", "TOO_LARGE", "BUSY",
                                        "BAD_OP", "BAD_DTYPE", "BACKEND", "OUTPUT", "HOST"};
    return code < sizeof names / sizeof names[0] ? names[code] : "?";
}

static float f32(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* The published order: configuration, WSR, WER, then the control register. */
static void program(const cim_job_t *job, uint32_t ctrl)
{
    uint32_t in = (uint32_t)(uintptr_t)job->inputs;
    CIM->DTYPE = job->dtype;
    CIM->SHAPE = ((uint32_t)job->cols << CIM_SHAPE_COLS_Pos) | ((uint32_t)job->rows << CIM_SHAPE_ROWS_Pos);
    CIM->ISR = in;
    CIM->IER = in + (job->inputs ? (uint32_t)job->inputs_bytes : 0);
    CIM->OUT_DMA = (uint32_t)(uintptr_t)job->out_dma;
    CIM->WSR = (uint32_t)(uintptr_t)job->weights;
    CIM->WER = (uint32_t)(uintptr_t)job->weights + (uint32_t)job->weights_bytes;
    CIM->CTRL = ctrl | ((uint32_t)job->op << CIM_CTRL_OP_Pos) | CIM_CTRL_START_Msk;
}

static int collect(const cim_job_t *job, uint32_t status, uint32_t *out, size_t out_cap, cim_result_t *res)
{
    cim_result_t r;
    memset(&r, 0, sizeof r);
    if (res)
        r.busy_polls = res->busy_polls;
    r.status = status;
    r.errcode = (status & CIM_STATUS_ERROR_Msk) ? CIM->ERRCODE : 0;
    r.nvec = CIM->NVEC;
    r.out_count = CIM->OUT_COUNT;
    r.mvalid = CIM->MVALID;
    r.latency_ns = ((uint64_t)CIM->LAT_HI << 32) | CIM->LAT_LO;
    r.energy_pj = f32(CIM->ENERGY);
    r.area_um2 = f32(CIM->AREA);
    r.leakage_uw = f32(CIM->LEAKAGE);
    if (!r.errcode && out) {
        size_t n = r.out_count < out_cap ? r.out_count : out_cap;
        if (job->out_dma) {
            memcpy(out, job->out_dma, n * 4);
        } else {
            if (n > 256)
                n = 256;
            for (size_t i = 0; i < n; i++)
                out[i] = CIM->ODR[i];
        }
    }
    if (res)
        *res = r;
    return (int)r.errcode;
}

int cim_run(const cim_job_t *job, uint32_t *out, size_t out_cap, cim_result_t *res)
{
    uint32_t polls = 0, status;
    program(job, 0);
    while ((status = CIM->STATUS) & CIM_STATUS_BUSY_Msk)
        polls++;
    if (res)
        res->busy_polls = polls;
    int rc = collect(job, status, out, out_cap, res);
    CIM->STATUS = CIM_STATUS_DONE_Msk | CIM_STATUS_ERROR_Msk;
    return rc;
}

int cim_run_irq(const cim_job_t *job, uint32_t *out, size_t out_cap, cim_result_t *res)
{
    cim_irq_seen = 0;
    dp_nvic_clear_pending(CIM_IRQn);
    dp_nvic_enable_irq(CIM_IRQn);
    program(job, CIM_CTRL_IE_Msk);
    DP_WAIT_UNTIL(cim_irq_seen);
    dp_nvic_disable_irq(CIM_IRQn);
    if (res)
        res->busy_polls = 0;
    int rc = collect(job, CIM->STATUS, out, out_cap, res);
    CIM->STATUS = CIM_STATUS_DONE_Msk | CIM_STATUS_ERROR_Msk;
    return rc;
}
