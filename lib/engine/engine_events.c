/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The event queue of one engine: every anomaly occurrence, for the event
 * log. Single producer (the RX core), single consumer (the control core),
 * lock-free: the RX core never waits; when the queue is full the
 * occurrence is counted as events_lost.
 */
#include <string.h>

#include "engine_private.h"

TCPA_COLD void
engine_event(struct tcpa_engine *e, const struct tcpa_conn *c, unsigned side, unsigned a)
{
	uint32_t head = __atomic_load_n(&e->ev_head, __ATOMIC_ACQUIRE);
	struct tcpa_event *v;

	if (e->ev_tail - head > e->ev_mask) {
		e->st.events_lost++;
		return;
	}
	v = &e->ev[e->ev_tail & e->ev_mask];
	memset(v, 0, sizeof(*v));
	v->ts = now_of(e);
	v->key = c->flow.key;
	v->anom = (uint8_t)a;
	v->side = (uint8_t)side;
	v->cli = c->tcp.cli;
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
