/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HTTP for Prometheus: GET /metrics, one request at a time; each scrape
 * asks tcpa afresh.
 */
#define _GNU_SOURCE     /* accept4(), asprintf() */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <jansson.h>

#include "tcpactl.h"

#define HTTP_MAX_HEAD 8192

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
		tcpactl_warn("--listen %s: expected ADDR:PORT, e.g. 127.0.0.1:9464 or [::1]:9464",
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
		tcpactl_warn("--listen %s: %s", o->listen, gai_strerror(rc));
		return -1;
	}
	if (!o->listen_any && !is_loopback(ai->ai_addr)) {
		tcpactl_warn("--listen %s: not a loopback address; metrics reveal the network's "
			"endpoints: add --listen-any to serve them there", o->listen);
		freeaddrinfo(ai);
		return -1;
	}
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
			bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 16) != 0) {
		tcpactl_warn("--listen %s: %s", o->listen, strerror(errno));
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

			if (w <= 0 && errno == EINTR && !tcpactl_stopping)
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

		if (m != NULL && prom_metrics(o, m, err, sizeof(err)) != EXIT_OKAY) {
			/* tcpa is down or failing: say so in a metric, not an HTTP error */
			fclose(m);
			free(body);
			body = NULL;
			m = open_memstream(&body, &blen);
			if (m != NULL)
				prom_scalar(m, "tcpa_up", "gauge", "1 if tcpa answered on its "
					"management socket.", json_false());
			tcpactl_warn("%s", err);
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

int
http_serve(const struct opts *o)
{
	int lfd = http_listen(o);

	if (lfd < 0)
		return EXIT_USAGE;
	fprintf(stderr, "tcpactl: serving http://%s/metrics from %s; Ctrl-C stops\n", o->listen,
		o->sock);
	while (!tcpactl_stopping) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			tcpactl_warn("accept on %s: %s", o->listen, strerror(errno));
			sleep(1);
			continue;
		}
		http_one(o, fd);
		close(fd);
	}
	close(lfd);
	return EXIT_OKAY;
}
