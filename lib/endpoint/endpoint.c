/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Endpoint table: open addressing with linear probing over records that
 * are never removed. The number of distinct endpoints on a mirrored port is
 * small next to the number of connections, and keeping records means their
 * anomaly history survives the connections.
 */
#include <errno.h>
#include <string.h>

#include "tcpa_endpoint.h"

struct TCPA_CACHE_ALIGNED tcpa_ep_table {
	struct tcpa_ep *rec;    /* rec[0] unused; slots 1..mask+1 */
	uint32_t mask;
	uint32_t used;
	struct tcpa_hash_secret secret;
};

/*
 * Slots for @capacity records: a power of two with room for the tenth that
 * tcpa_ep_get() keeps free (it refuses at mask - mask / 10 records), so that
 * @capacity records really fit. Rounding up to capacity alone held only 90%
 * of it, and none at all for a capacity of 1.
 */
static uint32_t
slots_for(uint32_t capacity)
{
	uint32_t n = 1;

	while (capacity > (n - 1) - (n - 1) / 10)
		n <<= 1;
	return n;
}

size_t
tcpa_ep_table_memsize(uint32_t capacity)
{
	if (capacity == 0 || capacity > (1U << 28))
		return 0;
	return sizeof(struct tcpa_ep_table) +
		((size_t)slots_for(capacity) + 1) * sizeof(struct tcpa_ep);
}

struct tcpa_ep_table *
tcpa_ep_table_init(void *mem, uint32_t capacity, const struct tcpa_hash_secret *secret)
{
	struct tcpa_ep_table *t = mem;
	uint32_t n;

	if (mem == NULL || ((uintptr_t)mem & 63) != 0 || tcpa_ep_table_memsize(capacity) == 0 ||
			secret == NULL) {
		errno = EINVAL;
		return NULL;
	}
	n = slots_for(capacity);
	memset(t, 0, sizeof(*t));
	t->rec = (struct tcpa_ep *)(t + 1);
	memset(t->rec, 0, ((size_t)n + 1) * sizeof(struct tcpa_ep));
	t->mask = n - 1;
	t->secret = *secret;
	return t;
}

static uint32_t
key_hash(const struct tcpa_ep_table *t, const struct tcpa_ep_key *k)
{
	struct tcpa_flow_key fk;

	/* Reuse the keyed flow hash: the endpoint key fits in a flow key. */
	memset(&fk, 0, sizeof(fk));
	fk.ip[0] = k->ip;
	fk.port[0] = k->port;
	fk.port[1] = k->role;
	fk.vlan = k->vlan;
	return (uint32_t)tcpa_flow_key_hash(&fk, &t->secret);
}

uint32_t
tcpa_ep_get(struct tcpa_ep_table *t, const struct tcpa_ep_key *k)
{
	uint32_t h = key_hash(t, k);

	for (uint32_t n = 0; n <= t->mask; n++) {
		uint32_t i = ((h + n) & t->mask) + 1;
		struct tcpa_ep *e = &t->rec[i];

		if (e->used == 0) {
			/* Keep a tenth free: probes stay short. */
			if (t->used >= t->mask - t->mask / 10)
				return 0;
			e->key = *k;
			t->used++;
			__atomic_store_n(&e->used, 1, __ATOMIC_RELEASE);
			return i;
		}
		if (memcmp(&e->key, k, sizeof(*k)) == 0)
			return i;
	}
	return 0;
}

struct tcpa_ep *
tcpa_ep_at(struct tcpa_ep_table *t, uint32_t i)
{
	return &t->rec[i];
}

uint32_t
tcpa_ep_slots(const struct tcpa_ep_table *t)
{
	return t->mask + 1;
}

uint32_t
tcpa_ep_count(const struct tcpa_ep_table *t)
{
	return t->used;
}

void
tcpa_ep_key_of(const struct tcpa_flow *f, unsigned side, unsigned role, struct tcpa_ep_key *k)
{
	memset(k, 0, sizeof(*k));
	k->ip = f->key.ip[side];
	k->vlan = f->key.vlan;
	k->role = (uint8_t)role;
	k->port = role == TCPA_EP_SERVER ? f->key.port[side] : 0;
}
