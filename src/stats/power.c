/* power.c: the exact power of the McNemar test, and the sample size it needs.
 *
 * The design (README "plan"): n items are answered by both models; each item
 * is discordant with probability psi (the pilot's observed share of items
 * where exactly one of the two passed), and a discordant item favours the
 * shadow with probability q = (psi + delta) / (2 psi), so that the expected
 * difference of pass rates is delta. The number of discordant items D is
 * Binomial(n, psi); given D, the test rejects when min(b, c) <= k_D, the
 * largest k with exact two-sided p < alpha (stats_mcnemar_exact, the same
 * test and the same strict "<" as the verdicts). So
 *     power(n) = sum_D P(D) [P(Bin(D, q) <= k_D) + P(Bin(D, q) >= D - k_D)]
 * (the unconditional exact power, as in Duffy 1984, Biometrics 40:1005).
 * The rejection probability given D does not depend on n and is computed
 * once per D; P(D) is summed over mean +- 12 standard deviations.
 *
 * The exact power is a saw-tooth in n (a discrete test): the sample size is
 * the smallest n with power >= the target, scanned upwards from half of
 * Connor's (1987) normal approximation, below which the power is far under
 * any useful target. Nothing here reads files or prints.
 */
#include "stats/power.h"

#include <math.h>
#include <stdlib.h>

#include "core/xalloc.h"

struct stats_power {
	double psi, q, alpha;
	double *rej; /* P(reject | D) for D < nrej */
	long *k;     /* k_D */
	size_t nrej, cap, kcap;
};

/* log C(n, k) p^k (1-p)^(n-k) */
static double log_pmf(long n, long k, double p)
{
	double lc = lgamma((double)n + 1) - lgamma((double)k + 1) - lgamma((double)(n - k) + 1);
	double a = k ? (double)k * log(p) : 0.0, b = n - k ? (double)(n - k) * log1p(-p) : 0.0;
	return lc + a + b;
}

/* P(Bin(n, p) <= k), summed from k downwards (upwards from 0 would add many
 * underflowing terms first). */
static double cdf_le(long n, long k, double p)
{
	if (k < 0)
		return 0.0;
	if (k >= n)
		return 1.0;
	if (p <= 0.0)
		return 1.0;
	if (p >= 1.0)
		return 0.0;
	double t = exp(log_pmf(n, k, p)), s = 0.0, r = (1.0 - p) / p;
	double mode = (double)(n + 1) * p;
	for (long j = k; j >= 0; j--) {
		s += t;
		/* below the mode the terms only fall: stop once negligible */
		if ((double)j < mode && t < s * 1e-17)
			break;
		t *= (double)j / (double)(n - j + 1) * r;
	}
	return s > 1.0 ? 1.0 : s;
}

static void grow(struct stats_power *pw, long dmax)
{
	if ((size_t)dmax < pw->nrej)
		return;
	pw->rej = xgrow(pw->rej, &pw->cap, (size_t)dmax + 1, sizeof(*pw->rej));
	pw->k = xgrow(pw->k, &pw->kcap, (size_t)dmax + 1, sizeof(*pw->k));
	for (long d = (long)pw->nrej; d <= dmax; d++) {
		long k = d > 0 ? pw->k[d - 1] : -1;
		/* k_D moves by at most one per added item; walk to it */
		while (2 * (k + 1) < d && stats_mcnemar_exact(k + 1, d - k - 1) < pw->alpha)
			k++;
		while (k >= 0 && !(stats_mcnemar_exact(k, d - k) < pw->alpha))
			k--;
		pw->k[d] = k;
		/* b = only_shadow ~ Bin(d, q): reject when b <= k or b >= d - k */
		pw->rej[d] = k < 0 ? 0.0 : cdf_le(d, k, pw->q) + cdf_le(d, k, 1.0 - pw->q);
	}
	pw->nrej = (size_t)dmax + 1;
}

struct stats_power *stats_power_new(double psi, double delta, double alpha)
{
	struct stats_power *pw = xcalloc(1, sizeof(*pw));
	pw->psi = psi;
	pw->q = (psi + delta) / (2.0 * psi);
	pw->alpha = alpha;
	return pw;
}

