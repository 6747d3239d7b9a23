/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Link-layer headers other than Ethernet (tcpa_pkt_parse_link()): each one
 * only finds where the network layer starts and what it is, then hands the
 * cursor to pkt_walk(). A link-layer header cut short is bad_l2. And the
 * names of link types, supported or not, with what to do about the others.
 */

#include <endian.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpa_pkt.h"
#include "pkt_internal.h"

#define NULL_HLEN        4
#define AF_INET_ALL      2       /* AF_INET is 2 on every system */
#define AF_INET6_LINUX   10
#define AF_INET6_WINDOWS 23
#define AF_INET6_BSD     24      /* NetBSD, OpenBSD, BSD/OS */
#define AF_INET6_FREEBSD 28
#define AF_INET6_DARWIN  30

#define SLL_HLEN         16      /* type, ARPHRD, address length, address, protocol */
#define SLL2_HLEN        20      /* protocol, reserved, ifindex, ARPHRD, type, ... */
#define ARPHRD_NETLINK   824     /* netlink messages, not packets */

#define PPP_ADDR         0xff    /* HDLC-like framing: address, control */
#define PPP_CTRL         0x03
#define PPP_IPV4         0x0021
#define PPP_IPV6         0x0057
#define PPP_MPLS         0x0281
#define PPP_MPLS_MC      0x0283
#define CHDLC_HLEN       4       /* address, control, Ethertype */
#define CHDLC_UNICAST    0x0f
#define CHDLC_BCAST      0x8f

#define NFLOG_HLEN       4       /* family, version, resource id */
#define NFLOG_TLV_HLEN   4       /* length, type: in the capturing host's order */
#define NFLOG_TYPE_MASK  0x3fff  /* without NLA_F_NESTED, NLA_F_NET_BYTEORDER */
#define NFULA_PAYLOAD    9

/* NULL (host byte order) and LOOP (network order): the address family. */
static enum tcpa_pkt_verdict
link_null(struct pkt_cur *c)
{
	uint32_t af;

	if (c->cap < NULL_HLEN)
		return TCPA_PKT_bad_l2;
	af = ld32(c->b);
	/* Written in the order of a host we do not know: the family is small. */
	if ((af & 0xffff0000U) != 0)
		af = __builtin_bswap32(af);
	c->off = NULL_HLEN;
	switch (af) {
	case AF_INET_ALL:
		c->at = PKT_AT_IPV4;
		return TCPA_PKT_OK;
	case AF_INET6_LINUX:
	case AF_INET6_WINDOWS:
	case AF_INET6_BSD:
	case AF_INET6_FREEBSD:
	case AF_INET6_DARWIN:
		c->at = PKT_AT_IPV6;
		return TCPA_PKT_OK;
	default:
		return TCPA_PKT_not_tcp;
	}
}

/* Linux cooked v1 (tcpdump -i any before libpcap 1.10). */
static enum tcpa_pkt_verdict
link_sll(struct pkt_cur *c)
{
	if (c->cap < SLL_HLEN)
		return TCPA_PKT_bad_l2;
	if (ld16(c->b + 2) == ARPHRD_NETLINK)
		return TCPA_PKT_not_tcp;
	c->next = ld16(c->b + 14);
	c->off = SLL_HLEN;
	c->at = PKT_AT_ETYPE;
	return TCPA_PKT_OK;
}

/* Linux cooked v2 (tcpdump -i any, libpcap 1.10 and later). */
static enum tcpa_pkt_verdict
link_sll2(struct pkt_cur *c)
{
	if (c->cap < SLL2_HLEN)
		return TCPA_PKT_bad_l2;
	if (ld16(c->b + 8) == ARPHRD_NETLINK)
		return TCPA_PKT_not_tcp;
	c->next = ld16(c->b);
	c->off = SLL2_HLEN;
	c->at = PKT_AT_ETYPE;
	return TCPA_PKT_OK;
}

/*
 * The PPP protocol field at off: 1 byte if odd (protocol field
 * compression: a 2-byte protocol's first byte is even), else 2.
 */
