/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for lib/engine: whole connections fed through
 * tcpa_engine_input_burst(), checked against the endpoint table (the ss
 * view) and the engine's counters: new, midstream, closed, expired and
 * evicted flows, and the anomalies the state machine reports.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpa_conf.h"
#include "tcpa_engine.h"
#include "tcpa_tcp.h"

#include "check.h"
#include "segment.h"

#define F_S TCPA_TCP_SYN
#define F_A TCPA_TCP_ACK
#define F_F TCPA_TCP_FIN
#define F_R TCPA_TCP_RST
#define F_P TCPA_TCP_PSH

#define CLI 0
#define SRV 1

#define MS TCPA_NS_PER_MS
#define SEC TCPA_NS_PER_S

/* Idle timeouts (ms) by class; TIME_WAIT's is time_wait_s. */
#define TMO_CLOSED 60000
#define TMO_EMBRYONIC 3000
#define TMO_TIME_WAIT 60000
#define TMO_CLOSING 30000
#define TMO_ESTABLISHED 600000

/* ---- engine and packet time ---- */

struct eng {
	void *mem;
	struct tcpa_engine *e;
	struct tcpa_engine_conf conf;
	uint64_t now;           /* packet time of the next segment, ns */
	/* A burst being built (see queue()/flush()). */
	struct tcpa_pkt burst[TCPA_BURST];
	uint16_t nb;
	bool queueing;
};

/* 2023-11-14T22:13:20Z: a realistic capture time. */
#define T0 (1700000000ULL * SEC)

static void
eng_open(struct eng *x, uint32_t flows, uint32_t endpoints, uint64_t t0)
{
	size_t sz;

	memset(x, 0, sizeof(*x));
	x->conf.flows = flows;
	x->conf.endpoints = endpoints;
	x->conf.timeout_ms[TCPA_FLOW_TMO_CLOSED] = TMO_CLOSED;
	x->conf.timeout_ms[TCPA_FLOW_TMO_EMBRYONIC] = TMO_EMBRYONIC;
	x->conf.timeout_ms[TCPA_FLOW_TMO_TIME_WAIT] = TMO_TIME_WAIT;
	x->conf.timeout_ms[TCPA_FLOW_TMO_CLOSING] = TMO_CLOSING;
	x->conf.timeout_ms[TCPA_FLOW_TMO_ESTABLISHED] = TMO_ESTABLISHED;
	/* The configuration's defaults (docs/CONFIG.md). */
	x->conf.anom.close_wait_ms = 5000;
	x->conf.anom.idle_close_ms = 2000;
	x->conf.anom.syn_timeout_ms = 3000;
	x->conf.anom.nagle_us = 30000;
	x->conf.anom.min_rto_us = 200000;
	x->conf.anom.reorder_us = 3000;
	tcpa_hash_secret_init(&x->conf.secret, 1234);
	sz = tcpa_engine_memsize(&x->conf);
	if (sz == 0) {
		fprintf(stderr, "tcpa_engine_memsize: 0\n");
		exit(2);
	}
	x->mem = aligned_alloc(64, (sz + 63) & ~(size_t)63);
	if (x->mem == NULL)
		exit(2);
	memset(x->mem, 0xc3, sz);
	x->e = tcpa_engine_init(x->mem, &x->conf);
	if (x->e == NULL) {
		fprintf(stderr, "tcpa_engine_init failed\n");
		exit(2);
	}
	x->now = t0;
}

static void
eng_close(struct eng *x)
{
	free(x->mem);
}

static void
flush(struct eng *x)
{
	if (x->nb != 0)
		CHECK_EQ(tcpa_engine_input_burst(x->e, x->burst, x->nb), x->nb);
	x->nb = 0;
	x->queueing = false;
}

/* Segments until flush() go into one burst. */
static void
queue(struct eng *x)
{
	x->queueing = true;
}

static void
put(struct eng *x, const struct tcpa_pkt *p)
{
	x->burst[x->nb++] = *p;
	if (!x->queueing || x->nb == TCPA_BURST) {
		bool q = x->queueing;

		flush(x);
		x->queueing = q;
	}
}

/* ---- connections ---- */

struct conn {
	struct tcpa_ip ip[2];
	uint16_t port[2];
	uint32_t nxt[2];
	uint8_t rxc;
};

static void
conn_init(struct conn *c, uint32_t caddr, uint16_t cport, uint32_t saddr, uint16_t sport)
{
	memset(c, 0, sizeof(*c));
	tcpa_ip_set_v4h(&c->ip[CLI], caddr);
	tcpa_ip_set_v4h(&c->ip[SRV], saddr);
	c->port[CLI] = cport;
	c->port[SRV] = sport;
	c->nxt[CLI] = 1000000 + cport * 7U;
	c->nxt[SRV] = 3000000 + sport * 13U + cport;
}

/* A segment of @who at the current packet time (window 65535, no options). */
static void
pkt_make(struct eng *x, struct conn *c, unsigned who, uint8_t flags, uint16_t len, uint32_t seq,
		uint32_t ack, struct tcpa_pkt *p)
{
	test_segment(p, &c->ip[who], &c->ip[!who], c->port[who], c->port[!who], flags, seq, ack,
		len, 65535);
	p->rxc = c->rxc;
	p->ts = x->now;
}

/* Send a segment built by pkt_make() (maybe edited); the next comes 1 ms later. */
static void
pkt_send(struct eng *x, struct tcpa_pkt *p)
{
	tcpa_engine_hash(p, &x->conf.secret);
	x->now += MS;
	put(x, p);
}

/* Next segment of @who, 1 ms after the previous one. */
static void
seg_at(struct eng *x, struct conn *c, unsigned who, uint8_t flags, uint16_t len, uint32_t seq,
		uint32_t ack)
{
	struct tcpa_pkt p;

	pkt_make(x, c, who, flags, len, seq, ack, &p);
	pkt_send(x, &p);
}

static void
seg(struct eng *x, struct conn *c, unsigned who, uint8_t flags, uint16_t len)
{
	uint32_t seq = c->nxt[who];

	c->nxt[who] += len + ((flags & F_S) ? 1 : 0) + ((flags & F_F) ? 1 : 0);
	seg_at(x, c, who, flags, len, seq, c->nxt[!who]);
}

static void
handshake(struct eng *x, struct conn *c)
{
	seg(x, c, CLI, F_S, 0);
	seg(x, c, SRV, F_S | F_A, 0);
	seg(x, c, CLI, F_A, 0);
}

static void
request_response(struct eng *x, struct conn *c)
{
	seg(x, c, CLI, F_A | F_P, 200);
	seg(x, c, SRV, F_A, 0);
	seg(x, c, SRV, F_A | F_P, 1400);
	seg(x, c, CLI, F_A, 0);
}

static void
client_close(struct eng *x, struct conn *c)
{
	seg(x, c, CLI, F_F | F_A, 0);
	seg(x, c, SRV, F_A, 0);
	seg(x, c, SRV, F_F | F_A, 0);
	seg(x, c, CLI, F_A, 0);
}

/* ---- the endpoint view ---- */

/* Slot @i's record if it holds one (read as another core would). */
static struct tcpa_ep *
slot(struct tcpa_ep_table *t, uint32_t i)
{
	struct tcpa_ep copy;

	return tcpa_ep_read(t, i, &copy) ? &tcpa_ep_records(t)[i] : NULL;
}

static struct tcpa_ep *
ep_find(struct eng *x, uint32_t addr, uint16_t port, unsigned role)
{
	struct tcpa_ep_table *t = tcpa_engine_endpoints(x->e);
	struct tcpa_ep_key k;

	memset(&k, 0, sizeof(k));
	tcpa_ip_set_v4h(&k.ip, addr);
	k.port = role == TCPA_EP_SERVER ? port : 0;
	k.role = (uint8_t)role;
	for (uint32_t i = 1; i <= tcpa_ep_slots(t); i++) {
		struct tcpa_ep *e = slot(t, i);

		if (e != NULL && memcmp(&e->key, &k, sizeof(k)) == 0)
			return e;
	}
	return NULL;
}

static uint32_t
ep_state(struct eng *x, uint32_t addr, uint16_t port, unsigned role, unsigned st)
{
	struct tcpa_ep *e = ep_find(x, addr, port, role);

	return e != NULL ? e->states[st] : 0;
}

static uint64_t
ep_anom(struct eng *x, uint32_t addr, uint16_t port, unsigned role, unsigned a)
{
	struct tcpa_ep *e = ep_find(x, addr, port, role);

	return e != NULL ? e->anom[a] : 0;
}

/* Sum of live states over all records, optionally of one role only. */
static uint64_t
states_sum(struct eng *x, int role)
{
	struct tcpa_ep_table *t = tcpa_engine_endpoints(x->e);
	uint64_t sum = 0;

	for (uint32_t i = 1; i <= tcpa_ep_slots(t); i++) {
		struct tcpa_ep *e = slot(t, i);

		if (e == NULL || (role >= 0 && e->key.role != role))
			continue;
		for (unsigned s = 0; s < TCPA_TCP_ST_MAX; s++) {
			/* A negative count shows up as a huge one. */
			CHECK(e->states[s] < 0x80000000U);
			sum += e->states[s];
		}
	}
	return sum;
}

static uint64_t
conns_sum(struct eng *x, int role)
{
	struct tcpa_ep_table *t = tcpa_engine_endpoints(x->e);
	uint64_t sum = 0;

	for (uint32_t i = 1; i <= tcpa_ep_slots(t); i++) {
		struct tcpa_ep *e = slot(t, i);

		if (e != NULL && e->key.role == role)
			sum += e->conns;
	}
	return sum;
}

/* Per-state totals over the flows in the table, by role, from the flows themselves. */
struct walk {
	uint32_t st[2][TCPA_TCP_ST_MAX];
	uint32_t n;
};

