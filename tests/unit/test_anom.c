/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for lib/anom: the per-segment rules of ANOMALIES.md, driven as
 * the engine drives them (tcpa_anom_segment() on the flow as it was, then
 * tcpa_tcp_input()) with hand-built segments between a client and a server.
 * Every segment's result is checked exactly: which anomalies, attributed to
 * which endpoint, and nothing else.
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpa_anom.h"
#include "tcpa_tcp.h"

#include "check.h"
#include "segment.h"

#define CLI 0
#define SRV 1

#define F_S TCPA_TCP_SYN
#define F_A TCPA_TCP_ACK
#define F_F TCPA_TCP_FIN
#define F_R TCPA_TCP_RST
#define F_P TCPA_TCP_PSH

#define MS 1000000ULL   /* ns */
#define US 1000ULL      /* ns */

/* 2023-11-14T22:13:20Z: a realistic capture time. */
#define T0 (1700000000ULL * 1000000000ULL)

/* Short names for the expectations. */
#define A_RETX    TCPA_ANOM_retransmission
#define A_FAST    TCPA_ANOM_fast_retransmission
#define A_SPUR    TCPA_ANOM_spurious_retransmission
#define A_OOO     TCPA_ANOM_out_of_order
#define A_LOST    TCPA_ANOM_lost_segment
#define A_UNSEEN  TCPA_ANOM_ack_unseen
#define A_DUP     TCPA_ANOM_dup_ack
#define A_ZW      TCPA_ANOM_zero_window
#define A_ZWP     TCPA_ANOM_zero_window_probe
#define A_FULL    TCPA_ANOM_window_full
#define A_KA      TCPA_ANOM_keepalive
#define A_KAACK   TCPA_ANOM_keepalive_ack
#define A_NAGLE   TCPA_ANOM_nagle_delay
#define A_IDLE    TCPA_ANOM_idle_close
#define A_STALE   TCPA_ANOM_stale_reuse

/* ---- a connection: flow, rules' state, and the segments between them ---- */

struct conn {
	struct tcpa_flow_key key;
	struct tcpa_tcp_conn t;
	struct tcpa_anom_hot h;         /* the rules' hot state */
	struct tcpa_anom_cold k;        /* ... and cold state */
	struct tcpa_anom_conf cf;
	struct tcpa_ip ip[2];   /* by role: CLI, SRV */
	uint16_t port[2];
	uint32_t nxt[2];        /* next sequence number each role sends */
	uint16_t win[2];        /* raw window each advertises */
	uint16_t mss[2];        /* MSS option of its SYN, 0 = none */
	uint8_t ws[2];          /* window scale of its SYN, 0xff = none */
	unsigned side[2];       /* key side of each role */
	bool started;
	uint64_t now;           /* packet time of the next segment, ns */
	/* SACK blocks for the next segment only. */
	uint8_t nsack;
	uint32_t sack[TCPA_PKT_MAX_SACK][2];
	/* What the last segment produced. */
	struct tcpa_anom_out o;
	struct tcpa_tcp_result r;
};

/* Client 10.0.0.1:40000, server 10.0.0.2:80, MSS 1460 each, no scaling. */
static void
conn_init(struct conn *c, uint32_t cisn, uint32_t sisn)
{
	memset(c, 0, sizeof(*c));
	tcpa_ip_set_v4h(&c->ip[CLI], 0x0a000001);
	tcpa_ip_set_v4h(&c->ip[SRV], 0x0a000002);
	c->port[CLI] = 40000;
	c->port[SRV] = 80;
	c->nxt[CLI] = cisn;
	c->nxt[SRV] = sisn;
	c->win[CLI] = 65535;
	c->win[SRV] = 65535;
	c->mss[CLI] = 1460;
	c->mss[SRV] = 1460;
	c->ws[CLI] = 0xff;
	c->ws[SRV] = 0xff;
	/* The configuration's defaults (docs/CONFIG.md). */
	c->cf.close_wait_ms = 5000;
	c->cf.idle_close_ms = 2000;
	c->cf.syn_timeout_ms = 3000;
	c->cf.nagle_us = 30000;
	c->cf.min_rto_us = 200000;
	c->cf.reorder_us = 3000;
	c->now = T0;
}

static void
wait_us(struct conn *c, uint64_t us)
{
	c->now += us * US;
}

static void
wait_ms(struct conn *c, uint64_t ms)
{
	c->now += ms * MS;
}

static void
sack(struct conn *c, uint32_t left, uint32_t right)
{
	if (c->nsack < TCPA_PKT_MAX_SACK) {
		c->sack[c->nsack][0] = left;
		c->sack[c->nsack][1] = right;
		c->nsack++;
	}
}

static void
pkt_build(struct conn *c, unsigned who, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t len,
		uint16_t win, struct tcpa_pkt *p)
{
	test_segment(p, &c->ip[who], &c->ip[!who], c->port[who], c->port[!who], flags, seq, ack,
		len, win);
	p->ts = c->now;
	if (flags & F_S) {
		p->opts |= TCPA_OPT_SACKOK | TCPA_OPT_TS;
		if (c->mss[who] != 0) {
			p->opts |= TCPA_OPT_MSS;
			p->mss = c->mss[who];
		}
		if (c->ws[who] != 0xff) {
			p->opts |= TCPA_OPT_WSCALE;
			p->wscale = c->ws[who];
		}
	} else {
		p->opts |= TCPA_OPT_TS;
	}
	p->tsval = (uint32_t)(c->now / MS);
	if (c->nsack != 0) {
		p->opts |= TCPA_OPT_SACK;
		p->nsack = c->nsack;
		memcpy(p->sack, c->sack, sizeof(p->sack));
		c->nsack = 0;
	}
}

/* The engine's order: the rules on the flow as it was, then the state machine. */
static void
feed(struct conn *c, unsigned who, const struct tcpa_pkt *p)
{
	int side;

	if (!c->started) {
		/* As the engine inserts: the first segment's sender is key side 0. */
		memset(&c->t, 0, sizeof(c->t));
		memset(&c->h, 0, sizeof(c->h));
		memset(&c->k, 0, sizeof(c->k));
		tcpa_flow_key_of_side(p, 0, &c->key);
		tcpa_tcp_conn_start(&c->t, p, 0);
		c->side[who] = 0;
		c->side[!who] = 1;
		c->started = true;
	}
	side = tcpa_flow_key_side(&c->key, p);
	CHECK_EQ(side, c->side[who]);
	memset(c->o.ev, 0xee, sizeof(c->o.ev));
	c->o.idle_ms = 0xdeadbeef;
	/* As the engine does: the inline fast path, else every rule. */
	c->o.n = 0;
	if (!tcpa_tcp_predictable(&c->t, p, (unsigned)side) ||
			!tcpa_anom_fast(&c->cf, &c->h, &c->t, p, (unsigned)side, &c->o)) {
		c->o.n = 0;
		tcpa_anom_segment(&c->cf, &c->h, &c->k, &c->t, p, (unsigned)side, &c->o);
	}
	CHECK(c->o.n <= TCPA_ANOM_SEG_MAX);
	tcpa_tcp_input(&c->t, p, (unsigned)side, &c->r);
}

/* A segment with explicit numbers and window; nxt does not move. */
static void
raw_win(struct conn *c, unsigned who, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t len,
		uint16_t win)
{
	struct tcpa_pkt p;

	pkt_build(c, who, flags, seq, ack, len, win, &p);
	feed(c, who, &p);
}

static void
raw(struct conn *c, unsigned who, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t len)
{
	raw_win(c, who, flags, seq, ack, len, c->win[who]);
}

/*
 * The next segment of @who: its next sequence number, acknowledging all
 * the peer sent. Advances @who's sequence by payload, SYN and FIN.
 */
static void
seg(struct conn *c, unsigned who, uint8_t flags, uint16_t len)
{
	uint32_t seq = c->nxt[who];

	c->nxt[who] += len + ((flags & F_S) ? 1U : 0U) + ((flags & F_F) ? 1U : 0U);
	raw(c, who, flags, seq, c->nxt[!who], len);
}

/* As seg(), acknowledging @ack instead of all the peer sent. */
static void
seg_ack(struct conn *c, unsigned who, uint8_t flags, uint16_t len, uint32_t ack)
{
	uint32_t seq = c->nxt[who];

	c->nxt[who] += len + ((flags & F_F) ? 1U : 0U);
	raw(c, who, flags, seq, ack, len);
}

static const char *
role_name(unsigned r)
{
	return r == CLI ? "client" : "server";
}

static void
ev_print(const struct conn *c, char *buf, size_t n)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < c->o.n && o < n; i++) {
		unsigned role = c->o.ev[i].side == c->side[CLI] ? CLI : SRV;
		int k = snprintf(buf + o, n - o, "%s%s@%s", i ? " " : "",
			tcpa_anom_name(c->o.ev[i].anom), role_name(role));

		if (k < 0)
			break;
		o += (size_t)k;
	}
	if (c->o.n == 0)
		snprintf(buf, n, "(none)");
}

