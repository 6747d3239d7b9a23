/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for the management request path as the socket and DPDK
 * telemetry see it: request lines through mgmt_answer_line() (the command
 * table, ctl.c's handlers, config set and tcpa_app_apply_conf) and
 * telemetry requests through the bridge's callback (mgmt_telemetry.c, see
 * fuzz_mgmt_tel.c), answering about a capture analysis that holds real
 * connections: two RX cores' engines fed at start from captures compiled
 * in (embed_captures.py). No EAL: capture analysis needs none.
 *
 * Input: lines (split on '\n'; a CR before it is dropped, blank lines are
 * skipped, as the socket does). A line starting with '/' is a telemetry
 * request "/tcpa/NAME[,PARAMS]" (no comma: no parameters); any other line
 * is a request line of the socket. At most FM_MAX_LINES lines are used.
 *
 * Every answer of the socket must be {"ok": true, "data": ...} or
 * {"ok": false, "error": STRING}, serialisable as one line. Each request
 * is answered twice: whole (mgmt_answer_line) and as the socket does it,
 * where report, flows and endpoints stream their line part by part in
 * small steps; the streamed line must be one JSON object and one newline,
 * with "total" and "shown" for listings.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz_mgmt.h"
#include "ctl.h"
#include "fuzz_mgmt_captures.h"
#include "mgmt_private.h"
#include "tcpa_app.h"
#include "tcpa_cap.h"
#include "tcpa_engine.h"
#include "tcpa_pkt.h"

#define FM_WORKERS 2
#define FM_MAX_LINES 16
#define FM_MAX_LINE 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tcpa_app *app;
/* The configuration every input starts from: config set changes app->conf. */
static struct tcpa_conf conf0;

/* Segments waiting for their engine's next burst, as a worker keeps them. */
struct burst {
	struct tcpa_pkt pk[TCPA_BURST];
	uint16_t n;
};

static void
burst_flush(struct worker *w, struct burst *b)
{
	if (b->n != 0)
		tcpa_engine_input_burst(w->eng, b->pk, b->n);
	b->n = 0;
	tcpa_engine_age(w->eng, 0);
}

/* One frame, parsed and given to the engine that owns its connection. */
static void
feed_frame(const struct tcpa_cap_frame *fr, struct burst *b)
{
	struct tcpa_pkt p;
	unsigned owner;

	memset(&p, 0, sizeof(p));
	if (tcpa_pkt_parse_link(fr->linktype, fr->data, fr->caplen, fr->wirelen, &p) !=
			TCPA_PKT_OK)
		return;
	p.ts = fr->ts_ns;
	tcpa_engine_hash(&p, &app->secret);
	owner = tcpa_flow_owner(p.hash, app->nworkers);
	b[owner].pk[b[owner].n++] = p;
	if (b[owner].n == TCPA_BURST)
		burst_flush(&app->workers[owner], &b[owner]);
}

static void
feed_capture(const uint8_t *d, size_t len, struct burst *b)
{
	static struct tcpa_cap cap;
	struct tcpa_cap_frame fr;
	size_t off;
	int rc;

	memset(&cap, 0, sizeof(cap));
	rc = tcpa_cap_open(&cap, d, len);
	if (rc <= 0)
		abort();
	memset(&fr, 0, sizeof(fr));
	for (off = (size_t)rc; off < len; off += (size_t)rc) {
		rc = tcpa_cap_next(&cap, d + off, len - off, &fr);
		if (rc <= 0)
			abort();
		if (fr.data != NULL)
			feed_frame(&fr, b);
	}
}

/*
 * The application of a capture analysis after its end (offline.c without
 * threads): small tables, two RX cores, every embedded capture analyzed
 * and the counters published.
 */
static void
app_init(void)
{
	struct burst b[FM_WORKERS];
	struct tcpa_engine_conf ec;
	size_t msz;

	app = calloc(1, sizeof(*app));
	if (app == NULL)
		abort();
	app->offline = true;
	app->complete = true;
	app->start_mono_ns = tcpa_mono_ns();
	tcpa_conf_defaults(&app->conf);
	app->conf.flows_per_core = 1024;
	app->conf.endpoints_per_core = 256;
	app->conf.hash_seed = 7;
	if (tcpa_hash_secret_init(&app->secret, app->conf.hash_seed) != 0)
		abort();
	app->nworkers = FM_WORKERS;
	app->workers = aligned_alloc(TCPA_CACHE_LINE, FM_WORKERS * sizeof(*app->workers));
	if (app->workers == NULL)
		abort();
	memset(app->workers, 0, FM_WORKERS * sizeof(*app->workers));
	tcpa_app_engine_conf(app, &ec);
	ec.zeroed = 1;
	msz = (tcpa_engine_memsize(&ec) + 63) & ~(size_t)63;
	for (unsigned i = 0; i < FM_WORKERS; i++) {
		void *mem = aligned_alloc(TCPA_CACHE_LINE, msz);

		if (mem == NULL)
			abort();
		memset(mem, 0, msz);
		tcpa_worker_init(&app->workers[i], app, i, tcpa_engine_init(mem, &ec));
		if (app->workers[i].eng == NULL)
			abort();
		app->workers[i].offline = true;
		b[i].n = 0;
	}
	for (unsigned c = 0; c < FUZZ_NB_CAPTURES; c++)
		feed_capture(fuzz_captures[c].data, fuzz_captures[c].len, b);
	for (unsigned i = 0; i < FM_WORKERS; i++) {
		burst_flush(&app->workers[i], &b[i]);
		tcpa_engine_finish(app->workers[i].eng);
		tcpa_worker_publish(&app->workers[i]);
	}
	conf0 = app->conf;
}

