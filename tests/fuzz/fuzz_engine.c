/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for the engine: frame sequences through the parser, the
 * hash, one or two engines (segments dispatched by tcpa_flow_owner() as
 * the RX cores dispatch them), the timers, the event queue and the report,
 * with tiny tables and packet time that jumps forward and back. Besides
 * what the sanitisers catch, it checks the engine's bookkeeping after every
 * burst and aborts when an invariant breaks (check_engine()).
 *
 * Input (integers little-endian), made from captures by gen_corpus_engine.py:
 *
 *   header, FE_HDR bytes
 *     [0] flow table capacity: 4 + [0] % 61 (4..64)
 *     [1] endpoint table capacity: 8 + [1] % 57 (8..64)
 *     [2] configuration keys, one bit each (conf_pick())
 *     [3] bit 0: two engines; bit 1: event queue of 4 slots (else 64);
 *         bits 2-3: capture clock jump_ns (0, 1 s, 3600 s, 0);
 *         bit 4: engine memory given zeroed; bits 5-7: hash seed
 *     [4] more configuration keys and the hash seed (conf_pick())
 *   records, until the input ends
 *     [2] frame length (cut to the bytes left)
 *     [1] time code (time_step()), with up to 8 more bytes for some codes
 *     [1] link byte: bits 0-3 link type (links[]); bit 4: received by
 *         core 1 instead of 0; bit 5: a wire length follows; bit 6:
 *         the burst ends after this frame; bit 7: age the engines at
 *         this frame's time after the burst
 *     [2] only with link bit 5: wire length minus captured length (a
 *         snap length, TSO); else the wire length is the captured one
 *     [n] the frame
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tcpa_cap.h"
#include "tcpa_conf.h"
#include "tcpa_endpoint.h"
#include "tcpa_engine.h"
#include "tcpa_pkt.h"
#include "tcpa_report.h"

#define FE_HDR 5
#define FE_REC_HDR 4
#define FE_MAX_ENGINES 2
/* Segments held before a burst is forced: two engine chunks of TCPA_BURST. */
#define FE_BURST_MAX (2 * TCPA_BURST)
/* Endpoint slots of the largest table (64 records): checked in check_engine(). */
#define FE_EP_SLOTS_MAX 256
/* The link type tcpa_pkt_parse() reads: Ethernet without a wire length. */
#define FE_ETH_FAST UINT32_MAX

#define MS (1000ULL * 1000ULL)

