/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Text tables: columns as wide as their widest cell, numbers right-aligned;
 * and the values of an answer as cell text.
 */
#define _GNU_SOURCE     /* asprintf(), vasprintf() */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tcpactl.h"

void
table_init(struct table *t, unsigned ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->head = calloc(ncols, sizeof(*t->head));
	t->right = calloc(ncols, sizeof(*t->right));
	if (t->head == NULL || t->right == NULL) {
		tcpactl_warn("out of memory");
		exit(EXIT_USAGE);
	}
}

void
table_col(struct table *t, unsigned i, const char *head, bool right)
{
	t->head[i] = head;
	t->right[i] = right;
}

/* The next row's cells, to fill with table_set(). */
char **
table_row(struct table *t)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap != 0 ? t->cap * 2 : 16;
		char **p = realloc(t->cell, cap * t->ncols * sizeof(*p));

		if (p == NULL) {
			tcpactl_warn("out of memory");
			exit(EXIT_USAGE);
		}
		t->cell = p;
		t->cap = cap;
	}
	memset(&t->cell[t->nrows * t->ncols], 0, t->ncols * sizeof(*t->cell));
	return &t->cell[t->nrows++ * t->ncols];
}

void
table_set(char **row, unsigned i, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&row[i], fmt, ap) < 0)
		row[i] = NULL;
	va_end(ap);
}

/* Print and free; the last column is not padded (it may be a sentence). */
void
table_print(FILE *out, struct table *t)
{
	size_t *w = calloc(t->ncols, sizeof(*w));

	for (unsigned c = 0; c < t->ncols && w != NULL; c++) {
		w[c] = strlen(t->head[c]);
		for (size_t r = 0; r < t->nrows; r++) {
			const char *s = t->cell[r * t->ncols + c];

			if (s != NULL && strlen(s) > w[c])
				w[c] = strlen(s);
		}
	}
	for (size_t r = 0; r <= t->nrows && w != NULL; r++) {
		for (unsigned c = 0; c < t->ncols; c++) {
			const char *s = r == 0 ? t->head[c] : t->cell[(r - 1) * t->ncols + c];
			bool last = c + 1 == t->ncols;

			if (s == NULL)
				s = "";
			if (t->right[c])
				fprintf(out, "%*s%s", (int)w[c], s, last ? "" : "  ");
			else if (last)
				fputs(s, out);
			else
				fprintf(out, "%-*s  ", (int)w[c], s);
		}
		fputc('\n', out);
	}
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cell[i]);
	free(t->cell);
	free(t->head);
	free(t->right);
	free(w);
}

/* A scalar as text; objects and arrays as compact JSON. Caller frees. */
char *
table_text(const json_t *v)
{
	char *s = NULL;
	int rc = 0;

	if (json_is_string(v))
		s = strdup(json_string_value(v));
	else if (json_is_integer(v))
		rc = asprintf(&s, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		rc = asprintf(&s, "%.6g", json_real_value(v));
	else
		s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (rc < 0)
		s = NULL;
	return s != NULL ? s : strdup("?");
}

json_int_t
table_int(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? json_integer_value(v) :
		json_is_real(v) ? (json_int_t)json_real_value(v) : 0;
}

const char *
table_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}
