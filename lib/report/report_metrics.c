/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prometheus text exposition (format 0.0.4) of a report and a stats
 * answer. The counters' names, types and help come from the counter list
 * (tcpa_stats.h): one series per counter of the report's totals and
 * capture sections, and one per RX core of every counter.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tcpa_report.h"
#include "tcpa_stats.h"

static const char *
str_of(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

static json_int_t
int_of(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* A scalar as label text (malloc'd). */
static char *
text_of(const json_t *v)
{
	char buf[64];

	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (json_is_integer(v))
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else
		snprintf(buf, sizeof(buf), "?");
	return strdup(buf);
}

/* A label value: backslash, double quote and newline escaped. */
static void
prom_label(FILE *out, const char *name, const char *v, bool first)
{
	fprintf(out, "%s%s=\"", first ? "" : ",", name);
	for (; v != NULL && *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(out, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", out);
		else
			fputc(*v, out);
	}
	fputc('"', out);
}

static void
prom_family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
prom_value(FILE *out, const json_t *v)
{
	if (json_is_integer(v))
		fprintf(out, " %" JSON_INTEGER_FORMAT "\n", json_integer_value(v));
	else if (json_is_real(v))
		fprintf(out, " %.17g\n", json_real_value(v));
	else if (json_is_boolean(v))
		fprintf(out, " %d\n", json_is_true(v) ? 1 : 0);
	else
		fputs(" NaN\n", out);
}

/* One family of a counter object: NAME{LABEL="key"} value, per member. */
static void
prom_object(FILE *out, const char *name, const char *label, const char *help,
	const json_t *o)
{
	const char *k;
	json_t *v;

	if (!json_is_object(o))
		return;
	prom_family(out, name, "counter", help);
	json_object_foreach((json_t *)o, k, v) {
		fprintf(out, "%s{", name);
		prom_label(out, label, k, true);
		fputc('}', out);
		prom_value(out, v);
	}
}

static void
prom_scalar(FILE *out, const char *name, const char *type, const char *help, const json_t *v)
{
	if (v == NULL)
		return;
	prom_family(out, name, type, help);
	fputs(name, out);
	prom_value(out, v);
}

static void
prom_ep_labels(FILE *out, const json_t *e)
{
	prom_label(out, "endpoint", str_of(e, "endpoint"), true);
	prom_label(out, "role", str_of(e, "role"), false);
	if (json_object_get(e, "vlan") != NULL) {
		char vlan[32];

		snprintf(vlan, sizeof(vlan), "%" JSON_INTEGER_FORMAT, int_of(e, "vlan"));
		prom_label(out, "vlan", vlan, false);
	}
	if (json_object_get(e, "tunnel") != NULL)
		prom_label(out, "tunnel", str_of(e, "tunnel"), false);
	if (json_object_get(e, "zone") != NULL)
		prom_label(out, "zone", str_of(e, "zone"), false);
}

/* Per-port and per-core counters of the stats answer. */
struct prom_field {
	const char *key;
	const char *metric;
	const char *type;
	const char *help;
};

static const struct prom_field port_fields[] = {
	{ "rx_packets", "tcpa_port_rx_packets_total", "counter", "Frames received by the port." },
	{ "rx_bytes", "tcpa_port_rx_bytes_total", "counter", "Bytes received by the port." },
	{ "rx_missed", "tcpa_port_rx_missed_total", "counter",
		"Frames the NIC dropped: RX queues full (imissed)." },
	{ "rx_errors", "tcpa_port_rx_errors_total", "counter", "Erroneous frames (ierrors)." },
	{ "rx_nombuf", "tcpa_port_rx_nombuf_total", "counter",
		"RX mbuf allocation failures (rx_nombuf)." },
};


static void
prom_fields(FILE *out, const json_t *a, const struct prom_field *f, size_t nf,
	const char *label, const char *label_key, const char *label2, const char *label2_key)
{
	size_t i;
	json_t *o;

	for (size_t k = 0; k < nf; k++) {
		bool any = false;

		json_array_foreach(a, i, o)
			any = any || json_object_get(o, f[k].key) != NULL;
		if (!any)
			continue;
		prom_family(out, f[k].metric, f[k].type, f[k].help);
		json_array_foreach(a, i, o) {
			const json_t *v = json_object_get(o, f[k].key);
			char *l = text_of(json_object_get(o, label_key));

			if (v == NULL) {
				free(l);
				continue;
			}
			fprintf(out, "%s{", f[k].metric);
			prom_label(out, label, l, true);
			free(l);
			if (label2 != NULL)
				prom_label(out, label2, str_of(o, label2_key), false);
			fputc('}', out);
			prom_value(out, v);
		}
	}
}

/* States always exported per endpoint (0 when none), so graphs drop to zero. */
static const char *const prom_states[] = { "ESTABLISHED", "CLOSE_WAIT", "TIME_WAIT" };

static void
prom_endpoints(FILE *out, const json_t *eps, size_t top)
{
	size_t i;
	json_t *e;

	prom_family(out, "tcpa_endpoint_connections", "gauge",
		"Live connections of the endpoint by its own TCP state (most severe endpoints).");
	json_array_foreach(eps, i, e) {
		const json_t *st = json_object_get(e, "states");
		const char *k;
		json_t *v;

		if (i >= top)
			break;
		for (size_t s = 0; s < sizeof(prom_states) / sizeof(prom_states[0]); s++) {
			fputs("tcpa_endpoint_connections{", out);
			prom_ep_labels(out, e);
			prom_label(out, "state", prom_states[s], false);
			fprintf(out, "} %" JSON_INTEGER_FORMAT "\n", int_of(st, prom_states[s]));
		}
		json_object_foreach((json_t *)st, k, v) {
			bool fixed = false;

			for (size_t s = 0; s < sizeof(prom_states) / sizeof(prom_states[0]); s++)
				fixed = fixed || strcmp(k, prom_states[s]) == 0;
			if (fixed)
				continue;
			fputs("tcpa_endpoint_connections{", out);
			prom_ep_labels(out, e);
			prom_label(out, "state", k, false);
			fputc('}', out);
			prom_value(out, v);
		}
	}
	prom_family(out, "tcpa_endpoint_anomalies_total", "counter",
		"Anomalies attributed to the endpoint (most severe endpoints).");
	json_array_foreach(eps, i, e) {
		const char *k;
		json_t *v;

		if (i >= top)
			break;
		json_object_foreach(json_object_get(e, "anomalies"), k, v) {
			fputs("tcpa_endpoint_anomalies_total{", out);
			prom_ep_labels(out, e);
			prom_label(out, "name", k, false);
			fputc('}', out);
			prom_value(out, v);
		}
	}
}

/* The list's counters of one report section, one series each. */
static void
prom_section(FILE *out, const json_t *r, const char *section)
{
	const json_t *o = json_object_get(r, section);

	for (unsigned i = 0; i < tcpa_stat_ndefs; i++) {
		const struct tcpa_stat_def *d = &tcpa_stat_defs[i];

		if (strcmp(d->section, section) == 0)
			prom_scalar(out, d->metric, d->type, d->help, json_object_get(o, d->key));
	}
}

/* Every counter of the list per RX core: tcpa_core_<name>{core="N"}. */
static void
prom_cores(FILE *out, const json_t *cores)
{
	static const struct prom_field table[] = {
		{ "flow_capacity", "tcpa_core_flow_capacity", "gauge",
			"Capacity of the RX core's flow table (connections)." },
		{ "flow_table_bytes", "tcpa_core_flow_table_bytes", "gauge",
			"Memory of the RX core's flow table." },
	};

	for (unsigned i = 0; i < tcpa_stat_ndefs; i++) {
		const struct tcpa_stat_def *d = &tcpa_stat_defs[i];
		char name[128];
		struct prom_field f = { d->key, name, d->type, d->help };

		snprintf(name, sizeof(name), "tcpa_core_%s", d->metric + strlen("tcpa_"));
		prom_fields(out, cores, &f, 1, "core", "core", NULL, NULL);
	}
	prom_fields(out, cores, table, sizeof(table) / sizeof(table[0]), "core", "core", NULL,
		NULL);
}

void
tcpa_report_metrics(FILE *out, const json_t *r, const json_t *st, size_t top)
{
	if (json_is_string(json_object_get(r, "version"))) {
		prom_family(out, "tcpa_info", "gauge", "tcpa version, as a label.");
		fputs("tcpa_info{", out);
		prom_label(out, "version", str_of(r, "version"), true);
		fputs("} 1\n", out);
	}
	prom_section(out, r, "totals");
	prom_section(out, r, "capture");
	prom_scalar(out, "tcpa_capture_loss_percent", "gauge",
		"Percent of the data the capture point missed, estimated from ACKs of unseen data.",
		json_object_get(json_object_get(r, "capture"), "capture_loss"));
	prom_object(out, "tcpa_anomalies_total", "name",
		"Anomalies seen, by name (ANOMALIES.md).", json_object_get(r, "anomalies"));
	prom_object(out, "tcpa_capture_encap_segments_total", "kind",
		"TCP segments that came through each encapsulation (a segment in VXLAN "
		"over a VLAN counts under both).",
		json_object_get(json_object_get(r, "capture"), "encap"));
	prom_object(out, "tcpa_malformed_total", "reason",
		"Frames that were not a usable TCP segment, by first reason.",
		json_object_get(r, "malformed"));
	prom_endpoints(out, json_object_get(r, "endpoints"), top);
	if (st != NULL) {
		const json_t *mp = json_object_get(st, "mempool");

		prom_fields(out, json_object_get(st, "ports"), port_fields,
			sizeof(port_fields) / sizeof(port_fields[0]), "port", "port", "name",
			"name");
		prom_cores(out, json_object_get(st, "cores"));
		prom_scalar(out, "tcpa_mbufs_in_use", "gauge", "Packet buffers in use.",
			json_object_get(mp, "in_use"));
		prom_scalar(out, "tcpa_mbufs_free", "gauge", "Packet buffers free.",
			json_object_get(mp, "free"));
	}
}

void
tcpa_report_metric(FILE *out, const char *name, const char *type, const char *help,
		const json_t *v)
{
	prom_scalar(out, name, type, help, v);
}
