/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TCPA_PKT_INTERNAL_H
#define TCPA_PKT_INTERNAL_H

/*
 * Shared by the parser's files: the walk cursor and the IP and TCP header
 * parsers, inline so that the Ethernet fast path (pkt_parse.c) and the
 * walker of everything else (pkt_tunnel.c, pkt_link.c) read headers the
 * same way and give the same verdicts.
 *
 * Invariants kept throughout:
 * - a byte is read only after a check that it lies before b + cap;
 * - lengths come from the headers (IP total/payload length), not from the
 *   captured length, so a snap length cuts only what the caller can see;
 *   the exceptions (TSO) need the frame's wire length, see wend;
 * - nothing is written but *p (and the cursor, a local of the caller); the
 *   one global, the extra VXLAN ports, is written once at start.
 *
 * Precedence when a frame has several faults: the first layer that is wrong
 * wins, and inside a layer an inconsistency between headers (bad_*) wins
 * over a short capture (truncated) as soon as the fields that show it have
 * been captured. Flags are checked last, so that a bad_flags segment comes
 * back with every other field filled and can be attributed to its flow.
 * A header cut short before the first IP header is bad_l2 (the link layer
 * or its tags), from the first IP header on truncated (a snap length).
 */

#include <endian.h>
#include <stdint.h>
#include <string.h>

#include "tcpa_pkt.h"

#define ETH_HLEN         14
#define ETH_TYPE_IPV4    0x0800
#define ETH_TYPE_IPV6    0x86dd
#define ETH_TYPE_VLAN    0x8100  /* 802.1Q */
#define ETH_TYPE_QINQ    0x88a8  /* 802.1ad */
#define ETH_TYPE_QINQ_OLD 0x9100 /* pre-802.1ad QinQ */
#define ETH_TYPE_MPLS    0x8847
#define ETH_TYPE_MPLS_MC 0x8848
#define ETH_TYPE_TEB     0x6558  /* transparent Ethernet bridging (GRE, Geneve) */
#define VLAN_HLEN        4
#define VLAN_ID_MASK     0x0fff
#define VLAN_KEEP_MASK   0xffffff /* two 12-bit ids */

#define IPV4_HLEN_MIN    20
#define IPV4_FRAG_MASK   0x3fff  /* MF flag and fragment offset */
#define IPV6_HLEN        40

#define IP_PROTO_IPIP    4
#define IP_PROTO_TCP     6
#define IP_PROTO_UDP     17
#define IP_PROTO_IPV6    41
#define IP_PROTO_GRE     47

#define TCP_HLEN_MIN     20
/* NOP, NOP, timestamps: what Linux puts on nearly every segment. */
#define TCPOPT_NOP_NOP_TS 0x0101080aU

/* wend when the frame's length on the wire is not known. */
#define PKT_WIRE_UNKNOWN UINT32_MAX
/* What an IPv4 or IPv6 length fix-up returns for a bad length. */
#define PKT_LEN_BAD      UINT32_MAX

/* What lies at the cursor. */
enum pkt_at {
	PKT_AT_ETH,       /* an Ethernet header (inside a tunnel) */
	PKT_AT_ETYPE,     /* what next says, an Ethertype */
	PKT_AT_IP,        /* IPv4 or IPv6, told by the version nibble */
	PKT_AT_IPV4,
	PKT_AT_IPV6,
	PKT_AT_IPPROTO,   /* what next says, an IP protocol number */
	PKT_AT_MPLS,      /* a label stack entry */
	PKT_AT_MPLS_DATA, /* what follows the bottom of the label stack */
	PKT_AT_GRE,
	PKT_AT_ERSPAN2,
	PKT_AT_ERSPAN3,
	PKT_AT_UDP,
	PKT_AT_VXLAN,
	PKT_AT_GENEVE,
};

/*
 * Where the walk is. cap bounds what may be read; wend is the offset where
 * the current layer ends on the wire: the caller's wire length, then each
 * IP (and UDP) header's length, or PKT_WIRE_UNKNOWN. Once past an IP
 * header, off <= wend; wend never wraps (lengths are at most 2^31).
 */
