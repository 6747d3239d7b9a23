/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Report: merge the RX cores' state and render it as JSON (the contract of
 * INTERFACES.md) or as text for a person. Control path only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "report_private.h"
#include "tcpa_report.h"
#include "tcpa_tcp.h"

#define RMAX(a, b) ((a) > (b) ? (a) : (b))

/* ---- merging ---- */

static uint64_t
key_hash(const struct tcpa_ep_key *k)
{
	uint64_t w[3];

	uint64_t h;

	memcpy(w, k, sizeof(w));
	/*
	 * Every bit of the key reaches the low bits the index takes: IPv4
	 * addresses differ only in the high half of the second word.
	 */
	h = w[0] ^ (w[1] * 0x9e3779b97f4a7c15ULL) ^ (w[2] * 0xc2b2ae3d27d4eb4fULL);
	h ^= h >> 31;
	h *= 0xff51afd7ed558ccdULL;
	return h ^ (h >> 33);
}

_Static_assert(sizeof(struct tcpa_ep_key) == 24, "key_hash reads three words");

static struct tcpa_report_ep *
merge_get(struct report_merge *m, const struct tcpa_ep_key *k)
{
	size_t i = key_hash(k) & m->mask;

	for (;; i = (i + 1) & m->mask) {
		uint32_t s = m->slot[i];

		if (s == 0) {
			struct tcpa_report_ep *e = &m->v[m->n];

			e->key = *k;
			m->slot[i] = (uint32_t)++m->n;
			return e;
		}
		if (memcmp(&m->v[s - 1].key, k, sizeof(*k)) == 0)
			return &m->v[s - 1];
	}
}

static void
merge_add(struct tcpa_report_ep *r, const struct tcpa_ep *e)
{
	for (unsigned s = 0; s < TCPA_TCP_ST_MAX; s++)
		r->states[s] += e->states[s];
	r->conns += e->conns;
	for (unsigned a = 0; a < TCPA_ANOM_MAX; a++)
		r->anom[a] += e->anom[a];
	r->cw_stuck += e->cw_stuck;
	r->tw_peak += e->tw_peak;
	r->idle_sum_ms += e->idle_sum_ms;
	r->idle_max_ms = RMAX(r->idle_max_ms, e->idle_max_ms);
	r->max_win = RMAX(r->max_win, e->max_win);
	if (e->pflags & TCPA_EP_P_SYN) {
		r->pflags |= e->pflags;
		r->mss = e->mss;
		r->wscale = e->wscale;
	}
}

int
report_merge_init(struct report_merge *m, struct tcpa_ep_table *const *tabs, unsigned n)
{
	size_t total = 0, slots = 16;

	memset(m, 0, sizeof(*m));
	if (n > TCPA_REPORT_MAX_ENGINES)
		return -EINVAL;
	for (unsigned c = 0; c < n; c++) {
		m->limit[c] = tcpa_ep_slots(tabs[c]);
		total += m->limit[c];
	}
	while (slots < total * 2)
		slots <<= 1;
	/* Zeroed and untouched until used: only the records found cost memory. */
	m->v = calloc(total + 1, sizeof(*m->v));
	m->slot = calloc(slots, sizeof(*m->slot));
	if (m->v == NULL || m->slot == NULL) {
		free(m->v);
		free(m->slot);
		return -ENOMEM;
	}
	m->mask = slots - 1;
	m->tabs = tabs;
	m->ntabs = n;
	m->tab = 0;
	m->idx = 0;
	return 0;
}

int
report_merge_step(struct report_merge *m, unsigned *budget)
{
	while (m->tab < m->ntabs) {
		struct tcpa_ep ep;

		if (*budget == 0)
			return 0;
		(*budget)--;
		/* Slots up to the count seen at init: v has room for those. */
		if (++m->idx > m->limit[m->tab]) {
			m->tab++;
			m->idx = 0;
			continue;
		}
		if (tcpa_ep_read(m->tabs[m->tab], m->idx, &ep))
			merge_add(merge_get(m, &ep.key), &ep);
	}
	free(m->slot);
	m->slot = NULL;
	return 1;
}

int
tcpa_report_merge_eps(struct tcpa_ep_table *const *tabs, unsigned n,
		struct tcpa_report_ep **out, size_t *nout)
{
	struct report_merge m;
	unsigned budget = UINT32_MAX;

