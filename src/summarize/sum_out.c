/* sum_out.c: group figures, number formatting, CSV lines and the stdout table.
 *
 * Decisions (README "summaries"):
 * - numbers: rates and p-values %.6g, milliseconds %.2f, USD %.8g, counts as
 *   integers; an unknown figure is an empty cell, never 0; "-0" is written 0;
 * - CSV: cells through core/csvw (RFC 4180 quoting for a cell holding a
 *   comma, a quote or a line break, other cells bare; a text cell that a
 *   spreadsheet would run as a formula neutralised); lines end in "\n" (what
 *   Unix tools, pandas and R expect; every RFC 4180 reader accepts it);
 * - latency and TTFT percentiles: type 7 (stats.h) over the group's rows that
 *   have a value and are not cache hits (a hit's latency is the cache's, not
 *   the model's); errored rows with a latency count (a timeout is latency
 *   production would see);
 * - tokens: sums of the known counts, empty when none is known; cost: the sum
 *   of known costs (cache hits included: it is what production would pay),
 *   empty when every row's cost is unknown; cost_unknown counts the rows
 *   without one, so a partial sum is visible; per 1,000 items = total / n *
 *   1000, per passing answer = total / passed (empty when nothing passed).
 */
#include "summarize/sum_int.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/csvw.h"
#include "core/fileio.h"
#include "core/xalloc.h"
#include "stats/stats.h"
#include "summarize/sum_hist.h"

void sum_fvec_push(struct sum_fvec *f, float x)
{
	if (f->bounded) {
		if (!f->hist)
			f->hist = xcalloc(1, sizeof(*f->hist));
		sum_hist_add(f->hist, x);
		f->n++;
		return;
	}
	f->v = xgrow(f->v, &f->cap, f->n + 1, sizeof(*f->v));
	f->v[f->n++] = x;
	f->sorted = false;
}

void sum_fvec_sort(struct sum_fvec *f)
{
	if (!f->sorted && !f->bounded)
		stats_sort(f->v, f->n);
	f->sorted = true;
}

void sum_fvec_free(struct sum_fvec *f)
{
	if (f->hist)
		sum_hist_free(f->hist);
	free(f->hist);
	free(f->v);
	memset(f, 0, sizeof(*f));
}

double sum_fvec_pct(struct sum_fvec *f, int pct)
{
	if (f->bounded) {
		if (!f->hist)
			return NAN;
		return sum_hist_pct(f->hist, pct);
	}
	sum_fvec_sort(f);
	return stats_percentile(f->v, f->n, pct);
}

double sum_fvec_union_pct(const struct sum_fvec *a, const struct sum_fvec *b, int pct)
{
	struct sum_hist u = {0};
	if (a->hist)
		sum_hist_merge(&u, a->hist);
	if (b->hist)
		sum_hist_merge(&u, b->hist);
	double v = sum_hist_pct(&u, pct);
	sum_hist_free(&u);
	return v;
}

void sum_acc_add(struct sum_acc *a, const struct sum_cell *c)
{
	a->n++;
	if (c->flags & SUM_F_PASS)
		a->passed++;
	if (c->status != RES_OK) {
		a->errors++;
		a->err[c->status]++;
	}
	if (c->flags & SUM_F_CACHED) {
		a->cached++;
	} else {
		if (!isnan(c->latency_ms))
			sum_fvec_push(&a->lat, c->latency_ms);
		if (!isnan(c->ttft_ms))
			sum_fvec_push(&a->ttft, c->ttft_ms);
	}
	if (c->prompt_tokens != SUM_NO_TOKENS) {
		a->prompt_tokens += c->prompt_tokens;
		a->prompt_known++;
	}
	if (c->completion_tokens != SUM_NO_TOKENS) {
		a->completion_tokens += c->completion_tokens;
		a->completion_known++;
	}
	if (isnan(c->cost_usd)) {
		a->cost_unknown++;
	} else {
		a->cost += c->cost_usd;
		if (c->flags & SUM_F_REPORTED)
			a->cost_reported++;
		else
			a->cost_pricing++;
	}
}

void sum_acc_free(struct sum_acc *a)
{
	sum_fvec_free(&a->lat);
	sum_fvec_free(&a->ttft);
}

void sum_line_init(struct sum_line *l)
{
	buf_init(&l->text);
	l->n = 0;
}

void sum_line_free(struct sum_line *l)
{
	buf_free(&l->text);
	l->n = 0;
}

void sum_line_reset(struct sum_line *l)
{
	buf_reset(&l->text);
	l->n = 0;
}

