/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-core flow table.
 *
 * Layout of the caller's region: header | buckets | entries | cold entries |
 * free stack | wheel list heads. Entries and cold entries are of the
 * embedding layer's types (struct tcpa_flow_params): the table reads only
 * the struct tcpa_flow / struct tcpa_flow_cold each starts with, and
 * addresses them by index times size. Entry index 0 is never used, so a zero index means
 * "empty" everywhere. Indexes above the capacity name list sentinels (one
 * per wheel slot plus the expiry work list), which makes every list
 * circular and every unlink O(1) without knowing the list.
 *
 * Buckets: 8 slots, signatures and indexes split so the signature compare
 * is one cache line and vectorizes. A key has two candidate buckets; with
 * at most 4 flows per bucket on average at full capacity, both being full
 * is rare, and then a flow of those buckets is evicted.
 *
 * Expiry: a lazy timer wheel. A flow sits in the slot of the time it would
 * expire if it saw no more packets. Packets only move last_ms; when the
 * slot's time has passed, flows that did see traffic are relinked further
 * on, the others expire. A state change that shortens the timeout relinks
 * at once (tcpa_flow_set_tmo), so nothing outlives its timeout.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "flow_private.h"

static inline size_t
align64(size_t x)
{
	return (x + 63) & ~(size_t)63;
}

static uint32_t
nb_buckets(uint32_t capacity)
{
	/*
	 * At least two: b2_of() must name a bucket other than b1 (with one,
	 * it would name bkt[1], past the end of the array), and pick_victim()
	 * must see both.
	 */
	uint32_t n = 2;

	/* Slots = 2x capacity at least: buckets run half full when the table is. */
	while ((uint64_t)n * BKT_SLOTS < (uint64_t)capacity * 2)
		n <<= 1;
	return n;
}

static bool
params_ok(const struct tcpa_flow_params *prm)
{
	uint32_t a = prm->align;

	return prm->capacity != 0 && prm->capacity <= (1U << 31) &&
		a >= 4 && a <= 4096 && (a & (a - 1)) == 0 &&
		prm->entry_size >= sizeof(struct tcpa_flow) && prm->entry_size % a == 0 &&
		prm->cold_size >= sizeof(struct tcpa_flow_cold) && prm->cold_size % a == 0;
}

size_t
tcpa_flow_table_memsize(const struct tcpa_flow_params *prm)
{
	size_t n;

	if (prm == NULL || !params_ok(prm))
		return 0;
	n = (size_t)prm->capacity + 1;
	return align64(sizeof(struct tcpa_flow_table)) +
		align64((size_t)nb_buckets(prm->capacity) * sizeof(struct bucket)) +
		align64(n * prm->entry_size) + align64(n * prm->cold_size) +
		align64((size_t)prm->capacity * sizeof(uint32_t)) +
		align64((WHEEL_SLOTS + 1) * sizeof(struct tcpa_flow_link));
}

/* Inverse of odd @a modulo 2^64 (Newton: each step doubles the good bits). */
static uint64_t
inverse_odd(uint64_t a)
{
	uint64_t x = a;         /* right to 3 bits: a * a = 1 mod 8 */

	for (unsigned i = 0; i < 5; i++)
		x *= 2 - a * x;
	return x;
}

/* ---- lists ---- */

static inline struct tcpa_flow_link *
link_of(struct tcpa_flow_table *t, uint32_t i)
{
	return i <= t->cap ? &cold_at(t, i)->tl : &t->heads[i - t->cap - 1];
}

static inline uint32_t
head_idx(const struct tcpa_flow_table *t, uint32_t slot)
{
	return t->cap + 1 + slot;
}

#define WORK_SLOT WHEEL_SLOTS

static inline void
list_unlink(struct tcpa_flow_table *t, uint32_t i)
{
	struct tcpa_flow_link *l = link_of(t, i);

	link_of(t, l->prev)->next = l->next;
	link_of(t, l->next)->prev = l->prev;
	l->prev = l->next = 0;
}

static inline void
list_add_tail(struct tcpa_flow_table *t, uint32_t head, uint32_t i)
{
	struct tcpa_flow_link *h = link_of(t, head), *l = link_of(t, i);

	l->next = head;
	l->prev = h->prev;
	link_of(t, h->prev)->next = i;
	h->prev = i;
}

