/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The timed rules of ANOMALIES.md, which need time to pass without a
 * segment: close_wait_stuck (close_wait_s in CLOSE_WAIT), syn_unanswered
 * (syn_timeout_s without SYN-ACK or RST) and one_sided (only one direction
 * for syn_timeout_s). One FIFO per rule (struct fifo): entries are pushed
 * when the condition starts and checked, in bounded numbers per call, when
 * they come due.
 */
#include <string.h>

#include "engine_private.h"

uint32_t
fifo_slots(uint32_t flows)
{
	uint32_t n = 64;

	/* Room for two pending entries per flow before anything is skipped. */
	while (n < flows * 2ULL)
		n <<= 1;
	return n;
}

void
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

/* A side left CLOSE_WAIT: it is no longer a stuck one. */
static void
cw_unstick(struct tcpa_engine *e, struct tcpa_conn *c, unsigned sd)
{
	struct tcpa_ep *ep = tcpa_ep_at(e->ep, cold_of(e, c)->ep[sd]);

	c->rules.hflags[sd] &= (uint8_t)~TCPA_AH_CW_STUCK;
	if (ep != NULL)
		tcpa_ep_count_add(&ep->cw_stuck, -1);
}

/*
 * Start or stop the timed rules when states change: CLOSE_WAIT entered
 * (close_wait_stuck after close_wait_s), a SYN starting a connection
 * (syn_unanswered after syn_timeout_s). A side's stamp in the cold entry
 * tells its timer entry from a later condition's on the same flow. The
 * time is the segment's own: the engine's clock moves only at the end of a
 * burst, and a condition timed from it would start early or late.
 */
void
timers_on_change(struct tcpa_engine *e, struct tcpa_conn *c, const struct tcpa_tcp_result *r)
{
	struct tcpa_conn_cold *x = cold_of(e, c);
	uint32_t now_ms = tcpa_ns_to_ms(now_of(e)) | 1;
	uint32_t idx = tcpa_flow_index(e->ft, &c->flow);

	for (unsigned sd = 0; sd < 2; sd++) {
		const struct tcpa_tcp_half *h = &c->tcp.half[sd];

		if (h->state == r->old_state[sd])
			continue;
		if (h->state == TCPA_TCP_ST_CLOSE_WAIT) {
			x->stamp[sd] = (uint16_t)now_ms;
			fifo_push(e, Q_CLOSE_WAIT, idx | (uint32_t)sd << 31, now_ms);
		} else if (r->old_state[sd] == TCPA_TCP_ST_CLOSE_WAIT &&
				(c->rules.hflags[sd] & TCPA_AH_CW_STUCK)) {
			cw_unstick(e, c, sd);
		}
	}
	if ((r->what & TCPA_TCP_R_NEW_CONN) &&
			c->tcp.half[c->tcp.cli].state == TCPA_TCP_ST_SYN_SENT) {
		x->stamp[c->tcp.cli] = (uint16_t)now_ms;
		x->rules.cflags &= (uint8_t)~TCPA_AC_SYN_DONE;
		fifo_push(e, Q_SYN, idx, now_ms);
	}
}

/*
 * Is the connection's SYN still waiting, not yet decided? With @stamp,
 * for the timer entry of that stamp (odd, never 0); with 0, for any.
 */
static int
syn_pending(const struct tcpa_conn *c, const struct tcpa_conn_cold *x, uint32_t stamp)
{
	unsigned cli = c->tcp.cli;

	if (c->tcp.half[cli].state != TCPA_TCP_ST_SYN_SENT || (x->rules.cflags & TCPA_AC_SYN_DONE))
		return 0;
	if (stamp != 0)
		return x->stamp[cli] == (uint16_t)stamp;
	return (c->tcp.flags & TCPA_CONN_ROLE_SET) && x->stamp[cli] != 0;
}

static void
syn_unanswered(struct tcpa_engine *e, struct tcpa_conn *c, struct tcpa_conn_cold *x)
{
	x->rules.cflags |= TCPA_AC_SYN_DONE;
	engine_anom(e, c, !c->tcp.cli, TCPA_ANOM_syn_unanswered);
}