void stats_power_free(struct stats_power *pw)
{
	if (!pw)
		return;
	free(pw->rej);
	free(pw->k);
	free(pw);
}

double stats_power_at(struct stats_power *pw, long n)
{
	if (n <= 0)
		return 0.0;
	double mean = (double)n * pw->psi, sd = sqrt(mean * (1.0 - pw->psi));
	long lo = (long)floor(mean - 12.0 * sd - 2.0), hi = (long)ceil(mean + 12.0 * sd + 2.0);
	if (lo < 0)
		lo = 0;
	if (hi > n)
		hi = n;
	grow(pw, hi);
	if (pw->psi >= 1.0)
		return pw->rej[n]; /* every item discordant: D = n */
	/* P(D = d) by the ratio of neighbours from the first term: one
	 * lgamma per n instead of one per d (the search evaluates many n) */
	double s = 0.0, t = exp(log_pmf(n, lo, pw->psi)), r = pw->psi / (1.0 - pw->psi);
	for (long d = lo; d <= hi; d++) {
		s += t * pw->rej[d];
		t *= (double)(n - d) / (double)(d + 1) * r;
	}
	return s > 1.0 ? 1.0 : s;
}

double stats_mcnemar_n_approx(double psi, double delta, double alpha, double power)
{
	/* Connor (1987), Biometrics 43:207 */
	double za = stats_qnorm(1.0 - alpha / 2.0), zb = stats_qnorm(power);
	double d = fabs(delta);
	double v = za * sqrt(psi) + zb * sqrt(fmax(0.0, psi - d * d));
	return v * v / (d * d);
}

long stats_mcnemar_n(double psi, double delta, double alpha, double power, long max_n,
		     double *achieved)
{
	*achieved = NAN;
	double d = fabs(delta);
	if (!(d > 0.0) || !(psi >= d) || psi > 1.0 || !(alpha > 0.0 && alpha < 1.0) ||
	    !(power > 0.0 && power < 1.0))
		return -1;
	double approx = stats_mcnemar_n_approx(psi, d, alpha, power);
	long n = (long)floor(approx / 2.0);
	if (n < 1)
		n = 1;
	struct stats_power *pw = stats_power_new(psi, d, alpha);
	long found = 0;
	for (; n <= max_n; n++) {
		double p = stats_power_at(pw, n);
		if (p >= power) {
			*achieved = p;
			found = n;
			break;
		}
	}
	stats_power_free(pw);
	return found;
}

/* Acklam's rational approximation refined by one Halley step on erfc: about
 * 1e-15 relative, enough for quantiles that only seed a search. */
double stats_qnorm(double p)
{
	if (p <= 0.0)
		return -INFINITY;
	if (p >= 1.0)
		return INFINITY;
	static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
				   -2.759285104469687e+02, 1.383577518672690e+02,
				   -3.066479806614716e+01, 2.506628277459239e+00};
	static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
				   -1.556989798598866e+02, 6.680131188771972e+01,
				   -1.328068155288572e+01};
	static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
				   -2.400758277161838e+00, -2.549732539343734e+00,
				   4.374664141464968e+00,  2.938163982698783e+00};
	static const double e[] = {7.784695709041462e-03, 3.224671290700398e-01,
				   2.445134137142996e+00, 3.754408661907416e+00};
	double x, q, r;
	if (p < 0.02425) {
		q = sqrt(-2.0 * log(p));
		x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		    ((((e[0] * q + e[1]) * q + e[2]) * q + e[3]) * q + 1.0);
	} else if (p <= 1.0 - 0.02425) {
		q = p - 0.5;
		r = q * q;
		x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
		    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
	} else {
		q = sqrt(-2.0 * log1p(-p));
		x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		    ((((e[0] * q + e[1]) * q + e[2]) * q + e[3]) * q + 1.0);
	}
	double err = 0.5 * erfc(-x / M_SQRT2) - p;
	double u = err * sqrt(2.0 * M_PI) * exp(x * x / 2.0);
	return x - u / (1.0 + x * u / 2.0);
}
