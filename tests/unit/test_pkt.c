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

struct fb {
	uint8_t b[FB_MAX];
	uint32_t len;
	uint32_t l3;    /* IP header offset */
	uint32_t l4;    /* TCP header offset */
	uint32_t hend;  /* end of the TCP header */
	int family;
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
put_ipv4(struct fb *f, uint8_t proto, const uint8_t *opts, uint32_t olen)
{
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

/* Set the IP length fields from what has been built so far. */
static void
fb_finish(struct fb *f)
{
	if (f->family == 4)
		set16(f, f->l3 + 2, (uint16_t)(f->len - f->l3));
	else
		set16(f, f->l3 + 4, (uint16_t)(f->len - f->l3 - 40));
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
	CHECK_EQ(p.vlan, 0);
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
	CHECK_EQ(p.vlan, 0);

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
	CHECK_EQ(p.vlan, 100);
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
	CHECK_EQ(p.vlan, (10U << 12) | 20U);
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
	CHECK_EQ(p.vlan, (0xfffU << 12) | 0xffeU);

	/* An untagged frame after a tagged one: vlan goes back to 0. */
	build_v4(&f, TCPA_TCP_ACK, NULL, 0, 0);
	CHECK_V(parse_exact(f.b, f.len, &p), TCPA_PKT_OK);
	CHECK_EQ(p.vlan, 0);

	/* Three tags. */
	fb_init(&f);
	put_eth(&f, 0x88a8);
	put_tag(&f, 1, 0x8100);
	put_tag(&f, 2, 0x8100);
	put_tag(&f, 3, 0x0800);
	put_ipv4(&f, 6, NULL, 0);
	put_tcp(&f, TCPA_TCP_ACK, NULL, 0);
	fb_finish(&f);
	CHECK_V(verdict_of(&f), TCPA_PKT_bad_l2);

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
	set16(&f, f.l3 + 2, 0);
	CHECK_V(verdict_of(&f), TCPA_PKT_bad_ip);
	/* IHL 6 and total length 23. */
	fb_finish(&f);
	f.b[f.l3] = 0x46;
	set16(&f, f.l3 + 2, 23);
	CHECK_V(verdict_of(&f), TCPA_PKT_bad_ip);

	/* IPv6: version, jumbogram. */
	build_v6(&f, TCPA_TCP_ACK, NULL, 0, 10);
	f.b[f.l3] = 0x40;
	CHECK_V(verdict_of(&f), TCPA_PKT_bad_ip);
	f.b[f.l3] = 0x60;
	set16(&f, f.l3 + 4, 0);
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

	printf("pkt: %u passed, %u failed\n", n_pass, n_fail);
	return n_fail == 0 ? 0 : 1;
}
