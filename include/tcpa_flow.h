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
 * Flow key: both endpoints and the VLAN. In the table, side 0 is the
 * sender of the flow's first segment; tcpa_flow_key_make() builds the
 * canonical form (lower endpoint first) for code that needs one. 40 bytes.
 */
struct tcpa_flow_key {
	struct tcpa_ip ip[2];
	uint16_t port[2];
	uint32_t vlan;
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
	k->vlan = p->vlan;
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
	k->vlan = p->vlan;
}

/**
 * Keyed 64-bit hash of a key: symmetric, so the key's side order does not
 * matter; equal to tcpa_flow_pkt_hash() of either direction's segments.
 */
uint64_t tcpa_flow_key_hash(const struct tcpa_flow_key *k, const struct tcpa_hash_secret *s);

/** Keyed symmetric hash of a segment's 4-tuple and VLAN (no key built). */
uint64_t tcpa_flow_pkt_hash(const struct tcpa_pkt *p, const struct tcpa_hash_secret *s);

/**
 * Which side of key @p k sent @p p: 0 or 1, or -1 if @p p is not of that
 * flow. Compares in place: no key is built on the packet path.
 */
static inline int
tcpa_flow_key_side(const struct tcpa_flow_key *k, const struct tcpa_pkt *p)
{
	if (k->vlan != p->vlan)
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

/* Per-endpoint half of a flow: what one endpoint's kernel holds. */
#define TCPA_HALF_SYN      0x01 /* sent a SYN; nxt - 1 is its ISN until data */
#define TCPA_HALF_ACKED    0x02 /* sent an ACK: ack is valid */
#define TCPA_HALF_FIN      0x04 /* sent a FIN; its sequence number is nxt - 1 */
#define TCPA_HALF_FIN_ACKED 0x08 /* its FIN was acknowledged by the peer */
#define TCPA_HALF_ACKED_FIN 0x10 /* it acknowledged the peer's FIN */
#define TCPA_HALF_WS       0x20 /* offered window scaling in its SYN */
#define TCPA_HALF_SEEN     0x40 /* sent at least one segment */
#define TCPA_HALF_DOUBT    0x80 /* repeated its SYN-ACK after the ACK: its kernel dropped it */

struct tcpa_half {
	uint8_t state;          /* enum tcpa_tcp_state */
	uint8_t flags;          /* TCPA_HALF_* */
	uint8_t wscale;         /* shift applied to its advertised window */
	uint8_t rxc;            /* core that received its previous segment */
	uint32_t nxt;           /* highest sequence number sent + 1 */
	uint32_t ack;           /* last acknowledgment number it sent */
	uint32_t win;           /* last advertised window, scaled, bytes */
	/*
	 * Segments and payload bytes sent, the part below 2^31: the engine
	 * carries the rest into tcpa_flow_ext (tcpa_flow_carry()), so the
	 * line every segment touches holds 32-bit counters only.
	 */
	uint32_t pkts;
	uint32_t bytes;
	/* lib/anom (Nagle): end of its last sub-MSS segment awaiting ACK, 0 = none */
	uint32_t small_end;
	uint32_t small_us;      /* when sent; with TCPA_AH_LATE: when its late ACK came */
};

/* tcpa_flow.flags */
#define TCPA_FLOW_MIDSTREAM 0x01 /* picked up without its handshake */
#define TCPA_FLOW_WSCALE    0x02 /* both SYNs offered scaling: it is in force */
#define TCPA_FLOW_ROLE_SET  0x04 /* roles known from a SYN or SYN-ACK */

/* Doubly linked list node of the timer wheel; indexes, not pointers. */
struct tcpa_flow_link {
	uint32_t prev;
	uint32_t next;
};

/**
 * One connection: 128 bytes, two cache lines, all that a segment on the
 * fast path reads or writes. The first holds what lookup touches and the
 * anomaly rules' per-segment state, the second both endpoints' TCP state.
 * What only slow paths and timers need is in struct tcpa_flow_ext.
 */
struct TCPA_CACHE_ALIGNED tcpa_flow {
	struct tcpa_flow_key key;
	uint32_t last_ms;       /* packet time of the last segment, ms, wraps */
	uint8_t tmo;            /* timeout class (index into the table's timeouts) */
	uint8_t cli;            /* key side of the client (sent the first SYN) */
	uint8_t flags;          /* TCPA_FLOW_* */
	uint8_t live;           /* 1 while the entry holds a flow */
	/* lib/anom's per-segment state (include/tcpa_anom.h) */
	uint32_t last_data_ms;  /* packet time of the last payload either way, 0 = none yet */
	uint32_t born_us;       /* packet time of the first segment, us (wraps) */
	uint16_t mss[2];        /* MSS each side announced, 0 = unknown */
	uint16_t rtt16;         /* handshake RTT in 16 us units, 0 = unknown */
	uint8_t hflags[2];      /* TCPA_AH_* of each side */
	struct tcpa_half half[2]; /* by key side */
};

_Static_assert(sizeof(struct tcpa_flow) == 128, "a flow is two cache lines");

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

/*
 * The cold third line of a flow, in a parallel array (one per entry, zeroed
 * with it): what expiry, timers and the rules' slow paths need and no
 * in-order segment does. Kept apart so that lookup and the fast path touch
 * two cache lines per segment, not three.
 */
struct TCPA_CACHE_ALIGNED tcpa_flow_ext {
	struct tcpa_flow_link tl; /* the table's timer wheel */
	uint32_t ep[2];         /* engine: endpoint record of each side, 0 = none */
	/*
	 * engine: when a side's pending timed condition began, ms mod 2^16
	 * (odd, never 0). Only tells the condition's timer entry, which holds
	 * the full time, from a later one on the same entry.
	 */
	uint16_t stamp[2];
	uint16_t pkts_hi[2];    /* carries of half[].pkts, in units of 2^31 */
	uint32_t bytes_hi[2];   /* carries of half[].bytes, in units of 2^31 */
	uint8_t rules[32];      /* lib/anom's slow-path state (struct tcpa_anom_cold) */
};

_Static_assert(sizeof(struct tcpa_flow_ext) == 64, "the cold line is one cache line");

/** Counters of a flow's side @p side: the hot part plus the carries. */
static inline uint64_t
tcpa_flow_pkts(const struct tcpa_flow *f, const struct tcpa_flow_ext *x, unsigned side)
{
	return ((uint64_t)x->pkts_hi[side] << 31) + f->half[side].pkts;
}

static inline uint64_t
tcpa_flow_bytes(const struct tcpa_flow *f, const struct tcpa_flow_ext *x, unsigned side)
{
	return ((uint64_t)x->bytes_hi[side] << 31) + f->half[side].bytes;
}

/**
 * Move the top bit of side @p side's 32-bit counters into @p x. Call when
 * (pkts | bytes) has bit 31 set: one segment adds under 2^16 bytes, so
 * checking after every segment keeps them from wrapping.
 */
static inline void
tcpa_flow_carry(struct tcpa_flow *f, struct tcpa_flow_ext *x, unsigned side)
{
	struct tcpa_half *h = &f->half[side];

	if (h->pkts >> 31) {
		x->pkts_hi[side]++;
		h->pkts -= 1u << 31;
	}
	if (h->bytes >> 31) {
		x->bytes_hi[side]++;
		h->bytes -= 1u << 31;
	}
}

struct tcpa_flow_table;

/** Called before a flow leaves the table (expired or evicted). */
typedef void (*tcpa_flow_drop_cb)(void *ctx, struct tcpa_flow *f, int evicted);

/**
 * Bytes of memory a table of @p capacity flows needs (64-byte aligned).
 * @return the size, or 0 if @p capacity is 0 or too large (> 2^31).
 */
size_t tcpa_flow_table_memsize(uint32_t capacity);

/**
 * Lay a table out in @p mem (tcpa_flow_table_memsize() bytes, 64-aligned).
 * @param timeout_ms idle timeout of each class, ms
 * @param secret the hash secret the flows' hashes were made with (the table
 *   rehashes a key to find its slot when the flow leaves)
 * @return the table, or NULL with errno EINVAL.
 */
struct tcpa_flow_table *tcpa_flow_table_init(void *mem, uint32_t capacity,
		const uint32_t timeout_ms[TCPA_FLOW_TMO_MAX], const struct tcpa_hash_secret *secret,
		tcpa_flow_drop_cb drop, void *ctx);

/** Change the idle timeouts (control path; takes effect as flows are seen). */
void tcpa_flow_table_set_timeouts(struct tcpa_flow_table *t,
		const uint32_t timeout_ms[TCPA_FLOW_TMO_MAX]);

/** Prefetch the buckets a hash maps to. */
void tcpa_flow_prefetch(const struct tcpa_flow_table *t, uint64_t hash);

/**
 * Prefetch both cache lines of the flows whose signature matches (call
 * once the buckets are in cache, a few segments before the lookup).
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
 * Insert a new zeroed flow with key @p k, class @p tmo, seen at @p now_ms.
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

/** The cold line of @p f. */
struct tcpa_flow_ext *tcpa_flow_ext(struct tcpa_flow_table *t, const struct tcpa_flow *f);

/**
 * The entry and extension arrays, for a caller that maps an entry to its
 * extension on its hot path (ext[f - ent]) without a call per segment.
 */
void tcpa_flow_table_bases(struct tcpa_flow_table *t, struct tcpa_flow **ent,
		struct tcpa_flow_ext **ext);

/** Index of @p f in the table (>= 1), stable while the flow lives. */
uint32_t tcpa_flow_index(const struct tcpa_flow_table *t, const struct tcpa_flow *f);

/** Entry at index @p i, or NULL if out of range (it may be free: check live). */
struct tcpa_flow *tcpa_flow_at(struct tcpa_flow_table *t, uint32_t i);

/** Flows in the table now. */
uint32_t tcpa_flow_count(const struct tcpa_flow_table *t);
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
