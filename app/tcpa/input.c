/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Capture inputs: files mapped whole, standard input and FIFOs read in
 * blocks, each through lib/cap, merged into one capture by time.
 *
 * Each source keeps one frame ahead (its lookahead); a burst takes the
 * earliest lookahead of all sources again and again. Each source has its
 * own capture clock, applied before the merge: a file's outlier timestamp
 * keeps its place in that file instead of sorting to the end of the merge.
 *
 * Frames handed out point into the sources' memory and must stay valid
 * until the next burst: a streamed source moves or grows its buffer only
 * at the start of a burst; a record that needs more bytes in the middle of
 * one ends the burst early.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input.h"
#include "tcpa_pkt.h"

#define STREAM_BLOCK (4u << 20)

struct src {
	const char *name;
	int fd;
	bool mapped;
	uint8_t *mem;           /* the file, or the stream's buffer */
	size_t cap;             /* stream: buffer size */
	size_t off;             /* next unread byte */
	size_t end;             /* bytes valid at mem */
	uint64_t consumed;      /* stream: bytes dropped before mem */
	uint64_t size;          /* bytes in the file, 0 for a stream */
	bool eof;               /* stream: nothing more to read */
	bool cut;               /* stream: ended by a stop, not by its end */
	bool done;              /* no more frames */
	bool stalled;           /* needs more bytes: at the next burst */
	bool have;              /* f holds the lookahead */
	struct tcpa_cap_frame f;
	struct tcpa_cap_clock clock;
	uint32_t nif_seen;      /* pcapng interfaces already checked */
	struct tcpa_cap *cap_state;
};

struct tcpa_input {
	const uint32_t *stop;   /* set: stop waiting for a stream's bytes */
	struct src s[TCPA_MAX_INPUTS];
	unsigned n;
	uint64_t frames;
	uint64_t bytes;
	int fatal;
	char problems[4096];
};

static void __attribute__((format(printf, 2, 3)))
problem(struct tcpa_input *in, const char *fmt, ...)
{
	size_t l = strlen(in->problems);
	va_list ap;

	if (l + 2 >= sizeof(in->problems))
		return;
	va_start(ap, fmt);
	vsnprintf(in->problems + l, sizeof(in->problems) - l - 1, fmt, ap);
	va_end(ap);
	strcat(in->problems, "\n");
}

/* ---- bytes ---- */

static int
src_map(struct src *s, const struct stat *st)
{
	void *m;

	s->size = (uint64_t)st->st_size;
	s->mapped = true;
	s->end = (size_t)st->st_size;
	if (st->st_size == 0)
		return 0;
	m = mmap(NULL, s->end, PROT_READ, MAP_PRIVATE, s->fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	madvise(m, s->end, MADV_SEQUENTIAL | MADV_WILLNEED);
	s->mem = m;
	return 0;
}

/*
 * Read more of a stream: keep the unread bytes, move them to the front
 * when the buffer is more than half used, grow it when one record does
 * not fit. Only at the start of a burst (nothing handed out points in).
 * @return 0, 1 when nothing came yet (try again later), or -errno.
 */
/*
 * Wait a little for @fd's bytes (or its end): a pipe that stays silent must
 * neither keep the reader from its other work (publishing its counters) nor
 * a stopping tcpa waiting. @return 1 to read, 0 not yet, -1 stop.
 */
static int
wait_readable(int fd, const uint32_t *stop)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (stop != NULL && __atomic_load_n(stop, __ATOMIC_RELAXED))
		return -1;
	/* Readable, hung up, or an error read() will say. */
	return poll(&p, 1, 10) != 0;
}

static int
src_fill(struct src *s, const uint32_t *stop)
{
	ssize_t r;

	if (s->off > 0 && s->off >= s->cap / 2) {
		memmove(s->mem, s->mem + s->off, s->end - s->off);
		s->consumed += s->off;
		s->end -= s->off;
		s->off = 0;
	}
	if (s->end == s->cap) {
		size_t cap = s->cap * 2;
		uint8_t *m = realloc(s->mem, cap);

		if (m == NULL)
			return -ENOMEM;
		s->mem = m;
		s->cap = cap;
	}
	switch (wait_readable(s->fd, stop)) {
	case -1:
		s->eof = true;  /* stopping: what came is all */
		s->cut = true;
		return 0;
	case 0:
		return 1;
	}
	do
		r = read(s->fd, s->mem + s->end, s->cap - s->end);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		s->eof = true;
	s->end += (size_t)r;
	return 0;
}

/* ---- records ---- */

