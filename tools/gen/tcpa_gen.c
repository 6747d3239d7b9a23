/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcpa-gen: synthetic pcap captures with known ground truth.
 *
 * Lifecycle mode (default, gen_lc.c): --conns connections, at most
 * --concurrent of them in progress at once, each living out a fate drawn
 * from --mix (a clean close by either side, a leak, left open, reset,
 * refused, SYN unanswered, half open), plus --midstream connections whose
 * handshake is not in the capture. The generator knows the state each
 * endpoint's kernel holds at the end of the capture and writes it as the
 * ground truth (gen_truth.c).
 *
 * Benchmark mode (--bench, gen_bench.c): --concurrent established
 * connections (their handshakes first), then a steady stream of 6-byte
 * data segments and pure ACKs on connections picked at random, --packets
 * segments in all.
 *
 * --split K writes K files, each connection going to the file of the core
 * the appliance would give it (the project's own flow hash and owner rule).
 *
 * Impairments (--loss, --tap-loss, --dup, --reorder; lifecycle mode;
 * gen_imp.c): a data segment drawn for one becomes a short scripted
 * episode. An observer (gen_obs.c) fed every frame written counts the
 * ANOMALIES.md flags the capture holds. Impairment draws use their own
 * PRNG stream, so with every rate 0 the capture is the one without them.
 *
 * Output is a pure function of the arguments: same arguments, same bytes.
 *
 * This file: setup, the address tables, the output files, the summary.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpa_common.h"
#include "tcpa_flow.h"

#include "gen.h"

#define WARN_NS         (30 * GEN_NS_PER_S) /* tcpa's handshake idle timeout */

static const uint16_t server_ports[4] = { 80, 443, 3306, 8080 };

static void
host4(uint8_t *ip, uint8_t net, uint32_t i)
{
	ip[0] = 10;
	ip[1] = net;
	ip[2] = (uint8_t)(i / 250);
	ip[3] = (uint8_t)(i % 250 + 1);
}

static void
host6(uint8_t *ip, uint8_t net, uint32_t i)
{
	memset(ip, 0, 16);
	ip[0] = 0xfd;
	ip[13] = net;
	ip[14] = (uint8_t)((i + 1) >> 8);
	ip[15] = (uint8_t)(i + 1);
}

static void
host_mac(uint8_t *mac, uint8_t net, uint32_t i)
{
	mac[0] = 0x02;
	mac[1] = 0x00;
	mac[2] = 0x0a;
	mac[3] = net;
	mac[4] = (uint8_t)(i >> 8);
	mac[5] = (uint8_t)i;
}

static int
addr_init(struct gen *g)
{
	uint32_t nc = g->a.clients, ns = g->a.servers;
	uint32_t i;
	int f;

	g->cli4 = calloc(nc, sizeof(*g->cli4));
	g->cli6 = calloc(nc, sizeof(*g->cli6));
	g->climac = calloc(nc, sizeof(*g->climac));
	g->srv4 = calloc(ns, sizeof(*g->srv4));
	g->srv6 = calloc(ns, sizeof(*g->srv6));
	g->srvmac = calloc(ns, sizeof(*g->srvmac));
	g->srvport = calloc(ns, sizeof(*g->srvport));
	for (f = 0; f < 2; f++) {
		g->cst[f] = calloc(nc, sizeof(*g->cst[f]));
		g->sst[f] = calloc(ns, sizeof(*g->sst[f]));
		if (g->cst[f] == NULL || g->sst[f] == NULL)
			return -ENOMEM;
	}
	if (g->cli4 == NULL || g->cli6 == NULL || g->climac == NULL || g->srv4 == NULL ||
			g->srv6 == NULL || g->srvmac == NULL || g->srvport == NULL)
		return -ENOMEM;
	for (i = 0; i < nc; i++) {
		host4(g->cli4[i], 1, i);
		host6(g->cli6[i], 1, i);
		host_mac(g->climac[i], 1, i);
	}
	for (i = 0; i < ns; i++) {
		host4(g->srv4[i], 2, i);
		host6(g->srv6[i], 2, i);
		host_mac(g->srvmac[i], 2, i);
		g->srvport[i] = server_ports[i % TCPA_ARRAY_SIZE(server_ports)];
	}
	return 0;
}


/* FILE with ".IDX" inserted before the extension of its last component. */
static char *
split_name(const char *path, unsigned idx)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash != NULL ? slash + 1 : path;
	const char *dot = strrchr(base, '.');
	size_t n = strlen(path) + 16;
	char *s = malloc(n);

	if (s == NULL)
		return NULL;
	if (dot == NULL || dot == base)
		snprintf(s, n, "%s.%u", path, idx);
	else
		snprintf(s, n, "%.*s.%u%s", (int)(dot - path), path, idx, dot);
	return s;
}

