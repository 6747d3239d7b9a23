/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-core engine: ties the flow table, the state machine and the endpoint
 * aggregation together for one RX core.
 *
 * Burst processing looks up the whole burst at once (tcpa_flow_lookup_burst
 * overlaps the cache misses), then inserts and steps the state machine in
 * capture order (so two segments of a new connection in one burst find the
 * entry the first one created).
 */
#include <errno.h>
#include <string.h>

#include "tcpa_engine.h"
#include "tcpa_tcp.h"

/*
 * Timed rules. Every entry of one queue waits the same time (a threshold),
 * so a FIFO is already in deadline order: O(1) per entry, no wheel. An
 * entry names a flow index and a stamp the flow still carries if it is the
 * same connection in the same condition; anything else is stale and
 * dropped when it comes due.
 */
struct tev {
	uint32_t idx;           /* flow index; bit 31: key side (close_wait) */
	uint32_t stamp;
};

struct fifo {
	struct tev *v;
	uint32_t mask;
	uint32_t head;          /* next to check */
	uint32_t tail;          /* next free */
};

enum { Q_SYN, Q_ONE_SIDED, Q_CLOSE_WAIT, Q_MAX };

struct TCPA_CACHE_ALIGNED tcpa_engine {
	struct tcpa_stats st;
	struct tcpa_flow_table *ft;
	struct tcpa_ep_table *ep;
	uint64_t now_ns;
	uint64_t drops;         /* flows that left the table: stale-pointer guard */
	struct tcpa_anom_conf ac;
	struct fifo q[Q_MAX];
	const struct tcpa_pkt *cur;     /* segment being analyzed, NULL in timers */
	struct tcpa_flow *ent_base;     /* the table's arrays: ext of f = ext_base[f - ent_base] */
	struct tcpa_flow_ext *ext_base;
	/* Event queue: single producer (this core), single consumer (control). */
	struct tcpa_event *ev;
	uint32_t ev_mask;
	uint32_t ev_tail;               /* written by this core */
	TCPA_CACHE_ALIGNED uint32_t ev_head; /* written by the control core */
};

/* The cold line of flow @f: indexing, not a call. */
static inline struct tcpa_flow_ext *
ext_of(const struct tcpa_engine *e, const struct tcpa_flow *f)
{
	return &e->ext_base[f - e->ent_base];
}

static inline size_t
align64(size_t x)
{
	return (x + 63) & ~(size_t)63;
}

static uint32_t
fifo_slots(uint32_t flows)
{
	uint32_t n = 64;

	/* Room for two pending entries per flow before anything is skipped. */
	while (n < flows * 2ULL)
		n <<= 1;
	return n;
}

size_t
tcpa_engine_memsize(const struct tcpa_engine_conf *c)
{
	size_t ft = tcpa_flow_table_memsize(c->flows);
	size_t ep = tcpa_ep_table_memsize(c->endpoints);

	if (ft == 0 || ep == 0 || (c->events & (c->events - 1)) != 0)
		return 0;
	return align64(sizeof(struct tcpa_engine)) + align64(ft) + align64(ep) +
		Q_MAX * align64((size_t)fifo_slots(c->flows) * sizeof(struct tev)) +
		align64((size_t)c->events * sizeof(struct tcpa_event));
}

static inline void
fifo_push(struct tcpa_engine *e, unsigned qi, uint32_t idx, uint32_t stamp)
{
	struct fifo *q = &e->q[qi];

	if (unlikely(q->tail - q->head > q->mask)) {
		e->st.timer_full++;
		return;
	}
	q->v[q->tail & q->mask].idx = idx;
	q->v[q->tail & q->mask].stamp = stamp;
	q->tail++;
}

/* ---- endpoint bookkeeping ---- */

static inline void
ep_add(struct tcpa_ep_table *t, uint32_t i, unsigned st, int delta)
{
	struct tcpa_ep *e = tcpa_ep_at(t, i);

	__atomic_store_n(&e->states[st], e->states[st] + (uint32_t)delta, __ATOMIC_RELAXED);
}

