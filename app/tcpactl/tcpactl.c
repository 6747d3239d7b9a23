/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcpactl: the operator's client of tcpa's management socket.
 *
 *   tcpactl [-s PATH] [--json] COMMAND [KEY=VALUE...]
 *   tcpactl watch [INTERVAL] [COMMAND [KEY=VALUE...]]
 *   tcpactl metrics [--top N] [--listen ADDR:PORT [--listen-any]]
 *
 * One JSON request line per command, one answer line back
 * (../shared/spec/INTERFACES.md). Human tables by default, the answer's
 * "data" with --json. Exit status: 0 ok, 1 tcpa answered an error,
 * 2 usage or no answer (cannot connect, timeout, broken answer).
 *
 * Plain C and jansson only: no DPDK, runs anywhere the socket is reachable.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>       /* isfinite(): a macro, no libm */
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "tcpa_report.h"

#ifndef TCPA_VERSION
#define TCPA_VERSION "unknown"
#endif

#define DEFAULT_SOCK "/run/tcpa/tcpa.sock"
#define MAX_ANSWER (64u << 20)          /* the server sends at most 16 MiB */
#define DEFAULT_TIMEOUT_S 30.0
#define DEFAULT_TOP 50
#define DEFAULT_INTERVAL_S 2.0
#define HTTP_MAX_HEAD 8192

enum {
	EXIT_OKAY = 0,
	EXIT_SERVER = 1,        /* tcpa answered {"ok": false} */
	EXIT_USAGE = 2,         /* bad command line, or no answer at all */
};

struct opts {
	const char *sock;
	bool json;
	unsigned top;           /* metrics: endpoints exported */
	double timeout_s;
	const char *listen;     /* metrics: serve HTTP on ADDR:PORT */
	bool listen_any;        /* ... also on a non-loopback address */
	char **pos;             /* positional words: COMMAND [ARGS...] */
	int npos;
};

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void
usage(FILE *out)
{
	fprintf(out,
		"Usage: tcpactl [-s PATH] [--json] COMMAND [KEY=VALUE...]\n"
		"       tcpactl [-s PATH] watch [INTERVAL] [COMMAND [KEY=VALUE...]]\n"
		"       tcpactl [-s PATH] metrics [--top N] [--listen ADDR:PORT [--listen-any]]\n"
		"\n"
		"Queries a running tcpa through its management socket.\n"
		"\n"
		"Commands (answered by tcpa; 'tcpactl help' lists what this tcpa knows):\n"
		"  stats                      ports, RX cores, drops, mempool, flow table fill\n"
		"  endpoints [state=S] [anomaly=A] [top=N]\n"
		"                             per-endpoint states (like ss -tan per ip:port)\n"
		"  flows [ip=A] [port=P] [src=A] [dst=A] [sport=P] [dport=P] [state=S] [top=N]\n"
		"                             tracked connections, longest idle first\n"
		"  anomalies                  anomaly, malformed-input and capture counters\n"
		"  report [flows=true]        the whole report, as tcpa prints it at exit\n"
		"  config [get [KEY...]]      the configuration\n"
		"  config set KEY=VALUE...    change live keys (all or nothing)\n"
		"  version, help\n"
		"Client commands:\n"
		"  watch [INTERVAL] [COMMAND...]  redraw every INTERVAL seconds (default 2)\n"
		"                             the answer of COMMAND (default: endpoints);\n"
		"                             Ctrl-C ends\n"
		"  metrics                    Prometheus text exposition of report + stats\n"
		"\n"
		"Options:\n"
		"  -s, --socket PATH   management socket (default $TCPA_SOCK, else\n"
		"                      " DEFAULT_SOCK ")\n"
		"  -j, --json          print the answer's data as JSON, for scripts\n"
		"  --timeout SECONDS   wait at most this long for an answer (default %.0f)\n"
		"  --top N             metrics: export the N most severe endpoints (default %d)\n"
		"  --listen ADDR:PORT  metrics: serve GET /metrics over HTTP instead of printing;\n"
		"                      loopback addresses only unless --listen-any\n"
		"  -h, --help          this help;  -V, --version  the version\n"
		"\n"
		"Values: integers and reals become JSON numbers, true/false booleans,\n"
		"anything else a string (e.g. tcpactl endpoints state=CLOSE_WAIT top=10).\n"
		"Exit status: 0 ok, 1 tcpa answered an error, 2 usage or no answer.\n",
		DEFAULT_TIMEOUT_S, DEFAULT_TOP);
}

static void __attribute__((format(printf, 1, 2)))
warnx(const char *fmt, ...)
{
	va_list ap;

	fputs("tcpactl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- talking to tcpa ---- */

struct conn {
	int fd;
	const char *path;
	double timeout_s;
	char *buf;              /* bytes read and not yet consumed */
	size_t len;
	size_t cap;
};

/* "why it failed" for messages, with a hint for the usual causes. */
static void
conn_error(char *err, size_t len, const char *path, const char *what, int e)
{
	const char *hint = "";

	if (e == ENOENT || e == ECONNREFUSED)
		hint = " (is tcpa running? it listens where its --mgmt says; "
			"use -s PATH or TCPA_SOCK)";
	else if (e == EACCES || e == EPERM)
		hint = " (run as root or as a member of the socket's group)";
	snprintf(err, len, "%s %s: %s%s", what, path, strerror(e), hint);
}

static int
conn_open(struct conn *c, const char *path, double timeout_s, char *err, size_t len)
{
	struct sockaddr_un sa;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->path = path;
	c->timeout_s = timeout_s;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, len, "socket path %s is too long", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		conn_error(err, len, path, "socket for", errno);
		return -1;
	}
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		conn_error(err, len, path, "cannot connect to", errno);
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

static void
conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wait until fd is ready for ev or the deadline passes: 0, or -1 with errno. */
static int
wait_fd(int fd, short ev, double deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = ev };
		double left = deadline - mono_s();
		int rc;

		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		rc = poll(&p, 1, (int)(left * 1000) + 1);
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR)
			return -1;
		if (rc < 0 && stopping) {
			errno = EINTR;
			return -1;
		}
	}
}

/*
 * Send one request, read one answer line. 0 with *ans set, or -1 with err
 * set (transport: no usable answer).
 */
