/* stats.c: Wilson and Newcombe intervals, exact McNemar, type-7 percentiles.
 *
 * The methods and why they were chosen are in stats.h. Nothing here reads or
 * writes files, and nothing allocates.
 */
#include "stats/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void stats_wilson(long k, long n, double z, double *lo, double *hi)
{
	if (n <= 0 || k < 0 || k > n) {
		*lo = *hi = NAN;
		return;
	}
	double nn = (double)n, p = (double)k / nn, z2 = z * z;
	double denom = 1.0 + z2 / nn;
	double centre = (p + z2 / (2.0 * nn)) / denom;
	double half = z * sqrt(p * (1.0 - p) / nn + z2 / (4.0 * nn * nn)) / denom;
	/* The closed form leaves rounding dust (-1e-17) at the edges, which
	 * would print as a negative rate. */
	*lo = k == 0 ? 0.0 : fmax(0.0, centre - half);
	*hi = k == n ? 1.0 : fmin(1.0, centre + half);
}

void stats_paired_diff_ci(long both, long only_a, long only_b, long neither, double z, double *lo,
			  double *hi)
{
	long n = both + only_a + only_b + neither;
	if (n <= 0) {
		*lo = *hi = NAN;
		return;
	}
	double nn = (double)n;
	long ka = both + only_a, kb = both + only_b;
	double pa = ka / nn, pb = kb / nn, theta = pb - pa;
	double la, ua, lb, ub;
	stats_wilson(ka, n, z, &la, &ua);
	stats_wilson(kb, n, z, &lb, &ub);

	/* Newcombe's phi: the correlation of the two answers, set to 0 when a
	 * margin is empty, and pulled towards 0 by n/2 when positive (his
	 * method 10, as in Fagerland, Lydersen & Laake 2017, ch. 8). */
	double phi = 0.0;
	if (ka > 0 && n - ka > 0 && kb > 0 && n - kb > 0) {
		double prod = (double)ka * (double)(n - ka) * (double)kb * (double)(n - kb);
		double a = (double)both * (double)neither - (double)only_a * (double)only_b;
		if (a > nn / 2.0)
			phi = (a - nn / 2.0) / sqrt(prod);
		else if (a < 0)
			phi = a / sqrt(prod);
	}
	double dl_b = pb - lb, du_a = ua - pa, dl_a = pa - la, du_b = ub - pb;
	double rl = dl_b * dl_b + du_a * du_a - 2.0 * phi * dl_b * du_a;
	double rh = dl_a * dl_a + du_b * du_b - 2.0 * phi * dl_a * du_b;
	*lo = fmax(-1.0, theta - sqrt(fmax(0.0, rl)));
	*hi = fmin(1.0, theta + sqrt(fmax(0.0, rh)));
}

double stats_mcnemar_exact(long b, long c)
{
	if (b < 0 || c < 0)
		return NAN;
	long n = b + c, m = b < c ? b : c;
	if (n == 0 || 2 * m >= n)
		return 1.0; /* P(X <= n/2) >= 1/2, so 2P >= 1 */
	double s;
	if (n <= 1000) {
		/* Directly: 2^-n does not underflow yet, and small tables (the
		 * ones worked by hand) come out exact. */
		double t = ldexp(1.0, (int)-n);
		s = 0.0;
		for (long k = 0; k <= m; k++) {
			s += t;
			t = t * (double)(n - k) / (double)(k + 1);
		}
	} else {
		/* From the largest term P(X = m) downwards, in log space for
		 * the scale; the terms fall geometrically since m < n/2. */
		double lt = lgamma(n + 1.0) - lgamma(m + 1.0) - lgamma(n - m + 1.0) - n * M_LN2;
		double rel = 1.0, sum = 1.0;
		for (long k = m; k > 0; k--) {
			rel *= (double)k / (double)(n - k + 1);
			sum += rel;
			if (rel < sum * 1e-17)
				break;
		}
		s = exp(lt) * sum;
	}
	double p = 2.0 * s;
	return p > 1.0 ? 1.0 : p;
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return (x > y) - (x < y);
}

