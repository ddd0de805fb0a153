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

#define FONT_W 6.6 /* average glyph width at 11px, for label boxes */

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

/* ---------- scatter ---------- */

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

struct box {
	double x0, y0, x1, y1;
};

static bool overlaps(const struct box *a, const struct box *bx)
{
	return a->x0 < bx->x1 && bx->x0 < a->x1 && a->y0 < bx->y1 && bx->y0 < a->y1;
}

/* A free spot for a label box of width w at x0, near height py: tries the
 * line itself, then below and above; false when every try clashes. */
static bool place(const struct box *placed, size_t n_placed, double x0, double py, double w,
		  bool search, struct box *out)
{
	static const double tries[] = {0, 13, -13, 26, -26, 39, -39};
	size_t n_tries = search ? sizeof(tries) / sizeof(tries[0]) : 1;
	for (size_t t = 0; t < n_tries; t++) {
		struct box c = {x0, py - 9 + tries[t], x0 + w, py + 4 + tries[t]};
		bool clash = false;
		for (size_t k = 0; k < n_placed && !clash; k++)
			clash = overlaps(&c, &placed[k]);
		if (!clash) {
			*out = c;
			return true;
		}
	}
	return false;
}

/* The frontier: a line through its points, each tagged when there is room. */
static void frontier(struct buf *b, const struct axis *ax, const struct axis *ay,
		     const struct rep_point *line, size_t n_line, struct box *placed,
		     size_t *n_placed)
{
	buf_puts(b, "<polyline class=\"frontier\" points=\"");
	bool first = true;
	for (size_t i = 0; i < n_line; i++) {
		if (!x_plottable(ax, line[i].x) || !isfinite(line[i].y))
			continue;
		buf_printf(b, "%s%.1f,%.1f", first ? "" : " ", ax_map(ax, line[i].x),
			   ax_map(ay, line[i].y));
		first = false;
	}
	buf_puts(b, "\"/>\n");
	for (size_t i = 0; i < n_line; i++) {
		if (!x_plottable(ax, line[i].x) || !isfinite(line[i].y))
			continue;
		double px = ax_map(ax, line[i].x), py = ax_map(ay, line[i].y);
		buf_puts(b, "<g><title>");
		rep_esc(b, line[i].label);
		buf_puts(b, ": ");
		rep_pct(b, line[i].y);
		buf_puts(b, ", ");
		rep_usd(b, line[i].x, false);
		buf_printf(b,
			   " per 1,000 items</title><circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" "
			   "fill=\"#0072B2\" stroke=\"#fff\"/>",
			   px, py);
		double w = utf8_len(line[i].tag ? line[i].tag : "") * FONT_W;
		struct box bx;
		if (line[i].tag && place(placed, *n_placed, px - 7 - w, py - 7, w, false, &bx)) {
			placed[(*n_placed)++] = bx;
			buf_printf(b,
				   "<text class=\"tag halo\" x=\"%.1f\" y=\"%.1f\" "
				   "text-anchor=\"end\">",
				   px - 7, py - 6);
			rep_esc(b, line[i].tag);
			buf_puts(b, "</text>");
		}
		buf_puts(b, "</g>\n");
	}
}

