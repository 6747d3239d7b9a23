/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for the frame parser (lib/pkt). Frames are built byte by byte
 * by the small builders below; every parse goes through a heap copy of
 * exactly the frame's length, so ASan or valgrind catch any read past it.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpa_pkt.h"

#include "check.h"

#define CHECK_V(got, want) do { \
	enum tcpa_pkt_verdict g_ = (got); \
	enum tcpa_pkt_verdict w_ = (want); \
	if (g_ != w_) { \
		fprintf(stderr, "%s:%d: %s: verdict %s, expected %s\n", __FILE__, __LINE__, \
			__func__, tcpa_pkt_verdict_name(g_), tcpa_pkt_verdict_name(w_)); \
		cur_fail++; \
	} \
} while (0)

/* Sentinels for the fields the parser must leave alone. */
#define SENT_HASH 0x0123456789abcdefULL
#define SENT_TS   0xfedcba9876543210ULL
#define SENT_RXC  0x5a

/* Default header values written by the builders. */
#define T_SPORT 40000
#define T_DPORT 80
#define T_SEQ   0x11223344U
#define T_ACK   0x55667788U
#define T_WIN   0x7210

static const uint8_t v4_src[4] = { 10, 0, 0, 1 };
static const uint8_t v4_dst[4] = { 192, 168, 1, 254 };
static const uint8_t v6_src[16] = {
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
};
static const uint8_t v6_dst[16] = {
	0x20, 0x01, 0x0d, 0xb8, 0xff, 0xee, 0, 0, 0, 0, 0, 0, 0xab, 0xcd, 0, 0x02,
};

/* ---- frame builder ---- */

#define FB_MAX 2048

#define FB_MAX_FIX 16

struct fb {
	uint8_t b[FB_MAX];
	uint32_t len;
	uint32_t l3;    /* (innermost) IP header offset */
	uint32_t l4;    /* TCP header offset */
	uint32_t hend;  /* end of the TCP header */
	int family;
	/* Length fields fb_finish() sets: offset and kind (4, 6 or 17) of each. */
	uint32_t fix[FB_MAX_FIX];
	uint8_t fixk[FB_MAX_FIX];
	unsigned int nfix;
};

static void
fb_init(struct fb *f)
{
	memset(f, 0, sizeof(*f));
}

static void
put8(struct fb *f, uint8_t v)
{
	if (f->len >= FB_MAX) {
		fprintf(stderr, "frame builder overflow\n");
		exit(2);
	}
	f->b[f->len++] = v;
}

static void
put16(struct fb *f, uint16_t v)
{
	put8(f, v >> 8);
	put8(f, v & 0xff);
}

static void
put32(struct fb *f, uint32_t v)
{
	put16(f, v >> 16);
	put16(f, v & 0xffff);
}

static void
putn(struct fb *f, const uint8_t *s, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		put8(f, s[i]);
}

static void
set16(struct fb *f, uint32_t off, uint16_t v)
{
	f->b[off] = v >> 8;
	f->b[off + 1] = v & 0xff;
}

static void
put_eth(struct fb *f, uint16_t type)
{
	static const uint8_t macs[12] = {
		0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02,
	};

	putn(f, macs, sizeof(macs));
	put16(f, type);
}

/* The body of a VLAN tag: TCI then the next ethertype. */
static void
put_tag(struct fb *f, uint16_t tci, uint16_t type)
{
	put16(f, tci);
	put16(f, type);
}

static void
fb_fix(struct fb *f, uint8_t kind)
{
	if (f->nfix == FB_MAX_FIX) {
		fprintf(stderr, "frame builder: too many length fields\n");
		exit(2);
	}
	f->fix[f->nfix] = f->len;
	f->fixk[f->nfix++] = kind;
}

static void
put_ipv4(struct fb *f, uint8_t proto, const uint8_t *opts, uint32_t olen)
{
	fb_fix(f, 4);
	f->l3 = f->len;
	f->family = 4;
	put8(f, 0x40 | (uint8_t)(5 + olen / 4));
	put8(f, 0);             /* tos */
	put16(f, 0);            /* total length: fb_finish() */
	put16(f, 0x1234);       /* id */
	put16(f, 0x4000);       /* DF */
	put8(f, 64);            /* ttl */
	put8(f, proto);
	put16(f, 0);            /* checksum: not checked */
	putn(f, v4_src, 4);
	putn(f, v4_dst, 4);
	putn(f, opts, olen);
}

static void
put_ipv6(struct fb *f, uint8_t nh)
{
	fb_fix(f, 6);
	f->l3 = f->len;
	f->family = 6;
	put32(f, 0x60012345);   /* version, class, flow label */
	put16(f, 0);            /* payload length: fb_finish() */
	put8(f, nh);
	put8(f, 64);
	putn(f, v6_src, 16);
	putn(f, v6_dst, 16);
}

/* A Hop-by-hop, Routing or Destination options header of (len8 + 1) * 8 bytes. */
static void
put_ext(struct fb *f, uint8_t nh, uint8_t len8)
{
	uint32_t i, n = ((uint32_t)len8 + 1) * 8;

	put8(f, nh);
	put8(f, len8);
	put8(f, 1);             /* PadN over the rest */
	put8(f, (uint8_t)(n - 4));
	for (i = 4; i < n; i++)
		put8(f, 0);
}

static void
put_frag6(struct fb *f, uint8_t nh, uint16_t off_m)
{
	put8(f, nh);
	put8(f, 0);
	put16(f, off_m);
	put32(f, 0xdeadbeef);
}

/* Authentication header: payload length field plen4, (plen4 + 2) * 4 bytes. */
static void
put_ah(struct fb *f, uint8_t nh, uint8_t plen4)
{
	uint32_t i, n = ((uint32_t)plen4 + 2) * 4;

	put8(f, nh);
	put8(f, plen4);
	for (i = 2; i < n; i++)
		put8(f, (uint8_t)i);
}

/* TCP header with olen bytes of options (a multiple of 4). */
static void
put_tcp(struct fb *f, uint8_t flags, const uint8_t *opts, uint32_t olen)
{
	f->l4 = f->len;
	put16(f, T_SPORT);
	put16(f, T_DPORT);
	put32(f, T_SEQ);
	put32(f, T_ACK);
	put8(f, (uint8_t)((5 + olen / 4) << 4));
	put8(f, flags);
	put16(f, T_WIN);
	put16(f, 0);            /* checksum */
	put16(f, 0);            /* urgent pointer */
	putn(f, opts, olen);
	f->hend = f->len;
}

static void
put_payload(struct fb *f, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		put8(f, (uint8_t)(i * 7));
}

/* Set the IP (and UDP) length fields from what has been built so far. */
static void
fb_finish(struct fb *f)
{
	unsigned int i;

	for (i = 0; i < f->nfix; i++) {
		uint32_t o = f->fix[i];

		if (f->fixk[i] == 4)
			set16(f, o + 2, (uint16_t)(f->len - o));
		else if (f->fixk[i] == 6)
			set16(f, o + 4, (uint16_t)(f->len - o - 40));
		else
			set16(f, o + 4, (uint16_t)(f->len - o));
	}
}

static void
build_v4(struct fb *f, uint8_t flags, const uint8_t *opts, uint32_t olen, uint32_t payload)
{
	fb_init(f);
	put_eth(f, 0x0800);
	put_ipv4(f, 6, NULL, 0);
	put_tcp(f, flags, opts, olen);
	put_payload(f, payload);
	fb_finish(f);
}

static void
build_v6(struct fb *f, uint8_t flags, const uint8_t *opts, uint32_t olen, uint32_t payload)
{
	fb_init(f);
	put_eth(f, 0x86dd);
	put_ipv6(f, 6);
	put_tcp(f, flags, opts, olen);
	put_payload(f, payload);
	fb_finish(f);
}

/* ---- parse helpers ---- */

static void
pkt_poison(struct tcpa_pkt *p)
{
	memset(p, 0xa5, sizeof(*p));
	p->hash = SENT_HASH;
	p->ts = SENT_TS;
	p->rxc = SENT_RXC;
}

/* Parse a heap copy of exactly len bytes, so any overread is caught. */
static enum tcpa_pkt_verdict
parse_exact(const uint8_t *b, uint32_t len, struct tcpa_pkt *p)
{
	enum tcpa_pkt_verdict v;
	uint8_t *c = malloc(len);

	if (c == NULL && len != 0) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	if (len != 0)
		memcpy(c, b, len);
	v = tcpa_pkt_parse(c, len, p);
	free(c);
	return v;
}

static enum tcpa_pkt_verdict
parse_fb(const struct fb *f, struct tcpa_pkt *p)
{
	pkt_poison(p);
	return parse_exact(f->b, f->len, p);
}

static enum tcpa_pkt_verdict
verdict_of(const struct fb *f)
{
	struct tcpa_pkt p;

	return parse_fb(f, &p);
}

static void
check_caller_fields(const struct tcpa_pkt *p)
{
	CHECK_EQ(p->hash, SENT_HASH);
	CHECK_EQ(p->ts, SENT_TS);
	CHECK_EQ(p->rxc, SENT_RXC);
}

static void
check_v4_addrs(const struct tcpa_pkt *p)
{
	static const uint8_t pre[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	CHECK(memcmp(p->src.b, pre, 12) == 0);
	CHECK(memcmp(p->src.b + 12, v4_src, 4) == 0);
	CHECK(memcmp(p->dst.b, pre, 12) == 0);
	CHECK(memcmp(p->dst.b + 12, v4_dst, 4) == 0);
	CHECK_EQ(p->family, 4);
}

static void
check_v6_addrs(const struct tcpa_pkt *p)
{
	CHECK(memcmp(p->src.b, v6_src, 16) == 0);
	CHECK(memcmp(p->dst.b, v6_dst, 16) == 0);
	CHECK_EQ(p->family, 6);
}

static void
check_tcp_base(const struct tcpa_pkt *p)
{
	CHECK_EQ(p->sport, T_SPORT);
	CHECK_EQ(p->dport, T_DPORT);
	CHECK_EQ(p->seq, T_SEQ);
	CHECK_EQ(p->ack, T_ACK);
	CHECK_EQ(p->win, T_WIN);
}

/* MSS 1460, SACK permitted, TS, NOP, WS 7: Linux's SYN, 20 bytes. */
static const uint8_t syn_opts[20] = {
	2, 4, 0x05, 0xb4,
	4, 2,
	8, 10, 0xaa, 0xbb, 0xcc, 0xdd, 0x01, 0x02, 0x03, 0x04,
	1,
	3, 3, 7,
};

static const uint8_t ts_opts[12] = {
	1, 1, 8, 10, 0, 0, 0x10, 0x01, 0x80, 0, 0, 0x02,
};

/* ---- tests ---- */

static void
test_v4_syn_all_opts(void)
{
	const uint8_t flags = TCPA_TCP_SYN | TCPA_TCP_ECE | TCPA_TCP_CWR;
	struct tcpa_pkt p;
	struct fb f;

	build_v4(&f, flags, syn_opts, sizeof(syn_opts), 0);
	CHECK_EQ(f.len, 14 + 20 + 40);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	check_v4_addrs(&p);
	check_tcp_base(&p);
	check_caller_fields(&p);
	CHECK_EQ(p.zone, tcpa_pkt_zone(0, p.tunnel_kind, p.tunnel_id));
	CHECK_EQ(p.payload_len, 0);
	CHECK_EQ(p.tcp_flags, flags);
	CHECK_EQ(p.opts, TCPA_OPT_MSS | TCPA_OPT_WSCALE | TCPA_OPT_SACKOK | TCPA_OPT_TS);
	CHECK_EQ(p.mss, 1460);
	CHECK_EQ(p.wscale, 7);
	CHECK_EQ(p.nsack, 0);
	CHECK_EQ(p.tsval, 0xaabbccddU);
	CHECK_EQ(p.tsecr, 0x01020304U);
	CHECK_EQ(p.wire_len, f.len);
}

static void
test_v4_data_ts(void)
{
	struct tcpa_pkt p;
	struct fb f;

	build_v4(&f, TCPA_TCP_ACK | TCPA_TCP_PSH, ts_opts, sizeof(ts_opts), 100);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	check_v4_addrs(&p);
	check_tcp_base(&p);
	CHECK_EQ(p.payload_len, 100);
	CHECK_EQ(p.opts, TCPA_OPT_TS);
	CHECK_EQ(p.tsval, 0x1001U);
	CHECK_EQ(p.tsecr, 0x80000002U);
	CHECK_EQ(p.mss, 0);
	CHECK_EQ(p.wscale, 0);
	CHECK_EQ(p.nsack, 0);

	/* No options at all. */
	build_v4(&f, TCPA_TCP_ACK, NULL, 0, 7);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	CHECK_EQ(p.opts, 0);
	CHECK_EQ(p.payload_len, 7);
	CHECK_EQ(p.tsval, 0);
	CHECK_EQ(p.tsecr, 0);
}

static void
test_v4_ip_options(void)
{
	/* Router alert, NOP, NOP, then a 4-byte timestamp-ish unknown option + EOL. */
	static const uint8_t ipopts[12] = {
		0x94, 4, 0, 0, 1, 1, 0x88, 4, 0xab, 0xcd, 0, 0,
	};
	struct tcpa_pkt p;
	struct fb f;

	fb_init(&f);
	put_eth(&f, 0x0800);
	put_ipv4(&f, 6, ipopts, sizeof(ipopts));
	put_tcp(&f, TCPA_TCP_SYN, syn_opts, sizeof(syn_opts));
	put_payload(&f, 3);
	fb_finish(&f);
	CHECK_EQ(f.l4, 14 + 32);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	check_v4_addrs(&p);
	check_tcp_base(&p);
	CHECK_EQ(p.payload_len, 3);
	CHECK_EQ(p.mss, 1460);

	/* The largest IPv4 header: IHL 15. */
	{
		uint8_t big[40];

		memset(big, 1, sizeof(big));
		fb_init(&f);
		put_eth(&f, 0x0800);
		put_ipv4(&f, 6, big, sizeof(big));
		put_tcp(&f, TCPA_TCP_ACK, NULL, 0);
		fb_finish(&f);
		CHECK_EQ(f.b[f.l3] & 0x0f, 15);
		CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
		check_tcp_base(&p);
		CHECK_EQ(p.payload_len, 0);
	}
}

static void
test_v6_plain(void)
{
	struct tcpa_pkt p;
	struct fb f;

	build_v6(&f, TCPA_TCP_SYN | TCPA_TCP_ACK, syn_opts, sizeof(syn_opts), 0);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	check_v6_addrs(&p);
	check_tcp_base(&p);
	check_caller_fields(&p);
	CHECK_EQ(p.tcp_flags, TCPA_TCP_SYN | TCPA_TCP_ACK);
	CHECK_EQ(p.opts, TCPA_OPT_MSS | TCPA_OPT_WSCALE | TCPA_OPT_SACKOK | TCPA_OPT_TS);
	CHECK_EQ(p.mss, 1460);
	CHECK_EQ(p.payload_len, 0);
	CHECK_EQ(p.zone, tcpa_pkt_zone(0, p.tunnel_kind, p.tunnel_id));

	build_v6(&f, TCPA_TCP_ACK, ts_opts, sizeof(ts_opts), 1200);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	CHECK_EQ(p.payload_len, 1200);
	CHECK_EQ(p.wire_len, 14 + 40 + 32 + 1200);
}

static void
test_v6_ext_headers(void)
{
	struct tcpa_pkt p;
	struct fb f;

	/* Hop-by-hop (8 bytes), destination options (16 bytes), TCP. */
	fb_init(&f);
	put_eth(&f, 0x86dd);
	put_ipv6(&f, 0);
	put_ext(&f, 60, 0);
	put_ext(&f, 6, 1);
	put_tcp(&f, TCPA_TCP_ACK | TCPA_TCP_PSH, ts_opts, sizeof(ts_opts));
	put_payload(&f, 50);
	fb_finish(&f);
	CHECK_EQ(f.l4, 14 + 40 + 8 + 16);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	check_v6_addrs(&p);
	check_tcp_base(&p);
	CHECK_EQ(p.payload_len, 50);
	CHECK_EQ(p.opts, TCPA_OPT_TS);

	/* HBH, routing, AH (24 bytes), atomic fragment, destination options. */
	fb_init(&f);
	put_eth(&f, 0x86dd);
	put_ipv6(&f, 0);
	put_ext(&f, 43, 0);
	put_ext(&f, 51, 2);
	put_ah(&f, 44, 4);
	put_frag6(&f, 60, 0x0000);
	put_ext(&f, 6, 0);
	put_tcp(&f, TCPA_TCP_ACK, NULL, 0);
	put_payload(&f, 9);
	fb_finish(&f);
	CHECK_EQ(f.l4, 14 + 40 + 8 + 24 + 24 + 8 + 8);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	check_v6_addrs(&p);
	check_tcp_base(&p);
	CHECK_EQ(p.payload_len, 9);

	/* Atomic fragment with the reserved bits set is still whole. */
	fb_init(&f);
	put_eth(&f, 0x86dd);
	put_ipv6(&f, 44);
	put_frag6(&f, 6, 0x0006);
	put_tcp(&f, TCPA_TCP_ACK, NULL, 0);
	fb_finish(&f);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);

	/* Exactly 8 extension headers are allowed. */
	{
		int i;

		fb_init(&f);
		put_eth(&f, 0x86dd);
		put_ipv6(&f, 60);
		for (i = 0; i < 8; i++)
			put_ext(&f, i == 7 ? 6 : 60, 0);
		put_tcp(&f, TCPA_TCP_ACK, NULL, 0);
		fb_finish(&f);
		CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	}
}

