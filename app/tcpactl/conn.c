/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Transport: one JSON request line to tcpa's management socket, one answer
 * line back, each bounded by the connection's timeout.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "tcpactl.h"

#define MAX_ANSWER (64u << 20)          /* the server sends at most 16 MiB */

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

int
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

void
conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* Wait until fd is ready for ev or the deadline passes: 0, or -1 with errno. */
static int
wait_fd(int fd, short ev, double deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = ev };
		double left = deadline - tcpactl_mono_s();
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
		if (rc < 0 && tcpactl_stopping) {
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
	double deadline = tcpactl_mono_s() + c->timeout_s;
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
int
conn_request(struct conn *c, const json_t *req, json_t **data, char *err, size_t len)
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