struct pkt_cur {
	const uint8_t *b;
	uint32_t cap;
	uint32_t wend;
	uint32_t off;
	uint16_t next;    /* Ethertype or IP protocol, per at */
	uint8_t at;       /* enum pkt_at */
	uint8_t depth;    /* headers counted against TCPA_PKT_MAX_DEPTH */
	uint8_t past_ip;  /* an IP header has been walked */
};

static inline uint16_t
ld16(const uint8_t *b)
{
	uint16_t v;

	memcpy(&v, b, sizeof(v));
	return be16toh(v);
}

static inline uint32_t
ld32(const uint8_t *b)
{
	uint32_t v;

	memcpy(&v, b, sizeof(v));
	return be32toh(v);
}

/* Fields a frame may not set, cleared so none is left from the last one. */
static inline void
pkt_reset(struct tcpa_pkt *p, uint32_t wire_len)
{
	p->wire_len = wire_len;
	p->zone = 0;
	p->mss = 0;
	p->opts = 0;
	p->wscale = 0;
	p->nsack = 0;
	p->tunnel_kind = TCPA_PKT_TUNNEL_NONE;
	p->encap = 0;
	p->tunnel_id = 0;
	p->tsval = 0;
	p->tsecr = 0;
	memset(p->sack, 0, sizeof(p->sack));
}

/* Out of line, cold: pkt_parse.c. */
uint32_t pkt_ipv4_len_fix(uint32_t tot, uint32_t ihl, uint32_t wleft, uint32_t avail);
uint32_t pkt_ipv6_len_fix(const uint8_t *ip, uint32_t plen, uint32_t wleft, uint32_t avail);
enum tcpa_pkt_verdict pkt_tcp_opts(const uint8_t *o, uint32_t olen, struct tcpa_pkt *p);

/* An IPv6 extension header walk's outcome: verdict, then where it stopped. */
struct pkt_ext {
	uint32_t off;
	uint8_t nh;
	uint8_t v;
};

struct pkt_ext pkt_ipv6_ext(const uint8_t *b, uint32_t cap, uint32_t off, uint32_t wend,
			    uint8_t nh);

/*
 * IPv4 header at the cursor. On success the cursor is past it, wend is the
 * datagram's end, next its protocol, and p has its addresses.
 */
static inline enum tcpa_pkt_verdict
parse_ipv4(struct pkt_cur *c, struct tcpa_pkt *p)
{
	const uint8_t *ip = c->b + c->off;
	uint32_t avail = c->cap - c->off;
	uint32_t ihl, tot;

	if (unlikely(avail < IPV4_HLEN_MIN))
		return TCPA_PKT_truncated;
	ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	tot = ld16(ip + 2);
	if (unlikely((ip[0] >> 4) != 4 || ihl < IPV4_HLEN_MIN))
		return TCPA_PKT_bad_ip;
	if (unlikely(tot < ihl || tot > c->wend - c->off)) {
		tot = pkt_ipv4_len_fix(tot, ihl, c->wend == PKT_WIRE_UNKNOWN ?
				       PKT_WIRE_UNKNOWN : c->wend - c->off, avail);
		if (tot == PKT_LEN_BAD)
			return TCPA_PKT_bad_ip;
	}
	if (unlikely(ihl > avail))
		return TCPA_PKT_truncated;
	if (unlikely((ld16(ip + 6) & IPV4_FRAG_MASK) != 0))
		return TCPA_PKT_ip_fragment;
	tcpa_ip_set_v4(&p->src, ip + 12);
	tcpa_ip_set_v4(&p->dst, ip + 16);
	p->family = 4;
	c->next = ip[9];
	c->wend = c->off + tot;
	c->off += ihl;
	c->past_ip = 1;
	return TCPA_PKT_OK;
}

/*
 * IPv6 header and its extension headers at the cursor. On success the
 * cursor is past them, wend is the datagram's end, next the protocol of
 * what follows, and p has its addresses.
 */
