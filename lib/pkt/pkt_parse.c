/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frame parser: Ethernet (up to two VLAN tags) -> IPv4/IPv6 -> TCP.
 *
 * Invariants kept throughout:
 * - a byte is read only after a check that it lies before frame + len;
 * - lengths come from the headers (IP total/payload length), never from the
 *   captured length, so a snap length cuts only what the caller can see, not
 *   what the segment carried;
 * - nothing is written but *p: no globals, no allocation, no I/O.
 *
 * Precedence when a frame has several faults: the first layer that is wrong
 * wins, and inside a layer an inconsistency between headers (bad_*) wins
 * over a short capture (truncated) as soon as the fields that show it have
 * been captured. Flags are checked last, so that a bad_flags segment comes
 * back with every other field filled and can be attributed to its flow.
 */

#include <endian.h>
#include <stdint.h>
#include <string.h>

#include "tcpa_pkt.h"

/*
 * The header calls it 128 bytes; what matters to the rings is that it does
 * not grow past two cache lines.
 */
_Static_assert(sizeof(struct tcpa_pkt) <= 128, "struct tcpa_pkt must fit in 128 bytes");

#define ETH_HLEN         14
#define ETH_TYPE_IPV4    0x0800
#define ETH_TYPE_IPV6    0x86dd
#define ETH_TYPE_VLAN    0x8100  /* 802.1Q */
#define ETH_TYPE_QINQ    0x88a8  /* 802.1ad */
#define VLAN_HLEN        4
#define VLAN_MAX_TAGS    2
#define VLAN_ID_MASK     0x0fff

#define IPV4_HLEN_MIN    20
#define IPV4_FRAG_MASK   0x3fff  /* MF flag and fragment offset */
#define IPV6_HLEN        40
#define IPV6_MAX_EXT     8
#define IPV6_FRAG_MASK   0xfff9  /* fragment offset and M flag */

#define IP_PROTO_TCP     6
/* IPv6 extension headers we walk (ESP 50 and "no next" 59 end the walk). */
#define IP6_NH_HOPOPTS   0
#define IP6_NH_ROUTING   43
#define IP6_NH_FRAGMENT  44
#define IP6_NH_AH        51
#define IP6_NH_DSTOPTS   60

#define TCP_HLEN_MIN     20
#define TCP_WSCALE_MAX   14      /* RFC 7323 section 2.3 */

#define TCPOPT_EOL       0
#define TCPOPT_NOP       1
#define TCPOPT_MSS       2
#define TCPOPT_WSCALE    3
#define TCPOPT_SACKOK    4
#define TCPOPT_SACK      5
#define TCPOPT_TS        8
#define TCPOLEN_MSS      4
#define TCPOLEN_WSCALE   3
#define TCPOLEN_SACKOK   2
#define TCPOLEN_TS       10
#define TCPOLEN_SACK_BLK 8
/* NOP, NOP, timestamps: what Linux puts on nearly every segment. */
#define TCPOPT_NOP_NOP_TS 0x0101080aU

static const char *const verdict_names[TCPA_PKT_VERDICT_MAX] = {
	[TCPA_PKT_OK] = "ok",
#define X(name, help) [TCPA_PKT_##name] = #name,
	TCPA_PKT_MALFORMED(X)
#undef X
};

static const char *const verdict_helps[TCPA_PKT_VERDICT_MAX] = {
	[TCPA_PKT_OK] = "usable TCP segment",
#define X(name, help) [TCPA_PKT_##name] = help,
	TCPA_PKT_MALFORMED(X)
#undef X
};

const char *
tcpa_pkt_verdict_name(enum tcpa_pkt_verdict v)
{
	if ((unsigned int)v >= TCPA_PKT_VERDICT_MAX)
		return "unknown";
	return verdict_names[v];
}

const char *
tcpa_pkt_verdict_help(enum tcpa_pkt_verdict v)
{
	if ((unsigned int)v >= TCPA_PKT_VERDICT_MAX)
		return "unknown verdict";
	return verdict_helps[v];
}

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

/*
 * Walk one or two VLAN tags. On entry *type is a tag TPID and *off points at
 * the tag; on success both point past the last tag.
 */
static inline enum tcpa_pkt_verdict
parse_vlan(const uint8_t *frame, uint32_t len, uint32_t *off, uint16_t *type,
	   struct tcpa_pkt *p)
{
	uint32_t o = *off;
	uint32_t vlan = 0;
	uint16_t t = *type;
	unsigned int n;

	for (n = 0; t == ETH_TYPE_VLAN || t == ETH_TYPE_QINQ; n++) {
		if (n == VLAN_MAX_TAGS || len - o < VLAN_HLEN)
			return TCPA_PKT_bad_l2;
		vlan = (vlan << 12) | (ld16(frame + o) & VLAN_ID_MASK);
		t = ld16(frame + o + 2);
		o += VLAN_HLEN;
	}
	p->vlan = vlan;
	*off = o;
	*type = t;
	return TCPA_PKT_OK;
}

