/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TCPA_PKT_H
#define TCPA_PKT_H

/**
 * @file
 * Frame parser: bytes of an Ethernet frame -> struct tcpa_pkt.
 *
 * Walks Ethernet, 802.1Q and 802.1ad (QinQ) tags, IPv4 (with options) and
 * IPv6 (with extension headers), then TCP and its options. Never reads past
 * the given length. All multi-byte fields in struct tcpa_pkt are in host
 * byte order.
 */

#include <stdint.h>
#include <string.h>

#include "tcpa_common.h"

/*
 * Malformed-input reasons (ANOMALIES.md, "Malformed input"). The X-macro
 * yields the verdict enum, the JSON keys and the help text, so they cannot
 * drift apart. Verdict 0 is TCPA_PKT_OK.
 */
#define TCPA_PKT_MALFORMED(X) \
	X(bad_l2,      "Ethernet header or VLAN tags malformed or cut short") \
	X(bad_ip,      "IP header invalid: version, header length, total length") \
	X(bad_tcp,     "TCP header invalid: data offset or options") \
	X(truncated,   "frame ends inside the IP or TCP header (snap length)") \
	X(bad_flags,   "impossible TCP flags: SYN+FIN, SYN+RST, none, FIN+PSH+URG without ACK") \
	X(ip_fragment, "IP fragment (not reassembled)") \
	X(not_tcp,     "not TCP over IPv4/IPv6 (counted, ignored)")

enum tcpa_pkt_verdict {
	TCPA_PKT_OK = 0,
#define X(name, help) TCPA_PKT_##name,
	TCPA_PKT_MALFORMED(X)
#undef X
	TCPA_PKT_VERDICT_MAX
};

/** Name of a verdict ("bad_ip"), "ok" for TCPA_PKT_OK. */
const char *tcpa_pkt_verdict_name(enum tcpa_pkt_verdict v);
/** Help text of a verdict. */
const char *tcpa_pkt_verdict_help(enum tcpa_pkt_verdict v);

/* TCP header flags, as on the wire. */
#define TCPA_TCP_FIN 0x01
#define TCPA_TCP_SYN 0x02
#define TCPA_TCP_RST 0x04
#define TCPA_TCP_PSH 0x08
#define TCPA_TCP_ACK 0x10
#define TCPA_TCP_URG 0x20
#define TCPA_TCP_ECE 0x40
#define TCPA_TCP_CWR 0x80

/* Which TCP options were present (tcpa_pkt.opts). */
#define TCPA_OPT_MSS    0x01
#define TCPA_OPT_WSCALE 0x02
#define TCPA_OPT_SACKOK 0x04
#define TCPA_OPT_TS     0x08
#define TCPA_OPT_SACK   0x10

#define TCPA_PKT_MAX_SACK 4

/*
 * An address. IPv4 is stored IPv4-mapped (::ffff:a.b.c.d) so that one key
 * layout serves both families and the family is implied by the address.
 */
struct tcpa_ip {
	uint8_t b[16];
};

/** @p ip = the IPv4 address @p v4 (the 4 bytes as on the wire), IPv4-mapped. */
static inline void
tcpa_ip_set_v4(struct tcpa_ip *ip, const uint8_t v4[4])
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memcpy(ip->b, prefix, sizeof(prefix));
	memcpy(ip->b + sizeof(prefix), v4, 4);
}

/** Same, from a host-order address (10.0.0.1 = 0x0a000001). */
static inline void
tcpa_ip_set_v4h(struct tcpa_ip *ip, uint32_t a)
{
	const uint8_t v4[4] = { (uint8_t)(a >> 24), (uint8_t)(a >> 16), (uint8_t)(a >> 8), (uint8_t)a };

	tcpa_ip_set_v4(ip, v4);
}

/**
 * One parsed TCP segment. 120 bytes, so it can travel between cores by value
 * in a ring and the mbuf can be freed by the core that received it.
 */
struct tcpa_pkt {
	struct tcpa_ip src;
	struct tcpa_ip dst;
	uint16_t sport;
	uint16_t dport;
	uint32_t vlan;          /* (outer id << 12) | inner id; 0 = untagged */
	uint32_t seq;
	uint32_t ack;
	uint16_t win;           /* raw, unscaled */
	uint16_t payload_len;   /* from the IP length, not the captured length */
	uint16_t mss;           /* valid if opts & TCPA_OPT_MSS */
	uint8_t tcp_flags;
	uint8_t opts;           /* TCPA_OPT_* present */
	uint8_t wscale;         /* valid if opts & TCPA_OPT_WSCALE */
	uint8_t nsack;          /* SACK blocks in sack[] */
	uint8_t family;         /* 4 or 6 */
	uint8_t rxc;            /* index of the core that received the frame */
	uint32_t tsval;         /* valid if opts & TCPA_OPT_TS */
	uint32_t tsecr;
	uint32_t sack[TCPA_PKT_MAX_SACK][2]; /* left, right edges */
	uint32_t wire_len;      /* frame length, for byte totals */
	uint64_t hash;          /* symmetric keyed hash, set by tcpa_engine_hash */
	uint64_t ts;            /* packet time, ns */
};

/**
 * Parse one Ethernet frame.
 *
 * Fills every field of @p p that the frame carries except hash, ts, rxc
 * and wire_len, which belong to the caller (wire_len is set to @p len).
 *
 * @param frame  first byte of the Ethernet header
 * @param len    bytes available at @p frame (captured length)
 * @param p      output
 * @return TCPA_PKT_OK, or the reason the frame is not a usable TCP segment.
 */
enum tcpa_pkt_verdict tcpa_pkt_parse(const uint8_t *frame, uint32_t len, struct tcpa_pkt *p);

#endif /* TCPA_PKT_H */
