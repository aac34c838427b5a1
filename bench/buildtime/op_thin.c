/*
 * The thin variant of a new CIM operation (bench/buildtime case "c-thin"): not the published
 * "libqemu.so" but a wrapper that only fixes a cimsim argv and hands every run to the prebuilt exec
 * backend (cim-exec.so), which does the process spawn, CSV files, JSON parsing, timeout and cleanup.
 * The per-operation translation unit is therefore a few lines that include nothing heavy — close to
 * case (d), a config entry for cim-exec.so. The self-contained operation is op_template.c.
 *
 * bench/buildtime copies this file once per new operation, changes OP_NAME / OP_PARAMS, and builds it
 * with the same compiler line as op_template.c (see bench/README.md), plus
 *   -DCIMSIM_PATH='"/abs/bin/cimsim"' -DEXEC_BACKEND='"/abs/plugins/cim-exec.so"'
 *
 * SPDX-License-Identifier: GPL-2.0-or-later OR MIT
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "dynperiph/cim_backend.h"

/* The operation: cimsim config flags, as JSON strings. */
#define OP_NAME "bench-op"
#define OP_PARAMS "\"--adc-bits\", \"8\""

#if !defined(CIMSIM_PATH) || !defined(EXEC_BACKEND)
#error "build with -DCIMSIM_PATH='\"/path/to/cimsim\"' -DEXEC_BACKEND='\"/path/to/cim-exec.so\"'"
#endif

#define OP_ARGV_JSON "{\"argv\": [\"" CIMSIM_PATH "\", \"mvm\", \"--weights\", \"{weights_csv}\", " \
                     "\"--inputs\", \"{inputs_csv}\", \"--dtype\", \"{dtype}\", \"--json\", " OP_PARAMS "]}"

struct cim_op {
    void *lib;
    const cim_backend_desc *exec;
    cim_op *inner;
};

static cim_op *op_open(const char *params_json, const char *base_dir, char *err, size_t err_size)
{
    cim_op *op = calloc(1, sizeof(*op));
    cim_backend_entry_fn entry;

    (void)params_json;
    if (!op) {
        snprintf(err, err_size, OP_NAME ": out of memory");
        return NULL;
    }
    op->lib = dlopen(EXEC_BACKEND, RTLD_NOW | RTLD_LOCAL);
    entry = op->lib ? (cim_backend_entry_fn)dlsym(op->lib, CIM_BACKEND_ENTRY_SYMBOL) : NULL;
    op->exec = entry ? entry((dp_version){ CIM_BACKEND_ABI_MAJOR, CIM_BACKEND_ABI_MINOR }) : NULL;
    if (!op->exec || op->exec->abi.major != CIM_BACKEND_ABI_MAJOR) {
        snprintf(err, err_size, OP_NAME ": cannot use the exec backend %s: %s", EXEC_BACKEND,
                 op->lib ? "no compatible " CIM_BACKEND_ENTRY_SYMBOL : dlerror());
    } else {
        op->inner = op->exec->open(OP_ARGV_JSON, base_dir, err, err_size);
    }
    if (!op->inner) {
        if (op->lib)
            dlclose(op->lib);
        free(op);
        return NULL;
    }
    return op;
}

static dp_status op_run(cim_op *op, const cim_request *req, cim_result *res)
{
    return op->exec->run(op->inner, req, res);
}

static void op_close(cim_op *op)
{
    op->exec->close(op->inner);
    dlclose(op->lib);
    free(op);
}

static const cim_backend_desc desc = {
    .abi = { CIM_BACKEND_ABI_MAJOR, CIM_BACKEND_ABI_MINOR },
    .name = OP_NAME,
    .description = "cimsim with compiled-in parameters (bench/buildtime)",
    .flags = CIM_BACKEND_WANTS_CSV, /* the exec backend reads the CSV files */
    .open = op_open,
    .run = op_run,
    .close = op_close,
};

__attribute__((visibility("default"))) const cim_backend_desc *cim_backend_entry(dp_version host_abi)
{
    return host_abi.major == CIM_BACKEND_ABI_MAJOR ? &desc : NULL;
}