/*
 * The last segment showed exactly these anomalies (in any order): pairs of
 * (anomaly, role it is attributed to), ended by -1.
 */
static void
expect_ev(struct conn *c, const char *fn, int line, ...)
{
	struct { unsigned a, side, role; } want[TCPA_ANOM_SEG_MAX + 2];
	bool used[TCPA_ANOM_SEG_MAX + 2];
	unsigned nw = 0;
	bool ok = true;
	va_list ap;
	int a;

	va_start(ap, line);
	while ((a = va_arg(ap, int)) >= 0) {
		unsigned role = (unsigned)va_arg(ap, int);

		if (nw < TCPA_ARRAY_SIZE(want)) {
			want[nw].a = (unsigned)a;
			want[nw].role = role;
			want[nw].side = c->side[role];
			nw++;
		}
	}
	va_end(ap);
	memset(used, 0, sizeof(used));
	if (c->o.n != nw)
		ok = false;
	for (unsigned i = 0; ok && i < c->o.n; i++) {
		bool found = false;

		for (unsigned j = 0; j < nw && !found; j++) {
			if (!used[j] && want[j].a == c->o.ev[i].anom &&
					want[j].side == c->o.ev[i].side) {
				used[j] = true;
				found = true;
			}
		}
		if (!found)
			ok = false;
	}
	if (!ok) {
		char got[512];

		ev_print(c, got, sizeof(got));
		fprintf(stderr, "%s:%d: %s: got %s, expected", __FILE__, line, fn, got);
		if (nw == 0)
			fprintf(stderr, " (none)");
		for (unsigned j = 0; j < nw; j++)
			fprintf(stderr, " %s@%s", tcpa_anom_name(want[j].a),
				role_name(want[j].role));
		fprintf(stderr, "\n");
		cur_fail++;
	}
}

#define EXPECT(c, ...) expect_ev((c), __func__, __LINE__, ##__VA_ARGS__, -1)

/* Handshake with the given RTT (SYN to the completing ACK); nothing to report. */
static void
handshake(struct conn *c, uint64_t rtt_us)
{
	seg(c, CLI, F_S, 0);
	EXPECT(c);
	wait_us(c, rtt_us / 2);
	seg(c, SRV, F_S | F_A, 0);
	EXPECT(c);
	wait_us(c, rtt_us - rtt_us / 2);
	seg(c, CLI, F_A, 0);
	EXPECT(c);
	CHECK_EQ(c->t.half[c->side[CLI]].state, TCPA_TCP_ST_ESTABLISHED);
	CHECK_EQ(c->t.half[c->side[SRV]].state, TCPA_TCP_ST_ESTABLISHED);
}

static uint8_t
hflags(const struct conn *c, unsigned role)
{
	return c->h.hflags[c->side[role]];
}

/* ---- tests ---- */

static void
test_names(void)
{
	CHECK(strcmp(tcpa_anom_name(TCPA_ANOM_close_wait_stuck), "close_wait_stuck") == 0);
	CHECK(strcmp(tcpa_anom_name(TCPA_ANOM_retransmission), "retransmission") == 0);
	CHECK(strcmp(tcpa_anom_name(TCPA_ANOM_nagle_delay), "nagle_delay") == 0);
	CHECK(strcmp(tcpa_anom_name(TCPA_ANOM_MAX), "?") == 0);
	CHECK(strcmp(tcpa_anom_help(TCPA_ANOM_MAX), "?") == 0);
	for (unsigned a = 0; a < TCPA_ANOM_MAX; a++) {
		CHECK(tcpa_anom_name(a)[0] != '\0' && strcmp(tcpa_anom_name(a), "?") != 0);
		CHECK(strlen(tcpa_anom_help(a)) > 10);
		for (unsigned b = 0; b < a; b++)
			CHECK(strcmp(tcpa_anom_name(a), tcpa_anom_name(b)) != 0);
	}
}

/* Learned from the handshake: each side's MSS and the RTT. */
static void
test_handshake(void)
{
	struct conn c;

	conn_init(&c, 1000, 5000);
	c.mss[SRV] = 1400;
	handshake(&c, 1600);
	CHECK_EQ(c.h.mss[c.side[CLI]], 1460);
	CHECK_EQ(c.h.mss[c.side[SRV]], 1400);
	CHECK_EQ(c.h.rtt16, 100);
	CHECK_EQ(c.k.born_us, (uint32_t)(T0 / US));
	CHECK_EQ(hflags(&c, CLI) | hflags(&c, SRV), 0);
	CHECK_EQ((&c.k)->cflags, 0);
}

/* In-order data and ACKs between ESTABLISHED ends: nothing, ever. */
static void
test_fast_path(void)
{
	struct conn c;

	conn_init(&c, 1000, 5000);
	handshake(&c, 1000);
	for (unsigned i = 0; i < 50; i++) {
		seg(&c, CLI, F_A | F_P, 1460);
		EXPECT(&c);
		wait_us(&c, 50);
		seg(&c, CLI, F_A | F_P, 1460);
		EXPECT(&c);
		wait_us(&c, 500);
		seg(&c, SRV, F_A, 0);
		EXPECT(&c);
		seg(&c, SRV, F_A | F_P, 1460);
		EXPECT(&c);
		wait_us(&c, 500);
		seg(&c, CLI, F_A, 0);
		EXPECT(&c);
		wait_ms(&c, 10);
	}
	/* Small segments acknowledged quickly (< nagle_delay_ms): no Nagle suspicion. */
	for (unsigned i = 0; i < 5; i++) {
		seg(&c, CLI, F_A | F_P, 100);
		EXPECT(&c);
		wait_ms(&c, 5);
		seg(&c, SRV, F_A | F_P, 300);
		EXPECT(&c);
		wait_ms(&c, 5);
	}
	seg(&c, CLI, F_A, 0);
	EXPECT(&c);
	/* A window update (same ACK, new window, nothing outstanding). */
	c.win[SRV] = 60000;
	seg(&c, SRV, F_A, 0);
	EXPECT(&c);
	seg(&c, SRV, F_A, 0);
	EXPECT(&c);
	CHECK_EQ(hflags(&c, CLI) | hflags(&c, SRV), 0);
	CHECK_EQ((&c.k)->dupacks, 0);
	CHECK_EQ((&c.k)->cflags, 0);
}

static void
test_retransmission(void)
{
	struct conn c;
	uint32_t a, b, fin;

	conn_init(&c, 1000, 5000);
	handshake(&c, 1000);
	a = c.nxt[CLI];
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c);
	b = c.nxt[CLI];
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c);
	/* No ACK for 300 ms: the RTO resends both. */
	wait_ms(&c, 300);
	raw(&c, CLI, F_A | F_P, a, c.nxt[SRV], 1460);
	EXPECT(&c, A_RETX, CLI);
	raw(&c, CLI, F_A | F_P, b, c.nxt[SRV], 1460);
	EXPECT(&c, A_RETX, CLI);
	/* A resend that overlaps the end of what was sent. */
	raw(&c, CLI, F_A | F_P, b + 730, c.nxt[SRV], 1460);
	EXPECT(&c, A_RETX, CLI);
	c.nxt[CLI] = b + 730 + 1460;
	seg(&c, SRV, F_A, 0);
	EXPECT(&c);
	/* The server's data, resent: attributed to the server. */
	a = c.nxt[SRV];
	seg(&c, SRV, F_A | F_P, 1000);
	EXPECT(&c);
	wait_ms(&c, 250);
	raw(&c, SRV, F_A | F_P, a, c.nxt[CLI], 1000);
	EXPECT(&c, A_RETX, SRV);
	seg(&c, CLI, F_A, 0);
	EXPECT(&c);
	/* A FIN repeated is a retransmission too (its sequence number was seen). */
	fin = c.nxt[CLI];
	seg(&c, CLI, F_F | F_A, 0);
	EXPECT(&c);
	wait_ms(&c, 200);
	raw(&c, CLI, F_F | F_A, fin, c.nxt[SRV], 0);
	EXPECT(&c, A_RETX, CLI);
	CHECK_EQ(c.t.half[c.side[CLI]].state, TCPA_TCP_ST_FIN_WAIT_1);
}

