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
 * tcpactl.h lists the program's files and what crosses them.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "tcpactl.h"

#ifndef TCPA_VERSION
#define TCPA_VERSION "unknown"
#endif

#define DEFAULT_SOCK "/run/tcpa/tcpa.sock"
#define DEFAULT_TIMEOUT_S 30.0
#define DEFAULT_TOP 50
#define DEFAULT_INTERVAL_S 2.0

volatile sig_atomic_t tcpactl_stopping;

static void
on_signal(int sig)
{
	(void)sig;
	tcpactl_stopping = 1;
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

void
tcpactl_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("tcpactl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

double
tcpactl_mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One command, printed to out. Exit status; err on failure. */
static int
run_once(const struct opts *o, char **w, int n, FILE *out, char *err, size_t len)
{
	json_t *req, *only, *data = NULL;
	struct conn c;
	int rc;

	if (strcmp(w[0], "metrics") == 0)
		return prom_metrics(o, out, err, len);
	req = request_build(w, n, &only);
	if (req == NULL) {
		err[0] = '\0';          /* request_build said why */
		return EXIT_USAGE;
	}
	if (conn_open(&c, o->sock, o->timeout_s, err, len) != 0) {
		json_decref(req);
		json_decref(only);
		return EXIT_USAGE;
	}
	rc = conn_request(&c, req, &data, err, len);
	conn_close(&c);
	if (rc == EXIT_OKAY) {
		if (o->json)
			print_json(out, data, only);
		else
			print_text(out, w[0], data, only);
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
				tcpactl_warn("watch: interval %s: expected 0.1 to 86400 seconds",
					w[0]);
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
		tcpactl_warn("watch: cannot watch watch");
		return EXIT_USAGE;
	}
	if (strcmp(w[0], "metrics") != 0) {     /* bad arguments: say so once, not forever */
		json_t *only, *req = request_build(w, n, &only);

		if (req == NULL)
			return EXIT_USAGE;
		json_decref(req);
		json_decref(only);
	}
	while (!tcpactl_stopping) {
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
		until = tcpactl_mono_s() + interval;
		while (!tcpactl_stopping && tcpactl_mono_s() < until) {
			double left = until - tcpactl_mono_s();

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
			tcpactl_warn("unknown option '%s' (see tcpactl --help)", a);
			return -1;
		}
		if (eq != NULL) {
			val = eq + 1;
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			tcpactl_warn("option %s needs a value", a);
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
				tcpactl_warn("%s: expected a positive %s, got '%s'", name,
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
		tcpactl_warn("empty socket path");
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
		tcpactl_warn("--listen is an option of metrics");
		return EXIT_USAGE;
	}
	if (o->listen != NULL)
		return http_serve(o);
	rc = run_once(o, o->pos, o->npos, stdout, err, sizeof(err));
	if (rc != EXIT_OKAY && err[0] != '\0')
		tcpactl_warn("%s", err);
	if (fflush(stdout) != 0 && rc == EXIT_OKAY) {
		tcpactl_warn("cannot write the answer: %s", strerror(errno));
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