/*
 * IPv4 header at frame + *off. On success *off is the TCP header offset and
 * *l4len the bytes the IP header says the TCP segment has.
 */
static inline enum tcpa_pkt_verdict
parse_ipv4(const uint8_t *frame, uint32_t len, uint32_t *off, struct tcpa_pkt *p,
	   uint32_t *l4len)
{
	const uint8_t *ip = frame + *off;
	uint32_t avail = len - *off;
	uint32_t ihl, tot;

	if (unlikely(avail < IPV4_HLEN_MIN))
		return TCPA_PKT_truncated;
	ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	tot = ld16(ip + 2);
	if (unlikely((ip[0] >> 4) != 4 || ihl < IPV4_HLEN_MIN || tot < ihl))
		return TCPA_PKT_bad_ip;
	if (unlikely(ihl > avail))
		return TCPA_PKT_truncated;
	if (unlikely((ld16(ip + 6) & IPV4_FRAG_MASK) != 0))
		return TCPA_PKT_ip_fragment;
	if (unlikely(ip[9] != IP_PROTO_TCP))
		return TCPA_PKT_not_tcp;
	tcpa_ip_set_v4(&p->src, ip + 12);
	tcpa_ip_set_v4(&p->dst, ip + 16);
	p->family = 4;
	*off += ihl;
	*l4len = tot - ihl;
	return TCPA_PKT_OK;
}

/*
 * Walk IPv6 extension headers. On entry *nh is the first next-header value
 * that is not TCP, *off the offset of that header, *rem the payload bytes
 * left by the IPv6 header. On success *nh is TCP and *off, *rem are past the
 * last extension header.
 */
static TCPA_COLD enum tcpa_pkt_verdict
walk_ipv6_ext(const uint8_t *frame, uint32_t len, uint32_t *off, uint32_t *rem,
	      uint8_t nh)
{
	uint32_t o = *off;
	uint32_t r = *rem;
	uint32_t elen;
	unsigned int n;

	for (n = 0; nh != IP_PROTO_TCP; n++) {
		const uint8_t *h = frame + o;

		switch (nh) {
		case IP6_NH_HOPOPTS:
			/* RFC 8200 4.1: only right after the IPv6 header. */
			if (n != 0)
				return TCPA_PKT_bad_ip;
			/* fall through */
		case IP6_NH_ROUTING:
		case IP6_NH_DSTOPTS:
		case IP6_NH_FRAGMENT:
		case IP6_NH_AH:
			break;
		default:
			/* ESP, no next header, UDP, ICMPv6, anything else. */
			return TCPA_PKT_not_tcp;
		}
		if (n == IPV6_MAX_EXT || r < 8)
			return TCPA_PKT_bad_ip;
		if (len - o < 8)
			return TCPA_PKT_truncated;
		if (nh == IP6_NH_FRAGMENT) {
			/* Only an atomic fragment (offset 0, M = 0) is whole. */
			if ((ld16(h + 2) & IPV6_FRAG_MASK) != 0)
				return TCPA_PKT_ip_fragment;
			elen = 8;
		} else if (nh == IP6_NH_AH) {
			elen = ((uint32_t)h[1] + 2) * 4;   /* RFC 4302 */
		} else {
			elen = ((uint32_t)h[1] + 1) * 8;   /* RFC 8200 */
		}
		if (elen > r)
			return TCPA_PKT_bad_ip;
		if (elen > len - o)
			return TCPA_PKT_truncated;
		nh = h[0];
		o += elen;
		r -= elen;
	}
	*off = o;
	*rem = r;
	return TCPA_PKT_OK;
}

/*
 * IPv6 header at frame + *off. On success *off is the TCP header offset and
 * *l4len the bytes the headers say the TCP segment has.
 */
static inline enum tcpa_pkt_verdict
parse_ipv6(const uint8_t *frame, uint32_t len, uint32_t *off, struct tcpa_pkt *p,
	   uint32_t *l4len)
{
	const uint8_t *ip = frame + *off;
	uint32_t plen;
	uint8_t nh;

	if (unlikely(len - *off < IPV6_HLEN))
		return TCPA_PKT_truncated;
	plen = ld16(ip + 4);
	/* plen 0: a jumbogram (RFC 2675), whose length we do not follow. */
	if (unlikely((ip[0] >> 4) != 6 || plen == 0))
		return TCPA_PKT_bad_ip;
	nh = ip[6];
	*off += IPV6_HLEN;
	if (unlikely(nh != IP_PROTO_TCP)) {
		enum tcpa_pkt_verdict v = walk_ipv6_ext(frame, len, off, &plen, nh);

		if (v != TCPA_PKT_OK)
			return v;
	}
	memcpy(p->src.b, ip + 8, sizeof(p->src.b));
	memcpy(p->dst.b, ip + 24, sizeof(p->dst.b));
	p->family = 6;
	*l4len = plen;
	return TCPA_PKT_OK;
}

