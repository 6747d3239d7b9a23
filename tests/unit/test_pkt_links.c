/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The real captures of tests/linktypes/ through the parser: each capture of
 * captures.txt, parsed frame by frame with tcpa_pkt_parse_link() and the
 * link type of its file or pcapng interface, gives the same TCP segments
 * (addresses, ports, seq, ack, flags, window, payload length) as its
 * reference, an Ethernet capture of the same frames, gives through
 * tcpa_pkt_parse(); every segment went through the encapsulations and
 * carries the tunnel identity and VLAN the manifest says. A frame that is
 * not a TCP segment may only be not_tcp (ARP, neighbour discovery, MLD).
 *
 * usage: test_pkt_links DIR   (DIR holds captures.txt and the captures)
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpa_pkt.h"

#include "check.h"

#define MAX_SEGS   4096
#define MAX_IFACES 16
#define LINE_MAX_LEN 512

/* One TCP segment as the comparison sees it; memset first: it is memcmp'd. */
struct seg {
	uint8_t src[16];
	uint8_t dst[16];
	uint32_t seq;
	uint32_t ack;
	uint32_t payload_len;
	uint16_t sport;
	uint16_t dport;
	uint16_t win;
	uint8_t flags;
	uint8_t family;
};

struct segs {
	struct seg s[MAX_SEGS];
	unsigned int n;
	unsigned int verdicts[TCPA_PKT_VERDICT_MAX];
	unsigned int big;       /* segments over 64 KB */
};

/* What captures.txt asks of a capture. */
struct expect {
	unsigned int encap;
	unsigned int tunnel_kind;
	uint32_t tunnel_id;
	uint32_t vlan;
	int family;             /* 0: all */
	int continuous;
};

/* How a capture's frames are handed out: to the reference or to the capture. */
struct sink {
	struct segs *out;
	const struct expect *exp;      /* NULL: the reference, tcpa_pkt_parse() */
	const char *name;
};

static uint8_t *
read_file(const char *path, size_t *size)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (fp == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) > 0 && fseek(fp, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n);
		if (buf != NULL && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*size = (size_t)n;
	}
	fclose(fp);
	return buf;
}

static uint32_t
rd32(const uint8_t *b, int swap)
{
	uint32_t v;

	memcpy(&v, b, 4);
	return swap ? __builtin_bswap32(v) : v;
}

static uint16_t
rd16(const uint8_t *b, int swap)
{
	uint16_t v;

	memcpy(&v, b, 2);
	return swap ? __builtin_bswap16(v) : v;
}

static void
seg_of(const struct tcpa_pkt *p, struct seg *s)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->src, p->src.b, 16);
	memcpy(s->dst, p->dst.b, 16);
	s->seq = p->seq;
	s->ack = p->ack;
	s->payload_len = p->payload_len;
	s->sport = p->sport;
	s->dport = p->dport;
	s->win = p->win;
	s->flags = p->tcp_flags;
	s->family = p->family;
}

/* One frame, with the link type it came with. */
static void
frame(struct sink *k, uint32_t linktype, const uint8_t *data, uint32_t caplen, uint32_t wirelen)
{
	uint8_t *copy = malloc(caplen != 0 ? caplen : 1);
	enum tcpa_pkt_verdict v;
	struct tcpa_pkt p;

	if (copy == NULL)
		exit(2);
	memcpy(copy, data, caplen);     /* exactly caplen: ASan sees any overread */
	memset(&p, 0, sizeof(p));
	if (k->exp == NULL) {
		CHECK_EQ(linktype, TCPA_LINKTYPE_ETHERNET);
		v = tcpa_pkt_parse(copy, caplen, &p);
	} else {
		v = tcpa_pkt_parse_link(linktype, copy, caplen, wirelen, &p);
	}
	free(copy);
	k->out->verdicts[v]++;
	if (v != TCPA_PKT_OK) {
		if (v != TCPA_PKT_not_tcp)
			fprintf(stderr, "%s: a frame of %u bytes is %s\n", k->name, wirelen,
				tcpa_pkt_verdict_name(v));
		CHECK(v == TCPA_PKT_not_tcp);
		return;
	}
	if (k->out->n == MAX_SEGS) {
		fprintf(stderr, "%s: more than %d segments\n", k->name, MAX_SEGS);
		exit(2);
	}
	seg_of(&p, &k->out->s[k->out->n++]);
	k->out->big += p.payload_len > UINT16_MAX;
	if (k->exp != NULL && !k->exp->continuous) {
		CHECK_EQ(p.encap, k->exp->encap);
		CHECK_EQ(p.tunnel_kind, k->exp->tunnel_kind);
		CHECK_EQ(p.tunnel_id, k->exp->tunnel_id);
		CHECK_EQ(p.zone, tcpa_pkt_zone(k->exp->vlan, p.tunnel_kind, p.tunnel_id));
	}
}

