/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ground truth of tcpa-gen (--truth) as JSON: the generator's
 * arguments, the totals, the impairments and anomalies, the --split files,
 * and the live sockets each endpoint holds at the end of the capture. The
 * key order is fixed: the file is a pure function of the arguments.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "gen.h"

/* Endpoint state names, RFC 9293 spelling; CLOSED is never listed. */
static const char *const st_name[GEN_ST_MAX] = {
	"CLOSED",
#define X(s) #s,
	GEN_STATES(X)
#undef X
};

static void
json_str(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(fp, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(fp, "\\u%04x", ch);
		else
			fputc(ch, fp);
	}
	fputc('"', fp);
}

static void
json_endpoint(FILE *fp, int *first, const char *key, const char *role, const uint64_t *st)
{
	unsigned i, any = 0;

	for (i = 1; i < GEN_ST_MAX; i++)
		any |= st[i] != 0;
	if (!any)
		return;
	fprintf(fp, "%s\n    ", *first ? "" : ",");
	*first = 0;
	json_str(fp, key);
	fprintf(fp, ": {\"role\": \"%s\", \"states\": {", role);
	any = 0;
	for (i = 1; i < GEN_ST_MAX; i++) {
		if (st[i] == 0)
			continue;
		fprintf(fp, "%s\"%s\": %" PRIu64, any ? ", " : "", st_name[i], st[i]);
		any = 1;
	}
	fprintf(fp, "}}");
}

static void
generator(FILE *fp, const struct gen *g)
{
	const struct gen_args *a = &g->a;
	unsigned i;

	fprintf(fp, "  \"generator\": {\"tool\": \"tcpa-gen\", \"version\": 1, ");
	fprintf(fp, "\"mode\": \"%s\", \"output\": ", a->bench ? "bench" : "lifecycle");
	json_str(fp, a->out);
	fprintf(fp, ", \"seed\": %" PRIu64 ", \"conns\": %" PRIu64 ", \"concurrent\": %" PRIu64
		", \"data\": %u, \"req\": %u, \"resp\": %u, \"mix\": {",
		a->seed, a->conns, a->concurrent, a->data, a->req, a->resp);
	for (i = 0; i < GEN_FATE_MIX_MAX; i++)
		fprintf(fp, "%s\"%s\": %u", i != 0 ? ", " : "", gen_fate_name[i], a->weight[i]);
	fprintf(fp, "}, \"midstream\": %" PRIu64 ", \"ipv6\": %u, ", a->midstream, a->ipv6_pct);
	if (a->vlan >= 0)
		fprintf(fp, "\"vlan\": %d, ", a->vlan);
	else
		fprintf(fp, "\"vlan\": null, ");
	if (a->qinq_outer >= 0)
		fprintf(fp, "\"qinq\": \"%d:%d\", ", a->qinq_outer, a->qinq_inner);
	else
		fprintf(fp, "\"qinq\": null, ");
	fprintf(fp, "\"malformed\": %" PRIu64 ", \"clients\": %u, \"servers\": %u, "
		"\"bench\": %s, \"bench_packets\": %" PRIu64 ", \"split\": %u, "
		"\"hash_seed\": %" PRIu64 ", \"epoch\": %u, \"gap_ns\": %" PRIu64
		", \"syn_rtx_ns\": %" PRIu64 ", \"first_ts\": %u.%06u, \"last_ts\": %u.%06u, "
		"\"duration_s\": %.6f},\n",
		a->malformed, a->clients, a->servers, a->bench ? "true" : "false",
		a->bench ? a->packets : 0, a->split, a->hash_seed, GEN_EPOCH_S, g->gap_ns,
		g->rtx_ns,
		GEN_EPOCH_S + (unsigned)(g->t_first / GEN_NS_PER_S),
		(unsigned)(g->t_first % GEN_NS_PER_S / 1000),
		GEN_EPOCH_S + (unsigned)(g->t_last / GEN_NS_PER_S),
		(unsigned)(g->t_last % GEN_NS_PER_S / 1000),
		(double)(g->t_last / 1000 - g->t_first / 1000) / 1e6);
}