static enum tcpa_pkt_verdict
ppp_proto(struct pkt_cur *c, uint32_t off)
{
	uint16_t proto;

	if (c->cap <= off)
		return TCPA_PKT_bad_l2;
	if ((c->b[off] & 1) != 0) {
		proto = c->b[off];
		off += 1;
	} else if (c->cap - off < 2) {
		return TCPA_PKT_bad_l2;
	} else {
		proto = ld16(c->b + off);
		off += 2;
	}
	c->off = off;
	if (proto == PPP_IPV4)
		c->at = PKT_AT_IPV4;
	else if (proto == PPP_IPV6)
		c->at = PKT_AT_IPV6;
	else if (proto == PPP_MPLS || proto == PPP_MPLS_MC)
		c->at = PKT_AT_MPLS;
	else
		return TCPA_PKT_not_tcp;
	return TCPA_PKT_OK;
}

/*
 * LINKTYPE_PPP: the protocol, after an optional 0xff 0x03 (0xff cannot
 * start a protocol field: 0x00ff is no protocol).
 */
static enum tcpa_pkt_verdict
link_ppp(struct pkt_cur *c)
{
	if (c->cap >= 1 && c->b[0] == PPP_ADDR) {
		if (c->cap < 2 || c->b[1] != PPP_CTRL)
			return TCPA_PKT_bad_l2;
		return ppp_proto(c, 2);
	}
	return ppp_proto(c, 0);
}

/* Cisco HDLC: address, control, then an Ethertype. */
static enum tcpa_pkt_verdict
link_chdlc(struct pkt_cur *c)
{
	if (c->cap < CHDLC_HLEN)
		return TCPA_PKT_bad_l2;
	c->next = ld16(c->b + 2);
	c->off = CHDLC_HLEN;
	c->at = PKT_AT_ETYPE;
	return TCPA_PKT_OK;
}

/* LINKTYPE_PPP_HDLC: PPP in HDLC-like framing (0xff) or Cisco HDLC (0x0f, 0x8f). */
static enum tcpa_pkt_verdict
link_ppp_hdlc(struct pkt_cur *c)
{
	if (c->cap < 2)
		return TCPA_PKT_bad_l2;
	if (c->b[0] == PPP_ADDR)
		return c->b[1] == PPP_CTRL ? ppp_proto(c, 2) : TCPA_PKT_bad_l2;
	if (c->b[0] == CHDLC_UNICAST || c->b[0] == CHDLC_BCAST)
		return link_chdlc(c);
	return TCPA_PKT_bad_l2;
}

/* A 16-bit NFLOG TLV field, little-endian if le. */
static uint16_t
nflog16(const uint8_t *b, int le)
{
	return le ? (uint16_t)(b[0] | b[1] << 8) : ld16(b);
}

/*
 * The TLVs' byte order is the capturing host's (libpcap turns it into the
 * reading host's). Types are small numbers: the order in which the first
 * TLV's type is one is the order of them all.
 */
static int
nflog_le(const struct pkt_cur *c)
{
	if (c->cap < NFLOG_HLEN + NFLOG_TLV_HLEN)
		return __BYTE_ORDER == __LITTLE_ENDIAN;
	return (nflog16(c->b + NFLOG_HLEN + 2, 1) & NFLOG_TYPE_MASK) < 0x100;
}

/*
 * NFLOG: a header, then TLVs padded to 4 bytes; the packet, from its IP
 * header, is the NFULA_PAYLOAD one. Its wire length is not recorded, and a
 * copy range may have cut it: IP lengths are believed.
 */
