/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Configuration keys: defaults, text and JSON parsing, cross-key checks,
 * dump and help. Every key comes from the X-macro lists in tcpa_conf.h, so
 * the struct, the parser, the JSON names and the help cannot drift apart.
 *
 * Control path only: nothing here runs per packet.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <jansson.h>

#include "tcpa_conf.h"
#include "tcpa_pkt.h"

/* Longest key or value echoed back in an error message. */
#define CONF_ECHO_MAX 64

/* Room for a Unix socket path including its NUL. */
#define CONF_SUN_PATH_MAX (sizeof(((struct sockaddr_un *)NULL)->sun_path))

struct conf_num {
	const char *name;
	size_t off;             /* offsetof(struct tcpa_conf, name) */
	uint64_t def;
	uint64_t min;
	uint64_t max;
	int live;               /* may be changed at run time */
	const char *help;
};

struct conf_str {
	const char *name;
	size_t off;             /* offsetof(struct tcpa_conf, name) */
	const char *def;
	const char *help;
};

static const struct conf_num conf_nums[] = {
#define X(name, def, min, max, live, help) \
	{ #name, offsetof(struct tcpa_conf, name), (uint64_t)(def), (uint64_t)(min), \
	  (uint64_t)(max), (live), (help) },
	TCPA_CONF_NUM(X)
#undef X
};

static const struct conf_str conf_strs[] = {
#define X(name, def, help) { #name, offsetof(struct tcpa_conf, name), (def), (help) },
	TCPA_CONF_STR(X)
#undef X
};

#define CONF_NB_NUM (sizeof(conf_nums) / sizeof(conf_nums[0]))
#define CONF_NB_STR (sizeof(conf_strs) / sizeof(conf_strs[0]))

/* tcpa_conf_apply_json() marks the keys it has seen in one uint64_t. */
_Static_assert(CONF_NB_NUM + CONF_NB_STR <= 64, "more than 64 config keys");

static void __attribute__((format(printf, 3, 4)))
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void
clear_err(char *err, size_t errlen)
{
	if (err != NULL && errlen != 0)
		err[0] = '\0';
}

static uint64_t *
num_ptr(struct tcpa_conf *c, const struct conf_num *k)
{
	return (uint64_t *)((char *)c + k->off);
}

static uint64_t
num_get(const struct tcpa_conf *c, const struct conf_num *k)
{
	return *(const uint64_t *)((const char *)c + k->off);
}

static char *
str_ptr(struct tcpa_conf *c, const struct conf_str *k)
{
	return (char *)c + k->off;
}

static const char *
str_get(const struct tcpa_conf *c, const struct conf_str *k)
{
	return (const char *)c + k->off;
}

/* Compare a key as given (with '-' or '_') with a canonical name. */
static int
key_eq(const char *given, const char *name)
{
	for (; *given != '\0' && *name != '\0'; given++, name++) {
		char g = *given == '-' ? '_' : *given;

		if (g != *name)
			return 0;
	}
	return *given == '\0' && *name == '\0';
}

static const struct conf_num *
find_num(const char *key)
{
	size_t i;

	for (i = 0; i < CONF_NB_NUM; i++)
		if (key_eq(key, conf_nums[i].name))
			return &conf_nums[i];
	return NULL;
}

static const struct conf_str *
find_str(const char *key)
{
	size_t i;

	for (i = 0; i < CONF_NB_STR; i++)
		if (key_eq(key, conf_strs[i].name))
			return &conf_strs[i];
	return NULL;
}

static int
hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * Parse an unsigned integer: decimal digits, or 0x/0X and hex digits.
 * No sign, no white space, no suffix; leading zeros are decimal, not octal.
 * Returns 0, or -1 on junk or overflow.
 */
static int
parse_u64(const char *s, uint64_t *out)
{
	unsigned int base = 10;
	uint64_t v = 0;
	int d;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		d = hex_digit(*s);
		if (d < 0 || (unsigned int)d >= base)
			return -1;
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			return -1;
		v = v * base + (uint64_t)d;
	}
	*out = v;
	return 0;
}

static int
refuse_not_live(const char *name, char *err, size_t errlen)
{
	set_err(err, errlen,
		"config key '%s' can only be set at start (config file or command line), "
		"not at run time", name);
	return -EPERM;
}