/* SYN and SYN-ACK repeated with the same ISN: "a segment with SYN/FIN". */
static void
test_syn_retransmission(void)
{
	struct conn c;
	uint32_t isn_c, isn_s;

	conn_init(&c, 1000, 5000);
	isn_c = c.nxt[CLI];
	seg(&c, CLI, F_S, 0);
	EXPECT(&c);
	CHECK_EQ(c.r.what & TCPA_TCP_R_SYN_RETX, 0);
	wait_ms(&c, 1000);
	raw(&c, CLI, F_S, isn_c, 0, 0);
	EXPECT(&c, A_RETX, CLI);
	CHECK(c.r.what & TCPA_TCP_R_SYN_RETX);
	isn_s = c.nxt[SRV];
	seg(&c, SRV, F_S | F_A, 0);
	EXPECT(&c);
	wait_ms(&c, 1000);
	raw(&c, SRV, F_S | F_A, isn_s, c.nxt[CLI], 0);
	EXPECT(&c, A_RETX, SRV);
	CHECK(c.r.what & TCPA_TCP_R_SYNACK_RETX);
	seg(&c, CLI, F_A, 0);
	EXPECT(&c);
	/* A new ISN on the same tuple is a new connection, not a resend. */
	conn_init(&c, 7000, 9000);
	seg(&c, CLI, F_S, 0);
	EXPECT(&c);
	c.nxt[CLI] = 123456;
	seg(&c, CLI, F_S, 0);
	EXPECT(&c);
	CHECK(c.r.what & TCPA_TCP_R_NEW_CONN);
}

static void
test_spurious(void)
{
	struct conn c;
	uint32_t a, b;

	conn_init(&c, 1000, 5000);
	handshake(&c, 1000);
	a = c.nxt[CLI];
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c);
	wait_ms(&c, 1);
	seg(&c, SRV, F_A, 0);
	EXPECT(&c);
	/* The ACK was lost beyond the tap: the sender resends acknowledged data. */
	wait_ms(&c, 250);
	raw(&c, CLI, F_A | F_P, a, c.nxt[SRV], 1460);
	EXPECT(&c, A_SPUR, CLI);
	/* Part of it. */
	raw(&c, CLI, F_A | F_P, a + 100, c.nxt[SRV], 500);
	EXPECT(&c, A_SPUR, CLI);
	/* Half acknowledged, half not: a plain retransmission. */
	b = c.nxt[CLI];
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c);
	wait_ms(&c, 250);
	raw(&c, CLI, F_A | F_P, b - 730, c.nxt[SRV], 1460);
	EXPECT(&c, A_RETX, CLI);
}

/* At least 2 duplicate ACKs for exactly the resent sequence. */
static void
test_fast_retransmission(void)
{
	struct conn c;
	uint32_t a, b, ack;

	conn_init(&c, 1000, 5000);
	handshake(&c, 10000);
	a = c.nxt[CLI];
	ack = c.nxt[CLI];
	/* A is lost after the tap; B, C, D arrive and each draws a dup ACK. */
	for (unsigned i = 0; i < 4; i++) {
		seg(&c, CLI, F_A | F_P, 1460);
		EXPECT(&c);
		wait_us(&c, 20);
	}
	b = a + 1460;
	wait_ms(&c, 5);
	seg_ack(&c, SRV, F_A, 0, ack);
	EXPECT(&c, A_DUP, SRV);
	CHECK_EQ(tcpa_anom_dupacks((&c.k), c.side[SRV]), 1);
	/* One duplicate is not enough: this resend (of B, not signalled) is plain. */
	raw(&c, CLI, F_A | F_P, b, c.nxt[SRV], 1460);
	EXPECT(&c, A_RETX, CLI);
	wait_us(&c, 50);
	seg_ack(&c, SRV, F_A, 0, ack);
	EXPECT(&c, A_DUP, SRV);
	seg_ack(&c, SRV, F_A, 0, ack);
	EXPECT(&c, A_DUP, SRV);
	CHECK_EQ(tcpa_anom_dupacks((&c.k), c.side[SRV]), 3);
	/* The fast path must see them: the flag in the hot line mirrors the count. */
	CHECK(hflags(&c, SRV) & TCPA_AH_DUPS);
	/* A resend of another sequence than the one signalled: plain. */
	wait_us(&c, 100);
	raw(&c, CLI, F_A | F_P, b, c.nxt[SRV], 1460);
	EXPECT(&c, A_RETX, CLI);
	/* The hole itself, right after the third duplicate. */
	raw(&c, CLI, F_A | F_P, a, c.nxt[SRV], 1460);
	EXPECT(&c, A_FAST, CLI, A_RETX, CLI);
	wait_ms(&c, 10);
	seg(&c, SRV, F_A, 0);
	EXPECT(&c);
	CHECK_EQ(tcpa_anom_dupacks((&c.k), c.side[SRV]), 0);
	CHECK_EQ(hflags(&c, SRV) & TCPA_AH_DUPS, 0);

	/* Exactly one duplicate ACK, then the resend: not fast. */
	conn_init(&c, 1000, 5000);
	handshake(&c, 10000);
	a = c.nxt[CLI];
	seg(&c, CLI, F_A | F_P, 1460);
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c);
	wait_ms(&c, 5);
	seg_ack(&c, SRV, F_A, 0, a);
	EXPECT(&c, A_DUP, SRV);
	wait_ms(&c, 1);
	raw(&c, CLI, F_A | F_P, a, c.nxt[SRV], 1460);
	EXPECT(&c, A_RETX, CLI);

	/* Exactly two, with SACK blocks saying what arrived: fast. */
	conn_init(&c, 1000, 5000);
	handshake(&c, 10000);
	a = c.nxt[CLI];
	for (unsigned i = 0; i < 3; i++)
		seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c);
	wait_ms(&c, 5);
	sack(&c, a + 1460, a + 2920);
	seg_ack(&c, SRV, F_A, 0, a);
	EXPECT(&c, A_DUP, SRV);
	sack(&c, a + 1460, a + 4380);
	seg_ack(&c, SRV, F_A, 0, a);
	EXPECT(&c, A_DUP, SRV);
	wait_us(&c, 200);
	raw(&c, CLI, F_A | F_P, a, c.nxt[SRV], 1460);
	EXPECT(&c, A_FAST, CLI, A_RETX, CLI);
	/* The cumulative ACK after recovery. */
	seg(&c, SRV, F_A, 0);
	EXPECT(&c);
}

/* A gap the observer saw (lost_segment), filled soon (reordering) or late (resend). */
/*
 * A resend of the signalled hole after the minimum RTO (200 ms) is the
 * retransmission timer's, not loss recovery's: plain retransmission.
 */
static void
test_rto_not_fast(void)
{
	struct conn c;
	uint32_t a, ack;

	conn_init(&c, 1000, 5000);
	handshake(&c, 10000);
	a = c.nxt[CLI];
	ack = c.nxt[CLI];
	for (unsigned i = 0; i < 3; i++) {
		seg(&c, CLI, F_A | F_P, 1460);
		EXPECT(&c);
	}
	wait_ms(&c, 1);
	seg_ack(&c, SRV, F_A, 0, ack);
	EXPECT(&c, A_DUP, SRV);
	seg_ack(&c, SRV, F_A, 0, ack);
	EXPECT(&c, A_DUP, SRV);
	wait_ms(&c, 300);
	raw(&c, CLI, F_A | F_P, a, c.nxt[SRV], 1460);
	EXPECT(&c, A_RETX, CLI);
}

/*
 * The time since the hole was signalled is kept in ms mod 65.5 s: a resend
 * 1.1 s after the duplicate ACKs (an RTO; a signal time kept mod 1.024 s
 * made it look 76 ms late, a fast retransmission) and one 65.6 s after.
 */
static void
test_rto_not_fast_late(void)
{
	static const unsigned after_ms[] = { 1100, 1224, 65636 };

	for (unsigned t = 0; t < sizeof(after_ms) / sizeof(after_ms[0]); t++) {
		struct conn c;
		uint32_t a;

		conn_init(&c, 1000, 5000);
		handshake(&c, 10000);
		a = c.nxt[CLI];
		for (unsigned i = 0; i < 3; i++)
			seg(&c, CLI, F_A | F_P, 1460);
		EXPECT(&c);
		wait_ms(&c, 1);
		for (unsigned i = 0; i < 3; i++) {
			seg_ack(&c, SRV, F_A, 0, a);
			EXPECT(&c, A_DUP, SRV);
		}
		wait_ms(&c, after_ms[t]);
		raw(&c, CLI, F_A | F_P, a, c.nxt[SRV], 1460);
		if (after_ms[t] < 65536)
			EXPECT(&c, A_RETX, CLI);
		else    /* 65.636 s is 100 ms mod 65.536 s: the documented limit */
			EXPECT(&c, A_FAST, CLI, A_RETX, CLI);
	}
}

/*
 * ANOMALIES.md: SACK blocks decide what the receiver already holds. A
 * resend of data the receiver SACKed is spurious, though no cumulative ACK
 * covers it (Wireshark: retransmission, docs/ACCURACY.md).
 */
