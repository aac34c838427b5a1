/*
 * CIM demo: classify handwritten digits with one matrix-vector multiplication per batch on the CIM
 * accelerator, following the published order of operations: weights' start address -> WSR, end address
 * -> WER, "1" -> control register, wait, read ODR.
 *
 * Model (digits_model.h, generated at build time by gen_digits.py from Debian's sklearn digits data):
 * 65 x 10 int16 weights = 10 class templates + a bias row; each 8x8 image plus a constant 1 is one
 * input vector; the predicted digit is the column with the highest output. Runs the batch on every
 * operation the device's config provides (OPMAP) and compares ODR with the MVM computed on this CPU.
 * Exit status: 0 if every operation ran and matched the CPU reference, else 1.
 * SPDX-License-Identifier: GPL-2.0-or-later OR MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cim_driver.h"
#include "dp/semihost.h"
#include "digits_model.h"

#define N DIGITS_N_TEST
#define R DIGITS_ROWS
#define C DIGITS_COLS

static uint32_t odr[N * C];
static int32_t cpu[N * C];

static int argmax(const int32_t *v)
{
    int best = 0;
    for (int c = 1; c < C; c++)
        if (v[c] > v[best])
            best = c;
    return best;
}

static void cpu_reference(void)
{
    for (int v = 0; v < N; v++)
        for (int c = 0; c < C; c++) {
            int32_t acc = 0;
            for (int k = 0; k < R; k++)
                acc += (int32_t)digits_inputs[v * R + k] * digits_weights[k * C + c];
            cpu[v * C + c] = acc;
        }
}

/* Four images side by side as ASCII art, with label and prediction underneath. */
static void show_images(int first, const int *pred)
{
    static const char shade[] = " .:-=+*#%@";
    for (int row = 0; row < 8; row++) {
        for (int i = first; i < first + 4 && i < N; i++) {
            printf("    ");
            for (int col = 0; col < 8; col++) {
                int p = digits_inputs[i * R + row * 8 + col]; /* 0..16 */
                char ch = shade[p * 9 / 16];
                putchar(ch);
                putchar(ch);
            }
        }
        putchar('\n');
    }
    for (int i = first; i < first + 4 && i < N; i++)
        printf("    #%-4d %d -> %d %s", DIGITS_FIRST_TEST + i, digits_labels[i], pred[i],
               pred[i] == digits_labels[i] ? "ok  " : "MISS");
    printf("\n\n");
}

static void print_metrics(const cim_result_t *r)
{
    printf("  simulated: latency %lu ns", (unsigned long)r->latency_ns);
    if (!(r->mvalid & CIM_MVALID_LAT_Msk))
        printf(" (default)");
    if (r->mvalid & CIM_MVALID_ENERGY_Msk)
        printf(", energy %.1f pJ", (double)r->energy_pj);
    if (r->mvalid & CIM_MVALID_AREA_Msk)
        printf(", area %.4f mm^2", (double)r->area_um2 / 1e6);
    if (r->mvalid & CIM_MVALID_LEAKAGE_Msk)
        printf(", leakage %.1f uW", (double)r->leakage_uw);
    printf("\n");
}

/* Operations configured with non-idealities (semihosting argument "approx=OP[,OP...]"): their ODR is
 * expected to differ from the exact MVM; the demo reports by how much instead of counting a failure. */
static uint32_t approx_ops;

static void parse_args(void)
{
    char buf[128], *argv[8];
    int argc = dp_semihost_args(buf, sizeof buf, argv, 8);
    for (int a = 0; a < argc; a++) {
        if (strncmp(argv[a], "approx=", 7) != 0)
            continue;
        for (char *p = argv[a] + 7; *p;) {
            unsigned op = (unsigned)strtoul(p, &p, 10);
            if (op < 32)
                approx_ops |= 1u << op;
            if (*p == ',')
                p++;
            else
                break;
        }
    }
}

/* Checks ODR against the CPU reference and prints predictions; returns the number of unexpected
 * mismatches (always 0 for an approximate operation). */
static int evaluate(unsigned op, const cim_result_t *r, int table)
{
    int pred[N], correct = 0, mismatches = 0;
    int32_t max_err = 0, max_ref = 1;
    for (int v = 0; v < N; v++) {
        pred[v] = argmax((const int32_t *)&odr[v * C]);
        correct += pred[v] == digits_labels[v];
        for (int c = 0; c < C; c++) {
            int32_t ref = cpu[v * C + c], err = (int32_t)odr[v * C + c] - ref;
            mismatches += err != 0;
            max_err = err < 0 && -err > max_err ? -err : err > max_err ? err : max_err;
            max_ref = ref < 0 && -ref > max_ref ? -ref : ref > max_ref ? ref : max_ref;
        }
    }
    if (table) {
        for (int i = 0; i < 8; i += 4)
            show_images(i, pred);
        printf("  predictions  ");
        for (int v = 0; v < N; v++)
            printf("%d", pred[v]);
        printf("\n  true labels  ");
        for (int v = 0; v < N; v++)
            printf("%d", digits_labels[v]);
        printf("\n");
    }
    if (approx_ops & (1u << op)) {
        printf("  op %u: accuracy %d/%d, %lu result words, non-ideal: %d words differ from the exact MVM "
               "(max |error| %ld; largest exact output %ld)\n", op, correct, N, (unsigned long)r->out_count,
               mismatches, (long)max_err, (long)max_ref);
        print_metrics(r);
        return 0;
    }
    printf("  op %u: accuracy %d/%d, %lu result words, ODR == CPU reference: %s", op, correct, N,
           (unsigned long)r->out_count, mismatches ? "NO" : "yes");
    if (mismatches)
        printf(" (%d words differ)", mismatches);
    printf("\n");
    print_metrics(r);
    return mismatches;
}

