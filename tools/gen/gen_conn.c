/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One connection of tcpa-gen: its 4-tuple, family, ISNs and file, and its
 * segments written to the capture; the malformed frames spread among them.
 */
#include <stdint.h>
#include <string.h>

#include "tcpa_common.h"
#include "tcpa_flow.h"
#include "tcpa_pkt.h"

#include "gen.h"

#define PORT_FIRST      32768u  /* the first client port of each client */

/* Each fate's end states: [client, server]. */
static const uint8_t fate_end[GEN_FATE_MAX][2] = {
	[GEN_FATE_fin_client] = { GEN_ST_TIME_WAIT, GEN_ST_NONE },
	[GEN_FATE_fin_server] = { GEN_ST_NONE, GEN_ST_TIME_WAIT },
	[GEN_FATE_leak]       = { GEN_ST_FIN_WAIT_2, GEN_ST_CLOSE_WAIT },
	[GEN_FATE_open]       = { GEN_ST_ESTABLISHED, GEN_ST_ESTABLISHED },
	[GEN_FATE_rst]        = { GEN_ST_NONE, GEN_ST_NONE },
	[GEN_FATE_refused]    = { GEN_ST_NONE, GEN_ST_NONE },
	[GEN_FATE_unanswered] = { GEN_ST_SYN_SENT, GEN_ST_NONE },
	[GEN_FATE_half_open]  = { GEN_ST_ESTABLISHED, GEN_ST_SYN_RECEIVED },
	[GEN_FATE_midstream]  = { GEN_ST_ESTABLISHED, GEN_ST_ESTABLISHED },
};

static inline void
mark_time(struct gen *g, uint64_t t)
{
	if (!g->any_pkt) {
		g->t_first = t;
		g->any_pkt = 1;
	}
	g->t_last = t;
}

/* Malformed frames are spread evenly over the segments. */
static void
malformed_due(struct gen *g, uint64_t t)
{
	while (g->mal_done < g->a.malformed && g->tcp_pkts >= g->mal_next) {
		enum gen_mal kind = (enum gen_mal)(g->mal_done % GEN_MAL_MAX);

		gen_out_malformed(&g->out[g->mal_done % g->nout], t, &g->l2, kind,
			(uint32_t)g->mal_done);
		g->mal[kind]++;
		g->mal_done++;
		g->mal_next += g->mal_every;
		mark_time(g, t);
	}
	if (g->mal_done == g->a.malformed)
		g->mal_next = UINT64_MAX;
}

void
gen_malformed_rest(struct gen *g)
{
	g->mal_next = g->tcp_pkts;
	g->mal_every = 0;
	malformed_due(g, g->t_last);
}

/* The addresses, ports and flow label of a segment of @p c sent by @p side. */
static inline void
seg_ends(const struct gen *g, const struct gen_conn *c, unsigned side, struct gen_seg *s)
{
	int v6 = (c->flags & GEN_CF_V6) != 0;
	const uint8_t *cip = v6 ? g->cli6[c->cli] : g->cli4[c->cli];
	const uint8_t *sip = v6 ? g->srv6[c->srv] : g->srv4[c->srv];

	s->src = side == 0 ? cip : sip;
	s->dst = side == 0 ? sip : cip;
	s->smac = side == 0 ? g->climac[c->cli] : g->srvmac[c->srv];
	s->dmac = side == 0 ? g->srvmac[c->srv] : g->climac[c->cli];
	s->sport = side == 0 ? c->cport : g->srvport[c->srv];
	s->dport = side == 0 ? g->srvport[c->srv] : c->cport;
	s->v6 = (uint8_t)v6;
	s->flow_label = (c->tsbase[side] >> 7) & 0xfffff;
}

