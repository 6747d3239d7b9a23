/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow table lookups: by key, by segment, and a burst of segments with
 * their memory accesses overlapped. The burst lookup is built for every
 * CPU kind the bucket compare has a variant for, and the table takes the
 * one for its CPU at init.
 */
#include <string.h>

#include "flow_private.h"

void
tcpa_flow_prefetch(const struct tcpa_flow_table *t, uint64_t hash)
{
	uint32_t b1 = b1_of(t, hash);

	__builtin_prefetch(&t->bkt[b1]);
	__builtin_prefetch(&t->bkt[b2_of(t, b1, sig_of(hash))]);
}

/*
 * Every line of an entry, not its cold entry (the fast path never reads
 * it). First and last byte: an entry of one or two lines, the common case,
 * costs no loop.
 */
static inline void
prefetch_entry(struct ents g, const struct tcpa_flow *f)
{
	const uint8_t *b = (const uint8_t *)f;

	__builtin_prefetch(b);
	__builtin_prefetch(b + g.size - 1);
	for (uint32_t o = 2 * TCPA_CACHE_LINE; unlikely(o + TCPA_CACHE_LINE < g.size);
			o += TCPA_CACHE_LINE)
		__builtin_prefetch(b + o);
}

static inline void
bucket_prefetch_match(const struct tcpa_flow_table *t, const struct bucket *b, uint32_t sig)
{
	for (uint32_t m = bucket_match(b, sig); m != 0; m &= m - 1)
		prefetch_entry(ents_of(t), ent_at(t, b->idx[__builtin_ctz(m)]));
}

void
tcpa_flow_prefetch_entry(const struct tcpa_flow_table *t, uint64_t hash)
{
	uint32_t sig = sig_of(hash), b1 = b1_of(t, hash);

	bucket_prefetch_match(t, &t->bkt[b1], sig);
	bucket_prefetch_match(t, &t->bkt[b2_of(t, b1, sig)], sig);
}

static inline struct tcpa_flow *
bucket_find(struct tcpa_flow_table *t, const struct bucket *b, uint32_t sig,
		const struct tcpa_flow_key *k)
{
	for (uint32_t m = bucket_match(b, sig); m != 0; m &= m - 1) {
		uint32_t i = b->idx[__builtin_ctz(m)];

		if (likely(i != 0 && tcpa_flow_key_eq(&ent_at(t, i)->key, k)))
			return ent_at(t, i);
	}
	return NULL;
}

static inline struct tcpa_flow *
bucket_find_pkt_m(struct ents g, const struct bucket *b, uint32_t m, const struct tcpa_pkt *p,
		unsigned *side)
{
	for (; m != 0; m &= m - 1) {
		uint32_t i = b->idx[__builtin_ctz(m)];
		struct tcpa_flow *f;
		int sd;

		if (i == 0)
			continue;
		f = ents_at(g, i);
		sd = tcpa_flow_key_side(&f->key, p);
		if (likely(sd >= 0)) {
			*side = (unsigned)sd;
			return f;
		}
	}
	return NULL;
}

static inline struct tcpa_flow *
bucket_find_pkt(struct tcpa_flow_table *t, const struct bucket *b, uint32_t sig,
		const struct tcpa_pkt *p, unsigned *side)
{
	return bucket_find_pkt_m(ents_of(t), b, bucket_match(b, sig), p, side);
}

struct tcpa_flow *
tcpa_flow_lookup_pkt(struct tcpa_flow_table *t, const struct tcpa_pkt *p, uint64_t hash,
		unsigned *side)
{
	uint32_t sig = sig_of(hash), b1 = b1_of(t, hash);
	struct tcpa_flow *f;

	f = bucket_find_pkt(t, &t->bkt[b1], sig, p, side);
	if (f != NULL)
		return f;
	return bucket_find_pkt(t, &t->bkt[b2_of(t, b1, sig)], sig, p, side);
}

