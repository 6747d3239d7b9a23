/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Event log writer. The RX cores queue occurrences in per-core lock-free
 * queues (tcpa_engine_events_read); this drains them every control-loop
 * turn, formats each as one JSON line and appends it. At most event_rate
 * lines per second per anomaly are written; the rest are counted and a
 * {"suppressed": {...}} line says how many, once per second.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "evlog.h"
#include "tcpa_app.h"
#include "tcpa_report.h"
#include "tcpa_tcp.h"

static FILE *out;
static char path[TCPA_CONF_STR_MAX];
static volatile int reopen_wanted;
static double window_start;
static uint64_t written[TCPA_ANOM_MAX];
static uint64_t suppressed[TCPA_ANOM_MAX];

int
tcpa_evlog_open(const char *p)
{
	snprintf(path, sizeof(path), "%s", p);
	out = fopen(path, "a");
	if (out == NULL) {
		int err = errno;

		fprintf(stderr, "tcpa: cannot open event log '%s': %s\n", path, strerror(err));
		return -err;
	}
	return 0;
}

void
tcpa_evlog_reopen(void)
{
	reopen_wanted = 1;
}

static void
name_of(const struct tcpa_event *ev, unsigned side, int server, char *buf, size_t len)
{
	struct tcpa_ep_key k;

	memset(&k, 0, sizeof(k));
	k.ip = ev->key.ip[side];
	k.port = ev->key.port[side];
	k.role = server ? TCPA_EP_SERVER : TCPA_EP_CLIENT;
	tcpa_report_ep_name(&k, buf, len);
}

static void
write_event(const struct tcpa_event *ev)
{
	unsigned cli = ev->cli & 1, srv = !cli, side = ev->side & 1;
	char c[80], s[80], e[80];
	json_t *o;
	char *line;

	name_of(ev, cli, 1, c, sizeof(c));
	name_of(ev, srv, 1, s, sizeof(s));
	name_of(ev, side, side == srv, e, sizeof(e));
	o = json_pack("{s:f,s:s,s:s,s:s,s:s,s:s}", "time", (double)ev->ts / 1e9,
		"anomaly", tcpa_anom_name(ev->anom), "endpoint", e,
		"role", side == srv ? "server" : "client", "client", c, "server", s);
	if (o == NULL)
		return;
	if (ev->key.vlan != 0)
		json_object_set_new(o, "vlan", json_integer(ev->key.vlan));
	if (ev->has_seg)
		json_object_set_new(o, "evidence", json_pack("{s:I,s:I,s:i,s:i,s:i}",
			"seq", (json_int_t)ev->seq, "ack", (json_int_t)ev->ack, "len", ev->len,
			"flags", ev->flags, "win", (int)ev->win));
	line = json_dumps(o, JSON_COMPACT);
	if (line != NULL) {
		fputs(line, out);
		fputc('\n', out);
		free(line);
	}
	json_decref(o);
}

static void
flush_window(double now_s)
{
	json_t *sup = json_object();
	int any = 0;

	for (unsigned a = 0; a < TCPA_ANOM_MAX; a++) {
		if (suppressed[a] != 0) {
			json_object_set_new(sup, tcpa_anom_name(a), json_integer((json_int_t)suppressed[a]));
			any = 1;
		}
		suppressed[a] = 0;
		written[a] = 0;
	}
	if (any) {
		json_t *o = json_pack("{s:f,s:o}", "time", now_s, "suppressed", sup);
		char *line = json_dumps(o, JSON_COMPACT);

		if (line != NULL) {
			fputs(line, out);
			fputc('\n', out);
			free(line);
		}
		json_decref(o);
	} else {
		json_decref(sup);
	}
	window_start = now_s;
}

void
tcpa_evlog_drain(void)
{
	struct tcpa_event ev[256];
	struct timespec ts;
	double now_s;

	if (out == NULL)
		return;
	/* Suppressed counts are per wall-clock second. */
	clock_gettime(CLOCK_REALTIME, &ts);
	now_s = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	if (window_start == 0)
		window_start = now_s;
	if (reopen_wanted) {
		FILE *f;

		reopen_wanted = 0;
		f = freopen(path, "a", out);
		if (f == NULL) {
			fprintf(stderr, "tcpa: cannot reopen event log '%s': %s\n", path,
				strerror(errno));
			out = NULL;
			return;
		}
		out = f;
	}
	if (now_s - window_start >= 1.0)
		flush_window(now_s);
	for (unsigned i = 0; i < tcpa_nworkers; i++) {
		unsigned n;

		while ((n = tcpa_engine_events_read(tcpa_workers[i].eng, ev, 256)) != 0) {
			for (unsigned j = 0; j < n; j++) {
				unsigned a = ev[j].anom;

				if (a >= TCPA_ANOM_MAX)
					continue;
				if (written[a] >= tcpa_conf_g.event_rate) {
					suppressed[a]++;
					continue;
				}
				written[a]++;
				write_event(&ev[j]);
			}
		}
	}
	fflush(out);
}

void
tcpa_evlog_close(void)
{
	if (out != NULL) {
		flush_window(window_start);
		fclose(out);
		out = NULL;
	}
}
