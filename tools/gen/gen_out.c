/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Classic pcap writer and frame builder for tcpa-gen.
 *
 * Frames are built in place in a large per-file buffer that is handed to
 * fwrite() when nearly full: no per-packet allocation or system call. The
 * file format is the classic one (magic 0xa1b2c3d4 in host order, version
 * 2.4, microsecond timestamps, snaplen 65535, linktype 1 Ethernet).
 *
 * Payload bytes come from one fixed pattern that always starts at offset 0,
 * so the TCP checksum of any payload is a table lookup (prefix sums).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcpa_common.h"

#include "gen.h"

#define PATTERN_LEN 2048

static uint8_t pattern[PATTERN_LEN];
static uint32_t pattern_sum[PATTERN_LEN + 1]; /* checksum sum of the first n bytes */

static const uint8_t mal_smac[6] = { 0x02, 0x00, 0x0a, 0x09, 0x00, 0x01 };
static const uint8_t mal_dmac[6] = { 0x02, 0x00, 0x0a, 0x09, 0x00, 0x02 };
static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static inline void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Sum of big-endian 16-bit words; an odd last byte is the high byte. */
static inline uint32_t
csum_add(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (i < n)
		s += (uint32_t)p[i] << 8;
	return s;
}

static inline uint16_t
csum_fold(uint32_t s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

void
gen_out_global_init(void)
{
	static const char text[] =
		"tcpa-gen synthetic payload 0123456789 abcdefghijklmnopqrstuvwxyz ";
	unsigned i;

	for (i = 0; i < PATTERN_LEN; i++)
		pattern[i] = (uint8_t)text[i % (sizeof(text) - 1)];
	pattern_sum[0] = 0;
	for (i = 1; i <= PATTERN_LEN; i++)
		pattern_sum[i] = pattern_sum[i - 1] +
			((i - 1) % 2 == 0 ? (uint32_t)pattern[i - 1] << 8 : pattern[i - 1]);
}

int
gen_out_open(struct gen_out *o, const char *path, size_t bufsize)
{
	struct {
		uint32_t magic;
		uint16_t major;
		uint16_t minor;
		int32_t thiszone;
		uint32_t sigfigs;
		uint32_t snaplen;
		uint32_t network;
	} gh = { 0xa1b2c3d4u, 2, 4, 0, 0, GEN_SNAPLEN, 1 };

	memset(o, 0, sizeof(*o));
	o->path = strdup(path);
	o->buf = malloc(bufsize);
	if (o->path == NULL || o->buf == NULL)
		goto nomem;
	o->cap = bufsize;
	o->fp = fopen(path, "wb");
	if (o->fp == NULL) {
		int e = errno;

		free(o->buf);
		free(o->path);
		return -e;
	}
	_Static_assert(sizeof(gh) == 24, "pcap global header is 24 bytes");
	memcpy(o->buf, &gh, sizeof(gh));
	o->len = sizeof(gh);
	return 0;
nomem:
	free(o->buf);
	free(o->path);
	return -ENOMEM;
}

void
gen_out_flush(struct gen_out *o)
{
	if (o->len != 0 && fwrite(o->buf, 1, o->len, o->fp) != o->len)
		o->err = errno != 0 ? errno : EIO;
	o->len = 0;
}

int
gen_out_close(struct gen_out *o)
{
	int err;

	gen_out_flush(o);
	if (fclose(o->fp) != 0 && o->err == 0)
		o->err = errno != 0 ? errno : EIO;
	err = o->err;
	free(o->buf);
	o->buf = NULL;
	o->fp = NULL;
	return err != 0 ? -err : 0;
}

/* Room for one record; returns where the frame goes. */
static inline uint8_t *
rec_begin(struct gen_out *o)
{
	if (unlikely(o->cap - o->len < GEN_PCAP_REC_HDR + GEN_MAX_FRAME))
		gen_out_flush(o);
	return o->buf + o->len + GEN_PCAP_REC_HDR;
}

/* Write the record header of a frame of @p caplen bytes (wire @p len). */
static inline void
rec_end(struct gen_out *o, uint64_t t_ns, uint32_t caplen, uint32_t len)
{
	uint32_t h[4];

	h[0] = GEN_EPOCH_S + (uint32_t)(t_ns / 1000000000u);
	h[1] = (uint32_t)(t_ns % 1000000000u) / 1000u;
	h[2] = caplen;
	h[3] = len;
	memcpy(o->buf + o->len, h, sizeof(h));
	o->len += GEN_PCAP_REC_HDR + caplen;
	o->frames++;
}

/* Ethernet header and VLAN tags; returns the L3 offset. */
static inline uint32_t
put_l2(uint8_t *f, const struct gen_l2 *l2, const uint8_t *dmac, const uint8_t *smac,
		uint16_t ethertype)
{
	uint32_t off = 12;

	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	if (l2->ntags == 2) {
		put16(f + off, 0x88a8);
		put16(f + off + 2, l2->tag[0]);
		put16(f + off + 4, 0x8100);
		put16(f + off + 6, l2->tag[1]);
		off += 8;
	} else if (l2->ntags == 1) {
		put16(f + off, 0x8100);
		put16(f + off + 2, l2->tag[0]);
		off += 4;
	}
	put16(f + off, ethertype);
	return off + 2;
}

/* IPv4 header without options; checksum filled. */
static inline void
put_ip4(uint8_t *ip, uint16_t tot_len, uint16_t id, uint16_t frag, uint8_t proto,
		const uint8_t *src, const uint8_t *dst)
{
	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, tot_len);
	put16(ip + 4, id);
	put16(ip + 6, frag);
	ip[8] = GEN_TTL;
	ip[9] = proto;
	ip[10] = 0;
	ip[11] = 0;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	put16(ip + 10, csum_fold(csum_add(ip, 20)));
}

