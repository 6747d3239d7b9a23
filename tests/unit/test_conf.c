/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/conf: defaults, text and JSON parsing, files, cross-key
 * checks, dump and help. Usage: test_conf [path/to/config/tcpa.json]; without
 * an argument the shipped file is found from this source file's path.
 */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "tcpa_conf.h"
#include "tcpa_pkt.h"

#include "check.h"

/* err must hold @p s (a substring). */
#define CHECK_ERR(err, s) do { \
	if (strstr((err), (s)) == NULL) { \
		fprintf(stderr, "%s:%d: %s: error \"%s\" lacks \"%s\"\n", __FILE__, __LINE__, \
			__func__, (err), (s)); \
		cur_fail++; \
	} \
} while (0)

static const char *shipped_arg;

static void test_shipped(const char *arg);

static void
test_shipped_file(void)
{
	test_shipped(shipped_arg);
}

/* Number of keys, from the X-macro lists. */
enum {
#define X(name, def, min, max, live, help) KEY_##name,
	TCPA_CONF_NUM(X)
#undef X
#define X(name, def, help) KEY_##name,
	TCPA_CONF_STR(X)
#undef X
	NB_KEYS
};

static char tmpdir[] = "/tmp/test_conf.XXXXXX";

static int
conf_equal(const struct tcpa_conf *a, const struct tcpa_conf *b)
{
#define X(name, def, min, max, live, help) \
	if (a->name != b->name) \
		return 0;
	TCPA_CONF_NUM(X)
#undef X
#define X(name, def, help) \
	if (strcmp(a->name, b->name) != 0) \
		return 0;
	TCPA_CONF_STR(X)
#undef X
	return 1;
}