static int
conn_call(struct conn *c, const json_t *req, json_t **ans, char *err, size_t len)
{
	double deadline = mono_s() + c->timeout_s;
	char *line = json_dumps(req, JSON_COMPACT);
	size_t n, off = 0;
	json_error_t jerr;
	char *nl;

	*ans = NULL;
	if (line == NULL) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	n = strlen(line);
	line[n++] = '\n';       /* json_dumps's NUL becomes the newline */
	while (off < n) {
		ssize_t w = send(c->fd, line + off, n - off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && (errno == EAGAIN || errno == EINTR) && wait_fd(c->fd, POLLOUT,
				deadline) == 0)
			continue;
		conn_error(err, len, c->path, "cannot send to", errno);
		free(line);
		return -1;
	}
	free(line);
	while ((nl = c->len > 0 ? memchr(c->buf, '\n', c->len) : NULL) == NULL) {
		ssize_t r;

		if (c->len == c->cap) {
			size_t cap = c->cap != 0 ? c->cap * 2 : 65536;
			char *p;

			if (cap > MAX_ANSWER) {
				snprintf(err, len, "answer from %s larger than %u MiB", c->path,
					MAX_ANSWER >> 20);
				return -1;
			}
			p = realloc(c->buf, cap);
			if (p == NULL) {
				snprintf(err, len, "out of memory");
				return -1;
			}
			c->buf = p;
			c->cap = cap;
		}
		if (wait_fd(c->fd, POLLIN, deadline) != 0) {
			if (errno == ETIMEDOUT)
				snprintf(err, len, "no answer from %s within %.0f s", c->path,
					c->timeout_s);
			else
				conn_error(err, len, c->path, "cannot read from", errno);
			return -1;
		}
		r = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
		if (r > 0) {
			c->len += (size_t)r;
		} else if (r == 0) {
			snprintf(err, len, "%s closed the connection without an answer", c->path);
			return -1;
		} else if (errno != EAGAIN && errno != EINTR) {
			conn_error(err, len, c->path, "cannot read from", errno);
			return -1;
		}
	}
	n = (size_t)(nl - c->buf);
	*ans = json_loadb(c->buf, n, 0, &jerr);
	memmove(c->buf, nl + 1, c->len - n - 1);
	c->len -= n + 1;
	if (!json_is_object(*ans) || !json_is_boolean(json_object_get(*ans, "ok"))) {
		snprintf(err, len, "unexpected answer from %s: %s", c->path,
			*ans == NULL ? jerr.text : "not {\"ok\": ...}");
		json_decref(*ans);
		*ans = NULL;
		return -1;
	}
	return 0;
}

/*
 * One request on an open connection. EXIT_OKAY with *data (new reference),
 * else the exit status, with the message in err.
 */
static int
request(struct conn *c, const json_t *req, json_t **data, char *err, size_t len)
{
	json_t *ans;
	const char *e;

	*data = NULL;
	if (conn_call(c, req, &ans, err, len) != 0)
		return EXIT_USAGE;
	if (json_is_true(json_object_get(ans, "ok"))) {
		*data = json_incref(json_object_get(ans, "data"));
		if (*data == NULL)
			*data = json_null();
		json_decref(ans);
		return EXIT_OKAY;
	}
	e = json_string_value(json_object_get(ans, "error"));
	snprintf(err, len, "%s: %s", json_string_value(json_object_get(req, "cmd")),
		e != NULL ? e : "error (no text)");
	json_decref(ans);
	return EXIT_SERVER;
}

/* ---- the request from the command line ---- */

/* A value as the user means it: number, boolean, JSON, else a string. */
static json_t *
parse_value(const char *s)
{
	char *end;
	long long i;
	double d;

	if (*s == '\0')
		return json_string(s);
	errno = 0;
	i = strtoll(s, &end, 10);
	if (*end == '\0' && errno == 0)
		return json_integer(i);
	d = strtod(s, &end);
	if (*end == '\0' && isfinite(d) && strpbrk(s, "xXnN") == NULL)
		return json_real(d);
	if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)
		return json_boolean(*s == 't');
	if (*s == '{' || *s == '[') {
		json_t *v = json_loads(s, 0, NULL);

		if (v != NULL)
			return v;
	}
	return json_string(s);
}

/* KEY=VALUE words into obj; -1 with a message on a word without '='. */
static int
add_pairs(json_t *obj, char **w, int n)
{
	for (int i = 0; i < n; i++) {
		const char *eq = strchr(w[i], '=');
		char key[256];

		if (eq == NULL || eq == w[i] || (size_t)(eq - w[i]) >= sizeof(key)) {
			warnx("expected KEY=VALUE, got '%s' (see tcpactl --help)", w[i]);
			return -1;
		}
		snprintf(key, sizeof(key), "%.*s", (int)(eq - w[i]), w[i]);
		if (strcmp(key, "cmd") == 0) {
			warnx("'cmd' is not an argument");
			return -1;
		}
		if (json_object_set_new(obj, key, parse_value(eq + 1)) != 0) {
			warnx("'%s': keys and values must be UTF-8 text", w[i]);
			return -1;
		}
	}
	return 0;
}

/*
 * {"cmd": COMMAND, ...} from the words. config: "get [KEY...]" (the keys are
 * kept in *only, filtered here), "set KEY=VALUE...". NULL after a message.
 */
static json_t *
build_request(char **w, int n, json_t **only)
{
	json_t *req = json_pack("{s:s}", "cmd", w[0]);

	*only = NULL;
	if (req == NULL)
		return NULL;
	if (strcmp(w[0], "config") == 0 && n > 1 && strcmp(w[1], "set") == 0) {
		json_t *set;

		if (n == 2) {
			warnx("config set: give KEY=VALUE... (tcpactl config lists the keys)");
			goto fail;
		}
		set = json_object();
		json_object_set_new(req, "set", set);
		if (add_pairs(set, w + 2, n - 2) != 0)
			goto fail;
		return req;
	}
	if (strcmp(w[0], "config") == 0 && n > 1 && strcmp(w[1], "get") == 0) {
		*only = json_array();
		for (int i = 2; i < n; i++)
			json_array_append_new(*only, json_string(w[i]));
		return req;
	}
	if (add_pairs(req, w + 1, n - 1) != 0)
		goto fail;
	return req;
fail:
	json_decref(req);
	json_decref(*only);
	*only = NULL;
	return NULL;
}

/* ---- text tables ---- */

struct table {
	unsigned ncols;
	size_t nrows;
	size_t cap;
	const char **head;
	bool *right;            /* right-aligned (numbers) */
	char **cell;            /* nrows * ncols strings */
};

