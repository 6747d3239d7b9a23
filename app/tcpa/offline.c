/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Capture analysis: the appliance's workers, dispatch, engines and report,
 * on threads of this process instead of EAL lcores, with the capture read
 * by tcpa's own reader (input.c) instead of a port. No EAL: no hugepages,
 * no files under /var/run/dpdk, no start-up cost beyond the tables, which
 * are mapped zero pages touched only as flows arrive.
 *
 * Worker 0 reads the capture and dispatches as a port's RX core would; the
 * others analyze what it sends them. The calling thread is the control
 * side: signals, the management socket when asked for, the event log.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_ring.h>

#include "evlog.h"
#include "input.h"
#include "mgmt.h"
#include "tcpa_app.h"

#define CONTROL_TICK_MS 10

/* Zeroed, page-aligned memory that costs nothing until touched. */
static void *
zmap(size_t n)
{
	void *m = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
		MAP_NORESERVE, -1, 0);

	return m == MAP_FAILED ? NULL : m;
}

/*
 * Lcores in an EAL list: "0-3", "0,2,4", "0@0,1@1,2@1" (--lcores: the
 * part before '@' names the lcore), "(0-1)@0". 0 if it cannot tell.
 */
unsigned
tcpa_lcore_count(const char *l)
{
	unsigned n = 0;

	while (*l != '\0') {
		char *end;
		long a, b;

		if (*l == '(')
			l++;
		a = strtol(l, &end, 10);
		if (end == l)
			return 0;
		b = a;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		n += b >= a ? (unsigned)(b - a + 1) : 1;
		/* On to the next item at the top level. */
		for (int depth = *end == ')' ? -1 : 0; *end != '\0'; end++) {
			depth += *end == '(' ? 1 : *end == ')' ? -1 : 0;
			if (*end == ',' && depth <= 0 && end[-1] != '-')
				break;
		}
		l = *end == ',' ? end + 1 : end;
	}
	return n;
}

/*
 * Worker threads: as many as the RX cores of the lcores given (before
 * '--' or by the lcores key: one of them is the control's), else one per
 * CPU: analysis uses every core.
 */
static unsigned
worker_count(const struct tcpa_app *app)
{
	const char *l = app->opt.eal_lcores != NULL ? app->opt.eal_lcores : app->conf.lcores;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = l[0] != '\0' ? tcpa_lcore_count(l) : 0;

	if (n != 0)
		n = n > 1 ? n - 1 : 1;
	else
		n = ncpu > 0 ? (unsigned)ncpu : 1;
	return n > TCPA_MAX_WORKERS ? TCPA_MAX_WORKERS : n;
}

/* A ring in mapped memory: no EAL memory to take it from. */
static struct rte_ring *
ring_make(struct tcpa_app *app, unsigned owner, const char *name)
{
	unsigned slots = (unsigned)app->conf.ring_size;
	ssize_t sz = rte_ring_get_memsize_elem(sizeof(struct tcpa_pkt), slots);
	struct rte_ring *r = sz > 0 ? zmap((size_t)sz) : NULL;

	(void)owner;
	if (r == NULL || rte_ring_init(r, name, slots, RING_F_SP_ENQ | RING_F_SC_DEQ) != 0) {
		fprintf(stderr, "tcpa: cannot make ring %s\n", name);
		return NULL;
	}
	return r;
}

static int
workers_create(struct tcpa_app *app)
{
	struct tcpa_engine_conf ec;
	size_t msz;

	app->nworkers = worker_count(app);
	app->workers = zmap(sizeof(*app->workers) * app->nworkers);
	if (app->workers == NULL)
		return -ENOMEM;
	tcpa_app_engine_conf(app, &ec);
	ec.zeroed = 1;
	msz = tcpa_engine_memsize(&ec);
	for (unsigned i = 0; i < app->nworkers; i++) {
		struct worker *w = &app->workers[i];
		void *mem = zmap(msz);

		if (mem == NULL) {
			fprintf(stderr, "tcpa: cannot map %zu MiB for RX core %u's tables "
				"(flows_per_core=%" PRIu64 "); lower flows_per_core\n", msz >> 20, i,
				app->conf.flows_per_core);
			return -ENOMEM;
		}
		tcpa_worker_init(w, app, i, tcpa_engine_init(mem, &ec));
		w->lcore = i;
		w->offline = true;
		w->input = i == 0 ? app->input : NULL;
	}
	return tcpa_workers_connect(app, ring_make);
}

/*
 * Not pinned: on a machine shared with other work, a thread pinned to a
 * busy CPU waits for it, and the scheduler spreads busy threads anyway.
 */
static void *
thread_main(void *arg)
{
	tcpa_worker_main(arg);
	return NULL;
}

