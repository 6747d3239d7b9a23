/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for lib/tcp: every path of the passive state machine, driven
 * through tcpa_tcp_input() with hand-built segments between a client and a
 * server (ANOMALIES.md, "Endpoint states"), plus the transition table, the
 * timeout classes and the state names.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpa_tcp.h"

#include "check.h"
#include "segment.h"

/* Both endpoints' states, named. */
#define CHECK_ST(c, cst, sst) do { \
	unsigned gc_ = st(c, CLI), gs_ = st(c, SRV); \
	unsigned wc_ = TCPA_TCP_ST_##cst, ws_ = TCPA_TCP_ST_##sst; \
	if (gc_ != wc_ || gs_ != ws_) { \
		fprintf(stderr, "%s:%d: %s: client %s server %s, expected client %s server %s\n", \
			__FILE__, __LINE__, __func__, tcpa_tcp_state_name(gc_), \
			tcpa_tcp_state_name(gs_), tcpa_tcp_state_name(wc_), \
			tcpa_tcp_state_name(ws_)); \
		cur_fail++; \
	} \
} while (0)

/* Result bits: exactly @want among those in @mask. */
#define CHECK_R(c, mask, want) do { \
	unsigned g_ = (c)->r.what & (mask); \
	if (g_ != (unsigned)(want)) { \
		fprintf(stderr, "%s:%d: %s: result 0x%04x (masked 0x%04x), expected 0x%04x\n", \
			__FILE__, __LINE__, __func__, (c)->r.what, g_, (unsigned)(want)); \
		cur_fail++; \
	} \
} while (0)

#define R_ANY 0xffff
#define R_ANOM (TCPA_TCP_R_SYN_RETX | TCPA_TCP_R_SYNACK_RETX | TCPA_TCP_R_REFUSED | \
	TCPA_TCP_R_RST_ABORT | TCPA_TCP_R_RST_INVALID | TCPA_TCP_R_UNEXPECTED | \
	TCPA_TCP_R_REUSE)

/* ---- a connection between a client and a server ---- */

#define CLI 0
#define SRV 1

#define F_S TCPA_TCP_SYN
#define F_A TCPA_TCP_ACK
#define F_F TCPA_TCP_FIN
#define F_R TCPA_TCP_RST
#define F_P TCPA_TCP_PSH

struct conn {
	struct tcpa_tcp_conn f;
	struct tcpa_flow_key key;
	struct tcpa_ip ip[2];   /* by role: CLI, SRV */
	uint16_t port[2];
	uint32_t nxt[2];        /* next sequence number each will send */
	uint32_t fin_seq[2];    /* sequence number of its FIN, once sent */
	uint16_t win[2];        /* raw window each advertises */
	uint8_t ws[2];          /* window scale each offers on SYN (0xff: none) */
	unsigned side[2];       /* key side of each role */
	bool started;
	struct tcpa_tcp_result r;
};

/*
 * A client 10.0.0.1:@cport and a server 10.0.0.2:@sport with the given
 * ISNs. @cport > @sport in most tests, as in life.
 */
static void
conn_init(struct conn *c, uint16_t cport, uint16_t sport, uint32_t cisn, uint32_t sisn)
{
	memset(c, 0, sizeof(*c));
	tcpa_ip_set_v4h(&c->ip[CLI], 0x0a000001);
	tcpa_ip_set_v4h(&c->ip[SRV], 0x0a000002);
	c->port[CLI] = cport;
	c->port[SRV] = sport;
	c->nxt[CLI] = cisn;
	c->nxt[SRV] = sisn;
	c->win[CLI] = 1000;
	c->win[SRV] = 2000;
	c->ws[CLI] = 0xff;
	c->ws[SRV] = 0xff;
}

static void
pkt_build(const struct conn *c, unsigned who, uint8_t flags, uint32_t seq, uint32_t ack,
		uint16_t len, struct tcpa_pkt *p)
{
	test_segment(p, &c->ip[who], &c->ip[!who], c->port[who], c->port[!who], flags, seq, ack,
		len, c->win[who]);
	if ((flags & F_S) && c->ws[who] != 0xff) {
		p->opts |= TCPA_OPT_WSCALE;
		p->wscale = c->ws[who];
	}
}

/* Feed one segment; the first one also inserts ("starts") the flow. */
static uint16_t
feed(struct conn *c, const struct tcpa_pkt *p)
{
	struct tcpa_flow_key k;
	unsigned side = tcpa_flow_key_make(p, &k);

	if (!c->started) {
		memset(&c->f, 0, sizeof(c->f));
		c->key = k;
		tcpa_tcp_conn_start(&c->f, p, side);
		c->started = true;
		/* Key side of each role. */
		c->side[memcmp(&p->src, &c->ip[CLI], sizeof(p->src)) == 0 &&
			p->sport == c->port[CLI] ? CLI : SRV] = side;
		c->side[memcmp(&p->src, &c->ip[CLI], sizeof(p->src)) == 0 &&
			p->sport == c->port[CLI] ? SRV : CLI] = !side;
	}
	CHECK(tcpa_flow_key_eq(&k, &c->key));
	memset(&c->r, 0xee, sizeof(c->r));
	tcpa_tcp_input(&c->f, p, side, &c->r);
	return c->r.what;
}

/* Send a segment with explicit numbers; does not advance nxt. */
static uint16_t
raw(struct conn *c, unsigned who, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t len)
{
	struct tcpa_pkt p;

	pkt_build(c, who, flags, seq, ack, len, &p);
	return feed(c, &p);
}

/*
 * Send the next segment of @who: seq = its next sequence number, ack = all
 * the peer has sent. Advances @who's sequence by payload, SYN and FIN.
 */
static uint16_t
seg(struct conn *c, unsigned who, uint8_t flags, uint16_t len)
{
	uint32_t seq = c->nxt[who];

	c->nxt[who] += len + ((flags & F_S) ? 1 : 0) + ((flags & F_F) ? 1 : 0);
	if (flags & F_F)
		c->fin_seq[who] = seq + len;
	return raw(c, who, flags, seq, c->nxt[!who], len);
}

static struct tcpa_tcp_half *
half(struct conn *c, unsigned who)
{
	return &c->f.half[c->side[who]];
}

static unsigned
st(struct conn *c, unsigned who)
{
	return half(c, who)->state;
}

static void
handshake(struct conn *c)
{
	seg(c, CLI, F_S, 0);
	seg(c, SRV, F_S | F_A, 0);
	seg(c, CLI, F_A, 0);
}

/* ---- handshake ---- */

static void
test_handshake(void)
{
	struct conn c;

	conn_init(&c, 40000, 80, 1000, 5000);
	seg(&c, CLI, F_S, 0);
	CHECK_ST(&c, SYN_SENT, CLOSED);
	CHECK_R(&c, R_ANY, TCPA_TCP_R_NEW_CONN);
	CHECK_EQ(c.r.old_state[c.side[CLI]], TCPA_TCP_ST_UNKNOWN);
	CHECK_EQ(c.r.old_state[c.side[SRV]], TCPA_TCP_ST_CLOSED);
	CHECK_EQ(c.f.cli, c.side[CLI]);
	CHECK(c.f.flags & TCPA_CONN_ROLE_SET);
	CHECK(!(c.f.flags & TCPA_CONN_MIDSTREAM));
	CHECK_EQ(half(&c, CLI)->nxt, 1001);
	CHECK(half(&c, CLI)->flags & TCPA_HALF_SYN);
	CHECK(half(&c, CLI)->flags & TCPA_HALF_SEEN);

	seg(&c, SRV, F_S | F_A, 0);
	CHECK_ST(&c, ESTABLISHED, SYN_RECEIVED);
	CHECK_R(&c, R_ANY, 0);
	CHECK_EQ(c.r.old_state[c.side[CLI]], TCPA_TCP_ST_SYN_SENT);
	CHECK_EQ(c.r.old_state[c.side[SRV]], TCPA_TCP_ST_CLOSED);
	CHECK_EQ(half(&c, SRV)->nxt, 5001);
	CHECK_EQ(half(&c, SRV)->ack, 1001);

	seg(&c, CLI, F_A, 0);
	CHECK_ST(&c, ESTABLISHED, ESTABLISHED);
	CHECK_R(&c, R_ANY, 0);
	CHECK_EQ(tcpa_tcp_tmo_class(&c.f), TCPA_FLOW_TMO_ESTABLISHED);

	/* Data both ways, counters. */
	seg(&c, CLI, F_A | F_P, 100);
	seg(&c, SRV, F_A, 0);
	seg(&c, SRV, F_A | F_P, 1400);
	seg(&c, CLI, F_A, 0);
	CHECK_ST(&c, ESTABLISHED, ESTABLISHED);
	CHECK_R(&c, R_ANY, 0);
	CHECK_EQ(half(&c, CLI)->nxt, 1101);
	CHECK_EQ(half(&c, SRV)->nxt, 6401);
	CHECK_EQ(half(&c, CLI)->bytes, 100);
	CHECK_EQ(half(&c, SRV)->bytes, 1400);
	CHECK_EQ(half(&c, CLI)->pkts, 4);
	CHECK_EQ(half(&c, SRV)->pkts, 3);
	CHECK_EQ(half(&c, CLI)->ack, 6401);
}

