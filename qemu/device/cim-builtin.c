/*
 * cim-builtin: the CIM (compute-in-memory) accelerator compiled into QEMU
 *
 * Copyright (c) 2026 The dynperiph authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The reference "no dynamic linking" variant of the cim peripheral: the same register protocol as
 * the cim plugin (peripherals/cim/cim.svd, REGISTERS.md), but the operations are a table compiled
 * into QEMU (cim_builtin_ops below). An operation is either
 *  - in-tree: the simulator executable run with a fixed argv (the published "simulator compiled into
 *    QEMU" case): the weights/inputs go to CSV files in a private temporary directory, the program's
 *    stdout is cimsim's `mvm --json` object {"outputs": [...], "metrics": {...}}; or
 *  - an operation backend .so (include/dynperiph/cim_backend.h) named in the table (the published
 *    "libqemu.so only" case): QEMU still has to be rebuilt to add one.
 * Adding an operation means editing the table and rebuilding QEMU; bench/buildtime measures that.
 *
 * QEMU interface:
 *  + user-creatable without a bus:
 *      -device cim-builtin,addr=BASE[,irq=N][,cimsim=PATH][,backend-dir=DIR][,timeout-ms=MS][,id=NAME]
 *  + properties: "addr" (uint64, base of the 4 KiB MMIO region), "irq" (uint32, interrupt-controller
 *    input, e.g. 17), "cimsim" (str, the simulator executable: enables the in-tree operations),
 *    "backend-dir" (str, directory of the backend .so files: enables the .so operations),
 *    "timeout-ms" (uint32, default 10000: an in-tree simulator run longer than this is killed,
 *    with everything in its process group)
 *  + one MMIO region of 0x1000 bytes at addr in system memory, priority 0 (above the board's
 *    unimplemented-device placeholders)
 *  + one IRQ line (level: CTRL.IE && (STATUS.DONE || STATUS.ERROR)) to the NVIC input "irq"
 *  + reset: qemu_register_reset (a bus-less device is not part of the qdev reset tree)
 *  + OPMAP: the table entries whose requirement (cimsim / backend-dir) was given
 *
 * A guest can only make the device read/write guest RAM and run the table's operations on data it
 * provides; files are created only inside the per-operation temporary directory, removed afterwards.
 */

#include "qemu/osdep.h"
#include "dynperiph-compat.h"
#include "qemu/error-report.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "qemu/rcu.h"
#include "qemu/thread.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include DP_QOBJECT_HEADER(qdict)
#include DP_QOBJECT_HEADER(qjson)
#include DP_QOBJECT_HEADER(qlist)
#include DP_QOBJECT_HEADER(qnum)
#include DP_QOBJECT_HEADER(qobject)
#include "exec/address-spaces.h"
#include "exec/memory.h"
#include "hw/irq.h"
#include "hw/qdev-core.h"
#include "hw/qdev-properties.h"
#include "hw/registerfields.h"
#include DP_SYSTEM_HEADER(reset)

#include "dynperiph/cim_backend.h"
#include "dynperiph-common.h"

#include <dlfcn.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#define TYPE_CIM_BUILTIN "cim-builtin"
OBJECT_DECLARE_SIMPLE_TYPE(CimBuiltinState, CIM_BUILTIN)

/* ---- the operation table ---------------------------------------------------------------------- */

#define CIM_MAX_OPS       32        /* CTRL.OP is 5 bits */
#define CIM_OP_MAX_ARGS   40
#define CIM_MAX_STDOUT    (64 * 1024 * 1024)  /* simulator output limit */

typedef struct CimBuiltinOp {
    const char *name;
    /*
     * in-tree: the simulator's argv; {cimsim} {weights_csv} {inputs_csv} {rows} {cols} {n_vectors}
     * {dtype} {work_dir} are replaced per run. Without input vectors (ISR == IER) an argument that
     * is exactly {inputs_csv} is left out together with the option before it (PPA only).
     */
    const char *argv[CIM_OP_MAX_ARGS];
    /* backend .so: its file name in backend-dir and its params (a JSON object text) */
    const char *backend;
    const char *params;
} CimBuiltinOp;

/* cimsim's MVM command line: stdout is {"outputs": [...], "metrics": {...}} */
#define CIMSIM_MVM "{cimsim}", "mvm", "--weights", "{weights_csv}", "--inputs", "{inputs_csv}", \
                   "--dtype", "{dtype}", "--json"
#define CIM_SIM_OP(nm, ...)          { .name = nm, .argv = { CIMSIM_MVM, __VA_ARGS__ } }
#define CIM_SO_OP(nm, file, json)    { .name = nm, .backend = file, .params = json }

/*
 * OP index -> operation. To add one: a new line, then rebuild QEMU (bench/buildtime edits this).
 */
static const CimBuiltinOp cim_builtin_ops[CIM_MAX_OPS] = {
    [0] = CIM_SIM_OP("cimsim-exact"),
    [1] = CIM_SIM_OP("cimsim-adc4", "--adc-bits", "4"),
    [2] = CIM_SO_OP("ref", "cim-ref.so", "{}"),
    [3] = CIM_SO_OP("cimsim-inproc", "cim-cimsim.so", "{}"),
    /* cim-builtin: new operations go above this line */
};

/* ---- registers (peripherals/cim/cim.svd) ------------------------------------------------------ */

REG32(ID, 0x000)
REG32(VERSION, 0x004)
REG32(CTRL, 0x008)
    FIELD(CTRL, START, 0, 1)
    FIELD(CTRL, IE, 1, 1)
    FIELD(CTRL, SOFT_RESET, 2, 1)
    FIELD(CTRL, OP, 8, 5)
REG32(STATUS, 0x00C)
    FIELD(STATUS, BUSY, 0, 1)
    FIELD(STATUS, DONE, 1, 1)
    FIELD(STATUS, ERROR, 2, 1)
REG32(ERRCODE, 0x010)
    FIELD(ERRCODE, CODE, 0, 8)
REG32(OPMAP, 0x014)
REG32(WSR, 0x020)
REG32(WER, 0x024)
REG32(ISR, 0x028)
REG32(IER, 0x02C)
REG32(SHAPE, 0x030)
    FIELD(SHAPE, ROWS, 0, 16)
    FIELD(SHAPE, COLS, 16, 16)
REG32(DTYPE, 0x034)
    FIELD(DTYPE, TYPE, 0, 3)
