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
};

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
}

#endif /* TCPA_ENDPOINT_H */
