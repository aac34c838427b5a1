/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tiny firmware test framework. Each failing CHECK prints "file:line: CHECK failed: ..." (with both
 * values for the _EQ/_NE forms); dp_test_finish() prints a summary and returns the failure count,
 * clamped to 1..DP_TEST_MAX_EXIT, so `return dp_test_finish();` from main() makes QEMU's exit status
 * 0 iff every check passed.
 *
 *     int main(void) {
 *         DP_TEST_CASE("adds");
 *         CHECK(1 + 1 == 2);
 *         CHECK_EQ(add(2, 2), 4);
 *         return dp_test_finish();
 *     }
 */
#ifndef DP_TEST_H
#define DP_TEST_H

#include <stdint.h>

#define DP_TEST_MAX_EXIT 250 /* statuses above are reserved for faults (dp/startup.h) */

void dp_test_case(const char *name);
int dp_test_check(int ok, const char *file, int line, const char *expr);
int dp_test_check_eq(int ok, const char *file, int line, const char *op, const char *a_expr,
                     const char *b_expr, uint64_t a, uint64_t b);
unsigned dp_test_failures(void);
unsigned dp_test_checks(void);
int dp_test_finish(void);

#define DP_TEST_CASE(name) dp_test_case(name)

/* All evaluate to 1 on success and 0 on failure, so `if (!CHECK(p)) return;` works. */
#define CHECK(cond) dp_test_check(!!(cond), __FILE__, __LINE__, #cond)

#define DP_CHECK_CMP_(a, b, op)                                                                    \
    __extension__({                                                                                \
        uint64_t dp_a_ = (uint64_t)(a), dp_b_ = (uint64_t)(b);                                     \
        dp_test_check_eq(dp_a_ op dp_b_, __FILE__, __LINE__, #op, #a, #b, dp_a_, dp_b_);           \
    })
#define CHECK_EQ(a, b) DP_CHECK_CMP_(a, b, ==)
#define CHECK_NE(a, b) DP_CHECK_CMP_(a, b, !=)

#endif
