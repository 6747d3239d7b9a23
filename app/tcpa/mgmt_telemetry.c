/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The management commands as DPDK telemetry commands /tcpa/<name>, their
 * answers converted to telemetry's data model (see mgmt.h for the rules).
 * Telemetry calls tel_cb() from its own threads: handlers are called
 * through mgmt_cmd_run(), under the same lock as the socket's.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_telemetry.h>

#include <jansson.h>

#include "mgmt.h"
#include "mgmt_private.h"

#define MGMT_TEL_PREFIX "/tcpa/"

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
			*err = mgmt_error_text("parameters: invalid JSON object: %s", jerr.text);
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
				*err = mgmt_error_text("parameters: expected key=value, "
					"got '%.64s'", tok);
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

/*
 * The application the commands answer about. DPDK 22.11's telemetry
 * callbacks take no context argument: set once at registration, before
 * any callback can run.
 */
static struct tcpa_app *tel_app;

static int
tel_cb(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct mgmt_cmd *c = NULL;
	json_t *args = NULL, *out = NULL;
	int rc;

	if (strncmp(cmd, MGMT_TEL_PREFIX, strlen(MGMT_TEL_PREFIX)) == 0)
		c = mgmt_cmd_find(cmd + strlen(MGMT_TEL_PREFIX));
	if (c == NULL) {
		out = mgmt_error_text("unknown command %.64s", cmd);
		goto error;
	}
	args = tel_args(c->name, params, &out);
	if (args == NULL)
		goto error;
	if (strcmp(c->name, "config") == 0 && json_object_get(args, "set") != NULL) {
		out = mgmt_error_text("telemetry is read-only: change the configuration on the "
			"management socket (tcpactl config set KEY=VALUE)");
		goto error;
	}
	rc = mgmt_cmd_run(tel_app, c, args, &out);
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
tcpa_mgmt_register_telemetry(struct tcpa_app *app)
{
	const struct mgmt_cmd *c;
	char name[64];

	tel_app = app;
	for (size_t i = 0; (c = mgmt_cmd_at(i)) != NULL; i++) {
		int rc;

		snprintf(name, sizeof(name), MGMT_TEL_PREFIX "%s", c->name);
		rc = rte_telemetry_register_cmd(name, tel_cb, c->help);
		if (rc != 0)
			MGMT_LOG(WARNING, "telemetry command %s not registered: %s", name,
				strerror(-rc));
	}
}
