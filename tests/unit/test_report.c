/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for lib/report: the report's sections made from the counter
 * list, the flows filter and flow records (INTERFACES.md, the report's
 * "flows" and the socket's "flows" answer), endpoint names and the text
 * rendering. Connections are real: segments fed through two engines, as
 * two RX cores would.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tcpa_conf.h"
#include "tcpa_engine.h"
#include "tcpa_report.h"

#include "check.h"
#include "segment.h"

#define F_S TCPA_TCP_SYN
#define F_A TCPA_TCP_ACK
#define F_F TCPA_TCP_FIN

#define SEC TCPA_NS_PER_S
#define T0 (1700000000ULL * SEC)

static struct tcpa_engine *eng[2];
static void *mem[2];
static struct tcpa_conf conf;
static struct tcpa_hash_secret sec;
static uint64_t now;

static void
engines_open(void)
{
	struct tcpa_engine_conf ec;

	tcpa_conf_defaults(&conf);
	conf.flows_per_core = 1024;
	conf.endpoints_per_core = 256;
	tcpa_hash_secret_init(&sec, 99);
	tcpa_engine_conf_from(&conf, 0, &sec, &ec);
	for (unsigned i = 0; i < 2; i++) {
		size_t sz = tcpa_engine_memsize(&ec);

		mem[i] = aligned_alloc(64, (sz + 63) & ~(size_t)63);
		if (sz == 0 || mem[i] == NULL)
			exit(2);
		eng[i] = tcpa_engine_init(mem[i], &ec);
		if (eng[i] == NULL)
			exit(2);
	}
	now = T0;
}

static void
engines_close(void)
{
	for (unsigned i = 0; i < 2; i++)
		free(mem[i]);
}

/* One segment from @src:@sp to @dst:@dp into engine @e. */
static void
seg(unsigned e, uint32_t src, uint16_t sp, uint32_t dst, uint16_t dp, uint8_t fl,
		uint32_t seq, uint32_t ack, uint16_t len)
{
	struct tcpa_ip a, b;
	struct tcpa_pkt p;

	tcpa_ip_set_v4h(&a, src);
	tcpa_ip_set_v4h(&b, dst);
	test_segment(&p, &a, &b, sp, dp, fl, seq, ack, len, 1000);
	p.ts = now;
	p.rxc = (uint8_t)e;
	tcpa_engine_hash(&p, &sec);
	CHECK_EQ(tcpa_engine_input_burst(eng[e], &p, 1), 1);
	now += SEC / 1000;
}

/*
 * A client @c:@cp opens a connection to @s:@sp, each side sends @n bytes;
 * with @fin the server closes and the client acknowledges (client in
 * CLOSE_WAIT).
 */
static void
conn(unsigned e, uint32_t c, uint16_t cp, uint32_t s, uint16_t sp, uint16_t n, bool fin)
{
	seg(e, c, cp, s, sp, F_S, 100, 0, 0);
	seg(e, s, sp, c, cp, F_S | F_A, 900, 101, 0);
	seg(e, c, cp, s, sp, F_A, 101, 901, 0);
	seg(e, c, cp, s, sp, F_A, 101, 901, n);
	seg(e, s, sp, c, cp, F_A, 901, 101 + n, n);
	seg(e, c, cp, s, sp, F_A, 101 + n, 901 + n, 0);
	if (fin) {
		seg(e, s, sp, c, cp, F_F | F_A, 901 + n, 101 + n, 0);
		seg(e, c, cp, s, sp, F_A, 101 + n, 902 + n, 0);
	}
}

static json_t *
args(const char *text)
{
	json_error_t err;
	json_t *a = json_loads(text, 0, &err);

	if (a == NULL) {
		fprintf(stderr, "bad test JSON %s: %s\n", text, err.text);
		exit(2);
	}
	return a;
}

static json_t *
flows(const char *text)
{
	struct tcpa_flow_filter x;
	json_t *a = args(text), *r;
	char err[256];

	CHECK_EQ(tcpa_report_flow_filter(a, &x, err, sizeof(err)), 0);
	json_decref(a);
	r = tcpa_report_flows(eng, 2, &x);
	CHECK(r != NULL);
	return r;
}

/* ---- filter arguments ---- */

static int
filter_err(const char *text, const char *want)
{
	struct tcpa_flow_filter x;
	json_t *a = args(text);
	char err[256] = "";
	int rc = tcpa_report_flow_filter(a, &x, err, sizeof(err));

	json_decref(a);
	if (rc == 0 || strstr(err, want) == NULL) {
		fprintf(stderr, "filter %s: rc %d, error '%s', expected one with '%s'\n", text, rc,
			err, want);
		return 0;
	}
	return 1;
}

static void
test_filter_args(void)
{
	struct tcpa_flow_filter x;
	json_t *a = args("{\"ip\": \"10.0.0.1\", \"dport\": 80, \"state\": \"CLOSE_WAIT\", "
		"\"anomaly\": \"close_wait_stuck\", \"top\": 5}");
	char err[256];

	CHECK_EQ(tcpa_report_flow_filter(a, &x, err, sizeof(err)), 0);
	json_decref(a);
	CHECK(x.any_ip);
	CHECK_EQ(x.port[1], 80);
	CHECK_EQ(x.port[0], -1);
	CHECK_EQ(x.state, TCPA_TCP_ST_CLOSE_WAIT);
	CHECK_EQ(x.anom, TCPA_ANOM_close_wait_stuck);
	CHECK_EQ(x.top, 5);
	/* Defaults: every connection, at most 1000; top 0 means all. */
	a = args("{}");
	CHECK_EQ(tcpa_report_flow_filter(a, &x, err, sizeof(err)), 0);
	json_decref(a);
	CHECK_EQ(x.top, 1000);
	CHECK_EQ(x.state, -1);
	CHECK_EQ(x.anom, -1);
	a = args("{\"top\": 0, \"src\": \"fd00::1\"}");
	CHECK_EQ(tcpa_report_flow_filter(a, &x, err, sizeof(err)), 0);
	json_decref(a);
	CHECK_EQ(x.top, SIZE_MAX);
	CHECK(x.has_ip[0] && x.ip[0].b[0] == 0xfd && x.ip[0].b[15] == 1);
	/* Each bad argument is named. */
	CHECK(filter_err("{\"ip\": \"10.0.0.300\"}", "'ip' must be an IPv4 or IPv6 address"));
	CHECK(filter_err("{\"dst\": 5}", "'dst'"));
	CHECK(filter_err("{\"sport\": -1}", "'sport' must be a non-negative integer"));
	CHECK(filter_err("{\"top\": \"x\"}", "'top'"));
	CHECK(filter_err("{\"state\": \"OPEN\"}", "unknown state 'OPEN'"));
	CHECK(filter_err("{\"anomaly\": \"dup_ack\"}", "per-segment counts are kept per endpoint"));
	CHECK(filter_err("{\"anomaly\": 3}", "not '?'"));
}

/* ---- flow records ---- */

static const json_t *
find_flow(const json_t *a, const char *client)
{
	size_t i;
	json_t *f;

	json_array_foreach(a, i, f)
		if (strcmp(json_string_value(json_object_get(f, "client")), client) == 0)
			return f;
	return NULL;
}

static void
test_flow_records(void)
{
	json_t *a;
	const json_t *f;

	engines_open();
	conn(0, 0x0a000001, 40001, 0x0a000002, 80, 100, false);
	conn(1, 0x0a000003, 40002, 0x0a000002, 80, 50, true);
	now += 10 * SEC;
	for (unsigned i = 0; i < 2; i++)
		tcpa_engine_age(eng[i], now);

	a = flows("{}");
	CHECK_EQ(json_array_size(a), 2);
	f = find_flow(a, "10.0.0.1:40001");
	CHECK(f != NULL);
	if (f != NULL) {
		CHECK(strcmp(json_string_value(json_object_get(f, "server")), "10.0.0.2:80") == 0);
		CHECK(strcmp(json_string_value(json_object_get(f, "client_state")),
			"ESTABLISHED") == 0);
		/* SYN, ACK, data, ACK from the client; SYN-ACK, data from the server. */
		CHECK_EQ(json_integer_value(json_array_get(json_object_get(f, "packets"), 0)), 4);
		CHECK_EQ(json_integer_value(json_array_get(json_object_get(f, "packets"), 1)), 2);
		CHECK_EQ(json_integer_value(json_array_get(json_object_get(f, "bytes"), 0)), 100);
		CHECK_EQ(json_integer_value(json_array_get(json_object_get(f, "bytes"), 1)), 100);
		CHECK(json_is_false(json_object_get(f, "midstream")));
		CHECK_EQ(json_object_size(json_object_get(f, "anomalies")), 0);
		/* SYN to the ACK that completed the handshake: 2 ms. */
		CHECK(json_real_value(json_object_get(f, "rtt_ms")) > 1.9 &&
			json_real_value(json_object_get(f, "rtt_ms")) < 2.1);
	}
	f = find_flow(a, "10.0.0.3:40002");
	CHECK(f != NULL);
	if (f != NULL) {
		CHECK(strcmp(json_string_value(json_object_get(f, "client_state")),
			"CLOSE_WAIT") == 0);
		CHECK(strcmp(json_string_value(json_object_get(f, "server_state")),
			"FIN_WAIT_2") == 0);
		/* In CLOSE_WAIT for 10 s > close_wait_s: the condition is in the record. */
		CHECK(json_integer_value(json_object_get(json_object_get(f, "anomalies"),
			"close_wait_stuck")) == 1);
	}
	/* Longest idle first: the first connection went quiet earlier. */
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(a, 0), "client")),
		"10.0.0.1:40001") == 0);
	json_decref(a);

	/* Filters, over both engines. */
	a = flows("{\"state\": \"CLOSE_WAIT\"}");
	CHECK_EQ(json_array_size(a), 1);
	json_decref(a);
	a = flows("{\"anomaly\": \"close_wait_stuck\"}");
	CHECK_EQ(json_array_size(a), 1);
	json_decref(a);
	a = flows("{\"ip\": \"10.0.0.2\"}");
	CHECK_EQ(json_array_size(a), 2);
	json_decref(a);
	a = flows("{\"src\": \"10.0.0.2\"}");       /* the server is never the source */
	CHECK_EQ(json_array_size(a), 0);
	json_decref(a);
	a = flows("{\"sport\": 40002, \"dport\": 80}");
	CHECK_EQ(json_array_size(a), 1);
	json_decref(a);
	a = flows("{\"port\": 40001}");
	CHECK_EQ(json_array_size(a), 1);
	json_decref(a);
	a = flows("{\"top\": 1}");
	CHECK_EQ(json_array_size(a), 1);
	json_decref(a);
	engines_close();
}