REG32(OUT_DMA, 0x038)
REG32(NVEC, 0x03C)
REG32(OUT_COUNT, 0x040)
REG32(MVALID, 0x044)
    FIELD(MVALID, LAT, 0, 1)
    FIELD(MVALID, ENERGY, 1, 1)
    FIELD(MVALID, AREA, 2, 1)
    FIELD(MVALID, LEAKAGE, 3, 1)
REG32(LAT_LO, 0x050)
REG32(LAT_HI, 0x054)
REG32(ENERGY, 0x058)
REG32(AREA, 0x05C)
REG32(LEAKAGE, 0x060)
REG32(ODR0, 0x100)

#define CIM_MMIO_SIZE       0x1000
#define CIM_ID_VALUE        0x43494D00u     /* "CIM\0" */
#define CIM_VERSION_VALUE   0x00010000u     /* 1.0 */
#define CIM_ODR_WORDS       256
#define CIM_MAX_ELEMENTS    (1u << 20)      /* weights, inputs and result words, each */
#define CIM_DEFAULT_LAT_NS  1000
#define CIM_NAN_BITS        0x7FC00000u
#define CIM_IRQ_NONE        UINT32_MAX
#define CIM_CTRL_RW_MASK    (R_CTRL_IE_MASK | R_CTRL_OP_MASK)
#define CIM_CTRL_DEFINED    (R_CTRL_START_MASK | R_CTRL_SOFT_RESET_MASK | CIM_CTRL_RW_MASK)
#define CIM_STATUS_DEFINED  (R_STATUS_BUSY_MASK | R_STATUS_DONE_MASK | R_STATUS_ERROR_MASK)

enum {  /* ERRCODE */
    CIM_ERR_NONE = 0, CIM_ERR_ORDER = 1, CIM_ERR_SIZE = 2, CIM_ERR_SHAPE = 3, CIM_ERR_DMA = 4,
    CIM_ERR_TOO_LARGE = 5, CIM_ERR_BUSY = 6, CIM_ERR_BAD_OP = 7, CIM_ERR_BAD_DTYPE = 8,
    CIM_ERR_BACKEND = 9, CIM_ERR_OUTPUT = 10, CIM_ERR_HOST = 11,
};

/* A loaded backend operation (.so entries). */
typedef struct CimBackendOp {
    void *handle;
    const cim_backend_desc *desc;
    cim_op *op;
} CimBackendOp;

/* One operation run: filled on the device thread, executed on a worker thread. */
typedef struct CimJob {
    const CimBuiltinOp *entry;
    CimBackendOp *so;           /* NULL for an in-tree entry */
    const char *cimsim;
    uint32_t timeout_ms;
    cim_dtype dtype;
    uint32_t rows, cols, nvec;
    void *weights, *inputs;
    uint32_t *outputs;          /* nvec * cols words */
    size_t nout;
    cim_metrics metrics;
    uint32_t err;               /* CIM_ERR_* */
    char *msg;                  /* one line when err != NONE */
} CimJob;

struct CimBuiltinState {
    DeviceState parent_obj;

    /* properties */
    uint64_t addr;
    uint32_t irq_num;
    char *cimsim;
    char *backend_dir;
    uint32_t timeout_ms;

    char *name;
    MemoryRegion mmio;
    qemu_irq irq;
    QEMUTimer *timer;           /* QEMU_CLOCK_VIRTUAL: end of the BUSY period */
    CimBackendOp so_ops[CIM_MAX_OPS];
    uint32_t opmap;
    bool working;               /* a backend runs on the worker thread (BQL released) */

    /* registers */
    uint32_t ctrl, status, errcode, wsr, wer, isr, ier, shape, dtype, out_dma;
    uint32_t nvec, out_count, mvalid, energy, area, leakage;
    uint64_t lat_ns;
    uint32_t odr[CIM_ODR_WORDS];

    /* the accepted operation, published when the BUSY period ends */
    uint32_t *pend_out;
    size_t pend_nout;
    cim_metrics pend_metrics;
    uint64_t pend_lat_ns;
    uint32_t pend_mvalid;
    uint32_t pend_out_dma;
};

static size_t cim_dtype_size(uint32_t t)
{
    switch (t) {
    case CIM_DTYPE_INT8:
        return 1;
    case CIM_DTYPE_INT16:
        return 2;
    case CIM_DTYPE_INT32:
    case CIM_DTYPE_FLOAT32:
        return 4;
    default:
        return 0;
    }
}

static const char *cim_dtype_name(uint32_t t)
{
    static const char *const names[] = { "int8", "int16", "int32", "float32" };

    return t < ARRAY_SIZE(names) ? names[t] : "?";
}

static uint32_t cim_f32_bits(double v)
{
    float f = isnan(v) ? NAN : (float)v;
    uint32_t w;

    if (isnan(v)) {
        return CIM_NAN_BITS;
    }
    memcpy(&w, &f, sizeof(w));
    return w;
}

static void cim_update_irq(CimBuiltinState *s)
{
    bool level = (s->ctrl & R_CTRL_IE_MASK) &&
                 (s->status & (R_STATUS_DONE_MASK | R_STATUS_ERROR_MASK));

    if (s->irq) {
        qemu_set_irq(s->irq, level);
    }
}

/* ---- guest memory: only RAM, checked before any byte moves ------------------------------------ */

/* dp_guest_range_is_ram / dp_guest_ram_rw: dynperiph-common.h */

/* ---- worker side: files, the simulator, the backend (no QEMU state touched) ------------------- */

static void cim_job_fail(CimJob *j, uint32_t code, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void cim_job_fail(CimJob *j, uint32_t code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_free(j->msg);
    j->msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    j->err = code;
}

/* Removes a directory tree without following symbolic links. */
static void cim_rmtree(const char *path)
{
    GDir *d = g_dir_open(path, 0, NULL);
    const char *e;

    if (d) {
        while ((e = g_dir_read_name(d))) {
            g_autofree char *p = g_build_filename(path, e, NULL);
            struct stat st;

            if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
                chmod(p, 0700);
                cim_rmtree(p);
            } else {
                unlink(p);
            }
        }
        g_dir_close(d);
    }
    rmdir(path);
}

