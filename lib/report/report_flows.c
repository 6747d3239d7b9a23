/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow records (INTERFACES.md: the report's "flows" and the socket's
 * "flows" answer) and the filters of the "flows" command. Control path:
 * connections are copied out of the RX cores' live tables entry by entry;
 * an entry being rewritten at that instant may give one inconsistent
 * record, never a crash: every index and state is range-checked on the
 * copy before use.
 */
#define _GNU_SOURCE /* qsort_r */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tcpa_report.h"
#include "tcpa_tcp.h"

/* ---- filter ---- */

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
bad(char *err, size_t len, const char *fmt, const char *arg)
{
	snprintf(err, len, fmt, arg);
	return -EINVAL;
}

static int
get_int(const json_t *args, const char *key, int def, int *v, char *err, size_t len)
{
	const json_t *x = json_object_get(args, key);

	*v = def;
	if (x == NULL)
		return 0;
	if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > INT32_MAX)
		return bad(err, len, "'%s' must be a non-negative integer", key);
	*v = (int)json_integer_value(x);
	return 0;
}

static int
get_ip(const json_t *args, const char *key, int *has, struct tcpa_ip *ip, char *err, size_t len)
{
	const json_t *x = json_object_get(args, key);

	if (x == NULL)
		return 0;
	if (!json_is_string(x) || parse_ip(json_string_value(x), ip) != 0)
		return bad(err, len, "'%s' must be an IPv4 or IPv6 address", key);
	*has = 1;
	return 0;
}

int
tcpa_report_state_arg(const json_t *args, int *st, char *err, size_t len)
{
	const json_t *x = json_object_get(args, "state");

	*st = -1;
	if (x == NULL)
		return 0;
	if (!json_is_string(x) || (*st = tcpa_tcp_state_parse(json_string_value(x))) < 0)
		return bad(err, len, "unknown state '%s' (ESTABLISHED, CLOSE_WAIT, ...)",
			json_is_string(x) ? json_string_value(x) : "?");
	return 0;
}

/* "anomaly": one of the per-connection conditions. */
static int
get_condition(const json_t *args, int *anom, char *err, size_t len)
{
	const json_t *an = json_object_get(args, "anomaly");
	const char *name = json_is_string(an) ? json_string_value(an) : "?";

	*anom = -1;
	if (an == NULL)
		return 0;
	for (unsigned a = 0; a < TCPA_ANOM_MAX; a++)
		if (tcpa_anom_is_conn_condition(a) && strcmp(name, tcpa_anom_name(a)) == 0)
			*anom = (int)a;
	if (*anom < 0)
		return bad(err, len, "flows are filtered by a connection condition "
			"(close_wait_stuck, idle_close, stale_reuse, syn_unanswered), not '%s': "
			"per-segment counts are kept per endpoint (use 'endpoints')", name);
	return 0;
}

void
tcpa_report_flow_filter_all(struct tcpa_flow_filter *x)
{
	memset(x, 0, sizeof(*x));
	x->port[0] = x->port[1] = x->any_port = x->state = x->anom = -1;
	x->top = SIZE_MAX;
}

int
tcpa_report_flow_filter(const json_t *args, struct tcpa_flow_filter *x, char *err, size_t len)
{
	int top, rc;

	tcpa_report_flow_filter_all(x);
	if ((rc = get_ip(args, "ip", &x->any_ip, &x->ip[0], err, len)) != 0 ||
			(!x->any_ip &&
			 (rc = get_ip(args, "src", &x->has_ip[0], &x->ip[0], err, len)) != 0) ||
			(rc = get_ip(args, "dst", &x->has_ip[1], &x->ip[1], err, len)) != 0 ||
			(rc = get_int(args, "port", -1, &x->any_port, err, len)) != 0 ||
			(rc = get_int(args, "sport", -1, &x->port[0], err, len)) != 0 ||
			(rc = get_int(args, "dport", -1, &x->port[1], err, len)) != 0 ||
			(rc = get_int(args, "top", 1000, &top, err, len)) != 0 ||
			(rc = tcpa_report_state_arg(args, &x->state, err, len)) != 0 ||
			(rc = get_condition(args, &x->anom, err, len)) != 0)
		return rc;
	x->top = top == 0 ? SIZE_MAX : (size_t)top;
	return 0;
}

static int
side_match(const struct tcpa_flow_key *k, unsigned side, const struct tcpa_ip *ip, int port)
{
	return (ip == NULL || memcmp(&k->ip[side], ip, sizeof(*ip)) == 0) &&
		(port < 0 || k->port[side] == port);
}

int
tcpa_report_flow_match(const struct tcpa_flow_filter *x, const struct tcpa_conn *c,
		const struct tcpa_conn_cold *cold)
{
	const struct tcpa_flow_key *k = &c->flow.key;
	unsigned cli = c->tcp.cli & 1, srv = !cli;

	if (x->state >= 0 && c->tcp.half[0].state != x->state && c->tcp.half[1].state != x->state)
		return 0;
	if (x->any_ip && !side_match(k, 0, &x->ip[0], -1) && !side_match(k, 1, &x->ip[0], -1))
		return 0;
	if (x->any_port >= 0 && k->port[0] != x->any_port && k->port[1] != x->any_port)
		return 0;
	/* src/sport are the client's, dst/dport the server's. */
	if (!side_match(k, cli, x->has_ip[0] && !x->any_ip ? &x->ip[0] : NULL, x->port[0]))
		return 0;
	if (!side_match(k, srv, x->has_ip[1] ? &x->ip[1] : NULL, x->port[1]))
		return 0;
	return x->anom < 0 ||
		tcpa_anom_conn_showed(&c->rules, &cold->rules, &c->tcp, (unsigned)x->anom);
}

