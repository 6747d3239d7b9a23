/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TCPA_TCP_H
#define TCPA_TCP_H

/**
 * @file
 * Passive TCP state machine: both endpoints' states (RFC 9293 names) as
 * their own kernels would hold them, inferred from the segments an observer
 * sees (ANOMALIES.md, "Endpoint states").
 */

#include <stdbool.h>
#include <stdint.h>

#include "tcpa_flow.h"
#include "tcpa_pkt.h"

#define TCPA_TCP_STATES(X) \
	X(UNKNOWN) X(SYN_SENT) X(SYN_RECEIVED) X(ESTABLISHED) \
	X(FIN_WAIT_1) X(FIN_WAIT_2) X(CLOSING) X(TIME_WAIT) \
	X(CLOSE_WAIT) X(LAST_ACK) X(CLOSED)

enum tcpa_tcp_state {
#define X(s) TCPA_TCP_ST_##s,
	TCPA_TCP_STATES(X)
#undef X
	TCPA_TCP_ST_MAX
};

/* Per-endpoint half of a connection: what one endpoint's kernel holds. */
#define TCPA_HALF_SYN      0x01 /* sent a SYN (its ISN: tcpa_tcp_isn()) */
#define TCPA_HALF_ACKED    0x02 /* sent an ACK: ack is valid */
#define TCPA_HALF_FIN      0x04 /* sent a FIN; its sequence number is nxt - 1 */
#define TCPA_HALF_FIN_ACKED 0x08 /* its FIN was acknowledged by the peer */
#define TCPA_HALF_ACKED_FIN 0x10 /* it acknowledged the peer's FIN */
#define TCPA_HALF_WS       0x20 /* offered window scaling in its SYN */
#define TCPA_HALF_SEEN     0x40 /* sent at least one segment */
#define TCPA_HALF_DOUBT    0x80 /* repeated its SYN-ACK after the ACK: its kernel dropped it */

struct tcpa_tcp_half {
	uint8_t state;          /* enum tcpa_tcp_state */
	uint8_t flags;          /* TCPA_HALF_* */
	uint8_t wscale;         /* shift applied to its advertised window */
	uint8_t rxc;            /* core that received its previous segment (set by the engine) */
	uint32_t nxt;           /* highest sequence number sent + 1 */
	/*
	 * Last acknowledgment number it sent (TCPA_HALF_ACKED). Until then, a
	 * side that sent a SYN keeps its ISN here: with Fast Open data in the
	 * SYN, nxt is past the data.
	 */
	uint32_t ack;
	uint32_t win;           /* last advertised window, scaled, bytes */
	/*
	 * Segments and payload bytes sent, the part below 2^31: the engine
	 * carries the rest into the connection's cold entry before bit 31
	 * is set for long, so the line every segment touches holds 32-bit
	 * counters only.
	 */
	uint32_t pkts;
	uint32_t bytes;
};

/* tcpa_tcp_conn.flags */
#define TCPA_CONN_MIDSTREAM 0x01 /* picked up without its handshake */
#define TCPA_CONN_WSCALE    0x02 /* both SYNs offered scaling: it is in force */
#define TCPA_CONN_ROLE_SET  0x04 /* roles known from a SYN or SYN-ACK */

/**
 * The TCP layer's part of a connection: both endpoints' states and
 * sequence tracking, indexed by the flow key's side (side 0 sent the
 * flow's first segment).
 */
struct tcpa_tcp_conn {
	struct tcpa_tcp_half half[2];
	uint8_t cli;            /* key side of the client (sent the first SYN) */
	uint8_t flags;          /* TCPA_CONN_* */
};

/** "ESTABLISHED", ... ; "?" when out of range. */
const char *tcpa_tcp_state_name(unsigned st);
/** Inverse of tcpa_tcp_state_name(); -1 if unknown. */
int tcpa_tcp_state_parse(const char *name);

