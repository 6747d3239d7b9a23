/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for the configuration loader, through the three ways keys
 * reach it: a file (tcpa_conf_load_file, --config), command-line keys
 * (tcpa_conf_set, --key value) and a JSON object (tcpa_conf_apply_json,
 * the socket's config set with live_only). It checks the promises of
 * tcpa_conf.h and aborts when one breaks (see the check_* functions).
 *
 * Input: one flags byte, then sections separated by NUL bytes:
 *   flags  bit 0: the JSON object is applied with live_only 1 (else 0);
 *          bit 1: the keys are set again after it with live_only 1
 *   [0]    the file's text (empty: no file, as --config '')
 *   [1]    the JSON object's text (empty: none)
 *   [2...] one key each: "--name=value", "name=value" or "name" (no value)
 */
#define _GNU_SOURCE     /* memfd_create */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>

#include "tcpa_conf.h"

#define FC_MAX_KEYS 32
#define FC_ERR 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The file every load reads: a memfd, named through /proc. */
static int file_fd = -1;
static char file_path[64];

static void
file_init(void)
{
	if (file_fd >= 0)
		return;
	file_fd = memfd_create("fuzz_conf.json", 0);
	if (file_fd < 0)
		abort();
	snprintf(file_path, sizeof(file_path), "/proc/self/fd/%d", file_fd);
}

static void
file_set(const char *text, size_t len)
{
	if (ftruncate(file_fd, 0) != 0 || pwrite(file_fd, text, len, 0) != (ssize_t)len)
		abort();
}

/* A failure names what went wrong; a success leaves no message. */
static void
check_err(int rc, const char *err)
{
	if (memchr(err, '\0', FC_ERR) == NULL)
		abort();
	if ((rc != 0) != (err[0] != '\0'))
		abort();
	if (rc != 0 && rc != -ENOENT && rc != -EINVAL && rc != -EPERM && rc != -EIO)
		abort();
}

/* All or nothing: a refused change leaves the configuration as it was. */
static void
check_unchanged(int rc, const struct tcpa_conf *before, const struct tcpa_conf *after)
{
	if (rc != 0 && memcmp(before, after, sizeof(*before)) != 0)
		abort();
}

/* live_only: only live keys may differ after a change. */
static void
check_live_only(const struct tcpa_conf *a, const struct tcpa_conf *b)
{
#define X(name, def, min, max, live, help) \
	if (!(live) && a->name != b->name) \
		abort();
	TCPA_CONF_NUM(X)
#undef X
#define X(name, def, help) \
	if (memcmp(a->name, b->name, TCPA_CONF_STR_MAX) != 0) \
		abort();
	TCPA_CONF_STR(X)
#undef X
}

/*
 * What passes tcpa_conf_check() survives tcpa_conf_dump(): the dump, as an
 * object and as the text of a file, loads back to the same configuration.
 */
static void
check_round_trip(const struct tcpa_conf *c)
{
	struct tcpa_conf back;
	char err[FC_ERR];
	json_t *d;
	char *text;

	if (tcpa_conf_check(c, err, sizeof(err)) != 0)
		return;
	d = tcpa_conf_dump(c);
	if (d == NULL)
		abort();
	tcpa_conf_defaults(&back);
	if (tcpa_conf_apply_json(&back, d, 0, err, sizeof(err)) != 0 ||
	    memcmp(&back, c, sizeof(back)) != 0)
		abort();
	text = json_dumps(d, JSON_INDENT(4));
	json_decref(d);
	if (text == NULL)
		abort();
	file_set(text, strlen(text));
	free(text);
	tcpa_conf_defaults(&back);
	if (tcpa_conf_load_file(&back, file_path, err, sizeof(err)) != 0 ||
	    memcmp(&back, c, sizeof(back)) != 0)
		abort();
}

/* The file section, as --config FILE reads it. */
static void
load_file(struct tcpa_conf *c, const char *text, size_t len)
{
	struct tcpa_conf before = *c;
	char err[FC_ERR];
	int rc;

	if (len == 0)
		return;
	file_set(text, len);
	rc = tcpa_conf_load_file(c, file_path, err, sizeof(err));
	check_err(rc, err);
	check_unchanged(rc, &before, c);
	if (rc == 0 && tcpa_conf_check(c, err, sizeof(err)) != 0)
		abort();
}

/* The object section, as the socket's {"cmd": "config", "set": {...}} gives it. */
static void
apply_json(struct tcpa_conf *c, const char *text, size_t len, int live_only)
{
	struct tcpa_conf before = *c;
	char err[FC_ERR];
	json_error_t jerr;
	json_t *o;
	int rc;

	if (len == 0)
		return;
	o = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
	if (o == NULL)
		return;
	rc = tcpa_conf_apply_json(c, o, live_only, err, sizeof(err));
	json_decref(o);
	check_err(rc, err);
	check_unchanged(rc, &before, c);
	if (rc == 0 && tcpa_conf_check(c, err, sizeof(err)) != 0)
		abort();
	if (live_only)
		check_live_only(&before, c);
}

/* One key section, as main.c's option parser hands it over. */
static void
set_key(struct tcpa_conf *c, char *arg, int live_only)
{
	struct tcpa_conf before = *c;
	char err[FC_ERR];
	char *key = arg, *eq;
	int rc;

	if (strncmp(key, "--", 2) == 0)
		key += 2;
	eq = strchr(key, '=');
	if (eq != NULL)
		*eq = '\0';
	rc = tcpa_conf_set(c, key, eq != NULL ? eq + 1 : NULL, live_only, err, sizeof(err));
	check_err(rc, err);
	check_unchanged(rc, &before, c);
	if ((rc == -ENOENT) != !tcpa_conf_is_key(key))
		abort();
	/* Put the '=' back: the keys are set again with live_only. */
	if (eq != NULL)
		*eq = '=';
	if (live_only)
		check_live_only(&before, c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *sec[FC_MAX_KEYS + 2];
	size_t len[FC_MAX_KEYS + 2];
	struct tcpa_conf c;
	unsigned n = 0;
	char *buf, *p, *end;
	uint8_t flags;

	if (size < 1 || size > (1U << 16))
		return 0;
	file_init();
	flags = data[0];
	/* Sections as C strings: a copy with a NUL after the last one. */
	buf = malloc(size);
	if (buf == NULL)
		return 0;
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	for (p = buf, end = buf + size - 1; n < FC_MAX_KEYS + 2; n++) {
		char *nul = memchr(p, '\0', (size_t)(end - p) + 1);

		sec[n] = p;
		len[n] = (size_t)(nul - p);
		if (nul == end) {
			n++;
			break;
		}
		p = nul + 1;
	}
	tcpa_conf_defaults(&c);
	load_file(&c, sec[0], len[0]);
	for (unsigned i = 2; i < n; i++)
		set_key(&c, sec[i], 0);
	check_round_trip(&c);
	if (n > 1)
		apply_json(&c, sec[1], len[1], flags & 1);
	check_round_trip(&c);
	for (unsigned i = 2; (flags & 2) && i < n; i++)
		set_key(&c, sec[i], 1);
	check_round_trip(&c);
	free(buf);
	return 0;
}