void stats_sort(float *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_float);
}

double stats_percentile(const float *v, size_t n, int pct)
{
	if (n == 0 || pct < 0 || pct > 100)
		return NAN;
	/* (n - 1) * pct is an exact integer, so h lands exactly on a rank
	 * whenever it should (no 18.999999 for the 95th of 21). */
	double h = (double)(n - 1) * (double)pct / 100.0;
	size_t i = (size_t)floor(h);
	if (i + 1 >= n)
		return v[n - 1];
	double f = h - (double)i;
	return (double)v[i] + f * ((double)v[i + 1] - (double)v[i]);
}

const char *stats_verdict(double p, double delta, double alpha)
{
	if (!(p < alpha) || isnan(delta) || delta == 0.0)
		return "no_difference";
	return delta > 0 ? "better" : "worse";
}

void stats_pair_add(struct stats_pair *t, bool a_pass, bool b_pass)
{
	t->n++;
	if (a_pass && b_pass)
		t->both++;
	else if (a_pass)
		t->only_a++;
	else if (b_pass)
		t->only_b++;
	else
		t->neither++;
}

void stats_pair_figures(const struct stats_pair *t, struct stats_pair_figures *out)
{
	double n = (double)t->n;
	out->rate_a = t->n ? (double)(t->both + t->only_a) / n : NAN;
	out->rate_b = t->n ? (double)(t->both + t->only_b) / n : NAN;
	out->delta = t->n ? (double)(t->only_b - t->only_a) / n : NAN;
	stats_paired_diff_ci(t->both, t->only_a, t->only_b, t->neither, STATS_Z95, &out->lo,
			     &out->hi);
	out->p = stats_mcnemar_exact(t->only_a, t->only_b);
}

int stats_correction_parse(const char *s, enum stats_correction *out)
{
	static const char *const names[] = {"holm", "bh", "none"};
	for (int i = 0; i < 3; i++)
		if (!strcmp(s, names[i])) {
			*out = (enum stats_correction)i;
			return 0;
		}
	return -1;
}

const char *stats_correction_name(enum stats_correction c)
{
	return c == STATS_HOLM ? "holm" : c == STATS_BH ? "bh" : "none";
}

/* Insertion sort of indices by p ascending: families are table rows (tens,
 * at most a few thousand), and it needs no comparator context. */
static void order_by_p(const double *p, size_t *order, size_t m)
{
	for (size_t i = 1; i < m; i++) {
		size_t k = order[i], j = i;
		while (j > 0 && p[order[j - 1]] > p[k]) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = k;
	}
}

void stats_adjust(const double *p, size_t n, enum stats_correction c, double *adj, size_t *order)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (!isnan(p[i]))
			order[m++] = i;
	order_by_p(p, order, m);
	/* p may alias adj: each p[k] is read before adj[k] is written, and
	 * never after. */
	double run = c == STATS_BH ? 1.0 : 0.0;
	if (c == STATS_HOLM) {
		for (size_t j = 0; j < m; j++) {
			double v = fmin(1.0, (double)(m - j) * p[order[j]]);
			run = fmax(run, v);
			adj[order[j]] = run;
		}
	} else if (c == STATS_BH) {
		for (size_t j = m; j-- > 0;) {
			double v = fmin(1.0, (double)m / (double)(j + 1) * p[order[j]]);
			run = fmin(run, v);
			adj[order[j]] = run;
		}
	} else if (adj != p) {
		for (size_t j = 0; j < m; j++)
			adj[order[j]] = p[order[j]];
	}
	if (adj != p)
		for (size_t i = 0; i < n; i++)
			if (isnan(p[i]))
				adj[i] = NAN;
}