static void
test_vlan(void)
{
	struct tcpa_pkt p;
	struct fb f;

	/* 802.1Q, PCP and DEI set: only the 12-bit id counts. */
	fb_init(&f);
	put_eth(&f, 0x8100);
	put_tag(&f, 0xf000 | 100, 0x0800);
	put_ipv4(&f, 6, NULL, 0);
	put_tcp(&f, TCPA_TCP_SYN, syn_opts, sizeof(syn_opts));
	fb_finish(&f);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	CHECK_EQ(p.zone, tcpa_pkt_zone(100, p.tunnel_kind, p.tunnel_id));
	check_v4_addrs(&p);
	check_tcp_base(&p);
	CHECK_EQ(p.mss, 1460);

	/* QinQ: 802.1ad outer 10, 802.1Q inner 20. */
	fb_init(&f);
	put_eth(&f, 0x88a8);
	put_tag(&f, 10, 0x8100);
	put_tag(&f, 20, 0x86dd);
	put_ipv6(&f, 6);
	put_tcp(&f, TCPA_TCP_ACK, ts_opts, sizeof(ts_opts));
	put_payload(&f, 5);
	fb_finish(&f);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	CHECK_EQ(p.zone, tcpa_pkt_zone((10U << 12) | 20U, p.tunnel_kind, p.tunnel_id));
	check_v6_addrs(&p);
	CHECK_EQ(p.payload_len, 5);

	/* Two 802.1Q tags, max ids. */
	fb_init(&f);
	put_eth(&f, 0x8100);
	put_tag(&f, 0x0fff, 0x8100);
	put_tag(&f, 0x2ffe, 0x0800);
	put_ipv4(&f, 6, NULL, 0);
	put_tcp(&f, TCPA_TCP_ACK, NULL, 0);
	fb_finish(&f);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	CHECK_EQ(p.zone, tcpa_pkt_zone((0xfffU << 12) | 0xffeU, p.tunnel_kind, p.tunnel_id));

	/* An untagged frame after a tagged one: vlan goes back to 0. */
	build_v4(&f, TCPA_TCP_ACK, NULL, 0, 0);
	CHECK_V(parse_exact(f.b, f.len, &p), TCPA_PKT_OK);
	CHECK_EQ(p.zone, tcpa_pkt_zone(0, p.tunnel_kind, p.tunnel_id));

	/* Three tags: the innermost two are kept (test_vlan_stack has more). */
	fb_init(&f);
	put_eth(&f, 0x88a8);
	put_tag(&f, 1, 0x8100);
	put_tag(&f, 2, 0x8100);
	put_tag(&f, 3, 0x0800);
	put_ipv4(&f, 6, NULL, 0);
	put_tcp(&f, TCPA_TCP_ACK, NULL, 0);
	fb_finish(&f);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	CHECK_EQ(p.zone, tcpa_pkt_zone((2U << 12) | 3U, p.tunnel_kind, p.tunnel_id));
	CHECK_EQ(p.encap, 1U << TCPA_PKT_ENCAP_vlan);

	/* VLAN-tagged ARP. */
	fb_init(&f);
	put_eth(&f, 0x8100);
	put_tag(&f, 5, 0x0806);
	put_payload(&f, 28);
	CHECK_V(verdict_of(&f), TCPA_PKT_not_tcp);
}

static void
test_bad_l2(void)
{
	struct fb f;

	build_v4(&f, TCPA_TCP_ACK, NULL, 0, 0);
	f.len = 13;
	CHECK_V(verdict_of(&f), TCPA_PKT_bad_l2);
	f.len = 0;
	CHECK_V(verdict_of(&f), TCPA_PKT_bad_l2);

	/* Cut inside the tag. */
	fb_init(&f);
	put_eth(&f, 0x8100);
	put_tag(&f, 7, 0x0800);
	f.len = 16;
	CHECK_V(verdict_of(&f), TCPA_PKT_bad_l2);
	f.len = 18;     /* tag complete, nothing after: IP cut */
	CHECK_V(verdict_of(&f), TCPA_PKT_truncated);

	/* Cut inside the inner tag. */
	fb_init(&f);
	put_eth(&f, 0x88a8);
	put_tag(&f, 7, 0x8100);
	put_tag(&f, 8, 0x0800);
	f.len = 21;
	CHECK_V(verdict_of(&f), TCPA_PKT_bad_l2);
}

static void
test_not_tcp(void)
{
	struct fb f;

	/* ARP */
	fb_init(&f);
	put_eth(&f, 0x0806);
	put_payload(&f, 28);
	CHECK_V(verdict_of(&f), TCPA_PKT_not_tcp);

	/* LLDP, and an 802.3 length field. */
	fb_init(&f);
	put_eth(&f, 0x88cc);
	put_payload(&f, 40);
	CHECK_V(verdict_of(&f), TCPA_PKT_not_tcp);
	set16(&f, 12, 46);
	CHECK_V(verdict_of(&f), TCPA_PKT_not_tcp);

	/* IPv4 UDP, ICMP */
	fb_init(&f);
	put_eth(&f, 0x0800);
	put_ipv4(&f, 17, NULL, 0);
	put_payload(&f, 30);
	fb_finish(&f);
	CHECK_V(verdict_of(&f), TCPA_PKT_not_tcp);
	f.b[f.l3 + 9] = 1;
	CHECK_V(verdict_of(&f), TCPA_PKT_not_tcp);

	/* IPv6 UDP, ESP, no next header, HBH then UDP. */
	fb_init(&f);
	put_eth(&f, 0x86dd);
	put_ipv6(&f, 17);
	put_payload(&f, 30);
	fb_finish(&f);
	CHECK_V(verdict_of(&f), TCPA_PKT_not_tcp);
	f.b[f.l3 + 6] = 50;
	CHECK_V(verdict_of(&f), TCPA_PKT_not_tcp);
	f.b[f.l3 + 6] = 59;
	CHECK_V(verdict_of(&f), TCPA_PKT_not_tcp);

	fb_init(&f);
	put_eth(&f, 0x86dd);
	put_ipv6(&f, 0);
	put_ext(&f, 17, 0);
	put_payload(&f, 30);
	fb_finish(&f);
	CHECK_V(verdict_of(&f), TCPA_PKT_not_tcp);

	/* Destination options then ESP. */
	fb_init(&f);
	put_eth(&f, 0x86dd);
	put_ipv6(&f, 60);
	put_ext(&f, 50, 0);
	put_payload(&f, 30);
	fb_finish(&f);
	CHECK_V(verdict_of(&f), TCPA_PKT_not_tcp);
}

static void
test_bad_ip(void)
{
	struct fb f;
	int i;

	/* IPv4: version, IHL, total length. */
	build_v4(&f, TCPA_TCP_ACK, NULL, 0, 10);
	f.b[f.l3] = 0x65;
	CHECK_V(verdict_of(&f), TCPA_PKT_bad_ip);
	f.b[f.l3] = 0x44;
	CHECK_V(verdict_of(&f), TCPA_PKT_bad_ip);
	f.b[f.l3] = 0x40;
	CHECK_V(verdict_of(&f), TCPA_PKT_bad_ip);
	f.b[f.l3] = 0x45;
	set16(&f, f.l3 + 2, 19);
	CHECK_V(verdict_of(&f), TCPA_PKT_bad_ip);
	set16(&f, f.l3 + 2, 1);
	CHECK_V(verdict_of(&f), TCPA_PKT_bad_ip);
	/* (0 is TSO: test_tso.) */
	/* IHL 6 and total length 23. */
	fb_finish(&f);
	f.b[f.l3] = 0x46;
	set16(&f, f.l3 + 2, 23);
	CHECK_V(verdict_of(&f), TCPA_PKT_bad_ip);

	/* IPv6: version (payload length 0 is TSO: test_tso). */
	build_v6(&f, TCPA_TCP_ACK, NULL, 0, 10);
	f.b[f.l3] = 0x40;
	CHECK_V(verdict_of(&f), TCPA_PKT_bad_ip);
	f.b[f.l3] = 0x70;
	CHECK_V(verdict_of(&f), TCPA_PKT_bad_ip);

	/* Nine extension headers. */
	fb_init(&f);
	put_eth(&f, 0x86dd);
	put_ipv6(&f, 60);
	for (i = 0; i < 9; i++)
		put_ext(&f, i == 8 ? 6 : 60, 0);
	put_tcp(&f, TCPA_TCP_ACK, NULL, 0);
	fb_finish(&f);
	CHECK_V(verdict_of(&f), TCPA_PKT_bad_ip);

	/* Extension header longer than the payload length says. */
	fb_init(&f);
	put_eth(&f, 0x86dd);
	put_ipv6(&f, 60);
	put_ext(&f, 6, 1);
	put_tcp(&f, TCPA_TCP_ACK, NULL, 0);
	set16(&f, f.l3 + 4, 8);
	CHECK_V(verdict_of(&f), TCPA_PKT_bad_ip);
	set16(&f, f.l3 + 4, 4);         /* not even room for 8 */
	CHECK_V(verdict_of(&f), TCPA_PKT_bad_ip);

	/* AH longer than the payload. */
	fb_init(&f);
	put_eth(&f, 0x86dd);
	put_ipv6(&f, 51);
	put_ah(&f, 6, 4);
	put_tcp(&f, TCPA_TCP_ACK, NULL, 0);
	set16(&f, f.l3 + 4, 20);
	CHECK_V(verdict_of(&f), TCPA_PKT_bad_ip);

	/* Hop-by-hop that is not first. */
	fb_init(&f);
	put_eth(&f, 0x86dd);
	put_ipv6(&f, 60);
	put_ext(&f, 0, 0);
	put_ext(&f, 6, 0);
	put_tcp(&f, TCPA_TCP_ACK, NULL, 0);
	fb_finish(&f);
	CHECK_V(verdict_of(&f), TCPA_PKT_bad_ip);
}

static void
test_bad_tcp(void)
{
	struct fb f;

	/* Data offset below 5. */
	build_v4(&f, TCPA_TCP_ACK, NULL, 0, 20);
	f.b[f.l4 + 12] = 0x40;
	CHECK_V(verdict_of(&f), TCPA_PKT_bad_tcp);
	f.b[f.l4 + 12] = 0x00;
	CHECK_V(verdict_of(&f), TCPA_PKT_bad_tcp);

	/* Data offset past the IP payload (header captured). */
	build_v4(&f, TCPA_TCP_ACK, NULL, 0, 20);
	f.b[f.l4 + 12] = 0x60;
	set16(&f, f.l3 + 2, 20 + 20);
	CHECK_V(verdict_of(&f), TCPA_PKT_bad_tcp);
	build_v6(&f, TCPA_TCP_ACK, ts_opts, sizeof(ts_opts), 0);
	f.b[f.l4 + 12] = 0xf0;
	CHECK_V(verdict_of(&f), TCPA_PKT_bad_tcp);

	/* IP total length too small for any TCP header. */
	build_v4(&f, TCPA_TCP_ACK, NULL, 0, 0);
	set16(&f, f.l3 + 2, 20 + 19);
	CHECK_V(verdict_of(&f), TCPA_PKT_bad_tcp);
	set16(&f, f.l3 + 2, 20);
	CHECK_V(verdict_of(&f), TCPA_PKT_bad_tcp);
	/* ... even when the capture also ends inside the TCP header. */
	set16(&f, f.l3 + 2, 20 + 10);
	f.len = f.l4 + 15;
	CHECK_V(verdict_of(&f), TCPA_PKT_bad_tcp);
	build_v6(&f, TCPA_TCP_ACK, NULL, 0, 0);
	set16(&f, f.l3 + 4, 10);
	CHECK_V(verdict_of(&f), TCPA_PKT_bad_tcp);

	/* IPv6 extension headers eat the room for TCP. */
	fb_init(&f);
	put_eth(&f, 0x86dd);
	put_ipv6(&f, 60);
	put_ext(&f, 6, 0);
	put_tcp(&f, TCPA_TCP_ACK, NULL, 0);
	set16(&f, f.l3 + 4, 8 + 12);
	CHECK_V(verdict_of(&f), TCPA_PKT_bad_tcp);
}

