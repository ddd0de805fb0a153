/* stats.h: the statistics behind every summary: intervals, tests, percentiles.
 *
 * Pure functions on counts and sorted arrays: no I/O, no allocation, no
 * knowledge of results.jsonl (summarize/ owns that). Each function names the
 * method it implements so the README can cite it; the tests check each one
 * against values computed independently (published tables, exact fractions).
 *
 * Methods (decisions, copied to the README):
 * - single proportion: Wilson score interval (Wilson 1927), no continuity
 *   correction; the bounds are clamped to [0, 1] and exactly 0 (1) when k is
 *   0 (n).
 * - paired difference of proportions: Newcombe's hybrid score interval for
 *   paired data ("square and add", Newcombe 1998, Stat Med 17:2635, method
 *   10): Wilson intervals of both marginals combined with the correlation
 *   estimate phi, which Newcombe shrinks towards 0 by n/2 when positive. It
 *   stays inside [-1, 1], is not degenerate when there are no discordant
 *   pairs, and keeps its coverage near 95% for small n where the Wald interval
 *   on the paired difference does not.
 * - paired test: exact McNemar, i.e. a two-sided binomial test with p = 1/2
 *   on the b + c discordant pairs: min(1, 2 * P(X <= min(b, c))), 1 when
 *   b + c = 0. It is conservative (discrete), so at alpha 0.05 its false
 *   positive rate is at most 5%.
 * - percentiles: linear interpolation between closest ranks, Hyndman & Fan
 *   type 7 (numpy's and R's default): h = (n - 1) p / 100, value =
 *   x[floor h] + (h - floor h) (x[floor h + 1] - x[floor h]).
 * - verdict: "better" when p < alpha and the delta is > 0, "worse" when
 *   p < alpha and the delta is < 0, else "no_difference".
 * - families: the p-values of one table (pairs per scope, swaps, the gate's
 *   models) are adjusted together, so that the chance of any false verdict
 *   in the table stays at alpha rather than growing with its rows. Holm
 *   (1979, step-down Bonferroni) by default: it controls the family-wise
 *   error under any dependence, and the rows of a table share the primary's
 *   answers. Benjamini-Hochberg (1995, step-up) controls the false discovery
 *   rate instead (positive dependence). Both as R's p.adjust: with the m
 *   p-values sorted ascending, Holm p(i) = max_{j<=i} min(1, (m-j+1) p(j)),
 *   BH p(i) = min_{j>=i} min(1, m/j p(j)). The adjusted verdict is the
 *   verdict of the adjusted p.
 */
#ifndef SE_STATS_H
#define SE_STATS_H

#include <stdbool.h>
#include <stddef.h>

/* The two-sided 95% normal quantile, qnorm(0.975). */
#define STATS_Z95 1.959963984540054
#define STATS_ALPHA 0.05

/* Wilson score interval for k successes out of n. n == 0 gives NAN bounds. */
void stats_wilson(long k, long n, double z, double *lo, double *hi);

/* Newcombe's paired interval for p_b - p_a, where `a` and `b` are the two
 * answers to the same n = both + only_a + only_b + neither items. n == 0 gives
 * NAN bounds. */
void stats_paired_diff_ci(long both, long only_a, long only_b, long neither, double z, double *lo,
			  double *hi);

/* Exact two-sided McNemar p-value for b and c discordant pairs. */
double stats_mcnemar_exact(long b, long c);

/* Sorts v ascending (values must not be NAN). */
void stats_sort(float *v, size_t n);

/* Type-7 percentile `pct` (0..100) of the ascending array v; NAN when n is 0. */
double stats_percentile(const float *v, size_t n, int pct);

/* A paired 2x2 table: two answers, a and b, to the same n items. */
struct stats_pair {
	long n, both, only_a, only_b, neither;
};

/* What a paired table says about b against a: the two pass rates, delta =
 * rate_b - rate_a with Newcombe's paired 95% interval, and the exact McNemar
 * p-value. Rates, delta and bounds are NAN when n is 0 (p is then 1). */
struct stats_pair_figures {
	double rate_a, rate_b, delta, lo, hi, p;
};

void stats_pair_add(struct stats_pair *t, bool a_pass, bool b_pass);
void stats_pair_figures(const struct stats_pair *t, struct stats_pair_figures *out);

/* "better", "worse" or "no_difference" (see above). */
const char *stats_verdict(double p, double delta, double alpha);

/* Multiple-comparison corrections of one family of p-values. */
enum stats_correction { STATS_HOLM, STATS_BH, STATS_NONE };

/* "holm", "bh" or "none" -> *out; -1 on anything else. */
int stats_correction_parse(const char *s, enum stats_correction *out);
const char *stats_correction_name(enum stats_correction c);

/* Adjusts the n p-values p[] of one family into adj[] (which may be p).
 * NAN p-values stay NAN and do not count in the family. `order` is the
 * caller's scratch of n entries (no allocation here). */
void stats_adjust(const double *p, size_t n, enum stats_correction c, double *adj, size_t *order);

#endif
