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
snap_take(struct tcpa_app *app, struct snap *s)
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
	return tcpa_report_merge_eps(ep, app->nworkers, &s->eps, &s->neps);
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

json_t *
tcpa_app_report(struct tcpa_app *app, int with_flows)
{
	struct tcpa_report_in in;
	struct snap s;
	json_t *r;

	if (snap_take(app, &s) != 0)
		return NULL;
	snap_in(app, &s, &in);
	r = tcpa_report_build(&in);
	free(s.eps);
	if (r != NULL && with_flows) {
		struct tcpa_flow_filter x;

		tcpa_report_flow_filter_all(&x);
		json_object_set_new(r, "flows", flows_array(app, &x));
	}
	return r;
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
	json_t *r = tcpa_app_report(app, 0);

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
	if (snap_take(app, &s) != 0)
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
 * An af_packet port's interface counts what the kernel received, whether
 * or not the driver's socket got it (DPDK 22.11's af_packet driver reports
 * no socket drops): what it received since the port started and tcpa did
 * not read was missed.
 */
static uint64_t
iface_missed(const struct tcpa_app *app, uint16_t port, uint64_t ipackets)
{
	for (unsigned i = 0; i < app->nifaces; i++) {
		char path[128];
		unsigned long long rx = 0;
		FILE *f;

		if (app->iface[i].port != port)
			continue;
		snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/rx_packets",
			app->iface[i].name);
		f = fopen(path, "r");
		if (f == NULL)
			return 0;
		if (fscanf(f, "%llu", &rx) != 1)
			rx = 0;
		fclose(f);
		rx -= app->iface[i].rx0 < rx ? app->iface[i].rx0 : rx;
		return rx > ipackets ? rx - ipackets : 0;
	}
	return 0;
}

static json_t *
ports_live(const struct tcpa_app *app)
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
