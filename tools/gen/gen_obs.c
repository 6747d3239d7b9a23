/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The observer of impairment mode: fed every frame written, it keeps what
 * the capture holds of each side of each connection and counts the
 * ANOMALIES.md flags the capture holds ("anomalies" in the truth):
 * dup_ack, lost_segment and ack_unseen by their definitions, the resend
 * kinds by construction, each checked against what it saw (a mismatch is
 * a check failure); and what Wireshark 4.0 flags where its rules differ.
 */
#include <stdint.h>

#include "tcpa_common.h"
#include "tcpa_pkt.h"

#include "gen.h"
#include "gen_imp.h"

/* One segment in the capture, as the observer takes it. */
struct view {
	uint64_t t;
	uint32_t seq;
	uint32_t ack;
	uint32_t plen;          /* payload bytes */
	uint32_t seglen;        /* sequence space: payload, SYN, FIN */
	uint32_t end;           /* seq + seglen */
	unsigned cls;           /* enum gen_anom: the resend kind the script says */
	uint16_t win;
	uint8_t flags;
	uint8_t pure;           /* a pure ACK: no payload, SYN, FIN or RST */
	uint8_t rst;
	const struct gen_imp_seg *x;
};

static inline int sq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline int sq_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline int sq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline int sq_ge(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }

static void
hole_del(struct gen_imp_obs *o, unsigned i)
{
	o->nholes--;
	o->hole_lo[i] = o->hole_lo[o->nholes];
	o->hole_hi[i] = o->hole_hi[o->nholes];
}

/* Bytes [lo, hi) of this side were never seen. */
static void
hole_add(struct gen *g, struct gen_imp_obs *o, uint32_t lo, uint32_t hi)
{
	unsigned i = 0;

	/* Holes the peer's ACKs have passed matter no more. */
	while (i < o->nholes) {
		if (sq_le(o->hole_hi[i], o->judged))
			hole_del(o, i);
		else
			i++;
	}
	if (o->nholes == GEN_IMP_HOLES) {
		g->imp_bad++;
		hole_del(o, 0);
	}
	o->hole_lo[o->nholes] = lo;
	o->hole_hi[o->nholes] = hi;
	o->nholes++;
}

/* Bytes [lo, hi) of this side are seen now. */
static void
mark_seen(struct gen *g, struct gen_imp_obs *o, uint32_t lo, uint32_t hi)
{
	unsigned i = 0;

	while (i < o->nholes) {
		uint32_t hl = o->hole_lo[i], hh = o->hole_hi[i];

		if (sq_le(hi, hl) || sq_ge(lo, hh)) {
			i++;
		} else if (sq_le(lo, hl) && sq_ge(hi, hh)) {
			hole_del(o, i);
		} else if (sq_le(lo, hl)) {
			o->hole_lo[i++] = hi;
		} else if (sq_ge(hi, hh)) {
			o->hole_hi[i++] = lo;
		} else {
			o->hole_hi[i++] = lo;
			hole_add(g, o, hi, hh);
		}
	}
}

/* Does [lo, hi) hold a byte of this side never seen? */
static int
any_unseen(const struct gen_imp_obs *o, uint32_t lo, uint32_t hi)
{
	unsigned i;

	if (sq_gt(hi, o->nxt))
		return 1;
	for (i = 0; i < o->nholes; i++)
		if (sq_lt(lo, o->hole_hi[i]) && sq_gt(hi, o->hole_lo[i]))
			return 1;
	return 0;
}

/* Is [lo, hi) inside one hole? */
static int
in_hole(const struct gen_imp_obs *o, uint32_t lo, uint32_t hi)
{
	unsigned i;

	for (i = 0; i < o->nholes; i++)
		if (sq_ge(lo, o->hole_lo[i]) && sq_le(hi, o->hole_hi[i]))
			return 1;
	return 0;
}

/*
 * Wireshark 4.0's name for a resend: spurious (payload within the peer's
 * last ACK), else fast (the peer's duplicate ACK counter >= 2 as an
 * unsigned number, so the -1 that ws_ack_unseen() sets counts; the peer's
 * ACK at this sequence; within 20 ms of the peer's last segment), else
 * out-of-order (within the first RTT or 3 ms of the highest segment, not
 * ending at it), else retransmission.
 */
static void
ws_resend(struct gen *g, const struct gen_imp_obs *o, const struct gen_imp_obs *p,
		const struct view *v, uint32_t win_us)
{
	uint32_t seq = v->seq, plen = v->plen;
	uint64_t us = v->t / 1000;
	int near = v->t - p->last_ns < 20 * GEN_NS_PER_MS;

	if (plen > 0 && p->seen && p->ack != 0 && sq_le(seq + plen, p->ack))
		g->ws_anom[GEN_AN_spurious_retransmission]++;
	else if ((p->ws_dup >= 2 || p->ws_dup == -1) && p->ack == seq && near)
		g->ws_anom[GEN_AN_fast_retransmission]++, g->ws_anom[GEN_AN_retransmission]++;
	else if (us - o->nxt_us < win_us && o->nxt != seq + plen)
		g->ws_anom[GEN_AN_out_of_order]++;
	else
		g->ws_anom[GEN_AN_retransmission]++;
}

