/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TCPA_ANOM_H
#define TCPA_ANOM_H

/**
 * @file
 * The anomaly keys of ANOMALIES.md, "Anomalies" section: one X-macro gives
 * the enum, the JSON keys and the help, so the report always carries every
 * key of the contract. X(name, counting, help); counting is 'S' for a
 * per-segment rule, 'C' for a per-connection condition.
 */

#include <stdint.h>
#include <string.h>

#include "tcpa_common.h"
#include "tcpa_pkt.h"
#include "tcpa_tcp.h"

#define TCPA_ANOMALIES(X) \
	X(close_wait_stuck,        'C', "in CLOSE_WAIT for close_wait_s without a FIN of its own: app never called close()") \
	X(idle_close,              'C', "FIN after idle_close_s without payload: server idle timeout") \
	X(stale_reuse,             'C', "payload sent after acknowledging the peer's FIN: stale pooled connection") \
	X(tuple_reuse,             'C', "SYN on a 4-tuple still in TIME_WAIT or closed < time_wait_s ago") \
	X(syn_retransmit,          'S', "SYN repeated with the same ISN: listen backlog (SO_BACKLOG) or loss") \
	X(syn_unanswered,          'C', "SYN without SYN-ACK or RST within syn_timeout_s") \
	X(synack_retransmit,       'S', "SYN-ACK repeated: the client did not complete the handshake") \
	X(conn_refused,            'C', "RST answering a SYN") \
	X(rst_abort,               'C', "RST on an established connection (SO_LINGER 0, unread data)") \
	X(rst_invalid,             'C', "RST outside the receiver's window (not obeyed)") \
	X(retransmission,          'S', "segment whose sequence range was already sent") \
	X(fast_retransmission,     'S', "retransmission during loss recovery (dup ACKs or SACK), before min RTO") \
	X(spurious_retransmission, 'S', "retransmission of data already acknowledged") \
	X(out_of_order,            'S', "segment filling a gap within the RTT of the one that left it") \
	X(lost_segment,            'S', "segment beyond the next expected sequence: capture missed data") \
	X(ack_unseen,              'S', "ACK for data this observer never saw") \
	X(dup_ack,                 'S', "duplicate ACK while data is outstanding") \
	X(zero_window,             'S', "zero receive window advertised") \
	X(zero_window_probe,       'S', "probe into the peer's zero window") \
	X(window_full,             'S', "payload fills the peer's advertised window (small SO_RCVBUF)") \
	X(keepalive,               'S', "keep-alive probe (SO_KEEPALIVE or application ping)") \
	X(keepalive_ack,           'S', "answer to a keep-alive probe") \
	X(nagle_delay,             'S', "sub-MSS segment held until a delayed ACK: TCP_NODELAY off")

enum tcpa_anom {
#define X(name, kind, help) TCPA_ANOM_##name,
	TCPA_ANOMALIES(X)
#undef X
	TCPA_ANOM_MAX
};

/** Thresholds of the rules (from the configuration; live keys). */
struct tcpa_anom_conf {
	uint32_t close_wait_ms;
	uint32_t idle_close_ms;
	uint32_t syn_timeout_ms;
	uint32_t nagle_us;
	uint32_t min_rto_us;
	uint32_t reorder_us;
	uint32_t off;           /* benchmarks only: 1 = skip every rule (state tracking only) */
};

/*
 * What the rules remember per connection, in two places: what every
 * segment reads in struct tcpa_anom_hot (the connection's two hot lines),
 * what only the slow path reads in struct tcpa_anom_cold (its cold entry).
 * The engine composes both into its connection types.
 */

/* tcpa_anom_hot.hflags[side] */
#define TCPA_AH_HOLE    0x01    /* the observer saw a gap in its sequence space */
#define TCPA_AH_KA      0x02    /* sent a keep-alive not yet answered */
#define TCPA_AH_LATE    0x04    /* its sub-MSS segment was acknowledged late (Nagle armed) */
#define TCPA_AH_CW_STUCK 0x08   /* counted close_wait_stuck, still in CLOSE_WAIT (engine's timer) */
#define TCPA_AH_SACK    0x10    /* its last ACK carried SACK blocks: it signals holes */
#define TCPA_AH_DUPS    0x20    /* its duplicate-ACK count is not 0 (the fast path never reads it) */

/** The rules' per-segment state, by key side where there are two. */
struct tcpa_anom_hot {
	uint32_t last_data_ms;  /* packet time of the last payload either way, 0 = none yet */
	uint32_t small_end[2];  /* Nagle: end of its last sub-MSS segment awaiting ACK, 0 = none */
	uint32_t small_us[2];   /* when sent; with TCPA_AH_LATE: when its late ACK came */
	uint16_t mss[2];        /* MSS each side announced, 0 = unknown */
	uint16_t rtt16;         /* handshake RTT in 16 us units, 0 = unknown */
	uint8_t hflags[2];      /* TCPA_AH_* */
};

