/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TCPA_PKT_H
#define TCPA_PKT_H

/**
 * @file
 * Frame parser: bytes of a captured frame -> struct tcpa_pkt.
 *
 * Link layers: Ethernet, Linux cooked (SLL, SLL2), raw IPv4/IPv6, BSD
 * loopback (NULL, LOOP), PPP (bare and in HDLC framing), Cisco HDLC and
 * NFLOG (tcpa_pkt_parse_link()). Then any stack of VLAN tags (802.1Q,
 * 802.1ad, 0x9100) and MPLS labels, IPv4 (with options) and IPv6 (with
 * extension headers), decapsulating tunnels to the innermost TCP segment:
 * IPv4/IPv6 in IPv4/IPv6, GRE (checksum, key, sequence; IP, MPLS or
 * Ethernet inside), ERSPAN types I, II and III, VXLAN and Geneve, at most
 * TCPA_PKT_MAX_DEPTH headers deep. Never reads past the captured length.
 * All multi-byte fields in struct tcpa_pkt are in host byte order.
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
	X(bad_l2,      "link-layer header, VLAN tags or MPLS labels malformed or cut short, " \
		       "or encapsulation nested deeper than the parser follows") \
	X(bad_ip,      "IP header invalid: version, header length, total length") \
	X(bad_tcp,     "TCP header invalid: data offset or options") \
	X(truncated,   "frame ends inside the IP, tunnel or TCP headers (snap length)") \
	X(bad_flags,   "impossible TCP flags: SYN+FIN, SYN+RST, none, FIN+PSH+URG without ACK") \
	X(ip_fragment, "IP fragment (not reassembled)") \
	X(not_tcp,     "not TCP over IPv4/IPv6, or inside an encapsulation tcpa does not " \
		       "decode (counted, ignored)")

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

/*
 * Encapsulations a frame went through on its way to the TCP segment
 * (tcpa_pkt.encap has bit 1 << TCPA_PKT_ENCAP_<name> set for each), so that
 * the caller can count the traffic per kind. The link-layer header is not
 * one of them. ERSPAN is carried in GRE: such a frame has both bits.
 */
#define TCPA_PKT_ENCAPS(X) \
	X(vlan,    "802.1Q, 802.1ad or 0x9100 VLAN tags") \
	X(mpls,    "MPLS label stack (0x8847, 0x8848)") \
	X(ipip,    "IPv4 or IPv6 directly inside IPv4 or IPv6 (protocol 4, 41)") \
	X(gre,     "GRE (protocol 47)") \
	X(erspan2, "ERSPAN type I or II (GRE 0x88be)") \
	X(erspan3, "ERSPAN type III (GRE 0x22eb)") \
	X(vxlan,   "VXLAN (UDP 4789 and configured ports)") \
	X(geneve,  "Geneve (UDP 6081)")

enum tcpa_pkt_encap {
#define X(name, help) TCPA_PKT_ENCAP_##name,
	TCPA_PKT_ENCAPS(X)
#undef X
	TCPA_PKT_ENCAP_MAX
};

/** Name of encapsulation bit @p e ("vxlan"), "unknown" if out of range. */
const char *tcpa_pkt_encap_name(enum tcpa_pkt_encap e);
/** Help text of encapsulation bit @p e. */
const char *tcpa_pkt_encap_help(enum tcpa_pkt_encap e);

/*
 * Tunnel identity (tcpa_pkt.tunnel_kind, tunnel_id): the identifier of the
 * innermost encapsulation that carries one. Flows are told apart by it, so
 * that two tenants reusing the same addresses stay apart. MPLS labels are
 * not identities (they are chosen per hop and per direction), nor are the
 * outer addresses of a tunnel.
 */
enum tcpa_pkt_tunnel {
	TCPA_PKT_TUNNEL_NONE = 0,
	TCPA_PKT_TUNNEL_VXLAN,  /* tunnel_id: 24-bit VNI */
	TCPA_PKT_TUNNEL_GENEVE, /* tunnel_id: 24-bit VNI */
	TCPA_PKT_TUNNEL_GRE,    /* tunnel_id: 32-bit GRE key (RFC 2890) */
	TCPA_PKT_TUNNEL_ERSPAN, /* tunnel_id: 10-bit ERSPAN session id */
	TCPA_PKT_TUNNEL_MAX
};

/** Name of a tunnel kind ("vxlan"), "none" for TCPA_PKT_TUNNEL_NONE. */
const char *tcpa_pkt_tunnel_name(enum tcpa_pkt_tunnel t);

