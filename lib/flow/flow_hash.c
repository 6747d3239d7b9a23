/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Keyed hash of the canonical flow key.
 *
 * Multiply-fold mixing (as wyhash does) keyed with a 256-bit secret: three
 * 64x64->128 multiplies per tuple, several times cheaper than SipHash.
 * Without the secret an attacker cannot predict the bucket or core of a
 * tuple, so cannot aim collisions at one bucket. Symmetric by construction
 * (see combine()), so the dataplane never orders the endpoints.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "tcpa_flow.h"

static inline uint64_t
mum(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

int
tcpa_hash_secret_init(struct tcpa_hash_secret *s, uint64_t seed)
{
	if (seed == 0) {
		if (getrandom(s->k, sizeof(s->k), 0) != (ssize_t)sizeof(s->k))
			return -errno;
		return 0;
	}
	for (unsigned i = 0; i < 4; i++)
		s->k[i] = tcpa_splitmix64(&seed) | 1;
	return 0;
}

/*
 * One endpoint (address, port) mixed with the secret. The flow hash is the
 * sum of both endpoints' mixes: addition commutes, so A->B and B->A hash
 * alike without first putting the endpoints in order.
 */
static inline uint64_t
endpoint_mix(const struct tcpa_ip *ip, uint16_t port, const struct tcpa_hash_secret *s)
{
	uint64_t w[2];

	/*
	 * The port goes into the other operand than the low address word, so
	 * both factors vary even for IPv4 (whose mapped high word is 0).
	 */
	memcpy(w, ip->b, sizeof(w));
	return mum(w[0] ^ s->k[0] ^ port, w[1] ^ s->k[1]);
}

static inline uint64_t
combine(uint64_t a, uint64_t b, uint32_t zone, const struct tcpa_hash_secret *s)
{
	/* Sum and xor both commute; two varying factors mix better than one. */
	return mum((a + b) ^ s->k[2], (a ^ b) ^ s->k[3] ^ zone);
}

uint64_t
tcpa_flow_key_hash(const struct tcpa_flow_key *k, const struct tcpa_hash_secret *s)
{
	return combine(endpoint_mix(&k->ip[0], k->port[0], s), endpoint_mix(&k->ip[1], k->port[1], s),
		k->zone, s);
}

uint64_t
tcpa_flow_pkt_hash(const struct tcpa_pkt *p, const struct tcpa_hash_secret *s)
{
	return combine(endpoint_mix(&p->src, p->sport, s), endpoint_mix(&p->dst, p->dport, s),
		p->zone, s);
}
