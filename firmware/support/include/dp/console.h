/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where printf/stdout/stderr go: UART0 by default, or semihosting (host stdout). */
#ifndef DP_CONSOLE_H
#define DP_CONSOLE_H

#include <stddef.h>

void dp_console_use_semihosting(int on);
void dp_console_write(const char *buf, size_t len);

#endif
