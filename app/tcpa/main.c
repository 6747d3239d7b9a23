/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcpa: passive TCP analyzer.
 *
 *   tcpa [EAL options] -- [tcpa options]      appliance (PCI port or --vdev)
 *   tcpa --pcap FILE|- [--pcap FILE] [--json] capture analysis, no DPDK setup
 *
 * This file: the command line, the configuration, signals, the report and
 * the exit status. live.c runs the appliance, offline.c the analysis.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "evlog.h"
#include "tcpa_app.h"
#include "tcpa_conf.h"
#include "tcpa_report.h"

#ifndef TCPA_SYSCONFDIR
#define TCPA_SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG TCPA_SYSCONFDIR "/tcpa/tcpa.json"

/* Only for the signal handlers, which take no argument. */
static struct tcpa_app *sig_app;

uint64_t
tcpa_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * TCPA_NS_PER_S + (uint64_t)ts.tv_nsec;
}

uint64_t
tcpa_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * TCPA_NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void
usage(FILE *out)
{
	fprintf(out,
		"Usage: tcpa --pcap FILE|- [--pcap FILE...] [--json] [options]\n"
		"       tcpa [EAL options] -- [options]\n"
		"\n"
		"Passive TCP analyzer: tracks both endpoints' TCP states of every connection\n"
		"and reports per endpoint (ip:port of servers, address of clients) the states\n"
		"and anomalies seen (CLOSE_WAIT leaks, refused connections, ...).\n"
		"\n"
		"Capture analysis (no NIC, no hugepages, no DPDK setup):\n"
		"  --pcap FILE          analyze a pcap or pcapng capture; '-' reads standard\n"
		"                       input; several are one capture, merged by time\n"
		"  --json               print the report as JSON (default: text for a person)\n"
		"  --flows              add every tracked connection to the JSON report\n"
		"Appliance (runs until SIGINT/SIGTERM, then prints the report):\n"
		"  tcpa -l 0-2 --vdev net_af_packet0,iface=eth1 -- [options]\n"
		"  tcpa -l 0-4 -a 0000:3b:00.0 -- [options]\n"
		"Options:\n"
		"  --config FILE        JSON configuration (default " DEFAULT_CONFIG
		" when it exists;\n"
		"                       --config '' reads none)\n"
		"  --mgmt PATH          management socket (default /run/tcpa/tcpa.sock; with\n"
		"                       --pcap only when given); query it with tcpactl\n"
		"  --duration SECONDS   stop after this much wall-clock time\n"
		"  --stats              print rates every second and per-RX-core cycles per packet\n"
		"                       at the end, to stderr\n"
		"  --rx-only            receive and free frames without analysis: measures what\n"
		"                       the port and driver alone deliver to one RX core\n"
		"  -h, --help           this help;  -V, --version  the version\n"
		"Signals: SIGINT, SIGTERM stop and print the report; SIGHUP reloads the live\n"
		"configuration keys and reopens the event log; SIGUSR1 writes the report to\n"
		"stderr and goes on.\n"
		"Exit status: 0 complete; 1 runtime failure; 2 usage or configuration error;\n"
		"3 interrupted before the capture's end (the report says \"complete\": false).\n"
		"Configuration keys (also in --config FILE; command line wins):\n");
	tcpa_conf_help(out);
}

/* --name and --name=value, or -h/-V. @return 0, 1 to exit 0 (help), -1 on error. */
static int
parse_flag(struct opts *o, const char *name)
{
	if (strcmp(name, "json") == 0)
		o->json = 1;
	else if (strcmp(name, "stats") == 0)
		o->stats = 1;
	else if (strcmp(name, "flows") == 0)
		o->flows = 1;
	else if (strcmp(name, "rx-only") == 0)
		o->rx_only = 1;
	else
		return 0;
	return 1;
}

static int
parse_value(struct opts *o, const char *name, const char *val)
{
	if (strcmp(name, "pcap") == 0) {
		if (o->npcap == TCPA_MAX_INPUTS) {
			fprintf(stderr, "tcpa: at most %d --pcap inputs\n", TCPA_MAX_INPUTS);
			return -1;
		}
		o->pcap[o->npcap++] = (char *)val;
	} else if (strcmp(name, "config") == 0) {
		o->config = val;
		o->config_given = 1;
	} else if (strcmp(name, "duration") == 0) {
		char *end;

		o->duration_s = strtod(val, &end);
		if (*end != '\0' || o->duration_s <= 0) {
			fprintf(stderr, "tcpa: --duration: expected seconds > 0, got '%s'\n", val);
			return -1;
		}
	} else if (tcpa_conf_is_key(name)) {
		if (strcmp(name, "mgmt") == 0)
			o->mgmt_given = 1;
		if (o->nkeys == TCPA_ARRAY_SIZE(o->key))
			return -1;
		o->key[o->nkeys] = name;
		o->val[o->nkeys++] = val;
	} else {
		fprintf(stderr, "tcpa: unknown option '--%s' (see tcpa --help)\n", name);
		return -1;
	}
	return 0;
}