/* tcpa_anom_cold.cflags */
#define TCPA_AC_STALE   0x01    /* stale_reuse counted */
#define TCPA_AC_IDLE    0x02    /* idle_close counted */
#define TCPA_AC_SYN_DONE 0x04   /* syn_unanswered decided for the current SYN (engine's timer) */
#define TCPA_AC_SACKED  0x08    /* sack_lo/sack_hi hold a block */
#define TCPA_AC_SACK_OWNER1 0x10 /* ... that key side 1 reported (else side 0) */

/** A gap the observer saw in one side's sequence space: [lo, hi). */
struct tcpa_anom_hole {
	uint32_t lo;
	uint32_t hi;
	uint32_t us;            /* when the segment that left it was seen */
};

/** The rules' slow-path state. */
struct tcpa_anom_cold {
	struct tcpa_anom_hole hole[2];  /* by key side, valid if TCPA_AH_HOLE */
	uint32_t born_us;               /* packet time of the connection's first segment, us (wraps) */
	uint8_t dupacks;                /* consecutive duplicate ACKs: side 0 in the low
					 * nibble, side 1 in the high one, each stops at 15 */
	uint8_t cflags;                 /* TCPA_AC_* */
	uint16_t sig_ms;                /* when a receiver began signalling a hole (first
					 * dup ACK or SACK), packet time in ms mod 2^16 */
	/*
	 * The lowest SACK block above the cumulative ACK in the last ACK of
	 * side TCPA_AC_SACK_OWNER1 ? 1 : 0, as offsets from that ACK (which is
	 * its half's ack): [ack + sack_lo, ack + sack_hi). Valid with
	 * TCPA_AC_SACKED; a block beyond 64 KiB of the ACK is not kept.
	 */
	uint16_t sack_lo;
	uint16_t sack_hi;
};

/** Consecutive duplicate ACKs side @p side sent. */
static inline unsigned
tcpa_anom_dupacks(const struct tcpa_anom_cold *k, unsigned side)
{
	return (k->dupacks >> (side * 4)) & 0xf;
}

/** At most this many anomalies from one segment. */
#define TCPA_ANOM_SEG_MAX 6

/** One anomaly a segment showed, with the key side it is attributed to. */
struct tcpa_anom_ev {
	uint8_t anom;
	uint8_t side;
};

/** What the rules found in one segment. */
struct tcpa_anom_out {
	unsigned n;                     /* anomalies in ev[] */
	struct tcpa_anom_ev ev[TCPA_ANOM_SEG_MAX];
	uint32_t idle_ms;               /* the observed idle time, when ev[] has idle_close */
};

/** Add one anomaly to @p o (beyond TCPA_ANOM_SEG_MAX it is not kept). */
static inline void
tcpa_anom_emit(struct tcpa_anom_out *o, unsigned a, unsigned side)
{
	if (o->n < TCPA_ANOM_SEG_MAX) {
		o->ev[o->n].anom = (uint8_t)a;
		o->ev[o->n].side = (uint8_t)side;
		o->n++;
	}
}

/** Payload time in ms as the rules keep it: 0 means "none yet", so 0 ms counts as 1. */
static inline uint32_t
tcpa_anom_data_ms(uint32_t now_ms)
{
	return now_ms != 0 ? now_ms : 1;
}

/*
 * Nagle's rule, shared by the fast path and tcpa_anom_segment() so that
 * the rule is written once.
 */

/**
 * The ACK side: @p side acknowledges up to @p ack with a segment that is
 * a pure ACK (@p pure) advertising @p win (scaled). The ACK of the peer's
 * last small segment, when late (>= nagle_us after it) and pure, while
 * both windows are open, arms the rule for the peer's next small segment:
 * only a pure ACK is a delayed ACK (a late ACK riding on data is an answer
 * after think time), and a closed window held the data, not Nagle.
 */
static inline void
tcpa_anom_nagle_ack(const struct tcpa_anom_conf *c, struct tcpa_anom_hot *h,
		const struct tcpa_tcp_conn *t, unsigned side, uint32_t ack, int pure, uint32_t win,
		uint32_t now_us)
{
	unsigned q = !side;

	if (h->small_end[q] == 0 || !tcpa_seq_ge(ack, h->small_end[q]))
		return;
	if (pure && now_us - h->small_us[q] >= c->nagle_us && t->half[side].win != 0 &&
			win != 0) {
		h->hflags[q] |= TCPA_AH_LATE;
		h->small_us[q] = now_us;
	}
	h->small_end[q] = 0;
}

/**
 * The data side: a sub-MSS segment [seq, end) from @p side at its next
 * sequence. Released soon (within the RTT plus 1 ms, or 2 ms with no RTT)
 * after a late ACK armed the rule, it was held back by Nagle: nagle_delay.
 * It becomes the side's small segment awaiting ACK unless one is pending.
 */
static inline void
tcpa_anom_nagle_data(struct tcpa_anom_hot *h, unsigned side, uint32_t end, uint32_t now_us,
		struct tcpa_anom_out *o)
{
	uint32_t soon = h->rtt16 != 0 ? (uint32_t)h->rtt16 * 16 + 1000 : 2000;

