/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TCPA_CTL_H
#define TCPA_CTL_H

/*
 * Control-core queries (ctl.c): each builds a JSON answer from the RX
 * cores' state without stopping them. They are the handlers of the
 * management socket's commands (mgmt.c) and of the /tcpa/... telemetry
 * commands.
 *
 * Contract of every handler:
 *  - app: the application whose state it answers about;
 *  - args: the request object ({"cmd": NAME, ...}); never NULL.
 *  - success: return 0 and set *out to the answer's "data" (new reference).
 *  - failure: return -errno and set *out to a JSON string saying what was
 *    wrong (new reference), e.g. "unknown state 'FOO'"; mgmt.c answers
 *    {"ok": false, "error": that string}.
 */

#include <jansson.h>

struct tcpa_app;

typedef int (*tcpa_ctl_handler)(struct tcpa_app *app, const json_t *args, json_t **out);

/* {"version": "0.1.0", "dpdk": "...", "uptime_s": n} */
int tcpa_ctl_version(struct tcpa_app *app, const json_t *args, json_t **out);
/* ports (rx, missed, errors, nombuf), cores (packets, dispatched, drops,
 * flow table fill), mempool (in use, free) */
int tcpa_ctl_stats(struct tcpa_app *app, const json_t *args, json_t **out);
/* the report's "anomalies" object, plus "malformed" and "capture" */
int tcpa_ctl_anomalies(struct tcpa_app *app, const json_t *args, json_t **out);
/* array of report endpoint objects; filters: "state" (endpoints with at
 * least one connection in it), "anomaly" (with a non-zero count),
 * "top" (at most N, most severe first) */
int tcpa_ctl_endpoints(struct tcpa_app *app, const json_t *args, json_t **out);
/* array of flow records (4-tuple, both states, packets and bytes each way,
 * idle time, handshake RTT, the per-connection conditions it showed);
 * filters: "ip", "port" (either side), "src", "dst", "sport", "dport",
 * "state" (either endpoint), "anomaly" (close_wait_stuck, idle_close,
 * stale_reuse, syn_unanswered), "top" (longest idle first) */
int tcpa_ctl_flows(struct tcpa_app *app, const json_t *args, json_t **out);
/* the whole report object */
int tcpa_ctl_report(struct tcpa_app *app, const json_t *args, json_t **out);
/* {"cmd":"config"}: every key; {"cmd":"config","set":{KEY: VALUE,...}}:
 * change live keys (all or nothing), answer the new configuration */
int tcpa_ctl_config(struct tcpa_app *app, const json_t *args, json_t **out);

/*
 * Large answers, produced part by part (mgmt.c writes them into the
 * client's buffer as the client reads): "flows", "endpoints" and "report".
 * Each starts like a handler (0, or -errno with *err the message) and gives
 * a stream of the whole answer line, {"ok": true, "data": ...} and its
 * newline; listings end with "total" (how many passed the filters),
 * "shown" and, for table-order flows that stopped at top, "cursor".
 */
struct tcpa_ctl_stream;

typedef int (*tcpa_ctl_emit_fn)(void *arg, const char *buf, size_t n);

int tcpa_ctl_flows_stream(struct tcpa_app *app, const json_t *args,
		struct tcpa_ctl_stream **st, json_t **err);
int tcpa_ctl_endpoints_stream(struct tcpa_app *app, const json_t *args,
		struct tcpa_ctl_stream **st, json_t **err);
int tcpa_ctl_report_stream(struct tcpa_app *app, const json_t *args,
		struct tcpa_ctl_stream **st, json_t **err);

/**
 * Write the next part of the answer line through @p emit (about @p room
 * bytes, a bounded number of table entries visited).
 * @return 1 when the line is complete, 0 to be called again, -ENOMEM.
 */
int tcpa_ctl_stream_step(struct tcpa_ctl_stream *s, tcpa_ctl_emit_fn emit, void *arg,
		size_t room);

void tcpa_ctl_stream_free(struct tcpa_ctl_stream *s);

#endif /* TCPA_CTL_H */