/* A valid configuration where every key differs from its default. */
static void
conf_other(struct tcpa_conf *c)
{
	static const char *const kv[][2] = {
		{ "flows_per_core", "2048" },
		{ "endpoints_per_core", "512" },
		{ "ring_size", "1024" },
		{ "mbufs", "2047" },
		{ "mbuf_size", "4096" },
		{ "hash_seed", "18446744073709551615" },
		{ "time_wait_s", "30" },
		{ "close_wait_s", "7" },
		{ "idle_close_s", "9" },
		{ "syn_timeout_s", "4" },
		{ "nagle_delay_ms", "40" },
		{ "min_rto_ms", "300" },
		{ "reorder_ms", "5" },
		{ "timeout_syn_s", "31" },
		{ "timeout_established_s", "1000" },
		{ "timeout_closing_s", "100" },
		{ "report_endpoints", "0" },
		{ "rules", "0" },
		{ "event_rate", "7" },
		{ "time_jump_s", "60" },
		{ "mgmt_idle_s", "9" },
		{ "tunnel_in_key", "0" },
		{ "vxlan_ports", "8472, 4790" },
		{ "lcores", "1-3" },
		{ "mgmt", "/tmp/tcpa-test.sock" },
		{ "event_log", "/tmp/tcpa-events.ndjson" },
	};
	char err[256];
	size_t i;

	tcpa_conf_defaults(c);
	for (i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
		CHECK(tcpa_conf_set(c, kv[i][0], kv[i][1], 0, err, sizeof(err)) == 0);
	CHECK(tcpa_conf_check(c, err, sizeof(err)) == 0);
}

/* A function, so that a min of 0 does not trip -Wtype-limits. */
static int
in_range(uint64_t v, uint64_t min, uint64_t max)
{
	return v >= min && v <= max;
}

static void
test_defaults(void)
{
	struct tcpa_conf c;
	struct tcpa_conf o;
	char err[256];

	memset(&c, 0xa5, sizeof(c));
	tcpa_conf_defaults(&c);
#define X(name, def, min, max, live, help) \
	CHECK(c.name == (uint64_t)(def)); \
	CHECK(in_range((def), (min), (max)));
	TCPA_CONF_NUM(X)
#undef X
#define X(name, def, help) CHECK(strcmp(c.name, (def)) == 0);
	TCPA_CONF_STR(X)
#undef X
	strcpy(err, "junk");
	CHECK(tcpa_conf_check(&c, err, sizeof(err)) == 0);
	CHECK(err[0] == '\0');

	/* conf_other() must really differ everywhere, or test_shipped proves less. */
	conf_other(&o);
#define X(name, def, min, max, live, help) CHECK(o.name != c.name);
	TCPA_CONF_NUM(X)
#undef X
#define X(name, def, help) CHECK(strcmp(o.name, c.name) != 0);
	TCPA_CONF_STR(X)
#undef X
}

static void
test_set_valid(void)
{
	struct tcpa_conf c;
	char err[256];

	tcpa_conf_defaults(&c);
	strcpy(err, "junk");
	CHECK(tcpa_conf_set(&c, "close_wait_s", "10", 0, err, sizeof(err)) == 0);
	CHECK(c.close_wait_s == 10);
	CHECK(err[0] == '\0');
	CHECK(tcpa_conf_set(&c, "close-wait-s", "0x20", 0, err, sizeof(err)) == 0);
	CHECK(c.close_wait_s == 32);
	CHECK(tcpa_conf_set(&c, "close_wait-s", "0X1f", 0, err, sizeof(err)) == 0);
	CHECK(c.close_wait_s == 31);
	CHECK(tcpa_conf_set(&c, "close_wait_s", "010", 0, err, sizeof(err)) == 0);
	CHECK(c.close_wait_s == 10);    /* decimal, not octal */
	CHECK(tcpa_conf_set(&c, "close_wait_s", "1", 0, err, sizeof(err)) == 0);
	CHECK(c.close_wait_s == 1);
	CHECK(tcpa_conf_set(&c, "close_wait_s", "86400", 0, err, sizeof(err)) == 0);
	CHECK(c.close_wait_s == 86400);
	CHECK(tcpa_conf_set(&c, "report-endpoints", "0", 0, err, sizeof(err)) == 0);
	CHECK(c.report_endpoints == 0);
	CHECK(tcpa_conf_set(&c, "ring-size", "8192", 0, err, sizeof(err)) == 0);
	CHECK(c.ring_size == 8192);
	CHECK(tcpa_conf_set(&c, "flows_per_core", "1073741824", 0, err, sizeof(err)) == 0);
	CHECK(c.flows_per_core == (1U << 30));
	CHECK(tcpa_conf_set(&c, "hash_seed", "18446744073709551615", 0, err,
		sizeof(err)) == 0);
	CHECK(c.hash_seed == UINT64_MAX);
	CHECK(tcpa_conf_set(&c, "hash-seed", "0xdeadbeefcafef00d", 0, err, sizeof(err)) == 0);
	CHECK(c.hash_seed == UINT64_C(0xdeadbeefcafef00d));
	CHECK(tcpa_conf_set(&c, "mgmt", "/tmp/x.sock", 0, err, sizeof(err)) == 0);
	CHECK(strcmp(c.mgmt, "/tmp/x.sock") == 0);
	CHECK(tcpa_conf_set(&c, "lcores", "0-2", 0, err, sizeof(err)) == 0);
	CHECK(strcmp(c.lcores, "0-2") == 0);
	CHECK(tcpa_conf_set(&c, "lcores", "", 0, err, sizeof(err)) == 0);
	CHECK(strcmp(c.lcores, "") == 0);
	/* err may be NULL. */
	CHECK(tcpa_conf_set(&c, "close_wait_s", "6", 0, NULL, 0) == 0);
	CHECK(c.close_wait_s == 6);
}

static void
test_vxlan_ports(void)
{
	static const char *const bad[] = { "abc", "0", "65536", "80;90", "1,2,3,4,5", "-1" };
	uint16_t ports[TCPA_PKT_MAX_VXLAN_PORTS];
	struct tcpa_conf c;
	char err[256];

	tcpa_conf_defaults(&c);
	CHECK_EQ(tcpa_conf_vxlan_ports(&c, ports, err, sizeof(err)), 0);
	CHECK(tcpa_conf_set(&c, "vxlan_ports", "8472, 4790,", 0, err, sizeof(err)) == 0);
	CHECK(tcpa_conf_check(&c, err, sizeof(err)) == 0);
	CHECK_EQ(tcpa_conf_vxlan_ports(&c, ports, err, sizeof(err)), 2);
	CHECK_EQ(ports[0], 8472);
	CHECK_EQ(ports[1], 4790);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(tcpa_conf_set(&c, "vxlan_ports", bad[i], 0, err, sizeof(err)) == 0);
		CHECK(tcpa_conf_check(&c, err, sizeof(err)) == -EINVAL);
		CHECK_ERR(err, "vxlan_ports");
	}
}