static void
test_truncated_specific(void)
{
	struct fb f;

	/* IPv4 options cut. */
	{
		static const uint8_t ipopts[8] = { 1, 1, 1, 1, 1, 1, 1, 0 };

		fb_init(&f);
		put_eth(&f, 0x0800);
		put_ipv4(&f, 6, ipopts, sizeof(ipopts));
		put_tcp(&f, TCPA_TCP_ACK, NULL, 0);
		fb_finish(&f);
		f.len = f.l3 + 24;
		CHECK_V(verdict_of(&f), TCPA_PKT_truncated);
	}

	/* IPv6 extension header cut. */
	fb_init(&f);
	put_eth(&f, 0x86dd);
	put_ipv6(&f, 0);
	put_ext(&f, 6, 3);
	put_tcp(&f, TCPA_TCP_ACK, NULL, 0);
	fb_finish(&f);
	f.len = f.l3 + 40 + 12;
	CHECK_V(verdict_of(&f), TCPA_PKT_truncated);
	f.len = f.l3 + 40 + 1;
	CHECK_V(verdict_of(&f), TCPA_PKT_truncated);

	/* TCP options cut. */
	build_v4(&f, TCPA_TCP_SYN, syn_opts, sizeof(syn_opts), 0);
	f.len -= 1;
	CHECK_V(verdict_of(&f), TCPA_PKT_truncated);
}

static void
test_ip_fragment(void)
{
	struct tcpa_pkt p;
	struct fb f;

	build_v4(&f, TCPA_TCP_ACK, NULL, 0, 100);
	set16(&f, f.l3 + 6, 0x2000);    /* MF */
	CHECK_V(verdict_of(&f), TCPA_PKT_ip_fragment);
	set16(&f, f.l3 + 6, 0x000d);    /* offset 13 * 8 */
	CHECK_V(verdict_of(&f), TCPA_PKT_ip_fragment);
	set16(&f, f.l3 + 6, 0x4000);    /* DF only */
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	set16(&f, f.l3 + 6, 0x0000);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);

	/* IPv6 fragment header: M = 1, offset != 0. */
	fb_init(&f);
	put_eth(&f, 0x86dd);
	put_ipv6(&f, 44);
	put_frag6(&f, 6, 0x0001);
	put_tcp(&f, TCPA_TCP_ACK, NULL, 0);
	put_payload(&f, 10);
	fb_finish(&f);
	CHECK_V(verdict_of(&f), TCPA_PKT_ip_fragment);
	set16(&f, f.l3 + 40 + 2, 0x0010);
	CHECK_V(verdict_of(&f), TCPA_PKT_ip_fragment);
	set16(&f, f.l3 + 40 + 2, 0x0000);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	CHECK_EQ(p.payload_len, 10);
}

static void
test_flags(void)
{
	static const uint8_t bad[] = {
		0x00,
		TCPA_TCP_ECE,
		TCPA_TCP_CWR,
		TCPA_TCP_ECE | TCPA_TCP_CWR,
		TCPA_TCP_SYN | TCPA_TCP_FIN,
		TCPA_TCP_SYN | TCPA_TCP_FIN | TCPA_TCP_ACK,
		TCPA_TCP_SYN | TCPA_TCP_RST,
		TCPA_TCP_SYN | TCPA_TCP_RST | TCPA_TCP_ACK,
		TCPA_TCP_FIN | TCPA_TCP_PSH | TCPA_TCP_URG,
		TCPA_TCP_FIN | TCPA_TCP_PSH | TCPA_TCP_URG | TCPA_TCP_ECE | TCPA_TCP_CWR,
		0x3f,
	};
	static const uint8_t good[] = {
		TCPA_TCP_SYN,
		TCPA_TCP_SYN | TCPA_TCP_ACK,
		TCPA_TCP_SYN | TCPA_TCP_ECE | TCPA_TCP_CWR,
		TCPA_TCP_ACK,
		TCPA_TCP_ACK | TCPA_TCP_ECE,
		TCPA_TCP_RST,
		TCPA_TCP_RST | TCPA_TCP_ACK,
		TCPA_TCP_FIN | TCPA_TCP_ACK,
		TCPA_TCP_FIN | TCPA_TCP_PSH | TCPA_TCP_URG | TCPA_TCP_ACK,
		TCPA_TCP_PSH | TCPA_TCP_ACK,
		TCPA_TCP_URG,
		TCPA_TCP_FIN,
	};
	struct tcpa_pkt p;
	struct fb f;
	size_t i;

	for (i = 0; i < sizeof(bad); i++) {
		build_v4(&f, bad[i], ts_opts, sizeof(ts_opts), 4);
		CHECK_V(parse_fb(&f, &p), TCPA_PKT_bad_flags);
		/* Everything else is filled, to attribute the anomaly. */
		CHECK_EQ(p.tcp_flags, bad[i]);
		check_v4_addrs(&p);
		check_tcp_base(&p);
		CHECK_EQ(p.payload_len, 4);
		CHECK_EQ(p.opts, TCPA_OPT_TS);
	}
	for (i = 0; i < sizeof(good); i++) {
		build_v6(&f, good[i], NULL, 0, 0);
		CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
		CHECK_EQ(p.tcp_flags, good[i]);
	}
}

static void
test_sack(void)
{
	uint8_t o[64];   /* 40 used; slack quiets a gcc -O3 + ASan false positive */
	struct tcpa_pkt p;
	struct fb f;
	uint32_t n, i, k;

	for (n = 1; n <= 4; n++) {
		/* NOP NOP SACK(n), padded with NOPs to a multiple of 4. */
		uint32_t ol = 0;

		o[ol++] = 1;
		o[ol++] = 1;
		o[ol++] = 5;
		o[ol++] = (uint8_t)(2 + 8 * n);
		for (i = 0; i < n; i++) {
			for (k = 0; k < 8; k++)
				o[ol++] = (uint8_t)(0x10 * (i + 1) + k);
		}
		while (ol % 4 != 0)
			o[ol++] = 1;
		build_v4(&f, TCPA_TCP_ACK, o, ol, 0);
		CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
		CHECK_EQ(p.opts, TCPA_OPT_SACK);
		CHECK_EQ(p.nsack, n);
		for (i = 0; i < n; i++) {
			uint32_t b = 0x10 * (i + 1);
			uint32_t left = b << 24 | (b + 1) << 16 | (b + 2) << 8 | (b + 3);
			uint32_t right = (b + 4) << 24 | (b + 5) << 16 | (b + 6) << 8 | (b + 7);

			CHECK_EQ(p.sack[i][0], left);
			CHECK_EQ(p.sack[i][1], right);
		}
		for (; i < TCPA_PKT_MAX_SACK; i++) {
			CHECK_EQ(p.sack[i][0], 0);
			CHECK_EQ(p.sack[i][1], 0);
		}
	}

	/* TS and SACK together: NOP NOP TS NOP NOP SACK(2). */
	{
		static const uint8_t ts_sack[32] = {
			1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6,
			1, 1, 5, 18,
			0, 0, 0x10, 0, 0, 0, 0x20, 0,
			0, 0, 0x30, 0, 0, 0, 0x40, 0,
		};

		build_v6(&f, TCPA_TCP_ACK, ts_sack, sizeof(ts_sack), 0);
		CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
		CHECK_EQ(p.opts, TCPA_OPT_SACK | TCPA_OPT_TS);
		CHECK_EQ(p.tsval, 5);
		CHECK_EQ(p.tsecr, 6);
		CHECK_EQ(p.nsack, 2);
		CHECK_EQ(p.sack[0][0], 0x1000);
		CHECK_EQ(p.sack[0][1], 0x2000);
		CHECK_EQ(p.sack[1][0], 0x3000);
		CHECK_EQ(p.sack[1][1], 0x4000);
	}

	/* SACK of 2 + 9 bytes: ignored, not fatal. */
	{
		static const uint8_t odd[12] = { 5, 11, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0 };

		build_v4(&f, TCPA_TCP_ACK, odd, sizeof(odd), 0);
		CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
		CHECK_EQ(p.opts, 0);
		CHECK_EQ(p.nsack, 0);
	}
	/* SACK with no block. */
	{
		static const uint8_t empty[4] = { 5, 2, 1, 1 };

		build_v4(&f, TCPA_TCP_ACK, empty, sizeof(empty), 0);
		CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
		CHECK_EQ(p.opts, 0);
		CHECK_EQ(p.nsack, 0);
	}
}

static void
test_opt_lengths(void)
{
	struct tcpa_pkt p;
	struct fb f;

	/* Length 0, length 1. */
	{
		static const uint8_t o[4] = { 2, 0, 0, 0 };

		build_v4(&f, TCPA_TCP_SYN, o, sizeof(o), 0);
		CHECK_V(verdict_of(&f), TCPA_PKT_bad_tcp);
	}
	{
		static const uint8_t o[4] = { 1, 30, 1, 0 };

		build_v4(&f, TCPA_TCP_SYN, o, sizeof(o), 0);
		CHECK_V(verdict_of(&f), TCPA_PKT_bad_tcp);
	}
	/* Runs past the header. */
	{
		static const uint8_t o[8] = { 1, 1, 8, 10, 0, 0, 0, 1 };

		build_v4(&f, TCPA_TCP_ACK, o, sizeof(o), 10);
		CHECK_V(verdict_of(&f), TCPA_PKT_bad_tcp);
	}
	/* Kind in the last byte, no room for its length. */
	{
		static const uint8_t o[4] = { 1, 1, 1, 2 };

		build_v4(&f, TCPA_TCP_SYN, o, sizeof(o), 0);
		CHECK_V(verdict_of(&f), TCPA_PKT_bad_tcp);
	}
	/* Known options with the wrong length are skipped. */
	{
		/* MSS len 3, WS len 4, SACK-permitted len 3, TS len 6. */
		static const uint8_t o[16] = {
			2, 3, 5, 3, 4, 7, 0, 4, 3, 0, 8, 6, 1, 2, 3, 4,
		};

		build_v4(&f, TCPA_TCP_SYN, o, sizeof(o), 0);
		CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
		CHECK_EQ(p.opts, 0);
		CHECK_EQ(p.mss, 0);
		CHECK_EQ(p.wscale, 0);
	}
	/* Unknown options skipped by length; EOL ends the list. */
	{
		static const uint8_t o[16] = {
			30, 6, 0xff, 0xff, 0xff, 0xff, 2, 4, 0x23, 0x28,
			0, 0xff, 0x00, 0x08, 0x01, 0x00,
		};

		build_v4(&f, TCPA_TCP_SYN, o, sizeof(o), 0);
		CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
		CHECK_EQ(p.opts, TCPA_OPT_MSS);
		CHECK_EQ(p.mss, 9000);
	}
	/* Window scale is clamped to 14. */
	{
		uint8_t o[4] = { 3, 3, 14, 1 };

		build_v4(&f, TCPA_TCP_SYN, o, sizeof(o), 0);
		CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
		CHECK_EQ(p.opts, TCPA_OPT_WSCALE);
		CHECK_EQ(p.wscale, 14);
		o[2] = 15;
		build_v4(&f, TCPA_TCP_SYN, o, sizeof(o), 0);
		CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
		CHECK_EQ(p.wscale, 14);
		o[2] = 255;
		build_v4(&f, TCPA_TCP_SYN, o, sizeof(o), 0);
		CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
		CHECK_EQ(p.wscale, 14);
		o[2] = 0;
		build_v4(&f, TCPA_TCP_SYN, o, sizeof(o), 0);
		CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
		CHECK_EQ(p.opts, TCPA_OPT_WSCALE);
		CHECK_EQ(p.wscale, 0);
	}
	/* 40 bytes of options: the maximum. */
	{
		uint8_t o[40];

		memset(o, 1, sizeof(o));
		o[36] = 2;
		o[37] = 4;
		o[38] = 0x01;
		o[39] = 0x00;
		build_v4(&f, TCPA_TCP_SYN, o, sizeof(o), 0);
		CHECK_EQ(f.b[f.l4 + 12], 0xf0);
		CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
		CHECK_EQ(p.mss, 256);
	}
}

static void
test_snaplen(void)
{
	struct tcpa_pkt p;
	struct fb f;
	uint32_t cap;

	build_v4(&f, TCPA_TCP_ACK | TCPA_TCP_PSH, ts_opts, sizeof(ts_opts), 1000);
	for (cap = f.hend; cap <= f.len; cap += 97) {
		CHECK_V(parse_exact(f.b, cap, &p), TCPA_PKT_OK);
		CHECK_EQ(p.payload_len, 1000);
		CHECK_EQ(p.wire_len, cap);
	}
	build_v6(&f, TCPA_TCP_ACK, NULL, 0, 1400);
	CHECK_V(parse_exact(f.b, f.hend + 10, &p), TCPA_PKT_OK);
	CHECK_EQ(p.payload_len, 1400);
}

static void
test_padding(void)
{
	struct tcpa_pkt p;
	struct fb f;

	/* A bare ACK is 54 bytes; the NIC pads it to 60. */
	build_v4(&f, TCPA_TCP_ACK, NULL, 0, 0);
	CHECK_EQ(f.len, 54);
	put_payload(&f, 6);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	CHECK_EQ(p.payload_len, 0);
	CHECK_EQ(p.wire_len, 60);

	/* Payload plus padding. */
	build_v4(&f, TCPA_TCP_ACK | TCPA_TCP_PSH, NULL, 0, 2);
	put_payload(&f, 4);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	CHECK_EQ(p.payload_len, 2);

	build_v6(&f, TCPA_TCP_RST, NULL, 0, 0);
	put_payload(&f, 30);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	CHECK_EQ(p.payload_len, 0);
}

static void
test_stale_fields(void)
{
	static const uint8_t sack_opts[12] = {
		1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2,
	};
	struct tcpa_pkt p;
	struct fb f;

	pkt_poison(&p);
	build_v4(&f, TCPA_TCP_SYN, syn_opts, sizeof(syn_opts), 0);
	CHECK_V(parse_exact(f.b, f.len, &p), TCPA_PKT_OK);
	build_v4(&f, TCPA_TCP_ACK, sack_opts, sizeof(sack_opts), 0);
	CHECK_V(parse_exact(f.b, f.len, &p), TCPA_PKT_OK);
	CHECK_EQ(p.nsack, 1);
	build_v4(&f, TCPA_TCP_ACK, NULL, 0, 0);
	CHECK_V(parse_exact(f.b, f.len, &p), TCPA_PKT_OK);
	CHECK_EQ(p.opts, 0);
	CHECK_EQ(p.mss, 0);
	CHECK_EQ(p.wscale, 0);
	CHECK_EQ(p.nsack, 0);
	CHECK_EQ(p.tsval, 0);
	CHECK_EQ(p.tsecr, 0);
	CHECK_EQ(p.sack[0][0], 0);
	CHECK_EQ(p.sack[0][1], 0);
	check_caller_fields(&p);

	/* Even a rejected frame clears them. */
	build_v4(&f, TCPA_TCP_SYN, syn_opts, sizeof(syn_opts), 0);
	CHECK_V(parse_exact(f.b, f.len, &p), TCPA_PKT_OK);
	CHECK_V(parse_exact(f.b, 5, &p), TCPA_PKT_bad_l2);
	CHECK_EQ(p.opts, 0);
	CHECK_EQ(p.mss, 0);
	CHECK_EQ(p.wire_len, 5);
	check_caller_fields(&p);
}