static inline enum tcpa_pkt_verdict
parse_ipv6(struct pkt_cur *c, struct tcpa_pkt *p)
{
	const uint8_t *ip = c->b + c->off;
	uint32_t plen;
	uint8_t nh;

	if (unlikely(c->cap - c->off < IPV6_HLEN))
		return TCPA_PKT_truncated;
	plen = ld16(ip + 4);
	if (unlikely((ip[0] >> 4) != 6))
		return TCPA_PKT_bad_ip;
	if (unlikely(plen == 0 || plen > c->wend - c->off - IPV6_HLEN)) {
		plen = pkt_ipv6_len_fix(ip, plen, c->wend == PKT_WIRE_UNKNOWN ?
					PKT_WIRE_UNKNOWN : c->wend - c->off, c->cap - c->off);
		if (plen == PKT_LEN_BAD)
			return TCPA_PKT_bad_ip;
	}
	nh = ip[6];
	c->wend = c->off + IPV6_HLEN + plen;
	c->off += IPV6_HLEN;
	if (unlikely(nh != IP_PROTO_TCP)) {
		struct pkt_ext e = pkt_ipv6_ext(c->b, c->cap, c->off, c->wend, nh);

		if (e.v != TCPA_PKT_OK)
			return (enum tcpa_pkt_verdict)e.v;
		c->off = e.off;
		nh = e.nh;
	}
	memcpy(p->src.b, ip + 8, sizeof(p->src.b));
	memcpy(p->dst.b, ip + 24, sizeof(p->dst.b));
	p->family = 6;
	c->next = nh;
	c->past_ip = 1;
	return TCPA_PKT_OK;
}

/* SYN+FIN, SYN+RST, none of the six classic flags, FIN+PSH+URG without ACK. */
static inline int
tcp_flags_bad(uint8_t f)
{
	const uint8_t syn_fin = TCPA_TCP_SYN | TCPA_TCP_FIN;
	const uint8_t syn_rst = TCPA_TCP_SYN | TCPA_TCP_RST;
	const uint8_t xmas = TCPA_TCP_FIN | TCPA_TCP_PSH | TCPA_TCP_URG;

	return (f & 0x3f) == 0 || (f & syn_fin) == syn_fin || (f & syn_rst) == syn_rst ||
		(f & (xmas | TCPA_TCP_ACK)) == xmas;
}

/*
 * TCP header at th, avail captured bytes, l4len bytes of segment according
 * to the IP header.
 */
static inline enum tcpa_pkt_verdict
parse_tcp(const uint8_t *th, uint32_t avail, uint32_t l4len, struct tcpa_pkt *p)
{
	uint32_t thl;

	if (unlikely(l4len < TCP_HLEN_MIN))
		return TCPA_PKT_bad_tcp;
	if (unlikely(avail < TCP_HLEN_MIN))
		return TCPA_PKT_truncated;
	thl = (uint32_t)(th[12] >> 4) * 4;
	if (unlikely(thl < TCP_HLEN_MIN || thl > l4len))
		return TCPA_PKT_bad_tcp;
	if (unlikely(thl > avail))
		return TCPA_PKT_truncated;
	p->sport = ld16(th);
	p->dport = ld16(th + 2);
	p->seq = ld32(th + 4);
	p->ack = ld32(th + 8);
	p->tcp_flags = th[13];
	p->win = ld16(th + 14);
	p->payload_len = l4len - thl;
	if (thl == TCP_HLEN_MIN + 12 && ld32(th + TCP_HLEN_MIN) == TCPOPT_NOP_NOP_TS) {
		p->opts = TCPA_OPT_TS;
		p->tsval = ld32(th + TCP_HLEN_MIN + 4);
		p->tsecr = ld32(th + TCP_HLEN_MIN + 8);
	} else if (thl > TCP_HLEN_MIN) {
		enum tcpa_pkt_verdict v;

		v = pkt_tcp_opts(th + TCP_HLEN_MIN, thl - TCP_HLEN_MIN, p);
		if (unlikely(v != TCPA_PKT_OK))
			return v;
	}
	if (unlikely(tcp_flags_bad(p->tcp_flags)))
		return TCPA_PKT_bad_flags;
	return TCPA_PKT_OK;
}

/* The walker of everything but the common case: pkt_tunnel.c. Cold. */
enum tcpa_pkt_verdict pkt_walk(struct pkt_cur c, struct tcpa_pkt *p);

/* Link types other than Ethernet: pkt_link.c. Cold. */
enum tcpa_pkt_verdict pkt_link(uint32_t linktype, const uint8_t *frame, uint32_t caplen,
			       uint32_t wirelen, struct tcpa_pkt *p);

#endif /* TCPA_PKT_INTERNAL_H */