static void cim_csv_value(GString *out, const void *data, cim_dtype t, size_t i)
{
    const uint8_t *p = data;

    switch (t) {
    case CIM_DTYPE_INT8:
        g_string_append_printf(out, "%d", (int8_t)p[i]);
        break;
    case CIM_DTYPE_INT16:
        g_string_append_printf(out, "%d", (int16_t)lduw_le_p(p + 2 * i));
        break;
    case CIM_DTYPE_INT32:
        g_string_append_printf(out, "%" PRId32, (int32_t)ldl_le_p(p + 4 * i));
        break;
    case CIM_DTYPE_FLOAT32: {
        uint32_t w = ldl_le_p(p + 4 * i);
        float f;

        memcpy(&f, &w, sizeof(f));
        g_string_append_printf(out, "%.9g", f);
        break;
    }
    }
}

/* `nrows` lines of `ncols` comma-separated values; creates the file exclusively. */
static bool cim_write_csv(const char *path, const void *data, cim_dtype t, size_t nrows,
                          size_t ncols, CimJob *j)
{
    g_autoptr(GString) out = g_string_sized_new(nrows * ncols * 4 + 16);
    size_t r, c;
    int fd;
    bool ok;

    for (r = 0; r < nrows; r++) {
        for (c = 0; c < ncols; c++) {
            if (c) {
                g_string_append_c(out, ',');
            }
            cim_csv_value(out, data, t, r * ncols + c);
        }
        g_string_append_c(out, '\n');
    }
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    ok = fd >= 0 && qemu_write_full(fd, out->str, out->len) == out->len;
    if (!ok) {
        cim_job_fail(j, CIM_ERR_HOST, "cannot write %s: %s", path, strerror(errno));
    }
    if (fd >= 0) {
        close(fd);
    }
    return ok;
}

/* Replaces every {name} placeholder in one argv element. */
static char *cim_expand(const char *arg, const CimJob *j, const char *dir,
                        const char *wcsv, const char *icsv)
{
    GString *out = g_string_new(NULL);
    const char *p = arg;

    while (*p) {
        const char *close = *p == '{' ? strchr(p, '}') : NULL;
        g_autofree char *key = close ? g_strndup(p + 1, close - p - 1) : NULL;
        g_autofree char *val = NULL;

        if (!key) {
            g_string_append_c(out, *p++);
            continue;
        }
        if (!strcmp(key, "cimsim")) {
            val = g_strdup(j->cimsim);
        } else if (!strcmp(key, "weights_csv")) {
            val = g_strdup(wcsv);
        } else if (!strcmp(key, "inputs_csv")) {
            val = g_strdup(icsv);
        } else if (!strcmp(key, "work_dir")) {
            val = g_strdup(dir);
        } else if (!strcmp(key, "rows")) {
            val = g_strdup_printf("%" PRIu32, j->rows);
        } else if (!strcmp(key, "cols")) {
            val = g_strdup_printf("%" PRIu32, j->cols);
        } else if (!strcmp(key, "n_vectors")) {
            val = g_strdup_printf("%" PRIu32, j->nvec);
        } else if (!strcmp(key, "dtype")) {
            val = g_strdup(cim_dtype_name(j->dtype));
        }
        if (!val) {                 /* not a placeholder: literal text */
            g_string_append_c(out, *p++);
            continue;
        }
        g_string_append(out, val);
        p = close + 1;
    }
    return g_string_free(out, false);
}

/* In the forked child, before exec: its own process group, default signal state. */
static void cim_child_setup(gpointer opaque)
{
    sigset_t none;

    setpgid(0, 0);                          /* so a timeout can kill everything it started */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);  /* QEMU threads block signals */
    signal(SIGPIPE, SIG_DFL);
}

/*
 * Collects the child's stdout (up to CIM_MAX_STDOUT) and stderr until both close, or until the
 * child has exited (then what it left running in its group is killed and the pipes drain), or the
 * deadline passes. Returns false on timeout or an oversized output; the caller kills the group and
 * reaps the child unless *reaped.
 */
static bool cim_collect(GPid pid, int out_fd, int err_fd, int64_t deadline_ms, GString *out,
                        GString *err, bool *too_big, int *status, bool *reaped)
{
    struct pollfd pfd[2] = { { .fd = out_fd, .events = POLLIN }, { .fd = err_fd, .events = POLLIN } };
    char buf[65536];

    while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
        int64_t left = deadline_ms - g_get_monotonic_time() / 1000;
        int i, r;

        if (left <= 0) {
            return false;
        }
        if (!*reaped && waitpid(pid, status, WNOHANG) == pid) {
            *reaped = true;
            kill(-pid, SIGKILL);            /* leftovers must not keep the pipes open */
        }
        r = poll(pfd, 2, MIN(left, 20));
        if (r < 0 && errno != EINTR) {
            return false;
        }
        for (i = 0; r > 0 && i < 2; i++) {
            ssize_t n;

            if (pfd[i].fd < 0 || !pfd[i].revents) {
                continue;
            }
            n = read(pfd[i].fd, buf, sizeof(buf));
            if (n > 0 && i == 0) {
                g_string_append_len(out, buf, n);
                if (out->len > CIM_MAX_STDOUT) {
                    *too_big = true;
                    return false;
                }
            } else if (n > 0) {
                g_string_append_len(err, buf, n);
                if (err->len > 65536) {             /* keep the tail */
                    g_string_erase(err, 0, err->len - 32768);
                }
            } else if (n == 0 || errno != EINTR) {
                pfd[i].fd = -1;
            }
        }
    }
    return true;
}

/* The last non-empty line of a program's stderr, shortened. */
static char *cim_last_line(const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);
    int n = g_strv_length(lines);

    while (n > 0 && !*g_strstrip(lines[n - 1])) {
        n--;
    }
    if (n == 0) {
        return g_strdup("no error output");
    }
    return g_strndup(lines[n - 1], 200);
}

static double cim_metric(QDict *m, const char *key)
{
    QObject *o = m ? qdict_get(m, key) : NULL;
    QNum *n = qobject_to(QNum, o);

    return n ? qnum_get_double(n) : NAN;
}