static int
walk_cb(void *arg, struct tcpa_flow *f)
{
	const struct tcpa_tcp_conn *t = &tcpa_conn_of(f)->tcp;
	struct walk *w = arg;

	w->n++;
	w->st[CLI][t->half[t->cli].state]++;
	w->st[SRV][t->half[!t->cli].state]++;
	return 0;
}

/* Set by tests that restart connections on a live tuple with a new ISN. */
static bool restarts_seen;

/*
 * The invariants: every flow in the table counted once per side, in the
 * states its halves hold; the gauge equals the table's count.
 */
static void
check_consistent(struct eng *x)
{
	struct tcpa_flow_table *ft = tcpa_engine_flows(x->e);
	struct tcpa_stats *st = tcpa_engine_stats(x->e);
	struct tcpa_ep_table *t = tcpa_engine_endpoints(x->e);
	struct walk w;
	uint32_t by[2][TCPA_TCP_ST_MAX];

	memset(&w, 0, sizeof(w));
	memset(by, 0, sizeof(by));
	tcpa_flow_foreach(ft, walk_cb, &w);
	CHECK_EQ(w.n, tcpa_flow_count(ft));
	CHECK_EQ(st->flows_active, tcpa_flow_count(ft));
	if (st->ep_full == 0 && st->ep_evicted == 0)
		CHECK_EQ(states_sum(x, -1), 2ULL * tcpa_flow_count(ft));
	for (uint32_t i = 1; i <= tcpa_ep_slots(t); i++) {
		struct tcpa_ep *e = slot(t, i);

		if (e == NULL)
			continue;
		for (unsigned s = 0; s < TCPA_TCP_ST_MAX; s++)
			by[e->key.role == TCPA_EP_SERVER ? SRV : CLI][s] += e->states[s];
	}
	if (st->ep_full == 0 && st->ep_evicted == 0) {
		for (unsigned r = 0; r < 2; r++)
			for (unsigned s = 0; s < TCPA_TCP_ST_MAX; s++)
				CHECK_EQ(by[r][s], w.st[r][s]);
	}
	/*
	 * Every connection that started is in the table or left it one way;
	 * a connection restarted on its tuple (tuple reuse, new ISN) shares
	 * the flow entry with its predecessor, hence >=.
	 */
	CHECK(st->flows_new >= (uint64_t)tcpa_flow_count(ft) + st->flows_closed +
		st->flow_expired + st->flow_evicted);
	if (st->anom[TCPA_ANOM_tuple_reuse] == 0 && !restarts_seen)
		CHECK_EQ(st->flows_new, tcpa_flow_count(ft) + st->flows_closed +
			st->flow_expired + st->flow_evicted);
}

/* Age in steps of @step_ms until @until (ns), as the dataplane loop would. */
static void
age_to(struct eng *x, uint64_t until, uint32_t step_ms)
{
	uint64_t t = tcpa_engine_now(x->e);

	while (t < until) {
		t += (uint64_t)step_ms * MS;
		if (t > until)
			t = until;
		/* A few calls per step: the budget is TCPA_AGE_STEP per call. */
		for (unsigned i = 0; i < 4; i++)
			tcpa_engine_age(x->e, t);
	}
	x->now = until;
}

#define CADDR 0x0a000001U
#define SADDR 0x0a000002U

/* ---- tests ---- */

static void
test_init(void)
{
	struct tcpa_engine_conf c;
	void *mem;

	memset(&c, 0, sizeof(c));
	CHECK_EQ(tcpa_engine_memsize(&c), 0);
	c.flows = 16;
	CHECK_EQ(tcpa_engine_memsize(&c), 0);
	c.endpoints = 16;
	CHECK(tcpa_engine_memsize(&c) > 0);
	mem = aligned_alloc(64, tcpa_engine_memsize(&c) + 64);
	if (mem == NULL)
		exit(2);
	CHECK(tcpa_engine_init((uint8_t *)mem + 8, &c) == NULL);
	CHECK(tcpa_engine_init(mem, &c) != NULL);
	free(mem);
	/* ns -> ms. */
	CHECK_EQ(tcpa_ns_to_ms(0), 0);
	CHECK_EQ(tcpa_ns_to_ms(999999), 0);
	CHECK_EQ(tcpa_ns_to_ms(1000000), 1);
	CHECK_EQ(tcpa_ns_to_ms(T0), (uint32_t)(T0 / MS));
}

static void
test_one_connection(void)
{
	struct eng x;
	struct conn c;
	struct tcpa_stats *st;
	struct tcpa_ep *se, *ce;

	eng_open(&x, 1024, 256, T0);
	st = tcpa_engine_stats(x.e);
	conn_init(&c, CADDR, 40000, SADDR, 80);
	seg(&x, &c, CLI, F_S, 0);
	CHECK_EQ(st->flows_new, 1);
	CHECK_EQ(st->flows_active, 1);
	CHECK_EQ(ep_state(&x, CADDR, 0, TCPA_EP_CLIENT, TCPA_TCP_ST_SYN_SENT), 1);
	CHECK_EQ(ep_state(&x, SADDR, 80, TCPA_EP_SERVER, TCPA_TCP_ST_CLOSED), 1);
	check_consistent(&x);
	seg(&x, &c, SRV, F_S | F_A, 0);
	CHECK_EQ(ep_state(&x, SADDR, 80, TCPA_EP_SERVER, TCPA_TCP_ST_SYN_RECEIVED), 1);
	CHECK_EQ(ep_state(&x, CADDR, 0, TCPA_EP_CLIENT, TCPA_TCP_ST_ESTABLISHED), 1);
	seg(&x, &c, CLI, F_A, 0);
	CHECK_EQ(ep_state(&x, SADDR, 80, TCPA_EP_SERVER, TCPA_TCP_ST_ESTABLISHED), 1);
	check_consistent(&x);
	request_response(&x, &c);
	client_close(&x, &c);
	CHECK_EQ(ep_state(&x, CADDR, 0, TCPA_EP_CLIENT, TCPA_TCP_ST_TIME_WAIT), 1);
	CHECK_EQ(ep_state(&x, SADDR, 80, TCPA_EP_SERVER, TCPA_TCP_ST_CLOSED), 1);
	CHECK_EQ(ep_state(&x, SADDR, 80, TCPA_EP_SERVER, TCPA_TCP_ST_ESTABLISHED), 0);
	check_consistent(&x);
	se = ep_find(&x, SADDR, 80, TCPA_EP_SERVER);
	ce = ep_find(&x, CADDR, 0, TCPA_EP_CLIENT);
	CHECK(se != NULL && ce != NULL);
	if (se != NULL && ce != NULL) {
		CHECK_EQ(se->conns, 1);
		CHECK_EQ(ce->conns, 1);
	}
	/* Only the two records; no server record for the client's port. */
	CHECK_EQ(tcpa_ep_count(tcpa_engine_endpoints(x.e)), 2);
	CHECK(ep_find(&x, CADDR, 40000, TCPA_EP_SERVER) == NULL);
	CHECK_EQ(st->tcp_pkts, 3 + 4 + 4);
	CHECK_EQ(st->midstream, 0);
	CHECK_EQ(st->tcp_unexpected, 0);
	CHECK_EQ(st->wrong_core, 0);
	for (unsigned a = 0; a < TCPA_ANOM_MAX; a++)
		CHECK_EQ(st->anom[a], 0);
	CHECK_EQ(st->first_ts, T0);
	CHECK_EQ(st->last_ts, T0 + 10 * MS);
	CHECK_EQ(tcpa_engine_now(x.e), T0 + 10 * MS);
	eng_close(&x);
}

static void
test_close_wait_leak(void)
{
	struct eng x;
	struct tcpa_stats *st;

	eng_open(&x, 1024, 256, T0);
	st = tcpa_engine_stats(x.e);
	/* A proxy (client) and a backend that never close()s after EOF. */
	for (unsigned i = 0; i < 30; i++) {
		struct conn c;

		conn_init(&c, CADDR, (uint16_t)(40000 + i), SADDR, 8080);
		handshake(&x, &c);
		request_response(&x, &c);
		seg(&x, &c, CLI, F_F | F_A, 0);
		seg(&x, &c, SRV, F_A, 0);
		check_consistent(&x);
	}
	CHECK_EQ(st->flows_new, 30);
	CHECK_EQ(ep_state(&x, SADDR, 8080, TCPA_EP_SERVER, TCPA_TCP_ST_CLOSE_WAIT), 30);
	CHECK_EQ(ep_state(&x, CADDR, 0, TCPA_EP_CLIENT, TCPA_TCP_ST_FIN_WAIT_2), 30);
	CHECK_EQ(ep_state(&x, SADDR, 8080, TCPA_EP_SERVER, TCPA_TCP_ST_ESTABLISHED), 0);
	CHECK_EQ(ep_find(&x, SADDR, 8080, TCPA_EP_SERVER)->conns, 30);
	CHECK_EQ(ep_find(&x, CADDR, 0, TCPA_EP_CLIENT)->conns, 30);
	CHECK_EQ(tcpa_ep_count(tcpa_engine_endpoints(x.e)), 2);
	CHECK_EQ(st->tcp_unexpected, 0);
	/* Well past the closing and TIME_WAIT timeouts: the leak stays tracked. */
	age_to(&x, x.now + 120 * SEC, 50);
	CHECK_EQ(ep_state(&x, SADDR, 8080, TCPA_EP_SERVER, TCPA_TCP_ST_CLOSE_WAIT), 30);
	CHECK_EQ(tcpa_flow_count(tcpa_engine_flows(x.e)), 30);
	CHECK_EQ(st->flow_expired, 0);
	check_consistent(&x);
	/* Five of them finally close: LAST_ACK, then CLOSED / TIME_WAIT. */
	for (unsigned i = 0; i < 5; i++) {
		struct conn c;

		conn_init(&c, CADDR, (uint16_t)(40000 + i), SADDR, 8080);
		/* Rebuild the sequence numbers the flow reached. */
		c.nxt[CLI] += 1 + 200 + 1;
		c.nxt[SRV] += 1 + 1400;
		seg(&x, &c, SRV, F_F | F_A, 0);
		seg(&x, &c, CLI, F_A, 0);
	}
	CHECK_EQ(ep_state(&x, SADDR, 8080, TCPA_EP_SERVER, TCPA_TCP_ST_CLOSE_WAIT), 25);
	CHECK_EQ(ep_state(&x, SADDR, 8080, TCPA_EP_SERVER, TCPA_TCP_ST_CLOSED), 5);
	CHECK_EQ(ep_state(&x, CADDR, 0, TCPA_EP_CLIENT, TCPA_TCP_ST_TIME_WAIT), 5);
	CHECK_EQ(ep_state(&x, CADDR, 0, TCPA_EP_CLIENT, TCPA_TCP_ST_FIN_WAIT_2), 25);
	CHECK_EQ(st->tcp_unexpected, 0);
	check_consistent(&x);
	eng_close(&x);
}

