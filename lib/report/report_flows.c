/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow records (INTERFACES.md: the report's "flows" and the socket's
 * "flows" answer) and the filters of the "flows" command. Control path:
 * connections are copied out of the RX cores' live tables entry by entry;
 * an entry being rewritten at that instant may give one inconsistent
 * record, never a crash: every index and state is range-checked on the
 * copy before use.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
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

/* "cursor": "E:I", where a table-order listing stopped (engine, entry). */
static int
get_cursor(const json_t *args, struct tcpa_flow_filter *x, char *err, size_t len)
{
	const json_t *c = json_object_get(args, "cursor");
	unsigned e, i;
	char end;

	if (c == NULL)
		return 0;
	if (!json_is_string(c) || sscanf(json_string_value(c), "%u:%u%c", &e, &i, &end) != 2)
		return bad(err, len, "'cursor' must be the \"cursor\" of a previous answer, "
			"not '%s'", json_is_string(c) ? json_string_value(c) : "?");
	x->cursor_engine = e;
	x->cursor_index = i;
	x->has_cursor = 1;
	return 0;
}

int
tcpa_report_flow_filter(const json_t *args, struct tcpa_flow_filter *x, char *err, size_t len)
{
	int top, off, rc;

	tcpa_report_flow_filter_all(x);
	if ((rc = get_ip(args, "ip", &x->any_ip, &x->ip[0], err, len)) != 0 ||
			(!x->any_ip &&
			 (rc = get_ip(args, "src", &x->has_ip[0], &x->ip[0], err, len)) != 0) ||
			(rc = get_ip(args, "dst", &x->has_ip[1], &x->ip[1], err, len)) != 0 ||
			(rc = get_int(args, "port", -1, &x->any_port, err, len)) != 0 ||
			(rc = get_int(args, "sport", -1, &x->port[0], err, len)) != 0 ||
			(rc = get_int(args, "dport", -1, &x->port[1], err, len)) != 0 ||
			(rc = get_int(args, "top", 1000, &top, err, len)) != 0 ||
			(rc = get_int(args, "offset", 0, &off, err, len)) != 0 ||
			(rc = get_cursor(args, x, err, len)) != 0 ||
			(rc = tcpa_report_state_arg(args, &x->state, err, len)) != 0 ||
			(rc = get_condition(args, &x->anom, err, len)) != 0)
		return rc;
	x->top = top == 0 ? SIZE_MAX : (size_t)top;
	x->offset = (size_t)off;
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
	tcpa_report_zone(o, fk->zone);
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
