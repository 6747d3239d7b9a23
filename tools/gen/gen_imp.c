/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Impairments of tcpa-gen (--loss, --tap-loss, --dup, --reorder; lifecycle
 * mode): a data segment drawn for one becomes a short scripted episode (the
 * lost segment, the segments behind it, the receiver's SACK duplicate ACKs,
 * the fast or RTO retransmission, the ACK that closes the hole), queued in
 * its slot and sent one segment per turn. Draws come from the impairments'
 * own stream (gen_irnd32), so the traffic itself is drawn as without them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcpa_common.h"
#include "tcpa_pkt.h"

#include "gen.h"
#include "gen_imp.h"

/* The usual gap between two segments of a connection, from the impairments' stream. */
static inline uint64_t
igap(struct gen *g)
{
	return (g->gap_ns * (512 + (gen_irnd32(g) & 1023))) / 1024 + 1;
}

/* "Right after": a small fraction of the gap. */
static inline uint64_t
isoon(struct gen *g)
{
	return g->gap_ns / 8 + 1 + (gen_irnd32(g) & 63);
}

static struct gen_imp_seg *
push(struct gen_imp_conn *ic, uint64_t at, unsigned side, uint8_t flags, uint32_t seq,
		uint32_t ack, uint32_t len)
{
	struct gen_imp_seg *x = &ic->q[ic->qn++];

	memset(x, 0, sizeof(*x));
	x->at = at;
	x->side = (uint8_t)side;
	x->flags = flags;
	x->seq = seq;
	x->ack = ack;
	x->len = (uint16_t)len;
	x->cls = GEN_AN_NONE;
	return x;
}

/* Send the next scripted segment; @return ns until the connection's next one. */
static uint64_t
script_next(struct gen *g, struct gen_conn *c, struct gen_imp_conn *ic, uint64_t t)
{
	const struct gen_imp_seg *x = &ic->q[ic->qi++];

	gen_emit_seg(g, c, t, x->side, x->flags, x->seq, x->ack, x->len, GEN_OPT_TS, GEN_WIN, x);
	if (ic->qi < ic->qn)
		return ic->q[ic->qi].at > t ? ic->q[ic->qi].at - t : 1;
	ic->qi = 0;
	ic->qn = 0;
	if (c->phase == GEN_PH_DONE)
		return 0;
	return igap(g);
}

/*
 * --loss, the sender's part: the lost segment [c->nxt[d], + n) and up to 3
 * more of the message behind it, each answered by a SACK ACK for the hole.
 * Moves the message on past them all. @return how many are behind the hole.
 */
static unsigned
loss_flight(struct gen *g, struct gen_conn *c, struct gen_imp_conn *ic, uint64_t *at)
{
	const uint8_t A = TCPA_TCP_ACK;
	unsigned d = (c->flags & GEN_CF_SRV_MSG) != 0, r = !d;
	uint32_t s = c->nxt[d], left = c->left, n = left < GEN_SEG_PAYLOAD ? left : GEN_SEG_PAYLOAD;
	uint32_t pos = s, rseq = c->nxt[r];
	unsigned k, j;
	struct gen_imp_seg *x;

	for (k = 0; left != 0 && k < 4; k++) {
		uint32_t m = left < GEN_SEG_PAYLOAD ? left : GEN_SEG_PAYLOAD;

		left -= m;
		if (k != 0)
			*at += igap(g);
		push(ic, *at, d, left == 0 ? (TCPA_TCP_PSH | A) : A, pos, rseq, m);
		pos += m;
	}
	k--;    /* segments behind the lost one */
	for (j = 1; j <= k; j++) {
		*at += igap(g);
		x = push(ic, *at, r, A, rseq, s, 0);
		x->sack_lo = s + n;
		x->sack_hi = ic->q[j].seq + ic->q[j].len;
	}
	c->left = left;
	c->nxt[d] = pos;
	return k;
}

