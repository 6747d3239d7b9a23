/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Answers too large to build at once, produced record by record in bounded
 * memory and bounded work per call: the flows of every engine (longest
 * idle first through a bounded heap, or the whole table in table order
 * from a cursor), and the endpoints (merged, filtered, sorted by severity).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "report_private.h"
#include "tcpa_report.h"
#include "tcpa_tcp.h"

/* ---- flows ---- */

struct flow_rec {
	struct tcpa_conn c;
	struct tcpa_conn_cold x;
	uint32_t idle;          /* ms, at the iterator's now */
};

struct tcpa_flow_iter {
	struct tcpa_engine *engs[TCPA_REPORT_MAX_ENGINES];
	unsigned n;
	struct tcpa_flow_filter flt;
	uint32_t now_ms;
	int sorted;             /* longest idle first (else table order) */
	unsigned eng;           /* scan position: engine ... */
	uint32_t idx;           /* ... and entry index */
	uint64_t matched;       /* connections that passed the filter so far */
	uint64_t emitted;
	/* sorted: the K = offset + top longest idle, a min-heap while scanning */
	struct flow_rec *heap;
	size_t nheap, cap;
	int scanned;            /* sorted: the scan is over, heap sorted */
	size_t pos;             /* sorted: next record to give */
};

/* Copy entry @i of engine @e if it is a live connection that passes. */
static int
take(struct tcpa_flow_iter *it, struct tcpa_engine *e, uint32_t i, struct flow_rec *r)
{
	const struct tcpa_conn *live = tcpa_engine_conn(e, i);

	if (live == NULL)
		return 0;
	/* Copy first, check the copy: the RX core may rewrite the entry now. */
	memcpy(&r->c, live, sizeof(r->c));
	memcpy(&r->x, tcpa_engine_cold(e, live), sizeof(r->x));
	if (!r->c.flow.live || r->c.tcp.half[0].state >= TCPA_TCP_ST_MAX ||
			r->c.tcp.half[1].state >= TCPA_TCP_ST_MAX ||
			!tcpa_report_flow_match(&it->flt, &r->c, &r->x))
		return 0;
	r->idle = it->now_ms - r->c.flow.last_ms;
	it->matched++;
	return 1;
}