/* An invariant: say which one broke (libFuzzer keeps the input), then abort. */
#define FE_CHECK(x) do { \
	if (!(x)) { \
		fprintf(stderr, "fuzz_engine.c:%d: invariant broken: %s\n", __LINE__, #x); \
		abort(); \
	} \
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t links[16] = {
	FE_ETH_FAST,
	TCPA_LINKTYPE_ETHERNET,
	TCPA_LINKTYPE_NULL,
	TCPA_LINKTYPE_LOOP,
	TCPA_LINKTYPE_RAW,
	TCPA_LINKTYPE_DLT_RAW1,
	TCPA_LINKTYPE_DLT_RAW2,
	TCPA_LINKTYPE_IPV4,
	TCPA_LINKTYPE_IPV6,
	TCPA_LINKTYPE_LINUX_SLL,
	TCPA_LINKTYPE_LINUX_SLL2,
	TCPA_LINKTYPE_PPP,
	TCPA_LINKTYPE_PPP_HDLC,
	TCPA_LINKTYPE_C_HDLC,
	TCPA_LINKTYPE_NFLOG,
	127,    /* unsupported: radiotap */
};

/* One engine and the segments waiting for its next burst. */
struct fe_core {
	struct tcpa_engine *e;
	void *mem;
	uint32_t flows;
	struct tcpa_pkt pk[FE_BURST_MAX];
	uint16_t n;
};

struct fe {
	struct fe_core core[FE_MAX_ENGINES];
	unsigned ncores;
	struct tcpa_conf conf;
	struct tcpa_hash_secret secret;
	struct tcpa_cap_clock clock;
	uint64_t ts;            /* the capture's time before the clock */
};

static FILE *devnull;

/*
 * Configuration keys from two header bytes, each pair chosen so that
 * tcpa_conf_check() accepts the result: a timeout is at least the
 * thresholds that must be decided before it.
 */
static void
conf_pick(struct tcpa_conf *c, uint8_t a, uint8_t b)
{
	tcpa_conf_defaults(c);
	c->time_wait_s = a & 0x01 ? 1 : 60;
	c->close_wait_s = a & 0x02 ? 1 : 5;
	c->idle_close_s = a & 0x04 ? 1 : 2;
	c->syn_timeout_s = a & 0x08 ? 1 : 3;
	c->timeout_syn_s = a & 0x10 ? c->syn_timeout_s : 30;
	c->timeout_closing_s = a & 0x20 ? c->time_wait_s : 240;
	if (a & 0x40) {
		uint64_t t = c->time_wait_s;

		t = c->close_wait_s > t ? c->close_wait_s : t;
		t = c->idle_close_s > t ? c->idle_close_s : t;
		c->timeout_established_s = t;
	}
	c->rules = a & 0x80 ? 0 : 1;
	c->nagle_delay_ms = b & 0x01 ? 1 : 30;
	c->min_rto_ms = b & 0x02 ? 1 : 200;
	c->reorder_ms = b & 0x04 ? 1 : 3;
	c->hash_seed = 1 + (b >> 3);
}

static int
fe_init(struct fe *f, const uint8_t *h)
{
	struct tcpa_engine_conf ec;
	char err[256];
	size_t msz;

	memset(f, 0, sizeof(*f));
	conf_pick(&f->conf, h[2], h[4]);
	if (tcpa_conf_check(&f->conf, err, sizeof(err)) != 0)
		abort();        /* conf_pick() makes only valid configurations */
	f->conf.hash_seed += (uint64_t)(h[3] >> 5) << 5;
	if (tcpa_hash_secret_init(&f->secret, f->conf.hash_seed) != 0)
		abort();
	tcpa_engine_conf_from(&f->conf, h[3] & 0x02 ? 4 : 64, &f->secret, &ec);
	ec.flows = 4 + h[0] % 61;
	ec.endpoints = 8 + h[1] % 57;
	ec.zeroed = (h[3] & 0x10) != 0;
	msz = tcpa_engine_memsize(&ec);
	if (msz == 0)
		abort();
	f->ncores = h[3] & 0x01 ? 2 : 1;
	for (unsigned i = 0; i < f->ncores; i++) {
		struct fe_core *k = &f->core[i];

		k->mem = aligned_alloc(64, (msz + 63) & ~(size_t)63);
		if (k->mem == NULL)
			return -1;
		/* Zeroed or not, the tables must come out the same. */
		memset(k->mem, ec.zeroed ? 0 : 0xa5, msz);
		k->e = tcpa_engine_init(k->mem, &ec);
		if (k->e == NULL)
			abort();
		k->flows = ec.flows;
	}
	tcpa_cap_clock_init(&f->clock, (h[3] >> 2 & 3) == 1 ? TCPA_NS_PER_S :
		(h[3] >> 2 & 3) == 2 ? 3600 * TCPA_NS_PER_S : 0);
	f->ts = 1700000000ULL * TCPA_NS_PER_S;
	return 0;
}

static void
fe_free(struct fe *f)
{
	for (unsigned i = 0; i < f->ncores; i++)
		free(f->core[i].mem);
}

static uint64_t
rd64(const uint8_t *p)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/*
 * Apply the time code at @p d (@p len bytes left) to f->ts; time is a
 * uint64_t and wraps, as a capture's 64-bit timestamps may:
 *   0x00-0x7f  forward c ms              0xe0-0xef  forward 2^(32 + 2 (c - 0xe0)) ns
 *   0x80-0xbf  forward c - 0x80 s         0xf0       absolute: 8 more bytes, ns
 *   0xc0-0xdf  back (c - 0xc0) * 10 ms    0xf1       time 0
 *   0xf2       back 2^(b % 64) ns, b one more byte
 *   0xf3       forward u us, u two more bytes         0xf4-0xff  unchanged
 * Jumps up to 2^62 ns reach past 2^31 s (2038) and wrap 32-bit ms clocks.
 * @return bytes used, 0 if the input ends inside the code.
 */
static size_t
time_step(struct fe *f, const uint8_t *d, size_t len)
{
	uint8_t c;

	if (len < 1)
		return 0;
	c = d[0];
	if (c == 0xf0) {
		if (len < 9)
			return 0;
		f->ts = rd64(d + 1);
		return 9;
	}
	if (c == 0xf2 || c == 0xf3) {
		if (len < (c == 0xf2 ? 2U : 3U))
			return 0;
		if (c == 0xf2)
			f->ts -= 1ULL << (d[1] % 64);
		else
			f->ts += (d[1] | (uint64_t)d[2] << 8) * 1000;
		return c == 0xf2 ? 2 : 3;
	}
	if (c <= 0x7f)
		f->ts += c * MS;
	else if (c <= 0xbf)
		f->ts += (uint64_t)(c - 0x80) * TCPA_NS_PER_S;
	else if (c <= 0xdf)
		f->ts -= (uint64_t)(c - 0xc0) * 10 * MS;
	else if (c <= 0xef)
		f->ts += 1ULL << (32 + 2 * (c - 0xe0));
	else if (c == 0xf1)
		f->ts = 0;
	return 1;
}

static void
check_event(const struct tcpa_event *ev)
{
	FE_CHECK(ev->anom < TCPA_ANOM_MAX && ev->side <= 1 && ev->cli <= 1 && ev->has_seg <= 1);
	FE_CHECK(tcpa_anom_name(ev->anom) != NULL);
}

/* Read up to @p max events (0: all) and check each. */
static void
drain_events(struct tcpa_engine *e, unsigned max)
{
	struct tcpa_event ev[8];
	unsigned n;

	do {
		unsigned want = max != 0 && max < 8 ? max : 8;

		n = tcpa_engine_events_read(e, ev, want);
		FE_CHECK(n <= want);
		for (unsigned i = 0; i < n; i++)
			check_event(&ev[i]);
	} while (max == 0 && n != 0);
}

/* What the live connections say each endpoint record must hold. */
struct expect {
	struct tcpa_ep_table *t;
	uint32_t nslots;
	uint32_t flows;
	uint32_t bound;                 /* sides bound to a record */
	uint32_t stale;                 /* sides whose record gave way */
	uint32_t states[FE_EP_SLOTS_MAX + 1][TCPA_TCP_ST_MAX];
	uint32_t cw_stuck[FE_EP_SLOTS_MAX + 1];
};

static int
expect_conn(void *arg, const struct tcpa_conn *c, const struct tcpa_conn_cold *x)
{
	struct expect *w = arg;

	w->flows++;
	FE_CHECK(c->tcp.cli <= 1);
	for (unsigned s = 0; s < 2; s++) {
		unsigned st = c->tcp.half[s].state;

		/*
		 * A reference is a slot and its generation. It goes stale only
		 * when its record gave way under pressure (a one-off SYN source):
		 * the side is then no longer bound.
		 */
		uint32_t i = x->ep[s] & TCPA_EP_MAX;

		FE_CHECK(st < TCPA_TCP_ST_MAX && i <= w->nslots);
		if (x->ep[s] == 0)
			continue;
		if (tcpa_ep_at(w->t, x->ep[s]) == NULL) {
			w->stale++;
			continue;
		}
		w->bound++;
		w->states[i][st]++;
		if (c->rules.hflags[s] & TCPA_AH_CW_STUCK)
			w->cw_stuck[i]++;
	}
	return 0;
}

/* Each endpoint record against what the connections bound to it say. */
static void
check_records(struct tcpa_engine *e, const struct expect *w, const struct tcpa_stats *st)
{
	struct tcpa_ep_table *t = tcpa_engine_endpoints(e);
	uint64_t anom[TCPA_ANOM_MAX];
	uint32_t used = 0;

	memset(anom, 0, sizeof(anom));
	for (uint32_t i = 1; i <= w->nslots; i++) {
		const struct tcpa_ep *r = &tcpa_ep_records(t)[i];

		/* seq: even and non-zero while the slot holds a record. */
		used += r->seq != 0 && (r->seq & 1) == 0;
		for (unsigned s = 0; s < TCPA_TCP_ST_MAX; s++)
			FE_CHECK(r->states[s] == w->states[i][s]);
		FE_CHECK(r->cw_stuck == w->cw_stuck[i]);
		/* The peak is the highest count seen, so never below the count now. */
		FE_CHECK(r->tw_peak >= r->states[TCPA_TCP_ST_TIME_WAIT]);
		for (unsigned a = 0; a < TCPA_ANOM_MAX; a++)
			anom[a] += r->anom[a];
	}
	FE_CHECK(used == tcpa_ep_count(t));
	/* Every occurrence is counted once, and once more on its side's record if bound. */
	for (unsigned a = 0; a < TCPA_ANOM_MAX; a++)
		FE_CHECK(anom[a] <= st->anom[a] && (st->ep_full != 0 || anom[a] == st->anom[a]));
}

/*
 * The engine's bookkeeping, which holds by design after any sequence of
 * segments, timers and time jumps:
 *  - the table holds at most its capacity, and the gauge is its count;
 *  - each endpoint record's per-state counts and close_wait_stuck gauge are
 *    exactly those of the live connection sides bound to it;
 *  - with no side ever refused a record (ep_full 0), every side is bound,
 *    or its record gave way (ep_evicted counts it);
 *  - every connection that started is live or left the table one way.
 */
static void
check_engine(struct tcpa_engine *e, uint32_t capacity)
{
	static struct expect w;
	struct tcpa_flow_table *ft = tcpa_engine_flows(e);
	const struct tcpa_stats *st = tcpa_engine_stats(e);
	uint32_t n = tcpa_flow_count(ft);

	FE_CHECK(n <= capacity && tcpa_flow_capacity(ft) == capacity && st->flows_active == n);
	memset(&w, 0, sizeof(w));
	w.t = tcpa_engine_endpoints(e);
	w.nslots = tcpa_ep_slots(w.t);
	FE_CHECK(w.nslots <= FE_EP_SLOTS_MAX);
	tcpa_engine_foreach(e, expect_conn, &w);
	FE_CHECK(w.flows == n);
	check_records(e, &w, st);
	FE_CHECK(st->ep_full != 0 || w.bound + w.stale == 2 * n);
	FE_CHECK(w.stale == 0 || st->ep_evicted != 0);
	FE_CHECK(st->flows_new >= (uint64_t)n + st->flows_closed + st->flow_expired +
		st->flow_evicted);
}

/* Analyze what each engine holds, as an RX core's loop turn does. */
static void
flush(struct fe *f, bool age, uint64_t now)
{
	for (unsigned i = 0; i < f->ncores; i++) {
		struct fe_core *k = &f->core[i];

		FE_CHECK(k->n == 0 || tcpa_engine_input_burst(k->e, k->pk, k->n) == k->n);
		k->n = 0;
		/* Capture analysis ages at packet time (0: the engine's own clock). */
		tcpa_engine_age(k->e, 0);
		if (age)
			tcpa_engine_age(k->e, now);
		drain_events(k->e, 3);
		check_engine(k->e, k->flows);
	}
}

/* Parse one frame and queue it for the engine that owns its connection. */
static void
frame(struct fe *f, const uint8_t *d, uint32_t caplen, uint32_t wire, uint8_t lb)
{
	uint32_t lt = links[lb & 0x0f];
	enum tcpa_pkt_verdict v;
	struct fe_core *k;
	struct tcpa_pkt p;

	memset(&p, 0, sizeof(p));
	if (lt == FE_ETH_FAST) {
		wire = caplen;
		v = tcpa_pkt_parse(d, caplen, &p);
	} else {
		v = tcpa_pkt_parse_link(lt, d, caplen, wire, &p);
	}
	if (v != TCPA_PKT_OK)
		return;
	p.wire_len = wire;
	p.ts = tcpa_cap_clock_step(&f->clock, f->ts);
	p.rxc = (uint8_t)((lb >> 4) & 1);
	tcpa_engine_hash(&p, &f->secret);
	k = &f->core[f->ncores == 1 ? 0 : tcpa_flow_owner(p.hash, f->ncores)];
	k->pk[k->n++] = p;
	if (k->n == FE_BURST_MAX)
		flush(f, false, 0);
}

/* The report and the flow records over every engine, as tcpa prints them. */
static void
report(struct fe *f)
{
	const struct tcpa_stats *st[FE_MAX_ENGINES];
	struct tcpa_ep_table *ep[FE_MAX_ENGINES];
	struct tcpa_engine *eng[FE_MAX_ENGINES];
	uint64_t pkts[FE_MAX_ENGINES];
	struct tcpa_report_in in;
	struct tcpa_flow_filter x;
	struct tcpa_stats sum;
	struct tcpa_report_ep *eps = NULL;
	size_t neps = 0;
	uint32_t records = 0;
	json_t *r, *fl;
	char *s;

	for (unsigned i = 0; i < f->ncores; i++) {
		eng[i] = f->core[i].e;
		st[i] = tcpa_engine_stats(eng[i]);
		ep[i] = tcpa_engine_endpoints(eng[i]);
		pkts[i] = st[i]->tcp_pkts;
		records += tcpa_ep_count(ep[i]);
	}
	tcpa_report_sum_stats(st, f->ncores, &sum);
	FE_CHECK(tcpa_report_merge_eps(ep, f->ncores, &eps, &neps) == 0);
	FE_CHECK(neps <= records);
	memset(&in, 0, sizeof(in));
	in.total = &sum;
	in.core_pkts = pkts;
	in.ncores = f->ncores;
	in.eps = eps;
	in.neps = neps;
	in.conf = &f->conf;
	in.version = "fuzz";
	in.complete = 1;
	r = tcpa_report_build(&in);
	tcpa_report_flow_filter_all(&x);
	fl = tcpa_report_flows(eng, f->ncores, &x);
	FE_CHECK(r != NULL && fl != NULL && json_array_size(fl) <= FE_MAX_ENGINES * 64);
	/* What tcpa prints must serialise: jansson refuses invalid UTF-8 and NaN. */
	s = json_dumps(r, JSON_COMPACT);
	FE_CHECK(s != NULL);
	free(s);
	tcpa_report_print_text(devnull, r);
	tcpa_report_metrics(devnull, r, NULL, 5);
	json_decref(fl);
	json_decref(r);
	free(eps);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fe f;
	size_t off = FE_HDR;

	if (size < FE_HDR || size > (1U << 20))
		return 0;
	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	if (fe_init(&f, data) != 0) {
		fe_free(&f);
		return 0;
	}
	while (off + FE_REC_HDR <= size) {
		size_t len = data[off] | (size_t)data[off + 1] << 8, t;
		uint32_t extra = 0;
		uint8_t lb;

		off += 2;
		t = time_step(&f, data + off, size - off);
		if (t == 0 || off + t >= size)
			break;
		off += t;
		lb = data[off++];
		if (lb & 0x20) {
			if (size - off < 2)
				break;
			extra = data[off] | (uint32_t)data[off + 1] << 8;
			off += 2;
		}
		if (len > size - off)
			len = size - off;
		frame(&f, data + off, (uint32_t)len, (uint32_t)len + extra, lb);
		off += len;
		if (lb & 0xc0)
			flush(&f, (lb & 0x80) != 0, f.ts);
	}
	flush(&f, false, 0);
	for (unsigned i = 0; i < f.ncores; i++) {
		tcpa_engine_finish(f.core[i].e);
		check_engine(f.core[i].e, f.core[i].flows);
		drain_events(f.core[i].e, 0);
	}
	report(&f);
	fe_free(&f);
	return 0;
}