static enum tcpa_pkt_verdict
link_nflog(struct pkt_cur *c)
{
	int le = nflog_le(c);
	uint32_t off = NFLOG_HLEN;
	uint32_t tlen;

	if (c->cap < NFLOG_HLEN || c->b[1] != 0)
		return TCPA_PKT_bad_l2;
	while (c->cap - off >= NFLOG_TLV_HLEN) {
		tlen = nflog16(c->b + off, le);
		if (tlen < NFLOG_TLV_HLEN)
			return TCPA_PKT_bad_l2;
		if ((nflog16(c->b + off + 2, le) & NFLOG_TYPE_MASK) == NFULA_PAYLOAD) {
			if (tlen < c->cap - off)
				c->cap = off + tlen;
			c->off = off + NFLOG_TLV_HLEN;
			c->wend = PKT_WIRE_UNKNOWN;
			c->at = PKT_AT_IP;
			return TCPA_PKT_OK;
		}
		tlen = (tlen + 3) & ~3U;
		if (tlen > c->cap - off)
			return TCPA_PKT_bad_l2;
		off += tlen;
	}
	/* No packet in the record, or the TLVs were cut before it. */
	return off == c->cap && c->cap == c->wend ? TCPA_PKT_not_tcp : TCPA_PKT_bad_l2;
}

static enum tcpa_pkt_verdict
link_start(uint32_t linktype, struct pkt_cur *c)
{
	switch (linktype) {
	case TCPA_LINKTYPE_NULL:
	case TCPA_LINKTYPE_LOOP:
		return link_null(c);
	case TCPA_LINKTYPE_RAW:
	case TCPA_LINKTYPE_DLT_RAW1:
	case TCPA_LINKTYPE_DLT_RAW2:
		c->at = PKT_AT_IP;
		return TCPA_PKT_OK;
	case TCPA_LINKTYPE_IPV4:
		c->at = PKT_AT_IPV4;
		return TCPA_PKT_OK;
	case TCPA_LINKTYPE_IPV6:
		c->at = PKT_AT_IPV6;
		return TCPA_PKT_OK;
	case TCPA_LINKTYPE_LINUX_SLL:
		return link_sll(c);
	case TCPA_LINKTYPE_LINUX_SLL2:
		return link_sll2(c);
	case TCPA_LINKTYPE_PPP:
		return link_ppp(c);
	case TCPA_LINKTYPE_PPP_HDLC:
		return link_ppp_hdlc(c);
	case TCPA_LINKTYPE_C_HDLC:
		return link_chdlc(c);
	case TCPA_LINKTYPE_NFLOG:
		return link_nflog(c);
	default:
		return TCPA_PKT_not_tcp;
	}
}

enum tcpa_pkt_verdict TCPA_COLD
pkt_link(uint32_t linktype, const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
	 struct tcpa_pkt *p)
{
	struct pkt_cur c = { .b = frame, .cap = caplen, .wend = wirelen };
	enum tcpa_pkt_verdict v;

	pkt_reset(p, wirelen);
	v = link_start(linktype, &c);
	if (v != TCPA_PKT_OK)
		return v;
	return pkt_walk(c, p);
}

/* ---- names ---- */

#define ADV_80211 "802.11 frames from monitor mode: capture on the wired side of the " \
	"access point, or on the station's own interface (not in monitor mode)"
#define ADV_NOT_IP "it carries no IP traffic: capture on a network interface " \
	"(tcpdump -i IFACE, or -i any on Linux)"

struct linktype_info {
	uint32_t linktype;
	int supported;
	const char *name;
	const char *advice;
};

