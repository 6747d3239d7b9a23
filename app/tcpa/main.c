/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcpa: passive TCP analyzer.
 *
 *   tcpa [EAL options] -- [tcpa options]      appliance (PCI port or --vdev)
 *   tcpa --pcap FILE [--pcap FILE2] [--json]  capture analysis, no DPDK knowledge
 *
 * The main lcore is the control core; every other lcore is an RX core.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include <jansson.h>

#include "evlog.h"
#include "mgmt.h"
#include "tcpa_app.h"
#include "tcpa_conf.h"
#include "tcpa_report.h"

#define MAX_PCAP 64
#define MAX_EAL_ARGS 128

struct opts {
	char *pcap[MAX_PCAP];
	unsigned npcap;
	int json;
	int stats;
	int rx_only;
	int flows;
	int mgmt_given;
	double duration_s;
	const char *config;
	/* command-line config keys, applied over the file */
	const char *key[256];
	const char *val[256];
	unsigned nkeys;
};

struct tcpa_conf tcpa_conf_g;
struct worker *tcpa_workers;
unsigned tcpa_nworkers;
uint64_t tcpa_start_tsc;
static struct tcpa_hash_secret secret;
static char merged_pcap[256];

static void
usage(FILE *out)
{
	fprintf(out,
		"Usage: tcpa --pcap FILE [--pcap FILE...] [--json] [options]\n"
		"       tcpa [EAL options] -- [options]\n"
		"\n"
		"Passive TCP analyzer: tracks both endpoints' TCP states of every connection\n"
		"and reports per endpoint (ip:port of servers, address of clients) the states\n"
		"and anomalies seen (CLOSE_WAIT leaks, refused connections, ...).\n"
		"\n"
		"Capture analysis (no NIC, no hugepages):\n"
		"  --pcap FILE          analyze a pcap or pcapng capture; several = one capture\n"
		"  --json               print the report as JSON (default: text for a person)\n"
		"  --flows              add every tracked connection to the JSON report\n"
		"Appliance (runs until SIGINT/SIGTERM, then prints the report):\n"
		"  tcpa -l 0-2 --vdev net_af_packet0,iface=eth1 -- [options]\n"
		"  tcpa -l 0-4 -a 0000:3b:00.0 -- [options]\n"
		"Options:\n"
		"  --config FILE        JSON configuration (see config/tcpa.json)\n"
		"  --mgmt PATH          management socket (default /run/tcpa/tcpa.sock; with\n"
		"                       --pcap only when given); query it with tcpactl\n"
		"  --duration SECONDS   stop after this much wall-clock time\n"
		"  --stats              print rates every second and per-RX-core cycles per packet\n"
		"                       at the end, to stderr\n"
		"  --rx-only            receive and free frames without analysis: measures what\n"
		"                       the port and driver alone deliver to one RX core\n"
		"  -h, --help           this help;  -V, --version  the version\n"
		"Configuration keys (also in --config FILE; command line wins):\n");
	tcpa_conf_help(out);
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *eq = strchr(a, '=');
		char name[128];
		const char *val = NULL;

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			exit(0);
		}
		if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf("tcpa %s\n", TCPA_VERSION);
			exit(0);
		}
		if (strncmp(a, "--", 2) != 0) {
			fprintf(stderr, "tcpa: unexpected argument '%s' (see tcpa --help)\n", a);
			return -1;
		}
		snprintf(name, sizeof(name), "%.*s", eq != NULL ? (int)(eq - a - 2) : 127, a + 2);
		if (strcmp(name, "json") == 0) {
			o->json = 1;
			continue;
		}
		if (strcmp(name, "stats") == 0) {
			o->stats = 1;
			continue;
		}
		if (strcmp(name, "flows") == 0) {
			o->flows = 1;
			continue;
		}
		if (strcmp(name, "rx-only") == 0) {
			o->rx_only = 1;
			continue;
		}
		if (eq != NULL) {
			val = eq + 1;
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			fprintf(stderr, "tcpa: option --%s needs a value\n", name);
			return -1;
		}
		if (strcmp(name, "pcap") == 0) {
			if (o->npcap == MAX_PCAP) {
				fprintf(stderr, "tcpa: at most %d --pcap files\n", MAX_PCAP);
				return -1;
			}
			o->pcap[o->npcap++] = (char *)val;
		} else if (strcmp(name, "config") == 0) {
			o->config = val;
		} else if (strcmp(name, "duration") == 0) {
			char *end;

			o->duration_s = strtod(val, &end);
			if (*end != '\0' || o->duration_s <= 0) {
				fprintf(stderr, "tcpa: --duration: expected seconds > 0, got '%s'\n",
					val);
				return -1;
			}
		} else if (tcpa_conf_is_key(name)) {
			if (strcmp(name, "mgmt") == 0)
				o->mgmt_given = 1;
			if (o->nkeys == TCPA_ARRAY_SIZE(o->key))
				return -1;
			o->key[o->nkeys] = strdup(name);
			o->val[o->nkeys++] = val;
		} else {
			fprintf(stderr, "tcpa: unknown option '--%s' (see tcpa --help)\n", name);
			return -1;
		}
	}
	return 0;
}

