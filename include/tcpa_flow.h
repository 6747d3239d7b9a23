/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TCPA_FLOW_H
#define TCPA_FLOW_H

/**
 * @file
 * Flow key, symmetric keyed hash and the per-core flow table.
 *
 * The table is written by one core only. It never allocates: the caller
 * gives it one memory region sized by tcpa_flow_table_memsize(). Lookup is
 * O(1): two candidate buckets of 8 slots (one cache line each), chosen by
 * the hash. Expiry is a lazy timer wheel (amortized O(1) per flow).
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tcpa_common.h"
#include "tcpa_pkt.h"

/**
 * Flow key: both endpoints and the zone. In the table, side 0 is the
 * sender of the flow's first segment; tcpa_flow_key_make() builds the
 * canonical form (lower endpoint first) for code that needs one. 40 bytes.
 */
struct tcpa_flow_key {
	struct tcpa_ip ip[2];
	uint16_t port[2];
	uint32_t zone;          /* tcpa_pkt.zone */
};

/** The secret the hash is keyed with: chosen at start, never exposed. */
struct tcpa_hash_secret {
	uint64_t k[4];
};

/**
 * Fill @p s from a seed. Seed 0 takes a random one from the OS (getrandom);
 * a fixed seed is for tests and benchmarks that must split traffic the way
 * the appliance does.
 * @return 0, or -errno if no randomness was available.
 */
int tcpa_hash_secret_init(struct tcpa_hash_secret *s, uint64_t seed);

/**
 * Build the canonical key of @p p.
 * @return the side of the key that sent @p p (0 or 1).
 */
static inline int
tcpa_ip_cmp(const struct tcpa_ip *a, const struct tcpa_ip *b)
{
	uint64_t x[2], y[2];

	/* Two big-endian word compares instead of 16 byte compares. */
	memcpy(x, a->b, 16);
	memcpy(y, b->b, 16);
	for (unsigned i = 0; i < 2; i++) {
		uint64_t u = __builtin_bswap64(x[i]), v = __builtin_bswap64(y[i]);

		if (u != v)
			return u < v ? -1 : 1;
	}
	return 0;
}

static inline unsigned
tcpa_flow_key_make(const struct tcpa_pkt *p, struct tcpa_flow_key *k)
{
	int c = tcpa_ip_cmp(&p->src, &p->dst);
	unsigned swap = c > 0 || (c == 0 && p->sport > p->dport);

	k->ip[swap] = p->src;
	k->ip[!swap] = p->dst;
	k->port[swap] = p->sport;
	k->port[!swap] = p->dport;
	k->zone = p->zone;
	return swap;
}

/** The canonical key of @p p when its sender's side is already known. */
static inline void
tcpa_flow_key_of_side(const struct tcpa_pkt *p, unsigned side, struct tcpa_flow_key *k)
{
	k->ip[side] = p->src;
	k->ip[!side] = p->dst;
	k->port[side] = p->sport;
	k->port[!side] = p->dport;
	k->zone = p->zone;
}

/**
 * Keyed 64-bit hash of a key: symmetric, so the key's side order does not
 * matter; equal to tcpa_flow_pkt_hash() of either direction's segments.
 */
uint64_t tcpa_flow_key_hash(const struct tcpa_flow_key *k, const struct tcpa_hash_secret *s);

/** Keyed symmetric hash of a segment's 4-tuple and zone (no key built). */
uint64_t tcpa_flow_pkt_hash(const struct tcpa_pkt *p, const struct tcpa_hash_secret *s);

/**
 * Which side of key @p k sent @p p: 0 or 1, or -1 if @p p is not of that
 * flow. Compares in place: no key is built on the packet path.
 */
static inline int
tcpa_flow_key_side(const struct tcpa_flow_key *k, const struct tcpa_pkt *p)
{
	if (k->zone != p->zone)
		return -1;
	/* struct tcpa_pkt keeps src, dst adjacent as the key keeps ip[0], ip[1]. */
	if (k->port[0] == p->sport && k->port[1] == p->dport &&
			memcmp(k->ip, &p->src, 2 * sizeof(struct tcpa_ip)) == 0)
		return 0;
	if (k->port[0] == p->dport && k->port[1] == p->sport &&
			memcmp(&k->ip[0], &p->dst, sizeof(struct tcpa_ip)) == 0 &&
			memcmp(&k->ip[1], &p->src, sizeof(struct tcpa_ip)) == 0)
		return 1;
	return -1;
}

