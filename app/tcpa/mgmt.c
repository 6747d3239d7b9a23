/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Management socket: newline-delimited JSON over a Unix stream socket,
 * served by the control core with non-blocking poll(); see mgmt.h for the
 * protocol and its limits.
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
 *    by an error answer (alone too large) or ends the client (not reading);
 *  - handlers run under ctl_lock, whether called from here or from a
 *    telemetry thread.
 */
#define _GNU_SOURCE     /* accept4() */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
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
#include <rte_telemetry.h>

#include <jansson.h>

#include "ctl.h"
#include "mgmt.h"

RTE_LOG_REGISTER(tcpa_logtype_mgmt, tcpa.mgmt, INFO);
#define RTE_LOGTYPE_TCPA_MGMT tcpa_logtype_mgmt
#define MGMT_LOG(level, fmt, ...) \
	RTE_LOG(level, TCPA_MGMT, fmt "\n", ##__VA_ARGS__)

#define MGMT_TEL_PREFIX "/tcpa/"
#define MGMT_IN_MIN 4096                /* first size of a client's in buffer */
#define MGMT_OUT_KEEP (1024 * 1024)     /* larger out buffers are freed once sent */
#define MGMT_READS_PER_ROUND 16         /* fairness: recv() calls per client per round */
#define MGMT_ACCEPTS_PER_ROUND 16
#define MGMT_ACCEPT_BACKOFF_MS 100      /* out of descriptors: stop accepting a while */

/* ---- command table ---- */

struct mgmt_cmd {
	const char *name;
	tcpa_ctl_handler fn;
	const char *help;
};

static int cmd_help(const json_t *args, json_t **out);

/* Sorted by name (checked at open): binary search, and help in this order. */
static const struct mgmt_cmd cmds[] = {
	{ "anomalies", tcpa_ctl_anomalies,
		"Anomaly counts, malformed-input reasons and capture-health counters" },
	{ "config", tcpa_ctl_config,
		"Every configuration key; with \"set\": {KEY: VALUE, ...} change live keys" },
	{ "endpoints", tcpa_ctl_endpoints,
		"Per-endpoint states, anomalies and diagnosis; filters: state, anomaly, top" },
	{ "flows", tcpa_ctl_flows,
		"Tracked connections; filters: ip, port, src, dst, sport, dport, state, top" },
	{ "help", cmd_help, "This list: every command and what it answers" },
	{ "report", tcpa_ctl_report,
		"The whole report (as tcpa --json prints it); \"flows\": true adds the flows" },
	{ "stats", tcpa_ctl_stats, "Ports, RX cores, drops, mempool and flow table fill" },
	{ "version", tcpa_ctl_version, "tcpa and DPDK versions, uptime" },
};

static pthread_mutex_t ctl_lock = PTHREAD_MUTEX_INITIALIZER;

static int
cmd_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct mgmt_cmd *)elem)->name);
}

static const struct mgmt_cmd *
cmd_find(const char *name)
{
	return bsearch(name, cmds, RTE_DIM(cmds), sizeof(cmds[0]), cmd_cmp);
}

static int
cmd_help(const json_t *args, json_t **out)
{
	json_t *o = json_object();

	(void)args;
	if (o == NULL)
		goto nomem;
	for (size_t i = 0; i < RTE_DIM(cmds); i++)
		if (json_object_set_new(o, cmds[i].name, json_string(cmds[i].help)) != 0)
			goto nomem;
	*out = o;
	return 0;
nomem:
	json_decref(o);
	*out = json_string("out of memory");
	return -ENOMEM;
}

/*
 * Printable ASCII only: messages may quote what a client sent, and a JSON
 * string must be valid UTF-8.
 */