/* Attach both sides of @f to their endpoint records, counting their states. */
static void
ep_bind(struct tcpa_engine *e, struct tcpa_flow *f)
{
	for (unsigned side = 0; side < 2; side++) {
		struct tcpa_ep_key k;
		uint32_t i;

		tcpa_ep_key_of(f, side, side == f->cli ? TCPA_EP_CLIENT : TCPA_EP_SERVER, &k);
		i = tcpa_ep_get(e->ep, &k);
		ext_of(e, f)->ep[side] = i;
		if (unlikely(i == 0)) {
			e->st.ep_full++;
			continue;
		}
		ep_add(e->ep, i, f->half[side].state, 1);
		tcpa_ep_at(e->ep, i)->conns++;
	}
}

static void
ep_unbind(struct tcpa_engine *e, struct tcpa_flow *f, const uint8_t state[2])
{
	struct tcpa_flow_ext *x = ext_of(e, f);

	for (unsigned side = 0; side < 2; side++) {
		if (x->ep[side] != 0)
			ep_add(e->ep, x->ep[side], state[side], -1);
		x->ep[side] = 0;
	}
}

/* Queue one occurrence for the event log; never waits: full means lost. */
static TCPA_COLD void
event(struct tcpa_engine *e, const struct tcpa_flow *f, unsigned side, unsigned a)
{
	uint32_t head = __atomic_load_n(&e->ev_head, __ATOMIC_ACQUIRE);
	struct tcpa_event *v;

	if (e->ev_tail - head > e->ev_mask) {
		e->st.events_lost++;
		return;
	}
	v = &e->ev[e->ev_tail & e->ev_mask];
	memset(v, 0, sizeof(*v));
	v->ts = e->cur != NULL ? e->cur->ts : e->now_ns;
	v->key = f->key;
	v->anom = (uint8_t)a;
	v->side = (uint8_t)side;
	v->cli = f->cli;
	if (e->cur != NULL) {
		v->has_seg = 1;
		v->seq = e->cur->seq;
		v->ack = e->cur->ack;
		v->len = e->cur->payload_len;
		v->flags = e->cur->tcp_flags;
		v->win = e->cur->win;
	}
	__atomic_store_n(&e->ev_tail, e->ev_tail + 1, __ATOMIC_RELEASE);
}

static inline void
anom(struct tcpa_engine *e, struct tcpa_flow *f, unsigned side, unsigned a)
{
	uint32_t ep = ext_of(e, f)->ep[side];

	e->st.anom[a]++;
	if (ep != 0)
		tcpa_ep_at(e->ep, ep)->anom[a]++;
	if (e->ev != NULL)
		event(e, f, side, a);
}

unsigned
tcpa_engine_events_read(struct tcpa_engine *e, struct tcpa_event *out, unsigned max)
{
	uint32_t tail = __atomic_load_n(&e->ev_tail, __ATOMIC_ACQUIRE);
	unsigned n = 0;

	if (e->ev == NULL)
		return 0;
	while (n < max && e->ev_head + n != tail) {
		out[n] = e->ev[(e->ev_head + n) & e->ev_mask];
		n++;
	}
	__atomic_store_n(&e->ev_head, e->ev_head + n, __ATOMIC_RELEASE);
	return n;
}