static void
time_wait_expiry_at(uint64_t t0)
{
	struct eng x;
	struct tcpa_stats *st;
	uint64_t closed_at;

	eng_open(&x, 1024, 256, t0);
	st = tcpa_engine_stats(x.e);
	for (unsigned i = 0; i < 20; i++) {
		struct conn c;

		conn_init(&c, CADDR, (uint16_t)(50000 + i), SADDR, 443);
		handshake(&x, &c);
		request_response(&x, &c);
		client_close(&x, &c);
	}
	closed_at = x.now - MS;     /* the last segment */
	CHECK_EQ(ep_state(&x, CADDR, 0, TCPA_EP_CLIENT, TCPA_TCP_ST_TIME_WAIT), 20);
	CHECK_EQ(ep_state(&x, SADDR, 443, TCPA_EP_SERVER, TCPA_TCP_ST_CLOSED), 20);
	/* One second before time_wait_s after the first close: all still there. */
	age_to(&x, t0 + (TMO_TIME_WAIT - 1000) * MS, 20);
	CHECK_EQ(ep_state(&x, CADDR, 0, TCPA_EP_CLIENT, TCPA_TCP_ST_TIME_WAIT), 20);
	CHECK_EQ(st->flows_closed, 0);
	/* time_wait_s after the last close (+ a tick): all gone. */
	age_to(&x, closed_at + TMO_TIME_WAIT * MS + 100 * MS, 20);
	CHECK_EQ(ep_state(&x, CADDR, 0, TCPA_EP_CLIENT, TCPA_TCP_ST_TIME_WAIT), 0);
	CHECK_EQ(ep_state(&x, SADDR, 443, TCPA_EP_SERVER, TCPA_TCP_ST_CLOSED), 0);
	CHECK_EQ(st->flows_closed, 20);
	CHECK_EQ(st->flow_expired, 0);
	CHECK_EQ(st->flows_active, 0);
	CHECK_EQ(tcpa_flow_count(tcpa_engine_flows(x.e)), 0);
	/* Records stay (history), with no live connection. */
	CHECK_EQ(ep_find(&x, CADDR, 0, TCPA_EP_CLIENT)->conns, 20);
	CHECK_EQ(states_sum(&x, -1), 0);
	check_consistent(&x);
	eng_close(&x);
}

static void
test_time_wait_expiry(void)
{
	time_wait_expiry_at(T0);
	/* Packet time in ms crosses 2^32 while the flows wait. */
	time_wait_expiry_at(((uint64_t)396 << 32) * MS - 30 * SEC);
}

static void
test_expired_open(void)
{
	struct eng x;
	struct conn c;
	struct tcpa_stats *st;

	eng_open(&x, 1024, 256, T0);
	st = tcpa_engine_stats(x.e);
	/* An open connection gone silent, and an unanswered SYN. */
	conn_init(&c, CADDR, 40000, SADDR, 80);
	handshake(&x, &c);
	conn_init(&c, CADDR, 40001, SADDR, 81);
	seg(&x, &c, CLI, F_S, 0);
	CHECK_EQ(ep_state(&x, SADDR, 81, TCPA_EP_SERVER, TCPA_TCP_ST_CLOSED), 1);
	age_to(&x, x.now + (TMO_EMBRYONIC + 200) * MS, 10);
	CHECK_EQ(st->flow_expired, 1);
	CHECK_EQ(ep_state(&x, CADDR, 0, TCPA_EP_CLIENT, TCPA_TCP_ST_SYN_SENT), 0);
	CHECK_EQ(ep_state(&x, SADDR, 81, TCPA_EP_SERVER, TCPA_TCP_ST_CLOSED), 0);
	CHECK_EQ(ep_state(&x, SADDR, 80, TCPA_EP_SERVER, TCPA_TCP_ST_ESTABLISHED), 1);
	age_to(&x, x.now + TMO_ESTABLISHED * MS, 100);
	CHECK_EQ(st->flow_expired, 2);
	CHECK_EQ(st->flows_closed, 0);
	CHECK_EQ(ep_state(&x, SADDR, 80, TCPA_EP_SERVER, TCPA_TCP_ST_ESTABLISHED), 0);
	check_consistent(&x);
	eng_close(&x);
}

static void
test_refused(void)
{
	struct eng x;
	struct conn c;
	struct tcpa_stats *st;

	eng_open(&x, 1024, 256, T0);
	st = tcpa_engine_stats(x.e);
	for (unsigned i = 0; i < 3; i++) {
		conn_init(&c, CADDR, (uint16_t)(40000 + i), SADDR, 5432);
		seg(&x, &c, CLI, F_S, 0);
		seg_at(&x, &c, SRV, F_R | F_A, 0, 0, c.nxt[CLI]);
	}
	CHECK_EQ(st->anom[TCPA_ANOM_conn_refused], 3);
	CHECK_EQ(ep_anom(&x, SADDR, 5432, TCPA_EP_SERVER, TCPA_ANOM_conn_refused), 3);
	CHECK_EQ(ep_anom(&x, CADDR, 0, TCPA_EP_CLIENT, TCPA_ANOM_conn_refused), 0);
	CHECK_EQ(st->anom[TCPA_ANOM_rst_abort], 0);
	CHECK_EQ(st->anom[TCPA_ANOM_rst_invalid], 0);
	CHECK_EQ(ep_state(&x, SADDR, 5432, TCPA_EP_SERVER, TCPA_TCP_ST_CLOSED), 3);
	CHECK_EQ(ep_state(&x, CADDR, 0, TCPA_EP_CLIENT, TCPA_TCP_ST_CLOSED), 3);
	CHECK_EQ(st->flows_new, 3);
	check_consistent(&x);
	/* A refused connection is closed: forgotten after time_wait_s as closed. */
	age_to(&x, x.now + (TMO_CLOSED + 200) * MS, 50);
	CHECK_EQ(st->flows_closed, 3);
	check_consistent(&x);
	eng_close(&x);
}

static void
test_rst_abort(void)
{
	struct eng x;
	struct conn c;
	struct tcpa_stats *st;

	eng_open(&x, 1024, 256, T0);
	st = tcpa_engine_stats(x.e);
	conn_init(&c, CADDR, 40000, SADDR, 3306);
	handshake(&x, &c);
	request_response(&x, &c);
	/* The client aborts (SO_LINGER 0). */
	seg_at(&x, &c, CLI, F_R | F_A, 0, c.nxt[CLI], c.nxt[SRV]);
	CHECK_EQ(st->anom[TCPA_ANOM_rst_abort], 1);
	CHECK_EQ(ep_anom(&x, CADDR, 0, TCPA_EP_CLIENT, TCPA_ANOM_rst_abort), 1);
	CHECK_EQ(ep_anom(&x, SADDR, 3306, TCPA_EP_SERVER, TCPA_ANOM_rst_abort), 0);
	CHECK_EQ(ep_state(&x, CADDR, 0, TCPA_EP_CLIENT, TCPA_TCP_ST_CLOSED), 1);
	CHECK_EQ(ep_state(&x, SADDR, 3306, TCPA_EP_SERVER, TCPA_TCP_ST_CLOSED), 1);
	/* An out-of-window RST from the server on another connection. */
	conn_init(&c, CADDR, 40001, SADDR, 3306);
	handshake(&x, &c);
	seg_at(&x, &c, SRV, F_R, 0, c.nxt[SRV] + 10000000, 0);
	CHECK_EQ(st->anom[TCPA_ANOM_rst_invalid], 1);
	CHECK_EQ(ep_anom(&x, SADDR, 3306, TCPA_EP_SERVER, TCPA_ANOM_rst_invalid), 1);
	CHECK_EQ(ep_state(&x, SADDR, 3306, TCPA_EP_SERVER, TCPA_TCP_ST_ESTABLISHED), 1);
	CHECK_EQ(st->anom[TCPA_ANOM_rst_abort], 1);
	check_consistent(&x);
	eng_close(&x);
}

