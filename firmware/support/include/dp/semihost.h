/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Arm semihosting (Cortex-M: BKPT 0xAB). QEMU needs `-semihosting-config enable=on,target=native`.
 */
#ifndef DP_SEMIHOST_H
#define DP_SEMIHOST_H

#include <stddef.h>
#include <stdint.h>

enum {
    DP_SYS_OPEN = 0x01,
    DP_SYS_WRITEC = 0x03,
    DP_SYS_WRITE0 = 0x04,
    DP_SYS_WRITE = 0x05,
    DP_SYS_GET_CMDLINE = 0x15,
    DP_SYS_EXIT = 0x18,
    DP_SYS_EXIT_EXTENDED = 0x20,
};

#define DP_ADP_STOPPED_APPLICATION_EXIT 0x20026u

/* Raw call: r0 = op, r1 = arg; returns r0. */
static inline uintptr_t dp_semihost_call(uintptr_t op, uintptr_t arg)
{
    register uintptr_t r0 __asm("r0") = op;
    register uintptr_t r1 __asm("r1") = arg;
    __asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void dp_semihost_writec(char c);
void dp_semihost_write0(const char *s);
/* Writes len bytes to the host's stdout (":tt"); returns the number of bytes written. */
size_t dp_semihost_write(const void *buf, size_t len);
/*
 * Command line QEMU passes to the firmware: "<kernel path> <-append words...>" (or the
 * -semihosting-config arg=... list). Returns its length, or -1 if the host refused / buf is too small.
 */
int dp_semihost_get_cmdline(char *buf, size_t size);
/*
 * Splits the -append words (argv[0], the kernel path, is skipped) into argv (at most max entries,
 * pointing into buf). Returns the number of words, or -1 when the command line does not fit in buf
 * or has more than max words.
 */
int dp_semihost_args(char *buf, size_t size, char **argv, int max);
/* Ends the emulation; QEMU exits with `status` (0..255). */
__attribute__((noreturn)) void dp_semihost_exit(int status);

#endif