	if (report_merge_init(&m, tabs, n) != 0)
		return -ENOMEM;
	while (!report_merge_step(&m, &budget))
		budget = UINT32_MAX;
	*out = m.v;
	*nout = m.n;
	return 0;
}

void
tcpa_report_sum_stats(const struct tcpa_stats *const *st, unsigned n, struct tcpa_stats *sum)
{
	const size_t words = offsetof(struct tcpa_stats, first_ts) / sizeof(uint64_t);

	memset(sum, 0, sizeof(*sum));
	for (unsigned c = 0; c < n; c++) {
		const uint64_t *src = (const uint64_t *)st[c];
		uint64_t *dst = (uint64_t *)sum;
		uint64_t f = __atomic_load_n(&st[c]->first_ts, __ATOMIC_RELAXED);
		uint64_t l = __atomic_load_n(&st[c]->last_ts, __ATOMIC_RELAXED);

		for (size_t w = 0; w < words; w++)
			dst[w] += __atomic_load_n(&src[w], __ATOMIC_RELAXED);
		if (f != 0 && (sum->first_ts == 0 || f < sum->first_ts))
			sum->first_ts = f;
		if (l > sum->last_ts)
			sum->last_ts = l;
	}
}

/* ---- JSON ---- */

void
tcpa_report_ep_name(const struct tcpa_ep_key *k, char *buf, size_t len)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	char a[INET6_ADDRSTRLEN];
	int v4 = memcmp(k->ip.b, v4mapped, sizeof(v4mapped)) == 0;

	if (v4)
		inet_ntop(AF_INET, &k->ip.b[12], a, sizeof(a));
	else
		inet_ntop(AF_INET6, k->ip.b, a, sizeof(a));
	if (k->role == TCPA_EP_CLIENT)
		snprintf(buf, len, "%s", a);
	else if (v4)
		snprintf(buf, len, "%s:%u", a, k->port);
	else
		snprintf(buf, len, "[%s]:%u", a, k->port);
}

static int
set_u64(json_t *o, const char *key, uint64_t v)
{
	return json_object_set_new(o, key, json_integer((json_int_t)v));
}

int
tcpa_report_zone(json_t *o, uint32_t zone)
{
	struct tcpa_zone z;
	char t[48];

	if (zone == 0)
		return 0;
	tcpa_pkt_zone_decode(zone, &z);
	if (z.vlan != 0 && set_u64(o, "vlan", z.vlan))
		return -1;
	if (z.kind == TCPA_PKT_TUNNEL_NONE)
		return 0;
	if (z.exact)
		snprintf(t, sizeof(t), "%s:%u", tcpa_pkt_tunnel_name(z.kind), z.id);
	else
		snprintf(t, sizeof(t), "%s", tcpa_pkt_tunnel_name(z.kind));
	if (json_object_set_new(o, "tunnel", json_string(t)))
		return -1;
	if (!z.exact) {
		snprintf(t, sizeof(t), "0x%08x", zone);
		return json_object_set_new(o, "zone", json_string(t));
	}
	return 0;
}

/* Append one sentence (printf-style) to @d. */
static void __attribute__((format(printf, 2, 3)))
say(json_t *d, const char *fmt, ...)
{
	char s[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s, sizeof(s), fmt, ap);
	va_end(ap);
	json_array_append_new(d, json_string(s));
}

#define PL(n) ((n) == 1 ? "" : "s")

/*
 * Short sentences, most severe first: what the endpoint's application or
 * socket options do wrong, in the operator's words, with the evidence.
 */
