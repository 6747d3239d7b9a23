/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-core engine: ties the flow table, the state machine, the anomaly
 * rules and the endpoint aggregation together for one RX core, and
 * composes a connection (struct tcpa_conn, tcpa_engine.h) from their parts.
 *
 * Burst processing looks up the whole burst at once (tcpa_flow_lookup_burst
 * overlaps the cache misses), then inserts and steps the state machine in
 * capture order (so two segments of a new connection in one burst find the
 * entry the first one created).
 */
#include <errno.h>
#include <string.h>

#include "engine_private.h"
#include "tcpa_conf.h"

static void on_drop(void *ctx, struct tcpa_flow *f, int evicted);

/* The flow table's parameters: entries are connections. */
static void
flow_params(const struct tcpa_engine_conf *c, struct tcpa_flow_params *prm, void *ctx)
{
	memset(prm, 0, sizeof(*prm));
	prm->capacity = c->flows;
	prm->entry_size = sizeof(struct tcpa_conn);
	prm->cold_size = sizeof(struct tcpa_conn_cold);
	prm->align = _Alignof(struct tcpa_conn);
	prm->timeout_ms = c->timeout_ms;
	prm->secret = &c->secret;
	prm->drop = on_drop;
	prm->ctx = ctx;
	prm->zeroed = c->zeroed;
}

size_t
tcpa_engine_memsize(const struct tcpa_engine_conf *c)
{
	struct tcpa_flow_params prm;
	size_t ft, ep;

	flow_params(c, &prm, NULL);
	ft = tcpa_flow_table_memsize(&prm);
	ep = tcpa_ep_table_memsize(c->endpoints);
	if (ft == 0 || ep == 0 || (c->events & (c->events - 1)) != 0)
		return 0;
	return align64(sizeof(struct tcpa_engine)) + align64(ft) + align64(ep) +
		Q_MAX * align64((size_t)fifo_slots(c->flows) * sizeof(struct tev)) +
		align64((size_t)c->events * sizeof(struct tcpa_event));
}

/* ---- endpoint bookkeeping ---- */

/* The endpoint record of side @side of @c, NULL if none (refused, or it gave way). */
static inline struct tcpa_ep *
ep_of(struct tcpa_engine *e, const struct tcpa_conn *c, unsigned side)
{
	return tcpa_ep_at(e->ep, cold_of(e, c)->ep[side]);
}

/* Attach both sides of @c to their endpoint records, counting their states. */
static void
ep_bind(struct tcpa_engine *e, struct tcpa_conn *c)
{
	for (unsigned side = 0; side < 2; side++) {
		struct tcpa_ep_key k;
		uint32_t i;

		struct tcpa_ep *r;
		int evicted = 0;

		tcpa_ep_key_of(&c->flow, side,
			side == c->tcp.cli ? TCPA_EP_CLIENT : TCPA_EP_SERVER, &k);
		i = tcpa_ep_get(e->ep, &k, &evicted);
		cold_of(e, c)->ep[side] = i;
		e->st.ep_evicted += (unsigned)evicted;
		r = tcpa_ep_at(e->ep, i);
		if (unlikely(r == NULL)) {
			e->st.ep_full++;
			continue;
		}
		tcpa_ep_count_add(&r->states[c->tcp.half[side].state], 1);
		/*
		 * As in tcpa_ep_move(): the peak is never below the count. A side
		 * bound in TIME_WAIT (its roles changed there) raises it too.
		 */
		if (c->tcp.half[side].state == TCPA_TCP_ST_TIME_WAIT &&
				r->states[TCPA_TCP_ST_TIME_WAIT] > r->tw_peak)
			__atomic_store_n(&r->tw_peak, r->states[TCPA_TCP_ST_TIME_WAIT], __ATOMIC_RELAXED);
		r->conns++;
	}
}

static void
ep_unbind(struct tcpa_engine *e, struct tcpa_conn *c, const uint8_t state[2])
{
	struct tcpa_conn_cold *x = cold_of(e, c);

	for (unsigned side = 0; side < 2; side++) {
		struct tcpa_ep *r = tcpa_ep_at(e->ep, x->ep[side]);

		if (r != NULL)
			tcpa_ep_count_add(&r->states[state[side]], -1);
		x->ep[side] = 0;
	}
}