/*
 * Zone (tcpa_pkt.zone): what tells connections apart beside their 4-tuple,
 * in 32 bits: the VLAN ids and the tunnel identity (VXLAN/Geneve VNI, GRE
 * key, ERSPAN session), so that two tenants reusing the same addresses stay
 * apart.
 *  - no tunnel: the VLAN ids, outer << 12 | inner (below 2^24);
 *  - in a tunnel: TCPA_ZONE_TUNNEL, the kind in bits 28..30, and the
 *    identity itself where it fits in bits 0..26: a VNI or GRE key below
 *    2^27 with no VLAN tag, an ERSPAN session (10 bits) under at most one
 *    tag (tag << 10 | session); otherwise TCPA_ZONE_MIXED and a 27-bit mix
 *    of the VLAN ids, kind and identity (two such identities share a zone
 *    once in 2^27, and then only connections with the same 4-tuple mix).
 * The parser sets it once per frame, so that hashing and comparing keys
 * cost plain traffic nothing.
 */
#define TCPA_ZONE_TUNNEL 0x80000000u
#define TCPA_ZONE_MIXED  0x08000000u
#define TCPA_ZONE_ID_MASK 0x07ffffffu

/** The zone of VLAN ids @p vlan and tunnel @p kind (enum tcpa_pkt_tunnel), @p id. */
uint32_t tcpa_pkt_zone(uint32_t vlan, unsigned kind, uint32_t id);

/** A zone taken apart for people. */
struct tcpa_zone {
	uint32_t vlan;          /* VLAN ids (outer << 12 | inner), 0 = none */
	uint32_t id;            /* tunnel identity, valid if exact */
	uint8_t kind;           /* enum tcpa_pkt_tunnel */
	uint8_t exact;          /* 0: a mixed zone, only the kind is known */
};

void tcpa_pkt_zone_decode(uint32_t zone, struct tcpa_zone *z);

/*
 * At most this many headers between the link-layer header and the
 * innermost IP header: each VLAN tag, MPLS label, inner Ethernet header,
 * GRE, ERSPAN, UDP, VXLAN and Geneve header, and each IP header that
 * carries a tunnel, counts one. Past it the frame is bad_l2: a stack that
 * deep is not traffic tcpa can attribute, and bad_l2 is a counter operators
 * look at (not_tcp would hide TCP that went unanalyzed).
 */
#define TCPA_PKT_MAX_DEPTH 8

/* Well-known VXLAN port; more can be added with tcpa_pkt_vxlan_ports_set(). */
#define TCPA_PKT_VXLAN_PORT  4789
#define TCPA_PKT_GENEVE_PORT 6081
#define TCPA_PKT_MAX_VXLAN_PORTS 4

/**
 * Also decode UDP to these destination ports as VXLAN (besides 4789; e.g.
 * 8472, Linux's and flannel's historical port). The table is global and
 * replaced as a whole; set it once at start, before any core parses frames:
 * it is read without synchronisation on the packet path.
 *
 * @return 0, or -1 if @p n > TCPA_PKT_MAX_VXLAN_PORTS (table unchanged).
 */
int tcpa_pkt_vxlan_ports_set(const uint16_t *ports, unsigned int n);

/*
 * Link types, by their LINKTYPE_ value (pcap-linktype(7)): what a pcap file
 * header or a pcapng interface block says.
 */
#define TCPA_LINKTYPE_NULL       0    /* BSD loopback, AF in host byte order */
#define TCPA_LINKTYPE_ETHERNET   1
#define TCPA_LINKTYPE_PPP        9
#define TCPA_LINKTYPE_DLT_RAW1   12   /* DLT_RAW on Linux and most BSDs (libpcap's value) */
#define TCPA_LINKTYPE_DLT_RAW2   14   /* DLT_RAW on OpenBSD */
#define TCPA_LINKTYPE_PPP_HDLC   50
#define TCPA_LINKTYPE_RAW        101
#define TCPA_LINKTYPE_C_HDLC     104  /* Cisco HDLC */
#define TCPA_LINKTYPE_LOOP       108  /* OpenBSD loopback, AF in network byte order */
#define TCPA_LINKTYPE_LINUX_SLL  113
#define TCPA_LINKTYPE_IPV4       228
#define TCPA_LINKTYPE_IPV6       229
#define TCPA_LINKTYPE_NFLOG      239
#define TCPA_LINKTYPE_LINUX_SLL2 276

/** 1 if tcpa_pkt_parse_link() reads frames of @p linktype, else 0. */
int tcpa_pkt_linktype_supported(uint32_t linktype);

/**
 * Short name of a link type as pcap-linktype(7) spells it without the
 * LINKTYPE_ prefix ("LINUX_SLL2", "IEEE802_11_RADIOTAP"), or NULL if the
 * parser does not know the number.
 */
const char *tcpa_pkt_linktype_name(uint32_t linktype);

/**
 * For a link type tcpa cannot read: one sentence saying what to capture or
 * convert instead, to print after the name. NULL for a supported one.
 */
const char *tcpa_pkt_linktype_advice(uint32_t linktype);