static void
test_tuple_reuse(void)
{
	struct eng x;
	struct conn c;
	struct tcpa_stats *st;

	eng_open(&x, 1024, 256, T0);
	st = tcpa_engine_stats(x.e);
	conn_init(&c, CADDR, 40000, SADDR, 80);
	handshake(&x, &c);
	client_close(&x, &c);
	CHECK_EQ(ep_state(&x, CADDR, 0, TCPA_EP_CLIENT, TCPA_TCP_ST_TIME_WAIT), 1);
	/* Ten seconds later the same tuple again (port exhaustion). */
	x.now += 10 * SEC;
	c.nxt[CLI] += 1000000;
	seg(&x, &c, CLI, F_S, 0);
	CHECK_EQ(st->anom[TCPA_ANOM_tuple_reuse], 1);
	CHECK_EQ(ep_anom(&x, CADDR, 0, TCPA_EP_CLIENT, TCPA_ANOM_tuple_reuse), 1);
	CHECK_EQ(st->flows_new, 2);
	CHECK_EQ(tcpa_flow_count(tcpa_engine_flows(x.e)), 1);
	CHECK_EQ(ep_state(&x, CADDR, 0, TCPA_EP_CLIENT, TCPA_TCP_ST_TIME_WAIT), 0);
	CHECK_EQ(ep_state(&x, CADDR, 0, TCPA_EP_CLIENT, TCPA_TCP_ST_SYN_SENT), 1);
	CHECK_EQ(ep_state(&x, SADDR, 80, TCPA_EP_SERVER, TCPA_TCP_ST_CLOSED), 1);
	seg(&x, &c, SRV, F_S | F_A, 0);
	seg(&x, &c, CLI, F_A, 0);
	CHECK_EQ(ep_state(&x, SADDR, 80, TCPA_EP_SERVER, TCPA_TCP_ST_ESTABLISHED), 1);
	CHECK_EQ(ep_find(&x, CADDR, 0, TCPA_EP_CLIENT)->conns, 2);
	CHECK_EQ(ep_find(&x, SADDR, 80, TCPA_EP_SERVER)->conns, 2);
	CHECK_EQ(st->tcp_unexpected, 0);
	CHECK_EQ(states_sum(&x, -1), 2);
	eng_close(&x);
}

static void
test_syn_retransmit(void)
{
	struct eng x;
	struct conn c;
	struct tcpa_stats *st;

	eng_open(&x, 1024, 256, T0);
	st = tcpa_engine_stats(x.e);
	/* The backlog is full: the client repeats its SYN twice. */
	conn_init(&c, CADDR, 40000, SADDR, 80);
	seg(&x, &c, CLI, F_S, 0);
	seg_at(&x, &c, CLI, F_S, 0, c.nxt[CLI] - 1, 0);
	seg_at(&x, &c, CLI, F_S, 0, c.nxt[CLI] - 1, 0);
	CHECK_EQ(st->anom[TCPA_ANOM_syn_retransmit], 2);
	CHECK_EQ(ep_anom(&x, SADDR, 80, TCPA_EP_SERVER, TCPA_ANOM_syn_retransmit), 2);
	CHECK_EQ(ep_anom(&x, CADDR, 0, TCPA_EP_CLIENT, TCPA_ANOM_syn_retransmit), 0);
	CHECK_EQ(st->flows_new, 1);
	seg(&x, &c, SRV, F_S | F_A, 0);
	seg_at(&x, &c, SRV, F_S | F_A, 0, c.nxt[SRV] - 1, c.nxt[CLI]);
	CHECK_EQ(st->anom[TCPA_ANOM_synack_retransmit], 1);
	CHECK_EQ(ep_anom(&x, CADDR, 0, TCPA_EP_CLIENT, TCPA_ANOM_synack_retransmit), 1);
	seg(&x, &c, CLI, F_A, 0);
	CHECK_EQ(ep_state(&x, SADDR, 80, TCPA_EP_SERVER, TCPA_TCP_ST_ESTABLISHED), 1);
	CHECK_EQ(st->tcp_unexpected, 0);

	/* A new ISN on the same tuple: a new connection, not a retransmission. */
	conn_init(&c, CADDR, 40001, SADDR, 80);
	seg(&x, &c, CLI, F_S, 0);
	c.nxt[CLI] += 5000;
	seg(&x, &c, CLI, F_S, 0);
	CHECK_EQ(st->anom[TCPA_ANOM_syn_retransmit], 2);
	CHECK_EQ(st->anom[TCPA_ANOM_tuple_reuse], 0);
	CHECK_EQ(st->flows_new, 3);
	CHECK_EQ(conns_sum(&x, TCPA_EP_SERVER), st->flows_new);
	CHECK_EQ(conns_sum(&x, TCPA_EP_CLIENT), st->flows_new);
	CHECK_EQ(ep_state(&x, CADDR, 0, TCPA_EP_CLIENT, TCPA_TCP_ST_SYN_SENT), 1);
	CHECK_EQ(states_sum(&x, -1), 4);
	eng_close(&x);
}

static void
test_midstream(void)
{
	struct eng x;
	struct conn c;
	struct tcpa_stats *st;

	eng_open(&x, 1024, 256, T0);
	st = tcpa_engine_stats(x.e);
	/* Picked up mid-stream: client data first. */
	conn_init(&c, CADDR, 40000, SADDR, 80);
	seg(&x, &c, CLI, F_A | F_P, 100);
	CHECK_EQ(st->midstream, 1);
	CHECK_EQ(st->flows_new, 1);
	CHECK_EQ(ep_state(&x, CADDR, 0, TCPA_EP_CLIENT, TCPA_TCP_ST_ESTABLISHED), 1);
	CHECK_EQ(ep_state(&x, SADDR, 80, TCPA_EP_SERVER, TCPA_TCP_ST_UNKNOWN), 1);
	seg(&x, &c, SRV, F_A, 0);
	CHECK_EQ(ep_state(&x, SADDR, 80, TCPA_EP_SERVER, TCPA_TCP_ST_ESTABLISHED), 1);
	CHECK_EQ(st->midstream, 1);
	/* The server closes; the client never does: CLOSE_WAIT on the client. */
	seg(&x, &c, SRV, F_F | F_A, 0);
	seg(&x, &c, CLI, F_A, 0);
	CHECK_EQ(ep_state(&x, CADDR, 0, TCPA_EP_CLIENT, TCPA_TCP_ST_CLOSE_WAIT), 1);
	CHECK_EQ(ep_state(&x, SADDR, 80, TCPA_EP_SERVER, TCPA_TCP_ST_FIN_WAIT_2), 1);
	CHECK_EQ(st->tcp_unexpected, 0);
	check_consistent(&x);

	/* A second midstream flow whose first segment is the server's. */
	conn_init(&c, CADDR, 40001, SADDR, 80);
	seg(&x, &c, SRV, F_A | F_P, 1000);
	CHECK_EQ(st->midstream, 2);
	CHECK_EQ(ep_state(&x, SADDR, 80, TCPA_EP_SERVER, TCPA_TCP_ST_ESTABLISHED), 1);
	CHECK_EQ(ep_find(&x, SADDR, 80, TCPA_EP_SERVER)->conns, 2);
	check_consistent(&x);
	eng_close(&x);
}

static void
test_role_change(void)
{
	struct eng x;
	struct conn c;
	struct tcpa_stats *st;

	eng_open(&x, 1024, 256, T0);
	st = tcpa_engine_stats(x.e);
	/*
	 * The capture starts with the handshake's last ACK, from a client on
	 * port 1000 to a server on port 50000: the port guess is wrong. The
	 * server then repeats its SYN-ACK (that ACK was lost after the tap).
	 */
	conn_init(&c, CADDR, 1000, SADDR, 50000);
	c.nxt[CLI]++;
	c.nxt[SRV]++;
	seg(&x, &c, CLI, F_A, 0);
	CHECK_EQ(st->midstream, 1);
	CHECK(ep_find(&x, CADDR, 1000, TCPA_EP_SERVER) != NULL);
	CHECK_EQ(ep_state(&x, CADDR, 1000, TCPA_EP_SERVER, TCPA_TCP_ST_ESTABLISHED), 1);
	seg_at(&x, &c, SRV, F_S | F_A, 0, c.nxt[SRV] - 1, c.nxt[CLI]);
	/* Roles fixed: the live counts moved to the right records. */
	CHECK_EQ(ep_state(&x, CADDR, 1000, TCPA_EP_SERVER, TCPA_TCP_ST_ESTABLISHED), 0);
	CHECK(ep_find(&x, SADDR, 50000, TCPA_EP_SERVER) != NULL);
	CHECK_EQ(ep_state(&x, CADDR, 0, TCPA_EP_CLIENT, TCPA_TCP_ST_ESTABLISHED), 1);
	CHECK_EQ(states_sum(&x, TCPA_EP_SERVER), 1);
	CHECK_EQ(states_sum(&x, TCPA_EP_CLIENT), 1);
	seg(&x, &c, CLI, F_A, 0);
	CHECK_EQ(ep_state(&x, SADDR, 50000, TCPA_EP_SERVER, TCPA_TCP_ST_ESTABLISHED), 1);
	check_consistent(&x);
	/* One connection: counted once per role, not once per guess. */
	CHECK_EQ(conns_sum(&x, TCPA_EP_SERVER), 1);
	CHECK_EQ(conns_sum(&x, TCPA_EP_CLIENT), 1);
	CHECK_EQ(st->flows_new, 1);
	eng_close(&x);
}

