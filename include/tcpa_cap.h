/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TCPA_CAP_H
#define TCPA_CAP_H

/**
 * @file
 * Capture files: the records of pcap (microsecond and nanosecond, either
 * byte order) and pcapng (every section, interface and packet block, each
 * interface with its own link type, snap length and time resolution), read
 * from memory the caller supplies, and the capture clock that keeps one
 * outlier timestamp from moving packet time.
 *
 * No I/O and no allocation: the caller maps or reads the bytes and hands
 * them over; a record cut by the end of the bytes given is asked for again
 * with more (a pipe delivers a file in pieces).
 */

#include <stddef.h>
#include <stdint.h>

/* pcapng interfaces one section may describe. */
#define TCPA_CAP_MAX_IF 1024

/** One interface of the capture (a pcap file has one). */
struct tcpa_cap_iface {
	uint32_t linktype;      /* LINKTYPE_ value */
	uint32_t snaplen;
	uint64_t ts_per_s;      /* timestamp units per second (10^6 by default) */
	int64_t ts_offset_s;    /* added to every timestamp (pcapng if_tsoffset) */
};

/** One packet of the capture. */
struct tcpa_cap_frame {
	const uint8_t *data;    /* inside the caller's bytes */
	uint32_t caplen;        /* bytes at data */
	uint32_t wirelen;       /* length on the wire (>= caplen) */
	uint64_t ts_ns;         /* capture time, ns since the epoch */
	uint32_t linktype;
	uint32_t iface;         /* pcapng interface index; 0 for pcap */
};

enum tcpa_cap_fmt {
	TCPA_CAP_PCAP = 1,
	TCPA_CAP_PCAPNG,
};

/** A reader's state. Zero it, then tcpa_cap_open(). */
struct tcpa_cap {
	uint8_t fmt;            /* enum tcpa_cap_fmt */
	uint8_t swap;           /* the file's byte order is not the host's */
	uint8_t nsec;           /* pcap: nanosecond timestamps */
	uint32_t nif;
	struct tcpa_cap_iface ifc[TCPA_CAP_MAX_IF];
	uint64_t frames;        /* packets returned */
	uint64_t blocks;        /* records read, packets or not */
	char err[160];          /* why the last call failed */
};

/**
 * Read the file header (pcap global header, or pcapng section header) at
 * the start of @p buf.
 * @return bytes consumed (> 0); 0 if @p len is too short to tell;
 *   -EINVAL if it is neither format (c->err says what the bytes look like).
 */
int tcpa_cap_open(struct tcpa_cap *c, const uint8_t *buf, size_t len);

/**
 * Read the next record at @p buf into @p f, which keeps the previous
 * packet's time between calls (a pcapng Simple Packet Block has none).
 * @return bytes consumed (> 0): a packet (f->data != NULL) or a record
 *   that is not one (f->data == NULL: interface description, statistics,
 *   a new section...); 0: the record does not end within @p len (give more
 *   bytes, or at the end of the input the file is cut short); -EINVAL:
 *   the bytes are not a valid record (c->err says why).
 */
int tcpa_cap_next(struct tcpa_cap *c, const uint8_t *buf, size_t len, struct tcpa_cap_frame *f);

/**
 * The capture clock: packet time follows the capture's own pace. A
 * timestamp more than @p jump_ns away from the pace (a clock step at the
 * capture point, a corrupt record) is set aside: the packet keeps the
 * last accepted time and is counted. A new pace is accepted only when
 * TCPA_CAP_CLOCK_CONFIRM consecutive packets agree on it (within
 * @p jump_ns of the first): a capture that really resumes later is
 * followed, one outlier never moves time.
 */
#define TCPA_CAP_CLOCK_CONFIRM 8

struct tcpa_cap_clock {
	uint64_t jump_ns;
	uint64_t last;          /* last accepted time, 0 = none yet */
	uint64_t cand;          /* first time of a pace being confirmed */
	uint32_t ncand;         /* consecutive packets on that pace */
	uint64_t jumps;         /* packets set aside */
};

/** Start a clock; @p jump_ns 0 takes every timestamp as it is. */
void tcpa_cap_clock_init(struct tcpa_cap_clock *k, uint64_t jump_ns);

/**
 * The packet time of a packet stamped @p ts (ns): @p ts itself when it
 * keeps the pace (within jump_ns of the last accepted time, either way:
 * a capture's small reorderings stand as they are), else the last
 * accepted time (counted in jumps) until a new pace is confirmed. The
 * first packet sets the pace.
 */
uint64_t tcpa_cap_clock_step(struct tcpa_cap_clock *k, uint64_t ts);

#endif /* TCPA_CAP_H */