static void
sanitize(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

static json_t * __rte_format_printf(1, 2)
error_text(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sanitize(msg);
	return json_string(msg);
}

/*
 * Call a handler under the lock. Always leaves *out set on return: the data
 * (rc 0) or a JSON string saying what went wrong (rc -errno).
 */
static int
cmd_run(const struct mgmt_cmd *c, const json_t *args, json_t **out)
{
	int rc;

	*out = NULL;
	pthread_mutex_lock(&ctl_lock);
	rc = c->fn(args, out);
	pthread_mutex_unlock(&ctl_lock);
	if (rc == 0 && *out == NULL)
		*out = json_null();
	if (rc != 0 && !json_is_string(*out)) {
		json_decref(*out);
		*out = error_text("%s failed: %s", c->name, strerror(rc < 0 ? -rc : rc));
		if (rc > 0)
			rc = -rc;
	}
	return rc;
}

/* {"ok": false, "error": TEXT}; steals text. NULL only when out of memory. */
static json_t *
answer_error(json_t *text)
{
	if (text == NULL)
		text = json_string("invalid request");
	return json_pack("{s:b,s:o}", "ok", 0, "error", text);
}

/* The answer to one request line (without its newline). */
static json_t *
answer_line(const char *line, size_t len)
{
	const struct mgmt_cmd *c;
	const json_t *name;
	json_error_t jerr;
	json_t *req, *data, *ans;
	int rc;

	req = json_loadb(line, len, JSON_DECODE_ANY, &jerr);
	if (req == NULL)
		return answer_error(error_text("invalid JSON: %s (line 1, column %d)", jerr.text,
			jerr.column));
	if (!json_is_object(req)) {
		json_decref(req);
		return answer_error(error_text("a request is a JSON object, e.g. "
			"{\"cmd\": \"help\"}"));
	}
	name = json_object_get(req, "cmd");
	if (!json_is_string(name)) {
		json_decref(req);
		return answer_error(error_text("a request needs \"cmd\": a command name "
			"(see help)"));
	}
	c = cmd_find(json_string_value(name));
	if (c == NULL) {
		ans = answer_error(error_text("unknown command '%.64s' (see help)",
			json_string_value(name)));
		json_decref(req);
		return ans;
	}
	rc = cmd_run(c, req, &data);
	json_decref(req);
	if (rc != 0)
		return answer_error(data);
	return json_pack("{s:b,s:o}", "ok", 1, "data", data);
}

/* ---- clients ---- */

struct client {
	int fd;                 /* -1: free slot */
	bool discard;           /* inside an oversized line: drop bytes up to its newline */
	bool closing;           /* no more requests: close once out is sent */
	bool backlog;           /* in holds whole lines not answered yet (fairness) */
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
		ans = answer_error(error_text("answer larger than the %d MiB limit: narrow the "
			"request (top=N, filters)", MGMT_MAX_OUT >> 20));
	} else if (x.overflow) {
		client_close(c, "not reading its answers (output limit reached)");
		return -1;
	} else {
		ans = answer_error(error_text("out of memory for the answer"));
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
	if (blank(line, n))
		return 0;       /* an empty line is no request: nothing to answer */
	return client_answer(c, answer_line(line, n));
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
			if (client_answer(c, answer_error(error_text("request line longer than %d "
					"bytes", MGMT_MAX_LINE))) != 0)
				return -1;
			pos += nl != NULL ? n + 1 : n;
			c->discard = nl == NULL;
			continue;
		}
		if (nl == NULL)
			break;  /* unfinished line: wait for the rest */
		if (answered++ == MGMT_REQS_PER_ROUND) {
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
	if (c->closing && !c->backlog) {
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
		if (mgmt.cl[k].fd >= 0 && mgmt.cl[k].backlog)
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
			(c->closing || c->backlog ? 0 : POLLIN) |
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

		if (c->fd >= 0 && c->backlog && client_process(c) == 0)
			client_flush(c, now);
		if (c->fd >= 0 && now - c->active_ms > (uint64_t)MGMT_IDLE_S * 1000)
			client_close(c, client_pending(c) != 0 ? "not reading its answers" :
				"idle");
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
tcpa_mgmt_open(const char *path)
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
	for (size_t i = 1; i < RTE_DIM(cmds); i++) {
		if (strcmp(cmds[i - 1].name, cmds[i].name) >= 0) {
			fprintf(stderr, "tcpa: mgmt.c: command table not sorted at '%s'\n",
				cmds[i].name);
			return -EINVAL;
		}
	}
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

/* ---- DPDK telemetry: /tcpa/<name> ---- */

/* A dict key telemetry accepts: [A-Za-z0-9_/], other bytes become '_'. */
static void
tel_key(const char *k, char *buf, size_t len)
{
	size_t i = 0;

	for (; k[i] != '\0' && i + 1 < len; i++) {
		unsigned char ch = (unsigned char)k[i];

		buf[i] = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
			(ch >= 'A' && ch <= 'Z') || ch == '_' || ch == '/' ? (char)ch : '_';
	}
	if (i == 0 && len > 1)
		buf[i++] = '_';
	buf[i] = '\0';
}

/* Compact JSON text of any value, cut to fit a telemetry string. */
static void
tel_text(const json_t *v, char *buf, size_t len)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	snprintf(buf, len, "%s", s != NULL ? s : "?");
	free(s);
}

static bool
is_scalar(const json_t *v)
{
	return !json_is_object(v) && !json_is_array(v);
}

/*
 * Fill d with an array of scalars: u64 values if every one is a non-negative
 * integer, else strings. -1 (d untouched) if an element is an object or array.
 */
static int
tel_array(struct rte_tel_data *d, const json_t *a)
{
	enum rte_tel_value_type t = RTE_TEL_U64_VAL;
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v) {
		if (json_is_integer(v) && json_integer_value(v) >= 0)
			continue;
		if (!is_scalar(v))
			return -1;
		t = RTE_TEL_STRING_VAL;
	}
	if (rte_tel_data_start_array(d, t) != 0)
		return -1;
	json_array_foreach(a, i, v) {
		char s[RTE_TEL_MAX_STRING_LEN];
		int rc;

		if (t == RTE_TEL_U64_VAL) {
			rc = rte_tel_data_add_array_u64(d, (uint64_t)json_integer_value(v));
		} else {
			if (json_is_string(v))
				snprintf(s, sizeof(s), "%s", json_string_value(v));
			else
				tel_text(v, s, sizeof(s));
			rc = rte_tel_data_add_array_string(d, s);
		}
		if (rc < 0)
			break;  /* full: the first RTE_TEL_MAX_ARRAY_ENTRIES */
	}
	return 0;
}

/* A non-empty array of objects only. */
static bool
objects(const json_t *a)
{
	size_t i;
	json_t *v;

	if (json_array_size(a) == 0)
		return false;
	json_array_foreach(a, i, v)
		if (!json_is_object(v))
			return false;
	return true;
}

static void tel_object(struct rte_tel_data *d, const json_t *o, int depth);

/*
 * Add one member to a dict. depth 0 is the callback's own dict, which may
 * hold containers; a container (depth 1) holds scalars only, so anything
 * nested there is given as its JSON text.
 */
static void
tel_member(struct rte_tel_data *d, const char *name, const json_t *v, int depth)
{
	char k[RTE_TEL_MAX_STRING_LEN], s[RTE_TEL_MAX_STRING_LEN];
	struct rte_tel_data *c = NULL;

	tel_key(name, k, sizeof(k));
	if (json_is_integer(v)) {
		json_int_t x = json_integer_value(v);

		if (x >= 0) {
			rte_tel_data_add_dict_u64(d, k, (uint64_t)x);
			return;
		}
		if (x >= INT_MIN) {
			rte_tel_data_add_dict_int(d, k, (int)x);
			return;
		}
	}
	if (json_is_string(v)) {
		rte_tel_data_add_dict_string(d, k, json_string_value(v));  /* E2BIG: cut */
		return;
	}
	if (json_is_real(v)) {
		snprintf(s, sizeof(s), "%.9g", json_real_value(v));
		rte_tel_data_add_dict_string(d, k, s);
		return;
	}
	if (depth == 0 && objects(v)) {
		/* One container per element, named NAME/INDEX. */
		size_t i;
		json_t *e;

		json_array_foreach(v, i, e) {
			char ki[RTE_TEL_MAX_STRING_LEN];

			snprintf(ki, sizeof(ki), "%.100s/%zu", k, i);
			tel_member(d, ki, e, depth);
		}
		return;
	}
	if (depth == 0 && !is_scalar(v)) {
		c = rte_tel_data_alloc();
		if (c != NULL && json_is_array(v) && tel_array(c, v) != 0) {
			rte_tel_data_free(c);
			c = NULL;
		} else if (c != NULL && json_is_object(v)) {
			rte_tel_data_start_dict(c);
			tel_object(c, v, depth + 1);
		}
	}
	if (c != NULL) {
		if (rte_tel_data_add_dict_container(d, k, c, 0) == 0)
			return;
		rte_tel_data_free(c);   /* this DPDK refuses it: fall back to text */
	}
	tel_text(v, s, sizeof(s));
	rte_tel_data_add_dict_string(d, k, s);
}

static void
tel_object(struct rte_tel_data *d, const json_t *o, int depth)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)o, k, v)
		tel_member(d, k, v, depth);
}