/*
 * Cut a valid frame at every length: below the end of L2 it is bad_l2,
 * inside the IP or TCP header truncated, from the end of the TCP header on
 * it parses with the payload length the IP header gives.
 */
static void
truncate_all(const struct fb *f, uint32_t l2end, uint16_t payload)
{
	struct tcpa_pkt p;
	uint32_t len;

	for (len = 0; len <= f->len; len++) {
		enum tcpa_pkt_verdict v;

		pkt_poison(&p);
		v = parse_exact(f->b, len, &p);
		CHECK_EQ(p.wire_len, len);
		check_caller_fields(&p);
		if (len < l2end) {
			CHECK_V(v, TCPA_PKT_bad_l2);
		} else if (len < f->hend) {
			CHECK_V(v, TCPA_PKT_truncated);
		} else {
			CHECK_V(v, TCPA_PKT_OK);
			CHECK_EQ(p.payload_len, payload);
		}
		if (cur_fail != 0) {
			fprintf(stderr, "  at len %u of %u\n", len, f->len);
			return;
		}
	}
}

static void
test_truncation_every_offset(void)
{
	static const uint8_t ipopts[8] = { 0x94, 4, 0, 0, 1, 1, 1, 0 };
	struct fb f;

	build_v4(&f, TCPA_TCP_SYN, syn_opts, sizeof(syn_opts), 0);
	truncate_all(&f, 14, 0);

	build_v4(&f, TCPA_TCP_ACK, ts_opts, sizeof(ts_opts), 40);
	truncate_all(&f, 14, 40);

	build_v6(&f, TCPA_TCP_SYN | TCPA_TCP_ACK, syn_opts, sizeof(syn_opts), 0);
	truncate_all(&f, 14, 0);

	fb_init(&f);
	put_eth(&f, 0x86dd);
	put_ipv6(&f, 0);
	put_ext(&f, 51, 1);
	put_ah(&f, 44, 3);
	put_frag6(&f, 60, 0);
	put_ext(&f, 6, 0);
	put_tcp(&f, TCPA_TCP_ACK | TCPA_TCP_PSH, ts_opts, sizeof(ts_opts));
	put_payload(&f, 17);
	fb_finish(&f);
	truncate_all(&f, 14, 17);

	fb_init(&f);
	put_eth(&f, 0x88a8);
	put_tag(&f, 300, 0x8100);
	put_tag(&f, 400, 0x0800);
	put_ipv4(&f, 6, ipopts, sizeof(ipopts));
	put_tcp(&f, TCPA_TCP_SYN, syn_opts, sizeof(syn_opts));
	fb_finish(&f);
	truncate_all(&f, 22, 0);
}

/* xorshift64*: fixed seed, same frames on every run. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 32);
}

static void
check_invariants(enum tcpa_pkt_verdict v, const struct tcpa_pkt *p, uint32_t len)
{
	CHECK((unsigned int)v < TCPA_PKT_VERDICT_MAX);
	CHECK_EQ(p->wire_len, len);
	CHECK_EQ(p->hash, SENT_HASH);
	CHECK_EQ(p->ts, SENT_TS);
	CHECK_EQ(p->rxc, SENT_RXC);
	if (v == TCPA_PKT_OK) {
		CHECK(p->family == 4 || p->family == 6);
		CHECK(p->nsack <= TCPA_PKT_MAX_SACK);
		CHECK(p->wscale <= 14);
		CHECK(p->nsack == 0 || (p->opts & TCPA_OPT_SACK) != 0);
		CHECK(len >= 14 + 20 + 20);
	}
}

static void
test_random_garbage(void)
{
	static const uint16_t types[] = { 0x0800, 0x86dd, 0x8100, 0x88a8 };
	unsigned int counts[TCPA_PKT_VERDICT_MAX] = { 0 };
	uint8_t buf[256];
	struct tcpa_pkt p;
	unsigned int i, j;

	for (i = 0; i < 100000 && cur_fail == 0; i++) {
		uint32_t len = rng() % (sizeof(buf) + 1);
		enum tcpa_pkt_verdict v;

		for (j = 0; j < len; j++)
			buf[j] = (uint8_t)rng();
		/* Most of the time, steer it past L2 so the deeper layers see garbage too. */
		if (len >= 14 && (rng() & 3) != 0) {
			uint16_t t = types[rng() % TCPA_ARRAY_SIZE(types)];

			buf[12] = t >> 8;
			buf[13] = t & 0xff;
		}
		pkt_poison(&p);
		v = parse_exact(buf, len, &p);
		check_invariants(v, &p, len);
		counts[v]++;
	}
	CHECK(counts[TCPA_PKT_bad_l2] != 0);
	CHECK(counts[TCPA_PKT_not_tcp] != 0);
}

/* Valid frames with a few random bytes changed: reaches the TCP options. */
static void
test_random_mutations(void)
{
	unsigned int counts[TCPA_PKT_VERDICT_MAX] = { 0 };
	struct fb base[4];
	struct tcpa_pkt p;
	unsigned int i, k;

	build_v4(&base[0], TCPA_TCP_SYN, syn_opts, sizeof(syn_opts), 0);
	build_v6(&base[1], TCPA_TCP_ACK, ts_opts, sizeof(ts_opts), 30);
	fb_init(&base[2]);
	put_eth(&base[2], 0x86dd);
	put_ipv6(&base[2], 0);
	put_ext(&base[2], 44, 0);
	put_frag6(&base[2], 60, 0);
	put_ext(&base[2], 6, 1);
	put_tcp(&base[2], TCPA_TCP_SYN | TCPA_TCP_ACK, syn_opts, sizeof(syn_opts));
	fb_finish(&base[2]);
	fb_init(&base[3]);
	put_eth(&base[3], 0x8100);
	put_tag(&base[3], 9, 0x0800);
	put_ipv4(&base[3], 6, NULL, 0);
	put_tcp(&base[3], TCPA_TCP_ACK, syn_opts, sizeof(syn_opts));
	put_payload(&base[3], 10);
	fb_finish(&base[3]);

	for (i = 0; i < 100000 && cur_fail == 0; i++) {
		const struct fb *b = &base[rng() % 4];
		uint8_t buf[FB_MAX];
		uint32_t len = b->len;
		unsigned int nmut = 1 + rng() % 4;
		enum tcpa_pkt_verdict v;

		memcpy(buf, b->b, b->len);
		for (k = 0; k < nmut; k++)
			buf[rng() % b->len] = (uint8_t)rng();
		if ((rng() & 3) == 0)
			len = rng() % (b->len + 1);
		pkt_poison(&p);
		v = parse_exact(buf, len, &p);
		check_invariants(v, &p, len);
		counts[v]++;
	}
	for (i = 0; i < TCPA_PKT_VERDICT_MAX; i++) {
		if (counts[i] == 0)
			fprintf(stderr, "note: mutation never produced %s\n",
				tcpa_pkt_verdict_name(i));
	}
	CHECK(counts[TCPA_PKT_OK] != 0);
	CHECK(counts[TCPA_PKT_bad_tcp] != 0);
}

/* ---- link layers and tunnels: builders ---- */

static const uint8_t o4_src[4] = { 172, 16, 0, 1 };
static const uint8_t o4_dst[4] = { 172, 16, 0, 2 };

/* An outer IPv4 header (different addresses from the inner ones). */
static void
put_outer4(struct fb *f, uint8_t proto)
{
	uint32_t at = f->len;

	put_ipv4(f, proto, NULL, 0);
	memcpy(f->b + at + 12, o4_src, 4);
	memcpy(f->b + at + 16, o4_dst, 4);
}

static void
put_outer6(struct fb *f, uint8_t nh)
{
	uint32_t at = f->len;

	put_ipv6(f, nh);
	f->b[at + 8 + 15] = 0x77;
	f->b[at + 24 + 15] = 0x78;
}

/* The inner segment: IPv4 or IPv6, TCP with timestamps, payload. */
static void
put_inner(struct fb *f, int family, uint32_t payload)
{
	if (family == 4)
		put_ipv4(f, 6, NULL, 0);
	else
		put_ipv6(f, 6);
	put_tcp(f, TCPA_TCP_ACK | TCPA_TCP_PSH, ts_opts, sizeof(ts_opts));
	put_payload(f, payload);
}

static void
put_udp(struct fb *f, uint16_t dport)
{
	fb_fix(f, 17);
	put16(f, 51000);
	put16(f, dport);
	put16(f, 0);            /* length: fb_finish() */
	put16(f, 0);
}

static void
put_vxlan(struct fb *f, uint32_t vni)
{
	put32(f, 0x08000000);
	put32(f, vni << 8);
}

static void
put_geneve(struct fb *f, uint32_t vni, uint16_t proto, uint8_t optlen4)
{
	uint32_t i;

	put8(f, optlen4);
	put8(f, 0);
	put16(f, proto);
	put32(f, vni << 8);
	for (i = 0; i < optlen4 * 4U; i++)
		put8(f, (uint8_t)(0xc0 + i));
}

#define GRE_C 0x8000
#define GRE_K 0x2000
#define GRE_S 0x1000

static void
put_gre(struct fb *f, uint16_t flags, uint16_t proto, uint32_t key)
{
	put16(f, flags);
	put16(f, proto);
	if (flags & GRE_C)
		put32(f, 0xabcd0000);
	if (flags & GRE_K)
		put32(f, key);
	if (flags & GRE_S)
		put32(f, 77);
}

static void
put_erspan2(struct fb *f, uint16_t session)
{
	put16(f, 0x1000 | 123);                 /* version 1, VLAN 123 */
	put16(f, 0xe000 | 0x0400 | session);    /* COS, T, session */
	put32(f, 0x00012345);                   /* index */
}

static void
put_erspan3(struct fb *f, uint16_t session, uint8_t ft, int o)
{
	put16(f, 0x2000 | 123);
	put16(f, 0x0000 | session);
	put32(f, 0x11223344);                   /* timestamp */
	put16(f, 0x5555);                       /* SGT */
	put16(f, (uint16_t)(ft << 10 | 0x3f << 4 | (o ? 1 : 0)));
	if (o) {
		put32(f, 0x01020304);
		put32(f, 0x05060708);
	}
}

static void
put_mpls(struct fb *f, uint32_t label, int bos)
{
	put32(f, label << 12 | (bos ? 0x100U : 0) | 64);
}

/* Parse a heap copy of cap bytes of a frame wire bytes long, of link type lt. */
static enum tcpa_pkt_verdict
parse_link_exact(uint32_t lt, const uint8_t *b, uint32_t cap, uint32_t wire,
		 struct tcpa_pkt *p)
{
	enum tcpa_pkt_verdict v;
	uint8_t *c = malloc(cap != 0 ? cap : 1);

