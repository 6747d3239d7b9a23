/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-segment anomaly rules of ANOMALIES.md ("Throughput and loss",
 * the stale-pool and idle-timeout diagnoses, Nagle meeting delayed ACK).
 *
 * Each rule compares a segment with what the flow held before it (so the
 * engine calls tcpa_anom_segment() before the state machine moves) and with
 * the little the rules remember per flow: in the flow's two hot lines what
 * every segment needs, in its cold line (struct tcpa_anom_cold) the rest. Rules that need time to pass without a
 * segment (close_wait_stuck, syn_unanswered, one_sided) are the engine's
 * timers.
 *
 * Attribution: a per-segment flag is attributed to the endpoint that sent
 * the flagged segment (Wireshark flags that frame); the diagnoses follow
 * ANOMALIES.md.
 */
#include <string.h>

#include "tcpa_anom.h"
#include "tcpa_tcp.h"

static const char *const anom_names[] = {
#define X(name, kind, help) #name,
	TCPA_ANOMALIES(X)
#undef X
};

static const char *const anom_helps[] = {
#define X(name, kind, help) help,
	TCPA_ANOMALIES(X)
#undef X
};

const char *
tcpa_anom_name(unsigned a)
{
	return a < TCPA_ANOM_MAX ? anom_names[a] : "?";
}

const char *
tcpa_anom_help(unsigned a)
{
	return a < TCPA_ANOM_MAX ? anom_helps[a] : "?";
}

static inline void
emit(struct tcpa_anom_ev *ev, unsigned *n, unsigned a, unsigned side)
{
	if (*n < TCPA_ANOM_SEG_MAX) {
		ev[*n].anom = (uint8_t)a;
		ev[*n].side = (uint8_t)side;
		(*n)++;
	}
}

/* Time within which a segment filling a gap is reordering, not a resend. */
static inline uint32_t
reorder_window_us(const struct tcpa_anom_conf *c, const struct tcpa_flow *f)
{
	return f->rtt16 != 0 ? (uint32_t)f->rtt16 * 16 : c->reorder_us;
}

/* Consecutive duplicate ACKs of @side; hflags mirrors "any" for the fast path. */
static inline void
dupacks_set(struct tcpa_flow *f, struct tcpa_anom_cold *k, unsigned side, unsigned v)
{
	k->dupacks = (uint8_t)((k->dupacks & ~(0xfu << (side * 4))) | (v << (side * 4)));
	if (v != 0)
		f->hflags[side] |= TCPA_AH_DUPS;
	else
		f->hflags[side] &= (uint8_t)~TCPA_AH_DUPS;
}

/*
 * Side of the receiver whose SACK block @k holds, or -1. sack_keep() clears
 * the block on that side's next ACK without one; until then its
 * TCPA_AH_SACK keeps every segment of the flow off the fast path.
 */
static inline int
sack_owner(const struct tcpa_anom_cold *k)
{
	if (!(k->cflags & TCPA_AC_SACKED))
		return -1;
	return (k->cflags & TCPA_AC_SACK_OWNER1) ? 1 : 0;
}

/*
 * Remember what the receiver @side says it holds above its cumulative ACK:
 * the lowest SACK block of this ACK (a resend after a timeout walks up
 * from the ACK, so the lowest block is the one it meets first; as the ACK
 * moves past it, the next ACK's lowest block takes its place). D-SACK
 * blocks, at or below the ACK, report duplicates, not holdings.
 */