static void
impairments(FILE *fp, const struct gen *g)
{
	static const char *const imp_opt[GEN_IMP_MAX] = { "loss", "tap_loss", "dup", "reorder" };
	static const char *const anom_name[GEN_AN_MAX] = {
#define X(n) #n,
		GEN_ANOMS(X)
#undef X
	};
	static const char *const ap_name[GEN_AP_MAX] = {
#define X(n) #n,
		GEN_APPLIED(X)
#undef X
	};
	unsigned i;

	fprintf(fp, "  \"impairments\": {");
	for (i = 0; i < GEN_IMP_MAX; i++)
		fprintf(fp, "\"%s\": %u.%03u, ", imp_opt[i], g->a.imp_pct[i] / GEN_PCT_ONE,
			g->a.imp_pct[i] % GEN_PCT_ONE);
	fprintf(fp, "\"rto_ms\": %u, \"applied\": {", (unsigned)(GEN_RTO_NS / GEN_NS_PER_MS));
	for (i = 0; i < GEN_AP_MAX; i++)
		fprintf(fp, "%s\"%s\": %" PRIu64, i != 0 ? ", " : "", ap_name[i], g->applied[i]);
	fprintf(fp, "}, \"check_failures\": %" PRIu64 "},\n", g->imp_bad);
	fprintf(fp, "  \"anomalies\": {");
	for (i = 0; i < GEN_AN_MAX; i++)
		fprintf(fp, "%s\"%s\": %" PRIu64, i != 0 ? ", " : "", anom_name[i], g->anom[i]);
	fprintf(fp, "},\n  \"wireshark_4_0\": {");
	for (i = 0; i < GEN_AN_MAX; i++)
		fprintf(fp, "%s\"%s\": %" PRIu64, i != 0 ? ", " : "", anom_name[i], g->ws_anom[i]);
	fprintf(fp, "},\n  \"anomalies_exclusive\": {");
	for (i = 0; i < GEN_AN_MAX; i++)
		fprintf(fp, "%s\"%s\": %" PRIu64, i != 0 ? ", " : "", anom_name[i],
			i == GEN_AN_retransmission ?
			g->anom[i] - g->anom[GEN_AN_fast_retransmission] : g->anom[i]);
	fprintf(fp, "},\n");
}

/* Frame counts, malformed frames by reason, connections by fate. */
static void
totals(FILE *fp, const struct gen *g)
{
	static const char *const mal_name[GEN_MAL_MAX] = {
#define X(n) #n,
		GEN_MALFORMED(X)
#undef X
	};
	uint64_t frames = 0;
	uint32_t i;

	for (i = 0; i < g->nout; i++)
		frames += g->out[i].frames;
	fprintf(fp, "  \"packets\": %" PRIu64 ",\n  \"tcp_packets\": %" PRIu64
		",\n  \"flows\": %" PRIu64 ",\n  \"malformed\": {", frames, g->tcp_pkts, g->flows);
	for (i = 0; i < GEN_MAL_MAX; i++)
		fprintf(fp, "%s\"%s\": %" PRIu64, i != 0 ? ", " : "", mal_name[i], g->mal[i]);
	fprintf(fp, "},\n  \"fates\": {");
	for (i = 0; i < GEN_FATE_MAX; i++)
		fprintf(fp, "%s\"%s\": %" PRIu64, i != 0 ? ", " : "", gen_fate_name[i],
			g->fates[i]);
	fprintf(fp, "},\n");
}

static void
split_files(FILE *fp, const struct gen *g)
{
	uint32_t i;

	fprintf(fp, "  \"split\": {\"files\": [");
	for (i = 0; i < g->nout; i++) {
		fprintf(fp, "%s", i != 0 ? ", " : "");
		json_str(fp, g->out[i].path);
	}
	fprintf(fp, "], \"packets\": [");
	for (i = 0; i < g->nout; i++)
		fprintf(fp, "%s%" PRIu64, i != 0 ? ", " : "", g->out[i].frames);
	fprintf(fp, "]},\n");
}

/* The live sockets of each endpoint: servers, then clients; IPv4, then IPv6. */
static void
endpoints(FILE *fp, const struct gen *g)
{
	char addr[INET6_ADDRSTRLEN], key[INET6_ADDRSTRLEN + 16];
	int first = 1, f;
	uint32_t i;

	fprintf(fp, "  \"endpoints\": {");
	for (f = 0; f < 2; f++) {
		for (i = 0; i < g->a.servers; i++) {
			inet_ntop(f ? AF_INET6 : AF_INET, f ? (const void *)g->srv6[i] :
				(const void *)g->srv4[i], addr, sizeof(addr));
			snprintf(key, sizeof(key), f ? "[%s]:%u" : "%s:%u", addr, g->srvport[i]);
			json_endpoint(fp, &first, key, "server", g->sst[f][i]);
		}
	}
	for (f = 0; f < 2; f++) {
		for (i = 0; i < g->a.clients; i++) {
			inet_ntop(f ? AF_INET6 : AF_INET, f ? (const void *)g->cli6[i] :
				(const void *)g->cli4[i], addr, sizeof(addr));
			json_endpoint(fp, &first, addr, "client", g->cst[f][i]);
		}
	}
	fprintf(fp, "%s}\n", first ? "" : "\n  ");
}

int
gen_truth_write(const struct gen *g)
{
	FILE *fp = fopen(g->a.truth, "w");
	int rc;

	if (fp == NULL) {
		fprintf(stderr, "tcpa-gen: cannot open %s: %s\n", g->a.truth, strerror(errno));
		return -errno;
	}
	fprintf(fp, "{\n");
	generator(fp, g);
	totals(fp, g);
	if (g->a.imp_on)
		impairments(fp, g);
	if (g->a.split != 0)
		split_files(fp, g);
	endpoints(fp, g);
	fprintf(fp, "}\n");
	rc = ferror(fp) ? -EIO : 0;
	if (fclose(fp) != 0 && rc == 0)
		rc = -errno;
	if (rc != 0)
		fprintf(stderr, "tcpa-gen: writing %s failed\n", g->a.truth);
	return rc;
}