	if (c == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	memcpy(c, b, cap);
	v = tcpa_pkt_parse_link(lt, c, cap, wire, p);
	free(c);
	return v;
}

static enum tcpa_pkt_verdict
parse_link_fb(uint32_t lt, const struct fb *f, struct tcpa_pkt *p)
{
	pkt_poison(p);
	return parse_link_exact(lt, f->b, f->len, f->len, p);
}

/* The inner segment put_inner() built, as parsed. */
static void
check_inner(const struct tcpa_pkt *p, int family, uint32_t payload)
{
	if (family == 4)
		check_v4_addrs(p);
	else
		check_v6_addrs(p);
	check_tcp_base(p);
	check_caller_fields(p);
	CHECK_EQ(p->tcp_flags, TCPA_TCP_ACK | TCPA_TCP_PSH);
	CHECK_EQ(p->opts, TCPA_OPT_TS);
	CHECK_EQ(p->tsval, 0x1001U);
	CHECK_EQ(p->payload_len, payload);
}

static void
check_tunnel(const struct tcpa_pkt *p, unsigned int kind, uint32_t id, unsigned int encap)
{
	CHECK_EQ(p->tunnel_kind, kind);
	CHECK_EQ(p->tunnel_id, id);
	CHECK_EQ(p->encap, encap);
}

#define E(x) (1U << TCPA_PKT_ENCAP_##x)

/*
 * Cut a frame of link type lt at every length, its wire length staying the
 * whole frame's (a snap length): before l2end (the first IP header) it is
 * bad_l2, before the end of the TCP header truncated, from there on it
 * parses with the payload length the IP header gives, and the same tunnel.
 */
static void
truncate_all_link(uint32_t lt, const struct fb *f, uint32_t l2end, uint32_t payload)
{
	struct tcpa_pkt full, p;
	uint32_t len;

	CHECK_V(parse_link_fb(lt, f, &full), TCPA_PKT_OK);
	for (len = 0; len <= f->len; len++) {
		enum tcpa_pkt_verdict v;

		pkt_poison(&p);
		v = parse_link_exact(lt, f->b, len, f->len, &p);
		CHECK_EQ(p.wire_len, f->len);
		check_caller_fields(&p);
		if (len < l2end) {
			CHECK_V(v, TCPA_PKT_bad_l2);
		} else if (len < f->hend) {
			CHECK_V(v, TCPA_PKT_truncated);
		} else {
			CHECK_V(v, TCPA_PKT_OK);
			CHECK_EQ(p.payload_len, payload);
			CHECK_EQ(p.tunnel_id, full.tunnel_id);
			CHECK_EQ(p.encap, full.encap);
			CHECK_EQ(p.zone, full.zone);
		}
		if (cur_fail != 0) {
			fprintf(stderr, "  at len %u of %u (link type %u)\n", len, f->len, lt);
			return;
		}
	}
}

/* Same through tcpa_pkt_parse() (Ethernet, wire length unknown). */
static void
truncate_all_eth(const struct fb *f, uint32_t l2end, uint32_t payload)
{
	struct tcpa_pkt p;
	uint32_t len;

	for (len = 0; len <= f->len; len++) {
		enum tcpa_pkt_verdict v;

		pkt_poison(&p);
		v = parse_exact(f->b, len, &p);
		if (len < l2end)
			CHECK_V(v, TCPA_PKT_bad_l2);
		else if (len < f->hend)
			CHECK_V(v, TCPA_PKT_truncated);
		else
			CHECK_V(v, TCPA_PKT_OK);
		if (v == TCPA_PKT_OK)
			CHECK_EQ(p.payload_len, payload);
		if (cur_fail != 0) {
			fprintf(stderr, "  at len %u of %u\n", len, f->len);
			return;
		}
	}
}

/* ---- link types ---- */

static void
put_sll(struct fb *f, uint16_t hatype, uint16_t proto)
{
	static const uint8_t addr[8] = { 0x02, 0, 0, 0, 0, 0x01, 0, 0 };

	put16(f, 0);            /* to us */
	put16(f, hatype);
	put16(f, 6);
	putn(f, addr, 8);
	put16(f, proto);
}

static void
put_sll2(struct fb *f, uint16_t hatype, uint16_t proto)
{
	static const uint8_t addr[8] = { 0x02, 0, 0, 0, 0, 0x01, 0, 0 };

	put16(f, proto);
	put16(f, 0);
	put32(f, 3);            /* ifindex */
	put16(f, hatype);
	put8(f, 4);             /* outgoing */
	put8(f, 6);
	putn(f, addr, 8);
}

static void
put_le16(struct fb *f, uint16_t v)
{
	put8(f, v & 0xff);
	put8(f, v >> 8);
}

static void
put_nflog_tlv(struct fb *f, int le, uint16_t type, const uint8_t *v, uint16_t n)
{
	uint16_t tlen = (uint16_t)(4 + n);

	if (le) {
		put_le16(f, tlen);
		put_le16(f, type);
	} else {
		put16(f, tlen);
		put16(f, type);
	}
	putn(f, v, n);
	while (f->len % 4 != 0)
		put8(f, 0);
}

/*
 * An NFLOG record: header, packet header TLV, a prefix TLV of odd length
 * (padded), then the payload TLV whose value is the IP packet: its length
 * is set by nflog_finish().
 */
static uint32_t
put_nflog(struct fb *f, int le, uint8_t family)
{
	static const uint8_t hdr[4] = { 0x08, 0x00, 1, 0 };
	static const uint8_t prefix[5] = { 't', 'c', 'p', 'a', 0 };
	uint32_t at;

	put8(f, family);
	put8(f, 0);
	put16(f, 5);            /* resource id (group) */
	put_nflog_tlv(f, le, 1, hdr, sizeof(hdr));
	put_nflog_tlv(f, le, 10, prefix, sizeof(prefix));
	at = f->len;
	put_nflog_tlv(f, le, 9, NULL, 0);
	return at;
}

/* The payload TLV's length: to the end of what is built. */
static void
nflog_set_len(struct fb *f, int le, uint32_t at)
{
	uint16_t tlen = (uint16_t)(f->len - at);

	f->b[at] = le ? tlen & 0xff : tlen >> 8;
	f->b[at + 1] = le ? tlen >> 8 : tlen & 0xff;
}

static void
nflog_finish(struct fb *f, int le, uint32_t at)
{
	fb_finish(f);
	nflog_set_len(f, le, at);
}

/* One link type: header bytes hdr, then IPv4 or IPv6 TCP. */
static void
build_link(struct fb *f, const uint8_t *hdr, uint32_t hlen, int family, uint32_t payload)
{
	fb_init(f);
	putn(f, hdr, hlen);
	put_inner(f, family, payload);
	fb_finish(f);
}

static void
link_case(uint32_t lt, const uint8_t *hdr, uint32_t hlen, int family)
{
	struct tcpa_pkt p;
	struct fb f;

	build_link(&f, hdr, hlen, family, 21);
	CHECK_V(parse_link_fb(lt, &f, &p), TCPA_PKT_OK);
	check_inner(&p, family, 21);
	check_tunnel(&p, TCPA_PKT_TUNNEL_NONE, 0, 0);
	CHECK_EQ(p.zone, tcpa_pkt_zone(0, p.tunnel_kind, p.tunnel_id));
	CHECK_EQ(p.wire_len, f.len);
	truncate_all_link(lt, &f, hlen, 21);
	if (cur_fail != 0)
		fprintf(stderr, "  link type %u, IPv%d\n", lt, family);
}

static void
test_link_types(void)
{
	static const uint8_t null4_le[4] = { 2, 0, 0, 0 };
	static const uint8_t null6_le[4] = { 30, 0, 0, 0 };     /* Darwin */
	static const uint8_t null6_be[4] = { 0, 0, 0, 28 };     /* FreeBSD, swapped */
	static const uint8_t loop4[4] = { 0, 0, 0, 2 };
	static const uint8_t loop6[4] = { 0, 0, 0, 24 };        /* OpenBSD */
	static const uint8_t ppp4[2] = { 0x00, 0x21 };
	static const uint8_t ppp6_hdlc[4] = { 0xff, 0x03, 0x00, 0x57 };
	static const uint8_t ppp4_pfc[1] = { 0x21 };
	static const uint8_t ppp4_hdlc_pfc[3] = { 0xff, 0x03, 0x21 };
	static const uint8_t chdlc4[4] = { 0x0f, 0x00, 0x08, 0x00 };
	static const uint8_t chdlc6[4] = { 0x8f, 0x00, 0x86, 0xdd };
	static const uint32_t af6[] = { 10, 23, 24, 28, 30 };
	struct fb f;
	size_t i;
	int fam;

	for (fam = 4; fam <= 6; fam += 2) {
		link_case(TCPA_LINKTYPE_RAW, NULL, 0, fam);
		link_case(TCPA_LINKTYPE_DLT_RAW1, NULL, 0, fam);
		link_case(TCPA_LINKTYPE_DLT_RAW2, NULL, 0, fam);
		link_case(fam == 4 ? TCPA_LINKTYPE_IPV4 : TCPA_LINKTYPE_IPV6, NULL, 0, fam);
	}
	link_case(TCPA_LINKTYPE_NULL, null4_le, 4, 4);
	link_case(TCPA_LINKTYPE_NULL, null6_le, 4, 6);
	link_case(TCPA_LINKTYPE_NULL, null6_be, 4, 6);
	link_case(TCPA_LINKTYPE_LOOP, loop4, 4, 4);
	link_case(TCPA_LINKTYPE_LOOP, loop6, 4, 6);
	for (i = 0; i < TCPA_ARRAY_SIZE(af6); i++) {
		const uint8_t h[4] = { (uint8_t)af6[i], 0, 0, 0 };

		link_case(TCPA_LINKTYPE_NULL, h, 4, 6);
	}
	link_case(TCPA_LINKTYPE_PPP, ppp4, 2, 4);
	link_case(TCPA_LINKTYPE_PPP, ppp6_hdlc, 4, 6);
	link_case(TCPA_LINKTYPE_PPP, ppp4_pfc, 1, 4);
	link_case(TCPA_LINKTYPE_PPP, ppp4_hdlc_pfc, 3, 4);
	link_case(TCPA_LINKTYPE_PPP_HDLC, ppp6_hdlc, 4, 6);
	link_case(TCPA_LINKTYPE_PPP_HDLC, ppp4_hdlc_pfc, 3, 4);
	link_case(TCPA_LINKTYPE_PPP_HDLC, chdlc4, 4, 4);
	link_case(TCPA_LINKTYPE_PPP_HDLC, chdlc6, 4, 6);
	link_case(TCPA_LINKTYPE_C_HDLC, chdlc4, 4, 4);

	/* Linux cooked, v1 and v2. */
	for (fam = 4; fam <= 6; fam += 2) {
		uint16_t et = fam == 4 ? 0x0800 : 0x86dd;

		fb_init(&f);
		put_sll(&f, 1, et);
		link_case(TCPA_LINKTYPE_LINUX_SLL, f.b, f.len, fam);
		fb_init(&f);
		put_sll2(&f, 1, et);
		link_case(TCPA_LINKTYPE_LINUX_SLL2, f.b, f.len, fam);
		/* A GRE device's cooked header carries the GRE protocol type. */
		fb_init(&f);
		put_sll(&f, 778, et);
		link_case(TCPA_LINKTYPE_LINUX_SLL, f.b, f.len, fam);
	}
	/* Ethernet through tcpa_pkt_parse_link(). */
	fb_init(&f);
	put_eth(&f, 0x0800);
	link_case(TCPA_LINKTYPE_ETHERNET, f.b, f.len, 4);
}

/* A VLAN tag after the cooked header (libpcap puts it back there). */
static void
test_link_sll_vlan(void)
{
	struct tcpa_pkt p;
	struct fb f;

	fb_init(&f);
	put_sll2(&f, 1, 0x8100);
	put_tag(&f, 42, 0x86dd);
	put_inner(&f, 6, 3);
	fb_finish(&f);
	CHECK_V(parse_link_fb(TCPA_LINKTYPE_LINUX_SLL2, &f, &p), TCPA_PKT_OK);
	check_inner(&p, 6, 3);
	CHECK_EQ(p.zone, tcpa_pkt_zone(42, p.tunnel_kind, p.tunnel_id));
	CHECK_EQ(p.encap, E(vlan));
	truncate_all_link(TCPA_LINKTYPE_LINUX_SLL2, &f, 24, 3);

	fb_init(&f);
	put_sll(&f, 1, 0x8100);
	put_tag(&f, 43, 0x0800);
	put_inner(&f, 4, 3);
	fb_finish(&f);
	CHECK_V(parse_link_fb(TCPA_LINKTYPE_LINUX_SLL, &f, &p), TCPA_PKT_OK);
	CHECK_EQ(p.zone, tcpa_pkt_zone(43, p.tunnel_kind, p.tunnel_id));
}

static void
test_link_nflog(void)
{
	struct tcpa_pkt p;
	struct fb f;
	uint32_t at;
	int le, fam;

	for (le = 0; le <= 1; le++) {
		for (fam = 4; fam <= 6; fam += 2) {
			fb_init(&f);
			at = put_nflog(&f, le, fam == 4 ? 2 : 10);
			put_inner(&f, fam, 30);
			nflog_finish(&f, le, at);
			CHECK_V(parse_link_fb(TCPA_LINKTYPE_NFLOG, &f, &p), TCPA_PKT_OK);
			check_inner(&p, fam, 30);
			CHECK_EQ(p.wire_len, f.len);
			truncate_all_link(TCPA_LINKTYPE_NFLOG, &f, at + 4, 30);
			/* A copy range cut the payload TLV: IP lengths still hold. */
			f.len = f.hend + 5;
			nflog_set_len(&f, le, at);
			CHECK_V(parse_link_fb(TCPA_LINKTYPE_NFLOG, &f, &p), TCPA_PKT_OK);
			CHECK_EQ(p.payload_len, 30);
		}
	}

	/* The payload TLV ends before the IP datagram does: cut there. */
	fb_init(&f);
	at = put_nflog(&f, 1, 2);
	put_inner(&f, 4, 30);
	nflog_finish(&f, 1, at);
	f.b[at] = (uint8_t)(4 + 20 + 10);
	CHECK_V(parse_link_fb(TCPA_LINKTYPE_NFLOG, &f, &p), TCPA_PKT_truncated);

	/* Version 1, a TLV shorter than its header, one past the record. */
	fb_init(&f);
	at = put_nflog(&f, 1, 2);
	put_inner(&f, 4, 0);
	nflog_finish(&f, 1, at);
	f.b[1] = 1;
	CHECK_V(parse_link_fb(TCPA_LINKTYPE_NFLOG, &f, &p), TCPA_PKT_bad_l2);
	f.b[1] = 0;
	f.b[4] = 3;
	CHECK_V(parse_link_fb(TCPA_LINKTYPE_NFLOG, &f, &p), TCPA_PKT_bad_l2);
	f.b[4] = 8;
	f.b[12] = 0xf0;         /* prefix TLV length 0xf0 */
	CHECK_V(parse_link_fb(TCPA_LINKTYPE_NFLOG, &f, &p), TCPA_PKT_bad_l2);

	/* A record with no packet in it. */
	fb_init(&f);
	put_nflog(&f, 1, 2);
	f.len -= 4;
	CHECK_V(parse_link_fb(TCPA_LINKTYPE_NFLOG, &f, &p), TCPA_PKT_not_tcp);
}

static void
test_link_malformed(void)
{
	static const uint8_t null_ipx[4] = { 23 + 100, 0, 0, 0 };
	static const uint8_t ppp_lcp[2] = { 0xc0, 0x21 };
	static const uint8_t ppp_bad_ctrl[4] = { 0xff, 0x05, 0x00, 0x21 };
	static const uint8_t hdlc_bad_addr[4] = { 0x42, 0x03, 0x00, 0x21 };
	static const uint8_t chdlc_arp[4] = { 0x0f, 0x00, 0x08, 0x06 };
	struct tcpa_pkt p;
	struct fb f;

	build_link(&f, null_ipx, 4, 4, 0);
	CHECK_V(parse_link_fb(TCPA_LINKTYPE_NULL, &f, &p), TCPA_PKT_not_tcp);
	build_link(&f, ppp_lcp, 2, 4, 0);
	CHECK_V(parse_link_fb(TCPA_LINKTYPE_PPP, &f, &p), TCPA_PKT_not_tcp);
	build_link(&f, ppp_bad_ctrl, 4, 4, 0);
	CHECK_V(parse_link_fb(TCPA_LINKTYPE_PPP_HDLC, &f, &p), TCPA_PKT_bad_l2);
	build_link(&f, hdlc_bad_addr, 4, 4, 0);
	CHECK_V(parse_link_fb(TCPA_LINKTYPE_PPP_HDLC, &f, &p), TCPA_PKT_bad_l2);
	build_link(&f, chdlc_arp, 4, 4, 0);
	CHECK_V(parse_link_fb(TCPA_LINKTYPE_C_HDLC, &f, &p), TCPA_PKT_not_tcp);

	/* Raw IP with a version that is neither; the wrong family for IPV4/IPV6. */
	build_link(&f, NULL, 0, 4, 0);
	f.b[0] = 0x55;
	CHECK_V(parse_link_fb(TCPA_LINKTYPE_RAW, &f, &p), TCPA_PKT_bad_ip);
	build_link(&f, NULL, 0, 6, 0);
	CHECK_V(parse_link_fb(TCPA_LINKTYPE_IPV4, &f, &p), TCPA_PKT_bad_ip);
	build_link(&f, NULL, 0, 4, 0);
	CHECK_V(parse_link_fb(TCPA_LINKTYPE_IPV6, &f, &p), TCPA_PKT_bad_ip);

	/* Netlink under a cooked header; an Ethertype that is not IP. */
	fb_init(&f);
	put_sll(&f, 824, 0x0000);
	put_payload(&f, 40);
	CHECK_V(parse_link_fb(TCPA_LINKTYPE_LINUX_SLL, &f, &p), TCPA_PKT_not_tcp);
	fb_init(&f);
	put_sll2(&f, 824, 0x0000);
	put_payload(&f, 40);
	CHECK_V(parse_link_fb(TCPA_LINKTYPE_LINUX_SLL2, &f, &p), TCPA_PKT_not_tcp);
	fb_init(&f);
	put_sll2(&f, 1, 0x0806);
	put_payload(&f, 28);
	CHECK_V(parse_link_fb(TCPA_LINKTYPE_LINUX_SLL2, &f, &p), TCPA_PKT_not_tcp);

	/* A link type the parser does not read, and an empty frame of each. */
	build_v4(&f, TCPA_TCP_ACK, NULL, 0, 0);
	CHECK_V(parse_link_fb(105, &f, &p), TCPA_PKT_not_tcp);
	CHECK_EQ(p.wire_len, f.len);
	CHECK_V(parse_link_exact(TCPA_LINKTYPE_RAW, f.b, 0, 0, &p), TCPA_PKT_truncated);
	CHECK_V(parse_link_exact(TCPA_LINKTYPE_PPP, f.b, 0, 0, &p), TCPA_PKT_bad_l2);
	CHECK_V(parse_link_exact(TCPA_LINKTYPE_NFLOG, f.b, 0, 0, &p), TCPA_PKT_bad_l2);
	CHECK_V(parse_link_exact(TCPA_LINKTYPE_NULL, f.b, 3, 3, &p), TCPA_PKT_bad_l2);

	/* A wire length below the captured length is taken as the captured one. */
	CHECK_V(parse_link_exact(TCPA_LINKTYPE_ETHERNET, f.b, f.len, 10, &p), TCPA_PKT_OK);
	CHECK_EQ(p.wire_len, f.len);
}

static void
test_linktype_names(void)
{
	static const uint32_t ok[] = {
		0, 1, 9, 12, 14, 50, 101, 104, 108, 113, 228, 229, 239, 276,
	};
	static const uint32_t not_ok[] = { 6, 105, 127, 189, 253, 258 };
	size_t i;

	for (i = 0; i < TCPA_ARRAY_SIZE(ok); i++) {
		CHECK(tcpa_pkt_linktype_supported(ok[i]));
		CHECK(tcpa_pkt_linktype_name(ok[i]) != NULL);
		CHECK(tcpa_pkt_linktype_advice(ok[i]) == NULL);
	}
	for (i = 0; i < TCPA_ARRAY_SIZE(not_ok); i++) {
		CHECK(!tcpa_pkt_linktype_supported(not_ok[i]));
		CHECK(tcpa_pkt_linktype_name(not_ok[i]) != NULL);
		CHECK(tcpa_pkt_linktype_advice(not_ok[i]) != NULL);
	}
	CHECK(strcmp(tcpa_pkt_linktype_name(276), "LINUX_SLL2") == 0);
	CHECK(strcmp(tcpa_pkt_linktype_name(127), "IEEE802_11_RADIOTAP") == 0);
	CHECK(strstr(tcpa_pkt_linktype_advice(127), "monitor mode") != NULL);
	CHECK(!tcpa_pkt_linktype_supported(0xdead));
	CHECK(tcpa_pkt_linktype_name(0xdead) == NULL);
	CHECK(tcpa_pkt_linktype_advice(0xdead) != NULL);
}

/* ---- VLAN stacks, MPLS ---- */

static void
build_tags(struct fb *f, unsigned int n, uint16_t first_tpid, int family)
{
	unsigned int i;

	fb_init(f);
	put_eth(f, first_tpid);
	for (i = 0; i < n; i++)
		put_tag(f, (uint16_t)(0x1000 * (i % 8) + 100 + i),
			i + 1 < n ? 0x8100 : (family == 4 ? 0x0800 : 0x86dd));
	put_inner(f, family, 11);
	fb_finish(f);
}

static void
test_vlan_stack(void)
{
	struct tcpa_pkt p;
	struct fb f;
	unsigned int n;

	for (n = 3; n <= TCPA_PKT_MAX_DEPTH; n++) {
		build_tags(&f, n, 0x88a8, 4);
		CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
		check_inner(&p, 4, 11);
		CHECK_EQ(p.zone, tcpa_pkt_zone((uint32_t)(100 + n - 2) << 12 | (100 + n - 1), p.tunnel_kind, p.tunnel_id));
		CHECK_EQ(p.encap, E(vlan));
		CHECK_V(parse_link_fb(TCPA_LINKTYPE_ETHERNET, &f, &p), TCPA_PKT_OK);
		CHECK_EQ(p.zone, tcpa_pkt_zone((uint32_t)(100 + n - 2) << 12 | (100 + n - 1), p.tunnel_kind, p.tunnel_id));
	}
	/* One tag more than the depth: bad_l2, by either entry point. */
	build_tags(&f, TCPA_PKT_MAX_DEPTH + 1, 0x8100, 6);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_bad_l2);
	CHECK_V(parse_link_fb(TCPA_LINKTYPE_ETHERNET, &f, &p), TCPA_PKT_bad_l2);

