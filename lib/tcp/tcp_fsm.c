/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Passive TCP state machine for both endpoints of a connection.
 *
 * The observer assumes a segment it sees is delivered. Each segment is
 * classified into per-endpoint events (tcpa_tcp.h), applied through one
 * const table; a missing cell is an event the table did not expect, which
 * is counted, never silently accepted. Sequence checks (is this the ACK of
 * that FIN? is this RST in the window?) live in the small handlers below.
 *
 * Receiver-side transitions follow ANOMALIES.md: the receiver of a FIN
 * moves (to CLOSE_WAIT, CLOSING or TIME_WAIT) when its ACK covering the FIN
 * is seen, not when the FIN is.
 */
#include <string.h>

#include "tcpa_tcp.h"

static const char *const state_names[] = {
#define X(s) #s,
	TCPA_TCP_STATES(X)
#undef X
};

static const char *const event_names[] = {
#define X(e) #e,
	TCPA_TCP_EVENTS(X)
#undef X
};

const char *
tcpa_tcp_state_name(unsigned st)
{
	return st < TCPA_TCP_ST_MAX ? state_names[st] : "?";
}

int
tcpa_tcp_state_parse(const char *name)
{
	for (unsigned i = 0; i < TCPA_TCP_ST_MAX; i++)
		if (strcmp(name, state_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
tcpa_tcp_event_name(unsigned ev)
{
	return ev < TCPA_TCP_EV_MAX ? event_names[ev] : "?";
}

struct rule {
	uint8_t next;   /* meaningful only if ok != 0 */
	uint8_t ok;
};

#define T(st, ev, nx) [TCPA_TCP_ST_##st][TCPA_TCP_EV_##ev] = { TCPA_TCP_ST_##nx, 1 }

static const struct rule fsm[TCPA_TCP_ST_MAX][TCPA_TCP_EV_MAX] = {
	/* Midstream: infer from what the endpoint does first. */
	T(UNKNOWN, SND_SYN, SYN_SENT),
	T(UNKNOWN, SND_SYNACK, SYN_RECEIVED),
	T(UNKNOWN, SYN_ACKED, ESTABLISHED),
	T(UNKNOWN, SND_DATA, ESTABLISHED),
	T(UNKNOWN, SND_FIN, FIN_WAIT_1),
	T(UNKNOWN, FIN_ACKED, FIN_WAIT_2),
	T(UNKNOWN, ACK_FIN, CLOSE_WAIT),
	T(UNKNOWN, RST, CLOSED),

	/* A server has no socket for a connection until it answers. */
	T(CLOSED, SND_SYN, SYN_SENT),
	T(CLOSED, SND_SYNACK, SYN_RECEIVED),
	T(CLOSED, RST, CLOSED),

	T(SYN_SENT, SND_SYN, SYN_SENT),             /* retransmitted SYN */
	T(SYN_SENT, SND_SYNACK, SYN_RECEIVED),      /* simultaneous open */
	T(SYN_SENT, RCV_SYN, SYN_RECEIVED),         /* simultaneous open */
	T(SYN_SENT, SYN_ACKED, ESTABLISHED),
	T(SYN_SENT, SND_DATA, ESTABLISHED),         /* the SYN-ACK escaped the capture */
	T(SYN_SENT, RST, CLOSED),

	T(SYN_RECEIVED, SND_SYNACK, SYN_RECEIVED),  /* retransmitted SYN-ACK */
	T(SYN_RECEIVED, RCV_SYN, SYN_RECEIVED),
	T(SYN_RECEIVED, SYN_ACKED, ESTABLISHED),
	T(SYN_RECEIVED, SND_DATA, SYN_RECEIVED),
	T(SYN_RECEIVED, SND_FIN, FIN_WAIT_1),
	T(SYN_RECEIVED, ACK_FIN, CLOSE_WAIT),
	T(SYN_RECEIVED, RST, CLOSED),

	T(ESTABLISHED, SND_SYNACK, ESTABLISHED),    /* simultaneous open: its first one */
	/*
	 * The server repeats its SYN-ACK after the client's ACK went by: its
	 * kernel dropped that ACK (full accept queue) and still holds the
	 * connection in SYN_RECEIVED, as ss shows.
	 */
	T(ESTABLISHED, SYNACK_AGAIN, SYN_RECEIVED),
	T(SYN_RECEIVED, SYNACK_AGAIN, SYN_RECEIVED),
	T(ESTABLISHED, SYN_ACKED, ESTABLISHED),
	T(ESTABLISHED, SND_DATA, ESTABLISHED),
	T(ESTABLISHED, SND_FIN, FIN_WAIT_1),
	T(ESTABLISHED, ACK_FIN, CLOSE_WAIT),
	T(ESTABLISHED, RST, CLOSED),

	T(FIN_WAIT_1, SND_DATA, FIN_WAIT_1),
	T(FIN_WAIT_1, SND_FIN, FIN_WAIT_1),         /* retransmitted FIN */
	T(FIN_WAIT_1, FIN_CROSS, CLOSING),
	T(FIN_WAIT_1, FIN_ACKED, FIN_WAIT_2),
	T(FIN_WAIT_1, ACK_FIN, CLOSING),
	T(FIN_WAIT_1, RST, CLOSED),

	T(FIN_WAIT_2, SND_DATA, FIN_WAIT_2),
	T(FIN_WAIT_2, ACK_FIN, TIME_WAIT),
	T(FIN_WAIT_2, RST, CLOSED),

	T(CLOSING, SND_DATA, CLOSING),
	T(CLOSING, SND_FIN, CLOSING),
	T(CLOSING, ACK_FIN, CLOSING),
	T(CLOSING, FIN_ACKED, TIME_WAIT),
	T(CLOSING, RST, CLOSED),

	T(TIME_WAIT, SND_DATA, TIME_WAIT),          /* re-ACK of a retransmitted FIN */
	T(TIME_WAIT, ACK_FIN, TIME_WAIT),
	T(TIME_WAIT, TW_EXPIRE, CLOSED),
	T(TIME_WAIT, RST, CLOSED),

	T(CLOSE_WAIT, SND_DATA, CLOSE_WAIT),        /* stale_reuse when it carries data */
	T(CLOSE_WAIT, ACK_FIN, CLOSE_WAIT),
	T(CLOSE_WAIT, SND_FIN, LAST_ACK),
	T(CLOSE_WAIT, RST, CLOSED),

	T(LAST_ACK, SND_DATA, LAST_ACK),
	T(LAST_ACK, SND_FIN, LAST_ACK),
	T(LAST_ACK, ACK_FIN, LAST_ACK),
	T(LAST_ACK, FIN_ACKED, CLOSED),
	T(LAST_ACK, RST, CLOSED),
};

#undef T

int
tcpa_tcp_next(unsigned st, unsigned ev)
{
	if (st >= TCPA_TCP_ST_MAX || ev >= TCPA_TCP_EV_MAX || !fsm[st][ev].ok)
		return -1;
	return fsm[st][ev].next;
}

static inline void
step(struct tcpa_tcp_half *h, unsigned ev, struct tcpa_tcp_result *r)
{
	const struct rule *x = &fsm[h->state][ev];

	if (unlikely(!x->ok)) {
		r->what |= TCPA_TCP_R_UNEXPECTED;
		return;
	}
	h->state = x->next;
}

static inline int
is_closed(unsigned st)
{
	return st == TCPA_TCP_ST_CLOSED || st == TCPA_TCP_ST_TIME_WAIT;
}

void
tcpa_tcp_conn_start(struct tcpa_tcp_conn *t, const struct tcpa_pkt *p, unsigned side)
{
	uint8_t fl = p->tcp_flags & (TCPA_TCP_SYN | TCPA_TCP_ACK);

	if (fl == TCPA_TCP_SYN) {
		t->cli = (uint8_t)side;
		t->flags |= TCPA_CONN_ROLE_SET;
		t->half[!side].state = TCPA_TCP_ST_CLOSED;
	} else if (fl == (TCPA_TCP_SYN | TCPA_TCP_ACK)) {
		t->cli = (uint8_t)!side;
		t->flags |= TCPA_CONN_ROLE_SET;
		t->half[side].state = TCPA_TCP_ST_CLOSED;
	} else {
		/* Midstream: the lower port is the server until told otherwise. */
		uint16_t port0 = side == 0 ? p->sport : p->dport;
		uint16_t port1 = side == 0 ? p->dport : p->sport;

		t->cli = port0 < port1 ? 1 : 0;
		t->flags |= TCPA_CONN_MIDSTREAM;
	}
}

/* A SYN on a tuple whose previous connection is over starts a new one. */
static void
restart(struct tcpa_tcp_conn *t, unsigned side, struct tcpa_tcp_result *r)
{
	r->what |= TCPA_TCP_R_NEW_CONN | TCPA_TCP_R_REUSE | TCPA_TCP_R_ROLES;
	memset(t->half, 0, sizeof(t->half));
	t->half[!side].state = TCPA_TCP_ST_CLOSED;
	t->flags = TCPA_CONN_ROLE_SET;
	t->cli = (uint8_t)side;
}

static void
syn_options(struct tcpa_tcp_half *s, const struct tcpa_pkt *p)
{
	if (p->opts & TCPA_OPT_WSCALE) {
		s->flags |= TCPA_HALF_WS;
		s->wscale = p->wscale;
	}
}

static void
on_syn(struct tcpa_tcp_conn *t, struct tcpa_tcp_half *s, struct tcpa_tcp_half *q, const struct tcpa_pkt *p,
		unsigned side, struct tcpa_tcp_result *r)
{
	int fresh = !(s->flags & TCPA_HALF_SEEN) &&
		(s->state == TCPA_TCP_ST_UNKNOWN || s->state == TCPA_TCP_ST_CLOSED);

	if (tcpa_tcp_syn_repeat(s, p) && !is_closed(s->state)) {
		/*
		 * Same ISN: a repeat. Not only in SYN_SENT: when the SYN-ACK
		 * we saw was lost beyond the tap, the client repeats its SYN
		 * from what we hold as ESTABLISHED, and ANOMALIES.md counts
		 * every repeated SYN.
		 */
		r->what |= TCPA_TCP_R_SYN_RETX;
		return;
	}
	if (s->state == TCPA_TCP_ST_SYN_SENT && (s->flags & TCPA_HALF_SYN)) {
		/* A new ISN: the client gave up and tries a new connection. */
		restart(t, side, r);
		r->what &= (uint16_t)~TCPA_TCP_R_REUSE;
		s = &t->half[side];
		q = &t->half[!side];
	} else if (fresh && q->state == TCPA_TCP_ST_SYN_SENT) {
		/* The peer's SYN is out and this side sends its own: simultaneous open. */
	} else if (fresh && !(q->flags & TCPA_HALF_SEEN)) {
		r->what |= TCPA_TCP_R_NEW_CONN;
	} else if (is_closed(s->state) && is_closed(q->state)) {
		restart(t, side, r);
	} else {
		/* SYN inside a live connection: the kernel answers a challenge ACK. */
		r->what |= TCPA_TCP_R_UNEXPECTED;
		return;
	}
	step(s, TCPA_TCP_EV_SND_SYN, r);
	s->flags |= TCPA_HALF_SYN;
	/* Fast Open data in the SYN is sequence space too. */
	s->nxt = p->seq + 1 + p->payload_len;
	if (!(s->flags & TCPA_HALF_ACKED))
		s->ack = p->seq;        /* the ISN, until it acknowledges (tcpa_tcp_isn) */
	syn_options(s, p);
	if (q->state == TCPA_TCP_ST_SYN_SENT) {
		step(q, TCPA_TCP_EV_RCV_SYN, r);
		step(s, TCPA_TCP_EV_RCV_SYN, r);
	}
}

static void
on_synack(struct tcpa_tcp_conn *t, struct tcpa_tcp_half *s, struct tcpa_tcp_half *q, const struct tcpa_pkt *p,
		unsigned side, struct tcpa_tcp_result *r)
{
	/*
	 * A repeat if this side already sent a SYN-ACK (which set ACKED) with
	 * this ISN. Not its first one after a simultaneous open (SYN sent,
	 * never ACKED). Whatever state we hold it in: when the server drops
	 * the client's ACK (accept queue overflow) we have already moved it
	 * to ESTABLISHED, and that repeat is the one that matters.
	 */
	int again = (s->flags & (TCPA_HALF_SYN | TCPA_HALF_ACKED)) ==
		(TCPA_HALF_SYN | TCPA_HALF_ACKED) && tcpa_tcp_syn_repeat(s, p);

	if (again)
		r->what |= TCPA_TCP_R_SYNACK_RETX;
	if (!(t->flags & TCPA_CONN_ROLE_SET) || (t->cli == side && !(s->flags & TCPA_HALF_SYN))) {
		/* The SYN-ACK sender is the server, whatever we guessed. */
		if (t->cli != !side)
			r->what |= TCPA_TCP_R_ROLES;
		t->cli = (uint8_t)!side;
		t->flags |= TCPA_CONN_ROLE_SET;
	}
	if (again) {
		/* A repeat: an ACK of it that went by did not count for its kernel. */
		if (s->state == TCPA_TCP_ST_ESTABLISHED)
			s->flags |= TCPA_HALF_DOUBT;
		step(s, TCPA_TCP_EV_SYNACK_AGAIN, r);
	} else {
		step(s, TCPA_TCP_EV_SND_SYNACK, r);
	}
	s->flags |= TCPA_HALF_SYN | TCPA_HALF_ACKED;
	s->nxt = p->seq + 1 + p->payload_len;
	s->ack = p->ack;
	syn_options(s, p);
	/*
	 * It acknowledges the SYN: all of it, or with Fast Open only the SYN
	 * and not its data (cookie refused: the client sends the data again).
	 */
	if (tcpa_tcp_acks_syn(q, p->ack) &&
			(q->state == TCPA_TCP_ST_SYN_SENT || q->state == TCPA_TCP_ST_SYN_RECEIVED))
		step(q, TCPA_TCP_EV_SYN_ACKED, r);
	if ((s->flags & TCPA_HALF_WS) && (q->flags & TCPA_HALF_WS))
		t->flags |= TCPA_CONN_WSCALE;
}

/* A state in which a RST aborts an open connection (midstream counts). */
static inline int
synchronized(unsigned st)
{
	return st != TCPA_TCP_ST_SYN_SENT && st != TCPA_TCP_ST_TIME_WAIT && st != TCPA_TCP_ST_CLOSED;
}

/* Is the RST from @s acceptable to its receiver @q? */
static int
rst_valid(const struct tcpa_tcp_conn *t, const struct tcpa_tcp_half *s, const struct tcpa_tcp_half *q,
		const struct tcpa_pkt *p)
{
	uint32_t rcv_nxt, win;

	if (q->state == TCPA_TCP_ST_SYN_SENT)
		return (p->tcp_flags & TCPA_TCP_ACK) && tcpa_tcp_acks_syn(q, p->ack);
	if (q->flags & TCPA_HALF_ACKED)
		rcv_nxt = q->ack;
	else if (s->flags & TCPA_HALF_SEEN)
		rcv_nxt = s->nxt;
	else
		return 1;   /* nothing known to check against */
	win = q->win;
	if ((t->flags & TCPA_CONN_MIDSTREAM) && !(t->flags & TCPA_CONN_WSCALE))
		win <<= 14; /* scale unknown: be as lenient as the largest scale */
	if (win == 0)
		win = 1;
	return p->seq == s->nxt || (tcpa_seq_ge(p->seq, rcv_nxt) && tcpa_seq_lt(p->seq, rcv_nxt + win));
}

static void
on_rst(struct tcpa_tcp_conn *t, struct tcpa_tcp_half *s, struct tcpa_tcp_half *q, const struct tcpa_pkt *p,
		struct tcpa_tcp_result *r)
{
	if (s->state == TCPA_TCP_ST_CLOSED && q->state == TCPA_TCP_ST_CLOSED)
		return;     /* a second RST: nothing left to close */
	if (!rst_valid(t, s, q, p)) {
		r->what |= TCPA_TCP_R_RST_INVALID;
		return;
	}
	if (q->state == TCPA_TCP_ST_SYN_SENT)
		r->what |= TCPA_TCP_R_REFUSED;
	else if (synchronized(s->state) || synchronized(q->state))
		r->what |= TCPA_TCP_R_RST_ABORT;
	step(s, TCPA_TCP_EV_RST, r);
	step(q, TCPA_TCP_EV_RST, r);
}

/* ACK effects of a segment from @s: its peer's SYN or FIN acknowledged. */
static void
on_ack(struct tcpa_tcp_half *s, struct tcpa_tcp_half *q, uint32_t ack, struct tcpa_tcp_result *r)
{
	s->ack = ack;
	s->flags |= TCPA_HALF_ACKED;
	/*
	 * A server that dropped an ACK once (DOUBT) may drop the next ones:
	 * only what it sends itself shows that it has the connection now.
	 */
	if ((q->flags & (TCPA_HALF_SYN | TCPA_HALF_DOUBT)) == TCPA_HALF_SYN &&
			tcpa_seq_ge(ack, q->nxt) &&
			(q->state == TCPA_TCP_ST_SYN_RECEIVED || q->state == TCPA_TCP_ST_SYN_SENT))
		step(q, TCPA_TCP_EV_SYN_ACKED, r);
	if ((q->flags & (TCPA_HALF_FIN | TCPA_HALF_FIN_ACKED)) == TCPA_HALF_FIN &&
			tcpa_seq_ge(ack, q->nxt)) {
		q->flags |= TCPA_HALF_FIN_ACKED;
		step(q, TCPA_TCP_EV_FIN_ACKED, r);
		s->flags |= TCPA_HALF_ACKED_FIN;
		step(s, TCPA_TCP_EV_ACK_FIN, r);
	}
}

static void
on_fin(struct tcpa_tcp_half *s, struct tcpa_tcp_half *q, uint32_t fin_seq, struct tcpa_tcp_result *r)
{
	if (s->flags & TCPA_HALF_FIN) {
		if (fin_seq + 1 == s->nxt)
			return;     /* retransmitted FIN */
		r->what |= TCPA_TCP_R_UNEXPECTED;
		return;
	}
	s->flags |= TCPA_HALF_FIN;
	step(s, TCPA_TCP_EV_SND_FIN, r);
	/* Both FINs in flight, neither acknowledged: simultaneous close. */
	if (q->state == TCPA_TCP_ST_FIN_WAIT_1 && s->state == TCPA_TCP_ST_FIN_WAIT_1) {
		step(s, TCPA_TCP_EV_FIN_CROSS, r);
		step(q, TCPA_TCP_EV_FIN_CROSS, r);
	}
}


void
tcpa_tcp_input(struct tcpa_tcp_conn *t, const struct tcpa_pkt *p, unsigned side,
		struct tcpa_tcp_result *r)
{
	struct tcpa_tcp_half *s = &t->half[side], *q = &t->half[!side];
	uint8_t fl = p->tcp_flags;
	uint32_t end;

	r->what = 0;
	r->old_state[0] = t->half[0].state;
	r->old_state[1] = t->half[1].state;

	/* tcpa_tcp.h promises this bit on a midstream flow's first segment. */
	if (unlikely((t->flags & TCPA_CONN_MIDSTREAM) &&
			!((t->half[0].flags | t->half[1].flags) & TCPA_HALF_SEEN)))
		r->what |= TCPA_TCP_R_MIDSTREAM;

	if (unlikely(fl & TCPA_TCP_RST)) {
		on_rst(t, s, q, p, r);
		goto count;
	}
	if (unlikely(fl & TCPA_TCP_SYN)) {
		if (fl & TCPA_TCP_ACK)
			on_synack(t, s, q, p, side, r);
		else
			on_syn(t, s, q, p, side, r);
		s = &t->half[side];
		tcpa_tcp_window(t, s, p);
		goto count;
	}
	/*
	 * CLOSED and never seen: only the peer's SYN put it there (a server
	 * has no socket until it answers). A segment from it now means it has
	 * one after all: its SYN-ACK escaped the capture. Infer its state from
	 * what it sends, as for a midstream endpoint, instead of holding it
	 * CLOSED and counting each of its segments as unexpected.
	 */
	if (unlikely(s->state == TCPA_TCP_ST_CLOSED && !(s->flags & TCPA_HALF_SEEN)))
		s->state = TCPA_TCP_ST_UNKNOWN;
	if (likely(fl & TCPA_TCP_ACK))
		on_ack(s, q, p->ack, r);
	end = p->seq + p->payload_len + (fl & TCPA_TCP_FIN);
	if (!(s->flags & TCPA_HALF_SEEN) || tcpa_seq_gt(end, s->nxt))
		s->nxt = end;
	if (unlikely(s->flags & TCPA_HALF_DOUBT) && s->state == TCPA_TCP_ST_SYN_RECEIVED) {
		/* It sends more than SYN-ACKs: it accepted the connection. */
		s->flags &= (uint8_t)~TCPA_HALF_DOUBT;
		step(s, TCPA_TCP_EV_SYN_ACKED, r);
	}
	if (fl & TCPA_TCP_FIN)
		on_fin(s, q, end - 1, r);
	else
		step(s, TCPA_TCP_EV_SND_DATA, r);
	tcpa_tcp_window(t, s, p);
count:
	s->flags |= TCPA_HALF_SEEN;
	s->pkts++;
	s->bytes += p->payload_len;
}

uint8_t
tcpa_tcp_tmo_class(const struct tcpa_tcp_conn *t)
{
	unsigned m = (1U << t->half[0].state) | (1U << t->half[1].state);

#define B(s) (1U << TCPA_TCP_ST_##s)
	/* A leaked CLOSE_WAIT is exactly what must stay tracked: long timeout. */
	if (m & B(CLOSE_WAIT))
		return TCPA_FLOW_TMO_ESTABLISHED;
	if (m & (B(SYN_SENT) | B(SYN_RECEIVED)))
		return TCPA_FLOW_TMO_EMBRYONIC;
	if (m & (B(FIN_WAIT_1) | B(FIN_WAIT_2) | B(CLOSING) | B(LAST_ACK)))
		return TCPA_FLOW_TMO_CLOSING;
	if (m & B(ESTABLISHED) || m == B(UNKNOWN))
		return TCPA_FLOW_TMO_ESTABLISHED;
	if (m & B(TIME_WAIT))
		return TCPA_FLOW_TMO_TIME_WAIT;
	return TCPA_FLOW_TMO_CLOSED;
#undef B
}
