/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Event log writer. The RX cores queue occurrences in per-core lock-free
 * queues (tcpa_engine_events_read); this drains them every control-loop
 * turn, formats each as one JSON line and appends it. Live, at most
 * event_rate lines per second per anomaly are written; the rest are
 * counted and a {"suppressed": {...}} line says how many, once per second
 * of the events' own clock (packet time). Capture analysis writes every
 * event.
 *
 * A file that cannot be (re)opened is retried at the next SIGHUP and every
 * 10 s; what could not be written meanwhile is counted (events_lost).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "evlog.h"
#include "tcpa_app.h"
#include "tcpa_report.h"
#include "tcpa_tcp.h"

#define RETRY_NS (10 * TCPA_NS_PER_S)

/* The log's state; the control core only. */
static FILE *out;
static char path[TCPA_CONF_STR_MAX];
static int want_open;           /* the file is to be (re)opened */
static int limited;             /* rate-limit (live) */
static uint64_t next_try_ns;    /* monotonic time of the next reopen try */
static uint64_t window_ns;      /* start of the current rate window, event time */
static uint64_t written[TCPA_ANOM_MAX];
static uint64_t suppressed[TCPA_ANOM_MAX];
static uint64_t lost;

/*
 * (Re)open the log at path. The old stream is closed either way: after a
 * rotation it names the moved file, and what fails to open is counted as
 * lost, not written there. (Not freopen(): when it fails, glibc keeps the
 * FILE allocated and the caller can no longer free it.)
 */
static int
open_log(void)
{
	FILE *f = fopen(path, "a");

	if (out != NULL)
		fclose(out);
	out = f;
	if (f == NULL) {
		fprintf(stderr, "tcpa: cannot open event log '%s': %s; events are counted as "
			"events_lost until it opens (next SIGHUP, or in 10 s)\n", path,
			strerror(errno));
		next_try_ns = tcpa_mono_ns() + RETRY_NS;
		return -1;
	}
	want_open = 0;
	return 0;
}

int
tcpa_evlog_open(const char *p, int rate_limited)
{
	snprintf(path, sizeof(path), "%s", p);
	limited = rate_limited;
	return open_log() == 0 ? 0 : -EIO;
}

void
tcpa_evlog_reopen(void)
{
	if (path[0] != '\0') {
		want_open = 1;
		next_try_ns = 0;
	}
}

uint64_t
tcpa_evlog_lost(void)
{
	return lost;
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
write_line(json_t *o)
{
	char *line = json_dumps(o, JSON_COMPACT);

	if (line == NULL || out == NULL || fputs(line, out) == EOF || fputc('\n', out) == EOF)
		lost++;
	free(line);
}

static void
write_event(const struct tcpa_event *ev)
{
	unsigned cli = ev->cli & 1, srv = !cli, side = ev->side & 1;
	char c[80], s[80], e[80];
	json_t *o;

	name_of(ev, cli, 1, c, sizeof(c));
	name_of(ev, srv, 1, s, sizeof(s));
	name_of(ev, side, side == srv, e, sizeof(e));
	o = json_pack("{s:f,s:s,s:s,s:s,s:s,s:s}", "time", (double)ev->ts / 1e9,
		"anomaly", tcpa_anom_name(ev->anom), "endpoint", e,
		"role", side == srv ? "server" : "client", "client", c, "server", s);
	if (o == NULL)
		return;
	tcpa_report_zone(o, ev->key.zone);
	if (ev->has_seg)
		json_object_set_new(o, "evidence", json_pack("{s:I,s:I,s:I,s:i,s:i}",
			"seq", (json_int_t)ev->seq, "ack", (json_int_t)ev->ack, "len", (json_int_t)ev->len,
			"flags", ev->flags, "win", (int)ev->win));
	write_line(o);
	json_decref(o);
}

/* The rate window ends: one line of what it suppressed, dated at its end. */
static void
flush_window(uint64_t now_ns)
{
	json_t *sup = json_object();
	int any = 0;

	for (unsigned a = 0; a < TCPA_ANOM_MAX; a++) {
		if (suppressed[a] != 0) {
			json_object_set_new(sup, tcpa_anom_name(a),
				json_integer((json_int_t)suppressed[a]));
			any = 1;
		}
		suppressed[a] = 0;
		written[a] = 0;
	}
	if (any) {
		json_t *o = json_pack("{s:f,s:o}", "time", (double)now_ns / 1e9, "suppressed", sup);

		write_line(o);
		json_decref(o);
	} else {
		json_decref(sup);
	}
	window_ns = now_ns;
}

static void
take(const struct tcpa_app *app, const struct tcpa_event *ev)
{
	unsigned a = ev->anom;

	if (a >= TCPA_ANOM_MAX)
		return;
	if (out == NULL) {
		lost++;
		return;
	}
	if (limited) {
		if (window_ns == 0)
			window_ns = ev->ts;
		if (ev->ts >= window_ns + TCPA_NS_PER_S)
			flush_window(ev->ts);
		if (written[a] >= app->conf.event_rate) {
			suppressed[a]++;
			return;
		}
		written[a]++;
	}
	write_event(ev);
}

void
tcpa_evlog_drain(struct tcpa_app *app)
{
	struct tcpa_event ev[256];

	if (path[0] == '\0')
		return;
	if (want_open && tcpa_mono_ns() >= next_try_ns)
		open_log();
	for (unsigned i = 0; i < app->nworkers; i++) {
		unsigned n;

		while ((n = tcpa_engine_events_read(app->workers[i].eng, ev, 256)) != 0)
			for (unsigned j = 0; j < n; j++)
				take(app, &ev[j]);
	}
	if (out != NULL && fflush(out) == EOF) {
		/* A full disk or a vanished device: reopen and count what is lost. */
		lost++;
		want_open = 1;
		next_try_ns = tcpa_mono_ns() + RETRY_NS;
	}
}

void
tcpa_evlog_close(void)
{
	if (out != NULL) {
		if (limited && window_ns != 0)
			flush_window(window_ns + TCPA_NS_PER_S);
		fclose(out);
		out = NULL;
	}
	path[0] = '\0';
}
