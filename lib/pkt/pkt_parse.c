/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frame parser, the live path: Ethernet, up to two VLAN tags, IPv4 or IPv6,
 * TCP, straight through. Anything else (more tags, MPLS, a tunnel, a
 * protocol that is not TCP) leaves this path for pkt_walk() with the cursor
 * where it stopped, so that plain Ethernet pays nothing for them. The
 * invariants and the precedence of verdicts are in pkt_internal.h.
 */

#include <endian.h>
#include <stdint.h>
#include <string.h>

#include "tcpa_pkt.h"
#include "pkt_internal.h"

/*
 * The rings carry struct tcpa_pkt by value: it must not grow past two
 * cache lines.
 */
_Static_assert(sizeof(struct tcpa_pkt) <= 128, "struct tcpa_pkt must fit in 128 bytes");
_Static_assert(TCPA_PKT_ENCAP_MAX <= 8, "tcpa_pkt.encap has 8 bits");
_Static_assert(TCPA_PKT_MAX_DEPTH < 255, "pkt_cur.depth is 8 bits");

#define VLAN_FAST_TAGS   2       /* more go to pkt_walk() */

#define IPV6_MAX_EXT     8
#define IPV6_FRAG_MASK   0xfff9  /* fragment offset and M flag */
#define IPV6_OPT_PAD1    0
#define IPV6_OPT_JUMBO   0xc2    /* RFC 2675 */
#define IPV6_OPTLEN_JUMBO 4
/* Past this, a jumbo length would wrap the datagram's end offset (pkt_cur.wend). */
#define IPV6_JUMBO_MAX   0x7fffffffU
/* IPv6 extension headers we walk. */
#define IP6_NH_HOPOPTS   0
#define IP6_NH_ROUTING   43
#define IP6_NH_FRAGMENT  44
#define IP6_NH_AH        51
#define IP6_NH_DSTOPTS   60

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

/*
 * An IPv4 total length that is below the header length or above what the
 * wire left for the datagram (wleft, or PKT_WIRE_UNKNOWN). 0 is a TSO/GSO
 * segment captured on the sending host (or BIG TCP): its length is the
 * frame's, the wire length when known, else what was captured (avail). A
 * length past the frame's end is taken from the frame too, as Wireshark
 * does (its TCP length comes from the "reported" frame length). Any other
 * short length is bad.
 *
 * @return the datagram's length, or PKT_LEN_BAD.
 */
uint32_t TCPA_COLD
pkt_ipv4_len_fix(uint32_t tot, uint32_t ihl, uint32_t wleft, uint32_t avail)
{
	if (tot == 0) {
		/* Below ihl only if the header is cut: parse_ipv4() says truncated. */
		if (wleft == PKT_WIRE_UNKNOWN)
			return avail;
		tot = wleft;
	} else if (tot > wleft) {
		/* wleft is known: an unknown one is above any 16-bit length. */
		tot = wleft;
	}
	return tot < ihl ? PKT_LEN_BAD : tot;
}

/*
 * The Jumbo Payload option (RFC 2675) of the Hop-by-Hop header right after
 * the IPv6 header at ip, if it is there and captured: the payload length,
 * else 0.
 */
static uint32_t
ipv6_jumbo_len(const uint8_t *ip, uint32_t avail)
{
	const uint8_t *h = ip + IPV6_HLEN;
	uint32_t hlen, o;

	if (ip[6] != IP6_NH_HOPOPTS || avail < IPV6_HLEN + 8)
		return 0;
	hlen = ((uint32_t)h[1] + 1) * 8;
	if (hlen > avail - IPV6_HLEN)
		hlen = avail - IPV6_HLEN;
	for (o = 2; o < hlen;) {
		if (h[o] == IPV6_OPT_PAD1) {
			o++;
			continue;
		}
		if (hlen - o < 2 || (uint32_t)h[o + 1] + 2 > hlen - o)
			return 0;
		if (h[o] == IPV6_OPT_JUMBO && h[o + 1] == IPV6_OPTLEN_JUMBO)
			return ld32(h + o + 2);
		o += (uint32_t)h[o + 1] + 2;
	}
	return 0;
}