/* The handshake with the server side of the key being side 0 and side 1. */
static void
test_handshake_sides(void)
{
	struct conn c;

	/* Same address order, server port above the client's. */
	conn_init(&c, 80, 40000, 1, 2);
	handshake(&c);
	CHECK_ST(&c, ESTABLISHED, ESTABLISHED);
	CHECK_EQ(c.f.cli, c.side[CLI]);
	/* Server address below the client's. */
	conn_init(&c, 40000, 80, 1, 2);
	tcpa_ip_set_v4h(&c.ip[CLI], 0xc0a80001);
	handshake(&c);
	CHECK_ST(&c, ESTABLISHED, ESTABLISHED);
	CHECK_EQ(c.f.cli, c.side[CLI]);
	CHECK_EQ(c.side[CLI], 1);
}

/* ---- closing ---- */

static void
test_client_active_close(void)
{
	struct conn c;

	conn_init(&c, 40000, 80, 1000, 5000);
	handshake(&c);
	seg(&c, CLI, F_F | F_A, 0);
	CHECK_ST(&c, FIN_WAIT_1, ESTABLISHED);
	CHECK_R(&c, R_ANY, 0);
	CHECK_EQ(tcpa_tcp_tmo_class(&c.f), TCPA_FLOW_TMO_CLOSING);
	seg(&c, SRV, F_A, 0);
	CHECK_ST(&c, FIN_WAIT_2, CLOSE_WAIT);
	CHECK_R(&c, R_ANY, 0);
	CHECK(half(&c, CLI)->flags & TCPA_HALF_FIN_ACKED);
	CHECK(half(&c, SRV)->flags & TCPA_HALF_ACKED_FIN);
	/* A CLOSE_WAIT flow must stay tracked: long class. */
	CHECK_EQ(tcpa_tcp_tmo_class(&c.f), TCPA_FLOW_TMO_ESTABLISHED);
	seg(&c, SRV, F_F | F_A, 0);
	CHECK_ST(&c, FIN_WAIT_2, LAST_ACK);
	CHECK_R(&c, R_ANY, 0);
	CHECK_EQ(tcpa_tcp_tmo_class(&c.f), TCPA_FLOW_TMO_CLOSING);
	seg(&c, CLI, F_A, 0);
	CHECK_ST(&c, TIME_WAIT, CLOSED);
	CHECK_R(&c, R_ANY, 0);
	CHECK_EQ(tcpa_tcp_tmo_class(&c.f), TCPA_FLOW_TMO_TIME_WAIT);

	/* The server retransmits its FIN (ACK lost): TIME_WAIT re-ACKs it. */
	raw(&c, SRV, F_F | F_A, c.fin_seq[SRV], c.nxt[CLI], 0);
	CHECK_R(&c, R_ANOM, 0);
	raw(&c, CLI, F_A, c.nxt[CLI], c.nxt[SRV], 0);
	CHECK_R(&c, R_ANOM, 0);
	CHECK_ST(&c, TIME_WAIT, CLOSED);
}

static void
test_server_active_close(void)
{
	struct conn c;

	conn_init(&c, 40000, 80, 1000, 5000);
	handshake(&c);
	seg(&c, CLI, F_A | F_P, 10);
	seg(&c, SRV, F_A | F_P, 10);
	seg(&c, SRV, F_F | F_A, 0);
	CHECK_ST(&c, ESTABLISHED, FIN_WAIT_1);
	seg(&c, CLI, F_A, 0);
	CHECK_ST(&c, CLOSE_WAIT, FIN_WAIT_2);
	seg(&c, CLI, F_F | F_A, 0);
	CHECK_ST(&c, LAST_ACK, FIN_WAIT_2);
	seg(&c, SRV, F_A, 0);
	CHECK_ST(&c, CLOSED, TIME_WAIT);
	CHECK_R(&c, R_ANY, 0);
	CHECK_EQ(tcpa_tcp_tmo_class(&c.f), TCPA_FLOW_TMO_TIME_WAIT);
}

static void
test_fin_ack_piggybacked(void)
{
	struct conn c;

	conn_init(&c, 40000, 80, 1000, 5000);
	handshake(&c);
	seg(&c, CLI, F_F | F_A, 0);
	/* The server's FIN carries the ACK of the client's: one segment. */
	seg(&c, SRV, F_F | F_A, 0);
	CHECK_ST(&c, FIN_WAIT_2, LAST_ACK);
	CHECK_R(&c, R_ANY, 0);
	seg(&c, CLI, F_A, 0);
	CHECK_ST(&c, TIME_WAIT, CLOSED);
	CHECK_R(&c, R_ANY, 0);

	/* FIN with data on the same segment, acknowledged as a whole. */
	conn_init(&c, 40000, 80, 1000, 5000);
	handshake(&c);
	seg(&c, CLI, F_F | F_A | F_P, 50);
	CHECK_ST(&c, FIN_WAIT_1, ESTABLISHED);
	CHECK_EQ(half(&c, CLI)->nxt, 1052);
	/* An ACK of the data only does not acknowledge the FIN. */
	raw(&c, SRV, F_A, c.nxt[SRV], 1051, 0);
	CHECK_ST(&c, FIN_WAIT_1, ESTABLISHED);
	raw(&c, SRV, F_A, c.nxt[SRV], 1052, 0);
	CHECK_ST(&c, FIN_WAIT_2, CLOSE_WAIT);
}

static void
test_simultaneous_close(void)
{
	struct conn c;

	conn_init(&c, 40000, 80, 1000, 5000);
	handshake(&c);
	seg(&c, CLI, F_F | F_A, 0);
	/* The server's FIN crosses the client's: its ACK does not cover it. */
	raw(&c, SRV, F_F | F_A, c.nxt[SRV], c.fin_seq[CLI], 0);
	c.fin_seq[SRV] = c.nxt[SRV];
	c.nxt[SRV]++;
	CHECK_ST(&c, CLOSING, CLOSING);
	CHECK_R(&c, R_ANY, 0);
	CHECK_EQ(tcpa_tcp_tmo_class(&c.f), TCPA_FLOW_TMO_CLOSING);
	/* Each acknowledges the other's FIN. */
	seg(&c, CLI, F_A, 0);
	CHECK_ST(&c, CLOSING, TIME_WAIT);
	CHECK_R(&c, R_ANY, 0);
	seg(&c, SRV, F_A, 0);
	CHECK_ST(&c, TIME_WAIT, TIME_WAIT);
	CHECK_R(&c, R_ANY, 0);
	CHECK_EQ(tcpa_tcp_tmo_class(&c.f), TCPA_FLOW_TMO_TIME_WAIT);
}