/* The answer's shape (mgmt.h), and that it serialises as the socket sends it. */
static void
check_answer(json_t *ans)
{
	const json_t *ok;
	char *s;

	if (ans == NULL || !json_is_object(ans))
		abort();
	ok = json_object_get(ans, "ok");
	if (!json_is_boolean(ok) || json_object_size(ans) != 2)
		abort();
	if (json_is_true(ok) && json_object_get(ans, "data") == NULL)
		abort();
	if (json_is_false(ok) && !json_is_string(json_object_get(ans, "error")))
		abort();
	s = json_dumps(ans, JSON_COMPACT);
	if (s == NULL || strchr(s, '\n') != NULL)
		abort();
	free(s);
}

/* A streamed answer line, gathered as the socket's client reads it. */
struct gather {
	char *buf;
	size_t len, cap;
};

static int
gather_emit(void *arg, const char *b, size_t n)
{
	struct gather *g = arg;

	if (g->len + n > g->cap) {
		g->cap = (g->len + n) * 2;
		g->buf = realloc(g->buf, g->cap);
		if (g->buf == NULL)
			abort();
	}
	memcpy(g->buf + g->len, b, n);
	g->len += n;
	return 0;
}

/* The request as the socket answers it: streams stepped in small parts. */
static void
streamed(const char *line, size_t len)
{
	struct tcpa_ctl_stream *st = NULL;
	struct gather g = { NULL, 0, 0 };
	json_t *ans, *a;
	int rc;

	ans = mgmt_answer_start(app, line, len, &st);
	if (ans != NULL) {
		check_answer(ans);
		json_decref(ans);
		return;
	}
	if (st == NULL)
		abort();
	/* Small rooms: many steps, each boundary a chance to break the line. */
	while ((rc = tcpa_ctl_stream_step(st, gather_emit, &g, 1 + g.len % 977)) == 0)
		;
	tcpa_ctl_stream_free(st);
	if (rc != 1 || g.len == 0 || g.buf[g.len - 1] != '\n' ||
			memchr(g.buf, '\n', g.len - 1) != NULL)
		abort();
	a = json_loadb(g.buf, g.len - 1, 0, NULL);
	if (!json_is_object(a) || !json_is_true(json_object_get(a, "ok")) ||
			json_object_get(a, "data") == NULL)
		abort();
	if (json_is_array(json_object_get(a, "data")) &&
			(!json_is_integer(json_object_get(a, "total")) ||
			json_integer_value(json_object_get(a, "shown")) !=
			(json_int_t)json_array_size(json_object_get(a, "data"))))
		abort();
	json_decref(a);
	free(g.buf);
}

/* A telemetry request: "/tcpa/NAME,PARAMS" or "/tcpa/NAME". */
static void
telemetry(char *line)
{
	char *comma = strchr(line, ',');

	if (comma != NULL)
		*comma = '\0';
	fuzz_tel_call(app, line, comma != NULL ? comma + 1 : NULL);
}

static void
request(char *line, size_t len)
{
	json_t *ans;

	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	if (strspn(line, " \t\r") == len)
		return;         /* a blank line is no request */
	if (line[0] == '/') {
		telemetry(line);
		return;
	}
	ans = mgmt_answer_line(app, line, len);
	check_answer(ans);
	json_decref(ans);
	streamed(line, len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[FM_MAX_LINE + 1];
	size_t off = 0;
	unsigned n = 0;

	if (app == NULL)
		app_init();
	app->conf = conf0;
	tcpa_app_apply_conf(app);
	while (off < size && n++ < FM_MAX_LINES) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t len = (nl != NULL ? (size_t)(nl - data) : size) - off;

		/* A line is a C string for telemetry: a NUL ends it early. */
		if (len > FM_MAX_LINE)
			len = FM_MAX_LINE;
		memcpy(line, data + off, len);
		line[len] = '\0';
		off = nl != NULL ? (size_t)(nl - data) + 1 : size;
		request(line, line[0] == '/' ? strlen(line) : len);
	}
	return 0;
}