static int
takes_value(const char *name)
{
	return strcmp(name, "pcap") == 0 || strcmp(name, "config") == 0 ||
		strcmp(name, "duration") == 0 || tcpa_conf_is_key(name);
}

/* @return 0, 1 when done (help or version printed), -1 on a usage error. */
static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static char names[256][128];

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *eq = strchr(a, '=');
		char *name = names[i < 256 ? i : 255];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 1;
		}
		if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf("tcpa %s\n", TCPA_VERSION);
			return 1;
		}
		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			fprintf(stderr, "tcpa: unexpected argument '%s' (see tcpa --help)\n", a);
			return -1;
		}
		snprintf(name, 128, "%.*s", eq != NULL ? (int)(eq - a - 2) : 127, a + 2);
		if (eq == NULL && parse_flag(o, name))
			continue;
		if (!takes_value(name)) {
			fprintf(stderr, "tcpa: unknown option '--%s' (see tcpa --help)\n", name);
			return -1;
		}
		if (eq == NULL && i + 1 >= argc) {
			fprintf(stderr, "tcpa: option --%s needs a value\n", name);
			return -1;
		}
		if (parse_value(o, name, eq != NULL ? eq + 1 : argv[++i]) != 0)
			return -1;
	}
	return 0;
}

/* Defaults, then the file (given, or the default one if present), then the command line. */
static int
load_conf(struct tcpa_app *app)
{
	const struct opts *o = &app->opt;
	const char *file = o->config_given ? o->config : DEFAULT_CONFIG;
	char err[512];

	tcpa_conf_defaults(&app->conf);
	if (file[0] != '\0' && (o->config_given || access(file, F_OK) == 0) &&
			tcpa_conf_load_file(&app->conf, file, err, sizeof(err)) != 0) {
		fprintf(stderr, "tcpa: %s\n", err);
		return -1;
	}
	for (unsigned i = 0; i < o->nkeys; i++) {
		if (tcpa_conf_set(&app->conf, o->key[i], o->val[i], 0, err, sizeof(err)) != 0) {
			fprintf(stderr, "tcpa: %s\n", err);
			return -1;
		}
	}
	if (tcpa_conf_check(&app->conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "tcpa: %s\n", err);
		return -1;
	}
	return 0;
}

void
tcpa_app_engine_conf(const struct tcpa_app *app, struct tcpa_engine_conf *ec)
{
	tcpa_engine_conf_from(&app->conf, app->conf.event_log[0] != '\0' ? 8192 : 0,
		&app->secret, ec);
}

void
tcpa_app_apply_conf(struct tcpa_app *app)
{
	uint32_t t[TCPA_FLOW_TMO_MAX];
	struct tcpa_anom_conf a;

	/* Word stores: each RX core picks them up on its next read. */
	tcpa_engine_timeouts(&app->conf, t);
	tcpa_anom_conf_from(&app->conf, &a);
	for (unsigned i = 0; i < app->nworkers; i++) {
		tcpa_engine_set_timeouts(app->workers[i].eng, t);
		tcpa_engine_set_anom(app->workers[i].eng, &a);
	}
}

/* ---- signals ---- */

static void
on_signal(int sig)
{
	if (sig_app == NULL)
		return;
	if (sig == SIGHUP)
		sig_app->sig_hup = 1;
	else if (sig == SIGUSR1)
		sig_app->sig_usr1 = 1;
	else {
		sig_app->sig_stop = 1;
		/* Also what a reader waiting on a silent pipe checks. */
		__atomic_store_n(&sig_app->ctl.stop, 1, __ATOMIC_RELAXED);
	}
}

void
tcpa_app_signals(struct tcpa_app *app)
{
	static const int handled[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGQUIT };
	static const int ignored[] = { SIGPIPE, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGTSTP,
		SIGTTIN, SIGTTOU };
	struct sigaction sa;

	sig_app = app;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	for (unsigned i = 0; i < TCPA_ARRAY_SIZE(handled); i++)
		sigaction(handled[i], &sa, NULL);
	sa.sa_handler = SIG_IGN;
	for (unsigned i = 0; i < TCPA_ARRAY_SIZE(ignored); i++)
		sigaction(ignored[i], &sa, NULL);
}

/*
 * SIGHUP: the configuration's live keys again (the file, then the command
 * line over it, all or nothing), and the event log reopened.
 */