/* Flow leaving the table (expired or evicted): its states leave the counts. */
static void
on_drop(void *ctx, struct tcpa_flow *f, int evicted)
{
	struct tcpa_engine *e = ctx;
	uint8_t st[2] = { f->half[0].state, f->half[1].state };

	struct tcpa_flow_ext *x = ext_of(e, f);
	struct tcpa_anom_cold *k = tcpa_anom_cold(x);

	for (unsigned sd = 0; sd < 2; sd++)
		if ((f->hflags[sd] & TCPA_AH_CW_STUCK) && x->ep[sd] != 0)
			tcpa_ep_at(e->ep, x->ep[sd])->cw_stuck--;
	/*
	 * A SYN still unanswered when its flow expires (timeout_syn_s
	 * shorter than syn_timeout_s) would find no flow when its timer
	 * comes due, and was never counted: decide it now. Not on eviction
	 * (table full: nothing says it would not have been answered).
	 */
	if (!evicted && (f->flags & TCPA_FLOW_ROLE_SET) &&
			f->half[f->cli].state == TCPA_TCP_ST_SYN_SENT &&
			x->stamp[f->cli] != 0 && !(k->cflags & TCPA_AC_SYN_DONE)) {
		k->cflags |= TCPA_AC_SYN_DONE;
		anom(e, f, !f->cli, TCPA_ANOM_syn_unanswered);
	}
	ep_unbind(e, f, st);
	e->drops++;
	if (evicted)
		e->st.flow_evicted++;
	else if (f->tmo <= TCPA_FLOW_TMO_TIME_WAIT && f->tmo != TCPA_FLOW_TMO_EMBRYONIC)
		e->st.flows_closed++;
	else
		e->st.flow_expired++;
	e->st.flows_active--;
}

/* ---- segment path ---- */

/*
 * Start or stop the timed rules when states change: CLOSE_WAIT entered
 * (close_wait_stuck after close_wait_s), a SYN starting a connection
 * (syn_unanswered after syn_timeout_s). A side's stamp in the cold line
 * tells its timer entry from a later condition's on the same flow.
 */
static void
timers_on_change(struct tcpa_engine *e, struct tcpa_flow *f, const struct tcpa_tcp_result *r)
{
	struct tcpa_flow_ext *x = ext_of(e, f);
	/*
	 * The time of the segment that changed the state. e->now_ns moves
	 * only at the end of a burst: it was 0 in the engine's first burst
	 * (a stamp 2^31 ms or more behind the packet time blocked the whole
	 * FIFO as "not due" for weeks) and seconds behind in a burst of a
	 * sparse capture (the condition counted too early).
	 */
	uint32_t now_ms = tcpa_ns_to_ms(e->cur != NULL ? e->cur->ts : e->now_ns) | 1;
	uint32_t idx = tcpa_flow_index(e->ft, f);

	for (unsigned sd = 0; sd < 2; sd++) {
		struct tcpa_half *h = &f->half[sd];

		if (h->state == r->old_state[sd])
			continue;
		if (h->state == TCPA_TCP_ST_CLOSE_WAIT) {
			x->stamp[sd] = (uint16_t)now_ms;
			fifo_push(e, Q_CLOSE_WAIT, idx | (uint32_t)sd << 31, now_ms);
		} else if (r->old_state[sd] == TCPA_TCP_ST_CLOSE_WAIT &&
				(f->hflags[sd] & TCPA_AH_CW_STUCK)) {
			f->hflags[sd] &= (uint8_t)~TCPA_AH_CW_STUCK;
			if (x->ep[sd] != 0)
				tcpa_ep_at(e->ep, x->ep[sd])->cw_stuck--;
		}
	}
	if ((r->what & TCPA_TCP_R_NEW_CONN) && f->half[f->cli].state == TCPA_TCP_ST_SYN_SENT) {
		x->stamp[f->cli] = (uint16_t)now_ms;
		tcpa_anom_cold(x)->cflags &= (uint8_t)~TCPA_AC_SYN_DONE;
		fifo_push(e, Q_SYN, idx, now_ms);
	}
}

/*
 * A SYN restarted the flow entry: a new connection on the tuple. The rules'
 * memory of the previous one must not carry over: its once-per-connection
 * flags (idle_close, stale_reuse) hid the new connection's, its payload
 * times made a new connection without payload look idle since the old
 * one's, its RTT, gaps and Nagle state are another connection's. Keep what
 * this SYN taught (its MSS); the new connection is born now, and gets its
 * own one_sided check.
 */
