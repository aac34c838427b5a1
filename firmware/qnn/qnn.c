/*
 * qnn: int8 inference, layer by layer, every MVM through the CIM peripheral or the CPU (see qnn.h).
 * SPDX-License-Identifier: GPL-2.0-or-later OR MIT
 */
#include "qnn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cim_driver.h"

#define CIM_MAX_ELEMENTS (1u << 20) /* weights, inputs and result words per START (REGISTERS.md) */

int qnn_argmax(const int32_t *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}

uint32_t qnn_fnv1a(uint32_t h, const int32_t *v, int n)
{
    for (int i = 0; i < n; i++) {
        uint32_t w = (uint32_t)v[i];
        for (int b = 0; b < 4; b++) {
            h ^= (w >> (8 * b)) & 0xFFu;
            h *= 0x01000193u;
        }
    }
    return h;
}

/* ---- the MVM: acc (V x C) = X (V x R) . W (R x C), wrapping int32 ------------------------------------- */

static void mvm_cpu(const int8_t *x, unsigned V, unsigned R, const int8_t *w, unsigned C, int32_t *acc)
{
    for (unsigned v = 0; v < V; v++) {
        uint32_t *a = (uint32_t *)&acc[v * C];
        memset(a, 0, C * sizeof *a);
        for (unsigned i = 0; i < R; i++) {
            int32_t xi = x[v * R + i];
            if (!xi)
                continue;
            const int8_t *wr = &w[i * C];
            for (unsigned c = 0; c < C; c++)
                a[c] += (uint32_t)(xi * wr[c]);
        }
    }
}

