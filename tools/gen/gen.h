/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TCPA_GEN_H
#define TCPA_GEN_H

/*
 * tcpa-gen private header: the pcap writer and frame builder (gen_out.c)
 * shared with the traffic model and ground truth (tcpa_gen.c).
 *
 * Everything the generator writes is a pure function of its arguments and
 * the seed: no clock, no pointer values, no hash-table iteration order.
 */

#include <stdint.h>
#include <stdio.h>

/* Fixed facts of the synthetic world. */
#define GEN_EPOCH_S      1700000000u   /* packet time of the first frame */
#define GEN_MSS          1460u         /* MSS option in SYN and SYN-ACK */
#define GEN_WSCALE       7u            /* window scale in SYN and SYN-ACK */
#define GEN_SYN_WIN      64240u        /* raw window of SYN and SYN-ACK */
#define GEN_WIN          502u          /* raw window after the handshake (x128) */
#define GEN_TTL          64u
#define GEN_SNAPLEN      65535u
#define GEN_MIN_FRAME    60u           /* Ethernet minimum without FCS */
#define GEN_MAX_FRAME    1600u         /* largest frame ever built */
#define GEN_PCAP_REC_HDR 16u

/* TCP options carried by a segment. */
enum gen_opts {
	GEN_OPT_NONE = 0,
	GEN_OPT_SYN_TS,         /* MSS, SACK_PERM, TS, NOP, WS: 20 bytes */
	GEN_OPT_SYN_NOTS,       /* MSS, NOP, NOP, SACK_PERM, NOP, WS: 12 bytes */
	GEN_OPT_TS,             /* NOP, NOP, TS: 12 bytes */
	GEN_OPT_TS_SACK,        /* NOP, NOP, TS, NOP, NOP, SACK one block: 24 bytes */
};

/* One buffered pcap file. */
struct gen_out {
	FILE *fp;
	char *path;
	uint8_t *buf;
	size_t len;             /* bytes used in buf */
	size_t cap;
	uint64_t frames;        /* records written */
	int err;                /* a write failed */
};

/* L2 encapsulation shared by every frame. */
struct gen_l2 {
	uint16_t ntags;         /* 0, 1 (802.1Q) or 2 (802.1ad + 802.1Q) */
	uint16_t tag[2];        /* VLAN ids, outer first */
};

/* One TCP segment to build. Addresses in network order, the rest host. */
struct gen_seg {
	const uint8_t *src;     /* 4 or 16 bytes */
	const uint8_t *dst;
	const uint8_t *smac;
	const uint8_t *dmac;
	uint32_t seq;
	uint32_t ack;
	uint32_t tsval;
	uint32_t tsecr;
	uint32_t sack_lo;       /* GEN_OPT_TS_SACK: the block [sack_lo, sack_hi) */
	uint32_t sack_hi;
	uint32_t flow_label;    /* IPv6 only */
	uint16_t sport;
	uint16_t dport;
	uint16_t win;
	uint16_t payload_len;
	uint16_t ip_id;         /* IPv4 only */
	uint8_t flags;
	uint8_t opts;           /* enum gen_opts */
	uint8_t v6;
};

/* Malformed frame kinds; the order is the truth's and the round-robin's. */
#define GEN_MALFORMED(X) \
	X(bad_l2) X(bad_ip) X(bad_tcp) X(truncated) \
	X(bad_flags) X(ip_fragment) X(not_tcp)

enum gen_mal {
#define X(n) GEN_MAL_##n,
	GEN_MALFORMED(X)
#undef X
	GEN_MAL_MAX
};

/** Prepare the payload pattern and its checksum prefix sums. */
void gen_out_global_init(void);

/**
 * Open @p path and write the pcap global header.
 * @return 0, or -errno.
 */
int gen_out_open(struct gen_out *o, const char *path, size_t bufsize);

/** Flush and close. @return 0, or -errno if any write failed. */
int gen_out_close(struct gen_out *o);

/** Flush the buffer to the file. */
void gen_out_flush(struct gen_out *o);

/**
 * Append one TCP segment at packet time @p t_ns (ns since the epoch).
 * @return the frame length written.
 */
uint32_t gen_out_tcp(struct gen_out *o, uint64_t t_ns, const struct gen_l2 *l2,
		const struct gen_seg *s);

/**
 * Append one malformed frame of kind @p kind. @p variant is the frame's
 * number among all malformed frames: it gives each one its own address and
 * port, and not_tcp alternates UDP and ARP on (variant / GEN_MAL_MAX).
 */
void gen_out_malformed(struct gen_out *o, uint64_t t_ns, const struct gen_l2 *l2,
		enum gen_mal kind, uint32_t variant);

#endif /* TCPA_GEN_H */