static inline bool
list_empty(struct tcpa_flow_table *t, uint32_t head)
{
	return link_of(t, head)->next == head;
}

/* Move every node of list @from to the end of list @to. */
static void
list_splice(struct tcpa_flow_table *t, uint32_t from, uint32_t to)
{
	struct tcpa_flow_link *f = link_of(t, from), *d = link_of(t, to);
	uint32_t first = f->next, last = f->prev;

	if (first == from)
		return;
	link_of(t, first)->prev = d->prev;
	link_of(t, d->prev)->next = first;
	link_of(t, last)->next = to;
	d->prev = last;
	f->next = f->prev = from;
}

/* ---- wheel ---- */

static inline uint32_t
expiry_ms(const struct tcpa_flow_table *t, const struct tcpa_flow *f)
{
	return f->last_ms + t->timeout_ms[f->tmo];
}

/*
 * Ticks are ms >> TICK_SHIFT, so they wrap at 2^(32 - TICK_SHIFT), not at
 * 2^32: compare them in that space (shifting the difference up), or after
 * the ms clock wraps (every ~49.7 days of packet time) every new tick would
 * look older than the cursor and the wheel would stop expiring anything.
 */
static inline bool
tick_lt(uint32_t a, uint32_t b)
{
	return (int32_t)((a - b) << TICK_SHIFT) < 0;
}

/* Packet times in ms wrap at 2^32. */
static inline bool
ms_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static void
wheel_link(struct tcpa_flow_table *t, struct tcpa_flow *f)
{
	uint32_t tick = expiry_ms(t, f) >> TICK_SHIFT;
	uint32_t i = idx_of(t, f);

	if (!t->started) {
		t->cur_tick = f->last_ms >> TICK_SHIFT;
		t->started = true;
	}
	/* Never behind the cursor, or it would wait a whole turn. */
	if (tick_lt(tick, t->cur_tick))
		tick = t->cur_tick;
	list_add_tail(t, head_idx(t, tick & (WHEEL_SLOTS - 1)), i);
}

/* ---- buckets ---- */

static int
bucket_free_slot(const struct bucket *b)
{
	for (unsigned s = 0; s < BKT_SLOTS; s++)
		if (b->idx[s] == 0)
			return (int)s;
	return -1;
}

static unsigned
bucket_used(const struct bucket *b)
{
	unsigned n = 0;

	for (unsigned s = 0; s < BKT_SLOTS; s++)
		n += b->idx[s] != 0;
	return n;
}

/* Clear the bucket slot that points at entry @i. */
static void
bucket_clear(struct tcpa_flow_table *t, uint32_t i)
{
	const struct tcpa_flow *f = ent_at(t, i);
	uint64_t hash = tcpa_flow_key_hash(&f->key, &t->secret);
	uint32_t b1 = b1_of(t, hash);
	uint32_t bs[2] = { b1, b2_of(t, b1, sig_of(hash)) };

	for (unsigned j = 0; j < 2; j++) {
		struct bucket *b = &t->bkt[bs[j]];

		for (unsigned s = 0; s < BKT_SLOTS; s++) {
			if (b->idx[s] == i) {
				b->idx[s] = 0;
				b->sig[s] = 0;
				return;
			}
		}
	}
	TCPA_ASSERT(0);
}

static void
entry_release(struct tcpa_flow_table *t, struct tcpa_flow *f)
{
	uint32_t i = idx_of(t, f);

	bucket_clear(t, i);
	list_unlink(t, i);
	f->live = 0;
	t->free[t->nfree++] = i;
}

void
tcpa_flow_remove(struct tcpa_flow_table *t, struct tcpa_flow *f)
{
	entry_release(t, f);
}

/* Is @a a better eviction victim than @b? Lower class, then older. */
static inline bool
victim_better(const struct tcpa_flow *a, const struct tcpa_flow *b)
{
	if (a->tmo != b->tmo)
		return a->tmo < b->tmo;
	return ms_lt(a->last_ms, b->last_ms);
}

