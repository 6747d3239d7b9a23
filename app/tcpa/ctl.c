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
#define _GNU_SOURCE /* qsort_r */
#include <arpa/inet.h>
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
tcpa_engine_timeouts(const struct tcpa_conf *c, uint32_t t[TCPA_FLOW_TMO_MAX])
{
	t[TCPA_FLOW_TMO_CLOSED] = (uint32_t)(c->time_wait_s * 1000);
	t[TCPA_FLOW_TMO_EMBRYONIC] = (uint32_t)(c->timeout_syn_s * 1000);
	t[TCPA_FLOW_TMO_TIME_WAIT] = (uint32_t)(c->time_wait_s * 1000);
	t[TCPA_FLOW_TMO_CLOSING] = (uint32_t)(c->timeout_closing_s * 1000);
	t[TCPA_FLOW_TMO_ESTABLISHED] =
		(uint32_t)RTE_MIN(c->timeout_established_s * 1000, (uint64_t)INT32_MAX);
}

void
tcpa_anom_conf_of(const struct tcpa_conf *c, struct tcpa_anom_conf *a)
{
	a->close_wait_ms = (uint32_t)(c->close_wait_s * 1000);
	a->idle_close_ms = (uint32_t)(c->idle_close_s * 1000);
	a->syn_timeout_ms = (uint32_t)(c->syn_timeout_s * 1000);
	a->nagle_us = (uint32_t)(c->nagle_delay_ms * 1000);
	a->min_rto_us = (uint32_t)(c->min_rto_ms * 1000);
	a->reorder_us = (uint32_t)(c->reorder_ms * 1000);
	a->off = c->rules == 0;
}

void
tcpa_ctl_apply_conf(void)
{
	uint32_t t[TCPA_FLOW_TMO_MAX];
	struct tcpa_anom_conf a;

	/* Word stores: each RX core picks them up on its next read. */
	tcpa_engine_timeouts(&tcpa_conf_g, t);
	tcpa_anom_conf_of(&tcpa_conf_g, &a);
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

struct flow_filter {
	int has_ip[2];          /* "src"/"ip" and "dst" */
	struct tcpa_ip ip[2];
	int any_ip;             /* "ip": either side */
	int port[2];            /* "sport"/"dport", -1 = any */
	int any_port;           /* "port": either side, -1 = any */
	int state;              /* either endpoint, -1 = any */
	int anom;               /* a connection condition it showed, -1 = any */
	size_t top;
};

struct flow_rec {
	struct tcpa_flow f;
	struct tcpa_flow_ext x;         /* its cold line: counter carries, rules' flags */
};

struct flow_walk {
	const struct flow_filter *flt;
	struct tcpa_flow_table *ft;     /* the table being walked (for the rules' state) */
	struct flow_rec *v;
	size_t n, cap;
};

static int
parse_ip(const char *s, struct tcpa_ip *ip)
{
	uint8_t v4[4];

	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, s, v4) == 1) {
		tcpa_ip_set_v4(ip, v4);
		return 0;
	}
	return inet_pton(AF_INET6, s, ip->b) == 1 ? 0 : -1;
}

static int
side_match(const struct tcpa_flow *f, unsigned side, const struct tcpa_ip *ip, int port)
{
	return (ip == NULL || memcmp(&f->key.ip[side], ip, sizeof(*ip)) == 0) &&
		(port < 0 || f->key.port[side] == port);
}

static int
flow_match(const struct tcpa_flow *f, const struct flow_filter *x)
{
	unsigned cli = f->cli & 1, srv = !cli;

	if (x->state >= 0 && f->half[0].state != x->state && f->half[1].state != x->state)
		return 0;
	if (x->any_ip && !side_match(f, 0, &x->ip[0], -1) && !side_match(f, 1, &x->ip[0], -1))
		return 0;
	if (x->any_port >= 0 && f->key.port[0] != x->any_port && f->key.port[1] != x->any_port)
		return 0;
	/* src/sport are the client's, dst/dport the server's. */
	if (!side_match(f, cli, x->has_ip[0] && !x->any_ip ? &x->ip[0] : NULL, x->port[0]))
		return 0;
	if (!side_match(f, srv, x->has_ip[1] ? &x->ip[1] : NULL, x->port[1]))
		return 0;
	return 1;
}

