/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The telemetry bridge (app/tcpa/mgmt_telemetry.c) compiled into
 * fuzz_mgmt, so that its callback can be called as DPDK telemetry's socket
 * thread calls it, without rte_telemetry's socket and without the EAL.
 *
 * Telemetry frees the containers a dict holds when it writes the answer
 * out, not in rte_tel_data_free(); this file renames the bridge's calls of
 * rte_tel_data_add_dict_container() to fuzz_tel_add_container(), which
 * notes each container given away, so fuzz_tel_call() frees what the
 * writer would have and the leak checker stays quiet.
 */
#include <stdlib.h>

#include "fuzz_mgmt.h"

#define rte_tel_data_add_dict_container fuzz_tel_add_container
#include "mgmt_telemetry.c"
#undef rte_tel_data_add_dict_container

/* DPDK 22.11's, which the #define above hid from rte_telemetry.h. */
int rte_tel_data_add_dict_container(struct rte_tel_data *d, const char *name,
		struct rte_tel_data *val, int keep);

/* Containers of the answer being built; a dict holds RTE_TEL_MAX_DICT_ENTRIES. */
#define FUZZ_TEL_MAX_CONT (2 * RTE_TEL_MAX_DICT_ENTRIES)

static struct rte_tel_data *conts[FUZZ_TEL_MAX_CONT];
static unsigned int nconts;

int
fuzz_tel_add_container(struct rte_tel_data *d, const char *name, struct rte_tel_data *val,
		int keep)
{
	int rc = rte_tel_data_add_dict_container(d, name, val, keep);

	if (rc == 0 && !keep) {
		if (nconts == FUZZ_TEL_MAX_CONT)
			abort();
		conts[nconts++] = val;
	}
	return rc;
}

void
fuzz_tel_call(struct tcpa_app *app, const char *cmd, const char *params)
{
	struct rte_tel_data *d = rte_tel_data_alloc();

	if (d == NULL)
		abort();
	tel_app = app;
	nconts = 0;
	/* The bridge answers every request, errors included, as data. */
	if (tel_cb(cmd, params, d) != 0)
		abort();
	rte_tel_data_free(d);
	while (nconts > 0)
		rte_tel_data_free(conts[--nconts]);
}