static void
sack_keep(struct tcpa_anom_cold *k, const struct tcpa_pkt *p, unsigned side)
{
	uint32_t lo = 0, hi = 0;
	int found = 0;

	if (p->nsack != 0 && !(p->tcp_flags & TCPA_TCP_SYN)) {
		for (unsigned i = 0; i < p->nsack && i < TCPA_PKT_MAX_SACK; i++) {
			uint32_t l = p->sack[i][0], r = p->sack[i][1];

			if (!tcpa_seq_gt(l, p->ack) || !tcpa_seq_gt(r, l))
				continue;
			if (!found || tcpa_seq_lt(l, lo)) {
				lo = l;
				hi = r;
				found = 1;
			}
		}
	}
	if (found && hi - p->ack <= UINT16_MAX) {
		k->sack_lo = (uint16_t)(lo - p->ack);
		k->sack_hi = (uint16_t)(hi - p->ack);
		k->cflags = (uint8_t)((k->cflags & ~TCPA_AC_SACK_OWNER1) | TCPA_AC_SACKED |
			(side ? TCPA_AC_SACK_OWNER1 : 0));
	} else if ((k->cflags & TCPA_AC_SACKED) &&
			((k->cflags & TCPA_AC_SACK_OWNER1) ? 1u : 0u) == side) {
		k->cflags &= (uint8_t)~TCPA_AC_SACKED;
	}
}

/* Does the receiver of @side's data hold [seq, end) already (SACK)? */
static inline int
sack_holds(const struct tcpa_flow *f, const struct tcpa_anom_cold *k, unsigned side,
		uint32_t seq, uint32_t end)
{
	uint32_t base = f->half[!side].ack;

	return sack_owner(k) == (int)!side &&
		tcpa_seq_ge(seq, base + k->sack_lo) && tcpa_seq_le(end, base + k->sack_hi);
}

/* ACK-side rules for a segment from @side acknowledging its peer. */
static void
ack_rules(const struct tcpa_anom_conf *c, struct tcpa_flow *f, struct tcpa_anom_cold *k,
		const struct tcpa_pkt *p, unsigned side, uint32_t now_us, struct tcpa_anom_ev *ev,
		unsigned *n)
{
	uint32_t now_ms = tcpa_ns_to_ms(p->ts);
	struct tcpa_half *s = &f->half[side], *q = &f->half[!side];
	uint32_t win = (f->flags & TCPA_FLOW_WSCALE) ? (uint32_t)p->win << s->wscale : p->win;
	int pure = p->payload_len == 0 && !(p->tcp_flags & (TCPA_TCP_FIN | TCPA_TCP_SYN));

	/*
	 * An ACK for data the observer never saw: beyond all the peer sent,
	 * or covering a gap the capture left in it (once per gap: after that
	 * ACK the observer will never see that data).
	 */
	if ((q->flags & TCPA_HALF_SEEN) && tcpa_seq_gt(p->ack, q->nxt) &&
			(!(s->flags & TCPA_HALF_ACKED) || tcpa_seq_gt(p->ack, s->ack))) {
		/* Counted when the ACK first moves past it, not on every repeat. */
		emit(ev, n, TCPA_ANOM_ack_unseen, side);
	} else if ((f->hflags[!side] & TCPA_AH_HOLE) && tcpa_seq_gt(p->ack, k->hole[!side].lo)) {
		emit(ev, n, TCPA_ANOM_ack_unseen, side);
		f->hflags[!side] &= (uint8_t)~TCPA_AH_HOLE;
	}
	/*
	 * Not with a zero window (as Wireshark): the receiver answering
	 * zero-window probes repeats its ACK while staying shut; those are no
	 * loss signal, and counting them made the resend when the window
	 * reopened a fast_retransmission.
	 */
	if (pure && (s->flags & TCPA_HALF_ACKED) && p->ack == s->ack && win == s->win &&
			win != 0 && (q->flags & TCPA_HALF_SEEN) && tcpa_seq_lt(p->ack, q->nxt)) {
		emit(ev, n, TCPA_ANOM_dup_ack, side);
		if (tcpa_anom_dupacks(k, side) == 0 && !(f->hflags[side] & TCPA_AH_SACK))
			k->sig_ms = (uint16_t)now_ms;
		if (tcpa_anom_dupacks(k, side) < 15)
			dupacks_set(f, k, side, tcpa_anom_dupacks(k, side) + 1);
	} else if (!(s->flags & TCPA_HALF_ACKED) || p->ack != s->ack) {
		dupacks_set(f, k, side, 0);
	}
	/* SACK blocks above the ACK: the receiver is signalling holes. */
	if (p->nsack != 0 && !(p->tcp_flags & TCPA_TCP_SYN)) {
		if (!(f->hflags[side] & TCPA_AH_SACK) && tcpa_anom_dupacks(k, side) == 0)
			k->sig_ms = (uint16_t)now_ms;
		f->hflags[side] |= TCPA_AH_SACK;
	} else
		f->hflags[side] &= (uint8_t)~TCPA_AH_SACK;
	sack_keep(k, p, side);
	if (pure && (f->hflags[!side] & TCPA_AH_KA)) {
		emit(ev, n, TCPA_ANOM_keepalive_ack, side);
		f->hflags[!side] &= (uint8_t)~TCPA_AH_KA;
	}
	/* The ACK of the peer's last small segment: late means Nagle holds the next. */
	if (q->small_end != 0 && tcpa_seq_ge(p->ack, q->small_end)) {
		/*
		 * A window that was closed held the data, not Nagle. And only a
		 * pure ACK is a delayed ACK: a late ACK riding on the peer's data
		 * is its answer (a response after think time), and the next
		 * request right after it was never held back.
		 */
		if (pure && now_us - q->small_us >= c->nagle_us && s->win != 0 && win != 0) {
			f->hflags[!side] |= TCPA_AH_LATE;
			q->small_us = now_us;
		}
		q->small_end = 0;
	}
}

