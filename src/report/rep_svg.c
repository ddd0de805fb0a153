/* rep_svg.c: the report's charts as inline SVG: a cost-quality scatter (log
 * cost axis when it spans more than two decades), a forest plot of paired
 * deltas around 0, and a stacked bar of routing shares.
 *
 * Coordinates are printed with one decimal from finite values only: a point
 * with an unknown figure is left out (and named under the chart), so no
 * "nan" or "inf" ever reaches an attribute. Labels are escaped. Colours are
 * the Okabe-Ito palette; a verdict is also written as text.
 *
 * Not here: choosing what to plot (report.c).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/xalloc.h"
#include "report/rep_int.h"

#define FONT_W 6.6  /* average glyph width at 11px, for layout */
#define LABEL_W 7.2 /* a generous glyph width at 11px: label boxes never under-estimate */

static void fig_open(struct buf *b, const char *title, double w, double h)
{
	buf_puts(b, "<figure class=\"chart\"><svg ");
	buf_printf(b, "viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" ", w, h, w, h);
	buf_puts(b, "role=\"img\" aria-label=\"");
	rep_esc(b, title);
	buf_puts(b, "\" font-size=\"11\">\n");
}

static void fig_close(struct buf *b, const char *title)
{
	buf_puts(b, "</svg><figcaption>");
	rep_esc(b, title);
	buf_puts(b, "</figcaption></figure>\n");
}

/* A label cut to max_chars characters (UTF-8 aware), with an ellipsis. */
static void clipped(struct buf *b, const char *s, size_t max_chars)
{
	size_t chars = 0, keep = 0, i = 0;
	for (; s[i]; i++) {
		if (((unsigned char)s[i] & 0xC0) == 0x80)
			continue;
		if (chars + 1 == max_chars)
			keep = i; /* where the ellipsis goes if the label is too long */
		chars++;
	}
	if (chars <= max_chars || max_chars == 0) {
		rep_esc(b, s);
		return;
	}
	char *cut = xstrndup(s, keep);
	rep_esc(b, cut);
	buf_puts(b, "\xe2\x80\xa6"); /* ... */
	free(cut);
}

static size_t utf8_len(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* A "nice" step (1, 2, 2.5 or 5 times a power of ten) near range/parts. */
static double nice_step(double range, int parts)
{
	double raw = range / parts;
	if (!(raw > 0))
		return 1;
	double p = pow(10, floor(log10(raw)));
	double f = raw / p;
	double m = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
	return m * p;
}

/* An axis tick in dollars, trailing zeros dropped: $0.01, $2.5, $100. */
static void tick_usd(struct buf *b, double v)
{
	char t[64];
	snprintf(t, sizeof(t), "%.9f", v);
	char *dot = strchr(t, '.');
	if (dot) {
		char *e = t + strlen(t) - 1;
		while (e > dot && *e == '0')
			*e-- = '\0';
		if (e == dot)
			*e = '\0';
	}
	buf_printf(b, "$%s", t);
}

/* ---------- axes (the scatter's and the forest plot's) ---------- */

struct axis {
	bool log;
	double lo, hi; /* data units, or log10 of them */
	double p0, p1; /* pixels */
};

static double ax_map(const struct axis *a, double v)
{
	double t = a->log ? log10(v) : v;
	return a->p0 + (t - a->lo) / (a->hi - a->lo) * (a->p1 - a->p0);
}

static bool x_plottable(const struct axis *a, double v)
{
	return isfinite(v) && (!a->log || v > 0);
}

enum tick_fmt { TICK_USD, TICK_PCT, TICK_PTS };

/* The tick values of a: each decade on a log axis, else "nice" steps from
 * lo to hi; at most max of them. */
static size_t axis_ticks(const struct axis *a, double *v, size_t max)
{
	size_t n = 0;
	if (a->log) {
		for (double e = a->lo; e <= a->hi + 1e-9 && n < max; e++)
			v[n++] = pow(10, e);
		return n;
	}
	double st = nice_step(a->hi - a->lo, 5);
	for (double x = a->lo; x <= a->hi + st * 1e-6 && n < max; x += st)
		v[n++] = x;
	return n;
}

/* The grid of axis a at the values v[0..n): for the horizontal axis (x),
 * vertical lines from y = c0 to c1 and the tick labels centred at y = lab;
 * for the vertical one, horizontal lines from x = c0 to c1 and the labels
 * ending at x = lab. On a delta axis the line at 0 stands out. */
static void axis_grid(struct buf *b, const struct axis *a, bool horizontal, const double *v,
		      size_t n, enum tick_fmt f, double c0, double c1, double lab)
{
	buf_puts(b, "<g class=\"grid\">");
	for (size_t i = 0; i < n; i++) {
		double p = ax_map(a, v[i]);
		const char *zero = f == TICK_PTS && v[i] == 0 ? " class=\"zero\"" : "";
		if (horizontal)
			buf_printf(b,
				   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"%s/>"
				   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
				   p, c0, p, c1, zero, p, lab);
		else
			buf_printf(b,
				   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"%s/>"
				   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
				   c0, p, c1, p, zero, lab, p + 4);
		if (f == TICK_USD)
			tick_usd(b, v[i]);
		else if (f == TICK_PCT)
			buf_printf(b, "%.0f%%", v[i] * 100);
		else
			buf_printf(b, "%s%g", v[i] > 0 ? "+" : "", v[i]);
		buf_puts(b, "</text>");
	}
	buf_puts(b, "</g>\n");
}

/* An axis title or a column heading (class "axis"); rotated for a vertical
 * axis. anchor: "start", "middle" or "end". */
static void axis_title(struct buf *b, double x, double y, bool vertical, const char *anchor,
		       const char *text)
{
	if (vertical)
		buf_printf(b,
			   "<text class=\"axis\" transform=\"translate(%.1f %.1f) rotate(-90)\" "
			   "text-anchor=\"%s\">%s</text>",
			   x, y, anchor, text);
	else
		buf_printf(
		    b, "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>", x,
		    y, anchor, text);
}

/* ---------- labels that never overlap ---------- */

struct box {
	double x0, y0, x1, y1;
};

static bool overlaps(const struct box *a, const struct box *bx)
{
	return a->x0 < bx->x1 && bx->x0 < a->x1 && a->y0 < bx->y1 && bx->y0 < a->y1;
}

/* What a chart has drawn so far that a label must not cover: labels and
 * marked points; and the chart's bounds. */
struct taken {
	struct box *box;
	size_t n;
	double w, h;
};

static void take(struct taken *t, struct box bx)
{
	t->box[t->n++] = bx;
}

/* A free spot for a label of `chars` characters next to the point (px, py):
 * right of it, left of it, then above and below each; false when every spot
 * clashes or leaves the chart. *x, *y: where the text goes; *end: anchored at
 * its end (left of the point). */
static bool place(struct taken *t, double px, double py, size_t chars, double *x, double *y,
		  bool *end)
{
	static const double dy[] = {0, -14, 14, -28, 28};
	double w = (double)chars * LABEL_W + 4;
	for (size_t k = 0; k < 2 * sizeof(dy) / sizeof(dy[0]); k++) {
		bool left = k % 2;
		double x0 = left ? px - 9 - w : px + 9, y1 = py + 4 + dy[k / 2];
		struct box c = {x0 - 2, y1 - 13, x0 + w, y1 + 3};
		bool clash = c.x0 < 0 || c.x1 > t->w || c.y0 < 0 || c.y1 > t->h;
		for (size_t i = 0; i < t->n && !clash; i++)
			clash = overlaps(&c, &t->box[i]);
		if (clash)
			continue;
		take(t, c);
		*x = left ? px - 9 : px + 9;
		*y = y1;
		*end = left;
		return true;
	}
	return false;
}

/* The label s (cut to max characters) next to (px, py) when there is room;
 * false when there is none (the chart leaves it out, its table has it). */
static bool label(struct buf *b, struct taken *t, double px, double py, const char *s, size_t max,
		  const char *cls)
{
	size_t len = utf8_len(s);
	double x, y;
	bool end;
	if (!place(t, px, py, len > max ? max : len, &x, &y, &end))
		return false;
	buf_printf(b, "<text class=\"lab halo%s%s\" x=\"%.1f\" y=\"%.1f\"%s>", cls ? " " : "",
		   cls ? cls : "", x, y, end ? " text-anchor=\"end\"" : "");
	clipped(b, s, max);
	buf_puts(b, "</text>");
	return true;
}

/* ---------- scatter ---------- */

#define SC_W 760.0
#define SC_H 400.0
#define SC_L 64.0
#define SC_R 150.0
#define SC_T 16.0
#define SC_B 44.0

/* The axes of a scatter: x (cost) log when the positive costs span more
 * than two decades and none is 0 or less; y (rate) in tenths around the
 * points and their whiskers, at least 20 points high. */
static void scatter_axes(const struct rep_scatter *s, struct axis *ax, struct axis *ay)
{
	double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
	bool nonpos = false;
	for (size_t i = 0; i < s->n + s->n_line; i++) {
		const struct rep_point *q = i < s->n ? &s->p[i] : &s->line[i - s->n];
		if (!isfinite(q->x) || !isfinite(q->y))
			continue;
		if (q->x > 0) {
			xmin = fmin(xmin, q->x);
			xmax = fmax(xmax, q->x);
		} else {
			nonpos = true;
		}
		double lo = isfinite(q->lo) ? q->lo : q->y, hi = isfinite(q->hi) ? q->hi : q->y;
		ymin = fmin(ymin, fmin(lo, q->y));
		ymax = fmax(ymax, fmax(hi, q->y));
	}
	*ax = (struct axis){.p0 = SC_L, .p1 = SC_W - SC_R};
	*ay = (struct axis){.p0 = SC_H - SC_B, .p1 = SC_T};
	if (isfinite(xmin) && !nonpos && xmax / xmin > 100) {
		ax->log = true;
		ax->lo = floor(log10(xmin));
		ax->hi = ceil(log10(xmax));
		if (ax->hi <= ax->lo)
			ax->hi = ax->lo + 1;
	} else {
		double top = isfinite(xmax) ? xmax : 1;
		double st = nice_step(top * 1.05, 5);
		ax->lo = 0;
		ax->hi = ceil(top * 1.05 / st) * st;
		if (!(ax->hi > 0))
			ax->hi = 1;
	}
	if (!isfinite(ymin)) {
		ymin = 0;
		ymax = 1;
	}
	ay->lo = fmax(0, floor(ymin * 10 - 0.5) / 10);
	ay->hi = fmin(1, ceil(ymax * 10 + 0.5) / 10);
	if (ay->hi - ay->lo < 0.2) {
		ay->lo = fmax(0, ay->hi - 0.2);
		ay->hi = fmin(1, ay->lo + 0.2);
	}
}

static void scatter_grid(struct buf *b, const struct axis *ax, const struct axis *ay)
{
	double v[64];
	struct axis pct = *ay;
	pct.lo *= 100;
	pct.hi *= 100; /* "nice" steps in points, not in rates */
	size_t n = axis_ticks(&pct, v, 64);
	for (size_t i = 0; i < n; i++)
		v[i] /= 100;
	axis_grid(b, ay, false, v, n, TICK_PCT, SC_L, SC_W - SC_R, SC_L - 6);
	n = axis_ticks(ax, v, 64);
	axis_grid(b, ax, true, v, n, TICK_USD, SC_T, SC_H - SC_B, SC_H - SC_B + 16);
	axis_title(b, (SC_L + SC_W - SC_R) / 2, SC_H - 8, false, "middle",
		   ax->log ? "cost per 1,000 items (log scale)" : "cost per 1,000 items");
	axis_title(b, 14, (SC_T + SC_H - SC_B) / 2, true, "middle", "pass rate");
	buf_puts(b, "\n");
}

/* A point's tooltip: its label, rate, interval and cost. */
static void tooltip(struct buf *b, const struct rep_point *q)
{
	buf_puts(b, "<title>");
	rep_esc(b, q->label);
	buf_puts(b, ": ");
	rep_pct(b, q->y);
	if (isfinite(q->lo) && isfinite(q->hi)) {
		buf_puts(b, " ");
		rep_ci(b, q->lo, q->hi);
	}
	buf_puts(b, ", ");
	rep_usd(b, q->x, false);
	buf_puts(b, " per 1,000 items</title>");
}

static bool plottable(const struct axis *ax, const struct rep_point *q)
{
	return x_plottable(ax, q->x) && isfinite(q->y);
}

/* The points of p: coloured and labelled ones (models), or a grey cloud
 * (simulated policies), whiskers for their intervals. */
static void scatter_points(struct buf *b, const struct rep_scatter *s, const struct axis *ax,
			   const struct axis *ay, struct taken *t)
{
	for (size_t i = 0; i < s->n && s->labels; i++) /* no label covers a point */
		if (plottable(ax, &s->p[i]))
			take(t, (struct box){ax_map(ax, s->p[i].x) - 6, ax_map(ay, s->p[i].y) - 6,
					     ax_map(ax, s->p[i].x) + 6, ax_map(ay, s->p[i].y) + 6});
	for (size_t i = 0; i < s->n; i++) {
		const struct rep_point *q = &s->p[i];
		if (!plottable(ax, q) || (long)i == s->current)
			continue;
		double px = ax_map(ax, q->x), py = ax_map(ay, q->y);
		const char *col = s->labels ? rep_colour(i) : "#6E6E6E";
		buf_puts(b, "<g>");
		tooltip(b, q);
		if (isfinite(q->lo) && isfinite(q->hi))
			buf_printf(b,
				   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
				   "stroke=\"%s\" stroke-width=\"1.5\"/>",
				   px, ax_map(ay, q->lo), px, ax_map(ay, q->hi), col);
		if (s->labels)
			buf_printf(b,
				   "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\" "
				   "stroke=\"#fff\"/>",
				   px, py, col);
		else
			buf_printf(b, "<circle class=\"cloud\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\"/>",
				   px, py);
		if (s->labels)
			label(b, t, px, py, q->label, 40, NULL);
		buf_puts(b, "</g>\n");
	}
}

/* The frontier: a line through its points, each tagged when there is room
 * (the recommended one is tagged by the marks). */
static void frontier(struct buf *b, const struct rep_scatter *s, const struct axis *ax,
		     const struct axis *ay, struct taken *t)
{
	buf_puts(b, "<polyline class=\"frontier\" points=\"");
	bool first = true;
	for (size_t i = 0; i < s->n_line; i++) {
		if (!plottable(ax, &s->line[i]))
			continue;
		buf_printf(b, "%s%.1f,%.1f", first ? "" : " ", ax_map(ax, s->line[i].x),
			   ax_map(ay, s->line[i].y));
		first = false;
	}
	buf_puts(b, "\"/>\n");
	for (size_t i = 0; i < s->n_line; i++) {
		const struct rep_point *q = &s->line[i];
		if (!plottable(ax, q))
			continue;
		double px = ax_map(ax, q->x), py = ax_map(ay, q->y);
		buf_puts(b, "<g>");
		tooltip(b, q);
		buf_printf(b,
			   "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"#0072B2\" "
			   "stroke=\"#fff\"/>",
			   px, py);
		if (q->tag && (long)i != s->recommended)
			label(b, t, px, py, q->tag, 28, "tag");
		buf_puts(b, "</g>\n");
	}
}

/* The current policy (a diamond) and the recommended one (a ring), each
 * labelled before any other label: only the chart edges can crowd them. */
static void scatter_marks(struct buf *b, const struct rep_scatter *s, const struct axis *ax,
			  const struct axis *ay, struct taken *t)
{
	const struct rep_point *cur = s->current >= 0 ? &s->p[s->current] : NULL;
	const struct rep_point *rec = s->recommended >= 0 ? &s->line[s->recommended] : NULL;
	if (rec && plottable(ax, rec)) {
		double px = ax_map(ax, rec->x), py = ax_map(ay, rec->y);
		buf_puts(b, "<g>");
		tooltip(b, rec);
		buf_printf(b,
			   "<circle class=\"rec\" cx=\"%.1f\" cy=\"%.1f\" r=\"9\" fill=\"none\" "
			   "stroke=\"#009E73\" stroke-width=\"3\"/>",
			   px, py);
		take(t, (struct box){px - 10, py - 10, px + 10, py + 10});
		struct buf l;
		buf_init(&l);
		buf_printf(&l, "recommended: %s", rec->tag ? rec->tag : rec->label);
		label(b, t, px + 3, py, l.data, 48, "rec");
		buf_free(&l);
		buf_puts(b, "</g>\n");
	}
	if (cur && plottable(ax, cur)) {
		double px = ax_map(ax, cur->x), py = ax_map(ay, cur->y);
		buf_puts(b, "<g>");
		tooltip(b, cur);
		if (isfinite(cur->lo) && isfinite(cur->hi))
			buf_printf(b,
				   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
				   "stroke=\"#E69F00\" stroke-width=\"1.5\"/>",
				   px, ax_map(ay, cur->lo), px, ax_map(ay, cur->hi));
		buf_printf(b,
			   "<path d=\"M%.1f %.1fl7 7l-7 7l-7 -7z\" fill=\"#E69F00\" "
			   "stroke=\"#000\"/>",
			   px, py - 7);
		take(t, (struct box){px - 8, py - 8, px + 8, py + 8});
		label(b, t, px, py, cur->label, 40, NULL);
		buf_puts(b, "</g>\n");
	}
}

void rep_svg_scatter(struct buf *b, const char *title, const struct rep_scatter *s)
{
	struct axis ax, ay;
	scatter_axes(s, &ax, &ay);
	fig_open(b, title, SC_W, SC_H);
	scatter_grid(b, &ax, &ay);
	struct taken t = {xcalloc(3 * (s->n + s->n_line) + 8, sizeof(*t.box)), 0, SC_W, SC_H};
	/* the marked points and their labels first: nothing else crowds them */
	struct buf marks;
	buf_init(&marks);
	scatter_marks(&marks, s, &ax, &ay, &t);
	scatter_points(b, s, &ax, &ay, &t);
	if (s->n_line)
		frontier(b, s, &ax, &ay, &t);
	buf_append(b, marks.data, marks.len); /* drawn last: on top of the rest */
	buf_free(&marks);
	free(t.box);
	fig_close(b, title);

	bool any = false;
	for (size_t i = 0; i < s->n; i++) {
		if (plottable(&ax, &s->p[i]))
			continue;
		buf_puts(b, any ? ", "
				: "<p class=\"note\">Not plotted (cost or pass rate unknown): ");
		rep_esc(b, s->p[i].label);
		any = true;
	}
	if (any)
		buf_puts(b, "</p>\n");
}

/* ---------- forest plot ---------- */

/* The half-width of a forest plot's axis in points: the smallest of 5, 10,
 * 20, 25, 50 or 100 that holds every delta and interval. */
static double forest_span(const struct rep_forest_row *r, size_t n)
{
	double m = 0;
	for (size_t i = 0; i < n; i++) {
		if (isfinite(r[i].delta))
			m = fmax(m, fabs(r[i].delta));
		if (isfinite(r[i].lo))
			m = fmax(m, fabs(r[i].lo));
		if (isfinite(r[i].hi))
			m = fmax(m, fabs(r[i].hi));
	}
	m *= 100; /* points */
	static const double steps[] = {5, 10, 20, 25, 50, 100};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (m <= steps[i])
			return steps[i];
	return 100;
}

/* One row: its label, whisker and square on the axis, then its figures in
 * columns from x = tx. */
static void forest_row(struct buf *b, const struct rep_forest_row *q, const struct axis *ax,
		       double cy, double lw, double tx, bool show_cost)
{
	double span = ax->hi;
	const char *col = rep_verdict_colour(q->verdict);
	buf_puts(b, "<g><title>");
	rep_esc(b, q->label);
	buf_puts(b, "</title>");
	buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", lw - 8, cy + 4);
	clipped(b, q->label, 56);
	buf_puts(b, "</text>");
	if (isfinite(q->lo) && isfinite(q->hi)) {
		double x0 = ax_map(ax, fmax(-span, fmin(span, q->lo * 100)));
		double x1 = ax_map(ax, fmax(-span, fmin(span, q->hi * 100)));
		buf_printf(b,
			   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			   "stroke=\"%s\" stroke-width=\"2\"/>",
			   x0, cy, x1, cy, col);
		buf_printf(b,
			   "<path d=\"M%.1f %.1fv10M%.1f %.1fv10\" stroke=\"%s\" "
			   "stroke-width=\"2\"/>",
			   x0, cy - 5, x1, cy - 5, col);
	}
	if (isfinite(q->delta)) {
		double px = ax_map(ax, fmax(-span, fmin(span, q->delta * 100)));
		buf_printf(b,
			   "<rect x=\"%.1f\" y=\"%.1f\" width=\"9\" height=\"9\" "
			   "fill=\"%s\" stroke=\"#fff\"/>",
			   px - 4.5, cy - 4.5, col);
	}
	buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\">", tx, cy + 4);
	rep_pts(b, q->delta);
	buf_puts(b, " ");
	rep_ci(b, q->lo, q->hi);
	buf_printf(b,
		   "</text><text x=\"%.1f\" y=\"%.1f\" style=\"fill:%s\" "
		   "font-weight=\"bold\">",
		   tx + 150, cy + 4, col);
	if (!strcmp(q->verdict, "better"))
		buf_puts(b, "\xe2\x96\xb2 better");
	else if (!strcmp(q->verdict, "worse"))
		buf_puts(b, "\xe2\x96\xbc worse");
	else if (!strcmp(q->verdict, "no_difference"))
		buf_puts(b, "= no difference");
	else
		rep_esc(b, q->verdict);
	buf_printf(b, "</text><text x=\"%.1f\" y=\"%.1f\">", tx + 270, cy + 4);
	rep_pval(b, q->p);
	buf_puts(b, "</text>");
	if (show_cost) {
		buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\">", tx + 330, cy + 4);
		rep_usd(b, q->cost_delta, true);
		buf_puts(b, "</text>");
	}
	buf_puts(b, "</g>\n");
}

