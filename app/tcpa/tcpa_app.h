/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internal header of the appliance: the application's state (struct
 * tcpa_app, one per process, passed to whatever needs it) and what its
 * files share.
 *
 *   main.c     options, configuration, the report and the exit status
 *   live.c     the appliance: EAL, ports, lcores, control loop
 *   offline.c  capture analysis: threads over input.c, no EAL
 *   input.c    capture files and standard input, merged by time
 *   worker.c   the RX core loop, for both
 *   port.c     ports, queues, RSS (live)
 *   ctl.c      the management commands' answers
 *   evlog.c    the event log
 *
 * Only live.c and port.c initialize DPDK; capture analysis runs the same
 * workers on threads of its own.
 */
#ifndef TCPA_APP_H
#define TCPA_APP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_ring.h>

#include "tcpa_cap.h"
#include "tcpa_conf.h"
#include "tcpa_engine.h"

#define TCPA_VERSION "0.1.0"
#define TCPA_MAX_WORKERS 64
#define TCPA_MAX_RXQ 16         /* queues one worker may poll */
#define TCPA_MAX_INPUTS 64      /* --pcap files */

/* Exit statuses (INTERFACES.md). */
#define TCPA_EXIT_OK 0
#define TCPA_EXIT_RUNTIME 1
#define TCPA_EXIT_USAGE 2
#define TCPA_EXIT_INTERRUPTED 3

struct rxq_ref {
	uint16_t port;
	uint16_t queue;
};

/* One frame as a source delivers it. */
struct frame {
	const uint8_t *data;
	uint32_t caplen;
	uint32_t wirelen;
	uint32_t linktype;
	uint64_t ts;            /* packet time, ns; 0 = the reader's clock */
};

struct tcpa_input;

/*
 * The live clock: packet time = ns + (tsc - tsc0) * mult >> 32, anchored
 * to CLOCK_REALTIME. The control core re-anchors it every second (slewing
 * the rate so time neither steps nor runs backwards), writing the slot the
 * RX cores are not reading and then publishing its index.
 */
struct live_clock_slot {
	uint64_t tsc0;
	uint64_t ns0;
	uint64_t mult;          /* ns per TSC tick << 32 */
};

struct live_clock {
	struct live_clock_slot slot[2];
	uint32_t cur;           /* slot the RX cores read (release/acquire) */
};

/* What the control side tells the workers. */
struct ctl_flags {
	uint32_t stop;          /* leave the loop now (signal, duration) */
	uint32_t readers_done;  /* offline: the input is exhausted */
};

/* One RX core. Written by its core; the control core reads flags only. */
struct TCPA_CACHE_ALIGNED worker {
	unsigned idx;                   /* 0..nworkers-1, the tcpa_pkt.rxc value */
	unsigned lcore;                 /* live: its lcore */
	unsigned nworkers;
	struct tcpa_engine *eng;
	const struct tcpa_hash_secret *secret;
	const struct ctl_flags *ctl;
	const struct live_clock *clock; /* live only */
	struct rxq_ref rxq[TCPA_MAX_RXQ];
	unsigned nrxq;
	struct tcpa_input *input;       /* offline: the reader's input, NULL for others */
	struct rte_ring *out[TCPA_MAX_WORKERS]; /* to owner j; NULL for self */
	struct rte_ring *in[TCPA_MAX_WORKERS];  /* from reader j; NULL for self */
	bool offline;                   /* capture analysis: lossless back-pressure */
	bool rx_only;                   /* benchmark aid: receive and free, no analysis */
	int ts_off;                     /* live: mbuf timestamp dynfield offset, -1 none */
	uint64_t ts_flag;               /* live: ol_flags bit saying the field is set */
	uint64_t busy_tsc;              /* TSC spent on bursts that had packets */
	uint32_t reader_done;           /* set (release) when its sources are exhausted */
	uint32_t finished;              /* set (release) when it left its loop */
	uint64_t pub_next;              /* TSC of the next publication (live) */
	uint64_t pub_period;            /* TSC ticks between publications (~1 ms; 0: per burst) */
	uint32_t pub_bursts;            /* offline: bursts since the last publication */
	uint32_t idle_turns;            /* offline: turns in a row with nothing to do */
	bool zones;                     /* tunnel_in_key: VLANs and tunnels in the flow key */
	/*
	 * Published copy of the engine's counters, refreshed every ~1 ms by the
	 * RX core under a sequence count (odd while writing), so the control
	 * core reads one consistent snapshot without stopping the core.
	 */
	TCPA_CACHE_ALIGNED uint32_t pub_seq;
	struct tcpa_stats pub;
};

