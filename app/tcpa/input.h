/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TCPA_INPUT_H
#define TCPA_INPUT_H

/*
 * The inputs of capture analysis (input.c): pcap or pcapng files and
 * standard input ("-"), read as one capture merged by time, without a
 * temporary copy. Regular files are mapped; pipes and FIFOs are read in
 * blocks. Frames point into the input's memory and stay valid until the
 * next call of tcpa_input_burst(). One reader (one thread) per input.
 */

#include <stddef.h>
#include <stdint.h>

#include "tcpa_app.h"

/**
 * Open every one of @p names (a path, or "-" for standard input) and read
 * its header. @p jump_ns is the capture clock's time_jump (0: off). A
 * stream that has no bytes yet is waited for until *@p stop is set.
 * @return the input, or NULL with a message in @p err (file missing, not
 *   a capture, unreadable link type).
 */
struct tcpa_input *tcpa_input_open(char *const *names, unsigned n, uint64_t jump_ns,
		const uint32_t *stop, char *err, size_t len);

/**
 * Up to @p max frames, in time order across the inputs, each with its
 * packet time from the capture clock. May give none while a stream has
 * nothing yet (it waits at most a few ms).
 * @return how many.
 */
unsigned tcpa_input_burst(struct tcpa_input *in, struct frame *fr, unsigned max);

/** 1 when every input was read to its end (or ended by an error or a stop). */
int tcpa_input_done(const struct tcpa_input *in);

/** 1 when a stop ended a stream before its end (the analysis is incomplete). */
int tcpa_input_cut(const struct tcpa_input *in);

/** Packets whose timestamp the capture clock set aside (time_jump). */
uint64_t tcpa_input_time_jumps(const struct tcpa_input *in);

/** Frames and bytes read so far, and the bytes the inputs hold (0: unknown). */
void tcpa_input_progress(const struct tcpa_input *in, uint64_t *frames, uint64_t *done,
		uint64_t *total);

/**
 * Warnings and errors met while reading (a file cut short, a corrupt
 * record, an interface whose link type tcpa cannot read), one per line,
 * "" if none; *fatal is set when data was lost (a corrupt record ended a
 * file early).
 */
const char *tcpa_input_problems(const struct tcpa_input *in, int *fatal);

/** Unmap and close everything. */
void tcpa_input_close(struct tcpa_input *in);

#endif /* TCPA_INPUT_H */