/* Keep-alive and zero-window probes: tiny segments at or just below nxt. */
static int
probe_rules(struct tcpa_flow *f, const struct tcpa_pkt *p, unsigned side,
		struct tcpa_anom_ev *ev, unsigned *n)
{
	const struct tcpa_half *s = &f->half[side], *q = &f->half[!side];
	int zw = (q->flags & TCPA_HALF_SEEN) && q->win == 0;

	if ((p->tcp_flags & (TCPA_TCP_FIN | TCPA_TCP_SYN)) || p->payload_len > 1 ||
			!(s->flags & TCPA_HALF_SEEN))
		return 0;
	if (p->seq + 1 == s->nxt) {
		/* Linux probes both ways with seq = nxt - 1: the window decides. */
		if (zw) {
			emit(ev, n, TCPA_ANOM_zero_window_probe, side);
		} else if (p->payload_len == 1 && (q->flags & TCPA_HALF_ACKED) &&
				tcpa_seq_lt(q->ack, s->nxt)) {
			/*
			 * Keep-alives come on an idle connection (ANOMALIES.md):
			 * a byte at nxt - 1 the peer never acknowledged is that
			 * byte resent (a keystroke), a retransmission.
			 */
			return 0;
		} else {
			emit(ev, n, TCPA_ANOM_keepalive, side);
			f->hflags[side] |= TCPA_AH_KA;
		}
		return 1;
	}
	if (zw && p->payload_len == 1 && p->seq == s->nxt) {
		emit(ev, n, TCPA_ANOM_zero_window_probe, side);
		return 1;
	}
	return 0;
}

/* A segment at or below what this side already sent: which kind of resend. */
static void
resend_rules(const struct tcpa_anom_conf *c, struct tcpa_flow *f,
		struct tcpa_anom_cold *k, const struct tcpa_pkt *p, unsigned side, uint32_t end,
		uint32_t now_us, struct tcpa_anom_ev *ev, unsigned *n)
{
	const struct tcpa_half *q = &f->half[!side];
	struct tcpa_anom_hole *hs = &k->hole[side];
	int in_hole = (f->hflags[side] & TCPA_AH_HOLE) && tcpa_seq_ge(p->seq, hs->lo) &&
		tcpa_seq_lt(p->seq, hs->hi);

	if ((q->flags & TCPA_HALF_ACKED) && (tcpa_seq_le(end, q->ack) ||
			/* SACK blocks decide what the receiver already holds. */
			sack_holds(f, k, side, p->seq, end))) {
		emit(ev, n, TCPA_ANOM_spurious_retransmission, side);
	} else if (((tcpa_anom_dupacks(k, !side) >= 2 && q->ack == p->seq) ||
			((f->hflags[!side] & TCPA_AH_SACK) && tcpa_seq_ge(p->seq, q->ack))) &&
			/* sooner than the minimum RTO after the hole was signalled */
			(uint32_t)(uint16_t)(tcpa_ns_to_ms(p->ts) - k->sig_ms) * 1000u <
			c->min_rto_us) {
		/* The receiver is signalling exactly this hole. */
		emit(ev, n, TCPA_ANOM_fast_retransmission, side);
		emit(ev, n, TCPA_ANOM_retransmission, side);
	} else if (in_hole && now_us - hs->us <= reorder_window_us(c, f)) {
		emit(ev, n, TCPA_ANOM_out_of_order, side);
	} else {
		emit(ev, n, TCPA_ANOM_retransmission, side);
	}
	if (in_hole) {
		/* The observer now holds the start of the gap. */
		if (p->seq == hs->lo)
			hs->lo = end;
		if (tcpa_seq_ge(hs->lo, hs->hi))
			f->hflags[side] &= (uint8_t)~TCPA_AH_HOLE;
	}
}