	/* 0x9100 outer tag: not on the fast path, same result. */
	build_tags(&f, 1, 0x9100, 6);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	check_inner(&p, 6, 11);
	CHECK_EQ(p.zone, tcpa_pkt_zone(100, p.tunnel_kind, p.tunnel_id));
	build_tags(&f, 3, 0x9100, 6);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	CHECK_EQ(p.zone, tcpa_pkt_zone(101U << 12 | 102U, p.tunnel_kind, p.tunnel_id));

	build_tags(&f, 3, 0x88a8, 4);
	truncate_all_eth(&f, 14 + 12, 11);
	truncate_all_link(TCPA_LINKTYPE_ETHERNET, &f, 14 + 12, 11);
	build_tags(&f, 5, 0x9100, 6);
	truncate_all_link(TCPA_LINKTYPE_ETHERNET, &f, 14 + 20, 11);
}

static void
test_mpls(void)
{
	struct tcpa_pkt p;
	struct fb f;

	/* One label, IPv4. */
	fb_init(&f);
	put_eth(&f, 0x8847);
	put_mpls(&f, 100, 1);
	put_inner(&f, 4, 9);
	fb_finish(&f);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	check_inner(&p, 4, 9);
	check_tunnel(&p, TCPA_PKT_TUNNEL_NONE, 0, E(mpls));
	/* (The first nibble after the stack says what follows: L2 too.) */
	truncate_all_eth(&f, 18 + 1, 9);
	truncate_all_link(TCPA_LINKTYPE_ETHERNET, &f, 18 + 1, 9);

	/* VLAN, three labels (multicast), IPv6. */
	fb_init(&f);
	put_eth(&f, 0x8100);
	put_tag(&f, 7, 0x8848);
	put_mpls(&f, 16, 0);
	put_mpls(&f, 17, 0);
	put_mpls(&f, 18, 1);
	put_inner(&f, 6, 40);
	fb_finish(&f);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	check_inner(&p, 6, 40);
	CHECK_EQ(p.zone, tcpa_pkt_zone(7, p.tunnel_kind, p.tunnel_id));
	check_tunnel(&p, TCPA_PKT_TUNNEL_NONE, 0, E(mpls) | E(vlan));
	truncate_all_link(TCPA_LINKTYPE_ETHERNET, &f, 18 + 12 + 1, 40);

	/* Ethernet pseudowire with control word, a VLAN inside. */
	fb_init(&f);
	put_eth(&f, 0x8847);
	put_mpls(&f, 1000, 0);
	put_mpls(&f, 2000, 1);
	put32(&f, 0x00000001);          /* control word */
	put_eth(&f, 0x8100);
	put_tag(&f, 300, 0x0800);
	put_inner(&f, 4, 2);
	fb_finish(&f);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	check_inner(&p, 4, 2);
	CHECK_EQ(p.zone, tcpa_pkt_zone(300, p.tunnel_kind, p.tunnel_id));
	check_tunnel(&p, TCPA_PKT_TUNNEL_NONE, 0, E(mpls) | E(vlan));
	truncate_all_link(TCPA_LINKTYPE_ETHERNET, &f, 14 + 8 + 4 + 18, 2);

	/* PPP carrying MPLS. */
	fb_init(&f);
	put16(&f, 0x0281);
	put_mpls(&f, 5, 1);
	put_inner(&f, 6, 1);
	fb_finish(&f);
	CHECK_V(parse_link_fb(TCPA_LINKTYPE_PPP, &f, &p), TCPA_PKT_OK);
	check_inner(&p, 6, 1);

	/* After the bottom label, a nibble that is neither IP nor a control word. */
	fb_init(&f);
	put_eth(&f, 0x8847);
	put_mpls(&f, 100, 1);
	put32(&f, 0x10000000);
	put_payload(&f, 40);
	CHECK_V(verdict_of(&f), TCPA_PKT_not_tcp);
	/* A stack deeper than the bound. */
	{
		unsigned int i;

		fb_init(&f);
		put_eth(&f, 0x8847);
		for (i = 0; i <= TCPA_PKT_MAX_DEPTH; i++)
			put_mpls(&f, i, i == TCPA_PKT_MAX_DEPTH);
		put_inner(&f, 4, 0);
		fb_finish(&f);
		CHECK_V(verdict_of(&f), TCPA_PKT_bad_l2);
	}
}

/* ---- IP in IP, GRE, ERSPAN ---- */

static void
test_ipip(void)
{
	static const uint8_t outer[4] = { 4, 41, 4, 41 };
	struct tcpa_pkt p;
	struct fb f;
	int i;

	for (i = 0; i < 4; i++) {
		int ofam = i < 2 ? 4 : 6;
		int ifam = outer[i] == 4 ? 4 : 6;

		fb_init(&f);
		put_eth(&f, ofam == 4 ? 0x0800 : 0x86dd);
		if (ofam == 4)
			put_outer4(&f, outer[i]);
		else
			put_outer6(&f, outer[i]);
		put_inner(&f, ifam, 17);
		fb_finish(&f);
		CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
		check_inner(&p, ifam, 17);
		check_tunnel(&p, TCPA_PKT_TUNNEL_NONE, 0, E(ipip));
		truncate_all_eth(&f, 14, 17);
		truncate_all_link(TCPA_LINKTYPE_ETHERNET, &f, 14, 17);
		/* The same as raw IP. */
		CHECK_V(parse_link_exact(TCPA_LINKTYPE_RAW, f.b + 14, f.len - 14, f.len - 14, &p),
			TCPA_PKT_OK);
		check_inner(&p, ifam, 17);
	}

	/* An extension header before the inner IPv4. */
	fb_init(&f);
	put_eth(&f, 0x86dd);
	put_outer6(&f, 60);
	put_ext(&f, 4, 0);
	put_inner(&f, 4, 5);
	fb_finish(&f);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	check_inner(&p, 4, 5);

	/* The outer datagram ends inside the inner TCP header: a mirror cut it. */
	fb_init(&f);
	put_eth(&f, 0x0800);
	put_outer4(&f, 4);
	put_inner(&f, 4, 100);
	fb_finish(&f);
	set16(&f, 14 + 2, 20 + 20 + 10);
	CHECK_V(verdict_of(&f), TCPA_PKT_truncated);
	/* ... or inside the payload: the inner length is believed. */
	set16(&f, 14 + 2, 20 + 20 + 32 + 10);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	CHECK_EQ(p.payload_len, 100);
	CHECK_V(parse_link_fb(TCPA_LINKTYPE_ETHERNET, &f, &p), TCPA_PKT_OK);
	CHECK_EQ(p.payload_len, 100);

	/* Not TCP inside. */
	fb_init(&f);
	put_eth(&f, 0x0800);
	put_outer4(&f, 4);
	put_ipv4(&f, 17, NULL, 0);
	put_payload(&f, 20);
	fb_finish(&f);
	CHECK_V(verdict_of(&f), TCPA_PKT_not_tcp);
	/* An outer fragment. */
	fb_init(&f);
	put_eth(&f, 0x0800);
	put_outer4(&f, 41);
	put_inner(&f, 6, 0);
	fb_finish(&f);
	set16(&f, 14 + 6, 0x2000);
	CHECK_V(verdict_of(&f), TCPA_PKT_ip_fragment);
}

static void
gre_case(uint16_t flags, uint16_t proto, int inner_eth, int ofam, int ifam)
{
	unsigned int encap = E(gre) | (inner_eth == 2 ? E(vlan) : 0);
	struct tcpa_pkt p;
	struct fb f;
	uint32_t l3;

	fb_init(&f);
	put_eth(&f, ofam == 4 ? 0x0800 : 0x86dd);
	if (ofam == 4)
		put_outer4(&f, 47);
	else
		put_outer6(&f, 47);
	put_gre(&f, flags, proto, 0xfeedf00d);
	if (inner_eth == 1)
		put_eth(&f, ifam == 4 ? 0x0800 : 0x86dd);
	if (inner_eth == 2) {
		put_eth(&f, 0x8100);
		put_tag(&f, 55, ifam == 4 ? 0x0800 : 0x86dd);
	}
	l3 = f.len;
	put_inner(&f, ifam, 33);
	fb_finish(&f);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	check_inner(&p, ifam, 33);
	if (flags & GRE_K)
		check_tunnel(&p, TCPA_PKT_TUNNEL_GRE, 0xfeedf00d, encap);
	else
		check_tunnel(&p, TCPA_PKT_TUNNEL_NONE, 0, encap);
	CHECK_EQ(p.zone, tcpa_pkt_zone(inner_eth == 2 ? 55 : 0, p.tunnel_kind, p.tunnel_id));
	truncate_all_eth(&f, 14, 33);
	truncate_all_link(TCPA_LINKTYPE_ETHERNET, &f, 14, 33);
	/* The outer datagram too short for the GRE header: bad_ip. */
	set16(&f, 14 + (ofam == 4 ? 2 : 4), (uint16_t)(ofam == 4 ? 20 + 2 : 2));
	CHECK_V(verdict_of(&f), TCPA_PKT_bad_ip);
	if (cur_fail != 0)
		fprintf(stderr, "  GRE flags %#x proto %#x eth %d IPv%d in IPv%d (inner at %u)\n",
			flags, proto, inner_eth, ifam, ofam, l3);
}

static void
test_gre(void)
{
	struct fb f;

	gre_case(0, 0x0800, 0, 4, 4);
	gre_case(0, 0x86dd, 0, 4, 6);
	gre_case(GRE_K, 0x0800, 0, 6, 4);
	gre_case(GRE_C | GRE_K | GRE_S, 0x86dd, 0, 4, 6);
	gre_case(GRE_C, 0x0800, 0, 4, 4);
	gre_case(GRE_S, 0x0800, 0, 6, 4);
	gre_case(0, 0x6558, 1, 4, 4);
	gre_case(GRE_K | GRE_S, 0x6558, 2, 4, 6);

	/* Version 1 (PPTP), routing present, a protocol that is not decoded. */
	fb_init(&f);
	put_eth(&f, 0x0800);
	put_outer4(&f, 47);
	put_gre(&f, 0x0001, 0x880b, 0);
	put_payload(&f, 40);
	fb_finish(&f);
	CHECK_V(verdict_of(&f), TCPA_PKT_not_tcp);
	set16(&f, 34, 0x4000);
	set16(&f, 36, 0x0800);
	CHECK_V(verdict_of(&f), TCPA_PKT_not_tcp);
	set16(&f, 34, 0x0000);
	set16(&f, 36, 0x883e);
	CHECK_V(verdict_of(&f), TCPA_PKT_not_tcp);
}

