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

#include "tcpa_flow.h"
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
 * What the rules remember per flow, in two places: what every segment
 * reads is in struct tcpa_flow's two lines (hflags, mss, rtt16, born_us,
 * last_data_ms, and half[].small_end / small_us for Nagle); what only the
 * slow path reads is struct tcpa_anom_cold, in the flow's cold line.
 */

/* tcpa_flow.hflags[side] */
#define TCPA_AH_HOLE    0x01    /* the observer saw a gap in its sequence space */
#define TCPA_AH_KA      0x02    /* sent a keep-alive not yet answered */
#define TCPA_AH_LATE    0x04    /* its sub-MSS segment was acknowledged late (Nagle armed) */
#define TCPA_AH_CW_STUCK 0x08   /* counted close_wait_stuck, still in CLOSE_WAIT */
#define TCPA_AH_SACK    0x10    /* its last ACK carried SACK blocks: it signals holes */
#define TCPA_AH_DUPS    0x20    /* dupacks[side] != 0 (the fast path never reads it) */
/* tcpa_anom_cold.cflags */
#define TCPA_AC_STALE   0x01    /* stale_reuse counted */
#define TCPA_AC_IDLE    0x02    /* idle_close counted */
#define TCPA_AC_SYN_DONE 0x04   /* syn_unanswered decided for the current SYN */
#define TCPA_AC_SACKED  0x08    /* sack_lo/sack_hi hold a block */
#define TCPA_AC_SACK_OWNER1 0x10 /* ... that key side 1 reported (else side 0) */

/** A gap the observer saw in one side's sequence space: [lo, hi). */
struct tcpa_anom_hole {
	uint32_t lo;
	uint32_t hi;
	uint32_t us;            /* when the segment that left it was seen */
};

/** The rules' slow-path state: tcpa_flow_ext.rules. */
struct tcpa_anom_cold {
	struct tcpa_anom_hole hole[2];  /* by key side, valid if TCPA_AH_HOLE */
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

_Static_assert(sizeof(struct tcpa_anom_cold) <= sizeof(((struct tcpa_flow_ext *)0)->rules),
	"the rules' cold state must fit the flow's cold line");

static inline struct tcpa_anom_cold *
tcpa_anom_cold(struct tcpa_flow_ext *x)
{
	return (struct tcpa_anom_cold *)x->rules;
}

static inline const struct tcpa_anom_cold *
tcpa_anom_cold_c(const struct tcpa_flow_ext *x)
{
	return (const struct tcpa_anom_cold *)x->rules;
}

/** At most this many anomalies from one segment. */
#define TCPA_ANOM_SEG_MAX 6

/** One anomaly a segment showed, with the key side it is attributed to. */
struct tcpa_anom_ev {
	uint8_t anom;
	uint8_t side;
};

/**
 * Fast path of the rules, inline in the engine's loop: an in-order data
 * segment or a fresh ACK between two ESTABLISHED ends, with nothing pending
 * on either side (no probe awaiting its ACK, no gap, no SACK blocks in this
 * segment or the receiver's last ACK, the windows open, nothing acknowledged
 * beyond what was seen). Only Nagle's rule can fire there; otherwise only
 * the bookkeeping moves. Only for a
 * segment tcpa_tcp_predictable() accepted: it shares that test.
 * @return 1 if handled (*n anomalies in @p ev), 0: call tcpa_anom_segment().
 */
static inline int
tcpa_anom_fast(const struct tcpa_anom_conf *c, struct tcpa_flow *f,
		const struct tcpa_pkt *p, unsigned side, struct tcpa_anom_ev *ev, unsigned *n)
{
	struct tcpa_half *s = &f->half[side], *q = &f->half[!side];
	uint32_t now_us, end, mss;

	/* The caller checked tcpa_tcp_predictable(): a plain ACK, both ESTABLISHED. */
	uint16_t hf;

	/* Both sides' flags in one load: anything but LATE pending sends it slow. */
	memcpy(&hf, f->hflags, sizeof(hf));
	if (!((hf & (uint16_t)~(TCPA_AH_LATE | TCPA_AH_LATE << 8)) == 0 &&
			p->seq == s->nxt && p->win != 0 && q->win != 0 && p->nsack == 0 &&
			tcpa_seq_le(p->ack, q->nxt)))
		return 0;
	/* The ACK of the peer's small segment: a late pure ACK arms Nagle. */
	if (q->small_end != 0 && tcpa_seq_ge(p->ack, q->small_end)) {
		now_us = (uint32_t)(p->ts / 1000);
		if (p->payload_len == 0 && now_us - q->small_us >= c->nagle_us && s->win != 0) {
			f->hflags[!side] |= TCPA_AH_LATE;
			q->small_us = now_us;
		}
		q->small_end = 0;
	}
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
	f->last_data_ms = tcpa_ns_to_ms(p->ts);
	mss = f->mss[!side] != 0 ? f->mss[!side] : 536u;
	if (p->payload_len >= mss) {
		f->hflags[side] &= (uint8_t)~TCPA_AH_LATE;
		return 1;
	}
	/* Nagle meeting delayed ACK: a small segment released by a late ACK. */
	now_us = (uint32_t)(p->ts / 1000);
	if ((f->hflags[side] & TCPA_AH_LATE) && now_us - s->small_us <=
			(f->rtt16 != 0 ? (uint32_t)f->rtt16 * 16 + 1000 : 2000) &&
			*n < TCPA_ANOM_SEG_MAX) {
		ev[*n].anom = TCPA_ANOM_nagle_delay;
		ev[*n].side = (uint8_t)side;
		(*n)++;
	}
	f->hflags[side] &= (uint8_t)~TCPA_AH_LATE;
	if (s->small_end == 0) {
		s->small_end = end;
		s->small_us = now_us;
	}
	return 1;
}

/**
 * The per-segment rules of ANOMALIES.md for segment @p p from key side
 * @p side, when tcpa_anom_fast() declined it (it gives the same result on
 * the segments the fast path takes). Call BEFORE tcpa_tcp_input(): the
 * rules compare the segment with the state the flow had before it.
 * @param idle_ms set to the observed idle time when the result has idle_close
 * @return the number of anomalies written to @p ev (at most TCPA_ANOM_SEG_MAX).
 */
unsigned tcpa_anom_segment(const struct tcpa_anom_conf *c, struct tcpa_flow *f,
		struct tcpa_flow_ext *x, const struct tcpa_pkt *p, unsigned side,
		struct tcpa_anom_ev *ev, uint32_t *idle_ms);

/** JSON key of an anomaly; "?" out of range. */
const char *tcpa_anom_name(unsigned a);
/** Help text of an anomaly. */
const char *tcpa_anom_help(unsigned a);

#endif /* TCPA_ANOM_H */