static void
test_spurious_sack(void)
{
	struct conn c;
	uint32_t a;

	conn_init(&c, 1000, 5000);
	handshake(&c, 10000);
	a = c.nxt[CLI];
	for (unsigned i = 0; i < 4; i++)
		seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c);
	/* A lost beyond the tap; the receiver holds B and C, then D; not yet E. */
	wait_ms(&c, 5);
	sack(&c, a + 1460, a + 4380);
	seg_ack(&c, SRV, F_A, 0, a);
	EXPECT(&c, A_DUP, SRV);
	wait_ms(&c, 300);
	/* The timer fires: A again (a retransmission), then B and C again. */
	raw(&c, CLI, F_A | F_P, a, c.nxt[SRV], 1460);
	EXPECT(&c, A_RETX, CLI);
	raw(&c, CLI, F_A | F_P, a + 1460, c.nxt[SRV], 1460);
	EXPECT(&c, A_SPUR, CLI);
	raw(&c, CLI, F_A | F_P, a + 2920, c.nxt[SRV], 1460);
	EXPECT(&c, A_SPUR, CLI);
	/* D was not in the block: a retransmission. */
	raw(&c, CLI, F_A | F_P, a + 4380, c.nxt[SRV], 1460);
	EXPECT(&c, A_RETX, CLI);
	/* Half in the block, half beyond it: a retransmission too. */
	raw(&c, CLI, F_A | F_P, a + 3650, c.nxt[SRV], 1460);
	EXPECT(&c, A_RETX, CLI);

	/*
	 * A fresh ACK (not a duplicate: it moves) may carry SACK blocks too:
	 * the last of a message lost, the receiver holding what followed it.
	 */
	conn_init(&c, 1000, 5000);
	handshake(&c, 10000);
	seg(&c, CLI, F_A | F_P, 1460);
	a = c.nxt[CLI];
	seg(&c, CLI, F_A | F_P, 1460);
	seg(&c, CLI, F_A | F_P, 1000);
	EXPECT(&c);
	wait_ms(&c, 5);
	sack(&c, a + 1460, a + 2460);
	seg_ack(&c, SRV, F_A, 0, a);
	EXPECT(&c);
	wait_ms(&c, 300);
	raw(&c, CLI, F_A | F_P, a, c.nxt[SRV], 1460);
	EXPECT(&c, A_RETX, CLI);
	raw(&c, CLI, F_A | F_P, a + 1460, c.nxt[SRV], 1000);
	EXPECT(&c, A_SPUR, CLI);

	/* An ACK without SACK blocks: the receiver vouches for nothing above it. */
	conn_init(&c, 1000, 5000);
	handshake(&c, 10000);
	a = c.nxt[CLI];
	for (unsigned i = 0; i < 3; i++)
		seg(&c, CLI, F_A | F_P, 1460);
	wait_ms(&c, 5);
	sack(&c, a + 1460, a + 2920);
	seg_ack(&c, SRV, F_A, 0, a);
	EXPECT(&c, A_DUP, SRV);
	seg_ack(&c, SRV, F_A | F_P, 100, a);    /* its data, no SACK (reneged) */
	EXPECT(&c);
	wait_ms(&c, 300);
	raw(&c, CLI, F_A | F_P, a + 1460, c.nxt[SRV], 1460);
	EXPECT(&c, A_RETX, CLI);

	/*
	 * A block must end within 64 KiB of the ACK to be kept (offsets are
	 * 16-bit): beyond, a resend into it stays a retransmission.
	 */
	for (unsigned far = 0; far < 2; far++) {
		uint32_t lo = far ? 44u * 1460 : 43u * 1460;  /* ends at 65,700 or 64,240 */

		conn_init(&c, 1000, 5000);
		handshake(&c, 10000);
		a = c.nxt[CLI];
		for (unsigned i = 0; i < 46; i++)
			seg(&c, CLI, F_A | F_P, 1460);
		wait_ms(&c, 5);
		sack(&c, a + lo, a + lo + 1460);
		seg_ack(&c, SRV, F_A, 0, a);
		EXPECT(&c, A_DUP, SRV);
		CHECK_EQ(((&c.k)->cflags & TCPA_AC_SACKED) != 0, !far);
		wait_ms(&c, 300);
		raw(&c, CLI, F_A | F_P, a + lo, c.nxt[SRV], 1460);
		if (far)
			EXPECT(&c, A_RETX, CLI);
		else
			EXPECT(&c, A_SPUR, CLI);
	}

	/* The lowest block above the ACK is kept; a D-SACK block below it is not. */
	conn_init(&c, 1000, 5000);
	handshake(&c, 10000);
	a = c.nxt[CLI];
	for (unsigned i = 0; i < 5; i++)
		seg(&c, CLI, F_A | F_P, 1460);
	wait_ms(&c, 5);
	sack(&c, a - 1000, a);                  /* D-SACK: a duplicate below the ACK */
	sack(&c, a + 4380, a + 7300);
	sack(&c, a + 1460, a + 2920);
	seg_ack(&c, SRV, F_A, 0, a);
	EXPECT(&c, A_DUP, SRV);
	CHECK((&c.k)->cflags & TCPA_AC_SACKED);
	CHECK_EQ((&c.k)->sack_lo, 1460);
	CHECK_EQ((&c.k)->sack_hi, 2920);
	wait_ms(&c, 300);
	raw(&c, CLI, F_A | F_P, a + 1460, c.nxt[SRV], 1460);
	EXPECT(&c, A_SPUR, CLI);
	raw(&c, CLI, F_A | F_P, a + 2920, c.nxt[SRV], 1460);
	EXPECT(&c, A_RETX, CLI);
}

static void
test_out_of_order(void)
{
	struct conn c;
	uint32_t b, e;

	conn_init(&c, 1000, 5000);
	handshake(&c, 10000);  /* RTT 10 ms: the reordering window */
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c);
	b = c.nxt[CLI];
	c.nxt[CLI] += 1460;     /* B not seen (yet) */
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c, A_LOST, CLI);
	CHECK(hflags(&c, CLI) & TCPA_AH_HOLE);
	CHECK_EQ((&c.k)->hole[c.side[CLI]].lo, b);
	CHECK_EQ((&c.k)->hole[c.side[CLI]].hi, b + 1460);
	wait_ms(&c, 2);
	raw(&c, CLI, F_A | F_P, b, c.nxt[SRV], 1460);
	EXPECT(&c, A_OOO, CLI);
	CHECK_EQ(hflags(&c, CLI) & TCPA_AH_HOLE, 0);
	seg(&c, SRV, F_A, 0);
	EXPECT(&c);
	/* Another gap, filled 50 ms later (> RTT): a retransmission. */
	e = c.nxt[CLI];
	c.nxt[CLI] += 1460;
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c, A_LOST, CLI);
	wait_ms(&c, 50);
	raw(&c, CLI, F_A | F_P, e, c.nxt[SRV], 1460);
	EXPECT(&c, A_RETX, CLI);
	CHECK_EQ(hflags(&c, CLI) & TCPA_AH_HOLE, 0);
	seg(&c, SRV, F_A, 0);
	EXPECT(&c);
	/* A gap of two segments filled in two pieces, both in time. */
	e = c.nxt[CLI];
	c.nxt[CLI] += 2920;
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c, A_LOST, CLI);
	wait_ms(&c, 1);
	raw(&c, CLI, F_A | F_P, e, c.nxt[SRV], 1460);
	EXPECT(&c, A_OOO, CLI);
	CHECK(hflags(&c, CLI) & TCPA_AH_HOLE);
	raw(&c, CLI, F_A | F_P, e + 1460, c.nxt[SRV], 1460);
	EXPECT(&c, A_OOO, CLI);
	CHECK_EQ(hflags(&c, CLI) & TCPA_AH_HOLE, 0);

	/* Midstream (no handshake, RTT unknown): reorder_ms, 3 ms. */
	conn_init(&c, 1000, 5000);
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c);
	seg(&c, SRV, F_A, 0);
	EXPECT(&c);
	CHECK_EQ(c.h.rtt16, 0);
	b = c.nxt[CLI];
	c.nxt[CLI] += 1460;
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c, A_LOST, CLI);
	wait_us(&c, 2900);
	raw(&c, CLI, F_A | F_P, b, c.nxt[SRV], 1460);
	EXPECT(&c, A_OOO, CLI);
	b = c.nxt[CLI];
	c.nxt[CLI] += 1460;
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c, A_LOST, CLI);
	wait_us(&c, 3100);
	raw(&c, CLI, F_A | F_P, b, c.nxt[SRV], 1460);
	EXPECT(&c, A_RETX, CLI);
}