void rep_svg_scatter(struct buf *b, const char *title, const struct rep_point *p, size_t n,
		     const struct rep_point *line, size_t n_line, long mark, bool labels)
{
	const double W = 760, H = 400, L = 64, R = 150, T = 16, B = 44;
	double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
	bool nonpos = false;
	for (size_t i = 0; i < n + n_line; i++) {
		const struct rep_point *q = i < n ? &p[i] : &line[i - n];
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
	struct axis ax = {.p0 = L, .p1 = W - R}, ay = {.p0 = H - B, .p1 = T};
	if (isfinite(xmin) && !nonpos && xmax / xmin > 100) {
		ax.log = true;
		ax.lo = floor(log10(xmin));
		ax.hi = ceil(log10(xmax));
		if (ax.hi <= ax.lo)
			ax.hi = ax.lo + 1;
	} else {
		double top = isfinite(xmax) ? xmax : 1;
		double st = nice_step(top * 1.05, 5);
		ax.lo = 0;
		ax.hi = ceil(top * 1.05 / st) * st;
		if (!(ax.hi > 0))
			ax.hi = 1;
	}
	if (!isfinite(ymin)) {
		ymin = 0;
		ymax = 1;
	}
	ay.lo = fmax(0, floor(ymin * 10 - 0.5) / 10);
	ay.hi = fmin(1, ceil(ymax * 10 + 0.5) / 10);
	if (ay.hi - ay.lo < 0.2) {
		ay.lo = fmax(0, ay.hi - 0.2);
		ay.hi = fmin(1, ay.lo + 0.2);
	}

	fig_open(b, title, W, H);
	/* grid and ticks */
	double ystep = nice_step((ay.hi - ay.lo) * 100, 5) / 100;
	buf_puts(b, "<g class=\"grid\">");
	for (double y = ay.lo; y <= ay.hi + 1e-9; y += ystep) {
		double py = ax_map(&ay, y);
		buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", L, py,
			   W - R, py);
		buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.0f%%</text>",
			   L - 6, py + 4, y * 100);
	}
	if (ax.log) {
		for (double e = ax.lo; e <= ax.hi + 1e-9; e++) {
			double px = ax_map(&ax, pow(10, e));
			buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", px,
				   T, px, H - B);
			buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", px,
				   H - B + 16);
			tick_usd(b, pow(10, e));
			buf_puts(b, "</text>");
		}
	} else {
		double st = nice_step(ax.hi - ax.lo, 5);
		for (double x = ax.lo; x <= ax.hi + st * 1e-6; x += st) {
			double px = ax_map(&ax, x);
			buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", px,
				   T, px, H - B);
			buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", px,
				   H - B + 16);
			tick_usd(b, x);
			buf_puts(b, "</text>");
		}
	}
	buf_puts(b, "</g>\n");
	buf_printf(b,
		   "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">cost per "
		   "1,000 items%s</text>",
		   (L + W - R) / 2, H - 8, ax.log ? " (log scale)" : "");
	buf_printf(b,
		   "<text class=\"axis\" transform=\"translate(14 %.1f) rotate(-90)\" "
		   "text-anchor=\"middle\">pass rate</text>\n",
		   (T + H - B) / 2);

	/* Points (the marked one last, on top of everything), then the
	 * frontier; labels avoid the boxes of labels already placed. */
	struct box *placed = xcalloc(n + n_line + 1, sizeof(*placed));
	size_t n_placed = 0;
	for (int pass = 0; pass < 3; pass++) {
		if (pass == 1) {
			if (n_line)
				frontier(b, &ax, &ay, line, n_line, placed, &n_placed);
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			const struct rep_point *q = &p[i];
			bool marked = (long)i == mark;
			if (marked != (pass == 2) || !x_plottable(&ax, q->x) || !isfinite(q->y))
				continue;
			double px = ax_map(&ax, q->x), py = ax_map(&ay, q->y);
			const char *col = marked ? "#E69F00" : labels ? rep_colour(i) : "#6E6E6E";
			buf_puts(b, "<g><title>");
			rep_esc(b, q->label);
			buf_puts(b, ": ");
			rep_pct(b, q->y);
			buf_puts(b, " ");
			rep_ci(b, q->lo, q->hi);
			buf_puts(b, ", ");
			rep_usd(b, q->x, false);
			buf_puts(b, " per 1,000 items</title>");
			if (isfinite(q->lo) && isfinite(q->hi))
				buf_printf(b,
					   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
					   "stroke=\"%s\" stroke-width=\"1.5\"/>",
					   px, ax_map(&ay, q->lo), px, ax_map(&ay, q->hi), col);
			if (marked)
				buf_printf(b,
					   "<path d=\"M%.1f %.1fl7 7l-7 7l-7 -7z\" fill=\"%s\" "
					   "stroke=\"#000\"/>",
					   px, py - 7, col);
			else if (labels)
				buf_printf(b,
					   "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\" "
					   "stroke=\"#fff\"/>",
					   px, py, col);
			else
				buf_printf(b,
					   "<circle class=\"cloud\" cx=\"%.1f\" cy=\"%.1f\" "
					   "r=\"2.5\"/>",
					   px, py);
			if (labels || marked) {
				size_t len = utf8_len(q->label);
				double w = (len > 40 ? 41 : (double)len) * FONT_W;
				bool left = px + 9 + w > W - 4;
				struct box bx;
				if (!place(placed, n_placed, left ? px - 9 - w : px + 9, py, w,
					   true, &bx))
					bx = (struct box){left ? px - 9 - w : px + 9, py - 9,
							  (left ? px - 9 - w : px + 9) + w, py + 4};
				placed[n_placed++] = bx;
				buf_printf(b, "<text class=\"halo\" x=\"%.1f\" y=\"%.1f\"%s>",
					   left ? px - 9 : px + 9, bx.y1 - 3,
					   left ? " text-anchor=\"end\"" : "");
				clipped(b, q->label, 40);
				buf_puts(b, "</text>");
			}
			buf_puts(b, "</g>\n");
		}
	}
	free(placed);
	fig_close(b, title);

	bool any = false;
	for (size_t i = 0; i < n; i++) {
		if (x_plottable(&ax, p[i].x) && isfinite(p[i].y))
			continue;
		buf_puts(b, any ? ", "
				: "<p class=\"note\">Not plotted (cost or pass rate unknown): ");
		rep_esc(b, p[i].label);
		any = true;
	}
	if (any)
		buf_puts(b, "</p>\n");
}