static void
tel_from_json(struct rte_tel_data *d, const json_t *v)
{
	char s[RTE_TEL_MAX_SINGLE_STRING_LEN];

	if (json_is_object(v)) {
		rte_tel_data_start_dict(d);
		tel_object(d, v, 0);
		return;
	}
	if (objects(v)) {
		/*
		 * DPDK 22.11 keeps no dict in an array, but does in a dict: the
		 * elements become members "0", "1", ... (at most
		 * RTE_TEL_MAX_DICT_ENTRIES), whatever the DPDK version.
		 */
		size_t i;
		json_t *e;

		rte_tel_data_start_dict(d);
		json_array_foreach(v, i, e) {
			char k[24];

			snprintf(k, sizeof(k), "%zu", i);
			tel_member(d, k, e, 0);
		}
		return;
	}
	if (json_is_array(v) && tel_array(d, v) == 0)
		return;
	if (json_is_string(v)) {
		rte_tel_data_string(d, json_string_value(v));
		return;
	}
	tel_text(v, s, sizeof(s));      /* an array of arrays, a number, ... */
	rte_tel_data_string(d, s);
}

/* Telemetry parameters: a JSON object, or key=value pairs. */
static json_t *
tel_args(const char *name, const char *params, json_t **err)
{
	json_t *args;
	char *buf, *tok, *save = NULL;

	*err = NULL;
	while (params != NULL && (*params == ' ' || *params == '\t'))
		params++;
	if (params != NULL && *params == '{') {
		json_error_t jerr;

		args = json_loads(params, 0, &jerr);
		if (!json_is_object(args)) {
			json_decref(args);
			*err = error_text("parameters: invalid JSON object: %s", jerr.text);
			return NULL;
		}
	} else {
		args = json_object();
		buf = strdup(params != NULL ? params : "");
		if (args == NULL || buf == NULL) {
			json_decref(args);
			free(buf);
			*err = json_string("out of memory");
			return NULL;
		}
		for (tok = strtok_r(buf, " \t,&", &save); tok != NULL;
				tok = strtok_r(NULL, " \t,&", &save)) {
			char *eq = strchr(tok, '='), *end;
			long long x;
			json_t *v;

			if (eq == NULL || eq == tok) {
				*err = error_text("parameters: expected key=value, got '%.64s'",
					tok);
				json_decref(args);
				free(buf);
				return NULL;
			}
			*eq = '\0';
			errno = 0;
			x = strtoll(eq + 1, &end, 10);
			if (eq[1] != '\0' && *end == '\0' && errno == 0)
				v = json_integer(x);
			else if (strcmp(eq + 1, "true") == 0 || strcmp(eq + 1, "false") == 0)
				v = json_boolean(eq[1] == 't');
			else
				v = json_string(eq + 1);
			json_object_set_new(args, tok, v);
		}
		free(buf);
	}
	json_object_set_new(args, "cmd", json_string(name));
	return args;
}