/** A consistent copy of RX core @p w's last published counters. */
void tcpa_worker_stats(const struct worker *w, struct tcpa_stats *out);
/** Publish @p w's counters now (its own core, or after it stopped). */
void tcpa_worker_publish(struct worker *w);
/** The RX core loop (an lcore function or a thread's body). */
int tcpa_worker_main(void *arg);

struct tcpa_app;

/** What every RX core is, whatever runs it: index, engine, secret, flags. */
void tcpa_worker_init(struct worker *w, struct tcpa_app *app, unsigned idx,
		struct tcpa_engine *eng);

/** A ring of tcpa_pkt, single producer and consumer, for RX core @p owner. NULL on error. */
typedef struct rte_ring *(*tcpa_ring_make_fn)(struct tcpa_app *app, unsigned owner,
		const char *name);

/** A ring from every RX core to every other, made by @p make. 0, or -1. */
int tcpa_workers_connect(struct tcpa_app *app, tcpa_ring_make_fn make);

/* What the process was asked to do (command line). */
struct opts {
	char *pcap[TCPA_MAX_INPUTS];
	unsigned npcap;
	int json;
	int stats;
	int rx_only;
	int flows;
	int mgmt_given;
	int config_given;
	double duration_s;
	const char *config;
	const char *eal_lcores;         /* -l/--lcores given before '--' (capture analysis) */
	/* command-line config keys, applied over the file */
	const char *key[256];
	const char *val[256];
	unsigned nkeys;
};

/* The application: one per process. */
struct tcpa_app {
	struct opts opt;
	struct tcpa_conf conf;          /* live keys change at run time */
	struct tcpa_hash_secret secret;
	struct worker *workers;
	unsigned nworkers;
	struct ctl_flags ctl;
	struct live_clock clock;        /* live */
	struct tcpa_input *input;       /* offline */
	bool offline;
	bool complete;                  /* offline: the input was read to its end */
	uint64_t start_mono_ns;         /* CLOCK_MONOTONIC at start */
	char eal_prefix[64];            /* live: the EAL file prefix */
	/* live: af_packet ports' interfaces and their kernel counters at start */
	unsigned nifaces;
	struct {
		uint16_t port;
		char name[32];
		uint64_t rx0;           /* rx_packets + tx_packets when the port started */
		uint64_t missed_max;    /* rx_missed as reported so far (control core) */
	} iface[16];
	/* Set from signal handlers; acted on by the control loop. */
	volatile sig_atomic_t sig_stop, sig_hup, sig_usr1;
};

/* Nanoseconds of CLOCK_MONOTONIC / CLOCK_REALTIME. */
uint64_t tcpa_mono_ns(void);
uint64_t tcpa_real_ns(void);

/* main.c: the report of the current state (caller owns it), NULL on ENOMEM. */
struct json_t *tcpa_app_report(struct tcpa_app *app, int with_flows);
/* main.c: write the report (text or JSON as asked) to @p out. 0 or -EIO. */
int tcpa_app_print_report(struct tcpa_app *app, FILE *out);
/* main.c: apply the live configuration keys to every RX core's engine. */
void tcpa_app_apply_conf(struct tcpa_app *app);
/* main.c: the signals a daemon may get, handled or ignored. */
void tcpa_app_signals(struct tcpa_app *app);
/* main.c: handle what signals asked for; returns 1 when asked to stop. */
int tcpa_app_signal_work(struct tcpa_app *app);
/* main.c: the engine configuration of this run. */
void tcpa_app_engine_conf(const struct tcpa_app *app, struct tcpa_engine_conf *ec);

/* live.c: run the appliance; returns the exit status. */
int tcpa_live_run(struct tcpa_app *app, int argc, char **argv, int dd);
/* offline.c: lcores in an EAL lcore list (-l or --lcores syntax), 0 if unreadable. */
unsigned tcpa_lcore_count(const char *list);
/* offline.c: analyze the --pcap inputs; returns the exit status. */
int tcpa_offline_run(struct tcpa_app *app);

/* port.c */
struct port_plan {
	unsigned nworkers;
	unsigned socket;
	uint32_t mbufs;
	uint32_t mbuf_size;
};
/** Configure and start every port; assign queues to workers. 0 or -errno. */
int tcpa_ports_setup(const struct port_plan *plan, struct worker *w);
void tcpa_ports_stop(void);
/*
 * Frames interface @p ifname received plus those it sent, from the
 * kernel's counters (0 when unreadable): an af_packet socket sees both.
 */
uint64_t tcpa_iface_carried(const char *ifname);

/* worker.c: the live clock's time at TSC @tsc. */
uint64_t tcpa_live_clock_ns(const struct live_clock *k, uint64_t tsc);

#endif /* TCPA_APP_H */