static struct tcpa_flow *
pick_victim(struct tcpa_flow_table *t, uint32_t b1, uint32_t b2)
{
	struct tcpa_flow *best = NULL;
	uint32_t b = b1;

	/*
	 * The two candidate buckets first; if they are empty (possible only
	 * when the entry pool, not the buckets, is exhausted) walk on from b1
	 * until a few candidates were seen: O(1) at any fill.
	 */
	for (unsigned n = 0, seen = 0; n < t->bmask + 1 && (seen < 8 || n < 2); n++) {
		const struct bucket *bk = &t->bkt[b];

		for (unsigned s = 0; s < BKT_SLOTS; s++) {
			struct tcpa_flow *f;

			if (bk->idx[s] == 0)
				continue;
			f = ent_at(t, bk->idx[s]);
			seen++;
			if (best == NULL || victim_better(f, best))
				best = f;
		}
		b = n == 0 ? b2 : (b + 1) & t->bmask;
	}
	return best;
}

struct tcpa_flow *
tcpa_flow_insert(struct tcpa_flow_table *t, const struct tcpa_flow_key *k, uint64_t hash,
		uint8_t tmo, uint32_t now_ms)
{
	uint32_t sig = sig_of(hash), b1 = b1_of(t, hash), b2 = b2_of(t, b1, sig);
	struct bucket *bk;
	struct tcpa_flow *f;
	uint32_t i;
	int s;

	if (unlikely((t->nfree == 0 && t->fresh == t->cap) ||
			(bucket_free_slot(&t->bkt[b1]) < 0 && bucket_free_slot(&t->bkt[b2]) < 0))) {
		struct tcpa_flow *v = pick_victim(t, b1, b2);

		t->drop(t->ctx, v, 1);
		entry_release(t, v);
	}
	/* The less loaded bucket: keeps both candidates with room. */
	bk = bucket_used(&t->bkt[b1]) <= bucket_used(&t->bkt[b2]) ? &t->bkt[b1] : &t->bkt[b2];
	s = bucket_free_slot(bk);
	if (s < 0)
		bk = bk == &t->bkt[b1] ? &t->bkt[b2] : &t->bkt[b1];
	s = bucket_free_slot(bk);
	TCPA_ASSERT(s >= 0);

	/* A freed entry (still warm in cache), else one never used. */
	if (t->nfree != 0)
		i = t->free[--t->nfree];
	else
		__atomic_store_n(&t->fresh, i = t->fresh + 1, __ATOMIC_RELEASE);
	f = ent_at(t, i);
	memset(f, 0, t->esz);
	memset(cold_at(t, i), 0, t->csz);
	f->key = *k;
	f->live = 1;
	f->tmo = tmo;
	f->last_ms = now_ms;
	bk->sig[s] = sig;
	bk->idx[s] = i;
	wheel_link(t, f);
	return f;
}

void
tcpa_flow_set_tmo(struct tcpa_flow_table *t, struct tcpa_flow *f, uint8_t tmo)
{
	if (f->tmo == tmo)
		return;
	f->tmo = tmo;
	list_unlink(t, idx_of(t, f));
	wheel_link(t, f);
}

unsigned
tcpa_flow_age_step(struct tcpa_flow_table *t, uint32_t now_ms, unsigned budget)
{
	uint32_t now_tick = now_ms >> TICK_SHIFT;
	uint32_t work = head_idx(t, WORK_SLOT);
	unsigned visited = 0;

	if (!t->started)
		return 0;
	/* After a long gap every slot is due once: skip whole idle turns. */
	if (tick_lt(t->cur_tick + WHEEL_SLOTS, now_tick))
		t->cur_tick = now_tick - WHEEL_SLOTS;

	while (visited < budget) {
		struct tcpa_flow *f;
		uint32_t i;

		if (list_empty(t, work)) {
			/* Only a tick that has fully passed is due. */
			if (!tick_lt(t->cur_tick, now_tick))
				break;
			list_splice(t, head_idx(t, t->cur_tick & (WHEEL_SLOTS - 1)), work);
			t->cur_tick++;
			visited++;
			continue;
		}
		i = link_of(t, work)->next;
		f = ent_at(t, i);
		list_unlink(t, i);
		visited++;
		if ((int32_t)(now_ms - expiry_ms(t, f)) >= 0) {
			t->drop(t->ctx, f, 0);
			f->live = 0;
			t->free[t->nfree++] = i;
			bucket_clear(t, i);
		} else {
			wheel_link(t, f);
		}
	}
	return visited;
}

