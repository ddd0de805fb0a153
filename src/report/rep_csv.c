/* rep_csv.c: a summary CSV read whole into a table whose columns are looked
 * up by name (libcsv, RFC 4180). Summaries are small (one row per model,
 * task, slot or pair), so the file is held in memory; it is still fed to the
 * parser in chunks, as every CSV reader of the project does.
 *
 * Not here: what any column means (report.c decides what it needs).
 */
#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/decimal.h"
#include "core/fileio.h"
#include "core/xalloc.h"
#include "report/rep_int.h"
#include "summarize/summarize.h"

struct load {
	struct rep_table *t;
	char **row; /* the record being read */
	size_t nrow, caprow;
	size_t nrec;   /* records finished, header included */
	size_t bad_at; /* record number (1-based) of a row of another width, 0 none */
	size_t bad_n;
	size_t cap_cells;
};

static void on_field(void *s, size_t len, void *data)
{
	struct load *l = data;
	l->row = xgrow(l->row, &l->caprow, l->nrow + 1, sizeof(*l->row));
	l->row[l->nrow++] = xstrndup(s ? s : "", s ? len : 0);
}

static void drop_row(struct load *l)
{
	for (size_t i = 0; i < l->nrow; i++)
		free(l->row[i]);
	l->nrow = 0;
}

static void on_record(int c, void *data)
{
	(void)c;
	struct load *l = data;
	struct rep_table *t = l->t;
	l->nrec++;
	if (l->nrec == 1) {
		t->head = l->row;
		t->ncols = l->nrow;
		l->row = NULL;
		l->nrow = l->caprow = 0;
		return;
	}
	if (l->nrow != t->ncols) {
		if (!l->bad_at) {
			l->bad_at = l->nrec;
			l->bad_n = l->nrow;
		}
		drop_row(l);
		return;
	}
	t->cells = xgrow(t->cells, &l->cap_cells, (t->nrows + 1) * t->ncols, sizeof(*t->cells));
	memcpy(t->cells + t->nrows * t->ncols, l->row, t->ncols * sizeof(*l->row));
	t->nrows++;
	l->nrow = 0;
}

/* Every cell of a column the summaries write as a figure is one that
 * column can hold (summarize's sum_col_kind: counts whole and >= 0, rates
 * within [0, 1], money and times finite...); an empty cell is an unknown
 * figure. Record 1 is the header. */
static int check_kinds(const struct rep_table *t, struct se_err *err)
{
	for (size_t c = 0; c < t->ncols; c++) {
		enum sum_col_kind k = sum_col_kind(t->head[c]);
		if (k == SUM_COL_TEXT || k == SUM_COL_UNKNOWN)
			continue;
		for (size_t r = 0; r < t->nrows; r++) {
			const char *s = t->cells[r * t->ncols + c];
			double v;
			if (!*s)
				continue;
			if (!decimal_parse(s, &v) || !sum_col_ok(k, v))
				return se_fail(
				    err, SE_INPUT, t->path,
				    "record %zu, column \"%s\": expected %s, got \"%.40s\"", r + 2,
				    t->head[c], sum_col_want(k), s);
		}
	}
	return 0;
}

int rep_table_load(const char *path, struct rep_table *t, struct se_err *err)
{
	memset(t, 0, sizeof(*t));
	t->path = xstrdup(path);
	t->bad = xcalloc(1, sizeof(*t->bad));
	/* a FIFO or a folder in the run folder is refused, never waited on */
	FILE *fp = fio_fopen_regular(path, "the summary", err);
	if (!fp)
		return -1;
	struct csv_parser p;
	if (csv_init(&p, CSV_STRICT | CSV_APPEND_NULL | CSV_STRICT_FINI)) {
		fclose(fp);
		return se_fail(err, SE_IO, path, "cannot start the csv parser");
	}
	struct load l = {.t = t};
	char chunk[65536];
	size_t n;
	int rc = 0;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (csv_parse(&p, chunk, n, on_field, on_record, &l) != n) {
			rc = se_fail(err, SE_INPUT, path, "not valid csv near record %zu: %s",
				     l.nrec + 1, csv_strerror(csv_error(&p)));
			break;
		}
	}
	if (!rc && ferror(fp))
		rc = se_fail_errno(err, path, "cannot read");
	if (!rc && csv_fini(&p, on_field, on_record, &l))
		rc = se_fail(err, SE_INPUT, path, "not valid csv at its end: %s",
			     csv_strerror(csv_error(&p)));
	csv_free(&p);
	fclose(fp);
	drop_row(&l);
	free(l.row);
	if (rc)
		return -1;
	if (!t->head)
		return se_fail(err, SE_INPUT, path, "empty: expected a header row");
	if (l.bad_at)
		return se_fail(err, SE_INPUT, path, "record %zu has %zu fields, the header has %zu",
			       l.bad_at, l.bad_n, t->ncols);
	return check_kinds(t, err);
}

void rep_table_free(struct rep_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->ncols; i++)
		free(t->head[i]);
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->head);
	free(t->cells);
	free(t->path);
	free(t->bad);
	memset(t, 0, sizeof(*t));
}

int rep_col_opt(const struct rep_table *t, const char *name)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (!strcmp(t->head[i], name))
			return (int)i;
	return -1;
}

int rep_col(const struct rep_table *t, const char *name, struct se_err *err)
{
	int c = rep_col_opt(t, name);
	if (c < 0)
		se_fail(err, SE_INPUT, t->path, "missing column \"%s\"", name);
	return c;
}

const char *rep_str(const struct rep_table *t, size_t row, int col)
{
	if (col < 0 || row >= t->nrows)
		return "";
	return t->cells[row * t->ncols + (size_t)col];
}

double rep_num(const struct rep_table *t, size_t row, int col)
{
	const char *s = rep_str(t, row, col);
	if (!*s)
		return NAN;
	double v;
	if (!decimal_parse(s, &v)) {
		if (t->bad && !t->bad->seen)
			*t->bad = (struct rep_badcell){true, row, col};
		return NAN;
	}
	return v;
}

int rep_table_check(const struct rep_table *t, struct se_err *err)
{
	if (!t->bad || !t->bad->seen)
		return 0;
	/* record 1 is the header */
	return se_fail(err, SE_INPUT, t->path,
		       "record %zu, column \"%s\": \"%.40s\" is not a number", t->bad->row + 2,
		       t->head[t->bad->col], rep_str(t, t->bad->row, t->bad->col));
}