static void
table_init(struct table *t, unsigned ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->head = calloc(ncols, sizeof(*t->head));
	t->right = calloc(ncols, sizeof(*t->right));
	if (t->head == NULL || t->right == NULL) {
		warnx("out of memory");
		exit(EXIT_USAGE);
	}
}

static void
table_col(struct table *t, unsigned i, const char *head, bool right)
{
	t->head[i] = head;
	t->right[i] = right;
}

/* The next row's cells, to fill with table_set(). */
static char **
table_row(struct table *t)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap != 0 ? t->cap * 2 : 16;
		char **p = realloc(t->cell, cap * t->ncols * sizeof(*p));

		if (p == NULL) {
			warnx("out of memory");
			exit(EXIT_USAGE);
		}
		t->cell = p;
		t->cap = cap;
	}
	memset(&t->cell[t->nrows * t->ncols], 0, t->ncols * sizeof(*t->cell));
	return &t->cell[t->nrows++ * t->ncols];
}

static void __attribute__((format(printf, 3, 4)))
table_set(char **row, unsigned i, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&row[i], fmt, ap) < 0)
		row[i] = NULL;
	va_end(ap);
}

/* Print and free; the last column is not padded (it may be a sentence). */
static void
table_print(FILE *out, struct table *t)
{
	size_t *w = calloc(t->ncols, sizeof(*w));

	for (unsigned c = 0; c < t->ncols && w != NULL; c++) {
		w[c] = strlen(t->head[c]);
		for (size_t r = 0; r < t->nrows; r++) {
			const char *s = t->cell[r * t->ncols + c];

			if (s != NULL && strlen(s) > w[c])
				w[c] = strlen(s);
		}
	}
	for (size_t r = 0; r <= t->nrows && w != NULL; r++) {
		for (unsigned c = 0; c < t->ncols; c++) {
			const char *s = r == 0 ? t->head[c] : t->cell[(r - 1) * t->ncols + c];
			bool last = c + 1 == t->ncols;

			if (s == NULL)
				s = "";
			if (t->right[c])
				fprintf(out, "%*s%s", (int)w[c], s, last ? "" : "  ");
			else if (last)
				fputs(s, out);
			else
				fprintf(out, "%-*s  ", (int)w[c], s);
		}
		fputc('\n', out);
	}
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cell[i]);
	free(t->cell);
	free(t->head);
	free(t->right);
	free(w);
}

