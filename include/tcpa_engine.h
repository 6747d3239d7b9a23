/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TCPA_ENGINE_H
#define TCPA_ENGINE_H

/**
 * @file
 * One RX core's engine: flow table, TCP state machine and endpoint table
 * behind one burst call. Knows nothing of ports or lcores: the caller
 * parses frames (tcpa_pkt_parse), stamps time, hashes (tcpa_engine_hash),
 * and gives each segment to the engine of the core that owns its hash.
 */

#include <stddef.h>
#include <stdint.h>

#include "tcpa_anom.h"
#include "tcpa_common.h"
#include "tcpa_endpoint.h"
#include "tcpa_flow.h"
#include "tcpa_pkt.h"
#include "tcpa_stats.h"
#include "tcpa_tcp.h"

/**
 * One connection as the engine composes it from the layers' parts: two
 * cache lines, all that a segment on the fast path reads or writes. The
 * flow table's header comes first (lookup reads its key), then the rules'
 * per-segment state and the TCP state of both endpoints.
 */
struct TCPA_CACHE_ALIGNED tcpa_conn {
	struct tcpa_flow flow;
	struct tcpa_anom_hot rules;
	struct tcpa_tcp_conn tcp;
};

_Static_assert(sizeof(struct tcpa_conn) == 2 * TCPA_CACHE_LINE, "a connection is two cache lines");
_Static_assert(offsetof(struct tcpa_conn, flow) == 0, "the table's header comes first");
_Static_assert(offsetof(struct tcpa_conn, flow.key) + sizeof(struct tcpa_flow_key) <=
	TCPA_CACHE_LINE, "lookup compares keys within the first line");

/**
 * A connection's cold entry, one cache line in a parallel array: what
 * expiry, timers and the rules' slow paths need and no in-order segment
 * does. Kept apart so that lookup and the fast path touch two cache lines
 * per segment, not three.
 */
struct TCPA_CACHE_ALIGNED tcpa_conn_cold {
	struct tcpa_flow_cold flow;     /* the table's timer wheel */
	uint32_t ep[2];                 /* endpoint record of each side, 0 = none */
	/*
	 * When a side's pending timed condition began, ms mod 2^16 (odd,
	 * never 0). Only tells the condition's timer entry, which holds the
	 * full time, from a later one on the same entry.
	 */
	uint16_t stamp[2];
	uint16_t pkts_hi[2];            /* carries of tcp.half[].pkts, in units of 2^31 */
	uint16_t bytes_hi[2];           /* carries of tcp.half[].bytes, in units of 2^31 */
	struct tcpa_anom_cold rules;
};

_Static_assert(sizeof(struct tcpa_conn_cold) == TCPA_CACHE_LINE, "the cold entry is one line");

/** Segments side @p side sent: the hot 32-bit part plus the carries. */
static inline uint64_t
tcpa_conn_pkts(const struct tcpa_conn *c, const struct tcpa_conn_cold *x, unsigned side)
{
	return ((uint64_t)x->pkts_hi[side] << 31) + c->tcp.half[side].pkts;
}

/** Payload bytes side @p side sent. */
static inline uint64_t
tcpa_conn_bytes(const struct tcpa_conn *c, const struct tcpa_conn_cold *x, unsigned side)
{
	return ((uint64_t)x->bytes_hi[side] << 31) + c->tcp.half[side].bytes;
}

/**
 * Move the top bit of side @p side's 32-bit counters into @p x. Call when
 * (pkts | bytes) has bit 31 set: one segment adds under 2^16 bytes, so
 * checking after every segment keeps them from wrapping.
 */
static inline void
tcpa_conn_carry(struct tcpa_conn *c, struct tcpa_conn_cold *x, unsigned side)
{
	struct tcpa_tcp_half *h = &c->tcp.half[side];

	if (h->pkts >> 31) {
		x->pkts_hi[side]++;
		h->pkts -= 1u << 31;
	}
	if (h->bytes >> 31) {
		x->bytes_hi[side]++;
		h->bytes -= 1u << 31;
	}
}

/** The connection a flow table entry of an engine's table is part of. */
static inline struct tcpa_conn *
tcpa_conn_of(struct tcpa_flow *f)
{
	return (struct tcpa_conn *)(void *)f;
}

struct tcpa_engine_conf {
	uint32_t flows;                         /* flow table capacity */
	uint32_t endpoints;                     /* endpoint table capacity */
	uint32_t timeout_ms[TCPA_FLOW_TMO_MAX]; /* idle timeout per class */
	struct tcpa_anom_conf anom;             /* rule thresholds */
	uint32_t events;                        /* event queue slots (power of two), 0 = no events */
	struct tcpa_hash_secret secret;
	uint8_t zeroed;                         /* the region given is all zero bytes */
};