/* Nagle meeting delayed ACK: a small segment released by a late ACK. */
static void
nagle_rules(struct tcpa_flow *f, const struct tcpa_pkt *p, unsigned side, uint32_t end,
		uint32_t now_us, struct tcpa_anom_ev *ev, unsigned *n)
{
	struct tcpa_half *hs = &f->half[side];
	uint32_t mss = f->mss[!side] != 0 ? f->mss[!side] : 536;
	uint32_t soon = f->rtt16 != 0 ? (uint32_t)f->rtt16 * 16 + 1000 : 2000;

	if (p->payload_len == 0 || p->payload_len >= mss || p->seq != hs->nxt)
		return;
	if ((f->hflags[side] & TCPA_AH_LATE) && now_us - hs->small_us <= soon)
		emit(ev, n, TCPA_ANOM_nagle_delay, side);
	f->hflags[side] &= (uint8_t)~TCPA_AH_LATE;
	if (hs->small_end == 0) {
		hs->small_end = end;
		hs->small_us = now_us;
	}
}

unsigned
tcpa_anom_segment(const struct tcpa_anom_conf *c, struct tcpa_flow *f,
		struct tcpa_flow_ext *x, const struct tcpa_pkt *p, unsigned side,
		struct tcpa_anom_ev *ev, uint32_t *idle_ms)
{
	const struct tcpa_half *s = &f->half[side], *q = &f->half[!side];
	struct tcpa_anom_cold *k = tcpa_anom_cold(x);
	uint8_t fl = p->tcp_flags;
	uint32_t now_us = (uint32_t)(p->ts / 1000), now_ms = tcpa_ns_to_ms(p->ts);
	uint32_t seglen = p->payload_len + ((fl & TCPA_TCP_FIN) != 0), end = p->seq + seglen;
	unsigned n = 0;

