/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TCPA_TEST_SEGMENT_H
#define TCPA_TEST_SEGMENT_H

/*
 * A parsed IPv4 TCP segment (struct tcpa_pkt as tcpa_pkt_parse() fills it,
 * no options) for the unit tests that drive the state machine, the rules
 * and the engine without frames. Each test adds its options, time and core.
 */

#include <string.h>

#include "tcpa_pkt.h"

static inline void
test_segment(struct tcpa_pkt *p, const struct tcpa_ip *src, const struct tcpa_ip *dst,
		uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack,
		uint16_t len, uint16_t win)
{
	memset(p, 0, sizeof(*p));
	p->src = *src;
	p->dst = *dst;
	p->sport = sport;
	p->dport = dport;
	p->seq = seq;
	p->ack = (flags & TCPA_TCP_ACK) ? ack : 0;
	p->tcp_flags = flags;
	p->payload_len = len;
	p->win = win;
	p->family = 4;
	p->wire_len = 54U + len;        /* Ethernet + IPv4 + TCP headers, no options */
}

#endif /* TCPA_TEST_SEGMENT_H */