struct tcpa_engine;

/** One anomaly occurrence, for the event log. */
struct tcpa_event {
	uint64_t ts;                    /* packet time, ns */
	struct tcpa_flow_key key;
	uint8_t anom;                   /* enum tcpa_anom */
	uint8_t side;                   /* key side it is attributed to */
	uint8_t cli;                    /* key side of the client */
	uint8_t has_seg;                /* seq..win describe the segment that showed it */
	uint32_t seq;
	uint32_t ack;
	uint32_t len;                   /* payload bytes (BIG TCP segments exceed 64 KiB) */
	uint8_t flags;
	uint8_t pad[3];
	uint32_t win;
};

/* Flows the expiry wheel may visit per call: bounds the work per loop. */
#define TCPA_AGE_STEP 64

struct tcpa_conf;

/**
 * The engine configuration the configuration's keys give (table sizes,
 * timeouts, rule thresholds); @p events event queue slots (0 = no event
 * queue), hash secret @p secret.
 */
void tcpa_engine_conf_from(const struct tcpa_conf *c, uint32_t events,
		const struct tcpa_hash_secret *secret, struct tcpa_engine_conf *ec);

/** Idle timeout of each flow class, ms, from the configuration's keys. */
void tcpa_engine_timeouts(const struct tcpa_conf *c, uint32_t timeout_ms[TCPA_FLOW_TMO_MAX]);

/** Memory an engine needs (64-aligned region). 0 if the conf is invalid. */
size_t tcpa_engine_memsize(const struct tcpa_engine_conf *c);

/** Lay out an engine in @p mem. NULL with errno EINVAL on a bad conf. */
struct tcpa_engine *tcpa_engine_init(void *mem, const struct tcpa_engine_conf *c);

/** Change idle timeouts while running (control path, owner core or stopped). */
void tcpa_engine_set_timeouts(struct tcpa_engine *e, const uint32_t timeout_ms[TCPA_FLOW_TMO_MAX]);

/**
 * Take up to @p max logged anomaly occurrences (the control core; one
 * reader per engine). Lock-free: the RX core never waits for the reader.
 * @return how many were copied to @p out.
 */
unsigned tcpa_engine_events_read(struct tcpa_engine *e, struct tcpa_event *out, unsigned max);

/** Change rule thresholds while running (word stores; see tcpa_engine_set_timeouts). */
void tcpa_engine_set_anom(struct tcpa_engine *e, const struct tcpa_anom_conf *c);

/**
 * End of a capture: conditions that the end decides (a SYN still
 * unanswered when the capture ended is syn_unanswered). Offline only.
 */
void tcpa_engine_finish(struct tcpa_engine *e);

/** Set @p p->hash (symmetric: both directions of a connection agree). */
static inline void
tcpa_engine_hash(struct tcpa_pkt *p, const struct tcpa_hash_secret *s)
{
	p->hash = tcpa_flow_pkt_hash(p, s);
}

/**
 * Analyze a burst of segments owned by this engine (hash and ts set).
 * Segments of one connection must come in capture order.
 * @return @p n
 */
uint16_t tcpa_engine_input_burst(struct tcpa_engine *e, const struct tcpa_pkt *pk, uint16_t n);

/** Expire idle flows up to packet time @p now_ns, bounded work. */
void tcpa_engine_age(struct tcpa_engine *e, uint64_t now_ns);

/** Packet time this engine has reached, ns (latest segment or age call). */
uint64_t tcpa_engine_now(const struct tcpa_engine *e);

/** The engine's counters (written by the owner core only). */
struct tcpa_stats *tcpa_engine_stats(struct tcpa_engine *e);
struct tcpa_flow_table *tcpa_engine_flows(struct tcpa_engine *e);
struct tcpa_ep_table *tcpa_engine_endpoints(struct tcpa_engine *e);

/** Entries of the table ever used: connection indexes run 1 .. this. */
uint32_t tcpa_engine_conns(struct tcpa_engine *e);

/** The entry at index @p i (it may be free: check flow.live), NULL past the used ones. */
const struct tcpa_conn *tcpa_engine_conn(struct tcpa_engine *e, uint32_t i);

/** The cold entry of connection @p c of this engine's table. */
struct tcpa_conn_cold *tcpa_engine_cold(struct tcpa_engine *e, const struct tcpa_conn *c);

/**
 * Visit every connection in the table: @p fn gets the live entry and its
 * cold entry (from another core: copy, then check, as the owner may be
 * rewriting them). Stops when @p fn returns non-zero.
 */
void tcpa_engine_foreach(struct tcpa_engine *e,
		int (*fn)(void *arg, const struct tcpa_conn *c, const struct tcpa_conn_cold *x),
		void *arg);

#endif /* TCPA_ENGINE_H */
