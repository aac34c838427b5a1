/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "dp/semihost.h"

void dp_semihost_writec(char c)
{
    dp_semihost_call(DP_SYS_WRITEC, (uintptr_t)&c);
}

void dp_semihost_write0(const char *s)
{
    dp_semihost_call(DP_SYS_WRITE0, (uintptr_t)s);
}

static int stdout_handle = -1;

size_t dp_semihost_write(const void *buf, size_t len)
{
    if (stdout_handle < 0) {
        static const char tt[] = ":tt";
        uintptr_t open_args[3] = {(uintptr_t)tt, 4 /* "w" */, sizeof(tt) - 1};
        stdout_handle = (int)dp_semihost_call(DP_SYS_OPEN, (uintptr_t)open_args);
        if (stdout_handle < 0) {
            return 0;
        }
    }
    uintptr_t args[3] = {(uintptr_t)stdout_handle, (uintptr_t)buf, len};
    uintptr_t not_written = dp_semihost_call(DP_SYS_WRITE, (uintptr_t)args);
    return not_written > len ? 0 : len - not_written;
}

int dp_semihost_get_cmdline(char *buf, size_t size)
{
    uintptr_t block[2] = {(uintptr_t)buf, size};
    if (size == 0 || dp_semihost_call(DP_SYS_GET_CMDLINE, (uintptr_t)block) != 0) {
        return -1;
    }
    return block[1] < size ? (int)block[1] : -1;
}

int dp_semihost_args(char *buf, size_t size, char **argv, int max)
{
    int len = dp_semihost_get_cmdline(buf, size);
    if (len < 0) {
        return -1;
    }
    buf[len] = '\0';
    int argc = -1; /* the first word is the kernel path */
    char *p = buf;
    for (;;) {
        while (*p == ' ') {
            p++;
        }
        if (*p == '\0') {
            return argc < 0 ? 0 : argc;
        }
        char *word = p;
        while (*p != ' ' && *p != '\0') {
            p++;
        }
        if (*p == ' ') {
            *p++ = '\0';
        }
        if (argc >= 0) {
            if (argc == max) {
                return -1;
            }
            argv[argc] = word;
        }
        argc++;
    }
}

void dp_semihost_exit(int status)
{
    /* SYS_EXIT_EXTENDED carries the status on AArch32 (plain SYS_EXIT only knows success/failure). */
    /* Out-of-range statuses become 255, never a wrapped 0. */
    uintptr_t code = (status >= 0 && status <= 255) ? (uintptr_t)status : 255u;
    uintptr_t block[2] = {DP_ADP_STOPPED_APPLICATION_EXIT, code};
    dp_semihost_call(DP_SYS_EXIT_EXTENDED, (uintptr_t)block);
    /* A host without EXIT_EXTENDED: at least tell success from failure. */
    dp_semihost_call(DP_SYS_EXIT, status == 0 ? DP_ADP_STOPPED_APPLICATION_EXIT : 0x20023u /* RunTimeError */);
    for (;;) {
        __asm volatile("bkpt 0");
    }
}
