/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TCPA_GEN_RHEAP_H
#define TCPA_GEN_RHEAP_H

/*
 * Radix heap of (time << GEN_SLOT_BITS | slot) keys, the lifecycle's
 * schedule. Keys only ever grow past the last one taken (a segment is
 * scheduled after the one being sent), so a monotone priority queue fits:
 * bucket i holds the keys whose highest bit differing from the last key
 * taken is bit i - 1. Push is O(1); a pop that finds bucket 0 empty moves
 * the lowest non-empty bucket down, a linear scan. Each key moves at most
 * 64 times and usually a few, all sequential memory. With a million keys
 * the whole run is ~1.5x faster than with a 4-ary heap (what remains is
 * cache misses on the slots). Keys are unique (the slot), so the order is
 * exactly that of any other min-heap.
 *
 * A zeroed struct is an empty heap. Push and pop are inline; the refill of
 * bucket 0 is in gen_rheap.c.
 */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "tcpa_common.h"

struct gen_rheap_bucket {
	uint64_t *v;
	size_t n;
	size_t cap;
};

struct gen_rheap {
	uint64_t last;          /* the last key popped */
	size_t size;
	uint64_t used;          /* bit i - 1 set: bucket i (1..64) not empty */
	struct gen_rheap_bucket b[65];
};

/* The bucket of @p key: 1 + the highest bit where it differs from @p last. */
static inline unsigned
gen_rheap_bucket_of(uint64_t key, uint64_t last)
{
	return key == last ? 0 : 64 - (unsigned)__builtin_clzll(key ^ last);
}

/* Append @p key to bucket @p i. @return 0 or -ENOMEM. */
static inline int
gen_rheap_bucket_add(struct gen_rheap *h, unsigned i, uint64_t key)
{
	struct gen_rheap_bucket *b = &h->b[i];

	if (unlikely(b->n == b->cap)) {
		size_t cap = b->cap != 0 ? 2 * b->cap : 256;
		uint64_t *v = realloc(b->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n++] = key;
	if (i != 0)
		h->used |= 1ULL << (i - 1);
	return 0;
}

/** Add @p key, not below the last key popped. @return 0 or -ENOMEM. */
static inline int
gen_rheap_push(struct gen_rheap *h, uint64_t key)
{
	h->size++;
	return gen_rheap_bucket_add(h, gen_rheap_bucket_of(key, h->last), key);
}

/**
 * Bucket 0 is empty: make the lowest non-empty bucket's minimum the last
 * key, which moves every key of that bucket to a lower one.
 * @return 0 or -ENOMEM.
 */
int gen_rheap_refill(struct gen_rheap *h);

/** Take the smallest key; the heap must not be empty. @return 0 or -ENOMEM. */
static inline int
gen_rheap_pop(struct gen_rheap *h, uint64_t *key)
{
	if (h->b[0].n == 0 && gen_rheap_refill(h) != 0)
		return -ENOMEM;
	h->size--;
	*key = h->b[0].v[--h->b[0].n];
	return 0;
}

/** Free the buckets. */
void gen_rheap_free(struct gen_rheap *h);

#endif /* TCPA_GEN_RHEAP_H */
