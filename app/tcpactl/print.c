/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Human renderings of the answers (tables, KEY VALUE lines, counters), and
 * the answer's data as JSON for --json.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tcpa_report.h"
#include "tcpactl.h"

/* An array of flat objects as a table: one column per key, first seen first. */
static void
print_objects(FILE *out, const json_t *a)
{
	json_t *keys = json_object();   /* key -> column index */
	struct table t;
	char **heads;
	size_t i, n;
	const char *k;
	json_t *o, *v;

	json_array_foreach(a, i, o)
		json_object_foreach(o, k, v)
			if (json_object_get(keys, k) == NULL)
				json_object_set_new(keys, k, json_integer((json_int_t)
					json_object_size(keys)));
	n = json_object_size(keys);
	heads = calloc(n + 1, sizeof(*heads));
	if (n == 0 || heads == NULL) {
		free(heads);
		json_decref(keys);
		return;
	}
	table_init(&t, (unsigned)n);
	json_object_foreach(keys, k, v) {
		size_t c = (size_t)json_integer_value(v);

		heads[c] = strdup(k);
		for (char *p = heads[c]; p != NULL && *p != '\0'; p++)
			*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
		table_col(&t, (unsigned)c, heads[c] != NULL ? heads[c] : "?", false);
	}
	json_array_foreach(a, i, o) {
		char **row = table_row(&t);

		json_object_foreach(o, k, v) {
			size_t c = (size_t)json_integer_value(json_object_get(keys, k));

			row[c] = table_text(v);
			t.right[c] = t.right[c] || json_is_number(v);
		}
	}
	table_print(out, &t);
	for (i = 0; i < n; i++)
		free(heads[i]);
	free(heads);
	json_decref(keys);
}

/* KEY VALUE lines; only: keys to show (NULL: all). */
static void
print_kv(FILE *out, const json_t *o, const json_t *only)
{
	size_t w = 0, i;
	const char *k;
	json_t *v, *x;

	if (!json_is_object(o)) {
		char *s = table_text(o);

		fprintf(out, "%s\n", s);
		free(s);
		return;
	}
	json_object_foreach((json_t *)o, k, v)
		if (strlen(k) > w)
			w = strlen(k);
	json_object_foreach((json_t *)o, k, v) {
		bool show = only == NULL || json_array_size(only) == 0;
		char *s;

		json_array_foreach(only, i, x)
			show = show || strcmp(json_string_value(x), k) == 0;
		if (!show)
			continue;
		s = table_text(v);
		fprintf(out, "%-*s  %s\n", (int)w, k, s);
		free(s);
	}
}

static void
print_help(FILE *out, const json_t *d)
{
	fputs("Commands of this tcpa (tcpactl COMMAND [KEY=VALUE...]):\n", out);
	print_kv(out, d, NULL);
	fputs("\nClient commands: watch [INTERVAL] [COMMAND...], metrics [--top N] "
		"[--listen ADDR:PORT]\n", out);
}

static void
print_stats(FILE *out, const json_t *d)
{
	const json_t *ports = json_object_get(d, "ports");
	const json_t *cores = json_object_get(d, "cores");
	const json_t *mp = json_object_get(d, "mempool");
	json_int_t rx = 0, miss = 0, err = 0, nombuf = 0, flows = 0, cap = 0, tcp = 0, ring = 0;
	size_t i;
	json_t *o;

	json_array_foreach(ports, i, o) {
		rx += table_int(o, "rx_packets");
		miss += table_int(o, "rx_missed");
		err += table_int(o, "rx_errors");
		nombuf += table_int(o, "rx_nombuf");
	}
	json_array_foreach(cores, i, o) {
		tcp += table_int(o, "tcp_packets");
		ring += table_int(o, "ring_full");
		flows += table_int(o, "flows");
		cap += table_int(o, "flow_capacity");
	}
	fprintf(out, "Total: %" JSON_INTEGER_FORMAT " frames on %zu port%s (missed %"
		JSON_INTEGER_FORMAT ", errors %" JSON_INTEGER_FORMAT ", no mbuf %"
		JSON_INTEGER_FORMAT ")\n", rx, json_array_size(ports),
		json_array_size(ports) == 1 ? "" : "s", miss, err, nombuf);
	fprintf(out, "TCP:   %" JSON_INTEGER_FORMAT " segments analyzed on %zu RX core%s "
		"(ring full %" JSON_INTEGER_FORMAT ")\n", tcp, json_array_size(cores),
		json_array_size(cores) == 1 ? "" : "s", ring);
	fprintf(out, "Flows: %" JSON_INTEGER_FORMAT " tracked of %" JSON_INTEGER_FORMAT
		" (%.1f%% full)\n", flows, cap,
		cap != 0 ? 100.0 * (double)flows / (double)cap : 0.0);
	if (json_is_object(mp))
		fprintf(out, "Mbufs: %" JSON_INTEGER_FORMAT " in use, %" JSON_INTEGER_FORMAT
			" free\n", table_int(mp, "in_use"), table_int(mp, "free"));
	if (json_array_size(ports) > 0) {
		fputc('\n', out);
		print_objects(out, ports);
	}
	if (json_array_size(cores) > 0) {
		fputc('\n', out);
		print_objects(out, cores);
	}
}

