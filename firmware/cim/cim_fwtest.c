/*
 * End-to-end firmware tests of the CIM peripheral on mps2-an385: for every operation in OPMAP, several
 * shapes and all four dtypes, polling and IRQ mode, compare ODR / the OUT_DMA buffer with the MVM
 * computed on this CPU in plain C; plus a weights-only operation, a result larger than ODR, the
 * guest-visible errors and the latency/BUSY timing of operation 0 (the `ref` backend: 100 ns + 1 ns/MAC).
 * Integer results must match exactly on every operation; float32 results exactly on op 0 (same
 * accumulation order) and within 1e-5 relative to sum |x*w| on the others.
 * SPDX-License-Identifier: GPL-2.0-or-later OR MIT
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cim_driver.h"
#include "dp/semihost.h"
#include "dp/test.h"

#define MAX_W 4096
#define MAX_X 2048
#define MAX_Y 1024

static union { int8_t i8[MAX_W]; int16_t i16[MAX_W]; int32_t i32[MAX_W]; float f[MAX_W]; } W;
static union { int8_t i8[MAX_X]; int16_t i16[MAX_X]; int32_t i32[MAX_X]; float f[MAX_X]; } X;
static uint32_t Y[MAX_Y], REF[MAX_Y], DMA_BUF[MAX_Y];
static float MAG[MAX_Y];

static uint32_t rng = 12345;
static int32_t rnd(int32_t lo, int32_t hi)
{
    rng = rng * 1664525u + 1013904223u;
    return lo + (int32_t)((rng >> 8) % (uint32_t)(hi - lo + 1));
}

static double elem(const void *base, uint32_t dtype, unsigned i)
{
    switch (dtype) {
    case CIM_DTYPE_TYPE_INT8: return ((const int8_t *)base)[i];
    case CIM_DTYPE_TYPE_INT16: return ((const int16_t *)base)[i];
    case CIM_DTYPE_TYPE_INT32: return ((const int32_t *)base)[i];
    default: return ((const float *)base)[i];
    }
}

static void fill(uint32_t dtype, unsigned nw, unsigned nx)
{
    for (unsigned i = 0; i < nw; i++) {
        switch (dtype) {
        case CIM_DTYPE_TYPE_INT8: W.i8[i] = (int8_t)rnd(-128, 127); break;
        case CIM_DTYPE_TYPE_INT16: W.i16[i] = (int16_t)rnd(-32768, 32767); break;
        case CIM_DTYPE_TYPE_INT32: W.i32[i] = rnd(-2000000000, 2000000000); break; /* wraps */
        default: W.f[i] = (float)rnd(-1000, 1000) / 256.0f; break;
        }
    }
    for (unsigned i = 0; i < nx; i++) {
        switch (dtype) {
        case CIM_DTYPE_TYPE_INT8: X.i8[i] = (int8_t)rnd(-128, 127); break;
        case CIM_DTYPE_TYPE_INT16: X.i16[i] = (int16_t)rnd(-32768, 32767); break;
        case CIM_DTYPE_TYPE_INT32: X.i32[i] = rnd(-7, 7); break;
        default: X.f[i] = (float)rnd(-512, 512) / 64.0f; break;
        }
    }
}

/* Plain-C reference in the ABI's convention (wrapping int32 / float accumulated in row order). */
static void reference(uint32_t dtype, unsigned rows, unsigned cols, unsigned nvec)
{
    for (unsigned v = 0; v < nvec; v++)
        for (unsigned j = 0; j < cols; j++) {
            uint32_t acc = 0;
            float facc = 0.0f, mag = 0.0f;
            for (unsigned i = 0; i < rows; i++) {
                if (dtype == CIM_DTYPE_TYPE_FLOAT32) {
                    float p = X.f[v * rows + i] * W.f[i * cols + j];
                    facc += p;
                    mag += fabsf(p);
                } else {
                    acc += (uint32_t)(int32_t)elem(&X, dtype, v * rows + i) * (uint32_t)(int32_t)elem(&W, dtype, i * cols + j);
                }
            }
            if (dtype == CIM_DTYPE_TYPE_FLOAT32)
                memcpy(&acc, &facc, 4);
            REF[v * cols + j] = acc;
            MAG[v * cols + j] = mag;
        }
}

static int matches(unsigned op, uint32_t dtype, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (Y[i] == REF[i])
            continue;
        if (dtype == CIM_DTYPE_TYPE_FLOAT32 && op != 0) {
            float a, b;
            memcpy(&a, &Y[i], 4);
            memcpy(&b, &REF[i], 4);
            if (fabsf(a - b) <= 1e-5f * MAG[i] + 1e-6f)
                continue;
        }
        printf("  op %u dtype %lu: word %u is 0x%08lx, expected 0x%08lx\n", op, (unsigned long)dtype, i,
               (unsigned long)Y[i], (unsigned long)REF[i]);
        return 0;
    }
    return 1;
}

