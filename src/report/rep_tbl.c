/* rep_tbl.c: the report's one table helper: every HTML table of the page is
 * opened, headed, filled and closed here, from a list of columns that say
 * what each cell shows (a name, a rate with its interval, a verdict...) and
 * which CSV columns hold it.
 *
 * Decisions:
 * - a table sits in a box that scrolls on its own (class "scroll"), so a
 *   table wider than the window never widens the page;
 * - an interval goes on a second line under its figure, and names may wrap,
 *   so that wide tables fit 1,280 px without scrolling;
 * - a verdict column shows the family-adjusted verdict when the CSV has one
 *   (verdict_adjusted), else the per-row verdict of an older run folder;
 * - columns are resolved by name once per table: a required one that is
 *   missing is SE_INPUT naming the file and the column.
 *
 * Not here: what the tables hold (report.c), escaping and number formats
 * (rep_fmt.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"
#include "diff/diff.h"
#include "report/rep_int.h"

int rep_col_verdict(const struct rep_table *t, struct se_err *err)
{
	int plain = rep_col(t, "verdict", err), adj = rep_col_opt(t, "verdict_adjusted");
	return plain < 0 ? -1 : adj >= 0 ? adj : plain;
}

/* Resolves one column's CSV names: -1 (err set) when a required one is
 * missing; optional ones are -1 without an error. */
static int resolve(const struct rep_table *t, const struct rep_tcol *c, int at[4],
		   struct se_err *err)
{
	at[0] = at[1] = at[2] = at[3] = -1;
	if (c->name) {
		at[0] = c->kind == REP_VERDICT ? rep_col_verdict(t, err)
			: c->opt	       ? rep_col_opt(t, c->name)
					       : rep_col(t, c->name, err);
		if (at[0] < 0 && !c->opt)
			return -1;
	}
	const char *extra[] = {c->aux, c->lo, c->hi};
	for (size_t i = 0; i < 3; i++)
		if (extra[i])
			at[i + 1] = rep_col_opt(t, extra[i]);
	return 0;
}

int rep_tbl_use(struct rep_tbl *tb, const struct rep_table *t, struct se_err *err)
{
	tb->t = t;
	for (size_t i = 0; i < tb->n; i++)
		if (resolve(t, &tb->c[i], tb->at[i], err))
			return -1;
	return 0;
}

/* Text that may break after each "/" (model names in a heading). */
static void name_breaks(struct buf *b, const char *name)
{
	const char *slash;
	while ((slash = strchr(name, '/'))) {
		char *part = xstrndup(name, (size_t)(slash - name) + 1);
		rep_esc(b, part);
		free(part);
		buf_puts(b, "<wbr>");
		name = slash + 1;
	}
	rep_esc(b, name);
}

int rep_tbl_open(struct rep_tbl *tb, struct buf *b, const struct rep_table *t,
		 const struct rep_tcol *c, size_t n, struct se_err *err)
{
	tb->c = c;
	tb->n = n;
	tb->at = xcalloc(n + 1, sizeof(*tb->at));
	if (t && rep_tbl_use(tb, t, err)) {
		free(tb->at);
		tb->at = NULL;
		return -1;
	}
	buf_puts(b, "<div class=\"scroll\"><table><thead><tr>");
	for (size_t i = 0; i < n; i++) {
		bool left = c[i].kind <= REP_VERDICT;
		buf_puts(b, left ? "<th class=\"l\">" : "<th>");
		if (c[i].head_is_name)
			name_breaks(b, c[i].head);
		else
			buf_puts(b, c[i].head);
		buf_puts(b, "</th>");
	}
	buf_puts(b, "</tr></thead><tbody>\n");
	return 0;
}

void rep_tbl_close(struct rep_tbl *tb, struct buf *b)
{
	buf_puts(b, "</tbody></table></div>\n");
	free(tb->at);
	tb->at = NULL;
}

void rep_tbl_note(const struct rep_tbl *tb, struct buf *b, const char *html)
{
	buf_printf(b, "<tr class=\"note\"><td class=\"l\" colspan=\"%zu\">%s</td></tr>\n", tb->n,
		   html);
}

/* A figure and, when known, its interval on the line below. */
static void with_ci(struct buf *b, double lo, double hi)
{
	if (isfinite(lo) && isfinite(hi)) {
		buf_puts(b, " <span class=\"ci\">");
		rep_ci(b, lo, hi);
		buf_puts(b, "</span>");
	}
}