int main(void)
{
    printf("\n=== dynperiph CIM demo: handwritten digits on a compute-in-memory accelerator ===\n");
    uint32_t id = CIM->ID, version = CIM->VERSION, opmap = CIM->OPMAP;
    if (id != 0x43494D00u) {
        printf("no CIM peripheral at 0x%08lx (ID reads 0x%08lx)\n", (unsigned long)CIM_BASE, (unsigned long)id);
        return 1;
    }
    printf("CIM at 0x%08lx, protocol %lu.%lu, operations configured (OPMAP 0x%08lx):", (unsigned long)CIM_BASE,
           (unsigned long)(version >> 16), (unsigned long)(version & 0xffff), (unsigned long)opmap);
    for (unsigned op = 0; op < 32; op++)
        if (opmap & (1u << op))
            printf(" %u", op);
    printf("\nmodel: %dx%d int16 weights (10 class templates + bias row), %d images (#%d..#%d of the digits set)\n\n",
           R, C, N, DIGITS_FIRST_TEST, DIGITS_FIRST_TEST + N - 1);
    cpu_reference();
    parse_args();

    int failures = 0;
    /* Operation 0, exactly the published order of operations, written out register by register. */
    if (opmap & 1u) {
        CIM->DTYPE = CIM_DTYPE_TYPE_INT16;
        CIM->SHAPE = (C << CIM_SHAPE_COLS_Pos) | R;
        CIM->ISR = (uint32_t)(uintptr_t)digits_inputs;
        CIM->IER = (uint32_t)(uintptr_t)digits_inputs + sizeof digits_inputs;
        CIM->OUT_DMA = 0;
        printf("op 0, the published protocol:\n");
        printf("  WSR  <- 0x%08lx  (weight array start)\n", (unsigned long)(uintptr_t)digits_weights);
        CIM->WSR = (uint32_t)(uintptr_t)digits_weights;
        printf("  WER  <- 0x%08lx  (weight array end, %u bytes)\n",
               (unsigned long)((uintptr_t)digits_weights + sizeof digits_weights), (unsigned)sizeof digits_weights);
        CIM->WER = (uint32_t)(uintptr_t)digits_weights + sizeof digits_weights;
        printf("  CTRL <- 1\n");
        CIM->CTRL = 1;
        uint32_t polls = 0, status;
        while ((status = CIM->STATUS) & CIM_STATUS_BUSY_Msk)
            polls++;
        if (status & CIM_STATUS_ERROR_Msk) {
            printf("  ERROR: ERRCODE %lu (%s)\n", (unsigned long)CIM->ERRCODE, cim_errname(CIM->ERRCODE));
            failures++;
        } else {
            cim_result_t r;
            memset(&r, 0, sizeof r);
            printf("  STATUS = DONE after %lu polls; reading %lu words from ODR\n\n", (unsigned long)polls,
                   (unsigned long)CIM->OUT_COUNT);
            for (unsigned i = 0; i < N * C; i++)
                odr[i] = CIM->ODR[i];
            r.out_count = CIM->OUT_COUNT;
            r.mvalid = CIM->MVALID;
            r.latency_ns = ((uint64_t)CIM->LAT_HI << 32) | CIM->LAT_LO;
            memcpy(&r.energy_pj, (const void *)&CIM->ENERGY, 4);
            memcpy(&r.area_um2, (const void *)&CIM->AREA, 4);
            memcpy(&r.leakage_uw, (const void *)&CIM->LEAKAGE, 4);
            failures += evaluate(0, &r, 1) != 0;
        }
        CIM->STATUS = CIM_STATUS_DONE_Msk;
    }
    /* Every other operation through the driver (interrupt-driven). */
    for (unsigned op = 1; op < 32; op++) {
        if (!(opmap & (1u << op)))
            continue;
        cim_job_t job = {.op = op, .dtype = CIM_DTYPE_TYPE_INT16, .rows = R, .cols = C,
                         .weights = digits_weights, .weights_bytes = sizeof digits_weights,
                         .inputs = digits_inputs, .inputs_bytes = sizeof digits_inputs};
        cim_result_t r;
        memset(odr, 0, sizeof odr);
        printf("\nop %u (cim_run_irq):\n", op);
        if (cim_run_irq(&job, odr, N * C, &r) != 0) {
            printf("  ERROR: ERRCODE %lu (%s)\n", (unsigned long)r.errcode, cim_errname(r.errcode));
            failures++;
            continue;
        }
        failures += evaluate(op, &r, opmap == (1u << op)) != 0;
    }
    printf("\n%s\n", failures ? "CIM demo: FAILED"
                               : approx_ops ? "CIM demo: done, every exact operation matched the CPU reference"
                                            : "CIM demo: done, every operation matched the CPU reference");
    return failures ? 1 : 0;
}