/*
 * Per-endpoint events a segment can cause. One segment may cause several,
 * applied in this order: ACK effects, then SYN/data/FIN effects.
 */
#define TCPA_TCP_EVENTS(X) \
	X(SND_SYN)      /* sent a SYN without ACK */ \
	X(SND_SYNACK)   /* sent a SYN+ACK */ \
	X(SYNACK_AGAIN) /* repeated its SYN+ACK: the peer's ACK did not count */ \
	X(RCV_SYN)      /* peer's SYN crossed its own (simultaneous open) */ \
	X(SYN_ACKED)    /* its SYN was acknowledged */ \
	X(SND_DATA)     /* sent a segment without SYN/FIN/RST */ \
	X(SND_FIN)      /* sent a FIN */ \
	X(FIN_CROSS)    /* both FINs in flight: simultaneous close */ \
	X(FIN_ACKED)    /* its FIN was acknowledged */ \
	X(ACK_FIN)      /* it acknowledged the peer's FIN */ \
	X(RST)          /* a valid RST was sent or received */ \
	X(TW_EXPIRE)    /* 2MSL passed in TIME_WAIT */

enum tcpa_tcp_event {
#define X(e) TCPA_TCP_EV_##e,
	TCPA_TCP_EVENTS(X)
#undef X
	TCPA_TCP_EV_MAX
};

const char *tcpa_tcp_event_name(unsigned ev);

/**
 * The transition table's verdict for @p st on @p ev.
 * @return the next state, or -1 if the event is unexpected in that state.
 */
int tcpa_tcp_next(unsigned st, unsigned ev);

/* What one segment did to a flow: filled by tcpa_tcp_input(). */
#define TCPA_TCP_R_NEW_CONN   0x0001 /* a SYN started a (new) connection */
#define TCPA_TCP_R_REUSE      0x0002 /* ... on a tuple still in TIME_WAIT/closed */
#define TCPA_TCP_R_SYN_RETX   0x0004 /* SYN repeated with the same ISN */
#define TCPA_TCP_R_SYNACK_RETX 0x0008 /* SYN-ACK repeated */
#define TCPA_TCP_R_REFUSED    0x0010 /* RST answering a SYN */
#define TCPA_TCP_R_RST_ABORT  0x0020 /* valid RST on a synchronized connection */
#define TCPA_TCP_R_RST_INVALID 0x0040 /* RST outside the receiver's window */
#define TCPA_TCP_R_UNEXPECTED 0x0080 /* an event the table has no cell for */
#define TCPA_TCP_R_ROLES      0x0100 /* roles were (re)assigned */
#define TCPA_TCP_R_MIDSTREAM  0x0200 /* first segment of a midstream flow */

struct tcpa_tcp_result {
	uint16_t what;          /* TCPA_TCP_R_* */
	uint8_t old_state[2];   /* by key side, before the segment */
};

/**
 * Prepare a zeroed connection for its first segment @p p, sent by key side
 * @p side: roles from the segment (SYN sender is the client; SYN-ACK
 * sender the server; otherwise the lower port is the server and the
 * connection is midstream).
 */
void tcpa_tcp_conn_start(struct tcpa_tcp_conn *t, const struct tcpa_pkt *p, unsigned side);

/**
 * Step both endpoints' state for one segment sent by key side @p side.
 * Updates sequence tracking, window and counters of the connection. The hot path
 * tries tcpa_tcp_predict() first and calls this only when it declines; on
 * the segments prediction takes, this gives the same result.
 */
void tcpa_tcp_input(struct tcpa_tcp_conn *t, const struct tcpa_pkt *p, unsigned side,
		struct tcpa_tcp_result *r);

/** Record the window a segment advertises (scaled once both SYNs offered it). */
static inline void
tcpa_tcp_window(const struct tcpa_tcp_conn *t, struct tcpa_tcp_half *s, const struct tcpa_pkt *p)
{
	uint32_t w = p->win;

	/* Scaling never applies to SYN segments, and only if both offered it. */
	if ((t->flags & TCPA_CONN_WSCALE) && !(p->tcp_flags & TCPA_TCP_SYN))
		w <<= s->wscale;
	s->win = w;
}

