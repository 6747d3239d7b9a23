/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Lifecycle mode of tcpa-gen: --conns connections, at most --concurrent of
 * them in progress at once, each living out its fate segment by segment.
 *
 * Scheduling: every connection in progress sits in a slot; a min-heap (a
 * radix heap) of (packet time << 24 | slot) picks the next segment, so
 * segments of all connections interleave in time order. When a
 * connection's story is over its slot starts the next one. Per
 * connection: one 64-byte slot and an 8-byte heap key (about twice that
 * with the buckets' slack), so a million concurrent connections take
 * ~100 MiB.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpa_common.h"
#include "tcpa_pkt.h"

#include "gen.h"
#include "gen_rheap.h"

#define MAX_RTT_NS      (1 * GEN_NS_PER_MS) /* gap between segments of a connection */
#define SYN_RTX_NS      (1 * GEN_NS_PER_S)  /* unanswered SYN repeated after 1 s */
#define TIME_BITS       40                  /* heap key: time in ns, < 2^40 (~18 min) */

const char *const gen_fate_name[GEN_FATE_MAX] = {
#define X(n, h) #n,
	GEN_FATES(X)
#undef X
	"midstream",
};

static uint8_t
draw_fate(struct gen *g)
{
	uint64_t total = g->a.conns + g->a.midstream;
	uint64_t rest = total - g->started;
	uint64_t mid_rest = g->a.midstream - g->mid_started;
	uint32_t r;
	unsigned i;

	/* Exactly --midstream of them, spread at random among the others. */
	if (mid_rest != 0 && (uint64_t)gen_rnd_below(g, (uint32_t)rest) < mid_rest) {
		g->mid_started++;
		return GEN_FATE_midstream;
	}
	r = gen_rnd_below(g, g->wtotal);
	for (i = 0; i < GEN_FATE_MIX_MAX; i++) {
		if (r < g->a.weight[i])
			return (uint8_t)i;
		r -= g->a.weight[i];
	}
	return GEN_FATE_open; /* not reached */
}

static void
msg_begin(struct gen_conn *c, int server, uint32_t bytes)
{
	c->phase = GEN_PH_DATA;
	c->left = bytes;
	c->unacked = 0;
	if (server)
		c->flags |= GEN_CF_SRV_MSG;
	else
		c->flags &= ~GEN_CF_SRV_MSG;
}

static void
start_conn(struct gen *g, struct gen_conn *c)
{
	uint8_t fate = draw_fate(g);

	gen_conn_init(g, c, fate);
	if (g->imp != NULL)
		gen_imp_reset(g, c);
	c->exch = (uint16_t)g->a.data;
	if (fate == GEN_FATE_midstream) {
		if (c->exch == 0)
			c->exch = 1;
		msg_begin(c, 0, g->a.req);
	} else {
		c->phase = GEN_PH_SYN;
	}
}

/* After the handshake or the last exchange: the next phase. */
static void
next_exchange(struct gen *g, struct gen_conn *c)
{
	if (c->exch != 0) {
		msg_begin(c, 0, g->a.req);
		return;
	}
	switch (c->fate) {
	case GEN_FATE_fin_client:
	case GEN_FATE_fin_server:
	case GEN_FATE_leak:
		c->phase = GEN_PH_FIN1;
		break;
	case GEN_FATE_rst:
		c->phase = GEN_PH_RST;
		break;
	default:
		c->phase = GEN_PH_DONE;
		break;
	}
}

void
gen_lc_data_acked(struct gen *g, struct gen_conn *c)
{
	unsigned d = (c->flags & GEN_CF_SRV_MSG) != 0;

	c->unacked = 0;
	if (c->left != 0) {
		c->phase = GEN_PH_DATA;
	} else if (d == 0) {
		msg_begin(c, 1, g->a.resp);
	} else {
		c->exch--;
		next_exchange(g, c);
	}
}

/* After a segment: ns until the connection's next one, or 0: its story is over. */
static inline uint64_t
after_seg(struct gen *g, const struct gen_conn *c)
{
	if (c->phase == GEN_PH_DONE)
		return 0;
	return gen_gap(g);
}

/* The handshake: SYN, its repeat or refusal, SYN-ACK, the third ACK. */
static uint64_t
step_open(struct gen *g, struct gen_conn *c, uint64_t t)
{
	const uint8_t A = TCPA_TCP_ACK;

	switch (c->phase) {
	case GEN_PH_SYN:
		gen_emit(g, c, t, 0, TCPA_TCP_SYN, c->nxt[0], 0, 0, GEN_OPT_SYN_TS, GEN_SYN_WIN);
		c->nxt[0]++;
		if (c->fate == GEN_FATE_refused) {
			c->phase = GEN_PH_REFUSE;
		} else if (c->fate == GEN_FATE_unanswered) {
			c->phase = GEN_PH_SYN_RTX;
			return g->rtx_ns;
		} else {
			c->phase = GEN_PH_SYNACK;
		}
		break;
	case GEN_PH_SYN_RTX:
		gen_emit(g, c, t, 0, TCPA_TCP_SYN, c->nxt[0] - 1, 0, 0, GEN_OPT_SYN_TS,
			GEN_SYN_WIN);
		return 0;
	case GEN_PH_REFUSE:
		gen_emit(g, c, t, 1, TCPA_TCP_RST | A, 0, c->nxt[0], 0, GEN_OPT_NONE, 0);
		return 0;
	case GEN_PH_SYNACK:
		gen_emit(g, c, t, 1, TCPA_TCP_SYN | A, c->nxt[1], c->nxt[0], 0, GEN_OPT_SYN_TS,
			GEN_SYN_WIN);
		c->nxt[1]++;
		if (c->fate == GEN_FATE_half_open)
			return 0;
		c->phase = GEN_PH_ACK3;
		break;
	case GEN_PH_ACK3:
		gen_emit(g, c, t, 0, A, c->nxt[0], c->nxt[1], 0, GEN_OPT_TS, GEN_WIN);
		next_exchange(g, c);
		break;
	default:
		return 0;
	}
	return after_seg(g, c);
}

/* A message's data segments, ACKed every second segment and at its end. */
static uint64_t
step_data(struct gen *g, struct gen_conn *c, uint64_t t)
{
	const uint8_t A = TCPA_TCP_ACK;
	unsigned d = (c->flags & GEN_CF_SRV_MSG) != 0; /* the side sending data */
	uint32_t n;

	if (c->phase == GEN_PH_DATA_ACK) {
		gen_emit(g, c, t, !d, A, c->nxt[!d], c->nxt[d], 0, GEN_OPT_TS, GEN_WIN);
		gen_lc_data_acked(g, c);
		return after_seg(g, c);
	}
	n = c->left < GEN_SEG_PAYLOAD ? c->left : GEN_SEG_PAYLOAD;
	c->left -= n;
	gen_emit(g, c, t, d, c->left == 0 ? (TCPA_TCP_PSH | A) : A, c->nxt[d], c->nxt[!d], n,
		GEN_OPT_TS, GEN_WIN);
	c->nxt[d] += n;
	if (c->left == 0 || ++c->unacked == 2)
		c->phase = GEN_PH_DATA_ACK;
	return after_seg(g, c);
}

/* The close: FIN, ACK, FIN, ACK from the side that closes first, or a RST. */
static uint64_t
step_close(struct gen *g, struct gen_conn *c, uint64_t t)
{
	const uint8_t A = TCPA_TCP_ACK;
	unsigned a = c->fate == GEN_FATE_fin_server; /* the side that closes first */

	switch (c->phase) {
	case GEN_PH_FIN1:
		gen_emit(g, c, t, a, TCPA_TCP_FIN | A, c->nxt[a], c->nxt[!a], 0, GEN_OPT_TS,
			GEN_WIN);
		c->nxt[a]++;
		c->phase = GEN_PH_FIN1_ACK;
		break;
	case GEN_PH_FIN1_ACK:
		gen_emit(g, c, t, !a, A, c->nxt[!a], c->nxt[a], 0, GEN_OPT_TS, GEN_WIN);
		if (c->fate == GEN_FATE_leak)
			return 0;
		c->phase = GEN_PH_FIN2;
		break;
	case GEN_PH_FIN2:
		gen_emit(g, c, t, !a, TCPA_TCP_FIN | A, c->nxt[!a], c->nxt[a], 0, GEN_OPT_TS,
			GEN_WIN);
		c->nxt[!a]++;
		c->phase = GEN_PH_FIN2_ACK;
		break;
	case GEN_PH_FIN2_ACK:
		gen_emit(g, c, t, a, A, c->nxt[a], c->nxt[!a], 0, GEN_OPT_TS, GEN_WIN);
		return 0;
	case GEN_PH_RST:
		/* Abortive close: RST at the client's next sequence, in the window. */
		gen_emit(g, c, t, 0, TCPA_TCP_RST | A, c->nxt[0], c->nxt[1], 0, GEN_OPT_TS, 0);
		return 0;
	default:
		return 0;
	}
	return after_seg(g, c);
}

/*
 * Send the next segment of @p c at @p t.
 * @return ns until its next segment, or 0 when its story is over.
 */
static uint64_t
step(struct gen *g, struct gen_conn *c, uint64_t t)
{
	if (unlikely(g->imp != NULL) && gen_imp_takes(g, c))
		return gen_imp_step(g, c, t);
	switch (c->phase) {
	case GEN_PH_SYN:
	case GEN_PH_SYN_RTX:
	case GEN_PH_REFUSE:
	case GEN_PH_SYNACK:
	case GEN_PH_ACK3:
		return step_open(g, c, t);
	case GEN_PH_DATA:
	case GEN_PH_DATA_ACK:
		return step_data(g, c, t);
	case GEN_PH_DONE:
		return 0;
	default:
		return step_close(g, c, t);
	}
}

typedef unsigned __int128 u128;

/* Data segments of one message. */
static uint32_t
msg_segs(uint32_t bytes)
{
	return (bytes + GEN_SEG_PAYLOAD - 1) / GEN_SEG_PAYLOAD;
}

/* Segments of one message and its ACKs. */
static uint64_t
msg_pkts(uint32_t bytes)
{
	uint64_t segs = msg_segs(bytes);

	return segs + (segs + 1) / 2;
}

/* Segments of a connection with @p fate, unimpaired. */
static uint64_t
fate_pkts(const struct gen_args *a, unsigned fate)
{
	uint64_t data = (uint64_t)a->data * (msg_pkts(a->req) + msg_pkts(a->resp));

	switch (fate) {
	case GEN_FATE_fin_client:
	case GEN_FATE_fin_server:
		return 3 + data + 4;
	case GEN_FATE_leak:
		return 3 + data + 2;
	case GEN_FATE_open:
		return 3 + data;
	case GEN_FATE_rst:
		return 3 + data + 1;
	case GEN_FATE_midstream:
		return (a->data != 0 ? a->data : 1) * (msg_pkts(a->req) + msg_pkts(a->resp));
	default:
		return 2;
	}
}

/* Expected segments in all; *unans: expected connections with an unanswered SYN. */
static u128
expected_pkts(const struct gen *g, u128 *unans)
{
	const struct gen_args *a = &g->a;
	u128 wsum = 0, pkts_all;
	unsigned i;

	for (i = 0; i < GEN_FATE_MIX_MAX; i++)
		wsum += (u128)a->weight[i] * fate_pkts(a, i);
	pkts_all = (u128)a->midstream * fate_pkts(a, GEN_FATE_midstream);
	*unans = 0;
	if (g->wtotal != 0) {
		pkts_all += (u128)a->conns * wsum / g->wtotal;
		*unans = (u128)a->conns * a->weight[GEN_FATE_unanswered] / g->wtotal;
	}
	return pkts_all;
}

/*
 * The RTO waits of --loss in one connection's lifetime: at most one per
 * lost data segment, and at most half of @p left, the rest being for the
 * segments themselves.
 */
static uint64_t
rto_share(const struct gen_args *a, uint64_t left)
{
	uint64_t segs, share;

	if (a->imp_pct[GEN_IMP_LOSS] == 0)
		return 0;
	segs = (uint64_t)a->data * (msg_segs(a->req) + msg_segs(a->resp));
	share = (uint64_t)((u128)segs * a->imp_pct[GEN_IMP_LOSS] * GEN_RTO_NS / GEN_PCT_ALL);
	return share > left / 2 ? left / 2 : share;
}

/*
 * Pick the mean segment gap (<= 1 ms) and the SYN retransmission delay
 * (1 s unless that alone would stretch the capture) so that the expected
 * capture length stays within GEN_TARGET_NS. Integer arithmetic only, so
 * the output does not depend on the compiler's floating-point choices.
 * @return the expected lifetime of one connection in ns (initial stagger).
 */
static uint64_t
timing(struct gen *g, uint64_t total, uint64_t nslots)
{
	u128 unans, pkts_all = expected_pkts(g, &unans);
	uint64_t pkts_m, life, rtx, rtx_share, rto, gap;

	if (total == 0)
		total = 1;
	pkts_m = (uint64_t)(pkts_all * 1000 / total);      /* per connection, x1000 */

	/* Each slot runs ceil(total / nslots) lifetimes, plus the stagger. */
	life = GEN_TARGET_NS / ((total + nslots - 1) / nslots + 1);
	rtx = SYN_RTX_NS;
	if (unans * rtx / total > life / 2)
		rtx = (uint64_t)((u128)life * total / (2 * unans));
	rtx_share = (uint64_t)(unans * rtx / total);
	rto = rto_share(&g->a, life - rtx_share);
	gap = (uint64_t)((u128)(life - rtx_share - rto) * 1000 / (pkts_m + 500));
	if (gap > MAX_RTT_NS)
		gap = MAX_RTT_NS;
	g->gap_ns = gap != 0 ? gap : 1;
	g->rtx_ns = rtx != 0 ? rtx : 1;
	g->mal_every = (uint64_t)(pkts_all / (g->a.malformed + 1));
	if (g->mal_every == 0)
		g->mal_every = 1;
	g->mal_next = g->mal_every;
	return (uint64_t)((u128)pkts_m * g->gap_ns / 1000) + rtx_share + rto;
}

/* Stagger the first starts over one expected lifetime @p life. */
static int
stagger(struct gen *g, struct gen_rheap *heap, uint64_t nslots, uint64_t life)
{
	uint64_t s;
	int rc = 0;

	for (s = 0; s < nslots && rc == 0; s++) {
		start_conn(g, &g->slots[s]);
		rc = gen_rheap_push(heap, (s * life / nslots) << GEN_SLOT_BITS | s);
	}
	return rc;
}

/* Send every segment in time order; a slot whose story is over starts the next. */
static int
schedule(struct gen *g, struct gen_rheap *heap, uint64_t total)
{
	struct gen_conn *slots = g->slots;
	int rc = 0;

	while (rc == 0 && heap->size != 0) {
		uint64_t key, t, slot, d;
		struct gen_conn *c;

		rc = gen_rheap_pop(heap, &key);
		if (rc != 0)
			break;
		t = key >> GEN_SLOT_BITS;
		slot = key & (GEN_MAX_SLOTS - 1);
		c = &slots[slot];
		d = step(g, c, t);
		if (d == 0) {
			if (g->started == total)
				continue;
			start_conn(g, c);
			d = (g->gap_ns * (gen_rnd32(g) & 1023)) / 1024 + 1;
		}
		if (unlikely(t + d >= (1ULL << TIME_BITS))) {
			fprintf(stderr, "tcpa-gen: packet time overflow\n");
			return -ERANGE;
		}
		rc = gen_rheap_push(heap, (t + d) << GEN_SLOT_BITS | slot);
	}
	return rc;
}

static int
run_slots(struct gen *g, uint64_t total, uint64_t nslots, uint64_t life)
{
	struct gen_rheap heap;
	int rc;

	g->slots = aligned_alloc(TCPA_CACHE_LINE, nslots * sizeof(*g->slots));
	if (g->slots == NULL)
		return -ENOMEM;
	if (g->a.imp_on && gen_imp_init(g, nslots) != 0) {
		free(g->slots);
		g->slots = NULL;
		return -ENOMEM;
	}
	memset(&heap, 0, sizeof(heap));
	rc = stagger(g, &heap, nslots, life);
	if (rc == 0)
		rc = schedule(g, &heap, total);
	free(g->slots);
	g->slots = NULL;
	gen_imp_fini(g);
	gen_rheap_free(&heap);
	return rc;
}

int
gen_lc_run(struct gen *g)
{
	uint64_t total = g->a.conns + g->a.midstream;
	uint64_t nslots = total < g->a.concurrent ? total : g->a.concurrent;
	uint64_t life = timing(g, total, nslots != 0 ? nslots : 1);
	int rc;

	if (nslots != 0) {
		rc = run_slots(g, total, nslots, life);
		if (rc != 0)
			return rc;
	}
	/* Any malformed frames not yet placed go at the end. */
	gen_malformed_rest(g);
	return 0;
}
