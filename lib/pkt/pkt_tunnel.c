/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The walker: every frame that is not Ethernet, up to two VLAN tags, IP and
 * TCP comes here (cold), from the Ethernet fast path where it stopped or
 * from a link-layer header (pkt_link.c). One step per header, down to the
 * innermost TCP segment: VLAN tags, MPLS labels, IP in IP, GRE, ERSPAN,
 * VXLAN, Geneve, in any order, at most TCPA_PKT_MAX_DEPTH headers deep.
 *
 * Every step reads only captured bytes and either advances the cursor or
 * hands over to a step that does, so the walk ends (and depth bounds it
 * long before the frame ends).
 *
 * Lengths in tunnels: a tunnel header must fit in the IP datagram that
 * carries it (else bad_ip). What it carries is read only up to that
 * datagram's end, but the inner IP length is believed past it: a mirror
 * that truncates (ERSPAN's T bit, a VXLAN mirror session's packet length)
 * cuts what was carried, not what the segment was.
 */

#include <stdint.h>
#include <string.h>

#include "tcpa_pkt.h"
#include "pkt_internal.h"

#define UDP_HLEN         8

#define GRE_HLEN_MIN     4
#define GRE_F_CSUM       0x8000
#define GRE_F_ROUTING    0x4000  /* RFC 1701 source routing: not decoded */
#define GRE_F_KEY        0x2000
#define GRE_F_SEQ        0x1000
#define GRE_VERSION      0x0007  /* 0; 1 is PPTP's enhanced GRE */
#define GRE_PROTO_ERSPAN2 0x88be /* type I without sequence number, type II with */
#define GRE_PROTO_ERSPAN3 0x22eb

#define ERSPAN2_HLEN     8
#define ERSPAN3_HLEN     12
#define ERSPAN3_SUBHLEN  8       /* platform specific subheader, if O is set */
#define ERSPAN_VER2      1       /* the version field of type II */
#define ERSPAN_VER3      2       /* ... and of type III */
#define ERSPAN_SESSION   0x03ff
#define ERSPAN3_FT_ETH   0
#define ERSPAN3_FT_IP    2

#define VXLAN_HLEN       8
#define VXLAN_F_VNI      0x08    /* I flag: the VNI is valid (RFC 7348) */
#define GENEVE_HLEN      8

#define MPLS_HLEN        4
#define MPLS_BOS         0x100   /* bottom of stack */
#define MPLS_PW_CW_LEN   4       /* pseudowire control word (RFC 4385) */

static const char *const encap_names[TCPA_PKT_ENCAP_MAX] = {
#define X(name, help) [TCPA_PKT_ENCAP_##name] = #name,
	TCPA_PKT_ENCAPS(X)
#undef X
};

static const char *const encap_helps[TCPA_PKT_ENCAP_MAX] = {
#define X(name, help) [TCPA_PKT_ENCAP_##name] = help,
	TCPA_PKT_ENCAPS(X)
#undef X
};

static const char *const tunnel_names[TCPA_PKT_TUNNEL_MAX] = {
	[TCPA_PKT_TUNNEL_NONE] = "none",
	[TCPA_PKT_TUNNEL_VXLAN] = "vxlan",
	[TCPA_PKT_TUNNEL_GENEVE] = "geneve",
	[TCPA_PKT_TUNNEL_GRE] = "gre",
	[TCPA_PKT_TUNNEL_ERSPAN] = "erspan",
};

/* Extra VXLAN ports: written once at start, read-only while parsing. */
static uint16_t vxlan_ports[TCPA_PKT_MAX_VXLAN_PORTS];
static unsigned int n_vxlan_ports;

const char *
tcpa_pkt_encap_name(enum tcpa_pkt_encap e)
{
	if ((unsigned int)e >= TCPA_PKT_ENCAP_MAX)
		return "unknown";
	return encap_names[e];
}

const char *
tcpa_pkt_encap_help(enum tcpa_pkt_encap e)
{
	if ((unsigned int)e >= TCPA_PKT_ENCAP_MAX)
		return "unknown encapsulation";
	return encap_helps[e];
}