static void
test_simultaneous_open(void)
{
	struct conn c;

	conn_init(&c, 40000, 40001, 1000, 5000);
	c.ws[CLI] = 2;
	c.ws[SRV] = 3;
	seg(&c, CLI, F_S, 0);
	CHECK_ST(&c, SYN_SENT, CLOSED);
	/* The peer's own SYN, without ACK: both cross. */
	seg(&c, SRV, F_S, 0);
	CHECK_ST(&c, SYN_RECEIVED, SYN_RECEIVED);
	CHECK_R(&c, R_ANOM | TCPA_TCP_R_NEW_CONN, 0);
	/* Each answers with SYN-ACK: first ones, not retransmissions. */
	raw(&c, CLI, F_S | F_A, c.nxt[CLI] - 1, c.nxt[SRV], 0);
	CHECK_R(&c, R_ANOM, 0);
	CHECK_ST(&c, SYN_RECEIVED, ESTABLISHED);
	raw(&c, SRV, F_S | F_A, c.nxt[SRV] - 1, c.nxt[CLI], 0);
	CHECK_R(&c, R_ANOM, 0);
	CHECK_ST(&c, ESTABLISHED, ESTABLISHED);
	/* The first SYN's sender stays the client. */
	CHECK_EQ(c.f.cli, c.side[CLI]);
	CHECK(c.f.flags & TCPA_CONN_WSCALE);
	seg(&c, CLI, F_A | F_P, 10);
	seg(&c, SRV, F_A, 0);
	CHECK_ST(&c, ESTABLISHED, ESTABLISHED);
	CHECK_R(&c, R_ANOM, 0);
}

static void
test_half_close(void)
{
	struct conn c;

	conn_init(&c, 40000, 80, 1000, 5000);
	handshake(&c);
	seg(&c, CLI, F_A | F_P, 100);
	seg(&c, CLI, F_F | F_A, 0);
	seg(&c, SRV, F_A, 0);
	CHECK_ST(&c, FIN_WAIT_2, CLOSE_WAIT);
	/* The server keeps sending (shutdown(SHUT_WR) on the client). */
	for (unsigned i = 0; i < 5; i++) {
		seg(&c, SRV, F_A | F_P, 1000);
		CHECK_ST(&c, FIN_WAIT_2, CLOSE_WAIT);
		CHECK_R(&c, R_ANOM, 0);
		seg(&c, CLI, F_A, 0);
		CHECK_ST(&c, FIN_WAIT_2, CLOSE_WAIT);
		CHECK_R(&c, R_ANOM, 0);
	}
	CHECK_EQ(half(&c, SRV)->bytes, 5000);
	CHECK_EQ(half(&c, CLI)->ack, c.nxt[SRV]);
	seg(&c, SRV, F_F | F_A | F_P, 10);
	CHECK_ST(&c, FIN_WAIT_2, LAST_ACK);
	seg(&c, CLI, F_A, 0);
	CHECK_ST(&c, TIME_WAIT, CLOSED);
	CHECK_R(&c, R_ANOM, 0);

	/* And in FIN_WAIT_1: the server sends data before acknowledging the FIN. */
	conn_init(&c, 40000, 80, 1000, 5000);
	handshake(&c);
	seg(&c, CLI, F_F | F_A, 0);
	raw(&c, SRV, F_A | F_P, c.nxt[SRV], c.fin_seq[CLI], 500);
	c.nxt[SRV] += 500;
	CHECK_ST(&c, FIN_WAIT_1, ESTABLISHED);
	CHECK_R(&c, R_ANOM, 0);
	raw(&c, CLI, F_A, c.nxt[CLI], c.nxt[SRV], 0);
	CHECK_ST(&c, FIN_WAIT_1, ESTABLISHED);
	CHECK_R(&c, R_ANOM, 0);
	seg(&c, SRV, F_A, 0);
	CHECK_ST(&c, FIN_WAIT_2, CLOSE_WAIT);
}

/* ---- RST ---- */

static void
test_rst_in_window(void)
{
	struct conn c;

	/* RST at exactly the next sequence number, from the client. */
	conn_init(&c, 40000, 80, 1000, 5000);
	handshake(&c);
	seg(&c, CLI, F_A | F_P, 10);
	seg(&c, SRV, F_A, 0);
	raw(&c, CLI, F_R | F_A, c.nxt[CLI], c.nxt[SRV], 0);
	CHECK_ST(&c, CLOSED, CLOSED);
	CHECK_R(&c, R_ANOM, TCPA_TCP_R_RST_ABORT);
	CHECK_EQ(tcpa_tcp_tmo_class(&c.f), TCPA_FLOW_TMO_CLOSED);
	/* A second RST: nothing left to close, nothing counted. */
	raw(&c, CLI, F_R, c.nxt[CLI], 0, 0);
	CHECK_ST(&c, CLOSED, CLOSED);
	CHECK_R(&c, R_ANOM, 0);

	/* RST from the server, inside the client's window but not at rcv_nxt. */
	conn_init(&c, 40000, 80, 1000, 5000);
	handshake(&c);
	raw(&c, SRV, F_R, c.nxt[SRV] + 500, 0, 0);
	CHECK_ST(&c, CLOSED, CLOSED);
	CHECK_R(&c, R_ANOM, TCPA_TCP_R_RST_ABORT);

	/* RST on a half-closed connection (CLOSE_WAIT side aborts). */
	conn_init(&c, 40000, 80, 1000, 5000);
	handshake(&c);
	seg(&c, CLI, F_F | F_A, 0);
	seg(&c, SRV, F_A, 0);
	CHECK_ST(&c, FIN_WAIT_2, CLOSE_WAIT);
	raw(&c, SRV, F_R | F_A, c.nxt[SRV], c.nxt[CLI], 0);
	CHECK_ST(&c, CLOSED, CLOSED);
	CHECK_R(&c, R_ANOM, TCPA_TCP_R_RST_ABORT);

	/* RST while in SYN_RECEIVED (server aborts the half-open connection). */
	conn_init(&c, 40000, 80, 1000, 5000);
	seg(&c, CLI, F_S, 0);
	seg(&c, SRV, F_S | F_A, 0);
	raw(&c, SRV, F_R, c.nxt[SRV], 0, 0);
	CHECK_ST(&c, CLOSED, CLOSED);
	CHECK_R(&c, TCPA_TCP_R_RST_INVALID | TCPA_TCP_R_UNEXPECTED, 0);
}

static void
test_rst_out_of_window(void)
{
	struct conn c;

	conn_init(&c, 40000, 80, 1000, 5000);
	handshake(&c);
	seg(&c, CLI, F_A | F_P, 10);
	seg(&c, SRV, F_A, 0);
	/* Far outside the server's 2000-byte window. */
	raw(&c, CLI, F_R, c.nxt[CLI] + 100000, 0, 0);
	CHECK_ST(&c, ESTABLISHED, ESTABLISHED);
	CHECK_R(&c, R_ANOM, TCPA_TCP_R_RST_INVALID);
	/* Just past the window's right edge. */
	raw(&c, CLI, F_R, c.nxt[CLI] + 2000, 0, 0);
	CHECK_ST(&c, ESTABLISHED, ESTABLISHED);
	CHECK_R(&c, R_ANOM, TCPA_TCP_R_RST_INVALID);
	/* Below rcv_nxt (old data). */
	raw(&c, CLI, F_R, c.nxt[CLI] - 5, 0, 0);
	CHECK_ST(&c, ESTABLISHED, ESTABLISHED);
	CHECK_R(&c, R_ANOM, TCPA_TCP_R_RST_INVALID);
	/* Still working: data flows, then a good RST. */
	seg(&c, SRV, F_A | F_P, 10);
	CHECK_R(&c, R_ANOM, 0);
	raw(&c, CLI, F_R, c.nxt[CLI] + 1999, 0, 0);
	CHECK_ST(&c, CLOSED, CLOSED);
	CHECK_R(&c, R_ANOM, TCPA_TCP_R_RST_ABORT);
}

