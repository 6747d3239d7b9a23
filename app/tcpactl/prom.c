/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prometheus text exposition (format 0.0.4) of tcpa's report and stats
 * answers.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tcpactl.h"

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

void
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
	prom_label(out, "endpoint", table_str(e, "endpoint"), true);
	prom_label(out, "role", table_str(e, "role"), false);
	if (json_object_get(e, "vlan") != NULL) {
		char vlan[32];

		snprintf(vlan, sizeof(vlan), "%" JSON_INTEGER_FORMAT, table_int(e, "vlan"));
		prom_label(out, "vlan", vlan, false);
	}
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

static const struct prom_field core_fields[] = {
	{ "rx_packets", "tcpa_core_rx_packets_total", "counter", "Frames read by the RX core." },
	{ "tcp_packets", "tcpa_core_tcp_packets_total", "counter",
		"TCP segments analyzed by the RX core." },
	{ "dispatched", "tcpa_core_dispatched_total", "counter",
		"Segments handed to the core that owns their connection." },
	{ "ring_full", "tcpa_core_ring_full_total", "counter",
		"Segments dropped because a core-to-core ring was full." },
	{ "flows", "tcpa_core_flows", "gauge", "Connections tracked by the RX core." },
	{ "flow_capacity", "tcpa_core_flow_capacity", "gauge",
		"Capacity of the RX core's flow table." },
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
			char *l = table_text(json_object_get(o, label_key));

			if (v == NULL) {
				free(l);
				continue;
			}
			fprintf(out, "%s{", f[k].metric);
			prom_label(out, label, l, true);
			free(l);
			if (label2 != NULL)
				prom_label(out, label2, table_str(o, label2_key), false);
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
			fprintf(out, "} %" JSON_INTEGER_FORMAT "\n", table_int(st, prom_states[s]));
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
			prom_label(out, "anomaly", k, false);
			fputc('}', out);
			prom_value(out, v);
		}
	}
}

static void
prom_write(FILE *out, const json_t *r, const json_t *st, size_t top)
{
	const json_t *t = json_object_get(r, "totals");

	prom_scalar(out, "tcpa_up", "gauge", "1 if tcpa answered on its management socket.",
		json_true());
	if (json_is_string(json_object_get(r, "version"))) {
		prom_family(out, "tcpa_info", "gauge", "tcpa version, as a label.");
		fputs("tcpa_info{", out);
		prom_label(out, "version", table_str(r, "version"), true);
		fputs("} 1\n", out);
	}
	prom_scalar(out, "tcpa_packets_total", "counter", "Frames received.",
		json_object_get(t, "packets"));
	prom_scalar(out, "tcpa_bytes_total", "counter", "Bytes received.",
		json_object_get(t, "bytes"));
	prom_scalar(out, "tcpa_tcp_packets_total", "counter", "TCP segments analyzed.",
		json_object_get(t, "tcp_packets"));
	prom_scalar(out, "tcpa_flows_seen_total", "counter", "Connections seen.",
		json_object_get(t, "flows_seen"));
	prom_scalar(out, "tcpa_flows_active", "gauge", "Connections tracked now.",
		json_object_get(t, "flows_active"));
	prom_object(out, "tcpa_anomalies_total", "anomaly",
		"Anomalies seen, by name (ANOMALIES.md).", json_object_get(r, "anomalies"));
	prom_object(out, "tcpa_malformed_total", "reason",
		"Frames that were not a usable TCP segment, by first reason.",
		json_object_get(r, "malformed"));
	prom_object(out, "tcpa_capture_total", "counter",
		"Capture-health and capacity counters.", json_object_get(r, "capture"));
	prom_endpoints(out, json_object_get(r, "endpoints"), top);
	if (st != NULL) {
		const json_t *mp = json_object_get(st, "mempool");

		prom_fields(out, json_object_get(st, "ports"), port_fields,
			sizeof(port_fields) / sizeof(port_fields[0]), "port", "port", "name",
			"name");
		prom_fields(out, json_object_get(st, "cores"), core_fields,
			sizeof(core_fields) / sizeof(core_fields[0]), "core", "core", NULL, NULL);
		prom_scalar(out, "tcpa_mbufs_in_use", "gauge", "Packet buffers in use.",
			json_object_get(mp, "in_use"));
		prom_scalar(out, "tcpa_mbufs_free", "gauge", "Packet buffers free.",
			json_object_get(mp, "free"));
	}
}

/* Query report and stats, write the exposition. Exit status; err on failure. */
int
prom_metrics(const struct opts *o, FILE *out, char *err, size_t len)
{
	json_t *rq = json_pack("{s:s}", "cmd", "report"), *sq = json_pack("{s:s}", "cmd", "stats");
	json_t *r = NULL, *st = NULL;
	struct conn c;
	int rc;

	if (conn_open(&c, o->sock, o->timeout_s, err, len) != 0) {
		rc = EXIT_USAGE;
		goto out;
	}
	rc = conn_request(&c, rq, &r, err, len);
	if (rc == EXIT_OKAY)
		rc = conn_request(&c, sq, &st, err, len);
	conn_close(&c);
	if (rc == EXIT_OKAY)
		prom_write(out, r, st, o->top);
out:
	json_decref(rq);
	json_decref(sq);
	json_decref(r);
	json_decref(st);
	return rc;
}
