/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TCPA_FLOW_PRIVATE_H
#define TCPA_FLOW_PRIVATE_H

/*
 * What the flow table's files share: its layout, entry addressing and
 * bucket arithmetic. Not a public header.
 *
 *   flow_table.c   layout, insert, eviction, expiry wheel, accessors
 *   flow_lookup.c  prefetch and lookups (the burst one per CPU kind)
 *   flow_hash.c    the keyed symmetric hash
 */

#include <stdbool.h>
#include <stdint.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "tcpa_flow.h"

#define BKT_SLOTS 8
#define WHEEL_SLOTS 4096U           /* power of two */
#define TICK_SHIFT 6                /* 64 ms ticks: one turn is 262 s */

struct TCPA_CACHE_ALIGNED bucket {
	uint32_t sig[BKT_SLOTS];
	uint32_t idx[BKT_SLOTS];
};

struct TCPA_CACHE_ALIGNED tcpa_flow_table {
	struct bucket *bkt;
	uint8_t *ent;               /* entries 1..cap, esz bytes each */
	uint8_t *cold;              /* cold entry i of entry i, csz bytes each */
	uint32_t esz;
	uint32_t csz;
	/*
	 * Entry index from a byte offset off = i * esz, by multiplication:
	 * i = (off >> etz) * einv mod 2^64, einv the inverse of the odd part
	 * of esz. Exact for multiples of esz; no division on any path.
	 */
	uint32_t etz;
	uint64_t einv;
	/* the burst lookup built for this CPU (flow_lookup.c) */
	uint16_t (*lookup_burst)(struct tcpa_flow_table *t, const struct tcpa_pkt *pk,
			uint16_t n, struct tcpa_flow **fl, uint8_t *side);
	uint32_t *free;             /* stack of free entry indexes */
	struct tcpa_flow_link *heads; /* WHEEL_SLOTS sentinels, then the work list */
	size_t bytes;               /* the region's size (tcpa_flow_table_memsize) */
	uint32_t cap;
	uint32_t nfree;             /* entries on the free stack */
	uint32_t fresh;             /* entries 1..fresh were ever used; the rest never */
	uint32_t bmask;
	uint32_t cur_tick;          /* next wheel tick to process */
	bool started;               /* cur_tick is set */
	uint32_t timeout_ms[TCPA_FLOW_TMO_MAX];
	struct tcpa_hash_secret secret;
	tcpa_flow_drop_cb drop;
	void *ctx;
};

/* ---- entries ---- */

/*
 * Where the entries are, by value: a loop that copies it into a local
 * keeps it in registers across its stores (through uint8_t *, which may
 * alias the table).
 */
struct ents {
	uint8_t *base;
	uint32_t size;
};

static inline struct ents
ents_of(const struct tcpa_flow_table *t)
{
	struct ents g = { t->ent, t->esz };

	return g;
}

static inline struct tcpa_flow *
ents_at(struct ents g, uint32_t i)
{
	return (struct tcpa_flow *)(void *)(g.base + (size_t)i * g.size);
}

static inline struct tcpa_flow *
ent_at(const struct tcpa_flow_table *t, uint32_t i)
{
	return ents_at(ents_of(t), i);
}

static inline struct tcpa_flow_cold *
cold_at(const struct tcpa_flow_table *t, uint32_t i)
{
	return (struct tcpa_flow_cold *)(void *)(t->cold + (size_t)i * t->csz);
}

static inline uint32_t
idx_of(const struct tcpa_flow_table *t, const struct tcpa_flow *f)
{
	uint64_t off = (uint64_t)((const uint8_t *)f - t->ent);

	return (uint32_t)((off >> t->etz) * t->einv);
}

static inline uint32_t
sig_of(uint64_t hash)
{
	return (uint32_t)(hash >> 32);
}

static inline uint32_t
b1_of(const struct tcpa_flow_table *t, uint64_t hash)
{
	return (uint32_t)hash & t->bmask;
}

static inline uint32_t
b2_of(const struct tcpa_flow_table *t, uint32_t b1, uint32_t sig)
{
	uint32_t x = ((sig * 0x9e3779b1U) >> 7) & t->bmask;

	return b1 ^ (x == 0 ? 1 : x);
}

/*
 * Bit s set: slot s holds signature @sig (maybe a stale one: check idx).
 * One cache line of signatures compared at once: with AVX2 in one 256-bit
 * compare, else with SSE2 (every x86-64) in two 128-bit ones. The burst
 * lookup, where the compares matter, is built for both and the table picks
 * one at init (runtime dispatch: the binary runs on any x86-64).
 */
static inline uint32_t
bucket_match(const struct bucket *b, uint32_t sig)
{
#if defined(__AVX2__)
	__m256i v = _mm256_load_si256((const __m256i *)(const void *)b->sig);

	return (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(
			_mm256_cmpeq_epi32(v, _mm256_set1_epi32((int)sig))));
#elif defined(__x86_64__)
	__m128i s = _mm_set1_epi32((int)sig);
	__m128i lo = _mm_load_si128((const __m128i *)(const void *)b->sig);
	__m128i hi = _mm_load_si128((const __m128i *)(const void *)(b->sig + 4));

	return (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(lo, s))) |
		(uint32_t)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(hi, s))) << 4;
#else
	uint32_t m = 0;

	for (unsigned s = 0; s < BKT_SLOTS; s++)
		m |= (uint32_t)(b->sig[s] == sig) << s;
	return m;
#endif
}

#if defined(__x86_64__) && !defined(__AVX2__)
#define TCPA_FLOW_DISPATCH 1
static inline __attribute__((target("avx2"))) uint32_t
bucket_match_avx2(const struct bucket *b, uint32_t sig)
{
	__m256i v = _mm256_load_si256((const __m256i *)(const void *)b->sig);

	return (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(
			_mm256_cmpeq_epi32(v, _mm256_set1_epi32((int)sig))));
}
#endif

typedef uint16_t (*lookup_burst_fn)(struct tcpa_flow_table *t, const struct tcpa_pkt *pk,
		uint16_t n, struct tcpa_flow **fl, uint8_t *side);

/* flow_lookup.c: the burst lookup built for this CPU. */
lookup_burst_fn flow_lookup_burst_select(void);

#endif /* TCPA_FLOW_PRIVATE_H */