/**
 * One parsed TCP segment. 128 bytes, so it can travel between cores by
 * value in a ring and the mbuf can be freed by the core that received it.
 */
struct tcpa_pkt {
	struct tcpa_ip src;
	struct tcpa_ip dst;
	uint16_t sport;
	uint16_t dport;
	/*
	 * The zone (TCPA_ZONE_*): without a tunnel, the last two VLAN ids
	 * walked, outer << 12 | inner (one tag: its id; 0 = untagged); with
	 * more tags the innermost two are kept (outer tags are the ones a
	 * broker or a provider adds). Through a tunnel, those ids (tags inside
	 * the tunnel count too, after the outer frame's) with the tunnel's
	 * identity.
	 */
	uint32_t zone;
	uint32_t seq;
	uint32_t ack;
	uint16_t win;           /* raw, unscaled */
	uint16_t mss;           /* valid if opts & TCPA_OPT_MSS */
	uint32_t payload_len;   /* from the IP length (see tcpa_pkt_parse_link) */
	uint8_t tcp_flags;
	uint8_t family;         /* 4 or 6 */
	uint8_t rxc;            /* index of the core that received the frame */
	uint8_t opts;           /* TCPA_OPT_* present */
	uint8_t wscale;         /* valid if opts & TCPA_OPT_WSCALE */
	uint8_t nsack;          /* SACK blocks in sack[] */
	uint8_t tunnel_kind;    /* enum tcpa_pkt_tunnel of tunnel_id */
	uint8_t encap;          /* 1 << enum tcpa_pkt_encap, for each one walked */
	uint32_t tunnel_id;     /* VNI, GRE key or ERSPAN session; 0 if kind NONE */
	uint32_t tsval;         /* valid if opts & TCPA_OPT_TS */
	uint32_t tsecr;
	uint32_t sack[TCPA_PKT_MAX_SACK][2]; /* left, right edges */
	uint32_t wire_len;      /* frame length, for byte totals */
	uint64_t hash;          /* symmetric keyed hash, set by tcpa_engine_hash */
	uint64_t ts;            /* packet time, ns */
};

/** Drop what tells @p p's connection apart beside its 4-tuple (tunnel_in_key 0). */
static inline void
tcpa_pkt_forget_zone(struct tcpa_pkt *p)
{
	p->zone = 0;
	p->tunnel_kind = TCPA_PKT_TUNNEL_NONE;
	p->tunnel_id = 0;
}

/**
 * Parse one Ethernet frame: the live path.
 *
 * Fills every field of @p p that the frame carries except hash, ts, rxc
 * and wire_len, which belong to the caller (wire_len is set to @p len).
 * The frame's length on the wire is taken as unknown: IP lengths are
 * followed even past @p len (a snap length or a segmented buffer cuts only
 * what the caller can see), and an IPv4 total length or IPv6 payload
 * length of 0 (TSO) is taken from @p len. Callers that know the wire
 * length use tcpa_pkt_parse_link(), at the same cost for Ethernet.
 *
 * @param frame  first byte of the Ethernet header
 * @param len    bytes available at @p frame (captured length)
 * @param p      output
 * @return TCPA_PKT_OK, or the reason the frame is not a usable TCP segment.
 */
enum tcpa_pkt_verdict tcpa_pkt_parse(const uint8_t *frame, uint32_t len, struct tcpa_pkt *p);

/**
 * Parse one frame of link type @p linktype (TCPA_LINKTYPE_*).
 *
 * As tcpa_pkt_parse(), with the frame's original length known:
 * - payload_len comes from the IP header's length, so a snap length
 *   (@p caplen < @p wirelen) cuts only what the caller can see;
 * - an IPv4 total length or IPv6 payload length of 0 (TSO/GSO segments
 *   captured on the sending host, BIG TCP) is taken from @p wirelen, and
 *   so is one larger than @p wirelen leaves room for: the frame is what
 *   the segment carried, as Wireshark's "reported length" is;
 * - inside a tunnel, the inner IP length is believed even when the outer
 *   datagram is shorter (a mirror that truncates, e.g. ERSPAN's T bit),
 *   except 0, taken from the outer datagram.
 * wire_len is set to @p wirelen (or @p caplen if that is larger).
 * An unsupported link type gives not_tcp (check tcpa_pkt_linktype_supported()
 * once per file or interface, not per frame).
 *
 * @param linktype  LINKTYPE_ value of the frame's file or interface
 * @param frame     first byte of the link-layer header
 * @param caplen    bytes available at @p frame
 * @param wirelen   the frame's length on the wire (pcap "len")
 * @param p         output
 */
enum tcpa_pkt_verdict tcpa_pkt_parse_link(uint32_t linktype, const uint8_t *frame,
					  uint32_t caplen, uint32_t wirelen,
					  struct tcpa_pkt *p);

#endif /* TCPA_PKT_H */