/* TCP options as Linux lays them out; TS values filled in per segment. */
static const uint8_t opt_syn_ts[20] = {
	2, 4, GEN_MSS >> 8, GEN_MSS & 0xff,     /* MSS */
	4, 2,                                   /* SACK permitted */
	8, 10, 0, 0, 0, 0, 0, 0, 0, 0,          /* timestamps */
	1,                                      /* NOP */
	3, 3, GEN_WSCALE,                       /* window scale */
};
static const uint8_t opt_syn_nots[12] = {
	2, 4, GEN_MSS >> 8, GEN_MSS & 0xff,
	1, 1, 4, 2,
	1, 3, 3, GEN_WSCALE,
};
static const uint8_t opt_ts[12] = {
	1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0,
};
static const uint8_t opt_ts_sack[24] = {
	1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 1, 5, 10, 0, 0, 0, 0, 0, 0, 0, 0,    /* SACK, one block */
};

static inline uint32_t
put_tcp_opts(uint8_t *p, const struct gen_seg *s)
{
	switch (s->opts) {
	case GEN_OPT_SYN_TS:
		memcpy(p, opt_syn_ts, sizeof(opt_syn_ts));
		put32(p + 8, s->tsval);
		put32(p + 12, s->tsecr);
		return sizeof(opt_syn_ts);
	case GEN_OPT_SYN_NOTS:
		memcpy(p, opt_syn_nots, sizeof(opt_syn_nots));
		return sizeof(opt_syn_nots);
	case GEN_OPT_TS:
		memcpy(p, opt_ts, sizeof(opt_ts));
		put32(p + 4, s->tsval);
		put32(p + 8, s->tsecr);
		return sizeof(opt_ts);
	case GEN_OPT_TS_SACK:
		memcpy(p, opt_ts_sack, sizeof(opt_ts_sack));
		put32(p + 4, s->tsval);
		put32(p + 8, s->tsecr);
		put32(p + 16, s->sack_lo);
		put32(p + 20, s->sack_hi);
		return sizeof(opt_ts_sack);
	default:
		return 0;
	}
}