static void
test_ack_unseen(void)
{
	struct conn c;

	conn_init(&c, 1000, 5000);
	handshake(&c, 1000);
	seg(&c, CLI, F_A | F_P, 1000);
	EXPECT(&c);
	/* The server acknowledges 500 bytes more than the observer saw. */
	seg_ack(&c, SRV, F_A, 0, c.nxt[CLI] + 500);
	EXPECT(&c, A_UNSEEN, SRV);
	/* ... and the client's data from the ACK on arrives as expected. */
	c.nxt[CLI] += 500;
	seg(&c, CLI, F_A | F_P, 1000);
	EXPECT(&c, A_LOST, CLI);
	seg(&c, SRV, F_A, 0);
	EXPECT(&c);
	/* An ACK exactly up to what was seen is fine; a FIN's ACK too. */
	seg(&c, CLI, F_F | F_A, 0);
	EXPECT(&c);
	seg(&c, SRV, F_A, 0);
	EXPECT(&c);
}

static void
test_dup_ack(void)
{
	struct conn c;
	uint32_t a;

	conn_init(&c, 1000, 5000);
	handshake(&c, 1000);
	a = c.nxt[CLI];
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c);
	/* Same ACK (the SYN-ACK's) and window, data outstanding. */
	seg_ack(&c, SRV, F_A, 0, a);
	EXPECT(&c, A_DUP, SRV);
	/* The window changed: a window update, not a duplicate. */
	c.win[SRV] = 60000;
	seg_ack(&c, SRV, F_A, 0, a);
	EXPECT(&c);
	/* Same again with the new window: a duplicate. */
	seg_ack(&c, SRV, F_A, 0, a);
	EXPECT(&c, A_DUP, SRV);
	/* Data carrying the same ACK is not a pure ACK. */
	seg_ack(&c, SRV, F_A | F_P, 100, a);
	EXPECT(&c);
	/* Everything acknowledged: the same ACK again is not a duplicate. */
	seg(&c, SRV, F_A, 0);
	EXPECT(&c);
	seg(&c, SRV, F_A, 0);
	EXPECT(&c);
	seg(&c, CLI, F_A, 0);
	EXPECT(&c);
	seg(&c, SRV, F_A, 0);
	EXPECT(&c);
	/* A FIN with the same ACK is not pure either. */
	a = c.nxt[CLI];
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c);
	seg_ack(&c, SRV, F_F | F_A, 0, a);
	EXPECT(&c);
	/* Pure ACKs after that FIN, data still outstanding: duplicates again. */
	seg_ack(&c, SRV, F_A, 0, a);
	EXPECT(&c, A_DUP, SRV);
	seg_ack(&c, SRV, F_A, 0, a);
	EXPECT(&c, A_DUP, SRV);

	/*
	 * Zero-window ACKs repeated while data is outstanding are the
	 * receiver staying shut, not loss signals (Wireshark requires an
	 * open window): no dup_ack, so the resend when the window reopens
	 * is not taken for a fast retransmission.
	 */
	conn_init(&c, 1000, 5000);
	handshake(&c, 1000);
	seg(&c, CLI, F_A | F_P, 1460);
	a = c.nxt[CLI];
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c);
	seg_ack(&c, SRV, F_A, 0, a);
	EXPECT(&c);
	c.win[SRV] = 0;
	seg_ack(&c, SRV, F_A, 0, a);
	EXPECT(&c, A_ZW, SRV);
	seg_ack(&c, SRV, F_A, 0, a);
	EXPECT(&c, A_ZW, SRV);
	seg_ack(&c, SRV, F_A, 0, a);
	EXPECT(&c, A_ZW, SRV);
	CHECK_EQ(tcpa_anom_dupacks((&c.k), c.side[SRV]), 0);
	c.win[SRV] = 65535;
	seg_ack(&c, SRV, F_A, 0, a);
	EXPECT(&c);
	raw(&c, CLI, F_A | F_P, a, c.nxt[SRV], 1460);
	EXPECT(&c, A_RETX, CLI);
}

static void
test_zero_window(void)
{
	struct conn c;

	conn_init(&c, 1000, 5000);
	handshake(&c, 1000);
	seg(&c, CLI, F_A | F_P, 1000);
	EXPECT(&c);
	c.win[SRV] = 0;
	seg(&c, SRV, F_A, 0);
	EXPECT(&c, A_ZW, SRV);
	/* Every segment advertising it counts. */
	seg(&c, SRV, F_A, 0);
	EXPECT(&c, A_ZW, SRV);
	seg(&c, SRV, F_A | F_P, 100);
	EXPECT(&c, A_ZW, SRV);
	seg(&c, CLI, F_A, 0);
	EXPECT(&c);
	/*
	 * On a FIN too, but not on a RST: ANOMALIES.md excludes only RST
	 * (Wireshark also skips SYN and FIN: docs/ACCURACY.md, difference 9).
	 */
	seg(&c, SRV, F_F | F_A, 0);
	EXPECT(&c, A_ZW, SRV);
	raw(&c, SRV, F_R | F_A, c.nxt[SRV], c.nxt[CLI], 0);
	EXPECT(&c);
	CHECK_EQ(c.t.half[c.side[SRV]].state, TCPA_TCP_ST_CLOSED);

	/* And on a SYN-ACK advertising a zero window. */
	conn_init(&c, 1000, 5000);
	c.win[SRV] = 0;
	seg(&c, CLI, F_S, 0);
	EXPECT(&c);
	seg(&c, SRV, F_S | F_A, 0);
	EXPECT(&c, A_ZW, SRV);
	seg(&c, CLI, F_A, 0);
	EXPECT(&c);
}

/* Both forms of zero-window probe, and what they are not. */
static void
test_zero_window_probe(void)
{
	struct conn c;
	uint32_t p;

	/* 1 byte at the next sequence (Windows, BSD). */
	conn_init(&c, 1000, 5000);
	handshake(&c, 1000);
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c);
	c.win[SRV] = 0;
	seg(&c, SRV, F_A, 0);
	EXPECT(&c, A_ZW, SRV);
	wait_ms(&c, 200);
	p = c.nxt[CLI];
	seg(&c, CLI, F_A | F_P, 1);
	EXPECT(&c, A_ZWP, CLI);
	/* The receiver refuses the byte: ACK below it, window still 0. */
	seg_ack(&c, SRV, F_A, 0, p);
	EXPECT(&c, A_ZW, SRV);
	/* The same byte again (now next - 1): still the probe. */
	wait_ms(&c, 400);
	raw(&c, CLI, F_A | F_P, p, c.nxt[SRV], 1);
	EXPECT(&c, A_ZWP, CLI);
	seg_ack(&c, SRV, F_A, 0, p);
	EXPECT(&c, A_ZW, SRV);
	/* The window opens; the sender goes on from the refused byte. */
	c.win[SRV] = 65535;
	seg_ack(&c, SRV, F_A, 0, p);
	EXPECT(&c);
	raw(&c, CLI, F_A | F_P, p, c.nxt[SRV], 1460);
	EXPECT(&c, A_RETX, CLI);
	c.nxt[CLI] = p + 1460;

	/* Linux: no payload at next - 1 while the window is zero. */
	conn_init(&c, 1000, 5000);
	handshake(&c, 1000);
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c);
	c.win[SRV] = 0;
	seg(&c, SRV, F_A, 0);
	EXPECT(&c, A_ZW, SRV);
	wait_ms(&c, 200);
	raw(&c, CLI, F_A, c.nxt[CLI] - 1, c.nxt[SRV], 0);
	EXPECT(&c, A_ZWP, CLI);
	/* Its answer is not a keep-alive answer. */
	seg(&c, SRV, F_A, 0);
	EXPECT(&c, A_ZW, SRV);
	wait_ms(&c, 400);
	raw(&c, CLI, F_A, c.nxt[CLI] - 1, c.nxt[SRV], 0);
	EXPECT(&c, A_ZWP, CLI);
	seg(&c, SRV, F_A, 0);
	EXPECT(&c, A_ZW, SRV);
	c.win[SRV] = 65535;
	seg(&c, SRV, F_A, 0);
	EXPECT(&c);
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c);
	seg(&c, SRV, F_A, 0);
	EXPECT(&c);
	CHECK_EQ(hflags(&c, CLI) & TCPA_AH_KA, 0);

	/* 2 bytes at the next sequence into a zero window: data, not a probe. */
	conn_init(&c, 1000, 5000);
	handshake(&c, 1000);
	c.win[SRV] = 0;
	seg(&c, SRV, F_A, 0);
	EXPECT(&c, A_ZW, SRV);
	seg(&c, CLI, F_A | F_P, 2);
	EXPECT(&c);
}