/** Same key? */
static inline int
tcpa_flow_key_eq(const struct tcpa_flow_key *a, const struct tcpa_flow_key *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/**
 * Which of @p n cores owns the flow of this hash. Uses the high half of the
 * hash; buckets use the low half, so a core's flows still spread over all
 * of its buckets.
 */
static inline unsigned
tcpa_flow_owner(uint64_t hash, unsigned n)
{
	return (unsigned)(((hash >> 32) * (uint64_t)n) >> 32);
}

/* Doubly linked list node of the timer wheel; indexes, not pointers. */
struct tcpa_flow_link {
	uint32_t prev;
	uint32_t next;
};

/**
 * The table's header of every entry: what lookup, expiry and eviction
 * read. The layer that stores connections in the table embeds it first in
 * its own entry type (the engine's struct tcpa_conn) and tells the table
 * that type's size (struct tcpa_flow_params): the table never reads past
 * this header. 48 bytes with its padding.
 */
struct tcpa_flow {
	struct tcpa_flow_key key;
	uint32_t last_ms;       /* packet time of the last segment, ms, wraps */
	uint8_t tmo;            /* timeout class (index into the table's timeouts) */
	uint8_t live;           /* 1 while the entry holds a flow */
};

/*
 * The table's header of every entry's cold part, in a parallel array (one
 * per entry, zeroed with it): what lookups never touch. The embedding
 * layer keeps there what only its slow paths and timers need.
 */
struct tcpa_flow_cold {
	struct tcpa_flow_link tl;       /* the timer wheel */
};

/*
 * Timeout classes. The table knows only their order for eviction (lower is
 * evicted first) and each one's idle timeout; the TCP layer picks them.
 */
enum tcpa_flow_tmo {
	TCPA_FLOW_TMO_CLOSED = 0,   /* both ends closed: kept for tuple reuse */
	TCPA_FLOW_TMO_EMBRYONIC,    /* handshake not complete */
	TCPA_FLOW_TMO_TIME_WAIT,    /* one end in TIME_WAIT */
	TCPA_FLOW_TMO_CLOSING,      /* FIN exchange under way */
	TCPA_FLOW_TMO_ESTABLISHED,  /* open, including CLOSE_WAIT and midstream */
	TCPA_FLOW_TMO_MAX
};

struct tcpa_flow_table;

/** Called before a flow leaves the table (expired or evicted). */
typedef void (*tcpa_flow_drop_cb)(void *ctx, struct tcpa_flow *f, int evicted);

/**
 * What a table is made of (as rte_hash_parameters): its capacity, the
 * entry types of the layer that embeds struct tcpa_flow, and how flows
 * leave it.
 */
struct tcpa_flow_params {
	uint32_t capacity;              /* flows, 1 .. 2^31 */
	/*
	 * Bytes of one entry: a type whose first member is struct tcpa_flow.
	 * A multiple of @align.
	 */
	uint32_t entry_size;
	/*
	 * Bytes of one cold entry: a type whose first member is struct
	 * tcpa_flow_cold. A multiple of @align.
	 */
	uint32_t cold_size;
	/* Alignment of both entry types: a power of two, 4 .. 4096. */
	uint32_t align;
	const uint32_t *timeout_ms;     /* [TCPA_FLOW_TMO_MAX]: idle timeout of each class, ms */
	/*
	 * The secret the flows' hashes were made with: the table rehashes a
	 * key to find its slot when the flow leaves.
	 */
	const struct tcpa_hash_secret *secret;
	tcpa_flow_drop_cb drop;
	void *ctx;                      /* first argument of @drop */
	/*
	 * The region is all zero bytes (a fresh calloc or mmap): nothing is
	 * cleared at init, and pages the table never uses are never touched.
	 */
	uint8_t zeroed;
};

/**
 * Bytes of memory a table needs (64-byte aligned).
 * @return the size, or 0 if the parameters are invalid (capacity 0 or
 *   > 2^31, sizes not multiples of the alignment or smaller than the
 *   headers, alignment not a power of two).
 */
size_t tcpa_flow_table_memsize(const struct tcpa_flow_params *prm);

/**
 * Lay a table out in @p mem (tcpa_flow_table_memsize() bytes, 64-aligned).
 * The table keeps no pointer to @p prm.
 * @return the table, or NULL with errno EINVAL.
 */
struct tcpa_flow_table *tcpa_flow_table_init(void *mem, const struct tcpa_flow_params *prm);

/** Change the idle timeouts (control path; takes effect as flows are seen). */
void tcpa_flow_table_set_timeouts(struct tcpa_flow_table *t,
		const uint32_t timeout_ms[TCPA_FLOW_TMO_MAX]);

/** Prefetch the buckets a hash maps to. */
void tcpa_flow_prefetch(const struct tcpa_flow_table *t, uint64_t hash);

/**
 * Prefetch every cache line of the entries whose signature matches, not
 * their cold entries (call once the buckets are in cache, a few segments
 * before the lookup).
 */
void tcpa_flow_prefetch_entry(const struct tcpa_flow_table *t, uint64_t hash);

/**
 * @return the flow @p p belongs to, or NULL; @p side receives the key side
 *   of its sender.
 */
struct tcpa_flow *tcpa_flow_lookup_pkt(struct tcpa_flow_table *t, const struct tcpa_pkt *p,
		uint64_t hash, unsigned *side);

/**
 * Look up a burst (at most TCPA_BURST segments) with the memory accesses of
 * all of them overlapped: @p fl[i] the flow of pk[i] or NULL, @p side[i]
 * the key side of its sender.
 * @return the number of misses.
 */
uint16_t tcpa_flow_lookup_burst(struct tcpa_flow_table *t, const struct tcpa_pkt *pk, uint16_t n,
		struct tcpa_flow **fl, uint8_t *side);

/** @return the flow with this key, or NULL. */
struct tcpa_flow *tcpa_flow_lookup(struct tcpa_flow_table *t, const struct tcpa_flow_key *k,
		uint64_t hash);

/**
 * Insert a new flow with key @p k, class @p tmo, seen at @p now_ms; the
 * rest of its entry and its cold entry are zeroed.
 * When the table is full, a flow of the two buckets is evicted: the lowest
 * timeout class first (closed, embryonic, TIME_WAIT, closing, open), the
 * least recently seen within a class; it is reported to the drop callback.
 * Never fails.
 */
struct tcpa_flow *tcpa_flow_insert(struct tcpa_flow_table *t, const struct tcpa_flow_key *k,
		uint64_t hash, uint8_t tmo, uint32_t now_ms);

/** Note activity: a segment at @p now_ms. */
static inline void
tcpa_flow_touch(struct tcpa_flow *f, uint32_t now_ms)
{
	f->last_ms = now_ms;
}

/**
 * Change a flow's timeout class. A shorter timeout moves it to an earlier
 * wheel slot so that it expires on time.
 */
void tcpa_flow_set_tmo(struct tcpa_flow_table *t, struct tcpa_flow *f, uint8_t tmo);

/** Remove a flow now (drop callback not called). */
void tcpa_flow_remove(struct tcpa_flow_table *t, struct tcpa_flow *f);

/**
 * Expire idle flows up to packet time @p now_ms, visiting at most @p budget
 * flows. Bounded work per call: the dataplane calls it every loop.
 * @return flows visited.
 */
unsigned tcpa_flow_age_step(struct tcpa_flow_table *t, uint32_t now_ms, unsigned budget);

/** The cold entry of @p f. */
struct tcpa_flow_cold *tcpa_flow_cold_of(struct tcpa_flow_table *t, const struct tcpa_flow *f);

/**
 * The entry and cold arrays (entry 0 is never used), for a caller that
 * maps an entry to its cold entry on its hot path by indexing its own
 * typed arrays, without a call per segment.
 */
void tcpa_flow_table_bases(struct tcpa_flow_table *t, void **ent, void **cold);

/** Index of @p f in the table (>= 1), stable while the flow lives. */
uint32_t tcpa_flow_index(const struct tcpa_flow_table *t, const struct tcpa_flow *f);

/** Entry at index @p i, or NULL if out of range (it may be free: check live). */
struct tcpa_flow *tcpa_flow_at(struct tcpa_flow_table *t, uint32_t i);

/** Entries ever used: indexes 1 .. this may hold flows (any core may read it). */
uint32_t tcpa_flow_used(const struct tcpa_flow_table *t);

/** Flows in the table now. */
uint32_t tcpa_flow_count(const struct tcpa_flow_table *t);
/** Bytes of the table's region (buckets, entries, cold entries, lists). */
size_t tcpa_flow_table_bytes(const struct tcpa_flow_table *t);
/** Capacity given at init. */
uint32_t tcpa_flow_capacity(const struct tcpa_flow_table *t);

/**
 * Visit every flow (control path or tests; the owning core must not be
 * writing when called from another thread unless the caller accepts a
 * racy view). Stops when @p fn returns non-zero.
 */
void tcpa_flow_foreach(struct tcpa_flow_table *t,
		int (*fn)(void *arg, struct tcpa_flow *f), void *arg);

#endif /* TCPA_FLOW_H */