const char *sum_line_cell(const struct sum_line *l, size_t i)
{
	return l->text.data + l->off[i];
}

/* Starts a cell: cells are NUL-separated in one buffer. */
static void cell_begin(struct sum_line *l)
{
	if (l->n >= sizeof(l->off) / sizeof(l->off[0]))
		abort(); /* a table with more than 64 columns is a bug here */
	if (l->n > 0)
		buf_putc(&l->text, '\0');
	l->off[l->n++] = l->text.len;
}

static void cell_end_number(struct sum_line *l)
{
	/* "-0", "-0.00", "-0e+00": a rounding artefact, not a sign */
	char *c = l->text.data + l->off[l->n - 1];
	if (c[0] != '-')
		return;
	for (const char *p = c + 1; *p; p++) {
		if (*p == 'e')
			break;
		if (*p != '0' && *p != '.')
			return;
	}
	memmove(c, c + 1, strlen(c));
	l->text.len--;
}

void sum_line_str(struct sum_line *l, const char *s)
{
	cell_begin(l);
	buf_puts(&l->text, s ? s : "");
}

void sum_line_printf(struct sum_line *l, const char *fmt, ...)
{
	va_list ap;
	cell_begin(l);
	va_start(ap, fmt);
	buf_vprintf(&l->text, fmt, ap);
	va_end(ap);
}

void sum_line_long(struct sum_line *l, long long v)
{
	cell_begin(l);
	buf_printf(&l->text, "%lld", v);
}

enum num_kind { NUM_RATE, NUM_MS, NUM_USD };

static void line_num(struct sum_line *l, enum num_kind kind, double v)
{
	cell_begin(l);
	if (isnan(v))
		return;
	if (kind == NUM_RATE)
		buf_printf(&l->text, "%.6g", v);
	else if (kind == NUM_MS)
		buf_printf(&l->text, "%.2f", v);
	else
		buf_printf(&l->text, "%.8g", v);
	cell_end_number(l);
}

void sum_line_rate(struct sum_line *l, double v)
{
	line_num(l, NUM_RATE, v);
}

void sum_line_ms(struct sum_line *l, double v)
{
	line_num(l, NUM_MS, v);
}

void sum_line_usd(struct sum_line *l, double v)
{
	line_num(l, NUM_USD, v);
}

double sum_cost_per_1k(double total, long n, long unknown)
{
	if (n <= 0 || unknown >= n)
		return NAN;
	return total / (double)n * 1000.0;
}

/* The columns keep their order across versions (new ones go last): a new
 * status is placed here, and the header below names it at the same place. */
const enum res_status sum_err_cols[] = {
    RES_RATE_LIMITED, RES_TIMEOUT,	RES_HTTP_4XX,	  RES_HTTP_5XX,
    RES_NETWORK,      RES_BAD_RESPONSE, RES_STREAM_ERROR, RES_BUDGET,
};
_Static_assert(sizeof(sum_err_cols) / sizeof(sum_err_cols[0]) == RES_N_STATUS - 1,
	       "every status but ok has an error column");

const char *const sum_acc_header[] = {
    "n",
    "passed",
    "pass_rate",
    "pass_rate_lo",
    "pass_rate_hi",
    "errors",
    "rate_limited",
    "timeout",
    "http_4xx",
    "http_5xx",
    "network",
    "bad_response",
    "stream_error",
    "budget",
    "latency_ms_p50",
    "latency_ms_p90",
    "latency_ms_p95",
    "latency_ms_p99",
    "ttft_ms_p50",
    "ttft_ms_p95",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd_total",
    "cost_usd_per_1k_items",
    "cost_usd_per_pass",
    "cost_reported",
    "cost_pricing",
    "cost_unknown",
    "cached",
    "ttft_ms_p90",
    "ttft_ms_p99",
    NULL,
};

