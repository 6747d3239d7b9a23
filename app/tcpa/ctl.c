/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control queries: JSON answers built from the RX cores' state while they
 * run. Nothing here stops or locks an RX core:
 *  - counters are the copies each core publishes under a sequence count;
 *  - endpoint records are published with a release store, so walking
 *    another core's endpoint table is safe;
 *  - flows are copied out of the live table entry by entry (lib/report).
 * Handlers follow the contract of ctl.h.
 */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mempool.h>
#include <rte_version.h>

#include <jansson.h>

#include "ctl.h"
#include "evlog.h"
#include "input.h"
#include "tcpa_app.h"
#include "tcpa_report.h"
#include "tcpa_tcp.h"

static int
fail(json_t **out, int err, const char *fmt, const char *arg)
{
	char msg[256];

	snprintf(msg, sizeof(msg), fmt, arg);
	*out = json_string(msg);
	return err;
}

static int
answer(json_t **out, json_t *data)
{
	*out = data;
	return data != NULL ? 0 : fail(out, -ENOMEM, "%s", "out of memory");
}

/* ---- snapshot of the RX cores ---- */

struct snap {
	struct tcpa_stats sum;
	struct tcpa_stats core[TCPA_MAX_WORKERS];
	uint64_t core_pkts[TCPA_MAX_WORKERS];
	struct tcpa_report_ep *eps;
	size_t neps;
};

static int
snap_take(struct tcpa_app *app, struct snap *s, int with_eps)
{
	const struct tcpa_stats *st[TCPA_MAX_WORKERS];
	struct tcpa_ep_table *ep[TCPA_MAX_WORKERS];

	/* Each core's counters as one consistent snapshot (seqlock), summed. */
	for (unsigned i = 0; i < app->nworkers; i++) {
		tcpa_worker_stats(&app->workers[i], &s->core[i]);
		st[i] = &s->core[i];
		ep[i] = tcpa_engine_endpoints(app->workers[i].eng);
		s->core_pkts[i] = s->core[i].tcp_pkts;
	}
	tcpa_report_sum_stats(st, app->nworkers, &s->sum);
	/* The log's own losses (no file, a write error) count with the queues'. */
	s->sum.events_lost += tcpa_evlog_lost();
	s->eps = NULL;
	s->neps = 0;
	return with_eps ? tcpa_report_merge_eps(ep, app->nworkers, &s->eps, &s->neps) : 0;
}

static void
snap_in(const struct tcpa_app *app, const struct snap *s, struct tcpa_report_in *in)
{
	memset(in, 0, sizeof(*in));
	in->total = &s->sum;
	in->core_pkts = s->core_pkts;
	in->ncores = app->nworkers;
	in->eps = s->eps;
	in->neps = s->neps;
	in->conf = &app->conf;
	in->version = TCPA_VERSION;
	in->complete = app->offline ? app->complete : 1;
}

static json_t *
flows_array(struct tcpa_app *app, const struct tcpa_flow_filter *x)
{
	struct tcpa_engine *engs[TCPA_MAX_WORKERS];

	for (unsigned i = 0; i < app->nworkers; i++)
		engs[i] = app->workers[i].eng;
	return tcpa_report_flows(engs, app->nworkers, x);
}

/* The report; without its endpoints when @with_eps is 0 (they come apart). */
static json_t *
report_of(struct tcpa_app *app, int with_flows, int with_eps)
{
	struct tcpa_report_in in;
	struct snap s;
	json_t *r;

	if (snap_take(app, &s, with_eps) != 0)
		return NULL;
	snap_in(app, &s, &in);
	r = tcpa_report_build(&in);
	free(s.eps);
	if (r != NULL && with_flows) {
		struct tcpa_flow_filter x;

		tcpa_report_flow_filter_all(&x);
		json_object_set_new(r, "flows", flows_array(app, &x));
	}
	if (r != NULL && !with_eps)
		json_object_del(r, "endpoints");
	return r;
}

json_t *
tcpa_app_report(struct tcpa_app *app, int with_flows)
{
	return report_of(app, with_flows, 1);
}

/* ---- queries ---- */

int
tcpa_ctl_flows(struct tcpa_app *app, const json_t *args, json_t **out)
{
	struct tcpa_flow_filter x;
	char err[256];

	if (tcpa_report_flow_filter(args, &x, err, sizeof(err)) != 0)
		return fail(out, -EINVAL, "%s", err);
	return answer(out, flows_array(app, &x));
}

int
tcpa_ctl_report(struct tcpa_app *app, const json_t *args, json_t **out)
{
	return answer(out, tcpa_app_report(app, json_is_true(json_object_get(args, "flows"))));
}

