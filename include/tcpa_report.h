/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TCPA_REPORT_H
#define TCPA_REPORT_H

/**
 * @file
 * The report (INTERFACES.md, "JSON report") and its human rendering, built
 * with jansson on the control core from a snapshot of the RX cores' state.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tcpa_conf.h"
#include "tcpa_endpoint.h"
#include "tcpa_engine.h"

/** One endpoint, summed over every RX core's table. */
struct tcpa_report_ep {
	struct tcpa_ep_key key;
	uint64_t states[TCPA_TCP_ST_MAX];
	uint64_t conns;
	uint64_t anom[TCPA_ANOM_MAX];
	uint64_t cw_stuck;      /* live close_wait_stuck connections */
	uint64_t tw_peak;       /* sum of the cores' TIME_WAIT peaks: an upper bound */
	uint64_t idle_sum_ms;
	uint32_t idle_max_ms;
	uint32_t max_win;
	uint16_t mss;
	uint8_t wscale;
	uint8_t pflags;
};

/** Everything a report is made of. */
struct tcpa_report_in {
	const struct tcpa_stats *total;     /* summed over cores */
	const uint64_t *core_pkts;          /* per RX core: segments analyzed */
	unsigned ncores;
	const struct tcpa_report_ep *eps;
	size_t neps;
	const struct tcpa_conf *conf;
	const char *version;
	int complete;                       /* the input was analyzed to its end */
};

/**
 * Sum the endpoint tables of @p n cores into one array (malloc'd, caller
 * frees). Reads other cores' tables without stopping them.
 * @return 0 or -ENOMEM.
 */
int tcpa_report_merge_eps(struct tcpa_ep_table *const *tabs, unsigned n,
		struct tcpa_report_ep **out, size_t *nout);

/** Sum @p n cores' counters into @p sum (relaxed reads). */
void tcpa_report_sum_stats(const struct tcpa_stats *const *st, unsigned n, struct tcpa_stats *sum);

struct json_t;

/** The report object (caller owns it), NULL on ENOMEM. */
struct json_t *tcpa_report_build(const struct tcpa_report_in *in);

/** Endpoint objects, most severe first, at most @p limit (new array). */
struct json_t *tcpa_report_endpoints_json(const struct tcpa_report_in *in, size_t limit);

/** One endpoint as the report and the socket show it. */
struct json_t *tcpa_report_endpoint(const struct tcpa_report_ep *ep, const struct tcpa_conf *conf);

/** "10.0.0.1:80", "[fd00::1]:443" or "10.0.0.1" (client). */
void tcpa_report_ep_name(const struct tcpa_ep_key *k, char *buf, size_t len);

/**
 * Where a connection or endpoint lives beside its addresses, into @p o:
 * "vlan" (the VLAN ids, outer << 12 | inner) when tagged, and "tunnel"
 * ("vxlan:1001": kind and identity) when it came through one; a mixed
 * zone (tcpa_flow.h) gives "tunnel": "KIND" and its "zone" (hex).
 * Nothing for an untagged, untunnelled one.
 * @return 0, or -1 on ENOMEM.
 */
int tcpa_report_zone(struct json_t *o, uint32_t zone);

/**
 * Which connections a "flows" request wants (INTERFACES.md): parts of the
 * 4-tuple, a state of either endpoint, a per-connection condition, and
 * how many (longest idle first).
 */
struct tcpa_flow_filter {
	int has_ip[2];          /* "src" (or "ip") and "dst" given */
	struct tcpa_ip ip[2];
	int any_ip;             /* "ip": either side */
	int port[2];            /* "sport" (client's), "dport" (server's), -1 = any */
	int any_port;           /* "port": either side, -1 = any */
	int state;              /* either endpoint's state, -1 = any */
	int anom;               /* a connection condition it showed, -1 = any */
	size_t top;             /* at most this many records (SIZE_MAX: all) */
	size_t offset;          /* skip this many first */
	int has_cursor;         /* table order from where a previous listing stopped */
	unsigned cursor_engine;
	uint32_t cursor_index;
};

/* Engines a listing walks at most (one per RX core). */
#define TCPA_REPORT_MAX_ENGINES 64
/* Records a sorted listing keeps at most (offset + top): its memory bound. */
#define TCPA_REPORT_MAX_SORTED 100000

/** A filter that takes every connection. */
void tcpa_report_flow_filter_all(struct tcpa_flow_filter *x);

/**
 * The filter of a "flows" request's arguments: "ip", "src", "dst" (IPv4 or
 * IPv6), "port", "sport", "dport", "state", "anomaly" (close_wait_stuck,
 * idle_close, stale_reuse or syn_unanswered), "top" (default 1000, 0 = all),
 * "offset", "cursor" (where a table-order listing stopped).
 * @return 0, or -EINVAL with @p err saying which argument is wrong.
 */