/*
 * A resend the script calls @p cls: check that the capture shows it as
 * ANOMALIES.md would classify it, count it, and count what Wireshark 4.0
 * calls it.
 */
static void
resend(struct gen *g, const struct gen_imp_conn *ic, const struct gen_imp_obs *o,
		const struct gen_imp_obs *p, const struct view *v)
{
	uint32_t seq = v->seq, end = v->end;
	unsigned cls = v->cls;
	uint64_t t = v->t, us = t / 1000;
	uint32_t win_us = ic->rtt_known ? ic->rtt_us : GEN_OOO_UNKNOWN_US;
	/* ANOMALIES.md: acknowledged, or inside what the receiver SACKed. */
	int spurious = p->seen && p->had_ack && (sq_le(end, p->ack) ||
		(p->sacked && sq_ge(seq, p->sack_lo) && sq_le(end, p->sack_hi)));
	int near = t - p->last_ns < 20 * GEN_NS_PER_MS;
	int dupack_hole = p->dups >= 2 && p->ack == seq && near;
	int reorder = us - o->nxt_us < win_us && o->nxt != end;
	int ok;

	ws_resend(g, o, p, v, win_us);
	switch (cls) {
	case GEN_AN_spurious_retransmission:
		ok = spurious;
		break;
	case GEN_AN_fast_retransmission:
		ok = !spurious && dupack_hole && !in_hole(o, seq, end);
		g->anom[GEN_AN_retransmission]++;
		break;
	case GEN_AN_out_of_order:
		ok = !spurious && !dupack_hole && reorder && in_hole(o, seq, end) &&
			2 * (us - o->nxt_us) < win_us;
		break;
	default:
		ok = !spurious && !dupack_hole && !reorder && !in_hole(o, seq, end);
		break;
	}
	g->anom[cls]++;
	if (!ok)
		g->imp_bad++;
}

/* Wireshark 4.0: duplicate ACKs (no data outstanding needed) and its counter. */
static void
ws_dupack(struct gen *g, struct gen_imp_obs *o, const struct view *v)
{
	uint32_t seq = v->seq, ack = v->ack;
	uint16_t win = v->win;

	if (o->seen) {
		if (v->pure && win != 0 && win == o->win && seq == o->nxt && ack == o->ack) {
			if (o->ws_dup == -1)
				o->ws_dup = 1;
			else if (o->ws_dup < 100)
				o->ws_dup++;
			g->ws_anom[GEN_AN_dup_ack]++;
		}
		if (ack != o->ack)
			o->ws_dup = 0;
	}
}

/* The handshake RTT (Wireshark's first RTT: last SYN to the next ACK). */
static void
handshake_rtt(struct gen_imp_conn *ic, const struct view *v)
{
	uint64_t t = v->t;
	uint8_t flags = v->flags;

	if ((flags & (TCPA_TCP_SYN | TCPA_TCP_ACK)) == TCPA_TCP_SYN) {
		ic->syn_us = t / 1000;
		ic->syn_seen = 1;
	} else if ((flags & (TCPA_TCP_SYN | TCPA_TCP_ACK)) == TCPA_TCP_ACK && ic->syn_seen &&
			!ic->rtt_known) {
		ic->rtt_us = (uint32_t)(t / 1000 - ic->syn_us);
		ic->rtt_known = 1;
	}
}

/* Sequence side: resends, gaps, the highest segment seen. */
static void
seq_side(struct gen *g, const struct gen_imp_conn *ic, struct gen_imp_obs *o,
		const struct gen_imp_obs *p, const struct view *v)
{
	uint32_t seq = v->seq, end = v->end;
	uint64_t t = v->t;
	int rst = v->rst;

	if (!o->seen) {
		if (v->cls != GEN_AN_NONE)
			g->imp_bad++;
		o->seen = 1;
		o->nxt = end;
		o->nxt_us = t / 1000;
		o->judged = seq;
	} else {
		if (v->seglen > 0 && sq_lt(seq, o->nxt))
			resend(g, ic, o, p, v);
		else if (v->cls != GEN_AN_NONE)
			g->imp_bad++;
		if (!rst && sq_gt(seq, o->nxt)) {
			g->anom[GEN_AN_lost_segment]++;
			g->ws_anom[GEN_AN_lost_segment]++;
			hole_add(g, o, o->nxt, seq);
		}
		if (v->seglen > 0)
			mark_seen(g, o, seq, end);
		if (!rst && sq_gt(end, o->nxt)) {
			o->nxt = end;
			o->nxt_us = t / 1000;
		}
	}
	if (!rst)
		o->gap_pending = 0;
	/* Wireshark 4.0: the highest in-order end, moved only by a segment starting there. */
	if (!o->ws_m_set || seq == o->ws_m) {
		o->ws_m = o->nxt;
		o->ws_m_set = 1;
	}
}

