/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prometheus text exposition (format 0.0.4) of tcpa's report and stats
 * answers.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tcpa_report.h"
#include "tcpactl.h"

void
prom_scalar(FILE *out, const char *name, const char *type, const char *help, const json_t *v)
{
	tcpa_report_metric(out, name, type, help, v);
}

static void
prom_write(FILE *out, const json_t *r, const json_t *st, size_t top)
{
	prom_scalar(out, "tcpa_up", "gauge", "1 if tcpa answered on its management socket.",
		json_true());
	tcpa_report_metrics(out, r, st, top);
}

/* Query report and stats, write the exposition. Exit status; err on failure. */
int
prom_metrics(const struct opts *o, FILE *out, char *err, size_t len)
{
	json_t *rq = json_pack("{s:s}", "cmd", "report"), *sq = json_pack("{s:s}", "cmd", "stats");
	json_t *r = NULL, *st = NULL;
	struct conn c;
	int rc;

	if (conn_open(&c, o->sock, o->timeout_s, err, len) != 0) {
		rc = EXIT_USAGE;
		goto out;
	}
	rc = conn_request(&c, rq, &r, err, len);
	if (rc == EXIT_OKAY)
		rc = conn_request(&c, sq, &st, err, len);
	conn_close(&c);
	if (rc == EXIT_OKAY)
		prom_write(out, r, st, o->top);
out:
	json_decref(rq);
	json_decref(sq);
	json_decref(r);
	json_decref(st);
	return rc;
}