/* ---- listings produced part by part ---- */

/* Every record of an iterator, with a budget of 3 entries per call. */
static unsigned
drain(struct tcpa_flow_iter *it, json_t *into, unsigned *calls)
{
	unsigned n = 0;
	int rc;

	do {
		unsigned budget = 3;
		json_t *r = NULL;

		rc = tcpa_flow_iter_next(it, &r, &budget);
		(*calls)++;
		if (rc == 1) {
			json_array_append_new(into, r);
			n++;
		}
	} while (rc == 1 || rc == 2);
	CHECK_EQ(rc, 0);
	return n;
}

static void
test_iterators(void)
{
	struct tcpa_flow_filter x;
	struct tcpa_flow_iter *it;
	struct tcpa_ep_table *tabs[2];
	json_t *all = json_array(), *page = json_array();
	unsigned calls = 0, seen = 0;
	char cur[32];

	engines_open();
	for (unsigned i = 0; i < 40; i++)
		conn(i % 2, 0x0a010000 + i, (uint16_t)(40000 + i), 0x0a000002, 80, 10, i % 3 == 0);
	/* Sorted: longest idle first, offset and top applied, the total counted. */
	tcpa_report_flow_filter_all(&x);
	x.top = 5;
	x.offset = 2;
	it = tcpa_flow_iter_create(eng, 2, &x, 1);
	CHECK(it != NULL);
	CHECK_EQ(drain(it, all, &calls), 5);
	CHECK(calls >= 40 / 3);  /* the scan went 3 entries at a time */
	CHECK_EQ(tcpa_flow_iter_total(it), 40);
	CHECK(!tcpa_flow_iter_cursor(it, cur, sizeof(cur)));
	tcpa_flow_iter_free(it);
	/* The third longest idle is the first connection's, the 40th the last. */
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(all, 0), "client")),
		"10.1.0.2:40002") == 0);
	json_array_clear(all);
	/* Table order, 7 at a time through the cursor: each connection once. */
	x.top = 7;
	x.offset = 0;
	x.has_cursor = 1;
	x.cursor_engine = 0;
	x.cursor_index = 0;
	for (int pages = 0; pages < 20; pages++) {
		it = tcpa_flow_iter_create(eng, 2, &x, 0);
		seen += drain(it, page, &calls);
		if (!tcpa_flow_iter_cursor(it, cur, sizeof(cur))) {
			tcpa_flow_iter_free(it);
			break;
		}
		CHECK_EQ(sscanf(cur, "%u:%u", &x.cursor_engine, &x.cursor_index), 2);
		tcpa_flow_iter_free(it);
	}
	CHECK_EQ(seen, 40);
	{
		size_t i, j;
		json_t *a, *b;

		json_array_foreach(page, i, a)
			json_array_foreach(page, j, b)
				if (i < j)
					CHECK(strcmp(json_string_value(json_object_get(a, "client")),
						json_string_value(json_object_get(b, "client"))) != 0);
	}
	/* Too many to sort in bounded memory: refused. */
	x.has_cursor = 0;
	x.top = TCPA_REPORT_MAX_SORTED;
	x.offset = 1;
	CHECK(tcpa_flow_iter_create(eng, 2, &x, 1) == NULL);
	/* Endpoints: merged, most severe first, offset and top, a few steps a call. */
	tabs[0] = tcpa_engine_endpoints(eng[0]);
	tabs[1] = tcpa_engine_endpoints(eng[1]);
	{
		struct tcpa_ep_iter *ei = tcpa_ep_iter_create(tabs, 2, -1, -1, 1, 3, &conf);
		unsigned got = 0, steps = 0;
		int rc;

		do {
			unsigned budget = 4;
			json_t *r = NULL;

			rc = tcpa_ep_iter_next(ei, &r, &budget);
			steps++;
			if (rc == 1) {
				got++;
				json_decref(r);
			}
		} while (rc == 1 || rc == 2);
		CHECK_EQ(rc, 0);
		CHECK_EQ(got, 3);
		CHECK(steps > 10);
		/* The server 10.0.0.2:80 and 40 client addresses. */
		CHECK_EQ(tcpa_ep_iter_total(ei), 41);
		tcpa_ep_iter_free(ei);
	}
	json_decref(all);
	json_decref(page);
	engines_close();
}