static float f32_bits(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* One START written out register by register in the published order, polled, printed. */
static int run_explained(const cim_job_t *job, const char *layer, cim_result_t *r)
{
    uint32_t in = (uint32_t)(uintptr_t)job->inputs, wsr = (uint32_t)(uintptr_t)job->weights;
    printf("  layer '%s', first START on op %u, the published order of operations:\n", layer, job->op);
    CIM->DTYPE = CIM_DTYPE_TYPE_INT8;
    printf("    DTYPE   <- 0 (int8)\n");
    CIM->SHAPE = ((uint32_t)job->cols << CIM_SHAPE_COLS_Pos) | job->rows;
    printf("    SHAPE   <- 0x%08lx (%u rows x %u columns)\n", (unsigned long)CIM->SHAPE, job->rows, job->cols);
    CIM->ISR = in;
    CIM->IER = in + (uint32_t)job->inputs_bytes;
    printf("    ISR/IER <- 0x%08lx / 0x%08lx (%lu input vectors)\n", (unsigned long)in,
           (unsigned long)(in + job->inputs_bytes), (unsigned long)(job->inputs_bytes / job->rows));
    CIM->OUT_DMA = (uint32_t)(uintptr_t)job->out_dma;
    printf("    OUT_DMA <- 0x%08lx (results beyond ODR's 256 words)\n", (unsigned long)(uintptr_t)job->out_dma);
    CIM->WSR = wsr;
    printf("    WSR     <- 0x%08lx (weight array start)\n", (unsigned long)wsr);
    CIM->WER = wsr + (uint32_t)job->weights_bytes;
    printf("    WER     <- 0x%08lx (weight array end, %u bytes)\n", (unsigned long)(wsr + job->weights_bytes),
           (unsigned)job->weights_bytes);
    uint32_t ctrl = CIM_CTRL_START_Msk | ((uint32_t)job->op << CIM_CTRL_OP_Pos);
    printf("    CTRL    <- 0x%08lx (START, OP %u), then poll STATUS\n", (unsigned long)ctrl, job->op);
    CIM->CTRL = ctrl;
    uint32_t polls = 0, status;
    while ((status = CIM->STATUS) & CIM_STATUS_BUSY_Msk)
        polls++;
    memset(r, 0, sizeof *r);
    r->status = status;
    r->errcode = (status & CIM_STATUS_ERROR_Msk) ? CIM->ERRCODE : 0;
    r->out_count = CIM->OUT_COUNT;
    r->mvalid = CIM->MVALID;
    r->latency_ns = ((uint64_t)CIM->LAT_HI << 32) | CIM->LAT_LO;
    r->energy_pj = f32_bits(CIM->ENERGY);
    r->busy_polls = polls;
    printf("    STATUS = %s after %lu polls; OUT_COUNT = %lu words (ODR[0] = %ld)\n",
           r->errcode ? "ERROR" : "DONE", (unsigned long)polls, (unsigned long)r->out_count,
           (long)(int32_t)CIM->ODR[0]);
    CIM->STATUS = CIM_STATUS_DONE_Msk | CIM_STATUS_ERROR_Msk;
    return (int)r->errcode;
}

static unsigned min_u(unsigned a, unsigned b) { return a < b ? a : b; }

/* The same MVM through the CIM peripheral: tiles of at most tile_rows x tile_cols weights, as many input
 * vectors per START as the peripheral takes; partial sums of row tiles are added here. */
static int mvm_cim(const int8_t *x, unsigned V, unsigned R, const int8_t *w, unsigned C, int32_t *acc,
                   qnn_exec_t *ex, const char *layer)
{
    unsigned tr = ex->tile_rows && ex->tile_rows < R ? ex->tile_rows : R;
    unsigned tc = ex->tile_cols && ex->tile_cols < C ? ex->tile_cols : C;
    unsigned vt = min_u(V, min_u(CIM_MAX_ELEMENTS / tr, CIM_MAX_ELEMENTS / tc));
    int8_t *wbuf = tc < C ? malloc(tr * tc) : NULL;
    int8_t *xbuf = tr < R ? malloc(vt * tr) : NULL;
    uint32_t *obuf = malloc(vt * tc * sizeof *obuf);
    int rc = 0;
    if ((tc < C && !wbuf) || (tr < R && !xbuf) || !obuf) {
        printf("qnn: out of memory for the CIM tiles of layer '%s'\n", layer);
        rc = -1;
        goto out;
    }
    memset(acc, 0, V * C * sizeof *acc);
    for (unsigned r0 = 0; r0 < R; r0 += tr) {
        unsigned rt = min_u(tr, R - r0);
        for (unsigned c0 = 0; c0 < C; c0 += tc) {
            unsigned ct = min_u(tc, C - c0);
            const int8_t *wt = &w[r0 * C];
            if (ct < C) {
                for (unsigned i = 0; i < rt; i++)
                    memcpy(&wbuf[i * ct], &w[(r0 + i) * C + c0], ct);
                wt = wbuf;
            }
            for (unsigned v0 = 0; v0 < V; v0 += vt) {
                unsigned nv = min_u(vt, V - v0);
                const int8_t *xt = &x[v0 * R];
                if (rt < R) {
                    for (unsigned v = 0; v < nv; v++)
                        memcpy(&xbuf[v * rt], &x[(v0 + v) * R + r0], rt);
                    xt = xbuf;
                }
                cim_job_t job = {.op = (unsigned)ex->op, .dtype = CIM_DTYPE_TYPE_INT8, .rows = (uint16_t)rt,
                                 .cols = (uint16_t)ct, .weights = wt, .weights_bytes = rt * ct,
                                 .inputs = xt, .inputs_bytes = nv * rt, .out_dma = obuf};
                cim_result_t res;
                int err;
                if (ex->explain > 0) {
                    ex->explain = 0;
                    err = run_explained(&job, layer, &res);
                } else {
                    err = cim_run_irq(&job, NULL, 0, &res);
                }
                if (err) {
                    printf("qnn: layer '%s': CIM op %d: ERRCODE %d (%s)\n", layer, ex->op, err, cim_errname(err));
                    ex->errcode = (uint32_t)err;
                    rc = -1;
                    goto out;
                }
                ex->starts++;
                ex->latency_ns += res.latency_ns;
                if (res.mvalid & CIM_MVALID_ENERGY_Msk)
                    ex->energy_pj += res.energy_pj;
                else
                    ex->energy_missing++;
                for (unsigned v = 0; v < nv; v++) {
                    uint32_t *a = (uint32_t *)&acc[(v0 + v) * C + c0];
                    for (unsigned j = 0; j < ct; j++)
                        a[j] += obuf[v * ct + j];
                }
            }
        }
    }
out:
    free(wbuf);
    free(xbuf);
    free(obuf);
    return rc;
}

/* ---- the layers ---------------------------------------------------------------------------------------- */

/* im2col of n HWC images: one row of k*k*C values per output position, (kh, kw, c) order. */
static void im2col(const qnn_layer_t *L, const int8_t *in, int n, int8_t *cols)
{
    unsigned R = (unsigned)L->k * L->k * L->in_c;
    for (int img = 0; img < n; img++) {
        const int8_t *a = &in[(size_t)img * L->in_h * L->in_w * L->in_c];
        for (int oh = 0; oh < L->out_h; oh++)
            for (int ow = 0; ow < L->out_w; ow++) {
                int8_t *row = cols;
                for (int kh = 0; kh < L->k; kh++) {
                    int ih = oh * L->stride - L->pad + kh;
                    for (int kw = 0; kw < L->k; kw++) {
                        int iw = ow * L->stride - L->pad + kw;
                        if (ih < 0 || ih >= L->in_h || iw < 0 || iw >= L->in_w)
                            memset(row, L->in_zp, L->in_c);
                        else
                            memcpy(row, &a[(ih * L->in_w + iw) * L->in_c], L->in_c);
                        row += L->in_c;
                    }
                }
                cols += R;
            }
    }
}

static int8_t requantize(int32_t acc, int32_t mult, unsigned shift, int zp, int lo)
{
    int64_t y = (((int64_t)acc * mult + ((int64_t)1 << (shift - 1))) >> shift) + zp;
    return (int8_t)(y < lo ? lo : y > 127 ? 127 : y);
}

static void maxpool(const qnn_layer_t *L, const int8_t *in, int n, int8_t *out)
{
    for (int img = 0; img < n; img++) {
        const int8_t *a = &in[(size_t)img * L->in_h * L->in_w * L->in_c];
        for (int oh = 0; oh < L->out_h; oh++)
            for (int ow = 0; ow < L->out_w; ow++)
                for (int c = 0; c < L->out_c; c++) {
                    int m = -128;
                    for (int i = 0; i < L->k; i++)
                        for (int j = 0; j < L->k; j++) {
                            int v = a[((oh * L->stride + i) * L->in_w + ow * L->stride + j) * L->in_c + c];
                            m = v > m ? v : m;
                        }
                    *out++ = (int8_t)m;
                }
    }
}

int qnn_infer(const qnn_model_t *m, const int8_t *x, int n, int32_t *logits, qnn_exec_t *ex)
{
    int last_mvm = -1, rc = 0;
    for (int l = 0; l < m->n_layers; l++)
        if (m->layers[l].kind != QNN_MAXPOOL)
            last_mvm = l;
    if (n < 1 || n > QNN_MAX_BATCH || last_mvm < 0)
        return -1;
    int8_t *act = NULL;           /* the current layer's input (NULL: the images) */
    for (int l = 0; l <= last_mvm && rc == 0; l++) {
        const qnn_layer_t *L = &m->layers[l];
        const int8_t *in = act ? act : x;
        size_t out_n = (size_t)n * L->out_h * L->out_w * L->out_c;
        if (L->kind == QNN_MAXPOOL) {
            int8_t *out = malloc(out_n);
            if (!out) {
                rc = -1;
                break;
            }
            maxpool(L, in, n, out);
            free(act);
            act = out;
            continue;
        }
        unsigned R = (unsigned)L->k * L->k * L->in_c, C = L->out_c;
        unsigned V = (unsigned)n * L->out_h * L->out_w;
        int8_t *cols = NULL;
        int32_t *acc = malloc((size_t)V * C * sizeof *acc);
        if (L->kind == QNN_CONV && acc)
            cols = malloc((size_t)V * R);
        if (!acc || (L->kind == QNN_CONV && !cols)) {
            printf("qnn: out of memory in layer '%s'\n", L->name);
            free(acc);
            rc = -1;
            break;
        }
        const int8_t *X = in;
        if (L->kind == QNN_CONV) {
            im2col(L, in, n, cols);
            X = cols;
        }
        if (ex->op < 0)
            mvm_cpu(X, V, R, L->w, C, acc);
        else
            rc = mvm_cim(X, V, R, L->w, C, acc, ex, L->name);
        free(cols);
        if (rc == 0 && l == last_mvm) {
            for (unsigned v = 0; v < V; v++)
                for (unsigned c = 0; c < C; c++)
                    logits[v * C + c] = (int32_t)((uint32_t)acc[v * C + c] + (uint32_t)L->bias[c]);
        } else if (rc == 0) {
            int8_t *out = malloc(out_n);
            if (!out) {
                rc = -1;
            } else {
                int lo = L->relu ? L->out_zp : -128;
                for (unsigned v = 0; v < V; v++)
                    for (unsigned c = 0; c < C; c++)
                        out[v * C + c] = requantize((int32_t)((uint32_t)acc[v * C + c] + (uint32_t)L->bias[c]),
                                                    L->mult[c], L->shift[c], L->out_zp, lo);
                free(act);
                act = out;
            }
        }
        free(acc);
    }
    free(act);
    return rc;
}
