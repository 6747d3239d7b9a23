/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports: every port the EAL offers, as many RX queues as there are RX
 * cores (or as the port allows), symmetric Toeplitz RSS where the port can
 * hash, promiscuous (a mirror port's traffic is not addressed to us).
 * Queues are dealt to RX cores round-robin across ports.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "tcpa_app.h"

RTE_LOG_REGISTER(tcpa_logtype_port, tcpa.port, INFO);
#define RTE_LOGTYPE_TCPA_PORT tcpa_logtype_port
#define PORT_LOG(level, fmt, ...) RTE_LOG(level, TCPA_PORT, fmt "\n", ##__VA_ARGS__)

#define RX_DESC 1024

/* 0x6d5a repeated: Toeplitz with this key hashes (a,b) and (b,a) alike. */
static uint8_t sym_key[64];

static void
rss_conf_for(const struct rte_eth_dev_info *di, struct rte_eth_conf *pc)
{
	uint64_t want = RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP;

	for (unsigned i = 0; i < sizeof(sym_key); i += 2) {
		sym_key[i] = 0x6d;
		sym_key[i + 1] = 0x5a;
	}
	pc->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
	pc->rx_adv_conf.rss_conf.rss_key = sym_key;
	pc->rx_adv_conf.rss_conf.rss_key_len = di->hash_key_size != 0 ? di->hash_key_size : 40;
	pc->rx_adv_conf.rss_conf.rss_hf = want & di->flow_type_rss_offloads;
}

static int
port_setup(uint16_t port, const struct port_plan *plan, struct rte_mempool *mp, uint16_t *nq)
{
	struct rte_eth_dev_info di;
	struct rte_eth_conf pc;
	uint16_t q, n;
	int rc;

	memset(&pc, 0, sizeof(pc));
	rc = rte_eth_dev_info_get(port, &di);
	if (rc != 0) {
		PORT_LOG(ERR, "port %u: cannot get device info: %s", port, strerror(-rc));
		return rc;
	}
	if (di.flow_type_rss_offloads != 0) {
		/* A NIC: one queue per RX core, spread by symmetric RSS. */
		n = (uint16_t)RTE_MIN(plan->nworkers, di.max_rx_queues);
		if (n > 1)
			rss_conf_for(&di, &pc);
	} else {
		/*
		 * No RSS (pcap, af_packet): each queue is its own source (a file,
		 * a fanout socket), so read them all; the RX cores spread
		 * connections among themselves by software.
		 */
		n = di.max_rx_queues;
	}
	if (n == 0)
		n = 1;
	rc = rte_eth_dev_configure(port, n, 0, &pc);
	if (rc != 0) {
		PORT_LOG(ERR, "port %u: configure with %u RX queues failed: %s", port, n,
			strerror(-rc));
		return rc;
	}
	for (q = 0; q < n; q++) {
		rc = rte_eth_rx_queue_setup(port, q, RX_DESC, rte_eth_dev_socket_id(port), NULL, mp);
		if (rc != 0) {
			PORT_LOG(ERR, "port %u queue %u: RX setup failed: %s", port, q,
				strerror(-rc));
			return rc;
		}
	}
	rc = rte_eth_dev_start(port);
	if (rc != 0) {
		PORT_LOG(ERR, "port %u: start failed: %s", port, strerror(-rc));
		return rc;
	}
	rc = rte_eth_promiscuous_enable(port);
	if (rc != 0 && rc != -ENOTSUP)
		PORT_LOG(WARNING, "port %u: promiscuous mode not enabled: %s", port, strerror(-rc));
	PORT_LOG(INFO, "port %u (%s): %u RX queue%s%s", port, di.driver_name, n,
		n == 1 ? "" : "s", pc.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS ? ", symmetric RSS" : "");
	*nq = n;
	return 0;
}

int
tcpa_ports_setup(const struct port_plan *plan, struct worker *w)
{
	struct rte_mempool *mp;
	unsigned next = 0;
	uint16_t port;
	int ts_off, ts_bit;

	if (rte_eth_dev_count_avail() == 0) {
		PORT_LOG(ERR, "no port: give a PCI device, --vdev, or --pcap FILE");
		return -ENODEV;
	}
	mp = rte_pktmbuf_pool_create("tcpa_rx", plan->mbufs, 256, 0,
			(uint16_t)plan->mbuf_size, (int)plan->socket);
	if (mp == NULL) {
		PORT_LOG(ERR, "cannot create a pool of %u mbufs of %u bytes: %s",
			plan->mbufs, plan->mbuf_size, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	RTE_ETH_FOREACH_DEV(port) {
		uint16_t nq = 0;
		int rc = port_setup(port, plan, mp, &nq);

		if (rc != 0)
			return rc;
		for (uint16_t q = 0; q < nq; q++) {
			struct worker *x = &w[next++ % plan->nworkers];

			if (x->nrxq == TCPA_MAX_RXQ) {
				PORT_LOG(ERR, "more than %u queues for one RX core", TCPA_MAX_RXQ);
				return -E2BIG;
			}
			x->rxq[x->nrxq].port = port;
			x->rxq[x->nrxq].queue = q;
			x->nrxq++;
		}
	}
	/* Drivers that stamp capture time register these at setup. */
	ts_off = rte_mbuf_dynfield_lookup(RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, NULL);
	ts_bit = rte_mbuf_dynflag_lookup(RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME, NULL);
	for (unsigned i = 0; i < plan->nworkers; i++) {
		w[i].ts_off = ts_bit >= 0 ? ts_off : -1;
		w[i].ts_flag = ts_bit >= 0 ? (1ULL << ts_bit) : 0;
	}
	return 0;
}

void
tcpa_ports_stop(void)
{
	uint16_t port;

	RTE_ETH_FOREACH_DEV(port) {
		rte_eth_dev_stop(port);
		rte_eth_dev_close(port);
	}
}

static uint64_t
iface_stat(const char *ifname, const char *name)
{
	char path[160];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", ifname, name);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	if (fscanf(f, "%llu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

uint64_t
tcpa_iface_carried(const char *ifname)
{
	return iface_stat(ifname, "rx_packets") + iface_stat(ifname, "tx_packets");
}