uint32_t
gen_out_tcp(struct gen_out *o, uint64_t t_ns, const struct gen_l2 *l2, const struct gen_seg *s)
{
	uint8_t *f = rec_begin(o);
	uint32_t l3 = put_l2(f, l2, s->dmac, s->smac, s->v6 ? 0x86dd : 0x0800);
	uint32_t l4 = l3 + (s->v6 ? 40 : 20);
	uint8_t *th = f + l4;
	uint32_t optlen = put_tcp_opts(th + 20, s);
	uint32_t thl = 20 + optlen;
	uint32_t tcp_len = thl + s->payload_len;
	uint32_t sum, len;

	/* TCP header. */
	put16(th, s->sport);
	put16(th + 2, s->dport);
	put32(th + 4, s->seq);
	put32(th + 8, s->ack);
	th[12] = (uint8_t)((thl / 4) << 4);
	th[13] = s->flags;
	put16(th + 14, s->win);
	th[16] = 0;
	th[17] = 0;
	th[18] = 0;
	th[19] = 0;
	memcpy(th + thl, pattern, s->payload_len);

	/* Pseudo header, then header words, then the payload's prefix sum. */
	if (s->v6) {
		uint8_t *ip = f + l3;

		put32(ip, 0x60000000u | (s->flow_label & 0xfffff));
		put16(ip + 4, (uint16_t)tcp_len);
		ip[6] = 6;
		ip[7] = GEN_TTL;
		memcpy(ip + 8, s->src, 16);
		memcpy(ip + 24, s->dst, 16);
		sum = csum_add(ip + 8, 32);
	} else {
		put_ip4(f + l3, (uint16_t)(20 + tcp_len), s->ip_id, 0x4000, 6, s->src, s->dst);
		sum = csum_add(f + l3 + 12, 8);
	}
	sum += 6 + tcp_len;
	sum += csum_add(th, thl) + pattern_sum[s->payload_len];
	put16(th + 16, csum_fold(sum));

	len = l4 + tcp_len;
	if (len < GEN_MIN_FRAME) {
		memset(f + len, 0, GEN_MIN_FRAME - len);
		len = GEN_MIN_FRAME;
	}
	rec_end(o, t_ns, len, len);
	return len;
}

/*
 * Malformed frames live in 10.9.0.0/16, away from the connections; each
 * one gets its own (address, port), so no two of them look like one flow.
 */
static void
mal_addrs(uint8_t *src, uint8_t *dst, uint32_t v)
{
	src[0] = 10;
	src[1] = 9;
	src[2] = (uint8_t)(v / 250 % 250);
	src[3] = (uint8_t)(v % 250 + 1);
	dst[0] = 10;
	dst[1] = 9;
	dst[2] = 250;
	dst[3] = 1;
}

static uint16_t
mal_port(uint32_t v)
{
	return (uint16_t)(40000 + v / 62500 % 20000);
}

/* A minimal valid IPv4+TCP frame for the malformed kinds to spoil. */
static uint32_t
mal_tcp4(uint8_t *f, const struct gen_l2 *l2, uint32_t variant, uint8_t flags,
		uint16_t frag, uint32_t *l3p)
{
	uint8_t src[4], dst[4];
	uint32_t l3 = put_l2(f, l2, mal_dmac, mal_smac, 0x0800);
	uint8_t *th = f + l3 + 20;
	uint32_t sum;

	mal_addrs(src, dst, variant);
	put_ip4(f + l3, 40, (uint16_t)variant, frag, 6, src, dst);
	put16(th, mal_port(variant));
	put16(th + 2, 80);
	put32(th + 4, 0x10000000u + variant * 7919u);
	put32(th + 8, (flags & 0x10) != 0 ? 0x20000000u + variant : 0);
	th[12] = 5 << 4;
	th[13] = flags;
	put16(th + 14, GEN_SYN_WIN);
	put32(th + 16, 0);
	sum = csum_add(f + l3 + 12, 8) + 6 + 20 + csum_add(th, 20);
	put16(th + 16, csum_fold(sum));
	*l3p = l3;
	return l3 + 40;
}