static json_t *
diagnose(const struct tcpa_report_ep *ep, const struct tcpa_conf *conf)
{
	const uint64_t *a = ep->anom;
	json_t *d = json_array();
	uint64_t cw = ep->states[TCPA_TCP_ST_CLOSE_WAIT];
	uint64_t tw = ep->states[TCPA_TCP_ST_TIME_WAIT];
	uint64_t retx = a[TCPA_ANOM_retransmission] + a[TCPA_ANOM_spurious_retransmission];
	unsigned cw_s = conf != NULL ? (unsigned)conf->close_wait_s : 5;

	if (d == NULL)
		return NULL;
	if (ep->cw_stuck != 0 || a[TCPA_ANOM_close_wait_stuck] != 0)
		say(d, "%" PRIu64 " connection%s stuck in CLOSE_WAIT now (%" PRIu64 " so far, each for "
			"more than %u s): the application received FIN and never called close() - a "
			"descriptor leak", ep->cw_stuck, PL(ep->cw_stuck),
			a[TCPA_ANOM_close_wait_stuck], cw_s);
	else if (cw != 0)
		say(d, "%" PRIu64 " connection%s in CLOSE_WAIT: the peer closed and this application "
			"has not called close() yet", cw, PL(cw));
	if (a[TCPA_ANOM_stale_reuse] != 0)
		say(d, "sent data on %" PRIu64 " connection%s the server had already closed (stale "
			"pooled connections, answered by RST): validate pooled connections before use "
			"and keep the pool's maximum lifetime below the server's idle timeout",
			a[TCPA_ANOM_stale_reuse], PL(a[TCPA_ANOM_stale_reuse]));
	if (a[TCPA_ANOM_idle_close] != 0)
		say(d, "closes idle connections after ~%.1f s (%" PRIu64 " time%s, longest idle "
			"%.1f s): its idle timeout (e.g. MySQL wait_timeout); clients' pools must "
			"retire connections sooner", (double)ep->idle_sum_ms / 1e3 /
			(double)a[TCPA_ANOM_idle_close], a[TCPA_ANOM_idle_close],
			PL(a[TCPA_ANOM_idle_close]), (double)ep->idle_max_ms / 1e3);
	if (a[TCPA_ANOM_syn_unanswered] != 0 || a[TCPA_ANOM_syn_retransmit] != 0)
		say(d, "%" PRIu64 " SYN%s retransmitted and %" PRIu64 " never answered: the listen "
			"queue overflows (raise the listen() backlog / SO_BACKLOG and somaxconn, "
			"accept faster) or SYNs are lost", a[TCPA_ANOM_syn_retransmit],
			PL(a[TCPA_ANOM_syn_retransmit]), a[TCPA_ANOM_syn_unanswered]);
	if (a[TCPA_ANOM_synack_retransmit] != 0)
		say(d, "%" PRIu64 " SYN-ACK%s repeated: handshakes not completed (full accept queue "
			"dropping the final ACK, or loss)", a[TCPA_ANOM_synack_retransmit],
			PL(a[TCPA_ANOM_synack_retransmit]));
	if (a[TCPA_ANOM_conn_refused] != 0)
		say(d, "refused %" PRIu64 " connection attempt%s (RST to SYN: nothing listening, or "
			"the listen queue is full)", a[TCPA_ANOM_conn_refused],
			PL(a[TCPA_ANOM_conn_refused]));
	if (a[TCPA_ANOM_rst_abort] != 0)
		say(d, "aborted %" PRIu64 " connection%s with RST instead of FIN (SO_LINGER 0, or "
			"data left unread at close)", a[TCPA_ANOM_rst_abort], PL(a[TCPA_ANOM_rst_abort]));
	if (a[TCPA_ANOM_zero_window] != 0)
		say(d, "advertised a zero receive window %" PRIu64 " time%s (largest window %u "
			"bytes): the application reads too slowly or SO_RCVBUF is too small",
			a[TCPA_ANOM_zero_window], PL(a[TCPA_ANOM_zero_window]), ep->max_win);
	if (a[TCPA_ANOM_window_full] != 0)
		say(d, "filled the peer's receive window %" PRIu64 " time%s: limited by the "
			"receiver (its SO_RCVBUF), not by the network", a[TCPA_ANOM_window_full],
			PL(a[TCPA_ANOM_window_full]));
	if (a[TCPA_ANOM_nagle_delay] != 0)
		say(d, "%" PRIu64 " small write%s held back until a delayed ACK (Nagle's algorithm "
			"meeting delayed ACK, >= %u ms each): set TCP_NODELAY", a[TCPA_ANOM_nagle_delay],
			PL(a[TCPA_ANOM_nagle_delay]), conf != NULL ? (unsigned)conf->nagle_delay_ms : 30);
	if (retx != 0)
		say(d, "retransmitted %" PRIu64 " segment%s (%" PRIu64 " fast, %" PRIu64 " spurious)",
			retx, PL(retx), a[TCPA_ANOM_fast_retransmission],
			a[TCPA_ANOM_spurious_retransmission]);
	if (tw != 0 || a[TCPA_ANOM_tuple_reuse] != 0)
		say(d, "%" PRIu64 " connection%s in TIME_WAIT now (peak %" PRIu64 "): this side "
			"closes first%s", tw, PL(tw), RMAX(ep->tw_peak, tw),
			a[TCPA_ANOM_tuple_reuse] != 0 ? "; ports reused within 2MSL (tuple_reuse): "
			"port exhaustion or SO_REUSEADDR churn" : "");
	return d;
}