void rep_svg_forest(struct buf *b, const char *title, const struct rep_forest_row *r, size_t n,
		    bool show_cost)
{
	if (!n)
		return;
	size_t maxlen = 0;
	for (size_t i = 0; i < n; i++) {
		size_t l = utf8_len(r[i].label);
		maxlen = l > maxlen ? l : maxlen;
	}
	if (maxlen > 56)
		maxlen = 56;
	const double RH = 26, T = 30, B = 30;
	double LW = fmax(90, (double)maxlen * FONT_W + 16), PW = 300;
	double tx = LW + PW + 14;
	double W = tx + (show_cost ? 430 : 330), H = T + RH * (double)n + B;
	double span = forest_span(r, n);
	struct axis ax = {.lo = -span, .hi = span, .p0 = LW, .p1 = LW + PW};

	fig_open(b, title, W, H);
	for (size_t i = 0; i < n; i += 2)
		buf_printf(b,
			   "<rect class=\"band\" x=\"0\" y=\"%.1f\" width=\"%.1f\" "
			   "height=\"%.1f\"/>",
			   T + RH * (double)i, W, RH);
	double ticks[5];
	for (int k = -2; k <= 2; k++)
		ticks[k + 2] = span * k / 2;
	axis_grid(b, &ax, true, ticks, 5, TICK_PTS, T, H - B + 4, H - B + 18);
	axis_title(b, LW, T - 12, false, "start", "\xe2\x97\x80 worse");
	axis_title(b, LW + PW, T - 12, false, "end", "better \xe2\x96\xb6");
	axis_title(b, LW + PW / 2, H - 2, false, "middle", "pass-rate delta, points (95% CI)");
	axis_title(b, tx, T - 12, false, "start", "delta [95% CI]");
	axis_title(b, tx + 150, T - 12, false, "start", "verdict");
	axis_title(b, tx + 270, T - 12, false, "start", "p");
	if (show_cost)
		axis_title(b, tx + 330, T - 12, false, "start", "cost / 1k delta");
	buf_puts(b, "\n");
	for (size_t i = 0; i < n; i++)
		forest_row(b, &r[i], &ax, T + RH * (double)i + RH / 2, LW, tx, show_cost);
	fig_close(b, title);
}