static const struct linktype_info linktypes[] = {
	{ TCPA_LINKTYPE_NULL, 1, "NULL", NULL },
	{ TCPA_LINKTYPE_ETHERNET, 1, "ETHERNET", NULL },
	{ TCPA_LINKTYPE_PPP, 1, "PPP", NULL },
	{ TCPA_LINKTYPE_DLT_RAW1, 1, "RAW", NULL },
	{ TCPA_LINKTYPE_DLT_RAW2, 1, "RAW", NULL },
	{ TCPA_LINKTYPE_PPP_HDLC, 1, "PPP_HDLC", NULL },
	{ TCPA_LINKTYPE_RAW, 1, "RAW", NULL },
	{ TCPA_LINKTYPE_C_HDLC, 1, "C_HDLC", NULL },
	{ TCPA_LINKTYPE_LOOP, 1, "LOOP", NULL },
	{ TCPA_LINKTYPE_LINUX_SLL, 1, "LINUX_SLL", NULL },
	{ TCPA_LINKTYPE_IPV4, 1, "IPV4", NULL },
	{ TCPA_LINKTYPE_IPV6, 1, "IPV6", NULL },
	{ TCPA_LINKTYPE_NFLOG, 1, "NFLOG", NULL },
	{ TCPA_LINKTYPE_LINUX_SLL2, 1, "LINUX_SLL2", NULL },
	{ 6, 0, "IEEE802_5", "Token Ring: capture on an Ethernet segment of the path" },
	{ 8, 0, "SLIP", "SLIP compresses headers: capture on an Ethernet segment of the path, "
		"or on the host with tcpdump -i any" },
	{ 10, 0, "FDDI", "FDDI: capture on an Ethernet segment of the path" },
	{ 51, 0, "PPP_ETHER", "PPPoE without its Ethernet header: capture on the Ethernet "
		"interface under the PPPoE session, or on the ppp interface" },
	{ 100, 0, "ATM_RFC1483", "ATM: capture on an Ethernet segment of the path" },
	{ 105, 0, "IEEE802_11", ADV_80211 },
	{ 119, 0, "IEEE802_11_PRISM", ADV_80211 },
	{ 127, 0, "IEEE802_11_RADIOTAP", ADV_80211 },
	{ 163, 0, "IEEE802_11_AVS", ADV_80211 },
	{ 192, 0, "PPI", ADV_80211 },
	{ 143, 0, "DOCSIS", "DOCSIS: capture on the cable modem's Ethernet side" },
	{ 189, 0, "USB_LINUX", "USB traffic: " ADV_NOT_IP },
	{ 220, 0, "USB_LINUX_MMAPPED", "USB traffic: " ADV_NOT_IP },
	{ 195, 0, "IEEE802_15_4_WITHFCS", "802.15.4: " ADV_NOT_IP },
	{ 197, 0, "ERF", "Endace ERF records: capture again with the card's Ethernet link "
		"type, or on the host interface with tcpdump" },
	{ 201, 0, "BLUETOOTH_HCI_H4_WITH_PHDR", "Bluetooth: " ADV_NOT_IP },
	{ 226, 0, "IPNET", "Solaris ipnet: capture on the physical interface (snoop -d NIC "
		"or tcpdump -i NIC)" },
	{ 227, 0, "CAN_SOCKETCAN", "CAN bus: " ADV_NOT_IP },
	{ 252, 0, "WIRESHARK_UPPER_PDU", "exported PDUs, not packets: export the packets "
		"themselves (Wireshark: File > Export Specified Packets)" },
	{ 253, 0, "NETLINK", "netlink messages: " ADV_NOT_IP },
	{ 258, 0, "PKTAP", "Apple PKTAP (tcpdump -i pktap or -k): capture with tcpdump "
		"-i IFACE instead" },
};

static const struct linktype_info *
linktype_find(uint32_t linktype)
{
	size_t i;

	for (i = 0; i < TCPA_ARRAY_SIZE(linktypes); i++) {
		if (linktypes[i].linktype == linktype)
			return &linktypes[i];
	}
	return NULL;
}

int
tcpa_pkt_linktype_supported(uint32_t linktype)
{
	const struct linktype_info *l = linktype_find(linktype);

	return l != NULL && l->supported;
}

const char *
tcpa_pkt_linktype_name(uint32_t linktype)
{
	const struct linktype_info *l = linktype_find(linktype);

	return l != NULL ? l->name : NULL;
}

const char *
tcpa_pkt_linktype_advice(uint32_t linktype)
{
	const struct linktype_info *l = linktype_find(linktype);

	if (l != NULL && l->supported)
		return NULL;
	if (l != NULL)
		return l->advice;
	return "tcpa reads Ethernet, Linux cooked (tcpdump -i any), raw IP, loopback, PPP, "
		"Cisco HDLC and NFLOG captures: capture on a network interface "
		"(tcpdump -i IFACE, or -i any on Linux)";
}