	if ((h->hflags[side] & TCPA_AH_LATE) && now_us - h->small_us[side] <= soon)
		tcpa_anom_emit(o, TCPA_ANOM_nagle_delay, side);
	h->hflags[side] &= (uint8_t)~TCPA_AH_LATE;
	if (h->small_end[side] == 0) {
		h->small_end[side] = end;
		h->small_us[side] = now_us;
	}
}

/** The MSS side @p side sends with: what its peer announced, else 536 (RFC 9293). */
static inline uint32_t
tcpa_anom_mss(const struct tcpa_anom_hot *h, unsigned side)
{
	return h->mss[!side] != 0 ? h->mss[!side] : 536u;
}

/**
 * Fast path of the rules, inline in the engine's loop: an in-order data
 * segment or a fresh ACK between two ESTABLISHED ends, with nothing pending
 * on either side (no probe awaiting its ACK, no gap, no SACK blocks in this
 * segment or the receiver's last ACK, the windows open, nothing acknowledged
 * beyond what was seen). Only Nagle's rule can fire there; otherwise only
 * the bookkeeping moves. Only for a segment tcpa_tcp_predictable()
 * accepted: it shares that test.
 * @return 1 if handled (anomalies added to @p o), 0: call tcpa_anom_segment().
 */
static inline int
tcpa_anom_fast(const struct tcpa_anom_conf *c, struct tcpa_anom_hot *h,
		const struct tcpa_tcp_conn *t, const struct tcpa_pkt *p, unsigned side,
		struct tcpa_anom_out *o)
{
	const struct tcpa_tcp_half *s = &t->half[side], *q = &t->half[!side];
	uint32_t end;
	uint16_t hf;

	/* Both sides' flags in one load: anything but LATE pending sends it slow. */
	memcpy(&hf, h->hflags, sizeof(hf));
	if (!((hf & (uint16_t)~(TCPA_AH_LATE | TCPA_AH_LATE << 8)) == 0 &&
			p->seq == s->nxt && p->win != 0 && q->win != 0 && p->nsack == 0 &&
			tcpa_seq_le(p->ack, q->nxt)))
		return 0;
	if (h->small_end[!side] != 0)
		tcpa_anom_nagle_ack(c, h, t, side, p->ack, p->payload_len == 0, p->win,
			(uint32_t)(p->ts / 1000));
	/*
	 * The same ACK again is a duplicate ACK only while data is
	 * outstanding: with none (a window update, an ACK repeated once the
	 * peer's data is all acknowledged) no rule has anything to see.
	 */
	if (p->payload_len == 0)
		return p->ack != s->ack || p->ack == q->nxt;
	end = p->seq + p->payload_len;
	if (end == q->ack + q->win)
		return 0;               /* fills the window */
	h->last_data_ms = tcpa_anom_data_ms(tcpa_ns_to_ms(p->ts));
	if (p->payload_len >= tcpa_anom_mss(h, side)) {
		h->hflags[side] &= (uint8_t)~TCPA_AH_LATE;
		return 1;
	}
	tcpa_anom_nagle_data(h, side, end, (uint32_t)(p->ts / 1000), o);
	return 1;
}

/**
 * The per-segment rules of ANOMALIES.md for segment @p p from key side
 * @p side, when tcpa_anom_fast() declined it (it gives the same result on
 * the segments the fast path takes). Call BEFORE tcpa_tcp_input(): the
 * rules compare the segment with the state the connection had before it.
 * Anomalies are added to @p o (at most TCPA_ANOM_SEG_MAX in all).
 */
void tcpa_anom_segment(const struct tcpa_anom_conf *c, struct tcpa_anom_hot *h,
		struct tcpa_anom_cold *k, const struct tcpa_tcp_conn *t, const struct tcpa_pkt *p,
		unsigned side, struct tcpa_anom_out *o);

/**
 * The rules' state of a connection starting over (a SYN restarted the flow
 * entry): nothing of the previous connection carries over, but the MSS the
 * restarting SYN of side @p side announced. Born at @p now_us.
 */
void tcpa_anom_restart(struct tcpa_anom_hot *h, struct tcpa_anom_cold *k, unsigned side,
		uint32_t now_us);

/**
 * Did the connection show per-connection condition @p a (close_wait_stuck,
 * idle_close, stale_reuse, syn_unanswered)? 0 for any other anomaly: the
 * per-segment counts are kept per endpoint, not per connection.
 */
int tcpa_anom_conn_showed(const struct tcpa_anom_hot *h, const struct tcpa_anom_cold *k,
		const struct tcpa_tcp_conn *t, unsigned a);

/** Is @p a a per-connection condition tcpa_anom_conn_showed() knows? */
int tcpa_anom_is_conn_condition(unsigned a);

struct tcpa_conf;

/** Rule thresholds from the configuration's keys. */
void tcpa_anom_conf_from(const struct tcpa_conf *c, struct tcpa_anom_conf *a);

/** JSON key of an anomaly; "?" out of range. */
const char *tcpa_anom_name(unsigned a);
/** Help text of an anomaly. */
const char *tcpa_anom_help(unsigned a);

#endif /* TCPA_ANOM_H */
