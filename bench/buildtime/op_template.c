/*
 * A new CIM operation as the published "libqemu.so": one self-contained C translation unit that runs
 * the simulator executable with this operation's parameters compiled in. Per run it
 *   1. creates a private temporary directory and writes the request's weights / inputs as CSV files,
 *   2. spawns `cimsim mvm --weights W --inputs X --dtype T --json OP_PARAMS...` there (posix_spawn),
 *      with a timeout,
 *   3. reads the simulator's JSON {"outputs": [...], "metrics": {...}} from its stdout and parses it,
 *   4. removes the directory.
 * Nothing of this comes from a prebuilt dynperiph backend; it needs only the ABI header and libc.
 *
 * bench/buildtime copies this file once per new operation, changes OP_NAME / OP_PARAMS, and builds it
 * with one compiler call, at the optimisation the project builds its plugins with (see bench/README.md):
 *
 *   cc -O2 -g -DNDEBUG -shared -fPIC -fvisibility=hidden -Wl,-z,defs -I include \
 *      -DCIMSIM_PATH='"/abs/bin/cimsim"' -o op-N.so op-N.c
 *
 * SPDX-License-Identifier: GPL-2.0-or-later OR MIT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dynperiph/cim_backend.h"

/* The operation: simulator parameters (cimsim config flags). */
#define OP_NAME "bench-op"
#define OP_PARAMS "--adc-bits", "8"
#define OP_TIMEOUT_MS 10000

#ifndef CIMSIM_PATH
#error "build with -DCIMSIM_PATH='\"/path/to/cimsim\"'"
#endif

extern char **environ;

struct cim_op {
    int unused;
};

static cim_op *op_open(const char *params_json, const char *base_dir, char *err, size_t err_size)
{
    cim_op *op;

    (void)params_json;
    (void)base_dir;
    if (access(CIMSIM_PATH, X_OK) != 0) {
        snprintf(err, err_size, OP_NAME ": simulator %s: %s", CIMSIM_PATH, strerror(errno));
        return NULL;
    }
    op = calloc(1, sizeof(*op));
    if (!op)
        snprintf(err, err_size, OP_NAME ": out of memory");
    return op;
}

static void op_close(cim_op *op)
{
    free(op);
}

/* ---- CSV files: `nrows` lines of `ncols` comma-separated values (integers decimal, float32 %.9g) ---- */
static int write_csv(const char *path, const void *data, cim_dtype t, uint32_t nrows, uint32_t ncols)
{
    FILE *f = fopen(path, "w");
    int ok = f != NULL;

    for (uint32_t r = 0; ok && r < nrows; r++) {
        for (uint32_t c = 0; ok && c < ncols; c++) {
            size_t i = (size_t)r * ncols + c;
            const char *sep = c ? "," : "";
            switch (t) {
            case CIM_DTYPE_INT8: ok = fprintf(f, "%s%d", sep, ((const int8_t *)data)[i]) > 0; break;
            case CIM_DTYPE_INT16: ok = fprintf(f, "%s%d", sep, ((const int16_t *)data)[i]) > 0; break;
            case CIM_DTYPE_INT32: ok = fprintf(f, "%s%d", sep, (int)((const int32_t *)data)[i]) > 0; break;
            default: ok = fprintf(f, "%s%.9g", sep, (double)((const float *)data)[i]) > 0; break;
            }
        }
        ok = ok && fputc('\n', f) != EOF;
    }
    if (f && fclose(f) != 0)
        ok = 0;
    return ok;
}

/* ---- a small JSON reader for cimsim's output (objects, arrays, numbers, strings, literals) ---- */
typedef struct { const char *p; int ok; } J;

