/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TCPACTL_H
#define TCPACTL_H

/*
 * What crosses tcpactl's files; internal to the program.
 *
 *   tcpactl.c  command line, watch and main; warnings, the stop flag, the clock
 *   conn.c     transport: one JSON request line out, one answer line back
 *   request.c  the request built from the command line's words
 *   table.c    text tables, and the values of an answer as cell text
 *   print.c    human and JSON renderings of an answer's data
 *   prom.c     Prometheus text exposition of the report and stats answers
 *   http.c     HTTP server of GET /metrics, one request at a time
 *
 * Every function that takes err and len leaves a message there on failure,
 * without the "tcpactl: " prefix; the caller prints it.
 */

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

enum {
	EXIT_OKAY = 0,
	EXIT_SERVER = 1,        /* tcpa answered {"ok": false} */
	EXIT_USAGE = 2,         /* bad command line, or no answer at all */
};

struct opts {
	const char *sock;
	bool json;
	unsigned top;           /* metrics: endpoints exported */
	double timeout_s;
	const char *listen;     /* metrics: serve HTTP on ADDR:PORT */
	bool listen_any;        /* ... also on a non-loopback address */
	char **pos;             /* positional words: COMMAND [ARGS...] */
	int npos;
};

/* ---- tcpactl.c ---- */

/* Set by SIGINT and SIGTERM: waits and loops end at once. */
extern volatile sig_atomic_t tcpactl_stopping;

/* "tcpactl: MESSAGE\n" on stderr. */
void tcpactl_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Seconds on the monotonic clock. */
double tcpactl_mono_s(void);

/* ---- conn.c ---- */

struct conn {
	int fd;
	const char *path;
	double timeout_s;
	char *buf;              /* bytes read and not yet consumed */
	size_t len;
	size_t cap;
};

int conn_open(struct conn *c, const char *path, double timeout_s, char *err, size_t len);
void conn_close(struct conn *c);
int conn_request(struct conn *c, const json_t *req, json_t **data, char *err, size_t len);

/* ---- request.c ---- */

json_t *request_build(char **w, int n, json_t **only);

/* ---- table.c ---- */

struct table {
	unsigned ncols;
	size_t nrows;
	size_t cap;
	const char **head;
	bool *right;            /* right-aligned (numbers) */
	char **cell;            /* nrows * ncols strings */
};

void table_init(struct table *t, unsigned ncols);
void table_col(struct table *t, unsigned i, const char *head, bool right);
char **table_row(struct table *t);
void table_set(char **row, unsigned i, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void table_print(FILE *out, struct table *t);
char *table_text(const json_t *v);
json_int_t table_int(const json_t *o, const char *key);
const char *table_str(const json_t *o, const char *key);

/* ---- print.c ---- */

void print_text(FILE *out, const char *cmd, const json_t *d, const json_t *only);
void print_json(FILE *out, const json_t *d, const json_t *only);

/* ---- prom.c ---- */

void prom_scalar(FILE *out, const char *name, const char *type, const char *help,
	const json_t *v);
int prom_metrics(const struct opts *o, FILE *out, char *err, size_t len);

/* ---- http.c ---- */

int http_serve(const struct opts *o);

#endif /* TCPACTL_H */
