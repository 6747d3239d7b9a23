/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for lib/flow: canonical key and keyed hash (symmetry, secret,
 * core spread), the flow table (insert, lookup, remove, full table,
 * eviction policy) and the expiry wheel (per-class timeouts, touch, class
 * change, long time jumps, ms wraparound, bounded budget).
 */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpa_flow.h"

#include "check.h"

/* ---- helpers ---- */

static uint64_t rng_state = 0x853c49e6748fea9bULL;

static uint64_t
rnd(void)
{
	/* xorshift64*: deterministic, good enough for tuples. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static void
ip6_rand(struct tcpa_ip *ip)
{
	uint64_t a = rnd(), b = rnd();

	memcpy(ip->b, &a, 8);
	memcpy(ip->b + 8, &b, 8);
	ip->b[0] = 0x20;
	ip->b[1] = 0x01;
}

static void
pkt_make(struct tcpa_pkt *p, const struct tcpa_ip *s, uint16_t sp, const struct tcpa_ip *d,
		uint16_t dp, uint32_t vlan)
{
	memset(p, 0, sizeof(*p));
	p->src = *s;
	p->dst = *d;
	p->sport = sp;
	p->dport = dp;
	p->zone = vlan;
	p->family = s->b[10] == 0xff ? 4 : 6;
}

static void
pkt_reverse(const struct tcpa_pkt *p, struct tcpa_pkt *r)
{
	pkt_make(r, &p->dst, p->dport, &p->src, p->sport, p->zone);
}

/* A random IPv4 key (index @i mixed in, so keys are distinct). */
static void
key_rand(struct tcpa_flow_key *k, uint32_t i)
{
	struct tcpa_ip a, b;
	struct tcpa_pkt p;

	tcpa_ip_set_v4h(&a, 0x0a000000U | (i & 0xffffff));
	tcpa_ip_set_v4h(&b, (uint32_t)rnd());
	pkt_make(&p, &a, (uint16_t)(1024 + (rnd() % 60000)), &b, 80, 0);
	tcpa_flow_key_make(&p, k);
}

static struct tcpa_hash_secret secret;

/* Drop callback log. */
#define DROP_LOG 4096
struct drop_log {
	unsigned n;
	unsigned nevict;
	struct tcpa_flow_key key[DROP_LOG];
	int evicted[DROP_LOG];
	uint32_t last_ms[DROP_LOG];
	uint8_t tmo[DROP_LOG];
	uint32_t spare[DROP_LOG];
};

/*
 * The table's tests store entries of their own types: the table's headers
 * and a tag or mark, 52 and 12 bytes (align 4), so the table's index
 * arithmetic runs for sizes that are not powers of two. The engine's
 * 128/64-byte layout is tested in test_params_layouts().
 */
struct test_ent {
	struct tcpa_flow flow;
	uint32_t tag;           /* identifies a flow in the tests; no table code reads it */
};

struct test_cold {
	struct tcpa_flow_cold flow;
	uint32_t mark;
};

static inline uint32_t *
tag_of(struct tcpa_flow *f)
{
	return &((struct test_ent *)(void *)f)->tag;
}

static void
drop_cb(void *ctx, struct tcpa_flow *f, int evicted)
{
	struct drop_log *d = ctx;

	if (d->n < DROP_LOG) {
		d->key[d->n] = f->key;
		d->evicted[d->n] = evicted;
		d->last_ms[d->n] = f->last_ms;
		d->tmo[d->n] = f->tmo;
		d->spare[d->n] = *tag_of(f);
	}
	d->n++;
	d->nevict += evicted != 0;
}

static const uint32_t tmo_default[TCPA_FLOW_TMO_MAX] = {
	[TCPA_FLOW_TMO_CLOSED] = 1000,
	[TCPA_FLOW_TMO_EMBRYONIC] = 3000,
	[TCPA_FLOW_TMO_TIME_WAIT] = 60000,
	[TCPA_FLOW_TMO_CLOSING] = 30000,
	/* Longer than one wheel turn (4096 x 64 ms = 262 s). */
	[TCPA_FLOW_TMO_ESTABLISHED] = 300000,
};

struct tbl {
	void *mem;
	struct tcpa_flow_table *t;
	struct drop_log *log;
};

static void
params(struct tcpa_flow_params *prm, uint32_t cap, const uint32_t *tmo, void *ctx)
{
	memset(prm, 0, sizeof(*prm));
	prm->capacity = cap;
	prm->entry_size = sizeof(struct test_ent);
	prm->cold_size = sizeof(struct test_cold);
	prm->align = 4;
	prm->timeout_ms = tmo != NULL ? tmo : tmo_default;
	prm->secret = &secret;
	prm->drop = drop_cb;
	prm->ctx = ctx;
}

static int
tbl_open(struct tbl *x, uint32_t cap, const uint32_t *tmo)
{
	struct tcpa_flow_params prm;
	size_t sz;

	params(&prm, cap, tmo, NULL);
	sz = tcpa_flow_table_memsize(&prm);

	x->log = calloc(1, sizeof(*x->log));
	x->mem = aligned_alloc(64, (sz + 63) & ~(size_t)63);
	if (sz == 0 || x->mem == NULL || x->log == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	/* Garbage in the region: init must not rely on zeroed memory. */
	memset(x->mem, 0xa5, sz);
	prm.ctx = x->log;
	x->t = tcpa_flow_table_init(x->mem, &prm);
	return x->t != NULL ? 0 : -1;
}

static void
tbl_close(struct tbl *x)
{
	free(x->mem);
	free(x->log);
}

static struct tcpa_flow *
ins(struct tbl *x, const struct tcpa_flow_key *k, uint8_t tmo, uint32_t now)
{
	return tcpa_flow_insert(x->t, k, tcpa_flow_key_hash(k, &secret), tmo, now);
}

static struct tcpa_flow *
look(struct tbl *x, const struct tcpa_flow_key *k)
{
	return tcpa_flow_lookup(x->t, k, tcpa_flow_key_hash(k, &secret));
}

/* ---- key and hash ---- */

static void
check_symmetry(const struct tcpa_pkt *p)
{
	struct tcpa_flow_key k1, k2;
	struct tcpa_pkt r;
	unsigned s1, s2;

	pkt_reverse(p, &r);
	memset(&k1, 0x11, sizeof(k1));
	memset(&k2, 0x22, sizeof(k2));
	s1 = tcpa_flow_key_make(p, &k1);
	s2 = tcpa_flow_key_make(&r, &k2);
	CHECK(tcpa_flow_key_eq(&k1, &k2));
	CHECK_EQ(tcpa_flow_key_hash(&k1, &secret), tcpa_flow_key_hash(&k2, &secret));
	CHECK(s1 <= 1 && s2 <= 1);
	CHECK_EQ(s1, !s2);
	/* The sender's address sits on the side returned. */
	CHECK(memcmp(&k1.ip[s1], &p->src, sizeof(p->src)) == 0);
	CHECK_EQ(k1.port[s1], p->sport);
	CHECK(memcmp(&k1.ip[!s1], &p->dst, sizeof(p->dst)) == 0);
	CHECK_EQ(k1.port[!s1], p->dport);
	CHECK_EQ(k1.zone, p->zone);
	/* Side 0 is the lower (address, port). */
	{
		int c = tcpa_ip_cmp(&k1.ip[0], &k1.ip[1]);

		CHECK(c < 0 || (c == 0 && k1.port[0] <= k1.port[1]));
	}
}

static void
test_key_symmetry_v4(void)
{
	struct tcpa_ip a, b;
	struct tcpa_pkt p;

	tcpa_ip_set_v4h(&a, 0x0a000001);
	tcpa_ip_set_v4h(&b, 0xc0a801fe);
	pkt_make(&p, &a, 40000, &b, 80, 0);
	check_symmetry(&p);
	pkt_make(&p, &b, 80, &a, 40000, 0);
	check_symmetry(&p);
	/* Addresses that differ only in the last byte, and only in the first. */
	tcpa_ip_set_v4h(&a, 0x0a000001);
	tcpa_ip_set_v4h(&b, 0x0a000002);
	pkt_make(&p, &b, 1, &a, 65535, 0);
	check_symmetry(&p);
	tcpa_ip_set_v4h(&a, 0x01000000);
	tcpa_ip_set_v4h(&b, 0xff000000);
	pkt_make(&p, &b, 5, &a, 5, 0);
	check_symmetry(&p);
	/* Same address (loopback): the port decides. */
	tcpa_ip_set_v4h(&a, 0x7f000001);
	pkt_make(&p, &a, 5000, &a, 80, 0);
	check_symmetry(&p);
	pkt_make(&p, &a, 80, &a, 5000, 0);
	check_symmetry(&p);
	for (unsigned i = 0; i < 10000; i++) {
		tcpa_ip_set_v4h(&a, (uint32_t)rnd());
		tcpa_ip_set_v4h(&b, (uint32_t)rnd());
		pkt_make(&p, &a, (uint16_t)rnd(), &b, (uint16_t)rnd(), 0);
		check_symmetry(&p);
	}
}

static void
test_key_symmetry_v6(void)
{
	struct tcpa_ip a, b;
	struct tcpa_pkt p;

	for (unsigned i = 0; i < 10000; i++) {
		ip6_rand(&a);
		b = a;
		/* Half the pairs differ only in the low 64 bits. */
		if (i & 1) {
			uint64_t lo = rnd();

			memcpy(b.b + 8, &lo, 8);
		} else {
			ip6_rand(&b);
		}
		pkt_make(&p, &a, (uint16_t)rnd(), &b, (uint16_t)rnd(), 0);
		check_symmetry(&p);
	}
	/* A v6 address and a v4-mapped one in one flow. */
	ip6_rand(&a);
	tcpa_ip_set_v4h(&b, 0x0a000001);
	pkt_make(&p, &a, 443, &b, 50000, 0);
	check_symmetry(&p);
}

static void
test_key_vlan(void)
{
	struct tcpa_flow_key k1, k2;
	struct tcpa_ip a, b;
	struct tcpa_pkt p;

	tcpa_ip_set_v4h(&a, 0x0a000001);
	tcpa_ip_set_v4h(&b, 0x0a000002);
	pkt_make(&p, &a, 40000, &b, 80, 100);
	check_symmetry(&p);
	pkt_make(&p, &a, 40000, &b, 80, (200U << 12) | 300U);
	check_symmetry(&p);
	/* Different VLANs are different flows, with different hashes. */
	pkt_make(&p, &a, 40000, &b, 80, 100);
	tcpa_flow_key_make(&p, &k1);
	pkt_make(&p, &a, 40000, &b, 80, 101);
	tcpa_flow_key_make(&p, &k2);
	CHECK(!tcpa_flow_key_eq(&k1, &k2));
	CHECK(tcpa_flow_key_hash(&k1, &secret) != tcpa_flow_key_hash(&k2, &secret));
	pkt_make(&p, &a, 40000, &b, 80, 0);
	tcpa_flow_key_make(&p, &k2);
	CHECK(!tcpa_flow_key_eq(&k1, &k2));
	CHECK(tcpa_flow_key_hash(&k1, &secret) != tcpa_flow_key_hash(&k2, &secret));
}

/* One tunnelled segment's zone, taken apart again. */
static void
zone_roundtrip(uint8_t kind, uint32_t id, uint32_t vlan, int exact)
{
	struct tcpa_ip a, b;
	struct tcpa_pkt p;
	struct tcpa_zone z;
	uint32_t zone;

	tcpa_ip_set_v4h(&a, 0x0a000001);
	tcpa_ip_set_v4h(&b, 0x0a000002);
	zone = tcpa_pkt_zone(vlan, kind, id);
	pkt_make(&p, &a, 40000, &b, 80, zone);
	p.tunnel_kind = kind;
	p.tunnel_id = id;
	tcpa_pkt_zone_decode(zone, &z);
	CHECK_EQ(z.kind, kind);
	CHECK_EQ(z.exact, exact);
	if (exact) {
		CHECK_EQ(z.id, kind == TCPA_PKT_TUNNEL_NONE ? 0 : id);
		CHECK_EQ(z.vlan, vlan);
	}
	check_symmetry(&p);
}

/*
 * Tunnel identity is part of the key: two tenants reusing one 4-tuple
 * stay apart (VNI, GRE key, ERSPAN session, VLAN), and the zone gives the
 * identity back wherever it fits in 27 bits.
 */
static void
test_key_zone(void)
{
	static const struct { uint8_t kind; uint32_t id, vlan; } same4[] = {
		{ TCPA_PKT_TUNNEL_NONE, 0, 0 }, { TCPA_PKT_TUNNEL_NONE, 0, 100 },
		{ TCPA_PKT_TUNNEL_VXLAN, 1001, 0 }, { TCPA_PKT_TUNNEL_VXLAN, 1002, 0 },
		{ TCPA_PKT_TUNNEL_GENEVE, 1001, 0 }, { TCPA_PKT_TUNNEL_GRE, 1001, 0 },
		{ TCPA_PKT_TUNNEL_GRE, 0xfffffff0, 0 }, { TCPA_PKT_TUNNEL_ERSPAN, 100, 0 },
		{ TCPA_PKT_TUNNEL_ERSPAN, 100, 7 }, { TCPA_PKT_TUNNEL_VXLAN, 1001, 300 },
		{ TCPA_PKT_TUNNEL_VXLAN, 1001, 301 },
	};
	struct tcpa_flow_key k[TCPA_ARRAY_SIZE(same4)];
	struct tcpa_ip a, b;
	struct tcpa_pkt p;

	zone_roundtrip(TCPA_PKT_TUNNEL_NONE, 0, (5U << 12) | 6U, 1);
	zone_roundtrip(TCPA_PKT_TUNNEL_VXLAN, 0xffffff, 0, 1);
	zone_roundtrip(TCPA_PKT_TUNNEL_GENEVE, 1, 0, 1);
	zone_roundtrip(TCPA_PKT_TUNNEL_GRE, TCPA_ZONE_ID_MASK, 0, 1);
	zone_roundtrip(TCPA_PKT_TUNNEL_GRE, TCPA_ZONE_ID_MASK + 1, 0, 0);
	zone_roundtrip(TCPA_PKT_TUNNEL_ERSPAN, 1023, 4095, 1);
	zone_roundtrip(TCPA_PKT_TUNNEL_ERSPAN, 5, 4096, 0);
	zone_roundtrip(TCPA_PKT_TUNNEL_VXLAN, 1002, 300, 0);
	tcpa_ip_set_v4h(&a, 0x0a000001);
	tcpa_ip_set_v4h(&b, 0x0a000002);
	for (unsigned i = 0; i < TCPA_ARRAY_SIZE(same4); i++) {
		pkt_make(&p, &a, 40000, &b, 80,
			tcpa_pkt_zone(same4[i].vlan, same4[i].kind, same4[i].id));
		tcpa_flow_key_make(&p, &k[i]);
		CHECK_EQ(tcpa_flow_key_hash(&k[i], &secret), tcpa_flow_pkt_hash(&p, &secret));
		for (unsigned j = 0; j < i; j++)
			CHECK(!tcpa_flow_key_eq(&k[i], &k[j]));
	}
}

static void
test_hash_secret(void)
{
	struct tcpa_hash_secret s1, s2, s1b, r1, r2;
	struct tcpa_flow_key k;
	unsigned same = 0, same_owner = 0;

	CHECK_EQ(tcpa_hash_secret_init(&s1, 1), 0);
	CHECK_EQ(tcpa_hash_secret_init(&s1b, 1), 0);
	CHECK_EQ(tcpa_hash_secret_init(&s2, 2), 0);
	/* A fixed seed is reproducible. */
	CHECK(memcmp(&s1, &s1b, sizeof(s1)) == 0);
	CHECK(memcmp(&s1, &s2, sizeof(s1)) != 0);
	/* Seed 0: from the OS, so two draws differ. */
	CHECK_EQ(tcpa_hash_secret_init(&r1, 0), 0);
	CHECK_EQ(tcpa_hash_secret_init(&r2, 0), 0);
	CHECK(memcmp(&r1, &r2, sizeof(r1)) != 0);

	for (unsigned i = 0; i < 10000; i++) {
		uint64_t h1, h2;

		key_rand(&k, i);
		h1 = tcpa_flow_key_hash(&k, &s1);
		h2 = tcpa_flow_key_hash(&k, &s2);
		CHECK_EQ(h1, tcpa_flow_key_hash(&k, &s1b));
		same += h1 == h2;
		same_owner += tcpa_flow_owner(h1, 8) == tcpa_flow_owner(h2, 8);
	}
	CHECK_EQ(same, 0);
	/* The secret, not the tuple, decides the core: ~1/8 agree by chance. */
	CHECK(same_owner > 1000 && same_owner < 1500);
}

static void
test_owner_spread(void)
{
	static const unsigned ncores[] = { 1, 2, 3, 4, 6, 7, 8, 12, 16 };
	enum { NT = 100000 };
	uint64_t *h = malloc(NT * sizeof(*h));
	struct tcpa_flow_key k;

	if (h == NULL)
		exit(2);
	for (unsigned i = 0; i < NT; i++) {
		struct tcpa_ip a, b;
		struct tcpa_pkt p;

		tcpa_ip_set_v4h(&a, (uint32_t)rnd());
		tcpa_ip_set_v4h(&b, (uint32_t)rnd());
		pkt_make(&p, &a, (uint16_t)rnd(), &b, (uint16_t)rnd(), 0);
		tcpa_flow_key_make(&p, &k);
		h[i] = tcpa_flow_key_hash(&k, &secret);
	}
	for (unsigned c = 0; c < TCPA_ARRAY_SIZE(ncores); c++) {
		unsigned n = ncores[c], cnt[16] = { 0 };
		double mean = (double)NT / n;

		for (unsigned i = 0; i < NT; i++) {
			unsigned o = tcpa_flow_owner(h[i], n);

			CHECK(o < n);
			if (o < n)
				cnt[o]++;
		}
		/* +-5% of the mean: over 4 sigma even for 16 cores. */
		for (unsigned o = 0; o < n; o++) {
			if (cnt[o] < mean * 0.95 || cnt[o] > mean * 1.05) {
				fprintf(stderr, "  %u cores: core %u got %u, mean %.0f\n",
					n, o, cnt[o], mean);
				CHECK(0);
			}
		}
	}
	/* Extremes of the hash map onto the first and last core. */
	CHECK_EQ(tcpa_flow_owner(0, 7), 0);
	CHECK_EQ(tcpa_flow_owner(UINT64_MAX, 7), 6);
	CHECK_EQ(tcpa_flow_owner(UINT64_MAX, 1), 0);
	free(h);
}

/* ---- table basics ---- */

static size_t
memsize_of(uint32_t cap, uint32_t esz, uint32_t csz, uint32_t align)
{
	struct tcpa_flow_params prm;

	params(&prm, cap, NULL, NULL);
	prm.entry_size = esz;
	prm.cold_size = csz;
	prm.align = align;
	return tcpa_flow_table_memsize(&prm);
}

static void
test_memsize_init(void)
{
	struct tcpa_flow_params prm;
	struct tcpa_flow_table *t;
	void *mem;
	size_t sz;

	CHECK_EQ(tcpa_flow_table_memsize(NULL), 0);
	CHECK_EQ(memsize_of(0, 52, 12, 4), 0);
	CHECK_EQ(memsize_of((1U << 31) + 1, 52, 12, 4), 0);
	CHECK(memsize_of(1, 52, 12, 4) > 0);
	CHECK(memsize_of(1000, 52, 12, 4) > 1000 * (52 + 12));
	/* Sizes below the headers, not multiples of the alignment, bad alignments. */
	CHECK_EQ(memsize_of(16, sizeof(struct tcpa_flow) - 4, 12, 4), 0);
	CHECK_EQ(memsize_of(16, 52, 4, 4), 0);
	CHECK_EQ(memsize_of(16, 52, 12, 8), 0);
	CHECK_EQ(memsize_of(16, 64, 16, 12), 0);
	CHECK_EQ(memsize_of(16, 64, 16, 2), 0);
	CHECK(memsize_of(16, 128, 64, 64) > 0);
	CHECK_EQ(sizeof(struct tcpa_flow), 48);
	CHECK_EQ(sizeof(struct tcpa_flow_key), 40);

	params(&prm, 16, NULL, NULL);
	sz = tcpa_flow_table_memsize(&prm);
	mem = aligned_alloc(64, sz + 64);
	if (mem == NULL)
		exit(2);
	errno = 0;
	t = tcpa_flow_table_init((uint8_t *)mem + 8, &prm);
	CHECK(t == NULL);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	prm.capacity = 0;
	t = tcpa_flow_table_init(mem, &prm);
	CHECK(t == NULL);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	prm.capacity = 16;
	prm.drop = NULL;
	t = tcpa_flow_table_init(mem, &prm);
	CHECK(t == NULL);
	CHECK_EQ(errno, EINVAL);
	prm.drop = drop_cb;
	t = tcpa_flow_table_init(NULL, &prm);
	CHECK(t == NULL);
	t = tcpa_flow_table_init(mem, &prm);
	CHECK(t != NULL);
	if (t != NULL) {
		CHECK_EQ(tcpa_flow_capacity(t), 16);
		CHECK_EQ(tcpa_flow_count(t), 0);
		/* Nothing to age before the first flow. */
		CHECK_EQ(tcpa_flow_age_step(t, 123456, 64), 0);
	}
	free(mem);
}

/*
 * Entry and cold sizes the embedding layer may choose: every entry's
 * index, cold entry and alignment come out right, whatever the size.
 */
static void
test_params_layouts(void)
{
	static const uint32_t sz[][3] = {
		{ 48, 8, 4 }, { 52, 12, 4 }, { 96, 32, 32 }, { 128, 64, 64 }, { 192, 64, 64 },
		{ 320, 64, 64 },
	};

	for (unsigned l = 0; l < TCPA_ARRAY_SIZE(sz); l++) {
		struct tcpa_flow_params prm;
		struct tcpa_flow_table *t;
		uint8_t *ent, *cold;
		void *mem, *e, *c;
		size_t msz;

		params(&prm, 300, NULL, NULL);
		prm.entry_size = sz[l][0];
		prm.cold_size = sz[l][1];
		prm.align = sz[l][2];
		msz = tcpa_flow_table_memsize(&prm);
		mem = aligned_alloc(64, (msz + 63) & ~(size_t)63);
		if (msz == 0 || mem == NULL)
			exit(2);
		t = tcpa_flow_table_init(mem, &prm);
		CHECK(t != NULL);
		if (t == NULL) {
			free(mem);
			continue;
		}
		tcpa_flow_table_bases(t, &e, &c);
		ent = e;
		cold = c;
		CHECK_EQ((uintptr_t)ent % sz[l][2], 0);
		CHECK_EQ((uintptr_t)cold % sz[l][2], 0);
		for (uint32_t i = 1; i <= 300; i++) {
			struct tcpa_flow *f = tcpa_flow_at(t, i);

			CHECK(f == (struct tcpa_flow *)(void *)(ent + (size_t)i * sz[l][0]));
			CHECK_EQ(tcpa_flow_index(t, f), i);
			CHECK(tcpa_flow_cold_of(t, f) ==
				(struct tcpa_flow_cold *)(void *)(cold + (size_t)i * sz[l][1]));
		}
		CHECK(tcpa_flow_at(t, 0) == NULL);
		CHECK(tcpa_flow_at(t, 301) == NULL);
		free(mem);
	}
}

static void
test_insert_lookup_remove(void)
{
	enum { N = 1000 };
	struct tcpa_flow_key *k = malloc(N * sizeof(*k));
	struct tcpa_flow **f = malloc(N * sizeof(*f));
	struct tbl x;

	if (k == NULL || f == NULL || tbl_open(&x, N, NULL) != 0)
		exit(2);
	for (unsigned i = 0; i < N; i++) {
		key_rand(&k[i], i);
		CHECK(look(&x, &k[i]) == NULL);
		f[i] = ins(&x, &k[i], TCPA_FLOW_TMO_ESTABLISHED, 1000 + i);
		CHECK(f[i] != NULL);
		if (f[i] == NULL)
			goto out;
		/* Zeroed, with the key, class and time given. */
		CHECK(tcpa_flow_key_eq(&f[i]->key, &k[i]));
		CHECK_EQ(f[i]->tmo, TCPA_FLOW_TMO_ESTABLISHED);
		CHECK_EQ(f[i]->last_ms, 1000 + i);
		CHECK_EQ(*tag_of(f[i]), 0);
		CHECK_EQ(((struct test_cold *)(void *)tcpa_flow_cold_of(x.t, f[i]))->mark, 0);
		CHECK_EQ(f[i]->live, 1);
		CHECK_EQ(((uintptr_t)f[i]) & 3, 0);
		CHECK_EQ(tcpa_flow_count(x.t), i + 1);
	}
	for (unsigned i = 0; i < N; i++)
		CHECK(look(&x, &k[i]) == f[i]);
	/* Misses: unknown keys, and a known key under another vlan. */
	for (unsigned i = 0; i < 1000; i++) {
		struct tcpa_flow_key m;

		key_rand(&m, 0x800000 + i);
		CHECK(look(&x, &m) == NULL);
	}
	{
		struct tcpa_flow_key m = k[0];

		m.zone = 7;
		CHECK(look(&x, &m) == NULL);
		/* Same key, wrong hash: must not be found by a signature mismatch. */
		CHECK(tcpa_flow_lookup(x.t, &k[0], tcpa_flow_key_hash(&k[0], &secret) ^
				(1ULL << 40)) == NULL ||
			tcpa_flow_lookup(x.t, &k[0], tcpa_flow_key_hash(&k[0], &secret) ^
				(1ULL << 40)) == f[0]);
	}
	/* Remove the even ones: odd ones still found, evens gone. */
	for (unsigned i = 0; i < N; i += 2)
		tcpa_flow_remove(x.t, f[i]);
	CHECK_EQ(tcpa_flow_count(x.t), N / 2);
	for (unsigned i = 0; i < N; i++) {
		if (i & 1)
			CHECK(look(&x, &k[i]) == f[i]);
		else
			CHECK(look(&x, &k[i]) == NULL);
	}
	/* Removal never calls the drop callback. */
	CHECK_EQ(x.log->n, 0);
	/* Reinsert: found again. */
	for (unsigned i = 0; i < N; i += 2) {
		f[i] = ins(&x, &k[i], TCPA_FLOW_TMO_CLOSED, 5000);
		CHECK(look(&x, &k[i]) == f[i]);
	}
	CHECK_EQ(tcpa_flow_count(x.t), N);
	CHECK_EQ(x.log->n, 0);
out:
	tbl_close(&x);
	free(k);
	free(f);
}

static void
test_full(void)
{
	static const uint32_t caps[] = { 1, 2, 3, 4, 5, 8, 9, 100, 4096, 100000 };

	for (unsigned c = 0; c < TCPA_ARRAY_SIZE(caps); c++) {
		uint32_t n = caps[c];
		struct tcpa_flow_key *k = malloc(n * sizeof(*k));
		struct tcpa_flow **f = malloc(n * sizeof(*f));
		unsigned found = 0;
		struct tbl x;

		if (k == NULL || f == NULL || tbl_open(&x, n, NULL) != 0)
			exit(2);
		for (uint32_t i = 0; i < n; i++) {
			key_rand(&k[i], i);
			f[i] = ins(&x, &k[i], TCPA_FLOW_TMO_ESTABLISHED, 10);
		}
		/* At capacity, nothing was evicted and every flow is found. */
		CHECK_EQ(tcpa_flow_count(x.t), n);
		if (x.log->n != 0)
			fprintf(stderr, "  capacity %u: %u evicted before full\n", n, x.log->n);
		CHECK_EQ(x.log->n, 0);
		for (uint32_t i = 0; i < n; i++)
			found += look(&x, &k[i]) == f[i];
		CHECK_EQ(found, n);
		/* Distinct entries. */
		for (uint32_t i = 1; i < n && i < 4096; i++)
			CHECK(f[i] != f[i - 1]);
		tbl_close(&x);
		free(k);
		free(f);
	}
}

/*
 * Real traffic is structured: few servers, sequential client ports, IPv4
 * (whose mapped high word is constant). A hash that mixes poorly clusters
 * such tuples into few buckets and evicts long before the table is full;
 * random keys would never show it.
 */
static void
key_structured(struct tcpa_flow_key *k, uint32_t i, int v6)
{
	uint32_t cli = i % 10, srv = (i / 10) % 4, port = 32768 + i / 40;

	memset(k, 0, sizeof(*k));
	if (v6) {
		k->ip[0].b[0] = 0xfd;
		k->ip[0].b[13] = 1;
		k->ip[0].b[15] = (uint8_t)(cli + 1);
		k->ip[1].b[0] = 0xfd;
		k->ip[1].b[13] = 2;
		k->ip[1].b[15] = (uint8_t)(srv + 1);
	} else {
		k->ip[0].b[10] = k->ip[0].b[11] = 0xff;
		k->ip[1].b[10] = k->ip[1].b[11] = 0xff;
		k->ip[0].b[12] = 10;
		k->ip[0].b[13] = 1;
		k->ip[0].b[15] = (uint8_t)(cli + 1);
		k->ip[1].b[12] = 10;
		k->ip[1].b[13] = 2;
		k->ip[1].b[15] = (uint8_t)(srv + 1);
	}
	k->port[0] = (uint16_t)port;
	k->port[1] = (uint16_t)(srv == 0 ? 80 : srv == 1 ? 443 : srv == 2 ? 3306 : 8080);
}

static void
test_full_structured(void)
{
	const uint32_t n = 200000;

	for (int v6 = 0; v6 < 2; v6++) {
		struct tcpa_flow_key k;
		unsigned found = 0;
		struct tbl x;

		if (tbl_open(&x, n, NULL) != 0)
			exit(2);
		for (uint32_t i = 0; i < n; i++) {
			key_structured(&k, i, v6);
			ins(&x, &k, TCPA_FLOW_TMO_ESTABLISHED, 10);
		}
		if (x.log->n != 0)
			fprintf(stderr, "  %s: %u evicted before full\n", v6 ? "v6" : "v4", x.log->n);
		CHECK_EQ(x.log->n, 0);
		CHECK_EQ(tcpa_flow_count(x.t), n);
		for (uint32_t i = 0; i < n; i++) {
			key_structured(&k, i, v6);
			found += look(&x, &k) != NULL;
		}
		CHECK_EQ(found, n);
		tbl_close(&x);
	}
}

/* Segments find their flow in either direction, one at a time or by burst. */
static void
test_lookup_pkt(void)
{
	struct tcpa_pkt pk[TCPA_BURST];
	struct tcpa_flow *fl[TCPA_BURST], *f[TCPA_BURST / 2];
	uint8_t side[TCPA_BURST];
	struct tcpa_flow_key k;
	struct tbl x;

	if (tbl_open(&x, 1024, NULL) != 0)
		exit(2);
	memset(pk, 0, sizeof(pk));
	for (unsigned i = 0; i < TCPA_BURST / 2; i++) {
		key_structured(&k, i * 7, (int)(i & 1));
		f[i] = ins(&x, &k, TCPA_FLOW_TMO_ESTABLISHED, 10);
		/* pk[2i]: side 0 to side 1; pk[2i+1]: the reply. */
		pk[2 * i].src = k.ip[0];
		pk[2 * i].dst = k.ip[1];
		pk[2 * i].sport = k.port[0];
		pk[2 * i].dport = k.port[1];
		pk[2 * i + 1].src = k.ip[1];
		pk[2 * i + 1].dst = k.ip[0];
		pk[2 * i + 1].sport = k.port[1];
		pk[2 * i + 1].dport = k.port[0];
		for (unsigned d = 0; d < 2; d++) {
			pk[2 * i + d].hash = tcpa_flow_pkt_hash(&pk[2 * i + d], &secret);
			CHECK_EQ(pk[2 * i + d].hash, tcpa_flow_key_hash(&k, &secret));
		}
	}
	CHECK_EQ(tcpa_flow_lookup_burst(x.t, pk, TCPA_BURST, fl, side), 0);
	for (unsigned i = 0; i < TCPA_BURST; i++) {
		unsigned sd = 9;

		CHECK(fl[i] == f[i / 2]);
		CHECK_EQ(side[i], i & 1);
		CHECK(tcpa_flow_lookup_pkt(x.t, &pk[i], pk[i].hash, &sd) == f[i / 2]);
		CHECK_EQ(sd, i & 1);
	}
	/* Same ports, other VLAN: another flow. */
	pk[0].zone = 5;
	pk[0].hash = tcpa_flow_pkt_hash(&pk[0], &secret);
	CHECK_EQ(tcpa_flow_lookup_burst(x.t, pk, 1, fl, side), 1);
	CHECK(fl[0] == NULL);
	tbl_close(&x);
}

/* ---- eviction ---- */

static struct tcpa_flow *
ins_tag(struct tbl *x, struct tcpa_flow_key *k, uint32_t tag, uint8_t tmo, uint32_t now)
{
	struct tcpa_flow *f;

	key_rand(k, 0x400000 + tag);
	f = ins(x, k, tmo, now);
	*tag_of(f) = tag;
	return f;
}

static void
test_evict_policy(void)
{
	struct tcpa_flow_key k[32];
	struct tbl x;
	unsigned d;

	/* Capacity 8: two buckets, so both candidates are the whole table. */
	if (tbl_open(&x, 8, NULL) != 0)
		exit(2);
	ins_tag(&x, &k[0], 0, TCPA_FLOW_TMO_ESTABLISHED, 100);
	ins_tag(&x, &k[1], 1, TCPA_FLOW_TMO_ESTABLISHED, 50);   /* oldest */
	ins_tag(&x, &k[2], 2, TCPA_FLOW_TMO_EMBRYONIC, 300);
	ins_tag(&x, &k[3], 3, TCPA_FLOW_TMO_CLOSED, 400);       /* newest closed */
	ins_tag(&x, &k[4], 4, TCPA_FLOW_TMO_TIME_WAIT, 60);
	ins_tag(&x, &k[5], 5, TCPA_FLOW_TMO_CLOSED, 350);       /* older closed */
	ins_tag(&x, &k[6], 6, TCPA_FLOW_TMO_CLOSING, 70);
	ins_tag(&x, &k[7], 7, TCPA_FLOW_TMO_EMBRYONIC, 200);
	CHECK_EQ(tcpa_flow_count(x.t), 8);
	CHECK_EQ(x.log->n, 0);

	/*
	 * Expected order: lower class first (enum tcpa_flow_tmo: closed,
	 * embryonic, time_wait, closing, established), least recently seen
	 * first within a class.
	 */
	static const unsigned order[] = { 5, 3, 7, 2, 4, 6, 1, 0 };
	for (unsigned i = 0; i < TCPA_ARRAY_SIZE(order); i++) {
		struct tcpa_flow *f;

		d = x.log->n;
		f = ins_tag(&x, &k[8 + i], 8 + i, TCPA_FLOW_TMO_ESTABLISHED, 1000 + i);
		CHECK(f != NULL);
		CHECK_EQ(x.log->n, d + 1);
		CHECK_EQ(x.log->evicted[d], 1);
		if (x.log->spare[d] != order[i])
			fprintf(stderr, "  eviction %u: got tag %u, expected %u\n",
				i, x.log->spare[d], order[i]);
		CHECK_EQ(x.log->spare[d], order[i]);
		CHECK(look(&x, &k[order[i]]) == NULL);
		CHECK(look(&x, &k[8 + i]) == f);
		CHECK_EQ(tcpa_flow_count(x.t), 8);
	}
	/* Every survivor still found. */
	for (unsigned i = 0; i < 8; i++)
		CHECK(look(&x, &k[8 + i]) != NULL);
	CHECK_EQ(x.log->nevict, 8);
	tbl_close(&x);
}

static void
test_evict_touch_and_wrap(void)
{
	struct tcpa_flow_key k[16];
	struct tcpa_flow *f[16];
	struct tbl x;
	unsigned d;

	if (tbl_open(&x, 4, NULL) != 0)
		exit(2);
	/* Times straddle the 2^32 ms wrap: "least recently" is wrap-safe. */
	f[0] = ins_tag(&x, &k[0], 0, TCPA_FLOW_TMO_ESTABLISHED, 0xfffffff0U);
	f[1] = ins_tag(&x, &k[1], 1, TCPA_FLOW_TMO_ESTABLISHED, 0xfffffff8U);
	f[2] = ins_tag(&x, &k[2], 2, TCPA_FLOW_TMO_ESTABLISHED, 5);
	f[3] = ins_tag(&x, &k[3], 3, TCPA_FLOW_TMO_ESTABLISHED, 10);
	/* Flow 0 was seen again: flow 1 is now the least recently seen. */
	tcpa_flow_touch(f[0], 20);
	d = x.log->n;
	ins_tag(&x, &k[4], 4, TCPA_FLOW_TMO_ESTABLISHED, 30);
	CHECK_EQ(x.log->n, d + 1);
	CHECK_EQ(x.log->spare[d], 1);
	d = x.log->n;
	ins_tag(&x, &k[5], 5, TCPA_FLOW_TMO_ESTABLISHED, 31);
	CHECK_EQ(x.log->spare[d], 2);
	/* A class change makes a flow the preferred victim. */
	tcpa_flow_set_tmo(x.t, f[0], TCPA_FLOW_TMO_CLOSED);
	d = x.log->n;
	ins_tag(&x, &k[6], 6, TCPA_FLOW_TMO_ESTABLISHED, 32);
	CHECK_EQ(x.log->spare[d], 0);
	CHECK_EQ(x.log->evicted[d], 1);
	CHECK_EQ(tcpa_flow_count(x.t), 4);
	tbl_close(&x);
}

static void
test_evict_big(void)
{
	enum { CAP = 1024, N = 5000 };
	struct tcpa_flow_key *k = malloc(N * sizeof(*k));
	unsigned present = 0;
	struct tbl x;

	if (k == NULL || tbl_open(&x, CAP, NULL) != 0)
		exit(2);
	for (unsigned i = 0; i < N; i++) {
		key_rand(&k[i], i);
		CHECK(ins(&x, &k[i], TCPA_FLOW_TMO_ESTABLISHED, i) != NULL);
		CHECK(tcpa_flow_count(x.t) <= CAP);
	}
	CHECK_EQ(tcpa_flow_count(x.t), CAP);
	CHECK_EQ(x.log->n, N - CAP);
	CHECK_EQ(x.log->nevict, N - CAP);
	for (unsigned i = 0; i < N; i++)
		present += look(&x, &k[i]) != NULL;
	CHECK_EQ(present, CAP);
	/* The newest flow always survives its own insert. */
	CHECK(look(&x, &k[N - 1]) != NULL);
	tbl_close(&x);
	free(k);
}

/* ---- expiry ---- */

struct exp_flow {
	struct tcpa_flow_key k;
	uint32_t last;
	uint8_t tmo;
	bool pending;           /* age_run() inserts it when packet time reaches last */
	bool dropped;
	uint32_t drop_ms;
};

/*
 * Age from @from to @to in steps of @step ms, budget @budget; note drop
 * times. Pending flows are inserted as packet time reaches them, as the
 * dataplane would: time never goes backwards.
 */
static void
age_run(struct tbl *x, struct exp_flow *ef, unsigned n, uint32_t from, uint32_t to,
		uint32_t step, unsigned budget)
{
	uint32_t now = from;

	for (;;) {
		unsigned d0, v;

		for (unsigned i = 0; i < n; i++) {
			if (ef[i].pending && (int32_t)(now - ef[i].last) >= 0) {
				CHECK(ins(x, &ef[i].k, ef[i].tmo, ef[i].last) != NULL);
				ef[i].pending = false;
			}
		}
		d0 = x->log->n;
		v = tcpa_flow_age_step(x->t, now, budget);

		CHECK(v <= budget);
		CHECK(x->log->n - d0 <= budget);
		for (unsigned j = d0; j < x->log->n && j < DROP_LOG; j++) {
			CHECK_EQ(x->log->evicted[j], 0);
			for (unsigned i = 0; i < n; i++) {
				if (tcpa_flow_key_eq(&ef[i].k, &x->log->key[j])) {
					CHECK(!ef[i].dropped);
					ef[i].dropped = true;
					ef[i].drop_ms = now;
				}
			}
		}
		if (now == to)
			break;
		now = (int32_t)(to - now) > (int32_t)step ? now + step : to;
	}
}

static void
check_expiry(struct exp_flow *ef, unsigned n, const uint32_t *tmo, uint32_t slack)
{
	for (unsigned i = 0; i < n; i++) {
		uint32_t due = ef[i].last + tmo[ef[i].tmo];
		int32_t late = (int32_t)(ef[i].drop_ms - due);

		CHECK(ef[i].dropped);
		if (!ef[i].dropped) {
			fprintf(stderr, "  flow %u (class %u, last %u) never expired\n",
				i, ef[i].tmo, ef[i].last);
			continue;
		}
		if (late < 0 || (uint32_t)late > slack) {
			fprintf(stderr, "  flow %u (class %u, last %u, due %u) expired at %u\n",
				i, ef[i].tmo, ef[i].last, due, ef[i].drop_ms);
			CHECK(0);
		}
	}
}

static void
expiry_at(uint32_t base)
{
	enum { N = 200 };
	struct exp_flow ef[N];
	struct tbl x;
	uint32_t end = base;

	if (tbl_open(&x, 256, NULL) != 0)
		exit(2);
	memset(ef, 0, sizeof(ef));
	for (unsigned i = 0; i < N; i++) {
		key_rand(&ef[i].k, i);
		ef[i].tmo = (uint8_t)(i % TCPA_FLOW_TMO_MAX);
		/* The first at base exactly; the others inserted as time passes. */
		ef[i].last = base + (i == 0 ? 0 : (uint32_t)(rnd() % 5000));
		ef[i].pending = true;
		if ((int32_t)(ef[i].last + tmo_default[ef[i].tmo] - end) > 0)
			end = ef[i].last + tmo_default[ef[i].tmo];
	}
	/* 10 ms steps, budget never the limit: at most one 64 ms tick + a step late. */
	age_run(&x, ef, N, base, end + 200, 10, 1000);
	check_expiry(ef, N, tmo_default, 64 + 10);
	CHECK_EQ(tcpa_flow_count(x.t), 0);
	tbl_close(&x);
}

static void
test_expiry_classes(void)
{
	expiry_at(1000);
	expiry_at(0x12345678U);
}

static void
test_expiry_wrap(void)
{
	/* Flows live across the 2^32 ms wrap of packet time (~49.7 days). */
	expiry_at(0xffffffffU - 2000);
	expiry_at(0xffffffffU - 100000);
	expiry_at(0xffffffffU - 299000);
	expiry_at(0xfffff000U);
}

static void
test_expiry_touch(void)
{
	struct exp_flow ef[2];
	struct tcpa_flow *f;
	struct tbl x;
	uint32_t now;

	if (tbl_open(&x, 16, NULL) != 0)
		exit(2);
	memset(ef, 0, sizeof(ef));
	key_rand(&ef[0].k, 1);
	key_rand(&ef[1].k, 2);
	f = ins(&x, &ef[0].k, TCPA_FLOW_TMO_EMBRYONIC, 1000);
	ins(&x, &ef[1].k, TCPA_FLOW_TMO_EMBRYONIC, 1000);
	ef[1].tmo = TCPA_FLOW_TMO_EMBRYONIC;
	ef[1].last = 1000;
	/* Flow 0 sees a segment every second for a minute: it lives on. */
	for (now = 1000; now < 61000; now += 10) {
		if (now % 1000 == 0)
			tcpa_flow_touch(f, now);
		age_run(&x, ef, 2, now, now, 1, 64);
	}
	CHECK(!ef[0].dropped);
	CHECK(look(&x, &ef[0].k) == f);
	CHECK(ef[1].dropped);
	check_expiry(&ef[1], 1, tmo_default, 64 + 10);
	/* Then silence: expires 3 s after its last segment (60000). */
	ef[0].tmo = TCPA_FLOW_TMO_EMBRYONIC;
	ef[0].last = 60000;
	age_run(&x, ef, 1, 61000, 70000, 10, 64);
	check_expiry(&ef[0], 1, tmo_default, 64 + 10);
	CHECK_EQ(tcpa_flow_count(x.t), 0);
	tbl_close(&x);
}

static void
test_expiry_set_tmo(void)
{
	struct exp_flow ef[3];
	struct tcpa_flow *f[3];
	struct tbl x;

	if (tbl_open(&x, 16, NULL) != 0)
		exit(2);
	memset(ef, 0, sizeof(ef));
	for (unsigned i = 0; i < 3; i++) {
		key_rand(&ef[i].k, i);
		f[i] = ins(&x, &ef[i].k, TCPA_FLOW_TMO_ESTABLISHED, 1000);
	}
	age_run(&x, ef, 3, 1000, 2000, 10, 64);
	/* At 2000 flow 0 closes: CLOSED class (1 s) from its last segment. */
	tcpa_flow_touch(f[0], 2000);
	tcpa_flow_set_tmo(x.t, f[0], TCPA_FLOW_TMO_CLOSED);
	ef[0].tmo = TCPA_FLOW_TMO_CLOSED;
	ef[0].last = 2000;
	/* Flow 1 becomes TIME_WAIT without a new segment: from 1000. */
	tcpa_flow_set_tmo(x.t, f[1], TCPA_FLOW_TMO_TIME_WAIT);
	ef[1].tmo = TCPA_FLOW_TMO_TIME_WAIT;
	ef[1].last = 1000;
	/* Same class again: no change. */
	tcpa_flow_set_tmo(x.t, f[1], TCPA_FLOW_TMO_TIME_WAIT);
	age_run(&x, ef, 3, 2000, 70000, 10, 64);
	check_expiry(ef, 2, tmo_default, 64 + 10);
	CHECK(!ef[2].dropped);
	/* A longer class delays expiry: flow 2 goes to ESTABLISHED's 300 s. */
	age_run(&x, ef, 3, 70000, 301000 + 64 + 20, 10, 64);
	ef[2].tmo = TCPA_FLOW_TMO_ESTABLISHED;
	ef[2].last = 1000;
	check_expiry(&ef[2], 1, tmo_default, 64 + 10);

	/* A long class shortened after the flow is already overdue for the short one. */
	{
		struct exp_flow e2[1];
		struct tcpa_flow *g;

		memset(e2, 0, sizeof(e2));
		key_rand(&e2[0].k, 77);
		g = ins(&x, &e2[0].k, TCPA_FLOW_TMO_TIME_WAIT, 400000);
		age_run(&x, e2, 1, 400000, 420000, 10, 64);
		tcpa_flow_set_tmo(x.t, g, TCPA_FLOW_TMO_CLOSED);
		e2[0].tmo = TCPA_FLOW_TMO_CLOSED;
		e2[0].last = 400000;
		/* Overdue already: it must go at the next tick. */
		age_run(&x, e2, 1, 420000, 420200, 10, 64);
		CHECK(e2[0].dropped);
		CHECK(e2[0].drop_ms <= 420000 + 64 + 10);
	}
	CHECK_EQ(tcpa_flow_count(x.t), 0);
	tbl_close(&x);
}

static void
test_expiry_jump(void)
{
	enum { N = 300 };
	struct exp_flow ef[N];
	struct tbl x;
	unsigned calls = 0, visited = 0;
	uint32_t now;

	if (tbl_open(&x, 512, NULL) != 0)
		exit(2);
	memset(ef, 0, sizeof(ef));
	for (unsigned i = 0; i < N; i++) {
		key_rand(&ef[i].k, i);
		ef[i].tmo = (uint8_t)(i % TCPA_FLOW_TMO_MAX);
		ef[i].last = 5000 + i;
		ins(&x, &ef[i].k, ef[i].tmo, ef[i].last);
	}
	/* Packet time jumps 10 hours (a pause in the capture). */
	now = 5000 + 10 * 3600 * 1000U;
	/* Call until a call finds nothing to do: it must come, and soon. */
	while (calls < 100000) {
		unsigned v = tcpa_flow_age_step(x.t, now, 64);

		CHECK(v <= 64);
		visited += v;
		calls++;
		if (v == 0)
			break;
	}
	CHECK_EQ(tcpa_flow_count(x.t), 0);
	CHECK_EQ(x.log->n, N);
	/* At most one visit per wheel slot and one per flow (+ relinks). */
	CHECK(visited <= 4096 + 2 * N);
	CHECK(calls <= (4096 + 2 * N) / 64 + 2);
	CHECK_EQ(tcpa_flow_age_step(x.t, now, 64), 0);

	/* And a jump with flows still live across it keeps them if not due. */
	{
		struct tcpa_flow_key k;

		key_rand(&k, 999);
		ins(&x, &k, TCPA_FLOW_TMO_ESTABLISHED, now);
		now += 250000;
		for (unsigned i = 0; i < 200; i++)
			tcpa_flow_age_step(x.t, now, 64);
		CHECK(look(&x, &k) != NULL);
		now += 60000;
		for (unsigned i = 0; i < 200; i++)
			tcpa_flow_age_step(x.t, now, 64);
		CHECK(look(&x, &k) == NULL);
	}
	tbl_close(&x);
}

static void
test_expiry_budget(void)
{
	enum { N = 1000 };
	struct tbl x;
	unsigned calls = 0;

	if (tbl_open(&x, N, NULL) != 0)
		exit(2);
	for (unsigned i = 0; i < N; i++) {
		struct tcpa_flow_key k;

		key_rand(&k, i);
		ins(&x, &k, TCPA_FLOW_TMO_CLOSED, 100);
	}
	/* All due at once: each call drops at most its budget. */
	while (tcpa_flow_count(x.t) != 0 && calls < 10000) {
		unsigned d0 = x.log->n, v = tcpa_flow_age_step(x.t, 5000, 10);

		CHECK(v <= 10);
		CHECK(x.log->n - d0 <= 10);
		calls++;
		if (v == 0)
			break;
	}
	CHECK_EQ(tcpa_flow_count(x.t), 0);
	CHECK(calls >= N / 10);
	CHECK_EQ(x.log->n, N);
	/* Budget 0 does nothing. */
	CHECK_EQ(tcpa_flow_age_step(x.t, 100000, 0), 0);
	tbl_close(&x);
}

/* Flows inserted while expiry runs, removed while in the work list. */
static void
test_expiry_churn(void)
{
	enum { N = 2000 };
	struct tcpa_flow_key *k = malloc(N * sizeof(*k));
	struct tcpa_flow **f = calloc(N, sizeof(*f));
	uint32_t *last = calloc(N, sizeof(*last));
	struct tbl x;
	uint32_t now = 0xfff00000U;     /* crosses the wrap too */
	unsigned live = 0;

	if (k == NULL || f == NULL || last == NULL || tbl_open(&x, N, NULL) != 0)
		exit(2);
	for (unsigned step = 0; step < 20000; step++) {
		unsigned i = (unsigned)(rnd() % N);
		unsigned d0;

		x.log->n = 0;
		d0 = 0;

		now += (uint32_t)(rnd() % 40);
		if (f[i] == NULL) {
			key_rand(&k[i], i);
			f[i] = ins(&x, &k[i], (uint8_t)(rnd() % TCPA_FLOW_TMO_MAX), now);
			last[i] = now;
			live++;
		} else if (rnd() % 4 == 0) {
			tcpa_flow_remove(x.t, f[i]);
			f[i] = NULL;
			live--;
		} else if (rnd() % 2 == 0) {
			tcpa_flow_touch(f[i], now);
			last[i] = now;
		} else {
			tcpa_flow_set_tmo(x.t, f[i], (uint8_t)(rnd() % TCPA_FLOW_TMO_MAX));
		}
		tcpa_flow_age_step(x.t, now, 8);
		CHECK(x.log->n < DROP_LOG);
		/* Match drops to our records: never early. */
		for (unsigned j = d0; j < x.log->n && j < DROP_LOG; j++) {
			for (unsigned m = 0; m < N; m++) {
				if (f[m] != NULL && tcpa_flow_key_eq(&k[m], &x.log->key[j])) {
					CHECK((int32_t)(now - (last[m] +
						tmo_default[x.log->tmo[j]])) >= 0);
					f[m] = NULL;
					live--;
					break;
				}
			}
		}
		CHECK_EQ(tcpa_flow_count(x.t), live);
	}
	for (unsigned i = 0; i < N; i++)
		if (f[i] != NULL)
			CHECK(look(&x, &k[i]) == f[i]);
	tbl_close(&x);
	free(k);
	free(f);
	free(last);
}

/* ---- foreach ---- */

struct visit {
	unsigned n;
	unsigned stop_after;
	uint8_t seen[4096];
};

static int
visit_cb(void *arg, struct tcpa_flow *f)
{
	struct visit *v = arg;

	v->n++;
	if (*tag_of(f) < 4096)
		v->seen[*tag_of(f)]++;
	return v->stop_after != 0 && v->n >= v->stop_after;
}

static void
test_foreach(void)
{
	enum { N = 1000 };
	struct tcpa_flow *f[N];
	struct tcpa_flow_key k;
	struct visit *v = calloc(1, sizeof(*v));
	struct tbl x;

	if (v == NULL || tbl_open(&x, N, NULL) != 0)
		exit(2);
	tcpa_flow_foreach(x.t, visit_cb, v);
	CHECK_EQ(v->n, 0);
	for (unsigned i = 0; i < N; i++) {
		f[i] = ins_tag(&x, &k, i, (uint8_t)(i % 2 == 0 ?
			TCPA_FLOW_TMO_CLOSED : TCPA_FLOW_TMO_ESTABLISHED), 100);
	}
	/* Remove every third; expire the CLOSED ones (even tags). */
	for (unsigned i = 0; i < N; i += 3) {
		tcpa_flow_remove(x.t, f[i]);
		f[i] = NULL;
	}
	for (unsigned i = 0; i < 100; i++)
		tcpa_flow_age_step(x.t, 100 + 1000 + 200, 64);
	memset(v, 0, sizeof(*v));
	tcpa_flow_foreach(x.t, visit_cb, v);
	CHECK_EQ(v->n, tcpa_flow_count(x.t));
	for (unsigned i = 0; i < N; i++) {
		unsigned want = (i % 3 != 0 && i % 2 != 0) ? 1 : 0;

		CHECK_EQ(v->seen[i], want);
	}
	/* Stop early. */
	memset(v, 0, sizeof(*v));
	v->stop_after = 5;
	tcpa_flow_foreach(x.t, visit_cb, v);
	CHECK_EQ(v->n, 5);
	tbl_close(&x);
	free(v);
}

int
main(void)
{
	tcpa_hash_secret_init(&secret, 42);

	RUN(test_key_symmetry_v4);
	RUN(test_key_symmetry_v6);
	RUN(test_key_vlan);
	RUN(test_key_zone);
	RUN(test_hash_secret);
	RUN(test_owner_spread);
	RUN(test_memsize_init);
	RUN(test_params_layouts);
	RUN(test_insert_lookup_remove);
	RUN(test_full);
	RUN(test_full_structured);
	RUN(test_lookup_pkt);
	RUN(test_evict_policy);
	RUN(test_evict_touch_and_wrap);
	RUN(test_evict_big);
	RUN(test_expiry_classes);
	RUN(test_expiry_wrap);
	RUN(test_expiry_touch);
	RUN(test_expiry_set_tmo);
	RUN(test_expiry_jump);
	RUN(test_expiry_budget);
	RUN(test_expiry_churn);
	RUN(test_foreach);

	return check_summary("flow");
}
