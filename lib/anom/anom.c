/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-segment anomaly rules of ANOMALIES.md ("Throughput and loss",
 * the stale-pool and idle-timeout diagnoses, Nagle meeting delayed ACK).
 *
 * Each rule compares a segment with what the connection held before it (so
 * the engine calls tcpa_anom_segment() before the state machine moves) and
 * with the little the rules remember per connection: what every segment
 * needs in struct tcpa_anom_hot, the rest in struct tcpa_anom_cold. Rules
 * that need time to pass without a segment (close_wait_stuck,
 * syn_unanswered, one_sided) are the engine's timers.
 *
 * Attribution: a per-segment flag is attributed to the endpoint that sent
 * the flagged segment (Wireshark flags that frame); the diagnoses follow
 * ANOMALIES.md.
 */
#include <string.h>

#include "tcpa_anom.h"
#include "tcpa_conf.h"
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

/* Time within which a segment filling a gap is reordering, not a resend. */
static inline uint32_t
reorder_window_us(const struct tcpa_anom_conf *c, const struct tcpa_anom_hot *h)
{
	return h->rtt16 != 0 ? (uint32_t)h->rtt16 * 16 : c->reorder_us;
}

/* Consecutive duplicate ACKs of @side; hflags mirrors "any" for the fast path. */
static inline void
dupacks_set(struct tcpa_anom_hot *h, struct tcpa_anom_cold *k, unsigned side, unsigned v)
{
	k->dupacks = (uint8_t)((k->dupacks & ~(0xfu << (side * 4))) | (v << (side * 4)));
	if (v != 0)
		h->hflags[side] |= TCPA_AH_DUPS;
	else
		h->hflags[side] &= (uint8_t)~TCPA_AH_DUPS;
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
sack_holds(const struct tcpa_tcp_conn *t, const struct tcpa_anom_cold *k, unsigned side,
		uint32_t seq, uint32_t end)
{
	uint32_t base = t->half[!side].ack;

	return sack_owner(k) == (int)!side &&
		tcpa_seq_ge(seq, base + k->sack_lo) && tcpa_seq_le(end, base + k->sack_hi);
}

/* ACK-side rules for a segment from @side acknowledging its peer. */
static void
ack_rules(const struct tcpa_anom_conf *c, struct tcpa_anom_hot *h, struct tcpa_anom_cold *k,
		const struct tcpa_tcp_conn *t, const struct tcpa_pkt *p, unsigned side,
		uint32_t now_us, struct tcpa_anom_out *o)
{
	uint32_t now_ms = tcpa_ns_to_ms(p->ts);
	const struct tcpa_tcp_half *s = &t->half[side], *q = &t->half[!side];
	uint32_t win = (t->flags & TCPA_CONN_WSCALE) ? (uint32_t)p->win << s->wscale : p->win;
	int pure = p->payload_len == 0 && !(p->tcp_flags & (TCPA_TCP_FIN | TCPA_TCP_SYN));

	/*
	 * An ACK for data the observer never saw: beyond all the peer sent,
	 * or covering a gap the capture left in it (once per gap: after that
	 * ACK the observer will never see that data).
	 */
	if ((q->flags & TCPA_HALF_SEEN) && tcpa_seq_gt(p->ack, q->nxt) &&
			(!(s->flags & TCPA_HALF_ACKED) || tcpa_seq_gt(p->ack, s->ack))) {
		/* Counted when the ACK first moves past it, not on every repeat. */
		tcpa_anom_emit(o, TCPA_ANOM_ack_unseen, side);
	} else if ((h->hflags[!side] & TCPA_AH_HOLE) && tcpa_seq_gt(p->ack, k->hole[!side].lo)) {
		tcpa_anom_emit(o, TCPA_ANOM_ack_unseen, side);
		h->hflags[!side] &= (uint8_t)~TCPA_AH_HOLE;
	}
	/*
	 * Not with a zero window (as Wireshark): the receiver answering
	 * zero-window probes repeats its ACK while staying shut; those are no
	 * loss signal, and counting them made the resend when the window
	 * reopened a fast_retransmission.
	 */
	if (pure && (s->flags & TCPA_HALF_ACKED) && p->ack == s->ack && win == s->win &&
			win != 0 && (q->flags & TCPA_HALF_SEEN) && tcpa_seq_lt(p->ack, q->nxt)) {
		tcpa_anom_emit(o, TCPA_ANOM_dup_ack, side);
		if (tcpa_anom_dupacks(k, side) == 0 && !(h->hflags[side] & TCPA_AH_SACK))
			k->sig_ms = (uint16_t)now_ms;
		if (tcpa_anom_dupacks(k, side) < 15)
			dupacks_set(h, k, side, tcpa_anom_dupacks(k, side) + 1);
	} else if (!(s->flags & TCPA_HALF_ACKED) || p->ack != s->ack) {
		dupacks_set(h, k, side, 0);
	}
	/* SACK blocks above the ACK: the receiver is signalling holes. */
	if (p->nsack != 0 && !(p->tcp_flags & TCPA_TCP_SYN)) {
		if (!(h->hflags[side] & TCPA_AH_SACK) && tcpa_anom_dupacks(k, side) == 0)
			k->sig_ms = (uint16_t)now_ms;
		h->hflags[side] |= TCPA_AH_SACK;
	} else {
		h->hflags[side] &= (uint8_t)~TCPA_AH_SACK;
	}
	sack_keep(k, p, side);
	if (pure && (h->hflags[!side] & TCPA_AH_KA)) {
		tcpa_anom_emit(o, TCPA_ANOM_keepalive_ack, side);
		h->hflags[!side] &= (uint8_t)~TCPA_AH_KA;
	}
	/* The ACK of the peer's last small segment: late means Nagle holds the next. */
	tcpa_anom_nagle_ack(c, h, t, side, p->ack, pure, win, now_us);
}

/* Keep-alive and zero-window probes: tiny segments at or just below nxt. */
static int
probe_rules(struct tcpa_anom_hot *h, const struct tcpa_tcp_conn *t, const struct tcpa_pkt *p,
		unsigned side, struct tcpa_anom_out *o)
{
	const struct tcpa_tcp_half *s = &t->half[side], *q = &t->half[!side];
	int zw = (q->flags & TCPA_HALF_SEEN) && q->win == 0;

	if ((p->tcp_flags & (TCPA_TCP_FIN | TCPA_TCP_SYN)) || p->payload_len > 1 ||
			!(s->flags & TCPA_HALF_SEEN))
		return 0;
	if (p->seq + 1 == s->nxt) {
		/* Linux probes both ways with seq = nxt - 1: the window decides. */
		if (zw) {
			tcpa_anom_emit(o, TCPA_ANOM_zero_window_probe, side);
		} else if (p->payload_len == 1 && (q->flags & TCPA_HALF_ACKED) &&
				tcpa_seq_lt(q->ack, s->nxt)) {
			/*
			 * Keep-alives come on an idle connection (ANOMALIES.md):
			 * a byte at nxt - 1 the peer never acknowledged is that
			 * byte resent (a keystroke), a retransmission.
			 */
			return 0;
		} else {
			tcpa_anom_emit(o, TCPA_ANOM_keepalive, side);
			h->hflags[side] |= TCPA_AH_KA;
		}
		return 1;
	}
	if (zw && p->payload_len == 1 && p->seq == s->nxt) {
		tcpa_anom_emit(o, TCPA_ANOM_zero_window_probe, side);
		return 1;
	}
	return 0;
}

/* A segment at or below what this side already sent: which kind of resend. */
static void
resend_rules(const struct tcpa_anom_conf *c, struct tcpa_anom_hot *h, struct tcpa_anom_cold *k,
		const struct tcpa_tcp_conn *t, const struct tcpa_pkt *p, unsigned side,
		uint32_t end, uint32_t now_us, struct tcpa_anom_out *o)
{
	const struct tcpa_tcp_half *q = &t->half[!side];
	struct tcpa_anom_hole *hs = &k->hole[side];
	int in_hole = (h->hflags[side] & TCPA_AH_HOLE) && tcpa_seq_ge(p->seq, hs->lo) &&
		tcpa_seq_lt(p->seq, hs->hi);

	if ((q->flags & TCPA_HALF_ACKED) && (tcpa_seq_le(end, q->ack) ||
			/* SACK blocks decide what the receiver already holds. */
			sack_holds(t, k, side, p->seq, end))) {
		tcpa_anom_emit(o, TCPA_ANOM_spurious_retransmission, side);
	} else if (((tcpa_anom_dupacks(k, !side) >= 2 && q->ack == p->seq) ||
			((h->hflags[!side] & TCPA_AH_SACK) && tcpa_seq_ge(p->seq, q->ack))) &&
			/* sooner than the minimum RTO after the hole was signalled */
			(uint32_t)(uint16_t)(tcpa_ns_to_ms(p->ts) - k->sig_ms) * 1000u <
			c->min_rto_us) {
		/* The receiver is signalling exactly this hole. */
		tcpa_anom_emit(o, TCPA_ANOM_fast_retransmission, side);
		tcpa_anom_emit(o, TCPA_ANOM_retransmission, side);
	} else if (in_hole && now_us - hs->us <= reorder_window_us(c, h)) {
		tcpa_anom_emit(o, TCPA_ANOM_out_of_order, side);
	} else {
		tcpa_anom_emit(o, TCPA_ANOM_retransmission, side);
	}
	if (in_hole) {
		/* The observer now holds the start of the gap. */
		if (p->seq == hs->lo)
			hs->lo = end;
		if (tcpa_seq_ge(hs->lo, hs->hi))
			h->hflags[side] &= (uint8_t)~TCPA_AH_HOLE;
	}
}

/*
 * SYN and RST segments: only their window, the MSS a SYN announces and a
 * repeated SYN (or SYN-ACK, once ACKED by its first) with the same ISN,
 * which ANOMALIES.md counts as a retransmission too ("a segment with
 * payload (or SYN/FIN)"), as Wireshark does; the state machine adds
 * syn_retransmit / synack_retransmit, and the other SYN and RST rules.
 */
static void
syn_rst_rules(struct tcpa_anom_hot *h, struct tcpa_anom_cold *k, const struct tcpa_tcp_conn *t,
		const struct tcpa_pkt *p, unsigned side, uint32_t now_us, struct tcpa_anom_out *o)
{
	const struct tcpa_tcp_half *s = &t->half[side], *q = &t->half[!side];
	uint8_t fl = p->tcp_flags;

	if ((fl & TCPA_TCP_SYN) && (p->opts & TCPA_OPT_MSS))
		h->mss[side] = p->mss;
	if (!(fl & TCPA_TCP_RST) && p->win == 0)
		tcpa_anom_emit(o, TCPA_ANOM_zero_window, side);
	if (!(s->flags & TCPA_HALF_SEEN) && !(q->flags & TCPA_HALF_SEEN))
		k->born_us = now_us;
	if ((fl & (TCPA_TCP_SYN | TCPA_TCP_RST)) == TCPA_TCP_SYN &&
			tcpa_tcp_syn_repeat(s, p) &&
			s->state != TCPA_TCP_ST_CLOSED && s->state != TCPA_TCP_ST_TIME_WAIT &&
			(!(fl & TCPA_TCP_ACK) || (s->flags & TCPA_HALF_ACKED)))
		tcpa_anom_emit(o, TCPA_ANOM_retransmission, side);
}

/* Rules for a segment carrying sequence space (payload or FIN). */
static void
data_rules(const struct tcpa_anom_conf *c, struct tcpa_anom_hot *h, struct tcpa_anom_cold *k,
		const struct tcpa_tcp_conn *t, const struct tcpa_pkt *p, unsigned side,
		uint32_t end, uint32_t now_us, struct tcpa_anom_out *o)
{
	const struct tcpa_tcp_half *s = &t->half[side], *q = &t->half[!side];
	uint8_t fl = p->tcp_flags;
	int full;

	if (tcpa_seq_lt(p->seq, s->nxt)) {
		resend_rules(c, h, k, t, p, side, end, now_us, o);
	} else if (tcpa_seq_gt(p->seq, s->nxt)) {
		tcpa_anom_emit(o, TCPA_ANOM_lost_segment, side);
		/* A gap the receiver already acknowledged was counted as ack_unseen. */
		if (!((q->flags & TCPA_HALF_ACKED) && tcpa_seq_ge(q->ack, p->seq))) {
			k->hole[side].lo = s->nxt;
			k->hole[side].hi = p->seq;
			k->hole[side].us = now_us;
			h->hflags[side] |= TCPA_AH_HOLE;
		}
	}
	full = p->payload_len != 0 && (q->flags & TCPA_HALF_ACKED) && q->win != 0 &&
		end - (fl & TCPA_TCP_FIN ? 1 : 0) == q->ack + q->win;
	if (full)
		tcpa_anom_emit(o, TCPA_ANOM_window_full, side);
	/*
	 * Nagle: a sub-MSS segment at the next sequence. A segment the
	 * receiver's window cut short, or a FIN, is not Nagle's doing.
	 */
	if ((fl & TCPA_TCP_FIN) || full)
		h->hflags[side] &= (uint8_t)~TCPA_AH_LATE;
	else if (p->payload_len != 0 && p->payload_len < tcpa_anom_mss(h, side) &&
			p->seq == s->nxt)
		tcpa_anom_nagle_data(h, side, end, now_us, o);
}

/* The once-per-connection conditions a FIN or payload may show. */
static void
conn_rules(const struct tcpa_anom_conf *c, struct tcpa_anom_hot *h, struct tcpa_anom_cold *k,
		const struct tcpa_tcp_conn *t, const struct tcpa_pkt *p, unsigned side,
		struct tcpa_anom_out *o)
{
	const struct tcpa_tcp_half *s = &t->half[side];
	uint32_t now_ms = tcpa_ns_to_ms(p->ts), last = h->last_data_ms;

	/*
	 * idle_close: a FIN after idle_close_ms without payload either way.
	 * last_data_ms 0 = no payload yet: a connection that never carried
	 * any is not "idle since time 0" at its FIN.
	 */
	if ((p->tcp_flags & TCPA_TCP_FIN) && !(s->flags & TCPA_HALF_FIN) &&
			!(k->cflags & TCPA_AC_IDLE) && last != 0 && p->payload_len == 0 &&
			now_ms - last >= c->idle_close_ms) {
		tcpa_anom_emit(o, TCPA_ANOM_idle_close, side);
		k->cflags |= TCPA_AC_IDLE;
		o->idle_ms = now_ms - last;
	}
	if (p->payload_len != 0) {
		if (s->state == TCPA_TCP_ST_CLOSE_WAIT && !(k->cflags & TCPA_AC_STALE)) {
			tcpa_anom_emit(o, TCPA_ANOM_stale_reuse, side);
			k->cflags |= TCPA_AC_STALE;
		}
		h->last_data_ms = tcpa_anom_data_ms(now_ms);
	}
}

/* The ACK that completes the handshake gives the RTT. */
static inline void
rtt_sample(struct tcpa_anom_hot *h, const struct tcpa_anom_cold *k, const struct tcpa_tcp_conn *t,
		const struct tcpa_pkt *p, unsigned side, uint32_t now_us)
{
	if (h->rtt16 == 0 && t->half[!side].state == TCPA_TCP_ST_SYN_RECEIVED &&
			(p->tcp_flags & TCPA_TCP_ACK)) {
		uint32_t rtt = (now_us - k->born_us) / 16;

		h->rtt16 = (uint16_t)(rtt == 0 ? 1 : rtt > UINT16_MAX ? UINT16_MAX : rtt);
	}
}

void
tcpa_anom_segment(const struct tcpa_anom_conf *c, struct tcpa_anom_hot *h,
		struct tcpa_anom_cold *k, const struct tcpa_tcp_conn *t, const struct tcpa_pkt *p,
		unsigned side, struct tcpa_anom_out *o)
{
	const struct tcpa_tcp_half *s = &t->half[side], *q = &t->half[!side];
	uint8_t fl = p->tcp_flags;
	uint32_t now_us = (uint32_t)(p->ts / 1000);
	uint32_t seglen = p->payload_len + ((fl & TCPA_TCP_FIN) != 0);

	if (unlikely(fl & (TCPA_TCP_RST | TCPA_TCP_SYN))) {
		syn_rst_rules(h, k, t, p, side, now_us, o);
		return;
	}
	if (!(s->flags & TCPA_HALF_SEEN) && !(q->flags & TCPA_HALF_SEEN))
		k->born_us = now_us;
	rtt_sample(h, k, t, p, side, now_us);
	if (likely(fl & TCPA_TCP_ACK))
		ack_rules(c, h, k, t, p, side, now_us, o);
	/* ANOMALIES.md excludes only RST (Wireshark also skips SYN and FIN). */
	if (p->win == 0)
		tcpa_anom_emit(o, TCPA_ANOM_zero_window, side);
	if (probe_rules(h, t, p, side, o))
		return;
	/* A pure ACK starting past the next expected sequence: data escaped the capture. */
	if (seglen == 0 && (s->flags & TCPA_HALF_SEEN) && tcpa_seq_gt(p->seq, s->nxt))
		tcpa_anom_emit(o, TCPA_ANOM_lost_segment, side);
	if (seglen > 0 && (s->flags & TCPA_HALF_SEEN))
		data_rules(c, h, k, t, p, side, p->seq + seglen, now_us, o);
	conn_rules(c, h, k, t, p, side, o);
}

void
tcpa_anom_restart(struct tcpa_anom_hot *h, struct tcpa_anom_cold *k, unsigned side,
		uint32_t now_us)
{
	uint16_t mss = h->mss[side];

	memset(h, 0, sizeof(*h));
	memset(k, 0, sizeof(*k));
	h->mss[side] = mss;
	k->born_us = now_us;
}

int
tcpa_anom_is_conn_condition(unsigned a)
{
	return a == TCPA_ANOM_close_wait_stuck || a == TCPA_ANOM_idle_close ||
		a == TCPA_ANOM_stale_reuse || a == TCPA_ANOM_syn_unanswered;
}

int
tcpa_anom_conn_showed(const struct tcpa_anom_hot *h, const struct tcpa_anom_cold *k,
		const struct tcpa_tcp_conn *t, unsigned a)
{
	switch (a) {
	case TCPA_ANOM_close_wait_stuck:
		return ((h->hflags[0] | h->hflags[1]) & TCPA_AH_CW_STUCK) != 0;
	case TCPA_ANOM_idle_close:
		return (k->cflags & TCPA_AC_IDLE) != 0;
	case TCPA_ANOM_stale_reuse:
		return (k->cflags & TCPA_AC_STALE) != 0;
	case TCPA_ANOM_syn_unanswered:
		return (k->cflags & TCPA_AC_SYN_DONE) &&
			t->half[t->cli & 1].state == TCPA_TCP_ST_SYN_SENT;
	default:
		return 0;
	}
}

void
tcpa_anom_conf_from(const struct tcpa_conf *c, struct tcpa_anom_conf *a)
{
	a->close_wait_ms = (uint32_t)(c->close_wait_s * 1000);
	a->idle_close_ms = (uint32_t)(c->idle_close_s * 1000);
	a->syn_timeout_ms = (uint32_t)(c->syn_timeout_s * 1000);
	a->nagle_us = (uint32_t)(c->nagle_delay_ms * 1000);
	a->min_rto_us = (uint32_t)(c->min_rto_ms * 1000);
	a->reorder_us = (uint32_t)(c->reorder_ms * 1000);
	a->off = c->rules == 0;
}