static void ws(J *j) { while (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t') j->p++; }
static int eat(J *j, char c) { ws(j); if (*j->p == c) { j->p++; return 1; } return 0; }

static void skip_string(J *j)
{
    if (!eat(j, '"')) { j->ok = 0; return; }
    while (*j->p && *j->p != '"') j->p += (*j->p == '\\' && j->p[1]) ? 2 : 1;
    if (*j->p != '"') j->ok = 0; else j->p++;
}

static void skip_value(J *j, int depth)
{
    ws(j);
    if (depth > 64) { j->ok = 0; return; }
    if (*j->p == '"') { skip_string(j); return; }
    if (*j->p == '{' || *j->p == '[') {
        char close = *j->p == '{' ? '}' : ']';
        int obj = *j->p == '{';
        j->p++;
        if (eat(j, close)) return;
        do {
            if (obj) { skip_string(j); if (!eat(j, ':')) { j->ok = 0; return; } }
            skip_value(j, depth + 1);
        } while (j->ok && eat(j, ','));
        if (!eat(j, close)) j->ok = 0;
        return;
    }
    if (!strncmp(j->p, "null", 4) || !strncmp(j->p, "true", 4)) { j->p += 4; return; }
    if (!strncmp(j->p, "false", 5)) { j->p += 5; return; }
    char *end;
    strtod(j->p, &end);
    if (end == j->p) j->ok = 0; else j->p = end;
}

static double number_or_null(J *j)
{
    ws(j);
    if (!strncmp(j->p, "null", 4)) { j->p += 4; return NAN; }
    char *end;
    double v = strtod(j->p, &end);
    if (end == j->p) { j->ok = 0; return NAN; }
    j->p = end;
    return v;
}

static int key_is(J *j, const char *key)
{
    size_t n = strlen(key);
    ws(j);
    if (j->p[0] == '"' && !strncmp(j->p + 1, key, n) && j->p[n + 1] == '"') { j->p += n + 2; return 1; }
    return 0;
}

static int parse_result(const char *text, const cim_request *req, cim_result *res)
{
    J j = { text, 1 };
    if (!eat(&j, '{')) return 0;
    if (eat(&j, '}')) return 1;
    do {
        if (key_is(&j, "outputs")) {
            if (!eat(&j, ':') || !eat(&j, '[')) return 0;
            if (!eat(&j, ']')) {
                do {
                    double v = number_or_null(&j);
                    if (!j.ok || res->out_count >= res->out_capacity) return 0;
                    if (req->dtype == CIM_DTYPE_FLOAT32) {
                        float f = (float)v;
                        memcpy(&res->outputs[res->out_count], &f, 4);
                    } else {
                        if (!(v >= -2147483648.0 && v <= 4294967295.0)) return 0;
                        res->outputs[res->out_count] = (uint32_t)(int64_t)v;
                    }
                    res->out_count++;
                } while (eat(&j, ','));
                if (!eat(&j, ']')) return 0;
            }
        } else if (key_is(&j, "metrics")) {
            if (!eat(&j, ':') || !eat(&j, '{')) return 0;
            if (!eat(&j, '}')) {
                do {
                    double *dst = key_is(&j, "latency_ns") ? &res->metrics.latency_ns
                                : key_is(&j, "energy_pj") ? &res->metrics.energy_pj
                                : key_is(&j, "area_um2") ? &res->metrics.area_um2
                                : key_is(&j, "leakage_uw") ? &res->metrics.leakage_uw : NULL;
                    if (!dst) skip_string(&j);
                    if (!eat(&j, ':')) return 0;
                    if (dst) *dst = number_or_null(&j); else skip_value(&j, 1);
                } while (j.ok && eat(&j, ','));
                if (!eat(&j, '}')) return 0;
            }
        } else {
            skip_string(&j);
            if (!eat(&j, ':')) return 0;
            skip_value(&j, 1);
        }
    } while (j.ok && eat(&j, ','));
    return j.ok && eat(&j, '}');
}

/* ---- the simulator process ---- */
static const char *dtype_name(cim_dtype t)
{
    static const char *const n[] = { "int8", "int16", "int32", "float32" };
    return (unsigned)t < 4 ? n[t] : "int8";
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs argv in dir; its stdout (NUL-terminated, malloc'ed) into *out. 0 or an error line in res. */
static dp_status spawn_and_read(const char *const *argv, const char *dir, char **out, cim_result *res)
{
    int fd[2];
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int rc, status = 0, timed_out = 0;
    size_t len = 0, cap = 1 << 16;
    char *buf = malloc(cap);
    long long deadline = now_ms() + OP_TIMEOUT_MS;

    *out = NULL;
    if (!buf) { snprintf(res->error, sizeof res->error, OP_NAME ": out of memory"); return DP_ERR_NOMEM; }
    if (pipe2(fd, O_CLOEXEC) != 0) {
        snprintf(res->error, sizeof res->error, OP_NAME ": pipe: %s", strerror(errno));
        free(buf);
        return DP_ERR_INTERNAL;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addchdir_np(&fa, dir);
    rc = posix_spawn(&pid, CIMSIM_PATH, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fd[1]);
    if (rc != 0) {
        close(fd[0]);
        free(buf);
        snprintf(res->error, sizeof res->error, OP_NAME ": cannot run %s: %s", CIMSIM_PATH, strerror(rc));
        return DP_ERR_INTERNAL;
    }
    for (;;) {
        struct pollfd p = { fd[0], POLLIN, 0 };
        long long left = deadline - now_ms();
        ssize_t n;
        if (left <= 0) { timed_out = 1; break; }
        if (poll(&p, 1, (int)left) < 0 && errno != EINTR) break;
        if (!p.revents) continue;
        if (cap - len < 4096) {
            char *b = realloc(buf, cap * 2);
            if (!b) break;
            buf = b;
            cap *= 2;
        }
        n = read(fd[0], buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        len += (size_t)n;
    }
    close(fd[0]);
    if (timed_out)
        kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    buf[len] = '\0';
    if (timed_out || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (timed_out)
            snprintf(res->error, sizeof res->error, OP_NAME ": %s timed out after %d ms", CIMSIM_PATH, OP_TIMEOUT_MS);
        else if (WIFSIGNALED(status))
            snprintf(res->error, sizeof res->error, OP_NAME ": %s was killed by signal %d", CIMSIM_PATH,
                     WTERMSIG(status));
        else
            snprintf(res->error, sizeof res->error, OP_NAME ": %s exited with status %d", CIMSIM_PATH,
                     WEXITSTATUS(status));
        free(buf);
        return DP_ERR_INTERNAL;
    }
    *out = buf;
    return DP_OK;
}

static dp_status op_run(cim_op *op, const cim_request *req, cim_result *res)
{
    static const char *const params[] = { OP_PARAMS };
    const char *tmp = getenv("TMPDIR");
    char dir[4096], wcsv[4200], icsv[4200];
    const char *argv[16 + sizeof(params) / sizeof(params[0])];
    char *text = NULL;
    int argc = 0;
    dp_status st;

    (void)op;
    if (snprintf(dir, sizeof dir, "%s/" OP_NAME "-XXXXXX", tmp && *tmp ? tmp : "/tmp") >= (int)sizeof dir ||
        !mkdtemp(dir)) {
        snprintf(res->error, sizeof res->error, OP_NAME ": cannot create a temporary directory: %s",
                 strerror(errno));
        return DP_ERR_INTERNAL;
    }
    snprintf(wcsv, sizeof wcsv, "%s/weights.csv", dir);
    snprintf(icsv, sizeof icsv, "%s/inputs.csv", dir);
    if (!write_csv(wcsv, req->weights, req->dtype, req->rows, req->cols) ||
        (req->n_vectors && !write_csv(icsv, req->inputs, req->dtype, req->n_vectors, req->rows))) {
        snprintf(res->error, sizeof res->error, OP_NAME ": cannot write the CSV files in %.200s", dir);
        st = DP_ERR_INTERNAL;
    } else {
        argv[argc++] = CIMSIM_PATH;
        argv[argc++] = "mvm";
        argv[argc++] = "--weights";
        argv[argc++] = wcsv;
        if (req->n_vectors) {
            argv[argc++] = "--inputs";
            argv[argc++] = icsv;
        }
        argv[argc++] = "--dtype";
        argv[argc++] = dtype_name(req->dtype);
        argv[argc++] = "--json";
        for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++)
            argv[argc++] = params[i];
        argv[argc] = NULL;
        st = spawn_and_read(argv, dir, &text, res);
        if (st == DP_OK && !parse_result(text, req, res)) {
            snprintf(res->error, sizeof res->error, OP_NAME ": malformed simulator output");
            st = DP_ERR_INTERNAL;
        }
        free(text);
    }
    unlink(wcsv);
    unlink(icsv);
    rmdir(dir);
    return st;
}

static const cim_backend_desc desc = {
    .abi = { CIM_BACKEND_ABI_MAJOR, CIM_BACKEND_ABI_MINOR },
    .name = OP_NAME,
    .description = "cimsim with compiled-in parameters, self-contained (bench/buildtime)",
    .flags = 0, /* writes its own CSV files */
    .open = op_open,
    .run = op_run,
    .close = op_close,
};

__attribute__((visibility("default"))) const cim_backend_desc *cim_backend_entry(dp_version host_abi)
{
    return host_abi.major == CIM_BACKEND_ABI_MAJOR ? &desc : NULL;
}