static void
test_one_burst(void)
{
	struct eng x;
	struct conn c;
	struct tcpa_stats *st;

	eng_open(&x, 1024, 256, T0);
	st = tcpa_engine_stats(x.e);
	conn_init(&c, CADDR, 40000, SADDR, 80);
	/* The whole handshake and a request in one burst. */
	queue(&x);
	handshake(&x, &c);
	seg(&x, &c, CLI, F_A | F_P, 100);
	flush(&x);
	CHECK_EQ(st->flows_new, 1);
	CHECK_EQ(st->flows_active, 1);
	CHECK_EQ(tcpa_flow_count(tcpa_engine_flows(x.e)), 1);
	CHECK_EQ(st->tcp_pkts, 4);
	CHECK_EQ(ep_state(&x, SADDR, 80, TCPA_EP_SERVER, TCPA_TCP_ST_ESTABLISHED), 1);
	CHECK_EQ(ep_state(&x, CADDR, 0, TCPA_EP_CLIENT, TCPA_TCP_ST_ESTABLISHED), 1);

	/* 8 connections interleaved in bursts of 32. */
	{
		struct conn cc[8];

		for (unsigned i = 0; i < 8; i++)
			conn_init(&cc[i], CADDR, (uint16_t)(41000 + i), SADDR, 80);
		queue(&x);
		for (unsigned i = 0; i < 8; i++)
			seg(&x, &cc[i], CLI, F_S, 0);
		for (unsigned i = 0; i < 8; i++)
			seg(&x, &cc[i], SRV, F_S | F_A, 0);
		for (unsigned i = 0; i < 8; i++)
			seg(&x, &cc[i], CLI, F_A, 0);
		for (unsigned i = 0; i < 8; i++)
			seg(&x, &cc[i], CLI, F_F | F_A, 0);
		for (unsigned i = 0; i < 8; i++)
			seg(&x, &cc[i], SRV, F_A, 0);
		flush(&x);
	}
	CHECK_EQ(st->flows_new, 9);
	CHECK_EQ(ep_state(&x, SADDR, 80, TCPA_EP_SERVER, TCPA_TCP_ST_CLOSE_WAIT), 8);
	CHECK_EQ(ep_state(&x, CADDR, 0, TCPA_EP_CLIENT, TCPA_TCP_ST_FIN_WAIT_2), 8);
	CHECK_EQ(st->tcp_unexpected, 0);
	check_consistent(&x);
	eng_close(&x);
}

static void
test_wrong_core(void)
{
	struct eng x;
	struct conn c;
	struct tcpa_stats *st;

	eng_open(&x, 1024, 256, T0);
	st = tcpa_engine_stats(x.e);
	conn_init(&c, CADDR, 40000, SADDR, 80);
	handshake(&x, &c);
	CHECK_EQ(st->wrong_core, 0);
	c.rxc = 1;
	seg(&x, &c, SRV, F_A | F_P, 10);
	CHECK_EQ(st->wrong_core, 1);
	eng_close(&x);
}

/* A tiny flow table under churn: evictions keep the counts consistent. */
static void
test_eviction(void)
{
	enum { NC = 60 };
	struct conn c[NC];
	struct eng x;
	struct tcpa_stats *st;
	uint64_t r = 0x9e3779b97f4a7c15ULL;

	eng_open(&x, 8, 256, T0);
	st = tcpa_engine_stats(x.e);
	restarts_seen = true;
	for (unsigned i = 0; i < NC; i++)
		conn_init(&c[i], CADDR + (i % 3), (uint16_t)(30000 + i), SADDR + (i % 4),
			(uint16_t)(80 + i % 5));
	for (unsigned step = 0; step < 3000; step++) {
		unsigned i, what;

		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		i = (unsigned)(r % NC);
		what = (unsigned)((r >> 16) % 10);
		switch (what) {
		case 0:
			handshake(&x, &c[i]);
			break;
		case 1:
			seg(&x, &c[i], CLI, F_S, 0);
			break;
		case 2:
			request_response(&x, &c[i]);
			break;
		case 3:
			seg(&x, &c[i], CLI, F_F | F_A, 0);
			break;
		case 4:
			seg(&x, &c[i], SRV, F_A, 0);
			break;
		case 5:
			seg(&x, &c[i], SRV, F_F | F_A, 0);
			break;
		case 6:
			seg(&x, &c[i], CLI, F_A, 0);
			break;
		case 7:
			seg_at(&x, &c[i], CLI, F_R, 0, c[i].nxt[CLI], 0);
			break;
		case 8:
			c[i].nxt[CLI] += 100000;
			seg(&x, &c[i], CLI, F_S, 0);
			break;
		default:
			tcpa_engine_age(x.e, x.now);
			x.now += 100 * MS;
			break;
		}
		CHECK(tcpa_flow_count(tcpa_engine_flows(x.e)) <= 8);
		check_consistent(&x);
		if (cur_fail > 20)
			break;
	}
	CHECK(st->flow_evicted > 0);
	CHECK_EQ(st->ep_full, 0);
	/* Everything ages out in the end; counts return to zero. */
	age_to(&x, x.now + 2ULL * TMO_ESTABLISHED * MS, 200);
	CHECK_EQ(tcpa_flow_count(tcpa_engine_flows(x.e)), 0);
	CHECK_EQ(states_sum(&x, -1), 0);
	check_consistent(&x);
	restarts_seen = false;
	eng_close(&x);
}

/* An endpoint table too small: connections still tracked, counted as ep_full. */
static void
test_ep_full(void)
{
	struct eng x;
	struct tcpa_stats *st;

	eng_open(&x, 1024, 4, T0);
	st = tcpa_engine_stats(x.e);
	for (unsigned i = 0; i < 10; i++) {
		struct conn c;

		conn_init(&c, CADDR + i, 40000, SADDR, 80);
		handshake(&x, &c);
		client_close(&x, &c);
	}
	CHECK(st->ep_full > 0);
	CHECK_EQ(st->flows_new, 10);
	CHECK_EQ(tcpa_flow_count(tcpa_engine_flows(x.e)), 10);
	/* The server record exists and saw all ten. */
	CHECK_EQ(ep_state(&x, SADDR, 80, TCPA_EP_SERVER, TCPA_TCP_ST_CLOSED), 10);
	CHECK(states_sum(&x, -1) <= 20);
	age_to(&x, x.now + (TMO_TIME_WAIT + 1000) * MS, 100);
	CHECK_EQ(states_sum(&x, -1), 0);
	CHECK_EQ(st->flows_closed, 10);
	eng_close(&x);
}

/* ---- timed rules and the endpoint profile ---- */

#define CWS TCPA_ANOM_close_wait_stuck
#define SYNU TCPA_ANOM_syn_unanswered

/* The configuration's default for timeout_syn_s (30 s): SYN timers run first. */
static void
long_embryonic(struct eng *x)
{
	uint32_t t[TCPA_FLOW_TMO_MAX];

	memcpy(t, x->conf.timeout_ms, sizeof(t));
	t[TCPA_FLOW_TMO_EMBRYONIC] = 30000;
	tcpa_engine_set_timeouts(x->e, t);
}

static void
test_close_wait_stuck(void)
{
	struct eng x;
	struct conn a, b, d, g, h;
	struct tcpa_stats *st;
	struct tcpa_ep *se, *ce;
	uint64_t t_cw, n;

	eng_open(&x, 1024, 256, T0);
	st = tcpa_engine_stats(x.e);
	/* A: the client closes; the server acknowledges and never closes. */
	conn_init(&a, CADDR, 40000, SADDR, 8080);
	handshake(&x, &a);
	request_response(&x, &a);
	seg(&x, &a, CLI, F_F | F_A, 0);
	t_cw = x.now;
	seg(&x, &a, SRV, F_A, 0);
	CHECK_EQ(ep_state(&x, SADDR, 8080, TCPA_EP_SERVER, TCPA_TCP_ST_CLOSE_WAIT), 1);
	se = ep_find(&x, SADDR, 8080, TCPA_EP_SERVER);
	ce = ep_find(&x, CADDR, 0, TCPA_EP_CLIENT);
	CHECK(se != NULL && ce != NULL);
	if (se == NULL || ce == NULL) {
		eng_close(&x);
		return;
	}
	/* Not before close_wait_s. */
	age_to(&x, t_cw + 4990 * MS, 10);
	CHECK_EQ(st->anom[CWS], 0);
	CHECK_EQ(se->cw_stuck, 0);
	age_to(&x, t_cw + 5010 * MS, 10);
	CHECK_EQ(st->anom[CWS], 1);
	CHECK_EQ(se->anom[CWS], 1);
	CHECK_EQ(ce->anom[CWS], 0);
	CHECK_EQ(se->cw_stuck, 1);
	CHECK_EQ(ce->cw_stuck, 0);
	/* Counted once per connection, however long it stays. */
	age_to(&x, t_cw + 30 * SEC, 100);
	CHECK_EQ(st->anom[CWS], 1);
	CHECK_EQ(se->cw_stuck, 1);

	/* B: in CLOSE_WAIT, but closes 3 s later (in time): never counted. */
	conn_init(&b, CADDR, 40001, SADDR, 8080);
	handshake(&x, &b);
	seg(&x, &b, CLI, F_F | F_A, 0);
	seg(&x, &b, SRV, F_A, 0);
	CHECK_EQ(ep_state(&x, SADDR, 8080, TCPA_EP_SERVER, TCPA_TCP_ST_CLOSE_WAIT), 2);
	age_to(&x, x.now + 3 * SEC, 100);
	seg(&x, &b, SRV, F_F | F_A, 0);
	seg(&x, &b, CLI, F_A, 0);
	age_to(&x, x.now + 10 * SEC, 100);
	CHECK_EQ(st->anom[CWS], 1);
	CHECK_EQ(se->cw_stuck, 1);

	/* A closes at last: the gauge falls, the count stays. */
	seg(&x, &a, SRV, F_F | F_A, 0);
	CHECK_EQ(se->cw_stuck, 0);
	seg(&x, &a, CLI, F_A, 0);
	CHECK_EQ(st->anom[CWS], 1);
	CHECK_EQ(se->cw_stuck, 0);

	/* D: stuck, then its own RST: the gauge falls. */
	conn_init(&d, CADDR, 40002, SADDR, 8080);
	handshake(&x, &d);
	seg(&x, &d, CLI, F_F | F_A, 0);
	seg(&x, &d, SRV, F_A, 0);
	age_to(&x, x.now + 6 * SEC, 100);
	CHECK_EQ(st->anom[CWS], 2);
	CHECK_EQ(se->cw_stuck, 1);
	seg_at(&x, &d, SRV, F_R | F_A, 0, d.nxt[SRV], d.nxt[CLI]);
	CHECK_EQ(se->cw_stuck, 0);
	CHECK_EQ(ep_state(&x, SADDR, 8080, TCPA_EP_SERVER, TCPA_TCP_ST_CLOSE_WAIT), 0);

	/* G: stuck, then forgotten after the open-connection timeout: the gauge falls. */
	conn_init(&g, CADDR, 40003, SADDR, 8080);
	handshake(&x, &g);
	seg(&x, &g, CLI, F_F | F_A, 0);
	seg(&x, &g, SRV, F_A, 0);
	age_to(&x, x.now + 6 * SEC, 100);
	CHECK_EQ(st->anom[CWS], 3);
	CHECK_EQ(se->cw_stuck, 1);
	n = st->flow_expired;
	age_to(&x, x.now + (TMO_ESTABLISHED + 1000) * MS, 1000);
	CHECK_EQ(st->flow_expired, n + 1);
	CHECK_EQ(se->cw_stuck, 0);
	CHECK_EQ(st->anom[CWS], 3);

	/* H: the server closes, the client (a pool) never does: the client's. */
	conn_init(&h, CADDR, 40004, SADDR, 8080);
	handshake(&x, &h);
	request_response(&x, &h);
	seg(&x, &h, SRV, F_F | F_A, 0);
	seg(&x, &h, CLI, F_A, 0);
	age_to(&x, x.now + 6 * SEC, 100);
	CHECK_EQ(st->anom[CWS], 4);
	CHECK_EQ(ce->anom[CWS], 1);
	CHECK_EQ(ce->cw_stuck, 1);
	CHECK_EQ(se->anom[CWS], 3);
	CHECK_EQ(se->cw_stuck, 0);
	check_consistent(&x);
	eng_close(&x);
}