struct tcpa_flow_table *
tcpa_flow_table_init(void *mem, const struct tcpa_flow_params *prm)
{
	struct tcpa_flow_table *t = mem;
	uint8_t *p = mem;
	uint32_t nb, cap;
	size_t n;

	if (mem == NULL || ((uintptr_t)mem & 63) != 0 || tcpa_flow_table_memsize(prm) == 0 ||
			prm->timeout_ms == NULL || prm->secret == NULL || prm->drop == NULL) {
		errno = EINVAL;
		return NULL;
	}
	cap = prm->capacity;
	n = (size_t)cap + 1;
	nb = nb_buckets(cap);
	memset(t, 0, sizeof(*t));
	p += align64(sizeof(*t));
	t->bkt = (struct bucket *)(void *)p;
	p += align64((size_t)nb * sizeof(struct bucket));
	t->ent = p;
	p += align64(n * prm->entry_size);
	t->cold = p;
	p += align64(n * prm->cold_size);
	t->free = (uint32_t *)(void *)p;
	p += align64((size_t)cap * sizeof(uint32_t));
	t->heads = (struct tcpa_flow_link *)(void *)p;

	t->lookup_burst = flow_lookup_burst_select();
	t->bytes = tcpa_flow_table_memsize(prm);
	t->esz = prm->entry_size;
	t->csz = prm->cold_size;
	t->etz = (uint32_t)__builtin_ctz(prm->entry_size);
	t->einv = inverse_odd(prm->entry_size >> t->etz);
	t->cap = cap;
	t->bmask = nb - 1;
	/*
	 * Entries are handed out in index order until every one was used once:
	 * no free list to build, and a table far from full touches only the
	 * memory of the flows it has seen (the region of a zeroed allocation
	 * stays unmapped beyond them).
	 */
	if (!prm->zeroed) {
		memset(t->bkt, 0, (size_t)nb * sizeof(struct bucket));
		memset(t->ent, 0, n * prm->entry_size);
	}
	t->nfree = 0;
	t->fresh = 0;
	for (uint32_t s = 0; s <= WHEEL_SLOTS; s++)
		t->heads[s].prev = t->heads[s].next = head_idx(t, s);
	tcpa_flow_table_set_timeouts(t, prm->timeout_ms);
	t->secret = *prm->secret;
	t->drop = prm->drop;
	t->ctx = prm->ctx;
	return t;
}

void
tcpa_flow_table_set_timeouts(struct tcpa_flow_table *t, const uint32_t timeout_ms[TCPA_FLOW_TMO_MAX])
{
	for (unsigned c = 0; c < TCPA_FLOW_TMO_MAX; c++)
		t->timeout_ms[c] = timeout_ms[c];
}

void
tcpa_flow_table_bases(struct tcpa_flow_table *t, void **ent, void **cold)
{
	*ent = t->ent;
	*cold = t->cold;
}

struct tcpa_flow_cold *
tcpa_flow_cold_of(struct tcpa_flow_table *t, const struct tcpa_flow *f)
{
	return cold_at(t, idx_of(t, f));
}

uint32_t
tcpa_flow_index(const struct tcpa_flow_table *t, const struct tcpa_flow *f)
{
	return idx_of(t, f);
}

struct tcpa_flow *
tcpa_flow_at(struct tcpa_flow_table *t, uint32_t i)
{
	return i >= 1 && i <= t->cap ? ent_at(t, i) : NULL;
}

uint32_t
tcpa_flow_used(const struct tcpa_flow_table *t)
{
	return __atomic_load_n(&t->fresh, __ATOMIC_ACQUIRE);
}

uint32_t
tcpa_flow_count(const struct tcpa_flow_table *t)
{
	return t->fresh - t->nfree;
}

size_t
tcpa_flow_table_bytes(const struct tcpa_flow_table *t)
{
	return t->bytes;
}

uint32_t
tcpa_flow_capacity(const struct tcpa_flow_table *t)
{
	return t->cap;
}

void
tcpa_flow_foreach(struct tcpa_flow_table *t, int (*fn)(void *arg, struct tcpa_flow *f), void *arg)
{
	uint32_t used = __atomic_load_n(&t->fresh, __ATOMIC_ACQUIRE);

	for (uint32_t i = 1; i <= used; i++) {
		struct tcpa_flow *f = ent_at(t, i);

		if (__atomic_load_n(&f->live, __ATOMIC_RELAXED) != 0 && fn(arg, f) != 0)
			return;
	}
}
