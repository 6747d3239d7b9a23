/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Management socket: newline-delimited JSON over a Unix stream socket,
 * served by the control core with non-blocking poll(); see mgmt.h for the
 * protocol and its limits. The commands and their answers are in
 * mgmt_cmd.c, the telemetry bridge in mgmt_telemetry.c.
 *
 * Invariants:
 *  - nothing here blocks: every descriptor is non-blocking, and the only
 *    wait is the poll() of tcpa_mgmt_poll();
 *  - a client's in buffer holds at most MGMT_MAX_LINE + 1 bytes: the
 *    unfinished request line, and whole lines not answered yet when the
 *    client used its MGMT_REQS_PER_ROUND answers of the round (backlog: no
 *    more is read from it until they are answered);
 *  - a client's unsent answers (out[out_off, out_len)) never exceed
 *    MGMT_MAX_OUT bytes: an answer that would make them is either replaced
 *    by an error answer (alone too large) or ends the client (not reading).
 */
#define _GNU_SOURCE     /* accept4() */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_log.h>

#include <jansson.h>

#include "mgmt.h"
#include "mgmt_private.h"
#include "tcpa_app.h"

RTE_LOG_REGISTER(tcpa_logtype_mgmt, tcpa.mgmt, INFO);

#define MGMT_IN_MIN 4096                /* first size of a client's in buffer */
#define MGMT_OUT_KEEP (1024 * 1024)     /* larger out buffers are freed once sent */
#define MGMT_READS_PER_ROUND 16         /* fairness: recv() calls per client per round */
#define MGMT_ACCEPTS_PER_ROUND 16
#define MGMT_ACCEPT_BACKOFF_MS 100      /* out of descriptors: stop accepting a while */
#define MGMT_STREAM_LOW (256 * 1024)    /* a stream writes more when less is unsent */
#define MGMT_STREAM_STEP (64 * 1024)    /* about this much per step */

/* ---- clients ---- */

struct client {
	int fd;                 /* -1: free slot */
	bool discard;           /* inside an oversized line: drop bytes up to its newline */
	bool closing;           /* no more requests: close once out is sent */
	bool backlog;           /* in holds whole lines not answered yet (fairness) */
	struct tcpa_ctl_stream *st; /* an answer being written part by part */
	char *in;               /* the unfinished request line, in_len bytes */
	size_t in_len;
	size_t in_cap;          /* grows up to MGMT_MAX_LINE + 1 */
	char *out;              /* answers; [out_off, out_len) not sent yet */
	size_t out_off;
	size_t out_len;
	size_t out_cap;         /* grows up to MGMT_MAX_OUT */
	uint64_t active_ms;     /* last byte read or written */
	unsigned id;            /* for log messages */
};