/*
 * A connection leaving the table. A SYN still unanswered when its flow
 * expires (timeout_syn_s shorter than syn_timeout_s) would find no flow
 * when its timer comes due: decide it now. Not on eviction (table full:
 * nothing says it would not have been answered).
 */
void
timers_flow_drop(struct tcpa_engine *e, struct tcpa_conn *c, int evicted)
{
	struct tcpa_conn_cold *x = cold_of(e, c);

	for (unsigned sd = 0; sd < 2; sd++) {
		struct tcpa_ep *ep = tcpa_ep_at(e->ep, x->ep[sd]);

		if ((c->rules.hflags[sd] & TCPA_AH_CW_STUCK) && ep != NULL)
			tcpa_ep_count_add(&ep->cw_stuck, -1);
	}
	if (!evicted && syn_pending(c, x, 0))
		syn_unanswered(e, c, x);
}

/* The connection at flow index @idx, if the entry still holds one. */
static struct tcpa_conn *
tev_conn(struct tcpa_engine *e, uint32_t idx)
{
	struct tcpa_flow *f = tcpa_flow_at(e->ft, idx & 0x7fffffff);

	return f != NULL && f->live ? tcpa_conn_of(f) : NULL;
}

/* Has an entry stamped @stamp (ms) waited @wait_ms by now? */
static int
due_ms(const struct tcpa_engine *e, uint32_t stamp, uint32_t wait_ms)
{
	return (int32_t)(tcpa_ns_to_ms(e->now_ns) - (stamp + wait_ms)) >= 0;
}

/* @return 0 if not due yet (the queue waits), 1 if done with the entry. */
static int
check_syn(struct tcpa_engine *e, const struct tev *t, int end)
{
	struct tcpa_conn *c = tev_conn(e, t->idx);

	if (!end && !due_ms(e, t->stamp, e->ac.syn_timeout_ms))
		return 0;
	if (c != NULL && syn_pending(c, cold_of(e, c), t->stamp))
		syn_unanswered(e, c, cold_of(e, c));
	return 1;
}

static int
check_one_sided(struct tcpa_engine *e, const struct tev *t)
{
	struct tcpa_conn *c = tev_conn(e, t->idx);
	uint32_t now_us = (uint32_t)(e->now_ns / 1000);
	const struct tcpa_tcp_half *h = c != NULL ? c->tcp.half : NULL;
	unsigned seen;

	if ((int32_t)(now_us - (t->stamp + e->ac.syn_timeout_ms * 1000)) < 0)
		return 0;
	if (c == NULL || cold_of(e, c)->rules.born_us != t->stamp)
		return 1;
	/* One direction only, and more than a SYN in it (that is syn_unanswered). */
	seen = (h[0].flags & TCPA_HALF_SEEN ? 1 : 0) | (h[1].flags & TCPA_HALF_SEEN ? 2 : 0);
	if ((seen == 1 && (h[0].flags & TCPA_HALF_ACKED)) ||
			(seen == 2 && (h[1].flags & TCPA_HALF_ACKED)))
		e->st.one_sided++;
	return 1;
}

static int
check_close_wait(struct tcpa_engine *e, const struct tev *t)
{
	struct tcpa_conn *c = tev_conn(e, t->idx);
	unsigned sd = t->idx >> 31;
	struct tcpa_conn_cold *x;

	if (!due_ms(e, t->stamp, e->ac.close_wait_ms))
		return 0;
	if (c == NULL || c->tcp.half[sd].state != TCPA_TCP_ST_CLOSE_WAIT)
		return 1;
	x = cold_of(e, c);
	if (x->stamp[sd] != (uint16_t)t->stamp || (c->rules.hflags[sd] & TCPA_AH_CW_STUCK))
		return 1;
	c->rules.hflags[sd] |= TCPA_AH_CW_STUCK;
	engine_anom(e, c, sd, TCPA_ANOM_close_wait_stuck);
	if (tcpa_ep_at(e->ep, x->ep[sd]) != NULL)
		tcpa_ep_count_add(&tcpa_ep_at(e->ep, x->ep[sd])->cw_stuck, 1);
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
