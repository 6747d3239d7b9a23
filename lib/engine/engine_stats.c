/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The counter list of tcpa_stats.h as data, for the code that walks it
 * (report, stats answer, metrics).
 */
#include <stddef.h>

#include "tcpa_stats.h"

const struct tcpa_stat_def tcpa_stat_defs[] = {
#define X(field, section, key, metric, type, help) \
	{ #section, #key, #metric, #type, help, offsetof(struct tcpa_stats, field) },
	TCPA_STATS(X)
#undef X
};

const unsigned tcpa_stat_ndefs = sizeof(tcpa_stat_defs) / sizeof(tcpa_stat_defs[0]);