/* New pcapng interfaces: say which ones tcpa cannot read. */
static void
check_ifaces(struct tcpa_input *in, struct src *s)
{
	const struct tcpa_cap *c = s->cap_state;

	if (c->nif < s->nif_seen)
		s->nif_seen = 0;        /* a new section */
	for (; s->nif_seen < c->nif; s->nif_seen++) {
		uint32_t lt = c->ifc[s->nif_seen].linktype;
		const char *nm = tcpa_pkt_linktype_name(lt);

		if (!tcpa_pkt_linktype_supported(lt))
			problem(in, "tcpa: '%s': interface %u has link type %s (%u), which tcpa "
				"cannot read: its packets are counted as not_tcp; %s", s->name,
				s->nif_seen, nm != NULL ? nm : "unknown", lt,
				tcpa_pkt_linktype_advice(lt) != NULL ?
				tcpa_pkt_linktype_advice(lt) : "");
	}
}

static void
src_end(struct tcpa_input *in, struct src *s, int rc)
{
	s->done = true;
	if (rc < 0) {
		in->fatal = 1;
		problem(in, "tcpa: '%s': %s at byte %llu, after %llu frames: the rest of it is "
			"not analyzed", s->name, s->cap_state->err,
			(unsigned long long)(s->consumed + s->off),
			(unsigned long long)s->cap_state->frames);
	} else if (s->off < s->end) {
		problem(in, "tcpa: warning: '%s' is cut short after %llu frames (its last record "
			"is incomplete); analyzing those", s->name,
			(unsigned long long)s->cap_state->frames);
	}
}

/*
 * The next frame of @s into its lookahead. @move: the stream's buffer may
 * be moved or grown (start of a burst). Sets stalled when it may not.
 */
static void
src_advance(struct tcpa_input *in, struct src *s, bool move)
{
	for (;;) {
		int rc = tcpa_cap_next(s->cap_state, s->mem + s->off, s->end - s->off, &s->f);

		if (rc > 0) {
			s->off += (size_t)rc;
			if (s->f.data == NULL) {
				check_ifaces(in, s);
				continue;
			}
			s->f.ts_ns = tcpa_cap_clock_step(&s->clock, s->f.ts_ns);
			s->have = true;
			return;
		}
		if (rc < 0 || s->mapped || s->eof) {
			src_end(in, s, rc);
			return;
		}
		if (!move) {
			s->stalled = true;
			return;
		}
		rc = src_fill(s, in->stop);
		if (rc == 1) {
			s->stalled = true;
			return;
		}
		if (rc < 0) {
			in->fatal = 1;
			problem(in, "tcpa: cannot read '%s': %s", s->name, strerror(-rc));
			s->done = true;
			return;
		}
	}
}

/* ---- opening ---- */