/* Classic pcap, microsecond or nanosecond, either byte order. */
static int
read_pcap(struct sink *k, const uint8_t *b, size_t n)
{
	uint32_t magic = rd32(b, 0);
	int swap = magic == 0xd4c3b2a1U || magic == 0x4d3cb2a1U;
	uint32_t linktype = rd32(b + 20, swap) & 0xffff;
	size_t off = 24;

	while (off + 16 <= n) {
		uint32_t cap = rd32(b + off + 8, swap);
		uint32_t wire = rd32(b + off + 12, swap);

		if (cap > n - off - 16)
			return -1;
		frame(k, linktype, b + off + 16, cap, wire);
		off += 16 + cap;
	}
	return off == n ? 0 : -1;
}

/* pcapng: section headers, interface descriptions, enhanced and simple packets. */
static int
read_pcapng(struct sink *k, const uint8_t *b, size_t n)
{
	uint32_t lt[MAX_IFACES];
	unsigned int nif = 0;
	size_t off = 0;
	int swap = 0;

	while (off + 12 <= n) {
		uint32_t type, len;

		if (rd32(b + off, 0) == 0x0a0d0d0aU) {
			swap = rd32(b + off + 8, 0) != 0x1a2b3c4dU;
			nif = 0;
		}
		type = rd32(b + off, swap);
		len = rd32(b + off + 4, swap);
		if (len < 12 || len % 4 != 0 || len > n - off)
			return -1;
		if (type == 1 && nif < MAX_IFACES && len >= 20) {
			lt[nif++] = rd16(b + off + 8, swap);
		} else if (type == 6 && len >= 32) {
			uint32_t ifc = rd32(b + off + 8, swap);
			uint32_t cap = rd32(b + off + 20, swap);

			if (ifc >= nif || cap > len - 32)
				return -1;
			frame(k, lt[ifc], b + off + 28, cap, rd32(b + off + 24, swap));
		} else if (type == 3 && len >= 16 && nif > 0) {
			uint32_t wire = rd32(b + off + 8, swap);

			frame(k, lt[0], b + off + 12, wire < len - 16 ? wire : len - 16, wire);
		}
		off += len;
	}
	return off == n ? 0 : -1;
}

static int
read_capture(struct sink *k, const char *dir, const char *file)
{
	char path[1024];
	size_t n = 0;
	uint8_t *b;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	b = read_file(path, &n);
	if (b == NULL || n < 24) {
		free(b);
		fprintf(stderr, "%s: cannot read\n", path);
		return -1;
	}
	rc = rd32(b, 0) == 0x0a0d0d0aU ? read_pcapng(k, b, n) : read_pcap(k, b, n);
	free(b);
	if (rc != 0)
		fprintf(stderr, "%s: not a capture this reader understands\n", path);
	return rc;
}

static int
seg_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct seg));
}

static unsigned int
encap_bits(const char *list)
{
	char buf[128];
	unsigned int bits = 0, i;
	char *t, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", list);
	for (t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < TCPA_PKT_ENCAP_MAX; i++) {
			if (strcmp(t, tcpa_pkt_encap_name(i)) == 0)
				break;
		}
		CHECK(i < TCPA_PKT_ENCAP_MAX);
		bits |= 1U << i;
	}
	return bits;
}

static void
parse_expect(char *words, struct expect *e)
{
	char *w, *save = NULL;
	unsigned int i;

	memset(e, 0, sizeof(*e));
	for (w = strtok_r(words, " \t\n", &save); w != NULL; w = strtok_r(NULL, " \t\n", &save)) {
		if (strncmp(w, "encap=", 6) == 0) {
			e->encap = encap_bits(w + 6);
		} else if (strncmp(w, "tunnel=", 7) == 0) {
			char *colon = strchr(w, ':');

			CHECK(colon != NULL);
			if (colon == NULL)
				continue;
			*colon = '\0';
			for (i = 0; i < TCPA_PKT_TUNNEL_MAX; i++) {
				if (strcmp(w + 7, tcpa_pkt_tunnel_name(i)) == 0)
					e->tunnel_kind = i;
			}
			CHECK(e->tunnel_kind != TCPA_PKT_TUNNEL_NONE);
			e->tunnel_id = (uint32_t)strtoul(colon + 1, NULL, 0);
		} else if (strncmp(w, "vlan=", 5) == 0) {
			e->vlan = (uint32_t)strtoul(w + 5, NULL, 0);
		} else if (strncmp(w, "family=", 7) == 0) {
			e->family = atoi(w + 7);
		} else if (strcmp(w, "check=continuous") == 0) {
			e->continuous = 1;
		}
	}
}