static void
test_rst_refused(void)
{
	struct conn c;

	/* RST+ACK answering a SYN, as Linux sends it: seq 0, ack ISN + 1. */
	conn_init(&c, 40000, 80, 1000, 5000);
	seg(&c, CLI, F_S, 0);
	raw(&c, SRV, F_R | F_A, 0, c.nxt[CLI], 0);
	CHECK_ST(&c, CLOSED, CLOSED);
	CHECK_R(&c, R_ANOM, TCPA_TCP_R_REFUSED);
	CHECK_EQ(tcpa_tcp_tmo_class(&c.f), TCPA_FLOW_TMO_CLOSED);

	/* RST without ACK to a SYN_SENT endpoint: not acceptable (RFC 9293). */
	conn_init(&c, 40000, 80, 1000, 5000);
	seg(&c, CLI, F_S, 0);
	raw(&c, SRV, F_R, 0, 0, 0);
	CHECK_ST(&c, SYN_SENT, CLOSED);
	CHECK_R(&c, TCPA_TCP_R_REFUSED | TCPA_TCP_R_RST_ABORT, 0);
	/* RST+ACK with the wrong ack: not acceptable either. */
	raw(&c, SRV, F_R | F_A, 0, c.nxt[CLI] + 1, 0);
	CHECK_ST(&c, SYN_SENT, CLOSED);
	CHECK_R(&c, TCPA_TCP_R_REFUSED | TCPA_TCP_R_RST_ABORT, 0);
	/* Then the real refusal. */
	raw(&c, SRV, F_R | F_A, 0, c.nxt[CLI], 0);
	CHECK_ST(&c, CLOSED, CLOSED);
	CHECK_R(&c, R_ANOM, TCPA_TCP_R_REFUSED);

	/* A refused SYN that was retransmitted first. */
	conn_init(&c, 40000, 80, 1000, 5000);
	seg(&c, CLI, F_S, 0);
	raw(&c, CLI, F_S, 1000, 0, 0);
	CHECK_R(&c, R_ANOM, TCPA_TCP_R_SYN_RETX);
	raw(&c, SRV, F_R | F_A, 0, 1001, 0);
	CHECK_R(&c, R_ANOM, TCPA_TCP_R_REFUSED);
	CHECK_ST(&c, CLOSED, CLOSED);
}

/* ---- SYN and SYN-ACK repeats, reuse ---- */

static void
test_syn_retransmit(void)
{
	struct conn c;

	conn_init(&c, 40000, 80, 1000, 5000);
	seg(&c, CLI, F_S, 0);
	for (unsigned i = 0; i < 3; i++) {
		raw(&c, CLI, F_S, 1000, 0, 0);
		CHECK_R(&c, R_ANY, TCPA_TCP_R_SYN_RETX);
		CHECK_ST(&c, SYN_SENT, CLOSED);
	}
	CHECK_EQ(half(&c, CLI)->pkts, 4);
	/* Finally answered. */
	seg(&c, SRV, F_S | F_A, 0);
	seg(&c, CLI, F_A, 0);
	CHECK_ST(&c, ESTABLISHED, ESTABLISHED);
	CHECK_R(&c, R_ANY, 0);
}

static void
test_syn_new_isn(void)
{
	struct conn c;

	conn_init(&c, 40000, 80, 1000, 5000);
	seg(&c, CLI, F_S, 0);
	/* The client gave up and connects again from the same port, new ISN. */
	c.nxt[CLI] = 777777;
	seg(&c, CLI, F_S, 0);
	CHECK(c.r.what & TCPA_TCP_R_NEW_CONN);
	CHECK_R(&c, TCPA_TCP_R_SYN_RETX | TCPA_TCP_R_REUSE | TCPA_TCP_R_UNEXPECTED, 0);
	CHECK_ST(&c, SYN_SENT, CLOSED);
	CHECK_EQ(half(&c, CLI)->nxt, 777778);
	CHECK_EQ(half(&c, CLI)->pkts, 1);
	/* The old ISN's SYN-ACK would be stale; the new one completes. */
	seg(&c, SRV, F_S | F_A, 0);
	seg(&c, CLI, F_A, 0);
	CHECK_ST(&c, ESTABLISHED, ESTABLISHED);
}

/* TCP Fast Open (RFC 7413): data in the SYN is sequence space. */
static void
test_fast_open(void)
{
	struct conn c;

	/* Cookie accepted: the SYN-ACK acknowledges the SYN and its 100 bytes. */
	conn_init(&c, 40000, 80, 1000, 5000);
	seg(&c, CLI, F_S, 100);
	CHECK_EQ(half(&c, CLI)->nxt, 1101);
	CHECK_ST(&c, SYN_SENT, CLOSED);
	/* Resent with its data, or without it (Linux's timed-out Fast Open SYN). */
	raw(&c, CLI, F_S, 1000, 0, 100);
	CHECK_R(&c, R_ANY, TCPA_TCP_R_SYN_RETX);
	raw(&c, CLI, F_S, 1000, 0, 0);
	CHECK_R(&c, R_ANY, TCPA_TCP_R_SYN_RETX);
	CHECK_EQ(half(&c, CLI)->nxt, 1101);
	seg(&c, SRV, F_S | F_A, 0);
	CHECK_EQ(half(&c, SRV)->ack, 1101);
	seg(&c, CLI, F_A, 0);
	CHECK_ST(&c, ESTABLISHED, ESTABLISHED);
	CHECK_R(&c, R_ANOM, 0);

	/* Cookie refused: the SYN-ACK acknowledges the SYN only; data comes again. */
	conn_init(&c, 40001, 80, 3000, 7000);
	seg(&c, CLI, F_S, 100);
	raw(&c, SRV, F_S | F_A, 7000, 3001, 0);
	c.nxt[SRV] = 7001;
	CHECK_ST(&c, ESTABLISHED, SYN_RECEIVED);
	raw(&c, CLI, F_A | F_P, 3001, 7001, 100);
	CHECK_ST(&c, ESTABLISHED, ESTABLISHED);
	CHECK_EQ(half(&c, CLI)->nxt, 3101);
	CHECK_R(&c, R_ANOM, 0);

	/* A SYN-ACK acknowledging more than the SYN carried is no answer to it. */
	conn_init(&c, 40002, 80, 9000, 8000);
	seg(&c, CLI, F_S, 10);
	raw(&c, SRV, F_S | F_A, 8000, 9020, 0);
	CHECK_ST(&c, SYN_SENT, SYN_RECEIVED);
}

static void
test_synack_retransmit(void)
{
	struct conn c;

	conn_init(&c, 40000, 80, 1000, 5000);
	seg(&c, CLI, F_S, 0);
	seg(&c, SRV, F_S | F_A, 0);
	CHECK_R(&c, R_ANY, 0);
	/* The client's ACK was lost: the server repeats its SYN-ACK. */
	raw(&c, SRV, F_S | F_A, 5000, 1001, 0);
	CHECK_R(&c, R_ANOM, TCPA_TCP_R_SYNACK_RETX);
	CHECK_ST(&c, ESTABLISHED, SYN_RECEIVED);
	raw(&c, SRV, F_S | F_A, 5000, 1001, 0);
	CHECK_R(&c, R_ANOM, TCPA_TCP_R_SYNACK_RETX);
	seg(&c, CLI, F_A, 0);
	CHECK_ST(&c, ESTABLISHED, ESTABLISHED);
	CHECK_R(&c, R_ANY, 0);
}

/*
 * Repeats after the observer saw the answer: the answer was lost beyond
 * the tap (or, for the SYN-ACK, the server dropped the client's ACK: accept
 * queue overflow). Still repeats: ANOMALIES.md counts every one.
 */
static void
test_repeats_after_answer(void)
{
	struct conn c;

	/* The SYN-ACK was seen but lost before the client: the SYN repeats. */
	conn_init(&c, 40000, 80, 1000, 5000);
	seg(&c, CLI, F_S, 0);
	seg(&c, SRV, F_S | F_A, 0);
	raw(&c, CLI, F_S, 1000, 0, 0);
	CHECK_R(&c, R_ANOM | TCPA_TCP_R_NEW_CONN, TCPA_TCP_R_SYN_RETX);
	raw(&c, SRV, F_S | F_A, 5000, 1001, 0);
	CHECK_R(&c, R_ANOM, TCPA_TCP_R_SYNACK_RETX);
	seg(&c, CLI, F_A, 0);
	CHECK_ST(&c, ESTABLISHED, ESTABLISHED);
	CHECK_R(&c, R_ANOM, 0);

	/*
	 * The client's ACK was seen, the server dropped it (full accept
	 * queue): the SYN-ACK repeats and the server's kernel holds
	 * SYN_RECEIVED, as ss shows (tests/captures/backlog_overflow). The
	 * client's next ACK may be dropped too: only the server's own segment
	 * shows it has the connection.
	 */
	conn_init(&c, 40000, 80, 1000, 5000);
	handshake(&c);
	raw(&c, SRV, F_S | F_A, 5000, 1001, 0);
	CHECK_R(&c, R_ANOM, TCPA_TCP_R_SYNACK_RETX);
	CHECK_ST(&c, ESTABLISHED, SYN_RECEIVED);
	seg(&c, CLI, F_A, 0);
	CHECK_R(&c, R_ANOM, 0);
	CHECK_ST(&c, ESTABLISHED, SYN_RECEIVED);
	seg(&c, CLI, F_A | F_P, 10);
	seg(&c, SRV, F_A, 0);
	CHECK_ST(&c, ESTABLISHED, ESTABLISHED);
	CHECK_R(&c, R_ANOM, 0);
}