/* What the wire shows of the endpoint's socket options, with the evidence. */
static json_t *
profile(const struct tcpa_report_ep *ep)
{
	const uint64_t *a = ep->anom;
	json_t *p = json_object();

	if (p == NULL)
		return NULL;
	if (ep->pflags & TCPA_EP_P_SYN) {
		json_object_set_new(p, "mss", json_integer(ep->mss));
		json_object_set_new(p, "window_scale", (ep->pflags & TCPA_EP_P_WS) ?
			json_integer(ep->wscale) : json_null());
		json_object_set_new(p, "sack_permitted", json_boolean(ep->pflags & TCPA_EP_P_SACKOK));
		json_object_set_new(p, "timestamps", json_boolean(ep->pflags & TCPA_EP_P_TS));
	}
	json_object_set_new(p, "max_window", json_integer(ep->max_win));
	json_object_set_new(p, "so_rcvbuf_limited", json_boolean(a[TCPA_ANOM_zero_window] != 0 ||
		a[TCPA_ANOM_window_full] != 0));
	json_object_set_new(p, "so_keepalive", json_boolean(a[TCPA_ANOM_keepalive] != 0));
	json_object_set_new(p, "tcp_nodelay_off", json_boolean(a[TCPA_ANOM_nagle_delay] != 0));
	json_object_set_new(p, "listen_backlog", json_pack("{s:I,s:I,s:I}",
		"syn_retransmit", (json_int_t)a[TCPA_ANOM_syn_retransmit],
		"syn_unanswered", (json_int_t)a[TCPA_ANOM_syn_unanswered],
		"conn_refused", (json_int_t)a[TCPA_ANOM_conn_refused]));
	json_object_set_new(p, "time_wait", json_pack("{s:I,s:I,s:I}",
		"now", (json_int_t)ep->states[TCPA_TCP_ST_TIME_WAIT],
		"peak", (json_int_t)RMAX(ep->tw_peak, ep->states[TCPA_TCP_ST_TIME_WAIT]),
		"tuple_reuse", (json_int_t)a[TCPA_ANOM_tuple_reuse]));
	json_object_set_new(p, "so_linger_0", json_boolean(a[TCPA_ANOM_rst_abort] != 0));
	json_object_set_new(p, "close_wait_stuck_now", json_integer((json_int_t)ep->cw_stuck));
	if (a[TCPA_ANOM_idle_close] != 0)
		json_object_set_new(p, "idle_close_s", json_pack("{s:f,s:f}",
			"mean", (double)ep->idle_sum_ms / 1e3 / (double)a[TCPA_ANOM_idle_close],
			"max", (double)ep->idle_max_ms / 1e3));
	return p;
}

json_t *
tcpa_report_endpoint(const struct tcpa_report_ep *ep, const struct tcpa_conf *conf)
{
	json_t *o = json_object(), *st = json_object(), *an = json_object();
	json_t *pr = profile(ep), *dg = diagnose(ep, conf);
	char name[80];

	if (o == NULL || st == NULL || an == NULL || pr == NULL || dg == NULL)
		goto nomem;
	tcpa_report_ep_name(&ep->key, name, sizeof(name));
	for (unsigned s = 0; s < TCPA_TCP_ST_MAX; s++)
		if (ep->states[s] != 0 && s != TCPA_TCP_ST_CLOSED &&
				set_u64(st, tcpa_tcp_state_name(s), ep->states[s]))
			goto nomem;
	for (unsigned a = 0; a < TCPA_ANOM_MAX; a++)
		if (ep->anom[a] != 0 && set_u64(an, tcpa_anom_name(a), ep->anom[a]))
			goto nomem;
	if (json_object_set_new(o, "endpoint", json_string(name)) ||
			json_object_set_new(o, "role", json_string(
				ep->key.role == TCPA_EP_SERVER ? "server" : "client")) ||
			tcpa_report_zone(o, ep->key.zone) ||
			set_u64(o, "connections", ep->conns) ||
			json_object_set_new(o, "states", st) ||
			json_object_set_new(o, "anomalies", an) ||
			json_object_set_new(o, "profile", pr) ||
			json_object_set_new(o, "diagnosis", dg)) {
		json_decref(o);
		return NULL;
	}
	return o;
nomem:
	json_decref(o);
	json_decref(st);
	json_decref(an);
	json_decref(pr);
	json_decref(dg);
	return NULL;
}