/* ---- the report from the counter list ---- */

static void
test_report_sections(void)
{
	const struct tcpa_stats *st[2];
	struct tcpa_ep_table *eps[2];
	struct tcpa_report_in in;
	struct tcpa_report_ep *ep = NULL;
	struct tcpa_stats sum;
	uint64_t core_pkts[2];
	size_t nep = 0;
	json_t *r;

	engines_open();
	conn(0, 0x0a000001, 40001, 0x0a000002, 80, 100, false);
	conn(1, 0x0a000003, 40002, 0x0a000002, 80, 50, true);
	for (unsigned i = 0; i < 2; i++) {
		st[i] = tcpa_engine_stats(eng[i]);
		eps[i] = tcpa_engine_endpoints(eng[i]);
		core_pkts[i] = st[i]->tcp_pkts;
	}
	/* Counters no core's segment path sets, to see where each goes. */
	tcpa_engine_stats(eng[0])->timer_full = 3;
	tcpa_engine_stats(eng[1])->events_lost = 4;
	tcpa_engine_stats(eng[1])->dispatched = 5;
	tcpa_report_sum_stats(st, 2, &sum);
	CHECK_EQ(tcpa_report_merge_eps(eps, 2, &ep, &nep), 0);
	memset(&in, 0, sizeof(in));
	in.total = &sum;
	in.core_pkts = core_pkts;
	in.ncores = 2;
	in.eps = ep;
	in.neps = nep;
	in.conf = &conf;
	in.version = "test";
	r = tcpa_report_build(&in);
	CHECK(r != NULL);
	/* Every counter of the list is in its section, with the sum of the cores. */
	for (unsigned i = 0; r != NULL && i < tcpa_stat_ndefs; i++) {
		const struct tcpa_stat_def *d = &tcpa_stat_defs[i];
		const json_t *v = json_object_get(json_object_get(r, d->section), d->key);

		CHECK(json_is_integer(v));
		CHECK_EQ(json_integer_value(v), tcpa_stat_value(&sum, d));
	}
	if (r != NULL) {
		const json_t *t = json_object_get(r, "totals"), *c = json_object_get(r, "capture");

		CHECK_EQ(json_integer_value(json_object_get(t, "tcp_packets")), 14);
		CHECK_EQ(json_integer_value(json_object_get(t, "flows_seen")), 2);
		CHECK_EQ(json_integer_value(json_object_get(t, "dispatched")), 5);
		CHECK_EQ(json_integer_value(json_object_get(c, "timer_full")), 3);
		CHECK_EQ(json_integer_value(json_object_get(c, "events_lost")), 4);
		CHECK_EQ(json_array_size(json_object_get(t, "cores")), 2);
		/* Every anomaly key of the contract, zero or not. */
		CHECK_EQ(json_object_size(json_object_get(r, "anomalies")), TCPA_ANOM_MAX);
		/* Server 10.0.0.2:80 and two client addresses. */
		CHECK_EQ(json_array_size(json_object_get(r, "endpoints")), 3);
	}
	/* The list itself: unique keys per section, Prometheus names and types. */
	for (unsigned i = 0; i < tcpa_stat_ndefs; i++) {
		const struct tcpa_stat_def *d = &tcpa_stat_defs[i];
		size_t ml = strlen(d->metric);

		CHECK(strncmp(d->metric, "tcpa_", 5) == 0);
		CHECK(strcmp(d->type, "counter") == 0 || strcmp(d->type, "gauge") == 0);
		CHECK_EQ(strcmp(d->type, "counter") == 0,
			ml > 6 && strcmp(d->metric + ml - 6, "_total") == 0);
		CHECK(strlen(d->help) > 10 && d->help[strlen(d->help) - 1] == '.');
		for (unsigned j = 0; j < i; j++) {
			CHECK(strcmp(d->metric, tcpa_stat_defs[j].metric) != 0);
			CHECK(strcmp(d->key, tcpa_stat_defs[j].key) != 0);
		}
	}
	json_decref(r);
	free(ep);
	engines_close();
}