int
tcpa_ctl_anomalies(struct tcpa_app *app, const json_t *args, json_t **out)
{
	json_t *r = report_of(app, 0, 0);

	(void)args;
	if (r == NULL)
		return fail(out, -ENOMEM, "%s", "out of memory");
	*out = json_pack("{s:O,s:O,s:O}", "anomalies", json_object_get(r, "anomalies"),
		"malformed", json_object_get(r, "malformed"),
		"capture", json_object_get(r, "capture"));
	json_decref(r);
	return answer(out, *out);
}

static int
get_int(const json_t *args, const char *key, int def, int *v, json_t **out)
{
	const json_t *x = json_object_get(args, key);

	*v = def;
	if (x == NULL)
		return 0;
	if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > INT32_MAX)
		return fail(out, -EINVAL, "'%s' must be a non-negative integer", key);
	*v = (int)json_integer_value(x);
	return 0;
}

static int
get_anomaly(const json_t *args, int *anom, json_t **out)
{
	const json_t *an = json_object_get(args, "anomaly");

	*anom = -1;
	if (an == NULL)
		return 0;
	for (unsigned a = 0; a < TCPA_ANOM_MAX && json_is_string(an); a++)
		if (strcmp(json_string_value(an), tcpa_anom_name(a)) == 0)
			*anom = (int)a;
	if (*anom < 0)
		return fail(out, -EINVAL, "unknown anomaly '%s' (see ANOMALIES.md)",
			json_is_string(an) ? json_string_value(an) : "?");
	return 0;
}

int
tcpa_ctl_endpoints(struct tcpa_app *app, const json_t *args, json_t **out)
{
	struct tcpa_report_in in;
	struct snap s;
	int st, top, anom, rc;
	size_t keep = 0;
	char err[256];

	if (tcpa_report_state_arg(args, &st, err, sizeof(err)) != 0)
		return fail(out, -EINVAL, "%s", err);
	if ((rc = get_int(args, "top", 0, &top, out)) != 0 ||
			(rc = get_anomaly(args, &anom, out)) != 0)
		return rc;
	if (snap_take(app, &s, 1) != 0)
		return fail(out, -ENOMEM, "%s", "out of memory");
	for (size_t i = 0; i < s.neps; i++)
		if ((st < 0 || s.eps[i].states[st] != 0) && (anom < 0 || s.eps[i].anom[anom] != 0))
			s.eps[keep++] = s.eps[i];
	s.neps = keep;
	snap_in(app, &s, &in);
	*out = tcpa_report_endpoints_json(&in, top != 0 ? (size_t)top : s.neps);
	free(s.eps);
	return answer(out, *out);
}

int
tcpa_ctl_version(struct tcpa_app *app, const json_t *args, json_t **out)
{
	(void)args;
	return answer(out, json_pack("{s:s,s:s,s:f}", "version", TCPA_VERSION,
		"dpdk", rte_version(),
		"uptime_s", (double)(tcpa_mono_ns() - app->start_mono_ns) / 1e9));
}

/* ---- stats ---- */

/*
 * An af_packet port's interface counts what the kernel carried, whether or
 * not the driver's socket got it (DPDK 22.11's af_packet driver reports no
 * socket drops). The socket sees the frames the interface receives and
 * those it sends, so what the interface carried since the port started and
 * tcpa did not read was missed. Frames still in the driver's ring count
 * as missed until read: the value is kept as the largest seen (a counter
 * never goes down), exact once the port is quiet.
 */
static uint64_t
iface_missed(struct tcpa_app *app, uint16_t port, uint64_t ipackets)
{
	for (unsigned i = 0; i < app->nifaces; i++) {
		uint64_t carried, missed;

		if (app->iface[i].port != port)
			continue;
		carried = tcpa_iface_carried(app->iface[i].name) - app->iface[i].rx0;
		missed = carried > ipackets ? carried - ipackets : 0;
		if (missed > app->iface[i].missed_max)
			app->iface[i].missed_max = missed;
		return app->iface[i].missed_max;
	}
	return 0;
}

