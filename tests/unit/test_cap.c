/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for lib/cap: pcap (us and ns, both byte orders, seconds past
 * 2^31), pcapng (several sections and interfaces with their own link
 * types, snap lengths, if_tsresol and if_tsoffset; enhanced, simple and
 * obsolete packet blocks; blocks to skip), every cut of a record, corrupt
 * lengths, and the capture clock.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpa_cap.h"

#include "check.h"

/* ---- building files in memory ---- */

struct buf {
	uint8_t b[8192];
	size_t n;
	int be;                 /* write big-endian */
};

static void
put(struct buf *w, const void *p, size_t n)
{
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void
put32(struct buf *w, uint32_t v)
{
	uint8_t b[4];

	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(w->be ? v >> (24 - 8 * i) : v >> (8 * i));
	put(w, b, 4);
}

static void
put16(struct buf *w, uint16_t v)
{
	uint8_t b[2];

	b[0] = (uint8_t)(w->be ? v >> 8 : v);
	b[1] = (uint8_t)(w->be ? v : v >> 8);
	put(w, b, 2);
}

static void
pcap_hdr(struct buf *w, uint32_t magic, uint32_t snap, uint32_t lt)
{
	put32(w, magic);
	put16(w, 2);
	put16(w, 4);
	put32(w, 0);
	put32(w, 0);
	put32(w, snap);
	put32(w, lt);
}

static void
pcap_rec(struct buf *w, uint32_t sec, uint32_t frac, uint32_t incl, uint32_t orig, uint8_t fill)
{
	put32(w, sec);
	put32(w, frac);
	put32(w, incl);
	put32(w, orig);
	memset(w->b + w->n, fill, incl);
	w->n += incl;
}

static void
ng_shb(struct buf *w)
{
	put32(w, 0x0a0d0d0a);
	put32(w, 28);
	put32(w, 0x1a2b3c4d);
	put16(w, 1);
	put16(w, 0);
	put32(w, 0xffffffff);
	put32(w, 0xffffffff);
	put32(w, 28);
}

/* IDB with optional if_tsresol (@res, 0xff = none) and if_tsoffset (@off != 0). */
static void
ng_idb(struct buf *w, uint16_t lt, uint32_t snap, uint8_t res, int64_t off)
{
	uint32_t len = 20 + (res != 0xff ? 8 : 0) + (off != 0 ? 12 : 0) + 4;

	put32(w, 1);
	put32(w, len);
	put16(w, lt);
	put16(w, 0);
	put32(w, snap);
	if (res != 0xff) {
		uint8_t v[4] = { res, 0, 0, 0 };

		put16(w, 9);
		put16(w, 1);
		put(w, v, 4);
	}
	if (off != 0) {
		put16(w, 14);
		put16(w, 8);
		if (w->be) {
			put32(w, (uint32_t)((uint64_t)off >> 32));
			put32(w, (uint32_t)off);
		} else {
			put32(w, (uint32_t)off);
			put32(w, (uint32_t)((uint64_t)off >> 32));
		}
	}
	put32(w, 0);            /* opt_endofopt */
	put32(w, len);
}

static void
ng_epb(struct buf *w, uint32_t ifx, uint64_t ts, uint32_t incl, uint32_t orig, uint8_t fill)
{
	uint32_t pad = (incl + 3) & ~3u, len = 32 + pad;

	put32(w, 6);
	put32(w, len);
	put32(w, ifx);
	put32(w, (uint32_t)(ts >> 32));
	put32(w, (uint32_t)ts);
	put32(w, incl);
	put32(w, orig);
	memset(w->b + w->n, fill, pad);
	w->n += pad;
	put32(w, len);
}

/* A block no reader needs (Name Resolution Block): skipped by its length. */
static void
ng_other(struct buf *w)
{
	put32(w, 4);
	put32(w, 16);
	put32(w, 0);
	put32(w, 16);
}

/* Every frame of @w; returns how many, -1 on error. */
static int
read_all(const struct buf *w, struct tcpa_cap_frame *out, int max)
{
	struct tcpa_cap *c = calloc(1, sizeof(*c));
	struct tcpa_cap_frame f = { 0 };
	size_t off;
	int n = 0, rc;

	if (c == NULL)
		exit(2);
	rc = tcpa_cap_open(c, w->b, w->n);
	if (rc <= 0) {
		free(c);
		return -1;
	}
	for (off = (size_t)rc; off < w->n; off += (size_t)rc) {
		rc = tcpa_cap_next(c, w->b + off, w->n - off, &f);
		if (rc <= 0) {
			free(c);
			return -1;
		}
		if (f.data != NULL && n < max)
			out[n++] = f;
	}
	CHECK_EQ(c->frames, (uint64_t)n);
	free(c);
	return n;
}

/* ---- pcap ---- */

static void
test_pcap(void)
{
	for (int be = 0; be < 2; be++) {
		for (int ns = 0; ns < 2; ns++) {
			struct buf w = { .be = be };
			struct tcpa_cap_frame f[4];

			pcap_hdr(&w, ns ? 0xa1b23c4d : 0xa1b2c3d4, 96, 1);
			pcap_rec(&w, 1700000000, ns ? 123456789 : 123456, 60, 60, 0xaa);
			/* Seconds past 2^31 (2038) are unsigned, not negative. */
			pcap_rec(&w, 0x90000000u, 1, 96, 1500, 0xbb);
			CHECK_EQ(read_all(&w, f, 4), 2);
			CHECK_EQ(f[0].ts_ns, 1700000000ULL * 1000000000 + 123456789 - (ns ? 0 : 789));
			CHECK_EQ(f[0].caplen, 60);
			CHECK_EQ(f[0].wirelen, 60);
			CHECK_EQ(f[0].linktype, 1);
			CHECK_EQ(f[0].data[59], 0xaa);
			CHECK_EQ(f[1].ts_ns, 0x90000000ULL * 1000000000 + (ns ? 1 : 1000));
			CHECK_EQ(f[1].caplen, 96);
			CHECK_EQ(f[1].wirelen, 1500);
		}
	}
}

/* The link type's FCS bits are not part of it. */
static void
test_pcap_linktype_bits(void)
{
	struct buf w = { 0 };
	struct tcpa_cap_frame f[1];

	pcap_hdr(&w, 0xa1b2c3d4, 65535, 113 | 0x14000000);
	pcap_rec(&w, 1, 0, 20, 20, 0);
	CHECK_EQ(read_all(&w, f, 1), 1);
	CHECK_EQ(f[0].linktype, 113);
}

/* Every cut of a file asks for more, never returns a partial record. */
static void
test_cuts(void)
{
	struct buf w = { 0 }, g = { 0 };

	pcap_hdr(&w, 0xa1b2c3d4, 65535, 1);
	pcap_rec(&w, 5, 6, 40, 40, 1);
	pcap_rec(&w, 5, 7, 30, 30, 2);
	ng_shb(&g);
	ng_idb(&g, 1, 0, 9, 0);
	ng_epb(&g, 0, 1000, 41, 41, 3);
	ng_other(&g);
	ng_epb(&g, 0, 1001, 40, 40, 4);
	for (int k = 0; k < 2; k++) {
		const struct buf *b = k == 0 ? &w : &g;

		for (size_t cut = 0; cut <= b->n; cut++) {
			struct tcpa_cap c;
			struct tcpa_cap_frame f = { 0 };
			size_t off = 0;
			int rc, frames = 0;

			memset(&c, 0, sizeof(c));
			rc = tcpa_cap_open(&c, b->b, cut);
			if (rc == 0) {
				CHECK(cut < 28);
				continue;
			}
			CHECK(rc > 0);
			off = (size_t)rc;
			while ((rc = tcpa_cap_next(&c, b->b + off, cut - off, &f)) > 0) {
				off += (size_t)rc;
				frames += f.data != NULL;
				CHECK(off <= cut);
			}
			CHECK_EQ(rc, 0);
			CHECK_EQ(frames, cut == b->n ? 2 : frames);
			if (cut == b->n)
				CHECK_EQ(off, cut);
		}
	}
}

static void
test_not_a_capture(void)
{
	static const uint8_t gz[] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0 };
	static const uint8_t txt[] = "GET / HTTP/1.1\r\n";
	struct tcpa_cap c;

	memset(&c, 0, sizeof(c));
	CHECK_EQ(tcpa_cap_open(&c, gz, sizeof(gz)), -EINVAL);
	CHECK(strstr(c.err, "gzip") != NULL);
	memset(&c, 0, sizeof(c));
	CHECK_EQ(tcpa_cap_open(&c, txt, sizeof(txt)), -EINVAL);
	CHECK(strstr(c.err, "not a pcap or pcapng") != NULL);
}