static void
rules_restart(struct tcpa_engine *e, struct tcpa_flow *f, unsigned side)
{
	struct tcpa_flow_ext *x = ext_of(e, f);
	uint32_t now_us = (uint32_t)((e->cur != NULL ? e->cur->ts : e->now_ns) / 1000);

	/* timers_on_change() has just armed its syn_unanswered timer. */
	memset(tcpa_anom_cold(x), 0, sizeof(struct tcpa_anom_cold));
	/* The state machine zeroed the halves' counters: their carries too. */
	memset(x->pkts_hi, 0, sizeof(x->pkts_hi));
	memset(x->bytes_hi, 0, sizeof(x->bytes_hi));
	f->mss[!side] = 0;
	f->rtt16 = 0;
	f->last_data_ms = 0;
	f->hflags[0] = f->hflags[1] = 0;
	for (unsigned sd = 0; sd < 2; sd++)
		f->half[sd].small_end = f->half[sd].small_us = 0;
	f->born_us = now_us;
	fifo_push(e, Q_ONE_SIDED, tcpa_flow_index(e->ft, f), now_us);
}

/* What the state machine reported, turned into counters and attribution. */
static void
account(struct tcpa_engine *e, struct tcpa_flow *f, unsigned side,
		const struct tcpa_tcp_result *r)
{
	unsigned srv = !f->cli, cli = f->cli;

	if (unlikely(r->what & TCPA_TCP_R_ROLES)) {
		/*
		 * Roles corrected on the same connection (no NEW_CONN): the
		 * records of the wrong guess never had it, so take back the
		 * conns that ep_bind() gave them, or each correction counts
		 * the connection twice. A restart (NEW_CONN) is a new
		 * connection: both keep their count.
		 */
		if (!(r->what & TCPA_TCP_R_NEW_CONN)) {
			for (unsigned s = 0; s < 2; s++)
				if (ext_of(e, f)->ep[s] != 0)
					tcpa_ep_at(e->ep, ext_of(e, f)->ep[s])->conns--;
		}
		ep_unbind(e, f, r->old_state);
		ep_bind(e, f);
	} else {
		for (unsigned s = 0; s < 2; s++)
			tcpa_ep_move(e->ep, ext_of(e, f)->ep[s], r->old_state[s], f->half[s].state);
	}
	timers_on_change(e, f, r);
	if (likely((r->what & ~(TCPA_TCP_R_ROLES | TCPA_TCP_R_MIDSTREAM)) == 0))
		return;
	/*
	 * A SYN that restarted the flow entry (NEW_CONN with ROLES: after
	 * TIME_WAIT/close, or a new ISN after an unanswered SYN) is a new
	 * connection; flow_new() counted only the entry's first. Counting
	 * REUSE alone missed the new-ISN restart, which ep_bind() had
	 * counted in both records' conns.
	 */
	if ((r->what & (TCPA_TCP_R_NEW_CONN | TCPA_TCP_R_ROLES)) ==
			(TCPA_TCP_R_NEW_CONN | TCPA_TCP_R_ROLES)) {
		e->st.flows_new++;
		rules_restart(e, f, side);
	}
	if (r->what & TCPA_TCP_R_REUSE)
		anom(e, f, cli, TCPA_ANOM_tuple_reuse);
	if (r->what & TCPA_TCP_R_SYN_RETX)
		anom(e, f, srv, TCPA_ANOM_syn_retransmit);
	if (r->what & TCPA_TCP_R_SYNACK_RETX)
		anom(e, f, cli, TCPA_ANOM_synack_retransmit);
	if (r->what & TCPA_TCP_R_REFUSED)
		anom(e, f, srv, TCPA_ANOM_conn_refused);
	if (r->what & TCPA_TCP_R_RST_ABORT)
		anom(e, f, side, TCPA_ANOM_rst_abort);
	if (r->what & TCPA_TCP_R_RST_INVALID)
		anom(e, f, side, TCPA_ANOM_rst_invalid);
	if (r->what & TCPA_TCP_R_UNEXPECTED)
		e->st.tcp_unexpected++;
}