typedef uint32_t (*match_fn)(const struct bucket *b, uint32_t sig);

/*
 * Three passes, each over the whole burst, so that what one pass
 * prefetches has arrived when the next reads it: buckets, then the
 * entries whose signature matches, then the key compares. Inlined into
 * each dispatch variant with its own bucket compare.
 */
static inline __attribute__((always_inline)) uint16_t
lookup_burst(struct tcpa_flow_table *t, const struct tcpa_pkt *pk, uint16_t n,
		struct tcpa_flow **fl, uint8_t *side, match_fn match)
{
	uint32_t m1[TCPA_BURST], m2[TCPA_BURST], b1[TCPA_BURST], b2[TCPA_BURST];
	const struct ents g = ents_of(t);
	uint16_t miss = 0;

	TCPA_ASSERT(n <= TCPA_BURST);
	for (uint16_t i = 0; i < n; i++) {
		b1[i] = b1_of(t, pk[i].hash);
		b2[i] = b2_of(t, b1[i], sig_of(pk[i].hash));
		__builtin_prefetch(&t->bkt[b1[i]]);
		__builtin_prefetch(&t->bkt[b2[i]]);
	}
	for (uint16_t i = 0; i < n; i++) {
		uint32_t sig = sig_of(pk[i].hash);

		m1[i] = match(&t->bkt[b1[i]], sig);
		m2[i] = match(&t->bkt[b2[i]], sig);
		for (uint32_t m = m1[i]; m != 0; m &= m - 1)
			prefetch_entry(g, ents_at(g, t->bkt[b1[i]].idx[__builtin_ctz(m)]));
		for (uint32_t m = m2[i]; m != 0; m &= m - 1)
			prefetch_entry(g, ents_at(g, t->bkt[b2[i]].idx[__builtin_ctz(m)]));
	}
	for (uint16_t i = 0; i < n; i++) {
		unsigned sd = 0;
		struct tcpa_flow *f = bucket_find_pkt_m(g, &t->bkt[b1[i]], m1[i], &pk[i], &sd);

		if (f == NULL)
			f = bucket_find_pkt_m(g, &t->bkt[b2[i]], m2[i], &pk[i], &sd);
		fl[i] = f;
		side[i] = (uint8_t)sd;
		miss += f == NULL;
	}
	return miss;
}

static uint16_t
lookup_burst_base(struct tcpa_flow_table *t, const struct tcpa_pkt *pk, uint16_t n,
		struct tcpa_flow **fl, uint8_t *side)
{
	return lookup_burst(t, pk, n, fl, side, bucket_match);
}

#ifdef TCPA_FLOW_DISPATCH
static __attribute__((target("avx2"))) uint16_t
lookup_burst_avx2(struct tcpa_flow_table *t, const struct tcpa_pkt *pk, uint16_t n,
		struct tcpa_flow **fl, uint8_t *side)
{
	return lookup_burst(t, pk, n, fl, side, bucket_match_avx2);
}
#endif

uint16_t
tcpa_flow_lookup_burst(struct tcpa_flow_table *t, const struct tcpa_pkt *pk, uint16_t n,
		struct tcpa_flow **fl, uint8_t *side)
{
	return t->lookup_burst(t, pk, n, fl, side);
}

struct tcpa_flow *
tcpa_flow_lookup(struct tcpa_flow_table *t, const struct tcpa_flow_key *k, uint64_t hash)
{
	uint32_t sig = sig_of(hash), b1 = b1_of(t, hash);
	struct tcpa_flow *f;

	f = bucket_find(t, &t->bkt[b1], sig, k);
	if (f != NULL)
		return f;
	return bucket_find(t, &t->bkt[b2_of(t, b1, sig)], sig, k);
}

lookup_burst_fn
flow_lookup_burst_select(void)
{
#ifdef TCPA_FLOW_DISPATCH
	if (__builtin_cpu_supports("avx2"))
		return lookup_burst_avx2;
#endif
	return lookup_burst_base;
}