const char *
tcpa_pkt_tunnel_name(enum tcpa_pkt_tunnel t)
{
	if ((unsigned int)t >= TCPA_PKT_TUNNEL_MAX)
		return "unknown";
	return tunnel_names[t];
}

int
tcpa_pkt_vxlan_ports_set(const uint16_t *ports, unsigned int n)
{
	unsigned int i;

	if (n > TCPA_PKT_MAX_VXLAN_PORTS || (n != 0 && ports == NULL))
		return -1;
	for (i = 0; i < n; i++)
		vxlan_ports[i] = ports[i];
	n_vxlan_ports = n;
	return 0;
}

static int
is_vxlan_port(uint16_t port)
{
	unsigned int i;

	if (port == TCPA_PKT_VXLAN_PORT)
		return 1;
	for (i = 0; i < n_vxlan_ports; i++) {
		if (vxlan_ports[i] == port)
			return 1;
	}
	return 0;
}

/*
 * Room for an n-byte header at the cursor: bad_ip if the IP datagram that
 * carries it is shorter, else if it is not all captured, bad_l2 before the
 * first IP header and truncated after.
 */
static enum tcpa_pkt_verdict
need(const struct pkt_cur *c, uint32_t n)
{
	if (c->past_ip && n > c->wend - c->off)
		return TCPA_PKT_bad_ip;
	if (n > c->cap - c->off)
		return c->past_ip ? TCPA_PKT_truncated : TCPA_PKT_bad_l2;
	return TCPA_PKT_OK;
}

/* One more header on the way down; bad_l2 past the bound (tcpa_pkt.h). */
static enum tcpa_pkt_verdict
deeper(struct pkt_cur *c)
{
	if (c->depth >= TCPA_PKT_MAX_DEPTH)
		return TCPA_PKT_bad_l2;
	c->depth++;
	return TCPA_PKT_OK;
}

/* A header of n bytes: counted against the depth, then its room checked. */
static enum tcpa_pkt_verdict
enter(struct pkt_cur *c, uint32_t n)
{
	enum tcpa_pkt_verdict v = deeper(c);

	return v != TCPA_PKT_OK ? v : need(c, n);
}

/*
 * Into a tunnel's payload: read no further than the carrying datagram's
 * end, and take the inner frame's wire length as unknown (see above).
 */
static void
enter_inner(struct pkt_cur *c)
{
	if (c->wend != PKT_WIRE_UNKNOWN && c->wend < c->cap)
		c->cap = c->wend;
	c->wend = PKT_WIRE_UNKNOWN;
}

static void
set_tunnel(struct tcpa_pkt *p, enum tcpa_pkt_tunnel kind, uint32_t id)
{
	p->tunnel_kind = (uint8_t)kind;
	p->tunnel_id = id;
}

static void
mark(struct tcpa_pkt *p, enum tcpa_pkt_encap e)
{
	p->encap |= (uint8_t)(1U << e);
}

/* An Ethernet header inside a tunnel or a pseudowire. */
static enum tcpa_pkt_verdict
walk_eth(struct pkt_cur *c)
{
	enum tcpa_pkt_verdict v = enter(c, ETH_HLEN);

	if (v != TCPA_PKT_OK)
		return v;
	c->next = ld16(c->b + c->off + 12);
	c->off += ETH_HLEN;
	c->at = PKT_AT_ETYPE;
	return TCPA_PKT_OK;
}

/* One VLAN tag; the innermost two ids are kept (tcpa_pkt.zone, until the end). */
static enum tcpa_pkt_verdict
walk_vlan(struct pkt_cur *c, struct tcpa_pkt *p)
{
	enum tcpa_pkt_verdict v = enter(c, VLAN_HLEN);
	const uint8_t *h = c->b + c->off;

	if (v != TCPA_PKT_OK)
		return v;
	p->zone = ((p->zone << 12) | (ld16(h) & VLAN_ID_MASK)) & VLAN_KEEP_MASK;
	mark(p, TCPA_PKT_ENCAP_vlan);
	c->next = ld16(h + 2);
	c->off += VLAN_HLEN;
	return TCPA_PKT_OK;
}