	if (unlikely(fl & (TCPA_TCP_RST | TCPA_TCP_SYN))) {
		if ((fl & TCPA_TCP_SYN) && (p->opts & TCPA_OPT_MSS))
			f->mss[side] = p->mss;
		if (!(fl & TCPA_TCP_RST) && p->win == 0)
			emit(ev, &n, TCPA_ANOM_zero_window, side);
		if (!(s->flags & TCPA_HALF_SEEN) && !(q->flags & TCPA_HALF_SEEN))
			f->born_us = now_us;
		/*
		 * A SYN (or SYN-ACK, once ACKED by its first) repeated with the
		 * same ISN: ANOMALIES.md counts it as a retransmission too
		 * ("a segment with payload (or SYN/FIN)"), as Wireshark does;
		 * the state machine adds syn_retransmit / synack_retransmit.
		 */
		if ((fl & (TCPA_TCP_SYN | TCPA_TCP_RST)) == TCPA_TCP_SYN &&
				(s->flags & TCPA_HALF_SYN) && p->seq + 1 == s->nxt &&
				s->state != TCPA_TCP_ST_CLOSED &&
				s->state != TCPA_TCP_ST_TIME_WAIT &&
				(!(fl & TCPA_TCP_ACK) || (s->flags & TCPA_HALF_ACKED)))
			emit(ev, &n, TCPA_ANOM_retransmission, side);
		return n;   /* other RST and SYN rules belong to the state machine */
	}
	if (!(s->flags & TCPA_HALF_SEEN) && !(q->flags & TCPA_HALF_SEEN))
		f->born_us = now_us;
	/* The ACK that completes the handshake gives the RTT. */
	if (f->rtt16 == 0 && q->state == TCPA_TCP_ST_SYN_RECEIVED && (fl & TCPA_TCP_ACK)) {
		uint32_t rtt = (now_us - f->born_us) / 16;

		f->rtt16 = (uint16_t)(rtt == 0 ? 1 : rtt > UINT16_MAX ? UINT16_MAX : rtt);
	}
	if (likely(fl & TCPA_TCP_ACK))
		ack_rules(c, f, k, p, side, now_us, ev, &n);
	/* ANOMALIES.md excludes only RST (Wireshark also skips SYN and FIN). */
	if (p->win == 0)
		emit(ev, &n, TCPA_ANOM_zero_window, side);
	if (probe_rules(f, p, side, ev, &n))
		return n;
	/* A pure ACK starting past the next expected sequence: data escaped the capture. */
	if (seglen == 0 && (s->flags & TCPA_HALF_SEEN) && tcpa_seq_gt(p->seq, s->nxt))
		emit(ev, &n, TCPA_ANOM_lost_segment, side);
	if (seglen > 0 && (s->flags & TCPA_HALF_SEEN)) {
		if (tcpa_seq_lt(p->seq, s->nxt)) {
			resend_rules(c, f, k, p, side, end, now_us, ev, &n);
		} else if (tcpa_seq_gt(p->seq, s->nxt)) {
			emit(ev, &n, TCPA_ANOM_lost_segment, side);
			/* A gap the receiver already acknowledged was counted as ack_unseen. */
			if (!((q->flags & TCPA_HALF_ACKED) && tcpa_seq_ge(q->ack, p->seq))) {
				k->hole[side].lo = s->nxt;
				k->hole[side].hi = p->seq;
				k->hole[side].us = now_us;
				f->hflags[side] |= TCPA_AH_HOLE;
			}
		}
		int full = p->payload_len != 0 && (q->flags & TCPA_HALF_ACKED) && q->win != 0 &&
			end - (fl & TCPA_TCP_FIN ? 1 : 0) == q->ack + q->win;

		if (full)
			emit(ev, &n, TCPA_ANOM_window_full, side);
		/* A segment the receiver's window cut short is not Nagle's doing. */
		if (!(fl & TCPA_TCP_FIN) && !full)
			nagle_rules(f, p, side, end, now_us, ev, &n);
		else
			f->hflags[side] &= (uint8_t)~TCPA_AH_LATE;
	}
	if ((fl & TCPA_TCP_FIN) && !(s->flags & TCPA_HALF_FIN) && !(k->cflags & TCPA_AC_IDLE)) {
		/*
		 * 0 = no payload yet either way: a connection that never
		 * carried any is not "idle since time 0" at its FIN.
		 */
		uint32_t last = f->last_data_ms;

		if (last != 0 && p->payload_len == 0 && now_ms - last >= c->idle_close_ms) {
			emit(ev, &n, TCPA_ANOM_idle_close, side);
			k->cflags |= TCPA_AC_IDLE;
			*idle_ms = now_ms - last;
		}
	}
	if (p->payload_len != 0) {
		if (s->state == TCPA_TCP_ST_CLOSE_WAIT && !(k->cflags & TCPA_AC_STALE)) {
			emit(ev, &n, TCPA_ANOM_stale_reuse, side);
			k->cflags |= TCPA_AC_STALE;
		}
		/* 0 means "none yet": a payload at packet time 0 ms counts as 1. */
		f->last_data_ms = now_ms != 0 ? now_ms : 1;
	}
	return n;
}
