/* cluster.c: item-level figures for repeated samples (see cluster.h), and
 * Student's t distribution they need.
 *
 * Nothing here reads or writes files, and nothing allocates.
 */
#include "stats/cluster.h"

#include <math.h>

#define CF_TINY 1e-300 /* Lentz: a denominator closer to 0 is taken as this */

/* One step of modified Lentz with the coefficient aa: updates c and d and
 * returns the factor d * c the fraction's value is multiplied by. */
static double cf_step(double aa, double *c, double *d)
{
	*d = 1.0 + aa * *d;
	if (fabs(*d) < CF_TINY)
		*d = CF_TINY;
	*c = 1.0 + aa / *c;
	if (fabs(*c) < CF_TINY)
		*c = CF_TINY;
	*d = 1.0 / *d;
	return *d * *c;
}

/* The continued fraction of the regularized incomplete beta function
 * (modified Lentz; Numerical Recipes 3rd ed., 6.4). */
static double beta_cf(double a, double b, double x)
{
	const double tiny = CF_TINY, eps = 1e-16;
	double qab = a + b, qap = a + 1.0, qam = a - 1.0;
	double c = 1.0, d = 1.0 - qab * x / qap;
	if (fabs(d) < tiny)
		d = tiny;
	d = 1.0 / d;
	double h = d;
	for (int m = 1; m <= 10000; m++) {
		int m2 = 2 * m;
		h *= cf_step(m * (b - m) * x / ((qam + m2) * (a + m2)), &c, &d);
		double del = cf_step(-(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)), &c, &d);
		h *= del;
		if (fabs(del - 1.0) < eps)
			break;
	}
	return h;
}

/* I_x(a, b). */
static double beta_reg(double a, double b, double x)
{
	if (x <= 0)
		return 0.0;
	if (x >= 1)
		return 1.0;
	double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
	if (x < (a + 1.0) / (a + b + 2.0))
		return exp(lbt) * beta_cf(a, b, x) / a;
	return 1.0 - exp(lbt) * beta_cf(b, a, 1.0 - x) / b;
}

double stats_t_cdf(double t, double df)
{
	if (isnan(t) || !(df > 0))
		return NAN;
	double tail = 0.5 * beta_reg(df / 2.0, 0.5, df / (df + t * t)); /* P(T > |t|) */
	return t > 0 ? 1.0 - tail : tail;
}

double stats_t_quantile(double p, double df)
{
	if (!(p > 0 && p < 1) || !(df > 0))
		return NAN;
	/* bisection: the CDF is monotone; 1e7 bounds every quantile used here
	 * (df 1 at p = 1 - 1e-7 is 3.2e6) */
	double lo = -1e7, hi = 1e7;
	for (int i = 0; i < 200 && hi - lo > 1e-13 * fmax(1.0, fabs(lo)); i++) {
		double mid = 0.5 * (lo + hi);
		if (stats_t_cdf(mid, df) < p)
			lo = mid;
		else
			hi = mid;
	}
	return 0.5 * (lo + hi);
}

static double frac(const struct stats_item_count *c)
{
	return c->k > 0 ? (double)c->passed / (double)c->k : NAN;
}

/* Mean, 95% t interval and standard deviation of n values, from their sum
 * and sum of squares. */
static void t_interval(double sum, double sumsq, size_t n, double *mean, double *lo, double *hi,
		       double *sd)
{
	double nn = (double)n;
	*mean = n ? sum / nn : NAN;
	*lo = *hi = *sd = NAN;
	if (n < 2)
		return;
	double var = fmax(0.0, (sumsq - sum * sum / nn) / (nn - 1.0));
	*sd = sqrt(var);
	double half = stats_t_quantile(0.975, nn - 1.0) * *sd / sqrt(nn);
	*lo = *mean - half;
	*hi = *mean + half;
}

void stats_cluster_rate(const struct stats_item_count *c, size_t n, double *mean, double *lo,
			double *hi)
{
	double sum = 0, sumsq = 0, sd;
	for (size_t i = 0; i < n; i++) {
		double f = frac(&c[i]);
		sum += f;
		sumsq += f * f;
	}
	t_interval(sum, sumsq, n, mean, lo, hi, &sd);
	if (n >= 2) {
		*lo = fmax(0.0, *lo);
		*hi = fmin(1.0, *hi);
	}
}

void stats_cluster_diff(const struct stats_item_count *a, const struct stats_item_count *b,
			size_t n, double *mean, double *lo, double *hi, double *p)
{
	double sum = 0, sumsq = 0, sd;
	for (size_t i = 0; i < n; i++) {
		double d = frac(&b[i]) - frac(&a[i]);
		sum += d;
		sumsq += d * d;
	}
	t_interval(sum, sumsq, n, mean, lo, hi, &sd);
	*p = 1.0;
	if (n >= 2 && sd > 0) {
		double t = *mean / (sd / sqrt((double)n));
		*p = fmin(1.0, 2.0 * stats_t_cdf(-fabs(t), (double)n - 1.0));
	} else if (n >= 2 && *mean != 0) {
		*p = 0.0; /* every item moved by the same non-zero amount */
	}
}

double stats_pass_at_k(const struct stats_item_count *c, size_t n, int k)
{
	double sum = 0;
	size_t used = 0;
	for (size_t i = 0; i < n; i++) {
		int K = c[i].k, pass = c[i].passed;
		if (k < 1 || K < k)
			continue;
		used++;
		if (K - pass < k) {
			sum += 1.0;
			continue;
		}
		/* 1 - C(K - c, k) / C(K, k) = 1 - prod_{j = K-c+1}^{K} (1 - k / j) */
		double prod = 1.0;
		for (int j = K - pass + 1; j <= K; j++)
			prod *= 1.0 - (double)k / (double)j;
		sum += 1.0 - prod;
	}
	return used ? sum / (double)used : NAN;
}

double stats_consistency(const struct stats_item_count *c, size_t n)
{
	size_t used = 0, agree = 0;
	for (size_t i = 0; i < n; i++) {
		if (c[i].k < 2)
			continue;
		used++;
		agree += c[i].passed == 0 || c[i].passed == c[i].k;
	}
	return used ? (double)agree / (double)used : NAN;
}
