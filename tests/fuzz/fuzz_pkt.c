/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for the frame parser. Besides "never crash, never read past
 * the end" (the sanitisers' job), it checks the output invariants that the
 * rest of the pipeline relies on, and aborts when one breaks.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcpa_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tcpa_pkt p;
	enum tcpa_pkt_verdict v;
	uint32_t len;

	if (size > UINT16_MAX)
		return 0;
	len = (uint32_t)size;
	memset(&p, 0, sizeof(p));
	p.hash = 0x1122334455667788ULL;
	p.ts = 42;
	p.rxc = 7;

	v = tcpa_pkt_parse(data, len, &p);

	if ((unsigned int)v >= TCPA_PKT_VERDICT_MAX || tcpa_pkt_verdict_name(v) == NULL)
		abort();
	if (p.wire_len != len || p.hash != 0x1122334455667788ULL || p.ts != 42 || p.rxc != 7)
		abort();
	if (p.nsack > TCPA_PKT_MAX_SACK || p.wscale > 14)
		abort();
	if (v == TCPA_PKT_OK) {
		if (p.family != 4 && p.family != 6)
			abort();
		if ((p.tcp_flags & 0x3f) == 0 || len < 14 + 20 + 20)
			abort();
		if ((p.nsack != 0) != ((p.opts & TCPA_OPT_SACK) != 0))
			abort();
	}
	return 0;
}
