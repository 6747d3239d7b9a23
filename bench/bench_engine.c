/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Engine benchmark without DPDK: the per-core work of an RX core (parse,
 * hash, flow lookup/insert, both endpoints' state machine, endpoint
 * counts) on frames held in memory, in bursts of 32, timed with the TSC.
 * Separates the engine's cost from any driver's. Also the subject of
 * `valgrind --tool=callgrind` for instructions per packet.
 *
 *   bench_engine FILE.pcap [--flows N] [--seconds S] [--loops N] [--parse-only] [--no-rules]
 *
 * --no-rules measures state tracking without the anomaly rules, for the
 * rules' cost (issue: at most 15%).
 *
 * The capture is replayed in a loop as a continuing stream: every pass
 * after the first moves each direction's sequence and acknowledgment
 * numbers on by what that direction sent in one pass, and leaves out the
 * SYNs. A plain replay would show every later pass as retransmissions and
 * measure the anomaly rules on a storm no link produces.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <x86intrin.h>

#include "tcpa_engine.h"
#include "tcpa_pkt.h"

struct frames {
	uint8_t *data;
	uint32_t *off;
	uint32_t *len;
	uint64_t *ts;
	size_t n;
	uint32_t *dir;          /* per frame: its direction's span (index while planning) */
	uint32_t *rev;          /* per frame: the opposite direction's span */
	uint32_t *span;         /* bytes of sequence space a direction uses per pass */
};

/* One direction of a connection: hash of its tuple and who sends. */
struct dirslot {
	uint64_t key;
	uint32_t first, end;
	int used;
};

static uint64_t
dir_key(const struct tcpa_pkt *p, int reverse)
{
	const struct tcpa_ip *a = reverse ? &p->dst : &p->src;
	uint64_t h = p->hash * 0x9e3779b97f4a7c15ULL;

	/* The tuple hash is symmetric; the sender's address breaks the tie. */
	for (unsigned i = 12; i < 16; i++)
		h = (h ^ a->b[i]) * 0x100000001b3ULL;
	return (h ^ (reverse ? p->dport : p->sport)) | 1;
}

static uint32_t
dir_find(struct dirslot *t, uint32_t mask, uint64_t key)
{
	uint32_t i = (uint32_t)key & mask;

	while (t[i].used && t[i].key != key)
		i = (i + 1) & mask;
	t[i].used = 1;
	t[i].key = key;
	return i;
}

/* Each direction's sequence span in one pass, for the continuing replay. */
static void
plan_replay(struct frames *fr, const struct tcpa_hash_secret *sec)
{
	uint32_t mask = 1;
	struct dirslot *t;

	while (mask < fr->n * 2)
		mask <<= 1;
	t = calloc(mask, sizeof(*t));
	fr->dir = calloc(fr->n, sizeof(uint32_t));
	fr->rev = calloc(fr->n, sizeof(uint32_t));
	fr->span = calloc(mask, sizeof(uint32_t));
	mask--;
	for (size_t j = 0; j < fr->n; j++) {
		struct tcpa_pkt p;
		uint32_t d, end;

		if (tcpa_pkt_parse(fr->data + fr->off[j], fr->len[j], &p) != TCPA_PKT_OK)
			continue;
		tcpa_engine_hash(&p, sec);
		d = dir_find(t, mask, dir_key(&p, 0));
		fr->dir[j] = d;
		fr->rev[j] = dir_find(t, mask, dir_key(&p, 1));
		end = p.seq + p.payload_len + ((p.tcp_flags & (TCPA_TCP_SYN | TCPA_TCP_FIN)) != 0);
		if (t[d].first == 0 && t[d].end == 0)
			t[d].first = p.seq + ((p.tcp_flags & TCPA_TCP_SYN) != 0);
		if ((int32_t)(end - t[d].end) > 0 || t[d].end == 0)
			t[d].end = end;
	}
	for (uint32_t i = 0; i <= mask; i++)
		fr->span[i] = t[i].end - t[i].first;
	/* Per frame, so the timed loop reads them in order, not at random. */
	for (size_t j = 0; j < fr->n; j++) {
		fr->dir[j] = fr->span[fr->dir[j]];
		fr->rev[j] = fr->span[fr->rev[j]];
	}
	free(t);
}

static int
load_pcap(const char *path, struct frames *fr)
{
	FILE *f = fopen(path, "rb");
	uint32_t gh[6];
	size_t cap = 1 << 16, dcap = 1 << 24, used = 0;
	int nsec;

	if (f == NULL || fread(gh, 4, 6, f) != 6) {
		fprintf(stderr, "bench_engine: cannot read %s\n", path);
		return -1;
	}
	if (gh[0] != 0xa1b2c3d4 && gh[0] != 0xa1b23c4d) {
		fprintf(stderr, "bench_engine: %s: not a little-endian classic pcap\n", path);
		return -1;
	}
	nsec = gh[0] == 0xa1b23c4d;
	fr->data = malloc(dcap);
	fr->off = malloc(cap * 4);
	fr->len = malloc(cap * 4);
	fr->ts = malloc(cap * 8);
	fr->n = 0;
	for (;;) {
		uint32_t rh[4];

		if (fread(rh, 4, 4, f) != 4)
			break;
		if (fr->n == cap) {
			cap *= 2;
			fr->off = realloc(fr->off, cap * 4);
			fr->len = realloc(fr->len, cap * 4);
			fr->ts = realloc(fr->ts, cap * 8);
		}
		while (used + rh[2] > dcap) {
			dcap *= 2;
			fr->data = realloc(fr->data, dcap);
		}
		if (fr->data == NULL || fr->off == NULL || fr->len == NULL || fr->ts == NULL ||
				fread(fr->data + used, 1, rh[2], f) != rh[2])
			break;
		fr->off[fr->n] = (uint32_t)used;
		fr->len[fr->n] = rh[2];
		fr->ts[fr->n] = (uint64_t)rh[0] * TCPA_NS_PER_S + (uint64_t)rh[1] * (nsec ? 1 : 1000);
		fr->n++;
		used += rh[2];
	}
	fclose(f);
	return fr->n > 0 ? 0 : -1;
}