/*
 * An IPv6 payload length of 0, or one past what the wire left (wleft
 * bytes from the IPv6 header on, or PKT_WIRE_UNKNOWN). 0 is a jumbogram
 * when the Jumbo Payload option is there (its length is followed like
 * any other, up to 2 GB), else a TSO/GSO segment whose length is the
 * frame's, as for IPv4. A length past the frame's end is taken from the
 * frame.
 *
 * @return the payload length, or PKT_LEN_BAD.
 */
uint32_t TCPA_COLD
pkt_ipv6_len_fix(const uint8_t *ip, uint32_t plen, uint32_t wleft, uint32_t avail)
{
	if (plen == 0) {
		plen = ipv6_jumbo_len(ip, avail);
		if (plen == 0)
			return (wleft != PKT_WIRE_UNKNOWN ? wleft : avail) - IPV6_HLEN;
		if (plen > IPV6_JUMBO_MAX)
			return PKT_LEN_BAD;
	}
	if (wleft != PKT_WIRE_UNKNOWN && plen > wleft - IPV6_HLEN)
		plen = wleft - IPV6_HLEN;
	return plen;
}

/* Length of the extension header h, of type nh. */
static uint32_t
ipv6_ext_len(const uint8_t *h, uint8_t nh)
{
	if (nh == IP6_NH_FRAGMENT)
		return 8;
	if (nh == IP6_NH_AH)
		return ((uint32_t)h[1] + 2) * 4;   /* RFC 4302 */
	return ((uint32_t)h[1] + 1) * 8;           /* RFC 8200 */
}

static int
ipv6_is_ext(uint8_t nh)
{
	return nh == IP6_NH_HOPOPTS || nh == IP6_NH_ROUTING || nh == IP6_NH_DSTOPTS ||
		nh == IP6_NH_FRAGMENT || nh == IP6_NH_AH;
}

/*
 * Walk IPv6 extension headers from off (next header nh, the datagram ends
 * at wend) to the first header that is not one: TCP, a tunnel, or anything
 * else for the caller to judge (ESP, "no next header", UDP, ICMPv6...).
 */