static void run_case(unsigned op, uint32_t dtype, unsigned rows, unsigned cols, unsigned nvec, int irq, int dma)
{
    const size_t es = cim_dtype_size(dtype);
    fill(dtype, rows * cols, rows * nvec);
    reference(dtype, rows, cols, nvec);
    cim_job_t job = {.op = op, .dtype = dtype, .rows = (uint16_t)rows, .cols = (uint16_t)cols,
                     .weights = &W, .weights_bytes = rows * cols * es,
                     .inputs = nvec ? (const void *)&X : NULL, .inputs_bytes = rows * nvec * es,
                     .out_dma = dma ? DMA_BUF : NULL};
    cim_result_t r;
    memset(Y, 0xa5, sizeof Y);
    memset(DMA_BUF, 0x5a, sizeof DMA_BUF);
    int rc = irq ? cim_run_irq(&job, Y, MAX_Y, &r) : cim_run(&job, Y, MAX_Y, &r);
    if (!CHECK_EQ(rc, 0))
        printf("  op %u %ux%u x%u dtype %lu %s: ERRCODE %s\n", op, rows, cols, nvec, (unsigned long)dtype,
               irq ? "irq" : "poll", cim_errname(r.errcode));
    CHECK_EQ(r.nvec, nvec);
    CHECK_EQ(r.out_count, nvec * cols);
    const unsigned visible = dma ? nvec * cols : (nvec * cols < 256 ? nvec * cols : 256);
    CHECK(matches(op, dtype, visible));
    if (dma) /* ODR still shows the first 256 words */
        CHECK_EQ(CIM->ODR[255], Y[255]);
}

