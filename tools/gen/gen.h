/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TCPA_GEN_H
#define TCPA_GEN_H

/*
 * tcpa-gen private header: what the generator's files share.
 *
 *   tcpa_gen.c   main: setup, addresses, output files, the summary
 *   gen_args.c   command line and --help
 *   gen_conn.c   one connection's tuple and segments, malformed frames
 *   gen_lc.c     lifecycle mode: fates, phases, timing, the schedule
 *   gen_rheap.c  the schedule's radix heap (gen_rheap.h)
 *   gen_imp.c    impairment episodes (gen_imp.h)
 *   gen_obs.c    the observer: what the capture shows (gen_imp.h)
 *   gen_bench.c  benchmark mode
 *   gen_truth.c  the ground truth as JSON
 *   gen_out.c    pcap writer and frame builder
 *
 * Everything the generator writes is a pure function of its arguments and
 * the seed: no clock, no pointer values, no hash-table iteration order.
 */

#include <stdint.h>
#include <stdio.h>

#include "tcpa_common.h"
#include "tcpa_flow.h"

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

#define GEN_NS_PER_S     1000000000ULL
#define GEN_NS_PER_MS    1000000ULL
/*
 * Aim for captures under 25 s of packet time: shorter than tcpa's shortest
 * idle timeout (timeout_syn_s, 30 s) and than TIME_WAIT (60 s), so at the
 * end of the capture every connection is still in the state the truth says.
 */
#define GEN_TARGET_NS    (25 * GEN_NS_PER_S)
#define GEN_SLOT_BITS    24u           /* heap key: slot index, < 2^24 */
#define GEN_MAX_SLOTS    (1u << GEN_SLOT_BITS)
#define GEN_PORT_COUNT   32768u        /* client ports per client address */
#define GEN_SEG_PAYLOAD  (GEN_MSS - 12) /* MSS less the timestamp option */
#define GEN_RTO_NS       (220 * GEN_NS_PER_MS) /* RTO wait: past the 200 ms minimum */
#define GEN_PCT_ONE      1000u         /* impairment rates in thousandths of a percent */
#define GEN_PCT_ALL      (100u * GEN_PCT_ONE)

/* ---- frames and pcap files (gen_out.c) ---- */

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

/* ---- the traffic model ---- */

/* Fates a connection can have (--mix), in truth and --help order. */
#define GEN_FATES(X) \
	X(fin_client, "client closes first: client TIME_WAIT") \
	X(fin_server, "server closes first: server TIME_WAIT") \
	X(leak,       "client FIN acked, server stays: CLOSE_WAIT") \
	X(open,       "both left ESTABLISHED") \
	X(rst,        "client RST after the data: both CLOSED") \
	X(refused,    "SYN answered by RST+ACK: nothing left") \
	X(unanswered, "SYN, same SYN 1 s later: client SYN_SENT") \
	X(half_open,  "no third ACK: SYN_RECEIVED server")

enum gen_fate {
#define X(n, h) GEN_FATE_##n,
	GEN_FATES(X)
#undef X
	GEN_FATE_MIX_MAX,
	GEN_FATE_midstream = GEN_FATE_MIX_MAX, /* not drawn: --midstream */
	GEN_FATE_MAX
};

/* Fate names, truth and --mix spelling. */
extern const char *const gen_fate_name[GEN_FATE_MAX];

/* Endpoint states the truth can hold (RFC 9293 names, ANOMALIES.md). */
#define GEN_STATES(X) \
	X(SYN_SENT) X(SYN_RECEIVED) X(ESTABLISHED) X(FIN_WAIT_1) X(FIN_WAIT_2) \
	X(CLOSING) X(TIME_WAIT) X(CLOSE_WAIT) X(LAST_ACK)

enum gen_st {
	GEN_ST_NONE = 0,        /* CLOSED or no socket: not listed, like ss */
#define X(s) GEN_ST_##s,
	GEN_STATES(X)
#undef X
	GEN_ST_MAX
};

