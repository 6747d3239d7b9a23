/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Management commands: the table of commands, the call of a handler, and
 * the answer to one request line of the socket (see mgmt.h for the
 * protocol).
 *
 * Invariants:
 *  - cmds[] is sorted by name (checked at open): mgmt_cmd_find() searches
 *    it with bsearch(), and help lists it in that order;
 *  - handlers run under ctl_lock, whether called from the socket server or
 *    from a telemetry thread;
 *  - the messages of mgmt_error_text() are printable ASCII: they may quote
 *    what a client sent.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include <jansson.h>

#include "ctl.h"
#include "mgmt_private.h"

static int cmd_help(struct tcpa_app *app, const json_t *args, json_t **out);

/* Sorted by name (checked at open): binary search, and help in this order. */
static const struct mgmt_cmd cmds[] = {
	{ "anomalies", tcpa_ctl_anomalies, NULL,
		"Anomaly counts, malformed-input reasons and capture-health counters" },
	{ "config", tcpa_ctl_config, NULL,
		"Every configuration key; with \"set\": {KEY: VALUE, ...} change live keys" },
	{ "endpoints", tcpa_ctl_endpoints, tcpa_ctl_endpoints_stream,
		"Endpoints, most severe first; filters: state, anomaly; top, offset" },
	{ "flows", tcpa_ctl_flows, tcpa_ctl_flows_stream,
		"Connections, longest idle first; filters: ip, port, src, dst, sport, dport, "
		"state, anomaly; top, offset, cursor" },
	{ "help", cmd_help, NULL, "This list: every command and what it answers" },
	{ "report", tcpa_ctl_report, tcpa_ctl_report_stream,
		"The whole report (as tcpa --json prints it); \"flows\": true adds every flow" },
	{ "stats", tcpa_ctl_stats, NULL, "Ports, RX cores, drops, mempool and flow table fill" },
	{ "version", tcpa_ctl_version, NULL, "tcpa and DPDK versions, uptime" },
};

static pthread_mutex_t ctl_lock = PTHREAD_MUTEX_INITIALIZER;

static int
cmd_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct mgmt_cmd *)elem)->name);
}

const struct mgmt_cmd *
mgmt_cmd_find(const char *name)
{
	return bsearch(name, cmds, RTE_DIM(cmds), sizeof(cmds[0]), cmd_cmp);
}

const struct mgmt_cmd *
mgmt_cmd_at(size_t i)
{
	return i < RTE_DIM(cmds) ? &cmds[i] : NULL;
}

int
mgmt_cmd_check(void)
{
	for (size_t i = 1; i < RTE_DIM(cmds); i++) {
		if (strcmp(cmds[i - 1].name, cmds[i].name) >= 0) {
			fprintf(stderr, "tcpa: mgmt_cmd.c: command table not sorted at '%s'\n",
				cmds[i].name);
			return -EINVAL;
		}
	}
	return 0;
}

static int
cmd_help(struct tcpa_app *app, const json_t *args, json_t **out)
{
	json_t *o = json_object();

	(void)app;
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

json_t *
mgmt_error_text(const char *fmt, ...)
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
int
mgmt_cmd_run(struct tcpa_app *app, const struct mgmt_cmd *c, const json_t *args, json_t **out)
{
	int rc;

	*out = NULL;
	pthread_mutex_lock(&ctl_lock);
	rc = c->fn(app, args, out);
	pthread_mutex_unlock(&ctl_lock);
	if (rc == 0 && *out == NULL)
		*out = json_null();
	if (rc != 0 && !json_is_string(*out)) {
		json_decref(*out);
		*out = mgmt_error_text("%s failed: %s", c->name, strerror(rc < 0 ? -rc : rc));
		if (rc > 0)
			rc = -rc;
	}
	return rc;
}

/* {"ok": false, "error": TEXT}; steals text. NULL only when out of memory. */
json_t *
mgmt_answer_error(json_t *text)
{
	if (text == NULL)
		text = json_string("invalid request");
	return json_pack("{s:b,s:o}", "ok", 0, "error", text);
}

void
mgmt_lock(void)
{
	pthread_mutex_lock(&ctl_lock);
}

void
mgmt_unlock(void)
{
	pthread_mutex_unlock(&ctl_lock);
}

/* The answer to one request line (without its newline). */
json_t *
mgmt_answer_line(struct tcpa_app *app, const char *line, size_t len)
{
	return mgmt_answer_start(app, line, len, NULL);
}

json_t *
mgmt_answer_start(struct tcpa_app *app, const char *line, size_t len,
		struct tcpa_ctl_stream **st)
{
	const struct mgmt_cmd *c;
	const json_t *name;
	json_error_t jerr;
	json_t *req, *data, *ans;
	int rc;

	req = json_loadb(line, len, JSON_DECODE_ANY, &jerr);
	if (req == NULL)
		return mgmt_answer_error(mgmt_error_text("invalid JSON: %s (line 1, column %d)",
			jerr.text, jerr.column));
	if (!json_is_object(req)) {
		json_decref(req);
		return mgmt_answer_error(mgmt_error_text("a request is a JSON object, e.g. "
			"{\"cmd\": \"help\"}"));
	}
	name = json_object_get(req, "cmd");
	if (!json_is_string(name)) {
		json_decref(req);
		return mgmt_answer_error(mgmt_error_text("a request needs \"cmd\": a command "
			"name (see help)"));
	}
	c = mgmt_cmd_find(json_string_value(name));
	if (c == NULL) {
		ans = mgmt_answer_error(mgmt_error_text("unknown command '%.64s' (see help)",
			json_string_value(name)));
		json_decref(req);
		return ans;
	}
	if (st != NULL && c->stream != NULL) {
		*st = NULL;
		pthread_mutex_lock(&ctl_lock);
		rc = c->stream(app, req, st, &data);
		pthread_mutex_unlock(&ctl_lock);
		json_decref(req);
		return rc != 0 ? mgmt_answer_error(data) : NULL;
	}
	rc = mgmt_cmd_run(app, c, req, &data);
	json_decref(req);
	if (rc != 0)
		return mgmt_answer_error(data);
	return json_pack("{s:b,s:o}", "ok", 1, "data", data);
}
