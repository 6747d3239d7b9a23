/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TCPA_COMMON_H
#define TCPA_COMMON_H

/*
 * Small helpers shared by every lib/ module. Plain C: no DPDK here, so the
 * engine builds and is tested without EAL.
 */

#include <stdint.h>

#define TCPA_CACHE_LINE 64
#define TCPA_CACHE_ALIGNED __attribute__((aligned(TCPA_CACHE_LINE)))
#define TCPA_COLD __attribute__((cold, noinline))

#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#endif
#ifndef unlikely
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

#define TCPA_BURST 32

#ifdef TCPA_DEBUG
#include <assert.h>
#define TCPA_ASSERT(x) assert(x)
#else
#define TCPA_ASSERT(x) do { } while (0)
#endif

#define TCPA_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Nanoseconds in packet time: capture timestamps offline, TSC-derived live. */
#define TCPA_NS_PER_S 1000000000ULL
#define TCPA_NS_PER_MS 1000000ULL

/** ns -> ms (a division by a constant: the compiler makes it a multiply). */
static inline uint32_t
tcpa_ns_to_ms(uint64_t ns)
{
	return (uint32_t)(ns / TCPA_NS_PER_MS);
}

/**
 * splitmix64: the next 64-bit value of the sequence seeded by *@p x. Turns
 * a seed into well-mixed keys (the hash secret) and PRNG states (tcpa-gen).
 */
static inline uint64_t
tcpa_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

#endif /* TCPA_COMMON_H */