static void
test_keepalive(void)
{
	struct conn c;
	uint32_t k;

	conn_init(&c, 1000, 5000);
	handshake(&c, 1000);
	seg(&c, CLI, F_A | F_P, 200);
	seg(&c, SRV, F_A | F_P, 1000);
	seg(&c, CLI, F_A, 0);
	EXPECT(&c);
	/* Two hours idle (tcp_keepalive_time): no payload at next - 1. */
	wait_ms(&c, 7200000);
	raw(&c, CLI, F_A, c.nxt[CLI] - 1, c.nxt[SRV], 0);
	EXPECT(&c, A_KA, CLI);
	CHECK(hflags(&c, CLI) & TCPA_AH_KA);
	wait_us(&c, 300);
	seg(&c, SRV, F_A, 0);
	EXPECT(&c, A_KAACK, SRV);
	CHECK_EQ(hflags(&c, CLI) & TCPA_AH_KA, 0);
	/* Answered once only. */
	seg(&c, SRV, F_A, 0);
	EXPECT(&c);
	/* The 1-byte form (one byte already acknowledged). */
	wait_ms(&c, 75000);
	raw(&c, CLI, F_A, c.nxt[CLI] - 1, c.nxt[SRV], 1);
	EXPECT(&c, A_KA, CLI);
	seg(&c, SRV, F_A, 0);
	EXPECT(&c, A_KAACK, SRV);
	/* The server's keep-alive, the client's answer. */
	wait_ms(&c, 75000);
	raw(&c, SRV, F_A, c.nxt[SRV] - 1, c.nxt[CLI], 0);
	EXPECT(&c, A_KA, SRV);
	seg(&c, CLI, F_A, 0);
	EXPECT(&c, A_KAACK, CLI);
	/* Traffic resumes normally. */
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c);
	seg(&c, SRV, F_A, 0);
	EXPECT(&c);
	CHECK_EQ(hflags(&c, CLI) | hflags(&c, SRV), 0);

	/*
	 * A 1-byte segment (a keystroke) not acknowledged, sent again: the
	 * connection is not idle, that is the resend of the byte, not a
	 * keep-alive (ANOMALIES.md: keep-alive "on an idle connection").
	 */
	conn_init(&c, 1000, 5000);
	handshake(&c, 1000);
	k = c.nxt[CLI];
	seg(&c, CLI, F_A | F_P, 1);
	EXPECT(&c);
	wait_ms(&c, 300);
	raw(&c, CLI, F_A | F_P, k, c.nxt[SRV], 1);
	EXPECT(&c, A_RETX, CLI);
	CHECK_EQ(hflags(&c, CLI) & TCPA_AH_KA, 0);
	/* Acknowledged now; the same byte once more is a keep-alive (BSD style). */
	seg(&c, SRV, F_A, 0);
	EXPECT(&c);
	wait_ms(&c, 60000);
	raw(&c, CLI, F_A, k, c.nxt[SRV], 1);
	EXPECT(&c, A_KA, CLI);
}

static void
test_window_full(void)
{
	struct conn c;

	/* The server's receive buffer holds two segments. */
	conn_init(&c, 1000, 5000);
	c.win[SRV] = 2920;
	handshake(&c, 1000);
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c);
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c, A_FULL, CLI);
	seg(&c, SRV, F_A, 0);
	EXPECT(&c);
	seg(&c, CLI, F_A | F_P, 1000);
	EXPECT(&c);
	seg(&c, CLI, F_A | F_P, 1920);
	EXPECT(&c, A_FULL, CLI);
	seg(&c, SRV, F_A, 0);
	EXPECT(&c);
	/* The last bytes and a FIN filling it: the FIN is not window. */
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c);
	seg(&c, CLI, F_F | F_A | F_P, 1460);
	EXPECT(&c, A_FULL, CLI);

	/* Scaled: 730 << 2 = 2920, once both SYNs offered scaling. */
	conn_init(&c, 1000, 5000);
	c.ws[CLI] = 7;
	c.ws[SRV] = 2;
	c.win[CLI] = 502;
	c.win[SRV] = 730;
	handshake(&c, 1000);
	CHECK(c.t.flags & TCPA_CONN_WSCALE);
	seg(&c, SRV, F_A, 0);   /* its first scaled window */
	EXPECT(&c);
	CHECK_EQ(c.t.half[c.side[SRV]].win, 2920);
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c);
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c, A_FULL, CLI);
	/* Less than the window: nothing. */
	seg(&c, SRV, F_A, 0);
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c);
	seg(&c, CLI, F_A | F_P, 1400);
	EXPECT(&c);
}

/* Nagle meeting delayed ACK (RTT 1 ms: "right after" is within ~2 ms). */
static void
test_nagle(void)
{
	struct conn c;

	conn_init(&c, 1000, 5000);
	handshake(&c, 1000);
	/* write(header); write(body): the body waits for the delayed ACK. */
	seg(&c, CLI, F_A | F_P, 100);
	EXPECT(&c);
	wait_ms(&c, 40);
	seg(&c, SRV, F_A, 0);
	EXPECT(&c);
	CHECK(hflags(&c, CLI) & TCPA_AH_LATE);
	wait_us(&c, 200);
	seg(&c, CLI, F_A | F_P, 300);
	EXPECT(&c, A_NAGLE, CLI);
	CHECK_EQ(hflags(&c, CLI) & TCPA_AH_LATE, 0);
	/* Acknowledged quickly this time: the next small segment is fine. */
	wait_ms(&c, 1);
	seg(&c, SRV, F_A, 0);
	EXPECT(&c);
	wait_us(&c, 200);
	seg(&c, CLI, F_A | F_P, 100);
	EXPECT(&c);
	wait_ms(&c, 5);
	seg(&c, SRV, F_A, 0);
	EXPECT(&c);
	/* Full-size segments are never held by Nagle. */
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c);
	wait_ms(&c, 40);
	seg(&c, SRV, F_A, 0);
	EXPECT(&c);
	wait_us(&c, 200);
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c);
	seg(&c, CLI, F_A | F_P, 100);
	EXPECT(&c);
	/* A late ACK, but the next small segment comes much later: no stall. */
	wait_ms(&c, 40);
	seg(&c, SRV, F_A, 0);
	EXPECT(&c);
	wait_ms(&c, 100);
	seg(&c, CLI, F_A | F_P, 100);
	EXPECT(&c);
	wait_ms(&c, 1);
	seg(&c, SRV, F_A, 0);
	EXPECT(&c);
	/* The server's turn: attributed to the server. */
	seg(&c, SRV, F_A | F_P, 50);
	EXPECT(&c);
	wait_ms(&c, 45);
	seg(&c, CLI, F_A, 0);
	EXPECT(&c);
	wait_us(&c, 500);
	seg(&c, SRV, F_A | F_P, 50);
	EXPECT(&c, A_NAGLE, SRV);

	/*
	 * Request and response: the response carries the ACK of the request
	 * 50 ms later (server think time), and the next request follows it at
	 * once. Nothing was held back: a late ACK riding on data is not a
	 * delayed ACK.
	 */
	conn_init(&c, 1000, 5000);
	handshake(&c, 1000);
	for (unsigned i = 0; i < 5; i++) {
		seg(&c, CLI, F_A | F_P, 120);
		EXPECT(&c);
		wait_ms(&c, 50);
		seg(&c, SRV, F_A | F_P, 400);
		EXPECT(&c);
		wait_us(&c, 300);
	}
	CHECK_EQ(hflags(&c, CLI) & TCPA_AH_LATE, 0);

	/* MSS unknown (no option): 536 is the bound for "sub-MSS". */
	conn_init(&c, 1000, 5000);
	c.mss[CLI] = 0;
	c.mss[SRV] = 0;
	handshake(&c, 1000);
	seg(&c, CLI, F_A | F_P, 536);
	wait_ms(&c, 40);
	seg(&c, SRV, F_A, 0);
	wait_us(&c, 200);
	seg(&c, CLI, F_A | F_P, 100);
	EXPECT(&c);
	wait_ms(&c, 40);
	seg(&c, SRV, F_A, 0);
	wait_us(&c, 200);
	seg(&c, CLI, F_A | F_P, 535);
	EXPECT(&c, A_NAGLE, CLI);
}

