/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Benchmark mode of tcpa-gen (--bench): --concurrent established
 * connections (their handshakes first), then a steady stream of 6-byte
 * data segments and pure ACKs on connections picked at random, --packets
 * segments in all. No timestamp option: the data segments and ACKs are
 * minimum-size frames.
 */
#include <errno.h>
#include <stdlib.h>

#include "tcpa_common.h"
#include "tcpa_pkt.h"

#include "gen.h"

#define BENCH_PAYLOAD   6u

/* The handshakes of all @p nc connections, @p dt apart. @return the next packet time. */
static uint64_t
handshakes(struct gen *g, struct gen_conn *conns, uint64_t nc, uint64_t dt)
{
	const uint8_t A = TCPA_TCP_ACK;
	uint64_t i, t = 0;

	for (i = 0; i < nc; i++) {
		struct gen_conn *c = &conns[i];

		gen_conn_init(g, c, GEN_FATE_open);
		gen_emit(g, c, t, 0, TCPA_TCP_SYN, c->nxt[0], 0, 0, GEN_OPT_SYN_NOTS, GEN_SYN_WIN);
		c->nxt[0]++;
		t += dt;
		gen_emit(g, c, t, 1, TCPA_TCP_SYN | A, c->nxt[1], c->nxt[0], 0, GEN_OPT_SYN_NOTS,
			GEN_SYN_WIN);
		c->nxt[1]++;
		t += dt;
		gen_emit(g, c, t, 0, A, c->nxt[0], c->nxt[1], 0, GEN_OPT_NONE, GEN_WIN);
		t += dt;
	}
	return t;
}

/* @p n segments from @p t on, @p dt apart: data on an idle connection, else its ACK. */
static void
traffic(struct gen *g, struct gen_conn *conns, uint64_t nc, uint64_t n, uint64_t t, uint64_t dt)
{
	const uint8_t A = TCPA_TCP_ACK;
	uint64_t i;

	for (i = 0; i < n; i++) {
		struct gen_conn *c = &conns[gen_rnd_below(g, (uint32_t)nc)];

		if (c->phase == 0) {
			unsigned d = gen_rnd32(g) & 1;

			gen_emit(g, c, t, d, TCPA_TCP_PSH | A, c->nxt[d], c->nxt[!d], BENCH_PAYLOAD,
				GEN_OPT_NONE, GEN_WIN);
			c->nxt[d] += BENCH_PAYLOAD;
			c->phase = (uint8_t)(1 + d);
		} else {
			unsigned d = c->phase - 1u;

			gen_emit(g, c, t, !d, A, c->nxt[!d], c->nxt[d], 0, GEN_OPT_NONE, GEN_WIN);
			c->phase = 0;
		}
		t += dt;
	}
}

int
gen_bench_run(struct gen *g)
{
	uint64_t nc = g->a.concurrent, t, dt;
	struct gen_conn *conns = aligned_alloc(TCPA_CACHE_LINE, nc * sizeof(*conns));

	if (conns == NULL)
		return -ENOMEM;
	dt = GEN_TARGET_NS / g->a.packets;
	if (dt > 10000)
		dt = 10000;
	if (dt == 0)
		dt = 1;
	g->mal_every = g->a.packets / (g->a.malformed + 1);
	if (g->mal_every == 0)
		g->mal_every = 1;
	g->mal_next = g->mal_every;

	t = handshakes(g, conns, nc, dt);
	traffic(g, conns, nc, g->a.packets - 3 * nc, t, dt);
	free(conns);
	gen_malformed_rest(g);
	return 0;
}