/*
 * TCP options in [o, o + olen), all captured and inside the header. A known
 * option with the wrong length is skipped like an unknown one; an option
 * that cannot be skipped (length < 2 or past the header) is bad_tcp.
 *
 * Out of line: the common segment (no options, or NOP NOP TS, which
 * parse_tcp() takes directly) never gets here, and inlining the walk made
 * that path some 10-20% slower (gcc 12 -O3, 66-byte ACK, noisy VM).
 */
static __attribute__((noinline)) enum tcpa_pkt_verdict
parse_tcp_opts(const uint8_t *o, uint32_t olen, struct tcpa_pkt *p)
{
	const uint8_t *end = o + olen;

	while (o < end) {
		uint32_t kind = o[0];
		uint32_t l;

		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			o++;
			continue;
		}
		if (end - o < 2)
			return TCPA_PKT_bad_tcp;
		l = o[1];
		if (l < 2 || l > (uint32_t)(end - o))
			return TCPA_PKT_bad_tcp;
		switch (kind) {
		case TCPOPT_MSS:
			if (l == TCPOLEN_MSS) {
				p->opts |= TCPA_OPT_MSS;
				p->mss = ld16(o + 2);
			}
			break;
		case TCPOPT_WSCALE:
			if (l == TCPOLEN_WSCALE) {
				p->opts |= TCPA_OPT_WSCALE;
				p->wscale = o[2] > TCP_WSCALE_MAX ? TCP_WSCALE_MAX : o[2];
			}
			break;
		case TCPOPT_SACKOK:
			if (l == TCPOLEN_SACKOK)
				p->opts |= TCPA_OPT_SACKOK;
			break;
		case TCPOPT_SACK: {
			uint32_t nblk = (l - 2) / TCPOLEN_SACK_BLK;
			uint32_t i;

			if ((l - 2) % TCPOLEN_SACK_BLK != 0 || nblk == 0 ||
			    nblk > TCPA_PKT_MAX_SACK)
				break;
			for (i = 0; i < nblk; i++) {
				p->sack[i][0] = ld32(o + 2 + i * TCPOLEN_SACK_BLK);
				p->sack[i][1] = ld32(o + 6 + i * TCPOLEN_SACK_BLK);
			}
			p->opts |= TCPA_OPT_SACK;
			p->nsack = (uint8_t)nblk;
			break;
		}
		case TCPOPT_TS:
			if (l == TCPOLEN_TS) {
				p->opts |= TCPA_OPT_TS;
				p->tsval = ld32(o + 2);
				p->tsecr = ld32(o + 6);
			}
			break;
		default:
			break;
		}
		o += l;
	}
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
	p->payload_len = (uint16_t)(l4len - thl);
	if (thl == TCP_HLEN_MIN + 12 && ld32(th + TCP_HLEN_MIN) == TCPOPT_NOP_NOP_TS) {
		p->opts = TCPA_OPT_TS;
		p->tsval = ld32(th + TCP_HLEN_MIN + 4);
		p->tsecr = ld32(th + TCP_HLEN_MIN + 8);
	} else if (thl > TCP_HLEN_MIN) {
		enum tcpa_pkt_verdict v;

		v = parse_tcp_opts(th + TCP_HLEN_MIN, thl - TCP_HLEN_MIN, p);
		if (unlikely(v != TCPA_PKT_OK))
			return v;
	}
	if (unlikely(tcp_flags_bad(p->tcp_flags)))
		return TCPA_PKT_bad_flags;
	return TCPA_PKT_OK;
}

enum tcpa_pkt_verdict
tcpa_pkt_parse(const uint8_t *frame, uint32_t len, struct tcpa_pkt *p)
{
	enum tcpa_pkt_verdict v;
	uint32_t off = ETH_HLEN;
	uint32_t l4len;
	uint16_t type;

	p->wire_len = len;
	p->vlan = 0;
	p->mss = 0;
	p->opts = 0;
	p->wscale = 0;
	p->nsack = 0;
	p->tsval = 0;
	p->tsecr = 0;
	memset(p->sack, 0, sizeof(p->sack));

	if (unlikely(len < ETH_HLEN))
		return TCPA_PKT_bad_l2;
	type = ld16(frame + 12);
	if (type == ETH_TYPE_VLAN || type == ETH_TYPE_QINQ) {
		v = parse_vlan(frame, len, &off, &type, p);
		if (v != TCPA_PKT_OK)
			return v;
	}

	if (type == ETH_TYPE_IPV4)
		v = parse_ipv4(frame, len, &off, p, &l4len);
	else if (type == ETH_TYPE_IPV6)
		v = parse_ipv6(frame, len, &off, p, &l4len);
	else
		return TCPA_PKT_not_tcp;
	if (unlikely(v != TCPA_PKT_OK))
		return v;

	return parse_tcp(frame + off, len - off, l4len, p);
}