static struct {
	struct tcpa_app *app;           /* what the commands answer about */
	int fd;                         /* listener; -1 when closed */
	unsigned next_id;
	uint64_t accept_after_ms;       /* out of descriptors: accept again at */
	char path[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
	struct client cl[MGMT_MAX_CLIENTS];
} mgmt = { .fd = -1 };

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
client_close(struct client *c, const char *why)
{
	if (c->fd < 0)
		return;
	if (why != NULL)
		MGMT_LOG(INFO, "client %u closed: %s", c->id, why);
	close(c->fd);
	tcpa_ctl_stream_free(c->st);
	free(c->in);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static size_t
client_pending(const struct client *c)
{
	return c->out_len - c->out_off;
}

/* Serialization target: the client's out buffer, bounded by MGMT_MAX_OUT. */
struct dump_ctx {
	struct client *c;
	size_t pending;         /* unsent bytes before this answer */
	size_t size;            /* bytes of this answer so far */
	bool overflow;          /* fits alone, not after what is pending: store nothing */
};

static int
dump_cb(const char *buf, size_t n, void *arg)
{
	struct dump_ctx *x = arg;
	struct client *c = x->c;

	x->size += n;
	if (x->size + 1 > MGMT_MAX_OUT)
		return -1;      /* too large even alone: stop now */
	if (x->pending + x->size + 1 > MGMT_MAX_OUT)
		x->overflow = true;
	if (x->overflow)
		return 0;       /* keep counting: too large alone, or not reading? */
	if (c->out_len + n + 1 > c->out_cap) {  /* + 1: room for the newline */
		size_t cap = c->out_cap != 0 ? c->out_cap : 4096;
		char *p;

		if (c->out_off != 0) {  /* reclaim what was sent first */
			memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		while (cap < c->out_len + n + 1)
			cap *= 2;
		if (cap > MGMT_MAX_OUT)
			cap = MGMT_MAX_OUT;     /* enough: pending + size + 1 <= MGMT_MAX_OUT */
		if (cap > c->out_cap) {
			p = realloc(c->out, cap);
			if (p == NULL)
				return -1;
			c->out = p;
			c->out_cap = cap;
		}
	}
	memcpy(c->out + c->out_len, buf, n);
	c->out_len += n;
	return 0;
}

/* Serialize one answer line into out; steals ans. 0, or -1 with nothing added. */
static int
client_dump(struct client *c, json_t *ans, struct dump_ctx *x)
{
	int rc;

	memset(x, 0, sizeof(*x));
	x->c = c;
	x->pending = client_pending(c);
	rc = json_dump_callback(ans, dump_cb, x, JSON_COMPACT);
	json_decref(ans);
	if (rc == 0 && !x->overflow) {
		c->out[c->out_len++] = '\n';    /* dump_cb kept room for it */
		return 0;
	}
	c->out_len = c->out_off + x->pending;   /* drop the partial answer */
	return -1;
}

/* Append one answer line; steals ans. -1 when the client was closed. */
static int
client_answer(struct client *c, json_t *ans)
{
	struct dump_ctx x;

	if (ans == NULL) {
		client_close(c, "out of memory for an answer");
		return -1;
	}
	if (client_dump(c, ans, &x) == 0)
		return 0;
	if (x.size + 1 > MGMT_MAX_OUT) {
		ans = mgmt_answer_error(mgmt_error_text("answer larger than the %d MiB limit: "
			"narrow the request (top=N, filters)", MGMT_MAX_OUT >> 20));
	} else if (x.overflow) {
		client_close(c, "not reading its answers (output limit reached)");
		return -1;
	} else {
		ans = mgmt_answer_error(mgmt_error_text("out of memory for the answer"));
	}
	if (ans == NULL || client_dump(c, ans, &x) != 0) {
		client_close(c, "no room for an error answer");
		return -1;
	}
	return 0;
}

static bool
blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

/* Answer one request line (without its newline). -1 when the client was closed. */
static int
client_request(struct client *c, const char *line, size_t n)
{
	if (n > 0 && line[n - 1] == '\r')
		n--;
	json_t *ans;

	if (blank(line, n))
		return 0;       /* an empty line is no request: nothing to answer */
	c->st = NULL;
	ans = mgmt_answer_start(mgmt.app, line, n, &c->st);
	return c->st != NULL ? 0 : client_answer(c, ans);
}

/* A stream's bytes into the out buffer (streams keep it under a few 100 KiB). */
static int
stream_emit(void *arg, const char *buf, size_t n)
{
	struct client *c = arg;

	if (c->out_len + n > c->out_cap) {
		size_t cap = c->out_cap != 0 ? c->out_cap : 4096;
		char *p;

		if (c->out_off != 0) {
			memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		while (cap < c->out_len + n)
			cap *= 2;
		p = cap > c->out_cap ? realloc(c->out, cap) : c->out;
		if (p == NULL)
			return -1;
		c->out = p;
		c->out_cap = cap > c->out_cap ? cap : c->out_cap;
	}
	memcpy(c->out + c->out_len, buf, n);
	c->out_len += n;
	return 0;
}

/*
 * One step of the client's stream when its reader keeps up. Done: the
 * requests behind it may be answered. -1 when the client was closed.
 */
static int
client_stream(struct client *c)
{
	int rc;

	if (c->st == NULL || client_pending(c) >= MGMT_STREAM_LOW)
		return 0;
	mgmt_lock();
	rc = tcpa_ctl_stream_step(c->st, stream_emit, c, MGMT_STREAM_STEP);
	mgmt_unlock();
	if (rc < 0) {
		client_close(c, "out of memory for an answer");
		return -1;
	}
	if (rc == 1) {
		tcpa_ctl_stream_free(c->st);
		c->st = NULL;
		c->backlog = true;      /* the requests behind it */
	}
	return 0;
}

/*
 * Answer the complete lines of the in buffer, at most MGMT_REQS_PER_ROUND
 * (the rest is the backlog, answered next round); keep the unfinished one.
 * A line longer than MGMT_MAX_LINE is answered with an error once and the
 * rest of it is discarded up to its newline. -1 when the client was closed.
 */
static int
client_process(struct client *c)
{
	unsigned answered = 0;
	size_t pos = 0;

	if (c->st != NULL)
		return 0;       /* answers keep their order: after the stream */
	c->backlog = false;
	while (pos < c->in_len) {
		char *nl = memchr(c->in + pos, '\n', c->in_len - pos);
		size_t n = nl != NULL ? (size_t)(nl - (c->in + pos)) : c->in_len - pos;

		if (c->discard) {
			pos += nl != NULL ? n + 1 : n;
			c->discard = nl == NULL;
			continue;
		}
		if (n > MGMT_MAX_LINE) {
			if (client_answer(c, mgmt_answer_error(mgmt_error_text("request line "
					"longer than %d bytes", MGMT_MAX_LINE))) != 0)
				return -1;
			pos += nl != NULL ? n + 1 : n;
			c->discard = nl == NULL;
			continue;
		}
		if (nl == NULL)
			break;  /* unfinished line: wait for the rest */
		if (c->st != NULL || answered++ == MGMT_REQS_PER_ROUND) {
			c->backlog = true;
			break;
		}
		if (client_request(c, c->in + pos, n) != 0)
			return -1;
		pos += n + 1;
	}
	if (pos > 0) {
		memmove(c->in, c->in + pos, c->in_len - pos);
		c->in_len -= pos;
	}
	return 0;
}

/* Send what the socket takes now. -1 when the client was closed. */
static int
client_flush(struct client *c, uint64_t now)
{
	while (client_pending(c) != 0) {
		ssize_t n = send(c->fd, c->out + c->out_off, client_pending(c),
			MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			c->out_off += (size_t)n;
			c->active_ms = now;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		client_close(c, n < 0 ? strerror(errno) : "send returned 0");
		return -1;
	}
	c->out_off = c->out_len = 0;
	if (c->out_cap > MGMT_OUT_KEEP) {       /* one large answer: give the memory back */
		free(c->out);
		c->out = NULL;
		c->out_cap = 0;
	}
	if (c->closing && !c->backlog && c->st == NULL) {
		client_close(c, NULL);
		return -1;
	}
	return 0;
}

/* Read what is there (bounded per round) and answer it. -1 when closed. */
static int
client_read(struct client *c, uint64_t now)
{
	for (int i = 0; i < MGMT_READS_PER_ROUND && !c->backlog; i++) {
		ssize_t n;

		if (c->in_len == c->in_cap) {
			size_t cap = c->in_cap != 0 ? c->in_cap * 2 : MGMT_IN_MIN;
			char *p;

			if (cap > MGMT_MAX_LINE + 1)
				cap = MGMT_MAX_LINE + 1;
			p = realloc(c->in, cap);
			if (p == NULL) {
				client_close(c, "out of memory for a request");
				return -1;
			}
			c->in = p;
			c->in_cap = cap;
		}
		n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0) {
			client_close(c, strerror(errno));
			return -1;
		}
		if (n == 0) {
			/*
			 * End of requests (no backlog here: it is not read
			 * then): a last line without newline still counts.
			 */
			c->closing = true;
			if (!c->discard && c->in_len > 0 &&
					client_request(c, c->in, c->in_len) != 0)
				return -1;
			c->in_len = 0;
			return client_flush(c, now);
		}
		c->in_len += (size_t)n;
		c->active_ms = now;
		if (client_process(c) != 0)
			return -1;
	}
	return 0;
}

static void
accept_clients(uint64_t now)
{
	static const char busy[] = "{\"ok\":false,\"error\":\"too many clients (at most "
		RTE_STR(MGMT_MAX_CLIENTS) ")\"}\n";

	for (int i = 0; i < MGMT_ACCEPTS_PER_ROUND; i++) {
		int fd = accept4(mgmt.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct client *c = NULL;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				MGMT_LOG(WARNING, "accept on %s: %s; retrying in %d ms", mgmt.path,
					strerror(errno), MGMT_ACCEPT_BACKOFF_MS);
				mgmt.accept_after_ms = now + MGMT_ACCEPT_BACKOFF_MS;
			}
			return;
		}
		for (unsigned k = 0; k < MGMT_MAX_CLIENTS && c == NULL; k++)
			if (mgmt.cl[k].fd < 0)
				c = &mgmt.cl[k];
		if (c == NULL) {
			if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				MGMT_LOG(DEBUG, "refusing a client: %s", strerror(errno));
			close(fd);
			MGMT_LOG(WARNING, "%s: refused a client: already %d", mgmt.path,
				MGMT_MAX_CLIENTS);
			continue;
		}
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->active_ms = now;
		c->id = ++mgmt.next_id;
		MGMT_LOG(DEBUG, "client %u connected", c->id);
	}
}

void
tcpa_mgmt_poll(int timeout_ms)
{
	struct pollfd pfd[1 + MGMT_MAX_CLIENTS];
	struct client *who[1 + MGMT_MAX_CLIENTS];
	unsigned n = 0;
	uint64_t now;
	int rc;

	if (timeout_ms < 0)
		timeout_ms = 0;
	if (mgmt.fd < 0) {
		poll(NULL, 0, timeout_ms);
		return;
	}
	now = now_ms();
	for (unsigned k = 0; k < MGMT_MAX_CLIENTS; k++)
		if (mgmt.cl[k].fd >= 0 && (mgmt.cl[k].backlog || (mgmt.cl[k].st != NULL &&
				client_pending(&mgmt.cl[k]) < MGMT_STREAM_LOW)))
			timeout_ms = 0;         /* answers are waiting: do not sleep */
	if (now >= mgmt.accept_after_ms) {
		pfd[n] = (struct pollfd){ .fd = mgmt.fd, .events = POLLIN };
		who[n++] = NULL;
	}
	for (unsigned k = 0; k < MGMT_MAX_CLIENTS; k++) {
		struct client *c = &mgmt.cl[k];

		if (c->fd < 0)
			continue;
		pfd[n] = (struct pollfd){ .fd = c->fd, .events =
			(c->closing || c->backlog || c->st != NULL ? 0 : POLLIN) |
			(client_pending(c) != 0 ? POLLOUT : 0) };
		who[n++] = c;
	}
	if (n == 0) {
		poll(NULL, 0, timeout_ms);
		return;
	}
	rc = poll(pfd, n, timeout_ms);
	if (rc < 0) {
		if (errno != EINTR)
			MGMT_LOG(WARNING, "poll: %s", strerror(errno));
		return;
	}
	now = now_ms();
	for (unsigned i = 0; i < n && rc > 0; i++) {
		struct client *c = who[i];
		short ev = pfd[i].revents;

		if (ev == 0)
			continue;
		if (c == NULL) {
			accept_clients(now);
			continue;
		}
		if ((ev & POLLNVAL) != 0) {
			client_close(c, "invalid descriptor");
			continue;
		}
		if ((ev & POLLOUT) != 0 && client_flush(c, now) != 0)
			continue;
		/* POLLHUP/POLLERR: the read sees the end or the error. */
		if ((ev & (POLLIN | POLLHUP | POLLERR)) != 0 && !c->closing &&
				client_read(c, now) != 0)
			continue;
		if ((ev & (POLLHUP | POLLERR)) != 0 && c->closing && client_pending(c) != 0) {
			client_close(c, "hung up before reading its answers");
			continue;
		}
		if (client_pending(c) != 0)
			client_flush(c, now);
	}
	for (unsigned k = 0; k < MGMT_MAX_CLIENTS; k++) {
		struct client *c = &mgmt.cl[k];

		if (c->fd >= 0 && c->st != NULL && client_stream(c) == 0)
			client_flush(c, now);
		if (c->fd >= 0 && c->backlog && client_process(c) == 0)
			client_flush(c, now);
		if (c->fd >= 0 && now - c->active_ms > mgmt.app->conf.mgmt_idle_s * 1000)
			client_close(c, client_pending(c) != 0 || c->st != NULL ?
				"not reading its answers" : "idle");
	}
}

/* ---- opening and closing ---- */

/* mkdir -p of the directory part of path, new directories 0755. */
static int
make_parent(const char *path)
{
	char dir[sizeof(mgmt.path)];
	char *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;       /* relative name in the cwd, or directly under / */
	*slash = '\0';
	for (char *p = dir + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(dir, 0755) != 0 && errno != EEXIST)
			return -errno;
		*p = c;
		if (c == '\0')
			break;
	}
	if (stat(dir, &st) != 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/*
 * Remove a socket file nothing listens on (left by a process that died);
 * never a live socket nor a file of another kind.
 */
static int
clear_stale(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	if (rc != 0)
		rc = errno;
	close(fd);
	if (rc == 0 || rc == EAGAIN || rc == EINPROGRESS)
		return -EADDRINUSE;     /* accepted, or backlog full: alive */
	if (rc != ECONNREFUSED)
		return -rc;
	return unlink(path) == 0 || errno == ENOENT ? 0 : -errno;
}

int
tcpa_mgmt_open(struct tcpa_app *app, const char *path)
{
	struct sockaddr_un sa;
	mode_t old;
	int fd, rc;

	if (mgmt.fd >= 0)
		return -EALREADY;
	if (path == NULL || *path == '\0') {
		fprintf(stderr, "tcpa: management socket: empty path\n");
		return -EINVAL;
	}
	rc = mgmt_cmd_check();
	if (rc != 0)
		return rc;
	mgmt.app = app;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "tcpa: management socket %s: path too long (%zu bytes, at most "
			"%zu)\n", path, strlen(path), sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	rc = make_parent(path);
	if (rc != 0) {
		fprintf(stderr, "tcpa: management socket %s: cannot create its directory: %s\n",
			path, strerror(-rc));
		return rc;
	}
	rc = clear_stale(path, &sa);
	if (rc == -EADDRINUSE) {
		fprintf(stderr, "tcpa: management socket %s: another process is listening on it "
			"(another tcpa?); choose another path with --mgmt\n", path);
		return rc;
	}
	if (rc == -EEXIST) {
		fprintf(stderr, "tcpa: management socket %s: exists and is not a socket; "
			"not removing it\n", path);
		return rc;
	}
	if (rc != 0) {
		fprintf(stderr, "tcpa: management socket %s: cannot remove the stale socket: %s\n",
			path, strerror(-rc));
		return rc;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		fprintf(stderr, "tcpa: management socket %s: socket: %s\n", path, strerror(errno));
		return rc;
	}
	old = umask(0117);      /* never, even for an instant, more than 0660 */
	rc = bind(fd, (const struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc != 0) {
		rc = -errno;
		fprintf(stderr, "tcpa: management socket %s: bind: %s\n", path, strerror(errno));
		close(fd);
		return rc;
	}
	if (chmod(path, 0660) != 0 || listen(fd, SOMAXCONN) != 0) {
		rc = -errno;
		fprintf(stderr, "tcpa: management socket %s: %s\n", path, strerror(errno));
		close(fd);
		unlink(path);
		return rc;
	}
	for (unsigned k = 0; k < MGMT_MAX_CLIENTS; k++) {
		memset(&mgmt.cl[k], 0, sizeof(mgmt.cl[k]));
		mgmt.cl[k].fd = -1;
	}
	memcpy(mgmt.path, path, strlen(path) + 1);
	mgmt.accept_after_ms = 0;
	mgmt.fd = fd;
	MGMT_LOG(INFO, "management socket listening on %s", path);
	return 0;
}

void
tcpa_mgmt_close(void)
{
	if (mgmt.fd < 0)
		return;
	for (unsigned k = 0; k < MGMT_MAX_CLIENTS; k++)
		client_close(&mgmt.cl[k], NULL);
	close(mgmt.fd);
	mgmt.fd = -1;
	unlink(mgmt.path);
	mgmt.path[0] = '\0';
}
