/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The appliance: EAL, ports, one RX core per worker lcore, and the main
 * lcore as the control core (management socket, event log, clock, rates,
 * signals). Runs until SIGINT/SIGTERM or --duration, then prints the
 * report. Leaves nothing under /var/run/dpdk: its runtime directory is
 * removed at exit.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "evlog.h"
#include "mgmt.h"
#include "tcpa_app.h"
#include "tcpa_report.h"

#define MAX_EAL_ARGS 128
#define CONTROL_TICK_MS 10
/* The live clock's rate follows CLOCK_REALTIME within this much (ppm). */
#define CLOCK_SLEW_PPM 500

/* ---- EAL arguments ---- */

static int
has_arg(char **v, int n, const char *a)
{
	size_t l = strlen(a);

	for (int i = 0; i < n; i++)
		if (strncmp(v[i], a, l) == 0)
			return 1;
	return 0;
}

/* Free hugepages of any size, from /proc/meminfo; 0 if unknown. */
static unsigned long
free_hugepages(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	unsigned long n = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "HugePages_Free: %lu", &n) == 1)
			break;
	fclose(f);
	return n;
}

/* Memory the dataplane will ask for, MiB, for --no-huge's -m. */
static unsigned
mem_needed_mb(const struct tcpa_app *app, unsigned lcores)
{
	struct tcpa_engine_conf ec;
	uint64_t b;

	tcpa_app_engine_conf(app, &ec);
	b = (uint64_t)lcores * tcpa_engine_memsize(&ec);
	b += app->conf.mbufs * (app->conf.mbuf_size + 256 + 128);
	b += (uint64_t)lcores * lcores * app->conf.ring_size * sizeof(struct tcpa_pkt);
	return (unsigned)(b >> 20) + 128;
}

static int
build_eal_args(struct tcpa_app *app, char **argv, int dd, char **ev)
{
	static char mem[32], prefix[80], lcores[300];
	int n = 0, user = dd > 0 ? dd - 1 : 0;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned nl = 2;

	ev[n++] = argv[0];
	for (int i = 1; i <= user && n < MAX_EAL_ARGS; i++)
		ev[n++] = argv[i];
	if (!has_arg(ev, n, "-l") && !has_arg(ev, n, "-c") && !has_arg(ev, n, "--lcores")) {
		if (app->conf.lcores[0] != '\0')
			snprintf(lcores, sizeof(lcores), "-l%s", app->conf.lcores);
		else if (ncpu >= 2)
			snprintf(lcores, sizeof(lcores), "-l0-1");
		else
			snprintf(lcores, sizeof(lcores), "--lcores=0@0,1@0");
		ev[n++] = lcores;
	}
	if (!has_arg(ev, n, "--huge-dir") && !has_arg(ev, n, "--no-huge") &&
			!has_arg(ev, n, "--socket-mem") && !has_arg(ev, n, "-m") &&
			free_hugepages() == 0) {
		ev[n++] = "--no-huge";
		nl = ncpu > 2 ? (unsigned)ncpu : 2;
		snprintf(mem, sizeof(mem), "-m%u", mem_needed_mb(app, nl));
		ev[n++] = mem;
	}
	if (!has_arg(ev, n, "--file-prefix")) {
		snprintf(prefix, sizeof(prefix), "--file-prefix=tcpa%d", (int)getpid());
		ev[n++] = prefix;
	}
	if (!has_arg(ev, n, "--log-level"))
		ev[n++] = "--log-level=*:warning";
	ev[n] = NULL;
	return n;
}

/* The --file-prefix the EAL will use ("rte" by default). */
static void
eal_prefix(char **ev, int n, char *out, size_t len)
{
	snprintf(out, len, "rte");
	for (int i = 0; i < n; i++) {
		if (strncmp(ev[i], "--file-prefix=", 14) == 0)
			snprintf(out, len, "%s", ev[i] + 14);
		else if (strcmp(ev[i], "--file-prefix") == 0 && i + 1 < n)
			snprintf(out, len, "%s", ev[i + 1]);
	}
}

/*
 * Why the EAL refused to start, in words: another process holding the
 * prefix's lock is the common case, and rte_errno does not say so.
 */