static void
test_set_invalid(void)
{
	static const char *const bad[] = {
		"abc", "-1", "+5", " 5", "5 ", "5s", "", "0x", "0xg", "1.5", "1e3",
		"0", "86401", "4294967297", "18446744073709551616",
		"99999999999999999999999", "0x10000000000000000",
	};
	struct tcpa_conf c;
	struct tcpa_conf ref;
	char err[256];
	char big[TCPA_CONF_STR_MAX + 1];
	size_t i;

	tcpa_conf_defaults(&c);
	ref = c;
	CHECK(tcpa_conf_set(&c, "close_wait_s", "abc", 0, err, sizeof(err)) == -EINVAL);
	CHECK(strcmp(err, "config key 'close_wait_s': expected an integer in "
		"[1, 86400], got \"abc\"") == 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CHECK(tcpa_conf_set(&c, "close-wait-s", bad[i], 0, err, sizeof(err)) ==
			-EINVAL);
		CHECK_ERR(err, "close_wait_s");
		CHECK_ERR(err, "[1, 86400]");
	}
	CHECK(tcpa_conf_set(&c, "hash_seed", "18446744073709551616", 0, err, sizeof(err)) ==
		-EINVAL);
	CHECK_ERR(err, "[0, 18446744073709551615]");
	CHECK(tcpa_conf_set(&c, "ring_size", "255", 0, err, sizeof(err)) == -EINVAL);
	CHECK(tcpa_conf_set(&c, "ring_size", "1048577", 0, err, sizeof(err)) == -EINVAL);
	CHECK(tcpa_conf_set(&c, "time_wait_s", NULL, 0, err, sizeof(err)) == -EINVAL);
	CHECK_ERR(err, "time_wait_s");
	CHECK(tcpa_conf_set(NULL, "time_wait_s", "1", 0, err, sizeof(err)) == -EINVAL);
	CHECK(tcpa_conf_set(&c, NULL, "1", 0, err, sizeof(err)) == -EINVAL);

	/* Long junk is echoed only in part. */
	memset(big, '7', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(tcpa_conf_set(&c, "time_wait_s", big, 0, err, sizeof(err)) == -EINVAL);
	CHECK(strlen(err) < 160);

	/* Strings: at most TCPA_CONF_STR_MAX - 1 bytes of UTF-8. */
	memset(big, 'a', sizeof(big) - 1);
	big[TCPA_CONF_STR_MAX] = '\0';
	CHECK(tcpa_conf_set(&c, "lcores", big, 0, err, sizeof(err)) == -EINVAL);
	CHECK_ERR(err, "lcores");
	CHECK_ERR(err, "shorter than 256");
	CHECK(tcpa_conf_set(&c, "lcores", "\xff\xfe", 0, err, sizeof(err)) == -EINVAL);
	CHECK_ERR(err, "UTF-8");
	CHECK(conf_equal(&c, &ref));
	big[TCPA_CONF_STR_MAX - 1] = '\0';
	CHECK(tcpa_conf_set(&c, "lcores", big, 0, err, sizeof(err)) == 0);
	CHECK(strlen(c.lcores) == TCPA_CONF_STR_MAX - 1);
}

static void
test_unknown_and_live(void)
{
	static const char *const unknown[] = {
		"foo", "close_wait", "close_wait_s_", "", "Close_wait_s", "--close-wait-s",
		"_comment", "close_wait_s ",
	};
	struct tcpa_conf c;
	struct tcpa_conf ref;
	char err[256];
	size_t i;

	tcpa_conf_defaults(&c);
	ref = c;
	CHECK(tcpa_conf_set(&c, "foo", "1", 0, err, sizeof(err)) == -ENOENT);
	CHECK(strcmp(err, "unknown config key 'foo' (see tcpa --help)") == 0);
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		CHECK(tcpa_conf_set(&c, unknown[i], "1", 0, err, sizeof(err)) == -ENOENT);
		CHECK(tcpa_conf_set(&c, unknown[i], "1", 1, err, sizeof(err)) == -ENOENT);
		CHECK(tcpa_conf_is_key(unknown[i]) == 0);
	}
	CHECK(tcpa_conf_is_key(NULL) == 0);
	CHECK(tcpa_conf_is_key("close_wait_s") == 1);
	CHECK(tcpa_conf_is_key("close-wait-s") == 1);
	CHECK(tcpa_conf_is_key("mgmt") == 1);
	CHECK(tcpa_conf_is_key("hash-seed") == 1);

	/* Start-only keys cannot be changed at run time, even with a bad value. */
	CHECK(tcpa_conf_set(&c, "ring_size", "8192", 1, err, sizeof(err)) == -EPERM);
	CHECK_ERR(err, "'ring_size' can only be set at start");
	CHECK(tcpa_conf_set(&c, "flows-per-core", "junk", 1, err, sizeof(err)) == -EPERM);
	CHECK_ERR(err, "'flows_per_core'");
	CHECK(tcpa_conf_set(&c, "mgmt", "/tmp/y", 1, err, sizeof(err)) == -EPERM);
	CHECK(tcpa_conf_set(&c, "lcores", "1", 1, err, sizeof(err)) == -EPERM);
	CHECK(tcpa_conf_set(&c, "hash_seed", "1", 1, err, sizeof(err)) == -EPERM);
	CHECK(conf_equal(&c, &ref));
	/* Live keys can. */
	CHECK(tcpa_conf_set(&c, "close_wait_s", "12", 1, err, sizeof(err)) == 0);
	CHECK(c.close_wait_s == 12);
	CHECK(tcpa_conf_set(&c, "close_wait_s", "0", 1, err, sizeof(err)) == -EINVAL);
	CHECK(c.close_wait_s == 12);

	/* Every numeric key: live ones reach the value check, others are refused. */
#define X(name, def, min, max, live, help) \
	CHECK(tcpa_conf_set(&c, #name, "junk", 1, err, sizeof(err)) == \
		((live) ? -EINVAL : -EPERM));
	TCPA_CONF_NUM(X)
#undef X
}

static void
test_err_buffers(void)
{
	struct tcpa_conf c;
	char buf[16];
	size_t i;

	tcpa_conf_defaults(&c);
	memset(buf, 'Z', sizeof(buf));
	CHECK(tcpa_conf_set(&c, "close_wait_s", "abc", 0, buf, 8) == -EINVAL);
	CHECK(buf[7] == '\0');
	CHECK(strncmp(buf, "config ", 7) == 0);
	for (i = 8; i < sizeof(buf); i++)
		CHECK(buf[i] == 'Z');
	memset(buf, 'Z', sizeof(buf));
	CHECK(tcpa_conf_set(&c, "close_wait_s", "abc", 0, buf, 1) == -EINVAL);
	CHECK(buf[0] == '\0' && buf[1] == 'Z');
	memset(buf, 'Z', sizeof(buf));
	CHECK(tcpa_conf_set(&c, "close_wait_s", "abc", 0, buf, 0) == -EINVAL);
	CHECK(buf[0] == 'Z');
	CHECK(tcpa_conf_set(&c, "nope", "1", 0, NULL, 0) == -ENOENT);
	CHECK(tcpa_conf_set(&c, "ring_size", "1", 1, NULL, 100) == -EPERM);
	c.ring_size = 1000;
	CHECK(tcpa_conf_check(&c, NULL, 0) == -EINVAL);
	memset(buf, 'Z', sizeof(buf));
	CHECK(tcpa_conf_check(&c, buf, 5) == -EINVAL);
	CHECK(buf[4] == '\0' && buf[5] == 'Z');
	CHECK(tcpa_conf_load_file(&c, "/nonexistent/tcpa.json", NULL, 0) == -ENOENT);
	memset(buf, 'Z', sizeof(buf));
	CHECK(tcpa_conf_load_file(&c, "/nonexistent/tcpa.json", buf, 3) == -ENOENT);
	CHECK(buf[2] == '\0' && buf[3] == 'Z');
}

/* Parse @p text and apply it; returns the apply result (-1000 on bad JSON). */
static int
apply_text(struct tcpa_conf *c, const char *text, int live_only, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *o;
	int ret;

	o = json_loads(text, JSON_ALLOW_NUL, &jerr);
	if (o == NULL) {
		fprintf(stderr, "bad test JSON: %s: %s\n", text, jerr.text);
		return -1000;
	}
	ret = tcpa_conf_apply_json(c, o, live_only, err, errlen);
	json_decref(o);
	return ret;
}

static void
test_apply_json(void)
{
	static const struct {
		const char *json;
		int ret;
		const char *msg;
	} bad[] = {
		{ "{\"close_wait_s\": 10, \"ring_size\": 1000}", -EINVAL, "power of two" },
		{ "{\"close_wait_s\": 10, \"ring_size\": 100}", -EINVAL, "[256, 1048576]" },
		{ "{\"close_wait_s\": 10, \"nope\": 1}", -ENOENT, "unknown config key 'nope'" },
		{ "{\"close_wait_s\": 5.0}", -EINVAL, "got a real number" },
		{ "{\"close_wait_s\": 1.5}", -EINVAL, "got a real number" },
		{ "{\"close_wait_s\": \"5\"}", -EINVAL, "got a string" },
		{ "{\"close_wait_s\": true}", -EINVAL, "got true" },
		{ "{\"close_wait_s\": false}", -EINVAL, "got false" },
		{ "{\"close_wait_s\": null}", -EINVAL, "got null" },
		{ "{\"close_wait_s\": [5]}", -EINVAL, "got an array" },
		{ "{\"close_wait_s\": {}}", -EINVAL, "got an object" },
		{ "{\"close_wait_s\": -1}", -EINVAL, "got -1" },
		{ "{\"close_wait_s\": 0}", -EINVAL, "got 0" },
		{ "{\"close_wait_s\": 86401}", -EINVAL, "[1, 86400], got 86401" },
		{ "{\"hash_seed\": -1}", -EINVAL, "hash_seed" },
		{ "{\"hash_seed\": \"-1\"}", -EINVAL, "hash_seed" },
		{ "{\"hash_seed\": 1.0}", -EINVAL, "hash_seed" },
		{ "{\"mgmt\": 5}", -EINVAL, "'mgmt': expected a string, got an integer" },
		{ "{\"lcores\": null}", -EINVAL, "'lcores': expected a string" },
		{ "{\"lcores\": \"a\\u0000b\"}", -EINVAL, "NUL" },
		{ "{\"close_wait_s\": 5, \"close-wait-s\": 6}", -EINVAL, "given twice" },
		{ "{\"timeout_syn_s\": 2}", -EINVAL, "syn_timeout_s" },
		{ "{\"syn_timeout_s\": 60}", -EINVAL, "timeout_syn_s" },
	};
	struct tcpa_conf c;
	struct tcpa_conf ref;
	char err[256];
	char *text;
	json_t *o;
	size_t i;

	conf_other(&c);
	ref = c;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CHECK(apply_text(&c, bad[i].json, 0, err, sizeof(err)) == bad[i].ret);
		CHECK_ERR(err, bad[i].msg);
		CHECK(memcmp(&c, &ref, sizeof(c)) == 0);
	}

	/* A long string is refused; one byte less is taken. */
	text = malloc(TCPA_CONF_STR_MAX + 32);
	CHECK(text != NULL);
	if (text != NULL) {
		/* {"lcores": "lll...l"} */
		strcpy(text, "{\"lcores\": \"");
		i = strlen(text);
		memset(text + i, 'l', TCPA_CONF_STR_MAX);
		strcpy(text + i + TCPA_CONF_STR_MAX, "\"}");
		CHECK(apply_text(&c, text, 0, err, sizeof(err)) == -EINVAL);
		CHECK_ERR(err, "shorter than 256");
		CHECK(memcmp(&c, &ref, sizeof(c)) == 0);
		strcpy(text + i + TCPA_CONF_STR_MAX - 1, "\"}");
		CHECK(apply_text(&c, text, 0, err, sizeof(err)) == 0);
		CHECK(strlen(c.lcores) == TCPA_CONF_STR_MAX - 1);
		free(text);
		c = ref;
	}

	/* Not an object. */
	o = json_array();
	CHECK(tcpa_conf_apply_json(&c, o, 0, err, sizeof(err)) == -EINVAL);
	CHECK_ERR(err, "got an array");
	json_decref(o);
	CHECK(tcpa_conf_apply_json(&c, NULL, 0, err, sizeof(err)) == -EINVAL);
	CHECK(memcmp(&c, &ref, sizeof(c)) == 0);

	/* Good: comments ignored, dashes allowed, keys valid only together. */
	strcpy(err, "junk");
	CHECK(apply_text(&c, "{\"_comment\": \"hi\", \"_x\": [1, {}], \"close-wait-s\": 11,"
		" \"syn_timeout_s\": 60, \"timeout_syn_s\": 120, \"mgmt\": \"/tmp/s\","
		" \"hash_seed\": 9223372036854775807}", 0, err, sizeof(err)) == 0);
	CHECK(err[0] == '\0');
	CHECK(c.close_wait_s == 11);
	CHECK(c.syn_timeout_s == 60);
	CHECK(c.timeout_syn_s == 120);
	CHECK(strcmp(c.mgmt, "/tmp/s") == 0);
	CHECK(c.hash_seed == INT64_MAX);
	CHECK(c.ring_size == ref.ring_size);
	CHECK(apply_text(&c, "{}", 0, err, sizeof(err)) == 0);
	/* hash_seed beyond INT64_MAX: as a string, as dumped. */
	CHECK(apply_text(&c, "{\"hash_seed\": \"18446744073709551614\"}", 0, err,
		sizeof(err)) == 0);
	CHECK(c.hash_seed == UINT64_MAX - 1);
	CHECK(apply_text(&c, "{\"hash_seed\": \"0x10\"}", 0, err, sizeof(err)) == 0);
	CHECK(c.hash_seed == 16);

	/* Run time: live keys only; all or nothing. */
	ref = c;
	CHECK(apply_text(&c, "{\"close_wait_s\": 20, \"ring_size\": 8192}", 1, err,
		sizeof(err)) == -EPERM);
	CHECK_ERR(err, "ring_size");
	CHECK(memcmp(&c, &ref, sizeof(c)) == 0);
	CHECK(apply_text(&c, "{\"close_wait_s\": 20, \"lcores\": \"1\"}", 1, err,
		sizeof(err)) == -EPERM);
	CHECK(memcmp(&c, &ref, sizeof(c)) == 0);
	CHECK(apply_text(&c, "{\"close_wait_s\": 20, \"min_rto_ms\": 250}", 1, err,
		sizeof(err)) == 0);
	CHECK(c.close_wait_s == 20 && c.min_rto_ms == 250);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	if (f == NULL)
		return;
	fputs(text, f);
	fclose(f);
}