/*
 * --loss: segment [s, s + n) is lost after the tap. The sender goes on with
 * up to 3 more segments of the message, the receiver answers each with a
 * SACK ACK for the hole; the retransmission is fast after 3 of them, else
 * an RTO later. One ACK then covers everything.
 */
static uint64_t
loss(struct gen *g, struct gen_conn *c, struct gen_imp_conn *ic, uint64_t t)
{
	const uint8_t A = TCPA_TCP_ACK;
	unsigned d = (c->flags & GEN_CF_SRV_MSG) != 0, r = !d;
	uint32_t s = c->nxt[d], n = c->left < GEN_SEG_PAYLOAD ? c->left : GEN_SEG_PAYLOAD;
	uint32_t rseq = c->nxt[r];
	uint8_t fl0 = c->left == n ? (TCPA_TCP_PSH | A) : A;
	uint64_t at = t;
	unsigned k = loss_flight(g, c, ic, &at), j;
	struct gen_imp_seg *x;

	at += igap(g);
	if (k == 3) {
		g->applied[GEN_AP_loss_fast]++;
	} else {
		if (at < t + GEN_RTO_NS)
			at = t + GEN_RTO_NS;
		g->applied[GEN_AP_loss_rto]++;
	}
	x = push(ic, at, d, fl0, s, rseq, n);
	x->cls = k == 3 ? GEN_AN_fast_retransmission : GEN_AN_retransmission;
	/* Go-back-N: the segments behind the hole again, though SACKed. */
	for (j = 1; k < 3 && g->a.go_back_n && j <= k; j++) {
		const struct gen_imp_seg *o = &ic->q[j];

		at += igap(g);
		x = push(ic, at, d, o->flags, o->seq, rseq, o->len);
		x->cls = GEN_AN_spurious_retransmission;
		g->applied[GEN_AP_go_back_n]++;
	}
	at += igap(g);
	push(ic, at, r, A, rseq, c->nxt[d], 0);
	gen_lc_data_acked(g, c);
	return script_next(g, c, ic, t);
}

/*
 * --reorder: the flight's two segments reach the tap swapped, the first
 * (sent first: lower IP ID, same TSval) @p dt after the second; the
 * receiver SACKs the second and then ACKs both.
 */
static uint64_t
reorder(struct gen *g, struct gen_conn *c, struct gen_imp_conn *ic, uint64_t t, uint64_t dt)
{
	const uint8_t A = TCPA_TCP_ACK;
	unsigned d = (c->flags & GEN_CF_SRV_MSG) != 0, r = !d;
	uint32_t s = c->nxt[d], n1 = GEN_SEG_PAYLOAD, n2, rseq = c->nxt[r];
	uint32_t tsval = c->tsbase[d] + (uint32_t)(t / GEN_NS_PER_MS), tsecr = c->tslast[r];
	uint16_t id = c->ipid[d];
	uint64_t at = t;
	struct gen_imp_seg *x;

	c->left -= n1;
	n2 = c->left < GEN_SEG_PAYLOAD ? c->left : GEN_SEG_PAYLOAD;
	c->left -= n2;
	c->ipid[d] = (uint16_t)(id + 2);
	x = push(ic, at, d, c->left == 0 ? (TCPA_TCP_PSH | A) : A, s + n1, rseq, n2);
	x->mode = GEN_XM_FIXED;
	x->ipid = (uint16_t)(id + 1);
	x->tsval = tsval;
	x->tsecr = tsecr;
	at += dt;
	x = push(ic, at, d, A, s, rseq, n1);
	x->mode = GEN_XM_FIXED;
	x->ipid = id;
	x->tsval = tsval;
	x->tsecr = tsecr;
	x->cls = GEN_AN_out_of_order;
	at += igap(g);
	x = push(ic, at, r, A, rseq, s, 0);
	x->sack_lo = s + n1;
	x->sack_hi = s + n1 + n2;
	at += igap(g);
	push(ic, at, r, A, rseq, s + n1 + n2, 0);
	g->applied[GEN_AP_reorder]++;

	c->nxt[d] = s + n1 + n2;
	gen_lc_data_acked(g, c);
	return script_next(g, c, ic, t);
}