/* A connection leaving the table (expired or evicted): its states leave the counts. */
static void
on_drop(void *ctx, struct tcpa_flow *f, int evicted)
{
	struct tcpa_engine *e = ctx;
	struct tcpa_conn *c = tcpa_conn_of(f);
	uint8_t st[2] = { c->tcp.half[0].state, c->tcp.half[1].state };

	timers_flow_drop(e, c, evicted);
	ep_unbind(e, c, st);
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
 * A SYN restarted the flow entry: a new connection on the tuple. The rules'
 * memory of the previous one must not carry over (tcpa_anom_restart), nor
 * the counters' carries (the state machine zeroed the halves); the new
 * connection gets its own one_sided check.
 */
static void
conn_restart(struct tcpa_engine *e, struct tcpa_conn *c, unsigned side)
{
	struct tcpa_conn_cold *x = cold_of(e, c);
	uint32_t now_us = (uint32_t)(now_of(e) / 1000);

	tcpa_anom_restart(&c->rules, &x->rules, side, now_us);
	memset(x->pkts_hi, 0, sizeof(x->pkts_hi));
	memset(x->bytes_hi, 0, sizeof(x->bytes_hi));
	fifo_push(e, Q_ONE_SIDED, tcpa_flow_index(e->ft, &c->flow), now_us);
}

/*
 * A side counted in its record's close_wait_stuck gauge (TCPA_AH_CW_STUCK)
 * is counted in the record it is bound to: @delta -1 before it is unbound,
 * +1 once bound again.
 */
static void
cw_stuck_count(struct tcpa_engine *e, const struct tcpa_conn *c, int delta)
{
	for (unsigned s = 0; s < 2; s++) {
		struct tcpa_ep *r = ep_of(e, c, s);

		if ((c->rules.hflags[s] & TCPA_AH_CW_STUCK) && r != NULL)
			r->cw_stuck += (uint32_t)delta;
	}
}

/*
 * Roles changed: the records bound under the old roles hand the connection
 * to the new ones. Corrected on the same connection (no NEW_CONN), the
 * records of the wrong guess never had it: take back the conns ep_bind()
 * gave them, or each correction counts the connection twice. A restart
 * (NEW_CONN) is a new connection: both keep their count. A side stuck in
 * CLOSE_WAIT (a midstream connection whose SYN-ACK comes late) takes its
 * close_wait_stuck gauge along: left behind, it would stay on the old
 * record for good and wrap the new one's below zero when the side leaves
 * CLOSE_WAIT.
 */
static void
roles_changed(struct tcpa_engine *e, struct tcpa_conn *c, const struct tcpa_tcp_result *r)
{
	struct tcpa_conn_cold *x = cold_of(e, c);

	if (!(r->what & TCPA_TCP_R_NEW_CONN)) {
		for (unsigned s = 0; s < 2; s++) {
			struct tcpa_ep *ep = tcpa_ep_at(e->ep, x->ep[s]);

			if (ep != NULL && ep->conns != 0)
				ep->conns--;
		}
	}
	cw_stuck_count(e, c, -1);
	ep_unbind(e, c, r->old_state);
	ep_bind(e, c);
	cw_stuck_count(e, c, 1);
}

/* The state machine's verdicts that are anomalies, attributed. */
static void
account_anoms(struct tcpa_engine *e, struct tcpa_conn *c, unsigned side,
		const struct tcpa_tcp_result *r)
{
	unsigned srv = !c->tcp.cli, cli = c->tcp.cli;

	if (r->what & TCPA_TCP_R_REUSE)
		engine_anom(e, c, cli, TCPA_ANOM_tuple_reuse);
	if (r->what & TCPA_TCP_R_SYN_RETX)
		engine_anom(e, c, srv, TCPA_ANOM_syn_retransmit);
	if (r->what & TCPA_TCP_R_SYNACK_RETX)
		engine_anom(e, c, cli, TCPA_ANOM_synack_retransmit);
	if (r->what & TCPA_TCP_R_REFUSED)
		engine_anom(e, c, srv, TCPA_ANOM_conn_refused);
	if (r->what & TCPA_TCP_R_RST_ABORT)
		engine_anom(e, c, side, TCPA_ANOM_rst_abort);
	if (r->what & TCPA_TCP_R_RST_INVALID)
		engine_anom(e, c, side, TCPA_ANOM_rst_invalid);
	if (r->what & TCPA_TCP_R_UNEXPECTED)
		e->st.tcp_unexpected++;
}

/* What the state machine reported, turned into counters and attribution. */
static void
account(struct tcpa_engine *e, struct tcpa_conn *c, unsigned side,
		const struct tcpa_tcp_result *r)
{
	if (unlikely(r->what & TCPA_TCP_R_ROLES)) {
		roles_changed(e, c, r);
	} else {
		for (unsigned s = 0; s < 2; s++)
			tcpa_ep_move(e->ep, cold_of(e, c)->ep[s], r->old_state[s],
				c->tcp.half[s].state);
	}
	timers_on_change(e, c, r);
	if (likely((r->what & ~(TCPA_TCP_R_ROLES | TCPA_TCP_R_MIDSTREAM)) == 0))
		return;
	/*
	 * A SYN that restarted the flow entry (NEW_CONN with ROLES: after
	 * TIME_WAIT/close, or a new ISN after an unanswered SYN) is a new
	 * connection; conn_new() counted only the entry's first.
	 */
	if ((r->what & (TCPA_TCP_R_NEW_CONN | TCPA_TCP_R_ROLES)) ==
			(TCPA_TCP_R_NEW_CONN | TCPA_TCP_R_ROLES)) {
		e->st.flows_new++;
		conn_restart(e, c, side);
	}
	account_anoms(e, c, side, r);
}

static struct tcpa_conn *
conn_new(struct tcpa_engine *e, const struct tcpa_pkt *p, unsigned side, uint32_t now_ms)
{
	struct tcpa_flow_key k;
	struct tcpa_conn *c;

	tcpa_flow_key_of_side(p, side, &k);
	c = tcpa_conn_of(tcpa_flow_insert(e->ft, &k, p->hash, TCPA_FLOW_TMO_EMBRYONIC, now_ms));
	fifo_push(e, Q_ONE_SIDED, tcpa_flow_index(e->ft, &c->flow), (uint32_t)(p->ts / 1000));

	e->st.flows_new++;
	e->st.flows_active++;
	tcpa_tcp_conn_start(&c->tcp, p, side);
	if (c->tcp.flags & TCPA_CONN_MIDSTREAM)
		e->st.midstream++;
	ep_bind(e, c);
	return c;
}

/* The profile an endpoint's SYN shows: its socket options on the wire. */
static void
profile_syn(struct tcpa_engine *e, const struct tcpa_conn *c, const struct tcpa_pkt *p,
		unsigned side)
{
	struct tcpa_ep *ep = ep_of(e, c, side);

	if (ep == NULL)
		return;
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
max_win_set(struct tcpa_engine *e, const struct tcpa_conn *c, unsigned side, uint32_t win)
{
	struct tcpa_ep *ep = ep_of(e, c, side);

	if (ep != NULL && win > ep->max_win)
		ep->max_win = win;
}

static TCPA_COLD void
rules_count(struct tcpa_engine *e, struct tcpa_conn *c, const struct tcpa_anom_out *o)
{
	for (unsigned i = 0; i < o->n; i++) {
		unsigned a = o->ev[i].anom, sd = o->ev[i].side;
		struct tcpa_ep *r = ep_of(e, c, sd);

		engine_anom(e, c, sd, a);
		if (a == TCPA_ANOM_idle_close && r != NULL) {
			r->idle_sum_ms += o->idle_ms;
			if (o->idle_ms > r->idle_max_ms)
				r->idle_max_ms = o->idle_ms;
		}
	}
}

/* Every per-segment rule (lib/anom), before the state machine moves. */
static void
rules_all(struct tcpa_engine *e, struct tcpa_conn *c, const struct tcpa_pkt *p, unsigned side)
{
	struct tcpa_anom_out o;

	o.n = 0;
	o.idle_ms = 0;
	tcpa_anom_segment(&e->ac, &c->rules, &cold_of(e, c)->rules, &c->tcp, p, side, &o);
	if (o.n != 0)
		rules_count(e, c, &o);
	if (unlikely(p->tcp_flags & TCPA_TCP_SYN))
		profile_syn(e, c, p, side);
}

/*
 * A segment header prediction takes: the rules' fast path (it shares the
 * prediction's test), else all rules; then the prediction's update.
 */
static inline void
segment_predicted(struct tcpa_engine *e, struct tcpa_conn *c, const struct tcpa_pkt *p,
		unsigned side)
{
	if (likely(!e->ac.off)) {
		struct tcpa_anom_out o;

		o.n = 0;
		if (unlikely(!tcpa_anom_fast(&e->ac, &c->rules, &c->tcp, p, side, &o)))
			rules_all(e, c, p, side);
		else if (unlikely(o.n != 0))
			rules_count(e, c, &o);
	}
	tcpa_tcp_predicted(&c->tcp, p, side);
}

/*
 * After the state moved, for the sender: a window above its last one may be
 * the endpoint's largest yet (the SO_RCVBUF evidence; the state machine has
 * just scaled it), and the hot line's 32-bit counters carry into the cold
 * entry before they wrap.
 */
static inline void
segment_done(struct tcpa_engine *e, struct tcpa_conn *c, unsigned side, uint32_t win_before)
{
	const struct tcpa_tcp_half *s = &c->tcp.half[side];

	if (unlikely(s->win > win_before) && likely(!e->ac.off))
		max_win_set(e, c, side, s->win);
	if (unlikely((s->pkts | s->bytes) >> 31))
		tcpa_conn_carry(c, cold_of(e, c), side);
}

/* Both directions of a connection must reach the same RX core. */
static inline void
core_check(struct tcpa_engine *e, struct tcpa_conn *c, const struct tcpa_pkt *p, unsigned side)
{
	struct tcpa_tcp_half *s = &c->tcp.half[side];
	const struct tcpa_tcp_half *q = &c->tcp.half[!side];

	if (unlikely(((s->flags & TCPA_HALF_SEEN) && s->rxc != p->rxc) ||
			((q->flags & TCPA_HALF_SEEN) && q->rxc != p->rxc)))
		e->st.wrong_core++;
	s->rxc = p->rxc;
}

static inline void
segment(struct tcpa_engine *e, const struct tcpa_pkt *p, struct tcpa_flow *f, unsigned side)
{
	struct tcpa_tcp_result r;
	uint32_t now_ms = tcpa_ns_to_ms(p->ts), win;
	struct tcpa_conn *c;
	uint8_t tmo;

	/* Not found in the burst's lookup: maybe an earlier segment of it created it. */
	if (f == NULL)
		f = tcpa_flow_lookup_pkt(e->ft, p, p->hash, &side);
	if (f != NULL) {
		c = tcpa_conn_of(f);
	} else {
		side = 0;       /* a new flow's first sender is key side 0 */
		c = conn_new(e, p, side, now_ms);
	}
	core_check(e, c, p, side);
	tcpa_flow_touch(&c->flow, now_ms);
	e->cur = p;
	win = c->tcp.half[side].win;
	/* ACKs of new data: the base of capture_loss (ack_unseen / acks). */
	e->st.acks += (p->tcp_flags & TCPA_TCP_ACK) &&
		(!(c->tcp.half[side].flags & TCPA_HALF_ACKED) || tcpa_seq_gt(p->ack, c->tcp.half[side].ack));
	if (likely(tcpa_tcp_predictable(&c->tcp, p, side))) {
		segment_predicted(e, c, p, side);
		segment_done(e, c, side, win);
		return;
	}
	if (likely(!e->ac.off))
		rules_all(e, c, p, side);
	tcpa_tcp_input(&c->tcp, p, side, &r);
	segment_done(e, c, side, win);
	/* Most segments change no state: nothing to count, nothing to move. */
	if (likely(r.what == 0 && r.old_state[0] == c->tcp.half[0].state &&
			r.old_state[1] == c->tcp.half[1].state))
		return;
	account(e, c, side, &r);
	tmo = tcpa_tcp_tmo_class(&c->tcp);
	if (tmo != c->flow.tmo)
		tcpa_flow_set_tmo(e->ft, &c->flow, tmo);
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

/* ---- set-up and accessors ---- */

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
	struct tcpa_flow_params prm;
	uint8_t *p = mem;
	void *ent, *cold;

	if (mem == NULL || ((uintptr_t)mem & 63) != 0 || tcpa_engine_memsize(c) == 0) {
		errno = EINVAL;
		return NULL;
	}
	memset(e, 0, sizeof(*e));
	p += align64(sizeof(*e));
	flow_params(c, &prm, e);
	e->ft = tcpa_flow_table_init(p, &prm);
	p += align64(tcpa_flow_table_memsize(&prm));
	e->ep = tcpa_ep_table_init(p, c->endpoints, &c->secret, c->zeroed);
	p += align64(tcpa_ep_table_memsize(c->endpoints));
	for (unsigned qi = 0; qi < Q_MAX; qi++) {
		e->q[qi].v = (struct tev *)(void *)p;
		e->q[qi].mask = fifo_slots(c->flows) - 1;
		p += align64((size_t)fifo_slots(c->flows) * sizeof(struct tev));
	}
	e->ac = c->anom;
	if (c->events != 0) {
		e->ev = (struct tcpa_event *)(void *)p;
		e->ev_mask = c->events - 1;
	}
	if (e->ft == NULL || e->ep == NULL) {
		errno = EINVAL;
		return NULL;
	}
	tcpa_flow_table_bases(e->ft, &ent, &cold);
	e->conns = ent;
	e->colds = cold;
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

uint32_t
tcpa_engine_conns(struct tcpa_engine *e)
{
	return tcpa_flow_used(e->ft);
}

const struct tcpa_conn *
tcpa_engine_conn(struct tcpa_engine *e, uint32_t i)
{
	return i >= 1 && i <= tcpa_flow_used(e->ft) ? &e->conns[i] : NULL;
}

struct tcpa_conn_cold *
tcpa_engine_cold(struct tcpa_engine *e, const struct tcpa_conn *c)
{
	return cold_of(e, c);
}

struct foreach_ctx {
	struct tcpa_engine *e;
	int (*fn)(void *arg, const struct tcpa_conn *c, const struct tcpa_conn_cold *x);
	void *arg;
};

static int
foreach_one(void *arg, struct tcpa_flow *f)
{
	struct foreach_ctx *x = arg;
	const struct tcpa_conn *c = tcpa_conn_of(f);

	return x->fn(x->arg, c, cold_of(x->e, c));
}

void
tcpa_engine_foreach(struct tcpa_engine *e,
		int (*fn)(void *arg, const struct tcpa_conn *c, const struct tcpa_conn_cold *x),
		void *arg)
{
	struct foreach_ctx x = { e, fn, arg };

	tcpa_flow_foreach(e->ft, foreach_one, &x);
}

/* ---- configuration ---- */

void
tcpa_engine_timeouts(const struct tcpa_conf *c, uint32_t t[TCPA_FLOW_TMO_MAX])
{
	uint64_t est = c->timeout_established_s * 1000;

	t[TCPA_FLOW_TMO_CLOSED] = (uint32_t)(c->time_wait_s * 1000);
	t[TCPA_FLOW_TMO_EMBRYONIC] = (uint32_t)(c->timeout_syn_s * 1000);
	t[TCPA_FLOW_TMO_TIME_WAIT] = (uint32_t)(c->time_wait_s * 1000);
	t[TCPA_FLOW_TMO_CLOSING] = (uint32_t)(c->timeout_closing_s * 1000);
	/* Wheel times are ms mod 2^32: an idle timeout must stay below 2^31 ms. */
	t[TCPA_FLOW_TMO_ESTABLISHED] = (uint32_t)(est < INT32_MAX ? est : INT32_MAX);
}

void
tcpa_engine_conf_from(const struct tcpa_conf *c, uint32_t events,
		const struct tcpa_hash_secret *secret, struct tcpa_engine_conf *ec)
{
	memset(ec, 0, sizeof(*ec));
	ec->flows = (uint32_t)c->flows_per_core;
	ec->endpoints = (uint32_t)c->endpoints_per_core;
	tcpa_engine_timeouts(c, ec->timeout_ms);
	tcpa_anom_conf_from(c, &ec->anom);
	ec->events = events;
	ec->secret = *secret;
}