static int
num_set_text(struct tcpa_conf *c, const struct conf_num *k, const char *value,
		char *err, size_t errlen)
{
	uint64_t v;

	if (parse_u64(value, &v) != 0 || v < k->min || v > k->max) {
		set_err(err, errlen,
			"config key '%s': expected an integer in [%" PRIu64 ", %" PRIu64
			"], got \"%.*s\"%s",
			k->name, k->min, k->max, CONF_ECHO_MAX, value,
			strlen(value) > CONF_ECHO_MAX ? "..." : "");
		return -EINVAL;
	}
	*num_ptr(c, k) = v;
	return 0;
}

static int
str_set(struct tcpa_conf *c, const struct conf_str *k, const char *value, size_t len,
		char *err, size_t errlen)
{
	char *dst = str_ptr(c, k);
	json_t *probe;

	if (len >= TCPA_CONF_STR_MAX) {
		set_err(err, errlen,
			"config key '%s': expected a string shorter than %d bytes, got %zu bytes",
			k->name, TCPA_CONF_STR_MAX, len);
		return -EINVAL;
	}
	if (memchr(value, '\0', len) != NULL) {
		set_err(err, errlen, "config key '%s': the string contains a NUL byte",
			k->name);
		return -EINVAL;
	}
	/* Every value must survive tcpa_conf_dump(): jansson wants UTF-8. */
	probe = json_stringn(value, len);
	if (probe == NULL) {
		set_err(err, errlen, "config key '%s': the string is not valid UTF-8",
			k->name);
		return -EINVAL;
	}
	json_decref(probe);
	memset(dst, 0, TCPA_CONF_STR_MAX);
	memcpy(dst, value, len);
	return 0;
}

void
tcpa_conf_defaults(struct tcpa_conf *c)
{
	size_t i;

	/* Zero first so that padding and string tails compare equal. */
	memset(c, 0, sizeof(*c));
	for (i = 0; i < CONF_NB_NUM; i++)
		*num_ptr(c, &conf_nums[i]) = conf_nums[i].def;
	for (i = 0; i < CONF_NB_STR; i++)
		snprintf(str_ptr(c, &conf_strs[i]), TCPA_CONF_STR_MAX, "%s", conf_strs[i].def);
}

int
tcpa_conf_is_key(const char *key)
{
	if (key == NULL)
		return 0;
	return find_num(key) != NULL || find_str(key) != NULL;
}

int
tcpa_conf_set(struct tcpa_conf *c, const char *key, const char *value, int live_only,
		char *err, size_t errlen)
{
	const struct conf_num *kn;
	const struct conf_str *ks;
	int ret;

	clear_err(err, errlen);
	if (c == NULL || key == NULL) {
		set_err(err, errlen, "config: no configuration or key given");
		return -EINVAL;
	}
	kn = find_num(key);
	ks = kn == NULL ? find_str(key) : NULL;
	if (kn == NULL && ks == NULL) {
		set_err(err, errlen, "unknown config key '%.*s'%s (see tcpa --help)",
			CONF_ECHO_MAX, key, strlen(key) > CONF_ECHO_MAX ? "..." : "");
		return -ENOENT;
	}
	if (live_only && (ks != NULL || !kn->live))
		return refuse_not_live(kn != NULL ? kn->name : ks->name, err, errlen);
	if (value == NULL) {
		set_err(err, errlen, "config key '%s': a value is required",
			kn != NULL ? kn->name : ks->name);
		return -EINVAL;
	}
	if (kn != NULL)
		ret = num_set_text(c, kn, value, err, errlen);
	else
		ret = str_set(c, ks, value, strlen(value), err, errlen);
	return ret;
}

static const char *
json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_NULL:
		return "null";
	}
	return "an unknown JSON value";
}