void
gen_emit_seg(struct gen *g, struct gen_conn *c, uint64_t t, unsigned side, uint8_t flags,
		uint32_t seq, uint32_t ack, uint32_t plen, uint8_t opts, uint16_t win,
		const struct gen_imp_seg *x)
{
	struct gen_seg s;

	seg_ends(g, c, side, &s);
	s.seq = seq;
	s.ack = ack;
	s.flags = flags;
	s.win = win;
	s.payload_len = (uint16_t)plen;
	s.opts = opts;
	s.sack_lo = 0;
	s.sack_hi = 0;
	if (x != NULL && (x->mode & GEN_XM_FIXED)) {
		s.ip_id = x->ipid;
		s.tsval = x->tsval;
		s.tsecr = x->tsecr;
	} else {
		s.ip_id = c->ipid[side]++;
		s.tsval = c->tsbase[side] + (uint32_t)(t / GEN_NS_PER_MS);
		s.tsecr = (flags & TCPA_TCP_ACK) != 0 ? c->tslast[!side] : 0;
	}
	if (x != NULL && x->sack_lo != x->sack_hi) {
		s.opts = GEN_OPT_TS_SACK;
		s.sack_lo = x->sack_lo;
		s.sack_hi = x->sack_hi;
	}
	c->tslast[side] = s.tsval;
	if (x != NULL && (x->mode & GEN_XM_HIDDEN)) {
		gen_obs_hidden(g, c, side);
		return;
	}
	gen_out_tcp(&g->out[c->file], t, &g->l2, &s);
	g->tcp_pkts++;
	mark_time(g, t);
	if (unlikely(g->imp != NULL))
		gen_obs_segment(g, c, t, side, flags, seq, ack, plen, win, x);
	if (unlikely(g->tcp_pkts >= g->mal_next))
		malformed_due(g, t);
}

/* The --split file of @p c: that of the core tcpa would give it; 0 without --split. */
static unsigned
split_owner(struct gen *g, const struct gen_conn *c)
{
	struct tcpa_pkt p;
	struct tcpa_flow_key key;
	uint64_t h;

	if (g->a.split == 0)
		return 0;
	memset(&p, 0, sizeof(p));
	if (c->flags & GEN_CF_V6) {
		memcpy(p.src.b, g->cli6[c->cli], 16);
		memcpy(p.dst.b, g->srv6[c->srv], 16);
		p.family = 6;
	} else {
		tcpa_ip_set_v4(&p.src, g->cli4[c->cli]);
		tcpa_ip_set_v4(&p.dst, g->srv4[c->srv]);
		p.family = 4;
	}
	p.sport = c->cport;
	p.dport = g->srvport[c->srv];
	/* As the parser keeps tags: (outer << 12) | inner; a single tag alone. */
	if (g->l2.ntags == 2)
		p.zone = (uint32_t)g->l2.tag[0] << 12 | g->l2.tag[1];
	else if (g->l2.ntags == 1)
		p.zone = g->l2.tag[0];
	tcpa_flow_key_make(&p, &key);
	h = tcpa_flow_key_hash(&key, &g->secret);
	return tcpa_flow_owner(h, g->a.split);
}

/*
 * Tuple of connection number k. Clients in turn; each client's ports count
 * up from 32768; after 32768 ports a client's (addr, port) pairs move to the
 * next server endpoint, so no 4-tuple ever repeats.
 */
static void
tuple(struct gen *g, struct gen_conn *c, uint64_t k)
{
	uint32_t nc = g->a.clients, ns = g->a.servers;
	uint64_t q = k / nc;
	uint32_t port = (uint32_t)(q % GEN_PORT_COUNT);
	uint64_t epoch = q / GEN_PORT_COUNT;
	uint64_t x = g->a.seed ^ (k % nc) << 20 ^ port;
	uint32_t base = (uint32_t)(tcpa_splitmix64(&x) % ns);

	c->k = (uint32_t)k;
	c->cli = (uint16_t)(k % nc);
	c->cport = (uint16_t)(PORT_FIRST + port);
	c->srv = (uint16_t)((base + epoch) % ns);
}

/* Common to every connection: tuple, family, ISNs, file; truth counted. */
void
gen_conn_init(struct gen *g, struct gen_conn *c, uint8_t fate)
{
	uint64_t k = g->started++;
	int v6;

	memset(c, 0, sizeof(*c));
	tuple(g, c, k);
	v6 = g->a.ipv6_pct != 0 && gen_rnd_below(g, 100) < g->a.ipv6_pct;
	c->flags = v6 ? GEN_CF_V6 : 0;
	c->nxt[0] = gen_rnd32(g);
	c->nxt[1] = gen_rnd32(g);
	c->tsbase[0] = gen_rnd32(g);
	c->tsbase[1] = gen_rnd32(g);
	c->ipid[0] = (uint16_t)gen_rnd32(g);
	c->ipid[1] = (uint16_t)gen_rnd32(g);
	c->fate = fate;
	c->file = (uint16_t)split_owner(g, c);
	g->fates[fate]++;
	g->flows++;
	if (fate_end[fate][0] != GEN_ST_NONE)
		g->cst[v6][c->cli][fate_end[fate][0]]++;
	if (fate_end[fate][1] != GEN_ST_NONE)
		g->sst[v6][c->srv][fate_end[fate][1]]++;
}
