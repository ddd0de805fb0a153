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

/* The first cell rep_num found that is not a number (rows from 0). */
struct rep_badcell {
	bool seen;
	size_t row;
	int col;
};

/* One CSV file in memory: a header row and rows of the same width. */
struct rep_table {
	char *path;  /* for messages */
	char **head; /* ncols names */
	size_t ncols;
	char **cells; /* nrows * ncols, row-major; each a malloc'd string */
	size_t nrows;
	struct rep_badcell *bad; /* set by rep_num, read by rep_table_check */
};

/* Loads path; SE_IO when it cannot be read, SE_INPUT (naming the file and
 * record) when it is not CSV, has no header or a row of another width. */
int rep_table_load(const char *path, struct rep_table *t, struct se_err *err);
/* After the page is built: SE_INPUT naming the file, the record and the
 * column of the first cell read as a number that is none ("abc" in a cost
 * column), so a damaged summary fails instead of showing "-". */
int rep_table_check(const struct rep_table *t, struct se_err *err);
void rep_table_free(struct rep_table *t);
/* The index of column `name`; -1 and SE_INPUT "missing column" naming the
 * file when it is absent. */
int rep_col(const struct rep_table *t, const char *name, struct se_err *err);
/* The same, -1 without an error: for columns the page can do without. */
int rep_col_opt(const struct rep_table *t, const char *name);
/* The verdict column to show: verdict_adjusted (the family-adjusted verdict
 * of pairs.csv and swaps.csv) when present, else verdict; -1 and SE_INPUT
 * when there is no "verdict" column. */
int rep_col_verdict(const struct rep_table *t, struct se_err *err);
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

/* Tables (rep_tbl.c): every table of the page, from a list of columns. */
enum rep_cell {
	/* text, left-aligned (the order matters: these come first) */
	REP_TEXT,    /* escaped */
	REP_WRAP,    /* escaped, may wrap (a long rule) */
	REP_NAME,    /* a model name, may wrap */
	REP_LINK,    /* a model name linking to its "Where they disagree" entry; aux:
			the slot column (none: a shadow against the primary) */
	REP_SCOPE,   /* "task <b>code</b>": name the scope, aux its value */
	REP_SLOT,    /* a slot; "policy" reads "whole policy" */
	REP_VERDICT, /* a coloured verdict label */
	/* figures, right-aligned */
	REP_INT,
	REP_USD,
	REP_DUSD, /* signed */
	REP_MS,
	REP_DMS, /* signed */
	REP_P,
	REP_PCT,  /* lo, hi: its 95% interval, printed under it */
	REP_PTS,  /* likewise */
	REP_COST, /* USD; aux: the count of answers without a known cost */
};

struct rep_tcol {
	const char *head; /* header HTML (trusted), or a name when head_is_name */
	enum rep_cell kind;
	const char *name;	   /* the CSV column of the value; NULL: none */
	const char *aux, *lo, *hi; /* optional CSV columns (see the kinds) */
	bool opt;		   /* name may be absent: its cells are dashes */
	bool head_is_name;	   /* head is user text: escaped, breaks after "/" */
};

/* An open table: its columns resolved against one CSV. */
struct rep_tbl {
	const struct rep_table *t;
	const struct rep_tcol *c;
	size_t n;
	int (*at)[4]; /* per column: name, aux, lo, hi; -1 absent */
};

/* Opens the table (scrolling box, header row) with the n columns c (kept by
 * pointer), resolved against t (NULL: rows are not read from a CSV). -1 and
 * SE_INPUT naming the file and the column when a required one is missing. */
int rep_tbl_open(struct rep_tbl *tb, struct buf *b, const struct rep_table *t,
		 const struct rep_tcol *c, size_t n, struct se_err *err);
/* Re-resolves the same columns against another CSV with the same names. */
int rep_tbl_use(struct rep_tbl *tb, const struct rep_table *t, struct se_err *err);
/* Row r of the CSV, with the class tr_class (NULL: none). */
void rep_tbl_row(const struct rep_tbl *tb, struct buf *b, size_t r, const char *tr_class);
/* A row across the whole table holding html (trusted). */
void rep_tbl_note(const struct rep_tbl *tb, struct buf *b, const char *html);
void rep_tbl_close(struct rep_tbl *tb, struct buf *b);
/* Cells for tables not read row by row (the per-task grid). */
void rep_td_text(struct buf *b, const char *s);
/* A pass rate shaded by its value, n items, and its interval printed. */
void rep_td_heat(struct buf *b, double rate, double lo, double hi, double n);

/* The judge's section (rep_pw.c): pairwise.csv and agreement.csv, either
 * NULL when the run folder has none. */
int rep_section_pairwise(struct buf *b, const struct rep_table *pw, const struct rep_table *agree,
			 struct se_err *err);

/* Charts (SVG, appended inline). */
struct rep_point {
	const char *label;
	double x, y, lo, hi; /* lo/hi: whisker on y, NAN for none */
	const char *tag;     /* a short text drawn next to a line point, or NULL */
};
/* A scatter of y (a rate, shown in %) against x (USD per 1,000 items), log x
 * when the positive x values span more than two decades. */
struct rep_scatter {
	const struct rep_point *p; /* the points */
	size_t n;
	const struct rep_point *line; /* the frontier, drawn as a line with its
					 tags (may be NULL) */
	size_t n_line;
	long current;	  /* index in p drawn as a diamond, labelled; -1 none */
	long recommended; /* index in line drawn as a ring, labelled; -1 none */
	bool labels;	  /* label every point (else a grey cloud) */
};
/* Labels never overlap one another, a marked point or the chart's edge: a
 * label without room is left out (the marked points are labelled first, so
 * only the chart's edges can crowd theirs; the tables list every point). */
void rep_svg_scatter(struct buf *b, const char *title, const struct rep_scatter *s);

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
