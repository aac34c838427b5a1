/*
 * dp_memload: load a shared object from a sealed in-memory copy (see dp_memload.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later OR MIT
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "dp_memload.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if UINTPTR_MAX > 0xffffffffu
#define DP_ELFCLASS ELFCLASS64
#else
#define DP_ELFCLASS ELFCLASS32
#endif

static void dp_ml_err(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;

    if (!err || !n) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
}

static char *dp_ml_printf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    int r;

    va_start(ap, fmt);
    r = vasprintf(&s, fmt, ap);
    va_end(ap);
    return r < 0 ? NULL : s;
}

/* ---- the copy ------------------------------------------------------------------------------- */

static int dp_ml_copy(int src, int dst)
{
    char buf[1 << 16];

    for (;;) {
        ssize_t n = read(src, buf, sizeof(buf)), off = 0;

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return (int)n;
        }
        while (off < n) {
            ssize_t w = write(dst, buf + off, (size_t)(n - off));

            if (w < 0 && errno == EINTR) {
                continue;
            }
            if (w <= 0) {
                return -1;
            }
            off += w;
        }
    }
}

int dp_memload_prepare(dp_memload *m, const char *path, char *err, size_t err_size)
{
    const char *slash;
    char cwd[PATH_MAX];
    struct stat st;
    int src;

    *m = (dp_memload)DP_MEMLOAD_INIT;
    if (path[0] == '/') {
        m->path = strdup(path);
    } else if (getcwd(cwd, sizeof(cwd))) {
        m->path = dp_ml_printf("%s/%s", cwd, path);
    } else {
        dp_ml_err(err, err_size, "cannot resolve a relative path: %s", strerror(errno));
        return -1;
    }
    src = m->path ? open(m->path, O_RDONLY | O_CLOEXEC) : -1;
    if (src < 0) {
        dp_ml_err(err, err_size, "cannot read: %s", strerror(errno));
        dp_memload_close(m);
        return -1;
    }
    if (fstat(src, &st) < 0 || !S_ISREG(st.st_mode)) {
        dp_ml_err(err, err_size, "not a regular file");
        close(src);
        dp_memload_close(m);
        return -1;
    }
    slash = strrchr(m->path, '/');
    {
        char *name = dp_ml_printf("dynperiph:%s", slash + 1);

        m->fd = name ? memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING) : -1;
        free(name);
    }
    if (m->fd < 0) {
        dp_ml_err(err, err_size, "cannot make an in-memory copy (memfd_create): %s",
                  strerror(errno));
        close(src);
        dp_memload_close(m);
        return -1;
    }
    if (dp_ml_copy(src, m->fd) < 0) {
        dp_ml_err(err, err_size, "cannot copy into memory: %s", strerror(errno));
        close(src);
        dp_memload_close(m);
        return -1;
    }
    close(src);
    /* The code a process runs from this copy can no longer change. */
    fcntl(m->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
    m->fd_path = dp_ml_printf("/proc/self/fd/%d", m->fd);
    m->lm_name = dp_ml_printf("%.*s/./%s", (int)(slash - m->path), m->path, slash + 1);
    if (!m->fd_path || !m->lm_name) {
        dp_ml_err(err, err_size, "out of memory");
        dp_memload_close(m);
        return -1;
    }
    return 0;
}

/* ---- $ORIGIN dependencies ------------------------------------------------------------------- */

typedef struct DpMlImage {
    const unsigned char *p;
    size_t size;
    size_t strtab, strsz;       /* file offset and size of the dynamic string table */
} DpMlImage;

/* The NUL-terminated string at offset `o` of the dynamic string table, or NULL. */
static const char *dp_ml_str(const DpMlImage *im, size_t o)
{
    const char *s = (const char *)im->p + im->strtab + o;

    return o < im->strsz && memchr(s, 0, im->strsz - o) ? s : NULL;
}

/* Replaces $ORIGIN and ${ORIGIN} in `entry` by `origin`; NULL when there is none. */
static char *dp_ml_expand(const char *entry, size_t len, const char *origin)
{
    size_t olen = strlen(origin), i, n = 0;
    char *out = malloc(len * (olen + 1) + 1);
    int found = 0;

    if (!out) {
        return NULL;
    }
    for (i = 0; i < len;) {
        if (!strncmp(entry + i, "$ORIGIN", 7) && (i + 7 >= len || !(entry[i + 7] == '_' ||
            (entry[i + 7] >= 'A' && entry[i + 7] <= 'Z') ||
            (entry[i + 7] >= 'a' && entry[i + 7] <= 'z') ||
            (entry[i + 7] >= '0' && entry[i + 7] <= '9')))) {
            memcpy(out + n, origin, olen);
            n += olen, i += 7, found = 1;
        } else if (i + 9 <= len && !strncmp(entry + i, "${ORIGIN}", 9)) {
            memcpy(out + n, origin, olen);
            n += olen, i += 9, found = 1;
        } else {
            out[n++] = entry[i++];
        }
    }
    out[n] = 0;
    if (!found) {
        free(out);
        return NULL;
    }
    return out;
}