/* cimsim `mvm --json`: {"outputs": [...], "metrics": {...}}; other keys ignored. */
static void cim_parse_dict(CimJob *j, QDict *d)
{
    QObject *outs = qdict_get(d, "outputs"), *mo = qdict_get(d, "metrics");
    QList *list = qobject_to(QList, outs);
    QDict *m = qobject_to(QDict, mo);
    QListEntry *e;
    size_t i = 0;

    if (outs && !list) {
        cim_job_fail(j, CIM_ERR_BACKEND, "%s: malformed output: 'outputs' is not an array",
                     j->entry->name);
        return;
    }
    if ((list ? qlist_size(list) : 0) != j->nout) {
        cim_job_fail(j, CIM_ERR_BACKEND, "%s: the simulator gave %zu outputs, expected %zu",
                     j->entry->name, list ? qlist_size(list) : 0, j->nout);
        return;
    }
    if (mo && !m && qobject_type(mo) != QTYPE_QNULL) {
        cim_job_fail(j, CIM_ERR_BACKEND, "%s: malformed output: 'metrics' is not an object",
                     j->entry->name);
        return;
    }
    if (list) {
        QLIST_FOREACH_ENTRY(list, e) {
            QNum *n = qobject_to(QNum, qlist_entry_obj(e));
            int64_t iv;

            if (!n) {
                cim_job_fail(j, CIM_ERR_BACKEND, "%s: malformed output: outputs[%zu] is not a "
                             "number", j->entry->name, i);
                return;
            }
            if (j->dtype == CIM_DTYPE_FLOAT32) {
                j->outputs[i] = cim_f32_bits(qnum_get_double(n));
            } else if (qnum_get_try_int(n, &iv) && iv >= INT32_MIN && iv <= (int64_t)UINT32_MAX) {
                j->outputs[i] = (uint32_t)iv;
            } else {
                cim_job_fail(j, CIM_ERR_BACKEND, "%s: malformed output: outputs[%zu] is not an "
                             "integer in [-2^31, 2^32)", j->entry->name, i);
                return;
            }
            i++;
        }
    }
    j->metrics.latency_ns = cim_metric(m, "latency_ns");
    j->metrics.energy_pj = cim_metric(m, "energy_pj");
    j->metrics.area_um2 = cim_metric(m, "area_um2");
    j->metrics.leakage_uw = cim_metric(m, "leakage_uw");
}

static void cim_parse_json(CimJob *j, const char *text)
{
    Error *err = NULL;
    QObject *root = qobject_from_json(text, &err);
    QDict *d = qobject_to(QDict, root);

    if (!d) {
        cim_job_fail(j, CIM_ERR_BACKEND, "%s: malformed output (expected a JSON object): %s",
                     j->entry->name, err ? error_get_pretty(err) : "not an object");
    } else {
        cim_parse_dict(j, d);
    }
    error_free(err);
    qobject_unref(root);
}

static void cim_run_sim(CimJob *j, const char *dir, const char *wcsv, const char *icsv)
{
    const CimBuiltinOp *op = j->entry;
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GString) out = g_string_new(NULL);
    g_autoptr(GString) err_text = g_string_new(NULL);
    GError *gerr = NULL;
    bool done, too_big = false, reaped = false;
    int status = 0, i, out_fd, err_fd;
    GPid pid;

    for (i = 0; i < CIM_OP_MAX_ARGS && op->argv[i]; i++) {
        if (j->nvec == 0 && !strcmp(op->argv[i], "{inputs_csv}")) {
            if (argv->len > 1 && ((char *)argv->pdata[argv->len - 1])[0] == '-') {
                g_ptr_array_remove_index(argv, argv->len - 1);
            }
            continue;
        }
        g_ptr_array_add(argv, cim_expand(op->argv[i], j, dir, wcsv, icsv));
    }
    g_ptr_array_add(argv, NULL);
    if (!g_spawn_async_with_pipes(dir, (char **)argv->pdata, NULL,
                                  G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL,
                                  cim_child_setup, NULL, &pid, NULL, &out_fd, &err_fd, &gerr)) {
        cim_job_fail(j, CIM_ERR_BACKEND, "%s: cannot run %s: %s", op->name,
                     (char *)argv->pdata[0], gerr->message);
        g_error_free(gerr);
        return;
    }
    done = cim_collect(pid, out_fd, err_fd, g_get_monotonic_time() / 1000 + j->timeout_ms, out,
                       err_text, &too_big, &status, &reaped);
    if (!reaped) {
        kill(-pid, SIGKILL);    /* timeout: the program and everything it started */
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            /* retry */
        }
    }
    close(out_fd);
    close(err_fd);
    g_spawn_close_pid(pid);
    if (too_big) {
        cim_job_fail(j, CIM_ERR_BACKEND, "%s: %s wrote more than %d bytes", op->name,
                     (char *)argv->pdata[0], CIM_MAX_STDOUT);
        return;
    }
    if (!done) {
        cim_job_fail(j, CIM_ERR_BACKEND, "%s: %s timed out after %" PRIu32 " ms", op->name,
                     (char *)argv->pdata[0], j->timeout_ms);
        return;
    }
    if (WIFSIGNALED(status)) {
        cim_job_fail(j, CIM_ERR_BACKEND, "%s: %s was killed by signal %d", op->name,
                     (char *)argv->pdata[0], WTERMSIG(status));
        return;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        g_autofree char *last = cim_last_line(err_text->str);

        cim_job_fail(j, CIM_ERR_BACKEND, "%s: %s exited with status %d: %s", op->name,
                     (char *)argv->pdata[0], WEXITSTATUS(status), last);
        return;
    }
    cim_parse_json(j, out->str);
}

static void cim_run_so(CimJob *j, const char *dir, const char *wcsv, const char *icsv)
{
    cim_request req = {
        .abi = { CIM_BACKEND_ABI_MAJOR, CIM_BACKEND_ABI_MINOR },
        .dtype = j->dtype, .rows = j->rows, .cols = j->cols, .n_vectors = j->nvec,
        .weights = j->weights, .inputs = j->nvec ? j->inputs : NULL,
        .weights_csv = wcsv, .inputs_csv = j->nvec ? icsv : NULL, .work_dir = dir,
    };
    cim_result res = {
        .abi = { CIM_BACKEND_ABI_MAJOR, CIM_BACKEND_ABI_MINOR },
        .outputs = j->outputs, .out_capacity = j->nout,
        .metrics = { NAN, NAN, NAN, NAN },
    };
    dp_status st = j->so->desc->run(j->so->op, &req, &res);

    if (st != DP_OK) {
        res.error[sizeof(res.error) - 1] = '\0';
        cim_job_fail(j, CIM_ERR_BACKEND, "%s failed: %s", j->entry->name,
                     res.error[0] ? res.error : "no reason given");
        return;
    }
    if (res.out_count != j->nout) {
        cim_job_fail(j, CIM_ERR_OUTPUT, "%s returned %zu result words, expected %zu",
                     j->entry->name, res.out_count, j->nout);
        return;
    }
    j->metrics = res.metrics;
}