int tcpa_report_flow_filter(const struct json_t *args, struct tcpa_flow_filter *x,
		char *err, size_t len);

/** A "state" argument (an endpoint state's name) as a state, -1 if absent. */
int tcpa_report_state_arg(const struct json_t *args, int *st, char *err, size_t len);

/** Does connection @p c (and its cold entry @p x) pass filter @p flt's tests (not top)? */
int tcpa_report_flow_match(const struct tcpa_flow_filter *flt, const struct tcpa_conn *c,
		const struct tcpa_conn_cold *x);

/**
 * One flow record: client and server, both states, packets and bytes each
 * way, idle time at @p now_ms, midstream, the per-connection conditions it
 * showed, handshake RTT. NULL on ENOMEM.
 */
struct json_t *tcpa_report_flow(const struct tcpa_conn *c, const struct tcpa_conn_cold *x,
		uint32_t now_ms);

/**
 * The records of the connections of @p n engines that pass @p flt: longest
 * idle first when offset + top is at most TCPA_REPORT_MAX_SORTED, else
 * (every connection) in table order. Reads other cores' tables without
 * stopping them. NULL on ENOMEM.
 */
struct json_t *tcpa_report_flows(struct tcpa_engine *const *engs, unsigned n,
		const struct tcpa_flow_filter *flt);

/*
 * Listings produced record by record, in bounded memory and bounded work
 * per call, for answers too large to build at once.
 */
struct tcpa_flow_iter;

/**
 * Connections of @p n engines that pass @p flt: @p sorted, the offset + top
 * longest idle (at most TCPA_REPORT_MAX_SORTED, kept in a heap while the
 * tables are scanned); else in table order from the filter's cursor.
 * NULL with errno EINVAL (too many to sort) or ENOMEM.
 */
struct tcpa_flow_iter *tcpa_flow_iter_create(struct tcpa_engine *const *engs, unsigned n,
		const struct tcpa_flow_filter *flt, int sorted);

/**
 * The next record, visiting at most *@p budget table entries (decremented).
 * @return 1 with *@p rec set (caller owns it); 2 when the budget ran out
 *   first (call again); 0 at the end; -ENOMEM.
 */
int tcpa_flow_iter_next(struct tcpa_flow_iter *it, struct json_t **rec, unsigned *budget);

/** Connections that passed the filter among those visited so far (all, at the end). */
uint64_t tcpa_flow_iter_total(const struct tcpa_flow_iter *it);

/**
 * Table order: where the listing stopped, as "E:I" for the next request's
 * "cursor". @return 0 if the tables were walked to their end (no cursor).
 */
int tcpa_flow_iter_cursor(const struct tcpa_flow_iter *it, char *buf, size_t len);

void tcpa_flow_iter_free(struct tcpa_flow_iter *it);

struct tcpa_ep_iter;

/**
 * The endpoints of @p n tables, merged, those with a connection in @p state
 * (-1: any) and a count of @p anom (-1: any), most severe first, from
 * @p offset, at most @p top (0: all). NULL on ENOMEM.
 */
struct tcpa_ep_iter *tcpa_ep_iter_create(struct tcpa_ep_table *const *tabs, unsigned n,
		int state, int anom, size_t offset, size_t top, const struct tcpa_conf *conf);

/**
 * The next endpoint object, merging and sorting at most about *@p budget
 * steps (decremented) on the way.
 * @return 1 with *@p rec set (caller owns it); 2 when the budget ran out
 *   first (call again); 0 at the end; -ENOMEM.
 */
int tcpa_ep_iter_next(struct tcpa_ep_iter *it, struct json_t **rec, unsigned *budget);

/** Endpoints that passed the filter, before offset and top (known once the first record came). */
size_t tcpa_ep_iter_total(const struct tcpa_ep_iter *it);

void tcpa_ep_iter_free(struct tcpa_ep_iter *it);

/** The severity an endpoint is sorted by (CLOSE_WAIT first, then anomalies, then states). */
uint64_t tcpa_report_ep_severity(const struct tcpa_report_ep *e);

/**
 * The Prometheus text exposition of a report and (if not NULL) a stats
 * answer: every counter of the list (tcpa_stats.h) under its name,
 * anomalies and malformed reasons by label, the first @p top endpoints'
 * connections and anomalies, ports and RX cores.
 */
void tcpa_report_metrics(FILE *out, const struct json_t *report, const struct json_t *stats,
		size_t top);

/** One series of one value (e.g. tcpa_up), in the same exposition. */
void tcpa_report_metric(FILE *out, const char *name, const char *type, const char *help,
		const struct json_t *v);

/** Print a report object for a person. @return 0 or -EIO. */
int tcpa_report_print_text(FILE *out, const struct json_t *report);

#endif /* TCPA_REPORT_H */