static void
test_corrupt(void)
{
	struct buf w = { 0 };
	struct tcpa_cap c;
	struct tcpa_cap_frame f = { 0 };
	int rc;

	/* pcap record of 1 GiB. */
	pcap_hdr(&w, 0xa1b2c3d4, 65535, 1);
	put32(&w, 1);
	put32(&w, 0);
	put32(&w, 1u << 30);
	put32(&w, 1u << 30);
	memset(&c, 0, sizeof(c));
	rc = tcpa_cap_open(&c, w.b, w.n);
	CHECK_EQ(tcpa_cap_next(&c, w.b + rc, w.n - (size_t)rc, &f), -EINVAL);
	CHECK(strstr(c.err, "corrupt") != NULL);

	/* pcapng: trailing length differs, packet of an undescribed interface. */
	w.n = 0;
	ng_shb(&w);
	ng_idb(&w, 1, 0, 0xff, 0);
	ng_epb(&w, 0, 1, 20, 20, 0);
	w.b[w.n - 4] ^= 4;
	memset(&c, 0, sizeof(c));
	rc = tcpa_cap_open(&c, w.b, w.n);
	rc = tcpa_cap_next(&c, w.b + rc, w.n - (size_t)rc, &f);
	CHECK(rc > 0);
	CHECK_EQ(tcpa_cap_next(&c, w.b + 28 + (size_t)rc, w.n - 28 - (size_t)rc, &f), -EINVAL);
	CHECK(strstr(c.err, "trailing length") != NULL);
	w.n = 0;
	ng_shb(&w);
	ng_epb(&w, 0, 1, 20, 20, 0);
	memset(&c, 0, sizeof(c));
	rc = tcpa_cap_open(&c, w.b, w.n);
	CHECK_EQ(tcpa_cap_next(&c, w.b + rc, w.n - (size_t)rc, &f), -EINVAL);
	CHECK(strstr(c.err, "interface") != NULL);
	/* Packet longer than its block. */
	w.n = 0;
	ng_shb(&w);
	ng_idb(&w, 1, 0, 0xff, 0);
	ng_epb(&w, 0, 1, 20, 20, 0);
	w.b[28 + 24 + 20] = 200;
	memset(&c, 0, sizeof(c));
	rc = tcpa_cap_open(&c, w.b, w.n);
	rc = tcpa_cap_next(&c, w.b + 28, w.n - 28, &f);
	CHECK(rc > 0);
	CHECK_EQ(tcpa_cap_next(&c, w.b + 28 + (size_t)rc, w.n - 28 - (size_t)rc, &f), -EINVAL);
}