static void
full_close(struct conn *c)
{
	seg(c, CLI, F_F | F_A, 0);
	seg(c, SRV, F_F | F_A, 0);
	seg(c, CLI, F_A, 0);
}

static void
test_time_wait_reuse(void)
{
	struct conn c;

	conn_init(&c, 40000, 80, 1000, 5000);
	handshake(&c);
	full_close(&c);
	CHECK_ST(&c, TIME_WAIT, CLOSED);
	/* Same 4-tuple, new connection while the client is in TIME_WAIT. */
	c.nxt[CLI] = 900000;
	c.nxt[SRV] = 3000000;
	seg(&c, CLI, F_S, 0);
	CHECK_R(&c, TCPA_TCP_R_NEW_CONN | TCPA_TCP_R_REUSE | TCPA_TCP_R_ROLES |
		TCPA_TCP_R_UNEXPECTED | TCPA_TCP_R_SYN_RETX,
		TCPA_TCP_R_NEW_CONN | TCPA_TCP_R_REUSE | TCPA_TCP_R_ROLES);
	CHECK_ST(&c, SYN_SENT, CLOSED);
	CHECK_EQ(half(&c, CLI)->pkts, 1);
	CHECK_EQ(half(&c, SRV)->pkts, 0);
	CHECK_EQ(c.f.cli, c.side[CLI]);
	seg(&c, SRV, F_S | F_A, 0);
	seg(&c, CLI, F_A, 0);
	CHECK_ST(&c, ESTABLISHED, ESTABLISHED);
	CHECK_R(&c, R_ANY, 0);

	/* Server was the active closer: the server holds TIME_WAIT. */
	conn_init(&c, 40000, 80, 1000, 5000);
	handshake(&c);
	seg(&c, SRV, F_F | F_A, 0);
	seg(&c, CLI, F_F | F_A, 0);
	seg(&c, SRV, F_A, 0);
	CHECK_ST(&c, CLOSED, TIME_WAIT);
	c.nxt[CLI] = 12345;
	seg(&c, CLI, F_S, 0);
	CHECK_R(&c, TCPA_TCP_R_NEW_CONN | TCPA_TCP_R_REUSE, TCPA_TCP_R_NEW_CONN |
		TCPA_TCP_R_REUSE);
	CHECK_ST(&c, SYN_SENT, CLOSED);

	/* After an abort (both CLOSED) too. */
	conn_init(&c, 40000, 80, 1000, 5000);
	handshake(&c);
	raw(&c, CLI, F_R, c.nxt[CLI], 0, 0);
	CHECK_ST(&c, CLOSED, CLOSED);
	c.nxt[CLI] = 55555;
	seg(&c, CLI, F_S, 0);
	CHECK_R(&c, TCPA_TCP_R_REUSE, TCPA_TCP_R_REUSE);
	CHECK_ST(&c, SYN_SENT, CLOSED);

	/* The old server connects back to the old client on the same tuple. */
	conn_init(&c, 40000, 80, 1000, 5000);
	handshake(&c);
	full_close(&c);
	seg(&c, SRV, F_S, 0);
	CHECK_R(&c, TCPA_TCP_R_REUSE | TCPA_TCP_R_ROLES, TCPA_TCP_R_REUSE | TCPA_TCP_R_ROLES);
	CHECK_EQ(c.f.cli, c.side[SRV]);
	CHECK_EQ(st(&c, SRV), TCPA_TCP_ST_SYN_SENT);
	CHECK_EQ(st(&c, CLI), TCPA_TCP_ST_CLOSED);
}

static void
test_syn_in_live_connection(void)
{
	struct conn c;

	conn_init(&c, 40000, 80, 1000, 5000);
	handshake(&c);
	/* A SYN inside an established connection: not obeyed, counted. */
	raw(&c, CLI, F_S, 424242, 0, 0);
	CHECK_R(&c, R_ANOM | TCPA_TCP_R_NEW_CONN, TCPA_TCP_R_UNEXPECTED);
	CHECK_ST(&c, ESTABLISHED, ESTABLISHED);
	/* In CLOSE_WAIT / FIN_WAIT_2 too. */
	seg(&c, CLI, F_F | F_A, 0);
	seg(&c, SRV, F_A, 0);
	raw(&c, CLI, F_S, 424242, 0, 0);
	CHECK_R(&c, R_ANOM | TCPA_TCP_R_NEW_CONN, TCPA_TCP_R_UNEXPECTED);
	CHECK_ST(&c, FIN_WAIT_2, CLOSE_WAIT);
}

/* ---- midstream ---- */

static void
test_midstream(void)
{
	struct conn c;

	/* First seen: client data. Lower port (80) is taken as the server. */
	conn_init(&c, 40000, 80, 1000, 5000);
	seg(&c, CLI, F_A | F_P, 100);
	CHECK(c.f.flags & TCPA_CONN_MIDSTREAM);
	CHECK(!(c.f.flags & TCPA_CONN_ROLE_SET));
	CHECK_EQ(c.f.cli, c.side[CLI]);
	CHECK_ST(&c, ESTABLISHED, UNKNOWN);
	CHECK_R(&c, TCPA_TCP_R_MIDSTREAM | R_ANOM, TCPA_TCP_R_MIDSTREAM);
	CHECK_EQ(c.r.old_state[0], TCPA_TCP_ST_UNKNOWN);
	CHECK_EQ(c.r.old_state[1], TCPA_TCP_ST_UNKNOWN);
	CHECK_EQ(half(&c, CLI)->nxt, 1100);
	CHECK_EQ(tcpa_tcp_tmo_class(&c.f), TCPA_FLOW_TMO_ESTABLISHED);
	seg(&c, SRV, F_A, 0);
	CHECK_ST(&c, ESTABLISHED, ESTABLISHED);
	CHECK_R(&c, TCPA_TCP_R_MIDSTREAM | R_ANOM, 0);

	/* The server's FIN, then the client acknowledges it: CLOSE_WAIT. */
	conn_init(&c, 40000, 80, 1000, 5000);
	seg(&c, SRV, F_F | F_A, 0);
	CHECK_R(&c, TCPA_TCP_R_MIDSTREAM, TCPA_TCP_R_MIDSTREAM);
	CHECK_ST(&c, UNKNOWN, FIN_WAIT_1);
	CHECK_EQ(c.f.cli, c.side[CLI]);
	seg(&c, CLI, F_A, 0);
	CHECK_ST(&c, CLOSE_WAIT, FIN_WAIT_2);
	CHECK_R(&c, R_ANOM, 0);
	/* The leak: time passes, client data (stale reuse), still CLOSE_WAIT. */
	seg(&c, CLI, F_A | F_P, 10);
	CHECK_ST(&c, CLOSE_WAIT, FIN_WAIT_2);
	seg(&c, CLI, F_F | F_A, 0);
	CHECK_ST(&c, LAST_ACK, FIN_WAIT_2);
	seg(&c, SRV, F_A, 0);
	CHECK_ST(&c, CLOSED, TIME_WAIT);
	CHECK_R(&c, R_ANOM, 0);

	/* First seen: a pure ACK from a sender, then it acknowledges a FIN. */
	conn_init(&c, 40000, 80, 1000, 5000);
	seg(&c, CLI, F_A, 0);
	CHECK_ST(&c, ESTABLISHED, UNKNOWN);
	seg(&c, SRV, F_F | F_A, 0);
	CHECK_ST(&c, ESTABLISHED, FIN_WAIT_1);
	seg(&c, CLI, F_A, 0);
	CHECK_ST(&c, CLOSE_WAIT, FIN_WAIT_2);

	/* A FIN first from the client side. */
	conn_init(&c, 40000, 80, 1000, 5000);
	seg(&c, CLI, F_F | F_A, 0);
	CHECK_ST(&c, FIN_WAIT_1, UNKNOWN);
	seg(&c, SRV, F_F | F_A, 0);
	CHECK_ST(&c, FIN_WAIT_2, LAST_ACK);
	seg(&c, CLI, F_A, 0);
	CHECK_ST(&c, TIME_WAIT, CLOSED);

	/* The server port above the client's: roles guessed the other way. */
	conn_init(&c, 80, 40000, 1000, 5000);
	seg(&c, CLI, F_A | F_P, 10);
	CHECK_EQ(c.f.cli, c.side[SRV]);

	/* A RST on a midstream flow: an abort of an open connection. */
	conn_init(&c, 40000, 80, 1000, 5000);
	seg(&c, CLI, F_A | F_P, 10);
	seg(&c, SRV, F_A | F_P, 10);
	raw(&c, SRV, F_R, c.nxt[SRV], 0, 0);
	CHECK_ST(&c, CLOSED, CLOSED);
	CHECK_R(&c, R_ANOM, TCPA_TCP_R_RST_ABORT);
}

