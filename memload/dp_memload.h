/*
 * dp_memload: load a shared object from an anonymous in-memory copy of a file.
 *
 * Why a copy at all: glibc's dlopen returns the already-loaded object for a path (or inode) it has
 * seen, so a hot reload of the same path would get the old code; and a build that overwrites the
 * original in place must not change the code a running process executes.
 *
 * Why in memory: the copy is a sealed memfd, never a file. Nothing is written next to the user's
 * files, in /tmp or /dev/shm, and a SIGKILL at any moment leaves nothing behind (the kernel frees
 * the memfd with the last reference).
 *
 * What is kept working although the object is opened as /proc/self/fd/N:
 *  - $ORIGIN: the object's DT_NEEDED entries that its DT_RUNPATH/DT_RPATH finds through $ORIGIN are
 *    opened first from the original file's directory (the dynamic linker then matches them by
 *    SONAME; a dependency without a SONAME cannot be matched and is reported as not found).
 *    Dependencies of those dependencies are loaded from their own files, $ORIGIN included.
 *  - dladdr()/debuggers: after dlopen the link map is named DIR/./BASE (the original file), so a
 *    plugin that looks for sibling files through dladdr finds them, and gdb reads its symbols. The
 *    "./" keeps a dlopen of the original path by someone else from matching this copy by name.
 *    (Constructors run before the rename and see /proc/self/fd/N.)
 *  - Error messages: dlerror() text naming /proc/self/fd/N is rewritten to the original path.
 *
 * The memfd stays open while the object is loaded (its /proc/self/fd name must not be reused by a
 * later load while glibc still knows that name); dp_memload_close keeps it open forever if the
 * object cannot be unloaded (RTLD_NODELETE, STB_GNU_UNIQUE symbols) for the same reason.
 *
 * Plain C11 + POSIX/glibc, no QEMU or glib headers: used by the QEMU device (qemu/glue.sh copies
 * it) and by the CIM plugin for its backends. Not thread-safe against concurrent dlclose of the
 * same object; callers load from one thread.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later OR MIT
 */
#ifndef DP_MEMLOAD_H
#define DP_MEMLOAD_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dp_memload {
    void *handle;       /* dlopen handle once opened */
    int fd;             /* the sealed memfd holding the copy, -1 when none */
    char *path;         /* the original file, absolute */
    char *fd_path;      /* /proc/self/fd/N */
    char *lm_name;      /* DIR/./BASE, given to the link map */
    char *glibc_name;   /* the link map's own name, put back before dlclose */
    void *lm;           /* struct link_map * of handle */
} dp_memload;

#define DP_MEMLOAD_INIT { NULL, -1, NULL, NULL, NULL, NULL, NULL }

/*
 * Reads `path` into a sealed memfd (no dlopen yet; a forked trial child may open it too).
 * Returns 0, or -1 with a one-line reason (not naming the path) in err.
 */
int dp_memload_prepare(dp_memload *m, const char *path, char *err, size_t err_size);

/*
 * Preloads the $ORIGIN dependencies, dlopens the copy with `flags` and names the link map after the
 * original file. Returns 0 (m->handle set), or -1 with dlerror's reason (naming the original path,
 * never the copy) in err.
 */
int dp_memload_open(dp_memload *m, int flags, char *err, size_t err_size);

/* dlcloses the object (if opened) and releases everything; m is reset to DP_MEMLOAD_INIT. */
void dp_memload_close(dp_memload *m);

#ifdef __cplusplus
}
#endif

#endif /* DP_MEMLOAD_H */
