/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcap and pcapng records from memory.
 *
 * pcap (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html):
 * a 24-byte global header whose magic says byte order and timestamp unit
 * (0xa1b2c3d4 us, 0xa1b23c4d ns), then 16-byte record headers. Seconds are
 * unsigned 32-bit: a capture past 2038 reads right.
 *
 * pcapng (draft-ietf-opsawg-pcapng): blocks of (type, total length, body,
 * total length again). A Section Header Block sets the byte order and
 * forgets the previous section's interfaces; each Interface Description
 * Block adds an interface with its link type, snap length and the options
 * that scale its timestamps (if_tsresol, if_tsoffset); Enhanced and Simple
 * Packet Blocks carry packets (and the obsolete Packet Block). Every other
 * block is skipped by its length.
 *
 * Invariants: nothing is read past buf + len; a record is consumed whole
 * or not at all; lengths from the file are checked before they are used.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tcpa_cap.h"

#define PCAP_MAGIC_US   0xa1b2c3d4u
#define PCAP_MAGIC_NS   0xa1b23c4du
#define PCAP_HDR_LEN    24
#define PCAP_REC_LEN    16

#define NG_SHB          0x0a0d0d0au
#define NG_IDB          0x00000001u
#define NG_PB           0x00000002u /* obsolete Packet Block */
#define NG_SPB          0x00000003u
#define NG_EPB          0x00000006u
#define NG_BOM          0x1a2b3c4du
#define NG_MIN_BLOCK    12          /* type, length, length */
#define NG_SHB_MIN      28
#define NG_IDB_MIN      20
#define NG_EPB_MIN      32
#define NG_SPB_MIN      16
#define NG_PB_MIN       32
/* Records larger than this are not packets: a corrupt length. */
#define MAX_RECORD      (256u * 1024 * 1024)

#define OPT_ENDOFOPT    0
#define OPT_IF_TSRESOL  9
#define OPT_IF_TSOFFSET 14

#define NS_PER_S        1000000000ULL

static uint32_t
rd32(const struct tcpa_cap *c, const uint8_t *b)
{
	uint32_t v;

	memcpy(&v, b, 4);
	return c->swap ? __builtin_bswap32(v) : v;
}

static uint16_t
rd16(const struct tcpa_cap *c, const uint8_t *b)
{
	uint16_t v;

	memcpy(&v, b, 2);
	return c->swap ? __builtin_bswap16(v) : v;
}

/* A 64-bit value in the file's byte order: the word at @b holds its low
 * half when the file is little-endian. */
static uint64_t
rd64(const struct tcpa_cap *c, const uint8_t *b)
{
	uint64_t w0 = rd32(c, b), w1 = rd32(c, b + 4);
	int file_le = (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) != (c->swap != 0);

	return file_le ? w1 << 32 | w0 : w0 << 32 | w1;
}

static int
fail(struct tcpa_cap *c, const char *why)
{
	snprintf(c->err, sizeof(c->err), "%s", why);
	return -EINVAL;
}

/* Timestamp @units of interface @ifc in ns since the epoch (saturating). */
static uint64_t
ts_ns(const struct tcpa_cap_iface *ifc, uint64_t units)
{
	uint64_t per = ifc->ts_per_s, s = units / per, rem = units % per;
	int64_t sec = (int64_t)s + ifc->ts_offset_s;

	if (sec < 0)
		return 0;
	if ((uint64_t)sec > UINT64_MAX / NS_PER_S - 1)
		return UINT64_MAX;
	/* rem < per <= 2^63: scale without overflow through a 128-bit product. */
	return (uint64_t)sec * NS_PER_S + (uint64_t)((unsigned __int128)rem * NS_PER_S / per);
}

/* ---- pcap ---- */

static int
pcap_open(struct tcpa_cap *c, const uint8_t *b, size_t len, uint32_t magic)
{
	uint32_t lt, snap;

	if (len < PCAP_HDR_LEN)
		return 0;
	c->fmt = TCPA_CAP_PCAP;
	c->swap = magic != PCAP_MAGIC_US && magic != PCAP_MAGIC_NS;
	magic = rd32(c, b);
	c->nsec = magic == PCAP_MAGIC_NS;
	snap = rd32(c, b + 16);
	/* The low 16 bits are the link type; the high ones say FCS (ignored). */
	lt = rd32(c, b + 20) & 0xffff;
	c->nif = 1;
	c->ifc[0].linktype = lt;
	c->ifc[0].snaplen = snap;
	c->ifc[0].ts_per_s = c->nsec ? NS_PER_S : 1000000;
	c->ifc[0].ts_offset_s = 0;
	return PCAP_HDR_LEN;
}