static json_t *
ports_live(struct tcpa_app *app)
{
	json_t *a = json_array();
	uint16_t port;

	RTE_ETH_FOREACH_DEV(port) {
		struct rte_eth_stats es;
		char name[RTE_ETH_NAME_MAX_LEN] = "";
		uint64_t missed;

		if (rte_eth_stats_get(port, &es) != 0)
			continue;
		rte_eth_dev_get_name_by_port(port, name);
		missed = iface_missed(app, port, es.ipackets);
		if (es.imissed > missed)
			missed = es.imissed;
		json_array_append_new(a, json_pack("{s:i,s:s,s:I,s:I,s:I,s:I,s:I}", "port", port,
			"name", name, "rx_packets", (json_int_t)es.ipackets,
			"rx_bytes", (json_int_t)es.ibytes, "rx_missed", (json_int_t)missed,
			"rx_errors", (json_int_t)es.ierrors, "rx_nombuf", (json_int_t)es.rx_nombuf));
	}
	return a;
}

/* Capture analysis has one port: the capture. */
static json_t *
ports_offline(const struct tcpa_app *app)
{
	uint64_t frames = 0, done = 0, total = 0;

	if (app->input != NULL)
		tcpa_input_progress(app->input, &frames, &done, &total);
	return json_pack("[{s:i,s:s,s:I,s:I,s:I,s:I}]", "port", 0, "name", "capture",
		"rx_packets", (json_int_t)frames, "rx_missed", (json_int_t)0,
		"bytes_read", (json_int_t)done, "bytes_total", (json_int_t)total);
}

static json_t *
core_json(const struct tcpa_app *app, const struct worker *w)
{
	struct tcpa_flow_table *ft = tcpa_engine_flows(w->eng);
	uint32_t cap = tcpa_flow_capacity(ft);
	struct tcpa_stats st;
	json_t *o;

	tcpa_worker_stats(w, &st);
	o = json_pack("{s:i,s:i,s:I,s:I,s:I,s:I,s:f}", "core", w->idx, "lcore", w->lcore,
		"flow_capacity", (json_int_t)cap,
		"flow_table_bytes", (json_int_t)tcpa_flow_table_bytes(ft),
		"endpoint_capacity", (json_int_t)app->conf.endpoints_per_core,
		"endpoint_table_bytes",
		(json_int_t)tcpa_ep_table_bytes(tcpa_engine_endpoints(w->eng)),
		"flow_fill", cap != 0 ? (double)st.flows_active / cap : 0.0);
	for (unsigned i = 0; o != NULL && i < tcpa_stat_ndefs; i++)
		json_object_set_new(o, tcpa_stat_defs[i].key,
			json_integer((json_int_t)tcpa_stat_value(&st, &tcpa_stat_defs[i])));
	return o;
}

int
tcpa_ctl_stats(struct tcpa_app *app, const json_t *args, json_t **out)
{
	struct rte_mempool *mp = app->offline ? NULL : rte_mempool_lookup("tcpa_rx");
	json_t *cores = json_array();

	(void)args;
	for (unsigned i = 0; cores != NULL && i < app->nworkers; i++)
		json_array_append_new(cores, core_json(app, &app->workers[i]));
	return answer(out, json_pack("{s:o,s:o,s:{s:I,s:I}}",
		"ports", app->offline ? ports_offline(app) : ports_live(app), "cores", cores,
		"mempool", "in_use", (json_int_t)(mp != NULL ? rte_mempool_in_use_count(mp) : 0),
		"free", (json_int_t)(mp != NULL ? rte_mempool_avail_count(mp) : 0)));
}

int
tcpa_ctl_config(struct tcpa_app *app, const json_t *args, json_t **out)
{
	const json_t *set = json_object_get(args, "set");
	char err[256];
	int rc;

	if (set != NULL) {
		if (!json_is_object(set))
			return fail(out, -EINVAL, "%s", "'set' must be an object of config keys");
		rc = tcpa_conf_apply_json(&app->conf, (const struct json_t *)set, 1, err,
			sizeof(err));
		if (rc != 0)
			return fail(out, rc, "%s", err);
		tcpa_app_apply_conf(app);
	}
	return answer(out, (json_t *)tcpa_conf_dump(&app->conf));
}

/* ---- answers produced part by part ---- */

/*
 * A large answer line: a literal head, one or two arrays whose records
 * come from iterators, literals between them, a tail with the totals.
 * Each step writes a bounded amount and visits a bounded number of table
 * entries, so no answer holds more than a step's worth of memory and no
 * client holds the control loop for more than a step.
 */
struct tcpa_ctl_stream {
	char *lit;                      /* literal to write next (head, separator) */
	size_t lit_len, lit_off;
	unsigned sec, nsec;             /* current section, sections */
	struct {
		const char *open;       /* literal before its array (after the previous) */
		struct tcpa_flow_iter *fi;
		struct tcpa_ep_iter *ei;
		uint64_t shown;
	} s[2];
	int kind;                       /* what the tail says */
	int done;
};