/* Where a connection is in its story: the segment it sends next. */
enum gen_phase {
	GEN_PH_SYN,
	GEN_PH_SYN_RTX,
	GEN_PH_REFUSE,
	GEN_PH_SYNACK,
	GEN_PH_ACK3,
	GEN_PH_DATA,
	GEN_PH_DATA_ACK,
	GEN_PH_FIN1,
	GEN_PH_FIN1_ACK,
	GEN_PH_FIN2,
	GEN_PH_FIN2_ACK,
	GEN_PH_RST,
	GEN_PH_DONE,
};

#define GEN_CF_V6      0x01     /* over IPv6 */
#define GEN_CF_SRV_MSG 0x02     /* the message under way is the server's */

/*
 * One connection in progress: one cache line, the only per-connection
 * memory besides its heap key. Side 0 is the client, side 1 the server.
 */
struct TCPA_CACHE_ALIGNED gen_conn {
	uint32_t nxt[2];        /* next sequence number each side sends */
	uint32_t tsbase[2];     /* TSval = tsbase + packet time in ms */
	uint32_t tslast[2];     /* last TSval each side sent (the peer's TSecr) */
	uint32_t k;             /* connection number, in start order */
	uint32_t left;          /* payload bytes left in the message under way */
	uint16_t cport;
	uint16_t cli;           /* client index */
	uint16_t srv;           /* server endpoint index */
	uint16_t ipid[2];
	uint16_t exch;          /* request/response exchanges left */
	uint16_t file;          /* --split file */
	uint8_t fate;
	uint8_t phase;          /* enum gen_phase; bench: 0 idle, 1/2 side 0/1 awaits ACK */
	uint8_t unacked;        /* data segments sent since the last ACK */
	uint8_t flags;          /* GEN_CF_* */
};

/* Impairments, in --help and draw order. */
enum gen_imp_kind {
	GEN_IMP_LOSS,
	GEN_IMP_TAP,
	GEN_IMP_DUP,
	GEN_IMP_REORDER,
	GEN_IMP_NONE,
	GEN_IMP_MAX = GEN_IMP_NONE
};

struct gen_args {
	const char *out;
	const char *truth;
	uint64_t seed;
	uint64_t conns;
	uint64_t concurrent;
	uint64_t midstream;
	uint64_t malformed;
	uint64_t packets;
	uint64_t hash_seed;
	uint32_t data;
	uint32_t req;
	uint32_t resp;
	uint32_t weight[GEN_FATE_MIX_MAX];
	uint32_t ipv6_pct;
	uint32_t clients;
	uint32_t servers;
	uint32_t split;
	int vlan;               /* -1: none */
	int qinq_outer;         /* -1: none */
	int qinq_inner;
	int bench;
	uint32_t imp_pct[GEN_IMP_MAX]; /* enum gen_imp_kind, thousandths of a percent */
	int imp_on;             /* an impairment option was given (even 0) */
	int go_back_n;          /* --go-back-n: an RTO resends the SACKed segments too */
};

/* ANOMALIES.md keys the truth counts ("Throughput and loss"), truth order. */
#define GEN_ANOMS(X) \
	X(retransmission) X(fast_retransmission) X(spurious_retransmission) \
	X(out_of_order) X(lost_segment) X(ack_unseen) X(dup_ack) X(zero_window) \
	X(zero_window_probe) X(window_full) X(keepalive) X(keepalive_ack) X(tuple_reuse)

enum gen_anom {
#define X(n) GEN_AN_##n,
	GEN_ANOMS(X)
#undef X
	GEN_AN_MAX,
	GEN_AN_NONE = GEN_AN_MAX
};

/* Episodes applied, for the truth's "impairments". */
#define GEN_APPLIED(X) \
	X(loss_fast) X(loss_rto) X(tap_loss) X(dup) X(dup_spurious) X(reorder) \
	X(skipped) X(syn_repeat) X(go_back_n)

enum gen_applied {
#define X(n) GEN_AP_##n,
	GEN_APPLIED(X)
#undef X
	GEN_AP_MAX
};