uint64_t
tcpa_report_ep_severity(const struct tcpa_report_ep *e)
{
	uint64_t s = (e->cw_stuck + e->states[TCPA_TCP_ST_CLOSE_WAIT]) * 1000000;

	for (unsigned a = 0; a < TCPA_ANOM_MAX; a++)
		s += e->anom[a] * 1000;
	for (unsigned st = 0; st < TCPA_TCP_ST_MAX; st++)
		if (st != TCPA_TCP_ST_CLOSED)
			s += e->states[st];
	return s;
}

json_t *
tcpa_report_endpoints_json(const struct tcpa_report_in *in, size_t lim)
{
	struct tcpa_report_ep *v = malloc((in->neps + 1) * sizeof(*v));
	json_t *a = json_array(), *e;

	if (v == NULL || a == NULL)
		goto fail;
	if (in->neps != 0)
		memcpy(v, in->eps, in->neps * sizeof(*v));
	if (report_eps_sort(v, in->neps) != 0)
		goto fail;
	for (size_t i = 0; i < in->neps && i < lim; i++) {
		e = tcpa_report_endpoint(&v[i], in->conf);
		if (e == NULL || json_array_append_new(a, e))
			goto fail;
	}
	free(v);
	return a;
fail:
	free(v);
	json_decref(a);
	return NULL;
}

/* The counters of the list (tcpa_stats.h) that belong in report section @sec. */
static int
section_add(json_t *o, const struct tcpa_stats *t, const char *sec)
{
	for (unsigned i = 0; i < tcpa_stat_ndefs; i++) {
		const struct tcpa_stat_def *d = &tcpa_stat_defs[i];

		if (strcmp(d->section, sec) == 0 && set_u64(o, d->key, tcpa_stat_value(t, d)))
			return -1;
	}
	return 0;
}

/*
 * Percent of the data the capture point missed, estimated from the traffic
 * as Zeek's capture-loss does: ACKs for data never seen, over the ACKs
 * that acknowledged new data.
 */
static double
capture_loss(const struct tcpa_stats *t)
{
	uint64_t gaps = t->anom[TCPA_ANOM_ack_unseen];

	return t->acks != 0 ? 100.0 * (double)gaps / (double)t->acks : 0.0;
}

static json_t *
totals_json(const struct tcpa_report_in *in)
{
	const struct tcpa_stats *t = in->total;
	json_t *o = json_object(), *cores = json_array();
	double dur = t->last_ts > t->first_ts ? (double)(t->last_ts - t->first_ts) / 1e9 : 0.0;

	if (o == NULL || cores == NULL)
		goto fail;
	for (unsigned c = 0; c < in->ncores; c++)
		if (json_array_append_new(cores, json_integer((json_int_t)in->core_pkts[c])))
			goto fail;
	if (section_add(o, t, "totals") ||
			json_object_set_new(o, "duration_s", json_real(dur)) ||
			json_object_set_new(o, "cores", cores)) {
		json_decref(o);
		return NULL;
	}
	return o;
fail:
	json_decref(o);
	json_decref(cores);
	return NULL;
}