static void
test_idle_close(void)
{
	struct conn c;
	uint32_t last;

	conn_init(&c, 1000, 5000);
	handshake(&c, 1000);
	seg(&c, CLI, F_A | F_P, 100);
	wait_ms(&c, 3);
	seg(&c, SRV, F_A | F_P, 300);
	last = (uint32_t)(c.now / MS);
	wait_ms(&c, 1);
	seg(&c, CLI, F_A, 0);
	EXPECT(&c);
	/* ACKs carry no payload: they do not end the idle time. */
	wait_ms(&c, 1000);
	seg(&c, CLI, F_A, 0);
	EXPECT(&c);
	wait_ms(&c, 1500);
	seg(&c, SRV, F_F | F_A, 0);
	EXPECT(&c, A_IDLE, SRV);
	CHECK_EQ(c.o.idle_ms, (uint32_t)(c.now / MS) - last);
	CHECK_EQ(c.o.idle_ms, 2501);
	/* Once per connection: the client's FIN is not counted again. */
	seg(&c, CLI, F_A, 0);
	EXPECT(&c);
	wait_ms(&c, 3000);
	seg(&c, CLI, F_F | F_A, 0);
	EXPECT(&c);
	seg(&c, SRV, F_A, 0);
	EXPECT(&c);

	/* Just under idle_close_s: not counted. */
	conn_init(&c, 1000, 5000);
	handshake(&c, 1000);
	seg(&c, SRV, F_A | F_P, 300);
	seg(&c, CLI, F_A, 0);
	wait_ms(&c, 1998);
	seg(&c, CLI, F_F | F_A, 0);
	EXPECT(&c);
	/* The FIN retransmitted later is no idle close either. */
	wait_ms(&c, 3000);
	raw(&c, CLI, F_F | F_A, c.nxt[CLI] - 1, c.nxt[SRV], 0);
	EXPECT(&c, A_RETX, CLI);

	/* Exactly idle_close_s, from the client's last payload. */
	conn_init(&c, 1000, 5000);
	handshake(&c, 1000);
	seg(&c, SRV, F_A | F_P, 300);
	wait_ms(&c, 10);
	seg(&c, CLI, F_A | F_P, 30);
	wait_ms(&c, 2000);
	seg(&c, CLI, F_F | F_A, 0);
	EXPECT(&c, A_IDLE, CLI);
	CHECK_EQ(c.o.idle_ms, 2000);

	/* Data with the FIN: the connection was not idle. */
	conn_init(&c, 1000, 5000);
	handshake(&c, 1000);
	seg(&c, SRV, F_A | F_P, 300);
	wait_ms(&c, 5000);
	seg(&c, SRV, F_F | F_A | F_P, 20);
	EXPECT(&c);

	/* No payload ever (DESIGN.md): not counted. */
	conn_init(&c, 1000, 5000);
	handshake(&c, 1000);
	wait_ms(&c, 10000);
	seg(&c, SRV, F_F | F_A, 0);
	EXPECT(&c);
}

/*
 * Packet time in ms wraps (uint32): the rule must hold whatever the epoch,
 * with one side that never sent payload (its "last payload" unset).
 */
static void
test_idle_close_epochs(void)
{
	static const uint64_t t0[] = {
		1000ULL * MS,                           /* ms count small */
		T0,                                     /* ms count past 2^31 */
		((uint64_t)1 << 31) * MS - 500 * MS,    /* crosses 2^31 while idle */
		((uint64_t)1 << 32) * MS - 1000 * MS,   /* crosses 2^32 while idle */
	};

	for (unsigned i = 0; i < TCPA_ARRAY_SIZE(t0); i++) {
		struct conn c;

		/* Only the server sent payload; the client closes 1.5 s later. */
		conn_init(&c, 1000, 5000);
		c.now = t0[i];
		handshake(&c, 1000);
		seg(&c, SRV, F_A | F_P, 300);
		seg(&c, CLI, F_A, 0);
		wait_ms(&c, 1500);
		seg(&c, CLI, F_F | F_A, 0);
		EXPECT(&c);
		/* Only the client sent payload; the server closes 2.5 s later. */
		conn_init(&c, 1000, 5000);
		c.now = t0[i];
		handshake(&c, 1000);
		seg(&c, CLI, F_A | F_P, 300);
		seg(&c, SRV, F_A, 0);
		wait_ms(&c, 2500);
		seg(&c, SRV, F_F | F_A, 0);
		EXPECT(&c, A_IDLE, SRV);
		CHECK_EQ(c.o.idle_ms, 2500);
		/* Both sent payload; the later one counts. */
		conn_init(&c, 1000, 5000);
		c.now = t0[i];
		handshake(&c, 1000);
		seg(&c, CLI, F_A | F_P, 300);
		wait_ms(&c, 700);
		seg(&c, SRV, F_A | F_P, 300);
		wait_ms(&c, 1500);
		seg(&c, SRV, F_F | F_A, 0);
		EXPECT(&c);
		wait_ms(&c, 600);
		seg(&c, CLI, F_F | F_A, 0);
		EXPECT(&c, A_IDLE, CLI);
		CHECK_EQ(c.o.idle_ms, 2100);
	}
}

static void
test_stale_reuse(void)
{
	struct conn c;

	conn_init(&c, 1000, 5000);
	handshake(&c, 1000);
	seg(&c, CLI, F_A | F_P, 100);
	seg(&c, SRV, F_A | F_P, 300);
	seg(&c, CLI, F_A, 0);
	EXPECT(&c);
	/* The server's idle timeout closes; the pool acknowledges and keeps it. */
	wait_ms(&c, 1000);
	seg(&c, SRV, F_F | F_A, 0);
	EXPECT(&c);
	seg(&c, CLI, F_A, 0);
	EXPECT(&c);
	CHECK_EQ(c.t.half[c.side[CLI]].state, TCPA_TCP_ST_CLOSE_WAIT);
	/* Handed out again: a request on it. */
	wait_ms(&c, 500);
	seg(&c, CLI, F_A | F_P, 100);
	EXPECT(&c, A_STALE, CLI);
	/* Once per connection. */
	seg(&c, CLI, F_A | F_P, 100);
	EXPECT(&c);
	/* The server's kernel answers RST: nothing per segment. */
	raw(&c, SRV, F_R, c.nxt[SRV], 0, 0);
	EXPECT(&c);

	/* Payload from the endpoint that closed is not stale reuse. */
	conn_init(&c, 1000, 5000);
	handshake(&c, 1000);
	seg(&c, CLI, F_F | F_A, 0);
	seg(&c, SRV, F_A, 0);
	EXPECT(&c);
	CHECK_EQ(c.t.half[c.side[SRV]].state, TCPA_TCP_ST_CLOSE_WAIT);
	/* The server in CLOSE_WAIT still writes its reply: that is stale too. */
	seg(&c, SRV, F_A | F_P, 100);
	EXPECT(&c, A_STALE, SRV);
	seg(&c, CLI, F_A, 0);
	EXPECT(&c);
	seg(&c, SRV, F_F | F_A, 0);
	EXPECT(&c);
}

/*
 * The per-connection conditions a flow record shows, and what a restart of
 * the flow entry (a new connection on the tuple) keeps of them: nothing but
 * the restarting SYN's MSS.
 */
static void
test_conn_conditions(void)
{
	struct conn c;

	for (unsigned a = 0; a < TCPA_ANOM_MAX; a++)
		CHECK_EQ(tcpa_anom_is_conn_condition(a), a == A_IDLE || a == A_STALE ||
			a == TCPA_ANOM_close_wait_stuck || a == TCPA_ANOM_syn_unanswered);
	conn_init(&c, 1000, 5000);
	handshake(&c, 1000);
	seg(&c, CLI, F_A | F_P, 100);
	seg(&c, SRV, F_A | F_P, 300);
	seg(&c, CLI, F_A, 0);
	for (unsigned a = 0; a < TCPA_ANOM_MAX; a++)
		CHECK(!tcpa_anom_conn_showed(&c.h, &c.k, &c.t, a));
	wait_ms(&c, 2500);
	seg(&c, SRV, F_F | F_A, 0);
	EXPECT(&c, A_IDLE, SRV);
	seg(&c, CLI, F_A, 0);
	seg(&c, CLI, F_A | F_P, 100);
	EXPECT(&c, A_STALE, CLI);
	CHECK(tcpa_anom_conn_showed(&c.h, &c.k, &c.t, A_IDLE));
	CHECK(tcpa_anom_conn_showed(&c.h, &c.k, &c.t, A_STALE));
	CHECK(!tcpa_anom_conn_showed(&c.h, &c.k, &c.t, TCPA_ANOM_close_wait_stuck));
	/* Per-segment anomalies are never per-connection conditions. */
	CHECK(!tcpa_anom_conn_showed(&c.h, &c.k, &c.t, TCPA_ANOM_retransmission));
	/* The engine's timer marks a stuck CLOSE_WAIT in the rules' flags. */
	c.h.hflags[c.side[CLI]] |= TCPA_AH_CW_STUCK;
	CHECK(tcpa_anom_conn_showed(&c.h, &c.k, &c.t, TCPA_ANOM_close_wait_stuck));

	tcpa_anom_restart(&c.h, &c.k, c.side[CLI], 12345);
	CHECK_EQ(c.h.mss[c.side[CLI]], 1460);
	CHECK_EQ(c.h.mss[c.side[SRV]], 0);
	CHECK_EQ(c.h.rtt16, 0);
	CHECK_EQ(c.h.last_data_ms, 0);
	CHECK_EQ(c.k.born_us, 12345);
	for (unsigned a = 0; a < TCPA_ANOM_MAX; a++)
		CHECK(!tcpa_anom_conn_showed(&c.h, &c.k, &c.t, a));
}

/*
 * Sequence numbers crossing 2^32. Data starts at 0xfffff600: B spans the
 * wrap, C starts after it.
 */