static int
num_set_json(struct tcpa_conf *c, const struct conf_num *k, const json_t *v,
		char *err, size_t errlen)
{
	json_int_t i;

	/*
	 * A JSON integer holds at most INT64_MAX (json_int_t), so keys whose
	 * range goes beyond it (hash_seed) also take a string holding the
	 * number, as tcpa_conf_dump() writes it.
	 */
	if (json_is_string(v) && k->max > (uint64_t)INT64_MAX)
		return num_set_text(c, k, json_string_value(v), err, errlen);
	if (!json_is_integer(v)) {
		set_err(err, errlen,
			"config key '%s': expected an integer in [%" PRIu64 ", %" PRIu64
			"], got %s",
			k->name, k->min, k->max, json_kind(v));
		return -EINVAL;
	}
	i = json_integer_value(v);
	if (i < 0 || (uint64_t)i < k->min || (uint64_t)i > k->max) {
		set_err(err, errlen,
			"config key '%s': expected an integer in [%" PRIu64 ", %" PRIu64
			"], got %" JSON_INTEGER_FORMAT,
			k->name, k->min, k->max, i);
		return -EINVAL;
	}
	*num_ptr(c, k) = (uint64_t)i;
	return 0;
}

int
tcpa_conf_apply_json(struct tcpa_conf *c, const struct json_t *obj, int live_only,
		char *err, size_t errlen)
{
	struct tcpa_conf tmp;
	uint64_t seen = 0;
	const char *key;
	json_t *val;
	int ret;

	clear_err(err, errlen);
	if (c == NULL || obj == NULL || !json_is_object(obj)) {
		set_err(err, errlen, "config: expected a JSON object of keys, got %s",
			obj == NULL ? "nothing" : json_kind(obj));
		return -EINVAL;
	}
	tmp = *c;
	/* json_object_foreach() wants a non-const object; it does not modify it. */
	json_object_foreach((json_t *)(uintptr_t)obj, key, val) {
		const struct conf_num *kn;
		const struct conf_str *ks;
		uint64_t bit;

		/* "_comment" and any other "_..." key are notes for humans. */
		if (key[0] == '_')
			continue;
		kn = find_num(key);
		ks = kn == NULL ? find_str(key) : NULL;
		if (kn == NULL && ks == NULL) {
			set_err(err, errlen, "unknown config key '%.*s'%s (see tcpa --help)",
				CONF_ECHO_MAX, key, strlen(key) > CONF_ECHO_MAX ? "..." : "");
			return -ENOENT;
		}
		/* "a-b" and "a_b" are one key: refuse it twice, as duplicates. */
		bit = UINT64_C(1) << (kn != NULL ? (size_t)(kn - conf_nums) :
			CONF_NB_NUM + (size_t)(ks - conf_strs));
		if ((seen & bit) != 0) {
			set_err(err, errlen, "config key '%s' is given twice",
				kn != NULL ? kn->name : ks->name);
			return -EINVAL;
		}
		seen |= bit;
		if (live_only && (ks != NULL || !kn->live))
			return refuse_not_live(kn != NULL ? kn->name : ks->name, err, errlen);
		if (kn != NULL) {
			ret = num_set_json(&tmp, kn, val, err, errlen);
		} else if (!json_is_string(val)) {
			set_err(err, errlen, "config key '%s': expected a string, got %s",
				ks->name, json_kind(val));
			ret = -EINVAL;
		} else {
			ret = str_set(&tmp, ks, json_string_value(val), json_string_length(val),
				err, errlen);
		}
		if (ret != 0)
			return ret;
	}
	ret = tcpa_conf_check(&tmp, err, errlen);
	if (ret != 0)
		return ret;
	*c = tmp;
	return 0;
}

int
tcpa_conf_load_file(struct tcpa_conf *c, const char *path, char *err, size_t errlen)
{
	char sub[512];
	json_error_t jerr;
	struct stat st;
	json_t *root;
	FILE *f;
	int ret;

	clear_err(err, errlen);
	if (c == NULL || path == NULL) {
		set_err(err, errlen, "config: no configuration or file name given");
		return -EINVAL;
	}
	f = fopen(path, "r");
	if (f == NULL) {
		ret = errno;
		set_err(err, errlen, "config file '%s': cannot open: %s", path, strerror(ret));
		return ret == ENOENT ? -ENOENT : -EIO;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		set_err(err, errlen, "config file '%s': is a directory", path);
		fclose(f);
		return -EIO;
	}
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		ret = ferror(f) ? -EIO : -EINVAL;
		if (ret == -EIO)
			set_err(err, errlen, "config file '%s': read error", path);
		else
			set_err(err, errlen, "config file '%s', line %d, column %d: %s",
				path, jerr.line, jerr.column, jerr.text);
		fclose(f);
		return ret;
	}
	fclose(f);
	if (!json_is_object(root)) {
		set_err(err, errlen,
			"config file '%s': expected a JSON object of keys at top level, got %s",
			path, json_kind(root));
		json_decref(root);
		return -EINVAL;
	}
	/* Files hold start-time keys too: live_only is 0. */
	sub[0] = '\0';
	ret = tcpa_conf_apply_json(c, root, 0, sub, sizeof(sub));
	json_decref(root);
	if (ret != 0) {
		set_err(err, errlen, "config file '%s': %s", path, sub);
		/* A readable file with a bad key or value is bad input. */
		return -EINVAL;
	}
	return 0;
}