/* Keep only the segments of one address family. */
static void
keep_family(struct segs *s, int family)
{
	unsigned int i, n = 0;

	for (i = 0; i < s->n; i++) {
		if (s->s[i].family == family)
			s->s[n++] = s->s[i];
	}
	s->n = n;
}

static int
same_direction(const struct seg *a, const struct seg *b)
{
	return memcmp(a->src, b->src, 16) == 0 && memcmp(a->dst, b->dst, 16) == 0 &&
		a->sport == b->sport && a->dport == b->dport;
}

static int
reverse_direction(const struct seg *a, const struct seg *b)
{
	return memcmp(a->src, b->dst, 16) == 0 && memcmp(a->dst, b->src, 16) == 0 &&
		a->sport == b->dport && a->dport == b->sport;
}

/*
 * No reference: in each direction, every segment starts at or before the
 * end of what was seen (no hole: no lost_segment), and the other side's
 * last ACK covers all of it (no ack_unseen).
 */
static void
check_continuous(const struct segs *s, const char *name)
{
	unsigned int i, j;

	for (i = 0; i < s->n; i++) {
		const struct seg *d = &s->s[i];
		uint32_t start = d->seq, end = d->seq, ack = 0;
		int first = 1, acked = 0;

		if ((d->flags & TCPA_TCP_SYN) == 0)
			continue;       /* one pass per direction, from its SYN */
		for (j = i; j < s->n; j++) {
			const struct seg *x = &s->s[j];
			uint32_t xend = x->seq + x->payload_len +
				((x->flags & (TCPA_TCP_SYN | TCPA_TCP_FIN)) != 0);

			if (same_direction(x, d)) {
				if (!first && (int32_t)(x->seq - end) > 0)
					fprintf(stderr, "%s: hole of %u bytes at seq %u\n", name,
						x->seq - end, end);
				CHECK(first || (int32_t)(x->seq - end) <= 0);
				if (first || (int32_t)(xend - end) > 0)
					end = xend;
				first = 0;
			} else if (reverse_direction(x, d) && (x->flags & TCPA_TCP_ACK) != 0) {
				ack = x->ack;
				acked = 1;
			}
		}
		CHECK(acked && ack == end);
		CHECK(end - start > 1);
	}
	CHECK(s->big != 0);
}

static void
check_capture(const char *dir, const char *name, const char *ref, const struct expect *e)
{
	static struct segs got, want;
	struct sink k = { .out = &got, .exp = e, .name = name };
	char refs[256], *r, *save = NULL;

	memset(&got, 0, sizeof(got));
	memset(&want, 0, sizeof(want));
	CHECK(read_capture(&k, dir, name) == 0);
	CHECK(got.n != 0);
	if (e->continuous) {
		check_continuous(&got, name);
		printf("%-18s %u segments, %u over 64 KB, continuous\n", name, got.n, got.big);
		return;
	}
	snprintf(refs, sizeof(refs), "%s", ref);
	for (r = strtok_r(refs, "+", &save); r != NULL; r = strtok_r(NULL, "+", &save)) {
		struct sink kr = { .out = &want, .exp = NULL, .name = r };

		CHECK(read_capture(&kr, dir, r) == 0);
	}
	CHECK_EQ(want.verdicts[TCPA_PKT_OK], want.n);
	if (e->family != 0)
		keep_family(&want, e->family);
	qsort(got.s, got.n, sizeof(got.s[0]), seg_cmp);
	qsort(want.s, want.n, sizeof(want.s[0]), seg_cmp);
	CHECK_EQ(got.n, want.n);
	CHECK(got.n == want.n && memcmp(got.s, want.s, got.n * sizeof(got.s[0])) == 0);
	printf("%-18s %u segments as in %s (%u frames not TCP)\n", name, got.n, ref,
	       got.verdicts[TCPA_PKT_not_tcp]);
}

int
main(int argc, char **argv)
{
	char path[1024], line[LINE_MAX_LEN];
	FILE *fp;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/captures.txt", argv[1]);
	fp = fopen(path, "r");
	if (fp == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 2;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		char name[128], ref[256];
		struct expect e;
		int used = 0;

		if (line[0] == '#' || sscanf(line, "%127s %255s %n", name, ref, &used) < 2)
			continue;
		cur_fail = 0;
		parse_expect(line + used, &e);
		check_capture(argv[1], name, ref, &e);
		if (cur_fail == 0) {
			n_pass++;
		} else {
			n_fail++;
			fprintf(stderr, "FAIL %s (%u checks)\n", name, cur_fail);
		}
	}
	fclose(fp);
	if (n_pass + n_fail == 0) {
		fprintf(stderr, "%s: no capture listed\n", path);
		return 1;
	}
	return check_summary("pkt_links");
}