enum { STREAM_FLOWS, STREAM_ENDPOINTS, STREAM_REPORT };

/* Table entries one step visits at most: a fraction of a millisecond. */
#define STREAM_BUDGET 16384

static int
lit_set(struct tcpa_ctl_stream *s, const char *text)
{
	free(s->lit);
	s->lit = strdup(text);
	s->lit_len = s->lit != NULL ? strlen(text) : 0;
	s->lit_off = 0;
	return s->lit != NULL ? 0 : -ENOMEM;
}

void
tcpa_ctl_stream_free(struct tcpa_ctl_stream *s)
{
	if (s == NULL)
		return;
	for (unsigned i = 0; i < s->nsec; i++) {
		tcpa_flow_iter_free(s->s[i].fi);
		tcpa_ep_iter_free(s->s[i].ei);
	}
	free(s->lit);
	free(s);
}

/* The tail: close the last array, the totals, the newline. */
static int
tail(struct tcpa_ctl_stream *s)
{
	char t[256], cur[48];

	if (s->kind == STREAM_REPORT) {
		snprintf(t, sizeof(t), "]}}\n");
	} else if (s->kind == STREAM_ENDPOINTS) {
		snprintf(t, sizeof(t), "],\"total\":%zu,\"shown\":%" PRIu64 "}\n",
			tcpa_ep_iter_total(s->s[0].ei), s->s[0].shown);
	} else if (tcpa_flow_iter_cursor(s->s[0].fi, cur, sizeof(cur)) &&
			s->s[0].shown != 0) {
		snprintf(t, sizeof(t), "],\"total\":%" PRIu64 ",\"shown\":%" PRIu64
			",\"cursor\":\"%s\"}\n", tcpa_flow_iter_total(s->s[0].fi), s->s[0].shown, cur);
	} else {
		snprintf(t, sizeof(t), "],\"total\":%" PRIu64 ",\"shown\":%" PRIu64 "}\n",
			tcpa_flow_iter_total(s->s[0].fi), s->s[0].shown);
	}
	s->done = 1;
	return lit_set(s, t);
}

/* The next record of the current section: 1 with *o, 2 budget spent, 0 end, < 0 error. */
static int
section_next(struct tcpa_ctl_stream *s, json_t **o, unsigned *budget)
{
	if (s->s[s->sec].fi != NULL)
		return tcpa_flow_iter_next(s->s[s->sec].fi, o, budget);
	return tcpa_ep_iter_next(s->s[s->sec].ei, o, budget);
}

/* Write one record, a comma before all but the first. */
static int
record(struct tcpa_ctl_stream *s, json_t *o, tcpa_ctl_emit_fn emit, void *arg, size_t *room)
{
	char *txt = json_dumps(o, JSON_COMPACT);
	size_t n;
	int rc;

	json_decref(o);
	if (txt == NULL)
		return -ENOMEM;
	n = strlen(txt);
	rc = (s->s[s->sec].shown != 0 ? emit(arg, ",", 1) : 0) | emit(arg, txt, n);
	free(txt);
	s->s[s->sec].shown++;
	*room = *room > n ? *room - n : 0;
	return rc != 0 ? -ENOMEM : 0;
}

int
tcpa_ctl_stream_step(struct tcpa_ctl_stream *s, tcpa_ctl_emit_fn emit, void *arg, size_t room)
{
	unsigned budget = STREAM_BUDGET;

	while (room > 0) {
		json_t *o = NULL;
		int rc;

		if (s->lit_off < s->lit_len) {
			if (emit(arg, s->lit + s->lit_off, s->lit_len - s->lit_off) != 0)
				return -ENOMEM;
			s->lit_off = s->lit_len;
			if (s->done)
				return 1;
			continue;
		}
		rc = section_next(s, &o, &budget);
		if (rc == 2)
			return 0;
		if (rc < 0)
			return rc;
		if (rc == 1) {
			if (record(s, o, emit, arg, &room) != 0)
				return -ENOMEM;
			continue;
		}
		/* This section is over: the next one's opening, or the tail. */
		if (++s->sec < s->nsec ? lit_set(s, s->s[s->sec].open) : tail(s))
			return -ENOMEM;
	}
	return 0;
}

static struct tcpa_ctl_stream *
stream_new(int kind, const char *head)
{
	struct tcpa_ctl_stream *s = calloc(1, sizeof(*s));

	if (s == NULL || lit_set(s, head) != 0) {
		free(s);
		return NULL;
	}
	s->kind = kind;
	return s;
}