static int
refuse_pair(const char *a, uint64_t va, const char *rel, const char *b, uint64_t vb,
		const char *why, char *err, size_t errlen)
{
	set_err(err, errlen, "config: %s (%" PRIu64 ") must be %s %s (%" PRIu64 "): %s",
		a, va, rel, b, vb, why);
	return -EINVAL;
}

int
tcpa_conf_check(const struct tcpa_conf *c, char *err, size_t errlen)
{
	uint16_t vx[TCPA_PKT_MAX_VXLAN_PORTS];
	size_t i;

	clear_err(err, errlen);
	if (c == NULL) {
		set_err(err, errlen, "config: no configuration given");
		return -EINVAL;
	}
	/* Single-key bounds, in case the struct was filled by hand. */
	for (i = 0; i < CONF_NB_NUM; i++) {
		const struct conf_num *k = &conf_nums[i];
		uint64_t v = num_get(c, k);

		if (v < k->min || v > k->max) {
			set_err(err, errlen,
				"config key '%s': expected an integer in [%" PRIu64 ", %" PRIu64
				"], got %" PRIu64, k->name, k->min, k->max, v);
			return -EINVAL;
		}
	}
	for (i = 0; i < CONF_NB_STR; i++) {
		const struct conf_str *k = &conf_strs[i];

		if (memchr(str_get(c, k), '\0', TCPA_CONF_STR_MAX) == NULL) {
			set_err(err, errlen, "config key '%s': string is not terminated",
				k->name);
			return -EINVAL;
		}
	}
	if ((c->ring_size & (c->ring_size - 1)) != 0) {
		set_err(err, errlen,
			"config key 'ring_size': expected a power of two, got %" PRIu64,
			c->ring_size);
		return -EINVAL;
	}
	/* timeout_closing_s >= 1 is its lower bound, checked above. */
	if (c->timeout_syn_s < c->syn_timeout_s)
		return refuse_pair("timeout_syn_s", c->timeout_syn_s, "at least",
			"syn_timeout_s", c->syn_timeout_s,
			"a handshake would expire before syn_unanswered is decided",
			err, errlen);
	if (c->time_wait_s > c->timeout_established_s)
		return refuse_pair("time_wait_s", c->time_wait_s, "at most",
			"timeout_established_s", c->timeout_established_s,
			"TIME_WAIT may not outlast the idle timeout of an open connection",
			err, errlen);
	if (c->time_wait_s > c->timeout_closing_s)
		return refuse_pair("time_wait_s", c->time_wait_s, "at most",
			"timeout_closing_s", c->timeout_closing_s,
			"a connection in TIME_WAIT would expire before TIME_WAIT ends "
			"(time_wait gauge and tuple_reuse would be cut short)",
			err, errlen);
	if (c->close_wait_s > c->timeout_established_s)
		return refuse_pair("close_wait_s", c->close_wait_s, "at most",
			"timeout_established_s", c->timeout_established_s,
			"an idle CLOSE_WAIT connection would expire before close_wait_stuck "
			"is counted", err, errlen);
	if (c->idle_close_s > c->timeout_established_s)
		return refuse_pair("idle_close_s", c->idle_close_s, "at most",
			"timeout_established_s", c->timeout_established_s,
			"a connection would expire before it could be idle long enough "
			"for idle_close", err, errlen);
	if (tcpa_conf_vxlan_ports(c, vx, err, errlen) < 0)
		return -EINVAL;
	if (strlen(c->mgmt) >= CONF_SUN_PATH_MAX) {
		set_err(err, errlen,
			"config key 'mgmt': a Unix socket path holds at most %zu bytes, got %zu",
			CONF_SUN_PATH_MAX - 1, strlen(c->mgmt));
		return -EINVAL;
	}
	return 0;
}

