/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TCPA_TEST_CHECK_H
#define TCPA_TEST_CHECK_H

/*
 * The unit tests' checks: a failed check prints where and what, and the
 * test function it is in counts as failed; main() prints
 * "<module>: N passed, M failed" (check_summary) and exits non-zero on any
 * failure.
 */

#include <stdio.h>

static unsigned int n_pass;
static unsigned int n_fail;
static unsigned int cur_fail;

#define CHECK(c) do { \
	if (!(c)) { \
		fprintf(stderr, "%s:%d: %s: check failed: %s\n", \
			__FILE__, __LINE__, __func__, #c); \
		cur_fail++; \
	} \
} while (0)

#define CHECK_EQ(a, b) do { \
	unsigned long long a_ = (unsigned long long)(a); \
	unsigned long long b_ = (unsigned long long)(b); \
	if (a_ != b_) { \
		fprintf(stderr, "%s:%d: %s: %s == %llu (0x%llx), expected %s == %llu (0x%llx)\n", \
			__FILE__, __LINE__, __func__, #a, a_, a_, #b, b_, b_); \
		cur_fail++; \
	} \
} while (0)

#define RUN(fn) do { \
	cur_fail = 0; \
	fn(); \
	if (cur_fail == 0) { \
		n_pass++; \
	} else { \
		n_fail++; \
		fprintf(stderr, "FAIL %s (%u checks)\n", #fn, cur_fail); \
	} \
} while (0)

static inline int
check_summary(const char *module)
{
	printf("%s: %u passed, %u failed\n", module, n_pass, n_fail);
	return n_fail == 0 ? 0 : 1;
}

#endif /* TCPA_TEST_CHECK_H */