static enum tcpa_pkt_verdict
walk_etype(struct pkt_cur *c, struct tcpa_pkt *p)
{
	switch (c->next) {
	case ETH_TYPE_IPV4:
		c->at = PKT_AT_IPV4;
		return TCPA_PKT_OK;
	case ETH_TYPE_IPV6:
		c->at = PKT_AT_IPV6;
		return TCPA_PKT_OK;
	case ETH_TYPE_VLAN:
	case ETH_TYPE_QINQ:
	case ETH_TYPE_QINQ_OLD:
		return walk_vlan(c, p);
	case ETH_TYPE_MPLS:
	case ETH_TYPE_MPLS_MC:
		c->at = PKT_AT_MPLS;
		return TCPA_PKT_OK;
	case ETH_TYPE_TEB:
		c->at = PKT_AT_ETH;
		return TCPA_PKT_OK;
	default:
		return TCPA_PKT_not_tcp;
	}
}

/* IPv4 or IPv6, by the version nibble (raw IP link types, ERSPAN III). */
static enum tcpa_pkt_verdict
walk_ip(struct pkt_cur *c)
{
	if (c->cap == c->off)
		return TCPA_PKT_truncated;
	switch (c->b[c->off] >> 4) {
	case 4:
		c->at = PKT_AT_IPV4;
		return TCPA_PKT_OK;
	case 6:
		c->at = PKT_AT_IPV6;
		return TCPA_PKT_OK;
	default:
		return TCPA_PKT_bad_ip;
	}
}

/*
 * What an IP header carries: TCP ends the walk in pkt_walk(). An IP header
 * that carries a tunnel counts against the depth (UDP's once its port
 * says it is one).
 */
static enum tcpa_pkt_verdict
walk_ipproto(struct pkt_cur *c, struct tcpa_pkt *p)
{
	switch (c->next) {
	case IP_PROTO_IPIP:
	case IP_PROTO_IPV6:
		mark(p, TCPA_PKT_ENCAP_ipip);
		enter_inner(c);
		c->at = c->next == IP_PROTO_IPIP ? PKT_AT_IPV4 : PKT_AT_IPV6;
		return deeper(c);
	case IP_PROTO_GRE:
		c->at = PKT_AT_GRE;
		return deeper(c);
	case IP_PROTO_UDP:
		c->at = PKT_AT_UDP;
		return TCPA_PKT_OK;
	default:
		return TCPA_PKT_not_tcp;
	}
}

/* One MPLS label stack entry; after the bottom one, what it carries. */
static enum tcpa_pkt_verdict
walk_mpls(struct pkt_cur *c, struct tcpa_pkt *p)
{
	enum tcpa_pkt_verdict v = enter(c, MPLS_HLEN);

	if (v != TCPA_PKT_OK)
		return v;
	mark(p, TCPA_PKT_ENCAP_mpls);
	if ((ld32(c->b + c->off) & MPLS_BOS) != 0)
		c->at = PKT_AT_MPLS_DATA;
	c->off += MPLS_HLEN;
	return TCPA_PKT_OK;
}

/*
 * MPLS does not say what it carries. The first nibble does, as routers
 * guess it for ECMP: 4 and 6 are IP; 0 is a pseudowire control word (RFC
 * 4385 reserves that nibble for it so that no one mistakes it for IP),
 * taken as an Ethernet pseudowire (RFC 4448, the one mirrored traffic
 * uses). An Ethernet pseudowire without control word is not decoded: its
 * first nibble is a MAC address's.
 */
static enum tcpa_pkt_verdict
walk_mpls_data(struct pkt_cur *c)
{
	/* The nibble is read as part of the stack: cut before it is bad_l2. */
	enum tcpa_pkt_verdict v = need(c, 1);

	if (v != TCPA_PKT_OK)
		return v;
	switch (c->b[c->off] >> 4) {
	case 4:
		c->at = PKT_AT_IPV4;
		return TCPA_PKT_OK;
	case 6:
		c->at = PKT_AT_IPV6;
		return TCPA_PKT_OK;
	case 0:
		v = need(c, MPLS_PW_CW_LEN);
		if (v != TCPA_PKT_OK)
			return v;
		c->off += MPLS_PW_CW_LEN;
		c->at = PKT_AT_ETH;
		return TCPA_PKT_OK;
	default:
		return TCPA_PKT_not_tcp;
	}
}