static void
test_erspan(void)
{
	struct tcpa_pkt p;
	struct fb f;
	int t;

	for (t = 1; t <= 4; t++) {
		/* Type I, II, III, III with the subheader and an IP frame. */
		unsigned int encap = E(gre) | (t == 1 || t == 2 ? E(erspan2) : E(erspan3));

		fb_init(&f);
		put_eth(&f, 0x0800);
		put_outer4(&f, 47);
		put_gre(&f, t == 1 ? 0 : GRE_S | GRE_K, t <= 2 ? 0x88be : 0x22eb, 99);
		if (t == 2)
			put_erspan2(&f, 0x3ff);
		if (t == 3)
			put_erspan3(&f, 0x155, 0, 0);
		if (t == 4)
			put_erspan3(&f, 0x2aa, 2, 1);
		else
			put_eth(&f, 0x0800);
		put_inner(&f, 4, 100);
		fb_finish(&f);
		CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
		check_inner(&p, 4, 100);
		if (t == 1)
			check_tunnel(&p, TCPA_PKT_TUNNEL_NONE, 0, encap);
		else
			check_tunnel(&p, TCPA_PKT_TUNNEL_ERSPAN,
				     t == 2 ? 0x3ff : t == 3 ? 0x155 : 0x2aa, encap);
		truncate_all_eth(&f, 14, 100);
		truncate_all_link(TCPA_LINKTYPE_ETHERNET, &f, 14, 100);
		if (cur_fail != 0) {
			fprintf(stderr, "  ERSPAN case %d\n", t);
			return;
		}
	}

	/* Wrong versions; a frame type that is neither Ethernet nor IP. */
	fb_init(&f);
	put_eth(&f, 0x0800);
	put_outer4(&f, 47);
	put_gre(&f, GRE_S, 0x88be, 0);
	put_erspan2(&f, 1);
	put_eth(&f, 0x0800);
	put_inner(&f, 4, 0);
	fb_finish(&f);
	CHECK_V(verdict_of(&f), TCPA_PKT_OK);
	f.b[14 + 20 + 8] = 0x20;
	CHECK_V(verdict_of(&f), TCPA_PKT_not_tcp);

	fb_init(&f);
	put_eth(&f, 0x0800);
	put_outer4(&f, 47);
	put_gre(&f, 0, 0x22eb, 0);
	put_erspan3(&f, 1, 0, 0);
	put_eth(&f, 0x0800);
	put_inner(&f, 4, 0);
	fb_finish(&f);
	CHECK_V(verdict_of(&f), TCPA_PKT_OK);
	f.b[14 + 20 + 4] = 0x10;
	CHECK_V(verdict_of(&f), TCPA_PKT_not_tcp);
	f.b[14 + 20 + 4] = 0x20;
	set16(&f, 14 + 20 + 4 + 10, 1 << 10);
	CHECK_V(verdict_of(&f), TCPA_PKT_not_tcp);
}

/* ---- VXLAN, Geneve ---- */

static void
build_vxlan(struct fb *f, int ofam, uint16_t port, uint32_t vni, int ifam)
{
	fb_init(f);
	put_eth(f, ofam == 4 ? 0x0800 : 0x86dd);
	if (ofam == 4)
		put_outer4(f, 17);
	else
		put_outer6(f, 17);
	put_udp(f, port);
	put_vxlan(f, vni);
	put_eth(f, ifam == 4 ? 0x0800 : 0x86dd);
	put_inner(f, ifam, 64);
	fb_finish(f);
}

static void
test_vxlan(void)
{
	static const uint16_t extra[2] = { 8472, 4790 };
	static const uint16_t many[TCPA_PKT_MAX_VXLAN_PORTS + 1] = { 1, 2, 3, 4, 5 };
	struct tcpa_pkt p;
	struct fb f;

	build_vxlan(&f, 4, 4789, 0xabcdef, 4);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	check_inner(&p, 4, 64);
	check_tunnel(&p, TCPA_PKT_TUNNEL_VXLAN, 0xabcdef, E(vxlan));
	truncate_all_eth(&f, 14, 64);
	truncate_all_link(TCPA_LINKTYPE_ETHERNET, &f, 14, 64);

	build_vxlan(&f, 6, 4789, 1, 6);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	check_inner(&p, 6, 64);
	check_tunnel(&p, TCPA_PKT_TUNNEL_VXLAN, 1, E(vxlan));
	truncate_all_link(TCPA_LINKTYPE_ETHERNET, &f, 14, 64);

	/* No I flag; another port; the UDP length cuts the datagram short. */
	build_vxlan(&f, 4, 4789, 5, 4);
	f.b[14 + 20 + 8] = 0x00;
	CHECK_V(verdict_of(&f), TCPA_PKT_not_tcp);
	build_vxlan(&f, 4, 8472, 5, 4);
	CHECK_V(verdict_of(&f), TCPA_PKT_not_tcp);
	build_vxlan(&f, 4, 4789, 5, 4);
	set16(&f, 14 + 20 + 4, 8 + 8 + 14 + 20 + 10);
	CHECK_V(verdict_of(&f), TCPA_PKT_truncated);
	set16(&f, 14 + 20 + 4, 0);
	CHECK_V(verdict_of(&f), TCPA_PKT_OK);
	set16(&f, 14 + 20 + 4, 7);
	CHECK_V(verdict_of(&f), TCPA_PKT_OK);

	/* Extra ports, set once: then 8472 is VXLAN too. */
	CHECK_EQ(tcpa_pkt_vxlan_ports_set(many, TCPA_PKT_MAX_VXLAN_PORTS + 1), -1);
	CHECK_EQ(tcpa_pkt_vxlan_ports_set(NULL, 1), -1);
	CHECK_EQ(tcpa_pkt_vxlan_ports_set(extra, 2), 0);
	build_vxlan(&f, 4, 8472, 5, 4);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	check_tunnel(&p, TCPA_PKT_TUNNEL_VXLAN, 5, E(vxlan));
	build_vxlan(&f, 6, 4789, 6, 4);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	CHECK_EQ(tcpa_pkt_vxlan_ports_set(NULL, 0), 0);
	build_vxlan(&f, 4, 8472, 5, 4);
	CHECK_V(verdict_of(&f), TCPA_PKT_not_tcp);

	/* Plain UDP is still not TCP. */
	fb_init(&f);
	put_eth(&f, 0x0800);
	put_ipv4(&f, 17, NULL, 0);
	put_udp(&f, 53);
	put_payload(&f, 30);
	fb_finish(&f);
	CHECK_V(verdict_of(&f), TCPA_PKT_not_tcp);
}

static void
test_geneve(void)
{
	struct tcpa_pkt p;
	struct fb f;
	uint8_t opt;

	for (opt = 0; opt <= 3; opt += 3) {
		fb_init(&f);
		put_eth(&f, 0x0800);
		put_outer4(&f, 17);
		put_udp(&f, 6081);
		put_geneve(&f, 0x123456, 0x6558, opt);
		put_eth(&f, 0x86dd);
		put_inner(&f, 6, 8);
		fb_finish(&f);
		CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
		check_inner(&p, 6, 8);
		check_tunnel(&p, TCPA_PKT_TUNNEL_GENEVE, 0x123456, E(geneve));
		truncate_all_eth(&f, 14, 8);
		truncate_all_link(TCPA_LINKTYPE_ETHERNET, &f, 14, 8);
	}
	/* IPv4 directly (protocol type 0x0800), over IPv6. */
	fb_init(&f);
	put_eth(&f, 0x86dd);
	put_outer6(&f, 17);
	put_udp(&f, 6081);
	put_geneve(&f, 7, 0x0800, 1);
	put_inner(&f, 4, 8);
	fb_finish(&f);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	check_inner(&p, 4, 8);
	check_tunnel(&p, TCPA_PKT_TUNNEL_GENEVE, 7, E(geneve));
	truncate_all_link(TCPA_LINKTYPE_ETHERNET, &f, 14, 8);
	/* Version 1; options running past the datagram. */
	f.b[14 + 40 + 8] = 0x41;
	CHECK_V(verdict_of(&f), TCPA_PKT_not_tcp);
	f.b[14 + 40 + 8] = 0x3f;
	CHECK_V(verdict_of(&f), TCPA_PKT_bad_ip);
}

/* ---- nesting and the depth bound ---- */

static void
test_nested(void)
{
	struct tcpa_pkt p;
	struct fb f;

	/* VLAN inside VXLAN inside IPv6, two tags outside. */
	fb_init(&f);
	put_eth(&f, 0x88a8);
	put_tag(&f, 10, 0x8100);
	put_tag(&f, 20, 0x86dd);
	put_outer6(&f, 17);
	put_udp(&f, 4789);
	put_vxlan(&f, 4242);
	put_eth(&f, 0x8100);
	put_tag(&f, 30, 0x0800);
	put_inner(&f, 4, 77);
	fb_finish(&f);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	check_inner(&p, 4, 77);
	CHECK_EQ(p.zone, tcpa_pkt_zone(20U << 12 | 30U, p.tunnel_kind, p.tunnel_id));
	check_tunnel(&p, TCPA_PKT_TUNNEL_VXLAN, 4242, E(vlan) | E(vxlan));
	truncate_all_link(TCPA_LINKTYPE_ETHERNET, &f, 22, 77);

	/* VXLAN inside GRE with a key: the innermost identity is kept. */
	fb_init(&f);
	put_eth(&f, 0x0800);
	put_outer4(&f, 47);
	put_gre(&f, GRE_K, 0x0800, 7);
	put_outer4(&f, 17);
	put_udp(&f, 4789);
	put_vxlan(&f, 5);
	put_eth(&f, 0x0800);
	put_inner(&f, 4, 1);
	fb_finish(&f);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	check_inner(&p, 4, 1);
	check_tunnel(&p, TCPA_PKT_TUNNEL_VXLAN, 5, E(gre) | E(vxlan));
	truncate_all_link(TCPA_LINKTYPE_ETHERNET, &f, 14, 1);

	/* MPLS, then GRE over it, then IPv6 in IPv4. */
	fb_init(&f);
	put_eth(&f, 0x8847);
	put_mpls(&f, 3, 1);
	put_outer4(&f, 47);
	put_gre(&f, 0, 0x0800, 0);
	put_outer4(&f, 41);
	put_inner(&f, 6, 3);
	fb_finish(&f);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	check_inner(&p, 6, 3);
	check_tunnel(&p, TCPA_PKT_TUNNEL_NONE, 0, E(mpls) | E(gre) | E(ipip));
	truncate_all_link(TCPA_LINKTYPE_ETHERNET, &f, 18 + 1, 3);
}

/*
 * Exactly TCPA_PKT_MAX_DEPTH headers below the link layer and above the
 * innermost IP: IPv4 (1), GRE (2), Ethernet (3), n tags; then one more.
 */
static void
test_depth(void)
{
	struct tcpa_pkt p;
	struct fb f;
	unsigned int tags, i;

	for (tags = TCPA_PKT_MAX_DEPTH - 3; tags <= TCPA_PKT_MAX_DEPTH - 2; tags++) {
		fb_init(&f);
		put_eth(&f, 0x0800);
		put_outer4(&f, 47);
		put_gre(&f, 0, 0x6558, 0);
		put_eth(&f, 0x8100);
		for (i = 0; i < tags; i++)
			put_tag(&f, (uint16_t)(i + 1), i + 1 < tags ? 0x8100 : 0x0800);
		put_inner(&f, 4, 0);
		fb_finish(&f);
		CHECK_V(parse_fb(&f, &p), tags + 3 <= TCPA_PKT_MAX_DEPTH ?
			TCPA_PKT_OK : TCPA_PKT_bad_l2);
		CHECK_V(parse_link_fb(TCPA_LINKTYPE_ETHERNET, &f, &p),
			tags + 3 <= TCPA_PKT_MAX_DEPTH ? TCPA_PKT_OK : TCPA_PKT_bad_l2);
	}
	/* IP in IP, nine deep: eight tunnel IP headers and the innermost. */
	for (tags = TCPA_PKT_MAX_DEPTH; tags <= TCPA_PKT_MAX_DEPTH + 1; tags++) {
		fb_init(&f);
		put_eth(&f, 0x0800);
		for (i = 0; i < tags; i++)
			put_outer4(&f, 4);
		put_inner(&f, 4, 0);
		fb_finish(&f);
		CHECK_V(verdict_of(&f), tags <= TCPA_PKT_MAX_DEPTH ? TCPA_PKT_OK : TCPA_PKT_bad_l2);
	}
}

/* ---- TSO lengths ---- */