/* The gap a reordered pair may have: well within the RTT. 0: none fits. */
static uint64_t
reorder_dt(struct gen *g, const struct gen_imp_conn *ic, uint64_t t)
{
	uint32_t win_us = ic->rtt_known ? ic->rtt_us : GEN_OOO_UNKNOWN_US;
	uint64_t dt = g->gap_ns / 4 + 1;

	if (dt > GEN_NS_PER_MS)
		dt = GEN_NS_PER_MS;
	if (2 * ((t + dt) / 1000 - t / 1000) < win_us)
		return dt;
	if (2 * ((t + 1) / 1000 - t / 1000) < win_us)
		return 1;
	return 0;
}

/* The impairment the next data segment draws: GEN_IMP_NONE for most. */
static unsigned
draw_kind(struct gen *g)
{
	uint32_t v;
	unsigned i;

	if (g->imp_total == 0)
		return GEN_IMP_NONE;
	v = gen_irnd_below(g, GEN_PCT_ALL);
	for (i = 0; i < GEN_IMP_MAX; i++) {
		if (v < g->a.imp_pct[i])
			return i;
		v -= g->a.imp_pct[i];
	}
	return GEN_IMP_NONE;
}

/*
 * Does the next data segment, @p n bytes, qualify for @p kind? For a
 * reordering, *dt is the gap the swapped pair gets.
 */
static int
fits(struct gen *g, const struct gen_conn *c, const struct gen_imp_conn *ic, unsigned kind,
		uint32_t n, uint64_t t, uint64_t *dt)
{
	unsigned r = (c->flags & GEN_CF_SRV_MSG) == 0;
	int ok = n >= 2 && ic->o[0].seen && ic->o[1].seen;

	/* The receiver's duplicate ACKs must not be the segment revealing its gap. */
	if ((kind == GEN_IMP_LOSS || kind == GEN_IMP_REORDER) && ic->o[r].gap_pending)
		ok = 0;
	if (kind == GEN_IMP_REORDER) {
		ok = ok && c->unacked == 0 && n == GEN_SEG_PAYLOAD && c->left - n >= 2;
		if (ok)
			*dt = reorder_dt(g, ic, t);
		ok = ok && *dt != 0;
	}
	return ok;
}

/*
 * --dup: the data segment just sent, [s, s + n), written again (same IP ID
 * and TSval): right after itself, or after the ACK covering it.
 */
static uint64_t
duplicate(struct gen *g, struct gen_conn *c, struct gen_imp_conn *ic, uint64_t t, uint32_t s,
		uint32_t n)
{
	const uint8_t A = TCPA_TCP_ACK;
	unsigned d = (c->flags & GEN_CF_SRV_MSG) != 0, r = !d;
	uint8_t flags = c->left == 0 ? (TCPA_TCP_PSH | A) : A;
	uint64_t at = t;
	struct gen_imp_seg *y;

	if (c->phase == GEN_PH_DATA_ACK && (gen_irnd32(g) & 1) != 0) {
		at += igap(g);
		push(ic, at, r, A, c->nxt[r], c->nxt[d], 0);
		gen_lc_data_acked(g, c);
		g->applied[GEN_AP_dup_spurious]++;
	} else {
		g->applied[GEN_AP_dup]++;
	}
	at += isoon(g);
	y = push(ic, at, d, flags, s, c->nxt[r], n);
	y->mode = GEN_XM_FIXED;
	y->ipid = (uint16_t)(c->ipid[d] - 1);
	y->tsval = c->tslast[d];
	y->tsecr = c->tslast[r];
	y->cls = ic->qn == 2 ? GEN_AN_spurious_retransmission : GEN_AN_retransmission;
	return ic->q[0].at - t;
}

