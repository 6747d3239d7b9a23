/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TCPA_ANOM_H
#define TCPA_ANOM_H

/**
 * @file
 * The anomaly keys of ANOMALIES.md, "Anomalies" section: one X-macro gives
 * the enum, the JSON keys and the help, so the report always carries every
 * key of the contract. X(name, counting, help); counting is 'S' for a
 * per-segment rule, 'C' for a per-connection condition.
 */

#define TCPA_ANOMALIES(X) \
	X(close_wait_stuck,        'C', "in CLOSE_WAIT for close_wait_s without a FIN of its own: app never called close()") \
	X(idle_close,              'C', "FIN after idle_close_s without payload: server idle timeout") \
	X(stale_reuse,             'C', "payload sent after acknowledging the peer's FIN: stale pooled connection") \
	X(tuple_reuse,             'C', "SYN on a 4-tuple still in TIME_WAIT or closed < time_wait_s ago") \
	X(syn_retransmit,          'S', "SYN repeated with the same ISN: listen backlog (SO_BACKLOG) or loss") \
	X(syn_unanswered,          'C', "SYN without SYN-ACK or RST within syn_timeout_s") \
	X(synack_retransmit,       'S', "SYN-ACK repeated: the client did not complete the handshake") \
	X(conn_refused,            'C', "RST answering a SYN") \
	X(rst_abort,               'C', "RST on an established connection (SO_LINGER 0, unread data)") \
	X(rst_invalid,             'C', "RST outside the receiver's window (not obeyed)") \
	X(retransmission,          'S', "segment whose sequence range was already sent") \
	X(fast_retransmission,     'S', "retransmission during loss recovery (dup ACKs or SACK), before min RTO") \
	X(spurious_retransmission, 'S', "retransmission of data already acknowledged") \
	X(out_of_order,            'S', "segment filling a gap within the RTT of the one that left it") \
	X(lost_segment,            'S', "segment beyond the next expected sequence: capture missed data") \
	X(ack_unseen,              'S', "ACK for data this observer never saw") \
	X(dup_ack,                 'S', "duplicate ACK while data is outstanding") \
	X(zero_window,             'S', "zero receive window advertised") \
	X(zero_window_probe,       'S', "probe into the peer's zero window") \
	X(window_full,             'S', "payload fills the peer's advertised window (small SO_RCVBUF)") \
	X(keepalive,               'S', "keep-alive probe (SO_KEEPALIVE or application ping)") \
	X(keepalive_ack,           'S', "answer to a keep-alive probe") \
	X(nagle_delay,             'S', "sub-MSS segment held until a delayed ACK: TCP_NODELAY off")

enum tcpa_anom {
#define X(name, kind, help) TCPA_ANOM_##name,
	TCPA_ANOMALIES(X)
#undef X
	TCPA_ANOM_MAX
};

/** JSON key of an anomaly; "?" out of range. */
const char *tcpa_anom_name(unsigned a);
/** Help text of an anomaly. */
const char *tcpa_anom_help(unsigned a);

#endif /* TCPA_ANOM_H */
