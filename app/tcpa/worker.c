/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RX lcore loop.
 *
 * Every RX lcore reads its queues, parses each frame once into a struct
 * tcpa_pkt, frees the mbuf at once, and sends the segment to the core that
 * owns its connection (tcpa_flow_owner of the symmetric hash): its own
 * engine, or another core's lock-free single-producer/single-consumer ring
 * of tcpa_pkt values. So RSS-less ports (pcap, af_packet) still spread
 * connections over all RX cores, and a NIC whose RSS is not symmetric
 * loses nothing (counted as wrong_core by the engine).
 *
 * Offline (capture replay) the loop is lossless: it does not read its
 * queues while a ring it may need lacks room for a burst. Live it never
 * waits: a full ring drops and counts (ring_full).
 */
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_pause.h>
#include <rte_prefetch.h>

#include "tcpa_app.h"
#include "tcpa_pkt.h"

struct ctl_flags tcpa_ctl;

struct outbuf {
	uint16_t n;
	struct tcpa_pkt pk[TCPA_BURST];
};

static inline uint64_t
live_ns(const struct worker *w, uint64_t tsc)
{
	return w->ns0 + (uint64_t)(((__uint128_t)(tsc - w->tsc0) * w->ts_mult) >> 32);
}

static inline uint64_t
pkt_time(const struct worker *w, const struct rte_mbuf *m, uint64_t now)
{
	/* The pcap driver stamps capture time in microseconds. */
	if (w->ts_off >= 0 && (m->ol_flags & w->ts_flag))
		return *RTE_MBUF_DYNFIELD(m, w->ts_off, rte_mbuf_timestamp_t *) * 1000;
	return now;
}

static bool
rings_have_room(const struct worker *w)
{
	for (unsigned j = 0; j < w->nworkers; j++)
		if (w->out[j] != NULL && rte_ring_free_count(w->out[j]) < TCPA_BURST)
			return false;
	return true;
}

static void
flush_out(struct worker *w, struct outbuf *ob, struct tcpa_stats *st)
{
	for (unsigned j = 0; j < w->nworkers; j++) {
		unsigned n = ob[j].n, sent;

		if (n == 0)
			continue;
		sent = rte_ring_enqueue_burst_elem(w->out[j], ob[j].pk, sizeof(struct tcpa_pkt),
				n, NULL);
		st->dispatched += sent;
		st->ring_full += n - sent;
		ob[j].n = 0;
	}
}

/* Parse one burst of frames; keep own segments in @local, queue the rest. */
static uint16_t
classify(struct worker *w, struct rte_mbuf **mb, uint16_t n, uint64_t now,
		struct tcpa_pkt *local, struct outbuf *ob, struct tcpa_stats *st)
{
	uint16_t nl = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = mb[i];
		struct tcpa_pkt *p;
		enum tcpa_pkt_verdict v;
		unsigned owner;

		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(mb[i + 1], void *));
		st->rx_pkts++;
		st->rx_bytes += m->pkt_len;
		/* Write in place; it stays only if it is ours. */
		p = &local[nl];
		v = tcpa_pkt_parse(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, p);
		if (unlikely(v != TCPA_PKT_OK)) {
			st->malformed[v]++;
			continue;
		}
		p->wire_len = m->pkt_len;
		p->ts = pkt_time(w, m, now);
		p->rxc = (uint8_t)w->idx;
		tcpa_engine_hash(p, w->secret);
		owner = w->nworkers == 1 ? 0 : tcpa_flow_owner(p->hash, w->nworkers);
		if (owner == w->idx) {
			nl++;
		} else {
			struct outbuf *o = &ob[owner];

			o->pk[o->n++] = *p;
		}
	}
	return nl;
}

