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
 * any useful target. The search is bounded: a start past max_n (a tiny gap
 * puts it at 1e22 or inf) answers "more than max_n" at once, compared as a
 * double (never converted out of a long's range); the scan goes n by n for
 * SCAN_STEPS, and past that, where the mix over D has smoothed the
 * saw-tooth away, doubles its step until the power reaches the target (or
 * max_n does not) and bisects. Each power costs O(sd of D): the per-D
 * figures live in a window over the D one n needs, and above RECUR_MIN
 * come from recurrences in D and k instead of O(sqrt D) sums. So any gap
 * answers in well under a second up to max_n = 10^7. Nothing here reads
 * files or prints.
 */
#include "stats/power.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

/* Above this many discordant pairs the per-D figures come from recurrences
 * in D and k (O(1) each, resynchronised directly every SYNC_EVERY); below
 * it, directly (O(sqrt D) each), as always. */
#define RECUR_MIN 20000
#define SYNC_EVERY 256
/* stats_mcnemar_n scans this many n one by one before it bisects */
#define SCAN_STEPS 20000

/* P(Bin(n, p) <= k), carried from one (n, k) to the next */
struct tail {
	long n, k;
	double p, F;
};

struct stats_power {
	double psi, q, alpha;
	/* P(reject | D) and k_D for D in [base, base + len): a window that
	 * slides up with n and is rebuilt when a search jumps elsewhere */
	double *rej;
	long *k;
	long base;
	size_t len, cap, kcap;
	struct tail tq, tp, th; /* at the window's last D and k: q, 1 - q, 1/2 */
	long since;		/* D appended since the last direct computation */
};

/* log C(n, k) p^k (1-p)^(n-k) */
static double log_pmf(long n, long k, double p)
{
	double lc = lgamma((double)n + 1) - lgamma((double)k + 1) - lgamma((double)(n - k) + 1);
	double a = k ? (double)k * log(p) : 0.0, b = n - k ? (double)(n - k) * log1p(-p) : 0.0;
	return lc + a + b;
}

static double pmf(long n, long k, double p)
{
	if (k < 0 || k > n)
		return 0.0;
	if (p <= 0.0)
		return k == 0 ? 1.0 : 0.0;
	if (p >= 1.0)
		return k == n ? 1.0 : 0.0;
	return exp(log_pmf(n, k, p));
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

static double clamp01(double x)
{
	return x < 0.0 ? 0.0 : x > 1.0 ? 1.0 : x;
}

static void tail_set(struct tail *t, long n, long k)
{
	t->n = n;
	t->k = k;
	t->F = cdf_le(n, k, t->p);
}

/* n -> n + 1: at most k of n + 1 unless exactly k of n and one more */
static void tail_next_n(struct tail *t)
{
	t->F = clamp01(t->F - t->p * pmf(t->n, t->k, t->p));
	t->n++;
}

static void tail_inc_k(struct tail *t)
{
	t->k++;
	t->F = clamp01(t->F + pmf(t->n, t->k, t->p));
}

static void tail_dec_k(struct tail *t)
{
	t->F = clamp01(t->F - pmf(t->n, t->k, t->p));
	t->k--;
}

/* Whether the exact two-sided p of min(b, c) = k among d is < alpha; est is
 * a recurrence's estimate of it (NAN: none), trusted unless it is within
 * rounding of alpha. */
static bool rejects(const struct stats_power *pw, long d, long k, double est)
{
	if (k < 0)
		return false;
	if (2 * k >= d)
		return false; /* p = 1 */
	if (!isnan(est) && fabs(est - pw->alpha) > 1e-9 * pw->alpha)
		return est < pw->alpha;
	return stats_mcnemar_exact(k, d - k) < pw->alpha;
}

/* k_D directly: the p-value grows with k below D/2, so bisect for the
 * largest k with p < alpha (-1: none). */
static long k_direct(const struct stats_power *pw, long d)
{
	long lo = -1, hi = (d + 1) / 2; /* rejects(lo) or lo = -1; !rejects(hi) */
	while (hi - lo > 1) {
		long mid = lo + (hi - lo) / 2;
		if (rejects(pw, d, mid, NAN))
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Appends D = base + len to the window. */
static void append(struct stats_power *pw)
{
	long d = pw->base + (long)pw->len;
	pw->rej = xgrow(pw->rej, &pw->cap, pw->len + 1, sizeof(*pw->rej));
	pw->k = xgrow(pw->k, &pw->kcap, pw->len + 1, sizeof(*pw->k));
	long k;
	bool recur = d >= RECUR_MIN && pw->len > 0 && pw->since < SYNC_EVERY;
	if (pw->len == 0) {
		k = k_direct(pw, d);
	} else if (!recur) {
		/* k_D moves by at most one per added item; walk to it */
		k = pw->k[pw->len - 1];
		while (2 * (k + 1) < d && stats_mcnemar_exact(k + 1, d - k - 1) < pw->alpha)
			k++;
		while (k >= 0 && !(stats_mcnemar_exact(k, d - k) < pw->alpha))
			k--;
	} else {
		/* the same walk on P(Bin(D, 1/2) <= k) carried from D - 1 */
		struct tail *h = &pw->th;
		tail_next_n(h);
		k = h->k;
		while (2 * (k + 1) < d &&
		       rejects(pw, d, k + 1, 2.0 * (h->F + pmf(d, k + 1, 0.5)))) {
			tail_inc_k(h);
			k++;
		}
		while (k >= 0 && !rejects(pw, d, k, 2.0 * h->F)) {
			tail_dec_k(h);
			k--;
		}
	}
	pw->k[pw->len] = k;
	/* b = only_shadow ~ Bin(d, q): reject when b <= k or b >= d - k */
	if (!recur) {
		tail_set(&pw->tq, d, k);
		tail_set(&pw->tp, d, k);
		tail_set(&pw->th, d, k);
		pw->since = 0;
	} else {
		struct tail *t[] = {&pw->tq, &pw->tp};
		for (int i = 0; i < 2; i++) {
			tail_next_n(t[i]);
			while (t[i]->k < k)
				tail_inc_k(t[i]);
			while (t[i]->k > k)
				tail_dec_k(t[i]);
		}
		pw->since++;
	}
	pw->rej[pw->len] = k < 0 ? 0.0 : clamp01(pw->tq.F + pw->tp.F);
	pw->len++;
}

/* Makes the window hold every D in [lo, hi]. */
static void cover(struct stats_power *pw, long lo, long hi)
{
	long end = pw->base + (long)pw->len;
	if (pw->len == 0 || lo < pw->base || lo > end) {
		pw->base = lo;
		pw->len = 0;
	} else if (lo > pw->base + (long)pw->len / 2) {
		/* slide: drop what no larger n needs (the window stays ~ the
		 * span of one n's D, not every D up to it) */
		size_t drop = (size_t)(lo - pw->base);
		memmove(pw->rej, pw->rej + drop, (pw->len - drop) * sizeof(*pw->rej));
		memmove(pw->k, pw->k + drop, (pw->len - drop) * sizeof(*pw->k));
		pw->len -= drop;
		pw->base = lo;
	}
	while (pw->base + (long)pw->len <= hi)
		append(pw);
}

struct stats_power *stats_power_new(double psi, double delta, double alpha)
{
	struct stats_power *pw = xcalloc(1, sizeof(*pw));
	pw->psi = psi;
	pw->q = (psi + delta) / (2.0 * psi);
	pw->alpha = alpha;
	pw->tq.p = pw->q;
	pw->tp.p = 1.0 - pw->q;
	pw->th.p = 0.5;
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
	cover(pw, lo, hi);
	const double *rej = pw->rej;
	long b = pw->base; /* rej[d - b] for d in [lo, hi] */
	if (pw->psi >= 1.0)
		return rej[n - b]; /* every item discordant: D = n */
	/* P(D = d) by the ratio of neighbours from the first term: one
	 * lgamma per n instead of one per d (the search evaluates many n) */
	double s = 0.0, t = exp(log_pmf(n, lo, pw->psi)), r = pw->psi / (1.0 - pw->psi);
	for (long d = lo; d <= hi; d++) {
		s += t * rej[d - b];
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
	if (max_n < 1)
		return 0;
	/* the start: half of Connor's n, compared as a double before any
	 * conversion (a tiny gap makes it 1e22 or inf, beyond any long); past
	 * max_n there, no n up to max_n has a useful power */
	double start = floor(stats_mcnemar_n_approx(psi, d, alpha, power) / 2.0);
	if (!(start <= (double)max_n))
		return 0;
	long n = start >= 1.0 ? (long)start : 1;
	struct stats_power *pw = stats_power_new(psi, d, alpha);
	long found = 0;
	double p = 0.0;
	/* the saw-tooth: scan n by n from the start, as far as SCAN_STEPS */
	for (long i = 0; i < SCAN_STEPS && n <= max_n; i++, n++) {
		p = stats_power_at(pw, n);
		if (p >= power) {
			found = n;
			goto out;
		}
	}
	if (n > max_n)
		goto out;
	/* then the power at step SCAN_STEPS has long been smooth: double the
	 * step until it reaches the target (or max_n does not), then bisect
	 * between the last n below it and the first at or above it */
	long lo = n - 1, hi = lo;
	for (long step = SCAN_STEPS;; step *= 2) {
		hi = step >= max_n - lo ? max_n : lo + step;
		p = stats_power_at(pw, hi);
		if (p >= power)
			break;
		if (hi == max_n)
			goto out;
		lo = hi;
	}
	double at_hi = p;
	while (hi - lo > 1) {
		long mid = lo + (hi - lo) / 2;
		p = stats_power_at(pw, mid);
		if (p >= power) {
			hi = mid;
			at_hi = p;
		} else {
			lo = mid;
		}
	}
	found = hi;
	p = at_hi;
out:
	if (found)
		*achieved = p;
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
