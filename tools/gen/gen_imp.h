/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TCPA_GEN_IMP_H
#define TCPA_GEN_IMP_H

/*
 * What the impairment episodes (gen_imp.c) and the observer (gen_obs.c)
 * share: per slot, the script under way and what the capture holds.
 */

#include <stdint.h>

#include "gen.h"

#define GEN_IMP_QMAX       12u  /* segments of one scripted episode */
#define GEN_IMP_HOLES      4u   /* unseen ranges the observer remembers per side */
#define GEN_OOO_UNKNOWN_US 3000u /* reordering window without a handshake RTT */

/* What the capture (the observer) holds of one side of a connection. */
struct gen_imp_obs {
	uint32_t nxt;           /* end of the highest segment seen */
	uint32_t ack;           /* ACK number of the last segment seen */
	uint32_t judged;        /* the peer's ACKs up to here were judged (ack_unseen) */
	uint32_t hole_lo[GEN_IMP_HOLES];        /* ranges below nxt never seen */
	uint32_t hole_hi[GEN_IMP_HOLES];
	uint64_t nxt_us;        /* capture time (us) nxt last moved */
	uint64_t last_ns;       /* time of the last segment seen */
	uint16_t win;           /* raw window of the last segment seen */
	uint8_t dups;           /* duplicate ACKs in a row */
	uint8_t nholes;
	uint8_t seen;           /* a segment of this side was seen */
	uint8_t had_ack;        /* the last one had ACK set */
	uint8_t gap_pending;    /* a hidden segment not yet followed by a visible one */
	uint8_t ws_m_set;
	/* Wireshark 4.0's dupacknum of this side's ACKs; -1: an ACK of it revealed a gap */
	int8_t ws_dup;
	uint32_t ws_m;          /* Wireshark 4.0's maxseqtobeacked of this side's data */
	uint8_t sacked;         /* its last ACK carried a SACK block above the ACK: */
	uint32_t sack_lo;       /*  [sack_lo, sack_hi) of the peer's data it holds */
	uint32_t sack_hi;
};

/* Per slot, in impairment mode only. */
struct gen_imp_conn {
	struct gen_imp_obs o[2];
	uint64_t syn_us;        /* capture time (us) of the last SYN */
	uint32_t rtt_us;        /* SYN to the ACK completing the handshake */
	uint8_t syn_seen;
	uint8_t rtt_known;
	uint8_t qn;             /* scripted segments queued */
	uint8_t qi;             /* next one to send */
	struct gen_imp_seg q[GEN_IMP_QMAX];
};

/* The impairment state of @p c's slot. */
static inline struct gen_imp_conn *
gen_imp_of(const struct gen *g, const struct gen_conn *c)
{
	return &g->imp[c - g->slots];
}

#endif /* TCPA_GEN_IMP_H */
