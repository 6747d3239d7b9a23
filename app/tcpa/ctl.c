/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control-core queries: JSON answers built from the RX cores' state while
 * they run. Nothing here stops or locks an RX core:
 *  - counters are words only their core writes, read with relaxed loads;
 *  - endpoint records are never removed and are published with a release
 *    store, so walking another core's endpoint table is safe;
 *  - flows are copied out of the live table entry by entry; an entry being
 *    rewritten at that instant may give one inconsistent record (never a
 *    crash: every index and state is range-checked before use).
 * Handlers follow the contract of ctl.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mempool.h>
#include <rte_version.h>

#include <jansson.h>

#include "ctl.h"
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

void
tcpa_ctl_apply_conf(void)
{
	uint32_t t[TCPA_FLOW_TMO_MAX];
	struct tcpa_anom_conf a;

	/* Word stores: each RX core picks them up on its next read. */
	tcpa_engine_timeouts(&tcpa_conf_g, t);
	tcpa_anom_conf_from(&tcpa_conf_g, &a);
	for (unsigned i = 0; i < tcpa_nworkers; i++) {
		tcpa_engine_set_timeouts(tcpa_workers[i].eng, t);
		tcpa_engine_set_anom(tcpa_workers[i].eng, &a);
	}
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
snap_take(struct snap *s)
{
	const struct tcpa_stats *st[TCPA_MAX_WORKERS];
	struct tcpa_ep_table *ep[TCPA_MAX_WORKERS];

	/* Each core's counters as one consistent snapshot (seqlock), summed. */
	for (unsigned i = 0; i < tcpa_nworkers; i++) {
		tcpa_worker_stats(&tcpa_workers[i], &s->core[i]);
		st[i] = &s->core[i];
		ep[i] = tcpa_engine_endpoints(tcpa_workers[i].eng);
		s->core_pkts[i] = s->core[i].tcp_pkts;
	}
	tcpa_report_sum_stats(st, tcpa_nworkers, &s->sum);
	return tcpa_report_merge_eps(ep, tcpa_nworkers, &s->eps, &s->neps);
}

static void
snap_in(const struct snap *s, struct tcpa_report_in *in)
{
	memset(in, 0, sizeof(*in));
	in->total = &s->sum;
	in->core_pkts = s->core_pkts;
	in->ncores = tcpa_nworkers;
	in->eps = s->eps;
	in->neps = s->neps;
	in->conf = &tcpa_conf_g;
	in->version = TCPA_VERSION;
}

/* ---- flows ---- */

static json_t *
flows_array(const struct tcpa_flow_filter *x)
{
	struct tcpa_engine *engs[TCPA_MAX_WORKERS];

	for (unsigned i = 0; i < tcpa_nworkers; i++)
		engs[i] = tcpa_workers[i].eng;
	return tcpa_report_flows(engs, tcpa_nworkers, x);
}

int
tcpa_ctl_flows(const json_t *args, json_t **out)
{
	struct tcpa_flow_filter x;
	char err[256];

	if (tcpa_report_flow_filter(args, &x, err, sizeof(err)) != 0)
		return fail(out, -EINVAL, "%s", err);
	*out = flows_array(&x);
	return *out != NULL ? 0 : fail(out, -ENOMEM, "%s", "out of memory");
}

/* ---- the other handlers ---- */

json_t *
tcpa_ctl_build_report(int with_flows)
{
	struct tcpa_report_in in;
	struct snap s;
	json_t *r;

	if (snap_take(&s) != 0)
		return NULL;
	snap_in(&s, &in);
	r = tcpa_report_build(&in);
	free(s.eps);
	if (r != NULL && with_flows) {
		struct tcpa_flow_filter x;

		tcpa_report_flow_filter_all(&x);
		json_object_set_new(r, "flows", flows_array(&x));
	}
	return r;
}

int
tcpa_ctl_report(const json_t *args, json_t **out)
{
	(void)args;
	*out = tcpa_ctl_build_report(json_is_true(json_object_get(args, "flows")));
	return *out != NULL ? 0 : fail(out, -ENOMEM, "%s", "out of memory");
}

int
tcpa_ctl_anomalies(const json_t *args, json_t **out)
{
	json_t *r = tcpa_ctl_build_report(0);

	(void)args;
	if (r == NULL)
		return fail(out, -ENOMEM, "%s", "out of memory");
	*out = json_pack("{s:O,s:O,s:O}", "anomalies", json_object_get(r, "anomalies"),
		"malformed", json_object_get(r, "malformed"),
		"capture", json_object_get(r, "capture"));
	json_decref(r);
	return *out != NULL ? 0 : fail(out, -ENOMEM, "%s", "out of memory");
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

int
tcpa_ctl_endpoints(const json_t *args, json_t **out)
{
	const json_t *an = json_object_get(args, "anomaly");
	struct tcpa_report_in in;
	struct snap s;
	int st, top, anom = -1, rc;
	size_t keep = 0;
	char err[256];

	if (tcpa_report_state_arg(args, &st, err, sizeof(err)) != 0)
		return fail(out, -EINVAL, "%s", err);
	if ((rc = get_int(args, "top", 0, &top, out)) != 0)
		return rc;
	if (an != NULL) {
		for (unsigned a = 0; a < TCPA_ANOM_MAX && json_is_string(an); a++)
			if (strcmp(json_string_value(an), tcpa_anom_name(a)) == 0)
				anom = (int)a;
		if (anom < 0)
			return fail(out, -EINVAL, "unknown anomaly '%s' (see ANOMALIES.md)",
				json_is_string(an) ? json_string_value(an) : "?");
	}
	if (snap_take(&s) != 0)
		return fail(out, -ENOMEM, "%s", "out of memory");
	for (size_t i = 0; i < s.neps; i++)
		if ((st < 0 || s.eps[i].states[st] != 0) && (anom < 0 || s.eps[i].anom[anom] != 0))
			s.eps[keep++] = s.eps[i];
	s.neps = keep;
	snap_in(&s, &in);
	*out = tcpa_report_endpoints_json(&in, top != 0 ? (size_t)top : s.neps);
	free(s.eps);
	return *out != NULL ? 0 : fail(out, -ENOMEM, "%s", "out of memory");
}

int
tcpa_ctl_version(const json_t *args, json_t **out)
{
	(void)args;
	*out = json_pack("{s:s,s:s,s:f}", "version", TCPA_VERSION, "dpdk", rte_version(),
		"uptime_s", (double)(rte_get_timer_cycles() - tcpa_start_tsc) /
		(double)rte_get_timer_hz());
	return *out != NULL ? 0 : fail(out, -ENOMEM, "%s", "out of memory");
}

static json_t *
ports_json(void)
{
	json_t *a = json_array();
	uint16_t port;

	RTE_ETH_FOREACH_DEV(port) {
		struct rte_eth_stats es;
		char name[RTE_ETH_NAME_MAX_LEN] = "";

		if (rte_eth_stats_get(port, &es) != 0)
			continue;
		rte_eth_dev_get_name_by_port(port, name);
		json_array_append_new(a, json_pack("{s:i,s:s,s:I,s:I,s:I,s:I,s:I}", "port", port,
			"name", name, "rx_packets", (json_int_t)es.ipackets,
			"rx_bytes", (json_int_t)es.ibytes, "rx_missed", (json_int_t)es.imissed,
			"rx_errors", (json_int_t)es.ierrors, "rx_nombuf", (json_int_t)es.rx_nombuf));
	}
	return a;
}

static json_t *
cores_json(void)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < tcpa_nworkers; i++) {
		const struct worker *w = &tcpa_workers[i];
		struct tcpa_stats snap, *st = &snap;
		struct tcpa_flow_table *ft = tcpa_engine_flows(w->eng);
		uint32_t n, cap = tcpa_flow_capacity(ft);

		tcpa_worker_stats(w, &snap);
		n = (uint32_t)snap.flows_active;

		json_array_append_new(a, json_pack("{s:i,s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:f}",
			"core", i, "lcore", w->lcore,
			"rx_packets", (json_int_t)__atomic_load_n(&st->rx_pkts, __ATOMIC_RELAXED),
			"tcp_packets", (json_int_t)__atomic_load_n(&st->tcp_pkts, __ATOMIC_RELAXED),
			"dispatched", (json_int_t)__atomic_load_n(&st->dispatched, __ATOMIC_RELAXED),
			"ring_full", (json_int_t)__atomic_load_n(&st->ring_full, __ATOMIC_RELAXED),
			"flows", (json_int_t)n, "flow_capacity", (json_int_t)cap,
			"flow_fill", cap != 0 ? (double)n / cap : 0.0));
	}
	return a;
}

