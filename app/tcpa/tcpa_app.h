/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TCPA_APP_H
#define TCPA_APP_H

/*
 * Internal header of the appliance: what main.c, port.c, worker.c and
 * capture.c share. Only app/ sees DPDK.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_ring.h>

#include "tcpa_conf.h"
#include "tcpa_engine.h"

#define TCPA_MAX_WORKERS 64
#define TCPA_MAX_RXQ 16         /* queues one worker may poll */

struct rxq_ref {
	uint16_t port;
	uint16_t queue;
};

/* One RX lcore. Written by its lcore; the control core reads flags only. */
struct TCPA_CACHE_ALIGNED worker {
	unsigned idx;                   /* 0..nworkers-1, the tcpa_pkt.rxc value */
	unsigned lcore;
	unsigned nworkers;
	struct tcpa_engine *eng;
	const struct tcpa_hash_secret *secret;
	struct rxq_ref rxq[TCPA_MAX_RXQ];
	unsigned nrxq;
	struct rte_ring *out[TCPA_MAX_WORKERS]; /* to owner j; NULL for self */
	struct rte_ring *in[TCPA_MAX_WORKERS];  /* from reader j; NULL for self */
	bool offline;                   /* capture replay: lossless back-pressure */
	bool rx_only;                   /* benchmark aid: receive and free, no analysis */
	uint64_t expect;                /* offline: frames its queues will deliver */
	uint64_t got;                   /* frames received from its queues */
	int ts_off;                     /* mbuf timestamp dynfield offset, -1 none */
	uint64_t ts_flag;               /* ol_flags bit saying the field is set */
	uint64_t ts_mult;               /* live: ns per TSC tick << 32 */
	uint64_t tsc0, ns0;             /* live: TSC and wall-clock ns at start */
	uint64_t busy_tsc;              /* TSC spent on bursts that had packets */
	uint32_t reader_done;           /* set (release) when its queues are exhausted */
	uint32_t finished;              /* set (release) when it left its loop */
	uint64_t pub_next;              /* TSC of the next publication */
	uint64_t pub_period;            /* TSC ticks between publications (~1 ms) */
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
/** Publish @p w's counters now (its own lcore, or after it stopped). */
void tcpa_worker_publish(struct worker *w);

/* What the control core tells the workers. */
struct ctl_flags {
	uint32_t stop;                  /* leave the loop now (signal) */
	uint32_t readers_done;          /* offline: every reader exhausted its input */
};

extern struct ctl_flags tcpa_ctl;

/* The appliance's state, owned by main.c, read by ctl.c on the control core. */
extern struct tcpa_conf tcpa_conf_g;    /* live keys change at run time */
extern struct worker *tcpa_workers;
extern unsigned tcpa_nworkers;
extern uint64_t tcpa_start_tsc;

#define TCPA_VERSION "0.1.0"

/* ctl.c: the report object of the current state (caller owns it). */
struct json_t *tcpa_ctl_build_report(int with_flows);
/* ctl.c: apply the live configuration keys to every RX core's engine. */
void tcpa_ctl_apply_conf(void);

int tcpa_worker_main(void *arg);

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

/* capture.c */
/**
 * Check capture files, count their frames and, for several, merge them by
 * time into one temporary file (*merged, to unlink at exit).
 * @return 0 or -1 with a message printed.
 */
int tcpa_capture_prepare(char **files, unsigned n, uint64_t *frames, char *merged, size_t len);

#endif /* TCPA_APP_H */