static void
reload(struct tcpa_app *app)
{
	struct tcpa_conf c = app->conf;
	const struct opts *o = &app->opt;
	const char *file = o->config_given ? o->config : DEFAULT_CONFIG;
	char err[512];

	tcpa_evlog_reopen();
	if (file[0] == '\0' || (!o->config_given && access(file, F_OK) != 0))
		return;
	if (tcpa_conf_load_file(&c, file, err, sizeof(err)) != 0) {
		fprintf(stderr, "tcpa: SIGHUP: configuration not reloaded: %s\n", err);
		return;
	}
	for (unsigned i = 0; i < o->nkeys; i++)
		tcpa_conf_set(&c, o->key[i], o->val[i], 0, err, sizeof(err));
#define X(name, def, min, max, live, help) \
	if (!(live) && c.name != app->conf.name) { \
		fprintf(stderr, "tcpa: SIGHUP: %s changes only at start; keeping %" PRIu64 "\n", \
			#name, app->conf.name); \
		c.name = app->conf.name; \
	}
	TCPA_CONF_NUM(X)
#undef X
	if (tcpa_conf_check(&c, err, sizeof(err)) != 0) {
		fprintf(stderr, "tcpa: SIGHUP: configuration not reloaded: %s\n", err);
		return;
	}
	app->conf = c;
	tcpa_app_apply_conf(app);
	fprintf(stderr, "tcpa: SIGHUP: configuration reloaded\n");
}

int
tcpa_app_signal_work(struct tcpa_app *app)
{
	if (app->sig_hup) {
		app->sig_hup = 0;
		reload(app);
	}
	if (app->sig_usr1) {
		app->sig_usr1 = 0;
		fprintf(stderr, "tcpa: SIGUSR1: the report so far\n");
		tcpa_app_print_report(app, stderr);
	}
	return app->sig_stop != 0;
}

/* ---- report ---- */

int
tcpa_app_print_report(struct tcpa_app *app, FILE *out)
{
	json_t *r = tcpa_app_report(app, app->opt.flows);
	int rc;

	if (r == NULL)
		return -ENOMEM;
	if (app->opt.json) {
		rc = json_dumpf(r, out, JSON_INDENT(2)) == 0 ? 0 : -EIO;
		fputc('\n', out);
	} else {
		rc = tcpa_report_print_text(out, r);
	}
	json_decref(r);
	if (fflush(out) != 0)
		rc = -EIO;
	return rc;
}

/*
 * Capture analysis runs without the EAL: of the EAL options only the lcore
 * list means something (how many RX cores); the others are said to be
 * unused.
 */
static void
eal_opts_offline(struct tcpa_app *app, char **argv, int dd)
{
	int other = 0;

	for (int i = 1; i < dd; i++) {
		const char *a = argv[i];

		if ((strcmp(a, "-l") == 0 || strcmp(a, "--lcores") == 0) && i + 1 < dd)
			app->opt.eal_lcores = argv[++i];
		else if (strncmp(a, "--lcores=", 9) == 0)
			app->opt.eal_lcores = a + 9;
		else if (strncmp(a, "-l", 2) == 0 && a[2] != '\0')
			app->opt.eal_lcores = a + 2;
		else
			other = 1;
	}
	if (other)
		fprintf(stderr, "tcpa: with --pcap, EAL options other than the lcore list are "
			"not used (capture analysis runs without DPDK setup)\n");
}

int
main(int argc, char **argv)
{
	/*
	 * One per process, for the whole process: the signal handlers, the
	 * management socket and DPDK telemetry callbacks may refer to it until
	 * exit, and no return path has to free it.
	 */
	static struct tcpa_app the_app;
	struct tcpa_app *app = &the_app;
	int dd = 0, rc;

	if (argc == 1) {
		usage(stderr);
		return TCPA_EXIT_USAGE;
	}
	app->start_mono_ns = tcpa_mono_ns();
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			dd = i;
			break;
		}
	rc = parse_opts(dd > 0 ? argc - dd - 1 : argc - 1, argv + (dd > 0 ? dd + 1 : 1), &app->opt);
	if (rc != 0)
		return rc > 0 ? TCPA_EXIT_OK : TCPA_EXIT_USAGE;
	if (load_conf(app) != 0)
		return TCPA_EXIT_USAGE;
	/* Checked by load_conf(): the parser's list for every RX core, set once. */
	{
		uint16_t vx[TCPA_PKT_MAX_VXLAN_PORTS];
		int n = tcpa_conf_vxlan_ports(&app->conf, vx, NULL, 0);

		tcpa_pkt_vxlan_ports_set(vx, n > 0 ? (unsigned)n : 0);
	}
	if (tcpa_hash_secret_init(&app->secret, app->conf.hash_seed) != 0) {
		fprintf(stderr, "tcpa: no randomness for the hash secret: %s\n", strerror(errno));
		return TCPA_EXIT_RUNTIME;
	}
	tcpa_app_signals(app);
	if (app->opt.npcap > 0) {
		eal_opts_offline(app, argv, dd);
		return tcpa_offline_run(app);
	}
	return tcpa_live_run(app, argc, argv, dd);
}