static int
tel_cb(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct mgmt_cmd *c = NULL;
	json_t *args = NULL, *out = NULL;
	int rc;

	if (strncmp(cmd, MGMT_TEL_PREFIX, strlen(MGMT_TEL_PREFIX)) == 0)
		c = cmd_find(cmd + strlen(MGMT_TEL_PREFIX));
	if (c == NULL) {
		out = error_text("unknown command %.64s", cmd);
		goto error;
	}
	args = tel_args(c->name, params, &out);
	if (args == NULL)
		goto error;
	if (strcmp(c->name, "config") == 0 && json_object_get(args, "set") != NULL) {
		out = error_text("telemetry is read-only: change the configuration on the "
			"management socket (tcpactl config set KEY=VALUE)");
		goto error;
	}
	rc = cmd_run(c, args, &out);
	json_decref(args);
	args = NULL;
	if (rc != 0)
		goto error;
	tel_from_json(d, out);
	json_decref(out);
	return 0;
error:
	json_decref(args);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "error", json_is_string(out) ? json_string_value(out) :
		"invalid request");
	json_decref(out);
	return 0;
}

void
tcpa_mgmt_register_telemetry(void)
{
	char name[64];

	for (size_t i = 0; i < RTE_DIM(cmds); i++) {
		int rc;

		snprintf(name, sizeof(name), MGMT_TEL_PREFIX "%s", cmds[i].name);
		rc = rte_telemetry_register_cmd(name, tel_cb, cmds[i].help);
		if (rc != 0)
			MGMT_LOG(WARNING, "telemetry command %s not registered: %s", name,
				strerror(-rc));
	}
}
