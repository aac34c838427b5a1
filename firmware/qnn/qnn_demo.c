/*
 * The CIM demo: two int8 digit classifiers (an MLP and a CNN, tools/qnn) over the whole test split, on the
 * CPU reference path and on every configured CIM operation; each START's metric registers summed.
 * SPDX-License-Identifier: GPL-2.0-or-later OR MIT
 *
 * Semihosting arguments (-append "..."), all optional:
 *   models=mlp,cnn   ops=0,2,5 (default: every operation in OPMAP)   exact=0,3 (ops whose logits must equal
 *   the CPU reference bit for bit)   tile=ROWSxCOLS (weights per START, default 128x128)   batch=N (images
 *   per layer pass, default 50)   n=N (first N test images, default all)
 * Prints one "RESULT ..." line per model and path (scripts/demo-report.py makes the table and plot from
 * them). Exit status: the number of failures -- the CPU reference differs from the host's integer pipeline
 * (tools/qnn/qnet.py), a CIM error, an exact op whose logits differ, an accuracy target missed (MLP 95 %,
 * CNN 96 %, with the full test split).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cim_driver.h"
#include "dp/board.h"
#include "dp/semihost.h"
#include "qnn.h"
#include "qnn_cnn.h"
#include "qnn_mlp.h"

typedef struct {
    const qnn_model_t *model;
    const int8_t *x;
    const uint8_t *y;
    int n, host_correct, target_pct;
    uint32_t host_fnv;
} bench_t;

static const bench_t benches[] = {
    {&mlp_model, mlp_test_x, mlp_test_y, MLP_N_TEST, MLP_HOST_CORRECT, 95, MLP_HOST_LOGITS_FNV},
    {&cnn_model, cnn_test_x, cnn_test_y, CNN_N_TEST, CNN_HOST_CORRECT, 96, CNN_HOST_LOGITS_FNV},
};
#define N_BENCH (sizeof benches / sizeof benches[0])
#define MAX_TEST (MLP_N_TEST > CNN_N_TEST ? MLP_N_TEST : CNN_N_TEST)

/* CMSDK timer 0 as a free-running 25 MHz down counter: virtual time (under -icount shift=0 one guest
 * instruction takes 1 ns, and WFI skips ahead to the next event). */
typedef struct {
    volatile uint32_t CTRL, VALUE, RELOAD, INTSTATUS;
} cmsdk_timer_t;
#define TIMER0 ((cmsdk_timer_t *)DP_TIMER0_BASE)
#define NS_PER_TICK (1000000000u / DP_SYSCLK_HZ)

static void timer_start(void)
{
    TIMER0->CTRL = 0;
    TIMER0->RELOAD = 0xFFFFFFFFu;
    TIMER0->VALUE = 0xFFFFFFFFu;
    TIMER0->CTRL = 1;
}

static uint64_t timer_ns(void) { return (uint64_t)(0xFFFFFFFFu - TIMER0->VALUE) * NS_PER_TICK; }

