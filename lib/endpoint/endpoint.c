/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Endpoint table (tcpa_endpoint.h): records at stable indexes, found
 * through two candidate buckets of 8 (signature, index) slots, as the flow
 * table finds flows. Layout: header | buckets | records | free stack.
 *
 * Records never move (connections hold their index); one that gives way
 * to a new endpoint gets a new generation under its sequence count, which
 * turns every old reference to it stale.
 */
#include <errno.h>
#include <string.h>

#include "tcpa_endpoint.h"

#define BKT_SLOTS 8

struct TCPA_CACHE_ALIGNED bucket {
	uint32_t sig[BKT_SLOTS];
	uint32_t idx[BKT_SLOTS];        /* record index, 0 = empty */
};

struct TCPA_CACHE_ALIGNED tcpa_ep_table {
	struct tcpa_ep_table_head head; /* first: the inline accessors read it */
	struct bucket *bkt;
	uint32_t *free;                 /* stack of freed record indexes */
	uint32_t nfree;
	uint32_t fresh;                 /* records 1..fresh were ever used */
	uint32_t cap;
	uint32_t used;
	uint32_t bmask;
	size_t bytes;
	struct tcpa_hash_secret secret;
};

static inline size_t
align64(size_t x)
{
	return (x + 63) & ~(size_t)63;
}

/* Buckets: 2 slots per record at least, so they run half full at capacity. */
static uint32_t
nb_buckets(uint32_t capacity)
{
	uint32_t n = 2;

	while ((uint64_t)n * BKT_SLOTS < (uint64_t)capacity * 2)
		n <<= 1;
	return n;
}

size_t
tcpa_ep_table_memsize(uint32_t capacity)
{
	if (capacity == 0 || capacity > TCPA_EP_MAX)
		return 0;
	return align64(sizeof(struct tcpa_ep_table)) +
		align64((size_t)nb_buckets(capacity) * sizeof(struct bucket)) +
		align64(((size_t)capacity + 1) * sizeof(struct tcpa_ep)) +
		align64((size_t)capacity * sizeof(uint32_t));
}

struct tcpa_ep_table *
tcpa_ep_table_init(void *mem, uint32_t capacity, const struct tcpa_hash_secret *secret,
		int zeroed)
{
	struct tcpa_ep_table *t = mem;
	uint8_t *p = mem;
	uint32_t nb;

	if (mem == NULL || ((uintptr_t)mem & 63) != 0 || tcpa_ep_table_memsize(capacity) == 0 ||
			secret == NULL) {
		errno = EINVAL;
		return NULL;
	}
	nb = nb_buckets(capacity);
	memset(t, 0, sizeof(*t));
	p += align64(sizeof(*t));
	t->bkt = (struct bucket *)(void *)p;
	p += align64((size_t)nb * sizeof(struct bucket));
	t->head.rec = (struct tcpa_ep *)(void *)p;
	p += align64(((size_t)capacity + 1) * sizeof(struct tcpa_ep));
	t->free = (uint32_t *)(void *)p;
	if (!zeroed) {
		memset(t->bkt, 0, (size_t)nb * sizeof(struct bucket));
		memset(t->head.rec, 0, ((size_t)capacity + 1) * sizeof(struct tcpa_ep));
	}
	t->cap = capacity;
	t->bmask = nb - 1;
	t->bytes = tcpa_ep_table_memsize(capacity);
	t->secret = *secret;
	return t;
}

/* ---- keys and buckets ---- */

static uint64_t
key_hash(const struct tcpa_ep_table *t, const struct tcpa_ep_key *k)
{
	struct tcpa_flow_key fk;

	/* Reuse the keyed flow hash: the endpoint key fits in a flow key. */
	memset(&fk, 0, sizeof(fk));
	fk.ip[0] = k->ip;
	fk.port[0] = k->port;
	fk.port[1] = k->role;
	fk.zone = k->zone;
	return tcpa_flow_key_hash(&fk, &t->secret);
}

static inline uint32_t
sig_of(uint64_t h)
{
	return (uint32_t)(h >> 32) | 1;         /* never 0: 0 marks an empty slot */
}

static inline uint32_t
b2_of(const struct tcpa_ep_table *t, uint32_t b1, uint32_t sig)
{
	uint32_t x = ((sig * 0x9e3779b1U) >> 7) & t->bmask;

	return b1 ^ (x == 0 ? 1 : x);
}

static inline uint32_t
ref_of(const struct tcpa_ep *e, uint32_t i)
{
	return i | ((e->seq >> 1) << TCPA_EP_REF_BITS);
}

/* The slot of bucket @b holding record @i, -1 if none. */
static int
slot_of(const struct bucket *b, uint32_t i)
{
	for (int s = 0; s < BKT_SLOTS; s++)
		if (b->idx[s] == i)
			return s;
	return -1;
}

/* ---- value of a record under pressure ---- */

/* Connections bound to the record: every state, CLOSED ones kept for tuple reuse too. */
static uint32_t
bound_conns(const struct tcpa_ep *e)
{
	uint32_t n = 0;

	for (unsigned s = 0; s < TCPA_TCP_ST_MAX; s++)
		n += e->states[s];
	return n;
}

/*
 * 0: no connection references it and it has nothing to report; 1: a
 * one-off SYN source; 2: worth keeping (never gives way).
 */
static unsigned
worth(const struct tcpa_ep *e)
{
	uint32_t bound;

	if (e->noted)
		return 2;
	bound = bound_conns(e);
	if (bound == 0)
		return 0;
	if (e->key.role == TCPA_EP_CLIENT && e->conns <= 2 &&
			e->states[TCPA_TCP_ST_SYN_SENT] == bound)
		return 1;
	return 2;
}