/* The next data segment: hidden from the capture (--tap-loss), duplicated (--dup) or as is. */
static uint64_t
send_seg(struct gen *g, struct gen_conn *c, struct gen_imp_conn *ic, uint64_t t, unsigned kind)
{
	const uint8_t A = TCPA_TCP_ACK;
	unsigned d = (c->flags & GEN_CF_SRV_MSG) != 0, r = !d;
	uint32_t n = c->left < GEN_SEG_PAYLOAD ? c->left : GEN_SEG_PAYLOAD;
	uint32_t rest = c->left - n, s = c->nxt[d];
	struct gen_imp_seg x;

	memset(&x, 0, sizeof(x));
	x.cls = GEN_AN_NONE;
	if (kind == GEN_IMP_TAP) {
		x.mode = GEN_XM_HIDDEN;
		g->applied[GEN_AP_tap_loss]++;
	}
	c->left = rest;
	gen_emit_seg(g, c, t, d, rest == 0 ? (TCPA_TCP_PSH | A) : A, s, c->nxt[r], n, GEN_OPT_TS,
		GEN_WIN, &x);
	c->nxt[d] += n;
	if (c->left == 0 || ++c->unacked == 2)
		c->phase = GEN_PH_DATA_ACK;
	if (kind == GEN_IMP_DUP)
		return duplicate(g, c, ic, t, s, n);
	/* The main stream's jitter, as without impairments: rates of 0 change nothing. */
	return gen_gap(g);
}

/* GEN_PH_DATA in impairment mode: the next data segment, impaired or not. */
static uint64_t
data_seg(struct gen *g, struct gen_conn *c, uint64_t t)
{
	struct gen_imp_conn *ic = gen_imp_of(g, c);
	uint32_t n = c->left < GEN_SEG_PAYLOAD ? c->left : GEN_SEG_PAYLOAD;
	unsigned kind = draw_kind(g);
	uint64_t dt = 0;

	if (kind != GEN_IMP_NONE && !fits(g, c, ic, kind, n, t, &dt)) {
		g->applied[GEN_AP_skipped]++;
		kind = GEN_IMP_NONE;
	}
	if (kind == GEN_IMP_LOSS)
		return loss(g, c, ic, t);
	if (kind == GEN_IMP_REORDER)
		return reorder(g, c, ic, t, dt);
	return send_seg(g, c, ic, t, kind);
}

/* The unanswered SYN's repeat: a retransmission. */
static uint64_t
syn_repeat(struct gen *g, struct gen_conn *c, uint64_t t)
{
	struct gen_imp_seg x;

	memset(&x, 0, sizeof(x));
	x.cls = GEN_AN_retransmission;
	g->applied[GEN_AP_syn_repeat]++;
	gen_emit_seg(g, c, t, 0, TCPA_TCP_SYN, c->nxt[0] - 1, 0, 0, GEN_OPT_SYN_TS,
		GEN_SYN_WIN, &x);
	return 0;
}

uint64_t
gen_imp_step(struct gen *g, struct gen_conn *c, uint64_t t)
{
	struct gen_imp_conn *ic = gen_imp_of(g, c);

	if (ic->qi < ic->qn)
		return script_next(g, c, ic, t);
	if (c->phase == GEN_PH_DATA)
		return data_seg(g, c, t);
	return syn_repeat(g, c, t);
}

int
gen_imp_takes(struct gen *g, const struct gen_conn *c)
{
	const struct gen_imp_conn *ic = gen_imp_of(g, c);

	return ic->qi < ic->qn || c->phase == GEN_PH_DATA || c->phase == GEN_PH_SYN_RTX;
}

int
gen_imp_init(struct gen *g, uint64_t nslots)
{
	g->imp = calloc(nslots, sizeof(*g->imp));
	return g->imp != NULL ? 0 : -ENOMEM;
}

void
gen_imp_fini(struct gen *g)
{
	free(g->imp);
	g->imp = NULL;
}

void
gen_imp_reset(struct gen *g, const struct gen_conn *c)
{
	memset(gen_imp_of(g, c), 0, sizeof(g->imp[0]));
}