/* ---- records ---- */

json_t *
tcpa_report_flow(const struct tcpa_conn *c, const struct tcpa_conn_cold *x, uint32_t now_ms)
{
	unsigned cli = c->tcp.cli & 1, srv = !cli;
	const struct tcpa_flow_key *fk = &c->flow.key;
	struct tcpa_ep_key k;
	char cn[80], sn[80];
	json_t *o = json_object(), *an = json_object();

	if (o == NULL || an == NULL) {
		json_decref(o);
		json_decref(an);
		return NULL;
	}
	memset(&k, 0, sizeof(k));
	k.role = TCPA_EP_SERVER;
	k.ip = fk->ip[cli];
	k.port = fk->port[cli];
	tcpa_report_ep_name(&k, cn, sizeof(cn));
	k.ip = fk->ip[srv];
	k.port = fk->port[srv];
	tcpa_report_ep_name(&k, sn, sizeof(sn));
	json_object_set_new(o, "client", json_string(cn));
	json_object_set_new(o, "server", json_string(sn));
	if (fk->vlan != 0)
		json_object_set_new(o, "vlan", json_integer(fk->vlan));
	json_object_set_new(o, "client_state",
		json_string(tcpa_tcp_state_name(c->tcp.half[cli].state)));
	json_object_set_new(o, "server_state",
		json_string(tcpa_tcp_state_name(c->tcp.half[srv].state)));
	json_object_set_new(o, "packets", json_pack("[I,I]",
		(json_int_t)tcpa_conn_pkts(c, x, cli), (json_int_t)tcpa_conn_pkts(c, x, srv)));
	json_object_set_new(o, "bytes", json_pack("[I,I]",
		(json_int_t)tcpa_conn_bytes(c, x, cli), (json_int_t)tcpa_conn_bytes(c, x, srv)));
	json_object_set_new(o, "idle_s",
		json_real((double)(uint32_t)(now_ms - c->flow.last_ms) / 1e3));
	json_object_set_new(o, "midstream", json_boolean(c->tcp.flags & TCPA_CONN_MIDSTREAM));
	/*
	 * The per-connection conditions this connection showed. Per-segment
	 * counts are kept per endpoint, not per connection (docs/DESIGN.md).
	 */
	for (unsigned a = 0; a < TCPA_ANOM_MAX; a++)
		if (tcpa_anom_conn_showed(&c->rules, &x->rules, &c->tcp, a))
			json_object_set_new(an, tcpa_anom_name(a), json_integer(1));
	json_object_set_new(o, "anomalies", an);
	/* Handshake RTT as the tap saw it (SYN to the ACK that completed it). */
	json_object_set_new(o, "rtt_ms", c->rules.rtt16 != 0 ?
		json_real((double)c->rules.rtt16 * 16 / 1e3) : json_null());
	return o;
}

/* One connection copied out of a live table, with its cold entry. */
struct flow_rec {
	struct tcpa_conn c;
	struct tcpa_conn_cold x;
};

struct flow_walk {
	const struct tcpa_flow_filter *flt;
	struct flow_rec *v;
	size_t n, cap;
	int nomem;
};

static int
flow_visit(void *arg, const struct tcpa_conn *live, const struct tcpa_conn_cold *lx)
{
	struct flow_walk *w = arg;
	struct flow_rec r;

	/* Copy first, check the copy: the RX core may rewrite the entry now. */
	memcpy(&r.c, live, sizeof(r.c));
	memcpy(&r.x, lx, sizeof(r.x));
	if (!r.c.flow.live || r.c.tcp.half[0].state >= TCPA_TCP_ST_MAX ||
			r.c.tcp.half[1].state >= TCPA_TCP_ST_MAX ||
			!tcpa_report_flow_match(w->flt, &r.c, &r.x))
		return 0;
	if (w->n == w->cap) {
		size_t cap = w->cap != 0 ? w->cap * 2 : 1024;
		struct flow_rec *v = realloc(w->v, cap * sizeof(*v));

		if (v == NULL) {
			w->nomem = 1;
			return -1;
		}
		w->v = v;
		w->cap = cap;
	}
	w->v[w->n++] = r;
	return 0;
}

/* Longest idle first: the stuck connections an operator looks for. */
static int
by_idle(const void *a, const void *b, void *arg)
{
	uint32_t now_ms = *(const uint32_t *)arg;
	uint32_t x = now_ms - ((const struct flow_rec *)a)->c.flow.last_ms;
	uint32_t y = now_ms - ((const struct flow_rec *)b)->c.flow.last_ms;

	return x < y ? 1 : x > y ? -1 : 0;
}

json_t *
tcpa_report_flows(struct tcpa_engine *const *engs, unsigned n, const struct tcpa_flow_filter *x)
{
	struct flow_walk w = { .flt = x };
	uint64_t now_ns = 0;
	uint32_t now_ms;
	json_t *a = json_array();

	if (a == NULL)
		return NULL;
	for (unsigned i = 0; i < n; i++) {
		uint64_t t = tcpa_engine_now(engs[i]);

		if (t > now_ns)
			now_ns = t;
		tcpa_engine_foreach(engs[i], flow_visit, &w);
	}
	now_ms = tcpa_ns_to_ms(now_ns);
	if (w.n > 0)
		qsort_r(w.v, w.n, sizeof(*w.v), by_idle, &now_ms);
	for (size_t i = 0; i < w.n && i < x->top && !w.nomem; i++) {
		json_t *o = tcpa_report_flow(&w.v[i].c, &w.v[i].x, now_ms);

		w.nomem = o == NULL || json_array_append_new(a, o) != 0;
	}
	free(w.v);
	if (w.nomem) {
		json_decref(a);
		return NULL;
	}
	return a;
}