/* A scalar as text; objects and arrays as compact JSON. Caller frees. */
static char *
text_of(const json_t *v)
{
	char *s = NULL;
	int rc = 0;

	if (json_is_string(v))
		s = strdup(json_string_value(v));
	else if (json_is_integer(v))
		rc = asprintf(&s, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		rc = asprintf(&s, "%.6g", json_real_value(v));
	else
		s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (rc < 0)
		s = NULL;
	return s != NULL ? s : strdup("?");
}

static json_int_t
int_of(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? json_integer_value(v) :
		json_is_real(v) ? (json_int_t)json_real_value(v) : 0;
}

static const char *
str_of(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

/* An array of flat objects as a table: one column per key, first seen first. */
static void
print_objects(FILE *out, const json_t *a)
{
	json_t *keys = json_object();   /* key -> column index */
	struct table t;
	char **heads;
	size_t i, n;
	const char *k;
	json_t *o, *v;

	json_array_foreach(a, i, o)
		json_object_foreach(o, k, v)
			if (json_object_get(keys, k) == NULL)
				json_object_set_new(keys, k, json_integer((json_int_t)
					json_object_size(keys)));
	n = json_object_size(keys);
	heads = calloc(n + 1, sizeof(*heads));
	if (n == 0 || heads == NULL) {
		free(heads);
		json_decref(keys);
		return;
	}
	table_init(&t, (unsigned)n);
	json_object_foreach(keys, k, v) {
		size_t c = (size_t)json_integer_value(v);

		heads[c] = strdup(k);
		for (char *p = heads[c]; p != NULL && *p != '\0'; p++)
			*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
		table_col(&t, (unsigned)c, heads[c] != NULL ? heads[c] : "?", false);
	}
	json_array_foreach(a, i, o) {
		char **row = table_row(&t);

		json_object_foreach(o, k, v) {
			size_t c = (size_t)json_integer_value(json_object_get(keys, k));

			row[c] = text_of(v);
			t.right[c] = t.right[c] || json_is_number(v);
		}
	}
	table_print(out, &t);
	for (i = 0; i < n; i++)
		free(heads[i]);
	free(heads);
	json_decref(keys);
}

/* ---- human renderings ---- */

/* KEY VALUE lines; only: keys to show (NULL: all). */
static void
print_kv(FILE *out, const json_t *o, const json_t *only)
{
	size_t w = 0, i;
	const char *k;
	json_t *v, *x;

	if (!json_is_object(o)) {
		char *s = text_of(o);

		fprintf(out, "%s\n", s);
		free(s);
		return;
	}
	json_object_foreach((json_t *)o, k, v)
		if (strlen(k) > w)
			w = strlen(k);
	json_object_foreach((json_t *)o, k, v) {
		bool show = only == NULL || json_array_size(only) == 0;
		char *s;

		json_array_foreach(only, i, x)
			show = show || strcmp(json_string_value(x), k) == 0;
		if (!show)
			continue;
		s = text_of(v);
		fprintf(out, "%-*s  %s\n", (int)w, k, s);
		free(s);
	}
}

static void
print_help(FILE *out, const json_t *d)
{
	fputs("Commands of this tcpa (tcpactl COMMAND [KEY=VALUE...]):\n", out);
	print_kv(out, d, NULL);
	fputs("\nClient commands: watch [INTERVAL] [COMMAND...], metrics [--top N] "
		"[--listen ADDR:PORT]\n", out);
}

static void
print_stats(FILE *out, const json_t *d)
{
	const json_t *ports = json_object_get(d, "ports");
	const json_t *cores = json_object_get(d, "cores");
	const json_t *mp = json_object_get(d, "mempool");
	json_int_t rx = 0, miss = 0, err = 0, nombuf = 0, flows = 0, cap = 0, tcp = 0, ring = 0;
	size_t i;
	json_t *o;

	json_array_foreach(ports, i, o) {
		rx += int_of(o, "rx_packets");
		miss += int_of(o, "rx_missed");
		err += int_of(o, "rx_errors");
		nombuf += int_of(o, "rx_nombuf");
	}
	json_array_foreach(cores, i, o) {
		tcp += int_of(o, "tcp_packets");
		ring += int_of(o, "ring_full");
		flows += int_of(o, "flows");
		cap += int_of(o, "flow_capacity");
	}
	fprintf(out, "Total: %" JSON_INTEGER_FORMAT " frames on %zu port%s (missed %"
		JSON_INTEGER_FORMAT ", errors %" JSON_INTEGER_FORMAT ", no mbuf %"
		JSON_INTEGER_FORMAT ")\n", rx, json_array_size(ports),
		json_array_size(ports) == 1 ? "" : "s", miss, err, nombuf);
	fprintf(out, "TCP:   %" JSON_INTEGER_FORMAT " segments analyzed on %zu RX core%s "
		"(ring full %" JSON_INTEGER_FORMAT ")\n", tcp, json_array_size(cores),
		json_array_size(cores) == 1 ? "" : "s", ring);
	fprintf(out, "Flows: %" JSON_INTEGER_FORMAT " tracked of %" JSON_INTEGER_FORMAT
		" (%.1f%% full)\n", flows, cap,
		cap != 0 ? 100.0 * (double)flows / (double)cap : 0.0);
	if (json_is_object(mp))
		fprintf(out, "Mbufs: %" JSON_INTEGER_FORMAT " in use, %" JSON_INTEGER_FORMAT
			" free\n", int_of(mp, "in_use"), int_of(mp, "free"));
	if (json_array_size(ports) > 0) {
		fputc('\n', out);
		print_objects(out, ports);
	}
	if (json_array_size(cores) > 0) {
		fputc('\n', out);
		print_objects(out, cores);
	}
}

/* Display order of the state columns; others follow as the answer has them. */
static const char *const state_order[] = {
	"ESTABLISHED", "SYN_SENT", "SYN_RECEIVED", "FIN_WAIT_1", "FIN_WAIT_2",
	"TIME_WAIT", "CLOSE_WAIT", "LAST_ACK", "CLOSING", "UNKNOWN",
};

/* The state names present in any endpoint, in display order. */
static json_t *
states_present(const json_t *eps)
{
	json_t *names = json_array();
	size_t i, k;
	json_t *e, *x;

	for (size_t s = 0; s < sizeof(state_order) / sizeof(state_order[0]); s++) {
		json_array_foreach(eps, i, e) {
			if (int_of(json_object_get(e, "states"), state_order[s]) != 0) {
				json_array_append_new(names, json_string(state_order[s]));
				break;
			}
		}
	}
	json_array_foreach(eps, i, e) {
		const char *name;
		json_t *v;

		json_object_foreach(json_object_get(e, "states"), name, v) {
			bool seen = false;

			json_array_foreach(names, k, x)
				seen = seen || strcmp(json_string_value(x), name) == 0;
			if (!seen)
				json_array_append_new(names, json_string(name));
		}
	}
	return names;
}

static void
ep_name(char **row, unsigned i, const json_t *e)
{
	if (json_object_get(e, "vlan") != NULL)
		table_set(row, i, "%s vlan %" JSON_INTEGER_FORMAT, str_of(e, "endpoint"),
			int_of(e, "vlan"));
	else
		table_set(row, i, "%s", str_of(e, "endpoint"));
}

static void
print_endpoints(FILE *out, const json_t *eps)
{
	json_t *names;
	struct table t;
	unsigned ns;
	size_t i, k;
	json_t *e, *x;

	if (json_array_size(eps) == 0) {
		fputs("no endpoints (nothing seen yet, or none matches the filters)\n", out);
		return;
	}
	names = states_present(eps);
	ns = (unsigned)json_array_size(names);
	table_init(&t, 4 + ns);
	table_col(&t, 0, "ENDPOINT", false);
	table_col(&t, 1, "ROLE", false);
	table_col(&t, 2, "CONNS", true);
	json_array_foreach(names, k, x)
		table_col(&t, 3 + (unsigned)k, json_string_value(x), true);
	table_col(&t, 3 + ns, "DIAGNOSIS", false);
	json_array_foreach(eps, i, e) {
		char **row = table_row(&t);
		const json_t *st = json_object_get(e, "states");
		const char *dg = json_string_value(json_array_get(json_object_get(e, "diagnosis"),
			0));

		ep_name(row, 0, e);
		table_set(row, 1, "%s", str_of(e, "role"));
		table_set(row, 2, "%" JSON_INTEGER_FORMAT, int_of(e, "connections"));
		json_array_foreach(names, k, x) {
			json_int_t n = int_of(st, json_string_value(x));

			if (n != 0)
				table_set(row, 3 + (unsigned)k, "%" JSON_INTEGER_FORMAT, n);
			else
				table_set(row, 3 + (unsigned)k, "-");
		}
		table_set(row, 3 + ns, "%s", dg != NULL ? dg : "");
	}
	table_print(out, &t);
	json_decref(names);
}

static void
print_flows(FILE *out, const json_t *flows)
{
	bool vlan = false;
	struct table t;
	unsigned c = 0;
	size_t i;
	json_t *f;

	if (json_array_size(flows) == 0) {
		fputs("no flows (nothing tracked now, or none matches the filters)\n", out);
		return;
	}
	json_array_foreach(flows, i, f)
		vlan = vlan || json_object_get(f, "vlan") != NULL;
	table_init(&t, vlan ? 10 : 9);
	table_col(&t, c++, "CLIENT", false);
	table_col(&t, c++, "SERVER", false);
	if (vlan)
		table_col(&t, c++, "VLAN", true);
	table_col(&t, c++, "CLIENT_STATE", false);
	table_col(&t, c++, "SERVER_STATE", false);
	table_col(&t, c++, "PKTS_C>S", true);
	table_col(&t, c++, "PKTS_S>C", true);
	table_col(&t, c++, "BYTES_C>S", true);
	table_col(&t, c++, "BYTES_S>C", true);
	table_col(&t, c++, "IDLE_S", true);
	json_array_foreach(flows, i, f) {
		const json_t *pk = json_object_get(f, "packets");
		const json_t *by = json_object_get(f, "bytes");
		const json_t *idle = json_object_get(f, "idle_s");
		char **row = table_row(&t);

		c = 0;
		table_set(row, c++, "%s", str_of(f, "client"));
		table_set(row, c++, "%s", str_of(f, "server"));
		if (vlan)
			table_set(row, c++, "%" JSON_INTEGER_FORMAT, int_of(f, "vlan"));
		table_set(row, c++, "%s", str_of(f, "client_state"));
		table_set(row, c++, "%s", str_of(f, "server_state"));
		for (size_t k = 0; k < 2; k++)
			table_set(row, c++, "%" JSON_INTEGER_FORMAT,
				json_integer_value(json_array_get(pk, k)));
		for (size_t k = 0; k < 2; k++)
			table_set(row, c++, "%" JSON_INTEGER_FORMAT,
				json_integer_value(json_array_get(by, k)));
		table_set(row, c++, "%.1f", json_number_value(idle));
	}
	table_print(out, &t);
}

struct count {
	const char *name;
	json_int_t n;
	size_t pos;
};

static int
by_count(const void *a, const void *b)
{
	const struct count *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* NAME COUNT lines of one object of counters: non-zero first, largest first. */
static void
print_counts(FILE *out, const char *title, const json_t *o)
{
	size_t n = json_object_size(o), i = 0, w = strlen(title);
	struct count *v = calloc(n + 1, sizeof(*v));
	const char *k;
	json_t *x;

	if (v == NULL)
		return;
	json_object_foreach((json_t *)o, k, x) {
		v[i] = (struct count){ .name = k, .n = json_integer_value(x), .pos = i };
		if (strlen(k) > w)
			w = strlen(k);
		i++;
	}
	qsort(v, n, sizeof(*v), by_count);
	fprintf(out, "%-*s  %12s\n", (int)w, title, "COUNT");
	for (i = 0; i < n; i++)
		fprintf(out, "%-*s  %12" JSON_INTEGER_FORMAT "\n", (int)w, v[i].name, v[i].n);
	free(v);
}

static void
print_anomalies(FILE *out, const json_t *d)
{
	static const char *const sections[][2] = {
		{ "anomalies", "ANOMALY" }, { "malformed", "MALFORMED" }, { "capture", "CAPTURE" },
	};
	bool first = true;
	const char *k;
	json_t *v;

	for (size_t s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
		const json_t *o = json_object_get(d, sections[s][0]);

		if (!json_is_object(o))
			continue;
		if (!first)
			fputc('\n', out);
		print_counts(out, sections[s][1], o);
		first = false;
	}
	json_object_foreach((json_t *)d, k, v) {     /* sections this client does not know */
		bool known = false;

		for (size_t s = 0; s < sizeof(sections) / sizeof(sections[0]); s++)
			known = known || strcmp(k, sections[s][0]) == 0;
		if (!known && json_is_object(v)) {
			fputc('\n', out);
			print_counts(out, k, v);
		}
	}
}


static void print_json(FILE *out, const json_t *d, const json_t *only);

/* Human rendering of a command's data. */
static void
render(FILE *out, const char *cmd, const json_t *d, const json_t *only)
{
	if (strcmp(cmd, "stats") == 0)
		print_stats(out, d);
	else if (strcmp(cmd, "endpoints") == 0 && json_is_array(d))
		print_endpoints(out, d);
	else if (strcmp(cmd, "flows") == 0 && json_is_array(d))
		print_flows(out, d);
	else if (strcmp(cmd, "anomalies") == 0 && json_is_object(d))
		print_anomalies(out, d);
	else if (strcmp(cmd, "report") == 0 && json_is_object(d))
		tcpa_report_print_text(out, d);   /* as tcpa prints it at exit */
	else if (strcmp(cmd, "help") == 0 && json_is_object(d))
		print_help(out, d);
	else if (json_is_object(d))
		print_kv(out, d, only);
	else if (json_is_array(d) && json_array_size(d) > 0 && json_is_object(json_array_get(d, 0)))
		print_objects(out, d);
	else
		print_json(out, d, NULL);
}

static void
print_json(FILE *out, const json_t *d, const json_t *only)
{
	json_t *sub = NULL;
	size_t i;
	json_t *k;

	if (json_array_size(only) > 0 && json_is_object(d)) {
		sub = json_object();
		json_array_foreach(only, i, k) {
			json_t *v = json_object_get(d, json_string_value(k));

			if (v != NULL)
				json_object_set(sub, json_string_value(k), v);
		}
		d = sub;
	}
	json_dumpf(d, out, JSON_INDENT(2) | JSON_ENCODE_ANY);
	fputc('\n', out);
	json_decref(sub);
}

/* ---- Prometheus exposition ---- */

/* A label value: backslash, double quote and newline escaped. */
static void
prom_label(FILE *out, const char *name, const char *v, bool first)
{
	fprintf(out, "%s%s=\"", first ? "" : ",", name);
	for (; v != NULL && *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(out, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", out);
		else
			fputc(*v, out);
	}
	fputc('"', out);
}

static void
prom_family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
prom_value(FILE *out, const json_t *v)
{
	if (json_is_integer(v))
		fprintf(out, " %" JSON_INTEGER_FORMAT "\n", json_integer_value(v));
	else if (json_is_real(v))
		fprintf(out, " %.17g\n", json_real_value(v));
	else if (json_is_boolean(v))
		fprintf(out, " %d\n", json_is_true(v) ? 1 : 0);
	else
		fputs(" NaN\n", out);
}

/* One family of a counter object: NAME{LABEL="key"} value, per member. */
static void
prom_object(FILE *out, const char *name, const char *label, const char *help,
	const json_t *o)
{
	const char *k;
	json_t *v;

	if (!json_is_object(o))
		return;
	prom_family(out, name, "counter", help);
	json_object_foreach((json_t *)o, k, v) {
		fprintf(out, "%s{", name);
		prom_label(out, label, k, true);
		fputc('}', out);
		prom_value(out, v);
	}
}

static void
prom_scalar(FILE *out, const char *name, const char *type, const char *help, const json_t *v)
{
	if (v == NULL)
		return;
	prom_family(out, name, type, help);
	fputs(name, out);
	prom_value(out, v);
}

static void
prom_ep_labels(FILE *out, const json_t *e)
{
	prom_label(out, "endpoint", str_of(e, "endpoint"), true);
	prom_label(out, "role", str_of(e, "role"), false);
	if (json_object_get(e, "vlan") != NULL) {
		char vlan[32];

		snprintf(vlan, sizeof(vlan), "%" JSON_INTEGER_FORMAT, int_of(e, "vlan"));
		prom_label(out, "vlan", vlan, false);
	}
}

/* Per-port and per-core counters of the stats answer. */
struct prom_field {
	const char *key;
	const char *metric;
	const char *type;
	const char *help;
};

static const struct prom_field port_fields[] = {
	{ "rx_packets", "tcpa_port_rx_packets_total", "counter", "Frames received by the port." },
	{ "rx_bytes", "tcpa_port_rx_bytes_total", "counter", "Bytes received by the port." },
	{ "rx_missed", "tcpa_port_rx_missed_total", "counter",
		"Frames the NIC dropped: RX queues full (imissed)." },
	{ "rx_errors", "tcpa_port_rx_errors_total", "counter", "Erroneous frames (ierrors)." },
	{ "rx_nombuf", "tcpa_port_rx_nombuf_total", "counter",
		"RX mbuf allocation failures (rx_nombuf)." },
};

static const struct prom_field core_fields[] = {
	{ "rx_packets", "tcpa_core_rx_packets_total", "counter", "Frames read by the RX core." },
	{ "tcp_packets", "tcpa_core_tcp_packets_total", "counter",
		"TCP segments analyzed by the RX core." },
	{ "dispatched", "tcpa_core_dispatched_total", "counter",
		"Segments handed to the core that owns their connection." },
	{ "ring_full", "tcpa_core_ring_full_total", "counter",
		"Segments dropped because a core-to-core ring was full." },
	{ "flows", "tcpa_core_flows", "gauge", "Connections tracked by the RX core." },
	{ "flow_capacity", "tcpa_core_flow_capacity", "gauge",
		"Capacity of the RX core's flow table." },
};

static void
prom_fields(FILE *out, const json_t *a, const struct prom_field *f, size_t nf,
	const char *label, const char *label_key, const char *label2, const char *label2_key)
{
	size_t i;
	json_t *o;

	for (size_t k = 0; k < nf; k++) {
		bool any = false;

		json_array_foreach(a, i, o)
			any = any || json_object_get(o, f[k].key) != NULL;
		if (!any)
			continue;
		prom_family(out, f[k].metric, f[k].type, f[k].help);
		json_array_foreach(a, i, o) {
			const json_t *v = json_object_get(o, f[k].key);
			char *l = text_of(json_object_get(o, label_key));

			if (v == NULL) {
				free(l);
				continue;
			}
			fprintf(out, "%s{", f[k].metric);
			prom_label(out, label, l, true);
			free(l);
			if (label2 != NULL)
				prom_label(out, label2, str_of(o, label2_key), false);
			fputc('}', out);
			prom_value(out, v);
		}
	}
}

/* States always exported per endpoint (0 when none), so graphs drop to zero. */
static const char *const prom_states[] = { "ESTABLISHED", "CLOSE_WAIT", "TIME_WAIT" };

static void
prom_endpoints(FILE *out, const json_t *eps, size_t top)
{
	size_t i;
	json_t *e;

	prom_family(out, "tcpa_endpoint_connections", "gauge",
		"Live connections of the endpoint by its own TCP state (most severe endpoints).");
	json_array_foreach(eps, i, e) {
		const json_t *st = json_object_get(e, "states");
		const char *k;
		json_t *v;

		if (i >= top)
			break;
		for (size_t s = 0; s < sizeof(prom_states) / sizeof(prom_states[0]); s++) {
			fputs("tcpa_endpoint_connections{", out);
			prom_ep_labels(out, e);
			prom_label(out, "state", prom_states[s], false);
			fprintf(out, "} %" JSON_INTEGER_FORMAT "\n", int_of(st, prom_states[s]));
		}
		json_object_foreach((json_t *)st, k, v) {
			bool fixed = false;

			for (size_t s = 0; s < sizeof(prom_states) / sizeof(prom_states[0]); s++)
				fixed = fixed || strcmp(k, prom_states[s]) == 0;
			if (fixed)
				continue;
			fputs("tcpa_endpoint_connections{", out);
			prom_ep_labels(out, e);
			prom_label(out, "state", k, false);
			fputc('}', out);
			prom_value(out, v);
		}
	}
	prom_family(out, "tcpa_endpoint_anomalies_total", "counter",
		"Anomalies attributed to the endpoint (most severe endpoints).");
	json_array_foreach(eps, i, e) {
		const char *k;
		json_t *v;

		if (i >= top)
			break;
		json_object_foreach(json_object_get(e, "anomalies"), k, v) {
			fputs("tcpa_endpoint_anomalies_total{", out);
			prom_ep_labels(out, e);
			prom_label(out, "anomaly", k, false);
			fputc('}', out);
			prom_value(out, v);
		}
	}
}

static void
prom_write(FILE *out, const json_t *r, const json_t *st, size_t top)
{
	const json_t *t = json_object_get(r, "totals");

	prom_scalar(out, "tcpa_up", "gauge", "1 if tcpa answered on its management socket.",
		json_true());
	if (json_is_string(json_object_get(r, "version"))) {
		prom_family(out, "tcpa_info", "gauge", "tcpa version, as a label.");
		fputs("tcpa_info{", out);
		prom_label(out, "version", str_of(r, "version"), true);
		fputs("} 1\n", out);
	}
	prom_scalar(out, "tcpa_packets_total", "counter", "Frames received.",
		json_object_get(t, "packets"));
	prom_scalar(out, "tcpa_bytes_total", "counter", "Bytes received.",
		json_object_get(t, "bytes"));
	prom_scalar(out, "tcpa_tcp_packets_total", "counter", "TCP segments analyzed.",
		json_object_get(t, "tcp_packets"));
	prom_scalar(out, "tcpa_flows_seen_total", "counter", "Connections seen.",
		json_object_get(t, "flows_seen"));
	prom_scalar(out, "tcpa_flows_active", "gauge", "Connections tracked now.",
		json_object_get(t, "flows_active"));
	prom_object(out, "tcpa_anomalies_total", "anomaly",
		"Anomalies seen, by name (ANOMALIES.md).", json_object_get(r, "anomalies"));
	prom_object(out, "tcpa_malformed_total", "reason",
		"Frames that were not a usable TCP segment, by first reason.",
		json_object_get(r, "malformed"));
	prom_object(out, "tcpa_capture_total", "counter",
		"Capture-health and capacity counters.", json_object_get(r, "capture"));
	prom_endpoints(out, json_object_get(r, "endpoints"), top);
	if (st != NULL) {
		const json_t *mp = json_object_get(st, "mempool");

		prom_fields(out, json_object_get(st, "ports"), port_fields,
			sizeof(port_fields) / sizeof(port_fields[0]), "port", "port", "name",
			"name");
		prom_fields(out, json_object_get(st, "cores"), core_fields,
			sizeof(core_fields) / sizeof(core_fields[0]), "core", "core", NULL, NULL);
		prom_scalar(out, "tcpa_mbufs_in_use", "gauge", "Packet buffers in use.",
			json_object_get(mp, "in_use"));
		prom_scalar(out, "tcpa_mbufs_free", "gauge", "Packet buffers free.",
			json_object_get(mp, "free"));
	}
}

/* Query report and stats, write the exposition. Exit status; err on failure. */
static int
metrics(const struct opts *o, FILE *out, char *err, size_t len)
{
	json_t *rq = json_pack("{s:s}", "cmd", "report"), *sq = json_pack("{s:s}", "cmd", "stats");
	json_t *r = NULL, *st = NULL;
	struct conn c;
	int rc;

	if (conn_open(&c, o->sock, o->timeout_s, err, len) != 0) {
		rc = EXIT_USAGE;
		goto out;
	}
	rc = request(&c, rq, &r, err, len);
	if (rc == EXIT_OKAY)
		rc = request(&c, sq, &st, err, len);
	conn_close(&c);
	if (rc == EXIT_OKAY)
		prom_write(out, r, st, o->top);
out:
	json_decref(rq);
	json_decref(sq);
	json_decref(r);
	json_decref(st);
	return rc;
}

/* ---- HTTP for Prometheus: GET /metrics, one request at a time ---- */

static bool
is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) ||
			(IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

static int
http_listen(const struct opts *o)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	char host[256], *port;
	struct addrinfo *ai;
	int fd, one = 1, rc;

	snprintf(host, sizeof(host), "%s", o->listen);
	port = strrchr(host, ':');
	if (port == NULL || port[1] == '\0') {
		warnx("--listen %s: expected ADDR:PORT, e.g. 127.0.0.1:9464 or [::1]:9464",
			o->listen);
		return -1;
	}
	*port++ = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	rc = getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints, &ai);
	if (rc != 0) {
		warnx("--listen %s: %s", o->listen, gai_strerror(rc));
		return -1;
	}
	if (!o->listen_any && !is_loopback(ai->ai_addr)) {
		warnx("--listen %s: not a loopback address; metrics reveal the network's "
			"endpoints: add --listen-any to serve them there", o->listen);
		freeaddrinfo(ai);
		return -1;
	}
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
			bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 16) != 0) {
		warnx("--listen %s: %s", o->listen, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static void
http_send(int fd, const char *status, const char *type, const char *body, size_t len,
	bool head_only)
{
	char *hdr;
	int n = asprintf(&hdr, "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		"Connection: close\r\n%s\r\n", status, type, len,
		strncmp(status, "405", 3) == 0 ? "Allow: GET, HEAD\r\n" : "");
	const char *parts[2] = { hdr, body };
	size_t sizes[2] = { n > 0 ? (size_t)n : 0, head_only ? 0 : len };

	if (n < 0)
		return;
	for (int p = 0; p < 2; p++) {
		size_t off = 0;

		while (off < sizes[p]) {
			ssize_t w = send(fd, parts[p] + off, sizes[p] - off, MSG_NOSIGNAL);

			if (w <= 0 && errno == EINTR && !stopping)
				continue;
			if (w <= 0)
				goto out;
			off += (size_t)w;
		}
	}
out:
	free(hdr);
}

static void
http_one(const struct opts *o, int fd)
{
	struct timeval tv = { .tv_sec = 5 };
	char req[HTTP_MAX_HEAD + 1], method[16], path[1024];
	size_t len = 0;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (len < HTTP_MAX_HEAD) {
		ssize_t r = recv(fd, req + len, HTTP_MAX_HEAD - len, 0);

		if (r <= 0)
			break;
		len += (size_t)r;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL || strstr(req, "\n\n") != NULL)
			break;
	}
	req[len] = '\0';
	if (sscanf(req, "%15s %1023s", method, path) != 2) {
		http_send(fd, "400 Bad Request", "text/plain", "bad request\n", 12, false);
		return;
	}
	path[strcspn(path, "?")] = '\0';
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		http_send(fd, "405 Method Not Allowed", "text/plain", "GET only\n", 9, false);
		return;
	}
	if (strcmp(path, "/metrics") == 0) {
		char *body = NULL, err[512];
		size_t blen = 0;
		FILE *m = open_memstream(&body, &blen);

		if (m != NULL && metrics(o, m, err, sizeof(err)) != EXIT_OKAY) {
			/* tcpa is down or failing: say so in a metric, not an HTTP error */
			fclose(m);
			free(body);
			body = NULL;
			m = open_memstream(&body, &blen);
			if (m != NULL)
				prom_scalar(m, "tcpa_up", "gauge", "1 if tcpa answered on its "
					"management socket.", json_false());
			warnx("%s", err);
		}
		if (m == NULL) {
			http_send(fd, "500 Internal Server Error", "text/plain", "no memory\n", 10,
				false);
			return;
		}
		fclose(m);
		http_send(fd, "200 OK", "text/plain; version=0.0.4; charset=utf-8", body, blen,
			strcmp(method, "HEAD") == 0);
		free(body);
		return;
	}
	if (strcmp(path, "/") == 0) {
		static const char page[] = "tcpa metrics exporter (tcpactl): see /metrics\n";

		http_send(fd, "200 OK", "text/plain; charset=utf-8", page, sizeof(page) - 1,
			strcmp(method, "HEAD") == 0);
		return;
	}
	http_send(fd, "404 Not Found", "text/plain", "not found: try /metrics\n", 24, false);
}

static int
http_serve(const struct opts *o)
{
	int lfd = http_listen(o);

	if (lfd < 0)
		return EXIT_USAGE;
	fprintf(stderr, "tcpactl: serving http://%s/metrics from %s; Ctrl-C stops\n", o->listen,
		o->sock);
	while (!stopping) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			warnx("accept on %s: %s", o->listen, strerror(errno));
			sleep(1);
			continue;
		}
		http_one(o, fd);
		close(fd);
	}
	close(lfd);
	return EXIT_OKAY;
}