static int
load_conf(const struct opts *o)
{
	char err[512];

	tcpa_conf_defaults(&tcpa_conf_g);
	if (o->config != NULL && tcpa_conf_load_file(&tcpa_conf_g, o->config, err, sizeof(err)) != 0) {
		fprintf(stderr, "tcpa: %s\n", err);
		return -1;
	}
	for (unsigned i = 0; i < o->nkeys; i++) {
		if (tcpa_conf_set(&tcpa_conf_g, o->key[i], o->val[i], 0, err, sizeof(err)) != 0) {
			fprintf(stderr, "tcpa: %s\n", err);
			return -1;
		}
	}
	if (tcpa_conf_check(&tcpa_conf_g, err, sizeof(err)) != 0) {
		fprintf(stderr, "tcpa: %s\n", err);
		return -1;
	}
	return 0;
}

static void
engine_conf(struct tcpa_engine_conf *ec)
{
	tcpa_engine_conf_from(&tcpa_conf_g, tcpa_conf_g.event_log[0] != '\0' ? 8192 : 0, &secret,
		ec);
}

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
mem_needed_mb(unsigned lcores)
{
	struct tcpa_engine_conf ec;
	uint64_t b;

	engine_conf(&ec);
	b = (uint64_t)lcores * tcpa_engine_memsize(&ec);
	b += tcpa_conf_g.mbufs * (tcpa_conf_g.mbuf_size + 256 + 128);
	b += (uint64_t)lcores * lcores * tcpa_conf_g.ring_size * sizeof(struct tcpa_pkt);
	return (unsigned)(b >> 20) + 128;
}