/*
 * Absolute paths of the DT_NEEDED entries the dynamic linker would find through an $ORIGIN entry
 * of DT_RUNPATH (or DT_RPATH when there is no RUNPATH), in load order; NULL-terminated, or NULL
 * when there are none (or the file is not an ELF object of this class: dlopen says why).
 */
static char **dp_ml_origin_deps(const unsigned char *p, size_t size, const char *origin)
{
    DpMlImage im = { p, size, 0, 0 };
    ElfW(Ehdr) eh;
    ElfW(Phdr) dyn_ph = { 0 };
    size_t strtab_va = 0, needed[256], nneeded = 0, runpath = SIZE_MAX, rpath = SIZE_MAX;
    size_t i, ndeps = 0, has_strtab = 0, has_dyn = 0;
    const char *list;
    char **deps;

    if (size < sizeof(eh)) {
        return NULL;
    }
    memcpy(&eh, p, sizeof(eh));
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != DP_ELFCLASS ||
        eh.e_phentsize != sizeof(ElfW(Phdr)) || eh.e_phoff > size ||
        eh.e_phnum > (size - eh.e_phoff) / sizeof(ElfW(Phdr))) {
        return NULL;
    }
    for (i = 0; i < eh.e_phnum; i++) {
        ElfW(Phdr) ph;

        memcpy(&ph, p + eh.e_phoff + i * sizeof(ph), sizeof(ph));
        if (ph.p_type == PT_DYNAMIC) {
            dyn_ph = ph;
            has_dyn = 1;
        }
    }
    if (!has_dyn || dyn_ph.p_offset > size || dyn_ph.p_filesz > size - dyn_ph.p_offset) {
        return NULL;
    }
    for (i = 0; i + 1 <= dyn_ph.p_filesz / sizeof(ElfW(Dyn)); i++) {
        ElfW(Dyn) d;

        memcpy(&d, p + dyn_ph.p_offset + i * sizeof(d), sizeof(d));
        if (d.d_tag == DT_NULL) {
            break;
        } else if (d.d_tag == DT_NEEDED && nneeded < sizeof(needed) / sizeof(needed[0])) {
            needed[nneeded++] = d.d_un.d_val;
        } else if (d.d_tag == DT_RUNPATH) {
            runpath = d.d_un.d_val;
        } else if (d.d_tag == DT_RPATH) {
            rpath = d.d_un.d_val;
        } else if (d.d_tag == DT_STRTAB) {
            strtab_va = d.d_un.d_ptr;
            has_strtab = 1;
        } else if (d.d_tag == DT_STRSZ) {
            im.strsz = d.d_un.d_val;
        }
    }
    if (!has_strtab || !nneeded || (runpath == SIZE_MAX && rpath == SIZE_MAX)) {
        return NULL;
    }
    has_strtab = 0;                 /* the string table's file offset, through its PT_LOAD */
    for (i = 0; i < eh.e_phnum; i++) {
        ElfW(Phdr) ph;

        memcpy(&ph, p + eh.e_phoff + i * sizeof(ph), sizeof(ph));
        if (ph.p_type == PT_LOAD && strtab_va >= ph.p_vaddr &&
            strtab_va - ph.p_vaddr < ph.p_filesz) {
            im.strtab = ph.p_offset + (strtab_va - ph.p_vaddr);
            has_strtab = 1;
            break;
        }
    }
    if (!has_strtab || im.strtab > size || im.strsz > size - im.strtab) {
        return NULL;
    }
    list = dp_ml_str(&im, runpath != SIZE_MAX ? runpath : rpath);
    deps = list ? calloc(nneeded + 1, sizeof(*deps)) : NULL;
    if (!deps) {
        return NULL;
    }
    for (i = 0; i < nneeded; i++) {
        const char *name = dp_ml_str(&im, needed[i]), *e = list;
        void *h;

        if (!name || strchr(name, '/')) {
            continue;               /* a path: not searched, nothing to do */
        }
        h = dlopen(name, RTLD_LAZY | RTLD_NOLOAD);
        if (h) {                    /* already loaded: the linker matches it by SONAME */
            dlclose(h);
            continue;
        }
        while (*e) {
            size_t len = strcspn(e, ":");
            char *dir = dp_ml_expand(e, len, origin), *cand;

            if (dir) {
                cand = dp_ml_printf("%s/%s", dir, name);
                free(dir);
                if (cand && access(cand, F_OK) == 0) {
                    deps[ndeps++] = cand;
                    break;
                }
                free(cand);
            } else if (len) {       /* a plain entry that has it: the linker finds it there */
                cand = dp_ml_printf("%.*s/%s", (int)len, e, name);
                if (cand && access(cand, F_OK) == 0) {
                    free(cand);
                    break;
                }
                free(cand);
            }
            e += len + (e[len] == ':');
        }
    }
    if (!ndeps) {
        free(deps);
        return NULL;
    }
    return deps;
}