/* What a GRE header's protocol type says follows it. */
static void
gre_payload(struct pkt_cur *c, uint16_t proto, uint16_t flags, struct tcpa_pkt *p)
{
	if (proto == GRE_PROTO_ERSPAN2 && (flags & GRE_F_SEQ) == 0) {
		/* ERSPAN type I: no ERSPAN header, the mirrored frame follows. */
		mark(p, TCPA_PKT_ENCAP_erspan2);
		enter_inner(c);
		c->at = PKT_AT_ETH;
	} else if (proto == GRE_PROTO_ERSPAN2) {
		c->at = PKT_AT_ERSPAN2;
	} else if (proto == GRE_PROTO_ERSPAN3) {
		c->at = PKT_AT_ERSPAN3;
	} else {
		enter_inner(c);
		c->next = proto;
		c->at = PKT_AT_ETYPE;
	}
}

/* GRE, RFC 2784 with RFC 2890's key and sequence number. */
static enum tcpa_pkt_verdict
walk_gre(struct pkt_cur *c, struct tcpa_pkt *p)
{
	enum tcpa_pkt_verdict v = enter(c, GRE_HLEN_MIN);
	const uint8_t *h = c->b + c->off;
	uint32_t hlen = GRE_HLEN_MIN;
	uint16_t flags;

	if (v != TCPA_PKT_OK)
		return v;
	flags = ld16(h);
	if ((flags & (GRE_F_ROUTING | GRE_VERSION)) != 0)
		return TCPA_PKT_not_tcp;
	hlen += (flags & GRE_F_CSUM) != 0 ? 4 : 0;
	hlen += (flags & GRE_F_KEY) != 0 ? 4 : 0;
	hlen += (flags & GRE_F_SEQ) != 0 ? 4 : 0;
	v = need(c, hlen);
	if (v != TCPA_PKT_OK)
		return v;
	mark(p, TCPA_PKT_ENCAP_gre);
	if ((flags & GRE_F_KEY) != 0)
		set_tunnel(p, TCPA_PKT_TUNNEL_GRE,
			   ld32(h + GRE_HLEN_MIN + ((flags & GRE_F_CSUM) != 0 ? 4 : 0)));
	c->off += hlen;
	gre_payload(c, ld16(h + 2), flags, p);
	return TCPA_PKT_OK;
}

/* ERSPAN type II: version 1, session id, then the mirrored frame. */
static enum tcpa_pkt_verdict
walk_erspan2(struct pkt_cur *c, struct tcpa_pkt *p)
{
	enum tcpa_pkt_verdict v = enter(c, ERSPAN2_HLEN);
	const uint8_t *h = c->b + c->off;

	if (v != TCPA_PKT_OK)
		return v;
	if ((h[0] >> 4) != ERSPAN_VER2)
		return TCPA_PKT_not_tcp;
	set_tunnel(p, TCPA_PKT_TUNNEL_ERSPAN, ld16(h + 2) & ERSPAN_SESSION);
	mark(p, TCPA_PKT_ENCAP_erspan2);
	c->off += ERSPAN2_HLEN;
	enter_inner(c);
	c->at = PKT_AT_ETH;
	return TCPA_PKT_OK;
}

/*
 * ERSPAN type III: version 2, session id, timestamp, SGT, then a frame type
 * (Ethernet or IP) and an O flag for an 8-byte platform subheader.
 */