/* ---- pcapng ---- */

static void
test_pcapng_interfaces(void)
{
	for (int be = 0; be < 2; be++) {
		struct buf w = { .be = be };
		struct tcpa_cap_frame f[8];

		ng_shb(&w);
		ng_idb(&w, 1, 0, 0xff, 0);              /* Ethernet, us */
		ng_idb(&w, 113, 128, 9, 0);             /* SLL, ns */
		ng_idb(&w, 101, 0, 0x80 | 10, 3600);    /* raw IP, 2^-10 s, +1 h */
		ng_other(&w);
		ng_epb(&w, 0, 1700000000000001ULL, 60, 60, 1);
		ng_epb(&w, 1, 1700000000000000002ULL, 50, 70, 2);
		ng_epb(&w, 2, 1024ULL * 1700000000 + 512, 40, 40, 3);
		/* A new section forgets the interfaces: index 0 is its own. */
		ng_shb(&w);
		ng_idb(&w, 276, 0, 6, 0);
		ng_epb(&w, 0, 1700000001000000ULL, 30, 30, 4);
		CHECK_EQ(read_all(&w, f, 8), 4);
		CHECK_EQ(f[0].linktype, 1);
		CHECK_EQ(f[0].ts_ns, 1700000000000001000ULL);
		CHECK_EQ(f[1].linktype, 113);
		CHECK_EQ(f[1].iface, 1);
		CHECK_EQ(f[1].ts_ns, 1700000000000000002ULL);
		CHECK_EQ(f[1].caplen, 50);
		CHECK_EQ(f[1].wirelen, 70);
		CHECK_EQ(f[2].linktype, 101);
		CHECK_EQ(f[2].ts_ns, (1700000000ULL + 3600) * 1000000000 + 500000000);
		CHECK_EQ(f[3].linktype, 276);
		CHECK_EQ(f[3].ts_ns, 1700000001000000000ULL);
		CHECK_EQ(f[3].data[0], 4);
	}
}

