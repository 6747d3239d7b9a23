/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for the frame parser. Besides "never crash, never read past
 * the end" (the sanitisers' job), it checks the output invariants that the
 * rest of the pipeline relies on, and aborts when one breaks.
 *
 * Input: byte 0 picks the entry point and link type (entries[]), byte 1 the
 * wire length (0: the captured length; n: n * 257 bytes more, to reach the
 * TSO and BIG TCP lengths), the rest is the frame.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcpa_pkt.h"

#define FUZZ_HDR 2
/* tcpa_pkt_parse(), which has no link type and no wire length. */
#define FUZZ_ETH_FAST UINT32_MAX

static const uint32_t entries[] = {
	FUZZ_ETH_FAST,
	TCPA_LINKTYPE_ETHERNET,
	TCPA_LINKTYPE_NULL,
	TCPA_LINKTYPE_LOOP,
	TCPA_LINKTYPE_RAW,
	TCPA_LINKTYPE_DLT_RAW1,
	TCPA_LINKTYPE_DLT_RAW2,
	TCPA_LINKTYPE_IPV4,
	TCPA_LINKTYPE_IPV6,
	TCPA_LINKTYPE_LINUX_SLL,
	TCPA_LINKTYPE_LINUX_SLL2,
	TCPA_LINKTYPE_PPP,
	TCPA_LINKTYPE_PPP_HDLC,
	TCPA_LINKTYPE_C_HDLC,
	TCPA_LINKTYPE_NFLOG,
	127,    /* unsupported: radiotap */
};

#define TUNNEL_ENCAPS ((1U << TCPA_PKT_ENCAP_ipip) | (1U << TCPA_PKT_ENCAP_gre) | \
	(1U << TCPA_PKT_ENCAP_erspan2) | (1U << TCPA_PKT_ENCAP_erspan3) | \
	(1U << TCPA_PKT_ENCAP_vxlan) | (1U << TCPA_PKT_ENCAP_geneve))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_ok(const struct tcpa_pkt *p, uint32_t lt, uint32_t cap, uint32_t wire)
{
	if (p->family != 4 && p->family != 6)
		abort();
	if ((p->tcp_flags & 0x3f) == 0 || cap < 20 + 20)
		abort();
	if ((lt == FUZZ_ETH_FAST || lt == TCPA_LINKTYPE_ETHERNET) && cap < 14 + 20 + 20)
		abort();
	if ((p->nsack != 0) != ((p->opts & TCPA_OPT_SACK) != 0))
		abort();
	if (p->tunnel_kind >= TCPA_PKT_TUNNEL_MAX)
		abort();
	/* The zone: VLAN ids alone, or a tunnel's of the kind the segment came through. */
	if (p->tunnel_kind == TCPA_PKT_TUNNEL_NONE ? p->zone > 0xffffff :
			!(p->zone & TCPA_ZONE_TUNNEL) || (p->zone >> 28 & 7) != p->tunnel_kind)
		abort();
	if (p->tunnel_kind == TCPA_PKT_TUNNEL_NONE && p->tunnel_id != 0)
		abort();
	if (p->tunnel_kind != TCPA_PKT_TUNNEL_NONE && (p->encap & TUNNEL_ENCAPS) == 0)
		abort();
	/* Known wire length, no tunnel: the segment fits in the frame. */
	if (lt != FUZZ_ETH_FAST && lt != TCPA_LINKTYPE_NFLOG &&
	    (p->encap & TUNNEL_ENCAPS) == 0 && (uint64_t)p->payload_len + 40 > wire)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ports_set;
	struct tcpa_pkt p;
	enum tcpa_pkt_verdict v;
	uint32_t lt, cap, wire;

	if (size < FUZZ_HDR || size > UINT16_MAX)
		return 0;
	if (!ports_set) {
		const uint16_t extra = 8472;

		if (tcpa_pkt_vxlan_ports_set(&extra, 1) != 0)
			abort();
		ports_set = 1;
	}
	lt = entries[data[0] % (sizeof(entries) / sizeof(entries[0]))];
	cap = (uint32_t)size - FUZZ_HDR;
	wire = cap + (uint32_t)data[1] * 257;
	memset(&p, 0, sizeof(p));
	p.hash = 0x1122334455667788ULL;
	p.ts = 42;
	p.rxc = 7;

	if (lt == FUZZ_ETH_FAST) {
		wire = cap;
		v = tcpa_pkt_parse(data + FUZZ_HDR, cap, &p);
	} else {
		v = tcpa_pkt_parse_link(lt, data + FUZZ_HDR, cap, wire, &p);
	}

	if ((unsigned int)v >= TCPA_PKT_VERDICT_MAX || tcpa_pkt_verdict_name(v) == NULL)
		abort();
	if (p.wire_len != wire || p.hash != 0x1122334455667788ULL || p.ts != 42 || p.rxc != 7)
		abort();
	if (p.nsack > TCPA_PKT_MAX_SACK || p.wscale > 14)
		abort();
	if (v == TCPA_PKT_OK)
		check_ok(&p, lt, cap, wire);
	return 0;
}