/* newlib-nano's printf has no %llu. */
static const char *u64(uint64_t v, char *buf)
{
    char tmp[24];
    int n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    for (int i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return buf;
}

static uint32_t mask_arg(const char *s)
{
    uint32_t m = 0;
    while (*s) {
        char *end;
        unsigned long v = strtoul(s, &end, 10);
        if (end == s)
            break;
        if (v < 32)
            m |= 1u << v;
        s = *end == ',' ? end + 1 : end;
    }
    return m;
}

static int32_t ref_logits[MAX_TEST * 10], cim_logits[MAX_TEST * 10];

/* Runs all test images of b on one path; returns correct predictions (or -1 on an error). */
static int run(const bench_t *b, int n, int batch, qnn_exec_t *ex, int32_t *logits, uint64_t *virt_ns)
{
    int correct = 0, k = b->model->n_classes;
    size_t in_size = (size_t)b->model->in_h * b->model->in_w * b->model->in_c;
    timer_start();
    for (int i = 0; i < n; i += batch) {
        int nb = n - i < batch ? n - i : batch;
        if (qnn_infer(b->model, &b->x[i * in_size], nb, &logits[i * k], ex) != 0)
            return -1;
    }
    *virt_ns = timer_ns();
    for (int i = 0; i < n; i++)
        correct += qnn_argmax(&logits[i * k], k) == b->y[i];
    return correct;
}

int main(void)
{
    char buf[256], *argv[12];
    int argc = dp_semihost_args(buf, sizeof buf, argv, 12);
    uint32_t opmap = CIM->OPMAP, ops = opmap, exact = 0;
    unsigned tile_rows = 128, tile_cols = 128;
    int batch = 50, limit = 0, want_mlp = 1, want_cnn = 1;
    for (int a = 0; a < argc; a++) {
        if (!strncmp(argv[a], "ops=", 4))
            ops = mask_arg(argv[a] + 4);
        else if (!strncmp(argv[a], "exact=", 6))
            exact = mask_arg(argv[a] + 6);
        else if (!strncmp(argv[a], "tile=", 5))
            sscanf(argv[a] + 5, "%ux%u", &tile_rows, &tile_cols);
        else if (!strncmp(argv[a], "batch=", 6))
            batch = atoi(argv[a] + 6);
        else if (!strncmp(argv[a], "n=", 2))
            limit = atoi(argv[a] + 2);
        else if (!strncmp(argv[a], "models=", 7)) {
            want_mlp = strstr(argv[a], "mlp") != NULL;
            want_cnn = strstr(argv[a], "cnn") != NULL;
        } else {
            printf("qnn-demo: unknown argument '%s'\n", argv[a]);
            return 1;
        }
    }
    if (batch < 1 || batch > QNN_MAX_BATCH) {
        printf("qnn-demo: batch=%d out of range 1..%d\n", batch, QNN_MAX_BATCH);
        return 1;
    }
    if (CIM->ID != 0x43494D00u) {
        printf("qnn-demo: no CIM peripheral at 0x%08lx\n", (unsigned long)CIM_BASE);
        return 1;
    }
    if (ops & ~opmap) {
        printf("qnn-demo: ops=0x%08lx names operations the device does not have (OPMAP 0x%08lx)\n",
               (unsigned long)ops, (unsigned long)opmap);
        return 1;
    }
    printf("\n=== dynperiph CIM demo: int8 neural networks on a compute-in-memory accelerator ===\n");
    printf("CIM operations (OPMAP 0x%08lx), running:", (unsigned long)opmap);
    for (unsigned op = 0; op < 32; op++)
        if (ops & (1u << op))
            printf(" %u%s", op, exact & (1u << op) ? " (exact)" : "");
    printf("; tiles of at most %ux%u weights per START, %d images per layer pass\n", tile_rows, tile_cols, batch);

    int failures = 0, explained = 0;
    char s1[24], s2[24];
    for (unsigned bi = 0; bi < N_BENCH; bi++) {
        const bench_t *b = &benches[bi];
        if ((bi == 0 && !want_mlp) || (bi == 1 && !want_cnn))
            continue;
        int n = limit > 0 && limit < b->n ? limit : b->n, k = b->model->n_classes;
        printf("\nmodel %s: %d layers:", b->model->name, b->model->n_layers);
        for (int l = 0; l < b->model->n_layers; l++) {
            const qnn_layer_t *L = &b->model->layers[l];
            static const char *const kinds[] = {"fc", "conv", "maxpool"};
            printf(" %s(%s %ux%ux%u->%ux%ux%u)", L->name, kinds[L->kind], L->in_h, L->in_w, L->in_c, L->out_h,
                   L->out_w, L->out_c);
        }
        printf("; %d test images\n", n);

        qnn_exec_t cpu = {.op = -1};
        uint64_t cpu_ns = 0;
        int cpu_correct = run(b, n, batch, &cpu, ref_logits, &cpu_ns);
        uint32_t fnv = qnn_fnv1a(0x811C9DC5u, ref_logits, n * k);
        int host_ok = n != b->n || (fnv == b->host_fnv && cpu_correct == b->host_correct);
        printf("  %s on the CPU reference: %d/%d = %.2f %%, logits %s the host's integer pipeline\n",
               b->model->name, cpu_correct, n, 100.0 * cpu_correct / n, host_ok ? "==" : "DIFFER FROM");
        printf("RESULT model=%s op=cpu correct=%d n=%d fnv=0x%08lx identical=ref starts=0 energy_pj=0 "
               "energy_missing=0 latency_ns=0 virt_ns=%s\n", b->model->name, cpu_correct, n, (unsigned long)fnv,
               u64(cpu_ns, s1));
        failures += !host_ok;
        if (n == b->n && cpu_correct * 100 < b->target_pct * n) {
            printf("  %s: accuracy below the %d %% target\n", b->model->name, b->target_pct);
            failures++;
        }
        for (unsigned op = 0; op < 32; op++) {
            if (!(ops & (1u << op)))
                continue;
            qnn_exec_t ex = {.op = (int)op, .tile_rows = tile_rows, .tile_cols = tile_cols, .explain = !explained};
            explained = 1;
            uint64_t ns = 0;
            int correct = run(b, n, batch, &ex, cim_logits, &ns);
            if (correct < 0) {
                printf("RESULT model=%s op=%u error=%lu\n", b->model->name, op, (unsigned long)ex.errcode);
                failures++;
                continue;
            }
            int diff_logits = 0, diff_pred = 0;
            for (int i = 0; i < n; i++) {
                for (int c = 0; c < k; c++)
                    diff_logits += cim_logits[i * k + c] != ref_logits[i * k + c];
                diff_pred += qnn_argmax(&cim_logits[i * k], k) != qnn_argmax(&ref_logits[i * k], k);
            }
            int is_exact = (exact >> op) & 1;
            printf("  %s on op %u: %d/%d = %.2f %%, %s; %lu STARTs, %.1f pJ and %lu ns per inference\n",
                   b->model->name, op, correct, n, 100.0 * correct / n,
                   diff_logits ? "logits differ from the CPU reference" : "logits == CPU reference, bit for bit",
                   (unsigned long)ex.starts, ex.energy_pj / n, (unsigned long)(ex.latency_ns / (uint64_t)n));
            if (diff_logits)
                printf("    %d of %d logits differ, %d predictions changed%s\n", diff_logits, n * k, diff_pred,
                       is_exact ? " -- FAILURE: this operation must be exact" : "");
            printf("RESULT model=%s op=%u correct=%d n=%d fnv=0x%08lx identical=%s diff_logits=%d diff_pred=%d "
                   "starts=%lu energy_pj=%.9g energy_missing=%lu latency_ns=%s virt_ns=%s\n",
                   b->model->name, op, correct, n, (unsigned long)qnn_fnv1a(0x811C9DC5u, cim_logits, n * k),
                   diff_logits ? "no" : "yes", diff_logits, diff_pred, (unsigned long)ex.starts, ex.energy_pj,
                   (unsigned long)ex.energy_missing, u64(ex.latency_ns, s1), u64(ns, s2));
            if (is_exact && diff_logits)
                failures++;
        }
    }
    printf("\nqnn-demo: %s (%d failures)\n", failures ? "FAILED" : "done", failures);
    return failures;
}
