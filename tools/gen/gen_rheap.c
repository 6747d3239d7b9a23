/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Radix heap (gen_rheap.h): the pop that finds bucket 0 empty, and the
 * buckets' memory.
 */
#include <errno.h>
#include <stdlib.h>

#include "tcpa_common.h"

#include "gen_rheap.h"

int
gen_rheap_refill(struct gen_rheap *h)
{
	unsigned i = 1 + (unsigned)__builtin_ctzll(h->used);
	struct gen_rheap_bucket *b = &h->b[i];
	uint64_t m;
	size_t j;

	h->used &= ~(1ULL << (i - 1));
	m = b->v[0];
	for (j = 1; j < b->n; j++)
		m = b->v[j] < m ? b->v[j] : m;
	h->last = m;
	/* Every key of bucket i lands in a lower bucket. */
	for (j = 0; j < b->n; j++)
		if (gen_rheap_bucket_add(h, gen_rheap_bucket_of(b->v[j], m), b->v[j]) != 0)
			return -ENOMEM;
	b->n = 0;
	return 0;
}

void
gen_rheap_free(struct gen_rheap *h)
{
	unsigned i;

	for (i = 0; i < TCPA_ARRAY_SIZE(h->b); i++)
		free(h->b[i].v);
}