static int
src_open(struct src *s, const char *name, char *err, size_t len)
{
	struct stat st;

	s->name = strcmp(name, "-") == 0 ? "standard input" : name;
	s->fd = strcmp(name, "-") == 0 ? STDIN_FILENO : open(name, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0 || fstat(s->fd, &st) != 0) {
		snprintf(err, len, "cannot read capture '%s': %s", s->name, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(err, len, "cannot read capture '%s': it is a directory", s->name);
		return -1;
	}
	if (S_ISREG(st.st_mode)) {
		int rc = src_map(s, &st);

		if (rc < 0) {
			snprintf(err, len, "cannot map capture '%s': %s", s->name, strerror(-rc));
			return -1;
		}
		return 0;
	}
	s->cap = STREAM_BLOCK;
	s->mem = malloc(s->cap);
	if (s->mem == NULL) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	return 0;
}

/*
 * The file header, reading a stream until there is enough of it.
 * @return 0, 1 when tcpa was stopped before a stream gave it (the source
 * then has no frames: an interrupted analysis, not a bad capture), -1.
 */
static int
src_header(struct src *s, const uint32_t *stop, uint64_t jump_ns, char *err, size_t len)
{
	struct tcpa_cap *c = s->cap_state;
	int rc;

	while ((rc = tcpa_cap_open(c, s->mem, s->end)) == 0 && !s->mapped && !s->eof) {
		int e = src_fill(s, stop);

		if (e == 1)
			continue;
		if (e < 0) {
			snprintf(err, len, "cannot read '%s': %s", s->name, strerror(-e));
			return -1;
		}
	}
	if (rc == 0 && !s->mapped && stop != NULL && __atomic_load_n(stop, __ATOMIC_RELAXED)) {
		s->done = true;
		s->cut = true;
		return 1;
	}
	if (rc <= 0) {
		snprintf(err, len, "cannot read capture '%s': %s", s->name,
			rc == 0 ? (s->end == 0 ? "it is empty" : "it is too short to be one") : c->err);
		return -1;
	}
	if (c->fmt == TCPA_CAP_PCAP && !tcpa_pkt_linktype_supported(c->ifc[0].linktype)) {
		uint32_t lt = c->ifc[0].linktype;
		const char *nm = tcpa_pkt_linktype_name(lt);

		snprintf(err, len, "capture '%s' has link type %s (%u), which tcpa cannot read; %s",
			s->name, nm != NULL ? nm : "unknown", lt,
			tcpa_pkt_linktype_advice(lt) != NULL ? tcpa_pkt_linktype_advice(lt) : "");
		return -1;
	}
	s->off = (size_t)rc;
	tcpa_cap_clock_init(&s->clock, jump_ns);
	return 0;
}

struct tcpa_input *
tcpa_input_open(char *const *names, unsigned n, uint64_t jump_ns, const uint32_t *stop,
		char *err, size_t len)
{
	struct tcpa_input *in = calloc(1, sizeof(*in));

	if (in == NULL || n > TCPA_MAX_INPUTS) {
		snprintf(err, len, "%s", in == NULL ? "out of memory" : "too many inputs");
		free(in);
		return NULL;
	}
	for (unsigned i = 0; i < n; i++) {
		struct src *s = &in->s[i];

		s->fd = -1;
		in->n = i + 1;
		int rc = -1;

		s->cap_state = calloc(1, sizeof(*s->cap_state));
		if (s->cap_state == NULL || src_open(s, names[i], err, len) != 0 ||
				(rc = src_header(s, stop, jump_ns, err, len)) < 0) {
			if (s->cap_state == NULL)
				snprintf(err, len, "out of memory");
			tcpa_input_close(in);
			return NULL;
		}
		if (rc == 0)
			src_advance(in, s, true);
	}
	in->stop = stop;
	return in;
}

int
tcpa_input_cut(const struct tcpa_input *in)
{
	for (unsigned i = 0; i < in->n; i++)
		if (in->s[i].cut)
			return 1;
	return 0;
}

/* ---- frames ---- */

/* The source with the earliest lookahead, or NULL. */
static struct src *
earliest(struct tcpa_input *in)
{
	struct src *best = NULL;

	for (unsigned i = 0; i < in->n; i++) {
		struct src *s = &in->s[i];

		if (s->have && (best == NULL || s->f.ts_ns < best->f.ts_ns))
			best = s;
	}
	return best;
}

int
tcpa_input_done(const struct tcpa_input *in)
{
	for (unsigned i = 0; i < in->n; i++)
		if (in->s[i].have || in->s[i].stalled || !in->s[i].done)
			return 0;
	return 1;
}

unsigned
tcpa_input_burst(struct tcpa_input *in, struct frame *fr, unsigned max)
{
	unsigned k = 0;

	/* Sources that ran out of buffer in the last burst may move it now. */
	for (unsigned i = 0; i < in->n; i++) {
		if (in->s[i].stalled) {
			in->s[i].stalled = false;
			src_advance(in, &in->s[i], true);
		}
	}
	while (k < max) {
		struct src *s = earliest(in);

		if (s == NULL)
			break;
		/* A stalled source's next frame may be the earliest: wait for it. */
		for (unsigned i = 0; i < in->n; i++)
			if (in->s[i].stalled)
				return k;
		fr[k].data = s->f.data;
		fr[k].caplen = s->f.caplen;
		fr[k].wirelen = s->f.wirelen;
		fr[k].linktype = s->f.linktype;
		fr[k].ts = s->f.ts_ns;
		in->frames++;
		in->bytes += s->f.wirelen;
		k++;
		s->have = false;
		src_advance(in, s, false);
	}
	return k;
}

uint64_t
tcpa_input_time_jumps(const struct tcpa_input *in)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < in->n; i++)
		n += in->s[i].clock.jumps;
	return n;
}

void
tcpa_input_progress(const struct tcpa_input *in, uint64_t *frames, uint64_t *done,
		uint64_t *total)
{
	*frames = __atomic_load_n(&in->frames, __ATOMIC_RELAXED);
	*done = 0;
	*total = 0;
	for (unsigned i = 0; i < in->n; i++) {
		const struct src *s = &in->s[i];

		*done += __atomic_load_n(&s->consumed, __ATOMIC_RELAXED) +
			__atomic_load_n(&s->off, __ATOMIC_RELAXED);
		if (s->size == 0) {
			*total = 0;
			return;
		}
		*total += s->size;
	}
}

const char *
tcpa_input_problems(const struct tcpa_input *in, int *fatal)
{
	*fatal = in->fatal;
	return in->problems;
}

void
tcpa_input_close(struct tcpa_input *in)
{
	if (in == NULL)
		return;
	for (unsigned i = 0; i < in->n; i++) {
		struct src *s = &in->s[i];

		if (s->mapped && s->mem != NULL)
			munmap(s->mem, s->end);
		else
			free(s->mem);
		if (s->fd > STDIN_FILENO)
			close(s->fd);
		free(s->cap_state);
	}
	free(in);
}
