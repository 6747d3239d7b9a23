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

/* Per-core counters: X(name, help). Gauges are marked in their help. */
#define TCPA_STATS(X) \
	X(rx_pkts,        "frames received from the port by this core") \
	X(rx_bytes,       "bytes received from the port by this core") \
	X(tcp_pkts,       "TCP segments analyzed by this core") \
	X(dispatched,     "segments this core handed to their owner core") \
	X(ring_full,      "segments dropped because the owner core's ring was full") \
	X(flows_new,      "connections started") \
	X(flows_closed,   "closed connections forgotten after time_wait_s") \
	X(flow_expired,   "open connections dropped after their idle timeout") \
	X(flow_evicted,   "connections evicted to make room (table full)") \
	X(midstream,      "connections picked up without their handshake") \
	X(one_sided,      "connections with one direction seen only (for syn_timeout_s)") \
	X(wrong_core,     "segments of a known connection that reached another RX core first") \
	X(tcp_unexpected, "segments the state machine did not expect in the endpoint's state") \
	X(ep_full,        "connections not aggregated: endpoint table full") \
	X(timer_full,     "timed rules skipped: timer queue full (raise flows_per_core)") \
	X(events_lost,    "anomaly occurrences not logged: event queue full (control core behind)") \
	X(flows_active,   "gauge: connections in the table")

struct TCPA_CACHE_ALIGNED tcpa_stats {
#define X(name, help) uint64_t name;
	TCPA_STATS(X)
#undef X
	uint64_t malformed[TCPA_PKT_VERDICT_MAX];   /* by verdict; [0] unused */
	uint64_t anom[TCPA_ANOM_MAX];
	uint64_t first_ts;      /* packet time of the first segment, ns (0 = none) */
	uint64_t last_ts;       /* latest packet time seen, ns */
};

struct tcpa_engine_conf {
	uint32_t flows;                         /* flow table capacity */
	uint32_t endpoints;                     /* endpoint table capacity */
	uint32_t timeout_ms[TCPA_FLOW_TMO_MAX]; /* idle timeout per class */
	struct tcpa_anom_conf anom;             /* rule thresholds */
	uint32_t events;                        /* event queue slots (power of two), 0 = no events */
	struct tcpa_hash_secret secret;
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
	uint16_t len;
	uint8_t flags;
	uint8_t pad;
	uint32_t win;
};

/* Flows the expiry wheel may visit per call: bounds the work per loop. */
#define TCPA_AGE_STEP 64

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

#endif /* TCPA_ENGINE_H */