static void
test_synack_first(void)
{
	struct conn c;

	/* The SYN escaped the capture: the SYN-ACK names the roles. */
	conn_init(&c, 40000, 80, 1000, 5000);
	raw(&c, SRV, F_S | F_A, 5000, 1001, 0);
	c.nxt[SRV] = 5001;
	c.nxt[CLI] = 1001;
	CHECK(c.f.flags & TCPA_CONN_ROLE_SET);
	CHECK(!(c.f.flags & TCPA_CONN_MIDSTREAM));
	CHECK_EQ(c.f.cli, c.side[CLI]);
	CHECK_EQ(st(&c, SRV), TCPA_TCP_ST_SYN_RECEIVED);
	seg(&c, CLI, F_A, 0);
	CHECK_ST(&c, ESTABLISHED, ESTABLISHED);

	/* Roles: the port guess is corrected by a SYN-ACK. */
	conn_init(&c, 80, 40000, 1000, 5000);
	seg(&c, CLI, F_A, 0);
	CHECK_EQ(c.f.cli, c.side[SRV]);
	raw(&c, SRV, F_S | F_A, 4999, 1000, 0);
	CHECK(c.r.what & TCPA_TCP_R_ROLES);
	CHECK_EQ(c.f.cli, c.side[CLI]);
	CHECK(c.f.flags & TCPA_CONN_ROLE_SET);
}

static void
test_synack_missed(void)
{
	struct conn c;

	/* The SYN-ACK escaped the capture: SYN, then the client's ACK. */
	conn_init(&c, 40000, 80, 1000, 5000);
	seg(&c, CLI, F_S, 0);
	c.nxt[SRV]++;           /* the server's SYN, unseen */
	seg(&c, CLI, F_A, 0);
	CHECK_EQ(st(&c, CLI), TCPA_TCP_ST_ESTABLISHED);
	CHECK_R(&c, R_ANOM, 0);
	/* The server answers: it has a socket, so it is not CLOSED. */
	seg(&c, SRV, F_A | F_P, 100);
	CHECK_R(&c, R_ANOM, 0);
	CHECK_ST(&c, ESTABLISHED, ESTABLISHED);
	seg(&c, CLI, F_F | F_A, 0);
	seg(&c, SRV, F_A, 0);
	CHECK_ST(&c, FIN_WAIT_2, CLOSE_WAIT);
	CHECK_R(&c, R_ANOM, 0);
	seg(&c, SRV, F_F | F_A, 0);
	seg(&c, CLI, F_A, 0);
	CHECK_ST(&c, TIME_WAIT, CLOSED);
	CHECK_R(&c, R_ANOM, 0);

	/* An endpoint that closed and then sends data is still unexpected. */
	conn_init(&c, 40000, 80, 1000, 5000);
	handshake(&c);
	full_close(&c);
	CHECK_ST(&c, TIME_WAIT, CLOSED);
	seg(&c, SRV, F_A | F_P, 10);
	CHECK_R(&c, TCPA_TCP_R_UNEXPECTED, TCPA_TCP_R_UNEXPECTED);
	CHECK_ST(&c, TIME_WAIT, CLOSED);
}

/* ---- window scaling ---- */

static void
test_window_scaling(void)
{
	struct conn c;

	conn_init(&c, 40000, 80, 1000, 5000);
	c.ws[CLI] = 7;
	c.ws[SRV] = 2;
	c.win[CLI] = 65535;
	c.win[SRV] = 29200;
	seg(&c, CLI, F_S, 0);
	CHECK_EQ(half(&c, CLI)->win, 65535);
	CHECK_EQ(half(&c, CLI)->wscale, 7);
	CHECK(half(&c, CLI)->flags & TCPA_HALF_WS);
	CHECK(!(c.f.flags & TCPA_CONN_WSCALE));
	seg(&c, SRV, F_S | F_A, 0);
	/* Never scaled on a SYN segment. */
	CHECK_EQ(half(&c, SRV)->win, 29200);
	CHECK(c.f.flags & TCPA_CONN_WSCALE);
	c.win[CLI] = 502;
	seg(&c, CLI, F_A, 0);
	CHECK_EQ(half(&c, CLI)->win, 502U << 7);
	c.win[SRV] = 1000;
	seg(&c, SRV, F_A, 0);
	CHECK_EQ(half(&c, SRV)->win, 4000);
	/* A retransmitted SYN-ACK: still unscaled. */
	c.win[SRV] = 29200;
	raw(&c, SRV, F_S | F_A, 5000, 1001, 0);
	CHECK_EQ(half(&c, SRV)->win, 29200);

	/* Only the client offers: no scaling at all. */
	conn_init(&c, 40000, 80, 1000, 5000);
	c.ws[CLI] = 7;
	handshake(&c);
	CHECK(!(c.f.flags & TCPA_CONN_WSCALE));
	CHECK_EQ(half(&c, CLI)->win, 1000);
	CHECK_EQ(half(&c, SRV)->win, 2000);
	seg(&c, SRV, F_A, 0);
	CHECK_EQ(half(&c, SRV)->win, 2000);

	/* Only the server "offers" (it must not, but): no scaling. */
	conn_init(&c, 40000, 80, 1000, 5000);
	c.ws[SRV] = 5;
	handshake(&c);
	seg(&c, SRV, F_A, 0);
	CHECK(!(c.f.flags & TCPA_CONN_WSCALE));
	CHECK_EQ(half(&c, SRV)->win, 2000);

	/* Scale 0 offered by both: in force, shift 0. */
	conn_init(&c, 40000, 80, 1000, 5000);
	c.ws[CLI] = 0;
	c.ws[SRV] = 0;
	handshake(&c);
	CHECK(c.f.flags & TCPA_CONN_WSCALE);
	CHECK_EQ(half(&c, CLI)->win, 1000);

	/* With scaling, a RST is checked against the scaled window. */
	conn_init(&c, 40000, 80, 1000, 5000);
	c.ws[CLI] = 0;
	c.ws[SRV] = 4;
	handshake(&c);
	seg(&c, SRV, F_A, 0);
	CHECK_EQ(half(&c, SRV)->win, 2000U << 4);
	raw(&c, CLI, F_R, c.nxt[CLI] + 20000, 0, 0);
	CHECK_R(&c, R_ANOM, TCPA_TCP_R_RST_ABORT);
}

/* ---- sequence wraparound ---- */