/*
 * The timers start at the time of the segment that changed the state, not
 * at the engine's time before its burst: a capture's first burst (engine
 * time 0), a burst spanning seconds of a sparse capture.
 */
static void
test_timer_stamps(void)
{
	struct eng x;
	struct conn c, c2, c3;
	struct tcpa_stats *st;
	uint64_t t_cw;

	eng_open(&x, 1024, 256, T0);
	st = tcpa_engine_stats(x.e);
	long_embryonic(&x);
	/* A whole connection into CLOSE_WAIT in the engine's first burst. */
	conn_init(&c, CADDR, 40000, SADDR, 8080);
	queue(&x);
	handshake(&x, &c);
	request_response(&x, &c);
	seg(&x, &c, CLI, F_F | F_A, 0);
	t_cw = x.now;
	seg(&x, &c, SRV, F_A, 0);
	flush(&x);
	CHECK_EQ(ep_state(&x, SADDR, 8080, TCPA_EP_SERVER, TCPA_TCP_ST_CLOSE_WAIT), 1);
	age_to(&x, t_cw + 1000 * MS, 10);
	CHECK_EQ(st->anom[CWS], 0);
	age_to(&x, t_cw + 4990 * MS, 10);
	CHECK_EQ(st->anom[CWS], 0);
	age_to(&x, t_cw + 5010 * MS, 10);
	CHECK_EQ(st->anom[CWS], 1);
	/* One burst spanning 10 s: a segment, then a connection into CLOSE_WAIT. */
	conn_init(&c2, CADDR, 40001, SADDR, 8080);
	queue(&x);
	seg(&x, &c, CLI, F_A, 0);
	x.now += 10 * SEC;
	handshake(&x, &c2);
	seg(&x, &c2, CLI, F_F | F_A, 0);
	t_cw = x.now;
	seg(&x, &c2, SRV, F_A, 0);
	flush(&x);
	age_to(&x, t_cw + 1000 * MS, 10);
	CHECK_EQ(st->anom[CWS], 1);
	age_to(&x, t_cw + 5010 * MS, 10);
	CHECK_EQ(st->anom[CWS], 2);

	/* A fresh engine whose first burst is a SYN, aged before the SYN-ACK. */
	eng_close(&x);
	eng_open(&x, 1024, 256, T0);
	st = tcpa_engine_stats(x.e);
	long_embryonic(&x);
	conn_init(&c3, CADDR, 40002, SADDR, 80);
	seg(&x, &c3, CLI, F_S, 0);
	tcpa_engine_age(x.e, x.now);
	x.now += 100 * MS;
	tcpa_engine_age(x.e, x.now);
	seg(&x, &c3, SRV, F_S | F_A, 0);
	seg(&x, &c3, CLI, F_A, 0);
	age_to(&x, x.now + 10 * SEC, 100);
	tcpa_engine_finish(x.e);
	CHECK_EQ(st->anom[SYNU], 0);
	eng_close(&x);
}

static void
test_syn_unanswered(void)
{
	struct eng x;
	struct conn c1, c2, c3, c4, c5;
	struct tcpa_stats *st;
	struct tcpa_ep *se;
	uint64_t t1, t2;

	eng_open(&x, 1024, 256, T0);
	st = tcpa_engine_stats(x.e);
	long_embryonic(&x);
	/* 1: a SYN and nothing else. */
	conn_init(&c1, CADDR, 40000, SADDR, 80);
	t1 = x.now;
	seg(&x, &c1, CLI, F_S, 0);
	age_to(&x, t1 + 2990 * MS, 10);
	CHECK_EQ(st->anom[SYNU], 0);
	age_to(&x, t1 + 3010 * MS, 10);
	CHECK_EQ(st->anom[SYNU], 1);
	CHECK_EQ(ep_anom(&x, SADDR, 80, TCPA_EP_SERVER, SYNU), 1);
	CHECK_EQ(ep_anom(&x, CADDR, 0, TCPA_EP_CLIENT, SYNU), 0);
	/* 2: repeated with the same ISN at +1 s and +3 s: one connection, one count. */
	conn_init(&c2, CADDR, 40001, SADDR, 80);
	t2 = x.now;
	seg(&x, &c2, CLI, F_S, 0);
	age_to(&x, t2 + 1000 * MS, 10);
	seg_at(&x, &c2, CLI, F_S, 0, c2.nxt[CLI] - 1, 0);
	age_to(&x, t2 + 3000 * MS, 10);
	seg_at(&x, &c2, CLI, F_S, 0, c2.nxt[CLI] - 1, 0);
	age_to(&x, t2 + 10 * SEC, 100);
	CHECK_EQ(st->anom[TCPA_ANOM_syn_retransmit], 2);
	CHECK_EQ(st->anom[SYNU], 2);
	/* 3: answered by a SYN-ACK after 100 ms (the last ACK never seen): no. */
	conn_init(&c3, CADDR, 40002, SADDR, 80);
	seg(&x, &c3, CLI, F_S, 0);
	x.now += 100 * MS;
	seg(&x, &c3, SRV, F_S | F_A, 0);
	age_to(&x, x.now + 10 * SEC, 100);
	CHECK_EQ(st->anom[SYNU], 2);
	/* 4: answered by a RST: conn_refused, not unanswered. */
	conn_init(&c4, CADDR, 40003, SADDR, 81);
	seg(&x, &c4, CLI, F_S, 0);
	seg_at(&x, &c4, SRV, F_R | F_A, 0, 0, c4.nxt[CLI]);
	age_to(&x, x.now + 10 * SEC, 100);
	CHECK_EQ(st->anom[SYNU], 2);
	CHECK_EQ(st->anom[TCPA_ANOM_conn_refused], 1);
	/* 5: still waiting when the capture ends (100 ms after it): counted at the end. */
	conn_init(&c5, CADDR, 40004, SADDR, 80);
	seg(&x, &c5, CLI, F_S, 0);
	x.now += 100 * MS;
	seg(&x, &c3, CLI, F_A, 0);
	tcpa_engine_age(x.e, x.now);
	CHECK_EQ(st->anom[SYNU], 2);
	tcpa_engine_finish(x.e);
	CHECK_EQ(st->anom[SYNU], 3);
	se = ep_find(&x, SADDR, 80, TCPA_EP_SERVER);
	CHECK(se != NULL && se->anom[SYNU] == 3);
	CHECK_EQ(ep_anom(&x, SADDR, 81, TCPA_EP_SERVER, SYNU), 0);
	/* Finishing twice decides nothing twice. */
	tcpa_engine_finish(x.e);
	CHECK_EQ(st->anom[SYNU], 3);
	check_consistent(&x);
	eng_close(&x);
}

/*
 * The embryonic timeout shorter than syn_timeout_s (both configurable): the
 * flow leaves before its SYN timer is due. Its SYN was never answered.
 */
static void
test_syn_unanswered_expired(void)
{
	struct eng x;
	struct conn c;
	struct tcpa_stats *st;
	struct tcpa_anom_conf ac;

	eng_open(&x, 1024, 256, T0);
	st = tcpa_engine_stats(x.e);
	ac = x.conf.anom;
	ac.syn_timeout_ms = 5000;
	tcpa_engine_set_anom(x.e, &ac);
	conn_init(&c, CADDR, 40000, SADDR, 80);
	seg(&x, &c, CLI, F_S, 0);
	age_to(&x, x.now + 10 * SEC, 10);
	CHECK_EQ(st->flow_expired, 1);
	CHECK_EQ(st->anom[SYNU], 1);
	CHECK_EQ(ep_anom(&x, SADDR, 80, TCPA_EP_SERVER, SYNU), 1);
	/* Answered by a SYN-ACK (the last ACK never seen), expired as embryonic: no. */
	conn_init(&c, CADDR, 40001, SADDR, 80);
	seg(&x, &c, CLI, F_S, 0);
	seg(&x, &c, SRV, F_S | F_A, 0);
	age_to(&x, x.now + 10 * SEC, 10);
	CHECK_EQ(st->flow_expired, 2);
	CHECK_EQ(st->anom[SYNU], 1);
	tcpa_engine_finish(x.e);
	CHECK_EQ(st->anom[SYNU], 1);
	check_consistent(&x);
	eng_close(&x);
}