static enum tcpa_pkt_verdict
walk_erspan3(struct pkt_cur *c, struct tcpa_pkt *p)
{
	enum tcpa_pkt_verdict v = enter(c, ERSPAN3_HLEN);
	const uint8_t *h = c->b + c->off;
	uint32_t hlen = ERSPAN3_HLEN;
	uint16_t w, ft;

	if (v != TCPA_PKT_OK)
		return v;
	if ((h[0] >> 4) != ERSPAN_VER3)
		return TCPA_PKT_not_tcp;
	w = ld16(h + 10);
	ft = (w >> 10) & 0x1f;
	if (ft != ERSPAN3_FT_ETH && ft != ERSPAN3_FT_IP)
		return TCPA_PKT_not_tcp;
	hlen += (w & 1) != 0 ? ERSPAN3_SUBHLEN : 0;
	v = need(c, hlen);
	if (v != TCPA_PKT_OK)
		return v;
	set_tunnel(p, TCPA_PKT_TUNNEL_ERSPAN, ld16(h + 2) & ERSPAN_SESSION);
	mark(p, TCPA_PKT_ENCAP_erspan3);
	c->off += hlen;
	enter_inner(c);
	c->at = ft == ERSPAN3_FT_ETH ? PKT_AT_ETH : PKT_AT_IP;
	return TCPA_PKT_OK;
}

/*
 * UDP: a tunnel by its destination port, else not TCP. The IP header that
 * carries it and the UDP header count against the depth.
 */
static enum tcpa_pkt_verdict
walk_udp(struct pkt_cur *c)
{
	enum tcpa_pkt_verdict v = need(c, UDP_HLEN);
	const uint8_t *h = c->b + c->off;
	uint32_t ulen;
	uint16_t dport;

	if (v != TCPA_PKT_OK)
		return v;
	dport = ld16(h + 2);
	if (is_vxlan_port(dport))
		c->at = PKT_AT_VXLAN;
	else if (dport == TCPA_PKT_GENEVE_PORT)
		c->at = PKT_AT_GENEVE;
	else
		return TCPA_PKT_not_tcp;
	v = deeper(c);
	if (v == TCPA_PKT_OK)
		v = deeper(c);
	/* Its length may only shorten the datagram (0: UDP in a jumbogram). */
	ulen = ld16(h + 4);
	if (ulen >= UDP_HLEN && ulen <= c->wend - c->off)
		c->wend = c->off + ulen;
	c->off += UDP_HLEN;
	return v;
}

/* VXLAN (RFC 7348): flags with I set, 24-bit VNI, then Ethernet. */
static enum tcpa_pkt_verdict
walk_vxlan(struct pkt_cur *c, struct tcpa_pkt *p)
{
	enum tcpa_pkt_verdict v = enter(c, VXLAN_HLEN);
	const uint8_t *h = c->b + c->off;

	if (v != TCPA_PKT_OK)
		return v;
	if ((h[0] & VXLAN_F_VNI) == 0)
		return TCPA_PKT_not_tcp;
	set_tunnel(p, TCPA_PKT_TUNNEL_VXLAN, ld32(h + 4) >> 8);
	mark(p, TCPA_PKT_ENCAP_vxlan);
	c->off += VXLAN_HLEN;
	enter_inner(c);
	c->at = PKT_AT_ETH;
	return TCPA_PKT_OK;
}

/* Geneve (RFC 8926): version 0, options, protocol type, 24-bit VNI. */
static enum tcpa_pkt_verdict
walk_geneve(struct pkt_cur *c, struct tcpa_pkt *p)
{
	enum tcpa_pkt_verdict v = enter(c, GENEVE_HLEN);
	const uint8_t *h = c->b + c->off;
	uint32_t hlen;

	if (v != TCPA_PKT_OK)
		return v;
	if ((h[0] >> 6) != 0)
		return TCPA_PKT_not_tcp;
	hlen = GENEVE_HLEN + (uint32_t)(h[0] & 0x3f) * 4;
	v = need(c, hlen);
	if (v != TCPA_PKT_OK)
		return v;
	set_tunnel(p, TCPA_PKT_TUNNEL_GENEVE, ld32(h + 4) >> 8);
	mark(p, TCPA_PKT_ENCAP_geneve);
	c->next = ld16(h + 2);
	c->off += hlen;
	enter_inner(c);
	c->at = PKT_AT_ETYPE;
	return TCPA_PKT_OK;
}