/* Did the connection show condition @a (one of the per-connection ones)? */
static int
flow_has(const struct tcpa_flow *f, const struct tcpa_flow_ext *x, unsigned a)
{
	uint8_t cf = tcpa_anom_cold_c(x)->cflags;

	switch (a) {
	case TCPA_ANOM_close_wait_stuck:
		return ((f->hflags[0] | f->hflags[1]) & TCPA_AH_CW_STUCK) != 0;
	case TCPA_ANOM_idle_close:
		return (cf & TCPA_AC_IDLE) != 0;
	case TCPA_ANOM_stale_reuse:
		return (cf & TCPA_AC_STALE) != 0;
	case TCPA_ANOM_syn_unanswered:
		return (cf & TCPA_AC_SYN_DONE) &&
			f->half[f->cli & 1].state == TCPA_TCP_ST_SYN_SENT;
	default:
		return 0;
	}
}

static int
flow_visit(void *arg, struct tcpa_flow *live)
{
	struct flow_walk *w = arg;
	struct tcpa_flow f;

	/* Copy first, check the copy: the RX core may rewrite the entry now. */
	memcpy(&f, live, sizeof(f));
	if (!f.live || f.half[0].state >= TCPA_TCP_ST_MAX ||
			f.half[1].state >= TCPA_TCP_ST_MAX || !flow_match(&f, w->flt))
		return 0;
	if (w->n == w->cap) {
		size_t cap = w->cap != 0 ? w->cap * 2 : 1024;
		struct flow_rec *v = realloc(w->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		w->v = v;
		w->cap = cap;
	}
	w->v[w->n].f = f;
	memcpy(&w->v[w->n].x, tcpa_flow_ext(w->ft, live), sizeof(w->v[w->n].x));
	if (w->flt->anom >= 0 && !flow_has(&w->v[w->n].f, &w->v[w->n].x, (unsigned)w->flt->anom))
		return 0;
	w->n++;
	return 0;
}

/* Longest idle first: the stuck connections an operator looks for. */
static int
by_idle(const void *a, const void *b, void *arg)
{
	uint32_t now_ms = *(const uint32_t *)arg;
	uint32_t x = now_ms - ((const struct flow_rec *)a)->f.last_ms;
	uint32_t y = now_ms - ((const struct flow_rec *)b)->f.last_ms;

	return x < y ? 1 : x > y ? -1 : 0;
}

static json_t *
flow_json(const struct tcpa_flow *f, const struct tcpa_flow_ext *ext, uint32_t now_ms)
{
	unsigned cli = f->cli & 1, srv = !cli;
	struct tcpa_ep_key k;
	char c[80], s[80];
	json_t *o = json_object(), *an;

	if (o == NULL)
		return NULL;
	memset(&k, 0, sizeof(k));
	k.role = TCPA_EP_SERVER;
	k.ip = f->key.ip[cli];
	k.port = f->key.port[cli];
	tcpa_report_ep_name(&k, c, sizeof(c));
	k.ip = f->key.ip[srv];
	k.port = f->key.port[srv];
	tcpa_report_ep_name(&k, s, sizeof(s));
	json_object_set_new(o, "client", json_string(c));
	json_object_set_new(o, "server", json_string(s));
	if (f->key.vlan != 0)
		json_object_set_new(o, "vlan", json_integer(f->key.vlan));
	json_object_set_new(o, "client_state", json_string(tcpa_tcp_state_name(f->half[cli].state)));
	json_object_set_new(o, "server_state", json_string(tcpa_tcp_state_name(f->half[srv].state)));
	json_object_set_new(o, "packets", json_pack("[I,I]",
		(json_int_t)tcpa_flow_pkts(f, ext, cli), (json_int_t)tcpa_flow_pkts(f, ext, srv)));
	json_object_set_new(o, "bytes", json_pack("[I,I]",
		(json_int_t)tcpa_flow_bytes(f, ext, cli), (json_int_t)tcpa_flow_bytes(f, ext, srv)));
	json_object_set_new(o, "idle_s", json_real((double)(uint32_t)(now_ms - f->last_ms) / 1e3));
	json_object_set_new(o, "midstream", json_boolean(f->flags & TCPA_FLOW_MIDSTREAM));
	/*
	 * The per-connection conditions this connection showed. Per-segment
	 * counts are kept per endpoint, not per connection (docs/DESIGN.md).
	 */
	an = json_object();
	for (unsigned a = 0; a < TCPA_ANOM_MAX; a++)
		if (flow_has(f, ext, a))
			json_object_set_new(an, tcpa_anom_name(a), json_integer(1));
	json_object_set_new(o, "anomalies", an);
	/* Handshake RTT as the tap saw it (SYN to the ACK that completed it). */
	if (f->rtt16 != 0)
		json_object_set_new(o, "rtt_ms", json_real((double)f->rtt16 * 16 / 1e3));
	else
		json_object_set_new(o, "rtt_ms", json_null());
	return o;
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
get_ip(const json_t *args, const char *key, int *has, struct tcpa_ip *ip, json_t **out)
{
	const json_t *x = json_object_get(args, key);

	if (x == NULL)
		return 0;
	if (!json_is_string(x) || parse_ip(json_string_value(x), ip) != 0)
		return fail(out, -EINVAL, "'%s' must be an IPv4 or IPv6 address", key);
	*has = 1;
	return 0;
}

static int
get_state(const json_t *args, int *st, json_t **out)
{
	const json_t *x = json_object_get(args, "state");

	*st = -1;
	if (x == NULL)
		return 0;
	if (!json_is_string(x) || (*st = tcpa_tcp_state_parse(json_string_value(x))) < 0)
		return fail(out, -EINVAL, "unknown state '%s' (ESTABLISHED, CLOSE_WAIT, ...)",
			json_is_string(x) ? json_string_value(x) : "?");
	return 0;
}

static int
flows_filter(const json_t *args, struct flow_filter *x, json_t **out)
{
	int top;
	int rc;

	memset(x, 0, sizeof(*x));
	if ((rc = get_ip(args, "ip", &x->any_ip, &x->ip[0], out)) != 0 ||
			(!x->any_ip && (rc = get_ip(args, "src", &x->has_ip[0], &x->ip[0], out)) != 0) ||
			(rc = get_ip(args, "dst", &x->has_ip[1], &x->ip[1], out)) != 0 ||
			(rc = get_int(args, "port", -1, &x->any_port, out)) != 0 ||
			(rc = get_int(args, "sport", -1, &x->port[0], out)) != 0 ||
			(rc = get_int(args, "dport", -1, &x->port[1], out)) != 0 ||
			(rc = get_int(args, "top", 1000, &top, out)) != 0 ||
			(rc = get_state(args, &x->state, out)) != 0)
		return rc;
	x->top = top == 0 ? SIZE_MAX : (size_t)top;
	x->anom = -1;
	if (json_object_get(args, "anomaly") != NULL) {
		const json_t *an = json_object_get(args, "anomaly");
		const char *name = json_is_string(an) ? json_string_value(an) : "?";
		static const unsigned per_flow[] = {
			TCPA_ANOM_close_wait_stuck, TCPA_ANOM_idle_close, TCPA_ANOM_stale_reuse,
			TCPA_ANOM_syn_unanswered,
		};

		for (unsigned i = 0; i < TCPA_ARRAY_SIZE(per_flow); i++)
			if (strcmp(name, tcpa_anom_name(per_flow[i])) == 0)
				x->anom = (int)per_flow[i];
		if (x->anom < 0)
			return fail(out, -EINVAL, "flows are filtered by a connection condition "
				"(close_wait_stuck, idle_close, stale_reuse, syn_unanswered), not '%s': "
				"per-segment counts are kept per endpoint (use 'endpoints')", name);
	}
	return 0;
}

static json_t *
flows_array(const struct flow_filter *x)
{
	struct flow_walk w = { .flt = x };
	uint64_t now_ns = 0;
	uint32_t now_ms;
	json_t *a = json_array();

	if (a == NULL)
		return NULL;
	for (unsigned i = 0; i < tcpa_nworkers; i++) {
		uint64_t t = tcpa_engine_now(tcpa_workers[i].eng);

		if (t > now_ns)
			now_ns = t;
		w.ft = tcpa_engine_flows(tcpa_workers[i].eng);
		tcpa_flow_foreach(w.ft, flow_visit, &w);
	}
	now_ms = tcpa_ns_to_ms(now_ns);
	if (w.n > 0)
		qsort_r(w.v, w.n, sizeof(*w.v), by_idle, &now_ms);
	for (size_t i = 0; i < w.n && i < x->top; i++)
		json_array_append_new(a, flow_json(&w.v[i].f, &w.v[i].x, now_ms));
	free(w.v);
	return a;
}

int
tcpa_ctl_flows(const json_t *args, json_t **out)
{
	struct flow_filter x;
	int rc = flows_filter(args, &x, out);

	if (rc != 0)
		return rc;
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
		struct flow_filter x;

		memset(&x, 0, sizeof(x));
		x.port[0] = x.port[1] = x.any_port = x.state = x.anom = -1;
		x.top = SIZE_MAX;
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

int
tcpa_ctl_endpoints(const json_t *args, json_t **out)
{
	const json_t *an = json_object_get(args, "anomaly");
	struct tcpa_report_in in;
	struct snap s;
	int st, top, anom = -1, rc;
	size_t keep = 0;

	if ((rc = get_state(args, &st, out)) != 0 || (rc = get_int(args, "top", 0, &top, out)) != 0)
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