static void *
big_alloc(size_t len)
{
	void *p;

	/* Transparent huge pages where the kernel allows: as the appliance's hugepages. */
	len = (len + (2u << 20) - 1) & ~(size_t)((2u << 20) - 1);
	p = aligned_alloc(2u << 20, len);
	if (p != NULL) {
		madvise(p, len, MADV_HUGEPAGE);
		memset(p, 0, len);
	}
	return p;
}

int
main(int argc, char **argv)
{
	struct tcpa_engine_conf ec;
	struct tcpa_engine *e;
	struct frames fr;
	struct tcpa_pkt pk[TCPA_BURST];
	double seconds = 5;
	unsigned long loops = 0;
	int parse_only = 0;
	uint64_t pkts = 0, cyc = 0, shift = 0, span;
	struct timespec t0, t1;

	memset(&ec, 0, sizeof(ec));
	ec.flows = 1 << 20;
	ec.endpoints = 1 << 16;
	if (argc < 2) {
		fprintf(stderr, "usage: bench_engine FILE.pcap [--flows N] [--seconds S] "
			"[--loops N] [--parse-only] [--no-rules]\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--flows") == 0 && i + 1 < argc)
			ec.flows = (uint32_t)strtoul(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			seconds = strtod(argv[++i], NULL);
		else if (strcmp(argv[i], "--loops") == 0 && i + 1 < argc)
			loops = strtoul(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "--parse-only") == 0)
			parse_only = 1;
		else if (strcmp(argv[i], "--no-rules") == 0)
			ec.anom.off = 1;
		else {
			fprintf(stderr, "bench_engine: unknown argument %s\n", argv[i]);
			return 2;
		}
	}
	if (load_pcap(argv[1], &fr) != 0)
		return 1;
	for (unsigned c = 0; c < TCPA_FLOW_TMO_MAX; c++)
		ec.timeout_ms[c] = 3600 * 1000;
	/* The configuration's default thresholds (docs/CONFIG.md); --no-rules may have set off. */
	ec.anom.close_wait_ms = 5000;
	ec.anom.idle_close_ms = 2000;
	ec.anom.syn_timeout_ms = 3000;
	ec.anom.nagle_us = 30000;
	ec.anom.min_rto_us = 200000;
	ec.anom.reorder_us = 3000;
	tcpa_hash_secret_init(&ec.secret, 7);
	e = tcpa_engine_init(big_alloc(tcpa_engine_memsize(&ec)), &ec);
	if (e == NULL) {
		fprintf(stderr, "bench_engine: engine init failed\n");
		return 1;
	}
	span = fr.ts[fr.n - 1] - fr.ts[0] + TCPA_NS_PER_MS;
	plan_replay(&fr, &ec.secret);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned long loop = 0; loops == 0 || loop < loops; loop++) {
		for (size_t i = 0; i < fr.n; i += TCPA_BURST) {
			uint16_t n = 0;
			uint64_t c0 = __rdtsc();

			for (size_t j = i; j < fr.n && j < i + TCPA_BURST; j++) {
				struct tcpa_pkt *p = &pk[n];

				if (tcpa_pkt_parse(fr.data + fr.off[j], fr.len[j], p) != TCPA_PKT_OK)
					continue;
				if (loop != 0) {
					if (p->tcp_flags & TCPA_TCP_SYN)
						continue;
					p->seq += (uint32_t)loop * fr.dir[j];
					p->ack += (uint32_t)loop * fr.rev[j];
				}
				/* Replays move on in time, as a live stream would. */
				p->ts = fr.ts[j] + shift;
				p->rxc = 0;
				tcpa_engine_hash(p, &ec.secret);
				n++;
			}
			if (!parse_only) {
				tcpa_engine_input_burst(e, pk, n);
				tcpa_engine_age(e, 0);
			}
			cyc += __rdtsc() - c0;
			pkts += n;
		}
		shift += span;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (loops == 0 && (double)(t1.tv_sec - t0.tv_sec) +
				(double)(t1.tv_nsec - t0.tv_nsec) / 1e9 >= seconds)
			break;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	{
		double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

		const struct tcpa_stats *st = tcpa_engine_stats(e);
		uint64_t an = 0;

		for (unsigned a = 0; a < TCPA_ANOM_MAX; a++)
			an += st->anom[a];
		printf("bench_engine: %zu frames, %lu segments in %.2f s: %.2f Mpps, %.1f cycles/packet "
			"(%s), flows %u, anomalies %lu, unexpected %lu\n", fr.n, (unsigned long)pkts,
			wall, (double)pkts / wall / 1e6, (double)cyc / (double)pkts,
			parse_only ? "parse+hash only" : "full engine",
			tcpa_flow_count(tcpa_engine_flows(e)), (unsigned long)an,
			(unsigned long)st->tcp_unexpected);
	}
	return 0;
}