static int
pcap_next(struct tcpa_cap *c, const uint8_t *b, size_t len, struct tcpa_cap_frame *f)
{
	uint32_t incl, orig, sec, frac;

	if (len < PCAP_REC_LEN)
		return 0;
	sec = rd32(c, b);
	frac = rd32(c, b + 4);
	incl = rd32(c, b + 8);
	orig = rd32(c, b + 12);
	if (incl > MAX_RECORD)
		return fail(c, "pcap record longer than 256 MiB: the file is corrupt");
	if (len - PCAP_REC_LEN < incl)
		return 0;
	f->data = b + PCAP_REC_LEN;
	f->caplen = incl;
	f->wirelen = orig > incl ? orig : incl;
	f->ts_ns = (uint64_t)sec * NS_PER_S + (c->nsec ? frac : (uint64_t)frac * 1000);
	f->linktype = c->ifc[0].linktype;
	f->iface = 0;
	return (int)(PCAP_REC_LEN + incl);
}

/* ---- pcapng ---- */

/* An option list's if_tsresol / if_tsoffset. */
static void
idb_options(struct tcpa_cap *c, const uint8_t *o, size_t n, struct tcpa_cap_iface *ifc)
{
	while (n >= 4) {
		uint16_t code = rd16(c, o), olen = rd16(c, o + 2);
		size_t padded = 4 + (((size_t)olen + 3) & ~(size_t)3);

		if (code == OPT_ENDOFOPT || padded > n)
			return;
		if (code == OPT_IF_TSRESOL && olen >= 1) {
			unsigned r = o[4] & 0x7f;
			uint64_t per = 1;

			/* 10^-r, or 2^-r with the top bit; beyond 1 ns nothing is kept. */
			for (unsigned i = 0; i < r && per <= UINT64_MAX / 10; i++)
				per *= (o[4] & 0x80) ? 2 : 10;
			if (r < 64)
				ifc->ts_per_s = per;
		} else if (code == OPT_IF_TSOFFSET && olen >= 8) {
			ifc->ts_offset_s = (int64_t)rd64(c, o + 4);
		}
		o += padded;
		n -= padded;
	}
}

static int
ng_shb(struct tcpa_cap *c, const uint8_t *b, size_t len)
{
	uint32_t bom, tlen;

	if (len < NG_SHB_MIN)
		return 0;
	memcpy(&bom, b + 8, 4);
	if (bom == NG_BOM)
		c->swap = 0;
	else if (bom == __builtin_bswap32(NG_BOM))
		c->swap = 1;
	else
		return fail(c, "pcapng section header with an unknown byte-order mark");
	tlen = rd32(c, b + 4);
	if (tlen < NG_SHB_MIN || (tlen & 3) != 0 || tlen > MAX_RECORD)
		return fail(c, "pcapng section header of impossible length");
	if (len < tlen)
		return 0;
	c->fmt = TCPA_CAP_PCAPNG;
	c->nif = 0;
	return (int)tlen;
}

static int
ng_idb(struct tcpa_cap *c, const uint8_t *b, uint32_t tlen)
{
	struct tcpa_cap_iface *ifc;

	if (tlen < NG_IDB_MIN)
		return fail(c, "pcapng interface description block too short");
	if (c->nif == TCPA_CAP_MAX_IF)
		return fail(c, "pcapng section with more than 1024 interfaces");
	ifc = &c->ifc[c->nif];
	ifc->linktype = rd16(c, b + 8);
	ifc->snaplen = rd32(c, b + 12);
	ifc->ts_per_s = 1000000;
	ifc->ts_offset_s = 0;
	idb_options(c, b + 16, tlen - NG_IDB_MIN, ifc);
	c->nif++;
	return 0;
}

/* Enhanced Packet Block (and the obsolete Packet Block, laid out alike). */
static int
ng_epb(struct tcpa_cap *c, const uint8_t *b, uint32_t tlen, int obsolete,
		struct tcpa_cap_frame *f)
{
	uint32_t ifx = obsolete ? rd16(c, b + 8) : rd32(c, b + 8);
	uint32_t incl = rd32(c, b + 20), orig = rd32(c, b + 24);
	uint64_t units = (uint64_t)rd32(c, b + 12) << 32 | rd32(c, b + 16);

	if (ifx >= c->nif)
		return fail(c, "pcapng packet of an interface no block described");
	if (incl > tlen - NG_EPB_MIN)
		return fail(c, "pcapng packet longer than its block");
	f->data = b + 28;
	f->caplen = incl;
	f->wirelen = orig > incl ? orig : incl;
	f->ts_ns = ts_ns(&c->ifc[ifx], units);
	f->linktype = c->ifc[ifx].linktype;
	f->iface = ifx;
	return 0;
}