/* ---- commands ---- */

/* One command, printed to out. Exit status; err on failure. */
static int
run_once(const struct opts *o, char **w, int n, FILE *out, char *err, size_t len)
{
	json_t *req, *only, *data = NULL;
	struct conn c;
	int rc;

	if (strcmp(w[0], "metrics") == 0)
		return metrics(o, out, err, len);
	req = build_request(w, n, &only);
	if (req == NULL) {
		err[0] = '\0';          /* build_request said why */
		return EXIT_USAGE;
	}
	if (conn_open(&c, o->sock, o->timeout_s, err, len) != 0) {
		json_decref(req);
		json_decref(only);
		return EXIT_USAGE;
	}
	rc = request(&c, req, &data, err, len);
	conn_close(&c);
	if (rc == EXIT_OKAY) {
		if (o->json)
			print_json(out, data, only);
		else
			render(out, w[0], data, only);
	}
	json_decref(req);
	json_decref(only);
	json_decref(data);
	return rc;
}

static int
watch(const struct opts *o, char **w, int n)
{
	static char *def[] = { "endpoints" };
	double interval = DEFAULT_INTERVAL_S;
	char *end;

	if (n > 0) {
		double v = strtod(w[0], &end);

		if (*end == '\0' && end != w[0]) {
			if (!(v >= 0.1 && v <= 86400)) {
				warnx("watch: interval %s: expected 0.1 to 86400 seconds", w[0]);
				return EXIT_USAGE;
			}
			interval = v;
			w++;
			n--;
		}
	}
	if (n == 0) {
		w = def;
		n = 1;
	}
	if (strcmp(w[0], "watch") == 0) {
		warnx("watch: cannot watch watch");
		return EXIT_USAGE;
	}
	if (strcmp(w[0], "metrics") != 0) {     /* bad arguments: say so once, not forever */
		json_t *only, *req = build_request(w, n, &only);

		if (req == NULL)
			return EXIT_USAGE;
		json_decref(req);
		json_decref(only);
	}
	while (!stopping) {
		char *body = NULL, err[512], when[64];
		size_t blen = 0;
		FILE *m = open_memstream(&body, &blen);
		time_t now = time(NULL);
		struct timespec ts;
		double until;

		if (m == NULL)
			return EXIT_USAGE;
		strftime(when, sizeof(when), "%F %T", localtime(&now));
		fprintf(m, "Every %.1fs: tcpactl", interval);
		for (int i = 0; i < n; i++)
			fprintf(m, " %s", w[i]);
		fprintf(m, "    %s\n\n", when);
		if (run_once(o, w, n, m, err, sizeof(err)) != EXIT_OKAY && err[0] != '\0')
			fprintf(m, "tcpactl: %s\n", err);
		fclose(m);
		fputs("\033[H\033[2J", stdout);         /* clear, then draw in one write */
		fwrite(body, 1, blen, stdout);
		fflush(stdout);
		free(body);
		until = mono_s() + interval;
		while (!stopping && mono_s() < until) {
			double left = until - mono_s();

			ts.tv_sec = (time_t)left;
			ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
			nanosleep(&ts, NULL);   /* a signal ends it early */
		}
	}
	fputc('\n', stdout);
	return EXIT_OKAY;
}