/* The control side's loop until every worker finished. @return 1 if stopped early. */
static int
control(struct tcpa_app *app)
{
	uint64_t t0 = tcpa_mono_ns();
	int stopped = 0;

	for (;;) {
		unsigned rd = 0, fin = 0;

		tcpa_mgmt_poll(CONTROL_TICK_MS);
		tcpa_evlog_drain(app);
		for (unsigned i = 0; i < app->nworkers; i++) {
			rd += __atomic_load_n(&app->workers[i].reader_done, __ATOMIC_ACQUIRE);
			fin += __atomic_load_n(&app->workers[i].finished, __ATOMIC_ACQUIRE);
		}
		if (rd == app->nworkers)
			__atomic_store_n(&app->ctl.readers_done, 1, __ATOMIC_RELEASE);
		if (fin == app->nworkers)
			return stopped;
		if (!stopped && (tcpa_app_signal_work(app) || (app->opt.duration_s > 0 &&
				(double)(tcpa_mono_ns() - t0) / 1e9 >= app->opt.duration_s))) {
			stopped = 1;
			__atomic_store_n(&app->ctl.stop, 1, __ATOMIC_RELAXED);
		}
	}
}

static void
print_core_stats(const struct tcpa_app *app, double wall_s)
{
	for (unsigned i = 0; i < app->nworkers; i++) {
		const struct worker *w = &app->workers[i];
		const struct tcpa_stats *st = tcpa_engine_stats(w->eng);
		uint64_t pk = st->rx_pkts > st->tcp_pkts ? st->rx_pkts : st->tcp_pkts;

		fprintf(stderr, "core %u: read %" PRIu64 " frames, analyzed %" PRIu64 " segments, "
			"%.1f cycles/packet busy\n", i, st->rx_pkts, st->tcp_pkts,
			pk != 0 ? (double)w->busy_tsc / (double)pk : 0.0);
	}
	fprintf(stderr, "wall %.3f s\n", wall_s);
}

static int
start(struct tcpa_app *app, pthread_t *th)
{
	char err[512];
	unsigned i;

	app->input = tcpa_input_open(app->opt.pcap, app->opt.npcap,
		app->conf.time_jump_s * TCPA_NS_PER_S, &app->ctl.stop, err, sizeof(err));
	if (app->input == NULL) {
		fprintf(stderr, "tcpa: %s\n", err);
		return TCPA_EXIT_RUNTIME;       /* a capture that cannot be read (tcpa.8) */
	}
	if (workers_create(app) != 0)
		return TCPA_EXIT_RUNTIME;
	if (app->conf.event_log[0] != '\0' &&
			tcpa_evlog_open(app->conf.event_log, 0) != 0)
		return TCPA_EXIT_RUNTIME;
	if (app->opt.mgmt_given && tcpa_mgmt_open(app, app->conf.mgmt) != 0)
		return TCPA_EXIT_RUNTIME;
	for (i = 0; i < app->nworkers; i++) {
		if (pthread_create(&th[i], NULL, thread_main, &app->workers[i]) != 0) {
			fprintf(stderr, "tcpa: cannot start RX thread %u: %s\n", i, strerror(errno));
			__atomic_store_n(&app->ctl.stop, 1, __ATOMIC_RELAXED);
			while (i-- > 0)
				pthread_join(th[i], NULL);
			return TCPA_EXIT_RUNTIME;
		}
	}
	return TCPA_EXIT_OK;
}

int
tcpa_offline_run(struct tcpa_app *app)
{
	pthread_t th[TCPA_MAX_WORKERS];
	const char *problems;
	int rc, stopped, fatal;
	uint64_t t0 = tcpa_mono_ns();

	app->offline = true;
	rc = start(app, th);
	if (rc != TCPA_EXIT_OK) {
		tcpa_input_close(app->input);
		return rc;
	}
	stopped = control(app);
	for (unsigned i = 0; i < app->nworkers; i++)
		pthread_join(th[i], NULL);
	app->complete = !stopped && !tcpa_input_cut(app->input);
	tcpa_evlog_drain(app);
	tcpa_evlog_close();
	tcpa_mgmt_close();
	problems = tcpa_input_problems(app->input, &fatal);
	fputs(problems, stderr);
	if (app->opt.stats)
		print_core_stats(app, (double)(tcpa_mono_ns() - t0) / 1e9);
	rc = tcpa_app_print_report(app, stdout);
	tcpa_input_close(app->input);
	app->input = NULL;
	if (rc != 0)
		return TCPA_EXIT_RUNTIME;
	if (!app->complete)
		return TCPA_EXIT_INTERRUPTED;
	return fatal ? TCPA_EXIT_RUNTIME : TCPA_EXIT_OK;
}