static void
test_load_file(void)
{
	static const struct {
		const char *text;
		const char *msg[3];
	} bad[] = {
		{ "{\n  \"close_wait_s\": 5,\n  oops\n}\n", { "line 3", "column", NULL } },
		{ "{\n  \"close_wait_s\": 5,\n  \"close_wait_s\": 6\n}\n",
			{ "duplicate", "line 3", NULL } },
		{ "[1, 2]\n", { "JSON object", "got an array", NULL } },
		{ "7\n", { "line 1", "'[' or '{' expected", NULL } },
		{ "", { "line 1", NULL, NULL } },
		{ "{} x\n", { "line 1", NULL, NULL } },
		{ "{\"close_wait_s\": 1.5}", { "'close_wait_s'", "real", NULL } },
		{ "{\"close_wait_s\": 5, \"bogus_key\": 1}", { "'bogus_key'", NULL, NULL } },
		{ "{\"ring_size\": 3000}", { "ring_size", "power of two", NULL } },
	};
	struct tcpa_conf c;
	struct tcpa_conf ref;
	char path[PATH_MAX];
	char err[512];
	size_t i;
	int j;

	conf_other(&c);
	ref = c;
	snprintf(path, sizeof(path), "%s/missing.json", tmpdir);
	CHECK(tcpa_conf_load_file(&c, path, err, sizeof(err)) == -ENOENT);
	CHECK_ERR(err, path);
	CHECK(tcpa_conf_load_file(&c, tmpdir, err, sizeof(err)) == -EIO);
	CHECK_ERR(err, tmpdir);
	CHECK(tcpa_conf_load_file(&c, NULL, err, sizeof(err)) == -EINVAL);
	CHECK(memcmp(&c, &ref, sizeof(c)) == 0);

	snprintf(path, sizeof(path), "%s/t.json", tmpdir);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(path, bad[i].text);
		err[0] = '\0';
		CHECK(tcpa_conf_load_file(&c, path, err, sizeof(err)) == -EINVAL);
		CHECK_ERR(err, path);
		for (j = 0; j < 3 && bad[i].msg[j] != NULL; j++)
			CHECK_ERR(err, bad[i].msg[j]);
		CHECK(memcmp(&c, &ref, sizeof(c)) == 0);
	}

	write_file(path, "{\n  \"_comment\": \"test\",\n  \"ring_size\": 2048,\n"
		"  \"time-wait-s\": 45,\n  \"lcores\": \"0-7\"\n}\n");
	strcpy(err, "junk");
	CHECK(tcpa_conf_load_file(&c, path, err, sizeof(err)) == 0);
	CHECK(err[0] == '\0');
	CHECK(c.ring_size == 2048 && c.time_wait_s == 45 && strcmp(c.lcores, "0-7") == 0);
	CHECK(c.close_wait_s == ref.close_wait_s);
	unlink(path);
}