static void
test_seq_wrap(void)
{
	struct conn c;

	conn_init(&c, 40000, 80, 0xfffffff0U, 0xffffffffU);
	seg(&c, CLI, F_S, 0);
	seg(&c, SRV, F_S | F_A, 0);
	/* The server's ISN + 1 is 0. */
	CHECK_EQ(half(&c, SRV)->nxt, 0);
	seg(&c, CLI, F_A, 0);
	CHECK_ST(&c, ESTABLISHED, ESTABLISHED);
	/* Data crossing 0. */
	seg(&c, CLI, F_A | F_P, 100);
	CHECK_EQ(half(&c, CLI)->nxt, 0x55);
	/* A retransmission of the old data below 0 does not move nxt back. */
	raw(&c, CLI, F_A | F_P, 0xfffffff1U, c.nxt[SRV], 100);
	CHECK_EQ(half(&c, CLI)->nxt, 0x55);
	seg(&c, SRV, F_A | F_P, 300);
	CHECK_EQ(half(&c, SRV)->nxt, 300);
	seg(&c, CLI, F_F | F_A, 0);
	CHECK_ST(&c, FIN_WAIT_1, ESTABLISHED);
	/* An ACK just below the FIN (before the wrap point) does not ack it. */
	raw(&c, SRV, F_A, c.nxt[SRV], c.fin_seq[CLI], 0);
	CHECK_ST(&c, FIN_WAIT_1, ESTABLISHED);
	seg(&c, SRV, F_A, 0);
	CHECK_ST(&c, FIN_WAIT_2, CLOSE_WAIT);
	seg(&c, SRV, F_F | F_A, 0);
	seg(&c, CLI, F_A, 0);
	CHECK_ST(&c, TIME_WAIT, CLOSED);
	CHECK_R(&c, R_ANOM, 0);

	/* FIN exactly at 0xffffffff. */
	conn_init(&c, 40000, 80, 0xfffffffeU, 100);
	handshake(&c);
	CHECK_EQ(c.nxt[CLI], 0xffffffffU);
	seg(&c, CLI, F_F | F_A, 0);
	CHECK_EQ(half(&c, CLI)->nxt, 0);
	seg(&c, SRV, F_A, 0);
	CHECK_ST(&c, FIN_WAIT_2, CLOSE_WAIT);

	/* Seq comparisons themselves. */
	CHECK(tcpa_seq_lt(0xffffffffU, 0));
	CHECK(tcpa_seq_gt(0, 0xffffffffU));
	CHECK(tcpa_seq_le(5, 5) && tcpa_seq_ge(5, 5));
	CHECK(tcpa_seq_lt(0x7ffffff0U, 0x80000010U));
	CHECK(!tcpa_seq_lt(5, 5));
}

/* ---- table, classes, names ---- */

/* The legal cells, written from RFC 9293 and ANOMALIES.md. */
struct cell {
	uint8_t st, ev, next;
};

#define C(s, e, n) { TCPA_TCP_ST_##s, TCPA_TCP_EV_##e, TCPA_TCP_ST_##n }

static const struct cell legal[] = {
	C(UNKNOWN, SND_SYN, SYN_SENT), C(UNKNOWN, SND_SYNACK, SYN_RECEIVED),
	C(UNKNOWN, SYN_ACKED, ESTABLISHED), C(UNKNOWN, SND_DATA, ESTABLISHED),
	C(UNKNOWN, SND_FIN, FIN_WAIT_1), C(UNKNOWN, FIN_ACKED, FIN_WAIT_2),
	C(UNKNOWN, ACK_FIN, CLOSE_WAIT), C(UNKNOWN, RST, CLOSED),
	C(CLOSED, SND_SYN, SYN_SENT), C(CLOSED, SND_SYNACK, SYN_RECEIVED), C(CLOSED, RST, CLOSED),
	C(SYN_SENT, SND_SYN, SYN_SENT), C(SYN_SENT, SND_SYNACK, SYN_RECEIVED),
	C(SYN_SENT, RCV_SYN, SYN_RECEIVED), C(SYN_SENT, SYN_ACKED, ESTABLISHED),
	C(SYN_SENT, SND_DATA, ESTABLISHED), C(SYN_SENT, RST, CLOSED),
	C(SYN_RECEIVED, SND_SYNACK, SYN_RECEIVED), C(SYN_RECEIVED, RCV_SYN, SYN_RECEIVED),
	C(SYN_RECEIVED, SYN_ACKED, ESTABLISHED), C(SYN_RECEIVED, SND_DATA, SYN_RECEIVED),
	C(SYN_RECEIVED, SND_FIN, FIN_WAIT_1), C(SYN_RECEIVED, ACK_FIN, CLOSE_WAIT),
	C(SYN_RECEIVED, RST, CLOSED),
	C(ESTABLISHED, SND_SYNACK, ESTABLISHED), C(ESTABLISHED, SYN_ACKED, ESTABLISHED),
	C(ESTABLISHED, SYNACK_AGAIN, SYN_RECEIVED), C(SYN_RECEIVED, SYNACK_AGAIN, SYN_RECEIVED),
	C(ESTABLISHED, SND_DATA, ESTABLISHED), C(ESTABLISHED, SND_FIN, FIN_WAIT_1),
	C(ESTABLISHED, ACK_FIN, CLOSE_WAIT), C(ESTABLISHED, RST, CLOSED),
	C(FIN_WAIT_1, SND_DATA, FIN_WAIT_1), C(FIN_WAIT_1, SND_FIN, FIN_WAIT_1),
	C(FIN_WAIT_1, FIN_CROSS, CLOSING), C(FIN_WAIT_1, FIN_ACKED, FIN_WAIT_2),
	C(FIN_WAIT_1, ACK_FIN, CLOSING), C(FIN_WAIT_1, RST, CLOSED),
	C(FIN_WAIT_2, SND_DATA, FIN_WAIT_2), C(FIN_WAIT_2, ACK_FIN, TIME_WAIT),
	C(FIN_WAIT_2, RST, CLOSED),
	C(CLOSING, SND_DATA, CLOSING), C(CLOSING, SND_FIN, CLOSING), C(CLOSING, ACK_FIN, CLOSING),
	C(CLOSING, FIN_ACKED, TIME_WAIT), C(CLOSING, RST, CLOSED),
	C(TIME_WAIT, SND_DATA, TIME_WAIT), C(TIME_WAIT, ACK_FIN, TIME_WAIT),
	C(TIME_WAIT, TW_EXPIRE, CLOSED), C(TIME_WAIT, RST, CLOSED),
	C(CLOSE_WAIT, SND_DATA, CLOSE_WAIT), C(CLOSE_WAIT, ACK_FIN, CLOSE_WAIT),
	C(CLOSE_WAIT, SND_FIN, LAST_ACK), C(CLOSE_WAIT, RST, CLOSED),
	C(LAST_ACK, SND_DATA, LAST_ACK), C(LAST_ACK, SND_FIN, LAST_ACK),
	C(LAST_ACK, ACK_FIN, LAST_ACK), C(LAST_ACK, FIN_ACKED, CLOSED), C(LAST_ACK, RST, CLOSED),
};

#undef C

static void
test_next_table(void)
{
	unsigned nlegal = 0;

	for (unsigned s = 0; s < TCPA_TCP_ST_MAX; s++) {
		for (unsigned e = 0; e < TCPA_TCP_EV_MAX; e++) {
			int want = -1, got = tcpa_tcp_next(s, e);

			for (unsigned i = 0; i < TCPA_ARRAY_SIZE(legal); i++)
				if (legal[i].st == s && legal[i].ev == e)
					want = legal[i].next;
			if (got != want) {
				fprintf(stderr, "  %s on %s: %s, expected %s\n",
					tcpa_tcp_state_name(s), tcpa_tcp_event_name(e),
					got < 0 ? "-1" : tcpa_tcp_state_name((unsigned)got),
					want < 0 ? "-1" : tcpa_tcp_state_name((unsigned)want));
				CHECK(0);
			}
			nlegal += got >= 0;
		}
	}
	CHECK_EQ(nlegal, TCPA_ARRAY_SIZE(legal));
	/* The obvious ones, spelled out. */
	CHECK_EQ(tcpa_tcp_next(TCPA_TCP_ST_ESTABLISHED, TCPA_TCP_EV_FIN_ACKED), -1);
	CHECK_EQ(tcpa_tcp_next(TCPA_TCP_ST_ESTABLISHED, TCPA_TCP_EV_SND_SYN), -1);
	CHECK_EQ(tcpa_tcp_next(TCPA_TCP_ST_CLOSED, TCPA_TCP_EV_SND_DATA), -1);
	CHECK_EQ(tcpa_tcp_next(TCPA_TCP_ST_CLOSED, TCPA_TCP_EV_SND_FIN), -1);
	CHECK_EQ(tcpa_tcp_next(TCPA_TCP_ST_SYN_SENT, TCPA_TCP_EV_SND_FIN), -1);
	CHECK_EQ(tcpa_tcp_next(TCPA_TCP_ST_FIN_WAIT_2, TCPA_TCP_EV_SND_SYN), -1);
	CHECK_EQ(tcpa_tcp_next(TCPA_TCP_ST_CLOSE_WAIT, TCPA_TCP_EV_FIN_ACKED), -1);
	CHECK_EQ(tcpa_tcp_next(TCPA_TCP_ST_ESTABLISHED, TCPA_TCP_EV_TW_EXPIRE), -1);
	CHECK_EQ(tcpa_tcp_next(TCPA_TCP_ST_ESTABLISHED, TCPA_TCP_EV_SND_FIN),
		TCPA_TCP_ST_FIN_WAIT_1);
	CHECK_EQ(tcpa_tcp_next(TCPA_TCP_ST_CLOSE_WAIT, TCPA_TCP_EV_SND_FIN),
		TCPA_TCP_ST_LAST_ACK);
	CHECK_EQ(tcpa_tcp_next(TCPA_TCP_ST_FIN_WAIT_2, TCPA_TCP_EV_ACK_FIN),
		TCPA_TCP_ST_TIME_WAIT);
	CHECK_EQ(tcpa_tcp_next(TCPA_TCP_ST_TIME_WAIT, TCPA_TCP_EV_TW_EXPIRE),
		TCPA_TCP_ST_CLOSED);
	/* Out of range. */
	CHECK_EQ(tcpa_tcp_next(TCPA_TCP_ST_MAX, 0), -1);
	CHECK_EQ(tcpa_tcp_next(0, TCPA_TCP_EV_MAX), -1);
	CHECK_EQ(tcpa_tcp_next(1000, 1000), -1);
}