static struct tcpa_flow *
flow_new(struct tcpa_engine *e, const struct tcpa_pkt *p, unsigned side, uint32_t now_ms)
{
	struct tcpa_flow_key k;
	struct tcpa_flow *f;

	tcpa_flow_key_of_side(p, side, &k);
	f = tcpa_flow_insert(e->ft, &k, p->hash, TCPA_FLOW_TMO_EMBRYONIC, now_ms);
	fifo_push(e, Q_ONE_SIDED, tcpa_flow_index(e->ft, f), (uint32_t)(p->ts / 1000));

	e->st.flows_new++;
	e->st.flows_active++;
	tcpa_tcp_flow_start(f, p, side);
	if (f->flags & TCPA_FLOW_MIDSTREAM)
		e->st.midstream++;
	ep_bind(e, f);
	return f;
}

/* The profile an endpoint's SYN shows: its socket options on the wire. */
static void
profile_syn(struct tcpa_engine *e, const struct tcpa_flow *f, const struct tcpa_pkt *p,
		unsigned side)
{
	uint32_t i = ext_of(e, f)->ep[side];
	struct tcpa_ep *ep;

	if (i == 0)
		return;
	ep = tcpa_ep_at(e->ep, i);
	ep->pflags = TCPA_EP_P_SYN | (p->opts & TCPA_OPT_WSCALE ? TCPA_EP_P_WS : 0) |
		(p->opts & TCPA_OPT_SACKOK ? TCPA_EP_P_SACKOK : 0) |
		(p->opts & TCPA_OPT_TS ? TCPA_EP_P_TS : 0);
	if (p->opts & TCPA_OPT_MSS)
		ep->mss = p->mss;
	ep->wscale = p->opts & TCPA_OPT_WSCALE ? p->wscale : 0;
	if (p->win > ep->max_win)
		ep->max_win = p->win;
}

/* The endpoint's largest advertised window (the SO_RCVBUF evidence). */
static TCPA_COLD void
max_win_set(struct tcpa_engine *e, struct tcpa_flow *f, unsigned side, uint32_t win)
{
	uint32_t i = ext_of(e, f)->ep[side];

	if (i != 0 && win > tcpa_ep_at(e->ep, i)->max_win)
		tcpa_ep_at(e->ep, i)->max_win = win;
}

static TCPA_COLD void
rules_count(struct tcpa_engine *e, struct tcpa_flow *f, const struct tcpa_anom_ev *ev,
		unsigned n, uint32_t idle_ms)
{
	for (unsigned i = 0; i < n; i++) {
		unsigned a = ev[i].anom, sd = ev[i].side;

		anom(e, f, sd, a);
		if (a == TCPA_ANOM_idle_close && ext_of(e, f)->ep[sd] != 0) {
			struct tcpa_ep *ep = tcpa_ep_at(e->ep, ext_of(e, f)->ep[sd]);

			ep->idle_sum_ms += idle_ms;
			if (idle_ms > ep->idle_max_ms)
				ep->idle_max_ms = idle_ms;
		}
	}
}

/* Every per-segment rule (lib/anom), before the state machine moves. */
static void
rules_all(struct tcpa_engine *e, struct tcpa_flow *f, const struct tcpa_pkt *p, unsigned side)
{
	struct tcpa_anom_ev ev[TCPA_ANOM_SEG_MAX];
	uint32_t idle_ms = 0;
	unsigned n;

	n = tcpa_anom_segment(&e->ac, f, ext_of(e, f), p, side, ev, &idle_ms);
	if (n != 0)
		rules_count(e, f, ev, n, idle_ms);
	if (unlikely(p->tcp_flags & TCPA_TCP_SYN))
		profile_syn(e, f, p, side);
}

