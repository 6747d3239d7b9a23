/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TCPA_ENDPOINT_H
#define TCPA_ENDPOINT_H

/**
 * @file
 * Per-endpoint aggregation: the `ss -tan` view of the whole mirrored
 * network. One record per server endpoint (ip:port) and per client address,
 * holding live connection counts by that endpoint's TCP state and the
 * anomalies attributed to it.
 *
 * One table per RX core, written by that core only. Records are never
 * removed, so a reader on another core can walk the slots at any time:
 * a record is published (used = 1, release) only after its key is written,
 * and counters are single aligned words read with relaxed loads.
 */

#include <stddef.h>
#include <stdint.h>

#include "tcpa_anom.h"
#include "tcpa_common.h"
#include "tcpa_flow.h"
#include "tcpa_pkt.h"
#include "tcpa_tcp.h"

#define TCPA_EP_CLIENT 0
#define TCPA_EP_SERVER 1

struct tcpa_ep_key {
	struct tcpa_ip ip;
	uint32_t vlan;
	uint16_t port;          /* 0 for a client address */
	uint8_t role;           /* TCPA_EP_CLIENT or TCPA_EP_SERVER */
	uint8_t pad;
};

struct TCPA_CACHE_ALIGNED tcpa_ep {
	struct tcpa_ep_key key;
	uint32_t used;                  /* published: key valid */
	uint32_t states[TCPA_TCP_ST_MAX]; /* live connections by this endpoint's state */
	uint64_t conns;                 /* connections seen with this endpoint */
	uint64_t anom[TCPA_ANOM_MAX];   /* anomalies attributed to this endpoint */
	/* Gauges and the socket-option profile (ANOMALIES.md, endpoint profile). */
	uint32_t cw_stuck;              /* live: connections in close_wait_stuck now */
	uint32_t tw_peak;               /* highest TIME_WAIT count seen */
	uint32_t idle_max_ms;           /* longest idle time before its idle_close FINs */
	uint32_t max_win;               /* largest receive window it advertised, bytes */
	uint64_t idle_sum_ms;           /* sum of those idle times (mean = sum / idle_close) */
	uint16_t mss;                   /* MSS its last SYN announced, 0 = none seen */
	uint8_t wscale;                 /* window scale its last SYN offered */
	uint8_t pflags;                 /* TCPA_EP_P_* from its SYNs */
};

#define TCPA_EP_P_SYN    0x01   /* a SYN or SYN-ACK of it was seen */
#define TCPA_EP_P_WS     0x02   /* offered window scaling */
#define TCPA_EP_P_SACKOK 0x04   /* offered SACK */
#define TCPA_EP_P_TS     0x08   /* offered timestamps */

struct tcpa_ep_table;

/** Memory for @p capacity records (rounded up to a power of two). 0 if invalid. */
size_t tcpa_ep_table_memsize(uint32_t capacity);

/** Lay out a table in @p mem (64-aligned). NULL with errno EINVAL. */
struct tcpa_ep_table *tcpa_ep_table_init(void *mem, uint32_t capacity,
		const struct tcpa_hash_secret *secret);

/**
 * Find or add the record of @p k.
 * @return its index (>= 1), or 0 if the table is full.
 */
uint32_t tcpa_ep_get(struct tcpa_ep_table *t, const struct tcpa_ep_key *k);

/** Record at index @p i (>= 1). */
struct tcpa_ep *tcpa_ep_at(struct tcpa_ep_table *t, uint32_t i);

/** Number of slots (for readers walking the table). */
uint32_t tcpa_ep_slots(const struct tcpa_ep_table *t);

/** Records in use. */
uint32_t tcpa_ep_count(const struct tcpa_ep_table *t);

/** Build the key of side @p side of a flow, with @p role. */
void tcpa_ep_key_of(const struct tcpa_flow *f, unsigned side, unsigned role,
		struct tcpa_ep_key *k);

/** A connection of record @p i moved from state @p from to @p to. */
static inline void
tcpa_ep_move(struct tcpa_ep_table *t, uint32_t i, unsigned from, unsigned to)
{
	struct tcpa_ep *e;

	if (i == 0 || from == to)
		return;
	e = tcpa_ep_at(t, i);
	/* New state first: a reader never sees the connection in no state. */
	__atomic_store_n(&e->states[to], e->states[to] + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&e->states[from], e->states[from] - 1, __ATOMIC_RELAXED);
	if (to == TCPA_TCP_ST_TIME_WAIT && e->states[to] > e->tw_peak)
		__atomic_store_n(&e->tw_peak, e->states[to], __ATOMIC_RELAXED);
}

#endif /* TCPA_ENDPOINT_H */