static void
heap_down(struct flow_rec *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		struct flow_rec t;

		if (l < n && h[l].idle < h[m].idle)
			m = l;
		if (l + 1 < n && h[l + 1].idle < h[m].idle)
			m = l + 1;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void
heap_up(struct flow_rec *h, size_t i)
{
	while (i > 0 && h[(i - 1) / 2].idle > h[i].idle) {
		struct flow_rec t = h[i];

		h[i] = h[(i - 1) / 2];
		h[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

/* Keep @r if it is among the K longest idle seen so far. */
static void
heap_offer(struct tcpa_flow_iter *it, const struct flow_rec *r)
{
	if (it->nheap < it->cap) {
		it->heap[it->nheap] = *r;
		heap_up(it->heap, it->nheap++);
	} else if (it->cap != 0 && r->idle > it->heap[0].idle) {
		it->heap[0] = *r;
		heap_down(it->heap, it->nheap, 0);
	}
}

static int
by_idle_desc(const void *a, const void *b)
{
	uint32_t x = ((const struct flow_rec *)a)->idle, y = ((const struct flow_rec *)b)->idle;

	return x < y ? 1 : x > y ? -1 : 0;
}

struct tcpa_flow_iter *
tcpa_flow_iter_create(struct tcpa_engine *const *engs, unsigned n,
		const struct tcpa_flow_filter *flt, int sorted)
{
	struct tcpa_flow_iter *it;
	uint64_t now = 0;

	if (n > TCPA_REPORT_MAX_ENGINES || (sorted && (flt->top == SIZE_MAX ||
			flt->top + flt->offset > TCPA_REPORT_MAX_SORTED))) {
		errno = EINVAL;
		return NULL;
	}
	it = calloc(1, sizeof(*it));
	if (it == NULL)
		return NULL;
	memcpy(it->engs, engs, n * sizeof(engs[0]));
	it->n = n;
	it->flt = *flt;
	it->sorted = sorted;
	for (unsigned i = 0; i < n; i++)
		if (tcpa_engine_now(engs[i]) > now)
			now = tcpa_engine_now(engs[i]);
	it->now_ms = tcpa_ns_to_ms(now);
	it->eng = flt->cursor_engine;
	it->idx = flt->cursor_index;
	if (sorted) {
		it->cap = flt->top + flt->offset;
		it->heap = malloc((it->cap + 1) * sizeof(*it->heap));
		if (it->heap == NULL) {
			free(it);
			return NULL;
		}
	}
	return it;
}

/* Advance the scan position; 0 when every engine's table was walked. */
static int
scan_next(struct tcpa_flow_iter *it)
{
	while (it->eng < it->n) {
		if (++it->idx <= tcpa_engine_conns(it->engs[it->eng]))
			return 1;
		it->eng++;
		it->idx = 0;
	}
	return 0;
}

static int
next_sorted(struct tcpa_flow_iter *it, json_t **rec, unsigned *budget)
{
	struct flow_rec r;

	while (!it->scanned) {
		if (*budget == 0)
			return 2;
		(*budget)--;
		if (!scan_next(it)) {
			qsort(it->heap, it->nheap, sizeof(*it->heap), by_idle_desc);
			it->scanned = 1;
			it->pos = it->flt.offset;
			break;
		}
		if (take(it, it->engs[it->eng], it->idx, &r))
			heap_offer(it, &r);
	}
	if (it->pos >= it->nheap)
		return 0;
	*rec = tcpa_report_flow(&it->heap[it->pos].c, &it->heap[it->pos].x, it->now_ms);
	it->pos++;
	it->emitted++;
	return *rec != NULL ? 1 : -ENOMEM;
}

static int
next_table(struct tcpa_flow_iter *it, json_t **rec, unsigned *budget)
{
	struct flow_rec r;

	while (it->emitted < it->flt.top) {
		if (*budget == 0)
			return 2;
		(*budget)--;
		if (!scan_next(it))
			return 0;
		if (!take(it, it->engs[it->eng], it->idx, &r))
			continue;
		if (it->matched <= it->flt.offset)
			continue;
		*rec = tcpa_report_flow(&r.c, &r.x, it->now_ms);
		it->emitted++;
		return *rec != NULL ? 1 : -ENOMEM;
	}
	return 0;
}

int
tcpa_flow_iter_next(struct tcpa_flow_iter *it, json_t **rec, unsigned *budget)
{
	return it->sorted ? next_sorted(it, rec, budget) : next_table(it, rec, budget);
}

uint64_t
tcpa_flow_iter_total(const struct tcpa_flow_iter *it)
{
	return it->matched;
}

int
tcpa_flow_iter_cursor(const struct tcpa_flow_iter *it, char *buf, size_t len)
{
	if (it->sorted || it->eng >= it->n)
		return 0;
	snprintf(buf, len, "%u:%u", it->eng, it->idx);
	return 1;
}

void
tcpa_flow_iter_free(struct tcpa_flow_iter *it)
{
	if (it == NULL)
		return;
	free(it->heap);
	free(it);
}

json_t *
tcpa_report_flows(struct tcpa_engine *const *engs, unsigned n, const struct tcpa_flow_filter *x)
{
	struct tcpa_flow_iter *it;
	json_t *a = json_array(), *r;
	int sorted = x->top != SIZE_MAX && x->top + x->offset <= TCPA_REPORT_MAX_SORTED;
	int rc;

	it = a != NULL ? tcpa_flow_iter_create(engs, n, x, sorted) : NULL;
	if (it == NULL) {
		json_decref(a);
		return NULL;
	}
	for (;;) {
		unsigned budget = UINT32_MAX;

		r = NULL;
		rc = tcpa_flow_iter_next(it, &r, &budget);
		if (rc != 1 || json_array_append_new(a, r) != 0)
			break;
	}
	tcpa_flow_iter_free(it);
	if (rc < 0 || rc == 1) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/* ---- endpoints ---- */

struct ep_key {
	uint64_t sev;
	size_t i;
};

/* a before b: more severe, then earlier in merge order. */
static inline int
key_before(const struct ep_key *a, const struct ep_key *b)
{
	return a->sev != b->sev ? a->sev > b->sev : a->i < b->i;
}

static int
by_key(const void *a, const void *b)
{
	return key_before(a, b) ? -1 : key_before(b, a) ? 1 : 0;
}

int
report_eps_sort(struct tcpa_report_ep *eps, size_t n)
{
	struct ep_key *k;
	struct tcpa_report_ep *tmp;

	if (n == 0)
		return 0;       /* eps may be NULL */
	k = malloc(n * sizeof(*k));
	tmp = malloc(n * sizeof(*tmp));

	if (k == NULL || tmp == NULL) {
		free(k);
		free(tmp);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		k[i].sev = tcpa_report_ep_severity(&eps[i]);
		k[i].i = i;
	}
	qsort(k, n, sizeof(*k), by_key);
	for (size_t i = 0; i < n; i++)
		tmp[i] = eps[k[i].i];
	memcpy(eps, tmp, n * sizeof(*eps));
	free(k);
	free(tmp);
	return 0;
}

/*
 * Phases, each advanced a budget at a time: merge the tables; key the
 * endpoints that pass the filter; heapify the keys (most severe on top);
 * then pop in order, the first offset popped and dropped.
 */
enum { EP_MERGE, EP_KEYS, EP_HEAPIFY, EP_EMIT };

struct tcpa_ep_iter {
	struct tcpa_ep_table *tabs[TCPA_REPORT_MAX_ENGINES];
	struct report_merge m;
	int phase;
	int state, anom;
	size_t offset, top;
	struct ep_key *keys;
	size_t nkeys;           /* heap size */
	size_t pos;             /* EP_KEYS: next merged record; EP_HEAPIFY: next node + 1 */
	size_t total;           /* endpoints that passed the filter */
	size_t popped;
	const struct tcpa_conf *conf;
};

static void
sift_down(struct ep_key *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		struct ep_key t;

		if (l < n && key_before(&h[l], &h[m]))
			m = l;
		if (l + 1 < n && key_before(&h[l + 1], &h[m]))
			m = l + 1;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

struct tcpa_ep_iter *
tcpa_ep_iter_create(struct tcpa_ep_table *const *tabs, unsigned n, int state, int anom,
		size_t offset, size_t top, const struct tcpa_conf *conf)
{
	struct tcpa_ep_iter *it;

	if (n > TCPA_REPORT_MAX_ENGINES)
		return NULL;
	it = calloc(1, sizeof(*it));
	if (it == NULL)
		return NULL;
	memcpy(it->tabs, tabs, n * sizeof(tabs[0]));
	if (report_merge_init(&it->m, it->tabs, n) != 0) {
		free(it);
		return NULL;
	}
	it->keys = malloc((it->m.mask / 2 + 2) * sizeof(*it->keys));
	if (it->keys == NULL) {
		tcpa_ep_iter_free(it);
		return NULL;
	}
	it->state = state;
	it->anom = anom;
	it->offset = offset;
	it->top = top != 0 ? top : SIZE_MAX;
	it->conf = conf;
	return it;
}

/* Key the merged endpoints that pass the filter. 1 when done. */
static int
keys_step(struct tcpa_ep_iter *it, unsigned *budget)
{
	for (; it->pos < it->m.n; it->pos++) {
		const struct tcpa_report_ep *e = &it->m.v[it->pos];

		if (*budget == 0)
			return 0;
		(*budget)--;
		if ((it->state >= 0 && e->states[it->state] == 0) ||
				(it->anom >= 0 && e->anom[it->anom] == 0))
			continue;
		it->keys[it->nkeys].sev = tcpa_report_ep_severity(e);
		it->keys[it->nkeys++].i = it->pos;
	}
	it->total = it->nkeys;
	it->pos = it->nkeys / 2;
	return 1;
}

/* Bottom-up heapify, a node at a time. 1 when done. */
static int
heapify_step(struct tcpa_ep_iter *it, unsigned *budget)
{
	while (it->pos > 0) {
		if (*budget == 0)
			return 0;
		(*budget)--;
		sift_down(it->keys, it->nkeys, --it->pos);
	}
	return 1;
}

/* The most severe left, off the heap; SIZE_MAX when none. */
static size_t
pop(struct tcpa_ep_iter *it)
{
	size_t i;

	if (it->nkeys == 0)
		return SIZE_MAX;
	i = it->keys[0].i;
	it->keys[0] = it->keys[--it->nkeys];
	sift_down(it->keys, it->nkeys, 0);
	return i;
}

int
tcpa_ep_iter_next(struct tcpa_ep_iter *it, json_t **rec, unsigned *budget)
{
	size_t i;

	if (it->phase == EP_MERGE && report_merge_step(&it->m, budget))
		it->phase = EP_KEYS;
	if (it->phase == EP_KEYS && keys_step(it, budget))
		it->phase = EP_HEAPIFY;
	if (it->phase == EP_HEAPIFY && heapify_step(it, budget))
		it->phase = EP_EMIT;
	if (it->phase != EP_EMIT)
		return 2;
	for (;;) {
		if (it->popped >= it->offset + it->top || (i = pop(it)) == SIZE_MAX)
			return 0;
		if (it->popped++ < it->offset)
			continue;
		*rec = tcpa_report_endpoint(&it->m.v[i], it->conf);
		return *rec != NULL ? 1 : -ENOMEM;
	}
}

size_t
tcpa_ep_iter_total(const struct tcpa_ep_iter *it)
{
	return it->total;
}

void
tcpa_ep_iter_free(struct tcpa_ep_iter *it)
{
	if (it == NULL)
		return;
	free(it->m.v);
	free(it->m.slot);
	free(it->keys);
	free(it);
}