static enum tcpa_pkt_verdict
step(struct pkt_cur *c, struct tcpa_pkt *p)
{
	switch (c->at) {
	case PKT_AT_ETH:
		return walk_eth(c);
	case PKT_AT_ETYPE:
		return walk_etype(c, p);
	case PKT_AT_IP:
		return walk_ip(c);
	case PKT_AT_IPV4:
		c->at = PKT_AT_IPPROTO;
		return parse_ipv4(c, p);
	case PKT_AT_IPV6:
		c->at = PKT_AT_IPPROTO;
		return parse_ipv6(c, p);
	case PKT_AT_IPPROTO:
		return walk_ipproto(c, p);
	case PKT_AT_MPLS:
		return walk_mpls(c, p);
	case PKT_AT_MPLS_DATA:
		return walk_mpls_data(c);
	case PKT_AT_GRE:
		return walk_gre(c, p);
	case PKT_AT_ERSPAN2:
		return walk_erspan2(c, p);
	case PKT_AT_ERSPAN3:
		return walk_erspan3(c, p);
	case PKT_AT_UDP:
		return walk_udp(c);
	case PKT_AT_VXLAN:
		return walk_vxlan(c, p);
	case PKT_AT_GENEVE:
		return walk_geneve(c, p);
	}
	return TCPA_PKT_not_tcp;
}

enum tcpa_pkt_verdict TCPA_COLD
pkt_walk(struct pkt_cur c, struct tcpa_pkt *p)
{
	enum tcpa_pkt_verdict v;

	do {
		if (c.at == PKT_AT_IPPROTO && c.next == IP_PROTO_TCP) {
			/* The walk gathered VLAN ids; a tunnel adds its identity. */
			if (p->tunnel_kind != TCPA_PKT_TUNNEL_NONE)
				p->zone = tcpa_pkt_zone(p->zone, p->tunnel_kind, p->tunnel_id);
			return parse_tcp(c.b + c.off, c.cap - c.off, c.wend - c.off, p);
		}
		v = step(&c, p);
	} while (v == TCPA_PKT_OK);
	return v;
}

/* ---- zones ---- */

uint32_t
tcpa_pkt_zone(uint32_t vlan, unsigned kind, uint32_t id)
{
	uint32_t z = TCPA_ZONE_TUNNEL | (uint32_t)(kind & 7) << 28;
	__uint128_t m;

	switch (kind) {
	case TCPA_PKT_TUNNEL_NONE:
		return vlan;
	case TCPA_PKT_TUNNEL_VXLAN:
	case TCPA_PKT_TUNNEL_GENEVE:
	case TCPA_PKT_TUNNEL_GRE:
		if (vlan == 0 && id <= TCPA_ZONE_ID_MASK)
			return z | id;
		break;
	case TCPA_PKT_TUNNEL_ERSPAN:
		if (vlan < 4096 && id < 1024)
			return z | vlan << 10 | id;
		break;
	}
	/* Not keyed: the flow hash that places flows is; this only names them. */
	m = (__uint128_t)((uint64_t)vlan << 32 ^ id ^ 0x9e3779b97f4a7c15ull) *
		((uint64_t)kind ^ 0xbf58476d1ce4e5b9ull);
	return z | TCPA_ZONE_MIXED | ((uint32_t)(m ^ (m >> 64)) & TCPA_ZONE_ID_MASK);
}

void
tcpa_pkt_zone_decode(uint32_t zone, struct tcpa_zone *z)
{
	memset(z, 0, sizeof(*z));
	z->exact = 1;
	if (!(zone & TCPA_ZONE_TUNNEL)) {
		z->vlan = zone;
		return;
	}
	z->kind = (uint8_t)(zone >> 28 & 7);
	if (zone & TCPA_ZONE_MIXED) {
		z->exact = 0;
		return;
	}
	if (z->kind == TCPA_PKT_TUNNEL_ERSPAN) {
		z->vlan = (zone & TCPA_ZONE_ID_MASK) >> 10;
		z->id = zone & 1023;
	} else {
		z->id = zone & TCPA_ZONE_ID_MASK;
	}
}