static void
test_wraparound(void)
{
	struct conn c;
	uint32_t a, b, d;

	conn_init(&c, 0xfffff5ffU, 0xffffffffU);
	handshake(&c, 10000);
	a = c.nxt[CLI];
	CHECK_EQ(a, 0xfffff600U);
	CHECK_EQ(c.nxt[SRV], 0);
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c);
	b = c.nxt[CLI];
	c.nxt[CLI] += 1460;     /* B, across the wrap, not seen */
	CHECK(c.nxt[CLI] < b);
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c, A_LOST, CLI);
	wait_ms(&c, 1);
	raw(&c, CLI, F_A | F_P, b, c.nxt[SRV], 1460);
	EXPECT(&c, A_OOO, CLI);
	CHECK_EQ(hflags(&c, CLI) & TCPA_AH_HOLE, 0);
	/* A, sent again long after: a retransmission, not a jump ahead. */
	wait_ms(&c, 300);
	raw(&c, CLI, F_A | F_P, a, c.nxt[SRV], 1460);
	EXPECT(&c, A_RETX, CLI);
	/* An ACK across the wrap, up to what was seen. */
	seg(&c, SRV, F_A, 0);
	EXPECT(&c);
	/* Acknowledged data across the wrap, resent: spurious. */
	raw(&c, CLI, F_A | F_P, b, c.nxt[SRV], 1460);
	EXPECT(&c, A_SPUR, CLI);
	/* In-order data after the wrap: the fast path, nothing. */
	d = c.nxt[CLI];
	CHECK(d < 0x10000U);
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c);
	/* An ACK beyond what was seen, across the wrap of the server's side. */
	seg(&c, SRV, F_A | F_P, 1000);
	EXPECT(&c);
	seg_ack(&c, CLI, F_A, 0, c.nxt[SRV] + 10);
	EXPECT(&c, A_UNSEEN, CLI);
	/* A segment far below (a wrapped-around old one) is not "lost". */
	raw(&c, CLI, F_A | F_P, d - 100000, c.nxt[SRV], 100);
	EXPECT(&c, A_SPUR, CLI);
	/* Duplicate ACKs and the fast retransmission right at the wrap. */
	conn_init(&c, 0xfffffa00U - 1461U, 5000);
	handshake(&c, 10000);
	seg(&c, CLI, F_A | F_P, 1460);
	a = c.nxt[CLI];
	seg_ack(&c, SRV, F_A, 0, a);
	EXPECT(&c);
	seg(&c, CLI, F_A | F_P, 1460);    /* a: lost after the tap, wraps */
	seg(&c, CLI, F_A | F_P, 1460);
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c);
	seg_ack(&c, SRV, F_A, 0, a);
	EXPECT(&c, A_DUP, SRV);
	seg_ack(&c, SRV, F_A, 0, a);
	EXPECT(&c, A_DUP, SRV);
	raw(&c, CLI, F_A | F_P, a, c.nxt[SRV], 1460);
	EXPECT(&c, A_FAST, CLI, A_RETX, CLI);
}

/*
 * Precedence (ANOMALIES.md): zero_window_probe > keepalive > spurious >
 * fast > out_of_order > retransmission; one of them per segment.
 */
static void
test_precedence(void)
{
	struct conn c;
	uint32_t b, a;

	/* zero_window_probe over keepalive: next - 1 into a zero window. */
	conn_init(&c, 1000, 5000);
	handshake(&c, 1000);
	seg(&c, CLI, F_A | F_P, 100);
	c.win[SRV] = 0;
	seg(&c, SRV, F_A, 0);
	EXPECT(&c, A_ZW, SRV);
	wait_ms(&c, 10000);
	raw(&c, CLI, F_A, c.nxt[CLI] - 1, c.nxt[SRV], 1);
	EXPECT(&c, A_ZWP, CLI);
	CHECK_EQ(hflags(&c, CLI) & TCPA_AH_KA, 0);

	/* keepalive over spurious: the byte at next - 1 was acknowledged. */
	conn_init(&c, 1000, 5000);
	handshake(&c, 1000);
	seg(&c, CLI, F_A | F_P, 100);
	seg(&c, SRV, F_A, 0);
	wait_ms(&c, 10000);
	raw(&c, CLI, F_A, c.nxt[CLI] - 1, c.nxt[SRV], 1);
	EXPECT(&c, A_KA, CLI);

	/* spurious over fast: 2 dup ACKs signal a hole, but this was acknowledged. */
	conn_init(&c, 1000, 5000);
	handshake(&c, 10000);
	seg(&c, CLI, F_A | F_P, 1460);
	a = c.nxt[CLI];
	seg_ack(&c, SRV, F_A, 0, a);
	seg(&c, CLI, F_A | F_P, 1460);
	seg(&c, CLI, F_A | F_P, 1460);
	seg_ack(&c, SRV, F_A, 0, a);
	EXPECT(&c, A_DUP, SRV);
	seg_ack(&c, SRV, F_A, 0, a);
	EXPECT(&c, A_DUP, SRV);
	raw(&c, CLI, F_A | F_P, a - 1460, c.nxt[SRV], 1460);
	EXPECT(&c, A_SPUR, CLI);
	raw(&c, CLI, F_A | F_P, a, c.nxt[SRV], 1460);
	EXPECT(&c, A_FAST, CLI, A_RETX, CLI);

	/* fast over out_of_order: the gap the observer saw, signalled twice. */
	conn_init(&c, 1000, 5000);
	handshake(&c, 10000);
	seg(&c, CLI, F_A | F_P, 1460);
	a = c.nxt[CLI];
	seg_ack(&c, SRV, F_A, 0, a);
	EXPECT(&c);
	b = c.nxt[CLI];
	c.nxt[CLI] += 1460;
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c, A_LOST, CLI);
	seg_ack(&c, SRV, F_A, 0, a);
	EXPECT(&c, A_DUP, SRV);
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c);
	seg_ack(&c, SRV, F_A, 0, a);
	EXPECT(&c, A_DUP, SRV);
	wait_us(&c, 500);       /* within the RTT of the gap */
	raw(&c, CLI, F_A | F_P, b, c.nxt[SRV], 1460);
	EXPECT(&c, A_FAST, CLI, A_RETX, CLI);
	CHECK_EQ(hflags(&c, CLI) & TCPA_AH_HOLE, 0);

	/* spurious over out_of_order: the receiver had it (the tap missed it). */
	conn_init(&c, 1000, 5000);
	handshake(&c, 10000);
	b = c.nxt[CLI];
	c.nxt[CLI] += 1460;
	seg(&c, CLI, F_A | F_P, 1460);
	EXPECT(&c, A_LOST, CLI);
	/* Its ACK covers the gap: data this observer never saw. */
	seg(&c, SRV, F_A, 0);
	EXPECT(&c, A_UNSEEN, SRV);
	raw(&c, CLI, F_A | F_P, b, c.nxt[SRV], 1460);
	EXPECT(&c, A_SPUR, CLI);

	/* out_of_order over retransmission: covered by test_out_of_order. */
}

/* RST and SYN segments belong to the state machine: no per-segment flags. */
static void
test_rst_syn(void)
{
	struct conn c;

	conn_init(&c, 1000, 5000);
	c.win[CLI] = 0;
	seg(&c, CLI, F_S, 0);
	EXPECT(&c, A_ZW, CLI);  /* a SYN with a zero window: not a RST */
	raw_win(&c, SRV, F_R | F_A, 0, c.nxt[CLI], 0, 0);
	EXPECT(&c);
	CHECK(c.r.what & TCPA_TCP_R_REFUSED);
	/* A RST into an established connection, repeated. */
	conn_init(&c, 1000, 5000);
	handshake(&c, 1000);
	seg(&c, CLI, F_A | F_P, 100);
	raw_win(&c, CLI, F_R | F_A, c.nxt[CLI], c.nxt[SRV], 0, 0);
	EXPECT(&c);
	raw_win(&c, CLI, F_R, c.nxt[CLI], 0, 0, 0);
	EXPECT(&c);
}

int
main(void)
{
	RUN(test_names);
	RUN(test_handshake);
	RUN(test_fast_path);
	RUN(test_retransmission);
	RUN(test_syn_retransmission);
	RUN(test_spurious);
	RUN(test_spurious_sack);
	RUN(test_fast_retransmission);
	RUN(test_rto_not_fast);
	RUN(test_rto_not_fast_late);
	RUN(test_out_of_order);
	RUN(test_ack_unseen);
	RUN(test_dup_ack);
	RUN(test_zero_window);
	RUN(test_zero_window_probe);
	RUN(test_keepalive);
	RUN(test_window_full);
	RUN(test_nagle);
	RUN(test_idle_close);
	RUN(test_idle_close_epochs);
	RUN(test_stale_reuse);
	RUN(test_wraparound);
	RUN(test_precedence);
	RUN(test_rst_syn);

	RUN(test_conn_conditions);
	return check_summary("anom");
}
