/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Newlib system calls for bare-metal mps2-an385: stdout/stderr go to UART0 (QEMU's serial; stdio with
 * -nographic) or, with dp_console_use_semihosting(1), to the host through semihosting; the heap grows
 * from the end of .bss up to the stack's bottom (__HeapLimit); _exit ends QEMU through semihosting.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "dp/console.h"
#include "dp/board.h"
#include "dp/semihost.h"
#include "dp/startup.h"
#include "dp/uart.h"

#undef errno
extern int errno;

extern char __HeapBase[], __HeapLimit[];

static int console_semihosting;

void dp_console_use_semihosting(int on)
{
    console_semihosting = on;
}

void dp_console_write(const char *buf, size_t len)
{
#ifdef DP_CONSOLE_UART_BASE
    if (!console_semihosting) {
        dp_uart_write(DP_UART0, buf, len);
        return;
    }
#endif
    dp_semihost_write(buf, len);
}

int _write(int fd, const char *buf, int len)
{
    if (fd != 1 && fd != 2) {
        errno = EBADF;
        return -1;
    }
    if (len < 0) {
        errno = EINVAL;
        return -1;
    }
    dp_console_write(buf, (size_t)len);
    return len;
}

int _read(int fd, char *buf, int len)
{
    if (fd != 0) {
        errno = EBADF;
        return -1;
    }
    int n = 0;
    (void)buf;
    (void)len;
#ifdef DP_CONSOLE_UART_BASE
    while (n < len) {
        int c = dp_uart_getc_nonblock(DP_UART0);
        if (c < 0) {
            break;
        }
        buf[n++] = (char)c;
    }
#endif
    return n;
}

void *_sbrk(ptrdiff_t incr)
{
    static char *brk = __HeapBase;
    char *prev = brk;
    if (incr > __HeapLimit - brk || incr < __HeapBase - brk) {
        errno = ENOMEM;
        return (void *)-1;
    }
    brk += incr;
    return prev;
}

__attribute__((noreturn)) void _exit(int status)
{
    dp_semihost_exit(status);
}

int _close(int fd)
{
    (void)fd;
    errno = EBADF;
    return -1;
}

int _lseek(int fd, int off, int whence)
{
    (void)fd, (void)off, (void)whence;
    errno = ESPIPE;
    return -1;
}

int _fstat(int fd, struct stat *st)
{
    if (fd < 0 || fd > 2) {
        errno = EBADF;
        return -1;
    }
    st->st_mode = S_IFCHR;
    return 0;
}

int _isatty(int fd)
{
    return fd >= 0 && fd <= 2;
}

int _getpid(void)
{
    return 1;
}

/* abort() and failed assert() raise SIGABRT through _kill. */
int _kill(int pid, int sig)
{
    (void)pid;
    dp_semihost_write0("dp-fw: abort (signal ");
    char digits[4] = {(char)('0' + (sig / 10) % 10), (char)('0' + sig % 10), ')', '\0'};
    dp_semihost_write0(digits);
    dp_semihost_write0("\n");
    dp_semihost_exit(DP_EXIT_ABORT);
}
