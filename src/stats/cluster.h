/* cluster.h: figures for K samples per (item, model), the item as the unit
 * (issue 14, repeated samples).
 *
 * With K samples per item the K answers to one item are not independent
 * draws of the model's quality: they share the item's difficulty. Treating
 * n x K answers as n x K independent trials makes every interval too narrow.
 * These functions take per-item counts (passes out of K) and treat the item
 * as the unit. Pure functions: no I/O, no allocation.
 *
 * Methods (decisions, copied to the README):
 * - pass rate: the mean of the per-item pass fractions f_i = passed_i / K_i,
 *   with a cluster-robust interval: mean +- t(n - 1, 0.975) s / sqrt(n), s
 *   the standard deviation of the f_i (items are the clusters; the
 *   between-item spread carries both the item difficulty and the sampling
 *   noise).
 * - paired difference: d_i = f_b,i - f_a,i on the items both answered; the
 *   mean with a paired t interval and its two-sided p-value (t test on the
 *   d_i, n - 1 degrees of freedom); p = 1 when every d_i is 0.
 * - pass@k: the unbiased estimator of Chen et al. 2021 (HumanEval): per item
 *   1 - C(K - c, k) / C(K, k) with c passes among K samples, averaged over
 *   the items (k <= K).
 * - consistency: the share of items whose K samples agree (all pass or all
 *   fail).
 */
#ifndef SE_STATS_CLUSTER_H
#define SE_STATS_CLUSTER_H

#include <stddef.h>

/* One item's samples: `passed` of `k`. */
struct stats_item_count {
	int passed, k;
};

/* Student's t CDF and its quantile, for df >= 1. */
double stats_t_cdf(double t, double df);
double stats_t_quantile(double p, double df);

/* Mean pass fraction and its cluster-robust 95% interval over n items
 * (NAN when n is 0; the interval is NAN when n is 1). */
void stats_cluster_rate(const struct stats_item_count *c, size_t n, double *mean, double *lo,
			double *hi);

/* Paired per-item difference b - a over n items (a[i] and b[i] are the
 * same item): mean, 95% t interval and two-sided p. */
void stats_cluster_diff(const struct stats_item_count *a, const struct stats_item_count *b,
			size_t n, double *mean, double *lo, double *hi, double *p);

/* pass@k averaged over the items with at least k samples; NAN when none. */
double stats_pass_at_k(const struct stats_item_count *c, size_t n, int k);

/* Share of the items with k >= 2 whose samples all agree; NAN when none. */
double stats_consistency(const struct stats_item_count *c, size_t n);

#endif