/* The least valuable record of buckets @b1, @b2 that may give way, or 0. */
static uint32_t
victim(struct tcpa_ep_table *t, uint32_t b1, uint32_t b2)
{
	uint32_t best = 0;
	unsigned bw = 2;

	/* Up to 16 records' first two lines: fetched together, not one by one. */
	for (unsigned k = 0; k < 2; k++) {
		const struct bucket *b = &t->bkt[k == 0 ? b1 : b2];

		for (unsigned s = 0; s < BKT_SLOTS; s++) {
			const uint8_t *r = (const uint8_t *)&t->head.rec[b->idx[s]];

			__builtin_prefetch(r);
			__builtin_prefetch(r + TCPA_CACHE_LINE);
		}
	}
	for (unsigned k = 0; k < 2 && bw > 0; k++) {
		const struct bucket *b = &t->bkt[k == 0 ? b1 : b2];

		for (unsigned s = 0; s < BKT_SLOTS && bw > 0; s++) {
			unsigned w;

			if (b->idx[s] == 0)
				continue;
			w = worth(&t->head.rec[b->idx[s]]);
			if (w < bw) {
				bw = w;
				best = b->idx[s];
			}
		}
	}
	return best;
}

/* Take record @i out of its bucket: its index is free again. */
static void
release(struct tcpa_ep_table *t, uint32_t i)
{
	struct tcpa_ep *e = &t->head.rec[i];
	uint64_t h = key_hash(t, &e->key);
	uint32_t b1 = (uint32_t)h & t->bmask, b2 = b2_of(t, b1, sig_of(h));
	struct bucket *b = &t->bkt[b1];
	int s = slot_of(b, i);

	if (s < 0) {
		b = &t->bkt[b2];
		s = slot_of(b, i);
	}
	TCPA_ASSERT(s >= 0);
	b->idx[s] = 0;
	b->sig[s] = 0;
	/* Odd while free: readers skip it, references to it stop resolving. */
	__atomic_store_n(&e->seq, e->seq | 1, __ATOMIC_RELEASE);
	t->free[t->nfree++] = i;
	t->used--;
}

/* Publish record @i for key @k: generation moves on, counters zeroed. */
static void
publish(struct tcpa_ep *e, const struct tcpa_ep_key *k)
{
	uint32_t seq = e->seq;

	/* Odd while rewritten: readers skip it, old references stop resolving. */
	__atomic_store_n(&e->seq, seq | 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memset((uint8_t *)e + offsetof(struct tcpa_ep, states), 0,
		sizeof(*e) - offsetof(struct tcpa_ep, states));
	e->key = *k;
	__atomic_store_n(&e->seq, (seq | 1) + 1, __ATOMIC_RELEASE);
}

/* A record index for a new endpoint, making room in @b1/@b2 if needed. */
static uint32_t
take(struct tcpa_ep_table *t, uint32_t b1, uint32_t b2, int *evicted)
{
	int room = slot_of(&t->bkt[b1], 0) >= 0 || slot_of(&t->bkt[b2], 0) >= 0;

	if (!room || (t->nfree == 0 && t->fresh == t->cap)) {
		uint32_t v = victim(t, b1, b2);

		if (v == 0)
			return 0;
		release(t, v);
		*evicted = 1;
	}
	return t->nfree != 0 ? t->free[--t->nfree] : ++t->fresh;
}

uint32_t
tcpa_ep_get(struct tcpa_ep_table *t, const struct tcpa_ep_key *k, int *evicted)
{
	uint64_t h = key_hash(t, k);
	uint32_t sig = sig_of(h), b1 = (uint32_t)h & t->bmask, b2 = b2_of(t, b1, sig), i;
	struct bucket *b;
	int s;

	for (unsigned n = 0; n < 2; n++) {
		b = &t->bkt[n == 0 ? b1 : b2];
		for (s = 0; s < BKT_SLOTS; s++) {
			i = b->idx[s];
			if (i != 0 && b->sig[s] == sig &&
					memcmp(&t->head.rec[i].key, k, sizeof(*k)) == 0)
				return ref_of(&t->head.rec[i], i);
		}
	}
	i = take(t, b1, b2, evicted);
	if (i == 0)
		return 0;
	b = slot_of(&t->bkt[b1], 0) >= 0 ? &t->bkt[b1] : &t->bkt[b2];
	s = slot_of(b, 0);
	publish(&t->head.rec[i], k);
	b->sig[s] = sig;
	b->idx[s] = i;
	t->used++;
	return ref_of(&t->head.rec[i], i);
}

/* ---- readers ---- */

uint32_t
tcpa_ep_slots(const struct tcpa_ep_table *t)
{
	return __atomic_load_n(&t->fresh, __ATOMIC_ACQUIRE);
}

int
tcpa_ep_read(const struct tcpa_ep_table *t, uint32_t i, struct tcpa_ep *out)
{
	const struct tcpa_ep *e = &t->head.rec[i];
	uint32_t s1 = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);

	if (s1 == 0 || (s1 & 1) != 0)
		return 0;
	memcpy(out, e, sizeof(*out));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&e->seq, __ATOMIC_RELAXED) == s1;
}

uint32_t
tcpa_ep_count(const struct tcpa_ep_table *t)
{
	return t->used;
}

size_t
tcpa_ep_table_bytes(const struct tcpa_ep_table *t)
{
	return t->bytes;
}

void
tcpa_ep_key_of(const struct tcpa_flow *f, unsigned side, unsigned role, struct tcpa_ep_key *k)
{
	memset(k, 0, sizeof(*k));
	k->ip = f->key.ip[side];
	k->zone = f->key.zone;
	k->role = (uint8_t)role;
	k->port = role == TCPA_EP_SERVER ? f->key.port[side] : 0;
}