int
tcpa_conf_vxlan_ports(const struct tcpa_conf *c, uint16_t *ports, char *err, size_t errlen)
{
	const char *s = c->vxlan_ports;
	int n = 0;

	while (*s != '\0') {
		char *end;
		unsigned long v;

		while (*s == ' ' || *s == ',')
			s++;
		if (*s == '\0')
			break;
		errno = 0;
		v = strtoul(s, &end, 10);
		if (end == s || errno != 0 || v == 0 || v > 65535 ||
				(*end != '\0' && *end != ',' && *end != ' ')) {
			set_err(err, errlen, "config key 'vxlan_ports': expected UDP ports "
				"separated by commas, got \"%s\"", c->vxlan_ports);
			return -EINVAL;
		}
		if (n == TCPA_PKT_MAX_VXLAN_PORTS) {
			set_err(err, errlen, "config key 'vxlan_ports': at most %d ports, got \"%s\"",
				TCPA_PKT_MAX_VXLAN_PORTS, c->vxlan_ports);
			return -EINVAL;
		}
		ports[n++] = (uint16_t)v;
		s = end;
	}
	return n;
}

struct json_t *
tcpa_conf_dump(const struct tcpa_conf *c)
{
	char buf[24];
	json_t *o;
	json_t *v;
	size_t i;

	if (c == NULL)
		return NULL;
	o = json_object();
	if (o == NULL)
		return NULL;
	for (i = 0; i < CONF_NB_NUM; i++) {
		uint64_t n = num_get(c, &conf_nums[i]);

		/* Above INT64_MAX (only hash_seed can be): a decimal string. */
		if (n > (uint64_t)INT64_MAX) {
			snprintf(buf, sizeof(buf), "%" PRIu64, n);
			v = json_string(buf);
		} else {
			v = json_integer((json_int_t)n);
		}
		if (json_object_set_new(o, conf_nums[i].name, v) != 0)
			goto nomem;
	}
	for (i = 0; i < CONF_NB_STR; i++) {
		const char *s = str_get(c, &conf_strs[i]);

		v = json_stringn(s, strnlen(s, TCPA_CONF_STR_MAX - 1));
		if (json_object_set_new(o, conf_strs[i].name, v) != 0)
			goto nomem;
	}
	return o;
nomem:
	json_decref(o);
	return NULL;
}

/* "--key-name N" into @p buf. */
static void
help_flag(char *buf, size_t len, const char *name, const char *arg)
{
	size_t i = 0;

	for (; i < 2 && i + 1 < len; i++)
		buf[i] = '-';
	for (; *name != '\0' && i + 1 < len; name++)
		buf[i++] = *name == '_' ? '-' : *name;
	buf[i] = '\0';
	snprintf(buf + i, len - i, " %s", arg);
}

void
tcpa_conf_help(FILE *out)
{
	char flag[64];
	size_t width = 0;
	size_t i;

	for (i = 0; i < CONF_NB_NUM; i++) {
		help_flag(flag, sizeof(flag), conf_nums[i].name, "N");
		if (strlen(flag) > width)
			width = strlen(flag);
	}
	for (i = 0; i < CONF_NB_STR; i++) {
		help_flag(flag, sizeof(flag), conf_strs[i].name, "STR");
		if (strlen(flag) > width)
			width = strlen(flag);
	}
	for (i = 0; i < CONF_NB_NUM; i++) {
		const struct conf_num *k = &conf_nums[i];

		help_flag(flag, sizeof(flag), k->name, "N");
		fprintf(out, "  %-*s  %s (default %" PRIu64 ", %" PRIu64 "..%" PRIu64 "%s)\n",
			(int)width, flag, k->help, k->def, k->min, k->max,
			k->live ? ", live" : "");
	}
	for (i = 0; i < CONF_NB_STR; i++) {
		const struct conf_str *k = &conf_strs[i];

		help_flag(flag, sizeof(flag), k->name, "STR");
		if (k->def[0] == '\0')
			fprintf(out, "  %-*s  %s (default none)\n", (int)width, flag, k->help);
		else
			fprintf(out, "  %-*s  %s (default \"%s\")\n", (int)width, flag, k->help,
				k->def);
	}
}
