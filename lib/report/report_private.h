/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TCPA_REPORT_PRIVATE_H
#define TCPA_REPORT_PRIVATE_H

/* What lib/report's files share. Not a public header. */

#include <stddef.h>

#include "tcpa_report.h"

/* The endpoint tables of several cores merged into one array, step by step. */
struct report_merge {
	struct tcpa_report_ep *v;
	size_t n;
	uint32_t *slot;         /* open-addressing index into v, +1; 0 = empty */
	size_t mask;
	struct tcpa_ep_table *const *tabs;
	unsigned ntabs;
	unsigned tab;           /* where the walk is */
	uint32_t idx;
	uint32_t limit[TCPA_REPORT_MAX_ENGINES]; /* slots of each table at init */
};

/* 0 or -ENOMEM. @tabs must stay valid until the last step. */
int report_merge_init(struct report_merge *m, struct tcpa_ep_table *const *tabs, unsigned n);

/* Merge up to *@budget record slots. @return 1 when done (m->v[0..n) is it). */
int report_merge_step(struct report_merge *m, unsigned *budget);

/*
 * Sort @eps[0..n) by severity, most severe first, ties in merge order:
 * each severity computed once (n log n compares of two words).
 * 0 or -ENOMEM.
 */
int report_eps_sort(struct tcpa_report_ep *eps, size_t n);

#endif /* TCPA_REPORT_PRIVATE_H */