/* Options anywhere on the line; the rest are positional words. */
static int
parse_args(int argc, char **argv, struct opts *o)
{
	const char *env = getenv("TCPA_SOCK");
	bool dashdash = false;

	memset(o, 0, sizeof(*o));
	o->sock = env != NULL && *env != '\0' ? env : DEFAULT_SOCK;
	o->top = DEFAULT_TOP;
	o->timeout_s = DEFAULT_TIMEOUT_S;
	o->pos = calloc((size_t)argc + 1, sizeof(*o->pos));
	if (o->pos == NULL)
		return -1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		char name[64];
		const char *eq;

		if (dashdash || a[0] != '-' || a[1] == '\0') {
			o->pos[o->npos++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			dashdash = true;
			continue;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			exit(EXIT_OKAY);
		}
		if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf("tcpactl %s\n", TCPA_VERSION);
			exit(EXIT_OKAY);
		}
		if (strcmp(a, "-j") == 0 || strcmp(a, "--json") == 0) {
			o->json = true;
			continue;
		}
		if (strcmp(a, "--listen-any") == 0) {
			o->listen_any = true;
			continue;
		}
		if (strncmp(a, "-s", 2) == 0 && a[2] != '\0') {        /* -sPATH */
			o->sock = a + 2;
			continue;
		}
		eq = strchr(a, '=');
		snprintf(name, sizeof(name), "%.*s", eq != NULL ? (int)(eq - a) : 63, a);
		if (strcmp(name, "-s") != 0 && strcmp(name, "--socket") != 0 &&
				strcmp(name, "--top") != 0 && strcmp(name, "--listen") != 0 &&
				strcmp(name, "--timeout") != 0) {
			warnx("unknown option '%s' (see tcpactl --help)", a);
			return -1;
		}
		if (eq != NULL) {
			val = eq + 1;
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			warnx("option %s needs a value", a);
			return -1;
		}
		if (strcmp(name, "-s") == 0 || strcmp(name, "--socket") == 0) {
			o->sock = val;
		} else if (strcmp(name, "--listen") == 0) {
			o->listen = val;
		} else {
			char *end;
			double v = strtod(val, &end);

			if (*end != '\0' || end == val || !(v > 0) || v > 1e6 ||
					(strcmp(name, "--top") == 0 && v != (double)(unsigned)v)) {
				warnx("%s: expected a positive %s, got '%s'", name,
					strcmp(name, "--top") == 0 ? "integer" : "number", val);
				return -1;
			}
			if (strcmp(name, "--top") == 0)
				o->top = (unsigned)v;
			else
				o->timeout_s = v;
		}
	}
	if (*o->sock == '\0') {
		warnx("empty socket path");
		return -1;
	}
	return 0;
}

static int
run(struct opts *o)
{
	char err[1024];
	int rc;

	if (strcmp(o->pos[0], "watch") == 0)
		return watch(o, o->pos + 1, o->npos - 1);
	if (o->listen != NULL && strcmp(o->pos[0], "metrics") != 0) {
		warnx("--listen is an option of metrics");
		return EXIT_USAGE;
	}
	if (o->listen != NULL)
		return http_serve(o);
	rc = run_once(o, o->pos, o->npos, stdout, err, sizeof(err));
	if (rc != EXIT_OKAY && err[0] != '\0')
		warnx("%s", err);
	if (fflush(stdout) != 0 && rc == EXIT_OKAY) {
		warnx("cannot write the answer: %s", strerror(errno));
		rc = EXIT_USAGE;
	}
	return rc;
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	struct opts o;
	int rc;

	if (parse_args(argc, argv, &o) != 0) {
		free(o.pos);
		return EXIT_USAGE;
	}
	if (o.npos == 0) {
		usage(stderr);
		free(o.pos);
		return EXIT_USAGE;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;      /* no SA_RESTART: Ctrl-C ends waits at once */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	rc = run(&o);
	free(o.pos);
	return rc;
}
