/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FUZZ_MGMT_H
#define FUZZ_MGMT_H

/* What fuzz_mgmt.c needs of fuzz_mgmt_tel.c, the telemetry bridge's wrapper. */

struct rte_tel_data;
struct tcpa_app;

/*
 * Call the bridge's callback for telemetry command @p cmd ("/tcpa/NAME")
 * with @p params (the text after the comma, or NULL), as DPDK telemetry's
 * thread does, answering about @p app; free the answer. Aborts if the
 * callback fails (it answers errors as data).
 */
void fuzz_tel_call(struct tcpa_app *app, const char *cmd, const char *params);

/* rte_tel_data_add_dict_container() as the bridge calls it (see fuzz_mgmt_tel.c). */
int fuzz_tel_add_container(struct rte_tel_data *d, const char *name, struct rte_tel_data *val,
		int keep);

#endif /* FUZZ_MGMT_H */
