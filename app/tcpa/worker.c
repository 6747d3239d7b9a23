/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The RX core loop, for the appliance (an lcore per RX core, frames from
 * port queues) and for capture analysis (a thread per RX core, frames from
 * the capture on the first one).
 *
 * Every RX core reads its sources, parses each frame once into a struct
 * tcpa_pkt, and sends the segment to the core that owns its connection
 * (tcpa_flow_owner of the symmetric hash): its own engine, or another
 * core's lock-free single-producer/single-consumer ring of tcpa_pkt
 * values. So RSS-less sources (a capture, af_packet) still spread
 * connections over all RX cores, and a NIC whose RSS is not symmetric
 * loses nothing (counted as wrong_core by the engine).
 *
 * Capture analysis is lossless: a core does not read its source while a
 * ring it may need lacks room for a burst. Live never waits: a full ring
 * drops and counts (ring_full).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_pause.h>
#include <rte_prefetch.h>

#include "input.h"
#include "tcpa_app.h"
#include "tcpa_pkt.h"

/* Capture analysis publishes its counters every this many bursts. */
#define PUB_BURSTS 64

struct outbuf {
	uint16_t n;
	struct tcpa_pkt pk[TCPA_BURST];
};

uint64_t
tcpa_live_clock_ns(const struct live_clock *k, uint64_t tsc)
{
	const struct live_clock_slot *s = &k->slot[__atomic_load_n(&k->cur, __ATOMIC_ACQUIRE) & 1];

	/*
	 * Signed: a core may have read the TSC just before the control core
	 * moved the anchor past it.
	 */
	return s->ns0 + (uint64_t)(((__int128)(int64_t)(tsc - s->tsc0) * (__int128)s->mult) >> 32);
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
classify(struct worker *w, const struct frame *fr, uint16_t n, struct tcpa_pkt *local,
		struct outbuf *ob, struct tcpa_stats *st)
{
	uint16_t nl = 0;

	for (uint16_t i = 0; i < n; i++) {
		/* Written in place; it stays only if it is ours. */
		struct tcpa_pkt *p = &local[nl];
		enum tcpa_pkt_verdict v;
		unsigned owner;

		if (i + 1 < n)
			rte_prefetch0(fr[i + 1].data);
		st->rx_pkts++;
		st->rx_bytes += fr[i].wirelen;
		/*
		 * With the wire length (a snap length, TSO and BIG TCP segments
		 * whose IP length is 0): as cheap as tcpa_pkt_parse() for Ethernet.
		 */
		v = tcpa_pkt_parse_link(fr[i].linktype, fr[i].data, fr[i].caplen,
			fr[i].wirelen, p);
		if (unlikely(v != TCPA_PKT_OK)) {
			st->malformed[v]++;
			continue;
		}
		p->wire_len = fr[i].wirelen;
		p->ts = fr[i].ts;
		p->rxc = (uint8_t)w->idx;
		/* VLAN tags count as an encapsulation: plain Ethernet skips this. */
		if (unlikely(p->encap != 0)) {
			tcpa_stats_encap(st, p->encap);
			if (!w->zones)  /* tunnel_in_key 0: tags and tunnels tell nothing apart */
				tcpa_pkt_forget_zone(p);
		}
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
analyze(struct worker *w, const struct frame *fr, uint16_t n, struct outbuf *ob,
		struct tcpa_stats *st)
{
	struct tcpa_pkt local[TCPA_BURST];
	uint64_t tsc = rte_rdtsc();
	uint16_t nl = classify(w, fr, n, local, ob, st);

	flush_out(w, ob, st);
	if (nl != 0)
		tcpa_engine_input_burst(w->eng, local, nl);
	w->busy_tsc += rte_rdtsc() - tsc;
}

/* The pcap driver stamps capture time in microseconds; others get the clock. */
static inline uint64_t
mbuf_time(const struct worker *w, const struct rte_mbuf *m, uint64_t now)
{
	if (w->ts_off >= 0 && (m->ol_flags & w->ts_flag))
		return *RTE_MBUF_DYNFIELD(m, w->ts_off, rte_mbuf_timestamp_t *) * 1000;
	return now;
}

/* Live: every port queue of this core, one burst each. */
static void
read_queues(struct worker *w, struct outbuf *ob, struct tcpa_stats *st)
{
	struct rte_mbuf *mb[TCPA_BURST];
	struct frame fr[TCPA_BURST];

	for (unsigned q = 0; q < w->nrxq; q++) {
		uint16_t n = rte_eth_rx_burst(w->rxq[q].port, w->rxq[q].queue, mb, TCPA_BURST);
		uint64_t now;

		if (n == 0)
			continue;
		if (unlikely(w->rx_only)) {
			st->rx_pkts += n;
			rte_pktmbuf_free_bulk(mb, n);
			continue;
		}
		now = tcpa_live_clock_ns(w->clock, rte_rdtsc());
		for (uint16_t i = 0; i < n; i++) {
			fr[i].data = rte_pktmbuf_mtod(mb[i], const uint8_t *);
			fr[i].caplen = mb[i]->data_len;
			fr[i].wirelen = mb[i]->pkt_len;
			fr[i].linktype = TCPA_LINKTYPE_ETHERNET;
			fr[i].ts = mbuf_time(w, mb[i], now);
		}
		analyze(w, fr, n, ob, st);
		rte_pktmbuf_free_bulk(mb, n);
	}
}

/* Capture analysis: one burst of the capture, if the rings have room. */
static void
read_input(struct worker *w, struct outbuf *ob, struct tcpa_stats *st)
{
	struct frame fr[TCPA_BURST];
	unsigned n;

	if (!rings_have_room(w))
		return;
	n = tcpa_input_burst(w->input, fr, TCPA_BURST);
	if (n == 0) {
		if (tcpa_input_done(w->input))
			__atomic_store_n(&w->reader_done, 1, __ATOMIC_RELEASE);
		return;
	}
	analyze(w, fr, (uint16_t)n, ob, st);
	st->time_jump = tcpa_input_time_jumps(w->input);
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

/* Publish every ~1 ms live (TSC), every PUB_BURSTS turns offline. */
static void
maybe_publish(struct worker *w)
{
	if (w->offline) {
		if (++w->pub_bursts >= PUB_BURSTS) {
			w->pub_bursts = 0;
			tcpa_worker_publish(w);
		}
		return;
	}
	uint64_t tsc = rte_rdtsc();

	if (tsc >= w->pub_next) {
		tcpa_worker_publish(w);
		w->pub_next = tsc + w->pub_period;
	}
}

static bool
stopping(const struct worker *w)
{
	return __atomic_load_n(&w->ctl->stop, __ATOMIC_RELAXED) != 0;
}

/*
 * Capture analysis with nothing to do (a pipe that is silent, a core whose
 * peers send nothing): after IDLE_TURNS empty turns, sleep IDLE_NS per
 * turn, so that idle analysis threads leave the CPUs to the control side
 * and to other work. Live RX cores never sleep: they poll ports.
 */
#define IDLE_TURNS 256
#define IDLE_NS 200000

static void
idle(struct worker *w, bool busy)
{
	struct timespec ts = { 0, IDLE_NS };

	if (busy) {
		w->idle_turns = 0;
		return;
	}
	if (++w->idle_turns > IDLE_TURNS)
		nanosleep(&ts, NULL);
}

/* One turn of the loop. @return false when done (offline: all input analyzed). */
static bool
turn(struct worker *w, struct outbuf *ob, struct tcpa_stats *st)
{
	uint64_t before = st->rx_pkts;
	unsigned from_rings;

	if (w->offline) {
		if (w->input != NULL && !w->reader_done)
			read_input(w, ob, st);
	} else {
		read_queues(w, ob, st);
	}
	from_rings = read_rings(w);
	/* Offline, packet time drives expiry; live, the clock does. */
	tcpa_engine_age(w->eng, w->offline ? 0 : tcpa_live_clock_ns(w->clock, rte_rdtsc()));
	maybe_publish(w);
	if (w->offline)
		idle(w, from_rings != 0 || st->rx_pkts != before);
	/* Done when every reader is done and our rings are drained. */
	return !(w->offline && from_rings == 0 &&
		__atomic_load_n(&w->ctl->readers_done, __ATOMIC_ACQUIRE) && read_rings(w) == 0);
}

int
tcpa_worker_main(void *arg)
{
	struct worker *w = arg;
	struct tcpa_stats *st = tcpa_engine_stats(w->eng);
	struct outbuf ob[TCPA_MAX_WORKERS];

	for (unsigned j = 0; j < TCPA_MAX_WORKERS; j++)
		ob[j].n = 0;
	if (w->offline && w->input == NULL)
		__atomic_store_n(&w->reader_done, 1, __ATOMIC_RELEASE);
	while (!stopping(w) && turn(w, ob, st))
		;
	if (w->offline && !stopping(w))
		tcpa_engine_finish(w->eng);
	tcpa_worker_publish(w);
	__atomic_store_n(&w->finished, 1, __ATOMIC_RELEASE);
	return 0;
}

void
tcpa_worker_init(struct worker *w, struct tcpa_app *app, unsigned idx, struct tcpa_engine *eng)
{
	w->idx = idx;
	w->nworkers = app->nworkers;
	w->eng = eng;
	w->secret = &app->secret;
	w->zones = app->conf.tunnel_in_key != 0;
	w->ctl = &app->ctl;
	w->ts_off = -1;
}

int
tcpa_workers_connect(struct tcpa_app *app, tcpa_ring_make_fn make)
{
	for (unsigned j = 0; j < app->nworkers && app->nworkers > 1; j++) {
		for (unsigned k = 0; k < app->nworkers; k++) {
			char name[RTE_RING_NAMESIZE];
			struct rte_ring *r;

			if (j == k)
				continue;
			snprintf(name, sizeof(name), "tcpa_%u_%u", j, k);
			r = make(app, k, name);
			if (r == NULL)
				return -1;
			app->workers[j].out[k] = r;
			app->workers[k].in[j] = r;
		}
	}
	return 0;
}