/* Display order of the state columns; others follow as the answer has them. */
static const char *const state_order[] = {
	"ESTABLISHED", "SYN_SENT", "SYN_RECEIVED", "FIN_WAIT_1", "FIN_WAIT_2",
	"TIME_WAIT", "CLOSE_WAIT", "LAST_ACK", "CLOSING", "UNKNOWN",
};

/* The state names present in any endpoint, in display order. */
static json_t *
states_present(const json_t *eps)
{
	json_t *names = json_array();
	size_t i, k;
	json_t *e, *x;

	for (size_t s = 0; s < sizeof(state_order) / sizeof(state_order[0]); s++) {
		json_array_foreach(eps, i, e) {
			if (table_int(json_object_get(e, "states"), state_order[s]) != 0) {
				json_array_append_new(names, json_string(state_order[s]));
				break;
			}
		}
	}
	json_array_foreach(eps, i, e) {
		const char *name;
		json_t *v;

		json_object_foreach(json_object_get(e, "states"), name, v) {
			bool seen = false;

			json_array_foreach(names, k, x)
				seen = seen || strcmp(json_string_value(x), name) == 0;
			if (!seen)
				json_array_append_new(names, json_string(name));
		}
	}
	return names;
}

/* Where it lives beside its addresses: "vlan 100", "vxlan:1001", both, or "". */
static void
zone_text(const json_t *o, char *buf, size_t len)
{
	const json_t *t = json_object_get(o, "tunnel");
	int n = 0;

	buf[0] = '\0';
	if (json_object_get(o, "vlan") != NULL)
		n = snprintf(buf, len, "vlan %" JSON_INTEGER_FORMAT, table_int(o, "vlan"));
	if (json_is_string(t) && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "%s%s", n > 0 ? " " : "", json_string_value(t));
}

static void
ep_name(char **row, unsigned i, const json_t *e)
{
	char z[96];

	zone_text(e, z, sizeof(z));
	table_set(row, i, "%s%s%s", table_str(e, "endpoint"), z[0] != '\0' ? " " : "", z);
}

static void
print_endpoints(FILE *out, const json_t *eps)
{
	json_t *names;
	struct table t;
	unsigned ns;
	size_t i, k;
	json_t *e, *x;

	if (json_array_size(eps) == 0) {
		fputs("no endpoints (nothing seen yet, or none matches the filters)\n", out);
		return;
	}
	names = states_present(eps);
	ns = (unsigned)json_array_size(names);
	table_init(&t, 4 + ns);
	table_col(&t, 0, "ENDPOINT", false);
	table_col(&t, 1, "ROLE", false);
	table_col(&t, 2, "CONNS", true);
	json_array_foreach(names, k, x)
		table_col(&t, 3 + (unsigned)k, json_string_value(x), true);
	table_col(&t, 3 + ns, "DIAGNOSIS", false);
	json_array_foreach(eps, i, e) {
		char **row = table_row(&t);
		const json_t *st = json_object_get(e, "states");
		const char *dg = json_string_value(json_array_get(json_object_get(e, "diagnosis"),
			0));

		ep_name(row, 0, e);
		table_set(row, 1, "%s", table_str(e, "role"));
		table_set(row, 2, "%" JSON_INTEGER_FORMAT, table_int(e, "connections"));
		json_array_foreach(names, k, x) {
			json_int_t n = table_int(st, json_string_value(x));

			if (n != 0)
				table_set(row, 3 + (unsigned)k, "%" JSON_INTEGER_FORMAT, n);
			else
				table_set(row, 3 + (unsigned)k, "-");
		}
		table_set(row, 3 + ns, "%s", dg != NULL ? dg : "");
	}
	table_print(out, &t);
	json_decref(names);
}