/* Timeout class, written from the classes' definitions in tcpa_flow.h. */
static uint8_t
want_class(unsigned a, unsigned b)
{
#define IS(x, s) ((x) == TCPA_TCP_ST_##s)
#define ANY(s) (IS(a, s) || IS(b, s))
	if (ANY(CLOSE_WAIT))
		return TCPA_FLOW_TMO_ESTABLISHED;       /* the leak: keep it */
	if (ANY(SYN_SENT) || ANY(SYN_RECEIVED))
		return TCPA_FLOW_TMO_EMBRYONIC;
	if (ANY(FIN_WAIT_1) || ANY(FIN_WAIT_2) || ANY(CLOSING) || ANY(LAST_ACK))
		return TCPA_FLOW_TMO_CLOSING;
	if (ANY(ESTABLISHED) || (IS(a, UNKNOWN) && IS(b, UNKNOWN)))
		return TCPA_FLOW_TMO_ESTABLISHED;
	if (ANY(TIME_WAIT))
		return TCPA_FLOW_TMO_TIME_WAIT;
	return TCPA_FLOW_TMO_CLOSED;
#undef ANY
#undef IS
}

static void
test_tmo_class(void)
{
	struct tcpa_tcp_conn f;

	memset(&f, 0, sizeof(f));
	for (unsigned a = 0; a < TCPA_TCP_ST_MAX; a++) {
		for (unsigned b = 0; b < TCPA_TCP_ST_MAX; b++) {
			f.half[0].state = (uint8_t)a;
			f.half[1].state = (uint8_t)b;
			if (tcpa_tcp_tmo_class(&f) != want_class(a, b)) {
				fprintf(stderr, "  %s/%s: class %u, expected %u\n",
					tcpa_tcp_state_name(a), tcpa_tcp_state_name(b),
					tcpa_tcp_tmo_class(&f), want_class(a, b));
				CHECK(0);
			}
		}
	}
#define CL(a, b, c) do { \
	f.half[0].state = TCPA_TCP_ST_##a; \
	f.half[1].state = TCPA_TCP_ST_##b; \
	CHECK_EQ(tcpa_tcp_tmo_class(&f), TCPA_FLOW_TMO_##c); \
	f.half[0].state = TCPA_TCP_ST_##b; \
	f.half[1].state = TCPA_TCP_ST_##a; \
	CHECK_EQ(tcpa_tcp_tmo_class(&f), TCPA_FLOW_TMO_##c); \
} while (0)
	CL(SYN_SENT, CLOSED, EMBRYONIC);
	CL(ESTABLISHED, SYN_RECEIVED, EMBRYONIC);
	CL(ESTABLISHED, ESTABLISHED, ESTABLISHED);
	CL(UNKNOWN, UNKNOWN, ESTABLISHED);
	CL(ESTABLISHED, UNKNOWN, ESTABLISHED);
	CL(FIN_WAIT_2, CLOSE_WAIT, ESTABLISHED);
	CL(FIN_WAIT_1, ESTABLISHED, CLOSING);
	CL(FIN_WAIT_2, LAST_ACK, CLOSING);
	CL(CLOSING, CLOSING, CLOSING);
	CL(TIME_WAIT, CLOSED, TIME_WAIT);
	CL(TIME_WAIT, TIME_WAIT, TIME_WAIT);
	CL(CLOSED, CLOSED, CLOSED);
#undef CL
}

static void
test_names(void)
{
	for (unsigned s = 0; s < TCPA_TCP_ST_MAX; s++) {
		const char *n = tcpa_tcp_state_name(s);

		CHECK(n != NULL && strcmp(n, "?") != 0);
		CHECK_EQ(tcpa_tcp_state_parse(n), s);
	}
	CHECK(strcmp(tcpa_tcp_state_name(TCPA_TCP_ST_CLOSE_WAIT), "CLOSE_WAIT") == 0);
	CHECK(strcmp(tcpa_tcp_state_name(TCPA_TCP_ST_UNKNOWN), "UNKNOWN") == 0);
	CHECK(strcmp(tcpa_tcp_state_name(TCPA_TCP_ST_MAX), "?") == 0);
	CHECK(strcmp(tcpa_tcp_state_name(99999), "?") == 0);
	CHECK_EQ(tcpa_tcp_state_parse("close_wait"), -1);
	CHECK_EQ(tcpa_tcp_state_parse(""), -1);
	CHECK_EQ(tcpa_tcp_state_parse("?"), -1);
	CHECK_EQ(tcpa_tcp_state_parse("ESTABLISHED "), -1);
	for (unsigned e = 0; e < TCPA_TCP_EV_MAX; e++)
		CHECK(strcmp(tcpa_tcp_event_name(e), "?") != 0);
	CHECK(strcmp(tcpa_tcp_event_name(TCPA_TCP_EV_FIN_ACKED), "FIN_ACKED") == 0);
	CHECK(strcmp(tcpa_tcp_event_name(TCPA_TCP_EV_MAX), "?") == 0);
}

/* A flow of random segments never leaves the state range. */
static void
test_random_segments(void)
{
	static const uint8_t fl[] = {
		F_S, F_S | F_A, F_A, F_A | F_P, F_F | F_A, F_R, F_R | F_A, F_F, 0,
	};
	uint64_t x = 88172645463325252ULL;

	for (unsigned n = 0; n < 2000; n++) {
		struct conn c;

		conn_init(&c, 40000, 80, 1000, 5000);
		for (unsigned i = 0; i < 30; i++) {
			unsigned who;
			uint8_t f;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			who = (unsigned)(x & 1);
			f = fl[(x >> 8) % TCPA_ARRAY_SIZE(fl)];
			if ((x >> 20) & 1)
				seg(&c, who, f, (uint16_t)((x >> 24) % 3 == 0 ? 100 : 0));
			else
				raw(&c, who, f, (uint32_t)(x >> 32), c.nxt[!who], 0);
			CHECK(c.f.half[0].state < TCPA_TCP_ST_MAX);
			CHECK(c.f.half[1].state < TCPA_TCP_ST_MAX);
			CHECK(c.f.cli <= 1);
			CHECK(tcpa_tcp_tmo_class(&c.f) < TCPA_FLOW_TMO_MAX);
		}
	}
}

int
main(void)
{
	RUN(test_handshake);
	RUN(test_handshake_sides);
	RUN(test_client_active_close);
	RUN(test_server_active_close);
	RUN(test_fin_ack_piggybacked);
	RUN(test_simultaneous_close);
	RUN(test_simultaneous_open);
	RUN(test_half_close);
	RUN(test_rst_in_window);
	RUN(test_rst_out_of_window);
	RUN(test_rst_refused);
	RUN(test_syn_retransmit);
	RUN(test_syn_new_isn);
	RUN(test_fast_open);
	RUN(test_synack_retransmit);
	RUN(test_repeats_after_answer);
	RUN(test_time_wait_reuse);
	RUN(test_syn_in_live_connection);
	RUN(test_midstream);
	RUN(test_synack_first);
	RUN(test_synack_missed);
	RUN(test_window_scaling);
	RUN(test_seq_wrap);
	RUN(test_next_table);
	RUN(test_tmo_class);
	RUN(test_names);
	RUN(test_random_segments);

	return check_summary("tcp");
}
