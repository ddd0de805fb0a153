/* rep_int.h: the report room's internals: CSV tables looked up by column
 * name, HTML escaping and number formats for people, and the SVG charts.
 *
 * Columns are found by name, never by position, so a summary that gains
 * columns still reads. Everything appends to one struct buf (the page), which
 * is written once at the end. Unknown figures (an empty cell) are NAN here and
 * print as a dash; a chart skips them.
 */
#ifndef SE_REP_INT_H
#define SE_REP_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

/* One CSV file in memory: a header row and rows of the same width. */
struct rep_table {
	char *path;  /* for messages */
	char **head; /* ncols names */
	size_t ncols;
	char **cells; /* nrows * ncols, row-major; each a malloc'd string */
	size_t nrows;
};

/* Loads path; SE_IO when it cannot be read, SE_INPUT (naming the file and
 * record) when it is not CSV, has no header or a row of another width. */
int rep_table_load(const char *path, struct rep_table *t, struct se_err *err);
void rep_table_free(struct rep_table *t);
/* The index of column `name`; -1 and SE_INPUT "missing column" naming the
 * file when it is absent. */
int rep_col(const struct rep_table *t, const char *name, struct se_err *err);
/* The same, -1 without an error: for columns the page can do without. */
int rep_col_opt(const struct rep_table *t, const char *name);
/* Cell text; "" when col is -1. */
const char *rep_str(const struct rep_table *t, size_t row, int col);
/* Cell as a number; NAN when col is -1, the cell is empty or not a number. */
double rep_num(const struct rep_table *t, size_t row, int col);

/* HTML text or attribute value: & < > " ' escaped. */
void rep_esc(struct buf *b, const char *s);
/* Numbers for people; a non-finite value prints "—". */
void rep_pct(struct buf *b, double rate);	    /* 0.956 -> "95.6%" */
void rep_ci(struct buf *b, double lo, double hi);   /* "[85.2, 98.8]" (points) */
void rep_pts(struct buf *b, double delta);	    /* -0.3 -> "-30.0 pts" */
void rep_usd(struct buf *b, double usd, bool sign); /* "$24.95", "$0.0317" */
void rep_ms(struct buf *b, double ms);		    /* "1,307 ms" */
void rep_int(struct buf *b, double n);		    /* "1,234" */
void rep_pval(struct buf *b, double p);		    /* "0.096", "<0.001" */
/* A verdict as a coloured label: text and colour both say it. */
void rep_verdict(struct buf *b, const char *verdict);
/* The colour of a verdict (colour-blind-safe, Okabe-Ito). */
const char *rep_verdict_colour(const char *verdict);
/* The i-th series colour (Okabe-Ito, cycling). */
const char *rep_colour(size_t i);

/* Charts (SVG, appended inline). */
struct rep_point {
	const char *label;
	double x, y, lo, hi; /* lo/hi: whisker on y, NAN for none */
	const char *tag;     /* a short text drawn next to a line point, or NULL */
};
/* Scatter of y (a rate, shown in %) against x (USD per 1,000 items), log x
 * when the positive x values span more than two decades. `line` (may be
 * NULL, n_line points) is drawn as a polyline under the points: the
 * frontier. `mark` (may be -1) is the index of a point drawn as a diamond. */
void rep_svg_scatter(struct buf *b, const char *title, const struct rep_point *p, size_t n,
		     const struct rep_point *line, size_t n_line, long mark, bool labels);

struct rep_forest_row {
	const char *label;
	double delta, lo, hi; /* pass-rate deltas (rates) */
	const char *verdict;
	double p;
	double cost_delta; /* USD per 1,000 items; NAN: not shown */
};
/* Horizontal forest plot around 0 (pass-rate points), one row each. */
void rep_svg_forest(struct buf *b, const char *title, const struct rep_forest_row *r, size_t n,
		    bool show_cost);

struct rep_share {
	const char *slot, *model;
	double share; /* 0..1 */
};
/* One horizontal bar split by share, with a legend. */
void rep_svg_shares(struct buf *b, const char *title, const struct rep_share *s, size_t n);

#endif