static void
print_flows(FILE *out, const json_t *flows)
{
	bool vlan = false;
	struct table t;
	unsigned c = 0;
	size_t i;
	json_t *f;

	if (json_array_size(flows) == 0) {
		fputs("no flows (nothing tracked now, or none matches the filters)\n", out);
		return;
	}
	json_array_foreach(flows, i, f)
		vlan = vlan || json_object_get(f, "vlan") != NULL || json_object_get(f, "tunnel") != NULL;
	table_init(&t, vlan ? 10 : 9);
	table_col(&t, c++, "CLIENT", false);
	table_col(&t, c++, "SERVER", false);
	if (vlan)
		table_col(&t, c++, "VLAN/TUNNEL", false);
	table_col(&t, c++, "CLIENT_STATE", false);
	table_col(&t, c++, "SERVER_STATE", false);
	table_col(&t, c++, "PKTS_C>S", true);
	table_col(&t, c++, "PKTS_S>C", true);
	table_col(&t, c++, "BYTES_C>S", true);
	table_col(&t, c++, "BYTES_S>C", true);
	table_col(&t, c++, "IDLE_S", true);
	json_array_foreach(flows, i, f) {
		const json_t *pk = json_object_get(f, "packets");
		const json_t *by = json_object_get(f, "bytes");
		const json_t *idle = json_object_get(f, "idle_s");
		char **row = table_row(&t);

		c = 0;
		table_set(row, c++, "%s", table_str(f, "client"));
		table_set(row, c++, "%s", table_str(f, "server"));
		if (vlan) {
			char z[96];

			zone_text(f, z, sizeof(z));
			table_set(row, c++, "%s", z[0] != '\0' ? z : "-");
		}
		table_set(row, c++, "%s", table_str(f, "client_state"));
		table_set(row, c++, "%s", table_str(f, "server_state"));
		for (size_t k = 0; k < 2; k++)
			table_set(row, c++, "%" JSON_INTEGER_FORMAT,
				json_integer_value(json_array_get(pk, k)));
		for (size_t k = 0; k < 2; k++)
			table_set(row, c++, "%" JSON_INTEGER_FORMAT,
				json_integer_value(json_array_get(by, k)));
		table_set(row, c++, "%.1f", json_number_value(idle));
	}
	table_print(out, &t);
}

struct count {
	const char *name;
	json_int_t n;
	size_t pos;
};

static int
by_count(const void *a, const void *b)
{
	const struct count *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* NAME COUNT lines of one object of counters: non-zero first, largest first. */
static void
print_counts(FILE *out, const char *title, const json_t *o)
{
	size_t n = json_object_size(o), i = 0, w = strlen(title);
	struct count *v = calloc(n + 1, sizeof(*v));
	const char *k;
	json_t *x;

	if (v == NULL)
		return;
	json_object_foreach((json_t *)o, k, x) {
		v[i] = (struct count){ .name = k, .n = json_integer_value(x), .pos = i };
		if (strlen(k) > w)
			w = strlen(k);
		i++;
	}
	qsort(v, n, sizeof(*v), by_count);
	fprintf(out, "%-*s  %12s\n", (int)w, title, "COUNT");
	for (i = 0; i < n; i++)
		fprintf(out, "%-*s  %12" JSON_INTEGER_FORMAT "\n", (int)w, v[i].name, v[i].n);
	free(v);
}

static void
print_anomalies(FILE *out, const json_t *d)
{
	static const char *const sections[][2] = {
		{ "anomalies", "ANOMALY" }, { "malformed", "MALFORMED" }, { "capture", "CAPTURE" },
	};
	bool first = true;
	const char *k;
	json_t *v;

	for (size_t s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
		const json_t *o = json_object_get(d, sections[s][0]);

		if (!json_is_object(o))
			continue;
		if (!first)
			fputc('\n', out);
		print_counts(out, sections[s][1], o);
		first = false;
	}
	json_object_foreach((json_t *)d, k, v) {     /* sections this client does not know */
		bool known = false;

		for (size_t s = 0; s < sizeof(sections) / sizeof(sections[0]); s++)
			known = known || strcmp(k, sections[s][0]) == 0;
		if (!known && json_is_object(v)) {
			fputc('\n', out);
			print_counts(out, k, v);
		}
	}
}

/* Human rendering of a command's data. */
void
print_text(FILE *out, const char *cmd, const json_t *d, const json_t *only)
{
	if (strcmp(cmd, "stats") == 0)
		print_stats(out, d);
	else if (strcmp(cmd, "endpoints") == 0 && json_is_array(d))
		print_endpoints(out, d);
	else if (strcmp(cmd, "flows") == 0 && json_is_array(d))
		print_flows(out, d);
	else if (strcmp(cmd, "anomalies") == 0 && json_is_object(d))
		print_anomalies(out, d);
	else if (strcmp(cmd, "report") == 0 && json_is_object(d))
		tcpa_report_print_text(out, d);   /* as tcpa prints it at exit */
	else if (strcmp(cmd, "help") == 0 && json_is_object(d))
		print_help(out, d);
	else if (json_is_object(d))
		print_kv(out, d, only);
	else if (json_is_array(d) && json_array_size(d) > 0 && json_is_object(json_array_get(d, 0)))
		print_objects(out, d);
	else
		print_json(out, d, NULL);
}

void
print_json(FILE *out, const json_t *d, const json_t *only)
{
	json_t *sub = NULL;
	size_t i;
	json_t *k;

	if (json_array_size(only) > 0 && json_is_object(d)) {
		sub = json_object();
		json_array_foreach(only, i, k) {
			json_t *v = json_object_get(d, json_string_value(k));

			if (v != NULL)
				json_object_set(sub, json_string_value(k), v);
		}
		d = sub;
	}
	json_dumpf(d, out, JSON_INDENT(2) | JSON_ENCODE_ANY);
	fputc('\n', out);
	json_decref(sub);
}