static void *cim_worker(void *opaque)
{
    CimJob *j = opaque;
    bool csv = !j->so || (j->so->desc->flags & CIM_BACKEND_WANTS_CSV);
    g_autofree char *dir = NULL, *wcsv = NULL, *icsv = NULL;
    GError *gerr = NULL;

    if (csv) {
        dir = g_dir_make_tmp("cim-builtin-XXXXXX", &gerr);
        if (!dir) {
            cim_job_fail(j, CIM_ERR_HOST, "%s: cannot create a temporary directory: %s",
                         j->entry->name, gerr->message);
            g_error_free(gerr);
            return NULL;
        }
        wcsv = g_build_filename(dir, "weights.csv", NULL);
        icsv = g_build_filename(dir, "inputs.csv", NULL);
        if (!cim_write_csv(wcsv, j->weights, j->dtype, j->rows, j->cols, j) ||
            (j->nvec && !cim_write_csv(icsv, j->inputs, j->dtype, j->nvec, j->rows, j))) {
            cim_rmtree(dir);
            return NULL;
        }
    }
    if (j->so) {
        cim_run_so(j, dir, wcsv, icsv);
    } else {
        cim_run_sim(j, dir, wcsv, icsv);
    }
    if (dir) {
        cim_rmtree(dir);
    }
    return NULL;
}

/*
 * Runs the job on a worker thread while this thread (a vCPU during MMIO, the main loop under qtest)
 * waits with the BQL released: QMP and the monitor stay responsive, and the waiting vCPU executes
 * nothing, so guest time (under -icount) does not advance however long the host takes.
 */
static void cim_run_blocking(CimBuiltinState *s, CimJob *j)
{
    bool locked = DP_BQL_LOCKED();
    QemuThread th;

    s->working = true;
    qemu_thread_create(&th, "cim-builtin", cim_worker, j, QEMU_THREAD_JOINABLE);
    if (locked) {
        DP_BQL_UNLOCK();
    }
    qemu_thread_join(&th);
    if (locked) {
        DP_BQL_LOCK();
    }
    s->working = false;
}

/* ---- START: validation in the cim plugin's order, then the operation ------------------------ */

static uint64_t cim_busy_time(double lat, bool *valid)
{
    *valid = isfinite(lat) && lat >= 0;
    if (!*valid) {
        return CIM_DEFAULT_LAT_NS;
    }
    lat = ceil(MIN(lat, 1e15));
    return lat < 1 ? 1 : (uint64_t)lat;
}

static void cim_set_error(CimBuiltinState *s, uint32_t code, bool guest, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);
static void cim_set_error(CimBuiltinState *s, uint32_t code, bool guest, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    s->errcode = code;
    s->status |= R_STATUS_ERROR_MASK;
    if (guest) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: START rejected: %s (ERRCODE %u)\n", s->name, msg,
                      code);
    } else {
        error_report("%s: %s (ERRCODE %u)", s->name, msg, code);
    }
}

static void cim_start(CimBuiltinState *s)
{
    unsigned opi = FIELD_EX32(s->ctrl, CTRL, OP);
    const CimBuiltinOp *entry = &cim_builtin_ops[opi];
    uint64_t wbytes, ibytes, nw, ni, rows, cols, nvec, nout;
    size_t esz;
    CimJob j = { 0 };
    bool valid;

    s->status &= ~(R_STATUS_DONE_MASK | R_STATUS_ERROR_MASK);
    if (s->status & R_STATUS_BUSY_MASK) {
        cim_set_error(s, CIM_ERR_BUSY, true, "START while BUSY (the running operation continues)");
        return;
    }
    if (!(s->opmap & (1u << opi))) {
        cim_set_error(s, CIM_ERR_BAD_OP, true, "CTRL.OP = %u selects no configured operation "
                      "(OPMAP = 0x%08" PRIx32 ")", opi, s->opmap);
        return;
    }
    esz = cim_dtype_size(s->dtype);
    if (!esz) {
        cim_set_error(s, CIM_ERR_BAD_DTYPE, true, "DTYPE = %" PRIu32 " is no element type (0..3)",
                      s->dtype);
        return;
    }
    if (s->wer < s->wsr) {
        cim_set_error(s, CIM_ERR_ORDER, true, "WER (0x%08" PRIx32 ") < WSR (0x%08" PRIx32 ")",
                      s->wer, s->wsr);
        return;
    }
    if (s->ier < s->isr) {
        cim_set_error(s, CIM_ERR_ORDER, true, "IER (0x%08" PRIx32 ") < ISR (0x%08" PRIx32 ")",
                      s->ier, s->isr);
        return;
    }
    wbytes = s->wer - s->wsr;
    ibytes = s->ier - s->isr;
    if (wbytes == 0) {
        cim_set_error(s, CIM_ERR_SIZE, true, "the weight range [WSR, WER) is empty");
        return;
    }
    if (wbytes % esz || ibytes % esz) {
        cim_set_error(s, CIM_ERR_SIZE, true, "%s range of %" PRIu64 " bytes is not a multiple of "
                      "the %s element size %zu", wbytes % esz ? "weight" : "input",
                      wbytes % esz ? wbytes : ibytes, cim_dtype_name(s->dtype), esz);
        return;
    }
    nw = wbytes / esz;
    ni = ibytes / esz;
    if (nw > CIM_MAX_ELEMENTS || ni > CIM_MAX_ELEMENTS) {
        cim_set_error(s, CIM_ERR_TOO_LARGE, true, "%" PRIu64 " %s exceed the maximum of %u",
                      nw > CIM_MAX_ELEMENTS ? nw : ni,
                      nw > CIM_MAX_ELEMENTS ? "weights" : "inputs", CIM_MAX_ELEMENTS);
        return;
    }
    cols = FIELD_EX32(s->shape, SHAPE, COLS) ? FIELD_EX32(s->shape, SHAPE, COLS) : 1;
    rows = FIELD_EX32(s->shape, SHAPE, ROWS) ? FIELD_EX32(s->shape, SHAPE, ROWS) : nw / cols;
    if (rows == 0 || rows * cols != nw) {
        cim_set_error(s, CIM_ERR_SHAPE, true, "SHAPE %" PRIu64 " x %" PRIu64 " does not match %"
                      PRIu64 " weights", rows, cols, nw);
        return;
    }
    if (ni % rows) {
        cim_set_error(s, CIM_ERR_SHAPE, true, "%" PRIu64 " inputs are not a multiple of ROWS = %"
                      PRIu64, ni, rows);
        return;
    }
    nvec = ni / rows;
    nout = nvec * cols;
    if (nout > CIM_MAX_ELEMENTS) {
        cim_set_error(s, CIM_ERR_TOO_LARGE, true, "%" PRIu64 " result words exceed the maximum "
                      "of %u", nout, CIM_MAX_ELEMENTS);
        return;
    }

    j.weights = g_malloc(wbytes);
    j.inputs = g_malloc(ibytes ? ibytes : 1);
    if (!dp_guest_ram_rw(s->wsr, j.weights, wbytes, false)) {
        cim_set_error(s, CIM_ERR_DMA, true, "weights [0x%08" PRIx32 ", 0x%08" PRIx32 ") are not "
                      "guest RAM", s->wsr, s->wer);
        goto out;
    }
    if (ibytes && !dp_guest_ram_rw(s->isr, j.inputs, ibytes, false)) {
        cim_set_error(s, CIM_ERR_DMA, true, "inputs [0x%08" PRIx32 ", 0x%08" PRIx32 ") are not "
                      "guest RAM", s->isr, s->ier);
        goto out;
    }
    if (s->out_dma && nout && !dp_guest_range_is_ram(s->out_dma, nout * 4, false)) {
        cim_set_error(s, CIM_ERR_DMA, true, "OUT_DMA [0x%08" PRIx32 ", +%" PRIu64 " bytes) is not "
                      "guest RAM", s->out_dma, nout * 4);
        goto out;
    }

    j.entry = entry;
    j.so = entry->backend ? &s->so_ops[opi] : NULL;
    j.cimsim = s->cimsim;
    j.timeout_ms = s->timeout_ms;
    j.dtype = s->dtype;
    j.rows = rows;
    j.cols = cols;
    j.nvec = nvec;
    j.nout = nout;
    j.outputs = g_new0(uint32_t, nout ? nout : 1);
    j.metrics = (cim_metrics) { NAN, NAN, NAN, NAN };
    cim_run_blocking(s, &j);
    if (j.err) {
        cim_set_error(s, j.err, false, "op %u (%s): %s", opi, entry->name, j.msg);
        g_free(j.outputs);
        goto out;
    }

    s->errcode = CIM_ERR_NONE;
    s->nvec = nvec;
    s->status |= R_STATUS_BUSY_MASK;
    s->pend_out = j.outputs;
    s->pend_nout = nout;
    s->pend_metrics = j.metrics;
    s->pend_lat_ns = cim_busy_time(j.metrics.latency_ns, &valid);
    s->pend_mvalid = valid ? R_MVALID_LAT_MASK : 0;
#define CIM_OK(v) (isfinite(v) && (v) >= 0)
    s->pend_mvalid |= CIM_OK(j.metrics.energy_pj) ? R_MVALID_ENERGY_MASK : 0;
    s->pend_mvalid |= CIM_OK(j.metrics.area_um2) ? R_MVALID_AREA_MASK : 0;
    s->pend_mvalid |= CIM_OK(j.metrics.leakage_uw) ? R_MVALID_LEAKAGE_MASK : 0;
#undef CIM_OK
    s->pend_out_dma = s->out_dma;
    timer_mod_ns(s->timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + s->pend_lat_ns);
out:
    g_free(j.weights);
    g_free(j.inputs);
    g_free(j.msg);
}