/* ---------- forest plot ---------- */

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
	double LW = fmax(90, maxlen * FONT_W + 16), PW = 300;
	double tx = LW + PW + 14;
	double W = tx + (show_cost ? 430 : 330), H = T + RH * (double)n + B;
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
	double span = 100;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (m <= steps[i]) {
			span = steps[i];
			break;
		}
	}
	struct axis ax = {.lo = -span, .hi = span, .p0 = LW, .p1 = LW + PW};

	fig_open(b, title, W, H);
	for (size_t i = 0; i < n; i += 2)
		buf_printf(b,
			   "<rect class=\"band\" x=\"0\" y=\"%.1f\" width=\"%.1f\" "
			   "height=\"%.1f\"/>",
			   T + RH * (double)i, W, RH);
	buf_puts(b, "<g class=\"grid\">");
	for (int k = -2; k <= 2; k++) {
		double v = span * k / 2, px = ax_map(&ax, v);
		buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"%s/>", px, T,
			   px, H - B + 4, k == 0 ? " class=\"zero\"" : "");
		buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s%g</text>", px,
			   H - B + 18, v > 0 ? "+" : "", v);
	}
	buf_puts(b, "</g>\n");
	buf_printf(b,
		   "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"start\">"
		   "\xe2\x97\x80 worse</text>",
		   LW, T - 12);
	buf_printf(b,
		   "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">"
		   "better \xe2\x96\xb6</text>",
		   LW + PW, T - 12);
	buf_printf(b,
		   "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">pass-rate "
		   "delta, points (95%% CI)</text>",
		   LW + PW / 2, H - 2);
	buf_printf(b, "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\">delta [95%% CI]</text>", tx,
		   T - 12);
	buf_printf(b, "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\">verdict</text>", tx + 150,
		   T - 12);
	buf_printf(b, "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\">p</text>", tx + 270, T - 12);
	if (show_cost)
		buf_printf(b, "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\">cost / 1k delta</text>",
			   tx + 330, T - 12);
	buf_puts(b, "\n");

	for (size_t i = 0; i < n; i++) {
		const struct rep_forest_row *q = &r[i];
		double cy = T + RH * (double)i + RH / 2;
		const char *col = rep_verdict_colour(q->verdict);
		buf_puts(b, "<g><title>");
		rep_esc(b, q->label);
		buf_puts(b, "</title>");
		buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", LW - 8, cy + 4);
		clipped(b, q->label, 56);
		buf_puts(b, "</text>");
		if (isfinite(q->lo) && isfinite(q->hi)) {
			double x0 = ax_map(&ax, fmax(-span, fmin(span, q->lo * 100)));
			double x1 = ax_map(&ax, fmax(-span, fmin(span, q->hi * 100)));
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
			double px = ax_map(&ax, fmax(-span, fmin(span, q->delta * 100)));
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
