/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The request from the command line: {"cmd": COMMAND, KEY: VALUE, ...}.
 */
#include <errno.h>
#include <math.h>       /* isfinite(): a macro, no libm */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tcpactl.h"

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
			tcpactl_warn("expected KEY=VALUE, got '%s' (see tcpactl --help)", w[i]);
			return -1;
		}
		snprintf(key, sizeof(key), "%.*s", (int)(eq - w[i]), w[i]);
		if (strcmp(key, "cmd") == 0) {
			tcpactl_warn("'cmd' is not an argument");
			return -1;
		}
		if (json_object_set_new(obj, key, parse_value(eq + 1)) != 0) {
			tcpactl_warn("'%s': keys and values must be UTF-8 text", w[i]);
			return -1;
		}
	}
	return 0;
}

/*
 * {"cmd": COMMAND, ...} from the words. config: "get [KEY...]" (the keys are
 * kept in *only, filtered here), "set KEY=VALUE...". NULL after a message.
 */
json_t *
request_build(char **w, int n, json_t **only)
{
	json_t *req = json_pack("{s:s}", "cmd", w[0]);

	*only = NULL;
	if (req == NULL)
		return NULL;
	if (strcmp(w[0], "config") == 0 && n > 1 && strcmp(w[1], "set") == 0) {
		json_t *set;

		if (n == 2) {
			tcpactl_warn("config set: give KEY=VALUE... "
				"(tcpactl config lists the keys)");
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