/* The simulated latency has passed: publish the results. */
static void cim_complete(void *opaque)
{
    CimBuiltinState *s = opaque;
    size_t i, n = s->pend_nout;

    if (!(s->status & R_STATUS_BUSY_MASK)) {
        return;
    }
    for (i = 0; i < CIM_ODR_WORDS; i++) {
        s->odr[i] = i < n ? s->pend_out[i] : 0;
    }
    s->out_count = n;
    s->mvalid = s->pend_mvalid;
    s->lat_ns = s->pend_lat_ns;
    s->energy = cim_f32_bits(s->pend_metrics.energy_pj);
    s->area = cim_f32_bits(s->pend_metrics.area_um2);
    s->leakage = cim_f32_bits(s->pend_metrics.leakage_uw);
    s->status &= ~R_STATUS_BUSY_MASK;
    if (s->pend_out_dma && n) {
        g_autofree uint8_t *buf = g_malloc(n * 4);

        for (i = 0; i < n; i++) {
            stl_le_p(buf + 4 * i, s->pend_out[i]);
        }
        if (!dp_guest_ram_rw(s->pend_out_dma, buf, n * 4, true)) {
            s->errcode = CIM_ERR_DMA;
            s->status |= R_STATUS_ERROR_MASK;
            qemu_log_mask(LOG_GUEST_ERROR, "%s: OUT_DMA write to 0x%08" PRIx32 " failed "
                          "(ERRCODE %u)\n", s->name, s->pend_out_dma, CIM_ERR_DMA);
        } else {
            s->status |= R_STATUS_DONE_MASK;
        }
    } else {
        s->status |= R_STATUS_DONE_MASK;
    }
    g_free(s->pend_out);
    s->pend_out = NULL;
    s->pend_nout = 0;
    cim_update_irq(s);
}

static void cim_reset(void *opaque)
{
    CimBuiltinState *s = opaque;

    timer_del(s->timer);
    g_free(s->pend_out);
    s->pend_out = NULL;
    s->pend_nout = 0;
    s->ctrl = s->status = s->errcode = 0;
    s->wsr = s->wer = s->isr = s->ier = s->shape = s->dtype = s->out_dma = 0;
    s->nvec = s->out_count = s->mvalid = s->energy = s->area = s->leakage = 0;
    s->lat_ns = 0;
    memset(s->odr, 0, sizeof(s->odr));
    cim_update_irq(s);
}

/* ---- MMIO (sub-word accesses act on the bytes they cover, like the plugin's register bank) ---- */

