/*
 * A minimal CIM operation backend: the published "libqemu.so" — one C function that runs the simulator
 * executable with this operation's parameters compiled in. bench/buildtime copies this file once per
 * new operation, changes OP_PARAMS, and builds it with one compiler call:
 *
 *   cc -shared -fPIC -fvisibility=hidden -I include -DCIMSIM_PATH='"/abs/bin/cimsim"' \
 *      -o op-N.so op-N.c
 *
 * The composition (the cim plugin or cim-builtin) writes weights.csv / inputs.csv into the run's private
 * work_dir (CIM_BACKEND_WANTS_CSV); this runs `cimsim mvm --weights W --inputs X --dtype T --json
 * OP_PARAMS...` there and reads its JSON {"outputs": [...], "metrics": {...}} from stdout.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later OR MIT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dynperiph/cim_backend.h"

/* The operation: simulator parameters (cimsim config flags). */
#define OP_NAME "bench-op"
#define OP_PARAMS "--adc-bits", "8"

#ifndef CIMSIM_PATH
#error "build with -DCIMSIM_PATH='\"/path/to/cimsim\"'"
#endif

extern char **environ;

struct cim_op {
    int unused;
};

static cim_op *op_open(const char *params_json, const char *base_dir, char *err, size_t err_size)
{
    (void)params_json;
    (void)base_dir;
    if (access(CIMSIM_PATH, X_OK) != 0) {
        snprintf(err, err_size, OP_NAME ": simulator %s: %s", CIMSIM_PATH, strerror(errno));
        return NULL;
    }
    return calloc(1, sizeof(cim_op));
}

static void op_close(cim_op *op)
{
    free(op);
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

static const char *dtype_name(cim_dtype t)
{
    static const char *const n[] = { "int8", "int16", "int32", "float32" };
    return (unsigned)t < 4 ? n[t] : "int8";
}

static dp_status op_run(cim_op *op, const cim_request *req, cim_result *res)
{
    (void)op;
    const char *argv[32] = { CIMSIM_PATH, "mvm", "--weights", req->weights_csv };
    int argc = 4;
    if (req->n_vectors) { argv[argc++] = "--inputs"; argv[argc++] = req->inputs_csv; }
    argv[argc++] = "--dtype";
    argv[argc++] = dtype_name(req->dtype);
    argv[argc++] = "--json";
    static const char *const params[] = { OP_PARAMS };
    for (size_t i = 0; i < sizeof(params) / sizeof(params[0]) && argc < 31; i++) argv[argc++] = params[i];
    argv[argc] = NULL;

    int out[2];
    if (pipe(out) != 0) { snprintf(res->error, sizeof res->error, "pipe: %s", strerror(errno)); return DP_ERR_INTERNAL; }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", 0, 0);
    posix_spawn_file_actions_addchdir_np(&fa, req->work_dir);
    pid_t pid;
    int rc = posix_spawn(&pid, CIMSIM_PATH, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    if (rc != 0) {
        close(out[0]);
        snprintf(res->error, sizeof res->error, "cannot run %s: %s", CIMSIM_PATH, strerror(rc));
        return DP_ERR_INTERNAL;
    }
    size_t len = 0, cap = 1 << 16;
    char *buf = malloc(cap);
    ssize_t n;
    while (buf && (n = read(out[0], buf + len, cap - len - 1)) > 0) {
        len += (size_t)n;
        if (cap - len < 4096) { char *b = realloc(buf, cap *= 2); if (!b) { free(buf); buf = NULL; } else buf = b; }
    }
    close(out[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (!buf) { snprintf(res->error, sizeof res->error, "out of memory"); return DP_ERR_NOMEM; }
    buf[len] = '\0';
    dp_status st = DP_OK;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(res->error, sizeof res->error, "%s exited with status %d", CIMSIM_PATH,
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        st = DP_ERR_INTERNAL;
    } else if (!parse_result(buf, req, res)) {
        snprintf(res->error, sizeof res->error, "malformed simulator output");
        st = DP_ERR_INTERNAL;
    }
    free(buf);
    return st;
}

static const cim_backend_desc desc = {
    .abi = { CIM_BACKEND_ABI_MAJOR, CIM_BACKEND_ABI_MINOR },
    .name = OP_NAME,
    .description = "cimsim with compiled-in parameters (bench/buildtime)",
    .flags = CIM_BACKEND_WANTS_CSV,
    .open = op_open,
    .run = op_run,
    .close = op_close,
};

__attribute__((visibility("default"))) const cim_backend_desc *cim_backend_entry(dp_version host_abi)
{
    return host_abi.major == CIM_BACKEND_ABI_MAJOR ? &desc : NULL;
}