/**
 * Header prediction, the test: a plain ACK or data segment with both ends
 * ESTABLISHED (no FIN sent, SYNs long acknowledged) changes no state; only
 * ack, sequence, window and counters move. Most segments of a busy link
 * pass it.
 */
static inline bool
tcpa_tcp_predictable(const struct tcpa_tcp_conn *t, const struct tcpa_pkt *p, unsigned side)
{
	return (p->tcp_flags & ~TCPA_TCP_PSH) == TCPA_TCP_ACK &&
		t->half[side].state == TCPA_TCP_ST_ESTABLISHED &&
		t->half[!side].state == TCPA_TCP_ST_ESTABLISHED;
}

/**
 * Header prediction, the update, for a segment tcpa_tcp_predictable()
 * accepted: what tcpa_tcp_input() would do to it, without the state machine.
 */
static inline void
tcpa_tcp_predicted(struct tcpa_tcp_conn *t, const struct tcpa_pkt *p, unsigned side)
{
	struct tcpa_tcp_half *s = &t->half[side];
	uint32_t end = p->seq + p->payload_len;

	s->ack = p->ack;
	if ((int32_t)(end - s->nxt) > 0)
		s->nxt = end;
	tcpa_tcp_window(t, s, p);
	s->flags |= TCPA_HALF_ACKED | TCPA_HALF_SEEN;
	s->pkts++;
	s->bytes += p->payload_len;
}

/**
 * Header prediction: test and update.
 * @return true if the segment was fully handled, false to call
 *   tcpa_tcp_input().
 */
static inline bool
tcpa_tcp_predict(struct tcpa_tcp_conn *t, const struct tcpa_pkt *p, unsigned side)
{
	if (!tcpa_tcp_predictable(t, p, side))
		return false;
	tcpa_tcp_predicted(t, p, side);
	return true;
}

/** The timeout class a connection belongs in, from its endpoints' states. */
uint8_t tcpa_tcp_tmo_class(const struct tcpa_tcp_conn *t);

/** Wrap-safe sequence comparisons. */
static inline bool
tcpa_seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline bool
tcpa_seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

static inline bool
tcpa_seq_gt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static inline bool
tcpa_seq_ge(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) >= 0;
}

/**
 * The ISN of a side that sent a SYN (TCPA_HALF_SYN): kept in ack until the
 * side acknowledges something; after that, its SYN-ACK carried no data
 * (Linux sends none), so nxt - 1 while nothing else was sent.
 */
static inline uint32_t
tcpa_tcp_isn(const struct tcpa_tcp_half *s)
{
	return (s->flags & TCPA_HALF_ACKED) ? s->nxt - 1 : s->ack;
}

/**
 * Is SYN @p p a repeat of @p s's SYN (the same ISN)? Also with Fast Open
 * (RFC 7413): a repeat carries the same data, or none (Linux resends a
 * timed-out Fast Open SYN without its data).
 */
static inline bool
tcpa_tcp_syn_repeat(const struct tcpa_tcp_half *s, const struct tcpa_pkt *p)
{
	if (!(s->flags & TCPA_HALF_SYN))
		return false;
	return p->seq + 1 == s->nxt || p->seq + 1 + p->payload_len == s->nxt ||
		(!(s->flags & TCPA_HALF_ACKED) && p->seq == s->ack);
}

/** Does @p ack acknowledge @p s's SYN (and at most what followed it)? */
static inline bool
tcpa_tcp_acks_syn(const struct tcpa_tcp_half *s, uint32_t ack)
{
	return (s->flags & TCPA_HALF_SYN) && tcpa_seq_gt(ack, tcpa_tcp_isn(s)) &&
		tcpa_seq_le(ack, s->nxt);
}

#endif /* TCPA_TCP_H */