static void
test_check(void)
{
	static const struct {
		const char *kv[2][2];   /* one or two keys to set */
		const char *msg[2];
	} bad[] = {
		{ { { "ring_size", "3000" } }, { "ring_size", "power of two" } },
		{ { { "timeout_syn_s", "2" } }, { "timeout_syn_s (2)", "syn_timeout_s (3)" } },
		{ { { "syn_timeout_s", "31" } }, { "timeout_syn_s (30)", "syn_timeout_s (31)" } },
		{ { { "time_wait_s", "3000" } },
			{ "time_wait_s (3000)", "timeout_closing_s (240)" } },
		{ { { "timeout_established_s", "59" } },
			{ "time_wait_s (60)", "timeout_established_s (59)" } },
		{ { { "timeout_established_s", "100" }, { "close_wait_s", "101" } },
			{ "close_wait_s (101)", "timeout_established_s (100)" } },
		{ { { "timeout_established_s", "100" }, { "idle_close_s", "101" } },
			{ "idle_close_s (101)", "timeout_established_s (100)" } },
	};
	struct tcpa_conf d;
	struct tcpa_conf c;
	char err[256];
	size_t i;
	int j;

	tcpa_conf_defaults(&d);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = d;
		for (j = 0; j < 2 && bad[i].kv[j][0] != NULL; j++)
			CHECK(tcpa_conf_set(&c, bad[i].kv[j][0], bad[i].kv[j][1], 0, err,
				sizeof(err)) == 0);
		CHECK(tcpa_conf_check(&c, err, sizeof(err)) == -EINVAL);
		CHECK_ERR(err, bad[i].msg[0]);
		CHECK_ERR(err, bad[i].msg[1]);
	}
	/* Equal values are fine. */
	c = d;
	c.timeout_syn_s = c.syn_timeout_s;
	c.time_wait_s = 240;
	c.timeout_established_s = 240;
	c.close_wait_s = 240;
	c.idle_close_s = 240;
	CHECK(tcpa_conf_check(&c, err, sizeof(err)) == 0);
	/* A struct filled by hand is bounds-checked too. */
	c = d;
	c.timeout_closing_s = 0;
	CHECK(tcpa_conf_check(&c, err, sizeof(err)) == -EINVAL);
	CHECK_ERR(err, "timeout_closing_s");
	c = d;
	c.ring_size = 1U << 21;
	CHECK(tcpa_conf_check(&c, err, sizeof(err)) == -EINVAL);
	CHECK_ERR(err, "ring_size");
	c = d;
	memset(c.mgmt, 's', sizeof(c.mgmt));
	CHECK(tcpa_conf_check(&c, err, sizeof(err)) == -EINVAL);
	CHECK_ERR(err, "mgmt");
	c = d;
	memset(c.mgmt, 's', 200);
	c.mgmt[200] = '\0';
	CHECK(tcpa_conf_check(&c, err, sizeof(err)) == -EINVAL);
	CHECK_ERR(err, "Unix socket path");
	CHECK(tcpa_conf_check(NULL, err, sizeof(err)) == -EINVAL);
}