/*
 * A segment header prediction takes: the rules' fast path (it shares the
 * prediction's test), else all rules; then the prediction's update.
 */
static inline void
segment_predicted(struct tcpa_engine *e, struct tcpa_flow *f, const struct tcpa_pkt *p,
		unsigned side)
{
	if (likely(!e->ac.off)) {
		struct tcpa_anom_ev ev[TCPA_ANOM_SEG_MAX];
		unsigned n = 0;

		if (unlikely(!tcpa_anom_fast(&e->ac, f, p, side, ev, &n)))
			rules_all(e, f, p, side);
		else if (unlikely(n != 0))
			rules_count(e, f, ev, n, 0);
	}
	tcpa_tcp_predicted(f, p, side);
}

/*
 * After the state moved, for the sender: a window above its last one may be
 * the endpoint's largest yet (the SO_RCVBUF evidence; the state machine has
 * just scaled it), and the hot line's 32-bit counters carry into the cold
 * line before they wrap.
 */
static inline void
segment_done(struct tcpa_engine *e, struct tcpa_flow *f, unsigned side, uint32_t win_before)
{
	const struct tcpa_half *s = &f->half[side];

	if (unlikely(s->win > win_before) && likely(!e->ac.off))
		max_win_set(e, f, side, s->win);
	if (unlikely((s->pkts | s->bytes) >> 31))
		tcpa_flow_carry(f, ext_of(e, f), side);
}

static inline void
segment(struct tcpa_engine *e, const struct tcpa_pkt *p, struct tcpa_flow *f, unsigned side)
{
	struct tcpa_tcp_result r;
	uint32_t now_ms = tcpa_ns_to_ms(p->ts), win;
	struct tcpa_half *s, *q;
	uint8_t tmo;

	if (f == NULL) {
		/* Maybe an earlier segment of this burst created it. */
		f = tcpa_flow_lookup_pkt(e->ft, p, p->hash, &side);
		if (f == NULL) {
			/* A new flow's first sender is key side 0. */
			side = 0;
			f = flow_new(e, p, side, now_ms);
		}
	}
	s = &f->half[side];
	q = &f->half[!side];
	/* Both directions of a connection must reach the same RX core. */
	if (unlikely(((s->flags & TCPA_HALF_SEEN) && s->rxc != p->rxc) ||
			((q->flags & TCPA_HALF_SEEN) && q->rxc != p->rxc)))
		e->st.wrong_core++;
	s->rxc = p->rxc;
	tcpa_flow_touch(f, now_ms);
	e->cur = p;
	win = s->win;
	if (likely(tcpa_tcp_predictable(f, p, side))) {
		segment_predicted(e, f, p, side);
		segment_done(e, f, side, win);
		return;
	}
	if (likely(!e->ac.off))
		rules_all(e, f, p, side);
	tcpa_tcp_input(f, p, side, &r);
	segment_done(e, f, side, win);
	/* Most segments change no state: nothing to count, nothing to move. */
	if (likely(r.what == 0 && r.old_state[0] == f->half[0].state &&
			r.old_state[1] == f->half[1].state))
		return;
	account(e, f, side, &r);
	tmo = tcpa_tcp_tmo_class(f);
	if (tmo != f->tmo)
		tcpa_flow_set_tmo(e->ft, f, tmo);
}

static void
input_chunk(struct tcpa_engine *e, const struct tcpa_pkt *pk, uint16_t n)
{
	struct tcpa_flow *fl[TCPA_BURST];
	uint8_t side[TCPA_BURST];
	uint64_t drops = e->drops;

	tcpa_flow_lookup_burst(e->ft, pk, n, fl, side);
	for (uint16_t i = 0; i < n; i++) {
		/*
		 * An insert that evicted a flow may have freed one a later
		 * segment of this burst found: look those up again.
		 */
		if (unlikely(e->drops != drops)) {
			unsigned sd = 0;

			fl[i] = tcpa_flow_lookup_pkt(e->ft, &pk[i], pk[i].hash, &sd);
			side[i] = (uint8_t)sd;
		}
		segment(e, &pk[i], fl[i], side[i]);
	}
}