static void
eal_failed(const char *prefix)
{
	char path[256];
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd;

	snprintf(path, sizeof(path), "/var/run/dpdk/%s/config", prefix);
	fd = open(path, O_RDONLY);
	if (fd >= 0 && fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) {
		fprintf(stderr, "tcpa: EAL initialization failed: process %d already runs DPDK "
			"with file prefix '%s'; give this one its own (--file-prefix NAME before "
			"'--') or stop the other\n", (int)fl.l_pid, prefix);
	} else {
		fprintf(stderr, "tcpa: EAL initialization failed: %s (see the EAL messages "
			"above)\n", rte_errno != 0 ? rte_strerror(rte_errno) :
			"unknown reason");
	}
	if (fd >= 0)
		close(fd);
}

/* Remove the EAL's runtime directory of our prefix (config, fbarray_*, sockets). */
static void
runtime_dir_remove(const char *prefix)
{
	char dir[256], path[512];
	struct dirent *d;
	DIR *dp;

	if (strchr(prefix, '/') != NULL || strcmp(prefix, "..") == 0 || prefix[0] == '\0')
		return;
	snprintf(dir, sizeof(dir), "/var/run/dpdk/%s", prefix);
	dp = opendir(dir);
	if (dp == NULL)
		return;
	while ((d = readdir(dp)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		unlink(path);
	}
	closedir(dp);
	rmdir(dir);
}

/* ---- clock ---- */

static void
clock_start(struct live_clock *k)
{
	struct live_clock_slot *s = &k->slot[0];

	s->tsc0 = rte_rdtsc();
	s->ns0 = tcpa_real_ns();
	s->mult = (uint64_t)(((__uint128_t)TCPA_NS_PER_S << 32) / rte_get_tsc_hz());
	__atomic_store_n(&k->cur, 0, __ATOMIC_RELEASE);
}

/*
 * Every second: anchor the clock where it is now and set its rate so that
 * it meets CLOCK_REALTIME a second from now (at most CLOCK_SLEW_PPM off
 * the TSC's nominal rate): corrected without a step. A gap of more than a
 * second (the wall clock was set) is stepped at once.
 */
static void
clock_correct(struct live_clock *k)
{
	struct live_clock_slot *n = &k->slot[!(k->cur & 1)];
	uint64_t tsc = rte_rdtsc(), hz = rte_get_tsc_hz();
	uint64_t est = tcpa_live_clock_ns(k, tsc), real = tcpa_real_ns();
	int64_t off = (int64_t)(real - est);
	uint64_t nominal = (uint64_t)(((__uint128_t)TCPA_NS_PER_S << 32) / hz);
	int64_t ppm = off / 1000;   /* ns per s of error = ppm x 1000 */

	n->tsc0 = tsc;
	if (off > (int64_t)TCPA_NS_PER_S || off < -(int64_t)TCPA_NS_PER_S) {
		n->ns0 = real;
		ppm = 0;
	} else {
		n->ns0 = est;
	}
	if (ppm > CLOCK_SLEW_PPM)
		ppm = CLOCK_SLEW_PPM;
	if (ppm < -CLOCK_SLEW_PPM)
		ppm = -CLOCK_SLEW_PPM;
	n->mult = (uint64_t)((int64_t)nominal + (int64_t)nominal / 1000000 * ppm);
	__atomic_store_n(&k->cur, !(k->cur & 1), __ATOMIC_RELEASE);
}

/* ---- dataplane ---- */

/* A ring on the socket of the RX core that reads it. */
static struct rte_ring *
ring_make(struct tcpa_app *app, unsigned owner, const char *name)
{
	struct rte_ring *r = rte_ring_create_elem(name, sizeof(struct tcpa_pkt),
		(unsigned)app->conf.ring_size,
		(int)rte_lcore_to_socket_id(app->workers[owner].lcore),
		RING_F_SP_ENQ | RING_F_SC_DEQ);

	if (r == NULL)
		fprintf(stderr, "tcpa: cannot create ring %s: %s\n", name,
			rte_strerror(rte_errno));
	return r;
}

static int
workers_create(struct tcpa_app *app)
{
	struct tcpa_engine_conf ec;
	unsigned lc, i = 0;
	size_t msz;

	app->nworkers = rte_lcore_count() - 1;
	if (app->nworkers == 0 || app->nworkers > TCPA_MAX_WORKERS) {
		fprintf(stderr, "tcpa: need 2 to %d lcores (one control, the rest RX), got %u\n",
			TCPA_MAX_WORKERS + 1, rte_lcore_count());
		return -1;
	}
	app->workers = rte_zmalloc("tcpa_workers", sizeof(*app->workers) * app->nworkers,
		RTE_CACHE_LINE_SIZE);
	if (app->workers == NULL)
		return -1;
	tcpa_app_engine_conf(app, &ec);
	msz = tcpa_engine_memsize(&ec);
	RTE_LCORE_FOREACH_WORKER(lc) {
		struct worker *w = &app->workers[i];
		void *mem = rte_zmalloc_socket("tcpa_engine", msz, RTE_CACHE_LINE_SIZE,
				(int)rte_lcore_to_socket_id(lc));

		if (mem == NULL) {
			fprintf(stderr, "tcpa: cannot reserve %zu MiB for RX core %u's tables "
				"(flows_per_core=%" PRIu64 "); lower flows_per_core or give more "
				"memory\n", msz >> 20, lc, app->conf.flows_per_core);
			return -1;
		}
		tcpa_worker_init(w, app, i, tcpa_engine_init(mem, &ec));
		w->lcore = lc;
		w->clock = &app->clock;
		w->rx_only = app->opt.rx_only;
		w->pub_period = rte_get_tsc_hz() / 1000;
		i++;
	}
	return tcpa_workers_connect(app, ring_make);
}

/* af_packet ports: their interfaces' kernel counters now, for rx_missed. */
static void
ifaces_note(struct tcpa_app *app, char **ev, int n)
{
	for (int i = 0; i < n && app->nifaces < TCPA_ARRAY_SIZE(app->iface); i++) {
		const char *a = strstr(ev[i], "net_af_packet"), *ifc, *end;
		char devname[64];
		uint16_t port;

		if (a == NULL || (ifc = strstr(a, "iface=")) == NULL)
			continue;
		snprintf(devname, sizeof(devname), "%.*s", (int)strcspn(a, ","), a);
		if (rte_eth_dev_get_port_by_name(devname, &port) != 0)
			continue;
		ifc += 6;
		end = ifc + strcspn(ifc, ",");
		app->iface[app->nifaces].port = port;
		snprintf(app->iface[app->nifaces].name, sizeof(app->iface[0].name), "%.*s",
			(int)(end - ifc), ifc);
		app->iface[app->nifaces].rx0 = tcpa_iface_carried(app->iface[app->nifaces].name);
		app->nifaces++;
	}
}

static int
dataplane_setup(struct tcpa_app *app)
{
	struct port_plan plan;

	if (workers_create(app) != 0)
		return -1;
	plan.nworkers = app->nworkers;
	plan.socket = rte_socket_id();
	plan.mbufs = (uint32_t)app->conf.mbufs;
	plan.mbuf_size = (uint32_t)app->conf.mbuf_size;
	return tcpa_ports_setup(&plan, app->workers);
}

/* ---- control ---- */

/* Every second: the clock, and with --stats the rates. */
static void
each_second(struct tcpa_app *app, double t)
{
	static struct tcpa_stats prev;
	static double prev_t;
	static struct tcpa_stats core[TCPA_MAX_WORKERS];
	const struct tcpa_stats *st[TCPA_MAX_WORKERS];
	struct tcpa_stats sum;
	double dt = t - prev_t;

	clock_correct(&app->clock);
	if (!app->opt.stats)
		return;
	for (unsigned i = 0; i < app->nworkers; i++) {
		tcpa_worker_stats(&app->workers[i], &core[i]);
		st[i] = &core[i];
	}
	tcpa_report_sum_stats(st, app->nworkers, &sum);
	if (dt > 0)
		fprintf(stderr, "tcpa: %.1f s: %.0f frames/s, %.0f segments/s, %" PRIu64
			" connections tracked, %" PRIu64 " seen, %" PRIu64 " dropped\n", t,
			(double)(sum.rx_pkts - prev.rx_pkts) / dt,
			(double)(sum.tcp_pkts - prev.tcp_pkts) / dt, sum.flows_active,
			sum.flows_new, sum.ring_full);
	prev = sum;
	prev_t = t;
}

static void
control_loop(struct tcpa_app *app)
{
	uint64_t t0 = tcpa_mono_ns(), next = t0 + TCPA_NS_PER_S;

	for (;;) {
		uint64_t now;
		unsigned fin = 0;

		/* The management socket's poll is the loop's only wait. */
		tcpa_mgmt_poll(CONTROL_TICK_MS);
		tcpa_evlog_drain(app);
		now = tcpa_mono_ns();
		if (now >= next) {
			each_second(app, (double)(now - t0) / 1e9);
			next += TCPA_NS_PER_S;
		}
		for (unsigned i = 0; i < app->nworkers; i++)
			fin += __atomic_load_n(&app->workers[i].finished, __ATOMIC_ACQUIRE);
		if (fin == app->nworkers)
			return;
		if (tcpa_app_signal_work(app) || (app->opt.duration_s > 0 &&
				(double)(now - t0) / 1e9 >= app->opt.duration_s))
			return;
	}
}

static void
print_core_stats(const struct tcpa_app *app)
{
	double hz = (double)rte_get_tsc_hz();

	fprintf(stderr, "tsc_hz %" PRIu64 "\n", rte_get_tsc_hz());
	for (unsigned i = 0; i < app->nworkers; i++) {
		const struct worker *w = &app->workers[i];
		const struct tcpa_stats *st = tcpa_engine_stats(w->eng);
		uint64_t pk = st->rx_pkts > st->tcp_pkts ? st->rx_pkts : st->tcp_pkts;
		double cpp = pk != 0 ? (double)w->busy_tsc / (double)pk : 0;

		fprintf(stderr, "core %u (lcore %u): rx %" PRIu64 " frames, analyzed %" PRIu64
			" segments, %.1f cycles/packet busy, %.2f Mpps at that rate\n",
			i, w->lcore, st->rx_pkts, st->tcp_pkts, cpp, cpp > 0 ? hz / cpp / 1e6 : 0.0);
	}
}

static int
start(struct tcpa_app *app)
{
	if (dataplane_setup(app) != 0) {
		fprintf(stderr, "tcpa: dataplane setup failed\n");
		return TCPA_EXIT_RUNTIME;
	}
	if (app->conf.event_log[0] != '\0' && tcpa_evlog_open(app->conf.event_log, 1) != 0)
		fprintf(stderr, "tcpa: going on without the event log for now\n");
	if (tcpa_mgmt_open(app, app->conf.mgmt) != 0) {
		fprintf(stderr, "tcpa: management socket unavailable (--mgmt PATH)\n");
		return TCPA_EXIT_RUNTIME;
	}
	tcpa_mgmt_register_telemetry(app);
	clock_start(&app->clock);
	for (unsigned i = 0; i < app->nworkers; i++)
		rte_eal_remote_launch(tcpa_worker_main, &app->workers[i], app->workers[i].lcore);
	fprintf(stderr, "tcpa: analyzing %u port(s) on %u RX core(s); SIGINT or SIGTERM stops "
		"and prints the report\n", rte_eth_dev_count_avail(), app->nworkers);
	return TCPA_EXIT_OK;
}

int
tcpa_live_run(struct tcpa_app *app, int argc, char **argv, int dd)
{
	static char *ev[MAX_EAL_ARGS + 16];
	int n, rc;

	(void)argc;
	n = build_eal_args(app, argv, dd, ev);
	eal_prefix(ev, n, app->eal_prefix, sizeof(app->eal_prefix));
	if (rte_eal_init(n, ev) < 0) {
		eal_failed(app->eal_prefix);
		return TCPA_EXIT_RUNTIME;
	}
	ifaces_note(app, ev, n);
	rc = start(app);
	if (rc == TCPA_EXIT_OK) {
		control_loop(app);
		__atomic_store_n(&app->ctl.stop, 1, __ATOMIC_RELAXED);
		rte_eal_mp_wait_lcore();
		tcpa_evlog_drain(app);
		if (app->opt.stats)
			print_core_stats(app);
		if (tcpa_app_print_report(app, stdout) != 0)
			rc = TCPA_EXIT_RUNTIME;
	}
	tcpa_evlog_close();
	tcpa_mgmt_close();
	tcpa_ports_stop();
	rte_eal_cleanup();
	runtime_dir_remove(app->eal_prefix);
	return rc;
}