static void
test_dump(void)
{
	struct tcpa_conf c;
	struct tcpa_conf d;
	char err[256];
	json_t *o;
	json_t *o2;
	char *s;

	conf_other(&c);
	o = tcpa_conf_dump(&c);
	CHECK(o != NULL);
	if (o == NULL)
		return;
	CHECK(json_object_size(o) == NB_KEYS);
	CHECK(json_is_integer(json_object_get(o, "ring_size")));
	CHECK(json_integer_value(json_object_get(o, "ring_size")) == 1024);
	CHECK(json_is_string(json_object_get(o, "hash_seed")));
	CHECK(strcmp(json_string_value(json_object_get(o, "hash_seed")),
		"18446744073709551615") == 0);
	CHECK(json_is_string(json_object_get(o, "mgmt")));

	/* dump -> apply gives the same struct, also through text. */
	tcpa_conf_defaults(&d);
	CHECK(tcpa_conf_apply_json(&d, o, 0, err, sizeof(err)) == 0);
	CHECK(conf_equal(&c, &d));
	s = json_dumps(o, JSON_COMPACT);
	CHECK(s != NULL);
	json_decref(o);
	o2 = s != NULL ? json_loads(s, JSON_REJECT_DUPLICATES, NULL) : NULL;
	CHECK(o2 != NULL);
	tcpa_conf_defaults(&d);
	CHECK(tcpa_conf_apply_json(&d, o2, 0, err, sizeof(err)) == 0);
	CHECK(conf_equal(&c, &d));
	json_decref(o2);
	free(s);

	/* hash_seed up to INT64_MAX is a JSON integer. */
	tcpa_conf_defaults(&c);
	c.hash_seed = INT64_MAX;
	o = tcpa_conf_dump(&c);
	CHECK(o != NULL && json_is_integer(json_object_get(o, "hash_seed")));
	CHECK(o != NULL && json_integer_value(json_object_get(o, "hash_seed")) == INT64_MAX);
	conf_other(&d);
	CHECK(o != NULL && tcpa_conf_apply_json(&d, o, 0, err, sizeof(err)) == 0);
	CHECK(conf_equal(&c, &d));
	json_decref(o);
	CHECK(tcpa_conf_dump(NULL) == NULL);
}

