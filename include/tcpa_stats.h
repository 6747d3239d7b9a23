/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TCPA_STATS_H
#define TCPA_STATS_H

/**
 * @file
 * The engine's counters: the one place each is named. The report, the
 * `stats` answer, telemetry and the Prometheus metrics are made by walking
 * this list, so a new counter is one line here and reaches all of them.
 *
 * X(field, section, key, metric, type, help):
 *  - field: member of struct tcpa_stats (one RX core's count, summed over
 *    cores for the report);
 *  - section: the report object that holds it (totals or capture);
 *  - key: its JSON key there and in each `stats` core;
 *  - metric, type: its Prometheus name (base units, _total for counters)
 *    and type (counter or gauge);
 *  - help: one sentence for operators (report docs, metric HELP).
 */

#include <stdint.h>

#include "tcpa_anom.h"
#include "tcpa_common.h"
#include "tcpa_pkt.h"

#define TCPA_STATS(X) \
	X(rx_pkts, totals, packets, tcpa_packets_total, counter, \
	  "Frames received from the ports.") \
	X(rx_bytes, totals, bytes, tcpa_bytes_total, counter, \
	  "Bytes of the frames received from the ports.") \
	X(tcp_pkts, totals, tcp_packets, tcpa_tcp_packets_total, counter, \
	  "TCP segments analyzed.") \
	X(dispatched, totals, dispatched, tcpa_dispatched_total, counter, \
	  "Segments an RX core handed to the core that owns their connection.") \
	X(flows_new, totals, flows_seen, tcpa_flows_seen_total, counter, \
	  "Connections started (a SYN on a reused tuple starts a new one).") \
	X(flows_closed, totals, flows_closed, tcpa_flows_closed_total, counter, \
	  "Closed connections forgotten after time_wait_s.") \
	X(flows_active, totals, flows_active, tcpa_flows_active, gauge, \
	  "Connections tracked now.") \
	X(acks, totals, acks, tcpa_acks_total, counter, \
	  "ACKs that acknowledged new data: the base of capture_loss.") \
	X(midstream, capture, midstream, tcpa_capture_midstream_total, counter, \
	  "Connections picked up without their handshake.") \
	X(one_sided, capture, one_sided, tcpa_capture_one_sided_total, counter, \
	  "Connections with one direction seen only, for syn_timeout_s (asymmetric mirror).") \
	X(wrong_core, capture, wrong_core, tcpa_capture_wrong_core_total, counter, \
	  "Segments of a known connection that reached another RX core first (RSS not symmetric).") \
	X(flow_evicted, capture, flow_evicted, tcpa_capture_flow_evicted_total, counter, \
	  "Connections evicted to make room: flow table full (raise flows_per_core).") \
	X(flow_expired, capture, flow_expired, tcpa_capture_flow_expired_total, counter, \
	  "Open connections dropped after their idle timeout.") \
	X(ring_full, capture, ring_full, tcpa_capture_ring_full_total, counter, \
	  "Segments dropped because the owner core's dispatch ring was full.") \
	X(tcp_unexpected, capture, tcp_unexpected, tcpa_capture_tcp_unexpected_total, counter, \
	  "Segments the state machine did not expect in the endpoint's state.") \
	X(ep_full, capture, ep_full, tcpa_capture_ep_full_total, counter, \
	  "Connection sides not aggregated: endpoint table full of records worth keeping.") \
	X(ep_evicted, capture, ep_evicted, tcpa_capture_ep_evicted_total, counter, \
	  "Endpoint records that gave way: nothing live or to report, or one-off SYN sources.") \
	X(timer_full, capture, timer_full, tcpa_capture_timer_full_total, counter, \
	  "Timed rules skipped: timer queue full.") \
	X(events_lost, capture, events_lost, tcpa_capture_events_lost_total, counter, \
	  "Anomaly occurrences not logged: event queue full or the log unwritable.") \
	X(time_jump, capture, time_jump, tcpa_capture_time_jump_total, counter, \
	  "Packets whose timestamp was set aside as far from the capture's pace (time_jump_s).")

/** The report sections counters belong to, in the report's order. */
#define TCPA_STATS_SECTIONS(X) X(totals) X(capture)

/** One RX core's counters, written by that core only. */
struct TCPA_CACHE_ALIGNED tcpa_stats {
#define X(field, section, key, metric, type, help) uint64_t field;
	TCPA_STATS(X)
#undef X
	uint64_t malformed[TCPA_PKT_VERDICT_MAX];   /* by verdict; [0] unused */
	uint64_t encap[TCPA_PKT_ENCAP_MAX];         /* segments that came through each */
	uint64_t anom[TCPA_ANOM_MAX];
	uint64_t first_ts;      /* packet time of the first segment, ns (0 = none) */
	uint64_t last_ts;       /* latest packet time seen, ns */
};

/** Count a segment under each encapsulation it came through (tcpa_pkt.encap). */
static inline void
tcpa_stats_encap(struct tcpa_stats *st, uint8_t encap)
{
	for (unsigned e = 0; encap != 0; e++, encap >>= 1)
		st->encap[e] += encap & 1;
}

/** One counter of the list, for code that walks it. */
struct tcpa_stat_def {
	const char *section;
	const char *key;
	const char *metric;
	const char *type;       /* "counter" or "gauge" */
	const char *help;
	uint32_t offset;        /* of its field in struct tcpa_stats */
};

/** The list, in its order. */
extern const struct tcpa_stat_def tcpa_stat_defs[];
/** Entries in tcpa_stat_defs. */
extern const unsigned tcpa_stat_ndefs;

/** Value of counter @p d in @p st. */
static inline uint64_t
tcpa_stat_value(const struct tcpa_stats *st, const struct tcpa_stat_def *d)
{
	return *(const uint64_t *)(const void *)((const uint8_t *)st + d->offset);
}

#endif /* TCPA_STATS_H */