/* Simple and obsolete packet blocks. */
static void
test_pcapng_simple_obsolete(void)
{
	struct buf w = { 0 };
	struct tcpa_cap_frame f[4];

	ng_shb(&w);
	ng_idb(&w, 1, 48, 0xff, 0);
	ng_epb(&w, 0, 5000000, 20, 20, 1);
	/* SPB: original length 60, snap length 48: 48 bytes captured. */
	put32(&w, 3);
	put32(&w, 16 + 60);
	put32(&w, 60);
	memset(w.b + w.n, 2, 60);
	w.n += 60;
	put32(&w, 16 + 60);
	/* Obsolete PB: 16-bit interface, 16-bit drops. */
	put32(&w, 2);
	put32(&w, 32 + 20);
	put16(&w, 0);
	put16(&w, 0);
	put32(&w, 0);
	put32(&w, 7000000);
	put32(&w, 20);
	put32(&w, 20);
	memset(w.b + w.n, 3, 20);
	w.n += 20;
	put32(&w, 32 + 20);
	CHECK_EQ(read_all(&w, f, 4), 3);
	CHECK_EQ(f[1].caplen, 48);
	CHECK_EQ(f[1].wirelen, 60);
	CHECK_EQ(f[1].ts_ns, 5000000000ULL);    /* an SPB keeps the previous time */
	CHECK_EQ(f[2].ts_ns, 7000000000ULL);
	CHECK_EQ(f[2].data[0], 3);
}

/* ---- clock ---- */

#define S 1000000000ULL

static void
test_clock(void)
{
	struct tcpa_cap_clock k;
	uint64_t t0 = 1700000000 * S;

	tcpa_cap_clock_init(&k, 3600 * S);
	CHECK_EQ(tcpa_cap_clock_step(&k, t0), t0);
	CHECK_EQ(tcpa_cap_clock_step(&k, t0 + S), t0 + S);
	/* Small reorderings stand as they are. */
	CHECK_EQ(tcpa_cap_clock_step(&k, t0 + S / 2), t0 + S / 2);
	/* One segment a year ahead: set aside, counted. */
	CHECK_EQ(tcpa_cap_clock_step(&k, t0 + 365 * 86400 * S), t0 + S);
	CHECK_EQ(k.jumps, 1);
	CHECK_EQ(tcpa_cap_clock_step(&k, t0 + 2 * S), t0 + 2 * S);
	/* One in 1970: the same. */
	CHECK_EQ(tcpa_cap_clock_step(&k, 5 * S), t0 + 2 * S);
	CHECK_EQ(k.jumps, 2);
	/* A capture that really resumes two hours later: followed after the confirmations. */
	for (unsigned i = 0; i < TCPA_CAP_CLOCK_CONFIRM - 1; i++)
		CHECK_EQ(tcpa_cap_clock_step(&k, t0 + 7200 * S + i), t0 + 2 * S);
	CHECK_EQ(tcpa_cap_clock_step(&k, t0 + 7200 * S + 100), t0 + 7200 * S + 100);
	CHECK_EQ(k.jumps, 2 + TCPA_CAP_CLOCK_CONFIRM - 1);
	CHECK_EQ(tcpa_cap_clock_step(&k, t0 + 7201 * S), t0 + 7201 * S);
	/* Outliers that disagree with each other never make a pace. */
	for (unsigned i = 0; i < 3 * TCPA_CAP_CLOCK_CONFIRM; i++)
		CHECK_EQ(tcpa_cap_clock_step(&k, (i & 1) ? t0 * 2 : 1), t0 + 7201 * S);
	/* jump 0: every timestamp as it is. */
	tcpa_cap_clock_init(&k, 0);
	CHECK_EQ(tcpa_cap_clock_step(&k, t0), t0);
	CHECK_EQ(tcpa_cap_clock_step(&k, 1), 1);
	CHECK_EQ(k.jumps, 0);
}

int
main(void)
{
	RUN(test_pcap);
	RUN(test_pcap_linktype_bits);
	RUN(test_cuts);
	RUN(test_not_a_capture);
	RUN(test_corrupt);
	RUN(test_pcapng_interfaces);
	RUN(test_pcapng_simple_obsolete);
	RUN(test_clock);
	return check_summary("cap");
}
