/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "dp/test.h"

#include <stdio.h>

static unsigned checks, failures;
static const char *current_case;

void dp_test_case(const char *name)
{
    current_case = name;
    printf("[ RUN  ] %s\n", name);
}

static void fail_prefix(const char *file, int line)
{
    printf("%s:%d: ", file, line);
    if (current_case) {
        printf("[%s] ", current_case);
    }
}

int dp_test_check(int ok, const char *file, int line, const char *expr)
{
    checks++;
    if (!ok) {
        failures++;
        fail_prefix(file, line);
        printf("CHECK failed: %s\n", expr);
    }
    return ok;
}

/* newlib-nano's printf has no long long: print 64-bit values in two halves. */
static void print_value(uint64_t v)
{
    if (v >> 32) {
        printf("0x%08lx%08lx", (unsigned long)(v >> 32), (unsigned long)v);
    } else {
        printf("%lu = 0x%lx", (unsigned long)v, (unsigned long)v);
    }
}

int dp_test_check_eq(int ok, const char *file, int line, const char *op, const char *a_expr,
                     const char *b_expr, uint64_t a, uint64_t b)
{
    checks++;
    if (!ok) {
        failures++;
        fail_prefix(file, line);
        printf("CHECK failed: %s %s %s (", a_expr, op, b_expr);
        print_value(a);
        printf(" vs ");
        print_value(b);
        printf(")\n");
    }
    return ok;
}

unsigned dp_test_failures(void)
{
    return failures;
}

unsigned dp_test_checks(void)
{
    return checks;
}

int dp_test_finish(void)
{
    printf("%s: %u checks, %u failed\n", failures ? "FAIL" : "PASS", checks, failures);
    fflush(stdout);
    return failures > DP_TEST_MAX_EXIT ? DP_TEST_MAX_EXIT : (int)failures;
}