/* UDP datagram to the discard port, 8 bytes of payload. @return its length. */
static uint32_t
mal_udp(uint8_t *f, const struct gen_l2 *l2, uint32_t variant)
{
	uint8_t src[4], dst[4];
	uint32_t l3;
	uint8_t *uh;

	mal_addrs(src, dst, variant);
	l3 = put_l2(f, l2, mal_dmac, mal_smac, 0x0800);
	put_ip4(f + l3, 36, (uint16_t)variant, 0x4000, 17, src, dst);
	uh = f + l3 + 20;
	put16(uh, mal_port(variant));
	put16(uh + 2, 9);
	put16(uh + 4, 16);
	put16(uh + 6, 0); /* no checksum: allowed over IPv4 */
	memcpy(uh + 8, pattern, 8);
	return l3 + 36;
}

/* ARP request: who has 10.9.250.1, tell 10.9.x.y. @return its length. */
static uint32_t
mal_arp(uint8_t *f, const struct gen_l2 *l2, uint32_t variant)
{
	uint8_t src[4], dst[4];
	uint32_t l3;
	uint8_t *a;

	mal_addrs(src, dst, variant);
	l3 = put_l2(f, l2, bcast_mac, mal_smac, 0x0806);
	a = f + l3;
	put16(a, 1);
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, 1);
	memcpy(a + 8, mal_smac, 6);
	memcpy(a + 14, src, 4);
	memset(a + 18, 0, 6);
	memcpy(a + 24, dst, 4);
	return l3 + 28;
}

void
gen_out_malformed(struct gen_out *o, uint64_t t_ns, const struct gen_l2 *l2, enum gen_mal kind,
		uint32_t variant)
{
	uint8_t *f = rec_begin(o);
	uint32_t l3 = 0, len = 0, caplen;
	uint8_t *ip;

	switch (kind) {
	case GEN_MAL_bad_l2:
		/* Ten bytes: not even a whole Ethernet header. */
		memcpy(f, mal_dmac, 6);
		memcpy(f + 6, mal_smac, 4);
		rec_end(o, t_ns, 10, 10);
		return;
	case GEN_MAL_bad_ip:
		/* IHL 3 (12 bytes): shorter than the fixed header. */
		len = mal_tcp4(f, l2, variant, 0x10, 0x4000, &l3);
		ip = f + l3;
		ip[0] = 0x43;
		put16(ip + 10, 0);
		put16(ip + 10, csum_fold(csum_add(ip, 20)));
		break;
	case GEN_MAL_bad_tcp:
		/* Data offset 3 (12 bytes): shorter than the fixed header. */
		len = mal_tcp4(f, l2, variant, 0x10, 0x4000, &l3);
		f[l3 + 20 + 12] = 3 << 4;
		break;
	case GEN_MAL_truncated:
		/* Whole IPv4 header, TCP header cut after 10 bytes (snap length). */
		len = mal_tcp4(f, l2, variant, 0x10, 0x4000, &l3);
		caplen = l3 + 20 + 10;
		rec_end(o, t_ns, caplen, len < GEN_MIN_FRAME ? GEN_MIN_FRAME : len);
		return;
	case GEN_MAL_bad_flags:
		/* SYN+FIN: impossible flags, otherwise a fine segment. */
		len = mal_tcp4(f, l2, variant, 0x03, 0x4000, &l3);
		break;
	case GEN_MAL_ip_fragment:
		/* First fragment: MF set, offset 0, a whole TCP header inside. */
		len = mal_tcp4(f, l2, variant, 0x10, 0x2000, &l3);
		break;
	case GEN_MAL_not_tcp:
		if (variant / GEN_MAL_MAX % 2 == 0)
			len = mal_udp(f, l2, variant);
		else
			len = mal_arp(f, l2, variant);
		break;
	default:
		return;
	}
	if (len < GEN_MIN_FRAME) {
		memset(f + len, 0, GEN_MIN_FRAME - len);
		len = GEN_MIN_FRAME;
	}
	rec_end(o, t_ns, len, len);
}