static void
read_queues(struct worker *w, struct outbuf *ob, struct tcpa_stats *st)
{
	struct rte_mbuf *mb[TCPA_BURST];
	struct tcpa_pkt local[TCPA_BURST];

	for (unsigned q = 0; q < w->nrxq; q++) {
		uint16_t n, nl;
		uint64_t tsc;

		if (w->offline && !rings_have_room(w))
			return;
		n = rte_eth_rx_burst(w->rxq[q].port, w->rxq[q].queue, mb, TCPA_BURST);
		if (n == 0)
			continue;
		tsc = rte_rdtsc();
		if (unlikely(w->rx_only)) {
			st->rx_pkts += n;
			rte_pktmbuf_free_bulk(mb, n);
			w->got += n;
			continue;
		}
		nl = classify(w, mb, n, live_ns(w, tsc), local, ob, st);
		rte_pktmbuf_free_bulk(mb, n);
		w->got += n;
		flush_out(w, ob, st);
		if (nl != 0)
			tcpa_engine_input_burst(w->eng, local, nl);
		w->busy_tsc += rte_rdtsc() - tsc;
	}
}

/* Segments other cores sent us. @return how many. */
static unsigned
read_rings(struct worker *w)
{
	struct tcpa_pkt pk[TCPA_BURST];
	unsigned total = 0;

	for (unsigned j = 0; j < w->nworkers; j++) {
		unsigned n;
		uint64_t tsc;

		if (w->in[j] == NULL)
			continue;
		n = rte_ring_dequeue_burst_elem(w->in[j], pk, sizeof(pk[0]), TCPA_BURST, NULL);
		if (n == 0)
			continue;
		tsc = rte_rdtsc();
		tcpa_engine_input_burst(w->eng, pk, (uint16_t)n);
		w->busy_tsc += rte_rdtsc() - tsc;
		total += n;
	}
	return total;
}

void
tcpa_worker_publish(struct worker *w)
{
	const struct tcpa_stats *st = tcpa_engine_stats(w->eng);
	uint32_t seq = w->pub_seq;

	/* Seqlock writer: odd while copying; plain stores, no lock prefix. */
	__atomic_store_n(&w->pub_seq, seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy(&w->pub, st, sizeof(w->pub));
	w->pub.flows_active = tcpa_flow_count(tcpa_engine_flows(w->eng));
	__atomic_store_n(&w->pub_seq, seq + 2, __ATOMIC_RELEASE);
}

void
tcpa_worker_stats(const struct worker *w, struct tcpa_stats *out)
{
	for (;;) {
		uint32_t s1 = __atomic_load_n(&w->pub_seq, __ATOMIC_ACQUIRE);

		if ((s1 & 1) == 0) {
			memcpy(out, &w->pub, sizeof(*out));
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (__atomic_load_n(&w->pub_seq, __ATOMIC_RELAXED) == s1)
				return;
		}
		rte_pause();
	}
}

int
tcpa_worker_main(void *arg)
{
	struct worker *w = arg;
	struct tcpa_stats *st = tcpa_engine_stats(w->eng);
	struct outbuf ob[TCPA_MAX_WORKERS];

	for (unsigned j = 0; j < TCPA_MAX_WORKERS; j++)
		ob[j].n = 0;
	if (w->nrxq == 0 || (w->offline && w->expect == 0))
		__atomic_store_n(&w->reader_done, 1, __ATOMIC_RELEASE);

	while (!__atomic_load_n(&tcpa_ctl.stop, __ATOMIC_RELAXED)) {
		unsigned from_rings;
		uint64_t tsc;

		if (!w->reader_done) {
			read_queues(w, ob, st);
			if (w->offline && w->got >= w->expect)
				__atomic_store_n(&w->reader_done, 1, __ATOMIC_RELEASE);
		}
		from_rings = read_rings(w);
		/* Offline, packet time drives expiry; live, the clock does. */
		tsc = rte_rdtsc();
		tcpa_engine_age(w->eng, w->offline ? 0 : live_ns(w, tsc));
		if (tsc >= w->pub_next) {
			tcpa_worker_publish(w);
			w->pub_next = tsc + w->pub_period;
		}
		/* Done when every reader is done and our rings are drained. */
		if (w->offline && from_rings == 0 &&
				__atomic_load_n(&tcpa_ctl.readers_done, __ATOMIC_ACQUIRE)) {
			if (read_rings(w) == 0)
				break;
		}
	}
	if (w->offline && !__atomic_load_n(&tcpa_ctl.stop, __ATOMIC_RELAXED))
		tcpa_engine_finish(w->eng);
	st->flows_active = tcpa_flow_count(tcpa_engine_flows(w->eng));
	tcpa_worker_publish(w);
	__atomic_store_n(&w->finished, 1, __ATOMIC_RELEASE);
	return 0;
}