static struct tcpa_flow_iter *
flow_iter(struct tcpa_app *app, const struct tcpa_flow_filter *x)
{
	struct tcpa_engine *engs[TCPA_MAX_WORKERS];
	int sorted = !x->has_cursor && x->top != SIZE_MAX;

	for (unsigned i = 0; i < app->nworkers; i++)
		engs[i] = app->workers[i].eng;
	return tcpa_flow_iter_create(engs, app->nworkers, x, sorted);
}

int
tcpa_ctl_flows_stream(struct tcpa_app *app, const json_t *args, struct tcpa_ctl_stream **st,
		json_t **err)
{
	struct tcpa_flow_filter x;
	struct tcpa_ctl_stream *s;
	char msg[256];

	if (tcpa_report_flow_filter(args, &x, msg, sizeof(msg)) != 0)
		return fail(err, -EINVAL, "%s", msg);
	if (!x.has_cursor && x.top != SIZE_MAX && x.top + x.offset > TCPA_REPORT_MAX_SORTED)
		return fail(err, -EINVAL, "%s", "longest idle first goes up to offset + top = "
			"100000; top=0 lists every connection in table order, and a cursor "
			"pages through them");
	s = stream_new(STREAM_FLOWS, "{\"ok\":true,\"data\":[");
	if (s == NULL || (s->s[0].fi = flow_iter(app, &x)) == NULL) {
		tcpa_ctl_stream_free(s);
		return fail(err, -ENOMEM, "%s", "out of memory");
	}
	s->nsec = 1;
	*st = s;
	return 0;
}

static struct tcpa_ep_iter *
ep_iter(struct tcpa_app *app, int state, int anom, size_t offset, size_t top)
{
	struct tcpa_ep_table *tabs[TCPA_MAX_WORKERS];

	for (unsigned i = 0; i < app->nworkers; i++)
		tabs[i] = tcpa_engine_endpoints(app->workers[i].eng);
	return tcpa_ep_iter_create(tabs, app->nworkers, state, anom, offset, top, &app->conf);
}

int
tcpa_ctl_endpoints_stream(struct tcpa_app *app, const json_t *args,
		struct tcpa_ctl_stream **st, json_t **err)
{
	struct tcpa_ctl_stream *s;
	int state, top, off, anom, rc;
	char msg[256];

	if (tcpa_report_state_arg(args, &state, msg, sizeof(msg)) != 0)
		return fail(err, -EINVAL, "%s", msg);
	if ((rc = get_int(args, "top", 0, &top, err)) != 0 ||
			(rc = get_int(args, "offset", 0, &off, err)) != 0 ||
			(rc = get_anomaly(args, &anom, err)) != 0)
		return rc;
	s = stream_new(STREAM_ENDPOINTS, "{\"ok\":true,\"data\":[");
	if (s == NULL || (s->s[0].ei = ep_iter(app, state, anom, (size_t)off, (size_t)top)) == NULL) {
		tcpa_ctl_stream_free(s);
		return fail(err, -ENOMEM, "%s", "out of memory");
	}
	s->nsec = 1;
	*st = s;
	return 0;
}

/*
 * The report: its small members built as one object, its endpoints (and
 * flows, when asked) written part by part after them.
 */
int
tcpa_ctl_report_stream(struct tcpa_app *app, const json_t *args, struct tcpa_ctl_stream **st,
		json_t **err)
{
	json_t *r = report_of(app, 0, 0);
	struct tcpa_ctl_stream *s = NULL;
	size_t lim = app->conf.report_endpoints;
	char *txt = NULL, *head = NULL;

	if (r != NULL)
		txt = json_dumps(r, JSON_COMPACT);
	if (txt != NULL && asprintf(&head, "{\"ok\":true,\"data\":%.*s,\"endpoints\":[",
			(int)strlen(txt) - 1, txt) > 0)
		s = stream_new(STREAM_REPORT, head);
	free(txt);
	free(head);
	json_decref(r);
	if (s == NULL || (s->s[0].ei = ep_iter(app, -1, -1, 0, lim)) == NULL)
		goto nomem;
	s->nsec = 1;
	if (json_is_true(json_object_get(args, "flows"))) {
		struct tcpa_flow_filter x;

		tcpa_report_flow_filter_all(&x);
		x.has_cursor = 1;       /* every connection, in table order */
		s->s[1].open = "],\"flows\":[";
		if ((s->s[1].fi = flow_iter(app, &x)) == NULL)
			goto nomem;
		s->nsec = 2;
	}
	*st = s;
	return 0;
nomem:
	tcpa_ctl_stream_free(s);
	return fail(err, -ENOMEM, "%s", "out of memory");
}