/* ---------- routing shares ---------- */

/* Text colour on a rep_colour(i) fill: black on the light ones. */
static const char *ink(size_t i)
{
	const char *c = rep_colour(i);
	return !strcmp(c, "#E69F00") || !strcmp(c, "#56B4E9") || !strcmp(c, "#CC79A7") ? "#000"
										       : "#fff";
}

void rep_svg_shares(struct buf *b, const char *title, const struct rep_share *s, size_t n)
{
	if (!n)
		return;
	double total = 0;
	for (size_t i = 0; i < n; i++)
		if (isfinite(s[i].share) && s[i].share > 0)
			total += s[i].share;
	const double W = 760, BH = 40, COLW = 380;
	size_t rows = (n + 1) / 2;
	double H = BH + 18 + 20 * (double)rows;
	fig_open(b, title, W, H);
	double x = 0;
	for (size_t i = 0; i < n && total > 0; i++) {
		double sh = isfinite(s[i].share) && s[i].share > 0 ? s[i].share / total : 0;
		double w = sh * W;
		if (w <= 0)
			continue;
		buf_puts(b, "<g><title>");
		rep_esc(b, s[i].slot);
		buf_puts(b, " (");
		rep_esc(b, s[i].model);
		buf_puts(b, "): ");
		rep_pct(b, s[i].share);
		buf_printf(b,
			   "</title><rect x=\"%.1f\" y=\"0\" width=\"%.1f\" height=\"%.1f\" "
			   "fill=\"%s\" stroke=\"#fff\"/>",
			   x, w, BH, rep_colour(i));
		size_t chars = (size_t)((w - 8) / FONT_W);
		if (chars >= 4) {
			buf_printf(b,
				   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
				   "class=\"onbar\" style=\"fill:%s\">",
				   x + w / 2, BH / 2 + 4, ink(i));
			struct buf t;
			buf_init(&t);
			buf_puts(&t, s[i].slot);
			buf_puts(&t, " ");
			rep_pct(&t, s[i].share);
			clipped(b, t.data, chars);
			buf_free(&t);
			buf_puts(b, "</text>");
		}
		buf_puts(b, "</g>\n");
		x += w;
	}
	for (size_t i = 0; i < n; i++) {
		size_t col = i % 2, row = i / 2; /* two legend entries a row */
		double lx = COLW * (double)col, ly = BH + 18 + 20 * (double)row;
		buf_printf(b,
			   "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
			   "<text x=\"%.1f\" y=\"%.1f\">",
			   lx, ly - 10, rep_colour(i), lx + 17, ly);
		struct buf t;
		buf_init(&t);
		rep_pct(&t, s[i].share);
		buf_printf(&t, " %s: %s", s[i].slot, s[i].model);
		clipped(b, t.data, (size_t)((COLW - 24) / FONT_W));
		buf_free(&t);
		buf_puts(b, "</text>\n");
	}
	fig_close(b, title);
}