static uint32_t cim_read_word(CimBuiltinState *s, hwaddr off, bool *mapped)
{
    *mapped = true;
    switch (off) {
    case A_ID:
        return CIM_ID_VALUE;
    case A_VERSION:
        return CIM_VERSION_VALUE;
    case A_CTRL:
        return s->ctrl & CIM_CTRL_RW_MASK;
    case A_STATUS:
        return s->status;
    case A_ERRCODE:
        return s->errcode;
    case A_OPMAP:
        return s->opmap;
    case A_WSR:
        return s->wsr;
    case A_WER:
        return s->wer;
    case A_ISR:
        return s->isr;
    case A_IER:
        return s->ier;
    case A_SHAPE:
        return s->shape;
    case A_DTYPE:
        return s->dtype;
    case A_OUT_DMA:
        return s->out_dma;
    case A_NVEC:
        return s->nvec;
    case A_OUT_COUNT:
        return s->out_count;
    case A_MVALID:
        return s->mvalid;
    case A_LAT_LO:
        return (uint32_t)s->lat_ns;
    case A_LAT_HI:
        return (uint32_t)(s->lat_ns >> 32);
    case A_ENERGY:
        return s->energy;
    case A_AREA:
        return s->area;
    case A_LEAKAGE:
        return s->leakage;
    default:
        if (off >= A_ODR0 && off < A_ODR0 + 4 * CIM_ODR_WORDS) {
            return s->odr[(off - A_ODR0) / 4];
        }
        *mapped = false;
        return 0;
    }
}

static uint64_t cim_read(void *opaque, hwaddr addr, unsigned size)
{
    CimBuiltinState *s = opaque;
    hwaddr off = addr & ~3;
    unsigned shift = (addr & 3) * 8;
    bool mapped;
    uint32_t w;

    if (s->working) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: read at 0x%" HWADDR_PRIx " while an operation runs on "
                      "the host: returns 0\n", s->name, addr);
        return 0;
    }
    if ((addr & 3) + size > 4) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: read (size %u) at 0x%" HWADDR_PRIx " crosses a "
                      "register: returns 0\n", s->name, size, addr);
        return 0;
    }
    w = cim_read_word(s, off, &mapped);
    if (!mapped) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: read (size %u) from unmapped offset 0x%" HWADDR_PRIx
                      " returns 0\n", s->name, size, addr);
        return 0;
    }
    return extract32(w, shift, size * 8);
}

/* Stores the bits of `m` that `defined` names; logs 1s written to the others. */
static uint32_t cim_store(CimBuiltinState *s, const char *reg, uint32_t old, uint32_t w,
                          uint32_t m, uint32_t defined)
{
    if (w & m & ~defined) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: write of 1s to reserved bits 0x%08" PRIx32 " of %s "
                      "ignored\n", s->name, w & m & ~defined, reg);
    }
    return (old & ~(m & defined)) | (w & m & defined);
}

static void cim_write_ro(CimBuiltinState *s, const char *reg, uint32_t cur, uint32_t w, uint32_t m)
{
    if ((w ^ cur) & m) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: write to read-only register %s ignored\n", s->name,
                      reg);
    }
}

static void cim_write(void *opaque, hwaddr addr, uint64_t value, unsigned size)
{
    CimBuiltinState *s = opaque;
    hwaddr off = addr & ~3;
    unsigned shift = (addr & 3) * 8;
    uint32_t m, w, act;
    bool mapped;

    if (s->working) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: write at 0x%" HWADDR_PRIx " while an operation runs "
                      "on the host ignored\n", s->name, addr);
        return;
    }
    if ((addr & 3) + size > 4) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: write (size %u) at 0x%" HWADDR_PRIx " crosses a "
                      "register: ignored\n", s->name, size, addr);
        return;
    }
    m = MAKE_64BIT_MASK(shift, size * 8);
    w = (uint32_t)(value << shift) & m;

    switch (off) {
    case A_CTRL:
        act = w & m;
        s->ctrl = cim_store(s, "CTRL", s->ctrl, w, m, CIM_CTRL_DEFINED) & CIM_CTRL_RW_MASK;
        if (act & R_CTRL_SOFT_RESET_MASK) {
            cim_reset(s);
            return;
        }
        if (act & R_CTRL_START_MASK) {
            cim_start(s);
        }
        break;
    case A_STATUS:
        if ((w ^ s->status) & m & R_STATUS_BUSY_MASK) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: write to read-only bit STATUS.BUSY ignored\n",
                          s->name);
        }
        cim_store(s, "STATUS", 0, w, m, CIM_STATUS_DEFINED);   /* reserved-bit check only */
        s->status &= ~(w & m & (R_STATUS_DONE_MASK | R_STATUS_ERROR_MASK));
        break;
    case A_WSR:
        s->wsr = cim_store(s, "WSR", s->wsr, w, m, UINT32_MAX);
        break;
    case A_WER:
        s->wer = cim_store(s, "WER", s->wer, w, m, UINT32_MAX);
        break;
    case A_ISR:
        s->isr = cim_store(s, "ISR", s->isr, w, m, UINT32_MAX);
        break;
    case A_IER:
        s->ier = cim_store(s, "IER", s->ier, w, m, UINT32_MAX);
        break;
    case A_SHAPE:
        s->shape = cim_store(s, "SHAPE", s->shape, w, m, UINT32_MAX);
        break;
    case A_DTYPE:
        s->dtype = cim_store(s, "DTYPE", s->dtype, w, m, R_DTYPE_TYPE_MASK);
        break;
    case A_OUT_DMA:
        s->out_dma = cim_store(s, "OUT_DMA", s->out_dma, w, m, UINT32_MAX);
        break;
    default:
        act = cim_read_word(s, off, &mapped);
        if (mapped) {
            cim_write_ro(s, "register", act, w, m);
        } else {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: write of 0x%" PRIx64 " (size %u) to unmapped "
                          "offset 0x%" HWADDR_PRIx " ignored\n", s->name, value, size, addr);
        }
        return;
    }
    cim_update_irq(s);
}

static const MemoryRegionOps cim_mmio_ops = {
    .read = cim_read,
    .write = cim_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 8 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },  /* 8-byte: two words, low first */
};

/* ---- realize: operations, IRQ, region ------------------------------------------------------- */