int
tcpa_ctl_stats(const json_t *args, json_t **out)
{
	struct rte_mempool *mp = rte_mempool_lookup("tcpa_rx");

	(void)args;
	*out = json_pack("{s:o,s:o,s:{s:I,s:I}}", "ports", ports_json(), "cores", cores_json(),
		"mempool", "in_use", (json_int_t)(mp != NULL ? rte_mempool_in_use_count(mp) : 0),
		"free", (json_int_t)(mp != NULL ? rte_mempool_avail_count(mp) : 0));
	return *out != NULL ? 0 : fail(out, -ENOMEM, "%s", "out of memory");
}

int
tcpa_ctl_config(const json_t *args, json_t **out)
{
	const json_t *set = json_object_get(args, "set");
	char err[256];
	int rc;

	if (set != NULL) {
		if (!json_is_object(set))
			return fail(out, -EINVAL, "%s", "'set' must be an object of config keys");
		rc = tcpa_conf_apply_json(&tcpa_conf_g, (const struct json_t *)set, 1, err,
			sizeof(err));
		if (rc != 0)
			return fail(out, rc, "%s", err);
		tcpa_ctl_apply_conf();
	}
	*out = (json_t *)tcpa_conf_dump(&tcpa_conf_g);
	return *out != NULL ? 0 : fail(out, -ENOMEM, "%s", "out of memory");
}