json_t *
tcpa_report_build(const struct tcpa_report_in *in)
{
	const struct tcpa_stats *t = in->total;
	json_t *r = json_object(), *an = json_object(), *mf = json_object(), *cap = json_object();
	json_t *enc = json_object();
	json_t *tot = totals_json(in);
	json_t *eps = tcpa_report_endpoints_json(in, in->conf != NULL && in->conf->report_endpoints != 0 ?
		in->conf->report_endpoints : in->neps);

	if (r == NULL || an == NULL || mf == NULL || cap == NULL || tot == NULL || eps == NULL ||
			enc == NULL)
		goto nomem;
	for (unsigned e = 0; e < TCPA_PKT_ENCAP_MAX; e++)
		if (set_u64(enc, tcpa_pkt_encap_name(e), t->encap[e]))
			goto nomem;
	for (unsigned a = 0; a < TCPA_ANOM_MAX; a++)
		if (set_u64(an, tcpa_anom_name(a), t->anom[a]))
			goto nomem;
	for (unsigned v = 1; v < TCPA_PKT_VERDICT_MAX; v++)
		if (set_u64(mf, tcpa_pkt_verdict_name(v), t->malformed[v]))
			goto nomem;
	if (section_add(cap, t, "capture") ||
			json_object_set_new(cap, "capture_loss", json_real(capture_loss(t))) ||
			json_object_set_new(cap, "encap", enc))
		goto nomem;
	if (json_object_set_new(r, "version", json_string(in->version != NULL ? in->version : "")) ||
			json_object_set_new(r, "complete", json_boolean(in->complete)) ||
			json_object_set_new(r, "totals", tot) ||
			json_object_set_new(r, "anomalies", an) ||
			json_object_set_new(r, "malformed", mf) ||
			json_object_set_new(r, "capture", cap) ||
			json_object_set_new(r, "endpoints", eps)) {
		json_decref(r);
		return NULL;
	}
	return r;
nomem:
	json_decref(r);
	json_decref(an);
	json_decref(mf);
	json_decref(cap);
	json_decref(enc);
	json_decref(tot);
	json_decref(eps);
	return NULL;
}

/* ---- text ---- */

static void
print_nonzero(FILE *out, const char *title, const json_t *o)
{
	const char *k;
	json_t *v;
	int any = 0;

	json_object_foreach((json_t *)o, k, v) {
		if (json_integer_value(v) == 0)
			continue;
		fprintf(out, "%s%s %" JSON_INTEGER_FORMAT, any ? ", " : title, k, json_integer_value(v));
		any = 1;
	}
	if (any)
		fputc('\n', out);
}

static void
print_states(FILE *out, const json_t *st)
{
	const char *k;
	json_t *v;
	int any = 0;

	json_object_foreach((json_t *)st, k, v) {
		fprintf(out, "%s%s=%" JSON_INTEGER_FORMAT, any ? " " : "", k, json_integer_value(v));
		any = 1;
	}
	if (!any)
		fputs("-", out);
}

int
tcpa_report_print_text(FILE *out, const json_t *r)
{
	const json_t *t = json_object_get(r, "totals");
	const json_t *eps = json_object_get(r, "endpoints");
	size_t i;
	json_t *e;
	int diag = 0;

	fprintf(out, "tcpa report: %" JSON_INTEGER_FORMAT " packets (%" JSON_INTEGER_FORMAT
		" TCP), %" JSON_INTEGER_FORMAT " connections seen, %" JSON_INTEGER_FORMAT
		" tracked now, %.3f s of packet time\n",
		json_integer_value(json_object_get(t, "packets")),
		json_integer_value(json_object_get(t, "tcp_packets")),
		json_integer_value(json_object_get(t, "flows_seen")),
		json_integer_value(json_object_get(t, "flows_active")),
		json_real_value(json_object_get(t, "duration_s")));

	json_array_foreach(eps, i, e) {
		const json_t *d = json_object_get(e, "diagnosis");
		size_t j;
		json_t *s;

		json_array_foreach(d, j, s) {
			if (!diag)
				fputs("\nDiagnosis (most severe first):\n", out);
			diag = 1;
			fprintf(out, "  %s (%s): %s\n",
				json_string_value(json_object_get(e, "endpoint")),
				json_string_value(json_object_get(e, "role")), json_string_value(s));
		}
	}
	if (!diag)
		fputs("\nDiagnosis: nothing to report\n", out);
	fputc('\n', out);
	print_nonzero(out, "Anomalies: ", json_object_get(r, "anomalies"));
	print_nonzero(out, "Malformed: ", json_object_get(r, "malformed"));
	print_nonzero(out, "Capture: ", json_object_get(r, "capture"));

	fprintf(out, "\n%-42s %-6s %8s  %s\n", "ENDPOINT", "ROLE", "CONNS", "STATES NOW");
	json_array_foreach(eps, i, e) {
		fprintf(out, "%-42s %-6s %8" JSON_INTEGER_FORMAT "  ",
			json_string_value(json_object_get(e, "endpoint")),
			json_string_value(json_object_get(e, "role")),
			json_integer_value(json_object_get(e, "connections")));
		print_states(out, json_object_get(e, "states"));
		fputc('\n', out);
	}
	return ferror(out) ? -EIO : 0;
}