uint16_t
tcpa_engine_input_burst(struct tcpa_engine *e, const struct tcpa_pkt *pk, uint16_t n)
{
	uint64_t first = e->st.first_ts, last = e->st.last_ts;

	for (uint16_t i = 0; i < n; i += TCPA_BURST)
		input_chunk(e, pk + i, (uint16_t)(n - i < TCPA_BURST ? n - i : TCPA_BURST));
	e->cur = NULL;
	for (uint16_t i = 0; i < n; i++) {
		if (unlikely(first == 0 || pk[i].ts < first))
			first = pk[i].ts;
		if (pk[i].ts > last)
			last = pk[i].ts;
	}
	e->st.tcp_pkts += n;
	e->st.first_ts = first;
	e->st.last_ts = last;
	if (last > e->now_ns)
		e->now_ns = last;
	return n;
}

/* Is the flow at @idx still the one the entry was made for? */
static struct tcpa_flow *
tev_flow(struct tcpa_engine *e, uint32_t idx)
{
	struct tcpa_flow *f = tcpa_flow_at(e->ft, idx & 0x7fffffff);

	return f != NULL && f->live ? f : NULL;
}

static int
check_syn(struct tcpa_engine *e, const struct tev *t, int end)
{
	struct tcpa_flow *f = tev_flow(e, t->idx);
	struct tcpa_flow_ext *x;

	if (!end && (int32_t)(tcpa_ns_to_ms(e->now_ns) - (t->stamp + e->ac.syn_timeout_ms)) < 0)
		return 0;   /* not due */
	if (f == NULL)
		return 1;
	x = ext_of(e, f);
	if (f->half[f->cli].state == TCPA_TCP_ST_SYN_SENT && x->stamp[f->cli] == (uint16_t)t->stamp &&
			!(tcpa_anom_cold(x)->cflags & TCPA_AC_SYN_DONE)) {
		tcpa_anom_cold(x)->cflags |= TCPA_AC_SYN_DONE;
		anom(e, f, !f->cli, TCPA_ANOM_syn_unanswered);
	}
	return 1;
}

static int
check_one_sided(struct tcpa_engine *e, const struct tev *t)
{
	struct tcpa_flow *f = tev_flow(e, t->idx);
	uint32_t now_us = (uint32_t)(e->now_ns / 1000);
	unsigned seen;

	if ((int32_t)(now_us - (t->stamp + e->ac.syn_timeout_ms * 1000)) < 0)
		return 0;
	if (f == NULL || f->born_us != t->stamp)
		return 1;
	/* One direction only, and more than a SYN in it (that is syn_unanswered). */
	seen = (f->half[0].flags & TCPA_HALF_SEEN ? 1 : 0) | (f->half[1].flags & TCPA_HALF_SEEN ? 2 : 0);
	if ((seen == 1 && (f->half[0].flags & TCPA_HALF_ACKED)) ||
			(seen == 2 && (f->half[1].flags & TCPA_HALF_ACKED)))
		e->st.one_sided++;
	return 1;
}

static int
check_close_wait(struct tcpa_engine *e, const struct tev *t)
{
	struct tcpa_flow *f = tev_flow(e, t->idx);
	unsigned sd = t->idx >> 31;
	struct tcpa_flow_ext *x;

	if ((int32_t)(tcpa_ns_to_ms(e->now_ns) - (t->stamp + e->ac.close_wait_ms)) < 0)
		return 0;
	if (f == NULL || f->half[sd].state != TCPA_TCP_ST_CLOSE_WAIT)
		return 1;
	x = ext_of(e, f);
	if (x->stamp[sd] != (uint16_t)t->stamp)
		return 1;
	if (!(f->hflags[sd] & TCPA_AH_CW_STUCK)) {
		f->hflags[sd] |= TCPA_AH_CW_STUCK;
		anom(e, f, sd, TCPA_ANOM_close_wait_stuck);
		if (x->ep[sd] != 0)
			tcpa_ep_at(e->ep, x->ep[sd])->cw_stuck++;
	}
	return 1;
}