static void
test_help(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	char *line;
	char *save;
	int lines = 0;

	f = open_memstream(&buf, &len);
	CHECK(f != NULL);
	if (f == NULL)
		return;
	tcpa_conf_help(f);
	fclose(f);
	CHECK_ERR(buf, "  --close-wait-s N ");
	CHECK_ERR(buf, "(default 5, 1..86400, live)");
	CHECK_ERR(buf, "(default 4096, 256..1048576)\n");
	CHECK_ERR(buf, "  --mgmt STR ");
	CHECK_ERR(buf, "(default \"/run/tcpa/tcpa.sock\")");
	CHECK_ERR(buf, "(default none)");
#define X(name, def, min, max, live, help) CHECK_ERR(buf, help);
	TCPA_CONF_NUM(X)
#undef X
	for (line = strtok_r(buf, "\n", &save); line != NULL;
			line = strtok_r(NULL, "\n", &save)) {
		CHECK(strncmp(line, "  --", 4) == 0);
		/* The flag itself uses dashes only. */
		CHECK(memchr(line + 2, '_', strcspn(line + 2, " ")) == NULL);
		lines++;
	}
	CHECK(lines == NB_KEYS);
	free(buf);
}

/* config/tcpa.json: argv[1], else found from this file's path. */
static int
find_shipped(const char *arg, char *out, size_t len)
{
	char src[PATH_MAX];
	char exe[PATH_MAX];
	char *slash;
	ssize_t n;

	if (arg != NULL) {
		snprintf(out, len, "%s", arg);
		return 0;
	}
	snprintf(src, sizeof(src), "%s", __FILE__);
	slash = strrchr(src, '/');
	if (slash != NULL)
		*slash = '\0';
	else
		snprintf(src, sizeof(src), ".");
	/* __FILE__ as the compiler saw it: absolute, or relative to the cwd. */
	snprintf(out, len, "%s/../../config/tcpa.json", src);
	if (access(out, R_OK) == 0 || src[0] == '/')
		return access(out, R_OK);
	/* Relative to the build root, two levels above tests/unit/test_conf. */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash != NULL)
		*slash = '\0';
	snprintf(out, len, "%s/../../%s/../../config/tcpa.json", exe, src);
	return access(out, R_OK);
}