void rep_td_text(struct buf *b, const char *s)
{
	buf_puts(b, "<td class=\"l\">");
	rep_esc(b, s);
	buf_puts(b, "</td>");
}

void rep_td_heat(struct buf *b, double rate, double lo, double hi, double n)
{
	buf_puts(b, "<td class=\"heat\"");
	if (isfinite(rate))
		buf_printf(b, " style=\"background:rgba(0,114,178,%.2f)\"",
			   0.04 + 0.36 * fmax(0, fmin(1, rate)));
	buf_puts(b, ">");
	rep_pct(b, rate);
	buf_puts(b, " <span class=\"n\">(");
	rep_int(b, n);
	buf_puts(b, ")</span>");
	with_ci(b, lo, hi);
	buf_puts(b, "</td>");
}

static void td_num(struct buf *b, enum rep_cell kind, double v, double lo, double hi)
{
	buf_puts(b, "<td>");
	switch (kind) {
	case REP_INT:
		rep_int(b, v);
		break;
	case REP_USD:
		rep_usd(b, v, false);
		break;
	case REP_DUSD:
		rep_usd(b, v, true);
		break;
	case REP_MS:
		rep_ms(b, v);
		break;
	case REP_DMS:
		if (isfinite(v) && llround(v) > 0)
			buf_putc(b, '+');
		rep_ms(b, v);
		break;
	case REP_P:
		rep_pval(b, v);
		break;
	case REP_PCT:
		rep_pct(b, v);
		with_ci(b, lo, hi);
		break;
	case REP_PTS:
		rep_pts(b, v);
		with_ci(b, lo, hi);
		break;
	case REP_COST:
		rep_usd(b, v, false);
		if (isfinite(lo) && lo > 0) { /* lo: the count of answers without a cost */
			buf_puts(b, " <span class=\"unk\" title=\"answers without a known "
				    "cost\">+");
			rep_int(b, lo);
			buf_puts(b, " unknown</span>");
		}
		break;
	default:
		break;
	}
	buf_puts(b, "</td>");
}

static void td_text_cell(struct buf *b, enum rep_cell kind, const char *s, const char *aux,
			 bool has_aux)
{
	switch (kind) {
	case REP_WRAP:
	case REP_NAME:
		buf_puts(b, kind == REP_WRAP ? "<td class=\"l wrap\">" : "<td class=\"l name\">");
		rep_esc(b, s);
		buf_puts(b, "</td>");
		break;
	case REP_LINK:
		/* a model's name linking to its comparison in "Where they disagree" */
		buf_puts(b, "<td class=\"l name\"><a href=\"#");
		dif_anchor(b, has_aux ? aux : NULL, s);
		buf_puts(b, "\">");
		rep_esc(b, s);
		buf_puts(b, "</a></td>");
		break;
	case REP_SCOPE:
		buf_puts(b, "<td class=\"l\">");
		rep_esc(b, s);
		buf_puts(b, " <b>");
		rep_esc(b, aux);
		buf_puts(b, "</b></td>");
		break;
	case REP_SLOT:
		rep_td_text(b, strcmp(s, "policy") ? s : "whole policy");
		break;
	case REP_VERDICT:
		buf_puts(b, "<td class=\"l wrap-v\">");
		rep_verdict(b, s);
		buf_puts(b, "</td>");
		break;
	default:
		rep_td_text(b, s);
		break;
	}
}

void rep_tbl_row(const struct rep_tbl *tb, struct buf *b, size_t r, const char *tr_class)
{
	const struct rep_table *t = tb->t;
	if (tr_class)
		buf_printf(b, "<tr class=\"%s\">", tr_class);
	else
		buf_puts(b, "<tr>");
	for (size_t i = 0; i < tb->n; i++) {
		const int *at = tb->at[i];
		enum rep_cell kind = tb->c[i].kind;
		if (kind <= REP_VERDICT)
			td_text_cell(b, kind, rep_str(t, r, at[0]), rep_str(t, r, at[1]),
				     at[1] >= 0);
		else
			td_num(b, kind, rep_num(t, r, at[0]),
			       rep_num(t, r, kind == REP_COST ? at[1] : at[2]),
			       rep_num(t, r, at[3]));
	}
	buf_puts(b, "</tr>\n");
}