/* Simple Packet Block: interface 0, no timestamp (the previous one holds). */
static int
ng_spb(struct tcpa_cap *c, const uint8_t *b, uint32_t tlen, struct tcpa_cap_frame *f,
		uint64_t last_ts)
{
	uint32_t orig = rd32(c, b + 8), room = tlen - NG_SPB_MIN;
	uint32_t snap;

	if (c->nif == 0)
		return fail(c, "pcapng simple packet before any interface");
	snap = c->ifc[0].snaplen;
	f->data = b + 12;
	f->caplen = orig < room ? orig : room;
	if (snap != 0 && f->caplen > snap)
		f->caplen = snap;
	f->wirelen = orig > f->caplen ? orig : f->caplen;
	f->ts_ns = last_ts;
	f->linktype = c->ifc[0].linktype;
	f->iface = 0;
	return 0;
}

static int
ng_next(struct tcpa_cap *c, const uint8_t *b, size_t len, struct tcpa_cap_frame *f,
		uint64_t last_ts)
{
	uint32_t type, tlen;
	int rc = 0;

	if (len < NG_MIN_BLOCK)
		return 0;
	memcpy(&type, b, 4);
	if (type == NG_SHB)
		return ng_shb(c, b, len);
	type = rd32(c, b);
	tlen = rd32(c, b + 4);
	if (tlen < NG_MIN_BLOCK || (tlen & 3) != 0 || tlen > MAX_RECORD)
		return fail(c, "pcapng block of impossible length: the file is corrupt");
	if (len < tlen)
		return 0;
	if (rd32(c, b + tlen - 4) != tlen)
		return fail(c, "pcapng block whose trailing length differs: the file is corrupt");
	if (type == NG_IDB)
		rc = ng_idb(c, b, tlen);
	else if (type == NG_EPB || type == NG_PB)
		rc = tlen < NG_EPB_MIN ? fail(c, "pcapng packet block too short") :
			ng_epb(c, b, tlen, type == NG_PB, f);
	else if (type == NG_SPB)
		rc = tlen < NG_SPB_MIN ? fail(c, "pcapng simple packet block too short") :
			ng_spb(c, b, tlen, f, last_ts);
	return rc < 0 ? rc : (int)tlen;
}

/* ---- the reader ---- */

int
tcpa_cap_open(struct tcpa_cap *c, const uint8_t *buf, size_t len)
{
	uint32_t magic;

	if (len < 4)
		return 0;
	memcpy(&magic, buf, 4);
	if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS ||
			magic == __builtin_bswap32(PCAP_MAGIC_US) ||
			magic == __builtin_bswap32(PCAP_MAGIC_NS))
		return pcap_open(c, buf, len, magic);
	if (magic == NG_SHB)
		return ng_shb(c, buf, len);
	if (buf[0] == 0x1f && len >= 2 && buf[1] == 0x8b)
		return fail(c, "gzip-compressed data, not a capture: decompress it first "
			"(zcat FILE | tcpa --pcap -)");
	return fail(c, "not a pcap or pcapng capture (unknown magic number)");
}

int
tcpa_cap_next(struct tcpa_cap *c, const uint8_t *buf, size_t len, struct tcpa_cap_frame *f)
{
	/* A Simple Packet Block carries no time: it keeps the previous packet's. */
	uint64_t last_ts = f->ts_ns;
	int rc;

	f->data = NULL;
	rc = c->fmt == TCPA_CAP_PCAP ? pcap_next(c, buf, len, f) : ng_next(c, buf, len, f, last_ts);
	if (rc > 0) {
		c->blocks++;
		if (f->data != NULL)
			c->frames++;
	}
	return rc;
}

/* ---- clock ---- */

void
tcpa_cap_clock_init(struct tcpa_cap_clock *k, uint64_t jump_ns)
{
	memset(k, 0, sizeof(*k));
	k->jump_ns = jump_ns;
}

static int
near(uint64_t a, uint64_t b, uint64_t d)
{
	return (a > b ? a - b : b - a) <= d;
}

uint64_t
tcpa_cap_clock_step(struct tcpa_cap_clock *k, uint64_t ts)
{
	if (k->last == 0 || k->jump_ns == 0 || near(ts, k->last, k->jump_ns)) {
		if (ts > k->last)
			k->last = ts;
		k->ncand = 0;
		return ts;
	}
	if (k->ncand != 0 && near(ts, k->cand, k->jump_ns)) {
		k->ncand++;
	} else {
		k->cand = ts;
		k->ncand = 1;
	}
	if (k->ncand >= TCPA_CAP_CLOCK_CONFIRM) {
		/* Confirmed: the capture goes on at a new pace from here. */
		k->last = ts;
		k->ncand = 0;
		return ts;
	}
	k->jumps++;
	return k->last;
}