static bool cim_open_backend(CimBuiltinState *s, unsigned i, Error **errp)
{
    const CimBuiltinOp *e = &cim_builtin_ops[i];
    CimBackendOp *b = &s->so_ops[i];
    g_autofree char *path = g_build_filename(s->backend_dir, e->backend, NULL);
    cim_backend_entry_fn entry;
    char err[256] = "";
    const cim_backend_desc *d;

    b->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!b->handle) {
        error_setg(errp, "%s: op %u (%s): cannot load backend %s: %s", s->name, i, e->name, path,
                   dlerror());
        return false;
    }
    entry = (cim_backend_entry_fn)dlsym(b->handle, CIM_BACKEND_ENTRY_SYMBOL);
    if (!entry) {
        error_setg(errp, "%s: op %u (%s): backend %s does not export " CIM_BACKEND_ENTRY_SYMBOL,
                   s->name, i, e->name, path);
        return false;
    }
    d = entry((dp_version) { CIM_BACKEND_ABI_MAJOR, CIM_BACKEND_ABI_MINOR });
    if (!d || d->abi.major != CIM_BACKEND_ABI_MAJOR || d->abi.minor > CIM_BACKEND_ABI_MINOR) {
        error_setg(errp, "%s: op %u (%s): backend %s was built for cim backend ABI %u.%u, this "
                   "device supports %u.%u", s->name, i, e->name, path, d ? d->abi.major : 0,
                   d ? d->abi.minor : 0, CIM_BACKEND_ABI_MAJOR, CIM_BACKEND_ABI_MINOR);
        return false;
    }
    if (!d->open || !d->run || !d->close) {
        error_setg(errp, "%s: op %u (%s): backend %s has a NULL open/run/close callback", s->name,
                   i, e->name, path);
        return false;
    }
    b->desc = d;
    b->op = d->open(e->params ? e->params : "{}", s->backend_dir, err, sizeof(err));
    if (!b->op) {
        err[sizeof(err) - 1] = '\0';
        error_setg(errp, "%s: op %u (%s): backend %s rejected its params: %s", s->name, i,
                   e->name, path, err[0] ? err : "no reason given");
        return false;
    }
    return true;
}

static void cim_close_backends(CimBuiltinState *s)
{
    unsigned i;

    for (i = 0; i < CIM_MAX_OPS; i++) {
        CimBackendOp *b = &s->so_ops[i];

        if (b->op) {
            b->desc->close(b->op);
        }
        if (b->handle) {
            dlclose(b->handle);
        }
        memset(b, 0, sizeof(*b));
    }
}

static void cim_realize(DeviceState *dev, Error **errp)
{
    CimBuiltinState *s = CIM_BUILTIN(dev);
    unsigned i;

    s->name = dev->id ? g_strdup(dev->id) : g_strdup_printf("cim-builtin@0x%" PRIx64, s->addr);
    if (s->addr + CIM_MMIO_SIZE - 1 < s->addr) {
        error_setg(errp, "%s: region at 0x%" PRIx64 " wraps around the address space", s->name,
                   s->addr);
        return;
    }
    if (s->cimsim && *s->cimsim) {
        char *abs = realpath(s->cimsim, NULL);

        if (!abs || !g_file_test(abs, G_FILE_TEST_IS_EXECUTABLE) ||
            g_file_test(abs, G_FILE_TEST_IS_DIR)) {
            error_setg(errp, "%s: cimsim=%s is not an executable file", s->name, s->cimsim);
            free(abs);
            return;
        }
        g_free(s->cimsim);
        s->cimsim = g_strdup(abs);
        free(abs);
    }
    if (s->backend_dir && *s->backend_dir && !g_file_test(s->backend_dir, G_FILE_TEST_IS_DIR)) {
        error_setg(errp, "%s: backend-dir=%s is not a directory", s->name, s->backend_dir);
        return;
    }
    if (s->timeout_ms == 0) {
        error_setg(errp, "%s: timeout-ms must be at least 1", s->name);
        return;
    }
    for (i = 0; i < CIM_MAX_OPS; i++) {
        const CimBuiltinOp *e = &cim_builtin_ops[i];

        if (e->backend && s->backend_dir && *s->backend_dir) {
            if (!cim_open_backend(s, i, errp)) {
                cim_close_backends(s);
                return;
            }
            s->opmap |= 1u << i;
        } else if (!e->backend && e->argv[0] && s->cimsim && *s->cimsim) {
            s->opmap |= 1u << i;
        }
    }
    if (!s->opmap) {
        error_setg(errp, "%s: no operation available: give cimsim=PATH (the simulator, for the "
                   "in-tree operations) and/or backend-dir=DIR (for the backend .so operations)",
                   s->name);
        return;
    }
    if (s->irq_num != CIM_IRQ_NONE) {
        Object *intc = dp_find_intc();
        g_autofree char *prop = g_strdup_printf("unnamed-gpio-in[%u]", s->irq_num);
        Object *o = intc ? object_resolve_path_component(intc, prop) : NULL;

        o = o ? object_dynamic_cast(o, TYPE_IRQ) : NULL;
        if (!o) {
            error_setg(errp, "%s: irq=%u: %s", s->name, s->irq_num,
                       intc ? "the interrupt controller has no such input"
                            : "this machine has no interrupt controller (NVIC) to connect to");
            cim_close_backends(s);
            return;
        }
        s->irq = (qemu_irq)o;
    }
    s->timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, cim_complete, s);
    memory_region_init_io(&s->mmio, OBJECT(dev), &cim_mmio_ops, s, s->name, CIM_MMIO_SIZE);
    memory_region_add_subregion_overlap(get_system_memory(), s->addr, &s->mmio, 0);
    qemu_register_reset(cim_reset, s);
    cim_reset(s);
}

static void cim_unrealize(DeviceState *dev)
{
    CimBuiltinState *s = CIM_BUILTIN(dev);

    qemu_unregister_reset(cim_reset, s);
    memory_region_del_subregion(get_system_memory(), &s->mmio);
    timer_free(s->timer);
    g_free(s->pend_out);
    cim_close_backends(s);
    g_free(s->name);
}

static DP_PROPERTIES cim_properties[] = {
    DEFINE_PROP_UINT64("addr", CimBuiltinState, addr, 0),
    DEFINE_PROP_UINT32("irq", CimBuiltinState, irq_num, CIM_IRQ_NONE),
    DEFINE_PROP_STRING("cimsim", CimBuiltinState, cimsim),
    DEFINE_PROP_STRING("backend-dir", CimBuiltinState, backend_dir),
    DEFINE_PROP_UINT32("timeout-ms", CimBuiltinState, timeout_ms, 10000),
    DP_PROP_END
};

static void cim_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->realize = cim_realize;
    dc->unrealize = cim_unrealize;
    dc->desc = "CIM accelerator compiled into QEMU (reference for the cim plugin)";
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    device_class_set_props(dc, cim_properties);
}

static const TypeInfo cim_info = {
    .name = TYPE_CIM_BUILTIN,
    .parent = TYPE_DEVICE,
    .instance_size = sizeof(CimBuiltinState),
    .class_init = cim_class_init,
};

static void cim_register_types(void)
{
    type_register_static(&cim_info);
}

type_init(cim_register_types)