/* ---- open / close --------------------------------------------------------------------------- */

/* dlerror() names the copy; say the original file instead. */
static void dp_ml_dlerror(const dp_memload *m, char *err, size_t err_size)
{
    const char *e = dlerror(), *at;
    size_t n = strlen(m->fd_path);

    if (!e) {
        dp_ml_err(err, err_size, "unknown dlopen error");
        return;
    }
    if (!strncmp(e, m->fd_path, n) && !strncmp(e + n, ": ", 2)) {
        e += n + 2;                 /* "<copy>: reason" -> "reason" (callers name the file) */
    }
    at = strstr(e, m->fd_path);
    if (at) {
        dp_ml_err(err, err_size, "%.*s%s%s", (int)(at - e), e, m->path, at + n);
    } else {
        dp_ml_err(err, err_size, "%s", e);
    }
}

int dp_memload_open(dp_memload *m, int flags, char *err, size_t err_size)
{
    struct stat st;
    void *img = MAP_FAILED;
    char **deps = NULL, *origin;
    void **pre = NULL;
    size_t i, npre = 0;
    struct link_map *lm = NULL;
    int rc = -1;

    if (fstat(m->fd, &st) == 0 && st.st_size > 0) {
        img = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, m->fd, 0);
    }
    origin = strndup(m->path, (size_t)(strrchr(m->path, '/') - m->path));
    if (img != MAP_FAILED && origin) {
        deps = dp_ml_origin_deps(img, (size_t)st.st_size, origin[0] ? origin : "/");
    }
    if (img != MAP_FAILED) {
        munmap(img, (size_t)st.st_size);
    }
    free(origin);
    for (i = 0; deps && deps[i]; i++) {
    }
    pre = i ? calloc(i, sizeof(*pre)) : NULL;
    for (i = 0; deps && deps[i]; i++) {
        dlerror();
        if (!pre || !(pre[npre] = dlopen(deps[i], RTLD_NOW | RTLD_LOCAL))) {
            const char *e = dlerror();

            dp_ml_err(err, err_size, "cannot load its dependency %s: %s", deps[i],
                      e ? e : "out of memory");
            goto out;
        }
        npre++;
    }
    dlerror();
    m->handle = dlopen(m->fd_path, flags);
    if (!m->handle) {
        dp_ml_dlerror(m, err, err_size);
        goto out;
    }
    if (dlinfo(m->handle, RTLD_DI_LINKMAP, &lm) != 0 || !lm || strcmp(lm->l_name, m->fd_path)) {
        /* not the object just mapped: refuse rather than run something else */
        dp_ml_err(err, err_size, "the dynamic linker returned an object loaded earlier");
        dlclose(m->handle);
        m->handle = NULL;
        goto out;
    }
    m->lm = lm;
    m->glibc_name = lm->l_name;
    lm->l_name = m->lm_name;
    rc = 0;
out:
    for (i = 0; i < npre; i++) {     /* the object holds its own references to them */
        dlclose(pre[i]);
    }
    free(pre);
    for (i = 0; deps && deps[i]; i++) {
        free(deps[i]);
    }
    free(deps);
    return rc;
}

void dp_memload_close(dp_memload *m)
{
    int keep_fd = 0;

    if (m->handle) {
        if (m->lm) {
            ((struct link_map *)m->lm)->l_name = m->glibc_name;   /* glibc frees its own name */
        }
        dlclose(m->handle);
        /* Still loaded (NODELETE, unique symbols)? Then glibc still answers to /proc/self/fd/N:
         * keep N taken so that no later copy gets that name. */
        void *h = dlopen(m->fd_path, RTLD_LAZY | RTLD_NOLOAD);
        if (h) {
            dlclose(h);
            keep_fd = 1;
        }
    }
    if (m->fd >= 0 && !keep_fd) {
        close(m->fd);
    }
    free(m->path);
    free(m->fd_path);
    free(m->lm_name);
    *m = (dp_memload)DP_MEMLOAD_INIT;
}