static int
outputs_open(struct gen *g)
{
	uint32_t n = g->a.split != 0 ? g->a.split : 1;
	size_t bufsize = n <= 16 ? (4u << 20) : (1u << 20);
	uint32_t i;

	g->out = calloc(n, sizeof(*g->out));
	if (g->out == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		char *name = g->a.split != 0 ? split_name(g->a.out, i) : strdup(g->a.out);
		int rc;

		if (name == NULL)
			return -ENOMEM;
		rc = gen_out_open(&g->out[i], name, bufsize);
		if (rc != 0) {
			fprintf(stderr, "tcpa-gen: cannot open %s: %s\n", name, strerror(-rc));
			free(name);
			return rc;
		}
		free(name);
		g->nout = i + 1;
	}
	return 0;
}

static int
outputs_close(struct gen *g)
{
	int ret = 0;
	uint32_t i;

	for (i = 0; i < g->nout; i++) {
		int rc = gen_out_close(&g->out[i]);

		if (rc != 0) {
			fprintf(stderr, "tcpa-gen: writing %s: %s\n", g->out[i].path,
				strerror(-rc));
			ret = rc;
		}
	}
	return ret;
}

static void
free_gen(struct gen *g)
{
	uint32_t i;
	int f;

	for (i = 0; i < g->nout; i++)
		free(g->out[i].path);
	free(g->out);
	free(g->cli4);
	free(g->cli6);
	free(g->climac);
	free(g->srv4);
	free(g->srv6);
	free(g->srvmac);
	free(g->srvport);
	for (f = 0; f < 2; f++) {
		free(g->cst[f]);
		free(g->sst[f]);
	}
	free(g);
}

/* Both PRNG streams, the L2 tags, the flow hash secret, the frame builder. */
static void
setup(struct gen *g)
{
	uint64_t x;
	uint32_t i;

	x = g->a.seed;
	for (i = 0; i < 4; i++)
		g->rng[i] = tcpa_splitmix64(&x);
	x = g->a.seed ^ 0x696d706169727321ULL;     /* the impairments' own stream */
	for (i = 0; i < 4; i++)
		g->irng[i] = tcpa_splitmix64(&x);
	if (g->a.vlan >= 0) {
		g->l2.ntags = 1;
		g->l2.tag[0] = (uint16_t)g->a.vlan;
	} else if (g->a.qinq_outer >= 0) {
		g->l2.ntags = 2;
		g->l2.tag[0] = (uint16_t)g->a.qinq_outer;
		g->l2.tag[1] = (uint16_t)g->a.qinq_inner;
	}
	tcpa_hash_secret_init(&g->secret, g->a.hash_seed);
	gen_out_global_init();
	g->mal_next = UINT64_MAX;
}

/* Addresses, files, the capture, the truth. @return 0, or -errno. */
static int
generate(struct gen *g)
{
	int rc;

	rc = addr_init(g);
	if (rc == 0)
		rc = outputs_open(g);
	if (rc == 0)
		rc = g->a.bench ? gen_bench_run(g) : gen_lc_run(g);
	if (rc == -ENOMEM)
		fprintf(stderr, "tcpa-gen: out of memory\n");
	if (outputs_close(g) != 0 && rc == 0)
		rc = -EIO;
	if (rc == 0 && g->a.truth != NULL)
		rc = gen_truth_write(g);
	return rc;
}

/* What was written, and the warnings. @return 0, or -1: the truth is wrong. */
static int
report(const struct gen *g)
{
	uint64_t frames = 0;
	uint32_t i;

	for (i = 0; i < g->nout; i++)
		frames += g->out[i].frames;
	if (g->a.split != 0)
		for (i = 0; i < g->nout; i++)
			printf("%s: %" PRIu64 " packets\n", g->out[i].path, g->out[i].frames);
	printf("tcpa-gen: %" PRIu64 " packets (%" PRIu64 " TCP, %" PRIu64 " malformed), "
		"%" PRIu64 " flows, %.3f s of packet time\n",
		frames, g->tcp_pkts, g->mal_done, g->flows,
		(double)(g->t_last - g->t_first) / 1e9);
	if (g->imp_bad != 0) {
		fprintf(stderr, "tcpa-gen: internal error: %" PRIu64 " impaired segments do not "
			"show in the capture as the truth says (check_failures)\n", g->imp_bad);
		return -1;
	}
	if (g->t_last - g->t_first >= WARN_NS)
		fprintf(stderr, "tcpa-gen: warning: capture lasts %.1f s: tcpa may expire "
			"early handshakes (30 s) before its end\n",
			(double)(g->t_last - g->t_first) / 1e9);
	if (g->t_last - g->t_first >= WARN_NS && g->a.imp_pct[GEN_IMP_LOSS] != 0)
		fprintf(stderr, "tcpa-gen: (--loss: each RTO retransmission waits %u ms and is "
			"never shortened; raise --concurrent or lower --conns or --loss)\n",
			(unsigned)(GEN_RTO_NS / GEN_NS_PER_MS));
	return 0;
}

int
main(int argc, char **argv)
{
	struct gen *g = calloc(1, sizeof(*g));
	int rc;

	if (g == NULL)
		return 1;
	if (gen_args_parse(&g->a, argc, argv) != 0 || gen_args_check(g) != 0) {
		free(g);
		return 2;
	}
	setup(g);
	rc = generate(g);
	if (rc == 0)
		rc = report(g);
	free_gen(g);
	return rc != 0 ? 1 : 0;
}
