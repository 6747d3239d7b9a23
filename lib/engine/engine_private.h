/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TCPA_ENGINE_PRIVATE_H
#define TCPA_ENGINE_PRIVATE_H

/*
 * What the engine's files share: the engine itself, the timed rules'
 * queues and the helpers every path uses. Not a public header.
 */

#include <stdint.h>

#include "tcpa_engine.h"

/*
 * Timed rules. Every entry of one queue waits the same time (a threshold),
 * so a FIFO is already in deadline order: O(1) per entry, no wheel. An
 * entry names a flow index and a stamp the connection still carries if it
 * is the same connection in the same condition; anything else is stale and
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
	uint64_t drops;                 /* flows that left the table: stale-pointer guard */
	struct tcpa_anom_conf ac;
	struct fifo q[Q_MAX];
	const struct tcpa_pkt *cur;     /* segment being analyzed, NULL in timers */
	struct tcpa_conn *conns;        /* the table's arrays: cold of c = colds[c - conns] */
	struct tcpa_conn_cold *colds;
	/* Event queue: single producer (this core), single consumer (control). */
	struct tcpa_event *ev;
	uint32_t ev_mask;
	uint32_t ev_tail;               /* written by this core */
	TCPA_CACHE_ALIGNED uint32_t ev_head; /* written by the control core */
};

/* The cold entry of @c: indexing, not a call. */
static inline struct tcpa_conn_cold *
cold_of(const struct tcpa_engine *e, const struct tcpa_conn *c)
{
	return &e->colds[c - e->conns];
}

/* Packet time of what is being analyzed: the segment, or the clock in timers. */
static inline uint64_t
now_of(const struct tcpa_engine *e)
{
	return e->cur != NULL ? e->cur->ts : e->now_ns;
}

static inline size_t
align64(size_t x)
{
	return (x + 63) & ~(size_t)63;
}

/* engine_timers.c */
uint32_t fifo_slots(uint32_t flows);
void fifo_push(struct tcpa_engine *e, unsigned qi, uint32_t idx, uint32_t stamp);
void timers_on_change(struct tcpa_engine *e, struct tcpa_conn *c, const struct tcpa_tcp_result *r);
void timers_flow_drop(struct tcpa_engine *e, struct tcpa_conn *c, int evicted);

/* engine_events.c */
void engine_event(struct tcpa_engine *e, const struct tcpa_conn *c, unsigned side, unsigned a);

/* Count anomaly @a of connection @c, attributed to key side @side. */
static inline void
engine_anom(struct tcpa_engine *e, struct tcpa_conn *c, unsigned side, unsigned a)
{
	struct tcpa_ep *ep = tcpa_ep_at(e->ep, cold_of(e, c)->ep[side]);

	e->st.anom[a]++;
	if (ep != NULL) {
		ep->anom[a]++;
		ep->noted = 1;
	}
	if (e->ev != NULL)
		engine_event(e, c, side, a);
}

#endif /* TCPA_ENGINE_PRIVATE_H */