struct pkt_ext TCPA_COLD
pkt_ipv6_ext(const uint8_t *b, uint32_t cap, uint32_t off, uint32_t wend, uint8_t nh)
{
	struct pkt_ext e = { .off = off, .nh = nh, .v = TCPA_PKT_OK };
	uint32_t elen;
	unsigned int n;

	for (n = 0; ipv6_is_ext(e.nh); n++) {
		const uint8_t *h = b + e.off;

		/* RFC 8200 4.1: Hop-by-hop only right after the IPv6 header. */
		if ((e.nh == IP6_NH_HOPOPTS && n != 0) || n == IPV6_MAX_EXT ||
		    wend - e.off < 8) {
			e.v = TCPA_PKT_bad_ip;
			return e;
		}
		if (cap - e.off < 8) {
			e.v = TCPA_PKT_truncated;
			return e;
		}
		/* Only an atomic fragment (offset 0, M = 0) is whole. */
		if (e.nh == IP6_NH_FRAGMENT && (ld16(h + 2) & IPV6_FRAG_MASK) != 0) {
			e.v = TCPA_PKT_ip_fragment;
			return e;
		}
		elen = ipv6_ext_len(h, e.nh);
		if (elen > wend - e.off)
			e.v = TCPA_PKT_bad_ip;
		else if (elen > cap - e.off)
			e.v = TCPA_PKT_truncated;
		if (e.v != TCPA_PKT_OK)
			return e;
		e.nh = h[0];
		e.off += elen;
	}
	return e;
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
enum tcpa_pkt_verdict __attribute__((noinline))
pkt_tcp_opts(const uint8_t *o, uint32_t olen, struct tcpa_pkt *p)
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

/*
 * Up to two VLAN tags (802.1Q or 802.1ad TPIDs). On entry *type is a tag
 * TPID and c->off points at the tag; on return *type is the Ethertype after
 * the last tag walked, which is another TPID if there are more.
 */
static inline enum tcpa_pkt_verdict
parse_vlan(struct pkt_cur *c, uint16_t *type, struct tcpa_pkt *p)
{
	uint32_t vlan = 0;
	uint16_t t = *type;
	unsigned int n;

	for (n = 0; n < VLAN_FAST_TAGS && (t == ETH_TYPE_VLAN || t == ETH_TYPE_QINQ); n++) {
		if (c->cap - c->off < VLAN_HLEN)
			return TCPA_PKT_bad_l2;
		vlan = (vlan << 12) | (ld16(c->b + c->off) & VLAN_ID_MASK);
		t = ld16(c->b + c->off + 2);
		c->off += VLAN_HLEN;
	}
	p->zone = vlan;
	p->encap = 1U << TCPA_PKT_ENCAP_vlan;
	*type = t;
	return TCPA_PKT_OK;
}

/*
 * Leave the fast path for pkt_walk() at offset off, where lies what
 * next_at says (BAIL_AT: an Ethertype or an IP protocol, and which). The
 * cursor goes as scalars so that the fast path keeps it in registers; for
 * the same reason the tags the fast path walked are counted here, again.
 */
static TCPA_COLD enum tcpa_pkt_verdict
bail(const uint8_t *frame, uint32_t len, uint32_t wend, uint32_t off, uint32_t next_at,
     struct tcpa_pkt *p)
{
	struct pkt_cur c = {
		.b = frame, .cap = len, .wend = wend, .off = off,
		.next = (uint16_t)next_at, .at = (uint8_t)(next_at >> 16),
	};
	uint16_t t = ld16(frame + 12);

	while (c.depth < VLAN_FAST_TAGS && (t == ETH_TYPE_VLAN || t == ETH_TYPE_QINQ)) {
		t = ld16(frame + ETH_HLEN + c.depth * VLAN_HLEN + 2);
		c.depth++;
	}
	c.past_ip = c.at == PKT_AT_IPPROTO;
	return pkt_walk(c, p);
}

#define BAIL_AT(next, at) ((uint32_t)(next) | (uint32_t)(at) << 16)

/*
 * Ethernet, up to two tags, IP, TCP: the common frame, without a call that
 * is not needed. wend is the frame's wire length or PKT_WIRE_UNKNOWN.
 */
static inline __attribute__((always_inline)) enum tcpa_pkt_verdict
parse_eth(const uint8_t *frame, uint32_t len, uint32_t wend, struct tcpa_pkt *p)
{
	struct pkt_cur c = { .b = frame, .cap = len, .wend = wend, .off = ETH_HLEN };
	enum tcpa_pkt_verdict v;
	uint16_t type;

	if (unlikely(len < ETH_HLEN))
		return TCPA_PKT_bad_l2;
	type = ld16(frame + 12);
	if (type == ETH_TYPE_VLAN || type == ETH_TYPE_QINQ) {
		v = parse_vlan(&c, &type, p);
		if (v != TCPA_PKT_OK)
			return v;
	}

	if (likely(type == ETH_TYPE_IPV4))
		v = parse_ipv4(&c, p);
	else if (type == ETH_TYPE_IPV6)
		v = parse_ipv6(&c, p);
	else
		return bail(frame, len, wend, c.off, BAIL_AT(type, PKT_AT_ETYPE), p);
	if (unlikely(v != TCPA_PKT_OK))
		return v;
	if (unlikely(c.next != IP_PROTO_TCP))
		return bail(frame, len, c.wend, c.off, BAIL_AT(c.next, PKT_AT_IPPROTO), p);
	return parse_tcp(frame + c.off, len - c.off, c.wend - c.off, p);
}

enum tcpa_pkt_verdict
tcpa_pkt_parse(const uint8_t *frame, uint32_t len, struct tcpa_pkt *p)
{
	pkt_reset(p, len);
	return parse_eth(frame, len, PKT_WIRE_UNKNOWN, p);
}

enum tcpa_pkt_verdict
tcpa_pkt_parse_link(uint32_t linktype, const uint8_t *frame, uint32_t caplen,
		    uint32_t wirelen, struct tcpa_pkt *p)
{
	if (unlikely(wirelen < caplen))
		wirelen = caplen;
	if (likely(linktype == TCPA_LINKTYPE_ETHERNET)) {
		pkt_reset(p, wirelen);
		return parse_eth(frame, caplen, wirelen, p);
	}
	return pkt_link(linktype, frame, caplen, wirelen, p);
}