/*
 * Wireshark 4.0.17's ack_unseen (fitted on these captures, frame by frame):
 * an ACK beyond the sender's highest in-order end M is flagged and M moves
 * to the sender's highest end when the sender already sent past the gap;
 * when it has not (the ACK reveals the gap), the ACK is flagged only if the
 * sender's duplicate ACK counter is 0, which is then set to -1 until the
 * sender's ACK number changes. So one missed segment can give two flags
 * (ACK, then the next ACK after the sender went on), and a second gap
 * revealed by an ACK while the sender's ACK number stayed the same gives
 * none. ANOMALIES.md counts one per unseen range.
 */
static void
ws_ack_unseen(struct gen *g, struct gen_imp_obs *p, const struct view *v)
{
	uint32_t ack = v->ack;

	if ((v->flags & TCPA_TCP_ACK) && p->ws_m_set && sq_gt(ack, p->ws_m)) {
		if (p->ws_m != p->nxt) {
			g->ws_anom[GEN_AN_ack_unseen]++;
			p->ws_m = p->nxt;
		} else {
			if (p->ws_dup == 0)
				g->ws_anom[GEN_AN_ack_unseen]++;
			p->ws_dup = -1;
		}
	}
}

/* ACK side: ack_unseen, duplicate ACKs, the SACK block; the segment is the last seen. */
static void
ack_side(struct gen *g, struct gen_imp_obs *o, struct gen_imp_obs *p, const struct view *v)
{
	uint32_t ack = v->ack;
	uint16_t win = v->win;
	uint8_t flags = v->flags;
	const struct gen_imp_seg *x = v->x;

	ws_ack_unseen(g, p, v);
	if ((flags & TCPA_TCP_ACK) && p->seen && sq_gt(ack, p->judged)) {
		if (any_unseen(p, p->judged, ack))
			g->anom[GEN_AN_ack_unseen]++;
		p->judged = ack;
	}
	if (v->pure && (flags & TCPA_TCP_ACK) && o->had_ack && ack == o->ack && win == o->win &&
			p->seen && sq_lt(ack, p->nxt)) {
		g->anom[GEN_AN_dup_ack]++;
		if (o->dups < UINT8_MAX)
			o->dups++;
	} else if (!o->had_ack || ack != o->ack) {
		o->dups = 0;
	}
	/* What its ACK says it holds above the ACK (ANOMALIES.md: SACK decides). */
	o->sacked = (flags & TCPA_TCP_ACK) && !(flags & TCPA_TCP_SYN) && x != NULL &&
		x->sack_lo != x->sack_hi && sq_gt(x->sack_lo, ack);
	if (o->sacked) {
		o->sack_lo = x->sack_lo;
		o->sack_hi = x->sack_hi;
	}
	o->ack = ack;
	o->win = win;
	o->had_ack = (flags & TCPA_TCP_ACK) != 0;
	o->last_ns = v->t;
}

void
gen_obs_segment(struct gen *g, struct gen_conn *c, uint64_t t, unsigned side, uint8_t flags,
		uint32_t seq, uint32_t ack, uint32_t plen, uint16_t win,
		const struct gen_imp_seg *x)
{
	struct gen_imp_conn *ic = gen_imp_of(g, c);
	struct gen_imp_obs *o = &ic->o[side], *p = &ic->o[!side];
	struct view v;

	v.t = t;
	v.seq = seq;
	v.ack = ack;
	v.plen = plen;
	v.seglen = plen + ((flags & TCPA_TCP_SYN) != 0) + ((flags & TCPA_TCP_FIN) != 0);
	v.end = seq + v.seglen;
	v.cls = x != NULL ? x->cls : GEN_AN_NONE;
	v.win = win;
	v.flags = flags;
	v.pure = plen == 0 && !(flags & (TCPA_TCP_SYN | TCPA_TCP_FIN | TCPA_TCP_RST));
	v.rst = (flags & TCPA_TCP_RST) != 0;
	v.x = x;
	ws_dupack(g, o, &v);
	handshake_rtt(ic, &v);
	seq_side(g, ic, o, p, &v);
	ack_side(g, o, p, &v);
}

void
gen_obs_hidden(struct gen *g, const struct gen_conn *c, unsigned side)
{
	gen_imp_of(g, c)->o[side].gap_pending = 1;
}