void sum_line_acc(struct sum_line *l, struct sum_acc *a)
{
	double lo = NAN, hi = NAN;
	stats_wilson(a->passed, a->n, STATS_Z95, &lo, &hi);
	sum_line_long(l, a->n);
	sum_line_long(l, a->passed);
	sum_line_rate(l, a->n ? (double)a->passed / (double)a->n : NAN);
	sum_line_rate(l, lo);
	sum_line_rate(l, hi);
	sum_line_long(l, a->errors);
	for (size_t s = 0; s < RES_N_STATUS - 1; s++)
		sum_line_long(l, a->err[sum_err_cols[s]]);
	sum_line_ms(l, sum_fvec_pct(&a->lat, 50));
	sum_line_ms(l, sum_fvec_pct(&a->lat, 90));
	sum_line_ms(l, sum_fvec_pct(&a->lat, 95));
	sum_line_ms(l, sum_fvec_pct(&a->lat, 99));
	sum_line_ms(l, sum_fvec_pct(&a->ttft, 50));
	sum_line_ms(l, sum_fvec_pct(&a->ttft, 95));
	if (a->prompt_known)
		sum_line_long(l, a->prompt_tokens);
	else
		sum_line_str(l, "");
	if (a->completion_known)
		sum_line_long(l, a->completion_tokens);
	else
		sum_line_str(l, "");
	bool known = a->n > a->cost_unknown;
	sum_line_usd(l, known ? a->cost : NAN);
	sum_line_usd(l, sum_cost_per_1k(a->cost, a->n, a->cost_unknown));
	sum_line_usd(l, known && a->passed ? a->cost / (double)a->passed : NAN);
	sum_line_long(l, a->cost_reported);
	sum_line_long(l, a->cost_pricing);
	sum_line_long(l, a->cost_unknown);
	sum_line_long(l, a->cached);
	sum_line_ms(l, sum_fvec_pct(&a->ttft, 90));
	sum_line_ms(l, sum_fvec_pct(&a->ttft, 99));
}

int sum_csv_open(struct sum_csv *c, const char *dir, const char *name, const char *const *header,
		 const char *const *header2, struct se_err *err)
{
	c->path = fio_join(dir, name);
	if (fio_replace_begin(c->path, &c->fp, err)) {
		free(c->path);
		c->path = NULL;
		return -1;
	}
	struct sum_line l;
	sum_line_init(&l);
	for (; header && *header; header++)
		sum_line_str(&l, *header);
	for (; header2 && *header2; header2++)
		sum_line_str(&l, *header2);
	sum_csv_line(c, &l);
	sum_line_free(&l);
	return 0;
}

void sum_csv_line(struct sum_csv *c, const struct sum_line *l)
{
	/* Write errors surface at commit (fflush + fclose are checked there). */
	for (size_t i = 0; i < l->n; i++)
		csvw_fcell(c->fp, sum_line_cell(l, i), i ? 0 : CSVW_FIRST);
	fputc('\n', c->fp);
}

int sum_csv_commit(struct sum_csv *c, struct se_err *err)
{
	int rc = fio_replace_commit(c->path, c->fp, err);
	free(c->path);
	c->path = NULL;
	c->fp = NULL;
	return rc;
}

int sum_csv_remove(const char *dir, const char *name, struct se_err *err)
{
	char *path = fio_join(dir, name);
	int rc = 0;
	if (unlink(path) != 0 && errno != ENOENT)
		rc = se_fail(err, SE_IO, path, "cannot remove a stale table: %s", strerror(errno));
	free(path);
	return rc;
}

void sum_tab_init(struct sum_tab *t)
{
	memset(t, 0, sizeof(*t));
}

void sum_tab_free(struct sum_tab *t)
{
	for (size_t i = 0; i < t->n; i++)
		sum_line_free(&t->rows[i]);
	free(t->rows);
	free(t->right);
	memset(t, 0, sizeof(*t));
}

struct sum_line *sum_tab_row(struct sum_tab *t)
{
	t->rows = xgrow(t->rows, &t->cap, t->n + 1, sizeof(*t->rows));
	sum_line_init(&t->rows[t->n]);
	return &t->rows[t->n++];
}

void sum_tab_print(const struct sum_tab *t, FILE *out)
{
	size_t cols = 0, width[64] = {0};
	for (size_t r = 0; r < t->n; r++) {
		if (t->rows[r].n > cols)
			cols = t->rows[r].n;
		for (size_t i = 0; i < t->rows[r].n; i++) {
			size_t w = strlen(sum_line_cell(&t->rows[r], i));
			if (w > width[i])
				width[i] = w;
		}
	}
	for (size_t r = 0; r < t->n; r++) {
		const struct sum_line *l = &t->rows[r];
		for (size_t i = 0; i < l->n; i++) {
			bool right = t->right && t->right[i];
			int w = (int)width[i];
			if (i + 1 == l->n && !right)
				fprintf(out, "%s", sum_line_cell(l, i)); /* no trailing blanks */
			else
				fprintf(out, right ? "%*s" : "%-*s", w, sum_line_cell(l, i));
			if (i + 1 < l->n)
				fputs("  ", out);
		}
		fputc('\n', out);
	}
	(void)cols;
}