/* ---- names and text ---- */

static void
test_names_text(void)
{
	struct tcpa_ep_key k;
	char buf[80];
	json_t *r;
	FILE *f;
	char *text = NULL;
	size_t len = 0;

	memset(&k, 0, sizeof(k));
	tcpa_ip_set_v4h(&k.ip, 0x0a000002);
	k.port = 8080;
	k.role = TCPA_EP_SERVER;
	tcpa_report_ep_name(&k, buf, sizeof(buf));
	CHECK(strcmp(buf, "10.0.0.2:8080") == 0);
	k.role = TCPA_EP_CLIENT;
	tcpa_report_ep_name(&k, buf, sizeof(buf));
	CHECK(strcmp(buf, "10.0.0.2") == 0);
	memset(&k.ip, 0, sizeof(k.ip));
	k.ip.b[0] = 0xfd;
	k.ip.b[15] = 2;
	k.role = TCPA_EP_SERVER;
	tcpa_report_ep_name(&k, buf, sizeof(buf));
	CHECK(strcmp(buf, "[fd00::2]:8080") == 0);

	r = args("{\"totals\": {\"packets\": 10, \"tcp_packets\": 9, \"flows_seen\": 2, "
		"\"flows_active\": 1, \"duration_s\": 1.5}, "
		"\"anomalies\": {\"close_wait_stuck\": 1, \"dup_ack\": 0}, \"malformed\": {}, "
		"\"capture\": {\"midstream\": 0}, \"endpoints\": [{\"endpoint\": \"10.0.0.2:80\", "
		"\"role\": \"server\", \"connections\": 2, \"states\": {\"CLOSE_WAIT\": 1}, "
		"\"diagnosis\": [\"leaks\"]}]}");
	f = open_memstream(&text, &len);
	CHECK(f != NULL);
	if (f != NULL) {
		CHECK_EQ(tcpa_report_print_text(f, r), 0);
		fclose(f);
		CHECK(strstr(text, "10 packets (9 TCP), 2 connections seen, 1 tracked now") != NULL);
		CHECK(strstr(text, "10.0.0.2:80 (server): leaks") != NULL);
		CHECK(strstr(text, "Anomalies: close_wait_stuck 1\n") != NULL);
		CHECK(strstr(text, "dup_ack") == NULL);
		CHECK(strstr(text, "CLOSE_WAIT=1") != NULL);
	}
	free(text);
	json_decref(r);
}

int
main(void)
{
	RUN(test_filter_args);
	RUN(test_flow_records);
	RUN(test_iterators);
	RUN(test_report_sections);
	RUN(test_names_text);
	return check_summary("report");
}