static void
test_one_sided(void)
{
	struct eng x;
	struct conn c;
	struct tcpa_stats *st;
	uint64_t t;

	eng_open(&x, 1024, 256, T0);
	st = tcpa_engine_stats(x.e);
	long_embryonic(&x);
	/* 1: only the client's direction is mirrored: its data and ACKs. */
	conn_init(&c, CADDR, 40000, SADDR, 80);
	t = x.now;
	seg(&x, &c, CLI, F_A | F_P, 100);
	seg(&x, &c, CLI, F_A | F_P, 100);
	seg(&x, &c, CLI, F_A, 0);
	age_to(&x, t + 2990 * MS, 10);
	CHECK_EQ(st->one_sided, 0);
	age_to(&x, t + 3010 * MS, 10);
	CHECK_EQ(st->one_sided, 1);
	age_to(&x, t + 10 * SEC, 100);
	CHECK_EQ(st->one_sided, 1);
	/* 2: an unanswered SYN is syn_unanswered, not one_sided. */
	conn_init(&c, CADDR, 40001, SADDR, 80);
	seg(&x, &c, CLI, F_S, 0);
	age_to(&x, x.now + 4 * SEC, 100);
	CHECK_EQ(st->one_sided, 1);
	CHECK_EQ(st->anom[SYNU], 1);
	/* 3: both directions: no. */
	conn_init(&c, CADDR, 40002, SADDR, 80);
	handshake(&x, &c);
	request_response(&x, &c);
	age_to(&x, x.now + 4 * SEC, 100);
	CHECK_EQ(st->one_sided, 1);
	/* 4: only the server's direction. */
	conn_init(&c, CADDR, 40003, SADDR, 80);
	seg(&x, &c, SRV, F_A | F_P, 1000);
	seg(&x, &c, SRV, F_A | F_P, 1000);
	age_to(&x, x.now + 4 * SEC, 100);
	CHECK_EQ(st->one_sided, 2);
	/* 5: the other direction shows up after 2 s (< syn_timeout_s): no. */
	conn_init(&c, CADDR, 40004, SADDR, 80);
	seg(&x, &c, CLI, F_A | F_P, 100);
	age_to(&x, x.now + 2 * SEC, 100);
	seg(&x, &c, SRV, F_A, 0);
	age_to(&x, x.now + 4 * SEC, 100);
	CHECK_EQ(st->one_sided, 2);
	CHECK_EQ(st->midstream, 3);
	eng_close(&x);
}

/* What the wire shows of each endpoint's socket options. */
static void
test_profile(void)
{
	struct eng x;
	struct conn c;
	struct tcpa_pkt p;
	struct tcpa_ep *se, *ce;

	eng_open(&x, 1024, 256, T0);
	conn_init(&c, CADDR, 40000, SADDR, 443);
	pkt_make(&x, &c, CLI, F_S, 0, c.nxt[CLI], 0, &p);
	p.win = 64240;
	p.opts = TCPA_OPT_MSS | TCPA_OPT_WSCALE | TCPA_OPT_SACKOK | TCPA_OPT_TS;
	p.mss = 1460;
	p.wscale = 7;
	c.nxt[CLI]++;
	pkt_send(&x, &p);
	pkt_make(&x, &c, SRV, F_S | F_A, 0, c.nxt[SRV], c.nxt[CLI], &p);
	p.win = 65160;
	p.opts = TCPA_OPT_MSS | TCPA_OPT_WSCALE | TCPA_OPT_SACKOK;
	p.mss = 1400;
	p.wscale = 9;
	c.nxt[SRV]++;
	pkt_send(&x, &p);
	/* Scaled windows from here on: 502 << 7, 300 << 9. */
	pkt_make(&x, &c, CLI, F_A, 0, c.nxt[CLI], c.nxt[SRV], &p);
	p.win = 502;
	pkt_send(&x, &p);
	pkt_make(&x, &c, SRV, F_A | F_P, 100, c.nxt[SRV], c.nxt[CLI], &p);
	p.win = 300;
	c.nxt[SRV] += 100;
	pkt_send(&x, &p);
	ce = ep_find(&x, CADDR, 0, TCPA_EP_CLIENT);
	se = ep_find(&x, SADDR, 443, TCPA_EP_SERVER);
	CHECK(ce != NULL && se != NULL);
	if (ce == NULL || se == NULL) {
		eng_close(&x);
		return;
	}
	CHECK_EQ(ce->mss, 1460);
	CHECK_EQ(ce->wscale, 7);
	CHECK_EQ(ce->pflags, TCPA_EP_P_SYN | TCPA_EP_P_WS | TCPA_EP_P_SACKOK | TCPA_EP_P_TS);
	CHECK_EQ(ce->max_win, 502U << 7);
	CHECK_EQ(se->mss, 1400);
	CHECK_EQ(se->wscale, 9);
	CHECK_EQ(se->pflags, TCPA_EP_P_SYN | TCPA_EP_P_WS | TCPA_EP_P_SACKOK);
	CHECK_EQ(se->max_win, 300U << 9);
	/* A smaller window later does not lower the largest; a larger one raises it. */
	pkt_make(&x, &c, CLI, F_A, 0, c.nxt[CLI], c.nxt[SRV], &p);
	p.win = 100;
	pkt_send(&x, &p);
	CHECK_EQ(ce->max_win, 502U << 7);
	pkt_make(&x, &c, CLI, F_A, 0, c.nxt[CLI], c.nxt[SRV], &p);
	p.win = 1000;
	pkt_send(&x, &p);
	CHECK_EQ(ce->max_win, 1000U << 7);
	CHECK_EQ(se->max_win, 300U << 9);

	/* A client without options (and a server that offers no scaling). */
	conn_init(&c, CADDR + 1, 40000, SADDR, 443);
	pkt_make(&x, &c, CLI, F_S, 0, c.nxt[CLI], 0, &p);
	p.win = 8192;
	c.nxt[CLI]++;
	pkt_send(&x, &p);
	ce = ep_find(&x, CADDR + 1, 0, TCPA_EP_CLIENT);
	CHECK(ce != NULL);
	if (ce != NULL) {
		CHECK_EQ(ce->pflags, TCPA_EP_P_SYN);
		CHECK_EQ(ce->mss, 0);
		CHECK_EQ(ce->wscale, 0);
		CHECK_EQ(ce->max_win, 8192);
	}
	/* An endpoint seen only mid-stream: no SYN, no profile flags. */
	conn_init(&c, CADDR + 2, 40000, SADDR + 1, 8443);
	seg(&x, &c, CLI, F_A | F_P, 100);
	seg(&x, &c, SRV, F_A, 0);
	se = ep_find(&x, SADDR + 1, 8443, TCPA_EP_SERVER);
	CHECK(se != NULL && se->pflags == 0 && se->mss == 0 && se->max_win == 65535);
	eng_close(&x);
}

/* TIME_WAIT peak: the gauge's high-water mark survives the gauge. */
static void
test_tw_peak(void)
{
	struct eng x;
	struct conn c;
	struct tcpa_ep *ce, *se;

	eng_open(&x, 1024, 256, T0);
	for (unsigned i = 0; i < 3; i++) {
		conn_init(&c, CADDR, (uint16_t)(40000 + i), SADDR, 80);
		handshake(&x, &c);
		request_response(&x, &c);
		client_close(&x, &c);
	}
	ce = ep_find(&x, CADDR, 0, TCPA_EP_CLIENT);
	se = ep_find(&x, SADDR, 80, TCPA_EP_SERVER);
	CHECK(ce != NULL && se != NULL);
	if (ce == NULL || se == NULL) {
		eng_close(&x);
		return;
	}
	CHECK_EQ(ce->states[TCPA_TCP_ST_TIME_WAIT], 3);
	CHECK_EQ(ce->tw_peak, 3);
	CHECK_EQ(se->tw_peak, 0);
	age_to(&x, x.now + (TMO_TIME_WAIT + 1000) * MS, 100);
	CHECK_EQ(ce->states[TCPA_TCP_ST_TIME_WAIT], 0);
	CHECK_EQ(ce->tw_peak, 3);
	conn_init(&c, CADDR, 40010, SADDR, 80);
	handshake(&x, &c);
	client_close(&x, &c);
	CHECK_EQ(ce->states[TCPA_TCP_ST_TIME_WAIT], 1);
	CHECK_EQ(ce->tw_peak, 3);
	/* The server closing first: TIME_WAIT on the server's record. */
	conn_init(&c, CADDR, 40011, SADDR, 80);
	handshake(&x, &c);
	seg(&x, &c, SRV, F_F | F_A, 0);
	seg(&x, &c, CLI, F_A, 0);
	seg(&x, &c, CLI, F_F | F_A, 0);
	seg(&x, &c, SRV, F_A, 0);
	CHECK_EQ(se->states[TCPA_TCP_ST_TIME_WAIT], 1);
	CHECK_EQ(se->tw_peak, 1);
	CHECK_EQ(ce->tw_peak, 3);
	check_consistent(&x);
	eng_close(&x);
}

/* Idle-close times per endpoint: sum and longest (the report's ~N s). */
static void
test_idle_profile(void)
{
	struct eng x;
	struct conn c;
	struct tcpa_stats *st;
	struct tcpa_ep *se, *ce;
	const uint32_t idle[3] = { 2500, 3500, 1500 };

	eng_open(&x, 1024, 256, T0);
	st = tcpa_engine_stats(x.e);
	for (unsigned i = 0; i < 3; i++) {
		uint64_t last;

		conn_init(&c, CADDR, (uint16_t)(40000 + i), SADDR, 3306);
		handshake(&x, &c);
		seg(&x, &c, CLI, F_A | F_P, 50);
		last = x.now;
		seg(&x, &c, SRV, F_A | F_P, 200);
		seg(&x, &c, CLI, F_A, 0);
		/* The server's idle timeout (the last is under idle_close_s). */
		x.now = last + idle[i] * MS;
		seg(&x, &c, SRV, F_F | F_A, 0);
		seg(&x, &c, CLI, F_A, 0);
		seg(&x, &c, CLI, F_F | F_A, 0);
		seg(&x, &c, SRV, F_A, 0);
	}
	se = ep_find(&x, SADDR, 3306, TCPA_EP_SERVER);
	ce = ep_find(&x, CADDR, 0, TCPA_EP_CLIENT);
	CHECK(se != NULL && ce != NULL);
	if (se != NULL && ce != NULL) {
		CHECK_EQ(se->anom[TCPA_ANOM_idle_close], 2);
		CHECK_EQ(se->idle_sum_ms, 6000);
		CHECK_EQ(se->idle_max_ms, 3500);
		CHECK_EQ(ce->anom[TCPA_ANOM_idle_close], 0);
		CHECK_EQ(ce->idle_sum_ms, 0);
	}
	CHECK_EQ(st->anom[TCPA_ANOM_idle_close], 2);
	eng_close(&x);
}

