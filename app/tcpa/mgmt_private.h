/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TCPA_MGMT_PRIVATE_H
#define TCPA_MGMT_PRIVATE_H

/*
 * What crosses the management module's files; its interface is mgmt.h.
 *
 *   mgmt.c            the socket server: clients, accept, poll, open, close
 *   mgmt_cmd.c        the command table, and the answer to a request line
 *   mgmt_telemetry.c  the same commands as DPDK telemetry /tcpa/<name>
 */

#include <stddef.h>

#include <rte_common.h>
#include <rte_log.h>

#include <jansson.h>

#include "ctl.h"

extern int tcpa_logtype_mgmt;
#define RTE_LOGTYPE_TCPA_MGMT tcpa_logtype_mgmt
#define MGMT_LOG(level, fmt, ...) \
	RTE_LOG(level, TCPA_MGMT, fmt "\n", ##__VA_ARGS__)

typedef int (*mgmt_stream_fn)(struct tcpa_app *app, const json_t *args,
		struct tcpa_ctl_stream **st, json_t **err);

struct mgmt_cmd {
	const char *name;
	tcpa_ctl_handler fn;            /* the whole answer at once (telemetry) */
	mgmt_stream_fn stream;          /* or part by part (the socket), NULL if small */
	const char *help;
};

/* The command of that name, or NULL. */
const struct mgmt_cmd *mgmt_cmd_find(const char *name);

/* The commands in name order: the i-th, or NULL past the last. */
const struct mgmt_cmd *mgmt_cmd_at(size_t i);

/* 0 if the table is sorted by name, as mgmt_cmd_find() needs; else -EINVAL
 * after a message on stderr (a bug). */
int mgmt_cmd_check(void);

/*
 * Call c's handler under the lock that every handler call, from the socket
 * or from a telemetry thread, is made under. Always leaves *out set: the
 * data (return 0) or a JSON string saying what went wrong (return -errno).
 */
int mgmt_cmd_run(struct tcpa_app *app, const struct mgmt_cmd *c, const json_t *args,
		json_t **out);

/* A JSON string of the message, every byte outside printable ASCII as '?'. */
json_t *mgmt_error_text(const char *fmt, ...) __rte_format_printf(1, 2);

/* {"ok": false, "error": TEXT}; steals text. NULL only when out of memory. */
json_t *mgmt_answer_error(json_t *text);

/* The answer to one request line (without its newline). */
json_t *mgmt_answer_line(struct tcpa_app *app, const char *line, size_t len);

/*
 * The same, for the socket: a command that answers part by part gives
 * *st (the answer then comes from tcpa_ctl_stream_step()) and returns
 * NULL; else the whole answer.
 */
json_t *mgmt_answer_start(struct tcpa_app *app, const char *line, size_t len,
		struct tcpa_ctl_stream **st);

/* The lock every handler and stream step runs under. */
void mgmt_lock(void);
void mgmt_unlock(void);

#endif /* TCPA_MGMT_PRIVATE_H */
