/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for lib/endpoint: the per-endpoint table (find or add, roles,
 * which records give way when it is full and which never do, references
 * that stop resolving, readers' copies), the keys built from a flow, and
 * the state counters moved by tcpa_ep_move().
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpa_endpoint.h"

#include "check.h"

static struct tcpa_hash_secret secret;

static struct tcpa_ep_table *
table_new(uint32_t cap, void **mem)
{
	size_t sz = tcpa_ep_table_memsize(cap);
	struct tcpa_ep_table *t;

	if (sz == 0) {
		*mem = NULL;
		return NULL;
	}
	*mem = aligned_alloc(64, (sz + 63) & ~(size_t)63);
	if (*mem == NULL)
		exit(2);
	memset(*mem, 0x5a, sz);     /* init must not rely on zeroed memory */
	t = tcpa_ep_table_init(*mem, cap, &secret, 0);
	if (t == NULL) {
		fprintf(stderr, "tcpa_ep_table_init(%u) failed\n", cap);
		exit(2);
	}
	return t;
}

static void
key(struct tcpa_ep_key *k, uint32_t addr, uint16_t port, uint8_t role, uint32_t vlan)
{
	memset(k, 0, sizeof(*k));
	tcpa_ip_set_v4h(&k->ip, addr);
	k->port = port;
	k->role = role;
	k->zone = vlan;
}

static uint32_t
get(struct tcpa_ep_table *t, const struct tcpa_ep_key *k)
{
	int ev = 0;

	return tcpa_ep_get(t, k, &ev);
}

static void
test_memsize_init(void)
{
	struct tcpa_ep rec;
	void *mem;

	CHECK_EQ(tcpa_ep_table_memsize(0), 0);
	CHECK_EQ(tcpa_ep_table_memsize(TCPA_EP_MAX + 1), 0);
	CHECK(tcpa_ep_table_memsize(TCPA_EP_MAX) > 0);
	CHECK(tcpa_ep_table_memsize(1) >= sizeof(struct tcpa_ep));
	CHECK(tcpa_ep_table_memsize(1000) >= 1000 * sizeof(struct tcpa_ep));
	CHECK_EQ(sizeof(struct tcpa_ep) % 64, 0);

	mem = aligned_alloc(64, tcpa_ep_table_memsize(16) + 64);
	if (mem == NULL)
		exit(2);
	errno = 0;
	CHECK(tcpa_ep_table_init((uint8_t *)mem + 4, 16, &secret, 0) == NULL);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK(tcpa_ep_table_init(mem, 0, &secret, 0) == NULL);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK(tcpa_ep_table_init(mem, 16, NULL, 0) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK(tcpa_ep_table_init(NULL, 16, &secret, 0) == NULL);
	{
		struct tcpa_ep_table *t = tcpa_ep_table_init(mem, 16, &secret, 0);

		CHECK(t != NULL);
		if (t != NULL) {
			CHECK_EQ(tcpa_ep_count(t), 0);
			CHECK_EQ(tcpa_ep_slots(t), 0);
			CHECK_EQ(tcpa_ep_table_bytes(t), tcpa_ep_table_memsize(16));
			CHECK(tcpa_ep_at(t, 0) == NULL);
			CHECK(!tcpa_ep_read(t, 1, &rec));
		}
	}
	free(mem);
}

static void
test_get(void)
{
	struct tcpa_ep_key k, k2;
	struct tcpa_ep_table *t;
	uint32_t a, b;
	void *mem;

	t = table_new(1024, &mem);
	key(&k, 0x0a000002, 80, TCPA_EP_SERVER, 0);
	a = get(t, &k);
	CHECK(a != 0 && (a & TCPA_EP_MAX) >= 1 && (a & TCPA_EP_MAX) <= tcpa_ep_slots(t));
	CHECK_EQ(tcpa_ep_count(t), 1);
	/* Same key, same index, no new record. */
	CHECK_EQ(get(t, &k), a);
	k2 = k;
	CHECK_EQ(get(t, &k2), a);
	CHECK_EQ(tcpa_ep_count(t), 1);
	/* The record holds the key, published, counters zero. */
	CHECK(memcmp(&tcpa_ep_at(t, a)->key, &k, sizeof(k)) == 0);
	CHECK_EQ(tcpa_ep_at(t, a)->conns, 0);
	for (unsigned s = 0; s < TCPA_TCP_ST_MAX; s++)
		CHECK_EQ(tcpa_ep_at(t, a)->states[s], 0);
	for (unsigned x = 0; x < TCPA_ANOM_MAX; x++)
		CHECK_EQ(tcpa_ep_at(t, a)->anom[x], 0);

	/* Other port, other address, other vlan: other records. */
	key(&k2, 0x0a000002, 443, TCPA_EP_SERVER, 0);
	b = get(t, &k2);
	CHECK(b != 0 && b != a);
	key(&k2, 0x0a000003, 80, TCPA_EP_SERVER, 0);
	CHECK(get(t, &k2) != a);
	key(&k2, 0x0a000002, 80, TCPA_EP_SERVER, 7);
	CHECK(get(t, &k2) != a);
	CHECK_EQ(tcpa_ep_count(t), 4);
	CHECK_EQ(get(t, &k), a);
	CHECK_EQ(tcpa_ep_count(t), 4);

	/* Many keys: each gets its own index, found again. */
	{
		enum { N = 900 };
		uint32_t idx[N];

		for (unsigned i = 0; i < N; i++) {
			key(&k2, 0xac100000 + i, (uint16_t)(1000 + i % 7), TCPA_EP_SERVER, 0);
			idx[i] = get(t, &k2);
			CHECK(idx[i] != 0);
		}
		for (unsigned i = 0; i < N; i++) {
			key(&k2, 0xac100000 + i, (uint16_t)(1000 + i % 7), TCPA_EP_SERVER, 0);
			CHECK_EQ(get(t, &k2), idx[i]);
			for (unsigned j = 0; j < i; j += 97)
				CHECK(idx[j] != idx[i]);
		}
		CHECK_EQ(tcpa_ep_count(t), 4 + N);
	}
	free(mem);
}

static void
test_roles(void)
{
	struct tcpa_ep_key kc, ks, ks0;
	struct tcpa_ep_table *t;
	uint32_t c, s, s0;
	void *mem;

	t = table_new(64, &mem);
	/* One host, as a client (port 0) and as a server on port 8080. */
	key(&kc, 0x0a000001, 0, TCPA_EP_CLIENT, 0);
	key(&ks, 0x0a000001, 8080, TCPA_EP_SERVER, 0);
	/* Same bytes but the role: still distinct (a server on port 0 is odd, not equal). */
	key(&ks0, 0x0a000001, 0, TCPA_EP_SERVER, 0);
	c = get(t, &kc);
	s = get(t, &ks);
	s0 = get(t, &ks0);
	CHECK(c != 0 && s != 0 && s0 != 0);
	CHECK(c != s && c != s0 && s != s0);
	CHECK_EQ(tcpa_ep_at(t, c)->key.role, TCPA_EP_CLIENT);
	CHECK_EQ(tcpa_ep_at(t, s)->key.role, TCPA_EP_SERVER);
	CHECK_EQ(tcpa_ep_at(t, s)->key.port, 8080);
	CHECK_EQ(tcpa_ep_count(t), 3);
	free(mem);
}

static void
test_key_of(void)
{
	struct tcpa_flow f;
	struct tcpa_ep_key k;

	memset(&f, 0, sizeof(f));
	tcpa_ip_set_v4h(&f.key.ip[0], 0x0a000001);
	tcpa_ip_set_v4h(&f.key.ip[1], 0x0a000002);
	f.key.port[0] = 40000;
	f.key.port[1] = 80;
	f.key.zone = 42;
	memset(&k, 0xff, sizeof(k));
	tcpa_ep_key_of(&f, 1, TCPA_EP_SERVER, &k);
	CHECK(memcmp(&k.ip, &f.key.ip[1], sizeof(k.ip)) == 0);
	CHECK_EQ(k.port, 80);
	CHECK_EQ(k.role, TCPA_EP_SERVER);
	CHECK_EQ(k.zone, 42);
	CHECK_EQ(k.pad, 0);
	memset(&k, 0xff, sizeof(k));
	tcpa_ep_key_of(&f, 0, TCPA_EP_CLIENT, &k);
	CHECK(memcmp(&k.ip, &f.key.ip[0], sizeof(k.ip)) == 0);
	/* A client is its address: the ephemeral port is not part of it. */
	CHECK_EQ(k.port, 0);
	CHECK_EQ(k.role, TCPA_EP_CLIENT);
	CHECK_EQ(k.zone, 42);
	CHECK_EQ(k.pad, 0);
	/* Two connections from one client share the client record key. */
	{
		struct tcpa_ep_key k2;

		f.key.port[0] = 40001;
		tcpa_ep_key_of(&f, 0, TCPA_EP_CLIENT, &k2);
		CHECK(memcmp(&k, &k2, sizeof(k)) == 0);
	}
}

/* A record worth keeping: a live connection, or an anomaly. */
static void
keep(struct tcpa_ep_table *t, uint32_t ref, unsigned how)
{
	struct tcpa_ep *e = tcpa_ep_at(t, ref);

	if (how == 0) {
		e->states[TCPA_TCP_ST_ESTABLISHED] = 1;
	} else {
		e->anom[TCPA_ANOM_rst_abort] = 1;
		e->noted = 1;
	}
	e->conns = 5;
}

/*
 * Capacity @cap of records worth keeping: at least @cap fit, then new keys
 * are refused and nothing gives way.
 */
static void
full_at(uint32_t cap)
{
	struct tcpa_ep_table *t;
	struct tcpa_ep_key k;
	uint32_t n = 0, first0 = 0;
	void *mem;

	t = table_new(cap, &mem);
	for (uint32_t i = 0; i < cap + 10; i++) {
		uint32_t x;
		int ev = 0;

		key(&k, 0x0b000000 + i, 80, TCPA_EP_SERVER, 0);
		x = tcpa_ep_get(t, &k, &ev);
		CHECK_EQ(ev, 0);
		if (x == 0) {
			if (first0 == 0)
				first0 = i + 1;
			continue;
		}
		keep(t, x, i & 1);
		n++;
	}
	/* Two candidate buckets of 8 per key, twice the capacity in slots. */
	if (n < cap)
		fprintf(stderr, "  capacity %u: %u records fit\n", cap, n);
	CHECK(n == cap);
	CHECK(first0 != 0);
	CHECK_EQ(tcpa_ep_count(t), n);
	for (uint32_t i = 0; i < n + 10; i++) {
		key(&k, 0x0b000000 + i, 80, TCPA_EP_SERVER, 0);
		if (i + 1 < first0)
			CHECK(get(t, &k) != 0);
	}
	key(&k, 0x0c000000, 80, TCPA_EP_SERVER, 0);
	CHECK_EQ(get(t, &k), 0);
	CHECK_EQ(tcpa_ep_count(t), n);
	/* Readers find each record once. */
	{
		struct tcpa_ep rec;
		uint32_t used = 0;

		for (uint32_t i = 1; i <= tcpa_ep_slots(t); i++)
			used += tcpa_ep_read(t, i, &rec);
		CHECK_EQ(used, n);
	}
	free(mem);
}

static void
test_full(void)
{
	full_at(1);
	full_at(2);
	full_at(3);
	full_at(8);
	full_at(10);
	full_at(16);
	full_at(100);
	full_at(1024);
}

/*
 * Full of records with nothing live and nothing to report: a new endpoint
 * takes one's place; the old reference stops resolving and a reader no
 * longer sees the old key.
 */
static void
test_give_way(void)
{
	struct tcpa_ep_table *t;
	struct tcpa_ep_key k;
	uint32_t refs[64], nref = 0, r;
	int ev = 0;
	void *mem;

	t = table_new(64, &mem);
	for (uint32_t i = 0; i < 64; i++) {
		key(&k, 0x0d000000 + i, 0, TCPA_EP_CLIENT, 0);
		refs[nref++] = get(t, &k);
	}
	CHECK_EQ(tcpa_ep_count(t), 64);
	key(&k, 0x0e000000, 443, TCPA_EP_SERVER, 0);
	r = tcpa_ep_get(t, &k, &ev);
	CHECK(r != 0);
	CHECK_EQ(ev, 1);
	CHECK_EQ(tcpa_ep_count(t), 64);
	{
		unsigned stale = 0;

		for (uint32_t i = 0; i < nref; i++) {
			if (tcpa_ep_at(t, refs[i]) == NULL) {
				stale++;
				/* Its slot now holds the new endpoint, one generation on. */
				CHECK_EQ(refs[i] & TCPA_EP_MAX, r & TCPA_EP_MAX);
				CHECK(refs[i] != r);
			}
		}
		CHECK_EQ(stale, 1);
	}
	CHECK(memcmp(&tcpa_ep_at(t, r)->key, &k, sizeof(k)) == 0);
	free(mem);
}

/*
 * A SYN flood from spoofed sources: 100,000 one-off clients, each with one
 * connection still in SYN_SENT, into 1024 records beside real endpoints
 * with live connections and anomalies. Nothing is refused, the real ones
 * all stay (their references resolve, their counts intact), the flood's
 * records churn, and every one that gave way is counted.
 */
static void
test_flood(void)
{
	enum { REAL = 100, FLOOD = 100000 };
	struct tcpa_ep_table *t;
	struct tcpa_ep_key k;
	uint32_t real[REAL];
	uint64_t evicted = 0;
	unsigned refused = 0;
	void *mem;

	t = table_new(1024, &mem);
	for (uint32_t i = 0; i < REAL; i++) {
		key(&k, 0x0a000000 + i, 8080, TCPA_EP_SERVER, 0);
		real[i] = get(t, &k);
		keep(t, real[i], i & 1);
	}
	for (uint32_t i = 0; i < FLOOD; i++) {
		uint32_t r;
		int ev = 0;

		key(&k, 0x40000000 + i * 2654435761U, 0, TCPA_EP_CLIENT, 0);
		r = tcpa_ep_get(t, &k, &ev);
		evicted += (unsigned)ev;
		if (r == 0) {
			refused++;
			continue;
		}
		tcpa_ep_at(t, r)->states[TCPA_TCP_ST_SYN_SENT] = 1;
		tcpa_ep_at(t, r)->conns = 1;
	}
	CHECK_EQ(refused, 0);
	CHECK(tcpa_ep_count(t) <= 1024);
	CHECK_EQ(evicted, REAL + FLOOD - tcpa_ep_count(t));
	for (uint32_t i = 0; i < REAL; i++) {
		struct tcpa_ep *e = tcpa_ep_at(t, real[i]);

		CHECK(e != NULL);
		if (e != NULL)
			CHECK_EQ(e->conns, 5);
		key(&k, 0x0a000000 + i, 8080, TCPA_EP_SERVER, 0);
		CHECK_EQ(get(t, &k), real[i]);
	}
	/* A client with two live connections past SYN_SENT is no one-off source. */
	key(&k, 0x0f000001, 0, TCPA_EP_CLIENT, 0);
	{
		uint32_t c = get(t, &k);

		tcpa_ep_at(t, c)->states[TCPA_TCP_ST_ESTABLISHED] = 2;
		tcpa_ep_at(t, c)->conns = 2;
		for (uint32_t i = 0; i < 20000; i++) {
			uint32_t r;

			key(&k, 0x50000000 + i * 2654435761U, 0, TCPA_EP_CLIENT, 0);
			r = get(t, &k);
			if (r != 0)
				tcpa_ep_at(t, r)->states[TCPA_TCP_ST_SYN_SENT] = 1;
		}
		CHECK(tcpa_ep_at(t, c) != NULL);
	}
	free(mem);
}

static void
test_move(void)
{
	struct tcpa_ep_table *t;
	struct tcpa_ep_key k;
	struct tcpa_ep *e;
	uint32_t i;
	void *mem;

	t = table_new(16, &mem);
	key(&k, 0x0a000002, 80, TCPA_EP_SERVER, 0);
	i = get(t, &k);
	e = tcpa_ep_at(t, i);
	/* Three connections appear in SYN_RECEIVED (as the engine binds them). */
	e->states[TCPA_TCP_ST_SYN_RECEIVED] = 3;
	tcpa_ep_move(t, i, TCPA_TCP_ST_SYN_RECEIVED, TCPA_TCP_ST_ESTABLISHED);
	tcpa_ep_move(t, i, TCPA_TCP_ST_SYN_RECEIVED, TCPA_TCP_ST_ESTABLISHED);
	CHECK_EQ(e->states[TCPA_TCP_ST_SYN_RECEIVED], 1);
	CHECK_EQ(e->states[TCPA_TCP_ST_ESTABLISHED], 2);
	tcpa_ep_move(t, i, TCPA_TCP_ST_ESTABLISHED, TCPA_TCP_ST_CLOSE_WAIT);
	CHECK_EQ(e->states[TCPA_TCP_ST_ESTABLISHED], 1);
	CHECK_EQ(e->states[TCPA_TCP_ST_CLOSE_WAIT], 1);
	/* Same state: nothing moves. */
	tcpa_ep_move(t, i, TCPA_TCP_ST_CLOSE_WAIT, TCPA_TCP_ST_CLOSE_WAIT);
	CHECK_EQ(e->states[TCPA_TCP_ST_CLOSE_WAIT], 1);
	/* Never below 0: a connection whose record gave way counts nowhere. */
	tcpa_ep_move(t, i, TCPA_TCP_ST_SYN_SENT, TCPA_TCP_ST_ESTABLISHED);
	CHECK_EQ(e->states[TCPA_TCP_ST_SYN_SENT], 0);
	CHECK_EQ(e->states[TCPA_TCP_ST_ESTABLISHED], 2);
	tcpa_ep_move(t, i, TCPA_TCP_ST_ESTABLISHED, TCPA_TCP_ST_SYN_SENT);
	/* Reference 0 (no record: table was full) is ignored. */
	tcpa_ep_move(t, 0, TCPA_TCP_ST_ESTABLISHED, TCPA_TCP_ST_CLOSED);
	CHECK_EQ(e->states[TCPA_TCP_ST_ESTABLISHED], 1);
	CHECK_EQ(e->states[TCPA_TCP_ST_CLOSED], 0);
	{
		uint32_t sum = 0;

		for (unsigned s = 0; s < TCPA_TCP_ST_MAX; s++)
			sum += e->states[s];
		CHECK_EQ(sum, 4);
	}
	free(mem);
}

static void
test_anom_names(void)
{
	for (unsigned a = 0; a < TCPA_ANOM_MAX; a++) {
		CHECK(strcmp(tcpa_anom_name(a), "?") != 0);
		CHECK(strcmp(tcpa_anom_help(a), "?") != 0);
	}
	CHECK(strcmp(tcpa_anom_name(TCPA_ANOM_close_wait_stuck), "close_wait_stuck") == 0);
	CHECK(strcmp(tcpa_anom_name(TCPA_ANOM_nagle_delay), "nagle_delay") == 0);
	CHECK(strcmp(tcpa_anom_name(TCPA_ANOM_MAX), "?") == 0);
}

int
main(void)
{
	tcpa_hash_secret_init(&secret, 7);

	RUN(test_memsize_init);
	RUN(test_get);
	RUN(test_roles);
	RUN(test_key_of);
	RUN(test_full);
	RUN(test_give_way);
	RUN(test_flood);
	RUN(test_move);
	RUN(test_anom_names);

	return check_summary("endpoint");
}