/* Script entry modes. */
#define GEN_XM_FIXED  0x01      /* ipid, tsval, tsecr given (a replay, or reordered) */
#define GEN_XM_HIDDEN 0x02      /* sent on the wire, missing from the capture */

/*
 * One segment of a scripted episode, or the extras of one segment
 * (gen_emit_seg). Resend class @p cls is what ANOMALIES.md calls it.
 */
struct gen_imp_seg {
	uint64_t at;            /* packet time */
	uint32_t seq;
	uint32_t ack;
	uint32_t sack_lo;       /* one SACK block when sack_lo != sack_hi */
	uint32_t sack_hi;
	uint32_t tsval;         /* GEN_XM_FIXED */
	uint32_t tsecr;
	uint16_t len;
	uint16_t ipid;          /* GEN_XM_FIXED */
	uint8_t side;
	uint8_t flags;
	uint8_t mode;           /* GEN_XM_* */
	uint8_t cls;            /* enum gen_anom: GEN_AN_NONE or the resend kind */
};

/* Per slot, in impairment mode only (gen_imp.h). */
struct gen_imp_conn;

/* The whole generator. */
struct gen {
	struct gen_args a;
	uint64_t rng[4];        /* xoshiro256** */
	struct gen_l2 l2;
	struct gen_out *out;
	uint32_t nout;
	struct tcpa_hash_secret secret;
	uint32_t wtotal;
	/* Addresses by index: IPv4, IPv6, MAC. */
	uint8_t (*cli4)[4];
	uint8_t (*cli6)[16];
	uint8_t (*climac)[6];
	uint8_t (*srv4)[4];
	uint8_t (*srv6)[16];
	uint8_t (*srvmac)[6];
	uint16_t *srvport;
	/* Truth: live sockets by [family][index][state]. */
	uint64_t (*cst[2])[GEN_ST_MAX];
	uint64_t (*sst[2])[GEN_ST_MAX];
	uint64_t fates[GEN_FATE_MAX];
	uint64_t mal[GEN_MAL_MAX];
	uint64_t mal_done;
	uint64_t mal_every;     /* inject one malformed frame per this many segments */
	uint64_t mal_next;      /* at this segment count */
	uint64_t tcp_pkts;
	uint64_t flows;
	uint64_t started;
	uint64_t mid_started;
	uint64_t gap_ns;        /* mean gap between segments of one connection */
	uint64_t rtx_ns;        /* SYN retransmission delay */
	uint64_t t_first;
	uint64_t t_last;
	int any_pkt;
	/* Impairments. */
	uint64_t irng[4];       /* their own xoshiro256** stream */
	struct gen_imp_conn *imp; /* per slot; NULL: no impairment option */
	struct gen_conn *slots;
	uint32_t imp_total;     /* sum of the rates */
	uint64_t anom[GEN_AN_MAX];
	uint64_t applied[GEN_AP_MAX];
	uint64_t imp_bad;       /* internal check failures (must stay 0) */
	uint64_t ws_anom[GEN_AN_MAX]; /* what Wireshark 4.0 flags, where its rules differ */
};

/* ---- PRNG: xoshiro256**, seeded with splitmix64 ---- */

static inline uint64_t
gen_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t
gen_xoshiro(uint64_t *s)
{
	uint64_t r = gen_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = gen_rotl(s[3], 45);
	return r;
}

/* The main stream: the traffic itself. */
static inline uint32_t
gen_rnd32(struct gen *g)
{
	return (uint32_t)(gen_xoshiro(g->rng) >> 32);
}

/* Uniform in [0, n) (multiply-shift; bias below 2^-32, deterministic). */
static inline uint32_t
gen_rnd_below(struct gen *g, uint32_t n)
{
	return (uint32_t)(((uint64_t)gen_rnd32(g) * n) >> 32);
}

/*
 * The impairments' own stream: their draws leave the main stream alone,
 * so with every rate 0 the capture is that of no impairment option.
 */
static inline uint32_t
gen_irnd32(struct gen *g)
{
	return (uint32_t)(gen_xoshiro(g->irng) >> 32);
}