static void
test_tso(void)
{
	struct tcpa_pkt p;
	struct fb f;

	/* IPv4 total length 0: the wire length, even past a snap length. */
	build_v4(&f, TCPA_TCP_ACK, ts_opts, sizeof(ts_opts), 200);
	set16(&f, f.l3 + 2, 0);
	pkt_poison(&p);
	CHECK_V(parse_link_exact(TCPA_LINKTYPE_ETHERNET, f.b, 100, 70000, &p), TCPA_PKT_OK);
	CHECK_EQ(p.payload_len, 70000 - 14 - 20 - 32);
	CHECK_EQ(p.wire_len, 70000);
	/* ... and through tcpa_pkt_parse(), which knows only the captured one. */
	CHECK_V(parse_exact(f.b, f.len, &p), TCPA_PKT_OK);
	CHECK_EQ(p.payload_len, 200);
	CHECK_V(parse_exact(f.b, 100, &p), TCPA_PKT_OK);
	CHECK_EQ(p.payload_len, 100 - 14 - 20 - 32);
	/* A total length larger than the frame: the frame's. */
	set16(&f, f.l3 + 2, 60000);
	CHECK_V(parse_link_exact(TCPA_LINKTYPE_ETHERNET, f.b, f.len, f.len, &p), TCPA_PKT_OK);
	CHECK_EQ(p.payload_len, 200);
	CHECK_V(parse_link_exact(TCPA_LINKTYPE_ETHERNET, f.b, 100, 1000, &p), TCPA_PKT_OK);
	CHECK_EQ(p.payload_len, 1000 - 14 - 20 - 32);
	/* ... but a snap length alone changes nothing: the header's length. */
	fb_finish(&f);
	CHECK_V(parse_link_exact(TCPA_LINKTYPE_ETHERNET, f.b, 100, f.len, &p), TCPA_PKT_OK);
	CHECK_EQ(p.payload_len, 200);
	/* Ethernet padding is not payload. */
	CHECK_V(parse_link_exact(TCPA_LINKTYPE_ETHERNET, f.b, 100, f.len + 20, &p), TCPA_PKT_OK);
	CHECK_EQ(p.payload_len, 200);
	/* A wire too short for the IP header it says it had. */
	set16(&f, f.l3 + 2, 0);
	f.b[f.l3] = 0x46;
	CHECK_V(parse_link_exact(TCPA_LINKTYPE_ETHERNET, f.b, 14 + 20, 14 + 22, &p),
		TCPA_PKT_bad_ip);
	CHECK_V(parse_exact(f.b, 14 + 22, &p), TCPA_PKT_truncated);

	/* IPv6 payload length 0 without a jumbo option. */
	build_v6(&f, TCPA_TCP_ACK, NULL, 0, 300);
	set16(&f, f.l3 + 4, 0);
	CHECK_V(parse_link_exact(TCPA_LINKTYPE_ETHERNET, f.b, 120, 100000, &p), TCPA_PKT_OK);
	CHECK_EQ(p.payload_len, 100000 - 14 - 40 - 20);
	CHECK_V(parse_exact(f.b, f.len, &p), TCPA_PKT_OK);
	CHECK_EQ(p.payload_len, 300);
	set16(&f, f.l3 + 4, 5000);
	CHECK_V(parse_link_exact(TCPA_LINKTYPE_IPV6, f.b + 14, 100, 1000, &p), TCPA_PKT_OK);
	CHECK_EQ(p.payload_len, 1000 - 40 - 20);

	/* A jumbogram: Hop-by-hop with the Jumbo Payload option. */
	fb_init(&f);
	put_eth(&f, 0x86dd);
	put_ipv6(&f, 0);
	put8(&f, 6);
	put8(&f, 0);
	put8(&f, 0xc2);
	put8(&f, 4);
	put32(&f, 8 + 20 + 90000);
	put_tcp(&f, TCPA_TCP_ACK, NULL, 0);
	put_payload(&f, 10);
	CHECK_V(parse_exact(f.b, f.len, &p), TCPA_PKT_OK);
	CHECK_EQ(p.payload_len, 90000);
	CHECK_V(parse_link_exact(TCPA_LINKTYPE_ETHERNET, f.b, f.len, 14 + 40 + 8 + 20 + 500, &p),
		TCPA_PKT_OK);
	CHECK_EQ(p.payload_len, 500);
	/* A jumbo length past 2 GB is bad (it would wrap offsets). */
	set16(&f, f.l3 + 40 + 4, 0xffff);
	set16(&f, f.l3 + 40 + 6, 0xffcd);
	CHECK_V(parse_exact(f.b, f.len, &p), TCPA_PKT_bad_ip);
	set16(&f, f.l3 + 40 + 4, 0x7fff);
	CHECK_V(parse_exact(f.b, f.len, &p), TCPA_PKT_OK);
	CHECK_EQ(p.payload_len, 0x7fffffcdU - 8 - 20);
	f.b[f.l3 + 40 + 2] = 0x01;      /* PadN instead: not a jumbogram, TSO */
	CHECK_V(parse_exact(f.b, f.len, &p), TCPA_PKT_OK);
	CHECK_EQ(p.payload_len, 10);

	/* Inside a tunnel, 0 is the outer datagram's length. */
	build_vxlan(&f, 4, 4789, 9, 4);
	set16(&f, f.l3 + 2, 0);
	CHECK_V(parse_link_fb(TCPA_LINKTYPE_ETHERNET, &f, &p), TCPA_PKT_OK);
	CHECK_EQ(p.payload_len, 64);
	CHECK_V(parse_fb(&f, &p), TCPA_PKT_OK);
	CHECK_EQ(p.payload_len, 64);
}

static void
test_tunnel_fields_reset(void)
{
	struct tcpa_pkt p;
	struct fb f;

	pkt_poison(&p);
	build_vxlan(&f, 4, 4789, 3, 4);
	CHECK_V(parse_exact(f.b, f.len, &p), TCPA_PKT_OK);
	CHECK_EQ(p.tunnel_kind, TCPA_PKT_TUNNEL_VXLAN);
	build_v4(&f, TCPA_TCP_ACK, NULL, 0, 0);
	CHECK_V(parse_exact(f.b, f.len, &p), TCPA_PKT_OK);
	check_tunnel(&p, TCPA_PKT_TUNNEL_NONE, 0, 0);
	build_vxlan(&f, 4, 4789, 3, 4);
	CHECK_V(parse_exact(f.b, f.len, &p), TCPA_PKT_OK);
	CHECK_V(parse_link_exact(TCPA_LINKTYPE_RAW, f.b + 14, 30, f.len - 14, &p),
		TCPA_PKT_truncated);
	check_tunnel(&p, TCPA_PKT_TUNNEL_NONE, 0, 0);
	CHECK_EQ(p.zone, tcpa_pkt_zone(0, p.tunnel_kind, p.tunnel_id));
	check_caller_fields(&p);
}

static void
test_encap_names(void)
{
	unsigned int i, j;

	CHECK(sizeof(struct tcpa_pkt) <= 128);
	CHECK(strcmp(tcpa_pkt_encap_name(TCPA_PKT_ENCAP_vxlan), "vxlan") == 0);
	CHECK(strcmp(tcpa_pkt_encap_name(TCPA_PKT_ENCAP_erspan3), "erspan3") == 0);
	for (i = 0; i < TCPA_PKT_ENCAP_MAX; i++) {
		CHECK(tcpa_pkt_encap_name(i) != NULL);
		CHECK(tcpa_pkt_encap_help(i) != NULL);
		for (j = 0; j < i; j++)
			CHECK(strcmp(tcpa_pkt_encap_name(i), tcpa_pkt_encap_name(j)) != 0);
	}
	CHECK(strcmp(tcpa_pkt_encap_name(TCPA_PKT_ENCAP_MAX), "unknown") == 0);
	CHECK(tcpa_pkt_encap_help(TCPA_PKT_ENCAP_MAX) != NULL);
	CHECK(strcmp(tcpa_pkt_tunnel_name(TCPA_PKT_TUNNEL_NONE), "none") == 0);
	CHECK(strcmp(tcpa_pkt_tunnel_name(TCPA_PKT_TUNNEL_ERSPAN), "erspan") == 0);
	CHECK(strcmp(tcpa_pkt_tunnel_name(TCPA_PKT_TUNNEL_MAX), "unknown") == 0);
}

/* ---- random frames through every entry point ---- */

static void
check_invariants_link(enum tcpa_pkt_verdict v, const struct tcpa_pkt *p, uint32_t lt,
		      uint32_t cap, uint32_t wire)
{
	const unsigned int tunnels = E(ipip) | E(gre) | E(erspan2) | E(erspan3) | E(vxlan) |
		E(geneve);

	CHECK((unsigned int)v < TCPA_PKT_VERDICT_MAX);
	CHECK_EQ(p->wire_len, wire != UINT32_MAX && wire > cap ? wire : cap);
	check_caller_fields(p);
	if (v != TCPA_PKT_OK)
		return;
	CHECK(p->family == 4 || p->family == 6);
	CHECK(p->nsack <= TCPA_PKT_MAX_SACK);
	CHECK(p->wscale <= 14);
	CHECK(p->nsack == 0 || (p->opts & TCPA_OPT_SACK) != 0);
	CHECK((p->tcp_flags & 0x3f) != 0);
	CHECK(p->tunnel_kind < TCPA_PKT_TUNNEL_MAX);
	CHECK(p->tunnel_kind != TCPA_PKT_TUNNEL_NONE || p->tunnel_id == 0);
	CHECK(p->tunnel_kind != TCPA_PKT_TUNNEL_NONE || p->zone <= 0xffffff);
	CHECK(cap >= 20 + 20);
	/* Without a tunnel, the segment fits in the frame it came in (if known). */
	if ((p->encap & tunnels) == 0 && lt != TCPA_LINKTYPE_NFLOG && wire != UINT32_MAX)
		CHECK((uint64_t)p->payload_len + 40 <= (wire > cap ? wire : cap));
}

/* One of each kind of frame, with the link type it is of. */
static unsigned int
build_bases(struct fb *b, uint32_t *lt)
{
	unsigned int n = 0;
	uint32_t at;

	build_vxlan(&b[n], 6, 4789, 77, 4);
	lt[n++] = TCPA_LINKTYPE_ETHERNET;
	build_tags(&b[n], 4, 0x88a8, 6);
	lt[n++] = TCPA_LINKTYPE_ETHERNET;
	fb_init(&b[n]);
	put_eth(&b[n], 0x0800);
	put_outer4(&b[n], 47);
	put_gre(&b[n], GRE_S, 0x22eb, 0);
	put_erspan3(&b[n], 3, 0, 1);
	put_eth(&b[n], 0x8100);
	put_tag(&b[n], 4, 0x86dd);
	put_ipv6(&b[n], 6);
	put_tcp(&b[n], TCPA_TCP_SYN, syn_opts, sizeof(syn_opts));
	fb_finish(&b[n]);
	lt[n++] = TCPA_LINKTYPE_ETHERNET;
	fb_init(&b[n]);
	put_sll2(&b[n], 1, 0x86dd);
	put_outer6(&b[n], 17);
	put_udp(&b[n], 6081);
	put_geneve(&b[n], 8, 0x6558, 2);
	put_eth(&b[n], 0x0800);
	put_inner(&b[n], 4, 20);
	fb_finish(&b[n]);
	lt[n++] = TCPA_LINKTYPE_LINUX_SLL2;
	fb_init(&b[n]);
	put16(&b[n], 0x0281);
	put_mpls(&b[n], 1, 1);
	put32(&b[n], 0);
	put_eth(&b[n], 0x0800);
	put_outer4(&b[n], 41);
	put_ipv6(&b[n], 6);
	put_tcp(&b[n], TCPA_TCP_ACK, ts_opts, sizeof(ts_opts));
	fb_finish(&b[n]);
	lt[n++] = TCPA_LINKTYPE_PPP;
	fb_init(&b[n]);
	at = put_nflog(&b[n], 1, 2);
	put_inner(&b[n], 4, 7);
	nflog_finish(&b[n], 1, at);
	lt[n++] = TCPA_LINKTYPE_NFLOG;
	fb_init(&b[n]);
	put32(&b[n], 0x1e000000);
	put_inner(&b[n], 6, 7);
	fb_finish(&b[n]);
	lt[n++] = TCPA_LINKTYPE_NULL;
	return n;
}

static void
test_random_links(void)
{
	static const uint32_t lts[] = {
		0, 1, 9, 12, 50, 101, 104, 108, 113, 228, 229, 239, 276, 105,
	};
	unsigned int counts[TCPA_PKT_VERDICT_MAX] = { 0 };
	static struct fb base[8];
	uint32_t blt[8];
	unsigned int nb = build_bases(base, blt);
	struct tcpa_pkt p;
	unsigned int i, k;

	for (i = 0; i < 200000 && cur_fail == 0; i++) {
		unsigned int which = rng() % nb;
		const struct fb *b = &base[which];
		uint32_t lt = blt[which];
		uint8_t buf[FB_MAX];
		uint32_t cap = b->len, wire;
		unsigned int nmut = rng() % 5;
		enum tcpa_pkt_verdict v;

		memcpy(buf, b->b, b->len);
		for (k = 0; k < nmut; k++)
			buf[rng() % b->len] = (uint8_t)rng();
		if ((rng() & 3) == 0)
			cap = rng() % (b->len + 1);
		if ((rng() & 7) == 0)
			lt = lts[rng() % TCPA_ARRAY_SIZE(lts)];
		wire = (rng() & 1) ? cap : cap + rng() % 70000;
		pkt_poison(&p);
		v = parse_link_exact(lt, buf, cap, wire, &p);
		check_invariants_link(v, &p, lt, cap, wire);
		counts[v]++;
		if (cur_fail != 0) {
			fprintf(stderr, "  link type %u cap %u wire %u payload %u encap %#x:", lt,
				cap, wire, p.payload_len, p.encap);
			for (k = 0; k < cap; k++)
				fprintf(stderr, " %02x", buf[k]);
			fprintf(stderr, "\n");
		}
		if (lt == TCPA_LINKTYPE_ETHERNET) {
			pkt_poison(&p);
			v = parse_exact(buf, cap, &p);
			check_invariants_link(v, &p, lt, cap, UINT32_MAX);
		}
	}
	for (i = 0; i < TCPA_PKT_VERDICT_MAX; i++) {
		if (counts[i] == 0)
			fprintf(stderr, "note: link mutation never produced %s\n",
				tcpa_pkt_verdict_name(i));
	}
	CHECK(counts[TCPA_PKT_OK] != 0);
	CHECK(counts[TCPA_PKT_truncated] != 0);
	CHECK(counts[TCPA_PKT_not_tcp] != 0);
}

static void
test_verdict_names(void)
{
	unsigned int i, j;

	CHECK(strcmp(tcpa_pkt_verdict_name(TCPA_PKT_OK), "ok") == 0);
	CHECK(strcmp(tcpa_pkt_verdict_name(TCPA_PKT_bad_l2), "bad_l2") == 0);
	CHECK(strcmp(tcpa_pkt_verdict_name(TCPA_PKT_not_tcp), "not_tcp") == 0);
	CHECK(strcmp(tcpa_pkt_verdict_help(TCPA_PKT_ip_fragment),
		     "IP fragment (not reassembled)") == 0);
	for (i = 0; i < TCPA_PKT_VERDICT_MAX; i++) {
		CHECK(tcpa_pkt_verdict_name(i) != NULL);
		CHECK(tcpa_pkt_verdict_help(i) != NULL);
		for (j = 0; j < i; j++)
			CHECK(strcmp(tcpa_pkt_verdict_name(i), tcpa_pkt_verdict_name(j)) != 0);
	}
	CHECK(tcpa_pkt_verdict_name(TCPA_PKT_VERDICT_MAX) != NULL);
	CHECK(tcpa_pkt_verdict_help(TCPA_PKT_VERDICT_MAX) != NULL);
	CHECK(tcpa_pkt_verdict_name((enum tcpa_pkt_verdict)-1) != NULL);
}

int
main(void)
{
	RUN(test_v4_syn_all_opts);
	RUN(test_v4_data_ts);
	RUN(test_v4_ip_options);
	RUN(test_v6_plain);
	RUN(test_v6_ext_headers);
	RUN(test_vlan);
	RUN(test_bad_l2);
	RUN(test_not_tcp);
	RUN(test_bad_ip);
	RUN(test_bad_tcp);
	RUN(test_truncated_specific);
	RUN(test_ip_fragment);
	RUN(test_flags);
	RUN(test_sack);
	RUN(test_opt_lengths);
	RUN(test_snaplen);
	RUN(test_padding);
	RUN(test_stale_fields);
	RUN(test_truncation_every_offset);
	RUN(test_random_garbage);
	RUN(test_random_mutations);
	RUN(test_verdict_names);
	RUN(test_link_types);
	RUN(test_link_sll_vlan);
	RUN(test_link_nflog);
	RUN(test_link_malformed);
	RUN(test_linktype_names);
	RUN(test_vlan_stack);
	RUN(test_mpls);
	RUN(test_ipip);
	RUN(test_gre);
	RUN(test_erspan);
	RUN(test_vxlan);
	RUN(test_geneve);
	RUN(test_nested);
	RUN(test_depth);
	RUN(test_tso);
	RUN(test_tunnel_fields_reset);
	RUN(test_encap_names);
	RUN(test_random_links);

	return check_summary("pkt");
}