static int
build_eal_args(int argc, char **argv, int dd, const struct opts *o, char **ev)
{
	static char vdev[4096], mem[32], prefix[64], lcores[300];
	int n = 0, user = dd > 0 ? dd - 1 : 0;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned nl = 2;

	(void)argc;
	ev[n++] = argv[0];
	for (int i = 1; i <= user; i++)
		ev[n++] = argv[i];
	if (!has_arg(ev, n, "-l") && !has_arg(ev, n, "-c") && !has_arg(ev, n, "--lcores")) {
		if (tcpa_conf_g.lcores[0] != '\0')
			snprintf(lcores, sizeof(lcores), "-l%s", tcpa_conf_g.lcores);
		else if (ncpu >= 2)
			snprintf(lcores, sizeof(lcores), "-l0-1");
		else
			snprintf(lcores, sizeof(lcores), "--lcores=0@0,1@0");
		ev[n++] = lcores;
	}
	if (o->npcap > 0) {
		const char *file = merged_pcap[0] != '\0' ? merged_pcap : o->pcap[0];

		snprintf(vdev, sizeof(vdev), "--vdev=net_pcap_tcpa,rx_pcap=%s", file);
		ev[n++] = vdev;
		if (!has_arg(ev, n, "-a") && !has_arg(ev, n, "-b") && !has_arg(ev, n, "--allow"))
			ev[n++] = "--no-pci";
		if (!has_arg(ev, n, "--no-telemetry"))
			ev[n++] = "--no-telemetry";
		if (!has_arg(ev, n, "--no-shconf"))
			ev[n++] = "--no-shconf";
	}
	if (!has_arg(ev, n, "--huge-dir") && !has_arg(ev, n, "--no-huge") &&
			!has_arg(ev, n, "--socket-mem") && !has_arg(ev, n, "-m") &&
			(o->npcap > 0 || free_hugepages() == 0)) {
		ev[n++] = "--no-huge";
		nl = ncpu > 2 ? (unsigned)ncpu : 2;
		snprintf(mem, sizeof(mem), "-m%u", mem_needed_mb(nl));
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

/* ---- dataplane setup ---- */

static int
setup_workers(const struct opts *o, uint64_t frames)
{
	struct tcpa_engine_conf ec;
	struct port_plan plan;
	unsigned lc, i = 0;
	size_t msz;

	tcpa_nworkers = rte_lcore_count() - 1;
	if (tcpa_nworkers == 0 || tcpa_nworkers > TCPA_MAX_WORKERS) {
		fprintf(stderr, "tcpa: need 2 to %d lcores (one control, the rest RX), got %u\n",
			TCPA_MAX_WORKERS + 1, rte_lcore_count());
		return -1;
	}
	tcpa_workers = rte_zmalloc("tcpa_workers", sizeof(*tcpa_workers) * tcpa_nworkers, RTE_CACHE_LINE_SIZE);
	if (tcpa_workers == NULL)
		return -1;
	engine_conf(&ec);
	msz = tcpa_engine_memsize(&ec);
	RTE_LCORE_FOREACH_WORKER(lc) {
		struct worker *w = &tcpa_workers[i];
		void *mem = rte_zmalloc_socket("tcpa_engine", msz, RTE_CACHE_LINE_SIZE,
				(int)rte_lcore_to_socket_id(lc));

		if (mem == NULL) {
			fprintf(stderr, "tcpa: cannot reserve %zu MiB for RX core %u's tables "
				"(flows_per_core=%" PRIu64 "); lower flows_per_core or give more "
				"memory\n", msz >> 20, lc, tcpa_conf_g.flows_per_core);
			return -1;
		}
		w->idx = i;
		w->lcore = lc;
		w->nworkers = tcpa_nworkers;
		w->eng = tcpa_engine_init(mem, &ec);
		w->secret = &secret;
		w->offline = o->npcap > 0;
		w->rx_only = o->rx_only;
		w->ts_mult = (uint64_t)(((__uint128_t)TCPA_NS_PER_S << 32) / rte_get_tsc_hz());
		w->pub_period = rte_get_tsc_hz() / 1000;
		i++;
	}
	/* Core-to-core rings: ring [j -> k] carries segments read by j, owned by k. */
	for (unsigned j = 0; j < tcpa_nworkers && tcpa_nworkers > 1; j++) {
		for (unsigned k = 0; k < tcpa_nworkers; k++) {
			char name[RTE_RING_NAMESIZE];
			struct rte_ring *r;

			if (j == k)
				continue;
			snprintf(name, sizeof(name), "tcpa_%u_%u", j, k);
			r = rte_ring_create_elem(name, sizeof(struct tcpa_pkt),
					(unsigned)tcpa_conf_g.ring_size, (int)rte_lcore_to_socket_id(
						tcpa_workers[k].lcore), RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (r == NULL) {
				fprintf(stderr, "tcpa: cannot create ring %s: %s\n", name,
					rte_strerror(rte_errno));
				return -1;
			}
			tcpa_workers[j].out[k] = r;
			tcpa_workers[k].in[j] = r;
		}
	}
	plan.nworkers = tcpa_nworkers;
	plan.socket = rte_socket_id();
	plan.mbufs = (uint32_t)tcpa_conf_g.mbufs;
	plan.mbuf_size = (uint32_t)tcpa_conf_g.mbuf_size;
	if (tcpa_ports_setup(&plan, tcpa_workers) != 0)
		return -1;
	/* A capture has one queue: its reader expects every frame. */
	for (i = 0; i < tcpa_nworkers; i++)
		if (tcpa_workers[i].nrxq != 0)
			tcpa_workers[i].expect = frames;
	return 0;
}

static void
on_signal(int sig)
{
	if (sig == SIGHUP) {
		tcpa_evlog_reopen();
		return;
	}
	__atomic_store_n(&tcpa_ctl.stop, 1, __ATOMIC_RELAXED);
}

/*
 * Every second the control core sums the RX cores' counters (relaxed reads
 * of words only their core writes: no core is stopped) into a snapshot;
 * with --stats it prints the rates to stderr.
 */
static void
aggregate(const struct opts *o, double t)
{
	static struct tcpa_stats prev;
	static double prev_t;
	static struct tcpa_stats core[TCPA_MAX_WORKERS];
	const struct tcpa_stats *st[TCPA_MAX_WORKERS];
	struct tcpa_stats sum;
	uint64_t drops;
	double dt = t - prev_t;

	for (unsigned i = 0; i < tcpa_nworkers; i++) {
		tcpa_worker_stats(&tcpa_workers[i], &core[i]);
		st[i] = &core[i];
	}
	tcpa_report_sum_stats(st, tcpa_nworkers, &sum);
	drops = sum.ring_full;
	if (o->stats && dt > 0)
		fprintf(stderr, "tcpa: %.1f s: %.0f frames/s, %.0f segments/s, %" PRIu64
			" connections tracked, %" PRIu64 " seen, %" PRIu64 " dropped\n", t,
			(double)(sum.rx_pkts - prev.rx_pkts) / dt,
			(double)(sum.tcp_pkts - prev.tcp_pkts) / dt, sum.flows_active,
			sum.flows_new, drops);
	prev = sum;
	prev_t = t;
}

static void
control_loop(const struct opts *o)
{
	uint64_t t0 = rte_get_timer_cycles(), hz = rte_get_timer_hz();
	uint64_t next = t0 + hz;
	struct timespec tick = { 0, 10 * 1000 * 1000 };

	for (;;) {
		unsigned rd = 0, fin = 0;

		/* The management socket's poll is the loop's only wait. */
		tcpa_mgmt_poll((int)(tick.tv_nsec / 1000000));
		tcpa_evlog_drain();
		if (rte_get_timer_cycles() >= next) {
			aggregate(o, (double)(rte_get_timer_cycles() - t0) / (double)hz);
			next += hz;
		}
		for (unsigned i = 0; i < tcpa_nworkers; i++) {
			rd += __atomic_load_n(&tcpa_workers[i].reader_done, __ATOMIC_ACQUIRE);
			fin += __atomic_load_n(&tcpa_workers[i].finished, __ATOMIC_ACQUIRE);
		}
		if (rd == tcpa_nworkers)
			__atomic_store_n(&tcpa_ctl.readers_done, 1, __ATOMIC_RELEASE);
		if (fin == tcpa_nworkers)
			return;
		if (o->duration_s > 0 && (double)(rte_get_timer_cycles() - t0) / hz >= o->duration_s)
			__atomic_store_n(&tcpa_ctl.stop, 1, __ATOMIC_RELAXED);
		if (__atomic_load_n(&tcpa_ctl.stop, __ATOMIC_RELAXED))
			return;
	}
}

static void
print_core_stats(void)
{
	double hz = (double)rte_get_tsc_hz();

	fprintf(stderr, "tsc_hz %" PRIu64 "\n", rte_get_tsc_hz());
	for (unsigned i = 0; i < tcpa_nworkers; i++) {
		const struct tcpa_stats *st = tcpa_engine_stats(tcpa_workers[i].eng);
		uint64_t pk = st->rx_pkts > st->tcp_pkts ? st->rx_pkts : st->tcp_pkts;
		double cpp = pk != 0 ? (double)tcpa_workers[i].busy_tsc / (double)pk : 0;

		fprintf(stderr, "core %u (lcore %u): rx %" PRIu64 " frames, analyzed %" PRIu64
			" segments, %.1f cycles/packet busy, %.2f Mpps at that rate\n",
			i, tcpa_workers[i].lcore, st->rx_pkts, st->tcp_pkts, cpp,
			cpp > 0 ? hz / cpp / 1e6 : 0.0);
	}
}

static int
report(const struct opts *o)
{
	json_t *r = tcpa_ctl_build_report(o->flows);
	int rc;

	if (r == NULL)
		return -ENOMEM;
	if (o->json) {
		rc = json_dumpf(r, stdout, JSON_INDENT(2)) == 0 ? 0 : -EIO;
		fputc('\n', stdout);
	} else {
		rc = tcpa_report_print_text(stdout, r);
	}
	json_decref(r);
	fflush(stdout);
	return rc;
}

int
main(int argc, char **argv)
{
	static char *ev[MAX_EAL_ARGS + 16];
	struct opts o;
	uint64_t frames = 0;
	int dd = 0, n, rc;

	memset(&o, 0, sizeof(o));
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			dd = i;
			break;
		}
	if (dd > MAX_EAL_ARGS) {
		fprintf(stderr, "tcpa: too many EAL arguments\n");
		return 2;
	}
	if (parse_opts(dd > 0 ? argc - dd - 1 : argc - 1, argv + (dd > 0 ? dd + 1 : 1), &o) != 0 ||
			load_conf(&o) != 0)
		return 2;
	if (o.npcap > 0 && tcpa_capture_prepare(o.pcap, o.npcap, &frames, merged_pcap,
			sizeof(merged_pcap)) != 0)
		return 1;
	if (tcpa_hash_secret_init(&secret, tcpa_conf_g.hash_seed) != 0) {
		fprintf(stderr, "tcpa: no randomness for the hash secret: %s\n", strerror(errno));
		return 1;
	}
	n = build_eal_args(argc, argv, dd, &o, ev);
	rc = rte_eal_init(n, ev);
	if (rc < 0) {
		fprintf(stderr, "tcpa: EAL initialization failed: %s\n", rte_strerror(rte_errno));
		if (merged_pcap[0] != '\0')
			unlink(merged_pcap);
		return 1;
	}
	tcpa_start_tsc = rte_get_timer_cycles();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	if (setup_workers(&o, frames) != 0) {
		if (merged_pcap[0] != '\0')
			unlink(merged_pcap);
		rte_exit(EXIT_FAILURE, "tcpa: dataplane setup failed\n");
	}
	if (tcpa_conf_g.event_log[0] != '\0' && tcpa_evlog_open(tcpa_conf_g.event_log) != 0)
		rte_exit(EXIT_FAILURE, "tcpa: event log unavailable\n");
	/* Live always serves the socket; a capture only when --mgmt asks for it. */
	if ((o.npcap == 0 || o.mgmt_given) && tcpa_mgmt_open(tcpa_conf_g.mgmt) != 0)
		rte_exit(EXIT_FAILURE, "tcpa: management socket unavailable (--mgmt PATH)\n");
	if (o.npcap == 0)
		tcpa_mgmt_register_telemetry();
	for (unsigned i = 0; i < tcpa_nworkers; i++)
		rte_eal_remote_launch(tcpa_worker_main, &tcpa_workers[i], tcpa_workers[i].lcore);
	if (o.npcap == 0)
		fprintf(stderr, "tcpa: analyzing %u port(s) on %u RX core(s); SIGINT or SIGTERM "
			"stops and prints the report\n", rte_eth_dev_count_avail(), tcpa_nworkers);
	control_loop(&o);
	__atomic_store_n(&tcpa_ctl.stop, 1, __ATOMIC_RELAXED);
	rte_eal_mp_wait_lcore();
	tcpa_evlog_drain();
	tcpa_evlog_close();
	tcpa_mgmt_close();
	if (merged_pcap[0] != '\0')
		unlink(merged_pcap);
	if (o.stats)
		print_core_stats();
	rc = report(&o);
	tcpa_ports_stop();
	rte_eal_cleanup();
	return rc == 0 ? 0 : 1;
}
