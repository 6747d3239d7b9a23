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
 * One table per RX core, written by that core only, of a capacity fixed
 * at start. A record is found through two candidate buckets of 8 slots
 * (as the flow table). When both are full, or every record is taken, the
 * least valuable record of the candidates gives way, in this order: one
 * no connection references and with nothing to report; a one-off SYN source (a
 * client whose one or two connections are all still SYN_SENT, the mark of
 * a SYN flood's spoofed sources); else the new endpoint is refused
 * (ep_full). Endpoints with live connections, anomalies or diagnoses stay.
 *
 * A connection holds a reference to each of its two records: the record's
 * index and the generation it had when bound. A record that gave way has
 * a new generation, so the old connections' references no longer resolve
 * (tcpa_ep_at() gives NULL) and can never count into the new owner.
 *
 * Readers on other cores copy a record under its sequence count
 * (tcpa_ep_read()): counters are single words written with relaxed
 * stores; a record being reused at that instant is skipped.
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
	uint32_t zone;          /* VLAN ids and tunnel identity (tcpa_pkt.zone) */
	uint16_t port;          /* 0 for a client address */
	uint8_t role;           /* TCPA_EP_CLIENT or TCPA_EP_SERVER */
	uint8_t pad;
};

struct TCPA_CACHE_ALIGNED tcpa_ep {
	struct tcpa_ep_key key;
	/*
	 * Even while the record holds an endpoint, odd while it is being
	 * rewritten or is free; (seq >> 1) is its generation. 0: never used.
	 */
	uint32_t seq;
	/*
	 * 1 once an anomaly was attributed to it: worth keeping, and known
	 * without reading anom[] (the table's eviction reads only the first
	 * two lines of a record).
	 */
	uint8_t noted;
	uint8_t pad[3];
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

/* A reference: record index in the low bits, its generation in the high. */
#define TCPA_EP_REF_BITS 22
#define TCPA_EP_MAX ((1U << TCPA_EP_REF_BITS) - 1)

/** Memory for @p capacity records (1 .. TCPA_EP_MAX). 0 if invalid. */
size_t tcpa_ep_table_memsize(uint32_t capacity);

/**
 * Lay out a table in @p mem (64-aligned). @p zeroed: the region is all zero
 * bytes (nothing to clear). NULL with errno EINVAL.
 */
struct tcpa_ep_table *tcpa_ep_table_init(void *mem, uint32_t capacity,
		const struct tcpa_hash_secret *secret, int zeroed);

/**
 * Find or add the record of @p k; *@p evicted is set to 1 when a less
 * valuable record gave way for it (else left alone).
 * @return a reference (never 0), or 0 if refused (table full of records
 *   worth keeping).
 */
uint32_t tcpa_ep_get(struct tcpa_ep_table *t, const struct tcpa_ep_key *k, int *evicted);

/** The record of reference @p ref, or NULL (0, or the record was reused since). */
static inline struct tcpa_ep *tcpa_ep_at(struct tcpa_ep_table *t, uint32_t ref);

/** Record slots (1 .. tcpa_ep_slots()), for readers walking the table. */
uint32_t tcpa_ep_slots(const struct tcpa_ep_table *t);

/**
 * A consistent copy of slot @p i's record (any core).
 * @return 1 if the slot holds a record, 0 if empty or being reused.
 */
int tcpa_ep_read(const struct tcpa_ep_table *t, uint32_t i, struct tcpa_ep *out);

/** Records in use. */
uint32_t tcpa_ep_count(const struct tcpa_ep_table *t);

/** Bytes of the table's region. */
size_t tcpa_ep_table_bytes(const struct tcpa_ep_table *t);

/** Build the key of side @p side of a flow, with @p role. */
void tcpa_ep_key_of(const struct tcpa_flow *f, unsigned side, unsigned role,
		struct tcpa_ep_key *k);

/*
 * The table's head, public only for the inline accessors; the rest of its
 * layout is lib/endpoint's.
 */
struct tcpa_ep_table_head {
	struct tcpa_ep *rec;    /* rec[1..capacity] */
};

static inline struct tcpa_ep *
tcpa_ep_records(struct tcpa_ep_table *t)
{
	return ((struct tcpa_ep_table_head *)(void *)t)->rec;
}

static inline struct tcpa_ep *
tcpa_ep_at(struct tcpa_ep_table *t, uint32_t ref)
{
	struct tcpa_ep *e;

	if (ref == 0)
		return NULL;
	e = &tcpa_ep_records(t)[ref & TCPA_EP_MAX];
	/* Stable (even) and of the reference's generation. */
	return (e->seq & ((0xffffffffU >> TCPA_EP_REF_BITS) << 1 | 1)) ==
		(ref >> TCPA_EP_REF_BITS) << 1 ? e : NULL;
}

/* Add @delta to a live count, never below 0. */
static inline void
tcpa_ep_count_add(uint32_t *c, int delta)
{
	if (delta > 0 || *c != 0)
		__atomic_store_n(c, *c + (uint32_t)delta, __ATOMIC_RELAXED);
}

/** A connection of record @p ref moved from state @p from to @p to. */
static inline void
tcpa_ep_move(struct tcpa_ep_table *t, uint32_t ref, unsigned from, unsigned to)
{
	struct tcpa_ep *e;

	if (ref == 0 || from == to || (e = tcpa_ep_at(t, ref)) == NULL)
		return;
	/* New state first: a reader never sees the connection in no state. */
	tcpa_ep_count_add(&e->states[to], 1);
	tcpa_ep_count_add(&e->states[from], -1);
	if (to == TCPA_TCP_ST_TIME_WAIT && e->states[to] > e->tw_peak)
		__atomic_store_n(&e->tw_peak, e->states[to], __ATOMIC_RELAXED);
}

#endif /* TCPA_ENDPOINT_H */
