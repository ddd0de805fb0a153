/* power.h: exact power and sample size of the McNemar test (`plan`).
 *
 * The model and the method are in power.c's opening comment. A struct
 * stats_power caches the rejection probability per number of discordant
 * pairs, so evaluating many n is cheap; stats_power_free frees it (NULL
 * safe). Unlike stats.h this allocates (the cache), and still does no I/O.
 */
#ifndef SE_STATS_POWER_H
#define SE_STATS_POWER_H

#include "stats/stats.h"

struct stats_power;

/* psi: the probability an item is discordant (0 < psi <= 1); delta: the
 * difference of pass rates to detect (0 < |delta| <= psi). */
struct stats_power *stats_power_new(double psi, double delta, double alpha);
void stats_power_free(struct stats_power *pw);
/* The exact power of the two-sided exact McNemar test at level alpha on n
 * items. */
double stats_power_at(struct stats_power *pw, long n);

/* The smallest n (<= max_n) whose exact power is >= power, with that power
 * in *achieved; 0 when none up to max_n (at once when half of the normal
 * approximation is past max_n, however tiny the gap), -1 on arguments out
 * of range (|delta| > psi: the gap is larger than the discordance allows).
 * Bounded work for any arguments (power.c: scan, then double and bisect). */
long stats_mcnemar_n(double psi, double delta, double alpha, double power, long max_n,
		     double *achieved);
/* Connor's normal approximation of the same n (not rounded). */
double stats_mcnemar_n_approx(double psi, double delta, double alpha, double power);

/* The standard normal quantile. */
double stats_qnorm(double p);

#endif
