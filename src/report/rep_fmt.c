/* rep_fmt.c: text for the page: HTML escaping and numbers for people
 * (percentages, points, dollars, milliseconds, p-values), and the palette.
 *
 * Every string from user data (model, task, slot names, paths, the eval
 * name) goes through rep_esc, in text and in attributes alike. Numbers are
 * printed with snprintf in the C locale (the program never calls setlocale),
 * so the page is the same on every machine. A value that is not finite
 * prints as an em dash, never "nan" or "inf".
 *
 * Not here: layout (report.c) or charts (rep_svg.c).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/esc.h"
#include "report/rep_int.h"

#define DASH "\xe2\x80\x94" /* U+2014 */

void rep_esc(struct buf *b, const char *s)
{
	esc_html(b, s, strlen(s));
}

/* Rounds to `dec` decimals and drops the sign of a zero result ("-0.0"). */
static double tidy(double v, int dec)
{
	double m = pow(10, dec);
	double r = round(v * m) / m;
	return r == 0 ? 0 : r;
}

void rep_pct(struct buf *b, double rate)
{
	if (!isfinite(rate)) {
		buf_puts(b, DASH);
		return;
	}
	buf_printf(b, "%.1f%%", tidy(rate * 100, 1));
}

void rep_ci(struct buf *b, double lo, double hi)
{
	if (!isfinite(lo) || !isfinite(hi))
		return;
	buf_printf(b, "[%.1f, %.1f]", tidy(lo * 100, 1), tidy(hi * 100, 1));
}

void rep_pts(struct buf *b, double delta)
{
	if (!isfinite(delta)) {
		buf_puts(b, DASH);
		return;
	}
	double v = tidy(delta * 100, 1);
	buf_printf(b, "%s%.1f pts", v > 0 ? "+" : "", v);
}

/* Digits of a non-negative integer with thousands separators. */
static void grouped(struct buf *b, double v)
{
	char d[64];
	snprintf(d, sizeof(d), "%.0f", v);
	size_t n = strlen(d);
	for (size_t i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			buf_putc(b, ',');
		buf_putc(b, d[i]);
	}
}

void rep_int(struct buf *b, double n)
{
	if (!isfinite(n)) {
		buf_puts(b, DASH);
		return;
	}
	n = tidy(n, 0);
	if (n < 0)
		buf_putc(b, '-');
	grouped(b, fabs(n));
}

void rep_usd(struct buf *b, double usd, bool sign)
{
	if (!isfinite(usd)) {
		buf_puts(b, DASH);
		return;
	}
	double a = fabs(usd);
	/* Three significant digits below $1, cents up to $1,000, whole dollars
	 * above: $0.0317, $24.95, $1,234. */
	int dec = 2;
	if (a >= 1000)
		dec = 0;
	else if (a < 1 && a > 0)
		dec = 2 - (int)floor(log10(a));
	if (dec > 8)
		dec = 8;
	double r = tidy(a, dec);
	if (r == 0)
		usd = 0;
	if (usd < 0)
		buf_putc(b, '-');
	else if (sign && usd > 0)
		buf_putc(b, '+');
	buf_putc(b, '$');
	if (dec == 0)
		grouped(b, r);
	else
		buf_printf(b, "%.*f", dec, r);
}

void rep_ms(struct buf *b, double ms)
{
	if (!isfinite(ms)) {
		buf_puts(b, DASH);
		return;
	}
	if (fabs(ms) < 10 && tidy(ms, 1) != 0)
		buf_printf(b, "%.1f", tidy(ms, 1));
	else
		rep_int(b, ms);
	buf_puts(b, " ms");
}

void rep_pval(struct buf *b, double p)
{
	if (!isfinite(p))
		buf_puts(b, DASH);
	else if (p < 0.001)
		buf_puts(b, "&lt;0.001");
	else
		buf_printf(b, "%.3f", tidy(p, 3));
}

const char *rep_verdict_colour(const char *v)
{
	if (!strcmp(v, "better"))
		return "#0072B2"; /* blue */
	if (!strcmp(v, "worse"))
		return "#D55E00"; /* vermillion */
	return "#6E6E6E";
}

void rep_verdict(struct buf *b, const char *v)
{
	const char *cls = !strcmp(v, "better")	? "better"
			  : !strcmp(v, "worse") ? "worse"
						: "nodiff";
	buf_printf(b, "<span class=\"verdict %s\">", cls);
	if (!strcmp(v, "better"))
		buf_puts(b, "\xe2\x96\xb2 better"); /* ▲ */
	else if (!strcmp(v, "worse"))
		buf_puts(b, "\xe2\x96\xbc worse"); /* ▼ */
	else if (!strcmp(v, "no_difference"))
		buf_puts(b, "= no difference");
	else
		rep_esc(b, *v ? v : DASH);
	buf_puts(b, "</span>");
}

const char *rep_colour(size_t i)
{
	/* Okabe-Ito, without yellow (too pale on white). */
	static const char *const c[] = {"#0072B2", "#E69F00", "#009E73", "#CC79A7",
					"#56B4E9", "#D55E00", "#000000"};
	return c[i % (sizeof(c) / sizeof(c[0]))];
}