static void
test_shipped(const char *arg)
{
	struct tcpa_conf c;
	struct tcpa_conf d;
	char path[3 * PATH_MAX];
	char err[512];
	json_t *file;
	json_t *dump;
	const char *key;
	json_t *v;

	if (find_shipped(arg, path, sizeof(path)) != 0) {
		fprintf(stderr, "cannot find config/tcpa.json (tried %s); pass its path "
			"as the first argument\n", path);
		CHECK(0);
		return;
	}
	/* Over a struct that differs everywhere: every key must be in the file. */
	conf_other(&c);
	tcpa_conf_defaults(&d);
	CHECK(tcpa_conf_load_file(&c, path, err, sizeof(err)) == 0);
	if (err[0] != '\0')
		fprintf(stderr, "%s\n", err);
	CHECK(conf_equal(&c, &d));

	/* And nothing else but comments, with the same JSON types as dump. */
	file = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
	dump = tcpa_conf_dump(&d);
	CHECK(file != NULL && dump != NULL);
	if (file != NULL && dump != NULL) {
		CHECK(json_object_get(file, "_comment") != NULL);
		json_object_foreach(file, key, v) {
			if (key[0] == '_')
				continue;
			CHECK(json_equal(v, json_object_get(dump, key)));
		}
		json_object_foreach(dump, key, v)
			CHECK(json_equal(v, json_object_get(file, key)));
	}
	json_decref(file);
	json_decref(dump);
}

int
main(int argc, char **argv)
{
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	shipped_arg = argc > 1 ? argv[1] : NULL;
	RUN(test_defaults);
	RUN(test_set_valid);
	RUN(test_set_invalid);
	RUN(test_vxlan_ports);
	RUN(test_unknown_and_live);
	RUN(test_err_buffers);
	RUN(test_apply_json);
	RUN(test_load_file);
	RUN(test_check);
	RUN(test_dump);
	RUN(test_help);
	RUN(test_shipped_file);
	rmdir(tmpdir);
	return check_summary("conf");
}
