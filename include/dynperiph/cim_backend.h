/*
 * CIM operation backend ABI: what the `cim` composition plugin and an operation backend share.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later OR MIT
 *
 * An operation = one backend shared object + one set of parameters. The cim plugin reads a config file
 * (TOML) mapping each OP index to a backend file and its parameter table, dlopens each backend once,
 * calls its exported CIM_BACKEND_ENTRY_SYMBOL (type cim_backend_entry_fn) and opens one operation
 * handle per OP with that OP's parameters.
 *
 * Versioning follows include/dynperiph/plugin.h: a version first in every struct, the loader accepts
 * `abi.major == CIM_BACKEND_ABI_MAJOR && abi.minor <= CIM_BACKEND_ABI_MINOR` and names both versions
 * when it refuses; minor versions only append members.
 *
 * Matrix convention (NeuroSim's): the weight matrix W has `rows` rows (crossbar word lines = inputs,
 * K_H*K_W*IFM_C for a conv layer) and `cols` columns (bit lines = outputs, OFM_C), stored row-major.
 * For each of the `n_vectors` input vectors x (length rows), the output is y = x^T W (length cols):
 *     y[v][j] = sum_i x[v][i] * W[i][j]
 * Outputs are stored vector after vector, `cols` words each.
 *
 * Output words: for integer dtypes a two's-complement int32 (the sum wrapped to 32 bits, as in a
 * 32-bit accumulator); for CIM_DTYPE_FLOAT32 the IEEE-754 single-precision bit pattern.
 *
 * ABI change log:
 *   1.0  first version.
 */
#ifndef DYNPERIPH_CIM_BACKEND_H
#define DYNPERIPH_CIM_BACKEND_H

#include "dynperiph/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CIM_BACKEND_ABI_MAJOR 1
#define CIM_BACKEND_ABI_MINOR 0
#define CIM_BACKEND_ENTRY_SYMBOL "cim_backend_entry"

typedef enum cim_dtype {
    CIM_DTYPE_INT8 = 0,
    CIM_DTYPE_INT16 = 1,
    CIM_DTYPE_INT32 = 2,
    CIM_DTYPE_FLOAT32 = 3
} cim_dtype;

/* Backend flags (cim_backend_desc.flags). */
#define CIM_BACKEND_WANTS_CSV 0x1u /* the composition writes weights/inputs CSV files before run() */

typedef struct cim_request {
    dp_version abi;
    cim_dtype dtype;
    uint32_t rows;          /* weight rows = input vector length */
    uint32_t cols;          /* weight columns = output vector length */
    uint32_t n_vectors;     /* number of input vectors; 0 = weights only (a PPA-only operation) */
    const void *weights;    /* rows*cols elements of dtype, row-major, little-endian */
    const void *inputs;     /* n_vectors*rows elements of dtype, or NULL when n_vectors == 0 */
    /*
     * With CIM_BACKEND_WANTS_CSV: files the composition wrote into work_dir (NULL otherwise).
     * weights_csv: `rows` lines of `cols` comma-separated values (integers as decimal, float32 as %.9g).
     * inputs_csv: `n_vectors` lines of `rows` comma-separated values (NULL when n_vectors == 0).
     */
    const char *weights_csv;
    const char *inputs_csv;
    const char *work_dir;   /* private, empty-at-start temp directory for this run; removed afterwards */
} cim_request;

typedef struct cim_metrics {
    double latency_ns;      /* simulated latency of the operation */
    double energy_pj;       /* dynamic energy of the operation */
    double area_um2;        /* accelerator area */
    double leakage_uw;      /* leakage power */
} cim_metrics;

typedef struct cim_result {
    dp_version abi;
    uint32_t *outputs;      /* caller-owned, out_capacity words */
    size_t out_capacity;    /* n_vectors * cols (0 when n_vectors == 0) */
    size_t out_count;       /* set by the backend: words written */
    cim_metrics metrics;    /* set by the backend; NaN for a metric it does not estimate */
    char error[256];        /* set by the backend on failure: one line, NUL-terminated */
} cim_result;

typedef struct cim_op cim_op; /* opaque, owned by the backend */

typedef struct cim_backend_desc {
    dp_version abi;         /* CIM_BACKEND_ABI_MAJOR / _MINOR the backend was built with */
    const char *name;       /* e.g. "exec", "cimsim" */
    const char *description;
    uint32_t flags;         /* CIM_BACKEND_* */

    /*
     * Opens one operation with its parameters as a JSON object text (the OP's `params` table from the
     * config). `base_dir` is the config file's directory (for relative paths). On failure returns NULL
     * and writes a one-line reason naming the offending key into err. Called on the main thread.
     */
    cim_op *(*open)(const char *params_json, const char *base_dir, char *err, size_t err_size);

    /*
     * Runs one operation. Called on a host worker thread, never concurrently for one handle. Returns
     * DP_OK, or an error status with res->error filled in. Must not call any dp_host service.
     */
    dp_status (*run)(cim_op *op, const cim_request *req, cim_result *res);

    void (*close)(cim_op *op);
} cim_backend_desc;

typedef const cim_backend_desc *(*cim_backend_entry_fn)(dp_version host_abi);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DYNPERIPH_CIM_BACKEND_H */