/* dtype mask bits: 1 << CIM_DTYPE_TYPE_* */
static void test_op(unsigned op, unsigned mask)
{
    static const struct { unsigned rows, cols, nvec; } shapes[] = {
        {1, 1, 1}, {4, 3, 2}, {16, 16, 4}, {65, 10, 24}, {100, 2, 5}, {7, 33, 3},
    };
    static const uint32_t dtypes[] = {CIM_DTYPE_TYPE_INT8, CIM_DTYPE_TYPE_INT16, CIM_DTYPE_TYPE_INT32,
                                      CIM_DTYPE_TYPE_FLOAT32};
    char name[64];
    uint32_t first = 99;
    for (unsigned d = 0; d < 4; d++) {
        if (!(mask & (1u << dtypes[d])))
            continue;
        if (first == 99)
            first = dtypes[d];
        snprintf(name, sizeof name, "op %u, dtype %u, polling and IRQ", op, (unsigned)dtypes[d]);
        DP_TEST_CASE(name);
        for (unsigned s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            run_case(op, dtypes[d], shapes[s].rows, shapes[s].cols, shapes[s].nvec, (s & 1) != 0, 0);
    }
    snprintf(name, sizeof name, "op %u, 800 results through OUT_DMA", op);
    DP_TEST_CASE(name);
    run_case(op, first, 20, 100, 8, 0, 1);
    run_case(op, first, 10, 100, 3, 1, 1);

    snprintf(name, sizeof name, "op %u, weights only", op);
    DP_TEST_CASE(name);
    fill(first, 64, 0);
    cim_job_t job = {.op = op, .dtype = first, .rows = 8, .cols = 8, .weights = &W,
                     .weights_bytes = 64 * cim_dtype_size(first)};
    cim_result_t r;
    CHECK_EQ(cim_run(&job, Y, MAX_Y, &r), 0);
    CHECK_EQ(r.out_count, 0);
    CHECK(r.status & CIM_STATUS_DONE_Msk);
}

static void test_errors(void)
{
    DP_TEST_CASE("guest-visible errors");
    cim_result_t r;
    fill(CIM_DTYPE_TYPE_INT8, 16, 4);
    cim_job_t good = {.op = 0, .dtype = CIM_DTYPE_TYPE_INT8, .rows = 4, .cols = 4, .weights = &W,
                      .weights_bytes = 16, .inputs = &X, .inputs_bytes = 4};
    cim_job_t j = good;
    for (j.op = 0; j.op < 32 && (CIM->OPMAP & (1u << j.op)); j.op++) {
    }
    if (j.op < 32)
        CHECK_EQ(cim_run(&j, Y, MAX_Y, &r), CIM_ERRCODE_CODE_BAD_OP);
    j = good;
    j.weights_bytes = 15;
    CHECK_EQ(cim_run(&j, Y, MAX_Y, &r), CIM_ERRCODE_CODE_SHAPE);
    j = good;
    j.dtype = CIM_DTYPE_TYPE_INT32;
    j.weights_bytes = 6;
    CHECK_EQ(cim_run_irq(&j, Y, MAX_Y, &r), CIM_ERRCODE_CODE_SIZE);
    j = good;
    j.weights = (const void *)0x40004000; /* UART0 registers are not RAM */
    CHECK_EQ(cim_run(&j, Y, MAX_Y, &r), CIM_ERRCODE_CODE_DMA);
    j = good;
    j.dtype = 6;
    CHECK_EQ(cim_run(&j, Y, MAX_Y, &r), CIM_ERRCODE_CODE_BAD_DTYPE);
    /* WER < WSR, written by hand (the driver never does that) */
    CIM->DTYPE = CIM_DTYPE_TYPE_INT8;
    CIM->SHAPE = 0;
    CIM->ISR = CIM->IER = 0;
    CIM->WSR = (uint32_t)(uintptr_t)&W + 16;
    CIM->WER = (uint32_t)(uintptr_t)&W;
    CIM->CTRL = 1;
    CHECK_EQ(CIM->STATUS, CIM_STATUS_ERROR_Msk);
    CHECK_EQ(CIM->ERRCODE, CIM_ERRCODE_CODE_ORDER);
    /* START while BUSY */
    CIM->STATUS = CIM_STATUS_ERROR_Msk;
    CIM->WER = (uint32_t)(uintptr_t)&W + 16;
    CIM->WSR = (uint32_t)(uintptr_t)&W;
    CIM->CTRL = 1;
    CHECK(CIM->STATUS & CIM_STATUS_BUSY_Msk);
    CIM->CTRL = 1;
    CHECK_EQ(CIM->ERRCODE, CIM_ERRCODE_CODE_BUSY);
    while (CIM->STATUS & CIM_STATUS_BUSY_Msk) {
    }
    CHECK_EQ(CIM->STATUS, CIM_STATUS_DONE_Msk | CIM_STATUS_ERROR_Msk);
    CIM->STATUS = CIM_STATUS_DONE_Msk | CIM_STATUS_ERROR_Msk;
    /* usable again */
    CHECK_EQ(cim_run(&good, Y, MAX_Y, &r), 0);
}

static void test_timing(void)
{
    DP_TEST_CASE("op 0 latency: BUSY for 100 ns + 1 ns per MAC of virtual time");
    fill(CIM_DTYPE_TYPE_INT16, 65 * 10, 65 * 24);
    cim_job_t job = {.op = 0, .dtype = CIM_DTYPE_TYPE_INT16, .rows = 65, .cols = 10, .weights = &W,
                     .weights_bytes = 65 * 10 * 2, .inputs = &X, .inputs_bytes = 65 * 24 * 2};
    cim_result_t r;
    CHECK_EQ(cim_run(&job, Y, MAX_Y, &r), 0);
    CHECK_EQ(r.latency_ns, 100 + 65 * 10 * 24);
    CHECK(r.mvalid & CIM_MVALID_LAT_Msk);
    CHECK(r.busy_polls > 10); /* the guest really waited */
    printf("  BUSY for %lu ns, seen by %lu polls\n", (unsigned long)r.latency_ns, (unsigned long)r.busy_polls);

    /* Under -icount the guest's view of an operation does not depend on how long the host took: the
     * same job on an operation that runs an external process (op 1, host time varies from run to run)
     * is seen BUSY for exactly the same number of polls every time. */
    DP_TEST_CASE("deterministic guest timing with a slow, variable backend (op 1, -icount)");
    if (CIM->OPMAP & 2u) {
        uint32_t polls[3];
        job.op = 1;
        for (int i = 0; i < 3; i++) {
            CHECK_EQ(cim_run(&job, Y, MAX_Y, &r), 0);
            polls[i] = r.busy_polls;
        }
        CHECK_EQ(polls[0], polls[1]);
        CHECK_EQ(polls[1], polls[2]);
        printf("  op 1: BUSY for %lu ns, seen by %lu / %lu / %lu polls\n", (unsigned long)r.latency_ns,
               (unsigned long)polls[0], (unsigned long)polls[1], (unsigned long)polls[2]);
    }
}

int main(void)
{
    const uint32_t opmap = CIM->OPMAP;
    printf("cim firmware tests: ID 0x%08lx, OPMAP 0x%08lx\n", (unsigned long)CIM->ID, (unsigned long)opmap);
    DP_TEST_CASE("identification");
    CHECK_EQ(CIM->ID, 0x43494D00u);
    CHECK_EQ(CIM->VERSION, 0x00010000u);
    CHECK(opmap & 1u);
    /* Semihosting arguments "OP:LETTERS ...": which dtypes to test on which operation (b int8, h int16,
     * w int32, f float32); without arguments every operation in OPMAP with every dtype. */
    char buf[256], *argv[32];
    int argc = dp_semihost_args(buf, sizeof buf, argv, 32);
    if (argc <= 0) {
        for (unsigned op = 0; op < 32; op++)
            if (opmap & (1u << op))
                test_op(op, 0xf);
    }
    for (int a = 0; a < argc; a++) {
        char *colon = strchr(argv[a], ':');
        unsigned op = (unsigned)atoi(argv[a]), mask = 0;
        for (const char *p = colon ? colon + 1 : ""; *p; p++)
            mask |= *p == 'b' ? 1u : *p == 'h' ? 2u : *p == 'w' ? 4u : *p == 'f' ? 8u : 0u;
        DP_TEST_CASE(argv[a]);
        if (!CHECK(colon && mask && op < 32 && (opmap & (1u << op))))
            continue;
        test_op(op, mask);
    }
    test_errors();
    test_timing();
    return dp_test_finish();
}