static void
timers_run(struct tcpa_engine *e, unsigned budget)
{
	for (unsigned qi = 0; qi < Q_MAX; qi++) {
		struct fifo *q = &e->q[qi];

		for (unsigned n = 0; n < budget && q->head != q->tail; n++) {
			const struct tev *t = &q->v[q->head & q->mask];
			int done = qi == Q_SYN ? check_syn(e, t, 0) :
				qi == Q_ONE_SIDED ? check_one_sided(e, t) : check_close_wait(e, t);

			if (!done)
				break;
			q->head++;
		}
	}
}

void
tcpa_engine_age(struct tcpa_engine *e, uint64_t now_ns)
{
	if (now_ns > e->now_ns)
		e->now_ns = now_ns;
	if (likely(!e->ac.off))
		timers_run(e, TCPA_AGE_STEP);
	tcpa_flow_age_step(e->ft, tcpa_ns_to_ms(e->now_ns), TCPA_AGE_STEP);
}

void
tcpa_engine_finish(struct tcpa_engine *e)
{
	struct fifo *q = &e->q[Q_SYN];

	/* Whatever is due by the last packet's time, then every SYN still waiting. */
	timers_run(e, UINT32_MAX);
	for (; q->head != q->tail; q->head++)
		check_syn(e, &q->v[q->head & q->mask], 1);
}

void
tcpa_engine_set_anom(struct tcpa_engine *e, const struct tcpa_anom_conf *c)
{
	e->ac = *c;
}

uint64_t
tcpa_engine_now(const struct tcpa_engine *e)
{
	return e->now_ns;
}

struct tcpa_engine *
tcpa_engine_init(void *mem, const struct tcpa_engine_conf *c)
{
	struct tcpa_engine *e = mem;
	uint8_t *p = mem;

	if (mem == NULL || ((uintptr_t)mem & 63) != 0 || tcpa_engine_memsize(c) == 0) {
		errno = EINVAL;
		return NULL;
	}
	memset(e, 0, sizeof(*e));
	p += align64(sizeof(*e));
	e->ft = tcpa_flow_table_init(p, c->flows, c->timeout_ms, &c->secret, on_drop, e);
	p += align64(tcpa_flow_table_memsize(c->flows));
	e->ep = tcpa_ep_table_init(p, c->endpoints, &c->secret);
	p += align64(tcpa_ep_table_memsize(c->endpoints));
	for (unsigned qi = 0; qi < Q_MAX; qi++) {
		e->q[qi].v = (struct tev *)p;
		e->q[qi].mask = fifo_slots(c->flows) - 1;
		p += align64((size_t)fifo_slots(c->flows) * sizeof(struct tev));
	}
	e->ac = c->anom;
	tcpa_flow_table_bases(e->ft, &e->ent_base, &e->ext_base);
	if (c->events != 0) {
		e->ev = (struct tcpa_event *)p;
		e->ev_mask = c->events - 1;
	}
	if (e->ft == NULL || e->ep == NULL) {
		errno = EINVAL;
		return NULL;
	}
	return e;
}

void
tcpa_engine_set_timeouts(struct tcpa_engine *e, const uint32_t timeout_ms[TCPA_FLOW_TMO_MAX])
{
	tcpa_flow_table_set_timeouts(e->ft, timeout_ms);
}

struct tcpa_stats *
tcpa_engine_stats(struct tcpa_engine *e)
{
	return &e->st;
}

struct tcpa_flow_table *
tcpa_engine_flows(struct tcpa_engine *e)
{
	return e->ft;
}

struct tcpa_ep_table *
tcpa_engine_endpoints(struct tcpa_engine *e)
{
	return e->ep;
}