static inline uint32_t
gen_irnd_below(struct gen *g, uint32_t n)
{
	return (uint32_t)(((uint64_t)gen_irnd32(g) * n) >> 32);
}

/* Gap to a connection's next segment: uniform in [0.5, 1.5) mean gaps, >= 1 ns. */
static inline uint64_t
gen_gap(struct gen *g)
{
	return (g->gap_ns * (512 + (gen_rnd32(g) & 1023))) / 1024 + 1;
}

/* ---- gen_args.c ---- */

/** Parse the command line into @p a. @return 0, or -EINVAL (message written). */
int gen_args_parse(struct gen_args *a, int argc, char **argv);

/** Check the arguments together; sets g->wtotal and g->imp_total. @return 0 or -EINVAL. */
int gen_args_check(struct gen *g);

/* ---- gen_conn.c ---- */

/** Start connection number g->started in @p c with fate @p fate; count its truth. */
void gen_conn_init(struct gen *g, struct gen_conn *c, uint8_t fate);

/**
 * Write one segment of @p c sent by @p side (0 client, 1 server) at @p t.
 * @p x (impairment mode only, else NULL) adds a SACK block, fixed IP ID and
 * timestamps, a hidden segment, or the resend class.
 */
void gen_emit_seg(struct gen *g, struct gen_conn *c, uint64_t t, unsigned side, uint8_t flags,
		uint32_t seq, uint32_t ack, uint32_t plen, uint8_t opts, uint16_t win,
		const struct gen_imp_seg *x);

/** gen_emit_seg() without extras. */
static inline void
gen_emit(struct gen *g, struct gen_conn *c, uint64_t t, unsigned side, uint8_t flags,
		uint32_t seq, uint32_t ack, uint32_t plen, uint8_t opts, uint16_t win)
{
	gen_emit_seg(g, c, t, side, flags, seq, ack, plen, opts, win, NULL);
}

/** Write the malformed frames not yet placed, at the last packet time. */
void gen_malformed_rest(struct gen *g);

/* ---- gen_lc.c ---- */

/** Lifecycle mode: every connection's story. @return 0, or -errno. */
int gen_lc_run(struct gen *g);

/** The receiver acknowledged everything sent of the message: on to what comes next. */
void gen_lc_data_acked(struct gen *g, struct gen_conn *c);

/* ---- gen_imp.c ---- */

/** Per-slot impairment state for @p nslots slots. @return 0 or -ENOMEM. */
int gen_imp_init(struct gen *g, uint64_t nslots);

/** Free what gen_imp_init() took. */
void gen_imp_fini(struct gen *g);

/** A new connection starts in the slot of @p c. */
void gen_imp_reset(struct gen *g, const struct gen_conn *c);

/** Does the impairment code send @p c's next segment (impairment mode only)? */
int gen_imp_takes(struct gen *g, const struct gen_conn *c);

/**
 * Send @p c's next segment (gen_imp_takes() said so).
 * @return ns until its next segment, or 0 when its story is over.
 */
uint64_t gen_imp_step(struct gen *g, struct gen_conn *c, uint64_t t);

/* ---- gen_obs.c ---- */

/** Impairment mode: @p c's segment of @p x (or an unscripted one) is in the capture. */
void gen_obs_segment(struct gen *g, struct gen_conn *c, uint64_t t, unsigned side,
		uint8_t flags, uint32_t seq, uint32_t ack, uint32_t plen, uint16_t win,
		const struct gen_imp_seg *x);

/** Impairment mode: @p side of @p c sent a segment the capture misses. */
void gen_obs_hidden(struct gen *g, const struct gen_conn *c, unsigned side);

/* ---- gen_bench.c ---- */

/** Benchmark mode. @return 0, or -ENOMEM. */
int gen_bench_run(struct gen *g);

/* ---- gen_truth.c ---- */

/** Write the ground truth to g->a.truth. @return 0, or -errno (message written). */
int gen_truth_write(const struct gen *g);

#endif /* TCPA_GEN_H */