/*
 * A new connection on a tuple (a restart of the flow entry) starts the
 * rules over: its once-per-connection conditions count again, and the
 * previous connection's payload times are not its own.
 */
static void
test_restart_rules(void)
{
	struct eng x;
	struct conn c, d;
	struct tcpa_stats *st;

	eng_open(&x, 1024, 256, T0);
	st = tcpa_engine_stats(x.e);
	restarts_seen = true;
	/* A pooled connection used after the server closed it, then RST. */
	conn_init(&c, CADDR, 40000, SADDR, 3306);
	handshake(&x, &c);
	request_response(&x, &c);
	seg(&x, &c, SRV, F_F | F_A, 0);
	seg(&x, &c, CLI, F_A, 0);
	seg(&x, &c, CLI, F_A | F_P, 100);
	CHECK_EQ(st->anom[TCPA_ANOM_stale_reuse], 1);
	seg_at(&x, &c, SRV, F_R, 0, c.nxt[SRV], 0);
	CHECK_EQ(ep_state(&x, CADDR, 0, TCPA_EP_CLIENT, TCPA_TCP_ST_CLOSED), 1);
	/* 10 s later the same port again: the same story, counted again. */
	x.now += 10 * SEC;
	c.nxt[CLI] += 100000;
	handshake(&x, &c);
	CHECK_EQ(st->anom[TCPA_ANOM_tuple_reuse], 1);
	request_response(&x, &c);
	seg(&x, &c, SRV, F_F | F_A, 0);
	seg(&x, &c, CLI, F_A, 0);
	seg(&x, &c, CLI, F_A | F_P, 100);
	CHECK_EQ(st->anom[TCPA_ANOM_stale_reuse], 2);
	CHECK_EQ(ep_anom(&x, CADDR, 0, TCPA_EP_CLIENT, TCPA_ANOM_stale_reuse), 2);

	/* A used connection closed, its port reused 10 s later for one never used. */
	conn_init(&d, CADDR, 40001, SADDR, 3306);
	handshake(&x, &d);
	request_response(&x, &d);
	client_close(&x, &d);
	x.now += 10 * SEC;
	d.nxt[CLI] += 100000;
	handshake(&x, &d);
	CHECK_EQ(st->anom[TCPA_ANOM_tuple_reuse], 2);
	x.now += 100 * MS;
	seg(&x, &d, SRV, F_F | F_A, 0);
	CHECK_EQ(st->anom[TCPA_ANOM_idle_close], 0);
	/* Nor did the new connection inherit the old one's RTT or flags. */
	seg(&x, &d, CLI, F_A, 0);
	seg(&x, &d, CLI, F_F | F_A, 0);
	seg(&x, &d, SRV, F_A, 0);
	CHECK_EQ(st->tcp_unexpected, 0);
	restarts_seen = false;
	eng_close(&x);
}

static int
first_flow(void *arg, struct tcpa_flow *f)
{
	*(struct tcpa_flow **)arg = f;
	return 1;
}

/*
 * The hot line holds 32-bit counters; the engine carries them into the
 * cold line before they wrap, so a flow's totals never lose a count.
 */
static void
test_counters_carry(void)
{
	struct eng x;
	struct conn c;
	struct tcpa_flow *f = NULL;
	struct tcpa_conn_cold *fx;
	struct tcpa_conn *fc;
	unsigned cs;
	const uint64_t base_b = (1ULL << 31) - 1000, base_p = (1ULL << 31) - 2;

	eng_open(&x, 64, 16, T0);
	conn_init(&c, CADDR, 40000, SADDR, 80);
	handshake(&x, &c);
	tcpa_flow_foreach(tcpa_engine_flows(x.e), first_flow, &f);
	CHECK(f != NULL);
	if (f == NULL)
		return;
	fc = tcpa_conn_of(f);
	fx = tcpa_engine_cold(x.e, fc);
	cs = fc->tcp.cli;
	/* As if the client had already sent just under 2 GiB in 2^31 - 2 segments. */
	fc->tcp.half[cs].bytes = (uint32_t)base_b;
	fc->tcp.half[cs].pkts = (uint32_t)base_p;
	for (unsigned i = 0; i < 5; i++) {
		seg(&x, &c, CLI, F_A | F_P, 1400);
		seg(&x, &c, SRV, F_A, 0);
	}
	CHECK_EQ(tcpa_conn_bytes(fc, fx, cs), base_b + 5 * 1400);
	CHECK_EQ(tcpa_conn_pkts(fc, fx, cs), base_p + 5);
	CHECK_EQ(fx->bytes_hi[cs], 1);
	CHECK_EQ(fx->pkts_hi[cs], 1);
	CHECK(fc->tcp.half[cs].bytes < (1u << 31) && fc->tcp.half[cs].pkts < (1u << 31));
	CHECK_EQ(tcpa_conn_pkts(fc, fx, !cs), 1 + 5);
	/* A new connection on the tuple starts its counts from zero, carries too. */
	client_close(&x, &c);
	x.now += 10 * SEC;
	c.nxt[CLI] += 100000;
	restarts_seen = true;
	handshake(&x, &c);
	CHECK_EQ(tcpa_conn_pkts(fc, fx, cs), 2);
	CHECK_EQ(tcpa_conn_bytes(fc, fx, cs), 0);
	restarts_seen = false;
	eng_close(&x);
}

/* The configuration's keys, in the units the engine and the rules work in. */
static void
test_conf_from(void)
{
	struct tcpa_hash_secret sec;
	struct tcpa_engine_conf ec;
	struct tcpa_conf c;

	tcpa_conf_defaults(&c);
	c.flows_per_core = 5000;
	c.endpoints_per_core = 700;
	c.time_wait_s = 61;
	c.timeout_syn_s = 31;
	c.timeout_closing_s = 241;
	c.close_wait_s = 6;
	c.idle_close_s = 3;
	c.syn_timeout_s = 4;
	c.nagle_delay_ms = 31;
	c.min_rto_ms = 201;
	c.reorder_ms = 4;
	c.rules = 0;
	tcpa_hash_secret_init(&sec, 5);
	tcpa_engine_conf_from(&c, 64, &sec, &ec);
	CHECK_EQ(ec.flows, 5000);
	CHECK_EQ(ec.endpoints, 700);
	CHECK_EQ(ec.events, 64);
	CHECK(memcmp(&ec.secret, &sec, sizeof(sec)) == 0);
	CHECK_EQ(ec.timeout_ms[TCPA_FLOW_TMO_CLOSED], 61000);
	CHECK_EQ(ec.timeout_ms[TCPA_FLOW_TMO_TIME_WAIT], 61000);
	CHECK_EQ(ec.timeout_ms[TCPA_FLOW_TMO_EMBRYONIC], 31000);
	CHECK_EQ(ec.timeout_ms[TCPA_FLOW_TMO_CLOSING], 241000);
	/* 5 days in ms. */
	CHECK_EQ(ec.timeout_ms[TCPA_FLOW_TMO_ESTABLISHED], 432000000);
	CHECK_EQ(ec.anom.close_wait_ms, 6000);
	CHECK_EQ(ec.anom.idle_close_ms, 3000);
	CHECK_EQ(ec.anom.syn_timeout_ms, 4000);
	CHECK_EQ(ec.anom.nagle_us, 31000);
	CHECK_EQ(ec.anom.min_rto_us, 201000);
	CHECK_EQ(ec.anom.reorder_us, 4000);
	CHECK_EQ(ec.anom.off, 1);
	/* The key's maximum, 2,000,000 s, stays below the wheel's 2^31 ms. */
	c.timeout_established_s = 2000000;
	tcpa_engine_conf_from(&c, 0, &sec, &ec);
	CHECK_EQ(ec.timeout_ms[TCPA_FLOW_TMO_ESTABLISHED], 2000000000);
	CHECK(tcpa_engine_memsize(&ec) > 5000 * (sizeof(struct tcpa_conn) +
		sizeof(struct tcpa_conn_cold)));
}

int
main(void)
{
	RUN(test_init);
	RUN(test_one_connection);
	RUN(test_close_wait_leak);
	RUN(test_time_wait_expiry);
	RUN(test_expired_open);
	RUN(test_refused);
	RUN(test_rst_abort);
	RUN(test_tuple_reuse);
	RUN(test_syn_retransmit);
	RUN(test_midstream);
	RUN(test_role_change);
	RUN(test_one_burst);
	RUN(test_wrong_core);
	RUN(test_eviction);
	RUN(test_ep_full);
	RUN(test_close_wait_stuck);
	RUN(test_timer_stamps);
	RUN(test_syn_unanswered);
	RUN(test_syn_unanswered_expired);
	RUN(test_one_sided);
	RUN(test_profile);
	RUN(test_tw_peak);
	RUN(test_idle_profile);
	RUN(test_restart_rules);
	RUN(test_counters_carry);

	RUN(test_conf_from);
	return check_summary("engine");
}
