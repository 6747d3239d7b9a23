/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TCPA_CONF_H
#define TCPA_CONF_H

/**
 * @file
 * Configuration: every key, its default, its bounds and its help, from one
 * X-macro list. Sources, later ones win: built-in defaults, the JSON file
 * (--config), the command line (--key value), the management socket
 * (live keys only).
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Numeric keys: X(name, default, min, max, live, help). "live" keys may be
 * changed while running; the others size memory at start.
 */
#define TCPA_CONF_NUM(X) \
	X(flows_per_core,        1048576, 1024, 1U << 30, 0, \
	  "connections each RX core can track; memory is reserved at start (128 B each)") \
	X(endpoints_per_core,    65536, 256, (1U << 22) - 1, 0, \
	  "server endpoints (ip:port) and client addresses each RX core can aggregate") \
	X(ring_size,             4096, 256, 1U << 20, 0, \
	  "slots of each core-to-core dispatch ring (power of two)") \
	X(mbufs,                 16383, 1023, 1U << 24, 0, \
	  "packet buffers in the receive pool") \
	X(mbuf_size,             2176, 512, 65535, 0, \
	  "bytes of each packet buffer (data room incl. 128 B headroom)") \
	X(hash_seed,             0, 0, UINT64_MAX, 0, \
	  "flow hash secret seed; 0 = random at start (set only to reproduce a benchmark split)") \
	X(time_wait_s,           60, 1, 3600, 1, \
	  "TIME_WAIT duration (2MSL); also how long a closed tuple is remembered for tuple_reuse") \
	X(close_wait_s,          5, 1, 86400, 1, \
	  "CLOSE_WAIT age after which close_wait_stuck is counted") \
	X(idle_close_s,          2, 1, 86400, 1, \
	  "idle time before a FIN that counts as idle_close") \
	X(syn_timeout_s,         3, 1, 600, 1, \
	  "time a SYN may wait for SYN-ACK or RST before syn_unanswered; also one_sided") \
	X(nagle_delay_ms,        30, 1, 10000, 1, \
	  "ACK delay that makes a held-back sub-MSS segment a nagle_delay") \
	X(min_rto_ms,            200, 1, 60000, 1, \
	  "minimum RTO: retransmissions sooner than this after the hole are fast") \
	X(reorder_ms,            3, 1, 10000, 1, \
	  "out-of-order window when the flow's RTT is unknown") \
	X(timeout_syn_s,         30, 1, 86400, 1, \
	  "idle timeout of a connection whose handshake is not complete") \
	X(timeout_established_s, 432000, 1, 2000000, 1, \
	  "idle timeout of an open connection (includes CLOSE_WAIT and midstream)") \
	X(timeout_closing_s,     240, 1, 86400, 1, \
	  "idle timeout of a connection in its FIN exchange") \
	X(rules,                 1, 0, 1, 1, \
	  "1 = anomaly rules on; 0 = state tracking only (benchmarks of the state machine)") \
	X(report_endpoints,      1000, 0, 1U << 24, 1, \
	  "endpoints listed in the report, most severe first (0 = all)") \
	X(event_rate,            100, 1, 1000000, 1, \
	  "event log lines per second per anomaly, live; the rest are counted as suppressed") \
	X(mgmt_idle_s,           30, 1, 86400, 1, \
	  "management socket: a client that sends and reads nothing this long is closed") \
	X(time_jump_s,           3600, 0, 1U << 30, 0, \
	  "capture analysis: a timestamp this far from the capture's pace is set aside (time_jump); 0 = off") \
	X(tunnel_in_key,         1, 0, 1, 0, \
	  "1 = VLAN ids and tunnel identity (VXLAN/Geneve VNI, GRE key, ERSPAN session) tell connections and endpoints apart; 0 = ignored (a mirror where one direction arrives tagged or tunnelled and the other not)")

/* String keys: X(name, default, help). Not live. */
#define TCPA_CONF_STR(X) \
	X(lcores, "", "EAL lcore list when none is given before '--' (e.g. \"0-2\"); main lcore is the control core") \
	X(mgmt, "/run/tcpa/tcpa.sock", "management socket path") \
	X(event_log, "", "NDJSON event log file, one line per anomaly occurrence (\"\" = off); reopened on SIGHUP") \
	X(vxlan_ports, "", "UDP destination ports that carry VXLAN besides 4789, comma-separated (at most 4)")

#define TCPA_CONF_STR_MAX 256

struct tcpa_conf {
#define X(name, def, min, max, live, help) uint64_t name;
	TCPA_CONF_NUM(X)
#undef X
#define X(name, def, help) char name[TCPA_CONF_STR_MAX];
	TCPA_CONF_STR(X)
#undef X
};

struct json_t;

/** Fill @p c with the built-in defaults. */
void tcpa_conf_defaults(struct tcpa_conf *c);

/**
 * Set one key from text (command line). Key names accept '-' for '_'.
 * @p err receives one line naming the key and what was expected.
 * @return 0, -ENOENT (no such key), -EINVAL (bad value or out of range),
 *   -EPERM (not live and @p live_only is set).
 */
int tcpa_conf_set(struct tcpa_conf *c, const char *key, const char *value, int live_only,
		char *err, size_t errlen);

/**
 * Apply a JSON object of keys. All or nothing: on error @p c is unchanged.
 * @return 0, or -ENOENT/-EINVAL/-EPERM as tcpa_conf_set(), with @p err set.
 */
int tcpa_conf_apply_json(struct tcpa_conf *c, const struct json_t *obj, int live_only,
		char *err, size_t errlen);

/**
 * Load a JSON file (an object of keys) over @p c. All or nothing.
 * @return 0, -ENOENT/-EIO (cannot read), -EINVAL (bad JSON, key or value),
 *   with @p err naming the file, line and key.
 */
int tcpa_conf_load_file(struct tcpa_conf *c, const char *path, char *err, size_t errlen);

/** Cross-key checks (timeouts against thresholds, ring_size a power of two). */
int tcpa_conf_check(const struct tcpa_conf *c, char *err, size_t errlen);

/**
 * The ports of vxlan_ports into @p ports (room for TCPA_PKT_MAX_VXLAN_PORTS).
 * @return how many, or -EINVAL with a message naming the key.
 */
int tcpa_conf_vxlan_ports(const struct tcpa_conf *c, uint16_t *ports, char *err, size_t errlen);

/** Is @p key (with '-' or '_') a configuration key? */
int tcpa_conf_is_key(const char *key);

/** All keys and values as a new JSON object (caller owns it). NULL on ENOMEM. */
struct json_t *tcpa_conf_dump(const struct tcpa_conf *c);

/** Print every key, default and help (for --help). */
void tcpa_conf_help(FILE *out);

#endif /* TCPA_CONF_H */
